#!/bin/bash
# Runs edge-experiment with a private copy of the binaries (a concurrent `swift build` relinking
# .build/ cannot swap them mid-run), then draws results.png from the results it wrote.
#   usage: experiments/run.sh BIN_DIR [edge-experiment run options…]
set -euo pipefail
bin=${1:?usage: experiments/run.sh BIN_DIR [options]}
shift
for b in edge-agent edge-controller edge-experiment; do
    [[ -x "$bin/$b" ]] || { echo "experiments/run.sh: $bin/$b missing (swift build, or make release)" >&2; exit 1; }
done
[[ $(id -u) == 0 ]] || { echo "experiments/run.sh: needs root (namespaces, tc, BPF)" >&2; exit 1; }
stage=$(mktemp -d /tmp/edge-experiment-bin.XXXXXX)
trap 'rm -rf "$stage"' EXIT
cp "$bin/edge-agent" "$bin/edge-controller" "$bin/edge-experiment" "$stage/"
"$stage/edge-experiment" run --bin "$stage" --experiments experiments "$@"
# the first python3 that has matplotlib (a pyenv python3 may shadow Debian's python3-matplotlib)
for py in python3 /usr/bin/python3; do
    if "$py" -c 'import matplotlib' 2>/dev/null; then exec "$py" experiments/plot.py experiments/results/latest; fi
done
echo "experiments/run.sh: no python3 with matplotlib: results.png not drawn (make experiment-plot-deps)" >&2
exit 1
