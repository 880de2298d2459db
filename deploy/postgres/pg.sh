#!/usr/bin/env bash
# Local throw-away PostgreSQL for the test suite (no Docker). See deploy/postgres/README.md.
#
#   pg.sh start     find (or apt-install) server binaries, fresh initdb, start on 127.0.0.1:$PG_PORT,
#                   create database "tabridge"; exit 0 at once if our server is already up
#   pg.sh stop      pg_ctl -m fast stop; idempotent
#   pg.sh status    exit 0 if 127.0.0.1:$PG_PORT answers (pg_isready), else 3
#   pg.sh url       print the connection URL
#   pg.sh logs [N]  last N (200) lines of the server log
#
# Exit codes: 0 ok; 1 start-up failed; 2 PostgreSQL not available / bad config;
#             3 port taken by something else (start) or not running (status).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
REPO="$(cd "$SCRIPT_DIR/../.." && pwd -P)"

PG_HOST=127.0.0.1
PG_PORT="${PG_PORT:-15432}"
PG_USER=tabridge
PG_DB=tabridge
PG_DATA_DIR_DEFAULT="$REPO/var/postgres"
PG_DATA_DIR_SET="${PG_DATA_DIR:+1}"
PG_DATA_DIR="${PG_DATA_DIR:-$PG_DATA_DIR_DEFAULT}"
PG_BIN_DIR="${PG_BIN_DIR:-}"                       # force this bin dir (no search, no install)
PG_LIB_ROOT="${PG_LIB_ROOT:-/usr/lib/postgresql}"  # where */bin is searched after PATH
PG_INSTALL="${PG_INSTALL:-1}"                      # 0 = never apt-get install
PG_START_TIMEOUT="${PG_START_TIMEOUT:-60}"
PG_RUN_USER="${PG_RUN_USER:-tabridge-pg}"          # unprivileged user used when we are root
FALLBACK_DIR="/tmp/ta-bridge-pg-$(id -u)"

say() { printf 'pg.sh: %s\n' "$*"; }
err() { printf 'pg.sh: ERROR: %s\n' "$*" >&2; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
unavailable() {
    printf 'pg.sh: PostgreSQL is not available on this machine: %s; the PostgreSQL tests will be skipped\n' "$1" >&2
    exit 2
}

case "$PG_PORT" in *[!0-9]* | '') err "PG_PORT must be a number, got '$PG_PORT'"; exit 2 ;; esac

# --------------------------------------------------------------------------------------------
# layout: $BASE/pgdata (PGDATA), $BASE/run (unix socket), $BASE/postgres.log, $BASE/initdb.log
set_layout() {
    BASE="$1"
    PGDATA_DIR="$BASE/pgdata"
    SOCK_DIR="$BASE/run"
    LOG_FILE="$BASE/postgres.log"
}
set_layout "$PG_DATA_DIR"

BIN=""
has_bins() { [[ -x "$1/pg_ctl" && -x "$1/initdb" && -x "$1/postgres" ]]; }

find_bins() {  # sets BIN (directory holding pg_ctl, initdb, postgres); no side effects
    BIN=""
    if [[ -n "$PG_BIN_DIR" ]]; then
        has_bins "$PG_BIN_DIR" && BIN="$(cd "$PG_BIN_DIR" && pwd -P)"
        return 0
    fi
    local p d
    if p="$(command -v pg_ctl 2>/dev/null)" && command -v initdb >/dev/null 2>&1 \
        && command -v postgres >/dev/null 2>&1; then
        d="$(dirname "$(readlink -f "$p")")"
        if has_bins "$d"; then BIN="$d"; return 0; fi
    fi
    local dirs=()
    shopt -s nullglob
    dirs=("$PG_LIB_ROOT"/*/bin)
    shopt -u nullglob
    if ((${#dirs[@]})); then
        while IFS= read -r d; do
            if has_bins "$d"; then BIN="$d"; return 0; fi
        done < <(printf '%s\n' "${dirs[@]}" | sort -rV)
    fi
    return 0
}

SUDO=()
can_install() {  # sets SUDO; returns 1 (with reason in INSTALL_WHY) when we cannot apt-get
    INSTALL_WHY=""
    if [[ "$PG_INSTALL" == 0 ]]; then INSTALL_WHY="PG_INSTALL=0"; return 1; fi
    if ! command -v apt-get >/dev/null 2>&1; then INSTALL_WHY="no apt-get"; return 1; fi
    if ((EUID == 0)); then SUDO=(); return 0; fi
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO=(sudo -n); return 0; fi
    INSTALL_WHY="not root and no passwordless sudo"
    return 1
}

apt_install() {  # install Debian's postgresql without starting the packaged cluster service
    local out rc policy=/usr/sbin/policy-rc.d made_policy=0
    out="$(mktemp)"
    if [[ ! -e "$policy" ]]; then  # invoke-rc.d: 101 = action forbidden -> service not started
        "${SUDO[@]}" sh -c "printf '#!/bin/sh\nexit 101\n' > $policy && chmod 755 $policy" && made_policy=1
    fi
    _apt() {
        "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120 \
            install -y --no-install-recommends postgresql >"$out" 2>&1
    }
    say "installing Debian package 'postgresql' (apt-get install --no-install-recommends) ..."
    rc=0; _apt || rc=$?
    if ((rc != 0)) && grep -qiE 'Unable to locate package|no installation candidate|has no installation candidate|Failed to fetch|404' "$out"; then
        say "package lists missing or stale; running apt-get update and retrying"
        "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >>"$out" 2>&1 || true
        rc=0; _apt || rc=$?
    fi
    if ((made_policy)); then "${SUDO[@]}" rm -f "$policy"; fi
    if ((rc != 0)); then
        tail -n 15 "$out" | sed 's/^/  apt: /' >&2
        INSTALL_WHY="apt-get install postgresql failed (exit $rc)"
    fi
    rm -f "$out"
    return "$rc"
}

ensure_bins() {
    find_bins
    [[ -n "$BIN" ]] && return 0
    if [[ -n "$PG_BIN_DIR" ]]; then
        unavailable "PG_BIN_DIR=$PG_BIN_DIR does not contain pg_ctl, initdb and postgres"
    fi
    local why="no pg_ctl/initdb/postgres on PATH or in $PG_LIB_ROOT/*/bin"
    can_install || unavailable "$why, and cannot install it ($INSTALL_WHY)"
    apt_install || unavailable "$why, and $INSTALL_WHY"
    find_bins
    [[ -n "$BIN" ]] || unavailable "$why, even after installing the 'postgresql' package"
}

client() {  # path of a client tool: ours first, then PATH
    if [[ -n "$BIN" && -x "$BIN/$1" ]]; then printf '%s' "$BIN/$1"; else command -v "$1" 2>/dev/null || true; fi
}

# --------------------------------------------------------------------------------------------
RUN_AS=""  # user the server runs as ("" = ourselves)
as_pg() (  # run "$@" as the server user, from a neutral cwd, with a sane locale
    exec 9>&-  # never leak the start lock into the postmaster (it would hold it forever)
    cd /
    if [[ -z "$RUN_AS" ]]; then
        exec env LC_ALL=C "$@"
    elif command -v runuser >/dev/null 2>&1; then
        exec runuser -u "$RUN_AS" -- env LC_ALL=C "$@"
    else
        exec su -s /bin/sh "$RUN_AS" -c "exec env LC_ALL=C $(printf '%q ' "$@")"
    fi
)

ensure_run_user() {
    ((EUID == 0)) || { RUN_AS=""; return 0; }
    RUN_AS="$PG_RUN_USER"
    if ! id -u "$RUN_AS" >/dev/null 2>&1; then
        local shell=/usr/sbin/nologin; [[ -x $shell ]] || shell=/bin/false
        useradd -r -M -d /nonexistent -s "$shell" "$RUN_AS" \
            || { err "running as root and could not create system user $RUN_AS (postgres refuses to run as root)"; exit 2; }
        say "created system user $RUN_AS (postgres refuses to run as root)"
    fi
}

prepare_base() {  # create $BASE owned by the server user; fall back to /tmp if not reachable
    mkdir -p "$BASE"
    [[ -n "$RUN_AS" ]] && chown "$RUN_AS" "$BASE"
    chmod 700 "$BASE"
    if ! as_pg test -w "$BASE" -a -x "$BASE" 2>/dev/null; then
        if [[ -n "$PG_DATA_DIR_SET" ]]; then
            err "user ${RUN_AS:-$(id -un)} cannot reach PG_DATA_DIR=$BASE (a parent directory is not traversable)"
            exit 2
        fi
        say "user $RUN_AS cannot traverse to $BASE; using $FALLBACK_DIR instead"
        set_layout "$FALLBACK_DIR"
        mkdir -p "$BASE"
        [[ -n "$RUN_AS" ]] && chown "$RUN_AS" "$BASE"
        chmod 700 "$BASE"
        as_pg test -w "$BASE" || { err "user $RUN_AS cannot write $BASE either"; exit 2; }
    fi
}

# data dir to act on for stop/logs: the configured one, else the /tmp fallback if that is live
pick_existing_base() {
    if [[ -z "$PG_DATA_DIR_SET" && ! -f "$PGDATA_DIR/postmaster.pid" && -f "$FALLBACK_DIR/pgdata/postmaster.pid" ]]; then
        set_layout "$FALLBACK_DIR"
    fi
    RUN_AS=""
    if ((EUID == 0)) && [[ -d "$PGDATA_DIR" ]]; then
        local owner; owner="$(stat -c %U "$PGDATA_DIR")"
        if [[ "$owner" != root ]]; then RUN_AS="$owner"; fi
    fi
    return 0
}

pid_port() { sed -n 4p "$PGDATA_DIR/postmaster.pid" 2>/dev/null | tr -dc '0-9' || true; }
pid_alive() {  # alive and not a zombie (a killed postmaster can linger as one in containers)
    local st
    [[ -n "$1" ]] && kill -0 "$1" 2>/dev/null || return 1
    st="$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null || true)"
    [[ "$st" != Z ]]
}
ours_running() {
    [[ -f "$PGDATA_DIR/postmaster.pid" ]] || return 1
    pid_alive "$(sed -n 1p "$PGDATA_DIR/postmaster.pid" | tr -dc '0-9')" || return 1
    as_pg "$BIN/pg_ctl" -D "$PGDATA_DIR" status >/dev/null 2>&1
}

port_open() {
    if command -v timeout >/dev/null 2>&1; then
        timeout 2 bash -c "exec 3<>/dev/tcp/$PG_HOST/$1" 2>/dev/null
    else
        bash -c "exec 3<>/dev/tcp/$PG_HOST/$1" 2>/dev/null
    fi
}

port_holder() {
    local out="" pid
    if command -v ss >/dev/null 2>&1; then
        out="$(ss -Hltnp "sport = :$1" 2>/dev/null | sed -n 's/.*users:((\(.*\)))$/\1/p' | head -n1)"
    fi
    if [[ -z "$out" ]] && command -v lsof >/dev/null 2>&1; then
        out="$(lsof -nP -iTCP:"$1" -sTCP:LISTEN 2>/dev/null | awk 'NR==2 {print $1" pid="$2}')"
    fi
    pid="$(sed -n 's/.*pid=\([0-9]*\).*/\1/p' <<<"$out" | head -n1)"
    [[ -n "$pid" ]] && out="$out: $(ps -o args= -p "$pid" 2>/dev/null | cut -c1-160)"
    printf '%s' "${out:-unknown process (install ss or lsof to see which)}"
}

is_ready() {
    local isready; isready="$(client pg_isready)"
    if [[ -n "$isready" ]]; then
        "$isready" -q -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d "$PG_DB" -t 3 >/dev/null 2>&1
    else
        port_open "$PG_PORT"
    fi
}

url() { printf 'postgresql://%s@%s:%s/%s\n' "$PG_USER" "$PG_HOST" "$PG_PORT" "$PG_DB"; }

# --------------------------------------------------------------------------------------------
cmd_start() {
    local t0; t0="$(now)"
    ensure_bins
    local version; version="$("$BIN/postgres" --version 2>/dev/null || echo '?')"
    ensure_run_user
    prepare_base

    exec 9>"$BASE/.lock"
    if command -v flock >/dev/null 2>&1 && ! flock -w 120 9; then
        err "another 'pg.sh start' still holds $BASE/.lock after 120 s"; exit 1
    fi

    local running=0 on_port=0
    if ours_running; then running=1; [[ "$(pid_port)" == "$PG_PORT" ]] && on_port=1; fi
    if ((on_port)) && is_ready; then
        say "already running ($version, data dir $PGDATA_DIR): $(url)"
        exit 0
    fi
    if ((!on_port)) && port_open "$PG_PORT"; then
        err "port $PG_HOST:$PG_PORT is already taken by $(port_holder "$PG_PORT")"
        exit 3
    fi
    if ((running)); then
        say "our server on $PGDATA_DIR (port $(pid_port)) is not answering on $PG_PORT; restarting it fresh"
        as_pg "$BIN/pg_ctl" -D "$PGDATA_DIR" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
    fi

    # fresh cluster every time
    if [[ -e "$PGDATA_DIR" && ! -f "$PGDATA_DIR/PG_VERSION" && -n "$(ls -A "$PGDATA_DIR" 2>/dev/null)" ]]; then
        err "$PGDATA_DIR exists, is not empty and is not a PostgreSQL data dir; refusing to wipe it"
        exit 2
    fi
    rm -rf "$PGDATA_DIR" "$SOCK_DIR"
    local sock="$SOCK_DIR"
    if ((${#SOCK_DIR} + 20 > 107)); then sock=""; fi  # unix socket path limit; TCP only then
    mkdir -p "$SOCK_DIR"
    : >"$LOG_FILE"
    [[ -n "$RUN_AS" ]] && chown "$RUN_AS" "$SOCK_DIR" "$LOG_FILE"

    if ! as_pg "$BIN/initdb" -D "$PGDATA_DIR" -A trust -U "$PG_USER" --no-sync -E UTF8 --locale=C \
        >"$BASE/initdb.log" 2>&1; then
        err "initdb failed:"; tail -n 30 "$BASE/initdb.log" >&2; exit 1
    fi
    cat >>"$PGDATA_DIR/postgresql.conf" <<EOF

# --- ta-bridge test settings (deploy/postgres/pg.sh) ---
listen_addresses = '$PG_HOST'
port = $PG_PORT
unix_socket_directories = '$sock'
fsync = off
synchronous_commit = off
full_page_writes = off
logging_collector = off
EOF
    if ! as_pg "$BIN/pg_ctl" -D "$PGDATA_DIR" -p "$BIN/postgres" -w -t "$PG_START_TIMEOUT" \
        -l "$LOG_FILE" start >/dev/null 2>&1; then
        err "postgres failed to start (log: $LOG_FILE):"; tail -n 40 "$LOG_FILE" >&2; exit 1
    fi
    local createdb; createdb="$(client createdb)"
    if [[ -n "$createdb" ]]; then
        "$createdb" -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" "$PG_DB"
    else
        "$(client psql)" -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres -qc "CREATE DATABASE $PG_DB"
    fi
    say "started $version in $(since "$t0") s (data dir $PGDATA_DIR${RUN_AS:+, as user $RUN_AS}): $(url)"
}

cmd_stop() {
    pick_existing_base
    if [[ ! -f "$PGDATA_DIR/postmaster.pid" ]]; then say "not running"; return 0; fi
    find_bins
    [[ -n "$BIN" ]] || { err "server binaries not found, cannot stop $PGDATA_DIR"; exit 2; }
    if ! ours_running; then say "not running (removing stale postmaster.pid)"; rm -f "$PGDATA_DIR/postmaster.pid"; return 0; fi
    as_pg "$BIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w -t 60 stop >/dev/null
    say "stopped"
}

cmd_status() {
    find_bins
    if is_ready; then say "running: $(url)"; exit 0; fi
    say "not running (nothing answers on $PG_HOST:$PG_PORT)"
    exit 3
}

cmd_logs() {
    local n="${1:-200}"
    case "$n" in *[!0-9]* | '') err "usage: pg.sh logs [N]"; exit 2 ;; esac
    pick_existing_base
    [[ -f "$LOG_FILE" ]] || { err "no log at $LOG_FILE"; exit 1; }
    tail -n "$n" "$LOG_FILE"
}

cmd="${1:-}"
case "$cmd" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    url) url ;;
    logs) shift; cmd_logs "$@" ;;
    *) echo "usage: $(basename "$0") start|stop|status|url|logs [N]" >&2; exit 2 ;;
esac
