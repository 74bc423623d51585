# Shared by build-image.sh and vm-test.sh: paths, logging, and the recipe hash that decides
# whether the cached image is still good. Sourced, not run.

VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$VM_DIR/../.." && pwd)
VM_CACHE=${VM_CACHE:-$VM_DIR/.cache}
VM_KEY=$VM_CACHE/id_ed25519
# The image: kernel, initrd and the ext4 root, plus the hash of the recipe they were built from.
VM_IMAGE_DIR=$VM_CACHE/image
VM_SUITE=${VM_SUITE:-bookworm}
VM_MIRROR=${VM_MIRROR:-http://deb.debian.org/debian}
VM_SECURITY_MIRROR=${VM_SECURITY_MIRROR:-http://deb.debian.org/debian-security}

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# The SSH key root logs in with. Generated once; its public half is part of the image recipe.
vm_ensure_key() {
    mkdir -p "$VM_CACHE"
    [ -f "$VM_KEY" ] || ssh-keygen -q -t ed25519 -N '' -C edgenode-vm-testbed -f "$VM_KEY"
}

# Everything the image is made from. A change to any of these rebuilds it; nothing else does.
vm_recipe_hash() {
    {
        echo "suite=$VM_SUITE mirror=$VM_MIRROR security=$VM_SECURITY_MIRROR"
        cat "$VM_DIR/build-image.sh" "$VM_DIR/lib.sh" "$VM_DIR/image/init" "$VM_KEY.pub"
        (cd "$VM_DIR/image" && find rootfs -type f | LC_ALL=C sort | xargs sha256sum)
    } | sha256sum | cut -c1-16
}
