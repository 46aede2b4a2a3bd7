#!/usr/bin/env bash
# The main job on the embedded defaults: a local Kafka broker, the workers, chdb; stops what it started.
set -euo pipefail
cd "$(dirname "$0")/.."
bootstrap=$(infra/kafka/start.sh | tail -1)
trap 'infra/kafka/stop.sh "$bootstrap"' EXIT
# The demo stores in .data/demo-chdb (its own directory, emptied on each run), never in EVALSTREAM_CLICKHOUSE.
.venv/bin/evalstream demo --bootstrap "$bootstrap" "$@"
