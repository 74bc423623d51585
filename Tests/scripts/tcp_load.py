#!/usr/bin/env python3
"""Bounded TCP load on loopback for kernel tests: a listener and N client connections that
stream (bulk) or ping-pong (rr) for a fixed time, then exit. Prints one JSON line of totals.

usage: tcp_load.py [--port P] [--conns N] [--seconds S] [--mode bulk|rr] [--addr 127.0.0.1]
"""
import argparse, json, socket, threading, time

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--addr", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--conns", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--mode", choices=["bulk", "rr"], default="bulk")
    a = ap.parse_args()
    fam = socket.AF_INET6 if ":" in a.addr else socket.AF_INET
    srv = socket.socket(fam, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((a.addr, a.port))
    srv.listen(128)
    port = srv.getsockname()[1]
    deadline = time.monotonic() + a.seconds
    totals = {"bytes": 0, "requests": 0}
    lock = threading.Lock()

    def serve(c):
        c.settimeout(a.seconds + 5)
        try:
            while True:
                d = c.recv(65536)
                if not d:
                    break
                if a.mode == "rr":
                    c.sendall(d)
        except OSError:
            pass
        finally:
            c.close()

    def acceptor():
        srv.settimeout(0.2)
        while time.monotonic() < deadline + 1:
            try:
                c, _ = srv.accept()
            except socket.timeout:
                continue
            threading.Thread(target=serve, args=(c,), daemon=True).start()

    def client():
        s = socket.create_connection((a.addr, port), timeout=a.seconds + 5)
        buf = b"x" * (65536 if a.mode == "bulk" else 64)
        n = r = 0
        try:
            while time.monotonic() < deadline:
                s.sendall(buf)
                n += len(buf)
                if a.mode == "rr":
                    got = 0
                    while got < len(buf):
                        got += len(s.recv(65536))
                    r += 1
        except OSError:
            pass
        s.close()
        with lock:
            totals["bytes"] += n
            totals["requests"] += r

    threading.Thread(target=acceptor, daemon=True).start()
    cs = [threading.Thread(target=client) for _ in range(a.conns)]
    for t in cs:
        t.start()
    for t in cs:
        t.join()
    print(json.dumps(totals), flush=True)

if __name__ == "__main__":
    main()
