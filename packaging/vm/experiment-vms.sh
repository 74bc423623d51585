#!/usr/bin/env bash
# The placement experiment on a bed of VMs, one per node (make experiment-vms): every node has its
# own Debian kernel, so its agent measures its own run queue and CPU (S4 reaches the score through
# them, not only through TCP), netem exists (S1), and the agent is the packaged one.
#
#   host netns EXNS:  bridge exbr0 198.18.0.1/24 ── tap exvmN ── VM N eth1 198.18.0.(10+N)
#                     edge-controller (the host's release build), the load client, edge-experiment
#   VM N:             edge-agent from out/*.deb, workload/probe servers, the faults
#
# edge-experiment runs on the host and reaches the VMs over SSH (qemu's user-mode NAT, NIC 1)
# inside EXNS. The VMs get the same static edge-experiment binary, loss.bpf.o and cpu_load.py at
# the same absolute paths as the host, so one command line names them everywhere.
#
#   usage: experiment-vms.sh EDGE_EXPERIMENT_BINARY [edge-experiment run options…]
#   EXPERIMENT_VMS_NODES (3), VM_CPUS (1), VM_MEM (1024), EXPERIMENT_VMS_TIMEOUT (3600 s)
#
# Bounded: every command has a timeout and the whole run a deadline; the VMs are killed and the
# namespace deleted on any exit.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$VM_DIR/boot.sh"

EXE=${1:?usage: experiment-vms.sh EDGE_EXPERIMENT_BINARY [edge-experiment run options]}
shift
EXE=$(realpath "$EXE")
NODES=${EXPERIMENT_VMS_NODES:-3}
VM_CPUS=${VM_CPUS:-1}
VM_MEM=${VM_MEM:-1024}
VM_SSH_PORT_BASE=${EXPERIMENT_VMS_SSH_PORT_BASE:-2250}
VM_BOOT_TIMEOUT=${VM_BOOT_TIMEOUT:-300}
EXPERIMENT_VMS_TIMEOUT=${EXPERIMENT_VMS_TIMEOUT:-3600}
HOST_BIN=${EXPERIMENT_VMS_HOST_BIN:-$REPO_ROOT/.build/release}
VM_NETNS=exvms$$
BRIDGE_ADDR=198.18.0.1

[ "$(id -u)" = 0 ] || die "experiment-vms.sh needs root (namespace, taps, image build)"
[ -x "$EXE" ] || die "$EXE is not an executable (make experiment-vms builds it)"
if ldd "$EXE" 2>/dev/null | grep -q libswiftCore; then
    die "$EXE links the Swift runtime dynamically; build it with --static-swift-stdlib"
fi
[ -x "$HOST_BIN/edge-controller" ] || die "$HOST_BIN/edge-controller missing (make release)"
case "$NODES" in [2-8]) ;; *) die "EXPERIMENT_VMS_NODES must be 2…8, got $NODES";; esac
LOSS_OBJ=$REPO_ROOT/Sources/CEdgeShim/bpfobj/loss.bpf.o
CPU_SCRIPT=$REPO_ROOT/Tests/scripts/cpu_load.py
[ -f "$LOSS_OBJ" ] || die "$LOSS_OBJ missing (make bpf)"
for tool in qemu-system-x86_64 qemu-img ssh scp python3 dpkg-parsechangelog ss ip; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool missing: apt-get install qemu-system-x86 qemu-utils openssh-client python3 dpkg-dev iproute2"
done
[ -c /dev/net/tun ] || die "/dev/net/tun missing: the VMs' links are taps (modprobe tun)"

START=$(date +%s)
# OUT: where the VMs' logs go; once the runner has written its results, their vms/ subdirectory.
vm_single_setup expvms "$EXPERIMENT_VMS_TIMEOUT" "$REPO_ROOT/experiments/results/vms-$(date -u +%Y%m%dT%H%M%SZ)"
vm_inputs edgectl edge-agent

# The bed's link: a bridge in a namespace of its own, one tap per VM.
ip netns add "$VM_NETNS" || die "cannot create namespace $VM_NETNS"
ip -n "$VM_NETNS" link set lo up
ip -n "$VM_NETNS" link add exbr0 type bridge || die "cannot create the bridge"
ip -n "$VM_NETNS" addr add "$BRIDGE_ADDR/24" dev exbr0
ip -n "$VM_NETNS" link set exbr0 up
NODE_ARGS=()
for n in $(seq 1 "$NODES"); do
    ip -n "$VM_NETNS" tuntap add dev "exvm$n" mode tap || die "cannot create tap exvm$n"
    ip -n "$VM_NETNS" link set "exvm$n" master exbr0
    ip -n "$VM_NETNS" link set "exvm$n" up
    NODE_ARGS+=(--vm-node "198.18.0.$((10 + n)):$((VM_SSH_PORT_BASE + n))")
done
vm_ports_free $(seq 1 "$NODES")

for n in $(seq 1 "$NODES"); do vm_start "$n" "tap:exvm$n" || die "cannot start VM $n"; done
log "booting $NODES VMs (TCG, $VM_CPUS vCPU, $VM_MEM MiB each) in $VM_NETNS"
vm_wait_ssh "$VM_BOOT_TIMEOUT" $(seq 1 "$NODES")
for n in $(seq 1 "$NODES"); do
    case "${BOOTED[$n]:-}" in ''|dead) die "VM $n: no SSH within $VM_BOOT_TIMEOUT s (${BOOTED[$n]:-timeout}); see $OUT/console-vm$n.log";; esac
done
log "SSH after $(for n in $(seq 1 "$NODES"); do printf '%s ' "${BOOTED[$n]}"; done)s; kernel $(vssh 1 -- uname -r)"

# Each VM: the agent package and edgectl, which it depends on (the agent's unit stopped: the bed starts the agent itself, with the bed's
# configuration), the bed's files at the host's paths, its address on the bridge. In parallel.
prepare() {
    local n=$1
    vssh "$n" -- "mkdir -p '$(dirname "$EXE")' '$(dirname "$LOSS_OBJ")' '$(dirname "$CPU_SCRIPT")'" || return 1
    vscp "$n" "$(deb edgectl)" "$(deb edge-agent)" root@127.0.0.1:/root/ || return 1
    vscp "$n" "$EXE" "root@127.0.0.1:$EXE" && vscp "$n" "$LOSS_OBJ" "root@127.0.0.1:$LOSS_OBJ" \
        && vscp "$n" "$CPU_SCRIPT" "root@127.0.0.1:$CPU_SCRIPT" || return 1
    vssh "$n" 600 -- "$(install_cmd edgectl edge-agent)" || return 1
    vssh "$n" -- "systemctl disable --now edge-agent" || return 1
    # one wire packet per skb, as on the namespace bed's veths: faults act on packets, not GSO bursts
    vssh "$n" -- "ip addr add 198.18.0.$((10 + n))/24 dev eth1 && ip link set eth1 gso_max_segs 1 && ip link set eth1 up" || return 1
}
PREP_PIDS=()
for n in $(seq 1 "$NODES"); do prepare "$n" >"$RUN/prepare-vm$n.log" 2>&1 & PREP_PIDS+=($!); done
for n in $(seq 1 "$NODES"); do
    wait "${PREP_PIDS[$((n - 1))]}" || die "VM $n: preparation failed: $(tail -3 "$RUN/prepare-vm$n.log")"
done
for n in $(seq 1 "$NODES"); do
    vssh "$n" -- "ping -c 1 -W 5 $BRIDGE_ADDR" >/dev/null || die "VM $n does not reach $BRIDGE_ADDR over the bridge"
done
log "VMs ready: edge-agent $VERSION installed, bridge up"

log "edge-experiment run --nodes $NODES $*"
"$EXE" run --bin "$HOST_BIN" --experiments "$REPO_ROOT/experiments" --loss-object "$LOSS_OBJ" --cpu-script "$CPU_SCRIPT" \
    --nodes "$NODES" --vm-netns "$VM_NETNS" --vm-ssh-key "$VM_KEY" --vm-controller-address "$BRIDGE_ADDR" \
    "${NODE_ARGS[@]}" "$@" 2>&1 | tee "$RUN/experiment.log"
RC=${PIPESTATUS[0]}

LATEST=$(readlink -f "$REPO_ROOT/experiments/results/latest")
[ -n "$LATEST" ] && [ "$LATEST" -nt "$RUN" ] && OUT=$LATEST/vms
for py in python3 /usr/bin/python3; do
    if "$py" -c 'import matplotlib' 2>/dev/null; then "$py" "$REPO_ROOT/experiments/plot.py" "$LATEST"; break; fi
done
log "done in $(( $(date +%s) - START )) s (edge-experiment exit status $RC); results in $LATEST"
exit "$RC"
