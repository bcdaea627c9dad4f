# Everything runs from the project root; paths in the environment are relative to it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home

.PHONY: run test ui sql sample bench clean

$(BIN)/shouyang: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	@touch $@

$(DAGSTER_HOME)/dagster.yaml:
	@mkdir -p $(DAGSTER_HOME)
	@cp dagster.yaml $(DAGSTER_HOME)/dagster.yaml

run: $(BIN)/shouyang $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/shouyang run

test: $(BIN)/shouyang
	$(BIN)/pytest

ui: $(BIN)/shouyang $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dagster dev -h 127.0.0.1 -p 3000 -w workspace.yaml

# The analysts' way in: the published warehouse, read-only (a run never waits for it).
sql: $(BIN)/shouyang
	$(BIN)/duckdb -readonly $${SHOUYANG_WAREHOUSE:-$${SHOUYANG_DATA_DIR:-data}/warehouse.duckdb}

sample: $(BIN)/shouyang
	$(BIN)/shouyang sample

bench: $(BIN)/shouyang
	$(BIN)/python -m shouyang_pipeline_bench

# The archive is kept: it holds every version departments sent, including replaced ones.
clean:
	rm -rf data/warehouse.duckdb data/warehouse.duckdb.wal data/.work data/exports
