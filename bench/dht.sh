#!/usr/bin/env bash
# DHT (issue 12): magnet (info-hash only) -> first byte when the DHT is the only way to the
# seeder, side by side in one run from one local DHT (N libtorrent nodes on 127.x, meshed; a
# fresh torrent and a DHT-only libtorrent seeder per trial): our engine through the real stack
# (DHT_BOOTSTRAP_NODES = the local nodes) vs a fresh libtorrent leecher with DHT only (warm
# DHT, sequential, add_torrent -> piece 0 hashed). Median of N trials; prints ours, libtorrent
# and the ratio. If the engine does not answer KRPC on its peer port (no DHT yet) or there is
# no binary, our half prints "ours: n/a" and the libtorrent half still runs.
# Not part of `make test`. See bench/README.md.
# Usage: bench/dht.sh [trials]   (env: MIAUFLIX_BIN, DHT_ARGS="--nodes 5 --bootstrap 2 ..."
#        (see bench/dht_bench.py --help), BENCH_KEEP=1 keeps the work folder and stack logs)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
trials="${1:-3}"
export PATH="$PATH:/opt/swift/usr/bin"
scripts/install-deps.sh test >&2 || echo "dht: install-deps failed; trying with what is installed" >&2
if [ -z "${MIAUFLIX_BIN:-}" ]; then
    if [ -x "$repo/.build/release/miauflix" ]; then bin="$repo/.build/release/miauflix"; else bin="$repo/.build/debug/miauflix"; fi
else
    bin="$MIAUFLIX_BIN"
fi
if [ -x "$bin" ]; then
    bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
else
    echo "dht: no binary at $bin: ours will be n/a" >&2
    bin=""
fi
work="$(mktemp -d /tmp/miauflix-bench-dht-XXXXXX)"
chmod 755 "$work"
driver=""

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ -n "$driver" ] && kill -0 "$driver" 2>/dev/null; then
        kill -TERM "$driver" 2>/dev/null || true
        for _ in $(seq 1 300); do kill -0 "$driver" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$driver" 2>/dev/null || true
    fi
    # Backstop for a driver that died hard: its stack (the libtorrent processes run under
    # `timeout` and end on their own).
    data="$work/stack/data"
    if [ -n "$bin" ] && [ -d "$data" ]; then
        DATA_DIR="$data" MIAUFLIX_BIN="$bin" scripts/stack.sh stop >/dev/null 2>&1 || true
    fi
    if [ -n "${BENCH_KEEP:-}" ]; then echo "dht: kept $work" >&2; else rm -rf "$work"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# shellcheck disable=SC2086  # DHT_ARGS is a list of options
python3 -u bench/dht_bench.py --bin "$bin" --work "$work" --trials "$trials" --json "$work/results.json" \
    ${DHT_ARGS:-} &
driver=$!
wait "$driver"
