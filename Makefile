# ta-bridge — every set-up step a fresh machine needs is behind these targets.
# Needs: python3 (3.11+), Java 17 and Maven (for the local Kafka broker).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: help venv run test lint fmt typecheck contracts contracts-check kafka-up kafka-down \
        pg-up pg-down bench bench-transport bench-registry bench-sdg bench-ingest bench-notify \
        bench-iati bench-e2e reset chaos clean

help:
	@echo "make run    - start Kafka, the four services and the demo (Ctrl-C stops all)"
	@echo "make reset  - forget what make run kept (var/run: stores, logs, broker data)"
	@echo "make test   - lint, type-check, contract check and the whole test suite"
	@echo "make bench  - every benchmark (bench-transport, bench-registry, ...)"
	@echo "make chaos  - kills, outages, hostile inputs, SSRF and auth against the real stack"

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || { echo "==> creating $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV); }
	@echo "==> installing the pinned requirements (requirements.lock) into $(VENV); ~30 s the first time"
	@$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	@echo "==> installing ta-bridge itself (editable)"
	@$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	@echo "==> $(VENV) is ready"
	@touch $@

venv: $(STAMP)

lint: venv
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

fmt: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: venv
	$(BIN)/mypy

contracts: venv
	$(BIN)/python -m tools.contracts generate

contracts-check: venv
	$(BIN)/python -m tools.contracts check

kafka-up:
	bash deploy/kafka/kafka.sh start

kafka-down:
	bash deploy/kafka/kafka.sh stop

pg-up:
	bash deploy/postgres/pg.sh start

pg-down:
	bash deploy/postgres/pg.sh stop

test: venv
	bash tools/run_tests.sh

run: venv
	$(BIN)/python -m services.run

bench: bench-transport bench-registry bench-sdg bench-ingest bench-notify bench-e2e bench-iati

bench-transport: venv
	bash tools/with_kafka.sh $(BIN)/python -m tools.bench_transport

bench-registry: venv
	bash tools/with_kafka.sh $(BIN)/python -m tools.bench_registry

bench-sdg: venv
	$(BIN)/python tools/bench_sdg.py

# Rebuild the shipped SDG model (services/sdg_tagger/model/) from ../shared/data/sdg.
.PHONY: train-sdg
train-sdg: venv
	$(BIN)/python tools/train_sdg.py

bench-ingest: venv
	$(BIN)/python -m tools.bench_ingest

bench-notify: venv
	bash tools/with_kafka.sh $(BIN)/python -m tools.bench_notify

bench-iati: venv
	$(BIN)/python -m tools.bench_iati

.PHONY: bench-e2e
bench-e2e: venv
	bash tools/with_kafka.sh $(BIN)/python -m tools.bench_e2e

# The state `make run` keeps between runs (stores, logs, spans and the local broker's data,
# all in var/run/); the next `make run` starts from nothing. Keeps .venv.
reset:
	@KAFKA_DATA_DIR=$(CURDIR)/var/run/kafka bash deploy/kafka/kafka.sh stop >/dev/null
	rm -rf var/run
	@echo "==> var/run removed: the next make run starts afresh (.venv kept)"

# Faults against the real stack; one `CHAOS <scenario> ...` line each and a total.
# CHAOS_SCENARIOS narrows it (e.g. `make chaos CHAOS_SCENARIOS=ssrf`). It starts a broker
# of its own (free ports): broker-kills and cluster kill and wipe it.
CHAOS_SCENARIOS ?= all
chaos: venv
	$(BIN)/python -m tools.chaos $(CHAOS_SCENARIOS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache var
