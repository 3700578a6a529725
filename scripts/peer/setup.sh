#!/usr/bin/env bash
# Creates (or brings up to date) the benchmark's Python environment: .venv-bench/ at the
# repository root, with SQLAlchemy 2.x (the peer: ShardedSession), psycopg2-binary (its
# PostgreSQL driver) and matplotlib (the plots). The folder is git-ignored (.venv*/).
#
# Usage: scripts/peer/setup.sh          prints nothing on success; the interpreter is then
#                                       .venv-bench/bin/python
# Idempotent: an existing environment that already has the packages is left as it is (no
# network). Set SHARDD_BENCH_VENV to use another folder.
set -euo pipefail
cd "$(dirname "$0")/../.."

venv="${SHARDD_BENCH_VENV:-.venv-bench}"
requirements=("SQLAlchemy>=2.0,<3" "psycopg2-binary>=2.9" "matplotlib>=3.5")

fail() {
    echo "scripts/peer/setup.sh: $*" >&2
    exit 1
}

command -v python3 >/dev/null 2>&1 || fail "python3 is not installed (Debian: apt-get install -y python3 python3-venv)"
python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 8) else 1)' \
    || fail "python3 $(python3 -c 'import platform; print(platform.python_version())') is too old: SQLAlchemy 2 needs 3.8 or later"

# A half-made environment (interrupted creation, moved interpreter) is made anew.
if [ -d "$venv" ] && ! "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then
    rm -rf "$venv"
fi
if [ ! -d "$venv" ]; then
    log="$(mktemp)"
    if ! python3 -m venv "$venv" >"$log" 2>&1; then
        cat "$log" >&2; rm -f "$log"; rm -rf "$venv"
        fail "could not create the virtual environment $venv (Debian: apt-get install -y python3-venv)"
    fi
    rm -f "$log"
fi

# Already complete? Then nothing to do (and no network needed).
check='
import sys
try:
    import sqlalchemy, psycopg2, matplotlib
except ImportError:
    sys.exit(1)
sys.exit(0 if int(sqlalchemy.__version__.split(".")[0]) == 2 else 1)
'
if "$venv/bin/python" -c "$check" >/dev/null 2>&1; then
    exit 0
fi

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${requirements[@]}" >"$log" 2>&1; then
    cat "$log" >&2
    fail "pip could not install ${requirements[*]} into $venv (is PyPI reachable?)"
fi
"$venv/bin/python" -c "$check" || fail "installed, but SQLAlchemy 2, psycopg2 and matplotlib still do not import from $venv"
