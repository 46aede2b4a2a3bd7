"""Hostile payloads, generated: every one is stored as a row or dead-lettered with a reason, nothing raises.

In process: FUZZ_BATCHES batches of FUZZ_BATCH payloads (10,000) through validation, redaction,
the cost and toxicity scorers (the embedding scorers add time, not new input paths) and the
BatchWriter onto real chdb. The slowest event (parse + validation + redaction, timed one by one)
and the slowest batch are printed (`pytest -s`) and bounded.
"""

from __future__ import annotations

import json
import os
import string
import time
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evalstream.config.settings import ScoringSettings
from evalstream.scorers.registry import default_scorers
from evalstream.streams.pipeline import SourceRecord
from reliability_support import harness, now_event
from test_schema import database  # noqa: F401  (a fresh chdb database per test)

FUZZ_BATCHES, FUZZ_BATCH = int(os.environ.get("EVALSTREAM_FUZZ_BATCHES", "100")), 100
SLOWEST_EVENT_BOUND_S = 2.0

BIDI_AND_CONTROL = "\u202e\u202d\u2066\u2067\u2068\u2069\u200f\u200e\x00\x07\x1b\x7f\u0085\u2028\ufeff"
_cheap_text = st.one_of(
    st.text(max_size=200),
    st.text(alphabet=st.sampled_from(BIDI_AND_CONTROL + string.ascii_letters + "@.:<>!"), max_size=200),
    st.builds(lambda c, n: c * n, st.sampled_from(["a", "é", "\u202e", "Ab. ", "a@", "[", "\\"]), st.integers(1, 2000)),
)
# oversized: a character repeated just under or past the contract's 200,000-character bound (1 draw in 8: they are slow to redact)
_big_text = st.builds(lambda c, n: c * n, st.sampled_from(["a", "é", "\u202e", "Ab. ", "a@", "[", "\\"]), st.sampled_from([50_000, 199_999, 200_001, 260_000]))
hostile_text = st.one_of(*[_cheap_text] * 7, _big_text)
json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=2**31, max_value=2**80), st.floats(allow_nan=False, allow_infinity=False), hostile_text
)
random_json = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=20)
far_ts = st.one_of(
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(timezone.utc)).map(lambda d: d.isoformat()),
    st.sampled_from(["2100-01-01T00:00:00Z", "1970-01-01T00:00:00Z", "2026-13-45T99:99:99Z", "0000-00-00", "yesterday", "1e30"]),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.timedeltas(min_value=timedelta(days=-40), max_value=timedelta(hours=1)).map(lambda d: (datetime.now(timezone.utc) + d).isoformat()),
)
EVENT_FIELDS = ["event_id", "ts", "tenant", "app", "environment", "region", "use_case", "provider", "model", "prompt_id",
                "prompt_version", "prompt", "context", "response", "usage", "latency_ms", "finish_reason", "error_type", "metadata"]


@st.composite
def mutated_event(draw: st.DrawFn) -> bytes:
    """A valid event with a few fields replaced by hostile values (or dropped)."""
    event = now_event(draw(st.integers(0, 5)), event_id=str(uuid.uuid4()))  # not drawn: hypothesis would repeat its favourites
    for name in draw(st.lists(st.sampled_from(EVENT_FIELDS), max_size=3, unique=True)):
        action = draw(st.sampled_from(["json", "text", "ts", "drop", "number"]))
        if action == "drop":
            event.pop(name, None)
        elif action == "ts" or name == "ts":
            event[name] = draw(far_ts)
        elif action == "number":
            event[name] = draw(st.sampled_from([10**30, -1, 2**32, 2**64, 1e308, 0.5, -0.0]))
        elif action == "text":
            event[name] = draw(hostile_text)
        else:
            event[name] = draw(random_json)
    if draw(st.booleans()):
        event["context"] = draw(st.one_of(st.lists(st.text(max_size=40), max_size=70), st.lists(hostile_text, max_size=2)))
    return json.dumps(event, ensure_ascii=draw(st.booleans())).encode("utf-8", errors="surrogatepass")


def nested(depth: int, closed: bool) -> bytes:
    return b'{"a": ' * depth + (b"1" + b"}" * depth if closed else b"")


raw_hostile = st.one_of(
    st.binary(max_size=300),  # invalid UTF-8 mostly
    random_json.map(lambda v: json.dumps(v).encode()),
    st.builds(nested, st.sampled_from([10, 31, 33, 1000, 100_000]), st.booleans()),
    st.sampled_from([b"[" * 1_000_000, b'{"latency_ms": NaN}', b'{"x": Infinity}', b'{"x": 1e999}', b'{"x": ' + b"7" * 5000 + b"}",
                     b'{"prompt": "\\udc00"}', b'"just a string"', b"", b"null", b"\xef\xbb\xbf{}", b"x" * (1024 * 1024 + 1)]),
)
payload = st.one_of(mutated_event(), mutated_event(), raw_hostile, st.just(None))


@pytest.fixture(scope="module")
def scorers() -> Any:
    return default_scorers(ScoringSettings(scorers=["cost", "toxicity"], device="cpu"))


@pytest.mark.slow
def test_ten_thousand_hostile_payloads_are_stored_or_dead_lettered(database: str, scorers: Any) -> None:  # noqa: F811
    h = harness(database, scorers, max_events=FUZZ_BATCH)
    slowest = {"event": (0.0, b""), "batch": 0.0}
    counts = {"payloads": 0}

    @settings(max_examples=FUZZ_BATCHES, deadline=None, database=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example])
    @given(st.lists(payload, min_size=FUZZ_BATCH, max_size=FUZZ_BATCH))
    def one_batch(payloads: list[bytes | None]) -> None:
        events = h.events(payloads)
        for e in events:  # the per-event part of the work, timed one by one
            started = time.perf_counter()
            h.pipeline.parse_redacted(SourceRecord(e.message.topic, 0, e.message.offset, e.message.value))
            took = time.perf_counter() - started
            if took > slowest["event"][0]:
                slowest["event"] = (took, (e.message.value or b"")[:80])
        dead_before, started = len(h.dead_letters), time.perf_counter()
        h.run(events)  # raises if anything escapes
        slowest["batch"] = max(slowest["batch"], time.perf_counter() - started)
        dead = h.dead_letters[dead_before:]
        assert all(d.invalid.reason and d.invalid.kind for d in dead)
        assert h.stream.committable(0, events[0].message.offset) == events[-1].message.offset + 1  # every one acked
        counts["payloads"] += len(payloads)

    one_batch()
    stats = h.writer.stats
    rows = h.rows()
    kinds: dict[str, int] = {}
    for d in h.dead_letters:
        kinds[d.invalid.kind] = kinds.get(d.invalid.kind, 0) + 1
    print(f"\nfuzz: {counts['payloads']} payloads -> {rows} rows stored, {stats.replayed} already stored (repeated event ids), "
          f"{len(h.dead_letters)} dead letters {kinds}; slowest event {slowest['event'][0] * 1000:.0f} ms "
          f"({slowest['event'][1]!r}...), slowest batch of {FUZZ_BATCH} {slowest['batch']:.2f} s")
    assert counts["payloads"] >= FUZZ_BATCHES * FUZZ_BATCH
    assert rows + stats.replayed + len(h.dead_letters) == stats.consumed == counts["payloads"]
    assert rows == stats.stored and rows > 0 and kinds.get("schema", 0) > 0
    assert slowest["event"][0] < SLOWEST_EVENT_BOUND_S
