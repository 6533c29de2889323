#!/usr/bin/env python3
"""A real BitTorrent swarm on loopback for the end-to-end tests.

Parts (see docs/testing.md, "A real BitTorrent swarm"):
  make_media(cache_dir)            deterministic H.264/AAC MP4 (byte-identical every run)
  Tracker(work_dir, hashes)        Debian's opentracker (whitelist-only), HTTP + UDP on one free port
  make_torrent(path, trackers, piece_kib, out) / magnet(infohash, trackers)
  Seeder(torrent, content_dir, bind, upload_limit)   libtorrent seeding in its own process
  Leecher(source, dest, bind, peers, trackers, only_peers)  libtorrent leeching in its own process
  CorruptPeer(torrent, bind)       pure-Python BEP 3 peer that answers every request with random bytes
  (DHT: Tests/EndToEnd/dht_swarm.py builds a loopback mainline DHT out of the same peers.)

Every process is started under `timeout`, recorded by PID and stopped by PID; every wait has a
deadline; everything binds to 127.0.0.0/8; DHT, LSD, UPnP, NAT-PMP and uTP are off everywhere
(except DHT in dht_swarm.py's peers, fenced to 127.0.0.0/8).

CLI: python3 Tests/EndToEnd/swarm.py serve --dir DIR [--piece-kib 64]
     prints one JSON line describing the swarm and runs until SIGTERM/SIGINT.
"""
from __future__ import annotations

import argparse
import atexit
import collections
import hashlib
import http.client
import json
import os
import random
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import weakref
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PEER_SCRIPT = Path(__file__).resolve().parent / "peers" / "lt_peer.py"
DEFAULT_MEDIA_CACHE = REPO / ".build" / "test-media"
DEFAULT_LIFETIME = 900  # seconds; `timeout` ends any harness process that outlives a crashed test


# ---------------------------------------------------------------------------------------------
# Small helpers

def free_port(host: str = "127.0.0.1", udp: bool = False) -> int:
    """A port that is free for TCP (and, with udp=True, for UDP too) on host right now."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind((host, 0))
            port = s.getsockname()[1]
        if not udp:
            return port
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                u.bind((host, port))
            return port
        except OSError:
            continue
    raise RuntimeError("no free TCP+UDP port")


_address_lock = threading.Lock()
_address_count = 0


def fresh_address() -> str:
    """A loopback address no other call in this process returned: 127.A.B.C, A picked from the
    PID so that concurrent test processes differ too. Every client gets its own address."""
    global _address_count
    with _address_lock:
        n = _address_count
        _address_count += 1
    a = 20 + os.getpid() % 230
    return f"127.{a}.{(n // 250) % 256}.{n % 250 + 2}"


def wait_for(predicate, timeout: float, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# Bencoding (enough for torrents and tracker replies) ------------------------------------------

def bencode(value) -> bytes:
    if isinstance(value, bool):
        raise TypeError("bool is not bencodable")
    if isinstance(value, int):
        return b"i%de" % value
    if isinstance(value, str):
        value = value.encode()
    if isinstance(value, (bytes, bytearray)):
        return b"%d:%s" % (len(value), bytes(value))
    if isinstance(value, (list, tuple)):
        return b"l" + b"".join(bencode(v) for v in value) + b"e"
    if isinstance(value, dict):
        items = sorted((k.encode() if isinstance(k, str) else k, v) for k, v in value.items())
        return b"d" + b"".join(bencode(k) + bencode(v) for k, v in items) + b"e"
    raise TypeError(f"cannot bencode {type(value)}")


def _bdecode_at(data: bytes, i: int, spans: dict | None):
    c = data[i:i + 1]
    if c == b"i":
        end = data.index(b"e", i)
        return int(data[i + 1:end]), end + 1
    if c == b"l":
        i += 1
        out = []
        while data[i:i + 1] != b"e":
            v, i = _bdecode_at(data, i, None)
            out.append(v)
        return out, i + 1
    if c == b"d":
        i += 1
        out = {}
        while data[i:i + 1] != b"e":
            k, i = _bdecode_at(data, i, None)
            start = i
            v, i = _bdecode_at(data, i, None)
            if spans is not None:
                spans[k] = (start, i)
            out[k] = v
        return out, i + 1
    if c.isdigit():
        colon = data.index(b":", i)
        n = int(data[i:colon])
        if n < 0 or colon + 1 + n > len(data):
            raise ValueError("string runs past the end")
        return data[colon + 1:colon + 1 + n], colon + 1 + n
    raise ValueError(f"bad bencoding at {i}")


def bdecode(data: bytes):
    value, end = _bdecode_at(data, 0, None)
    if end != len(data):
        raise ValueError("trailing data after bencoded value")
    return value


def read_torrent(source) -> dict:
    """Parses a .torrent (path or bytes): info_hash (20 bytes), infohash (hex), name, length,
    piece_length, num_pieces, trackers (flat list, tier order)."""
    data = source if isinstance(source, (bytes, bytearray)) else Path(source).read_bytes()
    spans = {}
    top, _ = _bdecode_at(bytes(data), 0, spans)
    start, end = spans[b"info"]
    info = top[b"info"]
    info_hash = hashlib.sha1(data[start:end]).digest()
    length = info.get(b"length")
    if length is None:
        length = sum(f[b"length"] for f in info[b"files"])
    trackers = []
    for tier in top.get(b"announce-list", []):
        trackers += [t.decode() for t in tier if t.decode() not in trackers]
    if b"announce" in top and top[b"announce"].decode() not in trackers:
        trackers.insert(0, top[b"announce"].decode())
    piece_length = info[b"piece length"]
    return dict(info_hash=info_hash, infohash=info_hash.hex(), name=info[b"name"].decode(), length=length,
                piece_length=piece_length, num_pieces=len(info[b"pieces"]) // 20, trackers=trackers)


# HTTP tracker client ---------------------------------------------------------------------------

def http_announce(url: str, info_hash: bytes, peer_id: bytes, port: int, *, left: int = 0, event: str | None = None,
                  source: str | None = None, numwant: int | None = None, timeout: float = 5) -> dict:
    """One HTTP announce (compact=1), sent from `source` if given (the tracker records the
    connection's source address). Returns the bdecoded reply; raises on a failure reason."""
    enc = lambda b: "".join("%%%02X" % x for x in b)  # noqa: E731 - byte by byte, as BEP 3 wants
    query = (f"info_hash={enc(info_hash)}&peer_id={enc(peer_id)}&port={port}&uploaded=0&downloaded=0"
             f"&left={left}&compact=1")
    if event:
        query += f"&event={event}"
    if numwant is not None:
        query += f"&numwant={numwant}"
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=timeout,
                                      source_address=(source, 0) if source else None)
    try:
        conn.request("GET", f"{parts.path or '/announce'}?{query}")
        body = conn.getresponse().read()
    finally:
        conn.close()
    reply = bdecode(body)
    if b"failure reason" in reply:
        raise RuntimeError(f"tracker refused the announce: {reply[b'failure reason'].decode(errors='replace')}")
    return reply


def compact_peers(reply: dict) -> list[str]:
    blob = reply.get(b"peers", b"")
    if isinstance(blob, list):
        return [f"{p[b'ip'].decode()}:{p[b'port']}" for p in blob]
    return [f"{socket.inet_ntoa(blob[i:i + 4])}:{int.from_bytes(blob[i + 4:i + 6], 'big')}"
            for i in range(0, len(blob) - 5, 6)]


# Process bookkeeping -----------------------------------------------------------------------------

_live = weakref.WeakSet()


@atexit.register
def _stop_leftovers():
    for thing in list(_live):
        try:
            thing.stop()
        except Exception:
            pass


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _stop_process(proc: subprocess.Popen, grace: float = 10):
    """SIGTERM to the `timeout` wrapper (it forwards the signal to its child), then SIGKILL to
    the process group it leads if it does not end within `grace` seconds."""
    if proc.poll() is None:
        try:
            proc.send_signal(signal.SIGTERM)
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(5)
    for stream in (proc.stdout, proc.stderr):
        if stream:
            try:
                stream.close()
            except Exception:
                pass


# ---------------------------------------------------------------------------------------------
# Media

MEDIA_NAME = "miauflix-test-360p.mp4"
MEDIA_SECONDS = 24
MEDIA_RECIPE = [
    "-f", "lavfi", "-i", f"testsrc2=size=640x360:rate=30:duration={MEDIA_SECONDS},noise=alls=12:allf=t:all_seed=4242",
    "-f", "lavfi", "-i", f"sine=frequency=1000:sample_rate=48000:duration={MEDIA_SECONDS}",
    "-map", "0:v", "-map", "1:a", "-ac", "2",
    "-c:v", "libx264", "-threads", "2", "-preset", "veryfast", "-profile:v", "high", "-level", "3.1",
    "-pix_fmt", "yuv420p", "-crf", "25", "-g", "60", "-keyint_min", "60", "-sc_threshold", "0",
    "-c:a", "aac", "-b:a", "128k",
    "-map_metadata", "-1", "-movflags", "+faststart", "-fflags", "+bitexact", "-shortest",
]


def media_key() -> str:
    return hashlib.sha256(json.dumps([MEDIA_NAME, MEDIA_RECIPE]).encode()).hexdigest()[:16]


def make_media(cache_dir: Path, regenerate: bool = False) -> Path:
    """The test MP4 (24 s, 640x360 H.264 High + AAC stereo, faststart, about 6.5 MB), made with
    ffmpeg if it is not cached yet: cache_dir/<recipe hash>/miauflix-test-360p.mp4. x264 in CRF
    mode with a fixed thread count and a fixed noise seed gives byte-identical files, so the
    info-hashes made from it are stable too."""
    target = Path(cache_dir) / media_key() / MEDIA_NAME
    if target.is_file() and target.stat().st_size > 0 and not regenerate:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.mp4")
    try:
        result = subprocess.run(["timeout", "600", "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
                                 *MEDIA_RECIPE, str(partial)], capture_output=True, text=True)
        if result.returncode != 0 or not partial.is_file():
            raise RuntimeError(f"ffmpeg failed ({result.returncode}): {result.stderr[-2000:]}")
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


# ---------------------------------------------------------------------------------------------
# Tracker

class Tracker:
    """Debian's opentracker on host:PORT for TCP (HTTP announce) and UDP. Debian builds it
    whitelist-only: a hash must be in access.whitelist (path relative to the -d chroot) before
    anyone can announce it. add_hash() rewrites the list and sends SIGHUP, which opentracker
    answers by reloading it; it then waits until an announce for that hash is accepted."""

    def __init__(self, work_dir: Path, hashes=(), host: str = "127.0.0.1", lifetime: int = DEFAULT_LIFETIME,
                 start_timeout: float = 15):
        self.host = host
        self.dir = Path(work_dir) / "opentracker"
        self.dir.mkdir(parents=True, exist_ok=True)
        # opentracker chroots here and drops to `nobody`, who must still read the whitelist.
        os.chmod(self.dir, 0o755)
        self.hashes = []
        for h in hashes:
            h = self._check_hash(h)
            if h not in self.hashes:
                self.hashes.append(h)
        self._write_whitelist()
        conf = self.dir / "opentracker.conf"
        conf.write_text("access.whitelist whitelist.txt\n")
        os.chmod(conf, 0o644)
        self.proc = None
        last_error = ""
        for _attempt in range(5):
            self.port = free_port(host, udp=True)
            self.log = open(self.dir / "opentracker.log", "ab")
            self.proc = subprocess.Popen(
                ["timeout", "-k", "5", str(lifetime), "opentracker", "-i", host, "-p", str(self.port),
                 "-P", str(self.port), "-A", host, "-f", str(conf), "-d", str(self.dir), "-u", "nobody"],
                stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
            _live.add(self)
            if wait_for(lambda: self.proc.poll() is not None or self._accepts(), start_timeout) \
                    and self.proc.poll() is None:
                break
            last_error = (self.dir / "opentracker.log").read_text(errors="replace")[-2000:]
            _stop_process(self.proc)
            self.log.close()
        else:
            raise RuntimeError(f"opentracker did not start: {last_error}")
        for h in self.hashes:
            self._wait_listed(h, start_timeout)

    @property
    def http_url(self) -> str:
        return f"http://{self.host}:{self.port}/announce"

    @property
    def udp_url(self) -> str:
        return f"udp://{self.host}:{self.port}"

    @property
    def pid(self) -> int:
        """The `timeout` wrapper's PID (signal it to stop the tracker)."""
        return self.proc.pid

    def tracker_pid(self) -> int:
        """opentracker's own PID (the wrapper's only child)."""
        children = _children(self.proc.pid)
        if len(children) != 1:
            raise RuntimeError(f"expected one opentracker under timeout[{self.proc.pid}], found {children}")
        return children[0]

    @staticmethod
    def _check_hash(h) -> str:
        h = h.hex() if isinstance(h, (bytes, bytearray)) else str(h).lower()
        if len(h) != 40 or any(c not in "0123456789abcdef" for c in h):
            raise ValueError(f"not a hex v1 info-hash: {h!r}")
        return h

    def _write_whitelist(self):
        tmp = self.dir / "whitelist.txt.new"
        tmp.write_text("".join(h + "\n" for h in self.hashes))
        os.chmod(tmp, 0o644)
        os.replace(tmp, self.dir / "whitelist.txt")

    def _accepts(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=1):
                return True
        except OSError:
            return False

    def _wait_listed(self, h: str, timeout: float):
        """Announces a probe peer (port 1) for h until the tracker accepts it, then withdraws it."""
        info_hash = bytes.fromhex(h)
        peer_id = b"-MFPROBE-" + os.urandom(6).hex()[:11].encode()
        last = None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                http_announce(self.http_url, info_hash, peer_id, 1, left=1, numwant=0, source=self.host)
                http_announce(self.http_url, info_hash, peer_id, 1, left=1, event="stopped", numwant=0,
                              source=self.host)
                return
            except (RuntimeError, OSError, ValueError) as e:
                last = e
                time.sleep(0.05)
        raise RuntimeError(f"opentracker does not accept {h} after {timeout}s: {last}")

    def add_hash(self, h, timeout: float = 10):
        h = self._check_hash(h)
        if h in self.hashes:
            return
        self.hashes.append(h)
        self._write_whitelist()
        # SIGHUP makes opentracker reload its whitelist (in a worker thread). It goes to
        # opentracker itself: `timeout -k` would forward it but also arm its kill-after timer
        # and SIGKILL the tracker 5 s later.
        os.kill(self.tracker_pid(), signal.SIGHUP)
        self._wait_listed(h, timeout)

    def scrape(self, h) -> dict:
        """{'complete': seeders, 'incomplete': leechers, 'downloaded': n} for one hash (zeros if unknown)."""
        h = self._check_hash(h)
        enc = "".join("%%%02X" % x for x in bytes.fromhex(h))
        conn = http.client.HTTPConnection(self.host, self.port, timeout=5)
        try:
            conn.request("GET", f"/scrape?info_hash={enc}")
            files = bdecode(conn.getresponse().read()).get(b"files", {})
        finally:
            conn.close()
        entry = files.get(bytes.fromhex(h), {})
        return {k: entry.get(k.encode(), 0) for k in ("complete", "incomplete", "downloaded")}

    def wait_seeders(self, h, count: int = 1, timeout: float = 15) -> bool:
        return bool(wait_for(lambda: self.scrape(h)["complete"] >= count, timeout, 0.1))

    def stop(self):
        if self.proc is not None:
            _stop_process(self.proc)
            self.log.close()
        _live.discard(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


# ---------------------------------------------------------------------------------------------
# Torrents

def make_torrent(path: Path, trackers: list[str], piece_kib: int, out: Path) -> tuple[bytes, str]:
    """mktorrent with 2**n-byte pieces (piece_kib a power of two, 32 KiB .. 256 MiB), one tracker
    tier per URL, no creation date (so the file is byte-identical for identical input).
    Returns (the .torrent's bytes, the v1 info-hash in hex)."""
    piece = piece_kib * 1024
    exponent = piece.bit_length() - 1
    if piece <= 0 or piece != 1 << exponent or not 15 <= exponent <= 28:
        raise ValueError(f"piece size must be a power of two between 32 KiB and 256 MiB, not {piece_kib} KiB")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)  # mktorrent refuses to overwrite
    cmd = ["timeout", "120", "mktorrent", "-d", "-t", "2", "-l", str(exponent), "-o", str(out)]
    for url in trackers:
        cmd += ["-a", url]
    result = subprocess.run(cmd + [str(path)], capture_output=True, text=True)
    if result.returncode != 0 or not out.is_file():
        raise RuntimeError(f"mktorrent failed ({result.returncode}): {result.stdout[-1000:]} {result.stderr[-1000:]}")
    data = out.read_bytes()
    return data, read_torrent(data)["infohash"]


def magnet(infohash: str, trackers: list[str] = (), name: str | None = None) -> str:
    """magnet:?xt=urn:btih:<hex>[&dn=name][&tr=url]..."""
    uri = f"magnet:?xt=urn:btih:{infohash.lower()}"
    if name:
        uri += "&dn=" + urllib.parse.quote(name, safe="")
    for url in trackers:
        uri += "&tr=" + urllib.parse.quote(url, safe="")
    return uri


# ---------------------------------------------------------------------------------------------
# libtorrent peers (Tests/EndToEnd/peers/lt_peer.py in its own process)

class _LtPeer:
    """Runs lt_peer.py under `timeout`, collects its JSON event lines."""

    def __init__(self, args: list[str], bind: str, lifetime: int, start_timeout: float,
                 script: Path = PEER_SCRIPT, prefix: tuple = (), loopback_only: bool = True, control: bool = False):
        # The benchmark runs peers inside namespaces (prefix ("ip", "netns", "exec", NS)) or
        # on a namespace link's address, so it passes loopback_only=False; tests never do.
        if loopback_only and not bind.startswith("127."):
            raise ValueError("bind must be a 127.x.y.z address")
        self.address = bind
        self.events: list[dict] = []
        self._cond = threading.Condition()
        self.stderr_tail = collections.deque(maxlen=200)
        # control=True: lt_peer.py --control reads JSON commands from stdin (see send()).
        self._stdin_lock = threading.Lock()
        self.proc = subprocess.Popen(
            [*prefix, "timeout", "-k", "5", str(lifetime), sys.executable, "-u", str(script), *args, "--bind", bind],
            stdin=subprocess.PIPE if control else subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, start_new_session=True)
        _live.add(self)
        self._readers = [threading.Thread(target=self._read_stdout, daemon=True),
                         threading.Thread(target=self._read_stderr, daemon=True)]
        for t in self._readers:
            t.start()
        listening = self.wait_event("listening", start_timeout)
        if listening is None:
            self.stop()
            raise RuntimeError(f"libtorrent peer did not start listening: {self.describe()}")
        self.port = listening["port"]

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def endpoint(self) -> str:
        return f"{self.address}:{self.port}"

    def _read_stdout(self):
        for line in self.proc.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                event = {"event": "raw", "line": line.rstrip("\n")}
            with self._cond:
                self.events.append(event)
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def _read_stderr(self):
        for line in self.proc.stderr:
            self.stderr_tail.append(line.rstrip("\n"))

    def find(self, name: str, predicate=None) -> list[dict]:
        with self._cond:
            return [e for e in self.events if e.get("event") == name and (predicate is None or predicate(e))]

    def wait_event(self, name: str, timeout: float, predicate=None) -> dict | None:
        """The first event called `name` (matching predicate), waiting up to `timeout` seconds;
        None on timeout or if the process ended without it."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for e in self.events:
                    if e.get("event") == name and (predicate is None or predicate(e)):
                        return e
                remaining = deadline - time.monotonic()
                if remaining <= 0 or (self.proc.poll() is not None and not self._readers[0].is_alive()):
                    return None
                self._cond.wait(min(remaining, 0.2))

    def describe(self) -> str:
        return (f"exit={self.proc.poll()} events={self.events[-8:]} "
                f"stderr={list(self.stderr_tail)[-10:]}")

    def send(self, command: dict):
        """One JSON command line to a peer started with control=True (lt_peer.py --control)."""
        if self.proc.stdin is None:
            raise RuntimeError("this peer was not started with control=True")
        with self._stdin_lock:
            self.proc.stdin.write(json.dumps(command) + "\n")
            self.proc.stdin.flush()

    def stop(self):
        if self.proc.stdin is not None:
            try:
                self.proc.stdin.close()
            except (OSError, ValueError):
                pass
        _stop_process(self.proc)
        for t in self._readers:
            t.join(5)
        _live.discard(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class Seeder(_LtPeer):
    """libtorrent seeding `torrent` from `content_dir` (the folder that holds the torrent's file),
    listening on bind:<port 0>. upload_limit (bytes/s of payload) applies to loopback peers too.
    Waits until it listens, has checked its data and is seeding, and (if it uses the torrent's
    trackers) until a tracker answered its announce. .port, .endpoint, .pid, .stop()."""

    def __init__(self, torrent: Path, content_dir: Path, bind: str, upload_limit: int | None = None,
                 trackers: bool = True, lifetime: int = DEFAULT_LIFETIME, start_timeout: float = 30,
                 extra_args: tuple = (), control: bool = False):
        args = ["seed", "--torrent", str(torrent), "--save", str(content_dir)]
        if upload_limit:
            args += ["--upload-limit", str(int(upload_limit))]
        if not trackers:
            args.append("--no-trackers")
        super().__init__(args + list(extra_args), bind, lifetime, start_timeout, control=control)
        checked = self.wait_event("checked", start_timeout)
        if checked is None or not checked.get("seeding"):
            self.stop()
            raise RuntimeError(f"seeder does not have the complete content in {content_dir}: {self.describe()}")
        has_trackers = bool(read_torrent(torrent)["trackers"])
        if trackers and has_trackers and self.wait_event("announced", start_timeout) is None:
            self.stop()
            raise RuntimeError(f"seeder's announce got no tracker reply: {self.describe()}")


class Leecher(_LtPeer):
    """libtorrent downloading `source` (a .torrent path or a magnet URI) into `dest`, on
    bind:<port 0>. peers: "host:port" strings to connect to directly. trackers=False: announce
    to none. only_peers=True: no trackers, no PEX, and an IP filter that refuses every address
    but the given peers' -- the download can only come from them. Returns once listening."""

    def __init__(self, source, dest: Path, bind: str, peers=(), trackers: bool = True, only_peers: bool = False,
                 sequential: bool = False, download_limit: int | None = None, upload_limit: int | None = None,
                 lifetime: int = DEFAULT_LIFETIME, start_timeout: float = 30, extra_args: tuple = (),
                 control: bool = False):
        if isinstance(peers, str):
            peers = [peers]
        self.dest = Path(dest)
        self.dest.mkdir(parents=True, exist_ok=True)
        source_text = str(source)
        args = ["leech", "--save", str(self.dest)]
        args += ["--magnet", source_text] if source_text.startswith("magnet:") else ["--torrent", source_text]
        for p in peers:
            args += ["--peer", p]
        if only_peers:
            if not peers:
                raise ValueError("only_peers needs at least one peer")
            args.append("--only-peers")
            trackers = False
        if not trackers:
            args.append("--no-trackers")
        if sequential:
            args.append("--sequential")
        if download_limit:
            args += ["--download-limit", str(int(download_limit))]
        if upload_limit:
            args += ["--upload-limit", str(int(upload_limit))]
        self.started = time.monotonic()
        super().__init__(args + list(extra_args), bind, lifetime, start_timeout, control=control)

    def wait_complete(self, timeout: float) -> bool:
        return self.wait_event("complete", timeout) is not None

    @property
    def complete(self) -> dict | None:
        found = self.find("complete")
        return found[0] if found else None

    @property
    def progress(self) -> dict:
        found = self.find("progress")
        return found[-1] if found else {}

    @property
    def hash_failures(self) -> int:
        return len(self.find("hash_failed"))

    @property
    def banned(self) -> list[str]:
        return [e["peer"] for e in self.find("peer_banned")]

    @property
    def peers_seen(self) -> dict:
        """{"ip:port": bytes of the blocks that peer delivered}, from libtorrent's
        block_finished alerts, as of completion (or the latest progress line before it).
        A lower bound: blocks whose disk write completes after the last piece passed its hash
        check get no alert, so the sum can fall short of the file size by a few pieces."""
        done = self.complete
        if done:
            return dict(done["peers"])
        return dict(self.progress.get("received", {}))

    @property
    def peers_connected(self) -> set[str]:
        """Every "ip:port" this leecher had a connection with (either direction), leaving out
        connections to itself (its own tracker entry)."""
        found = {e["peer"] for name in ("peer_connected", "peer_disconnected") for e in self.find(name)}
        return {p for p in found if p.rpartition(":")[0] != self.address}

    @property
    def path(self) -> Path | None:
        """The downloaded file (single-file torrents), once the metadata is known."""
        found = self.find("metadata")
        if not found:
            return None
        return self.dest / found[0]["files"][0]

    def sha256(self) -> str:
        path = self.path
        if path is None:
            raise RuntimeError("no metadata yet")
        return sha256_file(path)


# ---------------------------------------------------------------------------------------------
# A peer that lies

class _Stopping(Exception):
    pass


class CorruptPeer:
    """A pure-Python BEP 3 peer on bind:<free port> that claims every piece (bitfield), unchokes
    whoever is interested and answers every valid request with a piece message of the requested
    length filled with random bytes. If trackers is None it announces to the torrent's HTTP
    trackers (compact, event=started, left=0); pass [] to announce nowhere.
    Counters: connections, requests_served, disconnected_by_remote, bad_handshakes, bad_messages."""

    MAX_MESSAGE = (1 << 17) + 13

    def __init__(self, torrent: Path, bind: str, trackers: list[str] | None = None, port: int = 0):
        if not bind.startswith("127."):
            raise ValueError("bind must be a 127.x.y.z address")
        meta = read_torrent(torrent)
        self.info_hash = meta["info_hash"]
        self.piece_length = meta["piece_length"]
        self.length = meta["length"]
        self.num_pieces = meta["num_pieces"]
        self.address = bind
        self.peer_id = b"-MF0001-" + bytes(random.choice(b"0123456789abcdef") for _ in range(12))
        self.connections = 0
        self.requests_served = 0
        self.disconnected_by_remote = 0
        self.bad_handshakes = 0
        self.bad_messages = 0
        self.bytes_sent = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._sockets = set()
        self._threads = []
        self.trackers = [t for t in (meta["trackers"] if trackers is None else trackers) if t.startswith("http")]
        self.announce_replies = []
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((bind, port))
        self.listener.listen(128)
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        _live.add(self)
        self._acceptor = threading.Thread(target=self._accept_loop, name="corrupt-peer-accept", daemon=True)
        self._acceptor.start()
        try:
            for url in self.trackers:
                self.announce_replies.append(http_announce(url, self.info_hash, self.peer_id, self.port, left=0,
                                                           event="started", source=bind))
        except Exception:
            self.stop()
            raise

    @property
    def endpoint(self) -> str:
        return f"{self.address}:{self.port}"

    def _count(self, name: str, n: int = 1):
        with self._lock:
            setattr(self, name, getattr(self, name) + n)

    def _accept_loop(self):
        while not self._stopping.is_set():
            try:
                conn, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                if self._stopping.is_set():
                    return
                time.sleep(0.05)
                continue
            self._count("connections")
            with self._lock:
                self._sockets.add(conn)
            t = threading.Thread(target=self._serve, args=(conn,), name="corrupt-peer-conn", daemon=True)
            self._threads = [x for x in self._threads if x.is_alive()] + [t]
            t.start()

    def _recv_exact(self, conn: socket.socket, n: int) -> bytes | None:
        data = bytearray()
        while len(data) < n:
            if self._stopping.is_set():
                raise _Stopping()
            ready, _, _ = select.select([conn], [], [], 0.2)
            if not ready:
                continue
            chunk = conn.recv(n - len(data))
            if not chunk:
                return None
            data += chunk
        return bytes(data)

    def _piece_size(self, index: int) -> int:
        if index == self.num_pieces - 1:
            return self.length - self.piece_length * (self.num_pieces - 1)
        return self.piece_length

    def _serve(self, conn: socket.socket):
        conn.settimeout(30)  # for sendall; reads poll with select so stop() is noticed
        by_remote = False
        try:
            head = self._recv_exact(conn, 1 + 19 + 8 + 20)
            if head is None:
                by_remote = True
                return
            if head[0] != 19 or head[1:20] != b"BitTorrent protocol" or head[28:48] != self.info_hash:
                self._count("bad_handshakes")
                return
            conn.sendall(bytes([19]) + b"BitTorrent protocol" + bytes(8) + self.info_hash + self.peer_id)
            if self._recv_exact(conn, 20) is None:  # the remote's peer id
                by_remote = True
                return
            bits = bytearray(b"\xff" * ((self.num_pieces + 7) // 8))
            if self.num_pieces % 8:
                bits[-1] = (0xff << (8 - self.num_pieces % 8)) & 0xff
            conn.sendall((1 + len(bits)).to_bytes(4, "big") + b"\x05" + bytes(bits))
            unchoked = False
            while True:
                prefix = self._recv_exact(conn, 4)
                if prefix is None:
                    by_remote = True
                    return
                length = int.from_bytes(prefix, "big")
                if length == 0:
                    continue  # keep-alive
                if length > self.MAX_MESSAGE:
                    self._count("bad_messages")
                    return
                body = self._recv_exact(conn, length)
                if body is None:
                    by_remote = True
                    return
                kind = body[0]
                if kind == 2 and not unchoked:  # interested
                    conn.sendall(b"\x00\x00\x00\x01\x01")
                    unchoked = True
                elif kind == 6:  # request
                    if length != 13 or not unchoked:
                        self._count("bad_messages")
                        continue
                    index, begin, size = (int.from_bytes(body[i:i + 4], "big") for i in (1, 5, 9))
                    if index >= self.num_pieces or size == 0 or size > (1 << 17) \
                            or begin + size > self._piece_size(index):
                        self._count("bad_messages")
                        continue
                    conn.sendall((9 + size).to_bytes(4, "big") + b"\x07" + body[1:9] + os.urandom(size))
                    self._count("requests_served")
                    self._count("bytes_sent", size)
                # choke, unchoke, not interested, have, bitfield, cancel, port, extended: ignored
        except _Stopping:
            pass
        except (ConnectionError, socket.timeout):
            by_remote = not self._stopping.is_set()
        except Exception:
            self._count("bad_messages")
        finally:
            if by_remote:
                self._count("disconnected_by_remote")
            with self._lock:
                self._sockets.discard(conn)
            try:
                conn.close()
            except OSError:
                pass

    def stop(self, timeout: float = 5):
        if self._stopping.is_set():
            return
        self._stopping.set()
        try:
            self.listener.close()
        except OSError:
            pass
        self._acceptor.join(timeout)
        deadline = time.monotonic() + timeout
        for t in list(self._threads):
            t.join(max(0.0, deadline - time.monotonic()))
        with self._lock:
            leftovers = list(self._sockets)
        for s in leftovers:
            try:
                s.close()
            except OSError:
                pass
        for url in self.trackers:
            try:
                http_announce(url, self.info_hash, self.peer_id, self.port, left=0, event="stopped",
                              source=self.address, timeout=2)
            except Exception:
                pass
        _live.discard(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


# ---------------------------------------------------------------------------------------------
# CLI

def serve(args) -> int:
    work = Path(args.dir).resolve()
    work.mkdir(parents=True, exist_ok=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    media = make_media(Path(args.media_cache))
    parts = []
    try:
        tracker = Tracker(work, lifetime=args.lifetime)
        parts.append(tracker)
        torrent = work / f"{media.stem}-{args.piece_kib}k.torrent"
        _, infohash = make_torrent(media, [tracker.http_url, tracker.udp_url], args.piece_kib, torrent)
        tracker.add_hash(infohash)
        seeder = Seeder(torrent, media.parent, args.bind, upload_limit=args.upload_limit, lifetime=args.lifetime)
        parts.append(seeder)
        print(json.dumps({"torrent": str(torrent), "media": str(media), "sha256": sha256_file(media),
                          "infohash": infohash, "tracker_http": tracker.http_url, "tracker_udp": tracker.udp_url,
                          "seeder": seeder.endpoint,
                          "magnet": magnet(infohash, [tracker.http_url, tracker.udp_url], media.name)}),
              flush=True)
        while not stop.wait(0.5):
            if seeder.proc.poll() is not None or tracker.proc.poll() is not None:
                print(json.dumps({"error": "a swarm process ended", "seeder": seeder.describe()}), flush=True)
                return 1
        return 0
    finally:
        for part in reversed(parts):
            part.stop()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="A loopback BitTorrent swarm for Miauflix tests.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("serve", help="media + tracker + torrent + one seeder, until SIGTERM/SIGINT")
    p.add_argument("--dir", required=True, help="work directory (tracker state, .torrent)")
    p.add_argument("--piece-kib", type=int, default=64)
    p.add_argument("--media-cache", default=str(DEFAULT_MEDIA_CACHE))
    p.add_argument("--bind", default="127.0.0.2", help="the seeder's loopback address")
    p.add_argument("--upload-limit", type=int, default=None, help="seeder upload limit, bytes/s")
    p.add_argument("--lifetime", type=int, default=DEFAULT_LIFETIME, help="seconds before `timeout` ends the tracker and seeder")
    p = sub.add_parser("media", help="make (or find) the cached test media and print its path and SHA-256")
    p.add_argument("--media-cache", default=str(DEFAULT_MEDIA_CACHE))
    p.add_argument("--regenerate", action="store_true")
    args = parser.parse_args(argv)
    if args.command == "serve":
        return serve(args)
    path = make_media(Path(args.media_cache), regenerate=args.regenerate)
    print(json.dumps({"media": str(path), "sha256": sha256_file(path), "size": path.stat().st_size}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
