# The two commands of the README. Both set up what they need first (idempotent, cached).
# demo runs the lean default (the CPU path, no torch); test also installs the torch extra, so the
# tests of the GPU path, the Detoxify tier, the NLI cross-encoder and the training scripts run (CI),
# and Chromium for the report's browser tests.
.PHONY: setup setup-torch setup-tests demo test

setup:
	@scripts/setup.sh

setup-torch:
	@scripts/setup.sh --with-torch

setup-tests:
	@scripts/setup.sh --for-tests

demo: setup
	@scripts/demo.sh

test: setup-tests
	@.venv/bin/python -m pytest
