"""The default Kafka topic names; the settings (EVALSTREAM_*_TOPIC) may rename each one."""

EVENTS_TOPIC = "genai.events"  # GenAIEvent, keyed by partition_key(tenant, app)
DLQ_TOPIC = "genai.events.dlq"  # events that failed validation or scoring, with the reason
SCORES_TOPIC = "genai.scores"  # ScoreRecord, one per stored event, keyed like the events
ALERTS_TOPIC = "genai.alerts"  # Alert, keyed by its fingerprint
FEEDBACK_TOPIC = "genai.feedback"  # Feedback (human labels on an event), keyed by partition_key(tenant, app)


def alerts_dlq_topic(alerts_topic: str) -> str:
    """Where the notifiers put the alerts they could not deliver."""
    return f"{alerts_topic}.dlq"
