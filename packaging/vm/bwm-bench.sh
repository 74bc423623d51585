#!/usr/bin/env bash
# Bandwidth manager benchmark (make vm-bwm-bench, issues 6 and 14): one Debian 12 VM with Debian's
# kernel (real sch_fq), one pod egress limit applied the ways Kubernetes applies it, measured side
# by side in one run with the same load:
#
#   edt    edgenode-bandwidth, chained after bridge + host-local as the CNI bandwidth meta-plugin
#          is: the edge-agent from out/*.deb classifies the pod on its host-side veth
#          (edt_classify) and paces it at the uplink bwm0 (mq + fq + edt_egress)
#   tbf    Debian's real `bandwidth` CNI plugin (containernetworking-plugins) in the same place of
#          the same chain: egress = the host veth's ingress redirected to an ifb with a tbf
#          (latency 25 ms, limit = rate x 25 ms + burst)
#   none   bridge + host-local only
#
# Each arm is a pod as a container runtime makes it: probe/cni_chain.py runs the conflist as
# libcni does (CNI_* environment, each entry on stdin with prevResult and runtimeConfig.bandwidth
# {egressRate, egressBurst} in bits, as containerd fills it from kubernetes.io/egress-bandwidth;
# containerd's burst is math.MaxUint32 bits). The pod (netns bwmpod, 10.244.1.0/24 behind the
# bridge cni0) runs the workload, probe/bwm_probe.py serve: 256 request/response streams
# (64 B requests, 1 KiB responses, persistent connections, one request outstanding each) plus
# 4 bulk TCP flows, all from the pod through the limit, out of the uplink veth bwm0 (4 TX queues)
# to the clients in netns bwmrcv (10.78.0.2). Raw samples, the JSON per arm and the qdisc
# statistics go to experiments/results/bwm-<UTC time>/; a table with EDT/TBF ratios next to
# Cilium's published claim is printed and saved as table.txt.
#
# Per-packet cost (issue 14): kernel.bpf_stats_enabled=1 in every arm, bpftool prog show -j before
# and after the load: run_time_ns / run_cnt of edt_classify (the pod's host veth), edt_egress (the
# uplink) and bwm_ref (probe/bwm_ref.bpf.c, a program that only returns TC_ACT_OK, on the pod's
# eth0 egress in every arm: the floor under TCG).
#
# Bounded: every command has a timeout, the whole run BWM_TIMEOUT; the VM is killed on any exit.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$VM_DIR/boot.sh"

VM_CPUS=${VM_CPUS:-2}
VM_MEM=${VM_MEM:-1280}
VM_SSH_PORT_BASE=${BWM_SSH_PORT_BASE:-2230}     # not vm-test's ports: both can run at once
VM_LINK_PORT_BASE=${VM_LINK_PORT_BASE:-40780}
VM_BOOT_TIMEOUT=${VM_BOOT_TIMEOUT:-600}
BWM_TIMEOUT=${BWM_TIMEOUT:-900}
BWM_RATE_BPS=${BWM_RATE_BPS:-100000000}
BWM_BURST_BITS=${BWM_BURST_BITS:-4294967295}    # egressBurst in bits; containerd: math.MaxUint32
BWM_STREAMS=${BWM_STREAMS:-256}
BWM_BULK=${BWM_BULK:-4}
BWM_SECONDS=${BWM_SECONDS:-20}                  # measured window per arm
BWM_WARMUP_MAX=${BWM_WARMUP_MAX:-90}            # tbf: until the bucket is empty, at most this
BWM_ARMS=${BWM_ARMS:-edt tbf none}
BPF_CLANG=${BPF_CLANG:-$(command -v /opt/swift/usr/bin/clang || command -v clang-14 || command -v clang)}

[ "$(id -u)" = 0 ] || die "bwm-bench.sh needs root (image build)"
for tool in qemu-system-x86_64 qemu-img ssh scp python3 dpkg-parsechangelog ss; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool missing: apt-get install qemu-system-x86 qemu-utils openssh-client python3 dpkg-dev iproute2"
done
case "$BWM_RATE_BPS" in ''|*[!0-9]*) die "BWM_RATE_BPS must be a number of bits per second, got '$BWM_RATE_BPS'";; esac
case "$BWM_BURST_BITS" in ''|*[!0-9]*) die "BWM_BURST_BITS must be a number of bits, got '$BWM_BURST_BITS'";; esac
[ -n "$BPF_CLANG" ] || die "clang missing (for probe/bwm_ref.bpf.c): make deps"
for a in $BWM_ARMS; do case $a in edt|tbf|none) ;; *) die "BWM_ARMS: unknown arm '$a' (edt, tbf, none)";; esac; done

START=$(date +%s)
vm_single_setup bwm "$BWM_TIMEOUT" "$REPO_ROOT/experiments/results/bwm-$(date -u +%Y%m%dT%H%M%SZ)"
vm_single_boot edgectl edge-agent
mkdir -p "$OUT"

"$BPF_CLANG" -g -O2 -Wall -Werror -target bpf -I/usr/include/"$(gcc -dumpmachine 2>/dev/null || echo x86_64-linux-gnu)" \
    -c "$VM_DIR/probe/bwm_ref.bpf.c" -o "$RUN/bwm_ref.bpf.o" 2>"$RUN/bwm-ref-build.txt" \
    || die "cannot compile probe/bwm_ref.bpf.c: $(tail -2 "$RUN/bwm-ref-build.txt")"

# The conflists: the same bridge + host-local entry, then the arm's bandwidth plugin.
python3 - "$RUN" <<'PY'
import json, os, sys
run = sys.argv[1]
bridge = {"type": "bridge", "bridge": "cni0", "isGateway": True, "ipMasq": True,
          "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.244.1.0/24"}]], "routes": [{"dst": "0.0.0.0/0"}]}}
arms = {"edt": [bridge, {"type": "edgenode-bandwidth", "capabilities": {"bandwidth": True},
                         "agentSocket": "/run/edge-agent/agent.sock"}],
        "tbf": [bridge, {"type": "bandwidth", "capabilities": {"bandwidth": True}}],
        "none": [bridge]}
for arm, plugins in arms.items():
    with open(os.path.join(run, f"bwm-{arm}.conflist"), "w") as f:
        json.dump({"cniVersion": "1.0.0", "name": "bwm-pods", "plugins": plugins}, f, indent=1)
PY
vscp 1 "$VM_DIR/probe/bwm_probe.py" "$VM_DIR/probe/cni_chain.py" "$RUN/bwm_ref.bpf.o" "$RUN"/bwm-*.conflist root@127.0.0.1:/root/ \
    || die "copy of the probe failed"
vssh 1 900 -- "$(install_cmd edgectl edge-agent)" >"$RUN/install.txt" 2>&1 || die "apt install failed: $(tail -3 "$RUN/install.txt")"

# The uplink and the agent shaping it. The agent attaches lazily (at the first pod with a rate),
# and `edgectl shape reset` after the EDT arm gives bwm0 back its default qdisc for the others.
vssh 1 -- 'set -e
    ls /usr/lib/cni/bridge /usr/lib/cni/host-local /usr/lib/cni/bandwidth /usr/lib/cni/edgenode-bandwidth >/dev/null
    command -v bpftool >/dev/null
    ip netns add bwmrcv
    ip link add bwm0 numtxqueues 4 numrxqueues 4 type veth peer name bwm1 numtxqueues 4 numrxqueues 4 netns bwmrcv
    ip addr add 10.78.0.1/24 dev bwm0; ip link set bwm0 up
    ip -n bwmrcv addr add 10.78.0.2/24 dev bwm1; ip -n bwmrcv link set bwm1 up; ip -n bwmrcv link set lo up
    ip -n bwmrcv route add 10.244.1.0/24 via 10.78.0.1
    sysctl -qw net.ipv4.ip_forward=1
    printf "[shaping]\ndevice = \"bwm0\"\n" >/etc/edgenode/agent.toml
    edge-agent --check-config --config /etc/edgenode/agent.toml >/dev/null
    systemctl restart edge-agent
    for i in $(seq 1 60); do [ "$(systemctl show -p ActiveState --value edge-agent)" = active ] && exit 0; sleep 1; done
    echo "edge-agent not active"; exit 1' >"$RUN/setup.txt" 2>&1 || die "setup failed: $(tail -3 "$RUN/setup.txt")"
DEFAULT_QDISC=$(vssh 1 -- 'tc qdisc show dev bwm0 | head -1')

# bpf_stats SNAPSHOT: run_time_ns and run_cnt of every program, by name (summed)
bpf_stats() {
    vssh 1 -- 'bpftool prog show -j' 2>/dev/null | python3 -c '
import json, sys
out = {}
for p in json.load(sys.stdin):
    n = p.get("name", "?")
    t, c = out.get(n, (0, 0))
    out[n] = (t + p.get("run_time_ns", 0), c + p.get("run_cnt", 0))
print(json.dumps(out))'
}

arm() {
    local name=$1 limit_arg=(--limit-bps "$BWM_RATE_BPS") bw=(--egress-rate "$BWM_RATE_BPS" --egress-burst "$BWM_BURST_BITS") pod=bwmpod ip ifb
    log "arm $name"
    [ "$name" = none ] && { bw=(); limit_arg=(); }
    local chain="python3 /root/cni_chain.py --conflist /root/bwm-$name.conflist --id bwm-$name --netns $pod ${bw[*]}"
    vssh 1 -- "ip netns add $pod && $chain add" >"$RUN/$name-cni-add.json" 2>&1 \
        || { log "arm $name: CNI ADD failed: $(tail -c 400 "$RUN/$name-cni-add.json")"; vssh 1 -- "ip netns del $pod"; return 1; }
    ip=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["result"]["ips"][0]["address"].split("/")[0])' "$RUN/$name-cni-add.json")
    ifb=$(python3 -c 'import json,sys; print(" ".join(i["name"] for i in json.load(open(sys.argv[1]))["result"]["interfaces"] if i["name"].startswith("bwp")))' "$RUN/$name-cni-add.json")
    [ "$name" = tbf ] && { [ -n "$ifb" ] || { log "arm tbf: no ifb in the bandwidth plugin's result"; return 1; }; limit_arg+=(--bucket-dev "$ifb"); }
    vssh 1 -- "ip netns exec $pod tc qdisc add dev eth0 clsact && ip netns exec $pod tc filter add dev eth0 egress bpf da obj /root/bwm_ref.bpf.o sec tc" \
        >"$RUN/$name-ref.txt" 2>&1 || log "arm $name: reference program not attached: $(tail -2 "$RUN/$name-ref.txt")"
    vssh 1 -- "ip netns exec $pod nohup python3 /root/bwm_probe.py serve --bind $ip >/root/serve-$name.log 2>&1 & echo \$! >/root/serve-$name.pid
        for i in \$(seq 1 50); do grep -q ready /root/serve-$name.log && exit 0; sleep 0.2; done; cat /root/serve-$name.log; exit 1" \
        || { log "arm $name: workload server did not start"; return 1; }
    {
        echo "== pod $ip (netns $pod), chain: $(python3 -c 'import json,sys; print(" + ".join(p["type"] for p in json.load(open(sys.argv[1]))["plugins"]))' "$RUN/bwm-$name.conflist")"
        vssh 1 -- "echo '== bwm0'; tc qdisc show dev bwm0; tc filter show dev bwm0 egress;
            for d in \$(ip -o link show master cni0 | cut -d: -f2 | cut -d@ -f1) $ifb; do echo \"== \$d\"; tc qdisc show dev \$d; tc filter show dev \$d ingress; done"
    } >"$RUN/$name-qdisc.txt" 2>&1
    [ "$name" = edt ] && vssh 1 -- "edgectl shape list --json" >"$RUN/edt-before.txt" 2>&1
    vssh 1 -- 'sysctl -qw kernel.bpf_stats_enabled=1'
    bpf_stats >"$RUN/$name-bpf-before.json"
    vssh 1 $(( BWM_WARMUP_MAX + BWM_SECONDS + 60 )) -- "ip netns exec bwmrcv python3 /root/bwm_probe.py load --dst $ip \
        --label $name --streams $BWM_STREAMS --bulk $BWM_BULK ${limit_arg[*]} --warmup 3 --warmup-max $BWM_WARMUP_MAX \
        --seconds $BWM_SECONDS --samples /root/$name-samples.csv" >"$OUT/$name.json" 2>"$RUN/$name-load.txt"
    local rc=$?
    bpf_stats >"$RUN/$name-bpf-after.json"
    vssh 1 -- 'sysctl -qw kernel.bpf_stats_enabled=0'
    python3 - "$RUN/$name-bpf-before.json" "$RUN/$name-bpf-after.json" >"$OUT/$name-bpf.json" <<'PY'
import json, sys
b, a = (json.load(open(p)) for p in sys.argv[1:3])
out = {}
for n in ("edt_classify", "edt_egress", "bwm_ref"):
    if n in a:
        dt, dc = a[n][0] - b.get(n, (0, 0))[0], a[n][1] - b.get(n, (0, 0))[1]
        out[n] = {"run_time_ns": dt, "run_cnt": dc, "ns_per_run": round(dt / dc, 1) if dc else None}
print(json.dumps(out))
PY
    vssh 1 -- "tc -s qdisc show dev bwm0; for d in $ifb; do tc -s qdisc show dev \$d; done" >>"$RUN/$name-qdisc.txt" 2>&1
    vscp 1 "root@127.0.0.1:/root/$name-samples.csv" "$OUT/" 2>/dev/null
    [ "$name" = edt ] && vssh 1 -- "edgectl shape list --json" >"$RUN/edt-after.txt" 2>&1
    vssh 1 -- "kill \$(cat /root/serve-$name.pid) 2>/dev/null; $chain del; ip netns del $pod" >"$RUN/$name-cni-del.json" 2>&1 \
        || log "arm $name: CNI DEL failed: $(tail -c 300 "$RUN/$name-cni-del.json")"
    [ "$name" = edt ] && vssh 1 -- "edgectl shape reset" >>"$RUN/edt-after.txt" 2>&1
    [ $rc = 0 ] || log "arm $name: load failed (rc $rc): $(tail -3 "$RUN/$name-load.txt")"
    return $rc
}
for a in $BWM_ARMS; do arm "$a"; done
vssh 1 -- 'cat /proc/loadavg' >"$RUN/guest-loadavg.txt" 2>&1

python3 - "$OUT" "$BWM_RATE_BPS" "$BWM_BURST_BITS" "$DEFAULT_QDISC" "$BWM_ARMS" "$RUN/tbf-qdisc.txt" <<'PY' | tee "$OUT/table.txt"
import json, os, re, sys
out, rate, burst, default_qdisc, arms, tbf_qdisc = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5].split(), sys.argv[6]
res, bpf = {}, {}
for a in arms:
    try:
        res[a] = json.load(open(os.path.join(out, f"{a}.json")))
    except (OSError, ValueError) as e:
        print(f"{a}: no result ({e})")
    try:
        bpf[a] = json.load(open(os.path.join(out, f"{a}-bpf.json")))
    except (OSError, ValueError):
        pass
try:
    tbf = re.search(r"qdisc tbf .*", open(tbf_qdisc).read()).group(0).strip()
except (OSError, AttributeError):
    tbf = "tbf on the ifb"
how = {"edt": "bridge + host-local + edgenode-bandwidth: edt_classify on the pod's veth, mq + fq + edt_egress on bwm0",
       "tbf": f"bridge + host-local + bandwidth (Debian's CNI plugin): veth ingress -> ifb, {tbf}",
       "none": f"bridge + host-local only (bwm0: {default_qdisc.split(' root')[0] or '?'})"}
first = next(iter(res.values())) if res else {}
print(f"pod egress limit {rate / 1e6:g} Mbit/s (runtimeConfig.bandwidth egressRate {rate:.0f}, egressBurst {burst} bits); "
      f"{first.get('streams', '?')} RR streams (64 B -> 1 KiB) + {first.get('bulk_flows', '?')} bulk TCP flows from the pod; "
      f"window {first.get('window_s', '?')} s per arm")
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
    print(f"{'EDT vs bandwidth plugin':<32} {'measured':>10} {'Cilium claim':>13}")
    print(f"{'median RR latency (TBF/EDT)':<32} {ratio(t['rr']['p50_ms'], e['rr']['p50_ms']):>10} {'~7x lower':>13}")
    print(f"{'p99 RR latency (TBF/EDT)':<32} {ratio(t['rr']['p99_ms'], e['rr']['p99_ms']):>10} {'~4x lower':>13}")
    print(f"{'RR transactions/s (EDT/TBF)':<32} {ratio(e['rr']['tps'], t['rr']['tps']):>10} {'~7x more':>13}")
    print(f"{'total goodput (EDT/TBF)':<32} {ratio(e['total_goodput_bps'], t['total_goodput_bps']):>10} {'':>13}")
if bpf:
    print()
    print("per-packet cost, bpf_stats (run_time_ns / run_cnt over the arm; one run = one skb, a GSO skb counts once).")
    print("Under TCG every instruction is emulated: bwm_ref (returns TC_ACT_OK, same packets as edt_classify) is the floor.")
    print(f"{'arm':<6} {'program':<14} {'runs':>10} {'ns/run':>9} {'minus ref':>10}  target")
    target = {"edt_classify": "<= 100 ns (hardware)", "edt_egress": "<= 150-200 ns (hardware)", "bwm_ref": "floor"}
    for a, progs in bpf.items():
        ref = (progs.get("bwm_ref") or {}).get("ns_per_run")
        for n in ("edt_classify", "edt_egress", "bwm_ref"):
            if n not in progs:
                continue
            p = progs[n]
            net = f"{p['ns_per_run'] - ref:.1f}" if p["ns_per_run"] is not None and ref is not None and n != "bwm_ref" else ""
            print(f"{a:<6} {n:<14} {p['run_cnt']:>10} {p['ns_per_run']!s:>9} {net:>10}  {target[n]}")
PY
log "done in $(( $(date +%s) - START )) s"
