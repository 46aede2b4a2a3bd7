-- The LLM judge's verdicts, for the sample of events it judged (NULL: not judged).
ALTER TABLE scored_events
    ADD COLUMN IF NOT EXISTS judge_faithfulness Nullable(Float32) AFTER relevance,
    ADD COLUMN IF NOT EXISTS judge_unsupported Array(String) CODEC(ZSTD(3)) AFTER judge_faithfulness,
    ADD COLUMN IF NOT EXISTS judge_reason String CODEC(ZSTD(3)) AFTER judge_unsupported,
    ADD COLUMN IF NOT EXISTS judge_model LowCardinality(String) AFTER judge_reason;
