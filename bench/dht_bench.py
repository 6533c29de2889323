#!/usr/bin/env python3
"""DHT benchmark driver (bench/dht.sh runs it): magnet (info-hash only: no tr=, no dn=) to
first byte, when the DHT is the only way to find the one seeder, side by side in one run:

  libtorrent  a fresh libtorrent 2.1.1 leecher (Tests/EndToEnd/peers/lt_peer.py, DHT only, no
              trackers, sequential) bootstrapped from the same DHT nodes as ours. It starts
              with the torrent deferred, and the magnet is added once its DHT has bootstrapped
              and knows a node (a warm DHT, as the running engine has). Timed from add_torrent
              to piece 0 hashed (the first byte a streaming client could be given), in the
              leecher's own clock.
  ours        the real stack (scripts/stack.sh via the e2e harness's conftest.Stack: nginx +
              api + engine on free loopback ports, DHT_BOOTSTRAP_NODES = the same nodes,
              DISABLE_DISCOVERY=false): POST /api/admin/movies/:id/sources {"magnet"}, POST
              /api/movies/:id/auto, GET /api/stream/:key (Range: bytes=0-) on a TLS connection
              opened beforehand; timed from sending the source POST to the first body byte
              (the first 64 KiB are checked against the media).

The DHT: Tests/EndToEnd/dht_swarm.DHTNetwork, N libtorrent nodes on 127.x meshed together;
each trial gets a fresh torrent (the media hard-linked under a new name: a new info-hash) and
its own libtorrent seeder (DHT on, no trackers) that joined the mesh and is findable by a
lookup before the clock starts. Contenders alternate who goes first.

Our half runs only if the engine speaks DHT: after the stack starts, a KRPC ping must be
answered on CONTENT_BIND_ADDRESS:CONTENT_PORT/udp within --engine-wait seconds; else (or if
there is no binary) it prints "ours: n/a (<why>)" and the libtorrent half still runs.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import sqlite3
import ssl
import statistics
import sys
import time
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "Tests" / "EndToEnd"))
import dht_swarm  # noqa: E402
import swarm  # noqa: E402

MOVIES = [680, 278, 238, 240]  # in Tests/Fixtures (recorded TMDB answers)
ENGINE_BIND = "127.0.0.1"
CHECK_BYTES = 65536


def log(*parts):
    print("[dht]", *parts, file=sys.stderr, flush=True)


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


# ---------------------------------------------------------------------------------------------
# Contenders

class LibtorrentContender:
    name = "libtorrent"

    def __init__(self, net: dht_swarm.DHTNetwork, args, work: Path):
        self.net, self.args, self.work = net, args, work

    def run(self, infohash: str, label: str, media_prefix: bytes) -> dict:
        dest = self.work / "lt" / label
        peer = self.net.leecher(swarm.magnet(infohash), dest, bootstrap=self.args.bootstrap, sequential=True,
                                defer_add=True)
        # Warm DHT: bootstrapped and at least one node in the routing table.
        ready = swarm.wait_for(lambda: peer.routing_table_size() >= 1, self.args.timeout, 0.05)
        if not ready:
            raise RuntimeError(f"libtorrent leecher's DHT knows no node: {peer.describe()}")
        warm_nodes = peer.routing_table_size()
        added = peer.add()
        piece0 = peer.wait_event("piece0", self.args.timeout)
        if piece0 is None:
            raise RuntimeError(f"libtorrent got no piece 0 in {self.args.timeout}s: {peer.describe()}")
        t_add = added["t"]
        first = lambda name: (peer.find(name) or [{}])[0].get("t")  # noqa: E731
        # piece0 means libtorrent checked piece 0 against the torrent's SHA-1 (its write to disk
        # may still be queued, so the file is not read here).
        if peer.hash_failures:
            raise RuntimeError(f"libtorrent saw {peer.hash_failures} hash failures")
        return {"first_byte": piece0["t"] - t_add,
                "metadata": (first("metadata") or t_add) - t_add,
                "first_block": (first("first_block") or piece0["t"]) - t_add,
                "cold_start": piece0["t"],  # since the process started (session + DHT bootstrap + add)
                "dht_nodes_at_add": warm_nodes}


class OursContender:
    """The stack, with DHT_BOOTSTRAP_NODES pointing at the local network. `unavailable` is a
    reason string when our half cannot run (no binary, stack failed, no KRPC answer)."""
    name = "ours"

    def __init__(self, net: dht_swarm.DHTNetwork, args, work: Path):
        self.net, self.args, self.work = net, args, work
        self.stack = self.upstream = None
        self.unavailable = None
        self.notes = []
        self.score = 1_000_000
        self.movie_index = 0
        if not args.bin or not os.access(args.bin, os.X_OK):
            self.unavailable = f"no miauflix binary ({args.bin or 'MIAUFLIX_BIN is not an executable'})"
            return
        try:
            self._start()
        except Exception as e:  # noqa: BLE001  (our half is optional; report why)
            self.unavailable = f"stack did not start: {type(e).__name__}: {str(e)[-300:]}"
            log(traceback.format_exc())

    def _start(self):
        os.environ["MIAUFLIX_BIN"] = str(Path(self.args.bin).resolve())
        from conftest import FixtureServer, Stack  # noqa: E402  (reads MIAUFLIX_BIN when imported)
        import requests
        self.upstream = FixtureServer()
        env = dict(TMDB_API_URL=f"{self.upstream.base}/tmdb/3", TMDB_API_ACCESS_TOKEN="fixture-token",
                   DISABLE_BACKGROUND_TASKS="true", CONTENT_DOWNLOAD_LIMIT="0B", CONTENT_UPLOAD_LIMIT="0B",
                   **dht_swarm.dht_environment(self.net, self.args.bootstrap, bind=ENGINE_BIND))
        self.stack = Stack(self.work / "stack" / "data", **env)
        self.stack.start()
        self.endpoint = dht_swarm.stack_dht_endpoint(self.stack)
        self.jar = requests.Session()
        r, sid = self.stack.login(*self.stack.admin, session=self.jar)
        if r.status_code != 200:
            raise RuntimeError(f"login failed: {r.status_code} {r.text[:200]}")
        self.headers = {"X-Session-Id": sid}
        for movie in MOVIES:
            r = self.jar.get(self.stack.url(f"/api/movies/{movie}"), headers=self.headers, verify=False, timeout=15)
            if r.status_code != 200:
                raise RuntimeError(f"GET /api/movies/{movie}: {r.status_code} {r.text[:200]}")
        # Does the engine speak DHT? A KRPC ping on its peer port, over UDP.
        deadline = time.monotonic() + self.args.engine_wait
        answered = False
        while time.monotonic() < deadline and not answered:
            answered = dht_swarm.krpc_ping(self.endpoint, timeout=1.0, attempts=1)
        if not answered:
            self.unavailable = (f"the engine answers no KRPC ping on {self.endpoint}/udp within "
                                f"{self.args.engine_wait:g}s (no DHT yet?)")
            return
        # Warm DHT: wait until a libtorrent node has our engine in its routing table (it
        # answered libtorrent's pings), as the libtorrent leecher waits for its own DHT.
        t0 = time.monotonic()
        knowing = self.net.nodes_knowing(self.endpoint, timeout=self.args.engine_wait)
        if knowing:
            self.notes.append(f"engine joined the DHT: {len(knowing)} libtorrent node(s) had it in their routing "
                              f"table {time.monotonic() - t0:.1f} s after its first KRPC answer")
        else:
            self.notes.append(f"no libtorrent node put the engine in its routing table within "
                              f"{self.args.engine_wait:g}s (measuring anyway)")

    def db(self):
        return sqlite3.connect(self.stack.data_dir / "miauflix.sqlite", timeout=30)

    def connection(self):
        conn = http.client.HTTPSConnection("127.0.0.1", self.stack.https_port,
                                           context=ssl._create_unverified_context(), timeout=self.args.timeout)
        conn.connect()
        return conn

    def run(self, infohash: str, label: str, media_prefix: bytes) -> dict:
        movie = MOVIES[self.movie_index % len(MOVIES)]
        self.movie_index += 1
        uri = swarm.magnet(infohash)
        self.jar.get(self.stack.url("/api/health"), verify=False, timeout=5)  # warm the API connection
        conn = self.connection()
        try:
            t0 = time.monotonic()
            r = self.jar.post(self.stack.url(f"/api/admin/movies/{movie}/sources"), headers=self.headers, verify=False,
                              timeout=15, json={"magnet": uri, "quality": "HD"})
            if r.status_code != 201:
                raise RuntimeError(f"add source: {r.status_code} {r.text[:300]}")
            source = r.json()["id"]
            # /auto prefers the best streamingScore: make it this source.
            self.score += 1
            db = self.db()
            try:
                with db:
                    db.execute("UPDATE movie_source SET streamingScore = ? WHERE id = ?", (self.score, source))
            finally:
                db.close()
            t_source = time.monotonic()
            r = self.jar.post(self.stack.url(f"/api/movies/{movie}/auto"), headers=self.headers, verify=False,
                              timeout=self.args.timeout)
            if r.status_code != 200:
                raise RuntimeError(f"POST /api/movies/{movie}/auto: {r.status_code} {r.text[:300]}")
            key = r.json()["streamingKey"]
            t_key = time.monotonic()
            conn.request("GET", f"/api/stream/{key}", headers={"Range": "bytes=0-"})
            try:
                resp = conn.getresponse()
                if resp.status not in (200, 206):
                    raise RuntimeError(f"stream answered {resp.status}: {resp.read(300)!r}")
                first = resp.read(1)
                t_first = time.monotonic()
                rest = resp.read(len(media_prefix) - 1)
            except TimeoutError:
                raise RuntimeError(f"no first stream byte within {self.args.timeout:g}s of the request "
                                   f"(key issued {t_key - t0:.3f} s after the source POST)") from None
        finally:
            conn.close()
        if first + rest != media_prefix[:1 + len(rest)]:
            raise RuntimeError("the stream's first bytes differ from the media")
        return {"first_byte": t_first - t0, "source_post": t_source - t0, "key": t_key - t0}

    def close(self):
        try:
            if self.stack is not None:
                self.stack.stop()
        finally:
            if self.upstream is not None:
                self.upstream.stop()


# ---------------------------------------------------------------------------------------------

def fmt(value) -> str:
    return "n/a" if value is None else f"{value:.3f} s"


def report(args, results: dict, ours: OursContender, media: Path, notes: list[str], binary: str):
    s = results["samples"]
    print()
    kind = "release" if "/release/" in binary else "debug" if "/debug/" in binary else "custom" if binary else "no"
    print(f"DHT bench  binary: {binary or '(none)'}  ({kind} build)")
    print(f"network: {args.nodes} libtorrent 2.1.1 DHT nodes on 127.x (meshed), one libtorrent seeder per torrent "
          f"(DHT only, no trackers); media {media.name} {media.stat().st_size / 1e6:.1f} MB, {args.piece_kib} KiB "
          f"pieces; fresh info-hash per trial; magnet = info-hash only; median of {args.trials} trial(s)")
    print(f"both clients bootstrap from the same {args.bootstrap} node(s) and start warm (DHT bootstrapped); "
          f"libtorrent: sequential, timed add_torrent -> piece 0 hashed; ours: source POST -> first stream byte "
          f"through nginx")
    for note in notes + ours.notes:
        print(f"note: {note}")
    lt = median(s["libtorrent"])
    our = median(s["ours"]) if not ours.unavailable else None
    ratio = f"{our / lt:.2f}" if our is not None and lt else "-"
    header = f"{'profile':9} {'measurement':38} {'miauflix':>11} {'libtorrent':>11} {'ratio':>6}  {'target':20} verdict"
    print()
    print(header)
    print("-" * len(header))
    print(f"{'loopback':9} {'DHT magnet -> first byte':38} {fmt(our):>11} {fmt(lt):>11} {ratio:>6}  {'(no target)':20} -")
    print()
    print("ratio = miauflix / libtorrent (lower is better).")
    if ours.unavailable:
        print(f"ours: n/a ({ours.unavailable})")
    elif not s["ours"]:
        print("ours: n/a (every trial failed; see FAILED below)")
    else:
        print(f"ours: {fmt(our)}  samples {['%.3f' % v for v in s['ours']]}")
    print(f"libtorrent: {fmt(lt)}  samples {['%.3f' % v for v in s['libtorrent']]}")
    e = results["extra"]
    if e.get("lt_metadata"):
        print(f"libtorrent (medians since add_torrent): metadata {median(e['lt_metadata']):.3f} s, first 16 KiB block "
              f"{median(e['lt_first_block']):.3f} s, piece 0 {lt:.3f} s; from process start (session, DHT bootstrap, "
              f"add) {median(e['lt_cold_start']):.3f} s; routing table at add: {e['lt_dht_nodes_at_add']} nodes")
    if e.get("ours_key"):
        print(f"ours (medians since the source POST): source stored {median(e['ours_source_post']):.3f} s, "
              f"streaming key {median(e['ours_key']):.3f} s, first byte {our:.3f} s")
    for failure in results["failures"]:
        print(f"FAILED {failure}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default="", help="the miauflix binary (empty: libtorrent only)")
    parser.add_argument("--work", required=True, help="a scratch directory (removed by the caller)")
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--nodes", type=int, default=5, help="libtorrent DHT nodes in the network")
    parser.add_argument("--bootstrap", type=int, default=2, help="how many of them both clients bootstrap from")
    parser.add_argument("--piece-kib", type=int, default=256)
    parser.add_argument("--timeout", type=float, default=60, help="seconds per measurement")
    parser.add_argument("--engine-wait", type=float, default=20,
                        help="seconds for the engine to answer KRPC / join the DHT before ours is n/a")
    parser.add_argument("--contenders", default="ours,libtorrent")
    parser.add_argument("--json", help="also write the raw results here")
    args = parser.parse_args()
    contenders = [c.strip() for c in args.contenders.split(",") if c.strip()]

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    os.chmod(work, 0o755)

    def on_signal(signum, _frame):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, on_signal)

    media = swarm.make_media(swarm.DEFAULT_MEDIA_CACHE)
    media_prefix = media.read_bytes()[:CHECK_BYTES]
    content = work / "content"
    content.mkdir(parents=True, exist_ok=True)
    results = {"samples": {"ours": [], "libtorrent": []}, "extra": {}, "failures": []}
    extra = results["extra"]
    notes = []
    net = ours = None
    rc = 0
    try:
        log(f"starting {args.nodes} DHT nodes")
        t0 = time.monotonic()
        net = dht_swarm.DHTNetwork(nodes=args.nodes)
        notes.append(f"DHT mesh ready in {time.monotonic() - t0:.1f} s: {net.endpoints}")
        runners = {}
        if "libtorrent" in contenders:
            runners["libtorrent"] = LibtorrentContender(net, args, work)
        ours = OursContender(net, args, work) if "ours" in contenders else None
        if ours is None:
            ours = OursContender.__new__(OursContender)
            ours.unavailable, ours.notes, ours.stack, ours.upstream = "not requested (--contenders)", [], None, None
        elif ours.unavailable:
            log(f"ours: n/a ({ours.unavailable})")
        else:
            runners["ours"] = ours
        for trial in range(args.trials):
            order = list(runners) if trial % 2 == 0 else list(reversed(runners))
            for client in order:
                label = f"dht-{trial}-{client}"
                linked = content / f"{label}.mp4"
                try:
                    os.link(media, linked)
                except OSError:
                    shutil.copyfile(media, linked)
                torrent = work / "torrents" / f"{label}.torrent"
                _, infohash = swarm.make_torrent(linked, [], args.piece_kib, torrent)
                try:
                    seeder = net.add_seeder(torrent, content)
                    log(f"trial {trial + 1}/{args.trials} {client}: {infohash} seeded by {seeder.endpoint}")
                    r = runners[client].run(infohash, label, media_prefix)
                    results["samples"][client].append(r["first_byte"])
                    for k, v in r.items():
                        if k != "first_byte":
                            extra.setdefault(f"{'lt' if client == 'libtorrent' else 'ours'}_{k}", []).append(v)
                    log(f"trial {trial + 1}/{args.trials} {client}: first byte {r['first_byte']:.3f} s")
                except Exception as e:  # noqa: BLE001  (one failed trial must not end the run)
                    results["failures"].append(f"trial {trial + 1} {client}: {type(e).__name__}: {str(e)[:400]}")
                    log(traceback.format_exc())
                    rc = 2
        report(args, results, ours, media, notes, args.bin)
        if args.json:
            Path(args.json).write_text(json.dumps({"results": results, "notes": notes + ours.notes,
                                                   "ours_unavailable": ours.unavailable}, indent=1))
    finally:
        if ours is not None:
            try:
                ours.close()
            except Exception:  # noqa: BLE001
                log(traceback.format_exc())
        if net is not None:
            net.stop()
    return rc


if __name__ == "__main__":
    sys.exit(main())
