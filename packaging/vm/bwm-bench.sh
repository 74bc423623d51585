#!/usr/bin/env bash
# Bandwidth manager benchmark (make vm-bwm-bench, issue 6 item 5): one Debian 12 VM with Debian's
# kernel (real sch_fq), one per-workload egress limit applied three ways, measured side by side
# in one run with the same load:
#
#   edt    the edge-agent from out/*.deb: `edgectl shape set` (mq + fq + our tc BPF program)
#   tbf    a tbf root qdisc as the CNI bandwidth plugin sets it: latency 25 ms, so
#          limit = rate x 25 ms + burst, with the burst the container runtime passes for the
#          kubernetes.io/egress-bandwidth annotation (containerd: 2^32 - 1 bits = 536870911 bytes)
#   none   no limit (the device's default qdisc)
#
# In the guest: veth bwm0 (4 TX queues, root netns, the workload at 10.78.0.1) <-> bwm1 in
# netns bwmrcv (the clients, 10.78.0.2). probe/bwm_probe.py: 256 request/response streams
# (64 B requests, 1 KiB responses, persistent connections, one request outstanding each) plus
# 4 bulk TCP flows, all from the workload through the limit. Raw samples, the JSON per arm and
# the qdisc statistics go to experiments/results/bwm-<UTC time>/; a table with EDT/TBF ratios
# next to Cilium's published claim is printed and saved as table.txt.
#
# Bounded: every command has a timeout, the whole run BWM_TIMEOUT; the VM is killed on any exit.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$VM_DIR/boot.sh"

VM_CPUS=${VM_CPUS:-2}
VM_MEM=${VM_MEM:-1280}
VM_SSH_PORT_BASE=${BWM_SSH_PORT_BASE:-2230}     # not vm-test's ports: both can run at once
VM_LINK_PORT_BASE=${VM_LINK_PORT_BASE:-40780}
VM_BOOT_TIMEOUT=${VM_BOOT_TIMEOUT:-240}
BWM_TIMEOUT=${BWM_TIMEOUT:-900}
BWM_RATE=${BWM_RATE:-100mbit}
BWM_RATE_BPS=${BWM_RATE_BPS:-100000000}
BWM_TBF_BURST=${BWM_TBF_BURST:-536870911}       # bytes; containerd: math.MaxUint32 bits
BWM_STREAMS=${BWM_STREAMS:-256}
BWM_BULK=${BWM_BULK:-4}
BWM_SECONDS=${BWM_SECONDS:-20}                  # measured window per arm
BWM_WARMUP_MAX=${BWM_WARMUP_MAX:-90}            # tbf: until the bucket is empty, at most this
BWM_ARMS=${BWM_ARMS:-edt tbf none}

[ "$(id -u)" = 0 ] || die "bwm-bench.sh needs root (image build)"
for tool in qemu-system-x86_64 qemu-img ssh scp python3 dpkg-parsechangelog ss; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool missing: apt-get install qemu-system-x86 qemu-utils openssh-client python3 dpkg-dev iproute2"
done
case "$BWM_RATE_BPS" in ''|*[!0-9]*) die "BWM_RATE_BPS must be a number of bits per second, got '$BWM_RATE_BPS'";; esac
case "$BWM_TBF_BURST" in ''|*[!0-9]*) die "BWM_TBF_BURST must be a number of bytes, got '$BWM_TBF_BURST'";; esac
for a in $BWM_ARMS; do case $a in edt|tbf|none) ;; *) die "BWM_ARMS: unknown arm '$a' (edt, tbf, none)";; esac; done

START=$(date +%s)
vm_single_setup bwm "$BWM_TIMEOUT" "$REPO_ROOT/experiments/results/bwm-$(date -u +%Y%m%dT%H%M%SZ)"
vm_single_boot edgectl edge-agent
mkdir -p "$OUT"

vscp 1 "$VM_DIR/probe/bwm_probe.py" root@127.0.0.1:/root/ || die "copy of the probe failed"
vssh 1 300 -- "$(install_cmd edgectl edge-agent)" >"$RUN/install.txt" 2>&1 || die "apt install failed: $(tail -3 "$RUN/install.txt")"

# The workload's device and the agent shaping it. The agent attaches lazily (at the first
# `shape set`), so the tbf and no-limit arms see the device as the kernel made it.
vssh 1 -- 'set -e
    ip netns add bwmrcv
    ip link add bwm0 numtxqueues 4 numrxqueues 4 type veth peer name bwm1 numtxqueues 4 numrxqueues 4 netns bwmrcv
    ip addr add 10.78.0.1/24 dev bwm0; ip link set bwm0 up
    ip -n bwmrcv addr add 10.78.0.2/24 dev bwm1; ip -n bwmrcv link set bwm1 up; ip -n bwmrcv link set lo up
    printf "[shaping]\ndevice = \"bwm0\"\n" >/etc/edgenode/agent.toml
    edge-agent --check-config --config /etc/edgenode/agent.toml >/dev/null
    systemctl restart edge-agent
    for i in $(seq 1 60); do [ "$(systemctl show -p ActiveState --value edge-agent)" = active ] && exit 0; sleep 1; done
    echo "edge-agent not active"; exit 1' >"$RUN/setup.txt" 2>&1 || die "setup failed: $(tail -3 "$RUN/setup.txt")"
DEFAULT_QDISC=$(vssh 1 -- 'tc qdisc show dev bwm0 | head -1')
vssh 1 -- 'nohup python3 /root/bwm_probe.py serve --bind 10.78.0.1 >/root/serve.log 2>&1 &
    for i in $(seq 1 50); do grep -q ready /root/serve.log && exit 0; sleep 0.2; done; cat /root/serve.log; exit 1' \
    || die "workload server did not start"

LIMIT_BYTES=$(( BWM_RATE_BPS / 8 * 25 / 1000 + BWM_TBF_BURST ))
arm() {
    local name=$1 limit_arg=(--limit-bps "$BWM_RATE_BPS")
    log "arm $name"
    case $name in
        edt)
            vssh 1 -- "edgectl shape set 10.78.0.1/32 $BWM_RATE && edgectl shape list --json" >"$RUN/edt-before.txt" 2>&1 \
                || { log "edgectl shape set failed: $(tail -2 "$RUN/edt-before.txt")"; return 1; } ;;
        tbf)
            vssh 1 -- "tc qdisc replace dev bwm0 root tbf rate $BWM_RATE burst $BWM_TBF_BURST limit $LIMIT_BYTES" \
                || { log "tbf setup failed"; return 1; }
            limit_arg+=(--bucket-dev bwm0) ;;
        none)
            limit_arg=() ;;
    esac
    vssh 1 -- "tc qdisc show dev bwm0; tc filter show dev bwm0 egress" >"$RUN/$name-qdisc.txt" 2>&1
    vssh 1 $(( BWM_WARMUP_MAX + BWM_SECONDS + 60 )) -- "ip netns exec bwmrcv python3 /root/bwm_probe.py load --dst 10.78.0.1 \
        --label $name --streams $BWM_STREAMS --bulk $BWM_BULK ${limit_arg[*]} --warmup 3 --warmup-max $BWM_WARMUP_MAX \
        --seconds $BWM_SECONDS --samples /root/$name-samples.csv" >"$OUT/$name.json" 2>"$RUN/$name-load.txt"
    local rc=$?
    vssh 1 -- "tc -s qdisc show dev bwm0" >>"$RUN/$name-qdisc.txt" 2>&1
    vscp 1 "root@127.0.0.1:/root/$name-samples.csv" "$OUT/" 2>/dev/null
    case $name in
        edt) vssh 1 -- "edgectl shape list --json; edgectl shape reset" >"$RUN/edt-after.txt" 2>&1 ;;
        tbf) vssh 1 -- "tc qdisc del dev bwm0 root" ;;
    esac
    [ $rc = 0 ] || log "arm $name: load failed (rc $rc): $(tail -3 "$RUN/$name-load.txt")"
    return $rc
}
for a in $BWM_ARMS; do arm "$a"; done
vssh 1 -- 'cat /proc/loadavg' >"$RUN/guest-loadavg.txt" 2>&1

python3 - "$OUT" "$BWM_RATE_BPS" "$BWM_TBF_BURST" "$LIMIT_BYTES" "$DEFAULT_QDISC" "$BWM_ARMS" <<'PY' | tee "$OUT/table.txt"
import json, os, sys
out, rate, burst, limit, default_qdisc, arms = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6].split()
res = {}
for a in arms:
    try:
        res[a] = json.load(open(os.path.join(out, f"{a}.json")))
    except (OSError, ValueError) as e:
        print(f"{a}: no result ({e})")
how = {"edt": "edge-agent EDT (mq + fq + tc BPF)",
       "tbf": f"tbf, CNI bandwidth plugin (burst {burst} B, latency 25 ms, limit {limit} B)",
       "none": f"no limit ({default_qdisc.split(' root')[0] or '?'})"}
print(f"limit {rate / 1e6:g} Mbit/s; {next(iter(res.values()))['streams'] if res else '?'} RR streams (64 B -> 1 KiB) "
      f"+ {next(iter(res.values()))['bulk_flows'] if res else '?'} bulk TCP flows; window {next(iter(res.values()))['window_s'] if res else '?'} s per arm")
print(f"{'arm':<6} {'RR p50 ms':>10} {'RR p99 ms':>10} {'RR tx/s':>9} {'bulk Mbit/s':>12} {'total Mbit/s':>13} {'CPU busy':>9} {'warm-up s':>10}  how")
for a, r in res.items():
    rr = r["rr"]
    drained = "" if r["drained"] else " (not drained)"
    print(f"{a:<6} {rr['p50_ms']!s:>10} {rr['p99_ms']!s:>10} {rr['tps']:>9} {r['bulk_goodput_bps'] / 1e6:>12.2f} "
          f"{r['total_goodput_bps'] / 1e6:>13.2f} {r['guest_cpu_busy'] * 100:>8.0f}% {r['warmup_s']:>10}{drained}  {how[a]}")
if "edt" in res and "tbf" in res:
    e, t = res["edt"], res["tbf"]
    def ratio(x, y):
        return f"{x / y:.2f}x" if x and y else "n/a"
    print()
    print(f"{'EDT vs TBF':<28} {'measured':>10} {'Cilium claim':>13}")
    print(f"{'median RR latency (TBF/EDT)':<28} {ratio(t['rr']['p50_ms'], e['rr']['p50_ms']):>10} {'~7x lower':>13}")
    print(f"{'p99 RR latency (TBF/EDT)':<28} {ratio(t['rr']['p99_ms'], e['rr']['p99_ms']):>10} {'~4x lower':>13}")
    print(f"{'RR transactions/s (EDT/TBF)':<28} {ratio(e['rr']['tps'], t['rr']['tps']):>10} {'~7x more':>13}")
    print(f"{'total goodput (EDT/TBF)':<28} {ratio(e['total_goodput_bps'], t['total_goodput_bps']):>10} {'':>13}")
PY
log "done in $(( $(date +%s) - START )) s"
