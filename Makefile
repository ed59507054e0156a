# The README's two commands. Both set everything up first (idempotent: seconds when nothing changed).
.PHONY: setup demo demo-quick test test-fast bench clean-venv

VENV ?= .venv

setup:
	@bash scripts/setup.sh

demo: setup
	$(VENV)/bin/workbench demo

demo-quick: setup
	$(VENV)/bin/workbench demo --quick

test: setup
	@bash scripts/setup-unsloth.sh
	@bash scripts/setup-test-tools.sh
	$(VENV)/bin/python -m pytest -q

test-fast: setup
	@bash scripts/setup-test-tools.sh
	$(VENV)/bin/python -m pytest -q -m "not slow"

bench: setup
	$(VENV)/bin/python bench/run.py

clean-venv:
	rm -rf $(VENV)
