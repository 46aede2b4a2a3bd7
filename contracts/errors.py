"""The one way a pydantic validation error is told to a person: `where: what`, per problem."""

from __future__ import annotations

from pydantic import ValidationError


def describe_validation_error(exc: ValidationError, *, limit: int | None = 5, root: str = "(top level)", sep: str = "; ") -> str:
    """`field.sub: message` for the first `limit` problems (None: all), joined by `sep`.

    `root` names a problem of the whole object (an empty location).
    """
    errors = exc.errors(include_url=False)
    shown = errors if limit is None else errors[:limit]
    parts = [f"{'.'.join(str(p) for p in e['loc']) or root}: {e['msg']}" for e in shown]
    if len(errors) > len(shown):
        parts.append(f"and {len(errors) - len(shown)} more")
    return sep.join(parts)
