"""Reading JSON-lines files (plain or .gz) and writing scores as JSON."""

from __future__ import annotations

import gzip
import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, Iterator
from uuid import UUID


def open_text(path: Path, mode: str = "rt") -> IO[str]:
    if path.suffix == ".gz":
        return gzip.open(path, mode, encoding="utf-8")  # type: ignore[return-value]
    return open(path, mode, encoding="utf-8")


def read_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """(line number, raw bytes) for every non-blank line; bytes, so malformed lines survive as they are."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        for number, line in enumerate(f, start=1):
            line = line.rstrip(b"\r\n")
            if line.strip():
                yield number, line


def count_lines(path: Path) -> int:
    return sum(1 for _ in read_lines(path))


def jsonable(value: Any) -> Any:
    """Scores as JSON: money stays exact as a decimal string."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (UUID, Path)):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def dumps(obj: Any) -> str:
    return json.dumps(jsonable(obj), ensure_ascii=False)
