"""Peer encryption (MSE/PE, issue 12) against real clients: Transmission and libtorrent with
encryption *required* exchange a file with our engine in both directions; under `prefer` a
plain-only peer still serves us (fallback); under `require` a plain-only peer gets nothing.
DHT and PEX are off (DISABLE_DISCOVERY): peers come from the local opentracker only."""
import hashlib
import os
import tempfile
from pathlib import Path

import pytest
import requests

import swarm
from conftest import admin_stack, close_stack, free_port
from test_streaming import temporary_swarm, add_source, engine_torrents, stream, watch
from transmission_peer import TransmissionPeer


@pytest.fixture(scope="module")
def enc_swarm():
    yield from temporary_swarm("miauflix-enc-swarm-")


def make_stack(tmp, policy):
    # Transmission unchokes a new peer at its next 10-second rechoke.
    return admin_stack(tmp, CONTENT_PORT=free_port(), CONTENT_BIND_ADDRESS="127.0.0.1", STREAM_START_TIMEOUT="30s",
                       DISABLE_DISCOVERY="true", PEER_ENCRYPTION=policy)


def policy_stack(policy):
    with tempfile.TemporaryDirectory(prefix=f"miauflix-e2e-enc-{policy}-") as tmp:
        s = make_stack(tmp, policy)
        try:
            yield s
        finally:
            close_stack(s)


@pytest.fixture(scope="module")
def prefer_stack(enc_swarm):
    yield from policy_stack("prefer")


def engine_log(stack):
    lines = (stack.data_dir / "logs/engine.log").read_text().splitlines()
    return "\n".join(l for l in lines if "peer" in l or "mse" in l or "tracker" in l)[-3000:]


def engine_endpoint(stack):
    return f"127.0.0.1:{stack.env['CONTENT_PORT']}"


def test_a_transmission_seeder_requiring_encryption_streams_to_us(enc_swarm, prefer_stack):
    """Transmission with encryption required (-er) refuses every plain connection: whatever it
    serves us went through our MSE initiator and RC4."""
    path, data, infohash = enc_swarm.torrent(32, seed=False)
    seeder = TransmissionPeer(path, enc_swarm.media.parent, encryption="required")
    try:
        add_source(prefer_stack, 680, data)
        r = stream(prefer_stack, watch(prefer_stack, 680), timeout=90)
        assert r.status_code == 200 and hashlib.sha256(r.content).hexdigest() == enc_swarm.sha256, \
            seeder.log()[-1500:] + engine_log(prefer_stack)
    finally:
        seeder.stop()


def test_libtorrent_requiring_encryption_exchanges_the_file_with_us_both_ways(enc_swarm, prefer_stack):
    """A libtorrent seeder with encryption forced (RC4 only, both directions) serves us — our
    initiator; then a libtorrent leecher with encryption forced, allowed to talk to our engine
    only, downloads the whole file from us — our responder."""
    path, data, infohash = enc_swarm.torrent(128, seed=False)
    seeder = swarm.Seeder(path, enc_swarm.media.parent, swarm.fresh_address(), extra_args=("--encryption", "forced"))
    enc_swarm.peers.append(seeder)
    add_source(prefer_stack, 240, data)
    r = stream(prefer_stack, watch(prefer_stack, 240), timeout=90)
    assert r.status_code == 200 and hashlib.sha256(r.content).hexdigest() == enc_swarm.sha256, engine_log(prefer_stack)
    seeder.stop()
    with tempfile.TemporaryDirectory(prefix="miauflix-enc-leech-") as dest:
        leecher = swarm.Leecher(path, Path(dest), swarm.fresh_address(), peers=[engine_endpoint(prefer_stack)], only_peers=True,
                                extra_args=("--encryption", "forced"))
        try:
            assert leecher.wait_complete(60), leecher.describe()
            assert leecher.sha256() == enc_swarm.sha256
        finally:
            leecher.stop()


def test_under_prefer_a_peer_without_encryption_still_serves_us(enc_swarm, prefer_stack):
    """A plain-only libtorrent hangs up on our encrypted handshake; the next dial is plain."""
    path, data, infohash = enc_swarm.torrent(256, seed=False)
    seeder = swarm.Seeder(path, enc_swarm.media.parent, swarm.fresh_address(), extra_args=("--encryption", "disabled"))
    enc_swarm.peers.append(seeder)
    add_source(prefer_stack, 278, data)
    r = stream(prefer_stack, watch(prefer_stack, 278), timeout=90)
    assert r.status_code == 200 and hashlib.sha256(r.content).hexdigest() == enc_swarm.sha256, engine_log(prefer_stack)


@pytest.fixture(scope="module")
def require_stack(enc_swarm):
    yield from policy_stack("require")


def test_under_require_a_plain_peer_gets_nothing_and_an_encrypted_one_serves_us(enc_swarm, require_stack):
    path, data, infohash = enc_swarm.torrent(512, seed=False)
    plain = swarm.Seeder(path, enc_swarm.media.parent, swarm.fresh_address(), extra_args=("--encryption", "disabled"))
    enc_swarm.peers.append(plain)
    add_source(require_stack, 680, data)
    key = watch(require_stack, 680)
    # The only peer refuses encryption: no byte may come from it, and the stream cannot start.
    r = requests.get(require_stack.url(f"/api/stream/{key}"), headers={"Range": "bytes=0-1023"}, verify=False, timeout=45)
    assert r.status_code == 504, r.status_code
    torrents = [t for t in engine_torrents(require_stack) if t["infoHash"] == infohash]
    assert torrents and torrents[0]["downloaded"] == 0 and torrents[0]["peers"] == 0
    # A plain connection from that peer to us is refused as well.
    with tempfile.TemporaryDirectory(prefix="miauflix-enc-plain-") as dest:
        leecher = swarm.Leecher(path, Path(dest), swarm.fresh_address(), peers=[engine_endpoint(require_stack)], only_peers=True,
                                extra_args=("--encryption", "disabled"))
        try:
            assert not leecher.wait_complete(5)
        finally:
            leecher.stop()
    plain.stop()
    # An encrypted peer for the same torrent: the same key now plays.
    forced = swarm.Seeder(path, enc_swarm.media.parent, swarm.fresh_address(), extra_args=("--encryption", "forced"))
    enc_swarm.peers.append(forced)
    r = stream(require_stack, key, timeout=90)
    assert r.status_code == 200 and hashlib.sha256(r.content).hexdigest() == enc_swarm.sha256, engine_log(require_stack)


def test_a_hostile_encrypted_handshake_is_cut_off_without_harm(prefer_stack):
    """Random bytes where a DH key and the synchronisation hash should be: the engine answers
    with its own key, searches at most the 512-byte padding limit for the hash, then hangs up;
    it keeps serving."""
    import socket
    with socket.create_connection(("127.0.0.1", int(prefer_stack.env["CONTENT_PORT"])), timeout=10) as s:
        s.sendall(os.urandom(96 + 700))
        received = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            received += chunk
    assert 96 <= len(received) <= 96 + 512, "its public key and padding, then the close"
    assert requests.get(prefer_stack.url("/api/stream/health"), verify=False, timeout=10).status_code == 200
