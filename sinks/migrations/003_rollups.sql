-- Rollups, so boards and alert rules never scan raw rows for long ranges.
--
-- scored_events_1m / scored_events_1h: one row per minute / hour and key, holding -State
-- aggregates that queries finish with -Merge (countMerge(events), avgMerge(faithfulness_avg)...).
-- ingest_1m: what the sink stored per minute of storing, per source partition (freshness).
--
-- Materialized views only see rows inserted after they exist, so each view is followed at once
-- by the backfill of the rows already stored. Run `evalstream migrate` before starting writers
-- (infra/compose.yaml does): a row inserted between a view's creation and its backfill's read
-- would be counted twice.
--
-- The targets keep a deduplication window like scored_events: a retried insert that
-- scored_events drops by its deduplication token is then dropped here too, instead of being
-- counted again (ClickHouse deduplicates a view's blocks only where its target deduplicates).

CREATE TABLE IF NOT EXISTS scored_events_1m
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
    toxic_events            AggregateFunction(sum, UInt8),
    toxicity_avg            AggregateFunction(avg, Float32),
    toxicity_quantiles      AggregateFunction(quantiles(0.5, 0.95, 0.99), Float32),
    -- faithfulness is NULL for events without context: these states skip NULLs.
    faithfulness_scored     AggregateFunction(count, Nullable(Float32)),
    faithfulness_avg        AggregateFunction(avg, Nullable(Float32)),
    faithfulness_quantiles  AggregateFunction(quantiles(0.1, 0.5), Nullable(Float32)),
    relevance_avg           AggregateFunction(avg, Float32),
    latency_avg             AggregateFunction(avg, Nullable(Float32)),
    latency_quantiles       AggregateFunction(quantiles(0.5, 0.95, 0.99), Nullable(Float32)),
    -- Exact money; events of a model missing from the price table add nothing here and are
    -- counted in unknown_cost_events, so a total is never read as complete when it is not.
    cost_usd                AggregateFunction(sum, Nullable(Decimal(20, 12))),
    unknown_cost_events     AggregateFunction(countIf, UInt8),
    error_events            AggregateFunction(countIf, UInt8),
    input_tokens            AggregateFunction(sum, UInt32),
    output_tokens           AggregateFunction(sum, UInt32)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(bucket)
ORDER BY (tenant, bucket, app, model, prompt_version, region, use_case, provider, environment)
TTL bucket + INTERVAL 35 DAY
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS scored_events_1h AS scored_events_1m
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(bucket)
ORDER BY (tenant, bucket, app, model, prompt_version, region, use_case, provider, environment)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS scored_events_1m_mv TO scored_events_1m AS
SELECT
    toStartOfMinute(toDateTime(ts)) AS bucket,
    tenant, app, use_case, model, provider, prompt_version, region, environment,
    countState() AS events,
    sumState(toxic) AS toxic_events,
    avgState(toxicity) AS toxicity_avg,
    quantilesState(0.5, 0.95, 0.99)(toxicity) AS toxicity_quantiles,
    countState(faithfulness) AS faithfulness_scored,
    avgState(faithfulness) AS faithfulness_avg,
    quantilesState(0.1, 0.5)(faithfulness) AS faithfulness_quantiles,
    avgState(relevance) AS relevance_avg,
    avgState(latency_ms) AS latency_avg,
    quantilesState(0.5, 0.95, 0.99)(latency_ms) AS latency_quantiles,
    sumState(cost_usd) AS cost_usd,
    countIfState(cost_unknown_model = 1) AS unknown_cost_events,
    countIfState(error_type != '') AS error_events,
    sumState(input_tokens) AS input_tokens,
    sumState(output_tokens) AS output_tokens
FROM scored_events
GROUP BY bucket, tenant, app, use_case, model, provider, prompt_version, region, environment;

INSERT INTO scored_events_1m
SELECT
    toStartOfMinute(toDateTime(ts)) AS bucket,
    tenant, app, use_case, model, provider, prompt_version, region, environment,
    countState() AS events,
    sumState(toxic) AS toxic_events,
    avgState(toxicity) AS toxicity_avg,
    quantilesState(0.5, 0.95, 0.99)(toxicity) AS toxicity_quantiles,
    countState(faithfulness) AS faithfulness_scored,
    avgState(faithfulness) AS faithfulness_avg,
    quantilesState(0.1, 0.5)(faithfulness) AS faithfulness_quantiles,
    avgState(relevance) AS relevance_avg,
    avgState(latency_ms) AS latency_avg,
    quantilesState(0.5, 0.95, 0.99)(latency_ms) AS latency_quantiles,
    sumState(cost_usd) AS cost_usd,
    countIfState(cost_unknown_model = 1) AS unknown_cost_events,
    countIfState(error_type != '') AS error_events,
    sumState(input_tokens) AS input_tokens,
    sumState(output_tokens) AS output_tokens
FROM scored_events
WHERE ts >= now() - INTERVAL 35 DAY
GROUP BY bucket, tenant, app, use_case, model, provider, prompt_version, region, environment;

CREATE MATERIALIZED VIEW IF NOT EXISTS scored_events_1h_mv TO scored_events_1h AS
SELECT
    toStartOfHour(toDateTime(ts)) AS bucket,
    tenant, app, use_case, model, provider, prompt_version, region, environment,
    countState() AS events,
    sumState(toxic) AS toxic_events,
    avgState(toxicity) AS toxicity_avg,
    quantilesState(0.5, 0.95, 0.99)(toxicity) AS toxicity_quantiles,
    countState(faithfulness) AS faithfulness_scored,
    avgState(faithfulness) AS faithfulness_avg,
    quantilesState(0.1, 0.5)(faithfulness) AS faithfulness_quantiles,
    avgState(relevance) AS relevance_avg,
    avgState(latency_ms) AS latency_avg,
    quantilesState(0.5, 0.95, 0.99)(latency_ms) AS latency_quantiles,
    sumState(cost_usd) AS cost_usd,
    countIfState(cost_unknown_model = 1) AS unknown_cost_events,
    countIfState(error_type != '') AS error_events,
    sumState(input_tokens) AS input_tokens,
    sumState(output_tokens) AS output_tokens
FROM scored_events
GROUP BY bucket, tenant, app, use_case, model, provider, prompt_version, region, environment;

INSERT INTO scored_events_1h
SELECT
    toStartOfHour(toDateTime(ts)) AS bucket,
    tenant, app, use_case, model, provider, prompt_version, region, environment,
    countState() AS events,
    sumState(toxic) AS toxic_events,
    avgState(toxicity) AS toxicity_avg,
    quantilesState(0.5, 0.95, 0.99)(toxicity) AS toxicity_quantiles,
    countState(faithfulness) AS faithfulness_scored,
    avgState(faithfulness) AS faithfulness_avg,
    quantilesState(0.1, 0.5)(faithfulness) AS faithfulness_quantiles,
    avgState(relevance) AS relevance_avg,
    avgState(latency_ms) AS latency_avg,
    quantilesState(0.5, 0.95, 0.99)(latency_ms) AS latency_quantiles,
    sumState(cost_usd) AS cost_usd,
    countIfState(cost_unknown_model = 1) AS unknown_cost_events,
    countIfState(error_type != '') AS error_events,
    sumState(input_tokens) AS input_tokens,
    sumState(output_tokens) AS output_tokens
FROM scored_events
GROUP BY bucket, tenant, app, use_case, model, provider, prompt_version, region, environment;

-- Freshness keyed by the minute a row was stored, not by its event time: a backlog stored late
-- shows up now, where the freshness alert looks, rather than in the minutes it belongs to.
CREATE TABLE IF NOT EXISTS ingest_1m
(
    bucket                  DateTime('UTC'),
    source_topic            LowCardinality(String),
    source_partition        UInt16,
    rows                    AggregateFunction(count),
    freshness_ms_quantiles  AggregateFunction(quantiles(0.5, 0.9, 0.99), Int64),
    freshness_ms_max        AggregateFunction(max, Int64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(bucket)
ORDER BY (bucket, source_topic, source_partition)
TTL bucket + INTERVAL 35 DAY
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS ingest_1m_mv TO ingest_1m AS
SELECT
    toStartOfMinute(toDateTime(ingested_at)) AS bucket,
    source_topic,
    source_partition,
    countState() AS rows,
    quantilesState(0.5, 0.9, 0.99)(dateDiff('millisecond', ts, ingested_at)) AS freshness_ms_quantiles,
    maxState(dateDiff('millisecond', ts, ingested_at)) AS freshness_ms_max
FROM scored_events
GROUP BY bucket, source_topic, source_partition;

INSERT INTO ingest_1m
SELECT
    toStartOfMinute(toDateTime(ingested_at)) AS bucket,
    source_topic,
    source_partition,
    countState() AS rows,
    quantilesState(0.5, 0.9, 0.99)(dateDiff('millisecond', ts, ingested_at)) AS freshness_ms_quantiles,
    maxState(dateDiff('millisecond', ts, ingested_at)) AS freshness_ms_max
FROM scored_events
WHERE ingested_at >= now() - INTERVAL 35 DAY
GROUP BY bucket, source_topic, source_partition;
