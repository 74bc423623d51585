#!/usr/bin/env python3
"""results.png for one edge-experiment results directory: p99 latency, error rate and CPU per
million messages per scenario and rate, baseline vs proposed, mean of the runs with 95% CI bars
(from statistical_analysis.csv, which edge-experiment computed from raw/).

usage: plot.py RESULTS_DIR
"""
import csv
import math
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

# (metric, title, log scale): p99 spans sub-millisecond answers to 1 s timeouts
PANELS = [("p99_ms", "p99 latency (ms, log)", True), ("retrans_and_drops", "retransmitted segments + drops per run", False),
          ("error_rate", "error rate", False), ("cpu_per_million", "CPU s per million messages", False)]


def number(s):
    try:
        v = float(s)
        return v if math.isfinite(v) else float("nan")
    except ValueError:
        return float("nan")


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: plot.py RESULTS_DIR")
    d = os.path.realpath(sys.argv[1])
    path = os.path.join(d, "statistical_analysis.csv")
    if not os.path.exists(path):
        sys.exit(f"plot.py: {path} not found (did the run finish?)")
    with open(path) as f:
        rows = list(csv.DictReader(f))
    groups = []
    for r in rows:
        key = (r["scenario"], r["rps"])
        if key not in groups:
            groups.append(key)
    if not groups:
        sys.exit("plot.py: statistical_analysis.csv has no rows")
    fig, axes = plt.subplots(1, len(PANELS), figsize=(4.6 * len(PANELS), 4.2))
    width = 0.38
    for ax, (metric, title, log) in zip(axes, PANELS):
        by = {(r["scenario"], r["rps"]): r for r in rows if r["metric"] == metric}
        xs = range(len(groups))
        for k, (mode, colour) in enumerate([("baseline", "#8c8c8c"), ("proposed", "#1f77b4")]):
            means = [number(by[g][f"{mode}_mean"]) if g in by else float("nan") for g in groups]
            errs = [number(by[g][f"{mode}_ci95"]) if g in by else float("nan") for g in groups]
            errs = [0 if math.isnan(e) else e for e in errs]
            ax.bar([x + (k - 0.5) * width for x in xs], means, width, yerr=errs, capsize=3, label=mode, color=colour)
        ax.set_xticks(list(xs))
        ax.set_xticklabels([f"{s}\n{r} rps" for s, r in groups], fontsize=8)
        ax.set_title(title)
        if log:
            ax.set_yscale("log")
        ax.grid(axis="y", alpha=0.3)
    axes[0].legend()
    ns = sorted({r["n_baseline"] for r in rows} | {r["n_proposed"] for r in rows})
    fig.suptitle(f"edgenode placement experiment (namespace bed) — {os.path.basename(d)}; "
                 f"bars: mean of {'/'.join(ns)} runs per mode, whiskers: 95% CI (Student t)")
    fig.tight_layout()
    out = os.path.join(d, "results.png")
    fig.savefig(out, dpi=110)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
