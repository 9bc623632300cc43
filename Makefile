# Two entry points: `make demo` and `make test`. Each builds its own virtual environment.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
HOST   ?= 127.0.0.1
PORT   ?= 3000

.PHONY: demo test ui clean chromium mutation

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

$(DAGSTER_HOME)/dagster.yaml:
	mkdir -p $(DAGSTER_HOME)
	ln -sf $(CURDIR)/dagster.yaml $@

demo: $(BIN)/.installed $(DAGSTER_HOME)/dagster.yaml  ## run the whole pipeline on the bundled sample data
	$(BIN)/visitor-intent demo

# The report test opens the HTML in a real browser: Debian's Chromium, installed when missing
# and possible (root with apt); elsewhere that one test skips, in CI it fails.
chromium:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
	  && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
	  || echo "chromium is not installed: the browser test will skip"

test: $(BIN)/.installed chromium  ## lint, check formatting, run the test suite
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

# Not in CI: a run takes minutes per module. MODULES="cleaning intent" limits it.
mutation: $(BIN)/.installed  ## do the tests notice a wrong rule in enrichment/? (tools/mutation.py)
	$(BIN)/python tools/mutation.py $(MODULES)

ui: $(BIN)/.installed $(DAGSTER_HOME)/dagster.yaml  ## the Dagster UI on http://$(HOST):$(PORT) (make ui HOST=0.0.0.0 PORT=8080)
	$(BIN)/dagster dev --host $(HOST) --port $(PORT)

clean:
	rm -rf $(VENV) .visitor-intent $(DAGSTER_HOME)
