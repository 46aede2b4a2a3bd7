"""Query time of the overview board's panels on chdb: raw table against rollups.

Seeds N scored events spread over the last D days (through the migrations' materialized views,
as the sink would), then runs every overview panel's SQL as Grafana sends it (over the rollup
the board picks) and the same panel computed from the raw rows, and reports the median times.

    .venv/bin/python bench/dashboard_queries.py --rows 10000000

Prints a table and writes bench/results/dashboard_queries.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import chdb

from evalstream.dashboards import catalog
from evalstream.dashboards.sql import TimeRange, Variable, expand
from evalstream.sinks import connect
from evalstream.sinks.migrate import migrate

RESULTS = Path(__file__).resolve().parent / "results" / "dashboard_queries.json"
SEED_CHUNK = 1_000_000

# Synthetic traffic shaped like a real fleet: 40 apps, each owned by one tenant, serving one use
# case, calling two models from two regions with two live prompt versions (320 keys in all).
SEED_SQL = """
INSERT INTO scored_events
    (event_id, ts, tenant, app, environment, region, use_case, provider, model, prompt_id, prompt_version,
     prompt, response, has_context, latency_ms, error_type, input_tokens, output_tokens,
     cost_usd, cost_unknown_model, toxicity, toxic, faithfulness, relevance,
     source_topic, source_partition, source_offset, ingested_at)
WITH cityHash64(number, 1) % 40 AS app_number
SELECT
    generateUUIDv4(number) AS event_id,
    toDateTime64({start:UInt32} + intDiv(number * {span:UInt64}, {total:UInt64}), 3, 'UTC') AS ts,
    ['acme', 'globex', 'initech', 'umbrella', 'hooli'][app_number % 5 + 1] AS tenant,
    concat(['support-bot', 'doc-search', 'summarizer', 'sales-assist', 'code-review', 'hr-faq', 'translator', 'triage'][app_number % 8 + 1],
           '-', toString(intDiv(app_number, 8))) AS app,
    'prod' AS environment,
    ['eu', 'us', 'apac', 'latam'][(app_number + cityHash64(number, 2) % 2) % 4 + 1] AS region,
    ['rag-qa', 'chat', 'summarize'][app_number % 3 + 1] AS use_case,
    'openai' AS provider,
    ['gpt-4o-mini', 'gpt-4.1', 'gpt-4.1-mini', 'o4-mini', 'gpt-4o', 'in-house-llm'][(app_number + cityHash64(number, 3) % 2) % 6 + 1] AS model,
    'answer' AS prompt_id,
    toString(7 + (app_number + cityHash64(number, 4) % 2) % 3) AS prompt_version,
    concat('question ', toString(number % 1000)) AS prompt,
    concat('answer ', toString(number % 997)) AS response,
    cityHash64(number, 7) % 4 != 0 AS has_context,
    if(cityHash64(number, 8) % 20 = 0, NULL, toFloat32(200 + cityHash64(number, 9) % 3000)) AS latency_ms,
    if(cityHash64(number, 10) % 50 = 0, 'timeout', '') AS error_type,
    toUInt32(300 + cityHash64(number, 11) % 2000) AS input_tokens,
    toUInt32(50 + cityHash64(number, 12) % 500) AS output_tokens,
    if(model = 'in-house-llm', NULL, toDecimal64(input_tokens * 0.00000015 + output_tokens * 0.0000006, 12)) AS cost_usd,
    model = 'in-house-llm' AS cost_unknown_model,
    toFloat32((cityHash64(number, 13) % 1000) / 1000 * 0.2) AS toxicity,
    cityHash64(number, 14) % 100 = 0 AS toxic,
    if(has_context, toFloat32((cityHash64(number, 15) % 1000) / 1000), NULL) AS faithfulness,
    toFloat32((cityHash64(number, 16) % 1000) / 1000) AS relevance,
    'genai.events' AS source_topic,
    toUInt16(number % 8) AS source_partition,
    number AS source_offset,
    ts + toIntervalMillisecond(100 + cityHash64(number, 17) % 1500) AS ingested_at
FROM numbers({first:UInt64}, {count:UInt64})
"""

# A rollup's -Merge of a state and the aggregate it stands for over the raw rows.
RAW_EQUIVALENTS = {
    "countMerge(events)": "count()",
    "sumMerge(toxic_events)": "sum(toxic)",
    "avgMerge(faithfulness_avg)": "avg(faithfulness)",
    "avgMerge(relevance_avg)": "avg(relevance)",
    "sumMerge(cost_usd)": "sum(cost_usd)",
    "countIfMerge(unknown_cost_events)": "countIf(cost_unknown_model = 1)",
    "quantilesMerge(0.5, 0.95, 0.99)(latency_quantiles)": "quantiles(0.5, 0.95, 0.99)(latency_ms)",
}


def raw_equivalent(sql: str) -> str:
    """The panel's query computed from scored_events instead of a rollup."""
    for merged, raw in RAW_EQUIVALENTS.items():
        sql = sql.replace(merged, raw)
    sql = sql.replace("FROM scored_events_${rollup}", "FROM scored_events")
    if re.search(r"\w+Merge\(", sql):
        raise ValueError(f"no raw equivalent for a -Merge in:\n{sql}")
    return re.sub(r"\bbucket\b", "ts", sql)


def median_ms(client, sql: str, repeat: int) -> tuple[float, int]:
    client.query(sql)  # warm-up: parts' marks and the query cache of the filesystem
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        rows = len(client.query(sql).result_rows)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), rows


def seed(client, rows: int, days: int) -> float:
    end = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    span = days * 86400
    started = time.perf_counter()
    for first in range(0, rows, SEED_CHUNK):
        count = min(SEED_CHUNK, rows - first)
        client.command(
            SEED_SQL,
            parameters={"start": int(end.timestamp()) - span, "span": span, "total": rows, "first": first, "count": count},
        )
        print(f"  seeded {first + count:,} / {rows:,} rows ({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--days", type=int, default=30, help="the seeded events span the last DAYS days")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per query (after one warm-up); the median is reported")
    parser.add_argument("--group-by", default="model", help="the overview's breakdown for the time series panels")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="evalstream-bench-chdb-"))
    try:
        client = connect(f"chdb://{workdir}")
        migrate(client)
        print(f"seeding {args.rows:,} rows over {args.days} days into {workdir}", file=sys.stderr)
        seed_seconds = seed(client, args.rows, args.days)
        tables = dict(client.query(
            "SELECT table, sum(rows) FROM system.parts WHERE active AND database = currentDatabase() "
            "AND table IN ('scored_events', 'scored_events_1m', 'scored_events_1h') GROUP BY table"
        ).result_rows)
        report = {
            "rows": args.rows, "days": args.days, "repeat": args.repeat, "group_by": args.group_by,
            "seed_seconds": round(seed_seconds, 1), "table_rows": tables,
            "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "chdb": chdb.__version__, "engine": chdb.engine_version},
            "ranges": [measure(client, label, hours, interval_s, args) for label, hours, interval_s in (
                ("last 24 hours", 24, 60),
                (f"last {args.days} days", args.days * 24, 3600),
            )],
        }
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print_report(report)
    print(f"\nwrote {args.out}")


def measure(client, label: str, hours: int, interval_s: int, args) -> dict:
    (overview,) = [b for b in catalog.load_boards() if b["uid"] == "evalstream-overview"]
    now = datetime.now(timezone.utc)
    time_range = TimeRange(now - timedelta(hours=hours), now, interval_s)
    variables: dict[str, Variable] = {"group_by": Variable.of(args.group_by)}
    for variable in overview["templating"]["list"]:  # as Grafana resolves them, All everywhere
        if variable["type"] == "query":
            options = [str(r[0]) for r in client.query(expand(variable["query"], time_range, variables)).result_rows]
            variables[variable["name"]] = Variable.all_of(options) if variable.get("includeAll") else Variable.of(options[0])
    panels = []
    for panel in catalog.panels(overview):
        sql = panel["targets"][0]["rawSql"]
        rollup_ms, rollup_rows = median_ms(client, expand(sql, time_range, variables), args.repeat)
        raw_ms, raw_rows = median_ms(client, expand(raw_equivalent(sql), time_range, variables), args.repeat)
        panels.append({
            "panel": panel["title"].replace("${group_by}", args.group_by), "raw_ms": round(raw_ms, 1), "rollup_ms": round(rollup_ms, 1),
            "speedup": round(raw_ms / rollup_ms, 1), "points_raw": raw_rows, "points_rollup": rollup_rows,
        })
        print(f"  {label}: {panels[-1]['panel']}: raw {raw_ms:.0f} ms, rollup {rollup_ms:.0f} ms", file=sys.stderr)
    return {
        "range": label, "rollup": f"scored_events_{variables['rollup'].values[0]}", "interval_s": interval_s, "panels": panels,
        "board_raw_ms": round(sum(p["raw_ms"] for p in panels), 1), "board_rollup_ms": round(sum(p["rollup_ms"] for p in panels), 1),
    }


def print_report(report: dict) -> None:
    print(f"\noverview panels over {report['rows']:,} rows ({report['days']} days) on chdb {report['machine']['chdb']}, "
          f"{report['machine']['cpus']} CPUs; seeded in {report['seed_seconds']} s; rows per table: {report['table_rows']}")
    for measured in report["ranges"]:
        print(f"\n{measured['range']} (rollup {measured['rollup']}, interval {measured['interval_s']} s), median of {report['repeat']}:")
        print(f"  {'panel':<40} {'raw ms':>9} {'rollup ms':>10} {'speedup':>8}")
        for p in measured["panels"]:
            print(f"  {p['panel']:<40} {p['raw_ms']:>9.1f} {p['rollup_ms']:>10.1f} {p['speedup']:>7.1f}x")
        print(f"  {'whole board':<40} {measured['board_raw_ms']:>9.1f} {measured['board_rollup_ms']:>10.1f} "
              f"{measured['board_raw_ms'] / measured['board_rollup_ms']:>7.1f}x")


if __name__ == "__main__":
    main()
