"""Web seeds (BEP 19, issue 12): a .torrent whose `url-list` names a local nginx serving the
file. With no peer at all the engine streams the whole file from HTTP range requests; a web
seed serving corrupt bytes is caught by the piece hashes and the stream still matches the
original (from a libtorrent peer)."""
import hashlib
import os
import subprocess
import tempfile
from pathlib import Path

import pytest
import requests

import swarm
from conftest import admin_stack, close_stack, free_port, wait_until
from test_streaming import temporary_swarm, add_source, engine_torrents, stream, watch


class StaticNginx:
    """nginx serving `root` on 127.0.0.1:<free port> (ranges, as any web server does)."""

    def __init__(self, root: Path, work: Path):
        self.port = free_port()
        self.work = work
        work.mkdir(parents=True, exist_ok=True)
        conf = work / "nginx.conf"
        conf.write_text(f"""daemon off;
worker_processes 1;
user root;
pid {work}/nginx.pid;
error_log {work}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log {work}/access.log;
    client_body_temp_path {work}/body; proxy_temp_path {work}/proxy; fastcgi_temp_path {work}/fastcgi;
    uwsgi_temp_path {work}/uwsgi; scgi_temp_path {work}/scgi;
    server {{ listen 127.0.0.1:{self.port}; root {root}; }}
}}
""")
        self.proc = subprocess.Popen(["timeout", "-k", "5", "600", "nginx", "-p", str(work), "-c", str(conf)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        swarm._live.add(self)
        assert wait_until(self._up, 10), (work / "error.log").read_text() if (work / "error.log").exists() else "nginx did not start"

    def _up(self):
        try:
            return requests.get(f"http://127.0.0.1:{self.port}/", timeout=1).status_code in (200, 403, 404)
        except requests.RequestException:
            return False

    def url(self, name):
        return f"http://127.0.0.1:{self.port}/{name}"

    def range_answers(self):
        log = (self.work / "access.log").read_text() if (self.work / "access.log").exists() else ""
        return [line for line in log.splitlines() if '" 206 ' in line]

    def stop(self):
        swarm._stop_process(self.proc)
        swarm._live.discard(self)


def engine_log(stack):
    lines = (stack.data_dir / "logs/engine.log").read_text().splitlines()
    return "\n".join(l for l in lines if "webseed" in l or "torrent" in l or "error" in l)[-3000:]


def with_web_seed(torrent_bytes: bytes, url: str) -> bytes:
    meta = swarm.bdecode(torrent_bytes)
    meta[b"url-list"] = [url.encode()]
    return swarm.bencode(meta)


@pytest.fixture(scope="module")
def seed_swarm():
    yield from temporary_swarm("miauflix-webseed-swarm-")


@pytest.fixture(scope="module")
def webseed_stack(seed_swarm):
    with tempfile.TemporaryDirectory(prefix="miauflix-e2e-webseed-") as tmp:
        s = admin_stack(tmp, STREAM_START_TIMEOUT="20s")
        try:
            yield s
        finally:
            close_stack(s)


def served_copy(media: Path, folder: Path, corrupt: bool = False) -> Path:
    """A copy of the media in `folder`; `corrupt` flips one byte in every 64 KiB."""
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o755)
    data = bytearray(media.read_bytes())
    if corrupt:
        for i in range(1000, len(data), 65_536):
            data[i] ^= 0xFF
    target = folder / media.name
    target.write_bytes(bytes(data))
    os.chmod(target, 0o644)
    return target


def test_with_no_peer_at_all_the_file_streams_from_the_web_seed(seed_swarm, webseed_stack):
    work = seed_swarm.work / "nginx-good"
    served_copy(seed_swarm.media, work / "www")
    web = StaticNginx(work / "www", work)
    try:
        path = seed_swarm.work / "webseed-only.torrent"
        data, infohash = swarm.make_torrent(seed_swarm.media, [], 64, path)  # no tracker, discovery off: no peer
        add_source(webseed_stack, 680, with_web_seed(data, web.url(seed_swarm.media.name)))
        r = stream(webseed_stack, watch(webseed_stack, 680), timeout=90)
        assert r.status_code == 200 and hashlib.sha256(r.content).hexdigest() == seed_swarm.sha256, engine_log(webseed_stack)
        torrent = next(t for t in engine_torrents(webseed_stack) if t["infoHash"] == infohash)
        assert torrent["webSeedDownloaded"] == len(seed_swarm.data) and torrent["peers"] == 0
        assert len(web.range_answers()) >= 99, "one range request per 64 KiB piece"
    finally:
        web.stop()


def test_a_web_seed_serving_corrupt_bytes_is_caught_and_a_peer_completes_the_file(seed_swarm, webseed_stack):
    work = seed_swarm.work / "nginx-bad"
    served_copy(seed_swarm.media, work / "www", corrupt=True)
    web = StaticNginx(work / "www", work)
    try:
        path, data, infohash = seed_swarm.torrent(128, seed=True, upload_limit=1_000_000)
        add_source(webseed_stack, 240, with_web_seed(data, web.url(seed_swarm.media.name)))
        r = stream(webseed_stack, watch(webseed_stack, 240), timeout=90)
        assert r.status_code == 200 and hashlib.sha256(r.content).hexdigest() == seed_swarm.sha256
        torrent = next(t for t in engine_torrents(webseed_stack) if t["infoHash"] == infohash)
        assert web.range_answers(), "the web seed was tried"
        assert torrent["hashFailures"] >= 1 and torrent["webSeedDownloaded"] == 0
    finally:
        web.stop()
