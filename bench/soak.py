#!/usr/bin/env python3
"""Soak benchmark driver (bench/soak.sh runs it; issue 14): the real stack (nginx + api +
engine, scripts/stack.sh via the e2e harness's Stack) on free loopback ports in a temporary
DATA_DIR, with the recorded TMDB answers (Tests/Fixtures/server.py) and a local swarm
(opentracker + one libtorrent seeder, Tests/EndToEnd/swarm.py) behind a source of movie 680.

For --duration seconds, all through nginx over HTTPS:
  API mix   wrk (or a Python thread pool when wrk is missing) round-robin over GET /api/health,
            /api/lists, /api/list/<slug>, /api/movies/680, /api/progress?movieId=680, with the
            admin's session (X-Session-Id + access cookie)
  streams   2 threads re-reading the movie through /api/stream/<key> with random Range
            requests (each checked byte for byte against the media)
  RSS       every 10 s VmRSS of the nginx master + workers, the API supervisor + workers and the
            engine (pids from DATA_DIR/nginx/nginx.pid, DATA_DIR/run/{api,engine}.pid and their
            descendants), summed per group

Verdict per group: least-squares slope of RSS over time on the samples after the first
minute (after the first sample if the run is too short for that), as MB/hour; "growth" when
slope x run length exceeds 10 % of the group's RSS at the start of the fit window.
Writes bench/results/soak-<timestamp>.{json,md} and prints the Markdown.
"""
from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import random
import re
import shutil
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(REPO / "Tests" / "EndToEnd"))
import swarm  # noqa: E402

MOVIE = 680
MiB = 1 << 20
SAMPLE_EVERY = 10.0
WARMUP = 60.0


def log(*parts):
    print("[soak]", *parts, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# Processes and memory

def children_map() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] == "Z":
            continue
        kids.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    return kids


def tree(root: int, kids: dict[int, list[int]]) -> list[int]:
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(kids.get(pid, []))
    return out


def vmrss_kb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return 0  # kernel threads / zombies have no VmRSS


def group_pidfiles(data: Path) -> dict[str, Path]:
    return {"nginx": data / "nginx" / "nginx.pid", "api": data / "run" / "api.pid", "engine": data / "run" / "engine.pid"}


def sample_groups(data: Path) -> dict[str, dict]:
    kids = children_map()
    out = {}
    for name, pidfile in group_pidfiles(data).items():
        try:
            root = int(pidfile.read_text().strip())
        except (OSError, ValueError):
            out[name] = {"rss_mb": None, "pids": 0}
            continue
        total, count = 0, 0
        for pid in tree(root, kids):
            kb = vmrss_kb(pid)
            if kb is not None:
                total += kb
                count += 1
        out[name] = {"rss_mb": round(total / 1024, 2) if count else None, "pids": count}
    return out


def linear_fit(xs: list[float], ys: list[float]) -> tuple[float, float]:
    """Least squares y = a + b x; returns (a, b)."""
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return my, 0.0
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    return my - b * mx, b


# ---------------------------------------------------------------------------------------------
# Load

WRK_LUA = r"""
local paths = {%(paths)s}
local counter = 0
local threads = {}
function setup(thread)
  table.insert(threads, thread)
end
function init(args)
  s5xx = 0
  s4xx = 0
  wrk.headers["X-Session-Id"] = "%(sid)s"
  wrk.headers["Cookie"] = "%(cookie)s"
end
function request()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1])
end
function response(status, headers, body)
  if status >= 500 then s5xx = s5xx + 1 elseif status >= 400 then s4xx = s4xx + 1 end
end
function done(summary, latency, requests)
  local a, b = 0, 0
  for _, t in ipairs(threads) do a = a + t:get("s5xx"); b = b + t:get("s4xx") end
  io.write(string.format("SOAK 5xx=%%d 4xx=%%d requests=%%d errors_connect=%%d errors_read=%%d errors_write=%%d errors_timeout=%%d p50_us=%%d p90_us=%%d p99_us=%%d mean_us=%%f\n",
    a, b, summary.requests, summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean))
end
"""


def run_wrk(base: str, paths: list[str], sid: str, cookie: str, duration: int, connections: int, work: Path) -> dict:
    script = work / "soak.lua"
    script.write_text(WRK_LUA % {"paths": ", ".join(json.dumps(p) for p in paths), "sid": sid, "cookie": cookie})
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--timeout", "10s", "--latency", "-s", str(script), base + paths[0]]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 120)
    text = out.stdout
    found = re.search(r"^SOAK (.*)$", text, re.M)
    if out.returncode != 0 or not found:
        raise RuntimeError(f"wrk failed ({out.returncode}): {text[-1000:]} {out.stderr[-1000:]}")
    fields = {k: float(v) for k, v in (kv.split("=") for kv in found.group(1).split())}
    rps = re.search(r"Requests/sec:\s*([0-9.]+)", text)
    return {
        "tool": f"wrk -t2 -c{connections} over HTTPS, round-robin over {len(paths)} paths",
        "requests": int(fields["requests"]),
        "rps": float(rps.group(1)) if rps else fields["requests"] / duration,
        "p50_ms": fields["p50_us"] / 1000, "p90_ms": fields["p90_us"] / 1000, "p99_ms": fields["p99_us"] / 1000,
        "mean_ms": fields["mean_us"] / 1000,
        "status_5xx": int(fields["5xx"]), "status_4xx": int(fields["4xx"]),
        "socket_errors": int(fields["errors_connect"] + fields["errors_read"] + fields["errors_write"] + fields["errors_timeout"]),
        "raw": text,
    }


def run_pool(port: int, paths: list[str], sid: str, cookie: str, duration: int, connections: int) -> dict:
    """Fallback without wrk: `connections` threads, each with its own keep-alive TLS connection."""
    ctx = ssl._create_unverified_context()
    latencies: list[list[float]] = [[] for _ in range(connections)]
    counts = [{"5xx": 0, "4xx": 0, "err": 0} for _ in range(connections)]
    deadline = time.monotonic() + duration
    headers = {"X-Session-Id": sid, "Cookie": cookie}

    def worker(i: int):
        conn = None
        n = i
        while time.monotonic() < deadline:
            path = paths[n % len(paths)]
            n += 1
            try:
                if conn is None:
                    conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=10)
                t0 = time.perf_counter()
                conn.request("GET", path, headers=headers)
                resp = conn.getresponse()
                resp.read()
                latencies[i].append(time.perf_counter() - t0)
                if resp.status >= 500:
                    counts[i]["5xx"] += 1
                elif resp.status >= 400:
                    counts[i]["4xx"] += 1
            except (OSError, http.client.HTTPException):
                counts[i]["err"] += 1
                if conn is not None:
                    conn.close()
                conn = None
        if conn is not None:
            conn.close()

    start = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(duration + 30)
    elapsed = time.monotonic() - start
    flat = sorted(x for per in latencies for x in per)
    pct = lambda q: flat[min(len(flat) - 1, int(q * len(flat)))] * 1000 if flat else float("nan")  # noqa: E731
    return {
        "tool": f"Python thread pool ({connections} keep-alive connections; wrk not installed)",
        "requests": len(flat), "rps": len(flat) / elapsed,
        "p50_ms": pct(0.50), "p90_ms": pct(0.90), "p99_ms": pct(0.99),
        "mean_ms": statistics.fmean(flat) * 1000 if flat else float("nan"),
        "status_5xx": sum(c["5xx"] for c in counts), "status_4xx": sum(c["4xx"] for c in counts),
        "socket_errors": sum(c["err"] for c in counts), "raw": "",
    }


class StreamReader(threading.Thread):
    """Re-reads the movie through /api/stream/<key> with random Range requests (up to 4 MiB
    each), checking every byte against the media. A failed read: a status other than 206, a
    short or wrong body, or a transport error."""

    def __init__(self, index: int, port: int, key_fn, media: bytes, stop: threading.Event):
        super().__init__(daemon=True, name=f"stream-{index}")
        self.port, self.key_fn, self.media, self.stop_event = port, key_fn, media, stop
        self.rng = random.Random(1000 + index)
        self.reads = self.failed = self.bytes = 0
        self.errors: list[str] = []
        self.latencies: list[float] = []  # seconds to the first body byte

    def fail(self, why: str):
        self.failed += 1
        if len(self.errors) < 20:
            self.errors.append(f"{time.strftime('%H:%M:%S')} {why}")

    def run(self):
        ctx = ssl._create_unverified_context()
        conn = None
        key = self.key_fn(False)
        size = len(self.media)
        while not self.stop_event.is_set():
            start = self.rng.randrange(size)
            length = min(size - start, self.rng.randint(1, 4 * MiB))
            end = start + length - 1
            try:
                if conn is None:
                    conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=ctx, timeout=60)
                t0 = time.perf_counter()
                conn.request("GET", f"/api/stream/{key}", headers={"Range": f"bytes={start}-{end}"})
                resp = conn.getresponse()
                first = resp.read(1)
                self.latencies.append(time.perf_counter() - t0)
                body = first + resp.read()
                self.reads += 1
                if resp.status != 206:
                    self.fail(f"bytes={start}-{end}: status {resp.status} {body[:120]!r}")
                    if resp.status in (401, 403, 404, 410):
                        key = self.key_fn(True)
                    if resp.will_close:
                        conn.close()
                        conn = None
                    time.sleep(0.5)
                    continue
                self.bytes += len(body)
                if body != self.media[start:end + 1]:
                    self.fail(f"bytes={start}-{end}: {len(body)} bytes, content differs from the media")
                if resp.will_close:
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException) as e:
                self.reads += 1
                self.fail(f"bytes={start}-{end}: {type(e).__name__}: {e}")
                if conn is not None:
                    conn.close()
                conn = None
                time.sleep(0.5)
        if conn is not None:
            conn.close()


# ---------------------------------------------------------------------------------------------
# Report

def verdicts(samples: list[dict], duration: float) -> dict:
    out = {}
    for group in ("nginx", "api", "engine"):
        points = [(s["t"], s["groups"][group]["rss_mb"]) for s in samples if s["groups"][group]["rss_mb"] is not None]
        window = [p for p in points if p[0] >= WARMUP]
        note = f"samples after the first {WARMUP:.0f} s"
        if len(window) < 3:
            window = points[1:] if len(points) > 3 else points
            note = "run too short to skip the first minute: all samples after the first"
        if len(window) < 2:
            out[group] = {"verdict": "no data", "note": note}
            continue
        xs, ys = [p[0] for p in window], [p[1] for p in window]
        intercept, slope = linear_fit(xs, ys)  # MB per second
        start_rss = window[0][1]
        growth_over_run = slope * duration
        flag = growth_over_run > 0.10 * start_rss
        out[group] = {
            "start_mb": start_rss, "end_mb": window[-1][1], "min_mb": min(ys), "max_mb": max(ys),
            "slope_mb_per_hour": round(slope * 3600, 2), "growth_over_run_mb": round(growth_over_run, 2),
            "growth_over_run_pct": round(100 * growth_over_run / start_rss, 2) if start_rss else None,
            "fit_points": len(window), "fit_note": note,
            "verdict": "growth" if flag else "flat",
        }
    return out


def markdown(result: dict) -> str:
    load, streams, mem = result["load"], result["streams"], result["memory"]
    lines = [
        f"# Soak {result['timestamp']}",
        "",
        f"{result['duration_s']} s on {result['cores']} cores; binary `{result['binary']}`; {load['tool']}; "
        f"paths: {', '.join('`' + p + '`' for p in result['paths'])}; plus {streams['readers']} stream readers "
        f"(random Range reads of up to 4 MiB through `/api/stream/<key>`, {result['media_bytes']} byte movie).",
        "",
        "| Figure | Value |",
        "| --- | --- |",
        f"| API requests/s | {load['rps']:.1f} ({load['requests']} requests) |",
        f"| API latency p50 / p90 / p99 | {load['p50_ms']:.2f} / {load['p90_ms']:.2f} / {load['p99_ms']:.2f} ms |",
        f"| API 5xx | {load['status_5xx']} |",
        f"| API 4xx / socket errors | {load['status_4xx']} / {load['socket_errors']} |",
        f"| Stream reads (ok / failed) | {streams['reads'] - streams['failed']} / {streams['failed']} |",
        f"| Stream bytes read | {streams['bytes'] / MiB:.1f} MiB ({streams['mib_per_s']:.1f} MiB/s) |",
        f"| Stream time to first byte p50 / p99 | {streams['ttfb_p50_ms']:.1f} / {streams['ttfb_p99_ms']:.1f} ms |",
        "",
        "## Memory (VmRSS summed per process group)",
        "",
        "| Group | start MB | end MB | min / max MB | slope MB/hour | growth over run | verdict |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for group, v in mem.items():
        if "start_mb" not in v:
            lines.append(f"| {group} | | | | | | {v['verdict']} |")
            continue
        lines.append(f"| {group} | {v['start_mb']:.1f} | {v['end_mb']:.1f} | {v['min_mb']:.1f} / {v['max_mb']:.1f} | "
                     f"{v['slope_mb_per_hour']:+.1f} | {v['growth_over_run_mb']:+.2f} MB ({v['growth_over_run_pct']:+.1f} %) | "
                     f"**{v['verdict']}** |")
    notes = {v.get("fit_note") for v in mem.values() if v.get("fit_note")}
    lines += ["", "Fit: least squares over " + "; ".join(sorted(notes)) +
              ". \"growth\" when slope x run length > 10 % of the RSS at the start of the fit window.", "",
              "## RSS series (MB)", "", "| t (s) | nginx | api | engine |", "| --- | --- | --- | --- |"]
    for s in result["samples"]:
        g = s["groups"]
        cell = lambda n: f"{g[n]['rss_mb']:.1f} ({g[n]['pids']} p)" if g[n]["rss_mb"] is not None else "—"  # noqa: E731
        lines.append(f"| {s['t']:.0f} | {cell('nginx')} | {cell('api')} | {cell('engine')} |")
    if streams["errors"]:
        lines += ["", "## First stream failures", ""] + [f"- {e}" for e in streams["errors"]]
    verdict_words = ", ".join(f"{g} {v['verdict']}" for g, v in mem.items())
    lines += ["", f"Summary: soak {result['duration_s']} s: {load['rps']:.1f} req/s, p50 {load['p50_ms']:.2f} ms, "
              f"p99 {load['p99_ms']:.2f} ms, 5xx {load['status_5xx']}, failed stream reads {streams['failed']}/{streams['reads']}; "
              f"memory: {verdict_words}", ""]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------

def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--duration", type=int, default=600, help="seconds of load (default 600)")
    p.add_argument("--connections", type=int, default=16, help="API connections (wrk -c; default 16)")
    p.add_argument("--streams", type=int, default=2, help="concurrent stream readers (default 2)")
    p.add_argument("--bin", required=True)
    p.add_argument("--results", default=str(HERE / "results"))
    p.add_argument("--keep", action="store_true", help="keep the work folder (stack logs)")
    args = p.parse_args()

    os.environ["MIAUFLIX_BIN"] = str(Path(args.bin).resolve())
    from conftest import FixtureServer, Stack  # noqa: E402  (reads MIAUFLIX_BIN when imported)
    import requests

    work = Path(tempfile.mkdtemp(prefix="miauflix-bench-soak-"))
    os.chmod(work, 0o755)
    upstream = stack = tracker = seeder = None
    stop = threading.Event()

    def on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, on_signal)

    try:
        media_path = swarm.make_media(swarm.DEFAULT_MEDIA_CACHE)
        media = media_path.read_bytes()
        tracker = swarm.Tracker(work)
        torrent_path = work / "soak.torrent"
        torrent, infohash = swarm.make_torrent(media_path, [tracker.http_url, tracker.udp_url], 256, torrent_path)
        tracker.add_hash(infohash)
        seeder = swarm.Seeder(torrent_path, media_path.parent, swarm.fresh_address())
        log(f"swarm: tracker {tracker.http_url}, seeder {seeder.endpoint}, media {media_path} ({len(media)} bytes)")

        upstream = FixtureServer()
        stack = Stack(work / "data", TMDB_API_URL=f"{upstream.base}/tmdb/3", TMDB_API_ACCESS_TOKEN="fixture-token",
                      DISABLE_BACKGROUND_TASKS="true", CONTENT_PORT=swarm.free_port(), CONTENT_BIND_ADDRESS="127.0.0.1",
                      CONTENT_DOWNLOAD_LIMIT="0B", AUTH_RATE_LIMIT="100000", LOG_LEVEL="warning",
                      # nginx's per-IP stream ceiling (50 r/s) would answer the readers 429: all load is from one IP
                      STREAM_RATE_LIMIT="100000", STREAM_RATE_BURST="200000")
        stack.start()
        log(f"stack on https://127.0.0.1:{stack.https_port} (DATA_DIR {stack.data_dir})")
        jar = requests.Session()
        r, sid = stack.login(*stack.admin, session=jar)
        if r.status_code != 200:
            raise RuntimeError(f"login failed: {r.status_code} {r.text[:200]}")
        cookie = "; ".join(f"{c.name}={c.value}" for c in jar.cookies if c.name.startswith("__miauflix_at_"))
        h = {"X-Session-Id": sid}
        refreshed = stack.miauflix("catalog", "refresh-lists", timeout=120)
        if refreshed.returncode != 0:
            log(f"catalog refresh-lists failed ({refreshed.returncode}): {refreshed.stderr[-300:]}")
        lists = jar.get(stack.url("/api/lists"), headers=h, verify=False, timeout=15)
        slug = lists.json()[0]["slug"] if lists.status_code == 200 and lists.json() else "@@tmdb_movies_popular"
        r = jar.get(stack.url(f"/api/movies/{MOVIE}"), headers=h, verify=False, timeout=15)
        if r.status_code != 200:
            raise RuntimeError(f"GET /api/movies/{MOVIE}: {r.status_code} {r.text[:200]}")
        r = jar.post(stack.url(f"/api/admin/movies/{MOVIE}/sources"), headers=h, verify=False, timeout=15,
                     json={"torrent": base64.b64encode(torrent).decode(), "quality": "HD"})
        if r.status_code != 201:
            raise RuntimeError(f"add source: {r.status_code} {r.text[:300]}")
        source = r.json()["id"]

        key_lock = threading.Lock()
        key_state = {"key": None, "renewals": 0}

        def key_fn(renew: bool) -> str:
            with key_lock:
                if key_state["key"] is None or renew:
                    r = jar.post(stack.url(f"/api/movies/{MOVIE}/auto"), headers=h, verify=False, timeout=30)
                    if r.status_code != 200:
                        raise RuntimeError(f"POST /api/movies/{MOVIE}/auto: {r.status_code} {r.text[:200]}")
                    key_state["key"] = r.json()["streamingKey"]
                    key_state["renewals"] += renew
                return key_state["key"]

        key = key_fn(False)
        # The whole file once, so the engine has it (and the check below is against the original).
        t0 = time.monotonic()
        full = requests.get(stack.url(f"/api/stream/{key}"), verify=False, timeout=300)
        if full.status_code not in (200, 206) or full.content != media:
            raise RuntimeError(f"first full read: status {full.status_code}, {len(full.content)} bytes, "
                               f"{'matches' if full.content == media else 'differs from'} the media")
        log(f"source {source} attached; first full read {time.monotonic() - t0:.1f} s; list slug {slug}")

        paths = ["/api/health", "/api/lists", f"/api/list/{slug}", f"/api/movies/{MOVIE}", f"/api/progress?movieId={MOVIE}"]
        for path in paths:
            r = jar.get(stack.url(path), headers=h, verify=False, timeout=15)
            if r.status_code != 200:
                log(f"warning: GET {path} answers {r.status_code} before the soak: {r.text[:200]}")

        samples: list[dict] = []
        t_start = time.monotonic()

        def sampler():
            while True:
                samples.append({"t": round(time.monotonic() - t_start, 1), "groups": sample_groups(stack.data_dir)})
                if stop.wait(SAMPLE_EVERY):
                    return
        sampler_thread = threading.Thread(target=sampler, daemon=True)
        sampler_thread.start()
        readers = [StreamReader(i, stack.https_port, key_fn, media, stop) for i in range(args.streams)]
        for reader in readers:
            reader.start()
        log(f"soak: {args.duration} s of API load + {args.streams} stream readers")
        if shutil.which("wrk"):
            load = run_wrk(f"https://127.0.0.1:{stack.https_port}", paths, sid, cookie, args.duration, args.connections, work)
        else:
            load = run_pool(stack.https_port, paths, sid, cookie, args.duration, args.connections)
        elapsed = time.monotonic() - t_start
        samples.append({"t": round(elapsed, 1), "groups": sample_groups(stack.data_dir)})
        stop.set()
        for reader in readers:
            reader.join(90)
        sampler_thread.join(5)

        ttfb = sorted(x for r_ in readers for x in r_.latencies)
        pct = lambda q: ttfb[min(len(ttfb) - 1, int(q * len(ttfb)))] * 1000 if ttfb else float("nan")  # noqa: E731
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        result = {
            "timestamp": stamp, "duration_s": args.duration, "elapsed_s": round(elapsed, 1), "cores": os.cpu_count(),
            "binary": str(Path(args.bin).resolve()), "paths": paths, "media_bytes": len(media),
            "load": {k: v for k, v in load.items() if k != "raw"},
            "streams": {
                "readers": len(readers), "reads": sum(r_.reads for r_ in readers), "failed": sum(r_.failed for r_ in readers),
                "bytes": sum(r_.bytes for r_ in readers), "mib_per_s": sum(r_.bytes for r_ in readers) / MiB / elapsed,
                "ttfb_p50_ms": pct(0.5), "ttfb_p99_ms": pct(0.99), "key_renewals": key_state["renewals"],
                "errors": [e for r_ in readers for e in r_.errors][:20],
            },
            "samples": samples,
            "memory": verdicts(samples, elapsed),
        }
        out_dir = Path(args.results)
        out_dir.mkdir(parents=True, exist_ok=True)
        md = markdown(result)
        (out_dir / f"soak-{stamp}.json").write_text(json.dumps(result, indent=2) + "\n")
        (out_dir / f"soak-{stamp}.md").write_text(md)
        print(md)
        print(f"Wrote {out_dir / f'soak-{stamp}.json'} and {out_dir / f'soak-{stamp}.md'}")
        return 0
    finally:
        stop.set()
        for thing in (stack, upstream, seeder, tracker):
            if thing is None:
                continue
            try:
                thing.stop()
            except Exception as e:  # noqa: BLE001
                log(f"cleanup: {type(thing).__name__}.stop(): {e}")
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
