#!/usr/bin/env bash
# Benchmarks. Usage: scripts/bench.sh store [--rows N] [--selects N]
#   store   the shard backends (point select, batched insert) beside the same statements
#           run by the sqlite3 and psql clients; prints a Markdown table for BENCHMARKS.md.
# Starts its own throwaway PostgreSQL cluster (scripts/postgres.sh) and stops it after.
set -euo pipefail
cd "$(dirname "$0")/.."

what="${1:-store}"
shift || true
case "$what" in
store)
    swift build -c release --product storebench >&2
    export SHARDD_PG_DIR="${SHARDD_PG_DIR:-/tmp/shardd-pg-bench-$$}"
    export SHARDD_PG_PORT="${SHARDD_PG_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}"
    trap 'scripts/postgres.sh stop >/dev/null 2>&1 || true; rm -f "$SHARDD_PG_DIR.lock"' EXIT
    eval "$(scripts/postgres.sh start)"
    python3 scripts/bench_store.py --storebench "$(swift build -c release --show-bin-path)/storebench" \
        --pg-url "$SHARDD_TEST_PG_URL" "$@"
    ;;
*)
    echo "usage: scripts/bench.sh store [--rows N] [--selects N]" >&2
    exit 2
    ;;
esac
