#!/usr/bin/env bash
# The weather demo from a fresh clone: builds, starts shardd on a temporary copy of
# shards.conf (in its own temp directory, so ./data and ./shardd.sock are untouched), plays
# `weather demo` (SQLAlchemy's examples/sharding scenario), shows `shardctl shards` and
# `shardctl keys` (while the demo's session is still open), then stops the daemon (SIGTERM,
# waits for it) and removes the temp directory. The daemon is stopped on every way out
# (error, Ctrl-C, normal end); a failed step fails the script.
# Usage: scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== swift build" >&2
swift build >&2
BIN="$(swift build --show-bin-path)"

work="$(mktemp -d "${TMPDIR:-/tmp}/shardd-demo.XXXXXX")"
socket="$work/shardd.sock"
log="$work/shardd.log"
daemon_pid=""
demo_pid=""

# Ends a background process of this script (by its pid) and waits for it.
stop() {
    local pid="$1"
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
}
cleanup() {
    local status=$?
    stop "$demo_pid"
    stop "$daemon_pid"
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Relative paths in shards.conf (the socket, data/*.db) are relative to the file's directory.
cp shards.conf "$work/shards.conf"
echo "== starting shardd on $work/shards.conf" >&2
"$BIN/shardd" --config "$work/shards.conf" >"$log" 2>&1 &
daemon_pid=$!
for _ in $(seq 1 300); do
    [[ -S "$socket" ]] && break
    if ! kill -0 "$daemon_pid" 2>/dev/null; then
        echo "shardd exited before listening:" >&2
        cat "$log" >&2
        exit 1
    fi
    sleep 0.1
done
if [[ ! -S "$socket" ]]; then
    echo "shardd did not listen on $socket within 30 s:" >&2
    cat "$log" >&2
    exit 1
fi

# The demo holds its session open after the scenario, so that `shardctl keys` (which lists
# the keys of live sessions) shows its identity map: two reports with id 1 on two shards.
echo
echo "== weather demo"
demo_out="$work/demo.out"
"$BIN/weather" demo --socket "$socket" --hold 30 >"$demo_out" &
demo_pid=$!
until grep -q '^holding session' "$demo_out"; do
    if ! kill -0 "$demo_pid" 2>/dev/null; then
        demo_status=0
        wait "$demo_pid" || demo_status=$?
        demo_pid=""
        cat "$demo_out"
        echo "weather demo exited with status $demo_status" >&2
        exit 1
    fi
    sleep 0.1
done
cat "$demo_out"

echo
echo "== shardctl shards"
"$BIN/shardctl" shards --socket "$socket"

echo
echo "== shardctl keys"
"$BIN/shardctl" keys --socket "$socket"

stop "$demo_pid"
demo_pid=""

echo
echo "== stopping shardd (SIGTERM)" >&2
kill -TERM "$daemon_pid"
status=0
wait "$daemon_pid" || status=$?
daemon_pid=""
if [[ "$status" -ne 0 ]]; then
    echo "shardd exited with status $status:" >&2
    cat "$log" >&2
    exit 1
fi
echo "done: shardd stopped cleanly; the temporary directory is removed" >&2
