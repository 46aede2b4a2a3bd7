"""Kafka client errors, once per interval: with the broker down, aiokafka logs each failed
reconnect, metadata refresh and fetch (thousands of lines in 30 s), which buries everything else."""

from __future__ import annotations

import logging
import time

CLIENT_LOGGERS = ("aiokafka", "faust.transport")
INTERVAL_SECONDS = 10.0


class OncePerInterval(logging.Filter):
    """Lets a client's message (by its template) through once per interval; the next one that
    passes says how many like it were held back."""

    def __init__(self, interval: float = INTERVAL_SECONDS, clock=time.monotonic) -> None:
        super().__init__()
        self.interval = interval
        self.clock = clock
        self._last: dict[tuple[str, str], float] = {}
        self._held: dict[tuple[str, str], int] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith(CLIENT_LOGGERS):
            return True
        key, now = (record.name, str(record.msg)), self.clock()
        if now - self._last.get(key, float("-inf")) < self.interval:
            self._held[key] = self._held.get(key, 0) + 1
            return False
        if len(self._last) > 1_000:  # templates, not texts: a handful in practice
            self._last.clear()
        self._last[key] = now
        if held := self._held.pop(key, 0):
            record.msg = f"{record.msg} (and {held} more like it in the last {self.interval:.0f} s)"
        return True


def quiet_client_retries(root: logging.Logger) -> None:
    """On every handler of the root logger that faust set up."""
    for handler in root.handlers:
        handler.addFilter(OncePerInterval())
