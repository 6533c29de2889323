"""The loopback DHT harness (dht_swarm.py) itself, with libtorrent only: a meshed network of
libtorrent DHT nodes, a seeder findable through the DHT alone, a fresh magnet leecher that
downloads through it, the raw KRPC client, and the hostile-KRPC sender against a libtorrent
node. Needs mktorrent, ffmpeg and libtorrent 2.1.1, not the Swift binary."""
import time
from pathlib import Path

import pytest

import dht_swarm
import swarm

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def media():
    return swarm.make_media(REPO / ".build" / "test-media")


@pytest.fixture(scope="module")
def torrent(media, tmp_path_factory):
    """(path, infohash) of a 64 KiB-piece torrent of the media with no tracker at all."""
    path = tmp_path_factory.mktemp("dht-torrents") / "media-dht-64k.torrent"
    _, infohash = swarm.make_torrent(media, [], 64, path)
    assert swarm.read_torrent(path)["trackers"] == []
    return path, infohash


@pytest.fixture(scope="module")
def net():
    network = dht_swarm.DHTNetwork(nodes=5)
    try:
        yield network
    finally:
        network.stop()


@pytest.fixture(scope="module")
def seeder(net, torrent, media):
    path, _ = torrent
    return net.add_seeder(path, media.parent)


def test_network_is_meshed_on_loopback(net):
    assert len(net.endpoints) == 5
    assert all(ep.startswith("127.") for ep in net.endpoints)
    assert len(set(ep.rpartition(":")[0] for ep in net.endpoints)) == 5, "one loopback address per node"
    sizes = {ep: n for ep, n in net.routing_table_sizes().items() if ep in net.endpoints}
    assert all(n >= 4 for n in sizes.values()), sizes
    # Every node answers raw KRPC, and find_node hands out the others (compact, 127.x).
    with dht_swarm.KRPCClient(swarm.fresh_address()) as client:
        for ep in net.endpoints:
            assert client.ping(ep) is not None, ep
        found = client.find_node(net.endpoints[0], bytes(20))
        assert found is not None and len(found) >= 4
        assert all(addr.startswith("127.") for _id, addr in found), found
    assert net.bootstrap_nodes(2) == ",".join(net.endpoints[:2])
    env = dht_swarm.dht_environment(net)
    assert env["DHT_BOOTSTRAP_NODES"] == net.bootstrap_nodes(2) and env["DISABLE_DISCOVERY"] == "false"
    assert env["CONTENT_BIND_ADDRESS"] == "127.0.0.1" and 0 < int(env["CONTENT_PORT"]) < 65536


def test_seeder_is_findable_through_the_dht_only(net, seeder, torrent):
    _, infohash = torrent
    assert seeder.find("added")[0]["trackers"] == []
    assert not seeder.find("announced"), "no tracker announce may happen"
    stored = net.stored_peers(infohash)
    assert sum(seeder.endpoint in (peers or []) for peers in stored.values()) >= 3, stored
    # A fresh node that knows only two bootstrap ("router") nodes finds it by info-hash.
    probe = net.probe()
    assert probe.get_peers(infohash, want=seeder.endpoint, timeout=15) >= {seeder.endpoint}
    assert net.wait_announced(infohash, seeder.endpoint, timeout=5)


def test_fresh_magnet_leecher_downloads_through_the_dht(net, seeder, torrent, media, tmp_path):
    _, infohash = torrent
    uri = swarm.magnet(infohash)  # info-hash only: no tr=, no dn=
    assert "tr=" not in uri
    t0 = time.monotonic()
    # Stopped with the network (a stopped node would linger in the others' routing tables).
    leecher = net.leecher(uri, tmp_path / "dl")
    assert leecher.wait_complete(45), leecher.describe()
    elapsed = time.monotonic() - t0
    assert leecher.find("added")[0]["trackers"] == []
    assert leecher.sha256() == swarm.sha256_file(media)
    assert leecher.hash_failures == 0
    assert set(leecher.peers_seen) == {seeder.endpoint}, leecher.peers_seen
    assert elapsed < 45
    # The leecher learned the non-bootstrap nodes from the routers' replies.
    live = set(leecher.live_nodes())
    assert live & set(net.endpoints[2:]), live


def test_libtorrent_finds_a_peer_announced_over_raw_krpc(net):
    """What a test of our engine's announce does: get a token with get_peers, announce_peer,
    then libtorrent (a fresh node's iterative lookup) must return that ip:port."""
    infohash = bytes.fromhex("5a" * 20)
    announcer = swarm.fresh_address()
    with dht_swarm.KRPCClient(announcer) as client:
        accepted = 0
        for ep in net.endpoints:
            reply = client.get_peers(ep, infohash)
            assert reply is not None and reply["token"], ep
            accepted += client.announce_peer(ep, infohash, 51413, reply["token"])
        assert accepted == len(net.endpoints)
    peer = f"{announcer}:51413"
    assert len(net.wait_announced(infohash, peer, timeout=5, count=len(net.endpoints))) == len(net.endpoints)
    assert net.lookup(infohash, want=peer, via=net.probe(), timeout=15) >= {peer}
    # A bad token is refused (libtorrent checks it against the sender's address).
    with dht_swarm.KRPCClient(swarm.fresh_address()) as client:
        assert not client.announce_peer(net.endpoints[0], infohash, 51414, b"bogus")


def test_nodes_learn_a_new_node_into_their_routing_tables(net):
    probe = net.probe(bootstrap=1)
    knowing = net.nodes_knowing(probe.endpoint, timeout=30, count=2)  # libtorrent pings new nodes on a 5 s tick
    assert len(knowing) >= 2, (knowing, net.routing_table_sizes())


def test_hostile_krpc_against_libtorrent(tmp_path):
    node = dht_swarm.DHTNode(swarm.fresh_address())
    try:
        host, port = node.address, node.port
        assert dht_swarm.krpc_ping(node.endpoint)
        t0 = time.monotonic()
        counts = dht_swarm.hostile_krpc(host, port, flood=20000)
        elapsed = time.monotonic() - t0
        print(f"hostile_krpc took {elapsed:.1f} s: {counts}")
        expected = {"malformed_bencode", "truncated", "oversized", "wrong_types", "unknown_query", "deep_nesting",
                    "huge_integers", "flood"}
        assert set(counts) == expected
        assert all(c["sent"] > 0 for c in counts.values()), counts
        assert counts["flood"]["sent"] >= 19000, counts["flood"]
        assert counts["flood"]["responses"] > 0, "libtorrent answered none of the valid queries"
        assert counts["oversized"]["sent"] >= 5  # 65 507-byte datagrams go through loopback
        assert node.proc.poll() is None, node.describe()
        assert dht_swarm.krpc_ping(node.endpoint), "libtorrent stopped answering after the hostile traffic"
        assert node.dht_stats()["running"]
        assert elapsed < 60
    finally:
        node.stop()
