#!/usr/bin/env bash
# Benchmarks. Usage:
#   scripts/bench.sh [all] [options]   everything of issue 7 in one sitting (about 15 minutes):
#                                      release build, workloads (1)-(7) on 4 SQLite shards and on
#                                      2 SQLite + 2 PostgreSQL shards against SQLAlchemy's
#                                      ShardedSession, the floor, commits in both modes,
#                                      the Python client's get loop, scaling, memory, moves,
#                                      pages; then rewrites
#                                      the generated part of BENCHMARKS.md
#   scripts/bench.sh quick             about 2 minutes with the build done, for before/after
#                                      comparisons: the floor step (short) and the commits
#   scripts/bench.sh floor             issue 19 (about 3 minutes with the build done): on 4 SQLite
#                                      shards of 5,000 reports each, one Python client loop against
#                                      a 20-line echo server, ping, gets with and without the shard,
#                                      top-10 and group-by (scripts/bench/floor.py), the same
#                                      fan-out statements straight to the shards with every shard
#                                      at once (direct.py), and the daemon's CPU per pipelined get
#                                      and ping, 16 clients x 16 deep (--floor-rounds ...)
#   scripts/bench.sh workloads|floor|pyclient|commits|scaling|memory|moves|pages [options]
#                                      one step again (its figures replace that step's only)
#   scripts/bench.sh pages             issue 18 (about 5 minutes with the build done): on 4 SQLite
#                                      shards of 20,000 reports each, pages 1, 100 and 1,000 of 20
#                                      rows by offset and by cursor (page_size/after), and
#                                      gets by key and single-row add/update + commit with no
#                                      subscriber, one of every Report change, one with a where,
#                                      one that never reads (until its overflow)
#                                      (--pages-reports-per-shard, --pages-rounds, --feed-slice...)
#   scripts/bench.sh pyclient          issue 20 (under a minute with the build done): the get loop of
#                                      (1) through the shardd package (clients/python) against the
#                                      bench's hand-written line client, in turns, on 4 SQLite
#                                      shards (--getloop-rounds, --getloop-duration)
#   scripts/bench.sh report            BENCHMARKS.md again from .bench-data/results.json
#   scripts/bench.sh store [--rows N] [--selects N]
#                                      the shard backends (point select, batched insert) beside
#                                      the same statements run by the sqlite3 and psql clients;
#                                      prints a Markdown table for BENCHMARKS.md
#   scripts/bench.sh help              the options of all/workloads/scaling/memory
# Starts its own throwaway PostgreSQL cluster (scripts/postgres.sh) and stops it after, on
# every exit path. Seeded data is cached in .bench-data/ (git-ignore it); --reseed seeds anew.
set -euo pipefail
cd "$(dirname "$0")/.."

what="${1:-all}"
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
all | quick | floor | workloads | pyclient | commits | scaling | memory | moves | pages | report)
    # Always a cluster of our own (never one the caller's SHARDD_PG_DIR names: stop deletes it).
    export SHARDD_PG_DIR="/tmp/shardd-pg-bench-$$"
    export SHARDD_PG_PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
    # run.py stops the cluster itself; this catches what it cannot (e.g. it was killed).
    trap 'scripts/postgres.sh stop >/dev/null 2>&1 || true; rm -f "$SHARDD_PG_DIR.lock"' EXIT
    python3 scripts/bench/run.py "$what" "$@"
    ;;
help | -h | --help)
    python3 scripts/bench/run.py --help
    ;;
*)
    echo "usage: scripts/bench.sh [all|quick|floor|workloads|pyclient|commits|scaling|memory|moves|pages|report] [options]   (scripts/bench.sh help)" >&2
    echo "       scripts/bench.sh store [--rows N] [--selects N]" >&2
    exit 2
    ;;
esac
