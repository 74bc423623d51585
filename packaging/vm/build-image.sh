#!/usr/bin/env bash
# Builds the VM test bed's Debian 12 image into packaging/vm/.cache/image/ (make vm-image):
#   vmlinuz      Debian's own kernel (linux-image-amd64: has sch_fq, sch_netem, cls_bpf, BTF)
#   initrd.img   a static busybox that loads virtio-blk + ext4 and switches to /dev/vda
#   root.raw     ext4 (mkfs.ext4 -d) of an mmdebstrap rootfs: systemd, sshd, iproute2, python3,
#                man-db, and the shared libraries the edgenode .debs depend on
#   recipe       hash of everything the image is made from (lib.sh: vm_recipe_hash)
# The image is rebuilt only when that hash changes (or VM_REBUILD=1). Root only: mmdebstrap
# in root mode and mkfs.ext4 -d keep file ownership that way.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || die "build-image.sh needs root (mmdebstrap root mode, file ownership in the image)"
for tool in mmdebstrap mkfs.ext4 busybox ssh-keygen python3; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool missing: apt-get install mmdebstrap e2fsprogs busybox-static openssh-client python3"
done
BUSYBOX=$(command -v busybox)
# The initrd has no libc: its busybox must be static (busybox-static, not busybox).
if ldd "$BUSYBOX" >/dev/null 2>&1; then
    die "$BUSYBOX is dynamically linked; the initrd needs busybox-static"
fi

vm_ensure_key
HASH=$(vm_recipe_hash)
if [ "${VM_REBUILD:-0}" != 1 ] && [ -f "$VM_IMAGE_DIR/recipe" ] && [ "$(cat "$VM_IMAGE_DIR/recipe")" = "$HASH" ] \
    && [ -f "$VM_IMAGE_DIR/root.raw" ] && [ -f "$VM_IMAGE_DIR/vmlinuz" ] && [ -f "$VM_IMAGE_DIR/initrd.img" ]; then
    log "image up to date (recipe $HASH): $VM_IMAGE_DIR"
    exit 0
fi

START=$(date +%s)
WORK=$(mktemp -d "$VM_CACHE/build.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
ROOTFS=$WORK/rootfs
OUT=$WORK/image
mkdir -p "$OUT"

# What the guest needs: a systemd host reachable over SSH, the tools the tests use (ip/tc,
# python3 for the traffic probes and ansible, man), and the .debs' shared libraries so that
# `apt install ./x.deb` needs no network. containernetworking-plugins (bridge, host-local, the
# reference bandwidth plugin in /usr/lib/cni) and iptables (the bridge plugin's ipMasq) drive the
# CNI chain of vm-test and bwm-bench; bpftool reads run_time_ns/run_cnt (bpf_stats).
PACKAGES=(
    linux-image-amd64 systemd systemd-sysv udev dbus kmod procps
    openssh-server iproute2 iputils-ping ethtool python3 python3-apt man-db
    adduser libbpf1 libelf1 libmnl0 libjansson4 zlib1g libstdc++6
    containernetworking-plugins iptables bpftool
)
# Timers that would wake up during a short test and compete for the emulated CPUs.
MASK_UNITS=(apt-daily.timer apt-daily-upgrade.timer man-db.timer e2scrub_all.timer fstrim.timer
            systemd-tmpfiles-clean.timer)
# Kernel modules nothing here uses; dropping them halves the image (depmod runs afterwards).
PRUNE_MODULES=(drivers/gpu drivers/media drivers/net/wireless drivers/infiniband drivers/staging
               drivers/bluetooth drivers/iio drivers/isdn drivers/input/touchscreen sound net/bluetooth net/wireless
               net/mac80211)

log "mmdebstrap $VM_SUITE (${#PACKAGES[@]} packages) into $ROOTFS"
mmdebstrap --variant=apt --mode=root --components=main \
    --include="$(IFS=,; echo "${PACKAGES[*]}")" \
    --customize-hook="cp -a '$VM_DIR/image/rootfs/.' \"\$1/\"" \
    --customize-hook="install -d -m 0700 \"\$1/root/.ssh\" && install -m 0600 '$VM_KEY.pub' \"\$1/root/.ssh/authorized_keys\"" \
    --customize-hook="echo edgevm >\"\$1/etc/hostname\"; echo 'nameserver 10.0.2.3' >\"\$1/etc/resolv.conf\"" \
    --customize-hook="echo 'man-db man-db/auto-update boolean false' | chroot \"\$1\" debconf-set-selections" \
    --customize-hook="chroot \"\$1\" systemctl enable systemd-networkd.service ssh.service" \
    --customize-hook="chroot \"\$1\" systemctl mask ${MASK_UNITS[*]}" \
    "$VM_SUITE" "$ROOTFS" \
    "deb $VM_MIRROR $VM_SUITE main" \
    "deb $VM_MIRROR $VM_SUITE-updates main" \
    "deb $VM_SECURITY_MIRROR $VM_SUITE-security main"

KVER=$(basename "$(ls -d "$ROOTFS"/lib/modules/* | sort -V | tail -1)")
[ -n "$KVER" ] && [ -f "$ROOTFS/boot/vmlinuz-$KVER" ] || die "no kernel found in the rootfs"
log "kernel $KVER"
for d in "${PRUNE_MODULES[@]}"; do rm -rf "$ROOTFS/lib/modules/$KVER/kernel/$d"; done
chroot "$ROOTFS" depmod "$KVER"
cp "$ROOTFS/boot/vmlinuz-$KVER" "$OUT/vmlinuz"
echo "$KVER" >"$OUT/kernel-version"

# The initrd: busybox, /init, and the modules for virtio-blk and ext4, dependencies first.
# Built-in ones (modules.builtin) need nothing; crc32c is ext4's checksum, asked for through
# the crypto API at mount time, so it is listed explicitly.
INITRD=$WORK/initrd
mkdir -p "$INITRD/bin" "$INITRD/modules"
cp "$BUSYBOX" "$INITRD/bin/busybox"
install -m 0755 "$VM_DIR/image/init" "$INITRD/init"
python3 - "$ROOTFS/lib/modules/$KVER" "$INITRD/modules" virtio_pci virtio_blk crc32c_generic ext4 <<'PY' >"$INITRD/modules.order"
import os, shutil, sys
moddir, dest, wanted = sys.argv[1], sys.argv[2], sys.argv[3:]
def name(path):
    return os.path.basename(path).split(".ko")[0].replace("-", "_")
deps = {}
with open(os.path.join(moddir, "modules.dep")) as f:
    for line in f:
        mod, _, rest = line.partition(":")
        deps[name(mod)] = (mod, rest.split())
builtin = set()
with open(os.path.join(moddir, "modules.builtin")) as f:
    builtin = {name(l.strip()) for l in f if l.strip()}
order, seen = [], set()
def visit(n):
    if n in seen:
        return
    seen.add(n)
    if n not in deps:
        if n in builtin:
            return
        sys.exit(f"initrd: module {n} is neither in modules.dep nor built in")
    path, ds = deps[n]
    for d in ds:
        visit(name(d))
    order.append(path)
for w in wanted:
    visit(w.replace("-", "_"))
for path in order:
    shutil.copy(os.path.join(moddir, path), os.path.join(dest, os.path.basename(path)))
    print(os.path.basename(path))
PY
log "initrd modules: $(tr '\n' ' ' <"$INITRD/modules.order")"
(cd "$INITRD" && find . | LC_ALL=C sort | "$BUSYBOX" cpio -o -H newc 2>/dev/null | gzip -1) >"$OUT/initrd.img"

# The root file system: sized for the rootfs plus room for the packages and logs of a test run
# (the file is sparse; each VM writes to its own qcow2 overlay, never to this file).
USED_MB=$(du -sm "$ROOTFS" | cut -f1)
SIZE_MB=$(( USED_MB + 1536 ))
truncate -s "${SIZE_MB}M" "$OUT/root.raw"
mkfs.ext4 -q -F -L edgeroot -d "$ROOTFS" "$OUT/root.raw"
echo "$HASH" >"$OUT/recipe"

rm -rf "$VM_IMAGE_DIR.old"
[ -d "$VM_IMAGE_DIR" ] && mv "$VM_IMAGE_DIR" "$VM_IMAGE_DIR.old"
mv "$OUT" "$VM_IMAGE_DIR"
rm -rf "$VM_IMAGE_DIR.old"
log "image built in $(( $(date +%s) - START )) s: rootfs ${USED_MB} MB, disk ${SIZE_MB} MB, kernel $KVER, recipe $HASH"
