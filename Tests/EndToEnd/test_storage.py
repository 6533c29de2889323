"""Downloads on disk (issue 6): STORAGE_THRESHOLD evicts the least recently watched download
no stream is reading; a full download volume fails that torrent cleanly, not the engine."""
import hashlib
import os
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import requests

from conftest import FixtureServer, Stack, free_port, wait_until
from test_streaming import Swarm, add_source, engine_torrents, stream, watch


@pytest.fixture(scope="module")
def storage_swarm():
    with tempfile.TemporaryDirectory(prefix="miauflix-swarm-storage-") as tmp:
        s = Swarm(Path(tmp))
        try:
            yield s
        finally:
            s.stop()


def start_stack(tmp, upstream, **env):
    s = Stack(Path(tmp) / "data", TMDB_API_URL=f"{upstream.base}/tmdb/3", TMDB_API_ACCESS_TOKEN="fixture-token",
              DISABLE_BACKGROUND_TASKS="true", STREAM_START_TIMEOUT="6s", **env)
    s.start()
    s.jar = requests.Session()
    r, s.sid = s.login(*s.admin, session=s.jar)
    assert r.status_code == 200
    return s


def storage_rows(stack):
    import sqlite3
    db = sqlite3.connect(stack.data_dir / "miauflix.sqlite", timeout=10)
    try:
        return {row[0]: row[1] for row in db.execute("SELECT movieSourceId, location FROM storage")}
    finally:
        db.close()


def test_the_least_recently_watched_download_is_evicted_over_the_threshold(storage_swarm):
    upstream = FixtureServer()
    with tempfile.TemporaryDirectory(prefix="miauflix-e2e-quota-") as tmp:
        os.chmod(tmp, 0o755)
        stack = start_stack(tmp, upstream, STORAGE_THRESHOLD="10MB", TORRENT_IDLE_TIMEOUT="3s")
        try:
            _, first, _ = storage_swarm.torrent(64)
            a = add_source(stack, 680, first)
            r = stream(stack, watch(stack, 680))
            assert hashlib.sha256(r.content).hexdigest() == storage_swarm.sha256
            a_folder = Path(wait_until(lambda: storage_rows(stack).get(a), 5))
            assert a_folder.is_dir()
            # Nobody watches it any more: the torrent stops after TORRENT_IDLE_TIMEOUT, its files stay.
            assert wait_until(lambda: all(t["sourceId"] != a for t in engine_torrents(stack)), 15)
            assert a_folder.is_dir() and a in storage_rows(stack)
            _, second, _ = storage_swarm.torrent(32)
            b = add_source(stack, 278, second)
            key_b = watch(stack, 278)
            r = stream(stack, key_b)
            assert hashlib.sha256(r.content).hexdigest() == storage_swarm.sha256
            # Two copies (12.9 MB) exceed 10 MB: the older, unwatched one goes within a job run.
            assert wait_until(lambda: a not in storage_rows(stack) and not a_folder.exists(), 20), storage_rows(stack)
            assert b in storage_rows(stack) and Path(storage_rows(stack)[b]).is_dir()
            log = (stack.data_dir / "logs/engine.log").read_text()
            assert f"event=storage_evicted" in log and f"source={a}" in log
            # The evicted title still plays: it is fetched again.
            again = stream(stack, watch(stack, 680))
            assert hashlib.sha256(again.content).hexdigest() == storage_swarm.sha256
        finally:
            stack.stop()
            upstream.stop()


def test_a_full_download_volume_fails_that_torrent_not_the_engine(storage_swarm):
    upstream = FixtureServer()
    with tempfile.TemporaryDirectory(prefix="miauflix-e2e-diskfull-") as tmp:
        os.chmod(tmp, 0o755)
        volume = Path(tmp) / "volume"
        volume.mkdir()
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(volume)], capture_output=True)
        if mounted.returncode != 0:
            pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.decode().strip()}")
        stack = None
        try:
            stack = start_stack(tmp, upstream, DOWNLOAD_PATH=str(volume))
            _, data, _ = storage_swarm.torrent(128)
            source = add_source(stack, 238, data)
            key = watch(stack, 238)
            try:
                r = stream(stack, key, timeout=60)
                complete = r.status_code == 200 and hashlib.sha256(r.content).hexdigest() == storage_swarm.sha256
            except requests.exceptions.RequestException:
                complete = False
            assert not complete, "a 6 MB file cannot fit on a 3 MB volume"
            assert wait_until(lambda: any(t["sourceId"] == source and t.get("error") == "diskFull" for t in engine_torrents(stack)), 20)
            after = stream(stack, key, {"Range": "bytes=0-100"})
            assert after.status_code == 503 and "Internal" not in after.text
            assert stack.get("/api/stream/health").status_code == 200 and stack.get("/api/health").status_code == 200
            log = (stack.data_dir / "logs/engine.log").read_text()
            assert "event=torrent_storage_failed" in log and "error=diskFull" in log
        finally:
            if stack:
                stack.stop()
            upstream.stop()
            subprocess.run(["umount", "-l", str(volume)], capture_output=True)


def test_the_encrypted_chunk_store_streams_and_keeps_no_plaintext_on_disk(storage_swarm):
    import base64
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF
    upstream = FixtureServer()
    with tempfile.TemporaryDirectory(prefix="miauflix-e2e-encrypted-") as tmp:
        os.chmod(tmp, 0o755)
        stack = start_stack(tmp, upstream, STORAGE_ENCRYPTION="true")
        try:
            _, data, infohash = storage_swarm.torrent(256)
            source = add_source(stack, 680, data)
            key = watch(stack, 680)
            r = stream(stack, key)
            assert r.status_code == 200 and hashlib.sha256(r.content).hexdigest() == storage_swarm.sha256
            middle = stream(stack, key, {"Range": "bytes=1000003-1100007"})
            assert middle.content == storage_swarm.data[1000003:1100008], "unaligned ranges decrypt"
            folder = Path(wait_until(lambda: storage_rows(stack).get(source), 5))
            on_disk = (folder / storage_swarm.media.name).read_bytes()
            assert len(on_disk) == len(storage_swarm.data) and on_disk[:65536] != storage_swarm.data[:65536]
            assert storage_swarm.data[100000:100064] not in on_disk
            # The format, checked with another implementation: HKDF-SHA256 key per torrent,
            # AES-256-CTR with the byte position as counter.
            master = base64.b64decode(stack.secrets()["SOURCE_SECURITY_KEY"])
            torrent_key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"miauflix-download-cache-salt-2024-secure-random-string",
                               info=b"miauflix-chunk-v1" + bytes.fromhex(infohash)).derive(master)
            decryptor = Cipher(algorithms.AES(torrent_key), modes.CTR(b"\0" * 16)).decryptor()
            assert decryptor.update(on_disk) + decryptor.finalize() == storage_swarm.data
        finally:
            stack.stop()
            upstream.stop()
