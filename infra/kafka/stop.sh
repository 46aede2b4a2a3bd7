#!/usr/bin/env bash
# Stops a broker started by start.sh, by its PID, and removes its data.
# Usage: infra/kafka/stop.sh PORT | --all
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
runs="${EVALSTREAM_KAFKA_RUN_DIR:-$here/.run}"
[ $# -eq 1 ] || { echo "usage: $0 PORT | --all" >&2; exit 2; }
if [ "$1" = "--all" ]; then dirs=("$runs"/*/); else dirs=("$runs/${1##*:}/"); fi
for dir in "${dirs[@]}"; do
  [ -f "$dir/broker.pid" ] || continue
  pid=$(cat "$dir/broker.pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 80); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  fi
  rm -rf "$dir"
  echo "stopped the broker in $dir (pid $pid)" >&2
done
