-- Human labels on scored events ("was this response toxic?", "faithful?", thumbs up/down).
-- Joined to scored_events on (tenant, event_id); event_ts lets a join read only the time range
-- of scored_events it needs (its sort key starts with tenant and the hour).
-- A relabel by the same annotator replaces the earlier label: ReplacingMergeTree keeps the
-- latest `ts` after merges; readers take argMax(value, ts) so they need not wait for a merge.
-- Partitioned by event time, which never changes for an event, so a relabel months later still
-- lands in the partition of the label it replaces.
CREATE TABLE IF NOT EXISTS feedback
(
    event_id    UUID,
    event_ts    DateTime64(3, 'UTC'),
    ts          DateTime64(3, 'UTC') DEFAULT now64(3),
    tenant      LowCardinality(String),
    app         LowCardinality(String),
    label       LowCardinality(String),
    value       Float32,
    annotator   LowCardinality(String),
    comment     String CODEC(ZSTD(3))
)
ENGINE = ReplacingMergeTree(ts)
PARTITION BY toYYYYMM(event_ts)
ORDER BY (tenant, app, event_id, label, annotator);
