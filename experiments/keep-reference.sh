#!/bin/bash
# Copies a finished run's summary files into experiments/reference/NAME/ (committed, unlike
# experiments/results/): the summary, the statistics, the plot, the verdict, the per-run placement
# and the runner's log. Raw per-request CSVs stay in results/ (megabytes per run).
#   usage: experiments/keep-reference.sh RESULTS_DIR NAME
set -euo pipefail
src=${1:?usage: experiments/keep-reference.sh RESULTS_DIR NAME}
name=${2:?usage: experiments/keep-reference.sh RESULTS_DIR NAME}
dst="$(dirname "$0")/reference/$name"
mkdir -p "$dst"
for f in experiment_summary.csv statistical_analysis.csv results.png verdict.txt placement.csv run.log; do
    [[ -f "$src/$f" ]] || { echo "keep-reference.sh: $src/$f missing (did the run finish?)" >&2; exit 1; }
    cp "$src/$f" "$dst/"
done
du -sh "$dst"
