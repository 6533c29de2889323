#!/usr/bin/env bash
# Codec throughput (issue 5), side by side in one run:
#   a ~1.5 MB metainfo: our BencodeDecoder vs libtorrent's bdecode (Python bindings)
#   a 16 MB stream of peer-wire piece messages fed in 64 KiB chunks: our PeerWireDecoder
#     vs a minimal Python struct-based framer (the floor of doing it at all)
# Usage: bench/codec.sh [iterations]
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
iterations="${1:-20}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 -c 'import libtorrent' 2>/dev/null || python3 -m pip install -q libtorrent
swift build -c release --product CodecBench >/dev/null
bench="$repo/.build/release/CodecBench"
python3 - "$work" <<'PY'
import os, random, struct, sys
import libtorrent as lt
work = sys.argv[1]
rng = random.Random(1)
files = [{b"length": rng.randint(1, 10**9), b"path": [b"Season %d" % (i // 100), b"Episode %05d.mkv" % i]} for i in range(5000)]
info = {b"name": b"Big Box Set", b"piece length": 262144, b"pieces": rng.randbytes(20 * 60000), b"files": files}
open(f"{work}/meta.torrent", "wb").write(lt.bencode({b"announce": b"http://127.0.0.1/announce", b"info": info}))
block = rng.randbytes(16384)
stream = b"".join(struct.pack(">IBII", 9 + len(block), 7, i // 16, (i % 16) * 16384) + block for i in range(1000))
open(f"{work}/pieces.bin", "wb").write(stream)
PY
meta_size=$(stat -c %s "$work/meta.torrent")
ours_bencode=$("$bench" "$work/meta.torrent" "$iterations" bencode | cut -d' ' -f1)
theirs_bencode=$(python3 - "$work/meta.torrent" "$iterations" <<'PY'
import sys, time, libtorrent as lt
data = open(sys.argv[1], "rb").read(); n = int(sys.argv[2])
start = time.perf_counter()
for _ in range(n): lt.bdecode(data)
print(f"{len(data) * n / 1048576 / (time.perf_counter() - start):.1f}")
PY
)
ours_wire=$("$bench" "$work/pieces.bin" "$iterations" peerwire | cut -d' ' -f1)
python_wire=$(python3 - "$work/pieces.bin" "$iterations" <<'PY'
import struct, sys, time
data = open(sys.argv[1], "rb").read(); n = int(sys.argv[2])
start = time.perf_counter()
for _ in range(n):
    buffer = bytearray(); total = 0
    for offset in range(0, len(data), 65536):
        buffer += data[offset:offset + 65536]
        while len(buffer) >= 4:
            (length,) = struct.unpack_from(">I", buffer)
            if len(buffer) < 4 + length: break
            total += length; del buffer[:4 + length]
print(f"{len(data) * n / 1048576 / (time.perf_counter() - start):.1f}")
PY
)
printf 'codec bench: %s iterations\n' "$iterations"
printf '%-52s %10s MB/s\n' "metainfo ($meta_size bytes): miauflix BencodeDecoder" "$ours_bencode"
printf '%-52s %10s MB/s\n' "metainfo: libtorrent bdecode (Python bindings)" "$theirs_bencode"
printf '%-52s %10s MB/s\n' "peer wire, 1000 x 16 KiB pieces: miauflix decoder" "$ours_wire"
printf '%-52s %10s MB/s\n' "peer wire: Python struct framer (floor)" "$python_wire"
python3 -c "import sys; print(f'bencode ours/libtorrent = {float(sys.argv[1])/float(sys.argv[2]):.2f}')" "$ours_bencode" "$theirs_bencode"
