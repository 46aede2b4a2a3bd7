"""Every shape that crosses a hop of the flow, in one place; no stage defines its own copy.

producer -> genai.events: GenAIEvent (the producer's own contract, re-exported unchanged)
streams  -> ClickHouse:   StoredRow (sinks/ maps it to the scored_events columns)
streams  -> genai.scores: ScoreRecord -> drift
drift    -> genai.alerts: Alert -> notifiers, and the alerts table
people   -> genai.feedback: Feedback (the producer's own contract, re-exported) -> the feedback table
"""

from evalstream.contracts.alert import SCHEMA_VERSION as ALERT_SCHEMA_VERSION
from evalstream.contracts.alert import SEVERITY_RANK, Alert, AlertState, Severity, alert_id, fingerprint
from evalstream.contracts.errors import describe_validation_error
from evalstream.contracts.feedback import FEEDBACK_LABELS, FEEDBACK_SCHEMA_VERSION, Feedback
from evalstream.contracts.keys import DriftKey, partition_key
from evalstream.contracts.row import REQUIRED_FIELDS, ROW_FIELDS, SCORE_FIELDS, StoredRow
from evalstream.contracts.score_record import SCHEMA_VERSION as SCORE_RECORD_SCHEMA_VERSION
from evalstream.contracts.score_record import ScoreRecord
from evalstream.contracts.topics import ALERTS_TOPIC, DLQ_TOPIC, EVENTS_TOPIC, FEEDBACK_TOPIC, SCORES_TOPIC, alerts_dlq_topic
from evalstream.producer.contract import SCHEMA_VERSION as EVENT_SCHEMA_VERSION
from evalstream.producer.contract import GenAIEvent, TokenUsage, event_key

__all__ = [
    "ALERTS_TOPIC", "ALERT_SCHEMA_VERSION", "Alert", "AlertState", "DLQ_TOPIC", "DriftKey", "EVENTS_TOPIC",
    "EVENT_SCHEMA_VERSION", "FEEDBACK_LABELS", "FEEDBACK_SCHEMA_VERSION", "FEEDBACK_TOPIC", "Feedback", "GenAIEvent", "REQUIRED_FIELDS", "ROW_FIELDS", "SCORES_TOPIC", "SCORE_FIELDS",
    "SCORE_RECORD_SCHEMA_VERSION", "SEVERITY_RANK", "ScoreRecord", "Severity", "StoredRow", "TokenUsage", "alert_id",
    "alerts_dlq_topic", "describe_validation_error", "event_key", "fingerprint", "partition_key",
]
