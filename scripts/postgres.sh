#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests.
#
#   scripts/postgres.sh start    init (first time) and start; prints one `export SHARDD_TEST_PG_URL=...` line
#   scripts/postgres.sh stop     stop (fast) and delete the cluster directory
#   scripts/postgres.sh url      print the URL
#   scripts/postgres.sh status   say whether it runs (exit 0 running, 3 stopped)
#   scripts/postgres.sh pause    stop the server but keep the cluster (start resumes it)
#   scripts/postgres.sh crash    stop it as a crash would (pg_ctl stop -m immediate), keep the cluster
#
# Typical use:  eval "$(scripts/postgres.sh start)"
#
# Only the export line (start) or the URL (url) goes to stdout; everything else to stderr.
#
# Environment:
#   SHARDD_PG_DIR    cluster directory (data, socket, log)   default /tmp/shardd-pg
#   SHARDD_PG_PORT   TCP port on 127.0.0.1                    default 54329
#   SHARDD_PG_BIN    directory holding initdb/pg_ctl          default: pg_config --bindir, else newest /usr/lib/postgresql/*/bin
#   SHARDD_PG_MAX_PREPARED  max_prepared_transactions             default 64 (0 turns them off)
#   SHARDD_PG_DURABLE=1  fsync and synchronous_commit on (default off, for speed): for tests
#                    that crash the server and expect its commits to survive
set -euo pipefail

PG_DIR="${SHARDD_PG_DIR:-/tmp/shardd-pg}"
PG_PORT="${SHARDD_PG_PORT:-54329}"
DATA_DIR="$PG_DIR/data"
SOCKET_DIR="$PG_DIR/socket"
LOG_FILE="$PG_DIR/postgres.log"
MARKER="$PG_DIR/.shardd-pg"
ROLE=shardd
PASSWORD=shardd
DATABASE=shardd_test
URL="postgresql://$ROLE:$PASSWORD@127.0.0.1:$PG_PORT/$DATABASE"
DURABILITY=off
[[ "${SHARDD_PG_DURABLE:-}" == 1 ]] && DURABILITY=on
START_TIMEOUT=30

log() { printf 'postgres.sh: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

usage() {
    echo "usage: $0 start|stop|pause|crash|url|status   (pause: stop the server, keep the cluster; crash: the same, at once, as a crash would; start resumes it)" >&2
    exit 2
}

find_bindir() {
    if [[ -n "${SHARDD_PG_BIN:-}" ]]; then
        [[ -x "$SHARDD_PG_BIN/initdb" ]] || die "SHARDD_PG_BIN=$SHARDD_PG_BIN has no initdb"
        echo "$SHARDD_PG_BIN"
        return
    fi
    local dir
    if command -v pg_config >/dev/null 2>&1; then
        dir="$(pg_config --bindir 2>/dev/null || true)"
        if [[ -n "$dir" && -x "$dir/initdb" && -x "$dir/pg_ctl" ]]; then
            echo "$dir"
            return
        fi
    fi
    # Newest installed major version first.
    local candidate
    for candidate in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5,5 -rn); do
        if [[ -x "$candidate/initdb" && -x "$candidate/pg_ctl" ]]; then
            echo "$candidate"
            return
        fi
    done
    die "no PostgreSQL server binaries found (looked at pg_config --bindir and /usr/lib/postgresql/*/bin); install postgresql"
}

# PostgreSQL refuses to run as root: as root, run its tools as the postgres user.
# The lock descriptor is closed so that the server does not inherit (and keep) the lock.
as_pg() {
    if [[ "$(id -u)" -eq 0 ]]; then
        (cd / && runuser -u postgres -- "$@") 9>&-
    else
        "$@" 9>&-
    fi
}

# Runs a command without the descriptors this script inherited above stderr. The server
# outlives the script: a caller's pipe or socket left open in it would make the caller wait
# for the server to exit (Foundation's Process does exactly that).
without_inherited_fds() {
    local fd closes=""
    for fd in /proc/$BASHPID/fd/*; do
        fd=${fd##*/}
        if ((fd > 2)); then closes+=" $fd>&-"; fi
    done
    # One exec with no redirection of its own: a `2>/dev/null` per descriptor made bash keep
    # stderr on a high descriptor meanwhile, which the loop then closed ("Bad file descriptor").
    # Callers must not redirect the call itself, for the same reason.
    eval "exec$closes"
    "$@"
}

is_running() {
    [[ -f "$DATA_DIR/PG_VERSION" ]] && as_pg "$BIN/pg_ctl" status -D "$DATA_DIR" >/dev/null 2>&1
}

accepts_connections() {
    "$BIN/pg_isready" -q -h "$SOCKET_DIR" -p "$PG_PORT" -d postgres -U postgres >/dev/null 2>&1 \
        && "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -d postgres -U postgres >/dev/null 2>&1
}

fail_with_log() {
    log "$1"
    if [[ -f "$LOG_FILE" ]]; then
        log "last lines of $LOG_FILE:"
        tail -n 30 "$LOG_FILE" >&2 || true
    fi
    exit 1
}

psql_admin() {
    as_pg "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$SOCKET_DIR" -p "$PG_PORT" -U postgres -d postgres "$@"
}

init_cluster() {
    log "initialising a cluster in $DATA_DIR ($("$BIN/postgres" --version))"
    mkdir -p "$PG_DIR"
    touch "$MARKER"
    mkdir -p "$DATA_DIR" "$SOCKET_DIR"
    chmod 700 "$DATA_DIR"
    if [[ "$(id -u)" -eq 0 ]]; then
        chown -R postgres:postgres "$PG_DIR"
    fi
    as_pg "$BIN/initdb" -D "$DATA_DIR" -U postgres -E UTF8 --locale=C \
        --auth-local=trust --auth-host=scram-sha-256 >"$PG_DIR/initdb.log" 2>&1 \
        || { cat "$PG_DIR/initdb.log" >&2; die "initdb failed"; }
    cat >>"$DATA_DIR/postgresql.conf" <<EOF

# --- scripts/postgres.sh: a throwaway cluster for tests ---
listen_addresses = '127.0.0.1'
unix_socket_directories = '$SOCKET_DIR'
max_connections = 200
shared_buffers = 32MB
fsync = $DURABILITY
synchronous_commit = $DURABILITY
full_page_writes = $DURABILITY
password_encryption = 'scram-sha-256'
timezone = 'UTC'
log_timezone = 'UTC'
max_prepared_transactions = ${SHARDD_PG_MAX_PREPARED:-64}
EOF
}

cmd_start() {
    if is_running && accepts_connections; then
        log "already running ($DATA_DIR, port $PG_PORT)"
        echo "export SHARDD_TEST_PG_URL='$URL'"
        return 0
    fi
    if [[ -e "$PG_DIR" && ! -f "$MARKER" ]]; then
        die "$PG_DIR exists but was not made by this script; set SHARDD_PG_DIR to another directory"
    fi
    if [[ ! -f "$DATA_DIR/PG_VERSION" ]]; then
        rm -rf "$DATA_DIR"
        init_cluster
    fi
    mkdir -p "$SOCKET_DIR"
    if [[ "$(id -u)" -eq 0 ]]; then
        chown postgres:postgres "$PG_DIR" "$SOCKET_DIR"
        touch "$LOG_FILE" && chown postgres:postgres "$LOG_FILE"
    fi
    if ! is_running; then
        log "starting PostgreSQL on 127.0.0.1:$PG_PORT and $SOCKET_DIR"
        # The port is given here rather than in postgresql.conf so that SHARDD_PG_PORT is honoured
        # by an existing cluster too.
        # stdout to stderr first, not on the call: bash would keep the old stdout on a high
        # descriptor meanwhile, which without_inherited_fds closes.
        if ! (exec >&2; without_inherited_fds as_pg "$BIN/pg_ctl" start -D "$DATA_DIR" -l "$LOG_FILE" -o "-p $PG_PORT" -w -t "$START_TIMEOUT"); then
            fail_with_log "PostgreSQL did not start"
        fi
    fi
    local waited=0
    until accepts_connections; do
        if ((waited >= START_TIMEOUT * 2)); then
            fail_with_log "PostgreSQL does not accept connections after ${START_TIMEOUT}s"
        fi
        if ! is_running; then
            fail_with_log "PostgreSQL stopped while starting"
        fi
        sleep 0.5
        waited=$((waited + 1))
    done

    psql_admin >&2 <<EOF
DO \$\$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$ROLE') THEN
        CREATE ROLE $ROLE LOGIN CREATEDB PASSWORD '$PASSWORD';
    ELSE
        ALTER ROLE $ROLE LOGIN CREATEDB PASSWORD '$PASSWORD';
    END IF;
END
\$\$;
EOF
    if [[ "$(psql_admin -At -c "SELECT 1 FROM pg_database WHERE datname = '$DATABASE'")" != 1 ]]; then
        psql_admin -c "CREATE DATABASE $DATABASE OWNER $ROLE ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0" >&2
    fi
    log "ready: $(printf '%s' "$URL" | sed 's/:[^:@]*@/:***@/')"
    echo "export SHARDD_TEST_PG_URL='$URL'"
}

cmd_stop() {
    if is_running; then
        log "stopping PostgreSQL ($DATA_DIR)"
        as_pg "$BIN/pg_ctl" stop -D "$DATA_DIR" -m fast -w -t "$START_TIMEOUT" >&2 \
            || as_pg "$BIN/pg_ctl" stop -D "$DATA_DIR" -m immediate -w >&2 \
            || die "could not stop PostgreSQL"
    fi
    if [[ -e "$PG_DIR" ]]; then
        if [[ -f "$MARKER" ]]; then
            rm -rf "$PG_DIR"
            log "removed $PG_DIR"
        else
            die "$PG_DIR was not made by this script; not removing it"
        fi
    fi
}

# Stops the server but keeps the cluster (for outage tests); `start` brings it back.
cmd_pause() {
    if is_running; then
        log "pausing PostgreSQL ($DATA_DIR); its data stays"
        as_pg "$BIN/pg_ctl" stop -D "$DATA_DIR" -m fast -w -t "$START_TIMEOUT" >&2 || die "could not stop PostgreSQL"
    fi
}

# Stops the server at once, as a crash would (no shutdown checkpoint; recovery at the next start).
cmd_crash() {
    if is_running; then
        log "crashing PostgreSQL ($DATA_DIR): pg_ctl stop -m immediate; its data stays"
        as_pg "$BIN/pg_ctl" stop -D "$DATA_DIR" -m immediate -w >&2 || die "could not stop PostgreSQL"
    fi
}

cmd_status() {
    if is_running; then
        if accepts_connections; then
            log "running: $DATA_DIR on 127.0.0.1:$PG_PORT, accepting connections"
        else
            log "running: $DATA_DIR on 127.0.0.1:$PG_PORT, not accepting connections yet"
        fi
        return 0
    fi
    if [[ -f "$DATA_DIR/PG_VERSION" ]]; then
        log "stopped (cluster exists in $DATA_DIR)"
    else
        log "stopped (no cluster in $PG_DIR)"
    fi
    return 3
}

[[ $# -eq 1 ]] || usage
case "$1" in
    url) echo "$URL"; exit 0 ;;
    start | stop | pause | crash | status) ;;
    *) usage ;;
esac

case "$PG_DIR" in
    "" | / | /tmp | /tmp/) die "refusing SHARDD_PG_DIR=$PG_DIR" ;;
esac

BIN="$(find_bindir)"

# One start/stop at a time (parallel callers of start all get the same running cluster).
LOCK_FILE="${PG_DIR%/}.lock"
if command -v flock >/dev/null 2>&1; then
    exec 9>"$LOCK_FILE"
    flock -w 120 9 || die "another postgres.sh holds $LOCK_FILE"
fi

case "$1" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    pause) cmd_pause ;;
    crash) cmd_crash ;;
    status) cmd_status ;;
esac
