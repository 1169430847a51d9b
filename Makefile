# Two commands set everything up on a fresh machine: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The installers and build backend, pinned in build.lock (`make lock` writes it from these).
BUILD_PINS := pip==26.3 setuptools==80.9.0 wheel==0.45.1 uv==0.13.9

.PHONY: run examples test lint lock bench clean vendor

# The locks are complete and hash-pinned: every package is installed exactly as locked with --no-deps, so nothing
# is resolved against what the registry holds today (a new release of a dependency cannot change the install);
# `pip check` then proves the locked set is consistent. build.lock first replaces the venv's own pip and brings uv,
# which installs requirements.lock the same way (exactly, --no-deps, every hash checked) in seconds where pip takes a
# minute and a half; with the system's trust store (--native-tls). Should uv fail, pip does it as before.
$(STAMP): pyproject.toml requirements.lock build.lock
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --no-deps --require-hashes -r build.lock
	$(BIN)/uv pip install --quiet --native-tls --python $(BIN)/python --no-deps --require-hashes -r requirements.lock \
		|| $(BIN)/python -m pip install --quiet --no-deps --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip check
	touch $(STAMP)

# The hub on http://127.0.0.1:8600 with the examples deployed (exposed as MCP tools); an admin token is
# printed on the first start. `make run PORT=8700` (or AGENTHUB_PORT) picks another port. `make examples` runs every example
# to completion from the command line instead.
run: $(STAMP)
	$(BIN)/agenthub serve --examples examples $(if $(PORT),--port $(PORT))

examples: $(STAMP)
	$(BIN)/python -m examples.run_all

# The suite runs in TEST_WORKERS processes (pytest-xdist): most of its time is spent waiting on hubs, workers and
# databases it starts, so three processes keep two cores busy (`make test TEST_WORKERS=0` runs it in one).
TEST_WORKERS ?= 3

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest $(if $(filter-out 0,$(TEST_WORKERS)),-n $(TEST_WORKERS) --dist worksteal)

bench: $(STAMP)
	$(BIN)/python bench/engine.py

# Regenerate the hash-pinned lock files (with the venv's uv, from build.lock).
lock:
	$(BIN)/uv pip compile pyproject.toml --extra dev --extra discover --generate-hashes --python-version 3.11 -o requirements.lock
	printf '%s\n' $(BUILD_PINS) | $(BIN)/uv pip compile - --generate-hashes --python-version 3.11 -o build.lock

# Fetch the console's front-end assets (bpmn-js, form-js) again with npm, check each tarball against the integrity
# pinned in hub/web/static/vendor/manifest.json before reading it, and rewrite the committed copies (needs Node).
vendor: $(STAMP)
	$(BIN)/python -m hub.web.vendor --fetch

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .hypothesis
