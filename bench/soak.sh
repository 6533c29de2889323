#!/usr/bin/env bash
# Soak (issue 14): the real stack (nginx + api + engine, scripts/stack.sh) on free loopback
# ports in a temporary DATA_DIR, recorded TMDB answers, a local libtorrent-seeded source on
# movie 680; for --duration seconds (default 600) mixed API load through nginx (wrk, or a
# Python thread pool without wrk) on /api/health, /api/lists, /api/list/<slug>,
# /api/movies/680, /api/progress, plus 2 streams re-reading the movie with random Range
# requests; VmRSS of the nginx, api and engine process groups every 10 s.
# Reports req/s, p50/p99, 5xx, failed stream reads, the RSS series and a flat-memory verdict
# per group (least-squares slope after the first minute, MB/hour; "growth" if slope x run
# length > 10 % of the starting RSS). Writes bench/results/soak-<timestamp>.{json,md}.
# Not part of `make test`. Never builds: uses MIAUFLIX_BIN (default .build/release/miauflix,
# else .build/debug/miauflix).
# Usage: bench/soak.sh [--duration SECONDS] [--connections N] [--streams N] [--keep]
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
if [ -z "${MIAUFLIX_BIN:-}" ]; then
    if [ -x "$repo/.build/release/miauflix" ]; then bin="$repo/.build/release/miauflix"; else bin="$repo/.build/debug/miauflix"; fi
else
    bin="$MIAUFLIX_BIN"
fi
[ -x "$bin" ] || { echo "soak: no binary at $bin (build it or set MIAUFLIX_BIN)" >&2; exit 1; }
bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
# The e2e harness's tools (opentracker, mktorrent, ffmpeg, nginx, libtorrent, requests).
if ! command -v opentracker >/dev/null || ! command -v mktorrent >/dev/null || ! command -v nginx >/dev/null \
    || ! python3 -c 'import libtorrent, requests' 2>/dev/null; then
    scripts/install-deps.sh test >&2
fi
command -v wrk >/dev/null || echo "soak: wrk not found, using the Python thread pool for the API load" >&2
driver=""
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ -n "$driver" ] && kill -0 "$driver" 2>/dev/null; then
        kill -TERM "$driver" 2>/dev/null || true
        for _ in $(seq 1 300); do kill -0 "$driver" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$driver" 2>/dev/null || true
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
python3 -u bench/soak.py --bin "$bin" "$@" &
driver=$!
wait "$driver"
