#!/usr/bin/env python3
"""Bounded CPU contention for kernel tests and benchmarks: N busy processes that each stop by
themselves after S seconds (no signals needed), so nothing is left spinning if the caller dies.

usage: cpu_load.py [--workers N] [--seconds S]
"""
import argparse, multiprocessing, time

def spin(seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass

if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=1.0)
    a = ap.parse_args()
    ps = [multiprocessing.Process(target=spin, args=(a.seconds,)) for _ in range(a.workers)]
    for p in ps:
        p.start()
    for p in ps:
        p.join()
