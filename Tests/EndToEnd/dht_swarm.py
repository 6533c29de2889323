#!/usr/bin/env python3
"""A real mainline DHT (BEP 5) on loopback for the end-to-end tests, built from libtorrent
sessions in their own processes (Tests/EndToEnd/peers/lt_peer.py in DHT mode), plus a raw
KRPC client and a hostile-KRPC sender.

Parts:
  DHTNetwork(nodes=5)              N libtorrent DHT nodes, each on its own 127.A.B.C address,
                                   meshed with add_dht_node until every routing table holds
                                   every other node. No trackers, LSD, UPnP, NAT-PMP, uTP.
    .endpoints                     ["127.A.B.C:port", ...] of the bare nodes
    .bootstrap_nodes(count=2)      "h:p,h:p" for DHT_BOOTSTRAP_NODES (our engine) / --dht-bootstrap
    .add_seeder(torrent, content_dir)  a libtorrent seeder with DHT on (no trackers) that joins
                                   the mesh, announces, and is returned once a lookup finds it
    .leecher(magnet, dest, ...)    a fresh libtorrent leecher with DHT only, bootstrapped from
                                   the network like a new client
    .lookup(infohash, want=...)    peers a libtorrent node's iterative get_peers finds
    .stored_peers(infohash)        {node: [peers]} that each node itself stores (raw get_peers)
    .routing_table_sizes()         {node: routing-table size}
    .nodes_knowing(endpoint)       nodes whose routing table holds `endpoint` (e.g. our engine)
    .announces(infohash)           announce_peer messages the nodes accepted (ip, port, node)
  DHTNode / DHTSeeder / DHTLeecher lt_peer.py processes with a stdin control channel
  KRPCClient(source)               raw KRPC queries from one UDP socket (ping, find_node,
                                   get_peers, announce_peer)
  krpc_ping(endpoint)              one ping from a fresh address: True if answered
  hostile_krpc(host, port)         malformed/oversized/wrongly typed datagrams and a flood of
                                   valid queries; returns per-category sent/reply counts

  dht_environment(net)             env for conftest.Stack: DHT_BOOTSTRAP_NODES, DISABLE_DISCOVERY,
                                   CONTENT_BIND_ADDRESS, CONTENT_PORT (free for TCP and UDP)
  stack_dht_endpoint(stack)        "127.0.0.1:<CONTENT_PORT>" of that stack's engine

Everything binds to 127.0.0.0/8; every libtorrent process runs under `timeout`, is stopped
by PID and is IP-filtered to 127.0.0.0/8 (DHT traffic included); every wait has a deadline.
Why each libtorrent DHT setting is needed: lt_peer.dht_settings().

Testing our engine with it (issue 12), in a module with its own fixtures:

    net = DHTNetwork(nodes=5)                                  # module scope; net.stop() last
    _, infohash = swarm.make_torrent(media, [], 64, path)     # no trackers in the .torrent
    seeder = net.add_seeder(path, media.parent)               # findable through the DHT only
    stack = Stack(data_dir, **dht_environment(net))           # conftest.Stack, then .start()
    engine = stack_dht_endpoint(stack)                        # "127.0.0.1:<CONTENT_PORT>"
    assert krpc_ping(engine)                                  # KRPC on UDP at the peer port
    assert net.nodes_knowing(engine, timeout=30)              # libtorrent kept it in its table
    # finding: POST /api/admin/movies/:id/sources {"magnet": swarm.magnet(infohash)} (no tr=),
    #   stream it; the bytes can only have come from `seeder`.
    # announcing: once the engine has the torrent, libtorrent must find it:
    assert net.wait_announced(infohash, engine, timeout=30)   # its announce_peer got accepted
    assert engine in net.lookup(infohash, want=engine, via=net.probe())
    # DISABLE_DISCOVERY=true (Stack(..., **{**dht_environment(net), "DISABLE_DISCOVERY": "true"})):
    #   krpc_ping(engine) is False and nothing reaches net.announces().
    # hostility: hostile_krpc("127.0.0.1", port, flood=20000); then krpc_ping(engine) (a fresh
    #   source address, so a ban the flood earned does not count) and the stack still streams.

libtorrent 2.1 notes that shape this file:
  * nodes named in dht_bootstrap_nodes are "routers": asked during bootstrap, never kept in
    the routing table. So the mesh is built with add_dht_node (kept), and a client given
    bootstrap_nodes(count) learns the other nodes from the routers' replies.
  * libtorrent bans a source IP for 300 s once it sends 50 packets within 10 s
    (dht_block_ratelimit 5/s): hostile senders use their own 127.x addresses, never our
    engine's, and a liveness ping after a flood must come from a fresh address.
  * replies are capped by dht_upload_rate_limit (8000 B/s): a flood gets few answers.
"""
from __future__ import annotations

import itertools
import os
import random
import select
import socket
import time
from pathlib import Path

import swarm
from swarm import (DEFAULT_LIFETIME, Leecher, Seeder, _LtPeer, _live, bdecode, bencode, fresh_address,
                   read_torrent)


def _hex(infohash) -> str:
    if isinstance(infohash, (bytes, bytearray)):
        return bytes(infohash).hex()
    h = str(infohash).lower()
    if len(h) != 40:
        raise ValueError(f"not a hex v1 info-hash: {infohash!r}")
    return h


def _split(endpoint: str) -> tuple[str, int]:
    host, _, port = endpoint.rpartition(":")
    return host, int(port)


# ---------------------------------------------------------------------------------------------
# libtorrent processes with a control channel

class _Control:
    """Commands to lt_peer.py --control (see its docstring); mixed into _LtPeer subclasses."""

    _ids = itertools.count(1)

    def command(self, cmd: str, timeout: float = 5, **fields) -> dict | None:
        """Sends one command and returns its `reply` event (None on timeout)."""
        cid = next(self._ids)
        self.send({"cmd": cmd, "id": cid, **fields})
        return self.wait_event("reply", timeout, lambda e: e.get("id") == cid)

    def dht_stats(self, timeout: float = 5) -> dict:
        """{nodes, replacements, buckets, lookups, running, get_peers_in, announce_in, ...}."""
        reply = self.command("stats", timeout)
        if reply is None:
            raise RuntimeError(f"no dht stats from {self.endpoint}: {self.describe()}")
        return reply

    def routing_table_size(self, timeout: float = 5) -> int:
        return self.dht_stats(timeout)["nodes"]

    def live_nodes(self, timeout: float = 5) -> list[str]:
        """The "ip:port" of every node in this node's routing table."""
        reply = self.command("live_nodes", timeout)
        if reply is None or not reply.get("ok"):
            raise RuntimeError(f"no live nodes from {self.endpoint}: {reply} {self.describe()}")
        return reply["nodes"]

    def add_nodes(self, endpoints, timeout: float = 5):
        if self.command("add_nodes", timeout, nodes=list(endpoints)) is None:
            raise RuntimeError(f"add_nodes not answered by {self.endpoint}: {self.describe()}")

    def announce(self, infohash, port: int, timeout: float = 5):
        """dht_announce(infohash, port): this node announces a peer (itself, on `port`)."""
        if self.command("announce", timeout, infohash=_hex(infohash), port=int(port)) is None:
            raise RuntimeError(f"announce not answered by {self.endpoint}")

    def force_announce(self, timeout: float = 5) -> bool:
        reply = self.command("force_announce", timeout)
        return bool(reply and reply.get("ok"))

    def get_peers(self, infohash, want=(), timeout: float = 10, retry: float = 2.0, settle: float = 0.3) -> set[str]:
        """Runs libtorrent's iterative get_peers lookup (re-started every `retry` s) and returns
        the "ip:port" peers it found: as soon as every peer in `want` is among them, or, with
        no `want`, `settle` s after the first non-empty batch; whatever was found at `timeout`."""
        ih = _hex(infohash)
        want = {want} if isinstance(want, str) else set(want)
        found: set[str] = set()
        deadline = time.monotonic() + timeout
        first_hit = None
        with self._cond:
            seen = len(self.events)
        next_start = 0.0
        while True:
            now = time.monotonic()
            if now >= next_start:
                self.send({"cmd": "get_peers", "id": next(self._ids), "infohash": ih})
                next_start = now + retry
            with self._cond:
                self._cond.wait(0.05)
                fresh = self.events[seen:]
                seen = len(self.events)
            for e in fresh:
                if e.get("event") == "dht_peers" and e.get("infohash") == ih:
                    found.update(e["peers"])
            if found and first_hit is None:
                first_hit = time.monotonic()
            if want and want <= found:
                return found
            if not want and first_hit is not None and time.monotonic() - first_hit >= settle:
                return found
            if time.monotonic() >= deadline or self.proc.poll() is not None:
                return found

    def announces_in(self, infohash=None) -> list[dict]:
        """announce_peer messages this node accepted: [{ip, port, infohash}]."""
        ih = _hex(infohash) if infohash is not None else None
        return [e for e in self.find("dht_announce_in") if ih is None or e["infohash"] == ih]


class DHTNode(_Control, _LtPeer):
    """A bare libtorrent DHT node (lt_peer.py dht) on bind:port (port 0: any free one)."""

    def __init__(self, bind: str, nodes=(), bootstrap=(), port: int = 0, lifetime: int = DEFAULT_LIFETIME,
                 start_timeout: float = 30):
        args = ["dht", "--control"] + dht_args(nodes, bootstrap)
        if port:
            args += ["--port", str(port)]
        super().__init__(args, bind, lifetime, start_timeout, control=True)


class DHTSeeder(_Control, Seeder):
    """swarm.Seeder with the DHT on and no trackers; joins `nodes` with add_dht_node."""

    def __init__(self, torrent: Path, content_dir: Path, bind: str, nodes=(), bootstrap=(),
                 upload_limit: int | None = None, lifetime: int = DEFAULT_LIFETIME, start_timeout: float = 30):
        super().__init__(torrent, content_dir, bind, upload_limit=upload_limit, trackers=False, lifetime=lifetime,
                         start_timeout=start_timeout, extra_args=["--dht", "--control"] + dht_args(nodes, bootstrap),
                         control=True)
        self.infohash = read_torrent(torrent)["infohash"]


class DHTLeecher(_Control, Leecher):
    """swarm.Leecher with the DHT on: no trackers, no explicit peers. defer_add=True starts the
    session (and its DHT) at once but adds the torrent only on add() (for timing from a warm
    DHT). Events beyond Leecher's: dht_bootstrapped, first_block, first_piece, piece0."""

    def __init__(self, source, dest: Path, bind: str, nodes=(), bootstrap=(), sequential: bool = False,
                 defer_add: bool = False, lifetime: int = DEFAULT_LIFETIME, start_timeout: float = 30):
        extra = ["--dht", "--control"] + dht_args(nodes, bootstrap) + (["--defer-add"] if defer_add else [])
        super().__init__(source, dest, bind, trackers=False, sequential=sequential, lifetime=lifetime,
                         start_timeout=start_timeout, extra_args=extra, control=True)

    def add(self, timeout: float = 5) -> dict:
        """(defer_add) adds the torrent now; returns the `added` event (its "t" is the
        process clock every other event uses)."""
        reply = self.command("add", timeout)
        added = self.wait_event("added", timeout)
        if reply is None or not reply.get("ok") or added is None:
            raise RuntimeError(f"add failed: {reply} {self.describe()}")
        return added


def dht_args(nodes=(), bootstrap=()) -> list[str]:
    nodes = [nodes] if isinstance(nodes, str) else list(nodes)
    bootstrap = bootstrap.split(",") if isinstance(bootstrap, str) else list(bootstrap)
    bootstrap = [b.strip() for b in bootstrap if b.strip()]
    for ep in nodes + bootstrap:
        if not ep.startswith("127."):
            raise ValueError(f"DHT nodes must be on loopback, not {ep}")
    args = []
    for n in nodes:
        args += ["--dht-node", n]
    if bootstrap:
        args += ["--dht-bootstrap", ",".join(bootstrap)]
    return args


# ---------------------------------------------------------------------------------------------
# The network

class DHTNetwork:
    """N meshed libtorrent DHT nodes on loopback (see the module docstring). Use as a context
    manager or call stop(). The nodes learn every later member (seeders, leechers, probes, our
    engine) from its queries, as DHT nodes do. Members stay up until the network stops: a
    stopped node lingers as a dead entry in the others' routing tables, and a libtorrent
    traversal (an announce, for one) only completes once that entry timed out (seconds). The
    same goes for anything else that queried the nodes without "ro": 1 and went away."""

    def __init__(self, nodes: int = 5, lifetime: int = DEFAULT_LIFETIME, start_timeout: float = 30,
                 ready_timeout: float = 20):
        if nodes < 2:
            raise ValueError("a DHT network needs at least 2 nodes")
        self.lifetime = lifetime
        self.nodes: list[DHTNode] = []
        self.seeders: list[DHTSeeder] = []
        self.leechers: list[DHTLeecher] = []
        self.probes: list[DHTNode] = []
        _live.add(self)
        try:
            for _ in range(nodes):
                self.nodes.append(DHTNode(fresh_address(), lifetime=lifetime, start_timeout=start_timeout))
            for node in self.nodes:
                node.add_nodes([e for e in self.endpoints if e != node.endpoint])
            want = nodes - 1
            ready = swarm.wait_for(lambda: all(n.routing_table_size() >= want for n in self.nodes), ready_timeout, 0.1)
            if not ready:
                raise RuntimeError(f"DHT mesh not complete after {ready_timeout}s: {self.routing_table_sizes()}")
        except BaseException:
            self.stop()
            raise

    @property
    def endpoints(self) -> list[str]:
        """"127.A.B.C:port" of every bare node (DHT on UDP at that address and port)."""
        return [n.endpoint for n in self.nodes]

    @property
    def members(self) -> list:
        return self.nodes + self.seeders + self.leechers + self.probes

    def bootstrap_nodes(self, count: int | None = 2) -> str:
        """The first `count` node endpoints (all with None) as "h:p,h:p": the value for our
        engine's DHT_BOOTSTRAP_NODES. A client should get a few, not all: libtorrent never
        puts its bootstrap ("router") nodes in its routing table, and a client that learns the
        rest from the routers' replies exercises the real bootstrap path."""
        eps = self.endpoints if count is None else self.endpoints[:count]
        return ",".join(eps)

    def add_seeder(self, torrent: Path, content_dir: Path, bind: str | None = None, upload_limit: int | None = None,
                   findable_timeout: float = 20, start_timeout: float = 30) -> DHTSeeder:
        """A libtorrent seeder (DHT on, no trackers) meshed with every node; returns once a
        bare node's lookup finds it, so it is findable by info-hash through the DHT only."""
        seeder = DHTSeeder(torrent, content_dir, bind or fresh_address(), nodes=self.endpoints,
                           upload_limit=upload_limit, lifetime=self.lifetime, start_timeout=start_timeout)
        self.seeders.append(seeder)
        deadline = time.monotonic() + findable_timeout
        if not swarm.wait_for(lambda: seeder.routing_table_size() >= 1, findable_timeout, 0.1):
            raise RuntimeError(f"seeder joined no DHT node: {seeder.describe()}")
        while True:
            seeder.force_announce()
            remaining = deadline - time.monotonic()
            if self.lookup(seeder.infohash, want=seeder.endpoint, timeout=min(3.0, max(remaining, 0.1))) \
                    >= {seeder.endpoint}:
                return seeder
            if time.monotonic() >= deadline:
                raise RuntimeError(f"seeder {seeder.endpoint} not findable through the DHT after {findable_timeout}s: "
                                   f"stored={self.stored_peers(seeder.infohash)} {seeder.describe()}")

    def leecher(self, source, dest: Path, bind: str | None = None, bootstrap: int | None = 2,
                sequential: bool = False, defer_add: bool = False, start_timeout: float = 30) -> DHTLeecher:
        """A fresh libtorrent leecher with DHT only (no trackers, no explicit peers) whose only
        way in is dht_bootstrap_nodes = bootstrap_nodes(bootstrap)."""
        peer = DHTLeecher(source, dest, bind or fresh_address(), bootstrap=self.bootstrap_nodes(bootstrap),
                          sequential=sequential, defer_add=defer_add, lifetime=self.lifetime,
                          start_timeout=start_timeout)
        self.leechers.append(peer)
        return peer

    def probe(self, bootstrap: int | None = 2) -> DHTNode:
        """A fresh bare libtorrent node that knows the network only through its bootstrap
        ("router") nodes: what a new client sees. Stopped with the network."""
        node = DHTNode(fresh_address(), bootstrap=self.bootstrap_nodes(bootstrap), lifetime=self.lifetime)
        self.probes.append(node)
        return node

    def lookup(self, infohash, want=(), timeout: float = 15, via=None) -> set[str]:
        """The "ip:port" peers libtorrent's iterative get_peers lookup finds for infohash, run on
        `via` (a DHTNode; default the first bare node). See _Control.get_peers for want/timeout."""
        return (via or self.nodes[0]).get_peers(infohash, want=want, timeout=timeout)

    def stored_peers(self, infohash, timeout: float = 2) -> dict[str, list[str]]:
        """{node endpoint: peers it stores for infohash}, asked with one raw get_peers each (no
        lookup: what each node itself holds after announces)."""
        client = KRPCClient(fresh_address())
        try:
            out = {}
            for ep in [m.endpoint for m in self.nodes + self.seeders]:
                reply = client.get_peers(ep, bytes.fromhex(_hex(infohash)), timeout=timeout)
                out[ep] = reply["values"] if reply else None
            return out
        finally:
            client.close()

    def routing_table_sizes(self) -> dict[str, int]:
        sizes = {}
        for m in self.members:
            try:
                sizes[m.endpoint] = m.routing_table_size(timeout=3)
            except RuntimeError:
                sizes[m.endpoint] = None
        return sizes

    def nodes_knowing(self, endpoint: str, timeout: float = 0, count: int = 1) -> list[str]:
        """The bare nodes whose routing table holds `endpoint` ("ip:port", e.g. our engine's
        CONTENT_BIND_ADDRESS:CONTENT_PORT), waiting up to `timeout` s for at least `count` of
        them. libtorrent keeps a node only after it answered a query, so this proves the node
        at `endpoint` speaks KRPC well enough for libtorrent."""
        def knowing():
            found = [n.endpoint for n in self.nodes if endpoint in n.live_nodes()]
            return found if len(found) >= count else None
        return swarm.wait_for(knowing, timeout, 0.25) or [n.endpoint for n in self.nodes if endpoint in n.live_nodes()]

    def announces(self, infohash=None) -> list[dict]:
        """announce_peer messages the bare nodes and seeders accepted (token checked by
        libtorrent): [{ip, port, infohash, node}]."""
        return [dict(e, node=m.endpoint) for m in self.nodes + self.seeders for e in m.announces_in(infohash)]

    def wait_announced(self, infohash, peer: str, timeout: float = 30, count: int = 1) -> list[str]:
        """Nodes that accepted an announce_peer of `peer` ("ip:port") for infohash, waiting up
        to `timeout` s for at least `count` of them."""
        host, port = _split(peer)

        def nodes():
            return sorted({a["node"] for a in self.announces(infohash) if a["ip"] == host and a["port"] == port})
        return swarm.wait_for(lambda: len(nodes()) >= count, timeout, 0.1) and nodes() or nodes()

    def alive(self) -> bool:
        return all(m.proc.poll() is None for m in self.members)

    def stop(self):
        for m in reversed(self.members):
            try:
                m.stop()
            except Exception:
                pass
        _live.discard(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


# ---------------------------------------------------------------------------------------------
# Raw KRPC

def compact_nodes(blob: bytes) -> list[tuple[bytes, str]]:
    return [(blob[i:i + 20], f"{socket.inet_ntoa(blob[i + 20:i + 24])}:{int.from_bytes(blob[i + 24:i + 26], 'big')}")
            for i in range(0, len(blob) - 25, 26)]


def compact_peer(blob: bytes) -> str:
    return f"{socket.inet_ntoa(blob[:4])}:{int.from_bytes(blob[4:6], 'big')}"


class KRPCClient:
    """KRPC queries from one UDP socket on source:0 (a 127.x address), one at a time.

    read_only=True (default) marks every query "ro": 1 (BEP 43), so the nodes it talks to do
    not put this short-lived socket in their routing tables: a dead entry there would make
    every later traversal (announces included) wait for its timeout."""

    def __init__(self, source: str = "127.0.0.1", node_id: bytes | None = None, read_only: bool = True):
        if not source.startswith("127."):
            raise ValueError("source must be a 127.x.y.z address")
        self.read_only = read_only
        self.node_id = node_id or os.urandom(20)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((source, 0))
        self._tid = random.randrange(1 << 16)

    @property
    def address(self) -> str:
        host, port = self.sock.getsockname()
        return f"{host}:{port}"

    def query(self, endpoint: str, q: str, args: dict, timeout: float = 2.0) -> dict | None:
        """Sends one query; returns the decoded response ({b"y": b"r"|b"e", ...}) or None."""
        host, port = _split(endpoint)
        if not host.startswith("127."):
            raise ValueError("KRPC target must be a 127.x.y.z address")
        self._tid = (self._tid + 1) & 0xFFFF
        tid = self._tid.to_bytes(2, "big")
        message = {"t": tid, "y": "q", "q": q, "a": {"id": self.node_id, **args}}
        if self.read_only:
            message["ro"] = 1
        self.sock.sendto(bencode(message), (host, port))
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([self.sock], [], [], remaining)
            if not ready:
                break
            data, src = self.sock.recvfrom(65536)
            if src != (host, port):
                continue
            try:
                msg = bdecode(data)
            except (ValueError, IndexError, RecursionError):
                continue
            if isinstance(msg, dict) and msg.get(b"t") == tid:
                return msg
        return None

    def ping(self, endpoint: str, timeout: float = 2.0) -> bytes | None:
        """The node id the target answers with, or None."""
        msg = self.query(endpoint, "ping", {}, timeout)
        if msg and msg.get(b"y") == b"r":
            return msg.get(b"r", {}).get(b"id")
        return None

    def find_node(self, endpoint: str, target: bytes, timeout: float = 2.0) -> list[tuple[bytes, str]] | None:
        msg = self.query(endpoint, "find_node", {"target": target}, timeout)
        if msg and msg.get(b"y") == b"r":
            return compact_nodes(msg[b"r"].get(b"nodes", b""))
        return None

    def get_peers(self, endpoint: str, info_hash: bytes, timeout: float = 2.0) -> dict | None:
        """{"values": ["ip:port"], "nodes": [(id, "ip:port")], "token": bytes|None, "id": bytes}."""
        msg = self.query(endpoint, "get_peers", {"info_hash": info_hash}, timeout)
        if not msg or msg.get(b"y") != b"r":
            return None
        r = msg[b"r"]
        return {"values": [compact_peer(v) for v in r.get(b"values", []) if len(v) == 6],
                "nodes": compact_nodes(r.get(b"nodes", b"")), "token": r.get(b"token"), "id": r.get(b"id")}

    def announce_peer(self, endpoint: str, info_hash: bytes, port: int, token: bytes, implied_port: bool = False,
                      timeout: float = 2.0) -> bool:
        args = {"info_hash": info_hash, "port": port, "token": token}
        if implied_port:
            args["implied_port"] = 1
        msg = self.query(endpoint, "announce_peer", args, timeout)
        return bool(msg and msg.get(b"y") == b"r")

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def krpc_ping(endpoint: str, source: str | None = None, timeout: float = 2.0, attempts: int = 3) -> bool:
    """True if `endpoint` answers a KRPC ping, sent from `source` (default: a fresh 127.x
    address, so no rate limit or ban earned by earlier traffic applies)."""
    with KRPCClient(source or fresh_address()) as client:
        return any(client.ping(endpoint, timeout / attempts) is not None for _ in range(attempts))


# ---------------------------------------------------------------------------------------------
# Hostile KRPC

def _q(q, a, t=b"aa", y=b"q") -> dict:
    return {"t": t, "y": y, "q": q, "a": a}


def hostile_cases(rng: random.Random) -> dict[str, list[bytes]]:
    """Datagrams per category (everything but the flood)."""
    nid = lambda: bytes(rng.getrandbits(8) for _ in range(20))  # noqa: E731
    ih = nid
    ping = bencode(_q("ping", {"id": nid()}))
    get_peers = bencode(_q("get_peers", {"id": nid(), "info_hash": ih()}))
    find_node = bencode(_q("find_node", {"id": nid(), "target": nid()}))
    announce = bencode(_q("announce_peer", {"id": nid(), "info_hash": ih(), "port": 6881, "token": b"abcd"}))
    cases: dict[str, list[bytes]] = {}

    cases["malformed_bencode"] = [
        b"", b"d", b"e", b"de", b"le", b"i42e", b"4:spam", b"l", b"i", b"i-e", b"ie", b"i03e", b"i-0e", b"i1.5e",
        b"d1:t2:aa1:y1:q", b"d1:t2:aa1:y1:q1:q4:ping1:ad2:id20:", b"d1:ad2:id20:" + b"x" * 19,
        b"99999999999999999999:x", b"-1:x", b"4294967297:x", b"2:x", b"0x10:abcdefghijklmnop",
        b"d2:id20:" + b"a" * 20 + b"i1ei2ee", b"di1ei2ee", b"dle1:xe", b"ddee",
        b"d1:y1:q1:t2:aa1:q4:ping1:ad2:id20:" + b"a" * 20 + b"ee",  # keys out of order
        b"d1:t2:aa1:t2:bb1:y1:q1:q4:ping1:ad2:id20:" + b"a" * 20 + b"ee",  # duplicate key
        ping + b"trailing", ping[:-1] + b"x", b"\x00" * 64, b"\xff" * 512,
        bytes(rng.getrandbits(8) for _ in range(1400)),
        b"d" + b"1:a" * 2000 + b"e", b"d1:ad" * 500 + b"e" * 1000,
    ] + [bytes(rng.getrandbits(8) for _ in range(rng.randrange(1, 600))) for _ in range(40)]

    trunc = []
    for good in (ping, get_peers, find_node, announce):
        trunc += [good[:n] for n in range(0, len(good))]
    cases["truncated"] = trunc

    pad = lambda n: bencode(_q("ping", {"id": nid(), "pad": b"p" * n}))  # noqa: E731
    cases["oversized"] = [pad(1500), pad(9000), pad(32768), pad(65507 - 200),
                          bytes(rng.getrandbits(8) for _ in range(65507)), b"d1:ad2:id20:" + b"a" * 20 + b"e" + b"x" * 65000,
                          bencode(_q("find_node", {"id": nid(), "target": b"t" * 60000}))]

    wrong = []
    for bad_id in (b"", b"x" * 19, b"x" * 21, b"x" * 4096, 7, -1, [b"a" * 20], {b"id": b"a" * 20}):
        wrong.append(bencode(_q("ping", {"id": bad_id})))
        wrong.append(bencode(_q("get_peers", {"id": bad_id, "info_hash": ih()})))
    for bad_hash in (b"", b"h" * 19, b"h" * 21, b"h" * 40, 12345, [b"h" * 20], {b"x": 1}):
        wrong.append(bencode(_q("get_peers", {"id": nid(), "info_hash": bad_hash})))
        wrong.append(bencode(_q("announce_peer", {"id": nid(), "info_hash": bad_hash, "port": 6881, "token": b"t"})))
    for bad_target in (b"", b"t" * 19, b"t" * 21, 5, [b"t"]):
        wrong.append(bencode(_q("find_node", {"id": nid(), "target": bad_target})))
    for bad_port in (0, -1, 65536, 1 << 32, 1 << 70, -(1 << 70), b"6881", [6881]):
        wrong.append(bencode(_q("announce_peer", {"id": nid(), "info_hash": ih(), "port": bad_port, "token": b"tok"})))
        wrong.append(bencode(_q("announce_peer", {"id": nid(), "info_hash": ih(), "port": bad_port, "token": b"tok",
                                                  "implied_port": 1})))
    for bad_token in (b"", b"t" * 5000, 99, [b"t"]):
        wrong.append(bencode(_q("announce_peer", {"id": nid(), "info_hash": ih(), "port": 6881, "token": bad_token})))
    for implied in (2, -1, b"1", 1 << 64):
        wrong.append(bencode(_q("announce_peer", {"id": nid(), "info_hash": ih(), "port": 6881, "token": b"t",
                                                  "implied_port": implied})))
    wrong += [
        bencode({"t": b"aa", "y": b"q", "q": b"ping"}),  # no "a"
        bencode({"t": b"aa", "y": b"q", "q": b"ping", "a": [b"id"]}),  # "a" a list
        bencode({"t": b"aa", "y": b"q", "q": b"ping", "a": 5}),
        bencode({"t": b"aa", "y": b"q", "q": 5, "a": {"id": nid()}}),  # "q" an integer
        bencode({"t": b"aa", "y": b"q", "a": {"id": nid()}}),  # no "q"
        bencode({"y": b"q", "q": b"ping", "a": {"id": nid()}}),  # no "t"
        bencode({"t": 7, "y": b"q", "q": b"ping", "a": {"id": nid()}}),  # "t" an integer
        bencode({"t": b"", "y": b"q", "q": b"ping", "a": {"id": nid()}}),
        bencode({"t": b"T" * 1000, "y": b"q", "q": b"ping", "a": {"id": nid()}}),
        bencode({"t": b"aa", "q": b"ping", "a": {"id": nid()}}),  # no "y"
        bencode({"t": b"aa", "y": b"x", "q": b"ping", "a": {"id": nid()}}),  # unknown "y"
        bencode({"t": b"aa", "y": 1, "q": b"ping", "a": {"id": nid()}}),
        bencode([b"t", b"aa", b"y", b"q"]),  # a list, not a dict
        # unsolicited responses and errors (transaction ids we never issued)
        bencode({"t": b"zz", "y": b"r", "r": {"id": nid(), "nodes": b"\x00" * 25}}),
        bencode({"t": b"zz", "y": b"r", "r": {"id": nid(), "nodes": os.urandom(26 * 8)}}),
        bencode({"t": b"zz", "y": b"r", "r": {"id": nid(), "values": [b"\x7f\x00\x00\x01\x00"]}}),
        bencode({"t": b"zz", "y": b"r", "r": {"id": nid(), "values": b"notalist"}}),
        bencode({"t": b"zz", "y": b"r", "r": 5}),
        bencode({"t": b"zz", "y": b"e", "e": [201, b"Generic Error"]}),
        bencode({"t": b"zz", "y": b"e", "e": b"not a list"}),
        bencode({"t": b"zz", "y": b"e", "e": [1 << 80]}),
    ]
    cases["wrong_types"] = wrong

    cases["unknown_query"] = [bencode(_q(name, {"id": nid(), "target": nid(), "info_hash": ih()}))
                              for name in ("foo", "", "x" * 1000, "PING", "ping ", "get_peer", "vote", "pong",
                                           "announce", "find_nodes", "\x00", "sample_infohashes", "get", "put")] + \
        [bencode(_q("put", {"id": nid(), "v": b"x" * 1500, "token": b"t"})),
         bencode(_q("get", {"id": nid(), "target": b"short"})),
         bencode(_q("sample_infohashes", {"id": nid(), "target": 17}))]

    nested = []
    for depth in (64, 1000, 10000, 32000):
        nested.append(b"l" * depth + b"e" * depth)
        nested.append(b"l" * depth)  # never closed
        inner = b"l" * depth + b"e" * depth
        nested.append(b"d1:ad2:id20:" + b"n" * 20 + b"1:x" + inner + b"e1:q4:ping1:t2:aa1:y1:qe")
    nested.append(b"d1:ad" * 5000 + b"e" * 10000)
    cases["deep_nesting"] = nested

    huge = []
    for digits in (20, 100, 1000, 30000):
        big = b"i" + b"9" * digits + b"e"
        neg = b"i-" + b"9" * digits + b"e"
        huge.append(big)
        huge.append(b"d1:ad2:id20:" + b"n" * 20 + b"4:porti" + b"9" * digits + b"ee1:q4:ping1:t2:aa1:y1:qe")
        huge.append(b"d1:ad2:id20:" + b"n" * 20 + b"9:info_hash20:" + b"h" * 20 + b"4:port" + neg +
                    b"5:token2:tke1:q13:announce_peer1:t2:aa1:y1:qe")
        huge.append(b"d1:t" + big + b"1:y1:q1:q4:ping1:ad2:id20:" + b"n" * 20 + b"ee")
        huge.append(b"d1:ad2:id20:" + b"n" * 20 + b"e1:q4:ping1:t2:aa1:y1:q1:v" + big + b"e")
    huge.append(b"9" * 60000 + b":x")  # a string length that does not fit anything
    cases["huge_integers"] = huge
    return cases


def _drain(socks: list[socket.socket], counts: dict, seconds: float):
    """Reads replies from socks for `seconds`, counting datagrams, responses and errors."""
    deadline = time.monotonic() + seconds
    while (remaining := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select(socks, [], [], min(remaining, 0.05))
        for s in ready:
            while True:
                try:
                    data = s.recv(65536)
                except (BlockingIOError, InterruptedError):
                    break
                except OSError:  # ICMP port unreachable surfaces as ECONNREFUSED on the next call
                    counts["icmp_errors"] = counts.get("icmp_errors", 0) + 1
                    break
                counts["replies"] += 1
                try:
                    msg = bdecode(data)
                    y = msg.get(b"y") if isinstance(msg, dict) else None
                except (ValueError, IndexError, RecursionError):
                    y = None
                if y == b"r":
                    counts["responses"] += 1
                elif y == b"e":
                    counts["errors"] += 1
                else:
                    counts["garbage"] += 1


def _sockets(addresses: list[str], per_address: int) -> list[socket.socket]:
    socks = []
    for a in addresses:
        for _ in range(per_address):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
            s.bind((a, 0))
            s.setblocking(False)
            socks.append(s)
    return socks


def _send(sock: socket.socket, data: bytes, target) -> bool:
    for _ in range(200):
        try:
            sock.sendto(data, target)
            return True
        except (BlockingIOError, InterruptedError):
            time.sleep(0.001)
        except OSError:  # EMSGSIZE, or ECONNREFUSED left by an earlier ICMP error
            return False
    return False


def hostile_krpc(host: str, port: int, *, flood: int = 20000, flood_addresses: int = 16, flood_ports: int = 8,
                 flood_rate: float = 0, settle: float = 0.5, seed: int = 1, categories=None,
                 address_factory=fresh_address) -> dict:
    """Sends hostile KRPC traffic to host:port (a 127.x address) over raw UDP and counts what
    comes back. Categories: malformed_bencode, truncated (every prefix of valid queries),
    oversized (up to 65 507-byte datagrams), wrong_types (id/info_hash/target of the wrong
    length or type, port out of range, bad tokens, missing or mistyped t/y/q/a, unsolicited
    responses and errors), unknown_query, deep_nesting (lists nested up to 32 000 deep),
    huge_integers, and flood: `flood` valid ping/get_peers/find_node queries with random ids,
    info-hashes and transaction ids from flood_addresses x flood_ports sockets (flood_rate > 0:
    at most that many datagrams per second). Each category is sent from its own fresh
    127.x address (libtorrent bans an IP after 50 packets in 10 s; a shared one would mute
    the later categories). Returns {category: {sent, replies, responses, errors, garbage,
    seconds}}; replies = every datagram that came back. Does not check liveness: follow with
    krpc_ping(f"{host}:{port}") from a fresh address."""
    if not host.startswith("127."):
        raise ValueError("hostile traffic goes to loopback only")
    rng = random.Random(seed)
    target = (host, port)
    results = {}
    cases = hostile_cases(rng)
    wanted = categories or list(cases) + ["flood"]
    for name in wanted:
        t0 = time.monotonic()
        counts = {"sent": 0, "replies": 0, "responses": 0, "errors": 0, "garbage": 0}
        if name == "flood":
            socks = _sockets([address_factory() for _ in range(flood_addresses)], flood_ports)
            try:
                queries = (b"ping", b"get_peers", b"find_node")
                interval = 1.0 / flood_rate if flood_rate > 0 else 0
                next_drain = time.monotonic() + 0.02
                for i in range(flood):
                    q = queries[i % 3]
                    a = {b"id": rng.randbytes(20)}
                    if q == b"get_peers":
                        a[b"info_hash"] = rng.randbytes(20)
                    elif q == b"find_node":
                        a[b"target"] = rng.randbytes(20)
                    msg = bencode({b"t": rng.randbytes(4), b"y": b"q", b"q": q, b"a": a})
                    if _send(socks[i % len(socks)], msg, target):
                        counts["sent"] += 1
                    if interval:
                        time.sleep(interval)
                    if time.monotonic() >= next_drain:  # keep our receive buffers from overflowing
                        _drain(socks, counts, 0)
                        next_drain = time.monotonic() + 0.02
                _drain(socks, counts, settle)
            finally:
                for s in socks:
                    s.close()
        else:
            socks = _sockets([address_factory()], 1)
            try:
                for data in cases[name]:
                    if _send(socks[0], data, target):
                        counts["sent"] += 1
                    _drain(socks, counts, 0)
                _drain(socks, counts, settle)
            finally:
                socks[0].close()
        counts["seconds"] = round(time.monotonic() - t0, 3)
        results[name] = counts
    return results


def dht_environment(net: DHTNetwork, count: int | None = 2, bind: str = "127.0.0.1", port: int | None = None) -> dict:
    """The environment for our engine's stack (conftest.Stack(data_dir, **env)) that points
    its DHT at `net`: DHT_BOOTSTRAP_NODES = `count` of the nodes, DISABLE_DISCOVERY=false,
    CONTENT_BIND_ADDRESS=bind and CONTENT_PORT = a port free for TCP *and* UDP (conftest's
    own pick only checks TCP, and the DHT shares the peer port's number on UDP)."""
    return {"DHT_BOOTSTRAP_NODES": net.bootstrap_nodes(count), "DISABLE_DISCOVERY": "false",
            "CONTENT_BIND_ADDRESS": bind, "CONTENT_PORT": str(port or swarm.free_port(bind, udp=True))}


def stack_dht_endpoint(stack) -> str:
    """"CONTENT_BIND_ADDRESS:CONTENT_PORT" of a conftest.Stack: where its engine's DHT node
    listens (UDP) and the peer address it announces (TCP, same port number)."""
    return f"{stack.env['CONTENT_BIND_ADDRESS']}:{stack.env['CONTENT_PORT']}"


__all__ = ["DHTNetwork", "DHTNode", "DHTSeeder", "DHTLeecher", "KRPCClient", "krpc_ping", "hostile_krpc",
           "hostile_cases", "dht_environment", "stack_dht_endpoint", "compact_nodes", "compact_peer"]

