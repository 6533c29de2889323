#!/usr/bin/env python3
"""A userspace stand-in for `tc qdisc add dev X root netem delay D rate R` on both ends of a
point-to-point link, for kernels without sch_netem (bench/watch-now.sh uses it only then).

    netem_link.py --name PREFIX --links N [--delay-ms 40] [--rate-mbit 40] [--limit 1000]

Creates N pairs of TUN devices, PREFIX<i>h (the host side) and PREFIX<i>p (the peer side, which
the caller moves into a network namespace with `ip link set ... netns NS`; the open file
descriptor stays attached), prints one JSON line {"links": [[host, peer], ...]} and forwards
IP packets between the two devices of each pair until SIGTERM. Each direction of each link
behaves like netem with `delay D rate R limit L`: a FIFO whose head leaves after the previous
packet's serialisation time (length + 14 bytes of Ethernet header at R) plus D; packets
arriving while L packets are queued are dropped. The devices are not persistent: they vanish
when this process ends.
"""
import argparse
import collections
import fcntl
import json
import os
import select
import signal
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
ETHERNET_OVERHEAD = 14

stopping = False


def on_signal(_signum, _frame):
    global stopping
    stopping = True


def open_tun(name):
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    return fd


class Direction:
    def __init__(self, src, dst, delay, rate_bytes, limit):
        self.src, self.dst = src, dst
        self.delay, self.rate, self.limit = delay, rate_bytes, limit
        self.queue = collections.deque()  # (departure time, packet)
        self.free_at = 0.0
        self.forwarded = self.dropped = 0

    def arrive(self, packet, now):
        if len(self.queue) >= self.limit:
            self.dropped += 1
            return
        start = max(now, self.free_at)
        self.free_at = start + (len(packet) + ETHERNET_OVERHEAD) / self.rate
        self.queue.append((self.free_at + self.delay, packet))

    def deliver(self, now):
        queue = self.queue
        while queue and queue[0][0] <= now:
            _, packet = queue.popleft()
            try:
                os.write(self.dst, packet)
                self.forwarded += 1
            except OSError:
                self.dropped += 1  # device down or its queue full: a lost packet, as on a wire

    def next_due(self):
        return self.queue[0][0] if self.queue else None


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--name", required=True, help="device name prefix (at most 12 characters)")
    parser.add_argument("--links", type=int, default=1)
    parser.add_argument("--delay-ms", type=float, default=40)
    parser.add_argument("--rate-mbit", type=float, default=40)
    parser.add_argument("--limit", type=int, default=1000, help="packets queued per direction (netem's default)")
    args = parser.parse_args()
    if len(args.name) > 12:
        parser.error("--name: at most 12 characters (IFNAMSIZ)")
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        os.nice(-5)  # steadier timing next to a busy engine (root only; harmless otherwise)
    except OSError:
        pass
    delay, rate = args.delay_ms / 1000, args.rate_mbit * 1e6 / 8
    links, directions = [], {}
    for i in range(args.links):
        host, peer = f"{args.name}{i}h", f"{args.name}{i}p"
        hfd, pfd = open_tun(host), open_tun(peer)
        links.append([host, peer])
        directions[hfd] = Direction(hfd, pfd, delay, rate, args.limit)
        directions[pfd] = Direction(pfd, hfd, delay, rate, args.limit)
    print(json.dumps({"links": links, "delay_ms": args.delay_ms, "rate_mbit": args.rate_mbit, "limit": args.limit}),
          flush=True)
    poller = select.epoll()
    for fd in directions:
        poller.register(fd, select.EPOLLIN)
    while not stopping:
        now = time.monotonic()
        dues = [d for d in (x.next_due() for x in directions.values()) if d is not None]
        timeout = max(0.0, min(dues) - now) if dues else 0.5
        try:
            events = poller.poll(min(timeout, 0.5))
        except InterruptedError:
            continue
        now = time.monotonic()
        for fd, _ in events:
            direction = directions[fd]
            for _ in range(256):
                try:
                    packet = os.read(fd, 65536)
                except BlockingIOError:
                    break
                except OSError:
                    break
                direction.arrive(packet, now)
        for direction in directions.values():
            direction.deliver(now)
    stats = {f"fd{fd}": {"forwarded": d.forwarded, "dropped": d.dropped} for fd, d in directions.items()}
    print(json.dumps({"stopped": stats}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
