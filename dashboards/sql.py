"""Expands a panel's SQL the way Grafana and the ClickHouse plugin do, so tests can run it.

Grafana first resolves template variables in the browser (the plugin's `$__conditionalAll`,
then `${var}` / `${var:singlequote}` / `${__from}`); the plugin's backend then expands its
macros (`$__timeFilter(col)`, `$__fromTime`, `$__interval_s`, `$__timeInterval(col)`...) with
the same SQL text as grafana/clickhouse-datasource (pkg/macros/macros.go).

Anything left unexpanded is an error rather than SQL that happens to parse: a board that
uses a variable nobody defines, or a format this module does not know, fails its test.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Mapping, Sequence


class ExpansionError(ValueError):
    pass


@dataclass(frozen=True)
class TimeRange:
    start: datetime
    end: datetime
    interval_s: int = 60  # what Grafana derives from the range and the panel's width

    @property
    def start_ms(self) -> int:
        return int(self.start.timestamp() * 1000)

    @property
    def end_ms(self) -> int:
        return int(self.end.timestamp() * 1000)


@dataclass(frozen=True)
class Variable:
    """A template variable's current value. `is_all`: "All" is selected and `values` holds every option."""

    values: tuple[str, ...]
    is_all: bool = False

    @classmethod
    def of(cls, *values: str) -> "Variable":
        return cls(tuple(values))

    @classmethod
    def all_of(cls, options: Sequence[str]) -> "Variable":
        return cls(tuple(options), is_all=True)


def expand(sql: str, time_range: TimeRange, variables: Mapping[str, Variable] | None = None) -> str:
    variables = variables or {}
    sql = _expand_conditional_all(sql, variables)
    sql = _expand_variables(sql, time_range, variables)
    sql = _expand_macros(sql, time_range)
    if "$" in sql:
        raise ExpansionError(f"unexpanded {sql[sql.index('$'):][:40]!r} in:\n{sql}")
    return sql


def _expand_conditional_all(sql: str, variables: Mapping[str, Variable]) -> str:
    """`$__conditionalAll(condition, $var)`: the condition, or `1=1` when All is selected."""
    marker = "$__conditionalAll("
    while (start := sql.find(marker)) >= 0:
        args, end = _call_arguments(sql, start + len(marker))
        if len(args) != 2:
            raise ExpansionError(f"$__conditionalAll takes 2 arguments, got {args}")
        condition, reference = args
        name = _variable_name(reference)
        if name not in variables:
            raise ExpansionError(f"$__conditionalAll refers to undefined variable {reference!r}")
        sql = sql[:start] + ("1=1" if variables[name].is_all else condition) + sql[end:]
    return sql


def _call_arguments(sql: str, position: int) -> tuple[list[str], int]:
    """The comma-separated top-level arguments of a call whose '(' ends just before `position`."""
    depth, args, current = 0, [], position
    for i in range(position, len(sql)):
        char = sql[i]
        if char == "(":
            depth += 1
        elif char == ")":
            if depth == 0:
                args.append(sql[current:i].strip())
                return args, i + 1
            depth -= 1
        elif char == "," and depth == 0:
            args.append(sql[current:i].strip())
            current = i + 1
    raise ExpansionError(f"unbalanced parentheses after {sql[position - 20:position]!r}")


def _variable_name(reference: str) -> str:
    match = re.fullmatch(r"\$\{(\w+)\}|\$(\w+)", reference)
    if not match:
        raise ExpansionError(f"expected a $variable, got {reference!r}")
    return match[1] or match[2]


_VARIABLE = re.compile(r"\$\{(\w+)(?::(\w+))?\}|\$(?!__)(\w+)|\$(__from|__to)\b")


def _expand_variables(sql: str, time_range: TimeRange, variables: Mapping[str, Variable]) -> str:
    def replace(match: re.Match) -> str:
        name = match[1] or match[3] or match[4]
        fmt = match[2]
        if name in ("__from", "__to"):
            if fmt:
                raise ExpansionError(f"format {fmt!r} of ${{{name}}} is not supported here")
            return str(time_range.start_ms if name == "__from" else time_range.end_ms)
        if name.startswith("__"):
            return match[0]  # a plugin macro, expanded later
        if name not in variables:
            raise ExpansionError(f"undefined variable ${name}")
        return _format(name, variables[name], fmt)

    return _VARIABLE.sub(replace, sql)


def _format(name: str, variable: Variable, fmt: str | None) -> str:
    if fmt == "singlequote":
        return ",".join("'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'" for v in variable.values)
    if fmt is None or fmt == "raw":
        if len(variable.values) != 1:
            raise ExpansionError(f"${name} holds {len(variable.values)} values: use ${{{name}:singlequote}} in IN (...)")
        return variable.values[0]
    raise ExpansionError(f"format {fmt!r} of ${name} is not supported here")


def _expand_macros(sql: str, time_range: TimeRange) -> str:
    start, end = int(time_range.start.timestamp()), int(time_range.end.timestamp())
    interval_s = max(int(time_range.interval_s), 1)
    with_column = {
        "timeFilter": lambda c: f"{c} >= toDateTime({start}) AND {c} <= toDateTime({end})",
        "timeFilter_ms": lambda c: (
            f"{c} >= fromUnixTimestamp64Milli({time_range.start_ms}) AND {c} <= fromUnixTimestamp64Milli({time_range.end_ms})"
        ),
        "dateFilter": lambda c: f"{c} >= toDate('{time_range.start:%Y-%m-%d}') AND {c} <= toDate('{time_range.end:%Y-%m-%d}')",
        "timeInterval": lambda c: f"toStartOfInterval(toDateTime({c}), INTERVAL {interval_s} second)",
    }
    plain = {
        "fromTime_ms": f"fromUnixTimestamp64Milli({time_range.start_ms})",
        "toTime_ms": f"fromUnixTimestamp64Milli({time_range.end_ms})",
        "fromTime": f"toDateTime({start})",
        "toTime": f"toDateTime({end})",
        "interval_s": str(interval_s),
    }

    def call(match: re.Match) -> str:
        name, argument = match[1], match[2].strip()
        if name not in with_column:
            raise ExpansionError(f"unknown macro $__{name}(...)")
        return with_column[name](argument)

    sql = re.sub(r"\$__(\w+)\(([^()]*)\)", call, sql)
    return re.sub(r"\$__(\w+)\b", lambda m: plain[m[1]] if m[1] in plain else m[0], sql)
