"""Streaming from a real local swarm (issue 6): opentracker + libtorrent seeders on loopback,
our engine downloading through nginx's /api/stream/, seeding back to a libtorrent leecher,
banning a corrupting peer and resuming after kill -9."""
import base64
import hashlib
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import requests

import swarm
from conftest import REPO, FixtureServer, Stack, free_port, wait_until


class Swarm:
    """The media, a tracker and torrents of it at several piece sizes (distinct info-hashes)."""

    def __init__(self, work: Path):
        self.work = work
        self.media = swarm.make_media(REPO / ".build" / "test-media")
        self.data = self.media.read_bytes()
        self.sha256 = hashlib.sha256(self.data).hexdigest()
        self.tracker = swarm.Tracker(work)
        self.torrents = {}
        self.peers = []

    def torrent(self, piece_kib, seed=True, upload_limit=None):
        path = self.work / f"media-{piece_kib}k.torrent"
        data, infohash = swarm.make_torrent(self.media, [self.tracker.http_url, self.tracker.udp_url], piece_kib, path)
        self.tracker.add_hash(infohash)
        if seed:
            self.peers.append(swarm.Seeder(path, self.media.parent, swarm.fresh_address(), upload_limit=upload_limit))
        self.torrents[piece_kib] = (path, data, infohash)
        return path, data, infohash

    def stop(self):
        for peer in self.peers:
            peer.stop()
        self.tracker.stop()


def temporary_swarm(prefix="miauflix-swarm-"):
    """A Swarm in a temporary folder, stopped and removed afterwards (a fixture body)."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        s = Swarm(Path(tmp))
        try:
            yield s
        finally:
            s.stop()


@pytest.fixture(scope="module")
def local_swarm():
    yield from temporary_swarm()


@pytest.fixture(scope="module")
def stream_stack(local_swarm):
    upstream = FixtureServer()
    with tempfile.TemporaryDirectory(prefix="miauflix-e2e-stream-") as tmp:
        os.chmod(tmp, 0o755)
        s = Stack(Path(tmp) / "data", TMDB_API_URL=f"{upstream.base}/tmdb/3", TMDB_API_ACCESS_TOKEN="fixture-token",
                  DISABLE_BACKGROUND_TASKS="true", CONTENT_PORT=free_port(), CONTENT_BIND_ADDRESS="127.0.0.1",
                  STREAM_START_TIMEOUT="6s")
        try:
            s.start()
            jar = requests.Session()
            r, sid = s.login(*s.admin, session=jar)
            assert r.status_code == 200
            s.jar, s.sid = jar, sid
            yield s
        finally:
            s.stop()
            upstream.stop()


def add_source(stack, tmdb_id, torrent_bytes, quality="HD"):
    h = {"X-Session-Id": stack.sid}
    assert stack.jar.get(stack.url(f"/api/movies/{tmdb_id}"), headers=h, verify=False, timeout=15).status_code == 200
    r = stack.jar.post(stack.url(f"/api/admin/movies/{tmdb_id}/sources"), headers=h, verify=False, timeout=15,
                       json={"torrent": base64.b64encode(torrent_bytes).decode(), "quality": quality})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def watch(stack, tmdb_id):
    r = stack.jar.post(stack.url(f"/api/movies/{tmdb_id}/auto"), headers={"X-Session-Id": stack.sid}, verify=False, timeout=15)
    assert r.status_code == 200, r.text
    return r.json()["streamingKey"]


def stream(stack, key, headers=None, method="GET", timeout=60):
    return requests.request(method, stack.url(f"/api/stream/{key}"), headers=headers or {}, verify=False, timeout=timeout)


def engine_torrents(stack):
    out = subprocess.run(["curl", "-s", "--max-time", "5", "--unix-socket", str(stack.data_dir / "run/engine.sock"),
                          "http://engine/internal/torrents"], capture_output=True, text=True)
    return json.loads(out.stdout) if out.returncode == 0 and out.stdout.startswith("[") else []


def verified_pieces(stack, source_id):
    db = sqlite3.connect(stack.data_dir / "miauflix.sqlite", timeout=10)
    try:
        row = db.execute("SELECT downloadedPieces FROM storage WHERE movieSourceId = ?", (source_id,)).fetchone()
    finally:
        db.close()
    return sum(bin(b).count("1") for b in row[0]) if row and row[0] else 0


@pytest.fixture(scope="module")
def full_movie(local_swarm, stream_stack):
    """Movie 680 streams the 64 KiB-piece torrent from a libtorrent seeder."""
    _, data, infohash = local_swarm.torrent(64)
    source = add_source(stream_stack, 680, data)
    return {"key": watch(stream_stack, 680), "source": source, "infohash": infohash}


def test_watch_now_starts_the_torrent_before_the_player_asks(stream_stack, full_movie):
    # The API wakes the engine by datagram: the torrent is open (and fetching) at once.
    opened = wait_until(lambda: [t for t in engine_torrents(stream_stack) if t["sourceId"] == full_movie["source"]], 2)
    assert opened and opened[0]["peers"] >= 0
    log = (stream_stack.data_dir / "logs/engine.log").read_text()
    assert f"event=torrent_open" in log and f"source={full_movie['source']}" in log


def test_whole_file_through_nginx_matches_the_original(local_swarm, stream_stack, full_movie):
    r = stream(stream_stack, full_movie["key"])
    assert r.status_code == 200, r.text
    assert hashlib.sha256(r.content).hexdigest() == local_swarm.sha256
    assert r.headers["Content-Type"] == "video/mp4" and r.headers["Accept-Ranges"] == "bytes"
    assert r.headers["Content-Length"] == str(len(local_swarm.data))
    assert r.headers["transferMode.dlna.org"] == "Streaming" and r.headers["Access-Control-Allow-Origin"] == "*"
    assert "filename*=UTF-8''miauflix-test-360p.mp4" in r.headers["Content-Disposition"]
    assert "X-Request-ID" in r.headers and "Strict-Transport-Security" in r.headers


def test_ranges_return_the_original_bytes(local_swarm, stream_stack, full_movie):
    data, key = local_swarm.data, full_movie["key"]
    total = len(data)
    rng = random.Random(7)
    cases = [(0, 0), (0, 1023), (total // 2, total // 2 + 100_000), (total - 1, total - 1), (total - 5000, None)]
    cases += [(a, a + rng.randrange(1, 300_000)) for a in (rng.randrange(0, total - 1) for _ in range(8))]
    for start, end in cases:
        header = f"bytes={start}-" + ("" if end is None else str(end))
        r = stream(stream_stack, key, {"Range": header})
        stop = total - 1 if end is None else min(end, total - 1)
        assert r.status_code == 206, (header, r.status_code)
        assert r.headers["Content-Range"] == f"bytes {start}-{stop}/{total}"
        assert r.content == data[start:stop + 1], header
    suffix = stream(stream_stack, key, {"Range": "bytes=-700"})
    assert suffix.status_code == 206 and suffix.content == data[-700:]
    beyond = stream(stream_stack, key, {"Range": f"bytes={total}-"})
    assert beyond.status_code == 416 and beyond.headers["Content-Range"] == f"bytes */{total}"
    ignored = stream(stream_stack, key, {"Range": "pages=1-2"})
    assert ignored.status_code == 200 and len(ignored.content) == total
    head = stream(stream_stack, key, {"Range": "bytes=10-19"}, method="HEAD")
    assert head.status_code == 206 and head.headers["Content-Length"] == "10" and head.content == b""
    etag = head.headers["ETag"]
    same = stream(stream_stack, key, {"Range": "bytes=10-19", "If-Range": etag})
    assert same.status_code == 206 and same.content == data[10:20]
    changed = stream(stream_stack, key, {"Range": "bytes=10-19", "If-Range": '"other"'})
    assert changed.status_code == 200 and len(changed.content) == total


def test_bad_keys_are_refused(stream_stack):
    assert stream(stream_stack, "short").status_code == 400
    r = stream(stream_stack, "nouser-but-long-enough")
    assert r.status_code == 401 and r.json() == {"error": "Invalid or expired streaming key"}
    forged = stream(stream_stack, "some-user:" + "A" * 40)
    assert forged.status_code == 401
    assert stream(stream_stack, "x" * 5000).status_code in (400, 414)


def test_a_libtorrent_leecher_downloads_everything_from_our_engine_alone(local_swarm, stream_stack, full_movie):
    # The engine has the whole file after the first test; it is the only peer the leecher may use.
    assert wait_until(lambda: any(t["progress"] == 1 for t in engine_torrents(stream_stack)), 30)
    path = local_swarm.torrents[64][0]
    with tempfile.TemporaryDirectory(prefix="miauflix-leech-") as dest:
        leecher = swarm.Leecher(path, Path(dest), swarm.fresh_address(),
                                peers=[f"127.0.0.1:{stream_stack.env['CONTENT_PORT']}"], only_peers=True)
        try:
            assert leecher.wait_complete(60), leecher.describe()
            assert leecher.sha256() == local_swarm.sha256
        finally:
            leecher.stop()
    uploaded = [t["uploaded"] for t in engine_torrents(stream_stack) if t["sourceId"] == full_movie["source"]]
    assert uploaded and uploaded[0] >= len(local_swarm.data)


def test_admins_see_the_engines_torrents(local_swarm, stream_stack, full_movie):
    r = stream_stack.jar.get(stream_stack.url("/api/admin/torrents"), headers={"X-Session-Id": stream_stack.sid}, verify=False, timeout=10)
    assert r.status_code == 200, r.text
    mine = [t for t in r.json() if t["sourceId"] == full_movie["source"]][0]
    assert mine["name"] == "miauflix-test-360p.mp4" and mine["size"] == len(local_swarm.data) and mine["progress"] == 1
    assert mine["infoHash"] == full_movie["infohash"] and mine["uploaded"] > 0 and mine.get("error") is None
    assert stream_stack.get("/api/admin/torrents").status_code == 401


def test_seek_to_80_percent_is_served_while_the_start_is_still_downloading(local_swarm, stream_stack):
    # A slow seeder (300 KB/s): the 80% range must not wait for the whole file.
    _, data, _ = local_swarm.torrent(32, upload_limit=300_000)
    source = add_source(stream_stack, 278, data)
    key = watch(stream_stack, 278)
    total = len(local_swarm.data)
    start = int(total * 0.8)
    r = stream(stream_stack, key, {"Range": f"bytes={start}-{start + 65535}"})
    assert r.status_code == 206 and r.content == local_swarm.data[start:start + 65536]
    pieces = (total + 32767) // 32768
    assert verified_pieces(stream_stack, source) < pieces * 0.6, "the seek did not wait for the file to complete"
    first = stream(stream_stack, key, {"Range": "bytes=0-99999"})
    assert first.status_code == 206 and first.content == local_swarm.data[:100000]


def test_a_client_that_goes_away_releases_its_stream(local_swarm, stream_stack):
    key = watch(stream_stack, 278)  # the seek test's source
    streams = lambda: sum(t["streams"] for t in engine_torrents(stream_stack))
    assert wait_until(lambda: streams() == 0, 10)
    r = requests.get(stream_stack.url(f"/api/stream/{key}"), verify=False, stream=True, timeout=30)
    assert r.status_code == 200
    next(r.iter_content(16384))  # then stop reading: backpressure keeps the stream open
    assert wait_until(lambda: streams() == 1, 10), streams()
    r.close()
    assert wait_until(lambda: streams() == 0, 10), "the reader stays registered after the client left"


def test_a_peer_sending_corrupt_data_is_banned_and_the_file_completes(local_swarm, stream_stack):
    path, data, _ = local_swarm.torrent(128, seed=False)
    corrupt = swarm.CorruptPeer(path, swarm.fresh_address())
    try:
        add_source(stream_stack, 240, data)
        key = watch(stream_stack, 240)
        # Only the corrupting peer at first: the stream cannot start and answers 504 in time.
        began = time.monotonic()
        r = stream(stream_stack, key, {"Range": "bytes=0-1000"}, timeout=30)
        assert r.status_code == 504 and time.monotonic() - began < 20
        assert wait_until(lambda: corrupt.disconnected_by_remote >= 1, 20), "corrupt peer never dropped"
        local_swarm.peers.append(swarm.Seeder(path, local_swarm.media.parent, swarm.fresh_address()))
        r = stream(stream_stack, key, timeout=120)
        assert r.status_code == 200 and hashlib.sha256(r.content).hexdigest() == local_swarm.sha256
        log = (stream_stack.data_dir / "logs/engine.log").read_text()
        assert "event=peer_banned" in log and corrupt.address in log
    finally:
        corrupt.stop()


def test_kill_9_mid_download_resumes_without_refetching_verified_pieces(local_swarm, stream_stack):
    _, data, _ = local_swarm.torrent(256, upload_limit=1_500_000)
    source = add_source(stream_stack, 238, data)
    key = watch(stream_stack, 238)
    pieces = (len(local_swarm.data) + 262143) // 262144
    assert wait_until(lambda: verified_pieces(stream_stack, source) >= pieces // 3, 60)
    os.kill(stream_stack.pid("engine"), signal.SIGKILL)
    saved = verified_pieces(stream_stack, source)
    assert 0 < saved < pieces
    stream_stack.start()  # restarts the engine only (nginx and the API are still up)
    r = stream(stream_stack, key, timeout=120)
    log = (stream_stack.data_dir / "logs/engine.log").read_text()[-3000:]
    assert r.status_code == 200 and hashlib.sha256(r.content).hexdigest() == local_swarm.sha256, (r.text[:300], log)
    downloaded = [t["downloaded"] for t in engine_torrents(stream_stack) if t["sourceId"] == source][0]
    in_flight_allowance = 4 * 262144
    assert downloaded <= (pieces - saved) * 262144 + in_flight_allowance, (downloaded, saved, pieces)
    db = sqlite3.connect(stream_stack.data_dir / "miauflix.sqlite", timeout=10)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_kill_9_during_an_active_stream_the_players_next_range_gets_the_right_bytes(local_swarm, stream_stack, tmp_path):
    """Issue 14's fault: the engine is killed (SIGKILL) while a player reads a stream through
    nginx. Restarted, the player's next range request (same key, a later offset) gets the
    original bytes, the database is intact and no piece that was verified (and saved) before
    the kill is downloaded again. Its own torrent (the media under another name: another
    info-hash, 64 KiB pieces, a seeder at 500 KB/s) as movie 238's only 2K source."""
    import shutil
    import threading
    piece = 64 * 1024
    content = tmp_path / "content"
    content.mkdir()
    shutil.copyfile(local_swarm.media, content / "miauflix-kill-during-stream.mp4")
    path = tmp_path / "kill-during-stream.torrent"
    data, infohash = swarm.make_torrent(content / "miauflix-kill-during-stream.mp4",
                                        [local_swarm.tracker.http_url, local_swarm.tracker.udp_url], 64, path)
    local_swarm.tracker.add_hash(infohash)
    seeder = swarm.Seeder(path, content, swarm.fresh_address(), upload_limit=500_000)
    try:
        original, total = local_swarm.data, len(local_swarm.data)
        pieces = (total + piece - 1) // piece
        source = add_source(stream_stack, 238, data, quality="2K")
        r = stream_stack.jar.post(stream_stack.url("/api/movies/238/2K"), headers={"X-Session-Id": stream_stack.sid}, verify=False, timeout=15)
        assert r.status_code == 200 and r.json()["quality"] == "2K", r.text
        key = r.json()["streamingKey"]
        # The player: a first range, then an open-ended one it keeps reading (as a player does).
        first = stream(stream_stack, key, {"Range": "bytes=0-262143"})
        assert first.status_code == 206 and first.content == original[:262144]
        received = bytearray()
        ended = {}

        def player():
            try:
                with requests.get(stream_stack.url(f"/api/stream/{key}"), headers={"Range": "bytes=262144-"}, verify=False,
                                  stream=True, timeout=30) as response:
                    ended["status"] = response.status_code
                    for chunk in response.iter_content(16384):
                        received.extend(chunk)
            except (requests.RequestException, OSError) as error:  # the engine died under it
                ended["error"] = repr(error)
        reader = threading.Thread(target=player)
        reader.start()
        assert wait_until(lambda: sum(t["streams"] for t in engine_torrents(stream_stack) if t["sourceId"] == source) >= 1, 15), \
            "the player's stream is being served"
        assert wait_until(lambda: verified_pieces(stream_stack, source) >= pieces * 0.4 and len(received) > 0, 60)
        os.kill(stream_stack.pid("engine"), signal.SIGKILL)
        reader.join(60)
        assert not reader.is_alive(), "the player's connection ended when the engine died"
        saved = verified_pieces(stream_stack, source)
        assert 0 < saved < pieces, (saved, pieces)
        assert ended.get("status") == 206, ended
        assert 0 < len(received) < total - 262144, "the open stream was cut by the kill"
        assert bytes(received) == original[262144:262144 + len(received)], "every byte the player got before the kill is right"
        db = sqlite3.connect(stream_stack.data_dir / "miauflix.sqlite", timeout=10)
        try:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok", "intact right after the kill"
        finally:
            db.close()

        stream_stack.start()  # restarts the engine only (nginx and the API are still up)
        # The player's next range request: same key, further on than it had read.
        start = min(262144 + len(received) + 500_000, total - 262144)
        r = stream(stream_stack, key, {"Range": f"bytes={start}-{start + 262143}"}, timeout=60)
        log = (stream_stack.data_dir / "logs/engine.log").read_text()
        assert r.status_code == 206, (r.status_code, r.text[:300], log[-3000:])
        assert r.headers["Content-Range"] == f"bytes {start}-{start + 262143}/{total}"
        assert r.content == original[start:start + 262144]
        # The restarted engine opened the torrent with the saved pieces (fast resume)...
        opened = [line for line in log.splitlines() if "event=torrent_open" in line and re.search(rf"\bsource={source}\b", line)]
        assert len(opened) >= 2 and re.search(rf"\bresumed_pieces={saved}\b", opened[-1]), opened
        # ... and, played to the end, downloads only what it did not have.
        whole = stream(stream_stack, key, timeout=120)
        assert whole.status_code == 200 and hashlib.sha256(whole.content).hexdigest() == local_swarm.sha256
        done = wait_until(lambda: [t for t in engine_torrents(stream_stack) if t["sourceId"] == source and t["progress"] == 1], 30)
        assert done, engine_torrents(stream_stack)
        in_flight_allowance = 16 * piece
        print(f"kill during stream: {saved}/{pieces} pieces saved, player had {len(received)} bytes, "
              f"re-downloaded {done[0]['downloaded']} bytes for {pieces - saved} missing pieces")
        assert done[0]["downloaded"] <= (pieces - saved) * piece + in_flight_allowance, (done[0]["downloaded"], saved, pieces)
        db = sqlite3.connect(stream_stack.data_dir / "miauflix.sqlite", timeout=10)
        try:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        finally:
            db.close()
        assert verified_pieces(stream_stack, source) == pieces
    finally:
        seeder.stop()


def test_a_magnet_only_source_gets_its_metadata_from_peers_and_streams(local_swarm, stream_stack):
    path, data, infohash = local_swarm.torrent(512)
    # UDP tracker only (BEP 15): the HTTP tier is exercised by every other test.
    magnet = swarm.magnet(infohash, [local_swarm.tracker.udp_url], name="movie.mp4")
    h = {"X-Session-Id": stream_stack.sid}
    movie = 680
    r = stream_stack.jar.post(stream_stack.url(f"/api/admin/movies/{movie}/sources"), headers=h, verify=False, timeout=15,
                              json={"magnet": magnet})
    assert r.status_code == 201 and r.json()["hasDataFile"] is False, r.text
    source = r.json()["id"]
    db = sqlite3.connect(stream_stack.data_dir / "miauflix.sqlite", timeout=10)
    # Watch Now prefers sources with a stored .torrent: retire the others of this movie first.
    db.execute("DELETE FROM movie_source WHERE movieId = (SELECT movieId FROM movie_source WHERE id = ?) AND id != ?", (source, source))
    db.commit()
    key = watch(stream_stack, movie)
    r = stream(stream_stack, key, timeout=60)
    assert r.status_code == 200 and hashlib.sha256(r.content).hexdigest() == local_swarm.sha256
    # The verified .torrent went back to the database (encrypted): the next start is instant.
    assert wait_until(lambda: db.execute("SELECT file IS NOT NULL FROM movie_source WHERE id = ?", (source,)).fetchone()[0] == 1, 5)
    stored = db.execute("SELECT file FROM movie_source WHERE id = ?", (source,)).fetchone()[0]
    assert b"announce" not in stored and bytes.fromhex(infohash) not in stored
    listed = stream_stack.jar.get(stream_stack.url(f"/api/movies/{movie}?includeSources=true"), headers=h, verify=False).json()["sources"]
    assert [s["hasDataFile"] for s in listed] == [True]
    log = (stream_stack.data_dir / "logs/engine.log").read_text()
    assert "event=metadata_fetch" in log and "magnet:" not in log


def test_demo_mode_plays_with_no_internet(local_swarm):
    """`make demo`: the recorded catalog plus a local seeder attached to movie 680."""
    with tempfile.TemporaryDirectory(prefix="miauflix-e2e-demo-") as tmp:
        os.chmod(tmp, 0o755)
        s = Stack(Path(tmp) / "data", MIAUFLIX_DEMO="1", DISABLE_BACKGROUND_TASKS="true")
        try:
            out = s.start()
            assert "Attached source" in out, out
            jar = requests.Session()
            r, sid = s.login(*s.admin, session=jar)
            key = jar.post(s.url("/api/movies/680/auto"), headers={"X-Session-Id": sid}, verify=False, timeout=15)
            assert key.status_code == 200, key.text
            r = stream(s, key.json()["streamingKey"], timeout=60)
            assert r.status_code == 200 and hashlib.sha256(r.content).hexdigest() == local_swarm.sha256
            again = s.start()  # a second start attaches nothing twice
            assert "already attached" in again
        finally:
            s.stop()
        assert not (Path(tmp) / "data/run/demo-swarm.pid").exists(), "make stop stops the demo seeder"


def test_opening_a_title_page_prefetches_the_ends_only(local_swarm, stream_stack):
    """A title page is a hint: the engine fetches the best source's first and last pieces
    (the container header and index) and nothing more until Watch Now. A worker looks at a
    movie that had no sources at most every 3 s, so the user keeps browsing the page here."""
    _, data, _ = local_swarm.torrent(1024)
    source = add_source(stream_stack, 299536, data)

    def opened_and_prefetched():
        r = stream_stack.jar.get(stream_stack.url("/api/movies/299536?lang=en"), headers={"X-Session-Id": stream_stack.sid}, verify=False, timeout=15)
        assert r.status_code == 200
        return verified_pieces(stream_stack, source) >= 3
    pieces = (len(local_swarm.data) + (1 << 20) - 1) >> 20
    assert wait_until(opened_and_prefetched, 20, interval=1), "the ends were prefetched"
    time.sleep(1.5)
    assert verified_pieces(stream_stack, source) == 3 < pieces, "only the first two and the last piece"
    key = watch(stream_stack, 299536)
    r = stream(stream_stack, key)
    assert r.status_code == 200 and hashlib.sha256(r.content).hexdigest() == local_swarm.sha256
    assert wait_until(lambda: verified_pieces(stream_stack, source) == pieces, 10)


@pytest.fixture(scope="module")
def spare_movie(local_swarm, stream_stack):
    """Movie 240 with the 64 KiB-piece torrent: its own source, which no other test replaces
    (the magnet test removes 680's other sources)."""
    _, data, _ = local_swarm.torrents.get(64) or local_swarm.torrent(64)
    source = add_source(stream_stack, 240, data)
    return {"key": watch(stream_stack, 240), "source": source}


def test_slow_loris_and_a_flood_of_stalled_streams_do_not_starve_others(local_swarm, stream_stack, spare_movie):
    """Issue 14's fault: 150 TLS clients that send half a request and stop, and 40 stream
    requests that never read their body. nginx and the engine keep answering everyone else:
    health checks and a range read with the right bytes."""
    import socket
    import ssl
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    held = []
    try:
        for _ in range(150):
            raw = socket.create_connection(("127.0.0.1", stream_stack.https_port), timeout=5)
            tls = context.wrap_socket(raw, server_hostname="localhost")
            tls.sendall(b"GET /api/health HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")  # never finished
            held.append(tls)
        request = (f"GET /api/stream/{spare_movie['key']} HTTP/1.1\r\nHost: localhost\r\n\r\n").encode()
        for _ in range(40):
            raw = socket.create_connection(("127.0.0.1", stream_stack.https_port), timeout=5)
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            tls = context.wrap_socket(raw, server_hostname="localhost")
            tls.sendall(request)  # and never read the body
            held.append(tls)
        time.sleep(1)
        for _ in range(20):
            r = stream_stack.get("/api/health", timeout=5)
            assert r.status_code == 200
        start = len(local_swarm.data) // 2
        part = stream(stream_stack, spare_movie["key"], {"Range": f"bytes={start}-{start + 65535}"}, timeout=20)
        assert part.status_code == 206 and part.content == local_swarm.data[start:start + 65536]
    finally:
        for connection in held:
            try:
                connection.close()
            except OSError:
                pass
    # Everything held is released: the engine is idle again and still answers.
    assert wait_until(lambda: stream_stack.get("/api/stream/health", timeout=5).status_code == 200, 10)


def test_api_and_engine_writing_at_full_rate_never_surface_busy(stream_stack, spare_movie):
    """Issue 14's fault: the API (streaming keys, intents, progress) and the engine (consuming
    every intent it is woken for, heartbeats, stats) write the one database at full rate for
    30 s: no request fails, nothing in the logs says the database was busy or locked."""
    import collections
    import threading
    statuses = collections.Counter()
    lock = threading.Lock()
    deadline = time.monotonic() + 30

    def writer(index):
        session = requests.Session()
        session.cookies.update(stream_stack.jar.cookies)
        headers = {"X-Session-Id": stream_stack.sid}
        while time.monotonic() < deadline:
            if index % 2:
                r = session.post(stream_stack.url("/api/movies/240/auto"), headers=headers, verify=False, timeout=15)
            else:
                r = session.post(stream_stack.url("/api/progress"), headers=headers, verify=False, timeout=15,
                                 json={"type": "movie", "movieId": 240, "position": index + time.monotonic() % 100, "duration": 6000})
            with lock:
                statuses[r.status_code] += 1
    threads = [threading.Thread(target=writer, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert set(statuses) <= {200, 204}, statuses
    assert sum(statuses.values()) > 100, statuses
    logs = "".join((stream_stack.data_dir / "logs" / name).read_text(errors="replace") for name in ("api.log", "engine.log"))
    assert "database is locked" not in logs and "SQLITE_BUSY" not in logs
    db = sqlite3.connect(stream_stack.data_dir / "miauflix.sqlite", timeout=10)
    assert db.execute("SELECT COUNT(*) FROM stream_intent WHERE consumedAt IS NULL").fetchone()[0] < 20, "the engine kept up"
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
