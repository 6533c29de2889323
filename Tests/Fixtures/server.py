#!/usr/bin/env python3
"""Replays recorded upstream answers (TMDB, YTS, TheRARBG, Trakt) for tests and the demo.

A request `METHOD /<service>/<path>?<query>` maps to the file
`<root>/<service>/<prefix><path><query>.json` (prefix `post-` etc. for non-GET; query keys
sorted and written `-k1-v1-k2-v2`, `start_date`/`end_date` values as `YYYY-MM-DD`, and
`/ \\ ? % * : | " < >` in the query part replaced by `_`). Each file is
`{"headers": {...}, "status": N, "data": ...}`. Unknown files answer 404.

Fault injection for tests: `POST /__control` with a JSON object
  {"latency_ms": N, "fail_status": 500|429, "fail_count": K, "retry_after": S, "prefix": "/tmdb/", "malformed": true}
applies to requests whose path starts with `prefix`; `GET /__requests` lists the requests
served (method, path) and `DELETE /__requests` clears the list.

Usage: server.py ROOT [PORT]  (port 0 picks a free one; the chosen port is printed).
"""
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

ROOT = Path(sys.argv[1]).resolve()
LOCK = threading.Lock()
STATE = {"faults": {}, "requests": []}


def fixture_path(method, raw_path):
    parts = urlsplit(raw_path)
    path = parts.path.lstrip("/")
    query = ""
    pairs = sorted(parse_qsl(parts.query, keep_blank_values=True))
    if pairs:
        query = "".join(f"-{k}-{'YYYY-MM-DD' if k in ('start_date', 'end_date') else v}" for k, v in pairs)
        for ch in '/\\?%*:|"<>':
            query = query.replace(ch, "_")
    prefix = "" if method == "GET" else method.lower() + "-"
    service, _, rest = path.partition("/")
    candidate = (ROOT / service / f"{prefix}{rest}{query}.json").resolve()
    if ROOT not in candidate.parents:
        return None
    return candidate


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send_json(self, status, body, headers=None):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            if k.lower() not in ("content-length", "content-type", "transfer-encoding", "content-encoding"):
                self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.path == "/__control" and self.command == "POST":
            with LOCK:
                STATE["faults"] = json.loads(body or b"{}")
            return self.send_json(200, {"ok": True})
        if self.path == "/__requests":
            with LOCK:
                if self.command == "DELETE":
                    STATE["requests"].clear()
                return self.send_json(200, list(STATE["requests"]))
        with LOCK:
            STATE["requests"].append({"method": self.command, "path": self.path,
                                      "authorization": self.headers.get("Authorization", "")})
            faults = dict(STATE["faults"])
            applies = self.path.startswith(faults.get("prefix", "/"))
            if applies and faults.get("fail_count", 0) > 0:
                STATE["faults"]["fail_count"] -= 1
        if applies and faults.get("latency_ms"):
            time.sleep(faults["latency_ms"] / 1000)
        if applies and faults.get("fail_count", 0) > 0:
            status = faults.get("fail_status", 500)
            headers = {"Retry-After": str(faults["retry_after"])} if "retry_after" in faults else {}
            return self.send_json(status, {"status_message": "injected failure"}, headers)
        path = fixture_path(self.command, self.path)
        if path is None or not path.is_file():
            return self.send_json(404, {"success": False, "status_message": "no fixture for this request"})
        record = json.loads(path.read_text())
        if applies and faults.get("malformed"):
            data = b'{"id": '
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            return self.wfile.write(data)
        return self.send_json(record.get("status", 200), record.get("data"), record.get("headers"))

    def handle_safely(self):
        try:
            self.handle_any()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test): nothing to answer

    do_GET = do_POST = do_PUT = do_DELETE = handle_safely


def main():
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
