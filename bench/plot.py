#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The benchmark suite's plots, as SVG, from the JSON its scripts write (Debian's python3-matplotlib;
run by /usr/bin/python3, which is where Debian installs it):

  bench/plot.py --out DIR [--side-by-side FILE ...] [--dpdk FILE]

--side-by-side (bench/side_by_side.py's --out, any number; targets of several files share the plots):
  latency_vs_load.svg   INVITE->200 p50 and p99 against offered calls/s, per target
  cpu_per_call.svg      user and system CPU per call at half of each target's own maximum
  latency_histogram.svg the INVITE->200 distribution at half of each target's maximum
--dpdk (tools/bench-dpdk's JSON):
  dpdk_per_lcore.svg    SIP messages/s per lcore, each loop against the framing-only ceiling"""
import argparse
import json
import os
import sys

try:
    import matplotlib
    matplotlib.use("Agg")
    matplotlib.rcParams["svg.fonttype"] = "none"  # text stays text: smaller files, searchable labels
    import matplotlib.pyplot as plt
except ImportError:
    sys.exit(f"{sys.argv[0]}: matplotlib is missing (tools/setup installs python3-matplotlib)")


def load(path):
    """A results file's JSON; a missing or broken one stops the script naming it."""
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        sys.exit(f"{sys.argv[0]}: {path}: {e}")


def targets_of(files):
    """Every target of every side_by_side file, named with its core arrangement when files differ in it."""
    data = [load(path) for path in files]
    several = len({d.get("target_cpus") for d in data}) > 1
    return [(t["target"] + (f" (CPUs {d['target_cpus']})" if several else ""), t) for d in data for t in d["results"]]


def at_half(t):
    return min(t["runs"], key=lambda r: abs(r["share"] - 0.5))


def save_log_x(fig, ax, path):
    """The latency plots' common end: x on a log scale, a grid, the legend, the file."""
    ax.set_xscale("log")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)


def latency_vs_load(targets, path):
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    for name, t in targets:
        xs = [r["rate"] for r in t["runs"]]
        line, = ax.plot(xs, [r["latency_us"]["invite_200"]["p50_us"] for r in t["runs"]], "-o", label=f"{name} p50")
        ax.plot(xs, [r["latency_us"]["invite_200"]["p99_us"] for r in t["runs"]], "--s", color=line.get_color(),
                label=f"{name} p99")
    ax.set_xlabel("offered calls/s (25, 50, 75, 90 % of each target's highest clean rate)")
    ax.set_ylabel("INVITE→200 (µs)")
    ax.set_yscale("log")
    save_log_x(fig, ax, path)


def cpu_per_call(targets, path):
    fig, ax = plt.subplots(figsize=(7.5, 0.6 * len(targets) + 1.2))
    names = [n for n, _ in targets]
    mid = [at_half(t) for _, t in targets]
    user = [r["user_us_per_call"] for r in mid]
    ax.barh(names, user, label="user")
    ax.barh(names, [r["system_us_per_call"] for r in mid], left=user, label="system")
    for i, r in enumerate(mid):
        ax.text(r["total_us_per_call"], i, f" {r['total_us_per_call']:.0f} µs at {r['rate']}/s", va="center", fontsize=7)
    ax.set_xlabel("CPU µs per call at half of each target's maximum")
    ax.invert_yaxis()
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)


def latency_histogram(targets, path):
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    for name, t in targets:
        r = at_half(t)
        bins = r["latency_us"]["invite_200"].get("bins", [])
        total = sum(n for _, n in bins)
        if not total:
            continue
        ax.step([b for b, _ in bins], [n / total for _, n in bins], where="post", label=f"{name} at {r['rate']}/s")
    ax.set_xlabel("INVITE→200 (µs, bins 9 % wide)")
    ax.set_ylabel("share of calls")
    save_log_x(fig, ax, path)


def dpdk_per_lcore(data, path):
    rows = [(label, data[key]) for key, label in (
        ("framing_only", "framing only (ceiling)"), ("stateless", "stateless pipeline"),
        ("stateless_two_lcores", "stateless, each of 2 lcores"), ("generated_stateless", "generated calls, stateless"),
        ("generated_stateful", "generated calls, stateful")) if data.get(key)]
    fig, ax = plt.subplots(figsize=(7.5, 0.55 * len(rows) + 1.2))
    medians = [sorted(v)[(len(v) - 1) // 2] / 1e6 for _, v in rows]
    ax.barh([label for label, _ in rows], medians)
    for i, (label, v) in enumerate(rows):
        ax.plot([x / 1e6 for x in v], [i] * len(v), "k|", markersize=12)
        ax.text(medians[i], i, f" {medians[i]:.2f} M", va="center", fontsize=8)
    ax.set_xlabel(f"SIP messages/s per lcore, millions (median of {max(len(v) for _, v in rows)}; ticks: each run)")
    ax.invert_yaxis()
    fig.tight_layout()
    fig.savefig(path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="directory the SVGs go to")
    ap.add_argument("--side-by-side", nargs="*", default=[])
    ap.add_argument("--dpdk")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    written = []
    if a.side_by_side:
        targets = targets_of(a.side_by_side)
        for name, draw in (("latency_vs_load", latency_vs_load), ("cpu_per_call", cpu_per_call),
                           ("latency_histogram", latency_histogram)):
            draw(targets, os.path.join(a.out, name + ".svg"))
            written.append(name + ".svg")
    if a.dpdk:
        dpdk_per_lcore(load(a.dpdk), os.path.join(a.out, "dpdk_per_lcore.svg"))
        written.append("dpdk_per_lcore.svg")
    print(f"{a.out}: {', '.join(written) or 'nothing to plot'}")


if __name__ == "__main__":
    main()
