#!/usr/bin/env bash
# Builds the edge-agent, edge-controller and edgectl .debs into out/ (make deb runs this).
#
# dpkg-buildpackage wants debian/ at the root of the source tree, and ours lives in
# packaging/debian/ so that the repository root stays the Swift package. So the tree is staged
# in out/deb-build/edgenode-VERSION/ (rsync of the repository, packaging/debian copied to
# debian/) and built there. The stage keeps its own .build between runs, so a second build is
# incremental; DEB_FRESH=1 removes it for a build from scratch.
#
# Needs: swift on PATH (or in /opt/swift/usr/bin), and the Build-Depends of
# packaging/debian/control (`make deb-deps` installs them). Runs lintian on the result unless
# LINTIAN=0.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

if ! command -v swift >/dev/null 2>&1; then
    [ -x /opt/swift/usr/bin/swift ] || { echo "build-debs: swift is not on PATH (nor in /opt/swift/usr/bin)" >&2; exit 1; }
    export PATH=/opt/swift/usr/bin:$PATH
fi
for tool in dpkg-buildpackage dh rsync chrpath; do
    command -v "$tool" >/dev/null 2>&1 || { echo "build-debs: $tool missing; run 'make deb-deps'" >&2; exit 1; }
done

VERSION=$(dpkg-parsechangelog -l packaging/debian/changelog -S Version)
UPSTREAM=${VERSION%%-*}
OUT=$ROOT/out
BUILD=$OUT/deb-build
STAGE=$BUILD/edgenode-$UPSTREAM

mkdir -p "$STAGE"
if [ "${DEB_FRESH:-0}" = 1 ]; then
    rm -rf "$STAGE/.build"
fi
# The source tree without build output, VCS data or another stage. The dependency checkouts
# are seeded from the repository's .build when it has them, so the build needs no network.
# packaging/vm (the VM test bed, with its image caches) is not part of the source package.
rsync -a --delete \
    --exclude=/.build --exclude=/out --exclude=/.git --exclude=/.swiftpm --exclude=/debian \
    --exclude=/packaging/debian --exclude=/packaging/vm --exclude=.cache/ \
    "$ROOT/" "$STAGE/"
rm -rf "$STAGE/packaging/vm"
rm -rf "$STAGE/debian"
cp -a packaging/debian "$STAGE/debian"
if [ -d .build/checkouts ] && [ ! -d "$STAGE/.build/checkouts" ]; then
    mkdir -p "$STAGE/.build"
    cp -a .build/checkouts .build/repositories .build/workspace-state.json "$STAGE/.build/"
fi

# -b: binary packages only. --no-pre-clean: the stage was just synced, and `debian/rules clean`
# (make clean) would throw away the incremental Swift build.
( cd "$STAGE" && nice -n 10 dpkg-buildpackage -us -uc -b --no-pre-clean )

# dpkg-buildpackage writes next to the source tree; collect this version's files in out/.
ARCH=$(dpkg --print-architecture)
shopt -s nullglob
results=("$BUILD"/*_"$VERSION"_*.deb "$BUILD"/*_"$VERSION"_*.ddeb "$BUILD"/edgenode_"$VERSION"_"$ARCH".{buildinfo,changes})
[ ${#results[@]} -gt 0 ] || { echo "build-debs: dpkg-buildpackage produced nothing in $BUILD" >&2; exit 1; }
mv -f "${results[@]}" "$OUT/"
echo "build-debs: packages in $OUT:"
ls -1 "$OUT"/*_"$VERSION"_*.deb

if [ "${LINTIAN:-1}" = 1 ]; then
    command -v lintian >/dev/null 2>&1 || { echo "build-debs: lintian missing; run 'make deb-deps' (or LINTIAN=0)" >&2; exit 1; }
    # Any E: or W: fails the build: warnings are either fixed or overridden with a reason in
    # debian/*.lintian-overrides (I: and P: tags are shown, not fatal).
    lintian --fail-on error,warning --info --display-info --pedantic "$OUT/edgenode_${VERSION}_${ARCH}.changes"
fi
