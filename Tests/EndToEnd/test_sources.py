"""Source discovery (issue 7) through the real stack against the recorded directories:
YTS mirror failover with circuit breaking, TheRARBG, release-name parsing into stored
sources, .torrent retrieval with info-hash verification, tracker scrapes against a real
opentracker, and nothing identifying stored in clear."""
import base64
import json
import os
import re
import sqlite3
import tempfile
import time
from pathlib import Path

import pytest
import requests

import swarm
from conftest import REPO, FixtureServer, Stack, wait_until

YTS = REPO / "Tests/Fixtures/yts/api/v2"


def recorded_hashes(path):
    data = json.loads(path.read_text())["data"]
    return [t["hash"] for m in data["data"].get("movies") or [] for t in m["torrents"]]


@pytest.fixture(scope="module")
def directories():
    server = FixtureServer()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def source_stack(directories):
    base = directories.base
    with tempfile.TemporaryDirectory(prefix="miauflix-e2e-sources-") as tmp:
        os.chmod(tmp, 0o755)
        s = Stack(Path(tmp) / "data", TMDB_API_URL=f"{base}/tmdb/3", TMDB_API_ACCESS_TOKEN="fixture-token",
                  DISABLE_BACKGROUND_TASKS="true",
                  YTS_API_URL=f"{base}/yts-a", YTS_MIRRORS=f"{base}/yts-b,{base}/yts-c,{base}/yts-d,{base}/yts-e",
                  YTS_STATUS_URL=f"{base}/yifystatus/",
                  THE_RARBG_API_URL=f"{base}/therarbg", THE_RARBG_MIRRORS=f"{base}/therarbg-b",
                  TORRENT_CACHES=f"{base}/itorrents/torrent/{{HASH}}.torrent,{base}/torrage/torrent/{{hash}}.torrent",
                  API_WORKERS="1")
        try:
            s.start()
            s.jar = requests.Session()
            r, s.sid = s.login(*s.admin, session=s.jar)
            assert r.status_code == 200
            yield s
        finally:
            s.stop()


def call(stack, method, path, **kw):
    return stack.jar.request(method, stack.url(path), headers={"X-Session-Id": stack.sid}, verify=False, timeout=20, **kw)


def sources(stack, tmdb_id):
    return call(stack, "GET", f"/api/movies/{tmdb_id}?includeSources=true").json()["sources"]


def control(server, **state):
    r = requests.post(server.base + "/__control", json=state, timeout=5)
    assert r.status_code == 200


def test_watch_now_searches_on_demand_failing_over_across_mirrors(source_stack, directories):
    control(directories, targets={"yts-a": {"mode": "timeout", "seconds": 5}, "yts-b": {"mode": "error", "status": 500},
                                  "yts-c": "html", "therarbg": "reset", "therarbg-b": "redirect"})
    directories.clear()
    assert call(source_stack, "GET", "/api/movies/278").status_code == 200
    began = time.monotonic()
    first = call(source_stack, "POST", "/api/movies/278/auto")
    took = time.monotonic() - began
    assert took < 3.5, "the request waits at most its on-demand budget"
    assert first.status_code in (200, 404)
    # The search goes on in the background: the sources arrive without another search.
    listed = wait_until(lambda: sources(source_stack, 278), 15)
    assert listed, "YTS answered through the 4th mirror"
    yts = [r["target"] for r in directories.requests() if r["service"] == "yts" and "list_movies" in r["path"]]
    assert yts[:4] == ["yts-a", "yts-b", "yts-c", "yts-d"], yts
    hashes = recorded_hashes(YTS / "list_movies.json-limit-20-page-1-query_term-tt0111161.json")
    assert len(listed) == len(set(hashes))
    qualities = {s["quality"] for s in listed}
    assert qualities <= {"SD", "HD", "FHD", "2K", "4K", "8K", "3D"} and "FHD" in qualities
    assert all(s["videoCodec"] in ("X264", "X265", "X265_10BIT", None) for s in listed)
    assert all(s["hasDataFile"] is False and s["broadcasters"] is not None for s in listed)
    key = call(source_stack, "POST", "/api/movies/278/auto")
    assert key.status_code == 200 and key.json()["quality"] == listed[0]["quality"], "Watch Now uses the best-ranked source"
    # The status page was read once and its official section added as mirrors.
    assert any(r["target"] == "yifystatus" for r in directories.requests())


def test_failed_mirrors_are_skipped_then_probed_again(source_stack, directories):
    directories.clear()
    assert call(source_stack, "GET", "/api/movies/238").status_code == 200
    call(source_stack, "POST", "/api/movies/238/auto")
    assert wait_until(lambda: sources(source_stack, 238), 15)
    yts = [r["target"] for r in directories.requests() if r["service"] == "yts" and "list_movies" in r["path"]]
    assert yts[0] == "yts-d", f"the failed mirrors' circuits are open: {yts}"


def test_every_directory_down_answers_fast_and_keeps_serving_the_database(source_stack, directories):
    control(directories, targets={t: {"mode": "error", "status": 503} for t in
                                  ("yts-a", "yts-b", "yts-c", "yts-d", "yts-e", "yts-f", "yifystatus", "therarbg", "therarbg-b")})
    assert call(source_stack, "GET", "/api/movies/240").status_code == 200
    began = time.monotonic()
    r = call(source_stack, "POST", "/api/movies/240/auto")
    assert time.monotonic() - began < 3.5
    assert r.status_code == 404 and r.json() == {"error": "No sources available for this movie"}
    assert call(source_stack, "GET", "/api/movies/240?includeSources=true").json()["sources"] == []
    assert call(source_stack, "GET", "/api/movies/278?includeSources=true").status_code == 200
    log = (source_stack.data_dir / "logs/api.log").read_text()
    assert "event=directory_failed" in log
    control(directories)


def test_therarbg_posts_become_parsed_sources(source_stack, directories):
    control(directories, targets={"therarbg": "reset", "therarbg-b": {"mode": "ok", "unique_hashes": True},
                                  **{t: {"mode": "error", "status": 500} for t in ("yts-a", "yts-b", "yts-c", "yts-d", "yts-e", "yts-f")}})
    assert call(source_stack, "GET", "/api/movies/299536").status_code == 200
    call(source_stack, "POST", "/api/movies/299536/auto")
    listed = wait_until(lambda: sources(source_stack, 299536), 15)
    assert len(listed) >= 10
    assert any(s["quality"] == "FHD" and s["source"] == "BLURAY" for s in listed)
    assert {s["videoCodec"] for s in listed} & {"X264", "X265", "X265_10BIT"}
    scores = sqlite3.connect(source_stack.data_dir / "miauflix.sqlite").execute(
        "SELECT streamingScore FROM movie_source WHERE source = 'TheRARBG' ORDER BY streamingScore DESC").fetchall()
    assert len({s for (s,) in scores}) > 3, "sources are ranked, not all equal"
    control(directories)


def test_torrent_files_are_fetched_verified_and_stored_encrypted(source_stack, directories):
    made = requests.post(directories.base + "/__torrents", json={"name": "movie.mkv", "length": 300_000, "piece_length": 16384}, timeout=5).json()
    recorded = recorded_hashes(YTS / "list_movies.json-limit-20-page-1-query_term-tt0110912.json")
    good, bad = recorded[0], recorded[1]
    # The caches answer `bad` with a torrent whose info-hash is something else.
    other = requests.post(directories.base + "/__torrents", json={"name": "other.mkv", "length": 1000, "piece_length": 16384,
                                                                 "as": bad}, timeout=5)
    assert other.status_code == 200
    control(directories, hash_map={good: made["hash"]}, targets={"yts-a": "ok"})
    assert call(source_stack, "GET", "/api/movies/680").status_code == 200
    call(source_stack, "POST", "/api/movies/680/auto")
    assert wait_until(lambda: sources(source_stack, 680), 15)
    out = source_stack.miauflix("source", "fetch-files", "--limit", "500", timeout=120)
    assert out.returncode == 0, out.stderr
    listed = sources(source_stack, 680)
    assert sum(1 for s in listed if s["hasDataFile"]) == 1, listed
    db = sqlite3.connect(source_stack.data_dir / "miauflix.sqlite")
    stored = db.execute("SELECT file, u FROM movie_source WHERE file IS NOT NULL").fetchall()
    assert stored and all(u is None for _, u in stored), "the direct URL is dropped once the file is stored"
    assert all(b"announce" not in f and b"pieces" not in f for f, _ in stored), "encrypted at rest"
    log = (source_stack.data_dir / "logs").glob("*.log")
    text = "".join(p.read_text() for p in log) + out.stdout + out.stderr
    assert "event=torrent_file_rejected" in text and "reason=info_hash_mismatch" in text
    # Watch Now now prefers the source whose .torrent is stored, and it can stream at once.
    assert call(source_stack, "POST", "/api/movies/680/auto").status_code == 200
    chosen = db.execute("SELECT s.file IS NOT NULL FROM streaming_key k JOIN movie_source s ON s.id = k.sourceId "
                        "ORDER BY k.id DESC LIMIT 1").fetchone()[0]
    assert chosen == 1
    control(directories)


def test_nothing_identifying_is_stored_in_clear(source_stack):
    raw = (source_stack.data_dir / "miauflix.sqlite").read_bytes()
    for wal in (source_stack.data_dir).glob("miauflix.sqlite-wal"):
        raw += wal.read_bytes()
    hashes = set()
    for path in YTS.glob("*query_term*.json"):
        hashes.update(recorded_hashes(path))
    assert hashes
    for h in hashes:
        assert h.encode() not in raw and h.lower().encode() not in raw
    for needle in (b"magnet:", b"udp://", b"/announce", b"torrent/download", b"xt=urn"):
        assert needle not in raw, needle


def test_tracker_stats_come_from_a_real_tracker(source_stack, tmp_path):
    media = swarm.make_media(REPO / ".build" / "test-media")
    tracker = swarm.Tracker(tmp_path)
    try:
        data, infohash = swarm.make_torrent(media, [tracker.http_url], 256, tmp_path / "stats.torrent")
        tracker.add_hash(infohash)
        seeder = swarm.Seeder(tmp_path / "stats.torrent", media.parent, swarm.fresh_address())
        try:
            assert tracker.wait_seeders(infohash, 1, 15)
            r = call(source_stack, "POST", "/api/admin/movies/240/sources", json={"torrent": base64.b64encode(data).decode()})
            assert r.status_code == 201, r.text
            source = r.json()["id"]
            # Five sources per run, oldest first: run until ours (the newest) had its turn.
            db = sqlite3.connect(source_stack.data_dir / "miauflix.sqlite")
            for _ in range(40):
                out = source_stack.miauflix("source", "scrape", extra_env={"SCRAPE_TRACKERS": tracker.udp_url})
                assert out.returncode == 0, out.stderr
                if db.execute("SELECT lastStatsCheck FROM movie_source WHERE id = ?", (source,)).fetchone()[0]:
                    break
            listed = {s["id"]: s for s in sources(source_stack, 240)}
            assert listed[source]["broadcasters"] >= 1
            last, nxt = db.execute("SELECT lastStatsCheck, nextStatsCheckAt FROM movie_source WHERE id = ?", (source,)).fetchone()
            assert last and nxt > last, "the next scrape is scheduled hours later"
        finally:
            seeder.stop()
    finally:
        tracker.stop()


def test_background_jobs_fetch_a_magnets_torrent_from_peers_when_the_caches_fail(directories, tmp_path):
    """With background tasks on, the .torrent job tries the caches (404 here), then asks
    peers through the engine (BEP 9); the verified file is stored, no download started."""
    media = swarm.make_media(REPO / ".build" / "test-media")
    tracker = swarm.Tracker(tmp_path / "tracker")
    base = directories.base
    stack = None
    try:
        _, infohash = swarm.make_torrent(media, [tracker.http_url], 128, tmp_path / "bep9.torrent")
        tracker.add_hash(infohash)
        seeder = swarm.Seeder(tmp_path / "bep9.torrent", media.parent, swarm.fresh_address())
        os.chmod(tmp_path, 0o755)
        stack = Stack(tmp_path / "data", TMDB_API_URL=f"{base}/tmdb/3", TMDB_API_ACCESS_TOKEN="fixture-token",
                      YTS_API_URL=f"{base}/yts-a", YTS_MIRRORS="", YTS_STATUS_URL="", THE_RARBG_API_URL=f"{base}/therarbg",
                      THE_RARBG_MIRRORS="", TORRENT_CACHES=f"{base}/itorrents/torrent/{{HASH}}.torrent", SCRAPE_TRACKERS="")
        stack.start()
        jar = requests.Session()
        r, sid = stack.login(*stack.admin, session=jar)
        h = {"X-Session-Id": sid}
        assert jar.get(stack.url("/api/movies/240"), headers=h, verify=False, timeout=15).status_code == 200
        magnet = swarm.magnet(infohash, [tracker.http_url], name="bep9.mp4")
        added = jar.post(stack.url("/api/admin/movies/240/sources"), headers=h, verify=False, timeout=15, json={"magnet": magnet})
        assert added.status_code == 201 and added.json()["hasDataFile"] is False
        source = added.json()["id"]

        def has_file():
            listed = jar.get(stack.url("/api/movies/240?includeSources=true"), headers=h, verify=False, timeout=15).json()["sources"]
            return any(s["id"] == source and s["hasDataFile"] for s in listed)
        assert wait_until(has_file, 60, interval=0.5)
        log = (stack.data_dir / "logs/engine.log").read_text()
        assert "event=torrent_file_stored" in log and "origin=peers" in log
        torrents = jar.get(stack.url("/api/admin/torrents"), headers=h, verify=False, timeout=15).json()
        # Metadata only: no download; at most the title page's prefetch of the file's ends.
        assert all(t["sourceId"] != source or t["verifiedPieces"] <= 3 for t in torrents), torrents
        seeder.stop()
    finally:
        if stack:
            stack.stop()
        tracker.stop()
