"""The VPN kill switch (issue 11, first part): with VPN_INTERFACE set, the engine watches the
interface four times a second. A veth interface made here plays the tunnel: when it goes
down, the VPN-bound jobs pause, streams that need peers answer 503, /api/status says so and
VPN_DOWN is audited within a second or two; when it comes back everything resumes without a
restart. (The packet-level proof with network namespaces and a real swarm is still to come.)"""
import os
import subprocess
import tempfile
from pathlib import Path

import pytest
import requests

from conftest import Stack, audit_until, wait_until

IFACE = "mfvpn0"


def ip(*args, check=True):
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check)


@pytest.fixture(scope="module")
def tunnel():
    ip("link", "del", IFACE, check=False)
    # A veth pair plays the tunnel (its far end stays up, so the near end has carrier).
    made = ip("link", "add", IFACE, "type", "veth", "peer", "name", IFACE + "p", check=False)
    if made.returncode != 0:
        pytest.skip(f"cannot create a network interface here: {made.stderr.strip()}")
    ip("addr", "add", "10.201.0.1/32", "dev", IFACE)
    ip("link", "set", IFACE + "p", "up")
    ip("link", "set", IFACE, "up")
    try:
        yield IFACE
    finally:
        ip("link", "del", IFACE, check=False)


@pytest.fixture(scope="module")
def vpn_stack(tunnel):
    with tempfile.TemporaryDirectory(prefix="miauflix-e2e-vpn-") as tmp:
        os.chmod(tmp, 0o755)
        s = Stack(Path(tmp) / "data", VPN_INTERFACE=tunnel, DISABLE_BACKGROUND_TASKS="true")
        try:
            s.start()
            s.jar = requests.Session()
            _, s.sid = s.login(*s.admin, session=s.jar)
            yield s
        finally:
            s.stop()


def status(stack):
    r = stack.jar.get(stack.url("/api/status"), headers={"X-Session-Id": stack.sid}, verify=False, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def jobs(stack):
    r = stack.jar.get(stack.url("/api/admin/jobs"), headers={"X-Session-Id": stack.sid}, verify=False, timeout=10)
    assert r.status_code == 200, r.text
    return {j["name"]: j for j in r.json()}


def test_the_tunnel_up_lets_traffic_flow(vpn_stack):
    vpn = wait_until(lambda: (lambda v: v if v["isVpnActive"] else None)(status(vpn_stack)["vpn"]), 10)
    assert vpn and vpn["interface"] == IFACE and vpn["disabled"] is False and vpn["since"]
    assert status(vpn_stack)["services"]["VPN"]["status"] == "ready"
    assert jobs(vpn_stack)["stream-intents"]["paused"] is False


def test_the_tunnel_down_stops_torrent_traffic_and_it_resumes_by_itself(vpn_stack):
    s = vpn_stack
    ip("link", "set", IFACE, "down")
    try:
        down = wait_until(lambda: (lambda v: v if v["isVpnActive"] is False else None)(status(s)["vpn"]), 3, interval=0.1)
        assert down, "detected within a second or two"
        assert down["reason"] == "down"
        assert status(s)["services"]["VPN"]["status"] == "error"
        assert wait_until(lambda: jobs(s)["stream-intents"]["paused"], 3, interval=0.1), "VPN-bound jobs pause"
        assert jobs(s)["heartbeat"]["paused"] is False, "the others go on"
        rows = audit_until(s.jar, s, s.sid, "eventType=VPN_DOWN", lambda body: body["total"] >= 1)
        assert rows["items"][0]["severity"] == "CRITICAL" and rows["items"][0]["metadata"]["interface"] == IFACE
    finally:
        ip("link", "set", IFACE, "up")
    assert wait_until(lambda: status(s)["vpn"]["isVpnActive"], 3, interval=0.1), "back without a restart"
    assert wait_until(lambda: not jobs(s)["stream-intents"]["paused"], 3, interval=0.1)
    assert audit_until(s.jar, s, s.sid, "eventType=VPN_UP", lambda body: body["total"] >= 1)["total"] >= 1


def test_an_address_removed_counts_as_down(vpn_stack):
    s = vpn_stack
    ip("addr", "del", "10.201.0.1/32", "dev", IFACE)
    try:
        down = wait_until(lambda: (lambda v: v if v["isVpnActive"] is False else None)(status(s)["vpn"]), 3, interval=0.1)
        assert down and down["reason"] == "no-address"
    finally:
        ip("addr", "add", "10.201.0.1/32", "dev", IFACE)
    assert wait_until(lambda: status(s)["vpn"]["isVpnActive"], 3, interval=0.1)


def test_a_missing_interface_at_start_keeps_everything_closed(tunnel):
    with tempfile.TemporaryDirectory(prefix="miauflix-e2e-vpn-missing-") as tmp:
        os.chmod(tmp, 0o755)
        s = Stack(Path(tmp) / "data", VPN_INTERFACE="mfnope0", DISABLE_BACKGROUND_TASKS="true")
        try:
            s.start()
            s.jar = requests.Session()
            _, s.sid = s.login(*s.admin, session=s.jar)
            vpn = wait_until(lambda: (lambda v: v if v.get("reason") == "missing" else None)(status(s)["vpn"]), 10)
            assert vpn and vpn["isVpnActive"] is False
            assert jobs(s)["stream-intents"]["paused"] is True
        finally:
            s.stop()
