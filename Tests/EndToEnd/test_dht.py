"""Reaching peers without trackers (issue 12): our engine's mainline DHT node (BEP 5) in a
small DHT of real libtorrent sessions on loopback (Tests/EndToEnd/dht_swarm.py), a
magnet-only source streamed with no tracker at all, libtorrent finding the peer we announced
and downloading from us, the routing table kept across a restart, hostile KRPC traffic, and
peer exchange (BEP 11) delivering a peer the tracker never announced."""
import hashlib
import os
import sqlite3
import tempfile
from pathlib import Path

import pytest
import requests

import dht_swarm
import swarm
from conftest import REPO, admin_stack, close_stack, wait_until
from test_streaming import Swarm, add_source, engine_torrents, stream, watch


@pytest.fixture(scope="module")
def media():
    return swarm.make_media(REPO / ".build" / "test-media")


@pytest.fixture(scope="module")
def net():
    network = dht_swarm.DHTNetwork(nodes=5)
    try:
        yield network
    finally:
        network.stop()


@pytest.fixture(scope="module")
def trackerless(net, media, tmp_path_factory):
    """A .torrent with no tracker at all, seeded by a libtorrent node of the DHT."""
    path = tmp_path_factory.mktemp("dht") / "media-dht.torrent"
    _, infohash = swarm.make_torrent(media, [], 64, path)
    seeder = net.add_seeder(path, media.parent)
    return {"path": path, "infohash": infohash, "seeder": seeder, "sha256": hashlib.sha256(media.read_bytes()).hexdigest()}


def start_stack(tmp, **env):
    return admin_stack(tmp, STREAM_START_TIMEOUT="30s", **env)


@pytest.fixture(scope="module")
def dht_stack(net):
    with tempfile.TemporaryDirectory(prefix="miauflix-e2e-dht-") as tmp:
        s = start_stack(tmp, **dht_swarm.dht_environment(net))
        try:
            yield s
        finally:
            close_stack(s)


def engine_log(stack):
    return (stack.data_dir / "logs/engine.log").read_text()


def test_our_node_answers_krpc_and_joins_the_libtorrent_dht(net, dht_stack):
    engine = dht_swarm.stack_dht_endpoint(dht_stack)
    assert dht_swarm.krpc_ping(engine)
    # It bootstrapped from two routers and libtorrent nodes keep it in their routing tables.
    assert net.nodes_knowing(engine, timeout=30), net.routing_table_sizes()
    with dht_swarm.KRPCClient(swarm.fresh_address()) as client:
        found = client.find_node(engine, os.urandom(20))
        assert found is not None and {address for _, address in found} & set(net.endpoints), \
            "our node hands out the libtorrent nodes it learned"


def test_a_magnet_with_no_tracker_streams_through_the_dht(net, trackerless, dht_stack):
    h = {"X-Session-Id": dht_stack.sid}
    magnet = swarm.magnet(trackerless["infohash"], [], name="movie.mp4")
    assert "tr=" not in magnet
    assert dht_stack.jar.get(dht_stack.url("/api/movies/680"), headers=h, verify=False, timeout=15).status_code == 200
    r = dht_stack.jar.post(dht_stack.url("/api/admin/movies/680/sources"), headers=h, verify=False, timeout=15, json={"magnet": magnet})
    assert r.status_code == 201 and r.json()["hasDataFile"] is False, r.text
    source = r.json()["id"]
    r = stream(dht_stack, watch(dht_stack, 680), timeout=90)
    assert r.status_code == 200 and hashlib.sha256(r.content).hexdigest() == trackerless["sha256"], engine_log(dht_stack)[-3000:]
    # The metadata came from the DHT's peer (BEP 9), was verified and stored encrypted.
    db = sqlite3.connect(dht_stack.data_dir / "miauflix.sqlite", timeout=10)
    assert wait_until(lambda: db.execute("SELECT file IS NOT NULL FROM movie_source WHERE id = ?", (source,)).fetchone()[0] == 1, 5)
    stored = db.execute("SELECT file FROM movie_source WHERE id = ?", (source,)).fetchone()[0]
    assert bytes.fromhex(trackerless["infohash"]) not in stored
    assert "magnet:" not in engine_log(dht_stack)

    def lookups():
        return [l for l in engine_log(dht_stack).splitlines() if "event=dht_lookup" in l and "kind=get_peers" in l and " peers=0 " not in l]
    # The lookup ends once its last unanswered queries time out (3 s).
    assert wait_until(lookups, 10), [l for l in engine_log(dht_stack).splitlines() if "dht" in l][-8:]


def test_libtorrent_finds_the_peer_we_announced_and_downloads_from_us(net, trackerless, dht_stack, tmp_path):
    engine = dht_swarm.stack_dht_endpoint(dht_stack)
    assert wait_until(lambda: any(t["progress"] == 1 for t in engine_torrents(dht_stack)), 30)
    # Our announce_peer (with a valid token) was accepted by libtorrent nodes ...
    assert net.wait_announced(trackerless["infohash"], engine, timeout=30), net.announces(trackerless["infohash"])
    # ... so a new libtorrent client's lookup finds us.
    assert engine in net.lookup(trackerless["infohash"], want=engine, via=net.probe())
    # With the libtorrent seeder gone, a DHT-only leecher given only the info-hash can get the
    # file from one peer only: us.
    trackerless["seeder"].stop()
    leecher = net.leecher(swarm.magnet(trackerless["infohash"], []), tmp_path / "leech")
    assert leecher.wait_complete(90), leecher.describe()
    assert leecher.sha256() == trackerless["sha256"]


def test_hostile_krpc_traffic_leaves_the_node_answering_and_memory_bounded(dht_stack):
    engine = dht_swarm.stack_dht_endpoint(dht_stack)
    pid = int((dht_stack.data_dir / "run/engine.pid").read_text())

    def rss_kib():
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])

    before = rss_kib()
    results = dht_swarm.hostile_krpc("127.0.0.1", int(dht_stack.env["CONTENT_PORT"]), flood=20000)
    after = rss_kib()
    # Malformed datagrams get no answer at all; the flood is answered only up to the limits.
    for category in ("malformed_bencode", "truncated", "deep_nesting", "huge_integers"):
        assert results[category]["responses"] == 0, (category, results[category])
    # Of the oversized ones only the 1.5 KB ping (a valid query with an extra key) is answered:
    # datagrams past 2 KiB are dropped unread.
    assert results["oversized"]["responses"] <= 1, results["oversized"]
    assert results["flood"]["replies"] < results["flood"]["sent"], results["flood"]
    assert after - before < 64 * 1024, f"RSS grew from {before} to {after} KiB"
    assert Path(f"/proc/{pid}").exists(), "the engine survived"
    assert dht_swarm.krpc_ping(engine), "a fresh address is still answered"
    h = requests.get(dht_stack.url("/api/stream/health"), verify=False, timeout=10)
    assert h.status_code == 200
    # Admins see it in the metrics: the table, the answered queries and what was dropped.
    text = dht_stack.jar.get(dht_stack.url("/api/metrics"), headers={"X-Session-Id": dht_stack.sid}, verify=False, timeout=10).text
    metrics = {line.split()[0]: float(line.split()[1]) for line in text.splitlines() if line.startswith("miauflix_dht")}
    assert metrics["miauflix_dht_nodes"] >= 2 and metrics["miauflix_dht_queries_answered_total"] >= 1, metrics
    assert metrics["miauflix_dht_datagrams_dropped_total"] >= results["malformed_bencode"]["sent"], metrics


def test_the_routing_table_survives_a_restart(net, dht_stack):
    dht_stack.stop()
    saved = dht_stack.data_dir / "dht.dat"
    assert saved.exists() and saved.stat().st_size > 26
    dht_stack.start()
    lines = [l for l in engine_log(dht_stack).splitlines() if "event=dht_listen" in l]
    assert len(lines) >= 2 and "nodes=0" not in lines[-1], lines
    r, sid = dht_stack.login(*dht_stack.admin, session=dht_stack.jar)
    dht_stack.sid = sid
    assert dht_swarm.krpc_ping(dht_swarm.stack_dht_endpoint(dht_stack))


def test_disable_discovery_turns_the_dht_off(net):
    with tempfile.TemporaryDirectory(prefix="miauflix-e2e-nodht-") as tmp:
        s = start_stack(tmp, **{**dht_swarm.dht_environment(net), "DISABLE_DISCOVERY": "true"})
        try:
            assert not dht_swarm.krpc_ping(dht_swarm.stack_dht_endpoint(s))
            assert "event=dht_listen" not in engine_log(s)
        finally:
            close_stack(s)


def test_peer_exchange_delivers_a_peer_the_tracker_never_announced(tmp_path):
    """Seeder B never announces anywhere. Leecher A is on the tracker and downloads slowly from
    B (so the two stay connected: two seeds would hang up on each other). Our engine finds only
    A through the tracker, learns B from A's ut_pex message, and once A is gone the stream
    completes from B."""
    sw = Swarm(tmp_path / "swarm")
    try:
        path, data, infohash = sw.torrent(64, seed=False)
        b = swarm.Seeder(path, sw.media.parent, swarm.fresh_address(), trackers=False)
        sw.peers.append(b)
        a = swarm.Leecher(path, tmp_path / "a", swarm.fresh_address(), peers=[b.endpoint], download_limit=30_000)
        sw.peers.append(a)
        with tempfile.TemporaryDirectory(prefix="miauflix-e2e-pex-") as tmp:
            s = start_stack(tmp, DISABLE_DISCOVERY="false", DHT_BOOTSTRAP_NODES="", CONTENT_BIND_ADDRESS="127.0.0.1",
                            CONTENT_PORT=swarm.free_port("127.0.0.1", udp=True))
            try:
                add_source(s, 680, data)
                key = watch(s, 680)
                # The tracker only ever knew A (and us): a second peer can only have come by PEX.
                assert wait_until(lambda: any(t["peers"] >= 2 for t in engine_torrents(s)), 60), engine_torrents(s)
                a.stop()
                r = stream(s, key, timeout=120)
                assert r.status_code == 200 and hashlib.sha256(r.content).hexdigest() == sw.sha256
            finally:
                close_stack(s)
    finally:
        sw.stop()
