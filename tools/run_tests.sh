#!/usr/bin/env bash
# `make test`: static checks, contract check, then the whole suite against a real Kafka
# broker (and PostgreSQL where this machine can run one).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT"
BIN="$ROOT/.venv/bin"

echo "== lint (ruff) and types (mypy --strict)"
"$BIN/ruff" format --check .
"$BIN/ruff" check .
"$BIN/mypy"

echo "== contracts"
"$BIN/python" -m tools.contracts check

pg_started=""
if [ -z "${TEST_DATABASE_URL:-}" ] && [ -f deploy/postgres/pg.sh ]; then
    if bash deploy/postgres/pg.sh start; then
        pg_started=1
        export TEST_DATABASE_URL="$(bash deploy/postgres/pg.sh url)"
    else
        echo "== PostgreSQL could not be started here: the PostgreSQL-backed tests will be skipped (see above)"
    fi
fi
cleanup() { [ -n "$pg_started" ] && bash deploy/postgres/pg.sh stop >/dev/null 2>&1 || true; }
trap cleanup EXIT

echo "== tests"
bash tools/with_kafka.sh "$BIN/python" -m pytest "$@"
