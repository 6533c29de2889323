#!/usr/bin/env python3
"""Runs every benchmark of the project (bench/report.sh runs this) and writes one report:
bench/results/report-<timestamp>.md with a Markdown table (benchmark, metric, ours, peer,
ratio, target), the raw output of each benchmark in bench/results/report-<timestamp>-logs/,
and bench/results/report-<timestamp>-latency.png (latency percentiles, where a benchmark gives
them; needs matplotlib). A benchmark that fails (or whose output cannot be parsed) gets a
"failed" row with the last lines of its output; the others still run.

Benchmarks: api-floor, auth, catalog, codec (the `make bench` set), watch-now, dht and soak.
Without --full: watch-now runs 1 trial of the loopback profile only, dht 1 trial and soak
runs 120 s; --full: watch-now 3 trials of both profiles, dht 3 trials and soak 600 s.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
ORDER = ["api-floor", "auth", "catalog", "codec", "watch-now", "dht", "soak"]


def command(name: str, args) -> tuple[list[str], dict, int]:
    """(argv, extra environment, timeout seconds) of one benchmark."""
    secs = [str(args.seconds)] if args.seconds else []
    if name in ("api-floor", "auth", "catalog"):
        return [str(HERE / f"{name}.sh"), *secs], {}, 1800
    if name == "codec":
        return [str(HERE / "codec.sh")], {}, 3600
    if name == "watch-now":
        if args.full:
            return [str(HERE / "watch-now.sh"), "3"], {}, 7200
        return [str(HERE / "watch-now.sh"), "1"], {"WATCH_NOW_PROFILES": "loopback"}, 1800
    if name == "dht":
        return [str(HERE / "dht.sh"), "3" if args.full else "1"], {}, 1800
    if name == "soak":
        duration = args.soak_duration or (600 if args.full else 120)
        return [str(HERE / "soak.sh"), "--duration", str(duration)], {}, duration + 900
    raise ValueError(name)


# ---------------------------------------------------------------------------------------------
# Parsing: each parser returns (rows, latency) where rows are dicts with metric/ours/peer/ratio/
# target and latency is {series label: {"p50": ms, "p99": ms, ...}} for the chart.

def ms(text: str) -> float | None:
    m = re.fullmatch(r"([0-9.]+)(us|ms|s)", text.strip())
    if not m:
        return None
    return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]


def num(value, digits=2) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return f"{value:,.{digits}f}"


def ratio(a, b) -> str:
    return f"{a / b:.2f}" if a is not None and b else "—"


def parse_api_floor(out: str):
    rows, lat = [], {}
    table = {}
    for m in re.finditer(r"^\((a|b|c)\) (.+?)[ \t]{2,}([0-9.]+)[ \t]+([0-9.]+)[ \t]+([0-9.]+)", out, re.M):
        table[m.group(1)] = {"label": m.group(2).strip(), "rps": float(m.group(3)), "p50": float(m.group(4)), "p99": float(m.group(5))}
        lat[f"api-floor {m.group(2).strip()}"] = {"p50": float(m.group(4)), "p99": float(m.group(5))}
    target = re.search(r"^target c/b (.*)$", out, re.M)
    if "c" in table and "b" in table:
        a, b, c = table.get("a"), table["b"], table["c"]
        rows.append({"metric": "req/s: /api/health vs C libfcgi floor", "ours": num(c["rps"], 0), "peer": num(b["rps"], 0),
                     "ratio": ratio(c["rps"], b["rps"]), "target": f"c/b {target.group(1)}" if target else ">= 0.95"})
        rows.append({"metric": "p99 ms: /api/health vs C libfcgi floor", "ours": num(c["p99"]), "peer": num(b["p99"]),
                     "ratio": ratio(c["p99"], b["p99"]), "target": "p99 < 15 ms"})
        if a:
            rows.append({"metric": "req/s: /api/health vs nginx static file", "ours": num(c["rps"], 0), "peer": num(a["rps"], 0),
                         "ratio": ratio(c["rps"], a["rps"]), "target": "—"})
    return rows, lat


WRK_ROW = re.compile(r"^(.+?)[ \t]+([0-9.]+) req/s[ \t]+p99[ \t]+(\S+)[ \t]+non-2xx (\S*)", re.M)
KEYWORDS = {"health": "/api/health", "session": "/api/auth/session", "login": "/api/auth/login",
            "static": "static", "movie": "/api/movies", "list": "/api/list/"}


def parse_wrk_ratios(bench: str, out: str):
    rows, lat, found = [], {}, {}
    for m in WRK_ROW.finditer(out):
        label = m.group(1).strip()
        found[label] = {"rps": float(m.group(2)), "p99": ms(m.group(3)), "non2xx": m.group(4)}
        if ms(m.group(3)) is not None:
            lat[f"{bench} {label}"] = {"p99": ms(m.group(3))}

    def row_for(word):
        needle = KEYWORDS.get(word, word)
        return next(((k, v) for k, v in found.items() if needle in k), (None, None))

    for m in re.finditer(r"(\w+)/(\w+) = ([0-9.]+)(?: \(target ([^)]*)\))?", out):
        (ours_label, ours), (peer_label, peer) = row_for(m.group(1)), row_for(m.group(2))
        metric = f"req/s: {ours_label or m.group(1)} vs {peer_label or m.group(2)}"
        rows.append({"metric": metric, "ours": num(ours["rps"], 0) if ours else "—", "peer": num(peer["rps"], 0) if peer else "—",
                     "ratio": m.group(3), "target": m.group(4) or "—"})
    for label, v in found.items():
        if v["non2xx"] not in ("0", ""):
            rows.append({"metric": f"non-2xx answers: {label}", "ours": v["non2xx"], "peer": "—", "ratio": "—", "target": "0"})
    return rows, lat


def parse_codec(out: str):
    vals = [(m.group(1).strip(), float(m.group(2))) for m in re.finditer(r"^(.+?)[ \t]+([0-9.]+) MB/s$", out, re.M)]
    rows = []
    for i in range(0, len(vals) - 1, 2):
        (ol, ov), (pl, pv) = vals[i], vals[i + 1]
        target = "—"
        if "metainfo" in ol:
            target = "ours/libtorrent (printed: " + (re.search(r"bencode ours/libtorrent = ([0-9.]+)", out) or [None, "?"])[1] + ")"
        rows.append({"metric": f"MB/s: {ol} vs {pl}", "ours": num(ov, 1), "peer": num(pv, 1), "ratio": ratio(ov, pv), "target": target})
    return rows, {}


WN_ROW = re.compile(r"^([A-Za-z]\S*)[ \t]+(.+?)[ \t]+(n/a|[0-9.]+ (?:s|MB/s|MB))[ \t]+(n/a|[0-9.]+ (?:s|MB/s|MB))[ \t]+(\S+)[ \t]+(.+?)(?:[ \t]+(PASS|FAIL|NO DATA|-))?[ \t]*$", re.M)


def parse_watch_now(out: str, bench: str = "watch-now"):
    rows, lat = [], {}
    for m in WN_ROW.finditer(out):
        profile, label, ours, peer, rat, target, verdict = ((g or "-").strip() for g in m.groups())
        rows.append({"metric": f"{profile}: {label}", "ours": ours, "peer": peer, "ratio": rat,
                     "target": f"{target} ({verdict})" if verdict != "-" else target})
        if ours.endswith(" s") and ("first byte" in label):
            lat[f"{bench} {profile} {label} (median of trials)"] = {"p50": float(ours.split()[0]) * 1000}
    return rows, lat


def parse_dht(out: str):
    """bench/dht.sh prints the watch-now table shape; "ours: n/a (why)" when our engine has no
    DHT yet, which becomes the row's target note."""
    rows, lat = parse_watch_now(out, "dht")
    why = re.search(r"^ours: n/a \((.*)\)$", out, re.M)
    for r in rows:
        if r["ours"] == "n/a" and why:
            r["target"] = f"{r['target']}; ours n/a: {why.group(1)}"
    return rows, lat


def parse_soak(out: str):
    m = re.search(r"^Wrote (\S+\.json) and", out, re.M)
    if not m or not Path(m.group(1)).is_file():
        return [], {}
    r = json.loads(Path(m.group(1)).read_text())
    load, streams = r["load"], r["streams"]
    rows = [
        {"metric": f"mixed API req/s ({r['duration_s']} s, {len(r['paths'])} paths + {streams['readers']} streams)",
         "ours": num(load["rps"], 1), "peer": "—", "ratio": "—", "target": "—"},
        {"metric": "mixed API p50 / p99 ms", "ours": f"{load['p50_ms']:.2f} / {load['p99_ms']:.2f}", "peer": "—", "ratio": "—", "target": "—"},
        {"metric": "API 5xx", "ours": str(load["status_5xx"]), "peer": "—", "ratio": "—", "target": "0"},
        {"metric": "failed stream reads", "ours": f"{streams['failed']} / {streams['reads']}", "peer": "—", "ratio": "—", "target": "0"},
    ]
    for group, v in r["memory"].items():
        if "slope_mb_per_hour" in v:
            rows.append({"metric": f"RSS {group}: MB/hour (start {v['start_mb']:.1f} MB)", "ours": f"{v['slope_mb_per_hour']:+.1f}",
                         "peer": "—", "ratio": v["verdict"], "target": "flat: growth over run < 10 % of start"})
    lat = {"soak mixed API": {"p50": load["p50_ms"], "p90": load["p90_ms"], "p99": load["p99_ms"]}}
    if streams.get("ttfb_p50_ms") == streams.get("ttfb_p50_ms"):  # not NaN
        lat["soak stream first byte"] = {"p50": streams["ttfb_p50_ms"], "p99": streams["ttfb_p99_ms"]}
    return rows, lat


PARSERS = {"api-floor": parse_api_floor, "auth": lambda o: parse_wrk_ratios("auth", o),
           "catalog": lambda o: parse_wrk_ratios("catalog", o), "codec": parse_codec,
           "watch-now": parse_watch_now, "dht": parse_dht, "soak": parse_soak}


# ---------------------------------------------------------------------------------------------
# Dry run: recorded-shape outputs (made-up numbers) to check parsing, table and chart.

DRY = {
    "api-floor": """api-floor: 2 cores, 2 workers x 4 threads, wrk -t2 -c64 -d10s over HTTPS
                                  req/s    p50 ms    p99 ms  app µs/req
(a) nginx static file             21000.5      2.80      9.10  (nginx 40.1)
(b) C libfcgi floor               15000.2      3.90     11.20         12.0
(c) miauflix /api/health          14500.9      4.10     12.80         20.5
c/a = 0.69   c/b = 0.97   app CPU per request c/b = 1.71
target c/b >= 0.95 with p99 < 15 ms: met""",
    "auth": """auth bench: 2 cores, wrk -t2 -d10s over HTTPS
GET /api/health                       14000.10 req/s   p99   12.50ms   non-2xx 0
GET /api/auth/session                 10500.30 req/s   p99   15.10ms   non-2xx 0
POST /api/auth/login                     40.20 req/s   p99    1.20s   non-2xx 0
session/health = 0.75 (target >= 0.70); login/health = 0.0029""",
    "catalog": """catalog bench: 2 cores, wrk -t2 -c64 -d10s over HTTPS; list answer 9876 bytes
GET /api/health                            14000.00 req/s   p99   12.00ms   non-2xx 0
nginx static file (9876 bytes)             20000.00 req/s   p99    8.00ms   non-2xx 0
GET /api/movies/278 (warm)                  9000.00 req/s   p99   16.00ms   non-2xx 0
GET /api/list/@@tmdb_movies_popular         6000.00 req/s   p99   21.00ms   non-2xx 0
movie/health = 0.64 (target >= 0.6)   list/health = 0.43 (target >= 0.4)   list/static = 0.30""",
    "codec": """codec bench: 20 iterations
metainfo (1500000 bytes): miauflix BencodeDecoder          450.0 MB/s
metainfo: libtorrent bdecode (Python bindings)             300.0 MB/s
peer wire, 1000 x 16 KiB pieces: miauflix decoder         2500.0 MB/s
peer wire: Python struct framer (floor)                    900.0 MB/s
bencode ours/libtorrent = 1.50""",
    "watch-now": """profile   measurement                       miauflix  libtorrent  ratio  target                             verdict
-------------------------------------------------------------------------------------------------------------------
loopback  Watch Now: first byte              0.310 s     0.420 s   0.74  < 1 s and <= libtorrent            PASS
loopback  Watch Now: first 4 MiB             0.450 s     0.600 s   0.75  (no target)                        -
loopback  seek to 75%: first byte            0.280 s     0.350 s   0.80  <= 1.5 s                           PASS
loopback  full file throughput              80.0 MB/s   95.0 MB/s   0.84  >= 0.8 x libtorrent                PASS
loopback  engine peak RSS (VmHWM)               60 MB       90 MB      -  < 150 MB (lt: leecher process)     PASS""",
    "dht": """profile   measurement                               miauflix  libtorrent  ratio  target               verdict
-------------------------------------------------------------------------------------------------------------
loopback  DHT magnet -> first byte                       n/a     0.008 s      -  (no target)          -

ratio = miauflix / libtorrent (lower is better).
ours: n/a (the engine answers no KRPC ping on 127.0.0.1:40000/udp within 20s (no DHT yet?))
libtorrent: 0.008 s  samples ['0.008']""",
    "soak": None,  # a failure, to show the "failed" row
}
DRY_SOAK_FAILURE = "[soak] stack on https://127.0.0.1:40000\nTraceback (most recent call last):\nRuntimeError: dry run: simulated failure\n"


# ---------------------------------------------------------------------------------------------

def cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", "<br>")


def tail(out: str, n: int = 8) -> str:
    lines = [line for line in out.strip().splitlines() if line.strip()]
    return "\n".join(lines[-n:])


def chart(latency: dict, path: Path) -> str | None:
    """Horizontal grouped bars of the latency percentiles (ms, log scale). Returns a note on failure."""
    if not latency:
        return "no benchmark reported latency percentiles"
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        return f"matplotlib not available ({e})"
    labels = list(latency)
    pcts = [p for p in ("p50", "p90", "p99") if any(p in v for v in latency.values())]
    height = 0.8 / len(pcts)
    fig, ax = plt.subplots(figsize=(10, 0.55 * len(labels) * max(1, len(pcts) * 0.6) + 1.5))
    for j, p in enumerate(pcts):
        ys = [i + (j - (len(pcts) - 1) / 2) * height for i in range(len(labels))]
        xs = [latency[label].get(p, 0) for label in labels]
        bars = ax.barh(ys, xs, height=height, label=p)
        for bar, x in zip(bars, xs):
            if x:
                ax.text(x, bar.get_y() + bar.get_height() / 2, f" {x:.3g}", va="center", fontsize=7)
    ax.set_yticks(range(len(labels)))
    ax.set_yticklabels(labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("latency, ms (log scale)")
    ax.set_title("Miauflix benchmarks: latency percentiles")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return None


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--full", action="store_true", help="watch-now 3 trials x both profiles, soak 600 s")
    p.add_argument("--only", default="", help=f"comma-separated subset of {','.join(ORDER)}")
    p.add_argument("--seconds", type=int, default=0, help="duration argument for api-floor/auth/catalog (their default: 10)")
    p.add_argument("--soak-duration", type=int, default=0, help="soak seconds (default 120, --full 600)")
    p.add_argument("--dry-run", action="store_true", help="run nothing: parse built-in sample outputs (made-up numbers; "
                                                           "soak simulated as failed) to check the table and the chart")
    p.add_argument("--results", default=str(HERE / "results"))
    args = p.parse_args()

    names = [n.strip() for n in args.only.split(",") if n.strip()] or ORDER
    unknown = [n for n in names if n not in ORDER]
    if unknown:
        p.error(f"unknown benchmark(s) {unknown}; known: {ORDER}")
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    out_dir = Path(args.results)
    logs = out_dir / f"report-{stamp}-logs"
    logs.mkdir(parents=True, exist_ok=True)

    table, latency, details = [], {}, []
    for name in names:
        argv, env, timeout = command(name, args)
        print(f"[report] {name}: {' '.join(argv)}" + (" (dry run)" if args.dry_run else ""), file=sys.stderr, flush=True)
        t0 = time.monotonic()
        if args.dry_run:
            out = DRY[name] if DRY[name] is not None else DRY_SOAK_FAILURE
            rc = 0 if DRY[name] is not None else 1
        else:
            try:
                proc = subprocess.run(argv, cwd=REPO, env={**os.environ, **env}, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, text=True, errors="replace", timeout=timeout)
                out, rc = proc.stdout, proc.returncode
            except subprocess.TimeoutExpired as e:
                out = (e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else e.stdout or "") + f"\n(timed out after {timeout} s)"
                rc = 124
            except OSError as e:
                out, rc = f"cannot run {argv[0]}: {e}", 127
        elapsed = time.monotonic() - t0
        (logs / f"{name}.log").write_text(out)
        try:
            rows, lat = PARSERS[name](out) if rc == 0 else ([], {})
        except Exception as e:  # noqa: BLE001  (a parser bug must not sink the report)
            rows, lat = [], {}
            out += f"\n(report parser error: {type(e).__name__}: {e})"
        if rc != 0:
            table.append({"benchmark": name, "metric": f"failed (exit {rc})", "ours": "—", "peer": "—", "ratio": "—",
                          "target": "last lines: " + tail(out)})
        elif not rows:
            table.append({"benchmark": name, "metric": "summary (no ratio parsed)", "ours": "—", "peer": "—", "ratio": "—",
                          "target": tail(out, 1)})
        else:
            table += [{"benchmark": name, **r} for r in rows]
            latency.update(lat)
        details.append(f"- `{name}`: `{' '.join(argv)}`{' ' + str(env) if env else ''}, exit {rc}, {elapsed:.0f} s, "
                       f"log `{logs.name}/{name}.log`")
        print(f"[report] {name}: exit {rc} after {elapsed:.0f} s, {len(rows)} row(s)", file=sys.stderr, flush=True)

    png = out_dir / f"report-{stamp}-latency.png"
    chart_note = chart(latency, png)
    md = [f"# Benchmark report {stamp}" + (" (DRY RUN: sample outputs, made-up numbers)" if args.dry_run else ""), "",
          f"{os.cpu_count()} cores; binary `{os.environ.get('MIAUFLIX_BIN', '(each script default)')}`; "
          f"mode: {'full' if args.full else 'short'}.", "",
          "| benchmark | metric | ours | peer | ratio | target |", "| --- | --- | --- | --- | --- | --- |"]
    md += [f"| {cell(r['benchmark'])} | {cell(r['metric'])} | {cell(r['ours'])} | {cell(r['peer'])} | {cell(r['ratio'])} | "
           f"{cell(r['target'])} |" for r in table]
    md += ["", f"![latency percentiles]({png.name})" if chart_note is None else f"Chart: none ({chart_note}).", "",
           "## Runs", ""] + details + [""]
    report = out_dir / f"report-{stamp}.md"
    report.write_text("\n".join(md))
    print("\n".join(md))
    print(f"Wrote {report}" + (f" and {png}" if chart_note is None else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
