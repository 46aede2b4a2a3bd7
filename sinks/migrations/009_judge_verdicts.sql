-- The LLM judge's verdicts, as their own rows: the judge stage (`evalstream judge`) writes them
-- after the event was scored and stored, off the ingest path. Joined to scored_events on
-- (tenant, event_id); event_ts lets a join read only the hours of scored_events it needs.
-- `chosen` says why it was judged: 'flagged' (the cheap scorers flagged it) or 'sampled' (a
-- random share of the rest, the only unbiased estimate of the judge's view of all events).
-- A replay of the score records may judge an event again: ReplacingMergeTree keeps the latest
-- `judged_at` after merges; readers take argMax(..., judged_at) grouped by (tenant, event_id).
-- The judge's texts quote the answer: they expire with the event's texts (migration 001).
-- Rows scored before this migration keep their verdicts in scored_events.judge_* (migration 006).
CREATE TABLE IF NOT EXISTS judge_verdicts
(
    event_id        UUID,
    event_ts        DateTime64(3, 'UTC'),
    tenant          LowCardinality(String),
    app             LowCardinality(String),
    use_case        LowCardinality(String),
    model           LowCardinality(String),
    prompt_version  LowCardinality(String),
    region          LowCardinality(String),
    judge_model     LowCardinality(String),
    chosen          LowCardinality(String),
    faithfulness    Float32,
    unsupported     Array(String) CODEC(ZSTD(3)) TTL toDateTime(event_ts) + INTERVAL 90 DAY,
    reason          String CODEC(ZSTD(3)) TTL toDateTime(event_ts) + INTERVAL 90 DAY,
    judged_at       DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(judged_at)
PARTITION BY toYYYYMM(event_ts)
ORDER BY (tenant, toStartOfHour(event_ts), event_id, judge_model);
