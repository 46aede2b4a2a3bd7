"""Sinks store scored rows. A sink is one method, `write(rows)`; it knows nothing of scorers."""

from evalstream.sinks.clickhouse import ClickHouseSink, connect
from evalstream.sinks.columns import SchemaMismatch

__all__ = ["ClickHouseSink", "SchemaMismatch", "connect"]
