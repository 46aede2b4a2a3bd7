#!/usr/bin/env bash
# Sets up everything evalstream needs on a fresh machine, idempotently:
# a virtual environment with the locked packages, evalstream itself, and the Kafka broker jars.
#   scripts/setup.sh               the lean default: the CPU path (onnxruntime int8), no torch
#   scripts/setup.sh --with-torch  also the torch extra (requirements-torch.lock): the GPU path, the
#                                  Detoxify tier, the NLI cross-encoder, the training scripts
#   scripts/setup.sh --for-tests   the torch extra and Chromium for the report's browser tests (make test)
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${EVALSTREAM_VENV:-.venv}"
python="${PYTHON:-python3.11}"
command -v "$python" >/dev/null || python=python3
with_torch="${EVALSTREAM_WITH_TORCH:-}"
for_tests=""
case "${1:-}" in
  --with-torch) with_torch=1 ;;
  --for-tests) with_torch=1; for_tests=1 ;;
esac

if [ ! -x "$venv/bin/python" ]; then
  echo "creating the virtual environment $venv" >&2
  "$python" -m venv "$venv"
fi
# Each lock is installed when its hash differs from the one recorded in the venv. The torch lock holds
# only what the extra adds; it is installed together with the default lock so one resolve sees both.
install_locks() {  # hash-file lock...
  local hash_file="$venv/$1"; shift
  local hash; hash=$(cat "$@" | sha256sum | cut -c1-16)
  [ "$(cat "$hash_file" 2>/dev/null)" = "$hash" ] && return 0
  echo "installing the locked packages of $*" >&2
  "$venv/bin/pip" install --quiet --upgrade pip
  # --no-compile: Python compiles what it imports when it first imports it; compiling every module of
  # every package up front took half of a fresh lean set-up (144 s -> 68 s on 2 cores) and 270 MB.
  "$venv/bin/pip" install --quiet --no-compile $(printf -- '-r %s ' "$@")
  echo "$hash" > "$hash_file"
}
install_locks .lock-hash requirements.lock
if [ -n "$with_torch" ]; then
  install_locks .torch-lock-hash requirements.lock requirements-torch.lock
fi
# evalstream itself, editable: the venv runs this checkout's code; reinstalled when its packaging changes.
project_hash=$(cat pyproject.toml producer/pyproject.toml | sha256sum | cut -c1-16)
if [ "$(cat "$venv/.project-hash" 2>/dev/null)" != "$project_hash" ]; then
  "$venv/bin/pip" install --no-deps --no-build-isolation -e ./producer -e . > "$venv/install.log" 2>&1 \
    || { cat "$venv/install.log" >&2; exit 1; }
  echo "$project_hash" > "$venv/.project-hash"
fi
infra/kafka/fetch.sh > /dev/null
# For the tests only (the report's browser tests; they skip without it): Chromium from the system's
# packages, where we are root with apt. About 350 MB and minutes the first time;
# EVALSTREAM_SKIP_CHROMIUM=1 leaves it out.
if [ -n "$for_tests" ] && [ -z "${EVALSTREAM_SKIP_CHROMIUM:-}" ] && ! command -v chromium >/dev/null && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  echo "installing chromium for the report's browser tests (EVALSTREAM_SKIP_CHROMIUM=1 to skip)" >&2
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >/dev/null 2>&1 \
    || echo "could not install chromium: the report's browser tests will be skipped" >&2
fi
