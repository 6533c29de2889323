#!/usr/bin/env python3
"""Captures golden peer-wire bytes from a real libtorrent peer on loopback: its handshake and
the messages that follow (extended handshake, have-all/bitfield), and its answer to a BEP 9
metadata request. Usage: capture-peer-fixtures.py TORRENT OUT_DIR. Regenerates the seed data
exactly as scripts/make-torrent-fixtures.sh does (random.Random(42))."""
import os, random, socket, struct, sys, tempfile, time
import libtorrent as lt

torrent_path, out = sys.argv[1], sys.argv[2]
work = tempfile.mkdtemp()
rng = random.Random(42)
with open(os.path.join(work, "movie.mkv"), "wb") as f:
    f.write(bytes(rng.getrandbits(8) for _ in range(1_000_003)))

session = lt.session({"listen_interfaces": "127.0.0.1:0", "enable_dht": False, "enable_lsd": False, "enable_upnp": False,
                      "enable_natpmp": False, "alert_mask": 0})
info = lt.torrent_info(torrent_path)
handle = session.add_torrent({"ti": info, "save_path": work, "flags": lt.torrent_flags.seed_mode})
deadline = time.time() + 10
while not handle.status().is_seeding and time.time() < deadline:
    time.sleep(0.05)
port = session.listen_port()

def bencode_dict(d):
    out = b"d"
    for k in sorted(d):
        v = d[k]
        out += str(len(k)).encode() + b":" + k
        if isinstance(v, int): out += b"i%de" % v
        elif isinstance(v, dict): out += bencode_dict(v)
        else: out += str(len(v)).encode() + b":" + v
    return out + b"e"

sock = socket.create_connection(("127.0.0.1", port), timeout=5)
reserved = bytearray(8); reserved[5] |= 0x10; reserved[7] |= 0x04
sock.sendall(bytes([19]) + b"BitTorrent protocol" + bytes(reserved) + info.info_hashes().v1.to_bytes() + b"-MF0001-abcdefghijkl")
ext = bencode_dict({b"m": {b"ut_metadata": 3}, b"v": b"Miauflix test"})
sock.sendall(struct.pack(">IBB", len(ext) + 2, 20, 0) + ext)

def read_for(seconds):
    data = b""
    sock.settimeout(0.2)
    end = time.time() + seconds
    while time.time() < end:
        try:
            chunk = sock.recv(65536)
            if not chunk: break
            data += chunk
        except socket.timeout:
            pass
    return data

first = read_for(1.5)
open(os.path.join(out, "libtorrent-handshake.bin"), "wb").write(first)
# Their ut_metadata id is in their extended handshake: find it.
start = first.find(b"ut_metadatai")
their_id = int(first[start + 12:first.index(b"e", start + 12)])
request = bencode_dict({b"msg_type": 0, b"piece": 0})
sock.sendall(struct.pack(">IBB", len(request) + 2, 20, their_id) + request)
second = read_for(1.5)
open(os.path.join(out, "libtorrent-metadata.bin"), "wb").write(second)
print(len(first), len(second), "bytes captured; their ut_metadata id", their_id)
