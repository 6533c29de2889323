"""End-to-end harness: starts the real stack (nginx + miauflix api + miauflix engine) with
scripts/stack.sh on free loopback ports in a temporary DATA_DIR, and stops it by PID."""
import os
import re
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import requests
import urllib3

urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)

REPO = Path(__file__).resolve().parents[2]
BIN = str((REPO / os.environ.get("MIAUFLIX_BIN", ".build/debug/miauflix")).resolve())
STACK = str(REPO / "scripts/stack.sh")
ADMIN_LINE = re.compile(r"^Created initial admin user with email: (\S+) and password: (.+)$", re.M)


_handed_out = set()


def free_port():
    """A port free on 127.0.0.1 now and never handed out before in this run: two calls in a
    row may otherwise get the same port back from the kernel (a stack once got its HTTP and
    HTTPS ports equal, and nginx refused the configuration)."""
    for _ in range(100):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _handed_out:
            _handed_out.add(port)
            return port
    raise RuntimeError("no fresh free port")


class Stack:
    def __init__(self, data_dir, **env):
        self.data_dir = Path(data_dir)
        self.https_port = free_port()
        self.http_port = free_port()
        self.env = dict(os.environ)
        self.env.update({
            "MIAUFLIX_BIN": BIN,
            "DATA_DIR": str(self.data_dir),
            "HTTPS_PORT": str(self.https_port),
            "HTTP_PORT": str(self.http_port),
            "LISTEN_ADDRESS": "127.0.0.1",
            "API_WORKERS": "2",
            "API_THREADS": "4",
            "API_DRAIN_TIMEOUT": "5s",
            "RATE_LIMIT_TEST_MODE": "true",
            # nginx's coarse flood ceiling would otherwise throttle the test suite itself;
            # test_auth checks the default ceiling on a stack of its own.
            "AUTH_RATE_LIMIT": "1000",
            # The engine's peer port: free and on loopback (no stack shares 6881).
            "CONTENT_PORT": str(free_port()),
            "CONTENT_BIND_ADDRESS": "127.0.0.1",
            # The DHT's default routers are public hosts: tests never reach out. test_dht.py
            # turns discovery on with a loopback DHT of libtorrent nodes.
            "DISABLE_DISCOVERY": "true",
        })
        self.env.update({k: str(v) for k, v in env.items()})
        self.outputs = []
        self.admin = None

    def run_stack(self, command, timeout=120):
        result = subprocess.run(["timeout", str(timeout), STACK, command], env=self.env,
                                capture_output=True, text=True)
        return result

    def start(self):
        result = self.run_stack("start")
        self.outputs.append(result.stdout)
        assert result.returncode == 0, f"stack start failed:\n{result.stdout}\n{result.stderr}"
        found = ADMIN_LINE.search(result.stdout)
        if found:
            self.admin = (found.group(1), found.group(2))
        return result.stdout

    def stop(self):
        return self.run_stack("stop")

    def url(self, path):
        return f"https://127.0.0.1:{self.https_port}{path}"

    def get(self, path, **kwargs):
        kwargs.setdefault("timeout", 10)
        return requests.get(self.url(path), verify=False, **kwargs)

    def post(self, path, **kwargs):
        kwargs.setdefault("timeout", 10)
        return requests.post(self.url(path), verify=False, **kwargs)

    def request(self, method, path, **kwargs):
        kwargs.setdefault("timeout", 15)
        return requests.request(method, self.url(path), verify=False, **kwargs)

    def login(self, email, password, session=None, **kwargs):
        """Signs in; returns (response, session id or None). With a requests.Session the
        cookies stay in its jar (several profiles side by side)."""
        client = session or requests
        r = client.post(self.url("/api/auth/login"), json={"email": email, "password": password}, verify=False,
                        timeout=15, **kwargs)
        return r, (r.json().get("session") if r.status_code == 200 else None)

    def secrets(self):
        text = (self.data_dir / "secrets.env").read_text()
        return dict(line.split("=", 1) for line in text.splitlines() if "=" in line and not line.startswith("#"))

    def pid(self, name):
        return int((self.data_dir / "run" / f"{name}.pid").read_text().strip())

    def worker_pids(self):
        supervisor = self.pid("api")
        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == supervisor and fields[0] != "Z":
                children.append(int(stat.parent.name))
        return sorted(children)

    def miauflix(self, *args, input=None, extra_env=None, timeout=60):
        env = dict(self.env)
        env.update(extra_env or {})
        return subprocess.run(["timeout", str(timeout), BIN, *args], env=env, capture_output=True,
                              text=True, input=input)


def wait_until(predicate, timeout, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


@pytest.fixture(scope="module")
def stack():
    with tempfile.TemporaryDirectory(prefix="miauflix-e2e-") as tmp:
        os.chmod(tmp, 0o755)
        s = Stack(Path(tmp) / "data")
        try:
            s.start()
            yield s
        finally:
            s.stop()


class FixtureServer:
    """The recorded-upstream server (Tests/Fixtures/server.py) on a free loopback port."""

    def __init__(self):
        self.proc = subprocess.Popen(["timeout", "600", "python3", str(REPO / "Tests/Fixtures/server.py"),
                                      str(REPO / "Tests/Fixtures"), "0"], stdout=subprocess.PIPE, text=True)
        self.port = int(self.proc.stdout.readline().strip())
        self.base = f"http://127.0.0.1:{self.port}"

    def control(self, **faults):
        requests.post(self.base + "/__control", json=faults, timeout=5)

    def requests(self):
        return requests.get(self.base + "/__requests", timeout=5).json()

    def clear(self):
        requests.delete(self.base + "/__requests", timeout=5)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(5)


@pytest.fixture(scope="module")
def upstream():
    server = FixtureServer()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def catalog_stack(upstream):
    with tempfile.TemporaryDirectory(prefix="miauflix-e2e-catalog-") as tmp:
        os.chmod(tmp, 0o755)
        # Background jobs off (as the original e2e setup): tests run the jobs explicitly.
        s = Stack(Path(tmp) / "data", TMDB_API_URL=f"{upstream.base}/tmdb/3", TMDB_API_ACCESS_TOKEN="fixture-token",
                  TRAKT_API_URL=f"{upstream.base}/trakt", TRAKT_CLIENT_ID="fixture-client", TRAKT_CLIENT_SECRET="fixture-secret",
                  DISABLE_BACKGROUND_TASKS="true")
        try:
            s.start()
            yield s
        finally:
            s.stop()


def admin_stack(tmp, **env):
    """A started stack in `tmp` against a fresh TMDB fixture server, background jobs off
    unless `env` says otherwise, its admin signed in (.jar, .sid, .upstream). Stop it with
    close_stack()."""
    upstream = FixtureServer()
    os.chmod(tmp, 0o755)
    settings = {"TMDB_API_URL": f"{upstream.base}/tmdb/3", "TMDB_API_ACCESS_TOKEN": "fixture-token",
                "DISABLE_BACKGROUND_TASKS": "true", **env}
    s = Stack(Path(tmp) / "data", **settings)
    s.upstream = upstream
    try:
        s.start()
        jar = requests.Session()
        r, sid = s.login(*s.admin, session=jar)
        assert r.status_code == 200, r.text
    except BaseException:
        s.stop()
        upstream.stop()
        raise
    s.jar, s.sid = jar, sid
    return s


def close_stack(s):
    s.stop()
    s.upstream.stop()


def audit_until(jar, stack, sid, query, predicate, timeout=5):
    """Audit rows are written by each worker's batch writer (at most 200 ms late), and the
    query may land on another worker: poll until `predicate(body)` holds."""
    def fetch():
        body = jar.get(stack.url("/api/admin/audit?" + query), headers={"X-Session-Id": sid}, verify=False, timeout=10).json()
        return body if predicate(body) else None
    return wait_until(fetch, timeout, interval=0.1) or jar.get(
        stack.url("/api/admin/audit?" + query), headers={"X-Session-Id": sid}, verify=False, timeout=10).json()
