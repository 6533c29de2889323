#!/usr/bin/env python3
"""Replays recorded upstream answers (TMDB, YTS, TheRARBG, Trakt) for tests and the demo, and
plays the YTS mirrors, the YTS status page and the .torrent caches.

Usage: server.py ROOT [PORT [TORRENT_DIR]]  (port 0 picks a free one; the chosen port is printed).

Recorded answers
----------------
A request `METHOD /<service>/<path>?<query>` maps to the file
`<root>/<folder>/<prefix><path><query>.json` (prefix `post-` etc. for non-GET; query keys
sorted and written `-k1-v1-k2-v2`, `start_date`/`end_date` values as `YYYY-MM-DD`, and
`/ \\ ? % * : | " < >` in the query part replaced by `_`). Each file is
`{"headers": {...}, "status": N, "data": ...}`. Unknown files answer 404. The folder is the
service, except for the mirrors below. The URL path is percent-decoded first (`%3A` -> `:`).

Services (the first path segment is the request's "target"):
  /tmdb/3/...                 TMDB (Tests/Fixtures/tmdb)
  /trakt/...                  Trakt (Tests/Fixtures/trakt)
  /yts/...  /yts-a/ … /yts-f/ YTS and its mirrors; every `/yts-<x>/` prefix serves Tests/Fixtures/yts.
      GET …/api/v2/list_movies.json?…   recorded answer; an unrecorded list_movies query answers
                                         like the real site: 200 {"status":"ok", data.movie_count 0}
      GET …/torrent/download/<HASH>      the .torrent registered for HASH (application/x-bittorrent),
                                         else 404 text/html
      In list_movies answers each torrent's `url` is rewritten to
      `http://<Host>/<the mirror asked>/torrent/download/<last segment of the recorded url>`
      (recorded urls point at yts-mock / yts.mx; the last segment is kept as recorded, and it is
      not always the torrent's own hash). `"rewrite_urls": false` in /__control turns this off.
  /yifystatus/                the yifystatus.com page: `<section class="serviceGroup">` with an
                              `<h2>Official YTS Domains</h2>` whose links are the mirrors, plus a
                              navigation link outside any section and a "Fake / scam sites" section
                              (neither must be picked up). Default mirror links:
                              `http://<Host>/yts-a` … `http://<Host>/yts-f`, then `http://<Host>/yts-a/`
                              again (a duplicate to de-duplicate).
  /therarbg/...  /therarbg-b/...   TheRARBG and a second mirror (both serve Tests/Fixtures/therarbg).
      GET …/imdb-detail/<tt>/?format=json    recorded answer; an unknown id answers
                                              302 `Location: /` (empty body), as the real site;
                                              without the trailing slash: 301 to the slash form.
      GET …/get-posts/<filter>/?format=json  recorded answer (e.g. category:Movies:time:1H), else 404
  /itorrents/torrent/<HASH>.torrent     the registered .torrent (application/x-bittorrent), else
                                        404 text/html. HASH in any case.
  /torrage/torrent/<hash>.torrent       the same, one step.
  /torrage/torrent.php?h=<hash>&ttl=<unix time>   torrage's landing page (text/html) holding
                                        `getTTL("<token>")` (404 page without it for an unknown hash);
  /torrage/download.php?h=<hash>&ttl=<decoded>    the .torrent when <decoded> is the token
                                        decoded (Caesar shift -12 on letters, then reversed);
                                        403 text/html otherwise.
  /tracker/announce…, /tracker/scrape…   a BitTorrent HTTP tracker (BEP 3/48, bencoded): a scrape
                                        answers every `info_hash` asked with `complete` = seeders (5),
                                        `incomplete` = leechers (2), `downloaded` 0; an announce
                                        answers interval 1800 with those counts and no peers. The
                                        counts come from the "tracker" target's control
                                        ({"mode": "ok", "seeders": N, "leechers": M}); its faults
                                        apply as for any target. SCRAPE_TRACKERS=<base>/tracker/announce.

Torrents for the caches
-----------------------
  POST /__torrents            body = the bytes of a .torrent -> {"hash": "<40 hex, upper>", "as": …}.
                              `?as=<HASH>` registers it under another hash: asking the caches for
                              HASH then returns a torrent whose info-hash does not match.
  POST /__torrents            with a JSON body {"name": "x.mkv", "length": N, "piece_length": 16384}
                              builds a small single-file torrent (content: N bytes of b"miauflix"
                              repeated) and registers it -> {"hash": …, "torrent_b64": …}; `"as"`
                              works as above.
  GET /__torrents             lists the registered hashes; DELETE /__torrents forgets them all.
  TORRENT_DIR (3rd argument)  every *.torrent in it is served under its own info-hash (the folder
                              is read again whenever a hash is not registered, so a test may add
                              files while the server runs).

Fault injection
---------------
`POST /__control` with a JSON object replaces the whole control state (`{}` resets everything):
  {"latency_ms": N, "fail_status": 500|429, "fail_count": K, "retry_after": S, "prefix": "/tmdb/",
   "malformed": true}
      applies to requests whose path starts with `prefix` (as before: fail_count counts down).
  "targets": {"<target>": MODE-or-OBJECT, …}
      per target (first path segment: "yts", "yts-a"…"yts-f", "yifystatus", "therarbg",
      "therarbg-b", "itorrents", "torrage", "tracker", "tmdb", "trakt"). A bare string is the mode; an object:
      {"mode": "ok"|"timeout"|"error"|"html"|"malformed"|"reset"|"redirect"|"mismatch",
       "seconds": 30,       # timeout: sleep this long, then answer normally
       "status": 500,       # error: this status (JSON body); html: the status of the page (200)
       "retry_after": S,    # error: adds Retry-After
       "count": K,          # apply the mode to the next K requests only, then "ok" (default: all)
       "latency_ms": N,     # extra delay before any answer, whatever the mode
       "unique_hashes": true}  # yts/therarbg: give every torrent/post a distinct hash (see below)
      modes: timeout = sleep then answer; error = JSON error with `status`; html = a text/html
      error page (a Cloudflare-like "Just a moment..." page); malformed = 200 application/json with
      truncated JSON; reset = close the connection without an answer (a transport error);
      redirect = 302 `Location: /`; mismatch (caches and YTS torrent download) = a valid .torrent
      whose info-hash is not the one asked for.
  "yifystatus": {"mirrors": ["yts-c", "http://other/base", …]}
      the links of the official section, in order (names become `http://<Host>/<name>`); [] gives
      an empty official section.
  "hash_map": {"<recorded hash>": "<hash to serve>", …}
      in YTS and TheRARBG answers every string equal to / containing a mapped hash (any case) is
      rewritten (hash fields, urls). With it a test points a recorded source at a torrent it made.
      With unique_hashes, the map applies after the hashes were made distinct.
  "rewrite_urls": false
      serve YTS torrent urls as recorded.
  "merge": true
      update only the given keys ("targets" and "hash_map" are merged entry by entry) instead of
      replacing the whole state.
`GET /__control` returns the current state.
`GET /__requests` lists every request served (method, path, Authorization, target, fault, status,
and the first 4 KiB of the body); `DELETE /__requests` clears the list.

unique_hashes: the recordings are anonymised and reuse a few info-hashes (all 25 posts of the
tt4154756 TheRARBG answer carry the same info_hash; some YTS movies list one hash twice). With
unique_hashes the N-th torrent/post of an answer gets sha1("<path>#<N>#<recorded hash>") in upper
hex instead.

Request log
-----------
`GET /__requests` lists the requests served, in arrival order:
  {"method", "path" (with the query), "authorization", "target" (first path segment),
   "service" (folder: "yts" for every YTS mirror), "fault" (the mode applied, or null),
   "status" (the status answered; null while unanswered or for reset), "time" (unix time)}
`DELETE /__requests` clears the list.
"""
import base64
import hashlib
import json
import re
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, unquote, unquote_to_bytes, urlsplit

ROOT = Path(sys.argv[1]).resolve()
TORRENT_DIR = Path(sys.argv[3]).resolve() if len(sys.argv) > 3 else None
LOCK = threading.Lock()
LEGACY_KEYS = ("latency_ms", "fail_status", "fail_count", "retry_after", "prefix", "malformed")
STATE = {"faults": {}, "targets": {}, "yifystatus": {}, "hash_map": {}, "rewrite_urls": True,
         "requests": [], "torrents": {}, "dir_index": {}}
YTS_MIRRORS = ["yts-a", "yts-b", "yts-c", "yts-d", "yts-e", "yts-f"]
MIRROR_FOLDERS = [(re.compile(r"^yts(-[A-Za-z0-9_.]+)?$"), "yts"),
                  (re.compile(r"^therarbg(-[A-Za-z0-9_.]+)?$"), "therarbg")]
HASH_RE = re.compile(r"^[0-9A-Fa-f]{40}$")


# ---------------------------------------------------------------- bencode and torrents

def bencode(value) -> bytes:
    if isinstance(value, int):
        return b"i%de" % value
    if isinstance(value, str):
        value = value.encode()
    if isinstance(value, bytes):
        return b"%d:%s" % (len(value), value)
    if isinstance(value, list):
        return b"l" + b"".join(bencode(v) for v in value) + b"e"
    if isinstance(value, dict):
        items = sorted((k.encode() if isinstance(k, str) else k, v) for k, v in value.items())
        return b"d" + b"".join(bencode(k) + bencode(v) for k, v in items) + b"e"
    raise TypeError(type(value))


def _bdecode(data: bytes, i: int, spans: dict, depth: int = 0):
    c = data[i:i + 1]
    if c == b"i":
        end = data.index(b"e", i)
        return int(data[i + 1:end]), end + 1
    if c.isdigit():
        colon = data.index(b":", i)
        n = int(data[i:colon])
        if colon + 1 + n > len(data):
            raise ValueError("truncated string")
        return data[colon + 1:colon + 1 + n], colon + 1 + n
    if c == b"l":
        out, i = [], i + 1
        while data[i:i + 1] != b"e":
            v, i = _bdecode(data, i, spans, depth + 1)
            out.append(v)
        return out, i + 1
    if c == b"d":
        out, i = {}, i + 1
        while data[i:i + 1] != b"e":
            k, i = _bdecode(data, i, spans, depth + 1)
            start = i
            v, i = _bdecode(data, i, spans, depth + 1)
            if depth == 0 and k == b"info":
                spans["info"] = (start, i)
            out[k] = v
        return out, i + 1
    raise ValueError(f"bad bencode at {i}")


def info_hash(torrent: bytes) -> str:
    """Upper-case hex SHA-1 of the raw `info` dictionary; ValueError if not a torrent."""
    spans = {}
    value, end = _bdecode(torrent, 0, spans)
    if not isinstance(value, dict) or "info" not in spans or end != len(torrent):
        raise ValueError("not a .torrent (no info dictionary)")
    start, stop = spans["info"]
    return hashlib.sha1(torrent[start:stop]).hexdigest().upper()


def make_torrent(name: str, length: int, piece_length: int = 16384) -> bytes:
    content = (b"miauflix" * (length // 8 + 1))[:length]
    pieces = b"".join(hashlib.sha1(content[o:o + piece_length]).digest()
                      for o in range(0, max(length, 1), piece_length))
    return bencode({"announce": "udp://tracker.invalid:1337/announce", "created by": "miauflix fixtures",
                    "info": {"name": name, "length": length, "piece length": piece_length, "pieces": pieces}})


def lookup_torrent(h: str):
    h = h.upper()
    with LOCK:
        entry = STATE["torrents"].get(h)
    if entry is not None:
        return entry
    if TORRENT_DIR is None or not TORRENT_DIR.is_dir():
        return None
    for path in sorted(TORRENT_DIR.glob("*.torrent")):
        try:
            stat = path.stat()
            key = (str(path), stat.st_mtime_ns, stat.st_size)
            with LOCK:
                known = STATE["dir_index"].get(key)
            if known is None:
                data = path.read_bytes()
                known = (info_hash(data), data)
                with LOCK:
                    STATE["dir_index"][key] = known
        except (OSError, ValueError):
            continue
        if known[0] == h:
            return known[1]
    return None


def torrage_token(h: str) -> str:
    """The decoded ttl torrage's download.php expects for a hash (its page shows it encoded)."""
    return base64.urlsafe_b64encode(hashlib.sha1(("torrage:" + h.upper()).encode()).digest()).decode().rstrip("=")


def caesar(text: str, shift: int) -> str:
    out = []
    for ch in text:
        if "a" <= ch <= "z":
            out.append(chr((ord(ch) - 97 + shift) % 26 + 97))
        elif "A" <= ch <= "Z":
            out.append(chr((ord(ch) - 65 + shift) % 26 + 65))
        else:
            out.append(ch)
    return "".join(out)


def torrage_encode(decoded: str) -> str:
    # decode(token) = reverse(caesar(token, -12))  =>  token = caesar(reverse(decoded), +12)
    return caesar(decoded[::-1], 12)


def torrage_decode(token: str) -> str:
    return caesar(token, -12)[::-1]


# ---------------------------------------------------------------- recorded answers

def folder_for(service):
    for pattern, folder in MIRROR_FOLDERS:
        if pattern.match(service):
            return folder
    return service


def fixture_path(method, raw_path):
    parts = urlsplit(raw_path)
    path = unquote(parts.path).lstrip("/")
    query = ""
    pairs = sorted(parse_qsl(parts.query, keep_blank_values=True))
    if pairs:
        query = "".join(f"-{k}-{'YYYY-MM-DD' if k in ('start_date', 'end_date') else v}" for k, v in pairs)
        for ch in '/\\?%*:|"<>':
            query = query.replace(ch, "_")
    prefix = "" if method == "GET" else method.lower() + "-"
    service, _, rest = path.partition("/")
    candidate = (ROOT / folder_for(service) / f"{prefix}{rest}{query}.json").resolve()
    if ROOT not in candidate.parents:
        return None
    return candidate


def replace_strings(value, fn):
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, list):
        return [replace_strings(v, fn) for v in value]
    if isinstance(value, dict):
        return {k: replace_strings(v, fn) for k, v in value.items()}
    return value


def distinct_hash(path, n, recorded):
    return hashlib.sha1(f"{path}#{n}#{recorded}".encode()).hexdigest().upper()


def transform_yts(data, mirror, host, path, unique, rewrite):
    movies = (((data or {}).get("data") or {}).get("movies")) if isinstance(data, dict) else None
    n = 0
    for movie in movies or []:
        for torrent in movie.get("torrents") or []:
            if unique and isinstance(torrent.get("hash"), str):
                old = torrent["hash"]
                torrent["hash"] = distinct_hash(path, n, old)
                if isinstance(torrent.get("url"), str) and torrent["url"].upper().endswith(old.upper()):
                    torrent["url"] = torrent["url"][:-len(old)] + torrent["hash"]
            n += 1
            if rewrite and isinstance(torrent.get("url"), str):
                last = torrent["url"].rstrip("/").rsplit("/", 1)[-1]
                torrent["url"] = f"http://{host}/{mirror}/torrent/download/{last}"
    return data


def transform_therarbg(data, path, unique):
    if not unique or not isinstance(data, dict):
        return data
    posts = data.get("trb_posts") if "trb_posts" in data else data.get("results")
    for n, post in enumerate(posts or []):
        for key in ("info_hash", "h"):
            if isinstance(post.get(key), str):
                post[key] = distinct_hash(path, n, post[key])
    return data


def apply_hash_map(data, hash_map):
    if not hash_map:
        return data
    pairs = [(re.compile(re.escape(k), re.I), v) for k, v in hash_map.items()]

    def fn(s):
        for pattern, new in pairs:
            s = pattern.sub(new, s)
        return s
    return replace_strings(data, fn)


def status_page(host, mirrors):
    links = []
    for m in mirrors:
        url = m if "://" in m else f"http://{host}/{m}"
        label = url.split("://", 1)[1]
        links.append(f'      <div class="service"><a href="{url}" target="_blank" rel="noopener">{label}</a>'
                     f' <span class="status status--up">Operational</span></div>')
    return f"""<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>YIFY Status - Official YTS domains status</title></head>
<body>
  <header><nav><a href="http://{host}/home">Home</a> <a href="https://yifystatus.invalid/faq">FAQ</a></nav></header>
  <main>
    <section class="serviceGroup">
      <div class="serviceGroup__header"><h2>Official YTS Domains</h2></div>
{chr(10).join(links)}
    </section>
    <section class="serviceGroup">
      <div class="serviceGroup__header"><h2>Fake / scam sites (do not use)</h2></div>
      <div class="service"><a href="http://{host}/fake-yts">fake-yts</a> <span class="status status--down">Fake</span></div>
    </section>
  </main>
  <footer><a href="http://{host}/about">yifystatus</a></footer>
</body>
</html>
"""


HTML_ERROR = b"""<!DOCTYPE html>
<html lang="en-US"><head><title>Just a moment...</title><meta http-equiv="refresh" content="360"></head>
<body><div class="main-wrapper"><h1>Checking if the site connection is secure</h1>
<p>Enable JavaScript and cookies to continue</p></div></body></html>
"""


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def finish(self):
        try:
            super().finish()
        except (OSError, ValueError):
            pass

    def send_bytes(self, status, body, content_type, headers=None):
        if self.log_entry is not None:
            self.log_entry["status"] = status
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            if k.lower() not in ("content-length", "content-type", "transfer-encoding", "content-encoding"):
                self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_json(self, status, body, headers=None):
        self.send_bytes(status, json.dumps(body).encode(), "application/json", headers)

    def send_html(self, status, body, headers=None):
        self.send_bytes(status, body if isinstance(body, bytes) else body.encode(), "text/html; charset=utf-8", headers)

    def send_torrent(self, data):
        self.send_bytes(200, data, "application/x-bittorrent",
                        {"Content-Disposition": 'attachment; filename="file.torrent"'})

    # ------------------------------------------------------------ control endpoints

    def control(self, body):
        if self.command == "GET":
            with LOCK:
                return self.send_json(200, {k: STATE[k] for k in ("faults", "targets", "yifystatus", "hash_map", "rewrite_urls")})
        request = json.loads(body or b"{}")
        with LOCK:
            if not request.get("merge"):
                STATE["faults"] = {k: v for k, v in request.items() if k in LEGACY_KEYS}
                STATE["targets"] = {}
                STATE["yifystatus"] = {}
                STATE["hash_map"] = {}
                STATE["rewrite_urls"] = True
            else:
                STATE["faults"].update({k: v for k, v in request.items() if k in LEGACY_KEYS})
            for name, spec in (request.get("targets") or {}).items():
                STATE["targets"][name] = {"mode": spec} if isinstance(spec, str) else dict(spec)
            if "yifystatus" in request:
                STATE["yifystatus"] = dict(request["yifystatus"] or {})
            STATE["hash_map"].update({k.upper(): v for k, v in (request.get("hash_map") or {}).items()})
            if "rewrite_urls" in request:
                STATE["rewrite_urls"] = bool(request["rewrite_urls"])
        return self.send_json(200, {"ok": True})

    def torrents(self, body):
        if self.command == "GET":
            with LOCK:
                return self.send_json(200, sorted(STATE["torrents"]))
        if self.command == "DELETE":
            with LOCK:
                STATE["torrents"].clear()
            return self.send_json(200, {"ok": True})
        query = dict(parse_qsl(urlsplit(self.path).query))
        answer = {}
        try:
            if (self.headers.get("Content-Type") or "").startswith("application/json"):
                spec = json.loads(body or b"{}")
                data = make_torrent(spec.get("name", "fixture.mkv"), int(spec.get("length", 65536)),
                                    int(spec.get("piece_length", 16384)))
                answer["torrent_b64"] = base64.b64encode(data).decode()
                query.setdefault("as", spec.get("as") or "")
            else:
                data = body
            h = info_hash(data)
        except (ValueError, TypeError) as e:
            return self.send_json(400, {"error": f"not a .torrent: {e}"})
        served_as = (query.get("as") or h).upper()
        if not HASH_RE.match(served_as):
            return self.send_json(400, {"error": "as must be 40 hex digits"})
        with LOCK:
            STATE["torrents"][served_as] = data
        answer.update({"hash": h, "as": served_as})
        return self.send_json(200, answer)

    # ------------------------------------------------------------ faults

    def target_fault(self, target):
        """The per-target control applying to this request (count decremented), or None."""
        with LOCK:
            spec = STATE["targets"].get(target)
            if spec is None:
                return None
            spec = dict(spec)
            if spec.get("mode", "ok") != "ok" and "count" in spec:
                if spec["count"] <= 0:
                    spec["mode"] = "ok"
                else:
                    STATE["targets"][target]["count"] -= 1
        return spec

    def reset_connection(self):
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.connection.close()

    # ------------------------------------------------------------ dispatch

    def handle_any(self):
        self.log_entry = None
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        route = urlsplit(self.path).path
        if route == "/__control" and self.command in ("POST", "GET"):
            return self.control(body)
        if route == "/__torrents":
            return self.torrents(body)
        if self.path == "/__requests":
            with LOCK:
                if self.command == "DELETE":
                    STATE["requests"].clear()
                return self.send_json(200, list(STATE["requests"]))
        target = unquote(route).lstrip("/").split("/", 1)[0]
        entry = {"method": self.command, "path": self.path, "authorization": self.headers.get("Authorization", ""),
                 "target": target, "service": folder_for(target), "fault": None, "status": None, "time": time.time(),
                 "body": body[:4096].decode("utf-8", "replace") if body else None}
        with LOCK:
            STATE["requests"].append(entry)
            faults = dict(STATE["faults"])
            applies = self.path.startswith(faults.get("prefix", "/"))
            if applies and faults.get("fail_count", 0) > 0:
                STATE["faults"]["fail_count"] -= 1
        self.log_entry = entry
        if applies and faults.get("latency_ms"):
            time.sleep(faults["latency_ms"] / 1000)
        if applies and faults.get("fail_count", 0) > 0:
            status = faults.get("fail_status", 500)
            headers = {"Retry-After": str(faults["retry_after"])} if "retry_after" in faults else {}
            entry["fault"] = "fail_count"
            return self.send_json(status, {"status_message": "injected failure"}, headers)

        spec = self.target_fault(target) or {}
        mode = spec.get("mode", "ok")
        if spec.get("latency_ms"):
            time.sleep(spec["latency_ms"] / 1000)
        if mode != "ok":
            entry["fault"] = mode
        if mode == "timeout":
            time.sleep(float(spec.get("seconds", 30)))
        elif mode == "error":
            headers = {"Retry-After": str(spec["retry_after"])} if "retry_after" in spec else {}
            return self.send_json(int(spec.get("status", 500)), {"status": "error", "status_message": "injected failure"}, headers)
        elif mode == "html":
            return self.send_html(int(spec.get("status", 200)), HTML_ERROR)
        elif mode == "malformed":
            return self.send_bytes(200, b'{"status": "ok", "data": {"movies": [{"id": ', "application/json")
        elif mode == "reset":
            return self.reset_connection()
        elif mode == "redirect":
            return self.send_bytes(302, b"", "text/html; charset=utf-8", {"Location": "/"})

        service = folder_for(target)
        rest = unquote(route).lstrip("/").partition("/")[2]
        if target == "yifystatus":
            mirrors = STATE["yifystatus"].get("mirrors")
            if mirrors is None:
                mirrors = YTS_MIRRORS + ["yts-a/"]
            return self.send_html(200, status_page(self.headers.get("Host", "127.0.0.1"), mirrors))
        if target in ("itorrents", "torrage") or (service == "yts" and rest.startswith("torrent/download/")):
            return self.serve_cache(target, rest, mode)
        if target == "tracker":
            return self.serve_tracker(rest, spec)

        path = fixture_path(self.command, self.path)
        if path is None or not path.is_file():
            return self.missing(service, target, rest)
        record = json.loads(path.read_text())
        if applies and faults.get("malformed"):
            entry["fault"] = "malformed"
            return self.send_bytes(200, b'{"id": ', "application/json")
        data = record.get("data")
        if service == "yts":
            with LOCK:
                rewrite = STATE["rewrite_urls"]
            data = transform_yts(data, target, self.headers.get("Host", "127.0.0.1"), route, spec.get("unique_hashes"), rewrite)
        elif service == "therarbg":
            data = transform_therarbg(data, route, spec.get("unique_hashes"))
        if service in ("yts", "therarbg"):
            with LOCK:
                hash_map = dict(STATE["hash_map"])
            data = apply_hash_map(data, hash_map)
        return self.send_json(record.get("status", 200), data, record.get("headers"))

    def missing(self, service, target, rest):
        if service == "yts" and rest == "api/v2/list_movies.json" and self.command == "GET":
            query = dict(parse_qsl(urlsplit(self.path).query))
            return self.send_json(200, {
                "status": "ok", "status_message": "Query was successful",
                "data": {"movie_count": 0, "limit": int(query.get("limit", 20) or 20),
                         "page_number": int(query.get("page", 1) or 1)},
                "@meta": {"server_time": int(time.time()), "server_timezone": "CET", "api_version": 2,
                          "execution_time": "0 ms"}}, {"Content-Type": "application/json; charset=utf-8"})
        if service == "therarbg" and rest.startswith("imdb-detail/"):
            if not rest.endswith("/"):
                query = urlsplit(self.path).query
                slash = fixture_path(self.command, f"/{target}/{rest}/" + (f"?{query}" if query else ""))
                if slash is not None and slash.is_file():
                    return self.send_bytes(301, b"", "text/html; charset=utf-8",
                                           {"Location": f"/{target}/{rest}/" + (f"?{query}" if query else "")})
            return self.send_bytes(302, b"", "text/html; charset=utf-8", {"Location": "/"})
        return self.send_json(404, {"success": False, "status_message": "no fixture for this request"})

    def serve_cache(self, target, rest, mode):
        query = dict(parse_qsl(urlsplit(self.path).query))
        requested = None
        page = None
        m = re.match(r"^torrent/([0-9A-Fa-f]{40})\.torrent$", rest)
        if m:
            requested = m.group(1)
        elif target != "itorrents" and target != "torrage":
            m = re.match(r"^torrent/download/([0-9A-Fa-f]{40})/?$", rest)
            requested = m.group(1) if m else None
        elif target == "torrage" and rest == "torrent.php":
            requested, page = query.get("h", ""), "landing"
        elif target == "torrage" and rest == "download.php":
            requested, page = query.get("h", ""), "download"
        if not requested or not HASH_RE.match(requested):
            return self.send_html(404, b"<html><body><h1>404 Not Found</h1></body></html>")
        if mode == "mismatch":
            data = make_torrent(f"mismatch-{requested.lower()}.mkv", 40000)  # its info-hash is not `requested`
        else:
            data = lookup_torrent(requested)
        if data is None:
            return self.send_html(404, b"<html><body><h1>Torrent not found</h1></body></html>")
        if page == "landing":
            token = torrage_encode(torrage_token(requested))
            return self.send_html(200, f"""<!DOCTYPE html><html><head><title>Torrage - {requested.upper()}</title></head>
<body><div id="torrent"><p>Preparing your download...</p>
<script>var h = "{requested.upper()}";
function go(t) {{ window.location = "/torrage/download.php?h=" + h + "&ttl=" + t; }}
getTTL("{token}"
);</script></div></body></html>
""")
        if page == "download" and query.get("ttl") != torrage_token(requested):
            return self.send_html(403, b"<html><body><h1>403 Forbidden: link expired</h1></body></html>")
        return self.send_torrent(data)

    def serve_tracker(self, rest, spec):
        """A BitTorrent HTTP tracker: scrape (BEP 48) and announce, bencoded, fixed counts."""
        pairs = (part.partition("=") for part in urlsplit(self.path).query.split("&") if part)
        hashes = [unquote_to_bytes(value) for key, _, value in pairs if key == "info_hash"]
        seeders, leechers = int(spec.get("seeders", 5)), int(spec.get("leechers", 2))
        if rest.startswith("scrape"):
            files = {h: {"complete": seeders, "incomplete": leechers, "downloaded": 0} for h in hashes if len(h) == 20}
            return self.send_bytes(200, bencode({"files": files}), "text/plain")
        if rest.startswith("announce"):
            return self.send_bytes(200, bencode({"interval": 1800, "complete": seeders, "incomplete": leechers, "peers": b""}),
                                   "text/plain")
        return self.send_bytes(404, bencode({"failure reason": "unknown tracker path"}), "text/plain")

    def handle_safely(self):
        try:
            self.handle_any()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test): nothing to answer

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = handle_safely


def main():
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
