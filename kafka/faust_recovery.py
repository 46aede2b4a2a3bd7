"""A fix for a faust-streaming 0.15.3 race that the drift tables expose: seek, then resume.

When a worker restarts with table state to recover, faust's Recovery (on_recovery_completed,
_resume_streams) first resumes the stream partitions and only then seeks them to the committed
offsets, while the fetcher is already running. Records fetched in between are delivered to
the agents, and delivered again after the seek. Found with the SIGKILL test of the pipeline:
with the drift tables in the workers' app, the scoring agent saw events twice, faust's acked
list held each offset twice (its commits then crawl forward by one offset a second), and
offsets it took for a gap were committed before their events were stored: 27 of 2,000 events
lost in 3 of 3 runs, none in 3 runs without tables.

The fix keeps faust's code and only reorders the two calls: while those methods run, resuming
the stream partitions is deferred until the seek has returned.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

from faust.tables.recovery import Recovery

_PATCHED = "_evalstream_seek_before_resume"


def _seek_before_resume(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    async def wrapper(self: Recovery, *args: Any, **kwargs: Any) -> Any:
        consumer = self.app.consumer
        resume, seek = consumer.resume_partitions, consumer.perform_seek
        deferred: set[Any] = set()

        def defer_resume(partitions: Any) -> None:
            deferred.update(partitions)

        async def seek_then_resume() -> None:
            await seek()
            resume(set(deferred))
            deferred.clear()

        consumer.resume_partitions, consumer.perform_seek = defer_resume, seek_then_resume
        try:
            return await method(self, *args, **kwargs)
        finally:
            del consumer.resume_partitions, consumer.perform_seek  # back to the class's methods
            if deferred:  # no seek happened (empty assignment, or a rebalance cut it short)
                resume(set(deferred))

    return wrapper


def install() -> None:
    """Idempotent; affects every faust app of the process (the workers run one)."""
    if getattr(Recovery, _PATCHED, False):
        return
    Recovery.on_recovery_completed = _seek_before_resume(Recovery.on_recovery_completed)  # type: ignore[method-assign]
    Recovery._resume_streams = _seek_before_resume(Recovery._resume_streams)  # type: ignore[method-assign]
    setattr(Recovery, _PATCHED, True)
