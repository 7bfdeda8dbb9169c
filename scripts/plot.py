#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Turn nvkv-bench JSON reports into a comparison table and plots.

usage: plot.py REPORT.json [REPORT.json ...] [--out DIR] [--title TEXT] [--no-plots]
               [--format png|pdf|svg]
       plot.py --sweep REPORT.json [...] [same options]
       plot.py --kvaccel DIR [--workloads A,B,C,D] [same options]

Plots (gnuplot; --format png, the default, pdf or svg): PCIe bytes per
operation, total PCIe traffic, traffic amplification and throughput per
transfer method per workload (grouped bars), NAND page programs per operation,
and the latency CDF of every run.  Every method has one colour in every plot
(PALETTE); latencies are in microseconds; bar charts leave headroom above the
tallest bar; a throughput plot of real-time runs (the JSON's "clock") carries
a note that the figures are the emulator's speed on this machine.

--sweep: the reports are one run per value size (nvkv-bench --value_size=N,
one report each); plots PCIe bytes per operation and the mean modeled Store
latency against the value size, one line per transfer method.

--kvaccel DIR: the reports of scripts/repro/kvaccel.sh (W-CONFIG.json and
W-CONFIG.cpu.json per workload W); prints the summary table and plots, per
workload, throughput over time with RocksDB's stall periods shaded, write P99
per configuration, redirected writes and device PCIe traffic over time, and
throughput per CPU.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys

# key, title, file (its extension follows --format), y label, log scale
METRICS = [
    ("pcie_bytes_per_op", "PCIe bytes per operation", "pcie_bytes.png", "bytes / op", True),
    ("pcie_total_mib", "Total PCIe traffic", "pcie_total.png", "MiB", True),
    ("traffic_amplification", "Traffic amplification (PCIe bytes / key+value bytes)",
     "amplification.png", "amplification", True),
    ("ops_per_sec", "Throughput (host clock)", "throughput.png", "operations / s", False),
    ("model_ops_per_sec", "Modeled device throughput", "model_throughput.png",
     "operations / s (model clock)", False),
    ("nand_programs_per_op", "NAND page programs per operation", "nand_programs.png",
     "page programs / op", False),
]

# One colour per method in every plot (the demo, the BandSlim and the KVAccel
# reproductions): transfer methods, then KVAccel's configurations.
PALETTE = {
    "prp": "#4c72b0",
    "sgl": "#8172b3",
    "bandslim": "#dd8452",
    "byteexpress": "#55a868",
    "adaptive": "#c44e52",
    "adaptive-cost": "#937860",
    "none": "#64b5cd",
    "kvaccel-eager": "#55a868",
    "kvaccel-lazy": "#2a7d3f",
    "rocksdb-slowdown": "#c44e52",
    "rocksdb-stalls": "#8c8c8c",
}
OTHER_COLOURS = ["#da8bc3", "#ccb974", "#17becf", "#bcbd22", "#7f7f7f"]

TERMINALS = {
    "png": "pngcairo size 900,540 font 'sans,11'",
    "pdf": "pdfcairo size 6in,3.6in font 'sans,9'",
    "svg": "svg size 900,540 dynamic font 'sans,11'",
}

EMULATOR_NOTE = ("real-time run: throughput is the emulator's (and this machine's), "
                 "not a device's")


def colour(m):
    """The method's colour; a label with a note ("byteexpress (prp 10/10)")
    takes its method's."""
    base = m.split(" ")[0]
    if base in PALETTE:
        return PALETTE[base]
    return OTHER_COLOURS[sum(map(ord, base)) % len(OTHER_COLOURS)]


def fail(msg):
    sys.exit(f"plot.py: {msg}")


def load(paths):
    runs = []
    for p in paths:
        try:
            with open(p) as f:
                d = json.load(f)
        except (OSError, ValueError) as e:
            fail(f"{p}: {e}")
        if not isinstance(d, dict) or not isinstance(d.get("runs"), list):
            fail(f"{p}: not an nvkv-bench report (no 'runs' list)")
        for i, r in enumerate(d["runs"]):
            check_run(p, i, r)
            r["value_size"] = d.get("config", {}).get("value_size", 0)
            r["clock"] = d.get("clock", "real time")
            if "pcie_bytes_per_op" in r:
                r["pcie_total_mib"] = r["pcie_bytes_per_op"] * r["ops"] / 1048576.0
        runs += d["runs"]
    if not runs:
        fail("the reports hold no runs")
    return runs


def check_run(path, i, r):
    """A run has what every table and plot reads, with the right types."""
    need = {"benchmark": str, "xfer": str, "ops": int, "ops_per_sec": (int, float),
            "latency": dict}
    if not isinstance(r, dict):
        fail(f"{path}: runs[{i}] is not an object")
    for k, t in need.items():
        if k not in r:
            fail(f"{path}: runs[{i}] has no '{k}'")
        if not isinstance(r[k], t) or isinstance(r[k], bool):
            fail(f"{path}: runs[{i}].{k} is not a {getattr(t, '__name__', 'number')}")


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
          f"{'PCIe B/op':>11} {'ampl.':>8} {'TLPs/op':>8} {'NAND prog':>10} {'p99 µs':>9}"
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


def out_file(outdir, fname, fmt):
    """@fname with the extension of @fmt."""
    return os.path.join(outdir, os.path.splitext(fname)[0] + "." + fmt)


def head(outdir, fname, fmt, title):
    """The lines every plot starts with: terminal, output file, title."""
    return (f"set terminal {TERMINALS[fmt]}\nset encoding utf8\n"
            f"set output '{out_file(outdir, fname, fmt)}'\nset title \"{title}\"\n")


def yrange(values, log):
    """Limits with headroom, so that no bar or point touches the frame."""
    vals = [v for v in values if v > 0] or [1]
    if log:
        return f"set logscale y\nset yrange [{min(vals) / 2:.6g}:{max(vals) * 3:.6g}]"
    return f"set yrange [0:{max(vals) * 1.15:.6g}]"


def note(text):
    """A visible note under the plot, in red."""
    return (f"set bmargin 5\nset label 1 \"{text}\" at screen 0.02, screen 0.03 left front "
            "font ',9' tc rgb '#b00000'")


def bars(runs, key, title, fname, ylabel, log, outdir, suptitle, fmt="png"):
    benches, methods, by = grouped(runs)
    dat = os.path.join(outdir, os.path.splitext(fname)[0] + ".dat")
    log = log and all(r.get(key, 0) > 0 for r in runs)
    extra = ""
    if key == "ops_per_sec" and any(r["clock"] != "virtual time" for r in runs):
        extra = note(EMULATOR_NOTE)
    with open(dat, "w") as f:
        for b in benches:
            vals = [str(by[(b, m)].get(key, 0)) if (b, m) in by else "0" for m in methods]
            f.write(b + " " + " ".join(vals) + "\n")
    cols = " , ".join(f"'{dat}' using {i + 2}:xtic(1) title '{m}' lc rgb '{colour(m)}'"
                      for i, m in enumerate(methods))
    gnuplot(head(outdir, fname, fmt, title + suptitle) + f"""set style data histogram
set style histogram cluster gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set ylabel '{ylabel}'
set xlabel 'workload'
set xtics rotate by -30
{yrange([r.get(key, 0) for r in runs], log)}
{extra}
set grid ytics
set key outside right top
plot {cols}
""")


def cdf(runs, outdir, suptitle, fmt="png"):
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
        lines.append(f"'{dat}' using 1:2 with steps lw 2 lc rgb '{colour(method(r))}' "
                     f"dt {1 + bench_index(runs, r) % 5} "
                     f"title '{r['benchmark']} {method(r)} ({kind})'")
    if not lines:
        return False
    gnuplot(head(outdir, "latency_cdf.png", fmt,
                 f"Latency CDF (submission to completion, host view){suptitle}") + f"""set logscale x
set xlabel 'latency (µs)'
set ylabel 'fraction of operations'
set yrange [0:1.02]
set grid
set key outside right top
plot {', '.join(lines)}
""")
    return True


def bench_index(runs, r):
    """The position of @r's benchmark among the runs' (dash type of its lines)."""
    names = []
    for x in runs:
        if x["benchmark"] not in names:
            names.append(x["benchmark"])
    return names.index(r["benchmark"])


def sweep_table(runs, out):
    hdr = f"{'value B':>8} {'method':<14} {'PCIe B/op':>11} {'ampl.':>8} {'TLPs/op':>8} " \
          f"{'model store µs':>15} {'host write µs':>14}"
    print(hdr, file=out)
    print("-" * len(hdr), file=out)
    for r in sorted(runs, key=lambda r: (r["value_size"], r["xfer"])):
        print(f"{r['value_size']:>8} {method(r):<14} {r.get('pcie_bytes_per_op', 0):>11.1f} "
              f"{r.get('traffic_amplification', 0):>8.2f} {r.get('tlps_per_op', 0):>8.2f} "
              f"{r.get('model_latency_us', {}).get('store', 0):>15.3f} "
              f"{r.get('latency', {}).get('write', {}).get('avg_us', 0):>14.3f}", file=out)
    notes(runs, out)


def sweep_plot(runs, get, title, fname, ylabel, outdir, suptitle, fmt="png"):
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
        lines.append(f"'{dat}' using 1:2 with linespoints lw 2 pt 7 lc rgb '{colour(m)}' "
                     f"title '{m}'")
    gnuplot(head(outdir, fname, fmt, title + suptitle) + f"""set logscale x 2
{yrange([get(r) for r in runs], True)}
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
               "sweep_traffic.png", "PCIe bytes / op", a.out, sup, a.format)
    sweep_plot(runs, lambda r: r.get("model_latency_us", {}).get("store", 0),
               "Modeled Store latency vs value size (device clock)", "sweep_latency.png",
               "latency (µs)", a.out, sup, a.format)
    for f in ("sweep_traffic.png", "sweep_latency.png"):
        print("plot:", out_file(a.out, f, a.format))


# ---- scripts/repro/kvaccel.sh ---------------------------------------------------------

KVA_CONFIGS = ["kvaccel-eager", "kvaccel-lazy", "rocksdb-slowdown", "rocksdb-stalls"]
KVA_BASE = "rocksdb-slowdown"
KVA_WORKLOADS = {
    "A": "fillrandom",
    "B": "90 % puts / 10 % gets",
    "C": "80 % puts / 20 % gets",
    "D": "seekrandom, 1024 nexts (after a fillrandom)",
}


def kva_load(d, w, c):
    """The workload's timed run (the report's last) and the CPU figures."""
    path = os.path.join(d, f"{w}-{c}.json")
    runs = load([path])
    try:
        with open(os.path.join(d, f"{w}-{c}.cpu.json")) as f:
            cpu = json.load(f)
    except (OSError, ValueError):
        cpu = {}
    r = runs[-1]
    r["cpu"] = cpu
    r["config"] = c
    r["fill"] = runs[0] if len(runs) > 1 else None
    return r


def main_latency(r):
    """The latency a workload is judged by: writes, or seeks for D."""
    lat = r["latency"]
    return lat.get("write") or lat.get("seek") or lat.get("read") or {}


def pct(a, b):
    return f"{(a / b - 1) * 100:+.0f}%" if b else "-"


def kva_series(r, key):
    return r.get("series", {}).get(key, [])


def stalled_p99(r):
    """P99 (µs) of the intervals the engine spent mostly stalled: median, max."""
    v = sorted(p for p, st in zip(kva_series(r, "p99_us"), kva_series(r, "stalled"))
               if st >= 0.5 and p > 0)
    return (v[len(v) // 2], v[-1]) if v else (0, 0)


def device_put_us(r):
    """Average device Store time of the redirected puts; the worst interval's."""
    n = kva_series(r, "redirected")
    us = kva_series(r, "device_put_us")
    tot = sum(n)
    if not tot:
        return 0, 0
    return sum(a * b for a, b in zip(n, us)) / tot, max(u for u, k in zip(us, n) if k)


def kva_table(w, rows, out):
    base = rows.get(KVA_BASE)
    print(f"\n### Workload {w}: {KVA_WORKLOADS[w]}\n", file=out)
    print("| configuration | ops/s | vs RocksDB (slowdown) | P99 µs | vs | P99.9 µs | read P99 µs "
          "| CPU % (bench + emu) | ops/s per CPU % | redirected MB | rolled back MB (s) |",
          file=out)
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |", file=out)
    for c in KVA_CONFIGS:
        r = rows.get(c)
        if not r:
            continue
        lat = main_latency(r)
        blat = main_latency(base) if base else {}
        rd = r["latency"].get("read", {}).get("p99") if "write" in r["latency"] else None
        cpu = r["cpu"].get("bench_cpu_pct", 0) + r["cpu"].get("emu_cpu_pct", 0)
        k = r.get("kvaccel")
        red = f"{k['bytes_redirected'] / 1e6:.1f}" if k else "-"
        rb = f"{k['rollback_bytes'] / 1e6:.1f} ({k['rollback_seconds']:.2f})" if k else "-"
        cpus = (f"{r['cpu'].get('bench_cpu_pct', 0):.0f} + {r['cpu'].get('emu_cpu_pct', 0):.0f}"
                if r["cpu"] else "-")
        print(f"| {c} | {r['ops_per_sec']:.0f} | "
              f"{pct(r['ops_per_sec'], base['ops_per_sec']) if base else '-'} | "
              f"{lat.get('p99', 0):.0f} | {pct(lat.get('p99', 0), blat.get('p99', 0))} | "
              f"{lat.get('p999', 0):.0f} | {f'{rd:.0f}' if rd is not None else '-'} | {cpus} | "
              f"{r['ops_per_sec'] / cpu if cpu else 0:.0f} | {red} | {rb} |", file=out)
    if base:
        med, mx = stalled_p99(base)
        print(f"\nRocksDB (slowdown) was stalled or delayed in "
              f"{sum(1 for x in kva_series(base, 'stalled') if x >= 0.5)} of "
              f"{len(kva_series(base, 'stalled'))} intervals; its P99 in them: median "
              f"{med:.0f} µs, worst {mx:.0f} µs.", file=out)
    for c in ("kvaccel-eager", "kvaccel-lazy"):
        r = rows.get(c)
        if r and r.get("kvaccel"):
            avg, worst = device_put_us(r)
            print(f"{c}: {sum(kva_series(r, 'redirected'))} puts redirected in the timed run, "
                  f"device Store {avg:.0f} µs on average (worst interval {worst:.0f} µs); "
                  f"{sum(kva_series(r, 'rolled_back'))} pairs rolled back.", file=out)


def kva_dat(outdir, name, cols):
    path = os.path.join(outdir, name)
    with open(path, "w") as f:
        for row in zip(*cols):
            f.write(" ".join(str(x) for x in row) + "\n")
    return path


def kva_stall_rects(base):
    """gnuplot rectangles over RocksDB (slowdown)'s stalled intervals."""
    out = []
    for i, (t, ln, st) in enumerate(zip(kva_series(base, "secs"), kva_series(base, "len_s"),
                                        kva_series(base, "stalled"))):
        if st > 0:
            out.append(f"set object {i + 1} rect from {t - ln}, graph 0 to {t}, graph 1 "
                       f"fc rgb '#c44e52' fs transparent solid {0.08 + 0.22 * st} noborder behind")
    return "\n".join(out)


def kva_plots(w, rows, outdir, fmt, sup):
    made = []
    base = rows.get(KVA_BASE)
    real = any(r["clock"] != "virtual time" for r in rows.values())
    # Throughput over time, RocksDB's stall periods shaded.
    lines, peak = [], [1]
    for c, r in rows.items():
        t, v = kva_series(r, "secs"), kva_series(r, "ops_per_sec")
        if not t:
            continue
        peak += v
        dat = kva_dat(outdir, f"{w}_tput_{c}.dat", [t, v])
        lines.append(f"'{dat}' using 1:2 with lines lw 2 lc rgb '{colour(c)}' title '{c}'")
    if lines:
        f = f"kvaccel_{w}_throughput.png"
        gnuplot(head(outdir, f, fmt, f"Workload {w}: throughput over time{sup}") + f"""
set xlabel 'time (s)'
set xrange [0:*]
set ylabel 'operations / s (per interval)'
{yrange(peak, False)}
{kva_stall_rects(base) if base else ''}
{note(EMULATOR_NOTE + '; shaded: RocksDB (slowdown) stalled or delayed') if real else ''}
set grid
set key outside right top spacing 1.3
plot {', '.join(lines)}
""")
        made.append(out_file(outdir, f, fmt))
    # P99 (solid) and P99.9 (hatched) per configuration, in its colour.
    cs = [c for c in KVA_CONFIGS if c in rows]
    p99 = [main_latency(rows[c]).get("p99", 0) for c in cs]
    p999 = [main_latency(rows[c]).get("p999", 0) for c in cs]
    rgb = [int(colour(c)[1:], 16) for c in cs]
    dat = kva_dat(outdir, f"{w}_p99.dat", [list(range(len(cs))), cs, p99, p999, rgb])
    f = f"kvaccel_{w}_p99.png"
    gnuplot(head(outdir, f, fmt, f"Workload {w}: tail latency (P99 solid, P99.9 hatched){sup}") +
            f"""
set boxwidth 0.36
set ylabel 'latency (µs)'
{yrange(p99 + p999, True)}
set xrange [-0.6:{len(cs) - 0.4}]
set grid ytics
set key off
plot '{dat}' using ($1 - 0.19):3:5:xtic(2) with boxes fs solid 0.85 border -1 lc rgb variable, \\
     '' using ($1 + 0.19):4:5 with boxes fs pattern 2 border -1 lc rgb variable
""")
    made.append(out_file(outdir, f, fmt))
    # Device PCIe traffic and redirected puts over time (KVAccel only).
    lines, peak = [], [1]
    for c in ("kvaccel-eager", "kvaccel-lazy"):
        r = rows.get(c)
        if not r or not kva_series(r, "pcie_bytes"):
            continue
        mb = [b / 1e6 / max(ln, 1e-9) for b, ln in zip(kva_series(r, "pcie_bytes"),
                                                         kva_series(r, "len_s"))]
        peak += mb
        dat = kva_dat(outdir, f"{w}_pcie_{c}.dat", [kva_series(r, "secs"), mb])
        lines.append(f"'{dat}' using 1:2 with lines lw 2 lc rgb '{colour(c)}' title '{c}'")
    if lines:
        f = f"kvaccel_{w}_pcie.png"
        gnuplot(head(outdir, f, fmt, f"Workload {w}: device PCIe traffic{sup}") + f"""
set xlabel 'time (s)'
set xrange [0:*]
set ylabel 'MB/s over PCIe (both directions)'
{yrange(peak, False)}
{kva_stall_rects(base) if base else ''}
set grid
set key outside right top
plot {', '.join(lines)}
""")
        made.append(out_file(outdir, f, fmt))
    return made


def kvaccel(a):
    if len(a.reports) != 1 or not os.path.isdir(a.reports[0]):
        fail("--kvaccel takes one folder: scripts/repro/kvaccel.sh's --out")
    d = a.reports[0]
    ws = [w for w in a.workloads.split(",") if w]
    if not ws or any(w not in KVA_WORKLOADS for w in ws):
        fail(f"--workloads: a comma list of {' '.join(KVA_WORKLOADS)}")
    data = {}
    for w in ws:
        data[w] = {c: kva_load(d, w, c) for c in KVA_CONFIGS
                   if os.path.exists(os.path.join(d, f"{w}-{c}.json"))}
        if not data[w]:
            fail(f"{d}: no reports of workload {w} ({w}-CONFIG.json)")
    print("# KVAccel reproduction (scripts/repro/kvaccel.sh)")
    clock = {r["clock"] for rows in data.values() for r in rows.values()}
    print(f"\nclock: {', '.join(sorted(clock))}; latencies in µs; CPU % of one core "
          "(nvkv-bench + nvkv-emu)")
    for w in ws:
        kva_table(w, data[w], sys.stdout)
    if a.no_plots:
        return
    sup = plot_setup(a)
    made = []
    for w in ws:
        made += kva_plots(w, data[w], a.out, a.format, sup)
    # Throughput per CPU, every workload.
    cs = KVA_CONFIGS
    rows = []
    for w in ws:
        rows.append([w] + [(lambda r: r["ops_per_sec"] / max(
            r["cpu"].get("bench_cpu_pct", 0) + r["cpu"].get("emu_cpu_pct", 0), 1e-9)
            if r and r["cpu"] else 0)(data[w].get(c)) for c in cs])
    dat = kva_dat(a.out, "efficiency.dat", list(zip(*rows)))
    f = "kvaccel_efficiency.png"
    cols = ", ".join(f"'{dat}' using {i + 2}:xtic(1) title '{c}' lc rgb '{colour(c)}'"
                     for i, c in enumerate(cs))
    gnuplot(head(a.out, f, a.format, f"Throughput per CPU (ops/s per % of a core){sup}") + f"""
set style data histogram
set style histogram cluster gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set xlabel 'workload'
{yrange([v for row in rows for v in row[1:]], False)}
set grid ytics
set key outside right top
plot {cols}
""")
    made.append(out_file(a.out, f, a.format))
    for m in made:
        print("plot:", m, file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("reports", nargs="+")
    ap.add_argument("--out", default=".")
    ap.add_argument("--title", default="")
    ap.add_argument("--no-plots", action="store_true")
    ap.add_argument("--sweep", action="store_true",
                    help="one report per value size: plot against the value size")
    ap.add_argument("--kvaccel", action="store_true",
                    help="the one argument is scripts/repro/kvaccel.sh's output folder")
    ap.add_argument("--workloads", default="A,B,C,D", help="--kvaccel: which workloads")
    ap.add_argument("--format", default="png", choices=sorted(TERMINALS),
                    help="plot file format (png)")
    a = ap.parse_args()
    if a.kvaccel:
        return kvaccel(a)
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
            bars(runs, key, title, fname, ylabel, log, a.out, sup, a.format)
            made.append(out_file(a.out, fname, a.format))
    if cdf(runs, a.out, sup, a.format):
        made.append(out_file(a.out, "latency_cdf.png", a.format))
    for m in made:
        print("plot:", m)


if __name__ == "__main__":
    main()
