#!/usr/bin/env python3
"""A loopback-only libtorrent peer for the end-to-end swarm harness (Tests/EndToEnd/swarm.py).

    lt_peer.py seed  --torrent T --save DIR --bind 127.0.0.X [--upload-limit B/s] [--no-trackers]
    lt_peer.py leech (--torrent T | --magnet URI) --save DIR --bind 127.0.0.X
                     [--peer HOST:PORT]... [--no-trackers] [--only-peers] [--sequential]
                     [--download-limit B/s] [--upload-limit B/s]
    lt_peer.py dht   --bind 127.0.0.X            (a bare DHT node: no torrent)
  DHT options (seed/leech/dht): [--dht] [--dht-bootstrap H:P,H:P] [--dht-node H:P]... [--control]
                                [--port N] [--defer-add]

Every feature that could reach past loopback (DHT, LSD, UPnP, NAT-PMP, the IP notifier, uTP)
is off in the settings the session is *created* with, and the session listens on BIND:PORT
(PORT 0 unless --port) and connects out from BIND only. Prints one JSON object per line on
stdout (flushed) and runs until SIGTERM/SIGINT. Events: listening, added, metadata, checked,
announced, tracker_error, seeding, progress, first_block, first_piece, piece0, hash_failed,
peer_banned, peer_disconnected, complete, stopped, error.

DHT mode (`dht`, or `--dht` with seed/leech; see Tests/EndToEnd/dht_swarm.py): a mainline DHT
node on BIND:PORT/udp (libtorrent puts the DHT on the UDP socket of its listen port), fenced
to 127.0.0.0/8 by an IP filter that also applies to DHT traffic. --dht-bootstrap sets
dht_bootstrap_nodes (libtorrent's "router" nodes: asked first, never put in its routing table);
--dht-node adds ordinary nodes (add_dht_node: pinged, then kept in the routing table). The
settings that make a DHT work on loopback are in dht_settings() below. Extra events:
dht_bootstrapped, dht_announce_in (an announce_peer this node accepted: ip, port, infohash),
dht_peers (a get_peers lookup's reply batch: infohash, peers), reply (to a --control command).
With the DHT on, seed/leech add their torrent only once the DHT knows a node (see main()).
--control: commands, one JSON object per line on stdin, each answered by a `reply` event with
the same "id": {"cmd": "add_nodes", "nodes": ["h:p", ...]}, {"cmd": "stats"} (reply carries
the routing-table figures), {"cmd": "live_nodes"} (the routing table's nodes, "ip:port"),
{"cmd": "get_peers", "infohash": HEX} (starts a lookup; its results arrive as dht_peers
events), {"cmd": "announce", "infohash": HEX, "port": N} (dht_announce of an arbitrary peer),
{"cmd": "force_announce"} (the torrent's DHT announce now), {"cmd": "add"} (with --defer-add:
add the torrent now; the session, and its DHT, started at launch).
"""
import argparse
import json
import queue
import signal
import sys
import threading
import time

import libtorrent as lt


def emit(event, **fields):
    fields["event"] = event
    fields["t"] = round(time.monotonic() - STARTED, 4)
    print(json.dumps(fields), flush=True)


STARTED = time.monotonic()
stopping = False


def on_signal(signum, _frame):
    global stopping
    stopping = True


def endpoint(ep):
    return f"{ep[0]}:{ep[1]}"


def dht_settings(bootstrap=""):
    """What a libtorrent 2.1 DHT node needs to work among nodes that all sit on 127.0.0.0/8.

    dht_restrict_routing_ips=False is the one that is required: with the default (True) a
    routing-table bucket takes one node per /24 (IPv4), so each node keeps a single 127.x.y.*
    entry however many nodes run (measured: tables stuck at 1 of 4, the mesh never forms).
    The others were not required among libtorrent nodes in our runs; they are set so that
    nothing but the protocol decides whether libtorrent keeps and uses our engine:
    dht_restrict_search_ips=False lifts the same /24 rule from lookups (one node per /24 in a
    traversal); dht_prefer_verified_node_ids=False and dht_enforce_node_id=False (the default)
    keep a node whose id is not BEP 42-derived from its IP in play (libtorrent exempts local
    addresses from that check anyway); dht_ignore_dark_internet=False (127/8 is not on its
    list, so this is for clarity). dht_bootstrap_nodes replaces the default
    dht.libtorrent.org:25401 ("" = no router at all)."""
    return {
        "enable_dht": True,
        "dht_bootstrap_nodes": bootstrap,
        "dht_restrict_routing_ips": False,
        "dht_restrict_search_ips": False,
        "dht_prefer_verified_node_ids": False,
        "dht_enforce_node_id": False,
        "dht_ignore_dark_internet": False,
        "apply_filter_to_dht": True,  # the loopback fence below covers DHT traffic too
    }


def make_session(args):
    dht = getattr(args, "dht", False)  # bench/lt_bench_peer.py passes a namespace without it
    mask = (lt.alert_category.error | lt.alert_category.status | lt.alert_category.tracker
            | lt.alert_category.peer | lt.alert_category.storage | lt.alert_category.connect
            | lt.alert_category.performance_warning)
    if args.mode == "leech":
        mask |= lt.alert_category.block_progress  # block_finished_alert: who sent each block
        mask |= lt.alert_category.piece_progress  # piece_finished_alert: first_piece, piece0
    if dht:
        mask |= lt.alert_category.dht | lt.alert_category.dht_operation | lt.alert_category.stats
    settings = {
        "listen_interfaces": f"{args.bind}:{getattr(args, 'port', 0) or 0}",
        "outgoing_interfaces": args.bind,
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "enable_ip_notifier": False,
        "dht_bootstrap_nodes": "",
        "enable_outgoing_utp": False,
        "enable_incoming_utp": False,
        "allow_multiple_connections_per_ip": True,
        "announce_to_all_tiers": True,
        "announce_to_all_trackers": True,
        "stop_tracker_timeout": 1,
        # The default 500 ms tick delays connect_peer() and the first rate-limited bytes by
        # ticks (~0.5 s and ~1.5 s); 100 ms makes a loopback swarm start faster and limits
        # more even.
        "tick_interval": 100,
        "alert_mask": int(mask),
        "upload_rate_limit": args.upload_limit,
        "download_rate_limit": args.download_limit,
        # Limits measure payload only, so "N bytes/s" means N bytes of the file per second.
        "rate_limit_ip_overhead": False,
    }
    if dht:
        settings.update(dht_settings(getattr(args, "dht_bootstrap", "") or ""))
    # MSE/PE: forced = encrypted (RC4) only, both ways; disabled = plain only.
    encryption = getattr(args, "encryption", None)
    if encryption:
        policy = {"forced": lt.enc_policy.forced, "enabled": lt.enc_policy.enabled, "disabled": lt.enc_policy.disabled}[encryption]
        settings.update({"out_enc_policy": int(policy), "in_enc_policy": int(policy),
                         "allowed_enc_level": int(lt.enc_level.rc4 if encryption == "forced" else lt.enc_level.both)})
    session = lt.session(settings)
    if args.upload_limit or args.download_limit:
        # libtorrent puts peers on loopback and private networks in its "local" peer class,
        # which the global rate limits do not apply to. Map every IPv4 and IPv6 address to
        # the global class only, so the limits above throttle loopback peers too.
        classes = lt.ip_filter()
        classes.add_rule("0.0.0.0", "255.255.255.255", 1 << lt.session.global_peer_class_id)
        classes.add_rule("::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 1 << lt.session.global_peer_class_id)
        session.set_peer_class_filter(classes)
    if args.only_peers:
        # Refuse every address but the named peers' (incoming and outgoing).
        fence = lt.ip_filter()
        blocked = 1  # ip_filter::blocked
        fence.add_rule("0.0.0.0", "255.255.255.255", blocked)
        fence.add_rule("::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", blocked)
        for host, _port in args.peer:
            fence.add_rule(host, host, 0)
        session.set_ip_filter(fence)
    elif dht:
        # The DHT hands out whatever addresses other nodes report: refuse all but 127/8, for
        # peers and (apply_filter_to_dht) DHT packets alike.
        fence = lt.ip_filter()
        fence.add_rule("0.0.0.0", "255.255.255.255", 1)
        fence.add_rule("::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 1)
        fence.add_rule("127.0.0.0", "127.255.255.255", 0)
        session.set_ip_filter(fence)
    return session


def strip_trackers(torrent_path):
    data = lt.bdecode(open(torrent_path, "rb").read())
    data.pop(b"announce", None)
    data.pop(b"announce-list", None)
    return lt.torrent_info(data)


def describe(ti):
    files = ti.layout() if hasattr(ti, "layout") else ti.files()  # files() is deprecated in 2.1
    return dict(name=ti.name(), files=[files.file_path(i) for i in range(files.num_files())],
                total_size=ti.total_size(), num_pieces=ti.num_pieces(), piece_length=ti.piece_length(),
                infohash=str(ti.info_hashes().v1))


def parse_peer(text):
    host, _, port = text.rpartition(":")
    return host.strip("[]"), int(port)


def read_commands(commands):
    """--control: JSON lines from stdin into a queue the alert loop drains."""
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            commands.put(json.loads(line))
        except ValueError:
            emit("error", what="bad_command", message=line[:200])
    commands.put({"cmd": "eof"})


def node_id(session):
    """This session's DHT node id (20 bytes), or None before the DHT started."""
    state = lt.write_session_params(session.session_state(lt.save_state_flags_t.save_dht_state))
    ids = state.get(b"dht state", {}).get(b"node-id", [])
    ids = ids if isinstance(ids, list) else [ids]
    return ids[0][:20] if ids and len(ids[0]) >= 20 else None


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["seed", "leech", "dht"])
    parser.add_argument("--torrent")
    parser.add_argument("--magnet")
    parser.add_argument("--save")
    parser.add_argument("--bind", required=True, help="a 127.x.y.z address")
    parser.add_argument("--port", type=int, default=0, help="listen port (TCP, and UDP for the DHT); 0 = any")
    parser.add_argument("--peer", action="append", default=[], type=parse_peer, help="HOST:PORT to connect to")
    parser.add_argument("--no-trackers", action="store_true", help="do not announce to any tracker")
    parser.add_argument("--only-peers", action="store_true", help="ip-filter every address but the --peer ones")
    parser.add_argument("--sequential", action="store_true")
    parser.add_argument("--encryption", choices=["forced", "enabled", "disabled"], default=None,
                        help="MSE/PE policy (default: libtorrent's, encryption enabled)")
    parser.add_argument("--upload-limit", type=int, default=0, help="bytes/s, 0 = unlimited")
    parser.add_argument("--download-limit", type=int, default=0, help="bytes/s, 0 = unlimited")
    parser.add_argument("--progress-interval", type=float, default=0.25)
    parser.add_argument("--dht", action="store_true", help="run a DHT node (fenced to 127/8); implied by mode dht")
    parser.add_argument("--dht-bootstrap", default="", help="dht_bootstrap_nodes: comma-separated HOST:PORT routers")
    parser.add_argument("--dht-node", action="append", default=[], type=parse_peer,
                        help="HOST:PORT added with add_dht_node (an ordinary routing-table node)")
    parser.add_argument("--control", action="store_true", help="read JSON commands from stdin")
    parser.add_argument("--defer-add", action="store_true", help="add the torrent on the `add` command only")
    args = parser.parse_args()
    if args.mode == "dht":
        args.dht = True
    if not args.bind.startswith("127."):
        parser.error("--bind must be a loopback address (127.x.y.z)")
    for host, _port in args.dht_node + [parse_peer(x) for x in args.dht_bootstrap.split(",") if x.strip()]:
        if not host.startswith("127."):
            parser.error("DHT nodes must be loopback addresses (127.x.y.z)")
    if args.mode != "dht":
        if not args.save:
            parser.error("--save is required for seed and leech")
        if bool(args.torrent) == bool(args.magnet) or (args.mode == "seed" and not args.torrent):
            parser.error("give exactly one of --torrent / --magnet (seed needs --torrent)")
    if args.only_peers and not args.peer:
        parser.error("--only-peers needs at least one --peer")
    if args.only_peers and args.dht:
        parser.error("--only-peers and --dht exclude each other")
    if args.defer_add and not args.control:
        parser.error("--defer-add needs --control")

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    session = make_session(args)
    for node in args.dht_node:
        session.add_dht_node(node)
    commands = queue.Queue()
    if args.control:
        threading.Thread(target=read_commands, args=(commands,), daemon=True).start()

    handle = None

    def add_torrent():
        if args.torrent:
            atp = lt.add_torrent_params()
            atp.ti = strip_trackers(args.torrent) if args.no_trackers else lt.torrent_info(args.torrent)
        else:
            atp = lt.parse_magnet_uri(args.magnet)
        if args.no_trackers:
            atp.trackers = []
        atp.save_path = args.save
        flags = lt.torrent_flags.disable_lsd | lt.torrent_flags.apply_ip_filter
        if not args.dht:
            flags |= lt.torrent_flags.disable_dht
        if args.only_peers:
            flags |= lt.torrent_flags.disable_pex
        if args.sequential:
            flags |= lt.torrent_flags.sequential_download
        atp.flags = flags  # not auto-managed: the torrent starts at once and is never queued
        h = session.add_torrent(atp)
        emit("added", mode=args.mode, bind=args.bind, trackers=[t["url"] for t in h.trackers()], dht=args.dht)
        if h.status().has_metadata:
            emit("metadata", **describe(h.torrent_file()))
        for peer in args.peer:
            h.connect_peer(peer)
        return h

    # With the DHT on, the torrent is added only once the session's DHT is up and knows a
    # node (bootstrap finished, or a node in its routing table; at most DHT_WAIT s):
    # libtorrent 2.1 starts its DHT asynchronously (after resolving the dht_bootstrap_nodes),
    # and a torrent added before that is never queued for its first DHT announce -- its
    # get_peers then waits for the 15-minute re-announce timer. (Seen on loopback: about 1 in
    # 4 fresh magnet leechers found no peer otherwise.)
    DHT_WAIT = 5.0
    auto_add = args.mode != "dht" and not args.defer_add
    if auto_add and not args.dht:
        handle = add_torrent()
        auto_add = False
    dht_ready = False

    listening = False
    checked = False
    complete = False
    flushing = False
    first_block = False
    first_piece = False
    hash_failures = 0
    received = {}  # "ip:port" -> payload bytes of the blocks it delivered (from block_finished_alert)
    block_size = 16384
    info = None
    last_progress = 0.0
    last_line = None
    pending_stats = []  # ids of `stats` commands waiting for their dht_stats_alert
    pending_live = []  # ids of `live_nodes` commands waiting for their dht_live_nodes_alert
    counts = {"get_peers_in": 0, "announce_in": 0, "get_peers_replies": 0}
    while not stopping:
        session.wait_for_alert(100)
        if auto_add and session.is_dht_running():
            if dht_ready or time.monotonic() - STARTED > DHT_WAIT:
                handle = add_torrent()
                auto_add = False
            elif None not in pending_stats:
                pending_stats.append(None)  # an internal poll: is a node in the routing table yet?
                session.post_dht_stats()
        while True:
            try:
                cmd = commands.get_nowait()
            except queue.Empty:
                break
            name, cid = cmd.get("cmd"), cmd.get("id")
            try:
                if name == "eof":
                    continue
                elif name == "add_nodes":
                    for node in cmd.get("nodes", []):
                        host, port = parse_peer(node)
                        if host.startswith("127."):
                            session.add_dht_node((host, port))
                    emit("reply", id=cid, cmd=name, ok=True)
                elif name == "stats":
                    pending_stats.append(cid)
                    session.post_dht_stats()
                elif name == "live_nodes":
                    nid = node_id(session)
                    if nid is None:
                        emit("reply", id=cid, cmd=name, ok=False, error="no DHT node id yet")
                    else:
                        pending_live.append(cid)
                        session.dht_live_nodes(lt.sha1_hash(nid))
                elif name == "get_peers":
                    session.dht_get_peers(lt.sha1_hash(bytes.fromhex(cmd["infohash"])))
                    emit("reply", id=cid, cmd=name, ok=True, infohash=cmd["infohash"])
                elif name == "announce":
                    session.dht_announce(lt.sha1_hash(bytes.fromhex(cmd["infohash"])), int(cmd.get("port", 0)), 0)
                    emit("reply", id=cid, cmd=name, ok=True)
                elif name == "force_announce":
                    if handle is None:
                        emit("reply", id=cid, cmd=name, ok=False, error="no torrent")
                    else:
                        handle.force_dht_announce()
                        emit("reply", id=cid, cmd=name, ok=True)
                elif name == "add":
                    if handle is None and args.mode != "dht":
                        handle = add_torrent()
                        auto_add = False
                    emit("reply", id=cid, cmd=name, ok=handle is not None)
                else:
                    emit("reply", id=cid, cmd=name, ok=False, error="unknown command")
            except Exception as e:  # a bad command must not end the peer
                emit("reply", id=cid, cmd=name, ok=False, error=repr(e))
        for a in session.pop_alerts():
            if isinstance(a, lt.listen_succeeded_alert):
                if a.socket_type == lt.socket_type_t.tcp and not listening:
                    listening = True
                    emit("listening", address=str(a.address), port=a.port)
            elif isinstance(a, lt.listen_failed_alert):
                emit("error", what="listen_failed", message=a.message())
            elif isinstance(a, lt.dht_bootstrap_alert):
                dht_ready = True
                emit("dht_bootstrapped")
            elif isinstance(a, lt.dht_announce_alert):
                counts["announce_in"] += 1
                emit("dht_announce_in", ip=str(a.ip), port=a.port, infohash=str(a.info_hash))
            elif isinstance(a, lt.dht_get_peers_alert):
                counts["get_peers_in"] += 1  # counted only: a flood would make thousands of lines
            elif isinstance(a, lt.dht_get_peers_reply_alert):
                counts["get_peers_replies"] += 1
                emit("dht_peers", infohash=str(a.info_hash), peers=[endpoint(p) for p in a.peers()])
            elif isinstance(a, lt.dht_stats_alert):
                buckets = [dict(nodes=b["num_nodes"], replacements=b["num_replacements"]) for b in a.routing_table]
                fields = dict(nodes=sum(b["nodes"] for b in buckets),
                              replacements=sum(b["replacements"] for b in buckets), buckets=len(buckets),
                              lookups=len(a.active_requests), running=session.is_dht_running(), **counts)
                rid = pending_stats.pop(0) if pending_stats else None
                dht_ready = dht_ready or fields["nodes"] > 0
                if rid is not None:
                    emit("reply", id=rid, cmd="stats", ok=True, **fields)
            elif isinstance(a, lt.dht_live_nodes_alert):
                nodes = [endpoint(ep) for _nid, ep in a.nodes] if a.nodes and isinstance(a.nodes[0], tuple) \
                    else [endpoint(n["endpoint"]) if isinstance(n, dict) else str(n) for n in a.nodes]
                if pending_live:
                    emit("reply", id=pending_live.pop(0), cmd="live_nodes", ok=True, nodes=nodes)
                else:
                    emit("dht_live_nodes", nodes=nodes)
            elif handle is None:
                continue
            elif isinstance(a, lt.torrent_checked_alert):
                st = handle.status()
                checked = True
                emit("checked", progress=st.progress, num_pieces=st.num_pieces, seeding=st.is_seeding)
                if st.is_seeding:
                    emit("seeding")
                    if args.mode == "leech" and not complete:
                        complete = True
                        emit("complete", seconds=round(time.monotonic() - STARTED, 4), peers=received,
                             hash_failures=hash_failures, already_there=True)
            elif isinstance(a, lt.metadata_received_alert):
                emit("metadata", **describe(handle.torrent_file()))
            elif isinstance(a, lt.tracker_reply_alert):
                emit("announced", tracker=a.tracker_url(), peers=a.num_peers)
            elif isinstance(a, lt.tracker_error_alert):
                emit("tracker_error", tracker=a.tracker_url(), message=a.message())
            elif isinstance(a, lt.hash_failed_alert):
                hash_failures += 1
                emit("hash_failed", piece=int(a.piece_index), hash_failures=hash_failures)
            elif isinstance(a, lt.peer_ban_alert):
                emit("peer_banned", peer=endpoint(a.endpoint))
            elif isinstance(a, lt.peer_disconnected_alert):
                emit("peer_disconnected", peer=endpoint(a.endpoint), error=a.error.message())
            elif isinstance(a, lt.peer_connect_alert):
                emit("peer_connected", peer=endpoint(a.endpoint))
            elif isinstance(a, lt.block_finished_alert):
                info = info or handle.torrent_file()
                size = min(block_size, info.piece_size(a.piece_index) - a.block_index * block_size)
                key = endpoint(a.endpoint)
                received[key] = received.get(key, 0) + size
                if not first_block:
                    first_block = True
                    emit("first_block", peer=key, piece=int(a.piece_index))
            elif isinstance(a, lt.piece_finished_alert):
                if not first_piece:
                    first_piece = True
                    emit("first_piece", piece=int(a.piece_index))
                if int(a.piece_index) == 0:
                    emit("piece0")
            elif isinstance(a, lt.torrent_finished_alert):
                if args.mode == "leech" and not complete and checked and not flushing:
                    # Every piece passed its hash check, but libtorrent 2 hashes from its store
                    # buffer while writes may still be queued: the file is only whole on disk
                    # (and every block_finished_alert posted) once the cache is flushed.
                    flushing = True
                    handle.flush_cache()
            elif isinstance(a, lt.cache_flushed_alert):
                if args.mode == "leech" and flushing and not complete:
                    complete = True
                    emit("complete", seconds=round(time.monotonic() - STARTED, 4), peers=received,
                         hash_failures=hash_failures)
            elif isinstance(a, (lt.torrent_error_alert, lt.file_error_alert)):
                emit("error", what=type(a).__name__, message=a.message())
        now = time.monotonic()
        if args.mode == "leech" and handle is not None and now - last_progress >= args.progress_interval:
            last_progress = now
            st = handle.status()
            line = dict(progress=round(st.progress, 4), total_done=st.total_done, num_pieces=st.num_pieces,
                        peers=st.num_peers, hash_failures=hash_failures, failed_bytes=st.total_failed_bytes,
                        rate=st.download_payload_rate, state=str(st.state), received=dict(received))
            if line != last_line:
                last_line = line
                emit("progress", **line)
    emit("stopped")
    del session
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as e:  # report, so the harness shows why instead of a bare exit code
        emit("error", what="exception", message=repr(e))
        raise
