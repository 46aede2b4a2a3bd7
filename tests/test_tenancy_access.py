"""Read-side tenancy: the generated ClickHouse access SQL and Grafana datasources, checked as text.

chdb has no access management (CREATE USER / ROW POLICY / GRANT are refused), so what runs here:
every statement goes through chdb's parser (formatQuery), each row policy's condition and each
revoked column is evaluated against the migrated schema, and the generator's table lists are
compared with the tables the migrations create. Enforcement itself needs a ClickHouse server.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import importlib.util
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "infra" / "clickhouse" / "tenant_access.py"
PASSWORDS = {
    "EVALSTREAM_CLICKHOUSE_PASSWORD_EVALSTREAM_WRITER": "writer-pw-7d1e",
    "EVALSTREAM_CLICKHOUSE_PASSWORD_READER_ACME": "acme-reader-pw-0c3a",
    "EVALSTREAM_CLICKHOUSE_PASSWORD_READER_GLOBEX_EU": "globex-reader-pw-51aa",
}

_spec = importlib.util.spec_from_file_location("tenant_access", SCRIPT)
access = importlib.util.module_from_spec(_spec)
sys.modules["tenant_access"] = access
_spec.loader.exec_module(access)

# Runs in a child: chdb allows one data directory per process.
CHECK_IN_CHDB = r"""
import json, sys, tempfile
from evalstream.sinks import ClickHouseSink
checks = json.load(sys.stdin)
client = ClickHouseSink(f"chdb://{tempfile.mkdtemp()}/db").client
out = {"tables": client.query("SELECT name, engine FROM system.tables WHERE database = currentDatabase()").result_rows,
       "columns": client.query("SELECT table, name, type FROM system.columns WHERE database = currentDatabase()").result_rows,
       "parsed": [], "errors": []}
for statement in checks["statements"]:
    out["parsed"].append(client.query("SELECT formatQuery({s:String})", parameters={"s": statement}).result_rows[0][0])
for query in checks["queries"]:
    try:
        client.query(query)
    except Exception as exc:
        out["errors"].append(f"{query}: {exc}")
print(json.dumps(out))
"""


def generate(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    import os

    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=60)


@pytest.fixture(scope="module")
def sql() -> list[str]:
    done = generate("sql", "--tenants", "acme,globex-eu", "--text", "globex-eu", env=PASSWORDS)
    assert done.returncode == 0, done.stderr
    return [s for s in done.stdout.split(";\n") if s.strip()]


@pytest.fixture(scope="module")
def chdb_view(sql: list[str]) -> dict:
    policies = [re.search(r"ON default\.(\w+) FOR SELECT USING (.+) TO", s).groups() for s in sql if "ROW POLICY" in s]
    revoked = [re.search(r"REVOKE SELECT\((.+)\) ON default\.(\w+)", s).groups() for s in sql if s.startswith("REVOKE SELECT(")]
    queries = [f"SELECT count() FROM {table} WHERE {condition}" for table, condition in policies]
    queries += [f"SELECT {columns} FROM {table} LIMIT 0" for columns, table in revoked]
    done = subprocess.run([sys.executable, "-c", CHECK_IN_CHDB], input=json.dumps({"statements": sql, "queries": queries}),
                          capture_output=True, text=True, timeout=300, cwd=REPO)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])


def test_every_statement_parses_and_no_password_is_in_the_output(sql: list[str], chdb_view: dict) -> None:
    assert len(chdb_view["parsed"]) == len(sql)
    text = "\n".join(sql)
    assert not any(password in text for password in PASSWORDS.values())
    assert text.count("IDENTIFIED WITH sha256_hash") == 2 * 3  # create + alter, for the writer and two readers


def test_policies_and_revoked_columns_name_what_the_migrated_schema_has(chdb_view: dict) -> None:
    assert chdb_view["errors"] == []


def test_the_generator_covers_every_table_and_every_raw_text_column(chdb_view: dict) -> None:
    tables = {name for name, engine in chdb_view["tables"] if engine != "MaterializedView"}
    assert tables == set(access.TABLES)
    with_tenant = {table for table, name, _ in chdb_view["columns"] if name == "tenant" and table in tables}
    assert with_tenant == set(access.TENANT_TABLES)
    # A new free-text column must be classified: user text (revoked from readers) or not.
    not_user_text = {("alerts", c) for c in ("fingerprint", "sample_event_ids", "policy", "runbook_url", "summary")}
    not_user_text |= {("schema_migrations", "name"), ("schema_migrations", "checksum")}
    not_user_text |= {("replays", c) for c in ("replay_id", "tenant", "policy", "thresholds")}
    free_text = {(t, n) for t, n, type_ in chdb_view["columns"] if t in tables and re.fullmatch(r"(Array\()?(Nullable\()?String\)*", type_)}
    user_text = {(t, c) for t, columns in access.TEXT_COLUMNS.items() for c in columns}
    assert free_text - not_user_text == user_text


def test_readers_see_their_tenant_only_and_raw_text_only_when_granted(sql: list[str]) -> None:
    for user in ("reader_acme", "reader_globex_eu"):
        policies = [s for s in sql if "ROW POLICY" in s and s.endswith(f"TO {user}")]
        assert {re.search(r"ON default\.(\w+)", p)[1] for p in policies} == set(access.TENANT_TABLES) | set(access.TOPIC_TABLES)
        tenant = user.removeprefix("reader_").replace("_", "-")
        assert all(f"= '{tenant}'" in p or f"= 'genai.events.{tenant}'" in p for p in policies)
        assert f"ALTER USER {user}" in "\n".join(sql) and any(s.startswith(f"ALTER USER {user}") and "readonly = 2" in s for s in sql)
        grants = [s for s in sql if s.startswith("GRANT") and s.endswith(f"TO {user}")]
        assert all(s.startswith("GRANT SELECT ON default.") for s in grants)
    revokes = [s for s in sql if s.startswith("REVOKE SELECT(")]
    assert revokes and all(s.endswith("FROM reader_acme") for s in revokes)  # globex-eu was granted the text
    assert any("prompt" in s and "response" in s and "scored_events" in s for s in revokes)


def test_the_writer_may_only_insert_and_select_and_keeps_seeing_every_row(sql: list[str]) -> None:
    grants = [s for s in sql if s.endswith("TO evalstream_writer") and s.startswith("GRANT")]
    bookkeeping = "GRANT CREATE TABLE ON default.schema_migrations TO evalstream_writer"
    assert bookkeeping in grants
    assert all(re.fullmatch(r"GRANT INSERT, SELECT ON default\.\w+ TO evalstream_writer", s) for s in grants if s != bookkeeping)
    everyone = [s for s in sql if "evalstream_all_rows" in s]
    assert len(everyone) == len(access.TENANT_TABLES) + len(access.TOPIC_TABLES)
    assert all(s.endswith("USING 1 TO evalstream_writer, default") for s in everyone)


def test_a_missing_password_is_refused() -> None:
    done = generate("sql", "--tenants", "acme", env={"EVALSTREAM_CLICKHOUSE_PASSWORD_EVALSTREAM_WRITER": "x"})
    assert done.returncode != 0 and "EVALSTREAM_CLICKHOUSE_PASSWORD_READER_ACME" in done.stderr


def test_grafana_gets_one_datasource_per_tenant_logging_in_as_its_reader() -> None:
    done = generate("grafana", "--tenants", "acme@2,globex-eu@3")
    assert done.returncode == 0, done.stderr
    sources = yaml.safe_load(done.stdout)["datasources"]
    assert [(s["uid"], s["orgId"], s["jsonData"]["username"]) for s in sources] == [
        ("evalstream-clickhouse-acme", 2, "reader_acme"), ("evalstream-clickhouse-globex-eu", 3, "reader_globex_eu")]
    assert [s["secureJsonData"]["password"] for s in sources] == [
        "${EVALSTREAM_CLICKHOUSE_PASSWORD_READER_ACME}", "${EVALSTREAM_CLICKHOUSE_PASSWORD_READER_GLOBEX_EU}"]


def test_the_boards_query_no_raw_text_column_so_they_work_as_a_tenants_reader() -> None:
    from evalstream.dashboards import catalog

    queries = [q for board in catalog.load_boards() for q in catalog.clickhouse_queries(board)]
    assert queries
    text_columns = {c for columns in access.TEXT_COLUMNS.values() for c in columns}
    for query in queries:
        sql = re.sub(r"'[^']*'", "''", query.sql)  # string literals are not columns
        used = text_columns & set(re.findall(r"\b\w+\b", sql))
        assert not used, (query.board, query.name, used)
