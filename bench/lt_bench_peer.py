#!/usr/bin/env python3
"""libtorrent for bench/watch-now.sh: the reference leecher (a streaming client's view) and a
seeder that may bind any address (for seeders inside network namespaces).

    lt_bench_peer.py leech --torrent T --save DIR --bind ADDR --mode watch|seek
                           [--first-bytes 4194304] [--seek-fraction 0.75] [--timeout 300]
    lt_bench_peer.py seed  --torrent T --save DIR --bind ADDR [--upload-limit B/s]

The session settings are exactly the e2e harness's (Tests/EndToEnd/peers/lt_peer.py,
make_session: DHT/LSD/UPnP/NAT-PMP/uTP off, tick_interval 100 ms, listen and connect from
ADDR); only the loopback-only check of lt_peer.py's command line is not applied here, so the
namespace seeders can bind 198.51.100.x. Prints one JSON object per line (flushed).

leech --mode watch: sequential download plus set_piece_deadline on the pieces that hold the
  first FIRST_BYTES (deadline 0, 10, 20 ms ...). Reports, in seconds since add_torrent():
  first_piece (piece 0 hashed), first_bytes (every piece of the first FIRST_BYTES hashed) and
  complete (torrent_finished), then exits.
leech --mode seek: the same start; as soon as piece 0 is hashed, clear_piece_deadlines() and
  set_piece_deadline() on the piece holding byte SEEK_FRACTION x size (deadline 0) and the three
  after it; reports seek_piece = seconds from that call until that piece is hashed, then exits.
"""
import argparse
import json
import resource
import signal
import sys
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "Tests" / "EndToEnd" / "peers"))
import libtorrent as lt  # noqa: E402
import lt_peer  # noqa: E402  (the harness's session settings)

STARTED = time.monotonic()
stopping = False


def emit(event, **fields):
    fields["event"] = event
    fields["t"] = round(time.monotonic() - STARTED, 4)
    print(json.dumps(fields), flush=True)


def on_signal(_signum, _frame):
    global stopping
    stopping = True


def session_for(args, mode):
    settings = SimpleNamespace(mode=mode, bind=args.bind, upload_limit=getattr(args, "upload_limit", 0) or 0,
                               download_limit=0, only_peers=False, peer=[])
    session = lt_peer.make_session(settings)
    mask = session.get_settings()["alert_mask"] | int(lt.alert_category.piece_progress)
    session.apply_settings({"alert_mask": mask})
    return session


def wait_listening(session, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        session.wait_for_alert(100)
        for a in session.pop_alerts():
            if isinstance(a, lt.listen_succeeded_alert) and a.socket_type == lt.socket_type_t.tcp:
                return a.port
            if isinstance(a, lt.listen_failed_alert):
                raise RuntimeError(a.message())
    raise RuntimeError("libtorrent did not start listening")


def peak_rss_mb():
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def seed(args):
    session = session_for(args, "seed")
    emit("listening", address=args.bind, port=wait_listening(session))
    atp = lt.add_torrent_params()
    atp.ti = lt.torrent_info(args.torrent)
    atp.save_path = args.save
    atp.flags = lt.torrent_flags.disable_dht | lt.torrent_flags.disable_lsd | lt.torrent_flags.apply_ip_filter
    handle = session.add_torrent(atp)
    emit("added", infohash=str(atp.ti.info_hashes().v1))
    while not stopping:
        session.wait_for_alert(200)
        for a in session.pop_alerts():
            if isinstance(a, lt.torrent_checked_alert):
                st = handle.status()
                emit("checked", progress=st.progress, seeding=st.is_seeding)
            elif isinstance(a, lt.tracker_reply_alert):
                emit("announced", tracker=a.tracker_url(), peers=a.num_peers)
            elif isinstance(a, lt.tracker_error_alert):
                emit("tracker_error", tracker=a.tracker_url(), message=a.message())
            elif isinstance(a, (lt.torrent_error_alert, lt.file_error_alert)):
                emit("error", what=type(a).__name__, message=a.message())
    emit("stopped", uploaded=handle.status().total_payload_upload)
    return 0


def leech(args):
    session = session_for(args, "leech")
    emit("listening", address=args.bind, port=wait_listening(session))
    ti = lt.torrent_info(args.torrent)
    size, piece_length = ti.total_size(), ti.piece_length()
    first_pieces = list(range(min(ti.num_pieces(), (args.first_bytes + piece_length - 1) // piece_length)))
    seek_piece = min(ti.num_pieces() - 1, int(size * args.seek_fraction) // piece_length)
    atp = lt.add_torrent_params()
    atp.ti = ti
    atp.save_path = args.save
    atp.flags = (lt.torrent_flags.disable_dht | lt.torrent_flags.disable_lsd | lt.torrent_flags.apply_ip_filter
                 | lt.torrent_flags.sequential_download)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu0 = usage.ru_utime + usage.ru_stime
    t0 = time.monotonic()
    handle = session.add_torrent(atp)
    for i, piece in enumerate(first_pieces):
        handle.set_piece_deadline(piece, 10 * i)
    emit("added", size=size, piece_length=piece_length, first_pieces=len(first_pieces), seek_piece=seek_piece)
    done = set()
    timeline = []  # (seconds since add_torrent, piece) as pieces pass their hash check
    result = {"mode": args.mode, "timeline": timeline}
    seek_at = None
    deadline = t0 + args.timeout
    while not stopping and time.monotonic() < deadline:
        session.wait_for_alert(50)
        for a in session.pop_alerts():
            now = time.monotonic()
            if isinstance(a, lt.piece_finished_alert):
                piece = int(a.piece_index)
                done.add(piece)
                timeline.append((round(now - t0, 4), piece))
                if piece == 0 and "first_piece" not in result:
                    result["first_piece"] = round(now - t0, 4)
                    emit("first_piece", seconds=result["first_piece"])
                    if args.mode == "seek":
                        handle.clear_piece_deadlines()
                        seek_at = time.monotonic()
                        for i, p in enumerate(range(seek_piece, min(ti.num_pieces(), seek_piece + 4))):
                            handle.set_piece_deadline(p, 10 * i)
                        emit("seek_requested", piece=seek_piece, already_had=seek_piece in done)
                        if seek_piece in done:
                            result["seek_piece"] = 0.0
                if "first_bytes" not in result and all(p in done for p in first_pieces):
                    result["first_bytes"] = round(now - t0, 4)
                    emit("first_bytes", seconds=result["first_bytes"], bytes=args.first_bytes)
                if seek_at is not None and piece == seek_piece and "seek_piece" not in result:
                    result["seek_piece"] = round(now - seek_at, 4)
                    emit("seek_piece", seconds=result["seek_piece"])
            elif isinstance(a, lt.tracker_reply_alert):
                result.setdefault("tracker_reply", round(now - t0, 4))
            elif isinstance(a, lt.peer_connect_alert):
                result.setdefault("first_connect", round(now - t0, 4))
            elif isinstance(a, lt.block_finished_alert):
                result.setdefault("first_block", round(now - t0, 4))
            elif isinstance(a, lt.torrent_finished_alert):
                result["complete"] = round(now - t0, 4)
                emit("complete", seconds=result["complete"])
            elif isinstance(a, lt.hash_failed_alert):
                emit("hash_failed", piece=int(a.piece_index))
            elif isinstance(a, (lt.torrent_error_alert, lt.file_error_alert)):
                emit("error", what=type(a).__name__, message=a.message())
        finished = "complete" in result if args.mode == "watch" else "seek_piece" in result
        if finished:
            break
    st = handle.status()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result.update(downloaded=st.total_payload_download, peers=st.num_peers, peak_rss_mb=peak_rss_mb(),
                  cpu_seconds=round(usage.ru_utime + usage.ru_stime - cpu0, 3),
                  timed_out=time.monotonic() >= deadline)
    emit("result", **result)
    session.remove_torrent(handle)
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("role", choices=["leech", "seed"])
    parser.add_argument("--torrent", required=True)
    parser.add_argument("--save", required=True)
    parser.add_argument("--bind", required=True)
    parser.add_argument("--mode", choices=["watch", "seek"], default="watch")
    parser.add_argument("--first-bytes", type=int, default=4 << 20)
    parser.add_argument("--seek-fraction", type=float, default=0.75)
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--upload-limit", type=int, default=0, help="seed: bytes/s, 0 = unlimited")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    return seed(args) if args.role == "seed" else leech(args)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as e:  # report, so the driver shows why instead of a bare exit code
        emit("error", what="exception", message=repr(e))
        raise
