"""A seeded generator of realistic GenAI events, and the sample workload it produced (sample_events.jsonl.gz)."""
