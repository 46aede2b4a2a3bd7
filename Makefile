# The two commands of the README. Both set up what they need first (idempotent, cached).
.PHONY: setup demo test

setup:
	@scripts/setup.sh

demo: setup
	@scripts/demo.sh

test: setup
	@.venv/bin/python -m pytest
