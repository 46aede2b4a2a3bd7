"""Grafana's macros and template variables, expanded as the ClickHouse plugin expands them."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from evalstream.dashboards.sql import ExpansionError, TimeRange, Variable, expand

RANGE = TimeRange(datetime(2026, 3, 1, 10, 0, tzinfo=timezone.utc), datetime(2026, 3, 1, 16, 0, 30, tzinfo=timezone.utc), 20)


def test_macros_expand_to_the_plugins_sql() -> None:
    assert expand("WHERE $__timeFilter(ts)", RANGE) == "WHERE ts >= toDateTime(1772359200) AND ts <= toDateTime(1772380830)"
    assert expand("$__fromTime, $__toTime, $__fromTime_ms, $__interval_s", RANGE) == (
        "toDateTime(1772359200), toDateTime(1772380830), fromUnixTimestamp64Milli(1772359200000), 20")
    assert expand("$__timeInterval(ts)", RANGE) == "toStartOfInterval(toDateTime(ts), INTERVAL 20 second)"
    assert expand("${__from} ${__to}", RANGE) == "1772359200000 1772380830000"


def test_variables_expand_as_grafana_formats_them() -> None:
    condition = "$__conditionalAll(tenant IN (${tenant:singlequote}), $tenant)"
    assert expand(condition, RANGE, {"tenant": Variable.of("acme", "o'neil")}) == "tenant IN ('acme','o\\'neil')"
    assert expand(condition, RANGE, {"tenant": Variable.all_of(["acme", "globex"])}) == "1=1"
    assert expand("FROM scored_events_${rollup}", RANGE, {"rollup": Variable.of("1h")}) == "FROM scored_events_1h"


@pytest.mark.parametrize("sql, variables, error", [
    ("WHERE app = $app", {}, "undefined variable"),
    ("WHERE app IN ($app)", {"app": Variable.of("a", "b")}, "singlequote"),
    ("WHERE $__timeFilter_s(ts)", {}, "unknown macro"),
    ("WHERE app = '${app:csv}'", {"app": Variable.of("a")}, "format"),
    ("WHERE $__unknownMacro", {}, "unexpanded"),
])
def test_what_grafana_would_not_expand_is_an_error(sql: str, variables: dict, error: str) -> None:
    with pytest.raises(ExpansionError, match=error):
        expand(sql, RANGE, variables)


