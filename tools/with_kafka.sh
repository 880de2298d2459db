#!/usr/bin/env bash
# Run a command with a Kafka broker: KAFKA_BOOTSTRAP_SERVERS if set, else the local one,
# started for the command and stopped after it (unless it was already running).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
started=""
if [ -z "${KAFKA_BOOTSTRAP_SERVERS:-}" ]; then
    # A broker already answering on the port (ours or another) is used as it is.
    if ! bash "$ROOT/deploy/kafka/kafka.sh" status >/dev/null 2>&1 \
        && ! (exec 3<>/dev/tcp/127.0.0.1/19092) 2>/dev/null; then
        bash "$ROOT/deploy/kafka/kafka.sh" start
        started=1
    fi
    export KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:19092
fi
cleanup() { [ -n "$started" ] && bash "$ROOT/deploy/kafka/kafka.sh" stop >/dev/null 2>&1 || true; }
trap cleanup EXIT
"$@"
