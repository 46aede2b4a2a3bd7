"""How the stored row's fields map to the columns of `scored_events`, checked once at start.

The row type (evalstream.contracts.StoredRow) and the migrations must agree: a row field with no
column would vanish from every insert, and a column without a default that no field fills would
be stored empty. Either stops the sink at start, naming the field or column.
"""

from __future__ import annotations

from dataclasses import dataclass
from operator import attrgetter
from typing import Any, Iterable, Sequence

from clickhouse_connect.driver.client import Client

from evalstream.contracts import ROW_FIELDS, StoredRow


class SchemaMismatch(RuntimeError):
    """The stored row type and the table's columns disagree."""


@dataclass(frozen=True)
class Column:
    name: str
    nullable: bool
    has_default: bool  # a DEFAULT expression fills it when an insert leaves it out


def check_row_fits_table(table: str, columns: Iterable[Column], fields: Iterable[str] = ROW_FIELDS) -> None:
    by_name = {c.name: c for c in columns}
    field_names = set(fields)
    no_column = sorted(field_names - by_name.keys())
    no_field = sorted(name for name, c in by_name.items() if name not in field_names and not c.has_default)
    problems = []
    if no_column:
        problems.append(f"StoredRow field(s) {no_column} have no column in {table}: add a migration or remove the field")
    if no_field:
        problems.append(f"column(s) {no_field} of {table} have no default and no StoredRow field: add the field to evalstream.contracts.StoredRow")
    if problems:
        raise SchemaMismatch("; ".join(problems))


class RowColumns:
    """The insertable columns the row fills, in table order; turns rows into column data."""

    def __init__(self, table: str, columns: Sequence[Column]) -> None:
        check_row_fits_table(table, columns)
        self.columns = [c for c in columns if c.name in ROW_FIELDS]
        self._values = attrgetter(*(c.name for c in self.columns))  # a row's values, in column order

    @classmethod
    def read(cls, client: Client, table: str) -> RowColumns:
        result = client.query(
            "SELECT name, type, default_kind FROM system.columns WHERE database = currentDatabase() AND table = {t:String} ORDER BY position",
            parameters={"t": table},
        )
        if not result.result_rows:
            raise SchemaMismatch(f"table {table} not found: run the migrations (evalstream migrate)")
        return cls(
            table,
            [
                Column(name, type_.startswith("Nullable("), default_kind == "DEFAULT")
                for name, type_, default_kind in result.result_rows
                if default_kind not in ("MATERIALIZED", "ALIAS", "EPHEMERAL")  # not insertable
            ],
        )

    def data(self, rows: Sequence[StoredRow]) -> tuple[list[str], list[Sequence[Any]]]:
        """(column names, one list of values per column). A field None in every row is left out, so
        ClickHouse fills the column's default; None is stored as NULL only where the column is Nullable."""
        names, data = [], []
        for column, values in zip(self.columns, zip(*map(self._values, rows))):
            if not column.nullable and None in values:
                if any(v is not None for v in values):
                    raise ValueError(f"column {column.name} is not Nullable: the rows of one batch must all set it or all leave it None")
                continue
            names.append(column.name)
            data.append(values)
        return names, data
