"""Start-up, restart, configuration and shutdown behaviour (issue 2)."""
import os
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import ADMIN_LINE, BIN, Stack, wait_until


@pytest.fixture()
def fresh(tmp_path):
    os.chmod(tmp_path, 0o755)
    s = Stack(tmp_path / "data")
    yield s
    s.stop()


def test_admin_line_printed_once_and_only_on_first_start(fresh):
    first = fresh.start()
    matches = ADMIN_LINE.findall(first)
    assert len(matches) == 1, first
    email, password = matches[0]
    assert email.startswith("admin@") and email.endswith(".local")
    assert len(password) == 24
    assert "Please change these credentials after first login." in first
    # Running start again while everything runs is safe and prints no new admin.
    again = fresh.start()
    assert not ADMIN_LINE.search(again), again
    # A full restart does not either.
    fresh.stop()
    third = fresh.start()
    assert not ADMIN_LINE.search(third), third
    users = fresh.miauflix("user", "list").stdout.splitlines()
    assert [u.split("\t")[:2] for u in users] == [[email, "admin"]]
    # Stop stops exactly our processes.
    pids = [fresh.pid("api"), fresh.pid("engine")]
    fresh.stop()
    for pid in pids:
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]


def test_concurrent_first_starts_migrate_once_and_create_one_admin(tmp_path):
    s = Stack(tmp_path / "data")
    procs = [subprocess.Popen(["timeout", "60", BIN, "migrate"], env=s.env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(6)]
    outs = [p.communicate() for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    admin_lines = [line for out, _ in outs for line in out.splitlines() if ADMIN_LINE.match(line)]
    assert len(admin_lines) == 1, outs
    db = sqlite3.connect(s.data_dir / "miauflix.sqlite")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    applied = [r[0] for r in db.execute("SELECT identifier FROM grdb_migrations")]
    assert applied[0] == "001-initial-schema" and len(applied) == len(set(applied)), applied
    assert db.execute("SELECT COUNT(*) FROM users WHERE role = 'admin'").fetchone()[0] == 1


def test_schema_has_the_full_data_model(tmp_path):
    s = Stack(tmp_path / "data")
    assert s.miauflix("migrate").returncode == 0
    db = sqlite3.connect(s.data_dir / "miauflix.sqlite")
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    expected = {"users", "refresh_tokens", "audit_logs", "streaming_key", "trakt_users", "movie", "movie_translation",
                "movie_source", "storage", "tv_show", "tv_show_translation", "season", "episode", "genre",
                "genre_translation", "media_list", "media_list_movies_movie", "media_list_tv_shows_tv_show",
                "media_list_seasons_season", "movie_genres_genre", "tv_show_genres_genre", "sync_state", "progress",
                "progress_movie", "progress_episode", "device_code", "job_run"}
    assert expected <= tables, expected - tables
    columns = {r[1] for r in db.execute("PRAGMA table_info(movie_source)")}
    assert {"ih", "ml", "u", "file", "quality", "videoCodec", "sourceType", "streamingScore"} <= columns
    # Unique constraints that the auth and source logic rely on.
    db.execute("INSERT INTO users (id, email, role) VALUES ('a', 'x@y.z', 'guest')")
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("INSERT INTO users (id, email) VALUES ('b', 'x@y.z')")
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("INSERT INTO users (id, email, role) VALUES ('c', 'c@y.z', 'superuser')")


def test_invalid_values_stop_start_up_with_one_line_naming_the_variable(tmp_path):
    s = Stack(tmp_path / "data")
    for name, value in [("ACCESS_TOKEN_EXPIRATION", "fifteen"), ("TMDB_API_URL", "not a url"),
                        ("SOURCE_SECURITY_KEY", "c2hvcnQ="), ("HTTPS_PORT", "70000")]:
        result = s.miauflix("api", extra_env={name: value})
        assert result.returncode == 78, (name, result)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and name in lines[0], (name, result.stderr)
        assert value not in lines[0] or name != "SOURCE_SECURITY_KEY"


def test_auto_secrets_are_generated_once_private_and_never_printed(tmp_path):
    s = Stack(tmp_path / "data")
    assert s.miauflix("migrate").returncode == 0
    secrets = s.data_dir / "secrets.env"
    assert oct(secrets.stat().st_mode & 0o777) == "0o600"
    first = secrets.read_text()
    assert s.miauflix("migrate").returncode == 0
    assert secrets.read_text() == first, "generated once"
    values = dict(line.split("=", 1) for line in first.splitlines() if "=" in line and not line.startswith("#"))
    assert set(values) >= {"JWT_SECRET", "SOURCE_SECURITY_KEY", "STREAM_KEY_SALT"}
    check = s.miauflix("config", "check", extra_env={"TMDB_API_ACCESS_TOKEN": "tmdb-secret-value-123"})
    assert check.returncode == 0, check.stderr
    for secret in list(values.values()) + ["tmdb-secret-value-123"]:
        assert secret not in check.stdout
    assert "MISSING  TRAKT_CLIENT_ID" in check.stdout
    assert "ok       TMDB_API_ACCESS_TOKEN=(set)" in check.stdout
    bad = s.miauflix("config", "check", extra_env={"REFRESH_TOKEN_EXPIRATION": "7 days"})
    assert bad.returncode == 1 and "INVALID  REFRESH_TOKEN_EXPIRATION" in bad.stdout


def test_dotenv_file_is_read_and_environment_wins(tmp_path):
    s = Stack(tmp_path / "data")
    work = tmp_path / "work"
    work.mkdir()
    (work / ".env").write_text("# comment\nexport SERVER_NAME=media.example.org\nHTTPS_PORT='9443'\n")
    env = dict(s.env)
    env.pop("HTTPS_PORT")
    out = subprocess.run([BIN, "config", "shell"], env=env, cwd=work, capture_output=True, text=True)
    assert "MIAUFLIX_SERVER_NAME='media.example.org'" in out.stdout
    assert "MIAUFLIX_HTTPS_PORT='9443'" in out.stdout
    env["HTTPS_PORT"] = "9555"
    out = subprocess.run([BIN, "config", "shell"], env=env, cwd=work, capture_output=True, text=True)
    assert "MIAUFLIX_HTTPS_PORT='9555'" in out.stdout


def test_user_commands(tmp_path):
    s = Stack(tmp_path / "data")
    created = s.miauflix("user", "create", "kid@home.lan", "--role", "guest", "--password-stdin",
                         input="correct horse battery\n")
    assert created.returncode == 0, created.stderr
    duplicate = s.miauflix("user", "create", "kid@home.lan", "--password-stdin", input="correct horse battery\n")
    assert duplicate.returncode == 1 and "User already exists" in duplicate.stderr
    short = s.miauflix("user", "create", "b@home.lan", "--password-stdin", input="short\n")
    assert short.returncode == 1 and "at least 10" in short.stderr
    assert s.miauflix("user", "set-role", "kid@home.lan", "user").returncode == 0
    assert s.miauflix("user", "disable", "kid@home.lan").returncode == 0
    listing = s.miauflix("user", "list").stdout
    assert "kid@home.lan\tuser\tdisabled" in listing
    reset = s.miauflix("user", "reset-password", "kid@home.lan")
    assert reset.returncode == 0 and "new password: " in reset.stdout
    assert s.miauflix("user", "set-role", "nobody@home.lan", "admin").returncode == 1
    db = sqlite3.connect(s.data_dir / "miauflix.sqlite")
    stored = db.execute("SELECT passwordHash FROM users WHERE email = 'kid@home.lan'").fetchone()[0]
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


def test_sigterm_drains_and_removes_the_socket(fresh):
    fresh.start()
    socket_path = fresh.data_dir / "run" / "api.sock"
    assert socket_path.exists()
    workers = fresh.worker_pids()
    os.kill(fresh.pid("api"), 15)
    gone = wait_until(lambda: not Path(f"/proc/{fresh.pid('api')}").exists() or
                      Path(f"/proc/{fresh.pid('api')}/stat").read_text().split()[2] == "Z", 10)
    assert gone
    assert not socket_path.exists()
    for pid in workers:
        assert not Path(f"/proc/{pid}").exists() or Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    # nginx answers a JSON 503 while the API is down.
    r = fresh.get("/api/health")
    assert r.status_code == 503
    assert r.json() == {"error": "The API is not running"}
    log = (fresh.data_dir / "logs" / "api.log").read_text()
    assert "event=api_stopped" in log


def test_readme_documents_every_configuration_variable(tmp_path):
    s = Stack(tmp_path / "data")
    names = [line.split()[1].split("=")[0] for line in s.miauflix("config", "check").stdout.splitlines()]
    assert len(names) > 30
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    missing = [n for n in names if f"`{n}`" not in readme]
    assert not missing, f"README lacks {missing}"
