#!/usr/bin/env bash
# Sets up everything evalstream needs on a fresh machine, idempotently:
# a virtual environment with the locked packages, evalstream itself, and the Kafka broker jars.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${EVALSTREAM_VENV:-.venv}"
python="${PYTHON:-python3.11}"
command -v "$python" >/dev/null || python=python3

if [ ! -x "$venv/bin/python" ]; then
  echo "creating the virtual environment $venv" >&2
  "$python" -m venv "$venv"
fi
lock_hash=$(sha256sum requirements.lock | cut -c1-16)
if [ "$(cat "$venv/.lock-hash" 2>/dev/null)" != "$lock_hash" ]; then
  echo "installing the locked packages (the first time takes minutes: torch is large)" >&2
  "$venv/bin/pip" install --quiet --upgrade pip
  "$venv/bin/pip" install --quiet -r requirements.lock
  echo "$lock_hash" > "$venv/.lock-hash"
fi
# evalstream itself, editable: the venv runs this checkout's code; reinstalled when its packaging changes.
project_hash=$(cat pyproject.toml producer/pyproject.toml | sha256sum | cut -c1-16)
if [ "$(cat "$venv/.project-hash" 2>/dev/null)" != "$project_hash" ]; then
  "$venv/bin/pip" install --no-deps --no-build-isolation -e ./producer -e . > "$venv/install.log" 2>&1 \
    || { cat "$venv/install.log" >&2; exit 1; }
  echo "$project_hash" > "$venv/.project-hash"
fi
infra/kafka/fetch.sh > /dev/null
# Optional, for the report's browser tests only (tests/test_report.py skips without it): Chromium from
# the system's packages, where we are root with apt. About 350 MB and minutes the first time;
# EVALSTREAM_SKIP_CHROMIUM=1 leaves it out.
if [ -z "${EVALSTREAM_SKIP_CHROMIUM:-}" ] && ! command -v chromium >/dev/null && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  echo "installing chromium for the report's browser tests (EVALSTREAM_SKIP_CHROMIUM=1 to skip)" >&2
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >/dev/null 2>&1 \
    || echo "could not install chromium: the report's browser tests will be skipped" >&2
fi
