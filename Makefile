# Two commands set everything up on a fresh machine: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run examples test lint lock bench clean

$(STAMP): pyproject.toml requirements.lock build.lock
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r build.lock
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

# The hub on http://127.0.0.1:8600 with the examples deployed (exposed as MCP tools); an admin token is
# printed on the first start. `make examples` runs every example to completion from the command line instead.
run: $(STAMP)
	$(BIN)/agenthub serve --examples examples

examples: $(STAMP)
	$(BIN)/python -m examples.run_all

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python bench/engine.py

# Regenerate the hash-pinned lock files (needs uv in the venv: `.venv/bin/pip install uv`).
lock:
	$(BIN)/uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .hypothesis
