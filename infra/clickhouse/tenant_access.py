"""ClickHouse users, grants and row policies for a list of tenants, and a Grafana datasource per tenant.

    EVALSTREAM_TENANTS='["acme","globex"]' .venv/bin/python infra/clickhouse/tenant_access.py sql > access.sql
    EVALSTREAM_TENANTS='["acme","globex"]' .venv/bin/python infra/clickhouse/tenant_access.py grafana \\
        > dashboards/provisioning/datasources/tenants.yaml

`sql`: statements for a ClickHouse server with SQL access management (run them as an admin,
after `evalstream migrate`):
- `evalstream_writer`: the workers' user, INSERT and SELECT on evalstream's tables, nothing else;
- `reader_<tenant>`: the tenant's dashboards' user, read-only, SELECT on the tables and rollups with
  a row policy `tenant = '<tenant>'` on each, and without the raw text columns (prompt, response,
  context, metadata, judge and unsupported sentences, feedback comments) unless --text names the tenant;
- a row policy that keeps every row visible to the writer and the admin: once a table has a row
  policy, a user that none names reads nothing (the workers' replay check would then see no rows).
Passwords are never in the output: each user is created with the SHA-256 of its password and a
random salt, read from EVALSTREAM_CLICKHOUSE_PASSWORD_<USER> (e.g. ..._READER_ACME) or the file
that ..._<USER>_FILE names.

`grafana`: provisioning for one ClickHouse datasource per tenant (uid evalstream-clickhouse-<tenant>),
logging in as reader_<tenant>; Grafana expands the password from its environment. `acme@2` puts
acme's datasource in Grafana organization 2 (it must exist) so that acme's viewers see only theirs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from evalstream.config.settings import TENANT_NAME, TopicSettings

WRITER = "evalstream_writer"
ADMIN = "default"
# Every table the migrations create (sinks/migrations/); tests/test_tenancy_access.py compares.
TABLES = (
    "scored_events", "scored_events_1m", "scored_events_1h", "scored_flags_1m", "scored_flags_1h",
    "ingest_1m", "feedback", "alerts", "judge_verdicts", "replayed_scores", "replays", "schema_migrations",
)
TENANT_TABLES = (
    "scored_events", "scored_events_1m", "scored_events_1h", "scored_flags_1m", "scored_flags_1h", "feedback", "alerts", "judge_verdicts",
    "replayed_scores", "replays",
)
# Holds no tenant column: a tenant's rows are those of its own events topic (EVALSTREAM_TENANT_TOPICS).
TOPIC_TABLES = ("ingest_1m",)
# What users wrote (prompts, answers, their context) or what quotes it: readers need a grant for these.
TEXT_COLUMNS = {
    "scored_events": ("prompt", "context", "response", "metadata", "unsupported_sentences", "judge_unsupported", "judge_reason"),
    "feedback": ("comment",),
    "judge_verdicts": ("unsupported", "reason"),
    "replayed_scores": ("unsupported_sentences",),
}


@dataclass(frozen=True)
class Tenant:
    name: str
    org_id: int = 1
    text: bool = False  # its readers may see the raw text columns

    @property
    def reader(self) -> str:
        return f"reader_{self.name.replace('-', '_')}"


def parse_tenant(spec: str, text_tenants: set[str]) -> Tenant:
    name, _, org = spec.partition("@")
    if not TENANT_NAME.fullmatch(name) or name == "dlq":
        raise ValueError(f"tenant {name!r}: lowercase letters, digits, _ and -, at most 64, not 'dlq'")
    return Tenant(name, int(org) if org else 1, name in text_tenants)


def password_of(user: str) -> str:
    variable = f"EVALSTREAM_CLICKHOUSE_PASSWORD_{user.upper()}"
    if os.environ.get(f"{variable}_FILE"):
        return Path(os.environ[f"{variable}_FILE"]).read_text().strip()
    if not os.environ.get(variable):
        raise SystemExit(f"no password for ClickHouse user {user}: set {variable} or {variable}_FILE")
    return os.environ[variable]


def create_user(user: str, password: str, *, readonly: bool) -> list[str]:
    salt = secrets.token_hex(16)
    digest = hashlib.sha256((password + salt).encode()).hexdigest()
    settings = " SETTINGS readonly = 2, max_execution_time = 60" if readonly else ""
    identified = f"IDENTIFIED WITH sha256_hash BY '{digest}' SALT '{salt}'"
    return [  # rerunnable: a second run sets the password again and replaces the grants
        f"CREATE USER IF NOT EXISTS {user} {identified}",
        f"ALTER USER {user} {identified}{settings}",
        f"REVOKE ALL ON *.* FROM {user}",
    ]


def statements(tenants: list[Tenant], database: str, events_topic: str, passwords: dict[str, str]) -> list[str]:
    sql = create_user(WRITER, passwords[WRITER], readonly=False)
    sql += [f"GRANT INSERT, SELECT ON {database}.{table} TO {WRITER}" for table in TABLES]
    # The workers' sink checks the migrations at start: CREATE TABLE IF NOT EXISTS of their bookkeeping table.
    sql.append(f"GRANT CREATE TABLE ON {database}.schema_migrations TO {WRITER}")
    for table in (*TENANT_TABLES, *TOPIC_TABLES):
        sql.append(f"CREATE ROW POLICY OR REPLACE evalstream_all_rows ON {database}.{table} FOR SELECT USING 1 TO {WRITER}, {ADMIN}")
    for tenant in tenants:
        reader = tenant.reader
        sql += create_user(reader, passwords[reader], readonly=True)
        for table in (*TENANT_TABLES, *TOPIC_TABLES):
            sql.append(f"GRANT SELECT ON {database}.{table} TO {reader}")
            if not tenant.text and table in TEXT_COLUMNS:
                sql.append(f"REVOKE SELECT({', '.join(TEXT_COLUMNS[table])}) ON {database}.{table} FROM {reader}")
            condition = f"tenant = '{tenant.name}'" if table in TENANT_TABLES else f"source_topic = '{events_topic}.{tenant.name}'"
            sql.append(f"CREATE ROW POLICY OR REPLACE tenant_{tenant.name.replace('-', '_')} ON {database}.{table} FOR SELECT USING {condition} TO {reader}")
    return sql


def grafana_datasources(tenants: list[Tenant], host: str, port: int, database: str) -> dict:
    return {
        "apiVersion": 1,
        "datasources": [
            {
                "name": f"ClickHouse ({tenant.name})",
                "uid": f"evalstream-clickhouse-{tenant.name}",
                "orgId": tenant.org_id,
                "type": "grafana-clickhouse-datasource",
                "access": "proxy",
                "editable": False,
                "jsonData": {"host": host, "port": port, "protocol": "http", "secure": False, "username": tenant.reader, "defaultDatabase": database},
                "secureJsonData": {"password": f"${{EVALSTREAM_CLICKHOUSE_PASSWORD_{tenant.reader.upper()}}}"},
            }
            for tenant in tenants
        ],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=["sql", "grafana"])
    parser.add_argument("--tenants", help="comma-separated, `name` or `name@grafana-org-id` (default: EVALSTREAM_TENANTS)")
    parser.add_argument("--text", default="", help="comma-separated tenants whose readers may see the raw text columns")
    parser.add_argument("--database", default="default")
    parser.add_argument("--host", default="clickhouse", help="ClickHouse as Grafana reaches it")
    parser.add_argument("--port", type=int, default=8123)
    args = parser.parse_args(argv)
    specs = args.tenants.split(",") if args.tenants else json.loads(os.environ.get("EVALSTREAM_TENANTS", "[]"))
    if not specs:
        raise SystemExit("no tenants: --tenants or EVALSTREAM_TENANTS")
    tenants = [parse_tenant(spec.strip(), set(filter(None, args.text.split(",")))) for spec in specs]
    if args.what == "grafana":
        yaml.safe_dump(grafana_datasources(tenants, args.host, args.port, args.database), sys.stdout, sort_keys=False)
        return
    passwords = {user: password_of(user) for user in [WRITER, *(t.reader for t in tenants)]}
    for statement in statements(tenants, args.database, TopicSettings().events, passwords):
        print(statement + ";")


if __name__ == "__main__":
    main()
