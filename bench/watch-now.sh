#!/usr/bin/env bash
# Watch Now (issue 6 streaming), side by side in one run from one local swarm (opentracker +
# libtorrent seeders, a fresh torrent per trial): our engine through the real stack (nginx +
# api + engine) vs a libtorrent leecher (sequential + piece deadlines), median of N trials:
#   first byte / first 4 MiB after the key request   target: first byte < 1 s and <= libtorrent
#   seek to 75% on a fresh torrent: first byte        target: <= 1.5 s
#   whole file, MB/s                                  target: >= 0.8 x libtorrent
#   engine peak RSS (VmHWM)                           target: < 150 MB
# Profiles: loopback (seeders not rate-limited) and netem (each seeder in a network namespace
# behind a 40 ms / 40 mbit link each way; userspace emulation if the kernel lacks sch_netem;
# skipped with a note without CAP_NET_ADMIN). Not part of `make test`. See bench/README.md.
# Usage: bench/watch-now.sh [trials]   (env: MIAUFLIX_BIN, WATCH_NOW_PROFILES=loopback,netem,
#        WATCH_NOW_ARGS="--seeders 2 --piece-kib 256 ..." (see bench/watch_now.py --help),
#        BENCH_KEEP=1 keeps the work folder and the stack logs)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
trials="${1:-3}"
export PATH="$PATH:/opt/swift/usr/bin"
scripts/install-deps.sh test >&2
if [ -z "${MIAUFLIX_BIN:-}" ]; then
    if [ -x "$repo/.build/release/miauflix" ]; then bin="$repo/.build/release/miauflix"; else bin="$repo/.build/debug/miauflix"; fi
    if [ "$bin" = "$repo/.build/release/miauflix" ] && [ "$repo/.build/debug/miauflix" -nt "$bin" ]; then
        echo "watch-now: warning: .build/release/miauflix is older than .build/debug/miauflix (stale?); set MIAUFLIX_BIN to choose" >&2
    fi
else
    bin="$MIAUFLIX_BIN"
fi
[ -x "$bin" ] || { echo "watch-now: no binary at $bin (build it or set MIAUFLIX_BIN)" >&2; exit 1; }
bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
work="$(mktemp -d /tmp/miauflix-bench-watch-XXXXXX)"
chmod 755 "$work"
tag="wn$(( $$ % 100000 ))"
driver=""

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ -n "$driver" ] && kill -0 "$driver" 2>/dev/null; then
        kill -TERM "$driver" 2>/dev/null || true
        for _ in $(seq 1 300); do kill -0 "$driver" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$driver" 2>/dev/null || true
    fi
    # Backstop for a driver that died hard: its stacks, namespaces (and what runs in them), links.
    for data in "$work"/*/stack/data; do
        [ -d "$data" ] && DATA_DIR="$data" MIAUFLIX_BIN="$bin" scripts/stack.sh stop >/dev/null 2>&1 || true
    done
    if command -v ip >/dev/null; then
        for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^mfx-$tag-" || true); do
            for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
            ip netns del "$ns" 2>/dev/null || true
        done
        for dev in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1 | grep "^$tag" || true); do
            ip link del "$dev" 2>/dev/null || true
        done
    fi
    if [ -n "${BENCH_KEEP:-}" ]; then echo "watch-now: kept $work" >&2; else rm -rf "$work"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# shellcheck disable=SC2086  # WATCH_NOW_ARGS is a list of options
python3 -u bench/watch_now.py --bin "$bin" --work "$work" --trials "$trials" --tag "$tag" \
    --profiles "${WATCH_NOW_PROFILES:-loopback,netem}" --json "$work/results.json" \
    --keep-logs "$work/logs" ${WATCH_NOW_ARGS:-} &
driver=$!
wait "$driver"
