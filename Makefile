# Everything runs from the project root; paths in the environment are relative to it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
# Where `make ui` serves Dagster's UI: `make ui PORT=3001` (the environment's PORT is not used).
HOST = 127.0.0.1
PORT = 3000

.PHONY: run test ui sql sample bench clean compiled

$(BIN)/shouyang: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	@touch $@

# The package's bytecode written ahead: Python writes it at the first import, except where
# PYTHONDONTWRITEBYTECODE is set (CI, containers), where every process of a run (the run's own, its
# reading and export workers) would compile the package again (about 0.2 s each). Up to date: 0.1 s.
compiled: $(BIN)/shouyang
	@$(BIN)/python -m compileall -q -j 0 shouyang_pipeline

# The instance's settings (dagster_instance.yaml; a dagster.yaml beside workspace.yaml would make
# `dagster dev` warn that it is not the one DAGSTER_HOME uses).
$(DAGSTER_HOME)/dagster.yaml:
	@mkdir -p $(DAGSTER_HOME)
	@cp dagster_instance.yaml $(DAGSTER_HOME)/dagster.yaml

run: compiled $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/shouyang run

# Two workers (pytest-xdist), a test module each at a time: its module-scoped runs stay in one
# process. Then the tests marked `alone` (timing how a server stops), on an idle machine.
TEST_WORKERS = 2
test: compiled
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile -m "not alone"
	$(BIN)/pytest -m alone

# `dagster dev` without its start-up warnings, stopped promptly by Ctrl-C or SIGTERM (shouyang_pipeline/defs/ui.py).
ui: compiled $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/python -P shouyang_pipeline/defs/ui.py --host $(HOST) --port $(PORT) --workspace workspace.yaml

# The analysts' way in: the published warehouse, read-only (a run never waits for it).
sql: $(BIN)/shouyang
	$(BIN)/duckdb -readonly $${SHOUYANG_WAREHOUSE:-$${SHOUYANG_DATA_DIR:-data}/warehouse.duckdb}

# Quiet: the venv made silently if need be, then the one line `shouyang sample` prints.
sample:
	@$(MAKE) --no-print-directory -s $(BIN)/shouyang
	@$(BIN)/shouyang sample

bench: compiled
	$(BIN)/python -m shouyang_pipeline_bench

# The archive is kept: it holds every version departments sent, including replaced ones.
clean:
	rm -rf data/warehouse.duckdb data/warehouse.duckdb.wal data/.work data/exports
