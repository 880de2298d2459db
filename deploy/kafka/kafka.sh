#!/usr/bin/env bash
# Local single-node Kafka (KRaft, combined broker+controller) from Maven Central jars.
# No Docker, no tarball. See deploy/kafka/README.md.
#
#   kafka.sh start            resolve jars (cached), format a fresh data dir, start, wait until ready
#                             (KAFKA_KEEP_DATA=1: restart on the existing data dir, topics kept)
#   kafka.sh stop             SIGTERM, wait up to KAFKA_STOP_TIMEOUT (30 s), then SIGKILL; idempotent
#   kafka.sh status           exit 0 + "running" if our broker is alive and accepts connections
#   kafka.sh logs [-f] [N]    last N (200) lines of the broker log; -f follows
#
# Exit codes: 0 ok, 1 broker failed/timeout/not running, 2 missing prerequisite or bad config,
#             3 port already taken by something that is not our broker.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
REPO="$(cd "$SCRIPT_DIR/../.." && pwd -P)"

KAFKA_VERSION="${KAFKA_VERSION:-4.1.2}"
KAFKA_HOST=127.0.0.1
KAFKA_PORT="${KAFKA_PORT:-19092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}"
KAFKA_DATA_DIR="${KAFKA_DATA_DIR:-$REPO/var/kafka}"
KAFKA_CACHE_DIR="${KAFKA_CACHE_DIR:-$REPO/.cache/kafka}"
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
KAFKA_STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}"
KAFKA_JVM_OPTS="${KAFKA_JVM_OPTS:-}"
# How long the controller keeps a broker's registration after its last heartbeat. A broker
# restarted after a crash cannot register again before that (DUPLICATE_BROKER_REGISTRATION),
# so it bounds how fast a SIGKILLed broker is back; Kafka's default is 9000 ms.
KAFKA_BROKER_SESSION_TIMEOUT_MS="${KAFKA_BROKER_SESSION_TIMEOUT_MS:-9000}"
KAFKA_BROKER_HEARTBEAT_INTERVAL_MS="${KAFKA_BROKER_HEARTBEAT_INTERVAL_MS:-2000}"

POM="$SCRIPT_DIR/pom.xml"
VERSION_DIR="$KAFKA_CACHE_DIR/$KAFKA_VERSION"
LIB_DIR="$VERSION_DIR/libs"
STAMP="$VERSION_DIR/resolved.stamp"
PID_FILE="$KAFKA_DATA_DIR/kafka.pid"
LOG_FILE="$KAFKA_DATA_DIR/kafka.log"
PROPS="$KAFKA_DATA_DIR/server.properties"
LOG_DIRS="$KAFKA_DATA_DIR/data"
BOOTSTRAP="$KAFKA_HOST:$KAFKA_PORT"

say() { printf 'kafka.sh: %s\n' "$*"; }
err() { printf 'kafka.sh: ERROR: %s\n' "$*" >&2; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# Maven switch + logging flavour per Kafka major version.
case "$KAFKA_VERSION" in
    4.*) MVN_SWITCH=(); LOG_OPTS=("-Dlog4j2.configurationFile=$SCRIPT_DIR/log4j2.properties") ;;
    3.*) MVN_SWITCH=(-Dkafka39); LOG_OPTS=("-Dlog4j.configuration=file:$SCRIPT_DIR/log4j.properties") ;;
    *) err "unsupported KAFKA_VERSION=$KAFKA_VERSION (expected 4.x or 3.x, e.g. 4.1.2 or 3.9.2)"; exit 2 ;;
esac

# ---------------------------------------------------------------------------------------------
port_open() {  # does something accept TCP connections on 127.0.0.1:$1 ?
    if command -v timeout >/dev/null 2>&1; then
        timeout 2 bash -c "exec 3<>/dev/tcp/$KAFKA_HOST/$1" 2>/dev/null
    else
        bash -c "exec 3<>/dev/tcp/$KAFKA_HOST/$1" 2>/dev/null
    fi
}

port_holder() {  # best effort: who listens on port $1
    local out=""
    if command -v ss >/dev/null 2>&1; then
        out="$(ss -Hltnp "sport = :$1" 2>/dev/null | sed -n 's/.*users:((\(.*\)))$/\1/p' | head -n1)"
    fi
    if [[ -z "$out" ]] && command -v lsof >/dev/null 2>&1; then
        out="$(lsof -nP -iTCP:"$1" -sTCP:LISTEN 2>/dev/null | awk 'NR==2 {print $1" pid="$2}')"
    fi
    local pid
    pid="$(sed -n 's/.*pid=\([0-9]*\).*/\1/p' <<<"$out" | head -n1)"
    if [[ -n "$pid" ]]; then
        out="$out: $(ps -o args= -p "$pid" 2>/dev/null | cut -c1-160)"
    fi
    printf '%s' "${out:-unknown process (install ss or lsof to see which)}"
}

read_pid() { [[ -f "$PID_FILE" ]] && tr -dc '0-9' <"$PID_FILE" || true; }

is_ours() {  # pid $1 alive and is a kafka.Kafka started with our server.properties
    local pid="$1" args
    [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
    args="$(ps -o args= -p "$pid" 2>/dev/null || true)"
    [[ "$args" == *kafka.Kafka* && "$args" == *"$PROPS"* ]]
}

tail_log() {
    if [[ -f "$LOG_FILE" ]]; then
        echo "----- last ${1:-40} lines of $LOG_FILE -----" >&2
        tail -n "${1:-40}" "$LOG_FILE" >&2
        echo "-----" >&2
    fi
}

lock() {  # serialise concurrent start/stop (e.g. pytest-xdist workers); no-op without flock
    mkdir -p "$KAFKA_DATA_DIR"
    if command -v flock >/dev/null 2>&1; then
        exec 9>"$KAFKA_DATA_DIR/.lock"
        flock -w $((KAFKA_START_TIMEOUT + 60)) 9 || { err "could not lock $KAFKA_DATA_DIR/.lock"; exit 1; }
    fi
}

check_prereqs() {
    if ! command -v java >/dev/null 2>&1; then
        err "'java' not found on PATH. Install a JDK/JRE 17+ (e.g. apt-get install openjdk-17-jre-headless)."
        exit 2
    fi
    local jv major
    jv="$(java -version 2>&1 | awk -F'"' '/version/ {print $2; exit}')"
    major="${jv%%.*}"
    [[ "$major" == 1 ]] && major="$(cut -d. -f2 <<<"$jv")"
    if ! [[ "$major" =~ ^[0-9]+$ ]] || ((major < 17)); then
        err "Java 17+ required, found '${jv:-unknown}' ($(command -v java))."
        exit 2
    fi
    # mvn is only needed to resolve jars; a warm cache starts without it.
    if ! jars_cached && ! command -v mvn >/dev/null 2>&1; then
        err "'mvn' (Apache Maven 3.6+) not found on PATH; it is needed to download the Kafka $KAFKA_VERSION jars into $LIB_DIR. Install it (e.g. apt-get install maven)."
        exit 2
    fi
}

stamp_key() { printf '%s %s %s' "$KAFKA_VERSION" "${MVN_SWITCH[*]:-}" "$(cksum <"$POM")"; }

jars_cached() {
    [[ -f "$STAMP" && "$(cat "$STAMP")" == "$(stamp_key)" ]] && compgen -G "$LIB_DIR/kafka_2.13-*.jar" >/dev/null
}

ensure_jars() {
    if jars_cached; then
        return 0
    fi
    say "resolving Kafka $KAFKA_VERSION jars from Maven into $LIB_DIR ..."
    local t0 tmp
    t0="$(now)"
    mkdir -p "$VERSION_DIR"
    tmp="$(mktemp -d "$VERSION_DIR/libs.tmp.XXXXXX")"
    if ! mvn -q -B -Dstyle.color=never -f "$POM" ${MVN_SWITCH[@]+"${MVN_SWITCH[@]}"} -Dkafka.version="$KAFKA_VERSION" \
            dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp" \
            >"$VERSION_DIR/mvn.log" 2>&1; then
        rm -rf "$tmp"
        sed 's/\x1b\[[0-9;]*m//g' "$VERSION_DIR/mvn.log" | grep -v '^\s*$' | tail -n 20 >&2 || true
        err "mvn could not resolve org.apache.kafka:kafka_2.13:$KAFKA_VERSION (is the version on Maven Central? is the network/proxy configured in ~/.m2/settings.xml?)"
        exit 2
    fi
    rm -rf "$LIB_DIR"
    mv "$tmp" "$LIB_DIR"
    stamp_key >"$STAMP"
    say "resolved $(ls "$LIB_DIR" | wc -l | tr -d ' ') jars in $(since "$t0") s"
}

write_props() {
    cat >"$PROPS" <<EOF
# Generated by deploy/kafka/kafka.sh for Kafka $KAFKA_VERSION -- rewritten on every start.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT,CONTROLLER://$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
log.dirs=$LOG_DIRS

auto.create.topics.enable=true
num.partitions=3
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
broker.session.timeout.ms=$KAFKA_BROKER_SESSION_TIMEOUT_MS
broker.heartbeat.interval.ms=$KAFKA_BROKER_HEARTBEAT_INTERVAL_MS
log.cleaner.dedupe.buffer.size=1048577
EOF
}

wait_ready() {  # $1 = pid, $2 = start timestamp; returns when "Kafka Server started" or exits 1
    local pid="$1" t0="$2" deadline
    deadline=$(($(date +%s) + KAFKA_START_TIMEOUT))
    while :; do
        if grep -q 'Kafka Server started' "$LOG_FILE" 2>/dev/null && port_open "$KAFKA_PORT"; then
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            err "Kafka $KAFKA_VERSION (pid $pid) died during start-up."
            tail_log 40
            rm -f "$PID_FILE"
            exit 1
        fi
        if (($(date +%s) >= deadline)); then
            err "Kafka $KAFKA_VERSION (pid $pid) not ready after ${KAFKA_START_TIMEOUT}s (KAFKA_START_TIMEOUT); stopping it."
            tail_log 40
            do_stop >&2 || true
            exit 1
        fi
        sleep 0.2
    done
}

# ---------------------------------------------------------------------------------------------
do_start() {
    local t0 pid
    t0="$(now)"
    check_prereqs
    lock

    pid="$(read_pid)"
    if is_ours "$pid"; then
        if [[ "$(ps -o args= -p "$pid" 2>/dev/null)" != *"$LIB_DIR/"* ]]; then
            err "our broker (pid $pid) is running with a different Kafka version/classpath than KAFKA_VERSION=$KAFKA_VERSION; run 'kafka.sh stop' first."
            exit 3
        fi
        if port_open "$KAFKA_PORT"; then
            say "already running and healthy (pid $pid, bootstrap $BOOTSTRAP)"
            exit 0
        fi
        say "already starting (pid $pid); waiting until it is ready ..."
        wait_ready "$pid" "$t0"
        say "running (pid $pid, bootstrap $BOOTSTRAP)"
        exit 0
    fi
    rm -f "$PID_FILE"

    local p
    for p in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
        if port_open "$p"; then
            err "port $KAFKA_HOST:$p is already in use by something that is not this broker ($(port_holder "$p")). Stop it, or use KAFKA_PORT=<free port> (controller port = KAFKA_PORT+1 unless KAFKA_CONTROLLER_PORT is set)."
            exit 3
        fi
    done

    ensure_jars

    # KAFKA_KEEP_DATA=1 restarts on the existing log dirs (a broker restart, topics kept);
    # otherwise: a fresh data dir, deleting only what this script creates.
    local keep=""
    if [ "${KAFKA_KEEP_DATA:-0}" = 1 ] && [ -f "$LOG_DIRS/meta.properties" ]; then
        keep=1
    fi
    if [ -z "$keep" ]; then
        rm -rf "$LOG_DIRS"
        rm -f "$LOG_FILE"
    elif [ -f "$LOG_FILE" ]; then
        mv -f "$LOG_FILE" "$LOG_FILE.previous"  # readiness reads this run's log only
    fi
    rm -f "$PROPS"
    mkdir -p "$LOG_DIRS"
    write_props

    local cp="$LIB_DIR/*" cluster_id t1
    # A random id in Kafka's URL-safe base64; one starting with "-" would be read as an
    # option by StorageTool's argument parser (1 format in 64 failed that way).
    cluster_id="-"
    while [[ "$cluster_id" == -* ]]; do
        cluster_id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | cut -c1-22)"
    done
    t1="$(now)"
    # shellcheck disable=SC2086
    if [ -z "$keep" ] && ! java $KAFKA_HEAP_OPTS "${LOG_OPTS[@]}" -cp "$cp" kafka.tools.StorageTool \
            format -t "$cluster_id" -c "$PROPS" >>"$LOG_FILE" 2>&1 9>&-; then
        err "storage format failed."
        tail_log 40
        exit 1
    fi

    local launcher=()
    command -v setsid >/dev/null 2>&1 && launcher=(setsid)
    # The inner shell writes its own pid and then exec's java, so the pid file holds java's pid.
    # shellcheck disable=SC2016,SC2086
    ${launcher[@]+"${launcher[@]}"} nohup bash -c 'echo $$ >"$0"; exec "$@"' "$PID_FILE" \
        java $KAFKA_HEAP_OPTS -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
        -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent \
        -Djava.awt.headless=true "${LOG_OPTS[@]}" $KAFKA_JVM_OPTS \
        -cp "$cp" kafka.Kafka "$PROPS" >>"$LOG_FILE" 2>&1 </dev/null 9>&- &
    for _ in $(seq 50); do [[ -s "$PID_FILE" ]] && break; sleep 0.1; done
    pid="$(read_pid)"
    if [[ -z "$pid" ]]; then
        err "could not launch java (no pid written to $PID_FILE)."
        tail_log 40
        exit 1
    fi

    wait_ready "$pid" "$t0"
    say "Kafka $KAFKA_VERSION started in $(since "$t0") s (broker $(since "$t1") s incl. format; pid $pid)"
    say "bootstrap: $BOOTSTRAP   data: $KAFKA_DATA_DIR   log: $LOG_FILE"
}

do_stop() {
    local pid t0
    pid="$(read_pid)"
    if [[ -z "$pid" ]] || ! kill -0 "$pid" 2>/dev/null; then
        rm -f "$PID_FILE"
        say "not running"
        return 0
    fi
    if ! is_ours "$pid"; then
        rm -f "$PID_FILE"
        say "stale pid file (pid $pid is not our broker); removed it"
        return 0
    fi
    t0="$(now)"
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$(($(date +%s) + KAFKA_STOP_TIMEOUT))
    while kill -0 "$pid" 2>/dev/null && (($(date +%s) < deadline)); do sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then
        say "pid $pid still alive after ${KAFKA_STOP_TIMEOUT}s; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
    fi
    rm -f "$PID_FILE"
    say "stopped (pid $pid) in $(since "$t0") s"
}

do_status() {
    local pid
    pid="$(read_pid)"
    if is_ours "$pid"; then
        if port_open "$KAFKA_PORT"; then
            echo "running (pid $pid, bootstrap $BOOTSTRAP)"
            return 0
        fi
        echo "starting (pid $pid alive, $BOOTSTRAP not accepting connections yet)"
        return 1
    fi
    echo "stopped"
    return 3
}

do_logs() {
    [[ -f "$LOG_FILE" ]] || { err "no log file at $LOG_FILE"; exit 1; }
    local follow=() n=200 a
    for a in "$@"; do
        case "$a" in
            -f) follow=(-F) ;;
            *[!0-9]* | '') err "usage: kafka.sh logs [-f] [N]"; exit 2 ;;
            *) n="$a" ;;
        esac
    done
    exec tail -n "$n" ${follow[@]+"${follow[@]}"} "$LOG_FILE"
}

cmd="${1:-}"
[[ $# -gt 0 ]] && shift
case "$cmd" in
    start) do_start ;;
    stop) lock; do_stop ;;
    status) do_status ;;
    logs) do_logs "$@" ;;
    *)
        echo "usage: $(basename "$0") start|stop|status|logs [-f] [N]" >&2
        echo "env: KAFKA_VERSION (4.1.2; 3.9.x = fallback) KAFKA_PORT (19092) KAFKA_CONTROLLER_PORT (PORT+1)" >&2
        echo "     KAFKA_DATA_DIR ($REPO/var/kafka) KAFKA_CACHE_DIR ($REPO/.cache/kafka)" >&2
        echo "     KAFKA_START_TIMEOUT (90) KAFKA_STOP_TIMEOUT (30) KAFKA_HEAP_OPTS KAFKA_JVM_OPTS" >&2
        echo "     KAFKA_BROKER_SESSION_TIMEOUT_MS (9000) KAFKA_BROKER_HEARTBEAT_INTERVAL_MS (2000)" >&2
        echo "     KAFKA_KEEP_DATA (0; 1 = start on the existing data dir instead of a fresh one)" >&2
        exit 2
        ;;
esac
