"""A seeded generator of realistic GenAI events, the sample workload it produced (sample_events.jsonl.gz),
and that workload's truth: what the generator did to each event (sample_truth.jsonl.gz)."""
