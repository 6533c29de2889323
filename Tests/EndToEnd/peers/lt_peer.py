#!/usr/bin/env python3
"""A loopback-only libtorrent peer for the end-to-end swarm harness (Tests/EndToEnd/swarm.py).

    lt_peer.py seed  --torrent T --save DIR --bind 127.0.0.X [--upload-limit B/s] [--no-trackers]
    lt_peer.py leech (--torrent T | --magnet URI) --save DIR --bind 127.0.0.X
                     [--peer HOST:PORT]... [--no-trackers] [--only-peers] [--sequential]
                     [--download-limit B/s] [--upload-limit B/s]

Every feature that could reach past loopback (DHT, LSD, UPnP, NAT-PMP, the IP notifier, uTP)
is off in the settings the session is *created* with, and the session listens on BIND:0 and
connects out from BIND only. Prints one JSON object per line on stdout (flushed) and runs until
SIGTERM/SIGINT. Events: listening, added, metadata, checked, announced, tracker_error, seeding,
progress, hash_failed, peer_banned, peer_disconnected, complete, stopped, error.
"""
import argparse
import json
import signal
import sys
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


def make_session(args):
    mask = (lt.alert_category.error | lt.alert_category.status | lt.alert_category.tracker
            | lt.alert_category.peer | lt.alert_category.storage | lt.alert_category.connect
            | lt.alert_category.performance_warning)
    if args.mode == "leech":
        mask |= lt.alert_category.block_progress  # block_finished_alert: who sent each block
    settings = {
        "listen_interfaces": f"{args.bind}:0",
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


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["seed", "leech"])
    parser.add_argument("--torrent")
    parser.add_argument("--magnet")
    parser.add_argument("--save", required=True)
    parser.add_argument("--bind", required=True, help="a 127.x.y.z address")
    parser.add_argument("--peer", action="append", default=[], type=parse_peer, help="HOST:PORT to connect to")
    parser.add_argument("--no-trackers", action="store_true", help="do not announce to any tracker")
    parser.add_argument("--only-peers", action="store_true", help="ip-filter every address but the --peer ones")
    parser.add_argument("--sequential", action="store_true")
    parser.add_argument("--upload-limit", type=int, default=0, help="bytes/s, 0 = unlimited")
    parser.add_argument("--download-limit", type=int, default=0, help="bytes/s, 0 = unlimited")
    parser.add_argument("--progress-interval", type=float, default=0.25)
    args = parser.parse_args()
    if not args.bind.startswith("127."):
        parser.error("--bind must be a loopback address (127.x.y.z)")
    if bool(args.torrent) == bool(args.magnet) or (args.mode == "seed" and not args.torrent):
        parser.error("give exactly one of --torrent / --magnet (seed needs --torrent)")
    if args.only_peers and not args.peer:
        parser.error("--only-peers needs at least one --peer")

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    session = make_session(args)

    if args.torrent:
        atp = lt.add_torrent_params()
        atp.ti = strip_trackers(args.torrent) if args.no_trackers else lt.torrent_info(args.torrent)
    else:
        atp = lt.parse_magnet_uri(args.magnet)
        if args.no_trackers:
            atp.trackers = []
    if args.no_trackers:
        atp.trackers = []
    atp.save_path = args.save
    flags = lt.torrent_flags.disable_dht | lt.torrent_flags.disable_lsd | lt.torrent_flags.apply_ip_filter
    if args.only_peers:
        flags |= lt.torrent_flags.disable_pex
    if args.sequential:
        flags |= lt.torrent_flags.sequential_download
    atp.flags = flags  # not auto-managed: the torrent starts at once and is never queued
    handle = session.add_torrent(atp)
    emit("added", mode=args.mode, bind=args.bind, trackers=[t["url"] for t in handle.trackers()])
    if handle.status().has_metadata:
        emit("metadata", **describe(handle.torrent_file()))
    for peer in args.peer:
        handle.connect_peer(peer)

    listening = False
    checked = False
    complete = False
    flushing = False
    hash_failures = 0
    received = {}  # "ip:port" -> payload bytes of the blocks it delivered (from block_finished_alert)
    block_size = 16384
    info = None
    last_progress = 0.0
    last_line = None
    while not stopping:
        session.wait_for_alert(100)
        for a in session.pop_alerts():
            if isinstance(a, lt.listen_succeeded_alert):
                if a.socket_type == lt.socket_type_t.tcp and not listening:
                    listening = True
                    emit("listening", address=str(a.address), port=a.port)
            elif isinstance(a, lt.listen_failed_alert):
                emit("error", what="listen_failed", message=a.message())
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
        if args.mode == "leech" and now - last_progress >= args.progress_interval:
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
