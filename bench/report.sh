#!/usr/bin/env bash
# One report of every benchmark of the project (api-floor, auth, catalog, codec, watch-now,
# dht, soak): runs each, keeps its output, and writes bench/results/report-<timestamp>.md (one
# Markdown table: benchmark, metric, ours, peer, ratio, target) plus
# bench/results/report-<timestamp>-latency.png (latency percentiles, matplotlib). A failing
# benchmark gets a "failed" row with its last lines; the others still run.
# Short by default (watch-now: 1 trial, loopback only; dht: 1 trial; soak: 120 s); --full:
# watch-now 3 trials of both profiles, dht 3 trials, soak 600 s. Note codec.sh builds its CodecBench product itself.
# Usage: bench/report.sh [--full] [--only catalog,auth,...] [--seconds N] [--soak-duration N] [--dry-run]
#   --dry-run runs no benchmark: it parses built-in sample outputs (made-up numbers) to check
#   the table and chart generation.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
if [ -z "${MIAUFLIX_BIN:-}" ]; then
    if [ -x "$repo/.build/release/miauflix" ]; then MIAUFLIX_BIN="$repo/.build/release/miauflix"; else MIAUFLIX_BIN="$repo/.build/debug/miauflix"; fi
fi
MIAUFLIX_BIN="$(cd "$(dirname "$MIAUFLIX_BIN")" && pwd)/$(basename "$MIAUFLIX_BIN")"
export MIAUFLIX_BIN
python3 -c 'import matplotlib' 2>/dev/null || python3 -m pip install -q matplotlib >&2 \
    || echo "report: could not install matplotlib; the report will have no chart" >&2
exec python3 -u bench/report.py "$@"
