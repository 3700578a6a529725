#!/usr/bin/env bash
# Builds and runs every test, PostgreSQL included, on a fresh machine:
#   1. installs what is missing (libsqlite3-dev, libpq-dev, postgresql) with apt-get, and
#      the prometheus_client parser with pip;
#   2. starts a throwaway PostgreSQL cluster (scripts/postgres.sh) on a free port;
#   3. swift build (and the daemon again with -DSHARDD_FAULTS, in .build-faults), swift test;
#   4. the Python client's tests (clients/python/tests) on the same daemon build and cluster;
#   5. stops the cluster on every exit path.
# PostgreSQL tests are never skipped: if the cluster cannot start, this script fails.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'test.sh: %s\n' "$*" >&2; }

missing=()
pkg-config --exists sqlite3 2>/dev/null || missing+=(libsqlite3-dev)
pkg-config --exists libpq 2>/dev/null || missing+=(libpq-dev)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
command -v pkg-config >/dev/null || missing+=(pkg-config)
if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    sudo=()
    [[ "$(id -u)" -eq 0 ]] || sudo=(sudo)
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The metrics tests read /metrics with prometheus_client's parser, as a Prometheus server would.
if ! python3 -c 'import prometheus_client' 2>/dev/null; then
    log "installing prometheus_client (pip)"
    python3 -m pip install --quiet --disable-pip-version-check prometheus_client
fi

# A cluster of our own on a free port, so a developer's running one is left alone.
export SHARDD_PG_DIR="${SHARDD_PG_DIR:-/tmp/shardd-pg-test-$$}"
export SHARDD_PG_PORT="${SHARDD_PG_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}"
cleanup() {
    scripts/postgres.sh stop || log "could not stop the PostgreSQL cluster in $SHARDD_PG_DIR"
    rm -f "$SHARDD_PG_DIR.lock"
}
trap cleanup EXIT
if ! pg_env="$(scripts/postgres.sh start)"; then
    log "PostgreSQL could not start (see the messages above); the PostgreSQL tests cannot run, so the run fails"
    exit 1
fi
eval "$pg_env"
log "PostgreSQL for tests: $SHARDD_TEST_PG_URL"

swift build --build-tests
# The daemon again with the fault points of protocol.md 6.2 compiled in (crash tests kill
# it at them); its own build directory, so that the normal build never has fault code.
swift build --scratch-path .build-faults -Xswiftc -DSHARDD_FAULTS --product shardd
export SHARDD_FAULTS_BINARY="$(swift build --scratch-path .build-faults -Xswiftc -DSHARDD_FAULTS --show-bin-path)/shardd"
# The soak test loads both cores for a minute: it runs alone first, so that it neither
# starves the other tests nor is disturbed by them. The moves' load tests (a rebalance of
# 20,000 rows killed three times, the guide with weather load through two rebalances, a
# PostgreSQL cluster of their own) come next, by themselves for the same reason; then
# everything else.
heavy='MoveChaosTests|GrowGuideTests|MoveOutageTests'
swift test --skip-build --filter SoakTests
swift test --skip-build --filter "$heavy"
swift test --skip-build --skip "SoakTests|$heavy"
# The Python client (clients/python): its unittest suite against the daemon built above, on
# SQLite and, with the same PostgreSQL (SHARDD_TEST_PG_URL), on the mixed layout.
log "Python client tests (clients/python)"
SHARDD_BINARY="$(swift build --show-bin-path)/shardd" python3 -m unittest discover -s clients/python/tests
