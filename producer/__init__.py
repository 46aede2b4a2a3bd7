"""The thin client a service embeds, and the event contract it publishes.

Installs alone with confluent-kafka and pydantic; imports nothing else of evalstream.
"""

from evalstream.producer.contract import SCHEMA_VERSION, GenAIEvent, TokenUsage, event_key
from evalstream.producer.client import EventProducer, ProducerStats
from evalstream.producer.feedback import Feedback

__all__ = ["SCHEMA_VERSION", "GenAIEvent", "TokenUsage", "event_key", "EventProducer", "ProducerStats", "Feedback"]
