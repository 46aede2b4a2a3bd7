-- The scorers' flags, beside their calibrated scores: `refusal` (the model declined or deflected;
-- the relevance scorer sets it on every scored event) and `unfaithful` (faithfulness below the
-- use case's threshold; NULL when the event had no context to be faithful to).
ALTER TABLE scored_events
    ADD COLUMN IF NOT EXISTS refusal UInt8 AFTER relevance,
    ADD COLUMN IF NOT EXISTS unfaithful Nullable(UInt8) AFTER faithfulness;

-- Flag rollups, kept in their own tables: the views of 003 cannot gain columns without being
-- replaced (migrations are append-only), and a second view writing into the same target would
-- share its deduplication window. Same keys and bucket as scored_events_1m / _1h; `events`
-- counts the events stored since this migration, so a rate read here is a rate over events that
-- were scored with the flags. No backfill: rows stored before it carry no flags, and counting
-- them as "not refused" would dilute the rates.
CREATE TABLE IF NOT EXISTS scored_flags_1m
(
    bucket                  DateTime('UTC'),
    tenant                  LowCardinality(String),
    app                     LowCardinality(String),
    use_case                LowCardinality(String),
    model                   LowCardinality(String),
    provider                LowCardinality(String),
    prompt_version          LowCardinality(String),
    region                  LowCardinality(String),
    environment             LowCardinality(String),
    events                  AggregateFunction(count),
    refusal_events          AggregateFunction(sum, UInt8),
    -- unfaithful is NULL for events without context: count/sum skip NULLs.
    unfaithful_scored       AggregateFunction(count, Nullable(UInt8)),
    unfaithful_events       AggregateFunction(sum, Nullable(UInt8))
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(bucket)
ORDER BY (tenant, bucket, app, model, prompt_version, region, use_case, provider, environment)
TTL bucket + INTERVAL 35 DAY
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS scored_flags_1h AS scored_flags_1m
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(bucket)
ORDER BY (tenant, bucket, app, model, prompt_version, region, use_case, provider, environment)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS scored_flags_1m_mv TO scored_flags_1m AS
SELECT
    toStartOfMinute(toDateTime(ts)) AS bucket,
    tenant, app, use_case, model, provider, prompt_version, region, environment,
    countState() AS events,
    sumState(refusal) AS refusal_events,
    countState(unfaithful) AS unfaithful_scored,
    sumState(unfaithful) AS unfaithful_events
FROM scored_events
GROUP BY bucket, tenant, app, use_case, model, provider, prompt_version, region, environment;

CREATE MATERIALIZED VIEW IF NOT EXISTS scored_flags_1h_mv TO scored_flags_1h AS
SELECT
    toStartOfHour(toDateTime(ts)) AS bucket,
    tenant, app, use_case, model, provider, prompt_version, region, environment,
    countState() AS events,
    sumState(refusal) AS refusal_events,
    countState(unfaithful) AS unfaithful_scored,
    sumState(unfaithful) AS unfaithful_events
FROM scored_events
GROUP BY bucket, tenant, app, use_case, model, provider, prompt_version, region, environment;
