-- How many findings redaction replaced in the event, per entity type (EMAIL_ADDRESS, PHONE_NUMBER,
-- API_KEY, ...), over prompt, response, context and metadata: what was removed, never the values.
-- Empty for events stored before redaction counted, or with redaction off.
ALTER TABLE scored_events
    ADD COLUMN IF NOT EXISTS redactions Map(LowCardinality(String), UInt32) AFTER metadata;
