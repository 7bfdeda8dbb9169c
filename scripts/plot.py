#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Turn nvkv-bench JSON reports into a comparison table and PNG plots.

usage: plot.py REPORT.json [REPORT.json ...] [--out DIR] [--title TEXT] [--no-plots]
       plot.py --sweep REPORT.json [...] [--out DIR] [--title TEXT] [--no-plots]

Plots (gnuplot, PNG): PCIe bytes per operation, total PCIe traffic, traffic
amplification and throughput per transfer method per workload (grouped bars),
NAND page programs per operation, and the latency CDF of every run.

--sweep: the reports are one run per value size (nvkv-bench --value_size=N,
one report each); plots PCIe bytes per operation and the mean modeled Store
latency against the value size, one line per transfer method.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys

# key, title, file, y label, log scale
METRICS = [
    ("pcie_bytes_per_op", "PCIe bytes per operation", "pcie_bytes.png", "bytes / op", True),
    ("pcie_total_mib", "Total PCIe traffic", "pcie_total.png", "MiB", True),
    ("traffic_amplification", "Traffic amplification (PCIe bytes / key+value bytes)",
     "amplification.png", "amplification", True),
    ("ops_per_sec", "Throughput (emulator, wall clock)", "throughput.png", "operations / s",
     False),
    ("model_ops_per_sec", "Modeled device throughput", "model_throughput.png",
     "operations / s (model clock)", False),
    ("nand_programs_per_op", "NAND page programs per operation", "nand_programs.png",
     "page programs / op", False),
]


def load(paths):
    runs = []
    for p in paths:
        try:
            with open(p) as f:
                d = json.load(f)
        except (OSError, ValueError) as e:
            sys.exit(f"plot.py: {p}: {e}")
        if "runs" not in d:
            sys.exit(f"plot.py: {p}: not an nvkv-bench report (no 'runs')")
        for r in d["runs"]:
            r["value_size"] = d.get("config", {}).get("value_size", 0)
            if "pcie_bytes_per_op" in r:
                r["pcie_total_mib"] = r["pcie_bytes_per_op"] * r["ops"] / 1048576.0
        runs += d["runs"]
    if not runs:
        sys.exit("plot.py: the reports hold no runs")
    return runs


FIXED = ("prp", "bandslim", "byteexpress", "sgl")


def method(r):
    """The run's method as plotted: a fixed method whose Stores went by another
    one says so ("byteexpress (prp 1000/1000)"); adaptive policies mix by design
    (their counts are in the table's notes)."""
    used = {k: v for k, v in r.get("xfer_used", {}).items() if v}
    total = sum(used.values())
    if r["xfer"] not in FIXED or not total or used.get(r["xfer"], 0) == total:
        return r["xfer"]
    return r["xfer"] + " (" + ", ".join(f"{k} {v}/{total}" for k, v in used.items()
                                          if k != r["xfer"]) + ")"


def table(runs, out):
    hdr = f"{'workload':<16} {'method':<14} {'ops/s':>12} {'model ops/s':>12} " \
          f"{'PCIe B/op':>11} {'ampl.':>8} {'TLPs/op':>8} {'NAND prog':>10} {'p99 us':>9}"
    print(hdr, file=out)
    print("-" * len(hdr), file=out)
    for r in runs:
        lat = r.get("latency", {})
        p99 = (lat.get("write") or lat.get("read") or lat.get("seek") or {}).get("p99", 0)
        print(f"{r['benchmark']:<16} {method(r):<14} {r['ops_per_sec']:>12.0f} "
              f"{r.get('model_ops_per_sec', 0):>12.0f} "
              f"{r.get('pcie_bytes_per_op', 0):>11.1f} {r.get('traffic_amplification', 0):>8.2f} "
              f"{r.get('tlps_per_op', 0):>8.2f} {r.get('nand_programs', 0):>10d} {p99:>9.2f}",
              file=out)
    notes(runs, out)


def notes(runs, out):
    """Every run whose Stores did not all travel by the method of its pass."""
    for r in runs:
        lab = r.get("xfer_label", r["xfer"])
        if lab != r["xfer"]:
            print(f"note: {r['benchmark']} [{lab}]", file=out)


def grouped(runs):
    benches, methods = [], []
    for r in runs:
        if r["benchmark"] not in benches:
            benches.append(r["benchmark"])
        if method(r) not in methods:
            methods.append(method(r))
    by = {(r["benchmark"], method(r)): r for r in runs}
    return benches, methods, by


def gnuplot(script):
    subprocess.run(["gnuplot"], input=script.encode(), check=True)


def bars(runs, key, title, fname, ylabel, log, outdir, suptitle):
    benches, methods, by = grouped(runs)
    dat = os.path.join(outdir, fname.replace(".png", ".dat"))
    log = log and all(r.get(key, 0) > 0 for r in runs)
    with open(dat, "w") as f:
        for b in benches:
            vals = [str(by[(b, m)].get(key, 0)) if (b, m) in by else "0" for m in methods]
            f.write(b + " " + " ".join(vals) + "\n")
    cols = " , ".join(f"'{dat}' using {i + 2}:xtic(1) title '{m}'" for i, m in
                      enumerate(methods))
    gnuplot(f"""set terminal pngcairo size 900,540 font 'sans,11'
set output '{os.path.join(outdir, fname)}'
set title "{title}{suptitle}"
set style data histogram
set style histogram cluster gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set ylabel '{ylabel}'
set xlabel 'workload'
set xtics rotate by -30
{"set logscale y" if log else "set yrange [0:*]"}
set grid ytics
set key outside right top
plot {cols}
""")


def cdf(runs, outdir, suptitle):
    lines = []
    for i, r in enumerate(runs):
        lat = r.get("latency", {})
        kind = next((k for k in ("write", "read", "seek", "delete") if k in lat), None)
        if not kind:
            continue
        h = lat[kind]
        total = float(h["count"]) or 1
        dat = os.path.join(outdir, f"cdf_{i}.dat")
        acc = 0
        with open(dat, "w") as f:
            for lo, n in h["buckets"]:
                acc += n
                f.write(f"{max(lo, 0.001)} {acc / total}\n")
        lines.append(f"'{dat}' using 1:2 with steps lw 2 title '{r['benchmark']} {method(r)} "
                     f"({kind})'")
    if not lines:
        return
    gnuplot(f"""set terminal pngcairo size 900,540 font 'sans,11'
set output '{os.path.join(outdir, 'latency_cdf.png')}'
set title "Latency CDF (submission to completion, host view){suptitle}"
set logscale x
set xlabel 'latency (us)'
set ylabel 'fraction of operations'
set yrange [0:1.02]
set grid
set key outside right top
plot {', '.join(lines)}
""")


def sweep_table(runs, out):
    hdr = f"{'value B':>8} {'method':<14} {'PCIe B/op':>11} {'ampl.':>8} {'TLPs/op':>8} " \
          f"{'model store us':>15} {'host write us':>14}"
    print(hdr, file=out)
    print("-" * len(hdr), file=out)
    for r in sorted(runs, key=lambda r: (r["value_size"], r["xfer"])):
        print(f"{r['value_size']:>8} {method(r):<14} {r.get('pcie_bytes_per_op', 0):>11.1f} "
              f"{r.get('traffic_amplification', 0):>8.2f} {r.get('tlps_per_op', 0):>8.2f} "
              f"{r.get('model_latency_us', {}).get('store', 0):>15.3f} "
              f"{r.get('latency', {}).get('write', {}).get('avg_us', 0):>14.3f}", file=out)
    notes(runs, out)


def sweep_plot(runs, get, title, fname, ylabel, outdir, suptitle):
    methods = []
    for r in runs:
        if method(r) not in methods:
            methods.append(method(r))
    lines = []
    for i, m in enumerate(methods):
        dat = os.path.join(outdir, f"{fname[:-4]}_{i}.dat")
        with open(dat, "w") as f:
            for r in sorted((r for r in runs if method(r) == m), key=lambda r: r["value_size"]):
                f.write(f"{r['value_size']} {get(r)}\n")
        lines.append(f"'{dat}' using 1:2 with linespoints lw 2 pt 7 title '{m}'")
    gnuplot(f"""set terminal pngcairo size 900,540 font 'sans,11'
set output '{os.path.join(outdir, fname)}'
set title "{title}{suptitle}"
set logscale x 2
set logscale y
set xlabel 'value size (bytes)'
set ylabel '{ylabel}'
set grid
set key outside right top
plot {', '.join(lines)}
""")


def plot_setup(a):
    """Check for gnuplot, make the output folder; the title's second line."""
    if not shutil.which("gnuplot"):
        sys.exit("plot.py: gnuplot not found (scripts/deps.sh installs gnuplot-nox)")
    os.makedirs(a.out, exist_ok=True)
    return f"\\n{a.title}" if a.title else ""


def sweep(runs, a):
    sweep_table(runs, sys.stdout)
    if a.no_plots:
        return
    sup = plot_setup(a)
    sweep_plot(runs, lambda r: r.get("pcie_bytes_per_op", 0), "PCIe traffic per Store vs value size",
               "sweep_traffic.png", "PCIe bytes / op", a.out, sup)
    sweep_plot(runs, lambda r: r.get("model_latency_us", {}).get("store", 0),
               "Modeled Store latency vs value size (device clock)", "sweep_latency.png",
               "latency (us)", a.out, sup)
    for f in ("sweep_traffic.png", "sweep_latency.png"):
        print("plot:", os.path.join(a.out, f))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("reports", nargs="+")
    ap.add_argument("--out", default=".")
    ap.add_argument("--title", default="")
    ap.add_argument("--no-plots", action="store_true")
    ap.add_argument("--sweep", action="store_true",
                    help="one report per value size: plot against the value size")
    a = ap.parse_args()
    runs = load(a.reports)
    if a.sweep:
        return sweep(runs, a)
    table(runs, sys.stdout)
    if a.no_plots:
        return
    sup = plot_setup(a)
    made = []
    for key, title, fname, ylabel, log in METRICS:
        if any(key in r for r in runs):
            bars(runs, key, title, fname, ylabel, log, a.out, sup)
            made.append(os.path.join(a.out, fname))
    cdf(runs, a.out, sup)
    made.append(os.path.join(a.out, "latency_cdf.png"))
    for m in made:
        print("plot:", m)


if __name__ == "__main__":
    main()
