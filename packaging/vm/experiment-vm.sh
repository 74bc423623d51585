#!/usr/bin/env bash
# The placement experiment's network-namespace test bed run *inside* a Debian 12 VM (make
# experiment-vm): Debian's kernel has sch_netem, so S1 (delay 20 ms ± 5 ms) runs for real, which
# the build machines' kernel cannot do. The edge-agent and edge-controller are the ones from
# out/*.deb (installed, their units stopped: the bed starts its own per node), edge-experiment
# is a release build with the Swift runtime linked in (one file to copy). Results are copied
# back to experiments/results/vm-<UTC time>/ and plotted on the host.
#
#   usage: experiment-vm.sh EDGE_EXPERIMENT_BINARY [edge-experiment run options…]
#
# Bounded: every command has a timeout, the whole run EXPERIMENT_VM_TIMEOUT; the VM is killed on
# any exit.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$VM_DIR/boot.sh"

EXE=${1:?usage: experiment-vm.sh EDGE_EXPERIMENT_BINARY [edge-experiment run options]}
shift
VM_CPUS=${VM_CPUS:-2}
VM_MEM=${VM_MEM:-2048}
VM_SSH_PORT_BASE=${EXPERIMENT_VM_SSH_PORT_BASE:-2240}
VM_LINK_PORT_BASE=${VM_LINK_PORT_BASE:-40790}
VM_BOOT_TIMEOUT=${VM_BOOT_TIMEOUT:-240}
EXPERIMENT_VM_TIMEOUT=${EXPERIMENT_VM_TIMEOUT:-3600}

[ "$(id -u)" = 0 ] || die "experiment-vm.sh needs root (image build)"
[ -x "$EXE" ] || die "$EXE is not an executable (make experiment-vm builds it)"
if ldd "$EXE" 2>/dev/null | grep -q libswiftCore; then
    die "$EXE links the Swift runtime dynamically; build it with --static-swift-stdlib"
fi
LOSS_OBJ=$REPO_ROOT/Sources/CEdgeShim/bpfobj/loss.bpf.o
[ -f "$LOSS_OBJ" ] || die "$LOSS_OBJ missing (make bpf)"
for tool in qemu-system-x86_64 qemu-img ssh scp python3 dpkg-parsechangelog ss; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool missing: apt-get install qemu-system-x86 qemu-utils openssh-client python3 dpkg-dev iproute2"
done

START=$(date +%s)
vm_single_setup expvm "$EXPERIMENT_VM_TIMEOUT" "$REPO_ROOT/experiments/results/vm-$(date -u +%Y%m%dT%H%M%SZ)"
vm_single_boot edgectl edge-agent edge-controller

# What the bed needs in the guest, laid out as in the repository (relative paths in the options).
vssh 1 -- 'mkdir -p /root/edgenode/experiments /root/edgenode/bpf /root/edgenode/scripts' || die "ssh failed"
vscp 1 "$EXE" root@127.0.0.1:/root/edgenode/ || die "copy of edge-experiment failed"
vscp 1 "$REPO_ROOT/experiments/agent.toml" "$REPO_ROOT/experiments/controller.toml" root@127.0.0.1:/root/edgenode/experiments/ \
    && vscp 1 "$LOSS_OBJ" root@127.0.0.1:/root/edgenode/bpf/ \
    && vscp 1 "$REPO_ROOT/Tests/scripts/cpu_load.py" root@127.0.0.1:/root/edgenode/scripts/ || die "copy of the bed's files failed"
vssh 1 300 -- "$(install_cmd edgectl edge-agent edge-controller)" >"$RUN/install.log" 2>&1 || die "apt install failed: $(tail -3 "$RUN/install.log")"
# The packaged units would run a second agent and controller next to the bed's own.
vssh 1 -- 'systemctl disable --now edge-agent edge-controller' >>"$RUN/install.log" 2>&1

log "edge-experiment run $*"
vssh 1 "$EXPERIMENT_VM_TIMEOUT" -- "cd /root/edgenode && ./edge-experiment run --bin /usr/sbin --experiments experiments \
    --loss-object bpf/loss.bpf.o --cpu-script scripts/cpu_load.py $(printf '%q ' "$@")" 2>&1 | tee "$RUN/experiment.log"
RC=${PIPESTATUS[0]}

# The results directory the run wrote (experiments/results/latest in the guest).
mkdir -p "$OUT"
vssh 1 120 -- 'cd /root/edgenode/experiments/results/latest/ && tar -c .' | tar -x -C "$OUT" \
    || log "could not copy the results back"
for py in python3 /usr/bin/python3; do
    if "$py" -c 'import matplotlib' 2>/dev/null; then "$py" "$REPO_ROOT/experiments/plot.py" "$OUT"; break; fi
done
[ -f "$OUT/results.png" ] || log "results.png not drawn (make experiment-plot-deps)"
log "done in $(( $(date +%s) - START )) s (edge-experiment exit status $RC)"
exit "$RC"
