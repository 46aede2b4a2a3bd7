#!/usr/bin/env bash
# Stops a broker started by start.sh, by its PID, and removes its data.
# Usage: infra/kafka/stop.sh PORT | --all
#        infra/kafka/stop.sh --keep PORT   (stops it, keeps its configuration and log dir for `start.sh --resume PORT`)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
runs="${EVALSTREAM_KAFKA_RUN_DIR:-$here/.run}"
keep=false
if [ "${1:-}" = "--keep" ]; then keep=true; shift; fi
[ $# -eq 1 ] || { echo "usage: $0 [--keep] PORT | --all" >&2; exit 2; }
if [ "$1" = "--all" ]; then dirs=("$runs"/*/); else dirs=("$runs/${1##*:}/"); fi
for dir in "${dirs[@]}"; do
  if [ ! -f "$dir/broker.pid" ]; then  # a broker stopped with --keep: only its data is left
    [ "$keep" = true ] || [ ! -d "$dir" ] || { rm -rf "$dir"; echo "removed the data of the stopped broker in $dir" >&2; }
    continue
  fi
  pid=$(cat "$dir/broker.pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 80); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  fi
  if [ "$keep" = true ]; then
    rm -f "$dir/broker.pid"
    echo "stopped the broker in $dir (pid $pid); its data is kept" >&2
  else
    rm -rf "$dir"
    echo "stopped the broker in $dir (pid $pid)" >&2
  fi
done
