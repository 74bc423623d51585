#!/usr/bin/env bash
# The VM test bed (make vm-test): boots two Debian 12 VMs with Debian's own kernel under qemu TCG,
# installs the freshly built .debs from out/ and checks what the build machines cannot: the
# units under systemd (READY/STATUS, watchdog restarts of both daemons, exposure), edgectl doctor
# on Debian's kernel, edgectl and the man pages, EDT shaping over real mq + fq, the CNI chain
# (bridge + host-local + edgenode-bandwidth) with masqueraded pods, the ansible rollout with TLS
# and a private CA, and the status/cleanup/rollback playbooks (each twice: changed=0), then a
# restore. Every check prints PASS or FAIL with its figures, a summary follows, and the exit
# status is non-zero if anything failed. VM_TEST_ONLY / VM_TEST_SKIP select sections.
#
# Bounded: every command has a timeout, the whole run has VM_TEST_TIMEOUT; the VMs are killed
# and their overlays removed on any exit. Logs of the last run: packaging/vm/.cache/last-run/.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$VM_DIR/boot.sh"

VM_COUNT=2
VM_CPUS=${VM_CPUS:-2}
VM_MEM=${VM_MEM:-1280}
VM_SSH_PORT_BASE=${VM_SSH_PORT_BASE:-2220}      # VM n: 127.0.0.1:(base + n) -> guest :22
VM_LINK_PORT_BASE=${VM_LINK_PORT_BASE:-40770}   # VM n's end of the VM<->VM UDP link: base + n
VM_TEST_TIMEOUT=${VM_TEST_TIMEOUT:-3600}        # seconds for the whole run (about 25 min of it is ansible)
VM_BOOT_TIMEOUT=${VM_BOOT_TIMEOUT:-600}
VM_WATCHDOG_SEC=${VM_WATCHDOG_SEC:-10}          # test drop-in; the shipped unit says 30s
SHAPE_RATE=${SHAPE_RATE:-50mbit}
SHAPE_RATE_BPS=${SHAPE_RATE_BPS:-50000000}
SHAPE_SECONDS=${SHAPE_SECONDS:-6}
EXPOSURE_MAX_AGENT=5.0                          # issue 5's targets
EXPOSURE_MAX_CONTROLLER=2.5

[ "$(id -u)" = 0 ] || die "vm-test.sh needs root (image build; the VMs themselves run unprivileged TCG)"
for tool in qemu-system-x86_64 qemu-img ssh scp python3 dpkg-parsechangelog ss; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool missing: apt-get install qemu-system-x86 qemu-utils openssh-client python3 dpkg-dev iproute2"
done

RUN_START=$(date +%s)
mkdir -p "$VM_CACHE"   # a fresh clone has no .cache yet
RUN=$(mktemp -d "$VM_CACHE/run.XXXXXX")
LOGS=$VM_CACHE/last-run
QEMU_PIDS=()
DEADLINE_PID=

# ------------------------------------------------------------------------------ results

PASSES=0
FAILS=0
SUMMARY=()
# check NAME pass|fail DETAILS: one result line now, and one in the summary.
check() {
    local name=$1 verdict=$2 details=$3 tag
    if [ "$verdict" = pass ]; then tag=PASS; PASSES=$((PASSES + 1)); else tag=FAIL; FAILS=$((FAILS + 1)); fi
    printf '%s  %-28s %s\n' "$tag" "$name" "$details"
    SUMMARY+=("$(printf '%s  %-28s %s' "$tag" "$name" "$details")")
}
elapsed() { echo $(( $(date +%s) - $1 )); }
# section NAME: whether to run that group of checks. VM_TEST_ONLY (names, space separated) runs
# only those; VM_TEST_SKIP leaves those out. Names: doctor watchdog shaping cni ansible playbooks.
section() {
    case " ${VM_TEST_SKIP:-} " in *" $1 "*) log "section $1 skipped (VM_TEST_SKIP)"; return 1;; esac
    [ -z "${VM_TEST_ONLY:-}" ] && return 0
    case " $VM_TEST_ONLY " in *" $1 "*) return 0;; esac
    log "section $1 skipped (VM_TEST_ONLY)"; return 1
}

# ------------------------------------------------------------------------------ cleanup

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    [ -n "$DEADLINE_PID" ] && kill "$DEADLINE_PID" 2>/dev/null
    vm_stop_all
    rm -rf "$LOGS"
    mv "$RUN" "$LOGS" 2>/dev/null
    log "VMs stopped; logs in $LOGS"
    exit "$rc"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM
( sleep "$VM_TEST_TIMEOUT"; log "VM_TEST_TIMEOUT ($VM_TEST_TIMEOUT s) reached: stopping"; kill -TERM $$ ) &
DEADLINE_PID=$!

# ------------------------------------------------------------------------------ inputs

VERSION=$(dpkg-parsechangelog -l "$REPO_ROOT/packaging/debian/changelog" -S Version)
if [ ! -f "$(deb edge-agent)" ] || [ ! -f "$(deb edgectl)" ] || [ ! -f "$(deb edge-controller)" ]; then
    log "no .debs of $VERSION in out/: running make deb (release build, slow)"
    make -C "$REPO_ROOT" deb || die "make deb failed"
fi
for p in edgectl edge-agent edge-controller; do [ -f "$(deb $p)" ] || die "missing $(deb $p)"; done

if ! command -v ansible-playbook >/dev/null 2>&1; then
    log "ansible-playbook missing: pip install ansible-core"
    python3 -m pip install -q ansible-core || python3 -m pip install -q --break-system-packages ansible-core \
        || die "cannot install ansible-core"
fi

vm_ports_free $(seq 1 $VM_COUNT)

"$VM_DIR/build-image.sh" || die "image build failed"
IMG=$VM_IMAGE_DIR
log "image: kernel $(cat "$IMG/kernel-version"), recipe $(cat "$IMG/recipe")"

# ------------------------------------------------------------------------------ boot

# VM n's link peer is the other VM (3 - n).
for n in $(seq 1 $VM_COUNT); do vm_start "$n" $(( 3 - n )) || die "cannot start VM $n"; done
log "booting $VM_COUNT VMs (TCG, $VM_CPUS vCPUs, $VM_MEM MiB each)"
vm_wait_ssh "$VM_BOOT_TIMEOUT" $(seq 1 $VM_COUNT)
ALL_UP=1
for n in $(seq 1 $VM_COUNT); do
    b=${BOOTED[$n]:-}
    if [ -n "$b" ] && [ "$b" != dead ]; then
        kernel=$(vssh "$n" -- 'systemd-analyze 2>/dev/null | head -1' | sed 's/Startup finished in //')
        check "boot vm$n" pass "SSH after ${b} s (systemd: ${kernel:-?})"
    else
        check "boot vm$n" fail "no SSH within $VM_BOOT_TIMEOUT s (${b:-timeout}); see $LOGS/console-vm$n.log"
        ALL_UP=0
    fi
done
[ "$ALL_UP" = 1 ] || exit 1

# ------------------------------------------------------------------------------ the VM link

out=$(vssh 1 -- 'ping -c 3 -i 0.3 -W 2 10.77.0.12' 2>&1)
if [ $? = 0 ]; then
    check "vm link (udp socket)" pass "vm1 -> vm2 10.77.0.12: $(echo "$out" | grep -o 'rtt.*' | cut -d' ' -f4 | cut -d/ -f2) ms avg"
else
    check "vm link (udp socket)" fail "ping 10.77.0.12 from vm1 failed: $(echo "$out" | tail -2 | tr '\n' ' ')"
fi

# ------------------------------------------------------------------------------ install

# vm1: controller + agent + edgectl, vm2: agent + edgectl, both at once.
T=$(date +%s)
vscp 1 "$(deb edgectl)" "$(deb edge-agent)" "$(deb edge-controller)" root@127.0.0.1:/root/ &
c1=$!
vscp 2 "$(deb edgectl)" "$(deb edge-agent)" root@127.0.0.1:/root/ &
c2=$!
wait $c1 $c2
# install_cmd (boot.sh): a missing library would come through the NAT, and "Need to get" in the result says so.
vssh 1 900 -- "$(install_cmd edgectl edge-agent edge-controller)" >"$RUN/install-vm1.log" 2>&1 &
p1=$!
vssh 2 900 -- "$(install_cmd edgectl edge-agent)" >"$RUN/install-vm2.log" 2>&1 &
p2=$!
wait $p1; rc1=$?
wait $p2; rc2=$?
t_install=$(elapsed "$T")
for n in 1 2; do
    rc=rc$n
    fetched=$(grep -o 'Need to get [^ ]* [^ ]*' "$RUN/install-vm$n.log" | head -1)
    if [ "${!rc}" = 0 ]; then
        check "apt install vm$n" pass "$(grep -o '[0-9]* newly installed' "$RUN/install-vm$n.log") in ${t_install} s (both VMs in parallel)${fetched:+; $fetched from the mirror}"
    else
        check "apt install vm$n" fail "rc ${!rc}: $(tail -3 "$RUN/install-vm$n.log" | tr '\n' ' ')"
    fi
done

# ------------------------------------------------------------------------------ units

# wait_active N UNIT SECONDS: until ActiveState=active (for Type=notify: READY=1 was sent).
# Gives up early on "failed" (e.g. an exit status in RestartPreventExitStatus=).
wait_active() {
    vssh "$1" $(( $3 + 15 )) -- "for i in \$(seq 1 $3); do case \$(systemctl show -p ActiveState --value $2) in
        active) exit 0;; failed) exit 1;; esac; sleep 1; done; exit 1"
}
# The daemon's own reason, not systemd's lines about it.
unit_reason() {
    vssh "$1" -- "journalctl -b -u $2 --no-pager -o cat | grep -v -e '^$2' -e 'thread priority' | grep -m2 -iE 'cannot|error|failed|denied'" 2>/dev/null | tr '\n' ' ' | cut -c1-400
}
declare -A ACTIVE=()
unit_check() {
    local n=$1 unit=$2 show
    T=$(date +%s)
    wait_active "$n" "$unit" 120
    show=$(vssh "$n" -- "systemctl show -p ActiveState,SubState,Type,StatusText,WatchdogUSec,NRestarts $unit")
    local active status
    active=$(echo "$show" | sed -n 's/^ActiveState=//p')
    status=$(echo "$show" | sed -n 's/^StatusText=//p')
    if [ "$active" = active ] && [ -n "$status" ]; then
        check "$unit vm$n" pass "READY (active/$(echo "$show" | sed -n 's/^SubState=//p')), STATUS=\"$status\""
        ACTIVE[$unit/$n]=1
    else
        check "$unit vm$n" fail "ActiveState=$active NRestarts=$(echo "$show" | sed -n 's/^NRestarts=//p') StatusText=\"$status\"; journal: $(unit_reason "$n" "$unit")"
    fi
    vssh "$n" -- "systemctl status --no-pager -n 0 $unit" >>"$RUN/systemctl-status-vm$n.log" 2>&1
}
unit_check 1 edge-controller.service
unit_check 1 edge-agent.service
unit_check 2 edge-agent.service
grep -h 'Status:' "$RUN"/systemctl-status-vm*.log | sed 's/^ */    systemctl status: /'

# ------------------------------------------------------------------------------ edgectl, man

for n in 1 2; do
    out=$(vssh "$n" -- 'edgectl status' 2>&1)
    if [ $? = 0 ] && [ -n "$out" ]; then check "edgectl status vm$n" pass "$(echo "$out" | head -3 | tr -s ' \n' ' ')"
    else check "edgectl status vm$n" fail "$(echo "$out" | tail -2 | tr '\n' ' ')"; fi
done
out=$(vssh 2 -- 'edgectl telemetry --json' 2>&1)
if [ $? = 0 ] && keys=$(echo "$out" | python3 -c 'import json,sys; print(",".join(sorted(json.load(sys.stdin))))' 2>/dev/null); then
    check "edgectl telemetry vm2" pass "JSON keys: $keys"
    vssh 2 -- 'edgectl telemetry' 2>&1 | head -12 | sed 's/^/    /'
else
    check "edgectl telemetry vm2" fail "$(echo "$out" | tail -2 | tr '\n' ' ')"
fi
out=$(vssh 1 -- 'edgectl nodes' 2>&1)
if [ $? = 0 ]; then check "edgectl nodes vm1" pass "controller answers: $(echo "$out" | head -2 | tr -s ' \n' ' ')"
else check "edgectl nodes vm1" fail "$(echo "$out" | tail -2 | tr '\n' ' ')"; fi

for page in "1 edgectl" "8 edge-agent" "8 edge-controller" "5 edge-agent.toml" "5 edge-controller.toml"; do
    set -- $page
    out=$(vssh 1 -- "MANWIDTH=80 man -P cat $1 $2 2>&1")
    if [ $? = 0 ] && echo "$out" | grep -q '^NAME' && [ "$(echo "$out" | wc -l)" -gt 20 ]; then
        check "man $2($1)" pass "$(echo "$out" | wc -l) lines: $(echo "$out" | sed -n '/^NAME/{n;p}' | sed 's/^ *//')"
    else
        check "man $2($1)" fail "$(echo "$out" | head -3 | tr '\n' ' ')"
    fi
done

# ------------------------------------------------------------------------------ doctor (issue 17)

# edgectl doctor on Debian's 6.1, where sch_fq, mq, clsact and cls_bpf exist and every telemetry
# hook has its preferred (5.18+) form (man/edge-agent.8, KERNEL VERSIONS): the qdisc lines must be
# OK; the verdict, the exit status and every line that is not OK (with its reason) are reported.
# `make check-kernel` is `edgectl doctor --no-agent` (exit >= 2 fails it): run in vm1 as well.
doctor_check() {
    local n=$1 text json rc_text rc_json rc_noagent figures
    text=$(vssh "$n" 120 -- 'edgectl doctor' 2>&1); rc_text=$?
    json=$(vssh "$n" 120 -- 'edgectl doctor --json' 2>"$RUN/doctor-vm$n.err"); rc_json=$?
    vssh "$n" 120 -- 'edgectl doctor --no-agent' >"$RUN/doctor-noagent-vm$n.log" 2>&1; rc_noagent=$?
    printf '%s\n' "$text" >"$RUN/doctor-vm$n.log"
    printf '%s\n' "$json" >"$RUN/doctor-vm$n.json"
    echo "$text" | sed 's/^/    /'
    if figures=$(python3 - "$RUN/doctor-vm$n.json" "$rc_text" "$rc_json" "$rc_noagent" "$n" <<'PY'
import json, sys
path, rc_text, rc_json, rc_noagent, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
r = json.load(open(path))
checks = {c["name"]: c for c in r["checks"]}
want_rc = {"OK": 0, "DEGRADED": 1, "MISSING": 2}.get(r["status"].upper(), -1)
qd = ["sch_fq", "mq", "clsact", "cls_bpf"]
got = {q: checks.get(q, {}).get("status", "absent") for q in qd}
ok = all(v.upper() == "OK" for v in got.values())
print(f"doctor qdiscs vm{n}|{'pass' if ok else 'fail'}|" + ", ".join(f"{q} {v}" for q, v in got.items())
      + f" (kernel {r['kernel']})")
counts = {}
for c in r["checks"]:
    counts[c["status"].upper()] = counts.get(c["status"].upper(), 0) + 1
notok = [f"{c['name']} {c['status']}: {c['detail']}" for c in r["checks"] if c["status"].upper() != "OK"]
# 6.1 >= 5.18: every hook in its preferred form, so the whole report should be OK (exit 0).
ok = r["status"].upper() == "OK" and rc_text == rc_json == want_rc == 0
print(f"doctor verdict vm{n}|{'pass' if ok else 'fail'}|{r['status']} exit {rc_text} (--json exit {rc_json}), "
      + ", ".join(f"{v} {k}" for k, v in sorted(counts.items())) + f" of {len(r['checks'])} lines"
      + (f"; not OK: {' | '.join(notok)}" if notok else ""))
print(f"check-kernel vm{n}|{'pass' if rc_noagent < 2 else 'fail'}|edgectl doctor --no-agent (make check-kernel) exit {rc_noagent}")
PY
    ); then
        while IFS='|' read -r name verdict details; do check "$name" "$verdict" "$details"; done <<<"$figures"
    else
        check "doctor vm$n" fail "no JSON report (exit $rc_json): $(tail -2 "$RUN/doctor-vm$n.err" | tr '\n' ' ') $(echo "$json" | head -c 300)"
    fi
}
section doctor && doctor_check 2

# ------------------------------------------------------------------------------ exposure

out=$(vssh 1 -- 'systemd-analyze security --no-pager edge-agent.service edge-controller.service' 2>&1)
echo "$out" >"$RUN/security.log"
for unit in edge-agent edge-controller; do
    score=$(echo "$out" | grep -o "Overall exposure level for $unit.service: [0-9.]*" | awk '{print $NF}')
    max=$EXPOSURE_MAX_AGENT; [ "$unit" = edge-controller ] && max=$EXPOSURE_MAX_CONTROLLER
    # the unit as systemd loaded it: LimitNOFILE (issue 13 item 5), the watchdog and abort timeouts
    props=$(vssh 1 -- "systemctl show -p LimitNOFILE,LimitNOFILESoft,WatchdogUSec,TimeoutAbortUSec $unit.service" 2>/dev/null \
        | sed 's/USec=/Sec=/' | tr '\n' ' ')
    if [ -n "$score" ] && python3 -c "import sys; sys.exit(0 if $score <= $max else 1)"; then
        check "exposure $unit" pass "$score (target <= $max); $props"
    else
        check "exposure $unit" fail "${score:-not found} (target <= $max)"
    fi
done

# ------------------------------------------------------------------------------ watchdog

# watchdog_check N UNIT [DROPIN_SEC]: kill -STOP the unit's main PID in VM N and time until
# systemd has another PID active (the watchdog fired, SIGABRT then SIGKILL after TimeoutAbortSec,
# RestartSec). With DROPIN_SEC a runtime drop-in shortens WatchdogSec first (the agent ships 30s);
# without it the shipped value is tested (the controller ships 4s).
watchdog_check() {
    local n=$1 unit=$2 dropin=${3:-} name="watchdog ${2%.service}"
    if [ -z "${ACTIVE[$unit/$n]:-}" ]; then
        check "$name" fail "not run: $unit is not active on vm$n"
        return
    fi
    if [ -n "$dropin" ]; then
        vssh "$n" -- "mkdir -p /run/systemd/system/$unit.d && printf '[Service]\nWatchdogSec=${dropin}s\n' >/run/systemd/system/$unit.d/vm-test-watchdog.conf && systemctl daemon-reload && systemctl restart $unit" >/dev/null 2>&1
        if ! wait_active "$n" "$unit" 120; then
            check "$name" fail "$unit did not come back after the drop-in restart: $(unit_reason "$n" "$unit")"
            return
        fi
    fi
    local before pid restarts wd abort out rc after restarts2 reason
    before=$(vssh "$n" -- "systemctl show -p MainPID,NRestarts,WatchdogUSec,TimeoutAbortUSec,RestartUSec $unit")
    pid=$(echo "$before" | sed -n 's/^MainPID=//p'); restarts=$(echo "$before" | sed -n 's/^NRestarts=//p')
    wd=$(echo "$before" | sed -n 's/^WatchdogUSec=//p'); abort=$(echo "$before" | sed -n 's/^TimeoutAbortUSec=//p')
    # Stop the daemon, then poll inside the guest (for the timing) until another PID is active.
    out=$(vssh "$n" 150 -- "python3 - $pid $unit" 2>&1 <<'PY'
import os, signal, subprocess, sys, time
pid, unit = int(sys.argv[1]), sys.argv[2]
os.kill(pid, signal.SIGSTOP)
t0 = time.monotonic()
while time.monotonic() - t0 < 120:
    props = dict(l.split("=", 1) for l in subprocess.run(
        ["systemctl", "show", "-p", "MainPID,ActiveState", unit],
        capture_output=True, text=True).stdout.split())
    if props.get("MainPID") not in (str(pid), "0") and props.get("ActiveState") == "active":
        print(f"{time.monotonic() - t0:.1f}")
        sys.exit(0)
    time.sleep(0.1)
sys.exit(1)
PY
)
    rc=$?
    after=$(vssh "$n" -- "systemctl show -p MainPID,NRestarts $unit")
    restarts2=$(echo "$after" | sed -n 's/^NRestarts=//p')
    reason=$(vssh "$n" -- "journalctl -b -u $unit --no-pager -o cat | grep -m1 -i 'watchdog timeout'" 2>/dev/null)
    if [ $rc = 0 ] && [ "${restarts2:-0}" -gt "${restarts:-0}" ]; then
        check "$name" pass "SIGSTOP pid $pid -> new PID active after $out s (WatchdogSec=$wd${dropin:+ (test drop-in)}, TimeoutAbortSec=$abort, RestartSec=2s); NRestarts $restarts -> $restarts2; journal: ${reason:-?}"
    else
        check "$name" fail "rc $rc, NRestarts $restarts -> $restarts2, $out"
    fi
    vssh "$n" -- "kill -CONT $pid 2>/dev/null; rm -f /run/systemd/system/$unit.d/vm-test-watchdog.conf; systemctl daemon-reload" >/dev/null 2>&1
    wait_active "$n" "$unit" 120 >/dev/null 2>&1
}
if section watchdog; then
    watchdog_check 2 edge-agent.service "$VM_WATCHDOG_SEC"
    # the controller with its shipped WatchdogSec=4s / TimeoutAbortSec=2s (issue 13)
    watchdog_check 1 edge-controller.service
fi

# ------------------------------------------------------------------------------ EDT over mq + fq

# In vm2: edt0 (root netns, the agent's shaping device, 4 TX queues) <-> edt1 in netns edtrcv.
# 10.78.0.1 is the shaped class; 10.78.0.3 on the same device has no class (its own fq flow).
SHAPE_CHECKS=("qdiscs on edt0" "shaped rate" "latency same class" "latency other flow" "shape reset")
shaping_check() {
    local out qd nfq horizon probe figures
    if [ -z "${ACTIVE[edge-agent.service/2]:-}" ]; then
        for c in "${SHAPE_CHECKS[@]}"; do check "$c" fail "not run: edge-agent is not active on vm2"; done
        return
    fi
    vscp 2 "$VM_DIR/probe/shape_probe.py" root@127.0.0.1:/root/
    if ! vssh 2 -- 'set -e
        ip netns add edtrcv
        ip link add edt0 numtxqueues 4 numrxqueues 4 type veth peer name edt1 numtxqueues 4 numrxqueues 4 netns edtrcv
        ip addr add 10.78.0.1/24 dev edt0; ip addr add 10.78.0.3/24 dev edt0; ip link set edt0 up
        ip -n edtrcv addr add 10.78.0.2/24 dev edt1; ip -n edtrcv link set edt1 up; ip -n edtrcv link set lo up
        printf "[shaping]\ndevice = \"edt0\"\n" >/etc/edgenode/agent.toml
        edge-agent --check-config --config /etc/edgenode/agent.toml >/dev/null
        systemctl restart edge-agent' >"$RUN/shape-setup.log" 2>&1 || ! wait_active 2 edge-agent.service 120; then
        for c in "${SHAPE_CHECKS[@]}"; do
            check "$c" fail "not run: agent on edt0 did not start: $(tail -2 "$RUN/shape-setup.log" | tr '\n' ' ') $(unit_reason 2 edge-agent.service)"
        done
        return
    fi
    if ! out=$(vssh 2 -- "edgectl shape set 10.78.0.1/32 $SHAPE_RATE && edgectl shape list" 2>&1); then
        for c in "${SHAPE_CHECKS[@]}"; do check "$c" fail "not run: edgectl shape set failed: $(echo "$out" | tail -2 | tr '\n' ' ')"; done
        return
    fi
    echo "$out" | sed 's/^/    /'
    horizon=$(vssh 2 -- 'edgectl shape list --json' | python3 -c 'import json,sys; print(json.load(sys.stdin)["classes"][0]["horizon_seconds"])' 2>/dev/null)
    qd=$(vssh 2 -- 'tc qdisc show dev edt0; tc filter show dev edt0 egress' 2>&1)
    nfq=$(echo "$qd" | grep -c '^qdisc fq ')
    if echo "$qd" | grep -q '^qdisc mq ' && [ "$nfq" = 4 ] && echo "$qd" | grep -q 'bpf.*direct-action'; then
        check "qdiscs on edt0" pass "mq root, fq on $nfq TX queues, cls_bpf direct-action on clsact egress"
    else
        check "qdiscs on edt0" fail "$(echo "$qd" | tr '\n' ' ')"
    fi
    vssh 2 -- 'edgectl shape list --json' >"$RUN/shape-before.json" 2>&1
    probe=$(vssh 2 $(( SHAPE_SECONDS + 90 )) -- "python3 /root/shape_probe.py run --netns edtrcv --dev edt0 --dst 10.78.0.2 \
        --shaped-src 10.78.0.1 --other-src 10.78.0.3 --rate $SHAPE_RATE_BPS --seconds $SHAPE_SECONDS" 2>&1)
    echo "$probe" >"$RUN/shape-probe.json"
    vssh 2 -- 'edgectl shape list --json' >"$RUN/shape-after.json" 2>&1
    vssh 2 -- 'tc -s qdisc show dev edt0' >"$RUN/tc-s-qdisc.log" 2>&1
    sed 's/^/    /' "$RUN/tc-s-qdisc.log" | head -24
    if figures=$(python3 "$VM_DIR/probe/judge_shape.py" edt "$probe" "${horizon:-0}"); then
        while IFS='|' read -r name verdict details; do check "$name" "$verdict" "$details"; done <<<"$figures"
    else
        for c in "shaped rate" "latency same class" "latency other flow"; do
            check "$c" fail "probe failed: $(echo "$probe" | tail -2 | tr '\n' ' ')"
        done
    fi
    python3 - "$RUN/shape-before.json" "$RUN/shape-after.json" <<'PY' 2>&1 | sed 's/^/    /'
import json, sys
try:
    b, a = (json.load(open(p))["classes"][0] for p in sys.argv[1:3])
except (ValueError, KeyError, IndexError) as e:
    sys.exit(f"class counters unreadable: {e}")
print(f"class counters over the probe: +{a['bytes'] - b['bytes']} bytes, +{a['packets'] - b['packets']} packets, "
      f"+{a['drops'] - b['drops']} drops, +{a['ecn_marks'] - b['ecn_marks']} CE marks")
PY
    out=$(vssh 2 -- 'edgectl shape reset && tc qdisc show dev edt0 && tc filter show dev edt0 egress' 2>&1)
    # look for a remaining filter line, not the word "bpf": edgectl's own report names /sys/fs/bpf
    if [ $? = 0 ] && ! echo "$out" | grep -q '^qdisc fq ' && ! echo "$out" | grep -q 'direct-action'; then
        check "shape reset" pass "EDT filter removed, edt0 root back to: $(echo "$out" | grep -m1 '^qdisc')"
    else
        check "shape reset" fail "$(echo "$out" | tr '\n' ' ')"
    fi
}
section shaping && shaping_check

# In vm2: sq0 has ONE TX queue, so the kernel refuses mq (EOPNOTSUPP); the agent must fall back to a
# single root fq, say why in its journal and status, still attach the EDT filter, and reset cleanly.
# This is the "active (single root fq: …)" branch, which CI's kernel (no sch_fq) cannot reach.
single_queue_check() {
    local out qd
    if [ -z "${ACTIVE[edge-agent.service/2]:-}" ]; then
        check "single-queue fallback" fail "not run: edge-agent is not active on vm2"; return
    fi
    if ! vssh 2 -- 'set -e
        ip netns add sqrcv
        ip link add sq0 numtxqueues 1 numrxqueues 1 type veth peer name sq1 netns sqrcv
        ip addr add 10.79.0.1/24 dev sq0; ip link set sq0 up; ip -n sqrcv link set sq1 up
        printf "[shaping]\ndevice = \"sq0\"\n" >/etc/edgenode/agent.toml
        systemctl restart edge-agent' >"$RUN/sq-setup.log" 2>&1 || ! wait_active 2 edge-agent.service 120; then
        check "single-queue fallback" fail "agent on sq0 did not start: $(tail -2 "$RUN/sq-setup.log" | tr '\n' ' ')"; return
    fi
    out=$(vssh 2 -- 'edgectl shape set 10.79.0.1/32 20mbit >/dev/null && edgectl status; tc qdisc show dev sq0;
        tc filter show dev sq0 egress; journalctl -u edge-agent -b --no-pager | grep -m1 "single root fq instead of mq"' 2>&1)
    echo "$out" >"$RUN/sq-check.log"
    qd=$(vssh 2 -- 'edgectl shape reset >/dev/null && tc qdisc show dev sq0 && tc filter show dev sq0 egress' 2>&1)
    if echo "$out" | grep -q '^qdisc fq [0-9a-f]*: root' && echo "$out" | grep -q 'direct-action' \
        && echo "$out" | grep -q 'active (single root fq' && echo "$out" | grep -q 'single root fq instead of mq' \
        && ! echo "$qd" | grep -q '^qdisc fq ' && ! echo "$qd" | grep -q 'direct-action'; then
        check "single-queue fallback" pass "sq0 (1 TX queue): root fq + EDT filter; journal: $(echo "$out" | grep -m1 -o 'single root fq instead of mq.*' | cut -c1-120); reset -> $(echo "$qd" | grep -m1 '^qdisc')"
    else
        check "single-queue fallback" fail "$(echo "$out" "$qd" | tr '\n' ' ' | cut -c1-400)"
    fi
}
section shaping && single_queue_check

# ------------------------------------------------------------------------------ CNI chain (issue 14)

# In vm2, a node as Kubernetes makes it: the shipped conflist (packaging/examples: bridge cni0 +
# host-local 10.244.1.0/24 with ipMasq, then edgenode-bandwidth) run by probe/cni_chain.py
# exactly as libcni runs it (CNI_* environment, each entry on stdin with prevResult and
# runtimeConfig.bandwidth egressRate/egressBurst as containerd fills them from
# kubernetes.io/egress-bandwidth). Two pods (netns poda, podb); their traffic is masqueraded out
# of the uplink veth up0 (4 TX queues; mq + fq + the EDT program, the agent's shaping device) to
# the receiver in netns cniout. Pod A is limited to CNI_RATE: its wire rate at the uplink must be
# within 5 %, its own RR latency bounded by its class's horizon; pod B's RR is unaffected.
CNI_RATE_BPS=${CNI_RATE_BPS:-30000000}
CNI_BURST_BITS=${CNI_BURST_BITS:-4294967295}     # containerd: math.MaxUint32 bits
CNI_CHECKS=("cni add (chain)" "cni rate pod A" "cni latency pod A" "cni pod B unaffected" "cni check/del")
cni_check() {
    local out setup a_ip b_ip horizon probe figures
    if [ -z "${ACTIVE[edge-agent.service/2]:-}" ]; then
        for c in "${CNI_CHECKS[@]}"; do check "$c" fail "not run: edge-agent is not active on vm2"; done
        return
    fi
    vscp 2 "$VM_DIR/probe/shape_probe.py" "$VM_DIR/probe/cni_chain.py" "$REPO_ROOT/packaging/examples/edgenode-bandwidth.conflist" \
        root@127.0.0.1:/root/
    if ! vssh 2 -- 'set -e
        ls /usr/lib/cni/bridge /usr/lib/cni/host-local /usr/lib/cni/edgenode-bandwidth >/dev/null
        ip netns add cniout
        ip link add up0 numtxqueues 4 numrxqueues 4 type veth peer name up1 numtxqueues 4 numrxqueues 4 netns cniout
        ip addr add 192.168.208.1/24 dev up0; ip link set up0 up
        ip -n cniout addr add 192.168.208.2/24 dev up1; ip -n cniout link set up1 up; ip -n cniout link set lo up
        sysctl -qw net.ipv4.ip_forward=1
        ip netns add poda; ip netns add podb
        printf "[shaping]\ndevice = \"up0\"\n" >/etc/edgenode/agent.toml
        systemctl restart edge-agent' >"$RUN/cni-setup.log" 2>&1 || ! wait_active 2 edge-agent.service 120; then
        for c in "${CNI_CHECKS[@]}"; do
            check "$c" fail "not run: setup failed: $(tail -2 "$RUN/cni-setup.log" | tr '\n' ' ') $(unit_reason 2 edge-agent.service)"
        done
        return
    fi
    local chain="python3 /root/cni_chain.py --conflist /root/edgenode-bandwidth.conflist"
    vssh 2 -- "$chain add --id pod-a --netns poda --egress-rate $CNI_RATE_BPS --egress-burst $CNI_BURST_BITS" >"$RUN/cni-add-a.json" 2>&1
    local rca=$?
    vssh 2 -- "$chain add --id pod-b --netns podb" >"$RUN/cni-add-b.json" 2>&1
    local rcb=$?
    a_ip=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["result"]["ips"][0]["address"].split("/")[0])' "$RUN/cni-add-a.json" 2>/dev/null)
    b_ip=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["result"]["ips"][0]["address"].split("/")[0])' "$RUN/cni-add-b.json" 2>/dev/null)
    out=$(vssh 2 -- 'edgectl shape list --json' 2>&1)
    echo "$out" >"$RUN/cni-shape-before.json"
    if [ $rca = 0 ] && [ $rcb = 0 ] && [ -n "$a_ip" ] && [ -n "$b_ip" ]; then
        horizon=$(echo "$out" | python3 -c 'import json,sys; c=[c for c in json.load(sys.stdin)["classes"] if c.get("origin")=="cni"]; print(c[0]["horizon_seconds"])' 2>/dev/null)
        check "cni add (chain)" pass "bridge + host-local + edgenode-bandwidth: pod A $a_ip ($CNI_RATE_BPS bit/s, burst $CNI_BURST_BITS bits), pod B $b_ip (no annotation); classes: $(echo "$out" | python3 -c 'import json,sys; print("; ".join("%s %s origin=%s horizon=%ss" % (c["selector"], c["rate"], c.get("origin"), c["horizon_seconds"]) for c in json.load(sys.stdin)["classes"]))' 2>/dev/null)"
    else
        check "cni add (chain)" fail "pod A rc $rca, pod B rc $rcb: $(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print([(s["plugin"], s["rc"], s["stdout"][:200]) for s in r["steps"] if s["rc"]])' "$RUN/cni-add-a.json" "$RUN/cni-add-b.json" 2>&1 | head -c 400)"
        for c in "cni rate pod A" "cni latency pod A" "cni pod B unaffected" "cni check/del"; do check "$c" fail "not run: ADD failed"; done
        return
    fi
    vssh 2 -- 'tc qdisc show dev up0; tc filter show dev up0 egress; for d in $(ip -o link show master cni0 | cut -d: -f2 | cut -d@ -f1); do echo "== $d"; tc filter show dev $d ingress; done; iptables -t nat -S POSTROUTING' >"$RUN/cni-tc.log" 2>&1
    probe=$(vssh 2 $(( SHAPE_SECONDS + 90 )) -- "python3 /root/shape_probe.py run --netns cniout --dev up0 --dst 192.168.208.2 \
        --shaped-src $a_ip --shaped-netns poda --other-src $b_ip --other-netns podb --rate $CNI_RATE_BPS --seconds $SHAPE_SECONDS" 2>&1)
    echo "$probe" >"$RUN/cni-probe.json"
    vssh 2 -- 'edgectl shape list --json' >"$RUN/cni-shape-after.json" 2>&1
    vssh 2 -- 'tc -s qdisc show dev up0' >"$RUN/cni-tc-s-qdisc.log" 2>&1
    if figures=$(python3 "$VM_DIR/probe/judge_shape.py" cni "$probe" "${horizon:-0}"); then
        while IFS='|' read -r name verdict details; do check "$name" "$verdict" "$details"; done <<<"$figures"
    else
        for c in "cni rate pod A" "cni latency pod A" "cni pod B unaffected"; do
            check "$c" fail "probe failed: $(echo "$probe" | tail -2 | tr '\n' ' ')"
        done
    fi
    python3 - "$RUN/cni-shape-before.json" "$RUN/cni-shape-after.json" <<'PY' 2>&1 | sed 's/^/    /'
import json, sys
try:
    b, a = ([c for c in json.load(open(p))["classes"] if c.get("origin") == "cni"][0] for p in sys.argv[1:3])
except (ValueError, KeyError, IndexError) as e:
    sys.exit(f"class counters unreadable: {e}")
print(f"pod A's class over the probe: +{a['bytes'] - b['bytes']} bytes, +{a['packets'] - b['packets']} packets, "
      f"+{a['drops'] - b['drops']} horizon drops (counted at the uplink after masquerade)")
PY
    # CHECK, then DEL (twice: DEL is idempotent), as libcni does with the cached result.
    local chk del1 del2 left
    vssh 2 -- "$chain check --id pod-a --netns poda --egress-rate $CNI_RATE_BPS --egress-burst $CNI_BURST_BITS" >"$RUN/cni-check-a.json" 2>&1; chk=$?
    vssh 2 -- "$chain del --id pod-a --netns poda --egress-rate $CNI_RATE_BPS --egress-burst $CNI_BURST_BITS && $chain del --id pod-b --netns podb" >"$RUN/cni-del.json" 2>&1; del1=$?
    vssh 2 -- "$chain del --id pod-a --netns poda --egress-rate $CNI_RATE_BPS --egress-burst $CNI_BURST_BITS" >"$RUN/cni-del2.json" 2>&1; del2=$?
    left=$(vssh 2 -- 'edgectl shape list --json' | python3 -c 'import json,sys; print(len([c for c in json.load(sys.stdin)["classes"] if c.get("origin")=="cni"]))' 2>/dev/null)
    if [ $chk = 0 ] && [ $del1 = 0 ] && [ $del2 = 0 ] && [ "$left" = 0 ]; then
        check "cni check/del" pass "CHECK rc 0; DEL pod A, pod B rc 0; DEL again rc 0; cni classes left: $left"
    else
        check "cni check/del" fail "CHECK rc $chk, DEL rc $del1, DEL again rc $del2, cni classes left: ${left:-?}; $(tail -c 300 "$RUN/cni-check-a.json")"
    fi
    vssh 2 -- 'edgectl shape reset >/dev/null; ip netns del poda; ip netns del podb; ip netns del cniout; ip link del cni0' >/dev/null 2>&1
}
section cni && cni_check

# ------------------------------------------------------------------------------ ansible, TLS

# The private CA (issue 13): a throwaway CA and a certificate for the controller on the VM link
# (IP 10.77.0.11), made here with openssl. The files live in /etc/ssl/edgenode, outside
# /etc/edgenode, so that cleanup.yml's purge leaves them; the key is root:edgenode 0640 (the
# controller runs as edgenode, with PrivateUsers=yes), so tls_install runs again after a purge
# and reinstall has made the group anew.
TLS_DIR=$RUN/tls
tls_make() {
    command -v openssl >/dev/null 2>&1 || { log "openssl missing"; return 1; }
    mkdir -p "$TLS_DIR" && (
        cd "$TLS_DIR" || exit 1
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.pem -days 2 \
            -subj "/CN=edgenode vm-test CA" -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" &&
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout server.key -out server.csr -subj "/CN=edgevm1" &&
        printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:10.77.0.11,IP:127.0.0.1,DNS:edgevm1\n' >server.ext &&
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile server.ext
    ) >"$RUN/tls-make.log" 2>&1
}
tls_install() {
    vscp 1 "$TLS_DIR/ca.pem" "$TLS_DIR/server.pem" "$TLS_DIR/server.key" root@127.0.0.1:/root/ &&
    vssh 1 -- 'set -e; install -d -m 0755 /etc/ssl/edgenode
        install -m 0644 /root/ca.pem /root/server.pem /etc/ssl/edgenode/
        install -m 0640 -o root -g edgenode /root/server.key /etc/ssl/edgenode/' &&
    vscp 2 "$TLS_DIR/ca.pem" root@127.0.0.1:/root/ &&
    vssh 2 -- 'install -d -m 0755 /etc/ssl/edgenode && install -m 0644 /root/ca.pem /etc/ssl/edgenode/'
}

# write_inventory FILE tls|plain: the two VMs over the SSH forwards; the agents push to the
# controller over the VM link, with TLS and the private CA or plain HTTP. vm1 also plays the
# kube-scheduler host for the extender rollback (a stand-in unit, see scheduler_standin).
write_inventory() {
    local url=http://10.77.0.11:8477 ca="" cert="" key=""
    if [ "$2" = tls ]; then
        url=https://10.77.0.11:8477; ca=/etc/ssl/edgenode/ca.pem
        cert=/etc/ssl/edgenode/server.pem; key=/etc/ssl/edgenode/server.key
    fi
    cat >"$1" <<EOF
# Generated by packaging/vm/vm-test.sh for this run ($2).
all:
  vars:
    ansible_host: 127.0.0.1
    ansible_user: root
    ansible_ssh_private_key_file: $VM_KEY
    ansible_ssh_common_args: -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null
    edgenode_install_from: deb
    edgenode_deb_dir: ${VM_DEB_DIR:-$REPO_ROOT/out}
    edgenode_version: "$VERSION"
  children:
    edge_controllers:
      hosts:
        vm1:
          ansible_port: $((VM_SSH_PORT_BASE + 1))
      vars:
        edge_controller_server_listen: 0.0.0.0:8477
        edge_controller_server_tls_cert: "$cert"
        edge_controller_server_tls_key: "$key"
        # [server] (listen, TLS) changes need a restart; the role's default "reloaded" keeps them
        # for the next start (ansible/roles/edge_controller/defaults/main.yml).
        edge_controller_config_change_action: restarted
    edge_agents:
      hosts:
        vm1:
          ansible_port: $((VM_SSH_PORT_BASE + 1))
        vm2:
          ansible_port: $((VM_SSH_PORT_BASE + 2))
      vars:
        edge_agent_controller_url: $url
        edge_agent_controller_ca_file: "$ca"
        edge_agent_controller_token_file: /etc/edgenode/token
    kube_schedulers:
      hosts:
        vm1:
          ansible_port: $((VM_SSH_PORT_BASE + 1))
EOF
}
INV=$RUN/inventory.yml
INV_PLAIN=$RUN/inventory-plain.yml

# ansible_run LOGNAME INVENTORY PLAYBOOK [ARGS...]: rc|seconds|recap (host ok changed unreachable failed;...)
ansible_run() {
    local name=$1 inv=$2
    shift 2
    T=$(date +%s)
    ( cd "$REPO_ROOT/ansible" && ANSIBLE_CONFIG=ansible.cfg ANSIBLE_NOCOLOR=1 ANSIBLE_HOST_KEY_CHECKING=False \
        timeout 900 ansible-playbook -i "$inv" "$@" ) >"$RUN/ansible-$name.log" 2>&1
    local rc=$? recap
    recap=$(sed -n '/PLAY RECAP/,$p' "$RUN/ansible-$name.log" | grep -E '^vm[0-9]' | awk '{print $1, $3, $4, $5, $6}' | tr -s ' ' | paste -sd';')
    echo "$rc|$(elapsed "$T")|$recap"
}
# changed_total RECAP: the sum of changed= over the hosts
changed_total() { echo "$1" | grep -o 'changed=[0-9]*' | cut -d= -f2 | awk '{s += $1} END {print s + 0}'; }
ansible_fail_lines() { grep -E 'fatal|FAILED|ERROR' "$RUN/ansible-$1.log" | head -2 | tr '\n' ' ' | cut -c1-300; }

# agents_report NAME: both VMs listed by `edgectl nodes` on vm1 within 40 s
agents_report() {
    local out
    out=$(vssh 1 60 -- 'for i in $(seq 1 40); do o=$(edgectl nodes 2>&1); echo "$o" | grep -q edgevm1 && echo "$o" | grep -q edgevm2 && { echo "$o"; exit 0; }; sleep 1; done; echo "$o"; exit 1' 2>&1)
    if [ $? = 0 ]; then check "$1" pass "edgectl nodes on vm1 lists edgevm1 and edgevm2 ($2)"
    else check "$1" fail "$(echo "$out" | tr '\n' ' ' | cut -c1-300)"; fi
    echo "$out" | sed 's/^/    /'
}

# From vm2 to the controller's listener: with the private CA the handshake verifies the
# certificate for 10.77.0.11; with the system trust store it is refused; plain HTTP gets no answer.
tls_probe() {
    local out
    out=$(vssh 2 60 -- 'python3 -' 2>&1 <<'PY'
import http.client, json, ssl
host, port, res = "10.77.0.11", 8477, {}
try:
    ctx = ssl.create_default_context(cafile="/etc/ssl/edgenode/ca.pem")
    c = http.client.HTTPSConnection(host, port, context=ctx, timeout=5)
    c.request("GET", "/healthz")
    r = c.getresponse()
    res["ca"] = {"status": r.status, "version": c.sock.version(), "cipher": c.sock.cipher()[0],
                 "subject": dict(x[0] for x in c.sock.getpeercert()["subject"]).get("commonName")}
except Exception as e:
    res["ca"] = {"error": f"{type(e).__name__}: {e}"}
try:
    c = http.client.HTTPSConnection(host, port, context=ssl.create_default_context(), timeout=5)
    c.request("GET", "/healthz")
    res["system_trust"] = {"status": c.getresponse().status}
except ssl.SSLCertVerificationError as e:
    res["system_trust"] = {"refused": e.verify_message}
except Exception as e:
    res["system_trust"] = {"error": f"{type(e).__name__}: {e}"}
try:
    c = http.client.HTTPConnection(host, port, timeout=5)
    c.request("GET", "/healthz")
    res["plain"] = {"status": c.getresponse().status}
except Exception as e:
    res["plain"] = {"refused": f"{type(e).__name__}"}
print(json.dumps(res))
PY
)
    echo "$out" >"$RUN/tls-probe.json"
    local figures
    if figures=$(python3 - "$out" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
ca, st, pl = r["ca"], r["system_trust"], r["plain"]
ok = ca.get("status") == 200 and "refused" in st and "status" not in pl
print(f"{'pass' if ok else 'fail'}|private CA: /healthz {ca.get('status', ca.get('error'))} over {ca.get('version')} {ca.get('cipher')} "
      f"(CN {ca.get('subject')}); system trust store: {st.get('refused') or st}; plain HTTP: {pl.get('refused') or pl}")
PY
    ); then
        check "tls private CA" "${figures%%|*}" "${figures#*|}"
    else
        check "tls private CA" fail "probe failed: $(echo "$out" | tail -2 | tr '\n' ' ')"
    fi
    # the agents' pushes since the rollout: no TLS or push errors in vm2's journal
    local errs
    errs=$(vssh 2 -- "journalctl -u edge-agent --since '-60s' --no-pager -o cat | grep -ciE 'push.*(fail|error)|certificate|tls'" 2>/dev/null)
    echo "    vm2 edge-agent journal, last 60 s: ${errs:-0} push/TLS error lines"
}

if section ansible; then
    if tls_make && tls_install; then TLS_MODE=tls
    else
        TLS_MODE=plain
        check "tls private CA" fail "could not make or install the certificates: $(tail -2 "$RUN/tls-make.log" | tr '\n' ' ')"
    fi
    write_inventory "$INV" "$TLS_MODE"
    write_inventory "$INV_PLAIN" plain
    IFS='|' read -r rc1 t1 recap1 <<<"$(ansible_run site-1 "$INV" site.yml)"
    if [ "$rc1" = 0 ]; then check "ansible rollout" pass "site.yml ($TLS_MODE) in ${t1} s: $recap1"
    else check "ansible rollout" fail "rc $rc1 in ${t1} s: $recap1; $(ansible_fail_lines site-1)"; fi
    if [ "$rc1" != 0 ]; then
        check "ansible idempotent" fail "not run: the first rollout failed"
        check "agents report to controller" fail "not run: the first rollout failed"
    else
        IFS='|' read -r rc2 t2 recap2 <<<"$(ansible_run site-2 "$INV" site.yml)"
        if [ "$rc2" = 0 ] && [ "$(changed_total "$recap2")" = 0 ] && [ -n "$recap2" ]; then check "ansible idempotent" pass "second run in ${t2} s: $recap2"
        else check "ansible idempotent" fail "rc $rc2: $recap2"; fi
        # The agents now push to the controller over the VM link: both nodes must show up.
        agents_report "agents report to controller" "push over $( [ "$TLS_MODE" = tls ] && echo "HTTPS with the private CA" || echo "plain HTTP"), 10.77.0.0/24"
        [ "$TLS_MODE" = tls ] && tls_probe
    fi
fi

# ------------------------------------------------------------------------------ playbooks (issue 17)

# kube-scheduler stand-in on vm1 for rollback-extender.yml: a unit that reads the scheduler
# configuration at start and then answers /healthz (plain HTTP on 127.0.0.1:10259; the playbook's
# kube_scheduler_healthz is pointed at it). The MTTR it yields is the playbook's own cost (edit,
# restart, health wait) on this bed, not a real kube-scheduler's start-up.
scheduler_standin() {
    vscp 1 "$REPO_ROOT/packaging/examples/kube-scheduler-config.yaml" root@127.0.0.1:/root/ &&
    vssh 1 -- 'set -e
        install -d /etc/kubernetes
        install -m 0644 /root/kube-scheduler-config.yaml /etc/kubernetes/kube-scheduler-config.yaml
        cat >/usr/local/bin/kube-scheduler-standin <<"PY"
#!/usr/bin/python3
# vm-test stand-in for kube-scheduler: reads its configuration, then serves /healthz.
import http.server, sys
config = open(sys.argv[1]).read()
print("extenders" in config and "with the edgenode extender" or "without extenders", flush=True)
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/healthz" else 404); self.end_headers(); self.wfile.write(b"ok")
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", 10259), H).serve_forever()
PY
        chmod 0755 /usr/local/bin/kube-scheduler-standin
        printf "[Unit]\nDescription=kube-scheduler stand-in (vm-test)\n[Service]\nExecStart=/usr/local/bin/kube-scheduler-standin /etc/kubernetes/kube-scheduler-config.yaml\n" \
            >/etc/systemd/system/kube-scheduler.service
        systemctl daemon-reload; systemctl start kube-scheduler
        for i in $(seq 1 50); do python3 -c "import urllib.request; urllib.request.urlopen(\"http://127.0.0.1:10259/healthz\", timeout=1)" 2>/dev/null && exit 0; sleep 0.2; done
        exit 1'
}
HEALTHZ=(-e kube_scheduler_healthz=http://127.0.0.1:10259/healthz)

# cleanup_pair NAME TAGS VERIFY: cleanup.yml --tags TAGS twice; both runs must succeed, the second
# with changed=0, and the function VERIFY (prints its figures; status 0 = the layer is gone) must
# hold afterwards.
cleanup_pair() {
    local name=$1 tags=$2 verify=$3 rc1 t1 r1 rc2 t2 r2 v vrc
    IFS='|' read -r rc1 t1 r1 <<<"$(ansible_run "cleanup-$tags-1" "$INV" cleanup.yml --tags "$tags" "${HEALTHZ[@]}")"
    IFS='|' read -r rc2 t2 r2 <<<"$(ansible_run "cleanup-$tags-2" "$INV" cleanup.yml --tags "$tags" "${HEALTHZ[@]}")"
    v=$("$verify" 2>&1); vrc=$?
    if [ "$rc1" = 0 ] && [ "$rc2" = 0 ] && [ -n "$r2" ] && [ "$(changed_total "$r2")" = 0 ] && [ $vrc = 0 ]; then
        check "$name" pass "run 1 in ${t1} s changed=$(changed_total "$r1") ($r1); run 2 in ${t2} s changed=0; $v"
    else
        check "$name" fail "run 1 rc $rc1 changed=$(changed_total "$r1"), run 2 rc $rc2 ($r2); $v; $(ansible_fail_lines "cleanup-$tags-1") $(ansible_fail_lines "cleanup-$tags-2")"
    fi
}
root_qdisc() { vssh "$1" -- "tc qdisc show dev eth0 | head -1 | awk '{print \$2}'"; }
verify_network() {
    local n q c ok=0
    for n in 1 2; do
        q=$(root_qdisc "$n")
        c=$(vssh "$n" -- 'edgectl shape list --json' | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["classes"]))' 2>/dev/null)
        printf 'vm%s eth0 root %s (before %s), %s classes; ' "$n" "$q" "${Q_BEFORE[$n]}" "${c:-?}"
        [ "$q" = "${Q_BEFORE[$n]}" ] && [ "$c" = 0 ] || ok=1
    done
    return $ok
}
verify_ebpf() {
    local n out ok=0
    for n in 1 2; do
        out=$(vssh "$n" -- 'echo "agent $(systemctl is-active edge-agent)"; test -e /sys/fs/bpf/edgenode && echo "pins left" || echo "unpinned";
            echo "$(bpftool prog show 2>/dev/null | grep -cE "name (edt_|edge_)") edgenode programs"' | tr '\n' ' ')
        printf 'vm%s: %s; ' "$n" "$out"
        echo "$out" | grep -q 'agent active ' && ok=1
        echo "$out" | grep -q 'pins left' && ok=1
        echo "$out" | grep -q ' 0 edgenode programs' || ok=1
    done
    return $ok
}
verify_scheduler() {
    local m r2 ext
    m=$(grep -o 'MTTR_s=[0-9.]*' "$RUN/ansible-cleanup-scheduler-1.log" | head -1)
    r2=$(grep -o 'ROLLBACK done[^"]*' "$RUN/ansible-cleanup-scheduler-2.log" | head -1 | grep -o 'changed=[A-Za-z]*')
    ext=$(vssh 1 -- 'grep -c urlPrefix /etc/kubernetes/kube-scheduler-config.yaml; systemctl is-active kube-scheduler' | tr '\n' ' ')
    printf 'run 1 %s; run 2 %s; extenders left / kube-scheduler: %s' "${m:-no MTTR line}" "${r2:-?}" "$ext"
    [ -n "$m" ] && [ "$r2" = changed=False ] && echo "$ext" | grep -q '^0 active'
}
verify_all() {
    local n out ok=0
    for n in 1 2; do
        out=$(vssh "$n" -- 'for p in edge-agent edgectl edge-controller; do printf "%s=%s " $p "$(dpkg-query -W -f="\${db:Status-Abbrev}" $p 2>/dev/null | tr -d " ")"; done;
            echo "controller $(systemctl is-active edge-controller)"')
        printf 'vm%s: %s; ' "$n" "$out"
        echo "$out" | grep -q '=ii' && ok=1
    done
    return $ok
}
verify_destructive() {
    local n out ok=0
    for n in 1 2; do
        out=$(vssh "$n" -- 'test -e /etc/edgenode && echo -n "/etc/edgenode left, " || echo -n "/etc/edgenode gone, ";
            id edgenode >/dev/null 2>&1 && echo -n "user left, " || echo -n "user gone, ";
            echo "$(dpkg -l "edge*" 2>/dev/null | grep -cE "^(ii|rc)") packages or configs left"')
        printf 'vm%s: %s; ' "$n" "$out"
        echo "$out" | grep -q '/etc/edgenode gone, user gone, 0 packages' || ok=1
    done
    return $ok
}

playbooks_check() {
    local n rc t recap out
    # a class on each agent, so that the network layer has something to undo (a prefix nothing
    # sends from: SSH keeps its path through the default route's device)
    for n in 1 2; do
        Q_BEFORE[$n]=$(root_qdisc "$n")
        vssh "$n" -- 'edgectl shape set 10.99.0.1/32 10mbit' >"$RUN/playbooks-shape-vm$n.log" 2>&1
    done
    IFS='|' read -r rc t recap <<<"$(ansible_run status "$INV" status.yml)"
    out=$(grep -c 'STATUS vm[12]' "$RUN/ansible-status.log")
    if [ "$rc" = 0 ] && [ "$(changed_total "$recap")" = 0 ] && [ "$out" -ge 2 ] && grep -q '10.99.0.1' "$RUN/ansible-status.log"; then
        check "playbook status" pass "status.yml in ${t} s, changed=0, STATUS blocks for vm1 and vm2 (units, attached programs, classes incl. 10.99.0.1/32, qdiscs of $(grep -o '== qdiscs and filters of [a-z0-9]*' "$RUN/ansible-status.log" | head -1 | awk '{print $NF}'))"
    else
        check "playbook status" fail "rc $rc, $recap, STATUS blocks $out; $(ansible_fail_lines status)"
    fi
    cleanup_pair "playbook cleanup network" network verify_network
    cleanup_pair "playbook cleanup ebpf" ebpf verify_ebpf
    if scheduler_standin >"$RUN/scheduler-standin.log" 2>&1; then
        cleanup_pair "playbook rollback extender" scheduler verify_scheduler
        MTTR=$(grep -o 'MTTR_s=[0-9.]*' "$RUN/ansible-cleanup-scheduler-1.log" | head -1)
        grep -o 'ROLLBACK [a-z]* .*' "$RUN/ansible-cleanup-scheduler-1.log" | sed 's/"[,]*$//; s/^/    /'
    else
        check "playbook rollback extender" fail "kube-scheduler stand-in did not start: $(tail -2 "$RUN/scheduler-standin.log" | tr '\n' ' ')"
    fi
    cleanup_pair "playbook cleanup all" all verify_all
    cleanup_pair "playbook cleanup destructive" destructive verify_destructive
    # restore: a fresh install (plain), the certificates again (the group is new), then TLS
    IFS='|' read -r rc t recap <<<"$(ansible_run site-restore-plain "$INV_PLAIN" site.yml)"
    local rc_p=$rc t_p=$t
    if [ "$TLS_MODE" = tls ]; then
        tls_install >/dev/null 2>&1
        IFS='|' read -r rc t recap <<<"$(ansible_run site-restore "$INV" site.yml)"
    fi
    if [ "$rc_p" = 0 ] && [ "$rc" = 0 ]; then
        check "playbook restore (site.yml)" pass "after the purge: site.yml plain in ${t_p} s, then $TLS_MODE in ${t} s: $recap"
        agents_report "agents report after restore" "push over $TLS_MODE again"
    else
        check "playbook restore (site.yml)" fail "plain rc $rc_p, $TLS_MODE rc $rc: $recap; $(ansible_fail_lines site-restore-plain) $(ansible_fail_lines site-restore)"
    fi
}
declare -A Q_BEFORE=()
MTTR=
section playbooks && section ansible && playbooks_check

# ------------------------------------------------------------------------------ summary

for n in $(seq 1 $VM_COUNT); do
    vssh "$n" -- 'journalctl -b --no-pager -u edge-agent -u edge-controller' >"$RUN/journal-vm$n.log" 2>&1
done

echo
echo "== VM test bed summary: $PASSES passed, $FAILS failed, $(elapsed "$RUN_START") s =="
printf '%s\n' "${SUMMARY[@]}"
[ "$FAILS" = 0 ]
