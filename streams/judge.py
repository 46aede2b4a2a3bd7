"""The judge stage: score records -> the LLM judge -> `judge_verdicts`, off the ingest path.

The scoring workers never wait for the judge: they store an event, publish its score record on
genai.scores and move on. This stage reads those records in its own consumer group, chooses
what to judge (every flagged event, a sample of the rest, the hourly budget: see
scorers/llm_judge.py), reads the stored (already redacted) texts from ClickHouse, asks the
judge and stores each verdict as its own row. It commits a batch's offsets once its verdicts
are written, so a crash judges a batch again at worst (an event judged before is skipped).

A judge that fails (down, slow, a reply that is not the verdict asked for) costs verdicts
only: the event is logged, counted and skipped. Storage trouble is retried for a while, then
the stage stops without committing; a restart takes the batch up again.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from types import SimpleNamespace
from typing import Any, Callable, Protocol, Sequence

import tenacity
from confluent_kafka import Consumer, KafkaException, Message, Producer, TopicPartition
from pydantic import ValidationError

from evalstream.config.settings import Settings
from evalstream.contracts import ScoreRecord, describe_validation_error
from evalstream.kafka.topics import ensure_topics
from evalstream.scorers.llm_judge import JudgeInput, LLMJudge, Verdict
from evalstream.sinks.storage_errors import is_transient, refusal_reason
from evalstream.streams.otlp_scores import evaluation_request

log = logging.getLogger("evalstream.judge")

STORE_RETRY_SECONDS = 300.0  # storage trouble longer than this stops the stage (no commit)
ROUNDS_PER_BATCH = 4  # a batch holds this many rounds of `concurrency` calls


class VerdictStore(Protocol):
    def write(self, verdicts: Sequence[dict[str, Any]]) -> int: ...
    def stored_texts(self, keys: Sequence[tuple[str, Any, str]]) -> dict[str, dict[str, Any]]: ...
    def judged(self, keys: Sequence[tuple[str, Any, str]], judge_model: str) -> set[str]: ...


@dataclass
class JudgeStats:
    consumed: int = 0
    unreadable: int = 0  # not a score record
    chosen: int = 0  # flagged or sampled
    already_judged: int = 0  # a replay
    not_stored: int = 0  # no row (yet) in scored_events, or its texts expired
    not_judgeable: int = 0  # no context, or an empty response
    over_budget: int = 0
    judged: int = 0  # verdicts stored
    failed: int = 0  # the judge gave no verdict
    refused: int = 0  # verdicts ClickHouse refused
    batches: int = 0


class JudgeStage:
    """One batch of score records -> verdict rows, stored. No Kafka here."""

    def __init__(
        self, judge: LLMJudge, store: VerdictStore, *, store_retry_s: float = STORE_RETRY_SECONDS, publish: Callable[[bytes], None] | None = None
    ) -> None:
        self.judge = judge
        self.store = store
        self.store_retry_s = store_retry_s
        self.publish = publish  # verdicts of events that came from spans, back to their traces (EVALSTREAM_OTLP_SCORES_TOPIC)
        self.stats = JudgeStats()

    def process(self, values: Sequence[bytes | None]) -> list[dict[str, Any]]:
        """Judges what the batch's records call for; returns the verdict rows it stored."""
        self.stats.batches += 1
        self.stats.consumed += len(values)
        # One per event: a replayed batch of the scoring workers may publish an event's record twice.
        chosen = list({record.event_id: (record, reason) for record in self._records(values) if (reason := self._reason(record))}.values())
        self.stats.chosen += len(chosen)
        keys = [(r.tenant, r.ts, r.event_id) for r, _ in chosen]
        done = self._with_retries(self.store.judged, keys, self.judge.settings.model) if keys else set()
        self.stats.already_judged += sum(r.event_id in done for r, _ in chosen)
        chosen = [(r, reason) for r, reason in chosen if r.event_id not in done]
        texts = self._with_retries(self.store.stored_texts, [(r.tenant, r.ts, r.event_id) for r, _ in chosen]) if chosen else {}
        asked = [(record, reason, item) for record, reason in chosen if (item := self._input(record, texts))]
        results = self.judge.judge_many([item for _, _, item in asked])
        rows = [_row(record, reason, result) for (record, reason, _), result in zip(asked, results) if isinstance(result, Verdict)]
        self.stats.failed += len(asked) - len(rows)
        self._write(rows)
        if self.publish is not None:
            self._publish_to_traces(rows, texts)
        return rows

    def _publish_to_traces(self, rows: list[dict[str, Any]], texts: dict[str, dict[str, Any]]) -> None:
        """Each verdict as a gen_ai.evaluation.result event on its span, as the workers send the other scores."""
        judged = [
            SimpleNamespace(event_id=row["event_id"], tenant=row["tenant"], metadata=texts[str(row["event_id"])].get("metadata"), toxicity=None,
                            faithfulness=None, relevance=None, judge_faithfulness=row["faithfulness"], judge_reason=row["reason"])
            for row in rows
        ]
        request = evaluation_request(judged)
        if request is not None:
            self.publish(request)

    def _records(self, values: Sequence[bytes | None]) -> list[ScoreRecord]:
        records = []
        for value in values:
            try:
                records.append(ScoreRecord.from_json(value or b""))
            except ValidationError as exc:  # the drift workers see the same record: not ours to dead-letter
                self.stats.unreadable += 1
                log.warning("not a score record, skipped: %s", describe_validation_error(exc)[:300])
        return records

    def _reason(self, record: ScoreRecord) -> str | None:
        return self.judge.reason_to_judge(record.event_id, unfaithful=record.unfaithful, toxic=record.toxic, relevance=record.relevance)

    def _input(self, record: ScoreRecord, texts: dict[str, dict[str, Any]]) -> JudgeInput | None:
        stored = texts.get(record.event_id)
        if stored is None:
            self.stats.not_stored += 1
            return None
        item = JudgeInput(record.event_id, stored["prompt"], stored["context"], stored["response"])
        if not item.judgeable:
            self.stats.not_judgeable += 1
            return None
        if not self.judge.budget.take():
            self.stats.over_budget += 1
            return None
        return item

    def _write(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        try:
            self._with_retries(self.store.write, rows)
        except Exception as exc:
            if is_transient(exc):
                raise  # storage down past the retry time: stop without committing
            self.stats.refused += len(rows)
            log.error("ClickHouse refused %d verdicts, not stored: %s", len(rows), refusal_reason(exc))
            return
        self.stats.judged += len(rows)

    def _with_retries(self, call: Any, *args: Any) -> Any:
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception(is_transient),
            wait=tenacity.wait_exponential(multiplier=0.5, max=30.0),
            stop=tenacity.stop_after_delay(self.store_retry_s),
            before_sleep=lambda s: log.warning("ClickHouse not reachable (%s); retrying", type(s.outcome.exception()).__name__),
            reraise=True,
        )
        return retrying(call, *args)


def _row(record: ScoreRecord, chosen: str, verdict: Verdict) -> dict[str, Any]:
    return {
        "event_id": uuid.UUID(record.event_id), "event_ts": record.ts, "tenant": record.tenant, "app": record.app,
        "use_case": record.use_case, "model": record.model, "prompt_version": record.prompt_version, "region": record.region,
        "judge_model": verdict.model, "chosen": chosen, "faithfulness": verdict.faithfulness,
        "unsupported": verdict.unsupported, "reason": verdict.reason,
    }


class JudgeConsumer:
    """The stage on Kafka: its own consumer group on the score records; commits after storing."""

    def __init__(self, settings: Settings, stage: JudgeStage, group_id: str) -> None:
        self.stage = stage
        self.topic = settings.topics.scores
        self.batch_size = stage.judge.settings.concurrency * ROUNDS_PER_BATCH
        ensure_topics(settings.kafka, {self.topic: {}}, settings.topics.partitions)
        self.producer: Producer | None = None
        if settings.otlp.scores_topic:
            self.producer = Producer({**settings.kafka.librdkafka(), "enable.idempotence": True, "log_level": 3})
            traces_topic = settings.otlp.scores_topic
            stage.publish = lambda request: self.producer.produce(traces_topic, request)  # type: ignore[union-attr]
        worst_batch_s = ROUNDS_PER_BATCH * stage.judge.settings.worst_call_seconds() + 2 * stage.store_retry_s + 60
        self.consumer = Consumer(
            {
                **settings.kafka.librdkafka(),
                "group.id": group_id,
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
                # A batch may wait on a slow judge and on storage retries: the group must not evict us meanwhile.
                "max.poll.interval.ms": int(max(300.0, worst_batch_s) * 1000),
                "log_level": 3,
            }
        )
        self.consumer.subscribe([self.topic])

    def run(self, stop: threading.Event, *, drain: bool = False, report_every_s: float = 10.0) -> JudgeStats:
        """Until `stop` is set; with `drain`, until the records there at the time are all judged."""
        last_report = time.monotonic()
        try:
            while not stop.is_set():
                messages = [m for m in self.consumer.consume(self.batch_size, timeout=1.0) if self._readable(m)]
                if messages:
                    self.stage.process([m.value() for m in messages])
                    self._flush_traces()
                    self._commit(messages)
                elif drain and self._caught_up():
                    break
                if time.monotonic() - last_report > report_every_s:
                    last_report = time.monotonic()
                    log.info("judge: %s", asdict(self.stage.stats))
        finally:
            log.info("judge: %s", asdict(self.stage.stats))
            self.consumer.close()
        return self.stage.stats

    def _flush_traces(self) -> None:
        """Best effort: the verdicts are stored; a tracing backend that misses some is not worth holding them back."""
        if self.producer is not None and (left := self.producer.flush(30)) > 0:
            log.warning("%d evaluation events for the traces not delivered within 30 s", left)

    @staticmethod
    def _readable(message: Message) -> bool:
        if message.error():
            log.warning("consumer: %s", message.error())
            return False
        return True

    def _commit(self, messages: list[Message]) -> None:
        ends: dict[tuple[str, int], int] = {}
        for m in messages:
            ends[(m.topic(), m.partition())] = max(ends.get((m.topic(), m.partition()), 0), m.offset() + 1)
        try:
            self.consumer.commit(offsets=[TopicPartition(t, p, o) for (t, p), o in ends.items()], asynchronous=False)
        except KafkaException as exc:  # revoked meanwhile: the new owner reads them again and skips what is judged
            log.warning("could not commit the judged offsets: %s", exc)

    def _caught_up(self) -> bool:
        assignment = self.consumer.assignment()
        if not assignment:
            return False
        committed = {(tp.topic, tp.partition): tp.offset for tp in self.consumer.committed(assignment, timeout=10)}
        for tp in self.consumer.position(assignment):
            low, high = self.consumer.get_watermark_offsets(tp, timeout=10)
            at = tp.offset if tp.offset >= 0 else committed.get((tp.topic, tp.partition), -1)
            if max(at, low) < high:
                return False
        return True
