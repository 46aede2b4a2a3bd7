"""The flow: Kafka -> validate -> redact -> batch -> scorers -> ClickHouse, and the CLI that runs it."""
