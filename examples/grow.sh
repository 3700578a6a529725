#!/usr/bin/env bash
# Growing a deployment (docs/moves.md), as a script: four SQLite shards with weather rows;
# a PostgreSQL shard added and Europe moved onto it; then a SQLite shard drained. Each
# rebalance runs online while `weather load` reads and writes, and checks every row it wrote.
#
# Usage: examples/grow.sh [directory]
#   directory: where shards.conf, data/ and the socket go (default: a new temp directory).
#   PostgreSQL: $SHARDD_GROW_PG_URL, else a throwaway cluster from scripts/postgres.sh.
#   Binaries: $SHARDD_BIN (a directory with shardd, shardctl, weather), else `swift build`.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
if [[ -z "${SHARDD_BIN:-}" ]]; then
    (cd "$repo" && swift build >&2)
    SHARDD_BIN="$(cd "$repo" && swift build --show-bin-path)"
fi
bin="$SHARDD_BIN"
dir="${1:-$(mktemp -d "${TMPDIR:-/tmp}/shardd-grow.XXXXXX")}"
mkdir -p "$dir" && cd "$dir"
daemon=""
started_pg=""
finish() {
    local status=$?
    if [[ -n "$daemon" ]]; then kill -TERM "$daemon" 2>/dev/null || true; wait "$daemon" 2>/dev/null || true; fi
    if [[ -n "$started_pg" ]]; then "$repo/scripts/postgres.sh" stop >/dev/null || true; fi
    exit "$status"
}
trap finish EXIT
if [[ -z "${SHARDD_GROW_PG_URL:-}" ]]; then
    export SHARDD_PG_DIR="$dir/pg" SHARDD_PG_PORT="${SHARDD_PG_PORT:-54331}"
    eval "$("$repo/scripts/postgres.sh" start)"
    started_pg=1
    export SHARDD_GROW_PG_URL="$SHARDD_TEST_PG_URL"
fi

step() { printf '\n== %s\n' "$*"; }
start() {
    "$bin/shardd" --config shards.conf >> shardd.log 2>&1 &
    daemon=$!
    for _ in $(seq 100); do "$bin/shardctl" ping >/dev/null 2>&1 && return; sleep 0.1; done
    cat shardd.log; exit 1
}
stop() { kill -TERM "$daemon"; wait "$daemon" || true; daemon=""; }
# A rebalance while `weather load` runs: the load's errors may only be the codes of a move.
rebalance_under_load() {
    "$bin/weather" load --clients 4 --mix get=40,query=20,add=30,aggregate=10 --duration 6 --check-writes --json > "load-$1.json" &
    local load=$!
    sleep 1
    "$bin/shardctl" rebalance --wait
    wait "$load"
    python3 - "load-$1.json" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
errors = {code: n for code, n in report["errors"].items() if code not in ("moved", "transaction_aborted")}
writes = report["writes"]
print(f"weather load during the rebalance: {report['count']} requests, errors {report['errors'] or 'none'}, "
      f"{writes['checked']} written reports read back ({writes['followed_moves']} after a move)")
sys.exit(1 if errors or writes["missing"] or writes["changed"] else 0)
PY
}

step "1. Four SQLite shards with weather rows"
cp "$repo/shards.conf" shards.conf
start
"$bin/weather" seed --locations 400 --reports-per-location 25
"$bin/shardctl" shards

step "2. Add a PostgreSQL shard, and put Europe on it"
stop
cat >> shards.conf <<'CONF'

[shards.pg]
url_env = "SHARDD_GROW_PG_URL"
CONF
sed -i 's/"Europe" = "europe"/"Europe" = "pg"/' shards.conf
start
"$bin/shardctl" placement
"$bin/shardctl" rebalance --plan
rebalance_under_load pg
"$bin/shardctl" verify

step "3. Drain south_america: South America goes to PostgreSQL too"
stop
sed -i 's|url = "sqlite:data/south_america.db"|url = "sqlite:data/south_america.db"\ndrain = true|; s/"South America" = "south_america"/"South America" = "pg"/' shards.conf
start
"$bin/shardctl" rebalance --plan
rebalance_under_load drain
"$bin/shardctl" verify
"$bin/shardctl" shards
"$bin/shardctl" jobs
