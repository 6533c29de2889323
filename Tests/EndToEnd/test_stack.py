"""The foundation, end to end through nginx over HTTPS (issue 2)."""
import json
import os
import re
import signal
import ssl
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest
import requests

from conftest import ADMIN_LINE, BIN, Stack, wait_until

HEX32 = re.compile(r"^[0-9a-f]{32}$")


def test_health_answers_json_with_a_request_id(stack):
    r = stack.get("/api/health")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.json() == {"status": "ok"}
    assert HEX32.match(r.headers["X-Request-ID"])
    ids = {stack.get("/api/health").headers["X-Request-ID"] for _ in range(5)}
    assert len(ids) == 5, "every request gets its own id"


def test_request_id_matches_the_nginx_access_log(stack):
    r = stack.get("/api/health")
    rid = r.headers["X-Request-ID"]
    log = stack.data_dir / "logs" / "access.log"
    assert wait_until(lambda: f"rid={rid}" in log.read_text(), 5), "the access log line carries the same id"
    line = next(l for l in log.read_text().splitlines() if f"rid={rid}" in l)
    assert 'uri="/api/health"' in line and "status=200" in line


def test_unknown_api_routes_are_404_json_never_the_spa(stack):
    for method in ("GET", "POST", "DELETE"):
        r = requests.request(method, stack.url("/api/no/such/route"), verify=False, timeout=10)
        assert r.status_code == 404, method
        assert r.headers["Content-Type"].startswith("application/json")
        assert r.json() == {"error": "Not found"}
        assert HEX32.match(r.headers["X-Request-ID"])
    # Strict trailing slash, as the original.
    assert stack.get("/api/health/").status_code == 404
    # Outside /api the SPA answers every path.
    page = stack.get("/some/client/route")
    assert page.status_code == 200 and '<main id="app"' in page.text


def test_wrong_method_on_a_known_route_is_405(stack):
    r = stack.post("/api/health", json={})
    assert r.status_code == 405
    assert r.json() == {"error": "Method not allowed"}
    assert "GET" in r.headers["Allow"]


def test_oversized_bodies_get_413_json(stack):
    # Over the API's 1 MiB limit: the API's own answer.
    r = stack.post("/api/health", data=b"x" * (1024 * 1024 + 10), headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    assert r.headers["Content-Type"].startswith("application/json")
    assert "too large" in r.json()["error"]
    assert HEX32.match(r.headers["X-Request-ID"])
    # Far over it: nginx stops it, still as JSON with an id.
    r = stack.post("/api/health", data=b"x" * (3 * 1024 * 1024), headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    assert "too large" in r.json()["error"]
    assert HEX32.match(r.headers["X-Request-ID"])
    # The pool is unharmed.
    assert stack.get("/api/health").status_code == 200


SECURITY_HEADERS = {
    "Strict-Transport-Security": lambda v: "max-age=31536000" in v,
    "Content-Security-Policy": lambda v: "script-src 'self'" in v and "object-src 'none'" in v,
    "X-Frame-Options": lambda v: v == "DENY",
    "X-Content-Type-Options": lambda v: v == "nosniff",
    "Referrer-Policy": lambda v: bool(v),
    "Permissions-Policy": lambda v: "camera=()" in v,
}


@pytest.mark.parametrize("path", ["/", "/index.html", "/app.js", "/api/health", "/api/nope", "/api/stream/health"])
def test_security_headers_everywhere(stack, path):
    r = stack.get(path)
    for name, check in SECURITY_HEADERS.items():
        assert name in r.headers, f"{name} missing on {path}"
        assert check(r.headers[name]), f"{name}: {r.headers[name]!r} on {path}"


def test_security_headers_on_nginx_generated_errors(stack):
    r = stack.post("/api/health", data=b"x" * (3 * 1024 * 1024))
    assert r.status_code == 413
    for name in SECURITY_HEADERS:
        assert name in r.headers, name


def test_http_redirects_to_https(stack):
    r = requests.get(f"http://127.0.0.1:{stack.http_port}/api/health?x=1", allow_redirects=False, timeout=10)
    assert r.status_code == 301
    assert r.headers["Location"] == f"https://127.0.0.1:{stack.https_port}/api/health?x=1"


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_tls_12_and_13(stack, version):
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.minimum_version = version
    context.maximum_version = version
    with socket.create_connection(("127.0.0.1", stack.https_port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as tls:
            assert tls.version() == {ssl.TLSVersion.TLSv1_2: "TLSv1.2", ssl.TLSVersion.TLSv1_3: "TLSv1.3"}[version]


def test_tls_11_refused(stack):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        context.set_ciphers("ALL:@SECLEVEL=0")
        context.minimum_version = ssl.TLSVersion.TLSv1_1
        context.maximum_version = ssl.TLSVersion.TLSv1_1
    except (ValueError, ssl.SSLError):
        pytest.skip("this OpenSSL cannot even offer TLS 1.1")
    with socket.create_connection(("127.0.0.1", stack.https_port), timeout=5) as raw:
        with pytest.raises(ssl.SSLError):
            context.wrap_socket(raw, server_hostname="localhost")


def test_frontend_is_served_as_es_modules(stack):
    page = stack.get("/")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-cache"
    assert '<script type="module" src="/js/main.js">' in page.text, "no inline scripts (CSP)"
    script = stack.get("/js/main.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["Content-Type"]
    assert "import" in script.text


def test_engine_answers_through_nginx(stack):
    r = stack.get("/api/stream/health")
    assert r.status_code == 200
    assert r.json()["status"] == "ok"
    assert HEX32.match(r.headers["X-Request-ID"])
    unknown = stack.get("/api/stream/does-not-exist/at-all")
    assert unknown.status_code == 404
    assert unknown.headers["Content-Type"].startswith("application/json")


def test_status_reports_services_and_engine(stack):
    assert stack.get("/api/status").status_code == 401, "status needs a session"
    jar = requests.Session()
    _, sid = stack.login(*stack.admin, session=jar)
    status = wait_until(lambda: (lambda s: s if s["services"]["DOWNLOAD"]["status"] == "ready" else None)(
        jar.get(stack.url("/api/status"), headers={"X-Session-Id": sid}, verify=False).json()), 10)
    assert status, "the engine's heartbeat makes DOWNLOAD ready"
    assert status["vpn"] == {"isVpnActive": False, "disabled": False}
    assert status["services"]["TMDB"] == {"status": "needs_configuration", "missingVars": ["TMDB_API_ACCESS_TOKEN"]}
    assert status["services"]["JWT"] == {"status": "ready"}


class RequestLoop:
    """Hammers /api/health from several threads, recording every outcome."""

    def __init__(self, stack, threads=8):
        self.stack = stack
        self.stop_flag = threading.Event()
        self.results = []
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.loop, daemon=True) for _ in range(threads)]

    def loop(self):
        session = requests.Session()
        while not self.stop_flag.is_set():
            try:
                code = session.get(self.stack.url("/api/health"), verify=False, timeout=10).status_code
            except requests.RequestException as error:
                code = type(error).__name__
            with self.lock:
                self.results.append(code)

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop_flag.set()
        for t in self.threads:
            t.join(15)

    def failures(self):
        with self.lock:
            return [c for c in self.results if c != 200]


def test_killed_worker_loses_at_most_its_in_flight_requests_and_is_replaced(stack):
    before = stack.worker_pids()
    assert len(before) == 2
    with RequestLoop(stack) as loop:
        time.sleep(1.0)
        victim = before[0]
        os.kill(victim, signal.SIGKILL)
        killed_at = time.monotonic()
        replaced = wait_until(lambda: (lambda p: p if len(p) == 2 and victim not in p else None)(stack.worker_pids()), 2.0)
        elapsed = time.monotonic() - killed_at
        time.sleep(1.0)
    assert replaced, f"pool not back to 2 workers within 2 s: {stack.worker_pids()}"
    assert elapsed < 2.0
    failures = loop.failures()
    assert len(loop.results) > 100, "the loop really ran"
    # At most the requests in flight on the victim: one per thread (API_THREADS=4).
    assert len(failures) <= 4, failures
    log = (stack.data_dir / "logs" / "api.log").read_text()
    assert f"event=worker_crash" in log and f"pid={victim}" in log


def test_sighup_replaces_workers_without_failing_requests(stack):
    before = stack.worker_pids()
    with RequestLoop(stack) as loop:
        time.sleep(0.5)
        os.kill(stack.pid("api"), signal.SIGHUP)
        swapped = wait_until(lambda: (lambda p: p if len(p) == 2 and not set(p) & set(before) else None)(stack.worker_pids()), 5.0)
        time.sleep(0.5)
    assert swapped, f"workers not replaced: before={before} now={stack.worker_pids()}"
    assert loop.failures() == [], loop.failures()
    assert len(loop.results) > 50
