#!/usr/bin/env bash
# Builds the libFuzzer targets (swiftc -sanitize=fuzzer,address) and runs each for N seconds
# on its corpus folder (fuzz/corpus/<target>, seeds committed, findings added locally).
# Usage: fuzz/run.sh [seconds-per-target]. A crash leaves crash-* files and exits non-zero.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
seconds="${1:-30}"
out="$repo/.build-fuzz"
mkdir -p "$out"

build() { # name sources...
    local name="$1"; shift
    swiftc -sanitize=fuzzer,address -parse-as-library -O -module-name "Fuzz$name" \
        -I "$repo/Sources/COpenSSL" -I "$repo/Sources/CArgon2" \
        "$@" -o "$out/fuzz-$name" -lcrypto -largon2 2>&1 | grep -v warning || true
    [ -x "$out/fuzz-$name" ] || { echo "fuzz: build of $name failed" >&2; exit 1; }
}

build jwt "$repo"/Sources/Crypto/*.swift "$repo/fuzz/FuzzJWT.swift"
build web "$repo"/Sources/WebCore/*.swift "$repo/fuzz/FuzzWeb.swift"
# Bencode, BitTorrentCore and BitTorrentProtocol in one module: drop the cross-module imports.
rm -rf "$out/torrent-src" && mkdir -p "$out/torrent-src"
for f in "$repo"/Sources/Bencode/*.swift "$repo"/Sources/BitTorrentCore/*.swift "$repo"/Sources/BitTorrentProtocol/*.swift; do
    sed -e '/^import Bencode$/d' -e '/^import BitTorrentCore$/d' "$f" >"$out/torrent-src/$(basename "$(dirname "$f")")-$(basename "$f")"
done
build torrent "$out"/torrent-src/*.swift "$repo/fuzz/FuzzTorrent.swift"
build sources "$repo"/Sources/SourceLogic/*.swift "$repo/fuzz/FuzzSources.swift"

for target in jwt web torrent sources; do
    mkdir -p "$repo/fuzz/corpus/$target" "$out/corpus-$target"
    (cd "$out" && ./"fuzz-$target" -max_total_time="$seconds" -max_len=4096 -timeout=5 -rss_limit_mb=2048 \
        "$out/corpus-$target" "$repo/fuzz/corpus/$target" 2>&1 | tail -n 3)
done
echo "fuzz: no crash in ${seconds}s per target"
