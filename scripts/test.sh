#!/usr/bin/env bash
# The whole test suite: lint, format check, type check, then pytest against SQLite and PostgreSQL.
# Called by `./dev test` (README's test command), which .ci/run calls.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin

# PostgreSQL: start the local server if it is down, then make a throwaway database for this run.
if [ -z "${KAPACITET_TEST_PG:-}" ]; then
    if command -v pg_isready >/dev/null && ! pg_isready -q -h 127.0.0.1 -p 5432; then
        if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
            pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
            for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
        fi
    fi
    if command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432; then
        db="kapacitet_test_$$"
        psql -h 127.0.0.1 -U postgres -d postgres -qc "CREATE DATABASE $db" >/dev/null
        trap 'psql -h 127.0.0.1 -U postgres -d postgres -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true' EXIT
        export KAPACITET_TEST_PG="postgresql+psycopg://postgres@127.0.0.1:5432/$db"
    elif [ -n "${CI:-}" ]; then
        echo "PostgreSQL is not reachable on 127.0.0.1:5432; CI needs it" >&2
        exit 1
    fi
fi

# Browser tests drive Debian's headless Chromium (never a downloaded browser): install it if missing.
if ! command -v chromium >/dev/null && [ -z "${KAPACITET_CHROMIUM:-}" ]; then
    if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
        echo "== installing Debian's chromium for the browser tests (log: .venv/chromium-install.log)"
        { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; } \
            >.venv/chromium-install.log 2>&1 || echo "chromium install failed; browser tests will skip" >&2
    fi
fi

echo "== ruff"
$BIN/ruff check .
$BIN/ruff format --check .
echo "== mypy capacity/ solver/ scenarios/ workflow/ api/ reports/ interop/ kapacitet/"
$BIN/mypy capacity solver scenarios workflow api reports interop kapacitet
echo "== pytest"
$BIN/pytest -n 2 -q "$@"
