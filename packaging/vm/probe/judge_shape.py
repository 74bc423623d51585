#!/usr/bin/env python3
"""The VM bed's verdict on one shape_probe.py result; runs on the host (vm-test.sh).

    judge_shape.py edt|cni PROBE_JSON HORIZON_SECONDS

Prints three `name|pass or fail|details` lines for vm-test.sh's `check`. The EDT check on edt0
and the CNI chain's check judge the same way, so the bounds live here once:
  - rate: the wire rate within 5 % of the limit (cni: and the receiver saw the masqueraded
    node address 192.168.208.1, so the class followed the mark across NAT);
  - the shaped source's RR p99 under its own bulk flow: at most the class's horizon + slack,
    slack = max(10 ms, 2 x the idle p99), with at least 20 samples;
  - the other source's RR p99 (no class, its own fq flow): at most slack + 10 ms.
"""
import json
import sys

MASQUERADED_NODE = "192.168.208.1"


def main():
    mode, probe, horizon_s = sys.argv[1], sys.argv[2], sys.argv[3]
    r = json.loads(probe)
    horizon_ms = float(horizon_s) * 1000
    err = r["error_pct"]
    idle, same, other = r["rr_idle"], r["rr_loaded_same_class"], r["rr_loaded_other_flow"]
    slack = max(10.0, 2 * idle["p99_ms"])
    rate_ok = abs(err) <= 5
    same_ok = horizon_ms > 0 and same.get("n", 0) >= 20 and same["p99_ms"] <= horizon_ms + slack
    other_ok = other.get("n", 0) >= 20 and other["p99_ms"] <= slack + 10
    verdict = lambda ok: "pass" if ok else "fail"
    rate = f"limit {r['limit_bps']/1e6:.1f} Mbit/s, wire {r['wire_bps']/1e6:.2f} Mbit/s "
    same_rr = f"RR p50 {same.get('p50_ms')} ms, p99 {same.get('p99_ms')} ms, n {same.get('n')} "
    other_rr = f"RR p50 {other.get('p50_ms')} ms, p99 {other.get('p99_ms')} ms, n {other.get('n')} "
    bound = (f"(idle p50 {idle['p50_ms']} / p99 {idle['p99_ms']} ms; "
             f"bound: horizon {horizon_ms:.0f} ms + {slack:.0f} ms)")
    if mode == "edt":
        print(f"shaped rate|{verdict(rate_ok)}|{rate}(goodput {r['goodput_bps']/1e6:.2f}, MSS {r['mss']}), "
              f"error {err:+.2f}% over {r['window_s']} s (tolerance 5%)")
        print(f"latency same class|{verdict(same_ok)}|{same_rr}under the bulk flow {bound}")
        print(f"latency other flow|{verdict(other_ok)}|{other_rr}(unshaped source, its own fq flow; bound {slack + 10:.0f} ms)")
    elif mode == "cni":
        masq = r.get("bulk_peer") == MASQUERADED_NODE
        print(f"cni rate pod A|{verdict(rate_ok and masq)}|{rate}at up0 (goodput {r['goodput_bps']/1e6:.2f}), "
              f"error {err:+.2f}% over {r['window_s']} s (tolerance 5%); "
              f"receiver saw {r.get('bulk_peer')} ({'masqueraded' if masq else 'NOT masqueraded'})")
        print(f"cni latency pod A|{verdict(same_ok)}|{same_rr}under its own bulk flow {bound}")
        print(f"cni pod B unaffected|{verdict(other_ok)}|{other_rr}while pod A is at its limit "
              f"(no class, its own fq flow; bound {slack + 10:.0f} ms)")
    else:
        sys.exit(f"judge_shape.py: mode must be edt or cni, got {mode!r}")


if __name__ == "__main__":
    main()
