#!/usr/bin/env python3
"""Watch Now benchmark driver (bench/watch-now.sh runs it): our engine through the real stack
(nginx + api + engine, scripts/stack.sh) side by side with a libtorrent leecher, in one run,
from one local swarm (opentracker + libtorrent seeders), for two network profiles:

  loopback  seeders on 127.x addresses, not rate-limited unless --loopback-upload-limit
  netem     each seeder in its own network namespace behind a point-to-point link with
            `netem delay D rate R` on both ends (RTT 2 x D): veth + tc netem when the kernel has
            sch_netem, else TUN pairs forwarded by bench/netem_link.py (the same FIFO delay and
            rate in userspace). The tracker, the stack and the libtorrent leecher stay in the
            root namespace on 198.51.100.1; seeder j is 198.51.100.(10+j); no default routes.

Every trial uses a fresh torrent (its own info-hash: the same media hard-linked under a new
name), so neither client has anything cached. Per trial and client:
  watch  ours: POST /api/movies/:id/auto, then GET /api/stream/:key (Range: bytes=0-) on a
         pre-opened TLS connection to nginx, read to the end: first byte, first 4 MiB, whole
         file (SHA-256 checked). libtorrent: add_torrent with sequential download and
         set_piece_deadline on the pieces of the first 4 MiB: piece 0 hashed, those pieces
         hashed, torrent finished.
  seek   ours: key + GET bytes=0-, first byte, close; at once GET bytes=<75%>- and time its
         first byte. libtorrent: same start; when piece 0 is hashed, clear the deadlines and
         set_piece_deadline on the piece at 75%; time until it is hashed.
The engine's peak RSS is VmHWM of DATA_DIR/run/engine.pid at the end of each profile.
"""
from __future__ import annotations

import argparse
import collections
import hashlib
import http.client
import json
import os
import shutil
import signal
import sqlite3
import ssl
import statistics
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(REPO / "Tests" / "EndToEnd"))
import swarm  # noqa: E402  (Tests/EndToEnd: Tracker, make_media, make_torrent, Seeder, fresh_address)

MOVIES = [680, 278, 238, 240]  # in Tests/Fixtures (recorded TMDB answers)
HOST_ADDRESS = "198.51.100.1"  # TEST-NET-2: the root namespace's end of every netem link
MiB = 1 << 20


def log(*parts):
    print("[watch-now]", *parts, file=sys.stderr, flush=True)


def run(cmd, check=True, **kwargs):
    result = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({result.returncode}): {result.stderr.strip()[-500:]}")
    return result


# ---------------------------------------------------------------------------------------------
# Media

def bench_media(copies: int) -> Path:
    """swarm.make_media's deterministic 24 s MP4, concatenated `copies` times with ffmpeg's
    concat demuxer (-c copy, bitexact): about 6.5 MB per copy, cached next to it."""
    base = swarm.make_media(swarm.DEFAULT_MEDIA_CACHE)
    if copies <= 1:
        return base
    target = base.parent / f"miauflix-bench-{copies}x.mp4"
    if target.is_file() and target.stat().st_size > base.stat().st_size:
        return target
    listing = base.parent / f".concat-{os.getpid()}.txt"
    partial = base.parent / f".{target.stem}.{os.getpid()}.mp4"
    listing.write_text(f"file '{base}'\n" * copies)
    try:
        run(["timeout", "300", "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-f", "concat",
             "-safe", "0", "-i", str(listing), "-c", "copy", "-map_metadata", "-1", "-movflags", "+faststart",
             "-fflags", "+bitexact", str(partial)])
        os.replace(partial, target)
    finally:
        listing.unlink(missing_ok=True)
        partial.unlink(missing_ok=True)
    return target


# ---------------------------------------------------------------------------------------------
# libtorrent processes of this benchmark (bench/lt_bench_peer.py), optionally in a namespace

class BenchPeer(swarm._LtPeer):
    """bench/lt_bench_peer.py under `timeout` (inside `ip netns exec NS` if netns is given),
    with the harness's JSON-event plumbing (wait_event, find, describe, stop by PID)."""

    SCRIPT = HERE / "lt_bench_peer.py"

    def __init__(self, args: list[str], bind: str, netns: str | None = None, lifetime: int = 900,
                 start_timeout: float = 30):
        super().__init__(args, bind, lifetime, start_timeout, script=self.SCRIPT,
                         prefix=("ip", "netns", "exec", netns) if netns else (), loopback_only=False)


def ns_seeder(torrent: Path, content_dir: Path, bind: str, netns: str, upload_limit: int = 0,
              start_timeout: float = 30) -> BenchPeer:
    args = ["seed", "--torrent", str(torrent), "--save", str(content_dir)]
    if upload_limit:
        args += ["--upload-limit", str(upload_limit)]
    peer = BenchPeer(args, bind, netns=netns)
    checked = peer.wait_event("checked", start_timeout)
    if checked is None or not checked.get("seeding") or peer.wait_event("announced", start_timeout) is None:
        peer.stop()
        raise RuntimeError(f"namespace seeder not seeding/announced: {peer.describe()}")
    return peer


# ---------------------------------------------------------------------------------------------
# Network profiles

class Loopback:
    name = "loopback"

    def __init__(self, args):
        self.args = args
        self.tracker_host = "127.0.0.1"
        self.engine_bind = "127.0.0.1"
        limit = args.loopback_upload_limit
        self.description = (f"seeders on 127.x, {'upload-limited to %d B/s each' % limit if limit else 'not rate-limited'}")
        self.note = ""

    def client_address(self) -> str:
        return swarm.fresh_address()

    def seeders(self, torrent: Path, content_dir: Path) -> list:
        return [swarm.Seeder(torrent, content_dir, swarm.fresh_address(), upload_limit=self.args.loopback_upload_limit or None)
                for _ in range(self.args.seeders)]

    def close(self):
        pass


class NetemUnavailable(Exception):
    pass


class Netem:
    """Namespaces mfx-<tag>-<j>, one seeder address each, every one behind its own link."""
    name = "netem"

    def __init__(self, args):
        self.args = args
        self.tag = args.tag
        self.count = args.seeders
        self.namespaces: list[str] = []
        self.veths: list[str] = []
        self.emulator = None
        self.tracker_host = HOST_ADDRESS
        self.engine_bind = HOST_ADDRESS
        self.note = ""
        try:
            self._setup()
        except Exception:
            self.close()
            raise

    def _kernel_netem(self) -> bool:
        probe_host, probe_peer = f"{self.tag}xh", f"{self.tag}xp"
        made = run(["ip", "link", "add", probe_host, "type", "veth", "peer", "name", probe_peer], check=False)
        if made.returncode != 0:
            raise NetemUnavailable(f"cannot create veth pairs ({made.stderr.strip()}); no CAP_NET_ADMIN?")
        try:
            qdisc = run(["tc", "qdisc", "add", "dev", probe_host, "root", "netem", "delay", "1ms"], check=False)
            return qdisc.returncode == 0
        finally:
            run(["ip", "link", "del", probe_host], check=False)

    def _setup(self):
        if shutil.which("ip") is None or shutil.which("tc") is None:
            raise NetemUnavailable("iproute2 (ip, tc) is not installed")
        made = run(["ip", "netns", "add", f"mfx-{self.tag}-probe"], check=False)
        if made.returncode != 0:
            raise NetemUnavailable(f"cannot create network namespaces: {made.stderr.strip()}")
        run(["ip", "netns", "del", f"mfx-{self.tag}-probe"], check=False)
        kernel = self._kernel_netem()
        delay, rate = self.args.delay_ms, self.args.rate_mbit
        links = []
        if kernel:
            for j in range(self.count):
                host, peer = f"{self.tag}{j}h", f"{self.tag}{j}p"
                run(["ip", "link", "add", host, "type", "veth", "peer", "name", peer])
                self.veths.append(host)
                links.append((host, peer))
            self.description = (f"veth + tc netem delay {delay:g}ms rate {rate:g}mbit on both ends "
                                f"(RTT {2 * delay:g} ms), one link per seeder")
        else:
            self.emulator = subprocess.Popen(
                ["timeout", "-k", "5", "3600", sys.executable, "-u", str(HERE / "netem_link.py"), "--name", self.tag,
                 "--links", str(self.count), "--delay-ms", str(delay), "--rate-mbit", str(rate)],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
            line = self.emulator.stdout.readline()
            if not line:
                raise NetemUnavailable(f"netem_link.py failed: {self.emulator.stderr.read()[-500:]}")
            links = [tuple(pair) for pair in json.loads(line)["links"]]
            self.description = (f"kernel has no sch_netem: TUN links with netem's delay {delay:g}ms rate {rate:g}mbit "
                                f"emulated in userspace (bench/netem_link.py) on both directions (RTT {2 * delay:g} ms), "
                                f"one link per seeder")
            self.note = "netem emulated in userspace (kernel lacks sch_netem)"
        for j, (host, peer) in enumerate(links):
            ns = f"mfx-{self.tag}-{j}"
            run(["ip", "netns", "add", ns])
            self.namespaces.append(ns)
            run(["ip", "link", "set", peer, "netns", ns])
            address = self.seeder_address(j)
            run(["ip", "addr", "add", f"{HOST_ADDRESS}/32", "dev", host])
            run(["ip", "link", "set", host, "up"])
            run(["ip", "route", "add", f"{address}/32", "dev", host, "src", HOST_ADDRESS])
            run(["ip", "-n", ns, "link", "set", "lo", "up"])
            run(["ip", "-n", ns, "addr", "add", f"{address}/32", "dev", peer])
            run(["ip", "-n", ns, "link", "set", peer, "up"])
            run(["ip", "-n", ns, "route", "add", f"{HOST_ADDRESS}/32", "dev", peer])
            if kernel:
                spec = ["netem", "delay", f"{delay:g}ms", "rate", f"{rate:g}mbit"]
                run(["tc", "qdisc", "add", "dev", host, "root", *spec])
                run(["ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", peer, "root", *spec])

    @staticmethod
    def seeder_address(j: int) -> str:
        return f"198.51.100.{10 + j}"

    def client_address(self) -> str:
        return HOST_ADDRESS

    def seeders(self, torrent: Path, content_dir: Path) -> list:
        return [ns_seeder(torrent, content_dir, self.seeder_address(j), ns) for j, ns in enumerate(self.namespaces)]

    def close(self):
        for ns in self.namespaces:
            # Only processes this benchmark started run in these namespaces.
            pids = run(["ip", "netns", "pids", ns], check=False).stdout.split()
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
            run(["ip", "netns", "del", ns], check=False)
        self.namespaces = []
        for host in self.veths:
            run(["ip", "link", "del", host], check=False)
        self.veths = []
        if self.emulator is not None:
            swarm._stop_process(self.emulator)
            self.emulator = None


# ---------------------------------------------------------------------------------------------
# Our stack

class Ours:
    def __init__(self, args, net, work: Path):
        self.args = args
        self.net = net
        self.upstream = FixtureServer()
        try:
            self._start(args, net, work)
        except BaseException:
            self.close()
            raise

    def _start(self, args, net, work: Path):
        data = work / "data"
        self.stack = Stack(data, TMDB_API_URL=f"{self.upstream.base}/tmdb/3", TMDB_API_ACCESS_TOKEN="fixture-token",
                           DISABLE_BACKGROUND_TASKS="true", CONTENT_PORT=swarm.free_port(net.engine_bind),
                           CONTENT_BIND_ADDRESS=net.engine_bind, CONTENT_DOWNLOAD_LIMIT=args.engine_download_limit,
                           CONTENT_UPLOAD_LIMIT=args.engine_download_limit)
        self.stack.start()
        import requests
        self.jar = requests.Session()
        r, self.sid = self.stack.login(*self.stack.admin, session=self.jar)
        if r.status_code != 200:
            raise RuntimeError(f"login failed: {r.status_code} {r.text[:200]}")
        self.headers = {"X-Session-Id": self.sid}
        self.engine_pid = self.stack.pid("engine")
        self.rss_baseline = self.memory()
        self.score = 1_000_000
        for movie in MOVIES:
            r = self.jar.get(self.stack.url(f"/api/movies/{movie}"), headers=self.headers, verify=False, timeout=15)
            if r.status_code != 200:
                raise RuntimeError(f"GET /api/movies/{movie}: {r.status_code} {r.text[:200]}")

    def memory(self) -> dict:
        status = Path(f"/proc/{self.engine_pid}/status").read_text()
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        kb = lambda name: int(fields[name].split()[0]) if name in fields else 0  # noqa: E731
        return {"VmHWM_MB": kb("VmHWM") / 1024, "VmRSS_MB": kb("VmRSS") / 1024}

    def cpu(self) -> float:
        """The engine's CPU seconds so far (user + system)."""
        fields = Path(f"/proc/{self.engine_pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def db(self):
        return sqlite3.connect(self.stack.data_dir / "miauflix.sqlite", timeout=30)

    def add_source(self, movie: int, torrent_bytes: bytes) -> int:
        import base64
        r = self.jar.post(self.stack.url(f"/api/admin/movies/{movie}/sources"), headers=self.headers, verify=False,
                          timeout=15, json={"torrent": base64.b64encode(torrent_bytes).decode(), "quality": "HD"})
        if r.status_code != 201:
            raise RuntimeError(f"add source: {r.status_code} {r.text[:300]}")
        source = r.json()["id"]
        # /auto picks file-backed sources by streamingScore, then size, then the OLDEST id: give
        # the new source the best score so the key names it (checked after the key request).
        self.score += 1
        db = self.db()
        try:
            with db:
                db.execute("UPDATE movie_source SET streamingScore = ? WHERE id = ?", (self.score, source))
        finally:
            db.close()
        return source

    def key_source(self) -> int | None:
        db = self.db()
        try:
            row = db.execute("SELECT sourceId FROM streaming_key ORDER BY id DESC LIMIT 1").fetchone()
        finally:
            db.close()
        return row[0] if row else None

    def connection(self):
        conn = http.client.HTTPSConnection("127.0.0.1", self.stack.https_port, context=ssl._create_unverified_context(),
                                           timeout=self.args.timeout)
        conn.connect()
        return conn

    def watch_key(self, movie: int, source: int) -> str:
        r = self.jar.post(self.stack.url(f"/api/movies/{movie}/auto"), headers=self.headers, verify=False, timeout=15)
        if r.status_code != 200:
            raise RuntimeError(f"POST /api/movies/{movie}/auto: {r.status_code} {r.text[:300]}")
        return r.json()["streamingKey"]

    def watch(self, movie: int, torrent_bytes: bytes, media_sha: str, size: int) -> dict:
        source = self.add_source(movie, torrent_bytes)
        self.jar.get(self.stack.url("/api/health"), verify=False, timeout=5)  # warm the API connection
        conn = self.connection()
        cpu0 = self.cpu()
        try:
            t0 = time.monotonic()
            key = self.watch_key(movie, source)
            t_key = time.monotonic()
            wall_get = time.time()
            conn.request("GET", f"/api/stream/{key}", headers={"Range": "bytes=0-"})
            resp = conn.getresponse()
            t_headers = time.monotonic()
            if resp.status not in (200, 206):
                raise RuntimeError(f"stream answered {resp.status}: {resp.read(300)!r}")
            digest = hashlib.sha256()
            first = resp.read(1)
            t_first = time.monotonic()
            digest.update(first)
            got, t_4m = len(first), None
            timeline = [(round(t_first - t0, 4), got)]
            while True:
                want = 256 * 1024
                if t_4m is None:
                    want = min(want, self.args.first_bytes - got)
                chunk = resp.read(want)
                if not chunk:
                    break
                digest.update(chunk)
                got += len(chunk)
                timeline.append((round(time.monotonic() - t0, 4), got))
                if t_4m is None and got >= self.args.first_bytes:
                    t_4m = time.monotonic()
            t_done = time.monotonic()
        finally:
            conn.close()
        chosen = self.key_source()
        if chosen != source:
            raise RuntimeError(f"the streaming key names source {chosen}, not the new source {source}")
        cpu = self.cpu() - cpu0
        if got != size or digest.hexdigest() != media_sha:
            raise RuntimeError(f"stream content differs from the media ({got} of {size} bytes)")
        # The same file again, now verified on disk: what the stream path (engine reader ->
        # nginx -> TLS -> this client) delivers without any BitTorrent in the way.
        conn = self.connection()
        try:
            t1 = time.monotonic()
            conn.request("GET", f"/api/stream/{key}")
            resp = conn.getresponse()
            again = 0
            while chunk := resp.read(1 << 20):
                again += len(chunk)
            t2 = time.monotonic()
        finally:
            conn.close()
        return {"source": source, "key_request": t_key - t0, "headers": t_headers - t0, "first_byte": t_first - t0,
                "first_bytes": t_4m - t0 if t_4m else None, "complete": t_done - t0,
                "throughput": size / (t_done - t0) / 1e6, "engine_cpu": cpu, "wall_get": wall_get,
                "wall_first": wall_get + (t_first - t_key), "timeline": timeline,
                "local_reread": again / (t2 - t1) / 1e6 if again == size else None}

    def seek(self, movie: int, torrent_bytes: bytes, media: bytes) -> dict:
        source = self.add_source(movie, torrent_bytes)
        self.jar.get(self.stack.url("/api/health"), verify=False, timeout=5)
        start = int(len(media) * self.args.seek_fraction)
        first, second = self.connection(), self.connection()
        try:
            t0 = time.monotonic()
            key = self.watch_key(movie, source)
            first.request("GET", f"/api/stream/{key}", headers={"Range": "bytes=0-"})
            resp = first.getresponse()
            if resp.status not in (200, 206):
                raise RuntimeError(f"stream answered {resp.status}: {resp.read(300)!r}")
            byte = resp.read(1)
            t_first = time.monotonic()
            first.close()  # the player jumps: the first request is abandoned
            t1 = time.monotonic()
            second.request("GET", f"/api/stream/{key}", headers={"Range": f"bytes={start}-"})
            resp = second.getresponse()
            if resp.status != 206:
                raise RuntimeError(f"seek answered {resp.status}: {resp.read(300)!r}")
            seek_byte = resp.read(1)
            t_seek = time.monotonic()
            rest = resp.read(65535)
        finally:
            first.close()
            second.close()
        if self.key_source() != source:
            raise RuntimeError("the streaming key does not name the new source")
        if byte != media[:1] or seek_byte + rest != media[start:start + 1 + len(rest)]:
            raise RuntimeError("seek bytes differ from the media")
        return {"source": source, "first_byte": t_first - t0, "seek": t_seek - t1}

    def close(self):
        try:
            if getattr(self, "stack", None) is not None:
                self.stack.stop()
        finally:
            self.upstream.stop()


# ---------------------------------------------------------------------------------------------
# Trials

def lt_run(net, torrent: Path, work: Path, mode: str, args) -> dict:
    dest = work / "lt" / torrent.stem
    dest.mkdir(parents=True, exist_ok=True)
    peer = BenchPeer(["leech", "--torrent", str(torrent), "--save", str(dest), "--mode", mode,
                      "--first-bytes", str(args.first_bytes), "--seek-fraction", str(args.seek_fraction),
                      "--timeout", str(args.timeout)], net.client_address())
    try:
        result = peer.wait_event("result", args.timeout + 30)
        if result is None:
            raise RuntimeError(f"libtorrent leecher gave no result: {peer.describe()}")
    finally:
        peer.stop()
        shutil.rmtree(dest, ignore_errors=True)
    if result.get("timed_out"):
        raise RuntimeError(f"libtorrent leecher timed out: {result}")
    return result


def run_profile(args, net, work: Path, media: Path, media_bytes: bytes, media_sha: str, tracker) -> dict:
    size = len(media_bytes)
    content = work / "content"
    content.mkdir(parents=True, exist_ok=True)
    samples = collections.defaultdict(lambda: {"ours": [], "lt": []})
    failures = []
    extra = collections.defaultdict(list)
    ours = Ours(args, net, work / "stack")
    rss_sampler_stop = threading.Event()
    peak = {"rss": 0.0}

    def sample_rss():
        while not rss_sampler_stop.wait(0.2):
            try:
                peak["rss"] = max(peak["rss"], ours.memory()["VmRSS_MB"])
            except OSError:
                return
    sampler = threading.Thread(target=sample_rss, daemon=True)
    sampler.start()
    lt_rss = []
    walls = {}  # source id -> (wall clock of the stream GET, of its first byte), for the engine log
    try:
        movie_index = 0
        for trial in range(args.trials):
            order = ["ours", "lt"] if trial % 2 == 0 else ["lt", "ours"]
            for client in order:
                for kind in ("watch", "seek"):
                    name = f"wn-{net.name}-{trial}-{client}-{kind}"
                    linked = content / f"{name}.mp4"
                    try:
                        os.link(media, linked)
                    except OSError:
                        shutil.copyfile(media, linked)
                    torrent = work / "torrents" / f"{name}.torrent"
                    data, infohash = swarm.make_torrent(linked, [tracker.http_url, tracker.udp_url], args.piece_kib, torrent)
                    tracker.add_hash(infohash)
                    label = f"{net.name} trial {trial + 1}/{args.trials} {client:4} {kind}"
                    seeders = []
                    try:
                        seeders = net.seeders(torrent, content)
                        if client == "ours":
                            movie = MOVIES[movie_index % len(MOVIES)]
                            movie_index += 1
                            if kind == "watch":
                                r = ours.watch(movie, data, media_sha, size)
                                samples["first_byte"]["ours"].append(r["first_byte"])
                                samples["first_bytes"]["ours"].append(r["first_bytes"])
                                samples["throughput"]["ours"].append(r["throughput"])
                                extra["key_request"].append(r["key_request"])
                                extra["headers"].append(r["headers"])
                                extra["engine_cpu_share"].append(r["engine_cpu"] / r["complete"])
                                walls[r["source"]] = (r["wall_get"], r["wall_first"])
                                extra["ours_timeline"].append(r["timeline"])
                                extra["local_reread"].append(r["local_reread"])
                                log(f"{label}: key {r['key_request']:.3f}s headers {r['headers']:.3f}s first byte "
                                    f"{r['first_byte']:.3f}s 4MiB {r['first_bytes']:.3f}s whole {r['complete']:.2f}s "
                                    f"({r['throughput']:.1f} MB/s, engine CPU {r['engine_cpu']:.2f}s) re-read "
                                    f"{r['local_reread'] or 0:.1f} MB/s; source {r['source']} {infohash[:8]}")
                            else:
                                r = ours.seek(movie, data, media_bytes)
                                samples["seek"]["ours"].append(r["seek"])
                                extra["seek_trial_first_byte"].append(r["first_byte"])
                                log(f"{label}: first byte {r['first_byte']:.3f}s, seek to {args.seek_fraction:.0%} "
                                    f"first byte {r['seek']:.3f}s source {r['source']} {infohash[:8]}")
                        else:
                            r = lt_run(net, torrent, work, kind, args)
                            lt_rss.append(r.get("peak_rss_mb", 0))
                            if kind == "watch":
                                samples["first_byte"]["lt"].append(r["first_piece"])
                                samples["first_bytes"]["lt"].append(r["first_bytes"])
                                samples["throughput"]["lt"].append(size / r["complete"] / 1e6)
                                extra["lt_cpu_share"].append(r.get("cpu_seconds", 0) / r["complete"])
                                extra["lt_timeline"].append(r.get("timeline", []))
                                for phase in ("tracker_reply", "first_connect", "first_block"):
                                    if r.get(phase) is not None:
                                        extra[f"lt_{phase}"].append(r[phase])
                                log(f"{label}: tracker reply {r.get('tracker_reply', -1):.3f}s first connection "
                                    f"{r.get('first_connect', -1):.3f}s first block {r.get('first_block', -1):.3f}s "
                                    f"first piece {r['first_piece']:.3f}s 4MiB {r['first_bytes']:.3f}s "
                                    f"whole {r['complete']:.2f}s ({size / r['complete'] / 1e6:.1f} MB/s) {infohash[:8]}")
                            else:
                                samples["seek"]["lt"].append(r["seek_piece"])
                                log(f"{label}: first piece {r['first_piece']:.3f}s, seek piece {r['seek_piece']:.3f}s "
                                    f"{infohash[:8]}")
                    except Exception as e:  # a failed sample is reported, the run goes on
                        failures.append(f"{label}: {e}")
                        log(f"{label}: FAILED: {e}")
                        if args.verbose:
                            traceback.print_exc()
                    finally:
                        for s in seeders:
                            s.stop()
                        linked.unlink(missing_ok=True)
        memory = ours.memory()
    finally:
        rss_sampler_stop.set()
        sampler.join(2)
        engine_log = ours.stack.data_dir / "logs" / "engine.log"
        try:
            ours.close()
        finally:
            if args.keep_logs:
                Path(args.keep_logs).mkdir(parents=True, exist_ok=True)
                for log_file in (ours.stack.data_dir / "logs").glob("*.log"):
                    shutil.copyfile(log_file, Path(args.keep_logs) / f"{net.name}-{log_file.name}")
    extra.update(engine_phases(engine_log, walls))
    return {"samples": {k: dict(v) for k, v in samples.items()}, "failures": failures, "extra": dict(extra),
            "rss": {"VmHWM_MB": memory["VmHWM_MB"], "sampled_peak_MB": peak["rss"],
                    "baseline_MB": ours.rss_baseline["VmRSS_MB"]},
            "lt_peak_rss_MB": max(lt_rss) if lt_rss else None, "description": net.description,
            "engine_log": str(engine_log)}


def engine_phases(engine_log: Path, walls: dict) -> dict:
    """From the engine's key=value log: for each watch trial, seconds from the stream GET to
    event=torrent_open, from that to the first tracker reply (event=tracker_announce
    kind=started) and from that to the first byte reaching the client."""
    import datetime
    phases = collections.defaultdict(list)
    try:
        lines = engine_log.read_text(errors="replace").splitlines()
    except OSError:
        return {}
    seen = {}
    for line in lines:
        fields = dict(part.split("=", 1) for part in line.split() if "=" in part)
        event, source = fields.get("event"), fields.get("source")
        if source is None or not source.isdigit() or int(source) not in walls:
            continue
        if event == "torrent_open" or (event == "tracker_announce" and fields.get("kind") == "started"):
            stamp = datetime.datetime.fromisoformat(fields["ts"].replace("Z", "+00:00")).timestamp()
            seen.setdefault((int(source), event), stamp)
    for source, (get, first) in walls.items():
        opened, announced = seen.get((source, "torrent_open")), seen.get((source, "tracker_announce"))
        if opened is None or announced is None:
            continue
        phases["get_to_open"].append(opened - get)
        phases["open_to_announce"].append(announced - opened)
        phases["announce_to_first_byte"].append(first - announced)
    return phases


# ---------------------------------------------------------------------------------------------
# Report

def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(value, unit):
    if value is None:
        return "n/a"
    if unit == "s":
        return f"{value:.3f} s"
    if unit == "MB/s":
        return f"{value:.1f} MB/s"
    return f"{value:.0f} MB"


def report(args, results: dict, media: Path, size: int, binary: str, notes: list[str]):
    print()
    print(f"Watch Now bench  binary: {binary}  ({'release' if '/release/' in binary else 'debug' if '/debug/' in binary else 'custom'} build)")
    print(f"media: {media.name}, {size / 1e6:.1f} MB ({args.copies} x the e2e 24 s 640x360 H.264/AAC test MP4, "
          f"ffmpeg concat -c copy); {args.piece_kib} KiB pieces; {args.seeders} libtorrent seeders per torrent; "
          f"fresh info-hash per trial; median of {args.trials} trial(s)")
    print(f"engine: CONTENT_DOWNLOAD_LIMIT/CONTENT_UPLOAD_LIMIT={args.engine_download_limit}; "
          f"libtorrent leecher: sequential + set_piece_deadline, harness session settings")
    for profile, r in results.items():
        print(f"profile {profile}: {r['description']}")
    for note in notes:
        print(f"note: {note}")
    header = f"{'profile':9} {'measurement':30} {'miauflix':>11} {'libtorrent':>11} {'ratio':>6}  {'target':34} verdict"
    print()
    print(header)
    print("-" * len(header))
    for profile, r in results.items():
        s = r["samples"]
        rows = []

        def pair(metric):
            m = s.get(metric, {"ours": [], "lt": []})
            return median(m["ours"]), median(m["lt"])

        ours, lt = pair("first_byte")
        ok = None if ours is None else (ours < 1.0 and (lt is None or ours <= lt))
        rows.append(("Watch Now: first byte", ours, lt, "s", "< 1 s and <= libtorrent", ok))
        ours, lt = pair("first_bytes")
        rows.append((f"Watch Now: first {args.first_bytes // MiB} MiB", ours, lt, "s", "(no target)", None))
        ours, lt = pair("seek")
        ok = None if ours is None else ours <= 1.5
        rows.append((f"seek to {args.seek_fraction:.0%}: first byte", ours, lt, "s", "<= 1.5 s", ok))
        ours, lt = pair("throughput")
        ok = None if ours is None or lt is None else ours >= 0.8 * lt
        rows.append(("full file throughput", ours, lt, "MB/s", ">= 0.8 x libtorrent", ok))
        rss = r["rss"]["VmHWM_MB"]
        rows.append(("engine peak RSS (VmHWM)", rss, r["lt_peak_rss_MB"], "MB", "< 150 MB (lt: leecher process)",
                     rss < 150))
        for label, ours, lt, unit, target, ok in rows:
            ratio = f"{ours / lt:.2f}" if ours is not None and lt and unit != "MB" else "-"
            verdict = ("NO DATA" if ours is None else "-") if ok is None else ("PASS" if ok else "FAIL")
            print(f"{profile:9} {label:30} {fmt(ours, unit):>11} {fmt(lt, unit):>11} {ratio:>6}  {target:34} {verdict}")
    print()
    print("ratio = miauflix / libtorrent (times: lower is better; throughput: higher is better).")
    for profile, r in results.items():
        e = r["extra"]
        s = r["samples"]
        parts = [f"{k}: ours {['%.3f' % v for v in s[k]['ours'] if v is not None]} lt {['%.3f' % v for v in s[k]['lt'] if v is not None]}"
                 for k in ("first_byte", "first_bytes", "seek", "throughput") if k in s]
        print(f"{profile} samples  " + "; ".join(parts))
        if e.get("key_request"):
            print(f"{profile} ours: POST /auto median {median(e['key_request']):.3f} s, response headers median "
                  f"{median(e['headers']):.3f} s after it was sent; seek trials' first byte "
                  f"{['%.3f' % v for v in e.get('seek_trial_first_byte', [])]}")
        if e.get("get_to_open"):
            print(f"{profile} ours, from engine.log (medians): stream GET -> event=torrent_open "
                  f"{median(e['get_to_open']) * 1000:.0f} ms, -> first tracker reply "
                  f"{median(e['open_to_announce']) * 1000:.0f} ms, -> first byte at the client "
                  f"{median(e['announce_to_first_byte']) * 1000:.0f} ms (log stamps have ms resolution)")
        if e.get("lt_first_block"):
            print(f"{profile} libtorrent watch trials (medians since add_torrent): first tracker reply "
                  f"{median(e.get('lt_tracker_reply', [])) or 0:.3f} s, first outgoing connection attempt "
                  f"{median(e.get('lt_first_connect', [])) or 0:.3f} s, first 16 KiB block "
                  f"{median(e['lt_first_block']):.3f} s; leecher process CPU (libtorrent + Python alert loop) "
                  f"{median(e.get('lt_cpu_share', [])) or 0:.0%} of a core while downloading")
        if e.get("engine_cpu_share"):
            print(f"{profile} ours: engine CPU while downloading the whole file {median(e['engine_cpu_share']):.0%} of a "
                  f"core (median); the same file re-read once complete {median(e['local_reread']) or 0:.1f} MB/s (stream "
                  f"path ceiling)")
        print(f"{profile} ours: engine RSS at start {r['rss']['baseline_MB']:.0f} MB, sampled VmRSS peak "
              f"{r['rss']['sampled_peak_MB']:.0f} MB, VmHWM {r['rss']['VmHWM_MB']:.0f} MB")
        for failure in r["failures"]:
            print(f"{profile} FAILED {failure}")


# ---------------------------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", required=True, help="the miauflix binary")
    parser.add_argument("--work", required=True, help="a scratch directory (removed by the caller)")
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--profiles", default="loopback,netem")
    parser.add_argument("--seeders", type=int, default=2, help="seeders per torrent (netem: one namespace + link each)")
    parser.add_argument("--piece-kib", type=int, default=256)
    parser.add_argument("--copies", type=int, default=6, help="copies of the 24 s test MP4 concatenated (~6.5 MB each)")
    parser.add_argument("--delay-ms", type=float, default=40)
    parser.add_argument("--rate-mbit", type=float, default=40)
    parser.add_argument("--loopback-upload-limit", type=int, default=0, help="bytes/s per loopback seeder, 0 = none")
    parser.add_argument("--engine-download-limit", default="0B", help="CONTENT_DOWNLOAD_LIMIT/UPLOAD_LIMIT (0B = none)")
    parser.add_argument("--first-bytes", type=int, default=4 * MiB)
    parser.add_argument("--seek-fraction", type=float, default=0.75)
    parser.add_argument("--timeout", type=float, default=180, help="seconds per measurement")
    parser.add_argument("--tag", default=f"wn{os.getpid() % 100000}", help="namespace/device name tag (<= 8 chars)")
    parser.add_argument("--json", help="also write the raw results here")
    parser.add_argument("--keep-logs", help="copy each profile's stack logs (engine.log, ...) into this folder")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()

    os.environ["MIAUFLIX_BIN"] = str(Path(args.bin).resolve())
    global Stack, FixtureServer
    from conftest import FixtureServer, Stack  # noqa: E402  (reads MIAUFLIX_BIN when imported)

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    os.chmod(work, 0o755)

    def on_signal(signum, _frame):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # once: let the cleanup run
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, on_signal)

    log("preparing media")
    media = bench_media(args.copies)
    media_bytes = media.read_bytes()
    media_sha = hashlib.sha256(media_bytes).hexdigest()
    results, notes = {}, []
    for profile in [p.strip() for p in args.profiles.split(",") if p.strip()]:
        net = tracker = None
        pwork = work / profile
        try:
            log(f"profile {profile}: setting up")
            if profile == "loopback":
                net = Loopback(args)
            elif profile == "netem":
                try:
                    net = Netem(args)
                except NetemUnavailable as e:
                    notes.append(f"netem profile skipped: {e}")
                    log(f"netem profile skipped: {e}")
                    continue
            else:
                raise SystemExit(f"unknown profile {profile}")
            if net.note:
                notes.append(net.note)
            log(f"profile {profile}: {net.description}")
            tracker = swarm.Tracker(pwork, host=net.tracker_host, lifetime=max(3600, args.trials * 900))
            results[profile] = run_profile(args, net, pwork, media, media_bytes, media_sha, tracker)
        finally:
            if tracker is not None:
                tracker.stop()
            if net is not None:
                net.close()
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    report(args, results, media, len(media_bytes), args.bin, notes)
    return 2 if any(r["failures"] for r in results.values()) else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt as e:
        log(f"interrupted ({e}); cleaned up")
        sys.exit(130)
