"""Deployment for admins (issue 13): Let's Encrypt through certbot against pebble (Let's
Encrypt's test ACME server) on loopback, the production nginx configuration, the
docker-compose file and the systemd units."""
import configparser
import json
import os
import re
import shutil
import socket
import ssl
import struct
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest
import requests

from conftest import BIN, REPO, Stack, free_port, wait_until

NAME = "miauflix.test"


# --- pebble, a DNS answer for it, certbot --------------------------------------------------

class LoopbackDNS:
    """Answers every A query with 127.0.0.1 (and everything else with no records), so that
    pebble's validation of NAME reaches nginx on loopback."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.names = []
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                query, peer = self.sock.recvfrom(512)
            except OSError:
                return
            if len(query) < 12:
                continue
            i, labels = 12, []
            while i < len(query) and query[i]:
                labels.append(query[i + 1:i + 1 + query[i]].decode(errors="replace"))
                i += query[i] + 1
            qtype = struct.unpack("!H", query[i + 1:i + 3])[0]
            question = query[12:i + 5]
            self.names.append((".".join(labels), qtype))
            answers = b""
            if qtype == 1:
                answers = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + socket.inet_aton("127.0.0.1")
            header = query[:2] + struct.pack("!HHHHH", 0x8180, 1, 1 if answers else 0, 0, 0)
            self.sock.sendto(header + question + answers, peer)

    def close(self):
        self.sock.close()


class Pebble:
    def __init__(self, workdir, http_port, dns_port):
        self.dir = Path(workdir)
        self.port, self.mgmt_port, tls_port = free_port(), free_port(), free_port()
        # pebble's own HTTPS certificate (the Debian package ships none): a small CA.
        ca_key, ca, key, cert = (self.dir / n for n in ("ca.key", "ca.pem", "key.pem", "cert.pem"))
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=pebble test CA",
                        "-keyout", ca_key, "-out", ca], check=True, capture_output=True)
        csr = self.dir / "cert.csr"
        subprocess.run(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", key, "-out", csr],
                       check=True, capture_output=True)
        ext = self.dir / "ext.cnf"
        ext.write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
        subprocess.run(["openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-days", "2",
                        "-extfile", ext, "-out", cert], check=True, capture_output=True)
        self.ca = ca
        config = {"pebble": {
            "listenAddress": f"127.0.0.1:{self.port}", "managementListenAddress": f"127.0.0.1:{self.mgmt_port}",
            "certificate": str(cert), "privateKey": str(key), "httpPort": http_port, "tlsPort": tls_port,
            # Issued certificates name an OCSP responder (nothing answers there): the
            # rendered nginx.conf must then staple; a self-signed one must not.
            "ocspResponderURL": "http://127.0.0.1:9/ocsp", "externalAccountBindingRequired": False}}
        (self.dir / "pebble.json").write_text(json.dumps(config))
        env = dict(os.environ, PEBBLE_VA_NOSLEEP="1", PEBBLE_WFE_NONCEREJECT="0", PEBBLE_AUTHZREUSE="0")
        self.log = open(self.dir / "pebble.log", "w")
        self.proc = subprocess.Popen(["timeout", "600", shutil.which("pebble"), "-config", str(self.dir / "pebble.json"),
                                      "-dnsserver", f"127.0.0.1:{dns_port}"], env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.directory = f"https://127.0.0.1:{self.port}/dir"
        up = wait_until(lambda: self._up(), 20, interval=0.2)
        assert up, (self.dir / "pebble.log").read_text()

    def _up(self):
        try:
            return requests.get(self.directory, verify=str(self.ca), timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def root(self):
        """The root that signs pebble's issuing intermediate (new at every pebble start)."""
        r = requests.get(f"https://127.0.0.1:{self.mgmt_port}/roots/0", verify=str(self.ca), timeout=5)
        r.raise_for_status()
        path = self.dir / "root.pem"
        path.write_text(r.text)
        return path

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)
        self.log.close()


def served_certificate(port, root, name=NAME):
    """The certificate nginx serves for `name`, verified by a client that trusts only
    pebble's root: returns its serial number (hex)."""
    context = ssl.create_default_context(cafile=str(root))
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname=name) as tls:
            return tls.getpeercert()["serialNumber"]


class VerifiedLoop:
    """Requests /api/health over new verified TLS connections in several threads (each a
    full handshake, so every request sees whichever certificate nginx serves right now),
    recording every outcome and the serials seen."""

    def __init__(self, port, root, threads=4):
        self.port, self.root = port, root
        self.stop_flag = threading.Event()
        self.results, self.serials = [], set()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.loop, daemon=True) for _ in range(threads)]

    def loop(self):
        context = ssl.create_default_context(cafile=str(self.root))
        while not self.stop_flag.is_set():
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=10) as raw:
                    with context.wrap_socket(raw, server_hostname=NAME) as tls:
                        serial = tls.getpeercert()["serialNumber"]
                        tls.sendall(f"GET /api/health HTTP/1.1\r\nHost: {NAME}\r\nConnection: close\r\n\r\n".encode())
                        answer = b""
                        while chunk := tls.recv(65536):
                            answer += chunk
                outcome = int(answer.split(b" ", 2)[1])
            except (OSError, ValueError, IndexError) as error:
                outcome, serial = f"{type(error).__name__}: {error}", None
            with self.lock:
                self.results.append(outcome)
                if serial:
                    self.serials.add(serial)

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
            return [r for r in self.results if r != 200]


@pytest.fixture(scope="module")
def acme():
    if not shutil.which("pebble") or not shutil.which("certbot"):
        pytest.skip("pebble and certbot are needed (scripts/install-deps.sh test installs them)")
    with tempfile.TemporaryDirectory(prefix="miauflix-e2e-acme-") as tmp:
        os.chmod(tmp, 0o755)
        stack = Stack(Path(tmp) / "data", SERVER_NAME=NAME)
        dns = LoopbackDNS()
        pebble_dir = Path(tmp) / "pebble"
        pebble_dir.mkdir()
        pebble = None
        try:
            stack.start()
            pebble = Pebble(pebble_dir, stack.http_port, dns.port)
            env = dict(stack.env, DATA_DIR=str(stack.data_dir), CERTBOT_DIR=str(Path(tmp) / "certbot"),
                       ACME_SERVER=pebble.directory, REQUESTS_CA_BUNDLE=str(pebble.ca), DOMAINS=NAME)
            yield stack, pebble, env
        finally:
            stack.stop()
            if pebble:
                pebble.stop()
            dns.close()


def certbot_script(env, script, *args, timeout=120):
    return subprocess.run(["timeout", str(timeout), str(REPO / "certbot" / script), *args], env=env,
                          capture_output=True, text=True)


def test_lets_encrypt_issue_serve_and_renew_without_a_failed_request(acme):
    stack, pebble, env = acme
    # The stack starts with its self-signed certificate: no OCSP stapling configured.
    conf = stack.data_dir / "nginx/conf/nginx.conf"
    assert "ssl_stapling on" not in conf.read_text()

    issued = certbot_script(env, "obtain.sh")
    assert issued.returncode == 0, issued.stdout + issued.stderr
    assert "deploy-hook: installed" in issued.stdout + issued.stderr
    root = pebble.root()

    def verified():
        try:
            return served_certificate(stack.https_port, root)
        except ssl.SSLError:
            return None
    # The hook's reload is asynchronous (nginx starts new workers, old ones finish): wait.
    first = wait_until(verified, 10, interval=0.1)
    assert first, "nginx serves the issued chain"
    # A client trusting only pebble's root talks to the API through the issued chain.
    session = requests.Session()
    r = session.get(f"https://127.0.0.1:{stack.https_port}/api/health", verify=False, timeout=10)
    assert r.status_code == 200
    with pytest.raises(ssl.SSLError):
        served_certificate(stack.https_port, root, name="not-" + NAME)

    # A restart renders the CA-issued certificate with stapling (it names a responder).
    stack.start()
    assert "ssl_stapling on;" in conf.read_text()
    assert served_certificate(stack.https_port, root) == first

    # Forced renewal while requests keep coming: the deploy hook installs the new
    # certificate and reloads nginx; no request fails and the new serial is served.
    with VerifiedLoop(stack.https_port, root) as loop:
        time.sleep(1.0)
        renewed = certbot_script(env, "renew.sh", "--force-renewal", "--no-random-sleep-on-renew")
        changed = wait_until(lambda: served_certificate(stack.https_port, root) != first, 10, interval=0.1)
        time.sleep(1.0)
    assert renewed.returncode == 0, renewed.stdout + renewed.stderr
    assert changed, "nginx still serves the old certificate"
    second = served_certificate(stack.https_port, root)
    assert second != first
    assert len(loop.results) > 20, "the loop really ran"
    assert loop.failures() == [], loop.failures()[:5]
    assert {first, second} <= loop.serials, "requests ran before and after the reload"
    key = stack.data_dir / "tls/key.pem"
    assert oct(key.stat().st_mode & 0o777) == "0o600"


def test_deploy_hook_keeps_the_old_certificate_when_the_new_one_is_broken(acme, tmp_path):
    stack, _, env = acme
    before = (stack.data_dir / "tls/cert.pem").read_text()
    lineage = tmp_path / "live"
    lineage.mkdir()
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=x",
                    "-keyout", lineage / "other.pem", "-out", lineage / "fullchain.pem"], check=True, capture_output=True)
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-out", lineage / "privkey.pem"], check=True, capture_output=True)
    r = subprocess.run([str(REPO / "certbot/deploy-hook.sh"), str(stack.data_dir)],
                       env=dict(env, RENEWED_LINEAGE=str(lineage)), capture_output=True, text=True)
    assert r.returncode != 0 and "does not match" in r.stderr
    assert (stack.data_dir / "tls/cert.pem").read_text() == before
    assert stack.get("/api/health").status_code == 200


def test_self_signed_fallback_and_wizard(tmp_path):
    data = tmp_path / "data"
    env = dict(os.environ, DATA_DIR=str(data), SETUP_DOMAIN="", SETUP_MODE="self-signed")
    r = subprocess.run(["timeout", "60", str(REPO / "certbot/setup-ssl")], env=env, capture_output=True, text=True,
                       stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stdout + r.stderr
    text = subprocess.run(["openssl", "x509", "-in", data / "tls/cert.pem", "-noout", "-text"], capture_output=True,
                          text=True).stdout
    assert "DNS:localhost" in text and "IP Address:127.0.0.1" in text
    env.update(SETUP_DOMAIN="media.home.arpa", SETUP_SKIP_CHECKS="0")
    r = subprocess.run(["timeout", "60", str(REPO / "certbot/setup-ssl")], env=env, capture_output=True, text=True,
                       stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "does not resolve" in r.stdout, r.stdout
    text = subprocess.run(["openssl", "x509", "-in", data / "tls/cert.pem", "-noout", "-text"], capture_output=True,
                          text=True).stdout
    assert "DNS:media.home.arpa" in text
    assert oct((data / "tls/key.pem").stat().st_mode & 0o777) == "0o600"


# --- docker-compose.yml ---------------------------------------------------------------------

def stack_sh():
    return (REPO / "scripts/stack.sh").read_text()


@pytest.fixture(scope="module")
def compose(tmp_path_factory):
    yaml = pytest.importorskip("yaml")
    tool = shutil.which("docker-compose")
    env_file = tmp_path_factory.mktemp("compose") / "miauflix.env"
    env_file.write_text("TMDB_API_ACCESS_TOKEN=from-the-env-file\nNORDLYNX_PRIVATE_KEY=k\n")
    env = {k: v for k, v in os.environ.items() if k not in ("HTTP_PORT", "HTTPS_PORT", "DOMAINS")}
    env["MIAUFLIX_ENV_FILE"] = str(env_file)
    if tool:
        # Debian's docker-compose validates and resolves the file without a Docker engine.
        check = subprocess.run([tool, "-f", str(REPO / "docker-compose.yml"), "config", "-q"], env=env,
                               capture_output=True, text=True, timeout=60)
        assert check.returncode == 0, check.stderr
        resolved = subprocess.run([tool, "-f", str(REPO / "docker-compose.yml"), "config"], env=env,
                                  capture_output=True, text=True, timeout=60, check=True).stdout
        return yaml.safe_load(resolved)
    pytest.skip("docker-compose is not installed (scripts/install-deps.sh test installs it)")


def test_compose_services_run_what_make_run_starts(compose):
    services = compose["services"]
    assert set(services) == {"migrate", "api", "engine", "nginx", "certbot", "vpn"}
    script = stack_sh()
    # stack.sh: migrate, then `miauflix api` and `miauflix engine` (start_daemon NAME ARGS).
    assert '"$bin" migrate' in script and "start_daemon api api" in script and "start_daemon engine engine" in script
    assert services["migrate"]["command"] == ["miauflix", "migrate"]
    assert services["api"]["command"] == ["miauflix", "api"]
    assert services["engine"]["command"] == ["miauflix", "engine"]
    for name in ("api", "engine"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    # nginx: the same template rendered by the same script, the prefix stack.sh uses.
    nginx = " ".join(services["nginx"]["command"])
    assert "scripts/stack.sh render" in nginx
    assert 'prefix="$data/nginx"' in script
    assert "nginx -p /data/nginx -c /data/nginx/conf/nginx.conf" in nginx
    assert services["certbot"]["command"][0] == "certbot/renew.sh"
    for name in ("api", "engine", "nginx", "certbot"):
        assert services[name]["image"] == services["api"]["image"], "one image built from the Dockerfile"
        assert services[name]["environment"]["DATA_DIR"] == "/data"
        assert services[name]["environment"]["TMDB_API_ACCESS_TOKEN"] == "from-the-env-file", "secrets via the env file"
        assert "data:/data:rw" in services[name]["volumes"] or "data:/data" in services[name]["volumes"]


def test_compose_ports_match_the_rendered_nginx_configuration(compose, tmp_path):
    nginx = compose["services"]["nginx"]
    environment = nginx["environment"]
    # What `miauflix config shell` (and so stack.sh render) makes of the service's environment.
    env = {"PATH": os.environ["PATH"], **{k: str(v) for k, v in environment.items()}, "DATA_DIR": str(tmp_path / "data")}
    shell = subprocess.run([BIN, "config", "shell"], env=env, capture_output=True, text=True, timeout=30, check=True).stdout
    settings = dict(line.split("=", 1) for line in shell.splitlines())
    http, https = settings["MIAUFLIX_HTTP_PORT"].strip("'"), settings["MIAUFLIX_HTTPS_PORT"].strip("'")
    assert (http, https) == ("80", "443")
    published = set()
    for port in nginx["ports"]:
        if isinstance(port, dict):
            published.add((str(port["published"]), str(port["target"])))
        else:
            host, _, container = str(port).rpartition(":")
            published.add((host, container))
    assert published == {(http, http), (https, https)}, "container ports = published ports = nginx listen ports"
    for name in ("api", "engine", "nginx", "certbot", "vpn"):
        assert compose["services"][name]["restart"] == "unless-stopped", name
    for name in ("api", "engine", "nginx", "vpn"):
        assert compose["services"][name]["healthcheck"]["test"], name
    engine = compose["services"]["engine"]
    assert engine["network_mode"] == "service:vpn", "the engine's traffic goes through the VPN"
    assert "downloads:/downloads:rw" in engine["volumes"] or "downloads:/downloads" in engine["volumes"]
    assert engine["environment"]["DOWNLOAD_PATH"] == "/downloads"
    assert any(v.startswith("letsencrypt:/etc/letsencrypt") for v in compose["services"]["certbot"]["volumes"])
    assert "NET_ADMIN" in compose["services"]["vpn"]["cap_add"]
    assert set(compose["volumes"]) >= {"data", "downloads", "letsencrypt"}
    # The health checks use paths the configuration really has (DATA_DIR/run sockets).
    api_check = " ".join(compose["services"]["api"]["healthcheck"]["test"])
    assert "/data/run/api.sock" in api_check and "/data/run/engine.sock" in " ".join(engine["healthcheck"]["test"])
    default_sockets = subprocess.run([BIN, "config", "shell"], env={**env, "DATA_DIR": "/data"}, capture_output=True,
                                     text=True, timeout=30, check=True).stdout
    assert "MIAUFLIX_API_SOCKET='/data/run/api.sock'" in default_sockets
    assert "MIAUFLIX_ENGINE_SOCKET='/data/run/engine.sock'" in default_sockets


def test_dockerfile_builds_the_binary_onto_a_slim_runtime():
    text = (REPO / "Dockerfile").read_text()
    stages = re.findall(r"^FROM (\S+)(?: AS (\w+))?", text, re.M)
    assert len(stages) == 2 and stages[0][1] == "builder" and "slim" in stages[1][0]
    assert "swift build -c release --product miauflix" in text
    assert "COPY --from=builder" in text
    ignored = (REPO / ".dockerignore").read_text().split()
    assert ".build" in ignored and "data" in ignored and ".env" in ignored


# --- systemd --------------------------------------------------------------------------------

UNITS = REPO / "deploy/systemd"
HARDENING = {"ProtectSystem": "strict", "NoNewPrivileges": "yes", "PrivateTmp": "yes", "ProtectHome": "yes"}


def unit(name):
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read_string(re.sub(r"^(ExecReload|ExecStartPre)=", lambda m: f"{m.group(1)}{next(_counter)}=",
                              (UNITS / name).read_text(), flags=re.M))
    return parser


_counter = iter(range(10 ** 6))


@pytest.mark.parametrize("name", ["miauflix-api.service", "miauflix-engine.service", "miauflix-nginx.service"])
def test_systemd_units_are_hardened_and_run_a_dedicated_user(name):
    service = unit(name)["Service"]
    for key, value in HARDENING.items():
        assert service.get(key) == value, f"{name}: {key}"
    assert service["User"] == "miauflix" and service["Group"] == "miauflix"
    assert service["ReadWritePaths"] == "/var/lib/miauflix"
    if name == "miauflix-nginx.service":
        assert service["CapabilityBoundingSet"] == "CAP_NET_BIND_SERVICE"
    else:
        assert service["CapabilityBoundingSet"] == ""


def test_systemd_commands_match_the_cli_and_stack():
    api, engine, nginx = (unit(n)["Service"] for n in ("miauflix-api.service", "miauflix-engine.service", "miauflix-nginx.service"))
    assert api["ExecStart"] == "/usr/local/bin/miauflix api"
    assert engine["ExecStart"] == "/usr/local/bin/miauflix engine"
    assert "/usr/local/bin/miauflix migrate" in [v for k, v in api.items() if k.startswith("ExecStartPre")]
    # The subcommands exist in the CLI.
    usage = subprocess.run([BIN, "--help"], capture_output=True, text=True, timeout=30).stdout
    for command in ("api", "engine", "migrate"):
        assert re.search(rf"^\s+{command}\b", usage, re.M), f"`miauflix {command}` missing from --help:\n{usage}"
    # nginx: rendered by stack.sh render, run with the prefix stack.sh uses (DATA_DIR/nginx).
    assert "/opt/miauflix/scripts/stack.sh render" in [v for k, v in nginx.items() if k.startswith("ExecStartPre")]
    assert nginx["ExecStart"].split()[1:] == ["-p", "/var/lib/miauflix/nginx", "-c", "/var/lib/miauflix/nginx/conf/nginx.conf",
                                              "-e", "/var/lib/miauflix/logs/nginx-error.log"]
    assert nginx["PIDFile"] == "/var/lib/miauflix/nginx/nginx.pid"
    assert 'pid @PREFIX@/nginx.pid;' in (REPO / "nginx/nginx.conf.template").read_text()
    for service in (api, engine, nginx):
        assert "DATA_DIR=/var/lib/miauflix" in service["Environment"]


def test_systemd_analyze_verify(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        pytest.skip("systemd-analyze is not installed")
    # Point the units at this checkout's binary and scripts so the executables exist.
    for path in UNITS.iterdir():
        text = path.read_text().replace("/usr/local/bin/miauflix", BIN).replace("/opt/miauflix", str(REPO))
        (tmp_path / path.name).write_text(text)
    r = subprocess.run([analyze, "verify", "--man=no", *sorted(str(p) for p in tmp_path.iterdir())],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "miauflix" not in r.stdout + r.stderr, "no warning about our units: " + r.stdout + r.stderr
