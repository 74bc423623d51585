#!/usr/bin/env python3
"""Load for the bandwidth manager benchmark (packaging/vm/bwm-bench.sh); runs inside the guest.

    bwm_probe.py serve --bind ADDR                      the workload: RR server + bulk senders
    bwm_probe.py load --dst ADDR --label ARM ...        the clients, in the receiving netns

The workload sits behind the limited device: its responses and its bulk data leave through the
limit, as a pod's egress does. `load` opens STREAMS persistent request/response connections
(closed loop, one request outstanding per stream, as netperf TCP_RR) and BULK connections
that receive as fast as the sender can push, then

  1. warms up: at least --warmup seconds and, with --bucket-dev, until the token bucket on that
     device (in the netns of --bucket-netns-pid, the guest's root by default) is empty: its overlimits counter grew in each of the last four
     0.25 s polls. A bucket starts full, and a big one (the runtimes pass hundreds of MB) lets the
     first hundreds of MB through at line rate; the steady state is what a long-lived pod sees.
     Never longer than --warmup-max (the result then says drained: false);
  2. measures for --seconds: the latency of every transaction that starts in the window, the
     transactions completed in it, the bytes received by the bulk connections, and the busy
     share of the guest's CPUs (/proc/stat: near 1 means the CPUs, not the limit, set the pace);

and prints one JSON object. Every latency sample goes to --samples (CSV). Latencies are timed
with CLOCK_MONOTONIC in this one process: request sent -> full response received.
"""
import argparse
import json
import math
import selectors
import socket
import re
import statistics
import subprocess
import sys
import threading
import time

REQ_SIZE = 64
RESP_SIZE = 1024
RR_PORT = 5301
BULK_PORT = 5302
CHUNK = 256 * 1024


# time.monotonic is CLOCK_MONOTONIC on Linux
monotonic = time.monotonic


# ---------------------------------------------------------------------------------- workload

def serve(args):
    """RR: answer every REQ_SIZE-byte request with RESP_SIZE bytes. Bulk: send until closed."""
    rr = socket.create_server((args.bind, RR_PORT), backlog=1024)
    bulk = socket.create_server((args.bind, BULK_PORT), backlog=64)
    rr.setblocking(False)
    payload = b"r" * RESP_SIZE
    chunk = memoryview(b"b" * CHUNK)

    def bulk_sender(conn):
        with conn:
            try:
                while True:
                    conn.sendall(chunk)
            except OSError:
                return

    def bulk_accept():
        while True:
            conn, _ = bulk.accept()
            threading.Thread(target=bulk_sender, args=(conn,), daemon=True).start()

    threading.Thread(target=bulk_accept, daemon=True).start()
    sel = selectors.DefaultSelector()
    sel.register(rr, selectors.EVENT_READ, None)
    # per connection: [bytes of the request being read, pending output]
    state = {}
    print("ready", flush=True)
    while True:
        for key, events in sel.select():
            sock = key.fileobj
            if sock is rr:
                try:
                    conn, _ = rr.accept()
                except BlockingIOError:
                    continue
                conn.setblocking(False)
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                state[conn] = [0, b""]
                sel.register(conn, selectors.EVENT_READ, None)
                continue
            st = state[sock]
            if events & selectors.EVENT_READ:
                try:
                    data = sock.recv(65536)
                except (BlockingIOError, InterruptedError):
                    data = None
                except OSError:
                    data = b""
                if data == b"":
                    sel.unregister(sock)
                    del state[sock]
                    sock.close()
                    continue
                if data:
                    total = st[0] + len(data)
                    st[0] = total % REQ_SIZE
                    st[1] += payload * (total // REQ_SIZE)
            if st[1]:
                try:
                    sent = sock.send(st[1])
                    st[1] = st[1][sent:]
                except (BlockingIOError, InterruptedError):
                    pass
                except OSError:
                    st[1] = b""
                sel.modify(sock, selectors.EVENT_READ | (selectors.EVENT_WRITE if st[1] else 0), None)


# ---------------------------------------------------------------------------------- clients

class BulkReceiver(threading.Thread):
    """One bulk connection; `received` is read by the main thread (an int: atomic under the GIL)."""

    def __init__(self, dst):
        super().__init__(daemon=True)
        self.sock = socket.create_connection((dst, BULK_PORT), timeout=10)
        self.sock.settimeout(None)
        self.received = 0
        self.stop = False

    def run(self):
        buf = bytearray(CHUNK)
        try:
            while not self.stop:
                n = self.sock.recv_into(buf)
                if n == 0:
                    return
                self.received += n
        except OSError:
            return


def overlimits(dev, pid):
    """Sum of the overlimits counters of DEV's qdiscs, read in PID's network namespace."""
    out = subprocess.run(["nsenter", "-t", str(pid), "-n", "tc", "-s", "qdisc", "show", "dev", dev],
                         capture_output=True, text=True, timeout=5).stdout
    return sum(int(x) for x in re.findall(r"overlimits (\d+)", out))


def cpu_times():
    """(busy, total) jiffies of the whole guest from /proc/stat: is the run CPU-bound?"""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + fields[4]          # idle + iowait
    return sum(fields) - idle, sum(fields)


def percentile(sorted_xs, q):
    """Nearest rank, as the experiment's statistics (never a value nobody measured)."""
    if not sorted_xs:
        return None
    rank = max(1, math.ceil(q * len(sorted_xs) - 1e-9))
    return round(sorted_xs[min(len(sorted_xs), rank) - 1], 3)


def load(args):
    bulk = [BulkReceiver(args.dst) for _ in range(args.bulk)]
    for b in bulk:
        b.start()
    sel = selectors.DefaultSelector()
    request = b"q" * REQ_SIZE
    # per stream: [index, bytes of the response so far, send time]
    streams = {}
    for i in range(args.streams):
        s = socket.create_connection((args.dst, RR_PORT), timeout=10)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.setblocking(False)
        streams[s] = [i, 0, 0.0]
        sel.register(s, selectors.EVENT_READ, None)

    def bulk_bytes():
        return sum(b.received for b in bulk)

    t_start = monotonic()
    for s, st in streams.items():
        st[2] = monotonic()
        s.send(request)

    # warm-up, then the window; (t, bulk bytes) every 0.25 s for the drain rule and the raw data
    timeline = [(0.0, 0)]
    next_sample = t_start + 0.25
    window_start = window_end = None
    drained = args.bucket_dev is None
    throttle = []         # overlimits per poll (bucket_dev only)
    samples = []          # (t from window start, stream, latency s)
    completed = 0
    rr_errors = 0
    while True:
        now = monotonic()
        if now >= next_sample:
            timeline.append((round(now - t_start, 3), bulk_bytes()))
            # after a stall, resume the 0.25 s cadence from now (no bursts of same-instant samples)
            next_sample = max(next_sample + 0.25, now + 0.25) if next_sample + 0.25 <= now else next_sample + 0.25
            if window_start is None:
                warm = now - t_start
                if args.bucket_dev is not None and not drained:
                    throttle.append(overlimits(args.bucket_dev, args.bucket_netns_pid))
                    drained = len(throttle) > 4 and all(b > a for a, b in zip(throttle[-5:], throttle[-4:]))
                if warm >= args.warmup and (drained or warm >= args.warmup_max):
                    window_start = now
                    window_end = now + args.seconds
                    bulk_at_start = bulk_bytes()
                    cpu_at_start = cpu_times()
                    warmup_s = warm
            elif now >= window_end:
                break
        for key, _ in sel.select(timeout=max(0.0, next_sample - monotonic())):
            s = key.fileobj
            st = streams[s]
            try:
                data = s.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            if not data:
                rr_errors += 1
                sel.unregister(s)
                continue
            st[1] += len(data)
            if st[1] >= RESP_SIZE:
                done = monotonic()
                if window_start is not None and st[2] >= window_start and done <= window_end:
                    samples.append((st[2] - window_start, st[0], done - st[2]))
                    completed += 1
                st[1] -= RESP_SIZE
                st[2] = done
                try:
                    s.send(request)
                except OSError:
                    rr_errors += 1
                    sel.unregister(s)

    bulk_in_window = bulk_bytes() - bulk_at_start
    cpu_end = cpu_times()
    cpu_busy = (cpu_end[0] - cpu_at_start[0]) / max(1, cpu_end[1] - cpu_at_start[1])
    for b in bulk:
        b.stop = True
        b.sock.close()
    for s in streams:
        s.close()

    lat_ms = sorted(x[2] * 1000 for x in samples)
    with open(args.samples, "w") as f:
        f.write("t_s,stream,latency_ms\n")
        for t, i, lat in samples:
            f.write(f"{t:.6f},{i},{lat * 1000:.3f}\n")
    # the responses are what crosses the limit (requests go the other way)
    rr_bps = completed * RESP_SIZE * 8 / args.seconds
    result = {
        "arm": args.label,
        "streams": args.streams,
        "bulk_flows": args.bulk,
        "limit_bps": args.limit_bps,
        "warmup_s": round(warmup_s, 2),
        "drained": drained,
        "window_s": args.seconds,
        "rr": {
            "n": len(lat_ms),
            "tps": round(completed / args.seconds, 1),
            "p50_ms": percentile(lat_ms, 0.50),
            "p90_ms": percentile(lat_ms, 0.90),
            "p99_ms": percentile(lat_ms, 0.99),
            "max_ms": round(lat_ms[-1], 3) if lat_ms else None,
            "mean_ms": round(statistics.fmean(lat_ms), 3) if lat_ms else None,
            "closed_streams": rr_errors,
        },
        "guest_cpu_busy": round(cpu_busy, 3),
        "bulk_goodput_bps": round(bulk_in_window * 8 / args.seconds),
        "rr_goodput_bps": round(rr_bps),
        "total_goodput_bps": round(bulk_in_window * 8 / args.seconds + rr_bps),
        "bulk_timeline": timeline,
    }
    print(json.dumps(result))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--bind", required=True)
    l = sub.add_parser("load")
    l.add_argument("--dst", required=True)
    l.add_argument("--label", required=True)
    l.add_argument("--streams", type=int, default=256)
    l.add_argument("--bulk", type=int, default=4)
    l.add_argument("--limit-bps", type=float, default=None)
    l.add_argument("--warmup", type=float, default=3.0)
    l.add_argument("--warmup-max", type=float, default=90.0)
    l.add_argument("--bucket-dev", default=None, help="device whose token bucket must be empty before measuring")
    l.add_argument("--bucket-netns-pid", type=int, default=1, help="a process in that device's netns (the guest's root: 1)")
    l.add_argument("--seconds", type=float, default=20.0)
    l.add_argument("--samples", required=True)
    a = p.parse_args()
    if a.cmd == "load":
        for name, ok in (("--streams", 1 <= a.streams <= 1024), ("--bulk", 0 <= a.bulk <= 64),
                         ("--seconds", 1 <= a.seconds <= 300), ("--warmup", 0 <= a.warmup <= a.warmup_max <= 600),
                         ("--limit-bps", a.limit_bps is None or a.limit_bps > 0)):
            if not ok:
                p.error(f"{name} out of range: {vars(a)[name[2:].replace('-', '_')]}")
        load(a)
    else:
        serve(a)


if __name__ == "__main__":
    main()
