"""The loopback swarm harness (swarm.py) itself: tracker, torrents, libtorrent seeder and leecher,
the corrupt peer. Needs opentracker, mktorrent, ffmpeg and libtorrent 2.1.1, not the Swift binary."""
import hashlib
import json
import socket
import struct
import subprocess
import time
from pathlib import Path

import pytest

import swarm

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def media():
    return swarm.make_media(REPO / ".build" / "test-media")


@pytest.fixture(scope="module")
def media_sha256(media):
    return swarm.sha256_file(media)


@pytest.fixture(scope="module")
def tracker(tmp_path_factory):
    t = swarm.Tracker(tmp_path_factory.mktemp("tracker"))
    try:
        yield t
    finally:
        t.stop()


@pytest.fixture(scope="module")
def torrent(tracker, media, tmp_path_factory):
    """(path, infohash) of a 64 KiB-piece torrent of the media with an HTTP and a UDP tier, whitelisted."""
    path = tmp_path_factory.mktemp("torrents") / "media-64k.torrent"
    _, infohash = swarm.make_torrent(media, [tracker.http_url, tracker.udp_url], 64, path)
    tracker.add_hash(infohash)
    return path, infohash


@pytest.fixture
def started():
    """Collects harness parts and stops them (by PID) when the test ends, in reverse order."""
    parts = []
    yield parts
    for part in reversed(parts):
        part.stop()


def test_media_is_h264_aac_faststart(media):
    probe = subprocess.run(["timeout", "30", "ffprobe", "-v", "error", "-show_entries",
                            "stream=codec_name,width,height:format=duration", "-of", "json", str(media)],
                           capture_output=True, text=True, check=True)
    info = json.loads(probe.stdout)
    codecs = sorted(s["codec_name"] for s in info["streams"])
    assert codecs == ["aac", "h264"]
    video = next(s for s in info["streams"] if s["codec_name"] == "h264")
    assert (video["width"], video["height"]) == (640, 360)
    assert 20 <= float(info["format"]["duration"]) <= 30
    assert 4_000_000 <= media.stat().st_size <= 10_000_000
    head = media.read_bytes()[:64]
    assert head[4:8] == b"ftyp" and head[36:40] == b"moov"  # faststart: moov right after ftyp


def test_torrent_is_reproducible_and_magnet(media, tmp_path):
    a, hash_a = swarm.make_torrent(media, ["http://127.0.0.1:1/announce", "udp://127.0.0.1:1"], 32, tmp_path / "a.torrent")
    b, hash_b = swarm.make_torrent(media, ["http://127.0.0.1:1/announce", "udp://127.0.0.1:1"], 32, tmp_path / "b.torrent")
    assert a == b and hash_a == hash_b
    meta = swarm.read_torrent(a)
    assert meta["piece_length"] == 32768 and meta["length"] == media.stat().st_size
    assert meta["num_pieces"] == -(-meta["length"] // 32768)
    assert meta["trackers"] == ["http://127.0.0.1:1/announce", "udp://127.0.0.1:1"]
    assert swarm.bdecode(a)[b"announce-list"] == [[b"http://127.0.0.1:1/announce"], [b"udp://127.0.0.1:1"]]
    uri = swarm.magnet(hash_a, meta["trackers"], media.name)
    assert uri.startswith(f"magnet:?xt=urn:btih:{hash_a}&dn=")
    assert "&tr=http%3A%2F%2F127.0.0.1%3A1%2Fannounce&tr=udp%3A%2F%2F127.0.0.1%3A1" in uri


def test_tracker_whitelist_and_reload(tmp_path):
    tracker = swarm.Tracker(tmp_path)
    try:
        info_hash = bytes.fromhex("ab" * 20)
        with pytest.raises(RuntimeError, match="not authorized"):
            swarm.http_announce(tracker.http_url, info_hash, b"-XX0000-123456789012", 6000, source="127.0.0.9")
        tracker.add_hash(info_hash.hex())
        reply = swarm.http_announce(tracker.http_url, info_hash, b"-XX0000-123456789012", 6000, source="127.0.0.9",
                                    event="started")
        assert reply[b"interval"] > 0
        assert tracker.scrape(info_hash.hex())["complete"] == 1
        # `timeout -k` would arm its kill timer on a forwarded SIGHUP and kill the tracker 5 s
        # later; add_hash signals opentracker itself, so it is still up after that.
        time.sleep(6)
        assert tracker.proc.poll() is None
        peers = swarm.compact_peers(swarm.http_announce(tracker.http_url, info_hash, b"-XX0000-000000000000", 6001,
                                                        source="127.0.0.10"))
        assert sorted(peers) == ["127.0.0.10:6001", "127.0.0.9:6000"]  # opentracker lists the asker too
    finally:
        tracker.stop()
    assert tracker.proc.poll() is not None


def test_leecher_downloads_from_seeder_through_tracker(tracker, torrent, media, media_sha256, tmp_path, started):
    path, infohash = torrent
    seeder = swarm.Seeder(path, media.parent, swarm.fresh_address())
    started.append(seeder)
    assert tracker.wait_seeders(infohash, 1, timeout=10)
    leecher = swarm.Leecher(path, tmp_path / "dest", swarm.fresh_address())  # no explicit peer: the tracker
    started.append(leecher)
    assert leecher.wait_complete(30), leecher.describe()
    assert leecher.sha256() == media_sha256
    assert seeder.endpoint in leecher.peers_connected
    assert leecher.find("announced"), "the leecher never got a tracker reply"
    assert leecher.hash_failures == 0


def test_magnet_from_one_peer_only(tracker, torrent, media, media_sha256, tmp_path, started):
    """Two seeders are on the tracker; a leecher told to use only the first never talks to the other."""
    path, infohash = torrent
    first = swarm.Seeder(path, media.parent, swarm.fresh_address())
    started.append(first)
    other = swarm.Seeder(path, media.parent, swarm.fresh_address())
    started.append(other)
    uri = swarm.magnet(infohash, [tracker.http_url, tracker.udp_url], media.name)
    leecher = swarm.Leecher(uri, tmp_path / "dest", swarm.fresh_address(), peers=first.endpoint, only_peers=True)
    started.append(leecher)
    assert leecher.wait_complete(30), leecher.describe()
    assert leecher.sha256() == media_sha256
    assert leecher.peers_connected == {first.endpoint}
    assert set(leecher.peers_seen) == {first.endpoint}
    assert not leecher.find("announced") and not leecher.find("tracker_error")


def test_seeder_upload_limit_throttles_loopback(torrent, media, media_sha256, tmp_path, started):
    path, _ = torrent
    limit = 2_000_000
    seeder = swarm.Seeder(path, media.parent, swarm.fresh_address(), upload_limit=limit, trackers=False)
    started.append(seeder)
    begin = time.monotonic()
    leecher = swarm.Leecher(path, tmp_path / "dest", swarm.fresh_address(), peers=seeder.endpoint, only_peers=True)
    started.append(leecher)
    assert leecher.wait_complete(40), leecher.describe()
    elapsed = time.monotonic() - begin
    assert leecher.sha256() == media_sha256
    floor = media.stat().st_size / limit
    # Unthrottled this takes ~0.2 s; at 2 MB/s about 3.2 s of transfer plus ~0.6 s set-up.
    assert 0.8 * floor <= elapsed <= 2 * floor + 5, f"{elapsed:.2f}s for {media.stat().st_size} B at {limit} B/s"


def test_leecher_rejects_corrupt_peer(torrent, tmp_path, started):
    path, _ = torrent
    corrupt = swarm.CorruptPeer(path, swarm.fresh_address(), trackers=[])
    started.append(corrupt)
    leecher = swarm.Leecher(path, tmp_path / "dest", swarm.fresh_address(), peers=corrupt.endpoint, only_peers=True)
    started.append(leecher)
    assert leecher.wait_event("hash_failed", 20) is not None, leecher.describe()
    # libtorrent bans a peer that alone sent a piece that failed its hash check.
    assert leecher.wait_event("peer_banned", 10, lambda e: e["peer"] == corrupt.endpoint), leecher.describe()
    assert swarm.wait_for(lambda: corrupt.disconnected_by_remote >= 1, 10)
    assert swarm.wait_for(lambda: leecher.progress.get("hash_failures", 0) >= 1, 5)
    assert not leecher.wait_complete(0)
    assert leecher.progress["num_pieces"] == 0 and leecher.progress["failed_bytes"] > 0
    assert corrupt.requests_served >= 1 and corrupt.connections >= 1
    assert leecher.peers_connected == {corrupt.endpoint}


def _handshake(info_hash):
    return bytes([19]) + b"BitTorrent protocol" + bytes(8) + info_hash + b"-PY0001-abcdefghijkl"


def _closed(sock):
    """True once the peer closed the connection (FIN, or RST when it left our bytes unread)."""
    try:
        return sock.recv(100) == b""
    except ConnectionResetError:
        return True


def _recv_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        assert chunk, "connection closed"
        data += chunk
    return data


def _recv_message(sock):
    length = struct.unpack(">I", _recv_exact(sock, 4))[0]
    return _recv_exact(sock, length)


def test_corrupt_peer_protocol_and_bad_input(torrent, started):
    path, infohash = torrent
    meta = swarm.read_torrent(path)
    corrupt = swarm.CorruptPeer(path, swarm.fresh_address(), trackers=[])
    started.append(corrupt)
    target = (corrupt.address, corrupt.port)
    # garbage, a wrong info-hash, an absurd message length: each only ends its own connection
    with socket.create_connection(target, timeout=5) as s:
        s.sendall(b"GET / HTTP/1.0\r\n\r\n" + bytes(60))
        assert _closed(s)
    with socket.create_connection(target, timeout=5) as s:
        s.sendall(_handshake(hashlib.sha1(b"other").digest()))
        assert _closed(s)
    with socket.create_connection(target, timeout=5) as s:
        s.sendall(_handshake(meta["info_hash"]))
        assert _recv_exact(s, 68)[28:48] == meta["info_hash"]
        _recv_message(s)  # bitfield
        s.sendall(struct.pack(">I", 1 << 30) + b"\x07")
        assert _closed(s)
    assert swarm.wait_for(lambda: corrupt.bad_handshakes == 2 and corrupt.bad_messages == 1, 5)

    # a well-behaved remote: bitfield with every piece, unchoke on interested, a piece per request
    with socket.create_connection(target, timeout=5) as s:
        s.sendall(_handshake(meta["info_hash"]))
        reply = _recv_exact(s, 68)
        assert reply[:20] == bytes([19]) + b"BitTorrent protocol" and reply[28:48] == bytes.fromhex(infohash)
        bitfield = _recv_message(s)
        assert bitfield[0] == 5 and len(bitfield) - 1 == -(-meta["num_pieces"] // 8)
        bits = "".join(f"{b:08b}" for b in bitfield[1:])
        assert bits[:meta["num_pieces"]] == "1" * meta["num_pieces"] and "1" not in bits[meta["num_pieces"]:]
        s.sendall(struct.pack(">IB", 1, 2))  # interested
        assert _recv_message(s) == b"\x01"  # unchoke
        last = meta["num_pieces"] - 1
        last_size = meta["length"] - last * meta["piece_length"]
        for index, begin, size in [(0, 0, 16384), (last, 0, min(16384, last_size)), (last, last_size, 16384)]:
            s.sendall(struct.pack(">IBIII", 13, 6, index, begin, size))
        piece = _recv_message(s)
        assert piece[0] == 7 and struct.unpack(">II", piece[1:9]) == (0, 0) and len(piece) == 9 + 16384
        piece = _recv_message(s)
        assert struct.unpack(">II", piece[1:9]) == (last, 0) and len(piece) == 9 + min(16384, last_size)
        s.sendall(struct.pack(">I", 0))  # keep-alive; the out-of-range request above got no answer
        assert swarm.wait_for(lambda: corrupt.requests_served == 2 and corrupt.bad_messages == 2, 5)
    assert swarm.wait_for(lambda: corrupt.disconnected_by_remote >= 1, 5)
    assert corrupt.connections == 4
    corrupt.stop()
    with pytest.raises(OSError):
        socket.create_connection(target, timeout=2).close()
