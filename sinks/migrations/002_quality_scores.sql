-- Quality scores, each beside the name and version of the scorer in `scorers`.
ALTER TABLE scored_events
    ADD COLUMN IF NOT EXISTS toxicity Float32 AFTER cost_unknown_model,
    ADD COLUMN IF NOT EXISTS toxic UInt8 AFTER toxicity,
    ADD COLUMN IF NOT EXISTS toxicity_labels Map(LowCardinality(String), Float32) AFTER toxic,
    ADD COLUMN IF NOT EXISTS toxicity_model LowCardinality(String) AFTER toxicity_labels,
    ADD COLUMN IF NOT EXISTS prompt_toxicity Float32 AFTER toxicity_model,
    ADD COLUMN IF NOT EXISTS prompt_toxicity_labels Map(LowCardinality(String), Float32) AFTER prompt_toxicity,
    -- NULL when the event had no context to be faithful to.
    ADD COLUMN IF NOT EXISTS faithfulness Nullable(Float32) AFTER prompt_toxicity_labels,
    ADD COLUMN IF NOT EXISTS unsupported_sentences Array(String) CODEC(ZSTD(3)) TTL toDateTime(ts) + INTERVAL 90 DAY AFTER faithfulness,
    ADD COLUMN IF NOT EXISTS relevance Float32 AFTER unsupported_sentences;
