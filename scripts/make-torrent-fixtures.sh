#!/usr/bin/env bash
# Regenerates the golden .torrent fixtures with real clients (mktorrent, transmission-create,
# libtorrent's Python bindings). Deterministic content; creation dates vary by client, so the
# committed files are the reference and this script documents how they were made.
# Usage: scripts/make-torrent-fixtures.sh OUT_DIR
set -euo pipefail
out="${1:?output folder}"
mkdir -p "$out"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 - "$work" <<'PY'
import os, random, sys
root = sys.argv[1]
rng = random.Random(42)
def blob(path, size):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(bytes(rng.getrandbits(8) for _ in range(size)))
blob(f"{root}/single/movie.mkv", 1_000_003)            # odd size: last piece short
blob(f"{root}/multi/Show S01/E01.mkv", 700_001)
blob(f"{root}/multi/Show S01/E02.mkv", 650_017)
blob(f"{root}/multi/Show S01/subs/E01.srt", 2_345)
PY
mktorrent -l 18 -a http://127.0.0.1:6969/announce -a udp://127.0.0.1:6969 -c "golden single" -o "$out/mktorrent-single.torrent" "$work/single/movie.mkv" >/dev/null
mktorrent -l 16 -a http://127.0.0.1:6969/announce,http://127.0.0.2:6969/announce -w http://127.0.0.1:8000/seed/ -p -o "$out/mktorrent-multi-private.torrent" "$work/multi/Show S01" >/dev/null
transmission-create -s 32 -t http://127.0.0.1:6969/announce -o "$out/transmission-multi.torrent" "$work/multi/Show S01" >/dev/null
python3 - "$work" "$out" <<'PY'
import sys, libtorrent as lt
work, out = sys.argv[1], sys.argv[2]
fs = lt.file_storage()
lt.add_files(fs, f"{work}/single/movie.mkv")
t = lt.create_torrent(fs, 32768)  # 32 KiB pieces
t.add_tracker("udp://127.0.0.1:6969", 0)
lt.set_piece_hashes(t, f"{work}/single")
open(f"{out}/libtorrent-single-32k.torrent", "wb").write(lt.bencode(t.generate()))
for name in ("mktorrent-single", "mktorrent-multi-private", "transmission-multi", "libtorrent-single-32k"):
    info = lt.torrent_info(f"{out}/{name}.torrent")
    open(f"{out}/{name}.expected", "w").write(f"{info.info_hashes().v1}\n{info.num_pieces()}\n{info.total_size()}\n{info.num_files()}\n")
PY
