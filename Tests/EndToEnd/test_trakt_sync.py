"""Two-way Trakt sync (issue 9): a linked user's player state goes to Trakt as scrobbles
(start, pause, stop — only on changes), and what Trakt knows (watched history, paused
playbacks, the watchlist) comes back into progress, Continue Watching and a list. The Trakt
answers are hand-written fixtures in Trakt API v2's shape; the fixture server records what we
sent."""
import os
import sqlite3
import tempfile
from pathlib import Path

import pytest
import requests

from conftest import FixtureServer, Stack, wait_until


@pytest.fixture(scope="module")
def sync_stack():
    upstream = FixtureServer()
    base = upstream.base
    with tempfile.TemporaryDirectory(prefix="miauflix-e2e-traktsync-") as tmp:
        os.chmod(tmp, 0o755)
        s = Stack(Path(tmp) / "data", TMDB_API_URL=f"{base}/tmdb/3", TMDB_API_ACCESS_TOKEN="fixture-token",
                  TRAKT_API_URL=f"{base}/trakt", TRAKT_CLIENT_ID="fixture-client", TRAKT_CLIENT_SECRET="fixture-secret",
                  TRAKT_SYNC_INTERVAL="1h",
                  DISABLED_JOBS="list-refresh,metadata-sync,source-search,show-source-search,torrent-files,tracker-stats,source-resync,"
                                "trakt-token-refresh,season-completion")
        try:
            s.start()
            s.admin_jar = requests.Session()
            _, s.admin_jar.sid = s.login(*s.admin, session=s.admin_jar)
            for email in ("trakt-fan@home.lan", "no-trakt@home.lan"):
                r = s.admin_jar.post(s.url("/api/auth/users"), json={"email": email, "password": "correct-horse-42", "role": "user"},
                                     headers={"X-Session-Id": s.admin_jar.sid}, verify=False, timeout=10)
                assert r.status_code == 201, r.text
            s.fan = requests.Session()
            _, s.fan.sid = s.login("trakt-fan@home.lan", "correct-horse-42", session=s.fan)
            s.plain = requests.Session()
            _, s.plain.sid = s.login("no-trakt@home.lan", "correct-horse-42", session=s.plain)
            # Titles the sync will find stored.
            for path in ("/api/movies/680", "/api/movies/238", "/api/movies/240", "/api/movies/278", "/api/shows/1220/seasons/2"):
                assert call(s, s.fan, "GET", path).status_code == 200, path
            linked = call(s, s.fan, "POST", "/api/trakt/auth/device/check", json={"deviceCode": "abc"})
            assert linked.status_code == 200, linked.text
            s.fan.sid = linked.json()["session"]
            s.upstream = upstream
            yield s
        finally:
            s.stop()
            upstream.stop()


def call(stack, jar, method, path, **kwargs):
    return jar.request(method, stack.url(path), headers={"X-Session-Id": jar.sid}, verify=False, timeout=15, **kwargs)


def scrobbles(stack):
    sent = requests.get(stack.upstream.base + "/__requests", timeout=5).json()
    return [r for r in sent if r["method"] == "POST" and r["path"].startswith("/trakt/scrobble/")]


def report(stack, jar, **body):
    r = call(stack, jar, "POST", "/api/progress", json=body)
    assert r.status_code == 204, r.text


def test_pull_brings_trakt_history_resume_points_and_watchlist(sync_stack):
    s = sync_stack
    assert call(s, s.admin_jar, "POST", "/api/admin/jobs/trakt-sync/run").status_code == 202

    def pulled():
        items = call(s, s.fan, "GET", "/api/progress").json()["progress"]
        return items if any(i.get("movieId") == 680 and i["watched"] for i in items) else None
    items = wait_until(pulled, 20, interval=0.5)
    assert items, "Trakt's watched history arrived"
    by_title = {(i["type"], i.get("movieId") or i.get("showId"), i.get("season"), i.get("episode")): i for i in items}
    assert by_title[("episode", 1220, 2, 1)]["watched"] and by_title[("episode", 1220, 2, 2)]["watched"]
    assert by_title[("movie", 240, None, None)]["progress"] == 0.425 and not by_title[("movie", 240, None, None)]["watched"]
    assert by_title[("episode", 1220, 2, 3)]["progress"] == 0.12
    # Continue Watching offers the paused movie and resumes the show where Trakt left it.
    row = call(s, s.fan, "GET", "/api/lists/continue-watching").json()["results"]
    assert ("movie", 240) in [(e["type"], e["tmdbId"]) for e in row]
    show = next(e for e in row if e["type"] == "episode")
    assert (show["season"], show["episode"]) == (2, 3)

    watchlist = call(s, s.fan, "GET", "/api/lists/trakt-watchlist").json()
    assert watchlist["linked"] is True and watchlist["list"]["slug"] == "trakt-watchlist"
    assert [(e["type"], e["tmdbId"]) for e in watchlist["results"]] == [("show", 1220), ("movie", 278), ("movie", 12345)], \
        "most recently listed first; seasons left out"
    stored = watchlist["results"][1]
    assert stored["backdrop"].startswith("http"), "stored titles carry our artwork"
    assert watchlist["results"][2]["title"] == "A Film We Do Not Store"
    other = call(s, s.plain, "GET", "/api/lists/trakt-watchlist").json()
    assert other == {"results": [], "total": 0, "linked": False, "list": {"name": "Trakt Watchlist", "slug": "trakt-watchlist"}}


def test_player_changes_are_scrobbled_once_each(sync_stack):
    s = sync_stack
    before = len(scrobbles(s))
    report(s, s.fan, type="movie", movieId=238, position=600, duration=6000)
    assert wait_until(lambda: len(scrobbles(s)) == before + 1, 15), "the start is pushed at once (the engine is woken)"
    start = scrobbles(s)[-1]
    assert start["path"] == "/trakt/scrobble/start" and start["authorization"] == "Bearer trakt-access-token-PLAINTEXT-0001"
    assert '"tmdb":238' in start["body"].replace(" ", "") and '"progress":10' in start["body"].replace(" ", "")
    for second in range(610, 660, 10):  # the player's regular reports change nothing
        report(s, s.fan, type="movie", movieId=238, position=second, duration=6000)
    report(s, s.fan, type="movie", movieId=238, position=700, duration=6000, status="paused")
    assert wait_until(lambda: len(scrobbles(s)) == before + 2, 15)
    assert scrobbles(s)[-1]["path"] == "/trakt/scrobble/pause"
    report(s, s.fan, type="movie", movieId=238, position=5700, duration=6000)
    assert wait_until(lambda: len(scrobbles(s)) == before + 3, 15), [r["path"] for r in scrobbles(s)]
    stop = scrobbles(s)[-1]
    assert stop["path"] == "/trakt/scrobble/stop" and '"progress":95' in stop["body"].replace(" ", "")
    # Episodes name the show and the numbers.
    report(s, s.fan, type="episode", showId=1220, season=2, episode=4, position=300, duration=2600)
    assert wait_until(lambda: len(scrobbles(s)) == before + 4, 15)
    body = scrobbles(s)[-1]["body"].replace(" ", "")
    assert '"tmdb":1220' in body and '"season":2' in body and '"number":4' in body


def test_a_user_without_trakt_sends_nothing(sync_stack):
    s = sync_stack
    before = len(scrobbles(s))
    report(s, s.plain, type="movie", movieId=278, position=60, duration=6000)
    db = sqlite3.connect(s.data_dir / "miauflix.sqlite", timeout=10)
    assert db.execute("""SELECT COUNT(*) FROM trakt_outbox o JOIN users u ON u.id = o.userId
                         WHERE u.email = 'no-trakt@home.lan'""").fetchone()[0] == 0
    assert len(scrobbles(s)) == before


def test_a_scrobble_survives_trakt_being_down(sync_stack):
    s = sync_stack
    requests.post(s.upstream.base + "/__control", json={"targets": {"trakt": {"mode": "error", "status": 503}}}, timeout=5)
    try:
        report(s, s.fan, type="movie", movieId=278, position=60, duration=6000)
        db = sqlite3.connect(s.data_dir / "miauflix.sqlite", timeout=10)
        assert wait_until(lambda: db.execute("SELECT attempts FROM trakt_outbox WHERE tmdbId = 278").fetchone() == (1,), 15), \
            "kept in the outbox with a retry scheduled, not lost"
    finally:
        requests.post(s.upstream.base + "/__control", json={}, timeout=5)
