"""Versioned SQL migrations, applied in order once each and recorded in `schema_migrations`."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources

from clickhouse_connect.driver.client import Client

MIGRATIONS_TABLE = "schema_migrations"


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()[:16]

    def statements(self) -> list[str]:
        # A statement ends with ';' at the end of a line; our migrations keep ';' out of literals.
        parts = re.split(r";\s*$", self.sql, flags=re.MULTILINE)
        return [p.strip() for p in parts if _strip_comments(p).strip()]


def _strip_comments(sql: str) -> str:
    return "\n".join(line for line in sql.splitlines() if not line.strip().startswith("--"))


def bundled_migrations() -> list[Migration]:
    found = []
    for entry in resources.files("evalstream.sinks").joinpath("migrations").iterdir():
        match = re.fullmatch(r"(\d+)_(\w+)\.sql", entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text()))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"two migrations share a version: {versions}")
    return found


def applied(client: Client) -> dict[int, str]:
    client.command(
        f"CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} "
        "(version UInt32, name String, checksum String, applied_at DateTime DEFAULT now()) "
        "ENGINE = MergeTree ORDER BY version"
    )
    return dict(client.query(f"SELECT version, checksum FROM {MIGRATIONS_TABLE}").result_rows)


def migrate(client: Client) -> list[Migration]:
    """Apply the migrations not yet applied; returns them. A changed applied migration is an error."""
    done = applied(client)
    newly = []
    for migration in bundled_migrations():
        if migration.version in done:
            if done[migration.version] != migration.checksum:
                raise RuntimeError(
                    f"migration {migration.version}_{migration.name} changed after it was applied; "
                    "add a new migration instead of editing an applied one"
                )
            continue
        for statement in migration.statements():
            client.command(statement)
        client.insert(
            MIGRATIONS_TABLE,
            [[migration.version, migration.name, migration.checksum]],
            column_names=["version", "name", "checksum"],
        )
        newly.append(migration)
    return newly
