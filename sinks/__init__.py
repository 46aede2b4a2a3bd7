"""Sinks store scored rows. A sink is one method, `write(rows)`; it knows nothing of scorers."""

from evalstream.sinks.clickhouse import ClickHouseSink, connect

__all__ = ["ClickHouseSink", "connect"]
