-- One wide, immutable row per scored event.
-- Sort key: tenant and a coarse time bucket first, so boards filtered by tenant and time read
-- few granules. Text bodies are compressed hard and expire by TTL; the scores stay.
CREATE TABLE IF NOT EXISTS scored_events
(
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
    prompt              String CODEC(ZSTD(3)) TTL toDateTime(ts) + INTERVAL 90 DAY,
    context             Array(String) CODEC(ZSTD(3)) TTL toDateTime(ts) + INTERVAL 90 DAY,
    response            String CODEC(ZSTD(3)) TTL toDateTime(ts) + INTERVAL 90 DAY,
    has_context         UInt8,
    metadata            String CODEC(ZSTD(3)),
    latency_ms          Nullable(Float32),
    finish_reason       LowCardinality(String),
    error_type          LowCardinality(String),
    input_tokens        UInt32,
    output_tokens       UInt32,
    cached_input_tokens UInt32,
    reasoning_tokens    UInt32,
    tokens_estimated    UInt8,
    -- NULL means "model not in the price table", which must never read as free.
    cost_usd            Nullable(Decimal(20, 12)),
    cost_unknown_model  UInt8,
    scorers             Map(LowCardinality(String), String),
    -- Where the row came from: lets a restarted worker skip what it already stored.
    source_topic        LowCardinality(String),
    source_partition    UInt16,
    source_offset       UInt64,
    ingested_at         DateTime64(3, 'UTC') DEFAULT now64(3),
    INDEX source_offset_range source_offset TYPE minmax GRANULARITY 1,
    PROJECTION source_high_water
    (
        SELECT source_topic, source_partition, max(source_offset), count()
        GROUP BY source_topic, source_partition
    )
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (tenant, toStartOfHour(ts), app, model, event_id)
SETTINGS non_replicated_deduplication_window = 10000;
