# Booting, reaching and stopping test bed VMs; sourced by vm-test.sh and bwm-bench.sh after lib.sh.
# Not part of the image recipe: changing how VMs are started does not rebuild the image.
#
# The caller sets RUN (a scratch directory for overlays and console logs), IMG (the image
# directory), VM_CPUS, VM_MEM, VM_SSH_PORT_BASE, VM_LINK_PORT_BASE, and keeps QEMU_PIDS=();
# its EXIT trap calls vm_stop_all so that no qemu outlives the script.

SSH_OPTS=(-i "$VM_KEY" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes
          -o LogLevel=ERROR -o ConnectTimeout=5 -o ServerAliveInterval=5 -o ServerAliveCountMax=6)

# With VM_NETNS set, the VMs' qemu processes run in that network namespace (taps on a bridge
# there, see experiment-vms.sh), and so do their SSH forwards: every ssh/scp/ss enters it too.
in_vm_netns() { if [ -n "${VM_NETNS:-}" ]; then ip netns exec "$VM_NETNS" "$@"; else "$@"; fi; }

# vssh N [TIMEOUT] -- COMMAND: run COMMAND (one shell string) as root in VM N, bounded.
vssh() {
    local n=$1 t=120
    shift
    if [ "$1" != -- ]; then t=$1; shift; fi
    shift
    timeout "$t" ${VM_NETNS:+ip netns exec "$VM_NETNS"} ssh "${SSH_OPTS[@]}" -p $((VM_SSH_PORT_BASE + n)) root@127.0.0.1 "$@"
}
# vscp N FILE... root@127.0.0.1:DEST
vscp() {
    local n=$1
    shift
    timeout 120 ${VM_NETNS:+ip netns exec "$VM_NETNS"} scp -q "${SSH_OPTS[@]}" -P $((VM_SSH_PORT_BASE + n)) "$@"
}

# The .deb of package $1 at VERSION (the changelog's, set by the caller), in out/.
deb() { echo "${VM_DEB_DIR:-$REPO_ROOT/out}/$1_${VERSION}_$(dpkg --print-architecture).deb"; }
# The guest command that installs the named packages from the .debs copied to /root. The .debs'
# libraries are in the image, so apt has nothing to fetch. Not --no-download: apt 2.6 then
# refuses local .deb files ("Pathname to install is not absolute").
install_cmd() {
    echo "cd /root && DEBIAN_FRONTEND=noninteractive apt-get install -y $(for p in "$@"; do printf './%s ' "$(basename "$(deb "$p")")"; done) 2>&1"
}

# vm_start N [PEER | tap:IFNAME]: boot VM N on its own qcow2 overlay of the image. NIC 1 =
# user-mode NAT with the SSH forward 127.0.0.1:(VM_SSH_PORT_BASE + N). With PEER, NIC 2 = a
# point-to-point UDP socket link to VM PEER on 127.0.0.1 (neither backend can be multi-queue in
# qemu: only tap can, and a tap needs devices on the host; the mq + fq checks use a veth with 4 TX
# queues). With tap:IFNAME, NIC 2 = that tap, made beforehand in VM_NETNS.
vm_start() {
    local n=$1 peer=${2:-}
    local link=()
    if [ "${peer#tap:}" != "$peer" ]; then
        link=(-netdev "tap,id=link,ifname=${peer#tap:},script=no,downscript=no"
              -device "virtio-net-pci,netdev=link,mac=52:54:00:77:00:0$n")
    elif [ -n "$peer" ]; then
        link=(-netdev "socket,id=link,udp=127.0.0.1:$((VM_LINK_PORT_BASE + peer)),localaddr=127.0.0.1:$((VM_LINK_PORT_BASE + n))"
              -device "virtio-net-pci,netdev=link,mac=52:54:00:77:00:0$n")
    fi
    qemu-img create -q -f qcow2 -b "$IMG/root.raw" -F raw "$RUN/vm$n.qcow2" || return 1
    ${VM_NETNS:+ip netns exec "$VM_NETNS"} qemu-system-x86_64 -name "edgevm$n" -nodefaults -machine q35 -accel tcg,thread=multi -cpu max \
        -smp "$VM_CPUS" -m "$VM_MEM" -display none -monitor none -no-reboot \
        -kernel "$IMG/vmlinuz" -initrd "$IMG/initrd.img" \
        -append "root=/dev/vda rw console=ttyS0 net.ifnames=0 systemd.hostname=edgevm$n" \
        -drive "file=$RUN/vm$n.qcow2,if=virtio,format=qcow2,cache=unsafe" \
        -netdev "user,id=nat,hostfwd=tcp:127.0.0.1:$((VM_SSH_PORT_BASE + n))-:22" \
        -device "virtio-net-pci,netdev=nat,mac=52:54:00:12:34:0$n" \
        "${link[@]}" \
        -device virtio-rng-pci \
        -serial "file:$RUN/console-vm$n.log" >"$RUN/qemu-vm$n.log" 2>&1 &
    QEMU_PIDS+=($!)
}

# vm_ports_free N...: dies if an SSH forward port of these VMs is taken (another bed running).
vm_ports_free() {
    local n port
    for n in "$@"; do
        port=$((VM_SSH_PORT_BASE + n))
        in_vm_netns ss -Hltn "sport = :$port" | grep -q . && die "127.0.0.1:$port is in use (another test bed running? VM_SSH_PORT_BASE=...)"
    done
    return 0
}

# vm_wait_ssh TIMEOUT N...: waits until every VM answers on SSH; fills BOOTED[n] with the
# seconds it took, "dead" when its qemu exited, or leaves it empty on timeout.
declare -A BOOTED=()
vm_wait_ssh() {
    local timeout=$1 start n up=0
    shift
    start=$(date +%s)
    while [ $up -lt $# ] && [ $(( $(date +%s) - start )) -lt "$timeout" ]; do
        for n in "$@"; do
            [ -n "${BOOTED[$n]:-}" ] && continue
            if ! kill -0 "${QEMU_PIDS[$((n - 1))]}" 2>/dev/null; then BOOTED[$n]=dead; up=$((up + 1)); continue; fi
            vssh "$n" 10 -- true 2>/dev/null </dev/null && { BOOTED[$n]=$(( $(date +%s) - start )); up=$((up + 1)); }
        done
        sleep 1
    done
}

# vm_stop_all: TERM, then KILL after 5 s, every qemu this script started; removes the overlays.
vm_stop_all() {
    local pid
    for pid in "${QEMU_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    for pid in "${QEMU_PIDS[@]}"; do
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null
    done
    rm -f "$RUN"/*.qcow2
}

# ------------------------------------------------------------ bench and experiment scripts
# They share this life cycle: results to OUT, scratch in RUN, a deadline, VMs with SSH (one VM
# through vm_single_boot; experiment-vms.sh boots several itself).

# vm_single_setup NAME TIMEOUT OUT_DIR: scratch directory, EXIT trap (VMs stopped, VM_NETNS
# deleted when set, *.log and *.txt of RUN kept in OUT, which the script may still change), and a
# deadline that TERMs the script after TIMEOUT seconds.
vm_single_setup() {
    mkdir -p "$VM_CACHE"   # a fresh clone has no .cache yet
    RUN=$(mktemp -d "$VM_CACHE/$1.XXXXXX")
    OUT=$3
    QEMU_PIDS=()
    trap vm_single_cleanup EXIT
    trap 'log "interrupted"; exit 130' INT TERM
    ( sleep "$2"; log "time limit ($2 s) reached: stopping"; kill -TERM $$ ) &
    DEADLINE_PID=$!
}
vm_single_cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    kill "$DEADLINE_PID" 2>/dev/null
    vm_stop_all
    [ -n "${VM_NETNS:-}" ] && ip netns delete "$VM_NETNS" 2>/dev/null
    mkdir -p "$OUT" && cp "$RUN"/*.log "$RUN"/*.txt "$OUT"/ 2>/dev/null
    rm -rf "$RUN"
    log "VMs stopped; results in $OUT"
    exit "$rc"
}

# vm_inputs PACKAGE...: VERSION, the packages' .debs (make deb when out/ lacks one) and the image
# (IMG); dies on any failure.
vm_inputs() {
    local p
    VERSION=$(dpkg-parsechangelog -l "$REPO_ROOT/packaging/debian/changelog" -S Version)
    for p in "$@"; do
        [ -f "$(deb "$p")" ] && continue
        log "no $p .deb of $VERSION in out/: running make deb (release build, slow)"
        make -C "$REPO_ROOT" deb || die "make deb failed"
        break
    done
    "$VM_DIR/build-image.sh" || die "image build failed"
    IMG=$VM_IMAGE_DIR
}

# vm_single_boot PACKAGE...: vm_inputs, then VM 1 up on SSH with PACKAGES copied to /root; dies on
# any failure.
vm_single_boot() {
    vm_ports_free 1
    vm_inputs "$@"
    vm_start 1 || die "cannot start the VM"
    log "booting the VM (TCG, $VM_CPUS vCPUs, $VM_MEM MiB)"
    vm_wait_ssh "$VM_BOOT_TIMEOUT" 1
    case "${BOOTED[1]:-}" in ''|dead) die "no SSH within $VM_BOOT_TIMEOUT s (${BOOTED[1]:-timeout}); see $OUT/console-vm1.log";; esac
    log "SSH after ${BOOTED[1]} s; kernel $(vssh 1 -- uname -r)"
    vscp 1 $(for p in "$@"; do deb "$p"; done) root@127.0.0.1:/root/ || die "copy of the .debs failed"
}
