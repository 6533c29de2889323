"""Watch progress and Continue Watching (issue 9) through nginx, the FastCGI workers and the
engine's season completion: players report positions, a title past 90 % counts as watched,
Continue Watching offers partly watched movies and each show's next episode."""
import os
import sqlite3
import tempfile
from pathlib import Path

import pytest
import requests

from conftest import FixtureServer, Stack, wait_until


@pytest.fixture(scope="module")
def progress_stack():
    upstream = FixtureServer()
    with tempfile.TemporaryDirectory(prefix="miauflix-e2e-progress-") as tmp:
        os.chmod(tmp, 0o755)
        # Season completion runs (the next episode comes from a season synced in the background).
        s = Stack(Path(tmp) / "data", TMDB_API_URL=f"{upstream.base}/tmdb/3", TMDB_API_ACCESS_TOKEN="fixture-token",
                  DISABLED_JOBS="list-refresh,metadata-sync,source-search,torrent-files,tracker-stats,source-resync,trakt-token-refresh")
        try:
            s.start()
            admin = requests.Session()
            r, admin.sid = s.login(*s.admin, session=admin)
            assert r.status_code == 200
            for email, role in (("viewer@example.com", "user"), ("visitor@example.com", "guest")):
                r = admin.post(s.url("/api/auth/users"), json={"email": email, "password": "correct-horse-42", "role": role},
                               headers={"X-Session-Id": admin.sid}, verify=False, timeout=10)
                assert r.status_code == 201, r.text
            s.admin_jar = admin
            s.viewer = requests.Session()
            _, s.viewer.sid = s.login("viewer@example.com", "correct-horse-42", session=s.viewer)
            s.guest = requests.Session()
            _, s.guest.sid = s.login("visitor@example.com", "correct-horse-42", session=s.guest)
            yield s
        finally:
            s.stop()
            upstream.stop()


def call(stack, jar, method, path, **kwargs):
    return jar.request(method, stack.url(path), headers={"X-Session-Id": jar.sid}, verify=False, timeout=15, **kwargs)


def report(stack, jar, **body):
    return call(stack, jar, "POST", "/api/progress", json=body)


def progress(stack, jar, query=""):
    r = call(stack, jar, "GET", "/api/progress" + query)
    assert r.status_code == 200, r.text
    return r.json()["progress"]


def continue_watching(stack, jar):
    r = call(stack, jar, "GET", "/api/lists/continue-watching")
    assert r.status_code == 200, r.text
    return r.json()


def test_a_movie_position_is_recorded_and_resumed(progress_stack):
    s = progress_stack
    assert report(s, s.viewer, type="movie", movieId=278, position=600, duration=8520).status_code == 204
    [item] = progress(s, s.viewer, "?movieId=278")
    assert item["type"] == "movie" and item["movieId"] == 278
    assert item["position"] == 600 and item["duration"] == 8520 and abs(item["progress"] - 600 / 8520) < 1e-3
    assert item["watched"] is False and item["status"] == "watching"
    # The player reports every few seconds: one row per title, the latest position wins.
    for second in range(610, 700, 10):
        assert report(s, s.viewer, type="movie", movieId=278, position=second, duration=8520).status_code == 204
    [item] = progress(s, s.viewer, "?movieId=278")
    assert item["position"] == 690
    db = sqlite3.connect(s.data_dir / "miauflix.sqlite", timeout=10)
    assert db.execute("SELECT COUNT(*) FROM progress_movie").fetchone()[0] == 1


def test_the_reference_body_with_a_fraction_and_a_string_id_is_accepted(progress_stack):
    s = progress_stack
    r = report(s, s.viewer, type="movie", progress=0.5, status="paused", movieId="238")
    assert r.status_code == 204 and r.content == b""
    [item] = progress(s, s.viewer, "?movieId=238")
    assert item["progress"] == 0.5 and item["status"] == "paused" and not item["watched"]


def test_continue_watching_lists_partly_watched_movies_most_recent_first(progress_stack):
    s = progress_stack
    page = continue_watching(s, s.viewer)
    assert page["list"]["slug"] == "continue-watching"
    movies = [(e["type"], e["tmdbId"]) for e in page["results"]]
    assert movies[:2] == [("movie", 238), ("movie", 278)]
    first = page["results"][0]
    assert first["title"] and first["backdrop"].startswith("http") and first["progress"] == 0.5
    # Past the threshold (90 %) a movie is watched and leaves the row; the list alias agrees.
    assert report(s, s.viewer, type="movie", movieId=238, position=8000, duration=8500).status_code == 204
    assert progress(s, s.viewer, "?movieId=238")[0]["watched"] is True
    alias = call(s, s.viewer, "GET", "/api/list/continue-watching").json()
    assert [(e["type"], e["tmdbId"]) for e in alias["results"]] == [("movie", 278)]
    # Watching the start again does not un-watch it.
    assert report(s, s.viewer, type="movie", movieId=238, position=5, duration=8500).status_code == 204
    assert progress(s, s.viewer, "?movieId=238")[0]["watched"] is True


def test_shows_resume_the_episode_being_watched_then_offer_the_next_one(progress_stack):
    s = progress_stack
    # Show 1220 is not stored yet: the first report fetches it and its season (database first).
    assert report(s, s.viewer, type="episode", showId="1220", season=2, episode=12, position=1200, duration=2600).status_code == 204

    def show_entry():
        return next((e for e in continue_watching(s, s.viewer)["results"] if e["type"] == "episode"), None)
    entry = show_entry()
    assert entry["tmdbId"] == 1220 and (entry["season"], entry["episode"]) == (2, 12) and entry["position"] == 1200
    assert entry["next"] is False and entry["episodeName"]
    # Finished (the player says so): the next episode of the season is offered, from the start.
    assert report(s, s.viewer, type="episode", showId=1220, season=2, episode=12, progress=1, status="completed").status_code == 204
    entry = show_entry()
    assert (entry["season"], entry["episode"], entry["next"], entry["position"]) == (2, 13, True, 0)
    # The season's last episode watched: the next is season 3's first, which the engine's
    # season completion fetches because the show is now being watched.
    assert report(s, s.viewer, type="episode", showId=1220, season=2, episode=13, position=2500, duration=2600).status_code == 204
    entry = wait_until(lambda: (lambda e: e if e and e["season"] == 3 else None)(show_entry()), 30, interval=1)
    assert entry, "season 3 synced in the background"
    assert (entry["episode"], entry["next"]) == (1, True)
    assert [p["season"] for p in progress(s, s.viewer, "?showId=1220")] == [2, 2]


def test_progress_is_per_user_and_guests_cannot_write_it(progress_stack):
    s = progress_stack
    assert progress(s, s.admin_jar) == [], "another user's progress is not mine"
    assert continue_watching(s, s.admin_jar)["results"] == []
    assert report(s, s.guest, type="movie", movieId=278, position=1, duration=10).status_code == 403
    assert progress(s, s.guest) == []
    assert s.post("/api/progress", json={"type": "movie", "movieId": 278, "progress": 0.1}).status_code == 401
    assert s.get("/api/progress").status_code == 401
    assert s.get("/api/lists/continue-watching").status_code == 401


@pytest.mark.parametrize("body, field", [
    ({"type": "book", "movieId": 278, "progress": 0.1}, "type"),
    ({"type": "movie", "movieId": 278, "progress": 1.5}, "progress"),
    ({"type": "movie", "movieId": 278}, "progress"),
    ({"type": "movie", "movieId": 278, "position": -1, "duration": 100}, "position"),
    ({"type": "movie", "movieId": 278, "progress": 0.1, "status": "sleeping"}, "status"),
    ({"type": "movie", "progress": 0.1}, "movieId"),
    ({"type": "episode", "showId": 1220, "season": 2, "progress": 0.1}, "episode"),
])
def test_invalid_reports_are_refused_with_the_field_named(progress_stack, body, field):
    r = report(progress_stack, progress_stack.viewer, **body)
    assert r.status_code == 400, r.text
    assert field in [issue["path"][0] for issue in r.json()["error"]["issues"]]


def test_unknown_titles_and_malformed_bodies(progress_stack):
    s = progress_stack
    assert report(s, s.viewer, type="movie", movieId=424242424, progress=0.1).status_code == 404
    assert report(s, s.viewer, type="episode", showId=1220, season=2, episode=99, progress=0.1).status_code == 404
    r = s.viewer.post(s.url("/api/progress"), data=b'{"type": "movie", ', verify=False, timeout=10,
                      headers={"Content-Type": "application/json", "X-Session-Id": s.viewer.sid})
    assert r.status_code == 400 and r.json() == {"error": "Malformed JSON in request body"}
    assert call(s, s.viewer, "GET", "/api/progress?movieId=abc").status_code == 400
