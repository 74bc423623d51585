#!/usr/bin/env python3
"""Traffic probe for the VM test bed's EDT/fq check; runs inside the guest as root.

    shape_probe.py serve --bind ADDR            receiver (started in the receiving netns by `run`)
    shape_probe.py run --netns NS --dst ADDR --shaped-src A --other-src B --seconds S
                       [--shaped-netns PODA --other-netns PODB]

`run` starts the receiver in NS, then measures
  1. request/response latency with no load, from the shaped source address,
  2. one bulk TCP flow from the shaped source for S seconds, and during it request/response
     latency from the shaped source (same EDT class: waits behind the class's booked time,
     bounded by its horizon) and from the other source (no class: its own fq flow),
and prints one JSON object. With --shaped-netns/--other-netns the sources are pods: each source's
sockets are made in that network namespace (setns on the calling thread, then back), so the
traffic leaves through the pod's veth, the host's bridge and its masquerade like a pod's. The receiver timestamps its byte count with CLOCK_MONOTONIC,
which all network namespaces share, so the sender can cut the steady-state window exactly.

Rates: the receiver counts TCP payload (goodput). The shaper charges wire bytes: every
full-sized segment costs MTU + 14 (Ethernet header) for MSS payload bytes, so the wire rate
is goodput * (MTU + 14) / MSS; both are printed.
"""
import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import ctypes

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def socket_in(netns, family=socket.AF_INET, kind=socket.SOCK_STREAM):
    """A socket of network namespace NETNS (/run/netns/NETNS), or of this one when NETNS is None."""
    if not netns:
        return socket.socket(family, kind)
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open(f"/run/netns/{netns}", os.O_RDONLY)
    try:
        if _libc.setns(target, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns {netns}")
        try:
            return socket.socket(family, kind)
        finally:
            if _libc.setns(home, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns back")
    finally:
        os.close(home)
        os.close(target)

BULK_PORT = 5201
RR_PORT = 5202
RR_SIZE = 64
CHUNK = 256 * 1024


def monotonic():
    return time.clock_gettime(time.CLOCK_MONOTONIC)


# ---------------------------------------------------------------------------------- receiver

def serve(args):
    """Bulk sink (timeline of received bytes) and a request/response echo server."""
    bulk = socket.create_server((args.bind, BULK_PORT), reuse_port=False)
    rr = socket.create_server((args.bind, RR_PORT))
    print("ready", flush=True)

    def echo(conn):
        with conn:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            while True:
                data = recv_exact(conn, RR_SIZE)
                if not data:
                    return
                conn.sendall(data)

    def rr_loop():
        while True:
            conn, _ = rr.accept()
            threading.Thread(target=echo, args=(conn,), daemon=True).start()

    threading.Thread(target=rr_loop, daemon=True).start()
    bulk.settimeout(args.timeout)
    conn, peer = bulk.accept()
    conn.settimeout(args.timeout)
    total, timeline, next_sample = 0, [], 0.0
    buf = bytearray(CHUNK)
    with conn:
        while True:
            n = conn.recv_into(buf)
            now = monotonic()
            if n == 0:
                break
            total += n
            if now >= next_sample:
                timeline.append((now, total))
                next_sample = now + 0.05
    timeline.append((monotonic(), total))
    print(json.dumps({"timeline": timeline, "bytes": total, "bulk_peer": peer[0]}), flush=True)


def recv_exact(conn, n):
    data = b""
    while len(data) < n:
        part = conn.recv(n - len(data))
        if not part:
            return b""
        data += part
    return data


# ------------------------------------------------------------------------------------ sender

def rr_samples(src, dst, count, interval, deadline, netns=None):
    """Round-trip times (ms) of RR_SIZE-byte request/responses from src; stops at deadline."""
    s = socket_in(netns)
    s.bind((src, 0))
    s.settimeout(5)
    s.connect((dst, RR_PORT))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    out, payload = [], b"x" * RR_SIZE
    with s:
        for _ in range(count):
            if monotonic() >= deadline:
                break
            t0 = monotonic()
            s.sendall(payload)
            if not recv_exact(s, RR_SIZE):
                raise RuntimeError("echo server closed the connection")
            out.append((monotonic() - t0) * 1000)
            time.sleep(interval)
    return out


def quantiles(ms):
    if not ms:
        return {"n": 0}
    xs = sorted(ms)
    pick = lambda q: xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]
    return {"n": len(xs), "p50_ms": round(pick(0.5), 3), "p99_ms": round(pick(0.99), 3),
            "max_ms": round(xs[-1], 3), "mean_ms": round(statistics.fmean(xs), 3)}


def run(args):
    recv = subprocess.Popen(
        ["ip", "netns", "exec", args.netns, sys.executable, os.path.abspath(__file__), "serve",
         "--bind", args.dst, "--timeout", str(args.seconds + 30)],
        stdout=subprocess.PIPE, text=True)
    try:
        line = recv.stdout.readline().strip()
        if line != "ready":
            raise SystemExit(f"receiver did not start (said {line!r})")

        idle = rr_samples(args.shaped_src, args.dst, args.rr_count, args.rr_interval, monotonic() + 10,
                          args.shaped_netns)

        bulk = socket_in(args.shaped_netns)
        bulk.bind((args.shaped_src, 0))
        bulk.settimeout(args.seconds + 10)
        bulk.connect((args.dst, BULK_PORT))
        mss = bulk.getsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG)
        start = monotonic()
        end = start + args.seconds
        loaded = {}

        def measure(name, src, netns):
            # from the warm-up's end to half a second before the bulk flow stops
            time.sleep(args.warmup)
            loaded[name] = rr_samples(src, args.dst, 100000, args.rr_interval, end - 0.5, netns)

        threads = [threading.Thread(target=measure, args=("same_class", args.shaped_src, args.shaped_netns)),
                   threading.Thread(target=measure, args=("other_flow", args.other_src, args.other_netns))]
        for t in threads:
            t.start()
        chunk = b"\0" * CHUNK
        sent = 0
        while monotonic() < end:
            sent += bulk.send(chunk)
        bulk.close()
        for t in threads:
            t.join()
        out, _ = recv.communicate(timeout=30)
    finally:
        if recv.poll() is None:
            recv.kill()
    result = json.loads(out)
    timeline = result["timeline"]
    w0, w1 = start + args.warmup, end
    inside = [(t, b) for t, b in timeline if w0 <= t <= w1]
    if len(inside) < 2:
        raise SystemExit("too few receiver samples inside the measuring window")
    (t0, b0), (t1, b1) = inside[0], inside[-1]
    goodput = (b1 - b0) * 8 / (t1 - t0)
    mtu = int(open(f"/sys/class/net/{args.dev}/mtu").read())
    wire = goodput * (mtu + 14) / mss
    print(json.dumps({
        "limit_bps": args.rate, "window_s": round(t1 - t0, 3), "mss": mss, "mtu": mtu,
        "goodput_bps": round(goodput), "wire_bps": round(wire),
        "error_pct": round((wire - args.rate) / args.rate * 100, 3),
        "sent_bytes": sent, "received_bytes": result["bytes"], "bulk_peer": result.get("bulk_peer"),
        "rr_idle": quantiles(idle), "rr_loaded_same_class": quantiles(loaded.get("same_class", [])),
        "rr_loaded_other_flow": quantiles(loaded.get("other_flow", [])),
    }))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--bind", required=True)
    s.add_argument("--timeout", type=float, default=60)
    r = sub.add_parser("run")
    r.add_argument("--netns", required=True)
    r.add_argument("--dev", required=True, help="the shaped device (for its MTU)")
    r.add_argument("--dst", required=True)
    r.add_argument("--shaped-src", required=True)
    r.add_argument("--other-src", required=True)
    r.add_argument("--shaped-netns", default=None, help="the shaped source's network namespace (a pod)")
    r.add_argument("--other-netns", default=None, help="the other source's network namespace (another pod)")
    r.add_argument("--rate", type=float, required=True, help="the class's limit in bit/s")
    r.add_argument("--seconds", type=float, default=6)
    r.add_argument("--warmup", type=float, default=1.5)
    r.add_argument("--rr-count", type=int, default=100)
    r.add_argument("--rr-interval", type=float, default=0.01)
    args = p.parse_args()
    if args.cmd == "serve":
        serve(args)
    else:
        if args.seconds <= args.warmup + 1:
            p.error("--seconds must exceed --warmup by more than 1 s")
        run(args)


if __name__ == "__main__":
    main()
