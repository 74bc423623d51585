#!/usr/bin/env bash
# Installs the three .debs of out/ into a throwaway root (dpkg-deb -x: files only, no maintainer
# scripts, nothing on this host changes) and checks what a package can silently lose: each file
# at its path, the conffiles, the units where systemd looks and the programs they start, the man
# pages, the maintainer scripts, the Depends. The binaries then run from that root
# (--version, and --check-config on the conffile the package ships). `make deb-check` runs it
# after `make deb`; `make check` runs both. The VM bed (make vm-test) is the full install.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT_DIR=$PWD
VERSION=$(dpkg-parsechangelog -l packaging/debian/changelog -S Version)
ARCH=$(dpkg --print-architecture)
OUT=${DEB_OUT:-$ROOT_DIR/out}

FAILS=0
fail() { echo "FAIL  $*"; FAILS=$((FAILS + 1)); }
pass() { echo "PASS  $*"; }

deb() {
    local f="$OUT/$1_${VERSION}_${ARCH}.deb"
    [ -f "$f" ] || { echo "check-debs: $f missing (make deb)" >&2; exit 1; }
    echo "$f"
}

SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/edgenode-debroot.XXXXXX")
trap 'rm -rf "$SCRATCH"' EXIT
ROOT=$SCRATCH/root
mkdir -p "$ROOT"

# package: files it must ship (relative to /), conffiles, units, man pages, maintainer scripts,
# and packages its Depends must name.
declare -A FILES CONFFILES UNITS MANS SCRIPTS DEPENDS
FILES[edge-agent]="usr/sbin/edge-agent etc/edgenode/agent.toml lib/systemd/system/edge-agent.service"
FILES[edge-controller]="usr/sbin/edge-controller etc/edgenode/controller.toml lib/systemd/system/edge-controller.service"
FILES[edgectl]="usr/bin/edgectl"
CONFFILES[edge-agent]="/etc/edgenode/agent.toml"
CONFFILES[edge-controller]="/etc/edgenode/controller.toml"
CONFFILES[edgectl]=""
UNITS[edge-agent]="edge-agent.service"
UNITS[edge-controller]="edge-controller.service"
UNITS[edgectl]=""
MANS[edge-agent]="man8/edge-agent.8.gz man5/edge-agent.toml.5.gz"
MANS[edge-controller]="man8/edge-controller.8.gz man5/edge-controller.toml.5.gz"
MANS[edgectl]="man1/edgectl.1.gz"
SCRIPTS[edge-agent]="postinst prerm postrm"
SCRIPTS[edge-controller]="postinst postrm"
SCRIPTS[edgectl]=""
DEPENDS[edge-agent]="adduser edgectl libbpf1 libmnl0 libsystemd0"
DEPENDS[edge-controller]="adduser libsystemd0 libjansson4"
DEPENDS[edgectl]="libc6"

for p in edgectl edge-agent edge-controller; do
    f=$(deb "$p")
    dpkg-deb -x "$f" "$ROOT"
    ctl=$SCRATCH/control-$p
    dpkg-deb -e "$f" "$ctl"

    [ "$(dpkg-deb -f "$f" Package)" = "$p" ] && [ "$(dpkg-deb -f "$f" Version)" = "$VERSION" ] \
        && pass "$p: control names $p $VERSION" || fail "$p: control says $(dpkg-deb -f "$f" Package) $(dpkg-deb -f "$f" Version)"

    for file in ${FILES[$p]}; do
        [ -f "$ROOT/$file" ] && pass "$p: /$file" || fail "$p: /$file missing"
    done
    for m in ${MANS[$p]}; do
        [ -f "$ROOT/usr/share/man/$m" ] && pass "$p: man page $m" || fail "$p: man page /usr/share/man/$m missing"
    done
    [ -f "$ROOT/usr/share/doc/$p/copyright" ] && pass "$p: copyright" || fail "$p: /usr/share/doc/$p/copyright missing"

    # conffiles: exactly the shipped configuration, nothing more (a binary or unit listed there
    # would not be upgraded)
    want=$(for c in ${CONFFILES[$p]}; do echo "$c"; done | sort)
    have=$( { [ -f "$ctl/conffiles" ] && sort "$ctl/conffiles"; } || true)
    [ "$have" = "$want" ] && pass "$p: conffiles [${want//$'\n'/ }]" || fail "$p: conffiles are [${have//$'\n'/ }], expected [${want//$'\n'/ }]"

    for s in ${SCRIPTS[$p]}; do
        if [ -x "$ctl/$s" ] && sh -n "$ctl/$s"; then pass "$p: $s"; else fail "$p: maintainer script $s missing or not sh"; fi
    done

    deps=$(dpkg-deb -f "$f" Depends)
    for d in ${DEPENDS[$p]}; do
        grep -Eq "(^|, )$d( |,|$)" <<<"$deps" && pass "$p: Depends $d" || fail "$p: Depends lacks $d ($deps)"
    done
    # Swift's runtime must be linked statically (debian/rules checks it too): nothing from the
    # toolchain may be needed at run time.
    for bin in $(dpkg-deb -c "$f" | awk '$NF ~ /usr\/s?bin\// {print $NF}'); do
        if readelf -d "$ROOT/${bin#./}" | grep -Eq 'NEEDED.*(libswift|libFoundation|libdispatch)|RUNPATH|RPATH'; then
            fail "$p: $bin needs the Swift toolchain at run time (NEEDED/RUNPATH)"
        else
            pass "$p: $bin: no Swift library or RUNPATH needed"
        fi
    done

    # units: where systemd looks, the binary they start is in the package, and systemd accepts them
    for u in ${UNITS[$p]}; do
        unit=$ROOT/lib/systemd/system/$u
        [ -f "$unit" ] || { fail "$p: unit $u missing from /lib/systemd/system"; continue; }
        exe=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$unit")
        [ -n "$exe" ] && [ -x "$ROOT$exe" ] && pass "$p: $u starts $exe (shipped)" || fail "$p: $u ExecStart '$exe' is not in the package"
        if command -v systemd-analyze >/dev/null 2>&1; then
            # --root resolves the unit's paths inside the throwaway root. That root holds only our
            # packages, so what a real system brings is absent there and not ours to check:
            # sysinit.target (systemd), /bin/kill (procps, ExecReload), man(1) (--man=no).
            if out=$(systemd-analyze verify --man=no --root="$ROOT" "$unit" 2>&1 | grep -v -e 'Failed to .*cgroup' -e '^$' \
                    -e 'Unit sysinit.target not found' -e 'Command /bin/kill is not executable'); [ -z "$out" ]; then
                pass "$p: systemd-analyze verify $u"
            else
                fail "$p: systemd-analyze verify $u: $out"
            fi
        fi
    done
done

# The programs run from the root: the version they report, and each daemon's --check-config on
# the conffile its package ships (the token the controller's names is made by postinst, so a
# stand-in is given on the command line's copy of the file).
for bin in usr/bin/edgectl usr/sbin/edge-agent usr/sbin/edge-controller; do
    v=$("$ROOT/$bin" --version 2>&1) && [ "$v" = "${VERSION%%-*}" ] \
        && pass "/$bin --version: $v" || fail "/$bin --version: '$v', expected ${VERSION%%-*}"
done
"$ROOT/usr/sbin/edge-agent" --check-config --config "$ROOT/etc/edgenode/agent.toml" >/dev/null 2>"$SCRATCH/agent.err" \
    && pass "edge-agent --check-config on the shipped agent.toml" || fail "edge-agent --check-config: $(cat "$SCRATCH/agent.err")"
echo stand-in-token >"$SCRATCH/token"
sed "s|^#* *token_file = .*|token_file = \"$SCRATCH/token\"|" "$ROOT/etc/edgenode/controller.toml" >"$SCRATCH/controller.toml"
"$ROOT/usr/sbin/edge-controller" --check-config --config "$SCRATCH/controller.toml" >/dev/null 2>"$SCRATCH/controller.err" \
    && pass "edge-controller --check-config on the shipped controller.toml" || fail "edge-controller --check-config: $(cat "$SCRATCH/controller.err")"

echo "sizes:"
for p in edgectl edge-agent edge-controller; do
    f=$(deb "$p")
    printf '  %-16s .deb %6d KiB  installed %6d KiB\n' "$p" $(( $(stat -c %s "$f") / 1024 )) "$(dpkg-deb -f "$f" Installed-Size)"
done
[ "$FAILS" = 0 ] || { echo "check-debs: $FAILS checks failed"; exit 1; }
echo "check-debs: all checks passed"
