-- Replays (`evalstream replay`): a time range re-scored with the scorers as configured now (a new
-- model, threshold or policy), stored beside the originals in scored_events, never over them.
--
-- replayed_scores: one row per event and replay, with the scores and the scorer versions that
-- produced them, and the event's keys (so a comparison groups without reading the text). No text
-- bodies: the originals keep them under their TTL. No judge verdicts: the judge stage writes
-- judge_verdicts, off the ingest path. Plain MergeTree: the replay writes an event
-- once (it skips event ids this replay already stored), so count() is the number of events.
CREATE TABLE IF NOT EXISTS replayed_scores
(
    replay_id           LowCardinality(String),
    event_id            UUID,
    ts                  DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    tenant              LowCardinality(String),
    app                 LowCardinality(String),
    environment         LowCardinality(String),
    region              LowCardinality(String),
    use_case            LowCardinality(String),
    provider            LowCardinality(String),
    model               LowCardinality(String),
    prompt_id           LowCardinality(String),
    prompt_version      LowCardinality(String),
    input_tokens        UInt32,
    output_tokens       UInt32,
    cached_input_tokens UInt32,
    reasoning_tokens    UInt32,
    tokens_estimated    UInt8,
    cost_usd            Nullable(Decimal(20, 12)),
    cost_unknown_model  UInt8,
    toxicity            Float32,
    toxic               UInt8,
    toxicity_labels     Map(LowCardinality(String), Float32),
    toxicity_model      LowCardinality(String),
    prompt_toxicity     Float32,
    prompt_toxicity_labels Map(LowCardinality(String), Float32),
    faithfulness        Nullable(Float32),
    unfaithful          Nullable(UInt8),
    unsupported_sentences Array(String) CODEC(ZSTD(3)) TTL toDateTime(ts) + INTERVAL 90 DAY,
    relevance           Float32,
    refusal             UInt8,
    scorers             Map(LowCardinality(String), String),
    -- where the replay read the event: the Kafka record, or (stored rows) the original row's source
    source_topic        LowCardinality(String),
    source_partition    UInt16,
    source_offset       UInt64,
    replayed_at         DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (tenant, replay_id, event_id)
SETTINGS non_replicated_deduplication_window = 10000;

-- replays: each replay's request and how far it got, one row per update (the highest seq is the
-- current one). A stopped replay resumes from here: its Kafka consumer group's offsets, or for
-- the stored-rows source the (ts, event_id) cursor of the last stored batch. `thresholds` is the
-- policy's flag thresholds per use case (JSON), which no scorer version names.
CREATE TABLE IF NOT EXISTS replays
(
    replay_id       String,
    seq             UInt64,
    updated_at      DateTime64(3, 'UTC') DEFAULT now64(3),
    created_at      DateTime64(3, 'UTC'),
    from_ts         DateTime64(3, 'UTC'),
    to_ts           DateTime64(3, 'UTC'),
    tenant          String,
    source          LowCardinality(String),
    scorers         Map(LowCardinality(String), String),
    policy          String,
    thresholds      String,
    state           LowCardinality(String),
    cursor_ts       DateTime64(3, 'UTC'),
    cursor_event_id UUID,
    events          UInt64,
    skipped         UInt64
)
ENGINE = ReplacingMergeTree(seq)
ORDER BY replay_id;
