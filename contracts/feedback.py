"""The feedback contract (genai.feedback -> the `feedback` table, migration 004).

The model is the producer's own (producer/feedback.py: the thin client stays self-contained),
re-exported unchanged, as the event is. Each feedback becomes one table row per label it gives:

| label       | value (1 = yes)          | what it is compared with                      |
|-------------|--------------------------|-----------------------------------------------|
| thumbs_up   | 1 up, 0 down             | (overall satisfaction; no scorer)             |
| toxic       | 1 toxic                  | toxicity score / `toxic` flag                 |
| faithful    | 1 faithful               | faithfulness score / `unfaithful` flag        |
| relevant    | 1 relevant               | relevance score                               |
| correction  | 1, the text in `comment` | (what the response should have said)          |
"""

from evalstream.producer.feedback import FEEDBACK_SCHEMA_VERSION, Feedback, feedback_key

FEEDBACK_LABELS = ("thumbs_up", "toxic", "faithful", "relevant", "correction")

__all__ = ["FEEDBACK_LABELS", "FEEDBACK_SCHEMA_VERSION", "Feedback", "feedback_key"]
