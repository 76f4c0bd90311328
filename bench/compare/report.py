#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Summarise a bench/compare.sh results directory: reads runs.csv and the
tpbench --json file of every run, takes per (scenario, server) medians over
the repeats, and writes summary.txt (the table, also printed), summary.csv,
summary.json, and plot.png (gnuplot: each server's median relative to the
best reference server of the scenario; 1.0 = as good as the best reference,
higher is better). Reference servers are all but tpserver-*. Beside each
rate: the server's CPU per operation (all its processes: a TLS terminator
and its backend count together), and for the TLS handshake scenarios the
handshake times and the share of handshakes that were resumed.

usage: report.py RESULTS_DIR"""
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys

# scenario -> (tpbench JSON field of the headline figure, its unit)
PRIMARY = {
    "pingpong": ("rate_rps", "req/s"),
    "pipeline": ("rate_rps", "req/s"),
    "throughput": ("throughput_rx_Bps", "MiB/s"),
    "idle10k": ("rate_rps", "req/s"),
    "churn": ("conn_rate", "conn/s"),
    "single": ("rate_rps", "req/s"),
    # TLS (bench/compare.sh -s tls -S tls): a churn connection is one
    # handshake, so connections/s are handshakes/s.
    "tls-full": ("conn_rate", "hs/s"),
    "tls-resumed": ("conn_rate", "hs/s"),
    "tls-pingpong": ("rate_rps", "req/s"),
    "tls-throughput": ("throughput_rx_Bps", "MiB/s"),
    "tls-idle10k": ("rate_rps", "req/s"),
}
# Handshake scenarios: p50/p99 are of the handshakes (tpbench's
# tls_handshake_*_us), not of the one request each connection makes.
HANDSHAKE_LATENCY = {"tls-full": "tls_handshake_full_us", "tls-resumed": "tls_handshake_resumed_us"}
# Idle scenarios: the server's CPU in the run is mostly the connections'
# setup before the measured window, so no CPU per request is given.
IDLE = ("idle10k", "tls-idle10k")
FOREIGN_WARN = 0.25  # CPUs of other work above which a comparison is unreliable
ORDER = ["pingpong", "pipeline", "throughput", "idle10k", "churn", "single",
         "tls-full", "tls-resumed", "tls-pingpong", "tls-throughput", "tls-idle10k"]


def is_reference(server):
    return not server.startswith("tpserver")


def num(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def load_run(row):
    """One run's figures, or None if it did not produce a usable result."""
    if row["status"] != "ok":
        return None
    try:
        with open(row["json"]) as f:
            j = json.load(f)
    except (OSError, ValueError):
        return None
    sc = row["scenario"]
    lat = j.get(HANDSHAKE_LATENCY.get(sc, "latency_us")) or {}
    key = PRIMARY[sc][0]
    value = j.get(key)
    if key == "throughput_rx_Bps" and value is not None:
        value = value / (1 << 20)
    full, resumed = j.get("tls_handshakes_full"), j.get("tls_handshakes_resumed")
    cpus = num(row.get("server_cpus"))
    return {
        "repeat": row["repeat"],
        "value": value,
        "p50_us": lat.get("p50"),
        "p99_us": lat.get("p99"),
        "errors": j.get("errors", 0),
        "rss_before_kib": num(row["rss_before_kib"]),
        "rss_peak_kib": num(row["rss_peak_kib"]),
        "open_max": j.get("open_max"),
        "server_cpus": cpus,
        "foreign_cpus": num(row.get("foreign_cpus")),
        # server CPU-seconds per operation (per MiB for MiB/s), in us
        "cpu_us_per_op": (1e6 * cpus / value
                          if cpus is not None and value and sc not in IDLE else None),
        "resumed_pct": (100.0 * resumed / (full + resumed)
                        if sc in HANDSHAKE_LATENCY and full is not None and resumed is not None
                        and full + resumed else None),
    }


def per_cpu(r):
    """Work per CPU-second the server spent: less sensitive than the raw
    rate to a load generator that shares the cores (server CPU is taken over
    warm-up + measured time, the rate over the measured time; fine for the
    steady rates measured here)."""
    return r["value"] / r["server_cpus"] if r["value"] and r["server_cpus"] else None


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def spread_pct(xs):
    """(max - min) / median of the repeats, in percent: how far single runs
    of one server lie apart. A ratio between servers that differs from 1 by
    less than this is not a measured difference."""
    xs = [x for x in xs if x]
    m = median(xs)
    return 100.0 * (max(xs) - min(xs)) / m if len(xs) > 1 and m else None


def paired_wins(mine, best):
    """(repeats both ran in, repeats in which mine >= best's run of the
    same repeat). A pairing that cancels the machine's drift between
    repeats, which a ratio of medians of noisy runs does not."""
    both = [k for k in mine if k in best and mine[k] is not None and best[k] is not None]
    return len(both), sum(1 for k in both if mine[k] >= best[k])


def summarise(rows):
    groups = {}
    for row in rows:
        g = groups.setdefault((row["scenario"], row["server"]), {"runs": 0, "ok": []})
        g["runs"] += 1
        r = load_run(row)
        if r is not None and r["value"] is not None:
            g["ok"].append(r)
    out = []
    for (sc, sv), g in groups.items():
        ok = g["ok"]
        s = {"scenario": sc, "server": sv, "runs": g["runs"], "ok_runs": len(ok),
             "unit": PRIMARY[sc][1], "errors": sum(r["errors"] or 0 for r in ok)}
        for k in ("value", "p50_us", "p99_us", "rss_before_kib", "rss_peak_kib", "open_max",
                  "server_cpus", "foreign_cpus", "cpu_us_per_op", "resumed_pct"):
            s[k] = median(r[k] for r in ok)
        s["values"] = [r["value"] for r in ok]
        s["by_repeat"] = {r["repeat"]: r["value"] for r in ok}
        s["spread_pct"] = spread_pct(s["values"])
        s["per_server_cpu"] = median(per_cpu(r) for r in ok)
        if sc in IDLE and s["rss_peak_kib"] and s["rss_before_kib"] and s["open_max"]:
            s["kib_per_idle_conn"] = (s["rss_peak_kib"] - s["rss_before_kib"]) / s["open_max"]
        out.append(s)
    for sc in {s["scenario"] for s in out}:
        refs = [s for s in out if s["scenario"] == sc and is_reference(s["server"]) and s["value"]]
        best = max(refs, key=lambda s: s["value"]) if refs else None
        for s in out:
            if s["scenario"] == sc:
                s["ratio_to_best_ref"] = (s["value"] / best["value"]
                                          if best and s["value"] else None)
                # CPU per operation against the best reference's (by rate):
                # <= 1 means no more CPU for the same work.
                s["cpu_ratio_to_best_ref"] = (
                    s["cpu_us_per_op"] / best["cpu_us_per_op"]
                    if best and s["cpu_us_per_op"] and best["cpu_us_per_op"] else None)
                if best and s is not best:
                    s["wins_of"], s["wins"] = paired_wins(s["by_repeat"], best["by_repeat"])
    rank = {n: i for i, n in enumerate(ORDER)}
    servers = []
    for row in rows:
        if row["server"] not in servers:
            servers.append(row["server"])
    out.sort(key=lambda s: (rank.get(s["scenario"], 99), servers.index(s["server"])))
    return out, servers


def fmt(x, spec):
    return format(x, spec) if x is not None else "-"


def table(summary):
    lines = []
    head = "%-14s %-22s %12s %-6s %7s %6s %12s %9s %9s %7s %7s %5s %6s %5s %10s %7s" % (
        "scenario", "server", "median", "unit", "vs best", "spread", "per srv CPU", "p50 us",
        "p99 us", "srv CPU", "foreign", "ok", "errors", "wins", "CPU us/op", "CPU vs")
    sc_prev = None
    for s in summary:
        if s["scenario"] != sc_prev:
            lines += ["", head, "-" * len(head)]
            sc_prev = s["scenario"]
        spec = ".0f" if s["unit"] != "MiB/s" else ".1f"
        spread = s["spread_pct"]
        wins = "%d/%d" % (s["wins"], s["wins_of"]) if s.get("wins_of") else "-"
        line = "%-14s %-22s %12s %-6s %7s %6s %12s %9s %9s %7s %7s %5s %6d %5s %10s %7s" % (
            s["scenario"], s["server"], fmt(s["value"], spec), s["unit"],
            fmt(s.get("ratio_to_best_ref"), ".2f"),
            "-" if spread is None else "%.0f%%" % spread, fmt(s["per_server_cpu"], spec),
            fmt(s["p50_us"], ".1f"),
            fmt(s["p99_us"], ".1f"), fmt(s["server_cpus"], ".2f"), fmt(s["foreign_cpus"], ".2f"),
            "%d/%d" % (s["ok_runs"], s["runs"]), s["errors"], wins,
            fmt(s["cpu_us_per_op"], ".1f"), fmt(s.get("cpu_ratio_to_best_ref"), ".2f"))
        if s["scenario"] in IDLE:
            line += "  RSS empty %s KiB, with %s conns %s KiB, %s KiB/conn" % (
                fmt(s["rss_before_kib"], ".0f"), fmt(s["open_max"], ".0f"),
                fmt(s["rss_peak_kib"], ".0f"), fmt(s.get("kib_per_idle_conn"), ".2f"))
        if s["scenario"] in HANDSHAKE_LATENCY:
            line += "  resumed %s%%" % fmt(s["resumed_pct"], ".0f")
        lines.append(line)
    lines.append("")
    lines.append("median over the ok runs; 'vs best' = median / best reference median "
                 "(references: all but tpserver-*; higher is better);")
    lines.append("spread = (max - min) / median of the repeats: ratios closer to 1 than "
                 "that are noise;")
    lines.append("wins = repeats in which the run was at least as good as the best reference's "
                 "run of the same repeat;")
    lines.append("per srv CPU = median / CPU-seconds the server used; srv CPU = CPUs the "
                 "server used; foreign = CPUs used by")
    lines.append("anything but the server and tpbench (other work on the machine);")
    lines.append("CPU us/op = the server's CPU (all its processes) per request, handshake or MiB "
                 "(none for idle: setup dominates);")
    lines.append("CPU vs = that / the best reference's (<= 1: no more CPU for the same work); "
                 "tls-full/tls-resumed: p50/p99 of the handshakes")
    busy = [s["foreign_cpus"] for s in summary if s["foreign_cpus"] is not None]
    if busy and max(busy) > FOREIGN_WARN:
        lines.append("WARNING: other work used up to %.2f CPUs during these runs: the machine "
                     "was not quiet, so the figures are not comparable; rerun on an idle "
                     "machine" % max(busy))
    return "\n".join(lines)


def write_csv(path, summary):
    cols = ["scenario", "server", "value", "unit", "ratio_to_best_ref", "spread_pct",
            "per_server_cpu",
            "p50_us", "p99_us", "server_cpus", "foreign_cpus", "ok_runs", "runs", "errors", "wins", "wins_of", "rss_before_kib", "rss_peak_kib", "kib_per_idle_conn",
            "open_max", "cpu_us_per_op", "cpu_ratio_to_best_ref", "resumed_pct"]
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        for s in summary:
            w.writerow(["" if s.get(c) is None else s.get(c) for c in cols])


# tpserver in warm colours so it stands out; references in cool ones.
TPS_COLOURS = ["#d62728", "#ff7f0e", "#8c1d18", "#e377c2", "#ffbb78", "#f7b6d2"]
REF_COLOURS = ["#1f77b4", "#6baed6", "#2ca02c", "#98df8a", "#9467bd", "#c5b0d5",
               "#17becf", "#9edae5", "#7f7f7f", "#c7c7c7", "#bcbd22", "#dbdb8d", "#393b79"]


def plot(outdir, summary, servers, foreign):
    scenarios = [sc for sc in ORDER if any(s["scenario"] == sc for s in summary)]
    ratio = {(s["scenario"], s["server"]): s.get("ratio_to_best_ref") for s in summary}
    servers = [sv for sv in servers if any(ratio.get((sc, sv)) for sc in scenarios)]
    if not servers:
        print("report: nothing to plot", file=sys.stderr)
        return
    top = max(v for v in ratio.values() if v)
    dat = os.path.join(outdir, "plot.dat")
    with open(dat, "w") as f:
        f.write("scenario " + " ".join(servers) + "\n")
        for sc in scenarios:
            vals = [ratio.get((sc, sv)) for sv in servers]
            f.write(sc + " " + " ".join("NaN" if v is None else "%.4f" % v for v in vals) + "\n")
    tps = iter(TPS_COLOURS * 4)
    ref = iter(REF_COLOURS * 2)
    colours = [next(ref) if is_reference(sv) else next(tps) for sv in servers]
    gp = os.path.join(outdir, "plot.gp")
    with open(gp, "w") as f:
        f.write("""set terminal pngcairo size 1400,650 font ",10"
set output "%s"
set title "tpserver vs reference servers: median relative to the best reference (higher is better)%s"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.9 border -1
set boxwidth 0.9
set datafile missing "NaN"
set key outside right top vertical
set ylabel "median / best reference median"
set yrange [0:%.2f]
set grid ytics
set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2 lw 1.5
colours = "%s"
plot for [i=2:%d] "%s" using i:xtic(1) title columnheader(i) lc rgb word(colours, i - 1)
""" % (os.path.join(outdir, "plot.png"),
           "\\nWARNING: other work used up to %.2f CPUs during the runs: not comparable" % foreign
           if foreign > FOREIGN_WARN else "", max(1.15, top * 1.1), " ".join(colours),
           len(servers) + 1, dat))
    if not shutil.which("gnuplot"):
        print("report: gnuplot not found; plot.gp written, no PNG", file=sys.stderr)
        return
    r = subprocess.run(["gnuplot", gp], capture_output=True, text=True)
    if r.returncode != 0:
        print("report: gnuplot failed: " + r.stderr.strip(), file=sys.stderr)


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        sys.exit(2)
    outdir = sys.argv[1]
    with open(os.path.join(outdir, "runs.csv")) as f:
        rows = list(csv.DictReader(f))
    if not rows:
        print("report: no runs in %s/runs.csv" % outdir, file=sys.stderr)
        sys.exit(1)
    summary, servers = summarise(rows)
    text = table(summary)
    print(text)
    with open(os.path.join(outdir, "summary.txt"), "w") as f:
        f.write(text + "\n")
    write_csv(os.path.join(outdir, "summary.csv"), summary)
    meta = {}
    try:
        with open(os.path.join(outdir, "meta.txt")) as f:
            meta = dict(line.rstrip("\n").split("=", 1) for line in f if "=" in line)
    except OSError:
        pass
    with open(os.path.join(outdir, "summary.json"), "w") as f:
        json.dump({"meta": meta, "summary": summary}, f, indent=1)
    busy = [s["foreign_cpus"] for s in summary if s["foreign_cpus"] is not None]
    plot(outdir, summary, servers, max(busy) if busy else 0.0)
    print("results: %s/{summary.txt,summary.csv,summary.json,plot.png,runs.csv}" % outdir)


main()
