#!/bin/sh
# SPDX-License-Identifier: MIT
# plot.sh: turn tpbench output files into plots with gnuplot. Installed as
# tpbench-plot (the Makefile puts the version in); see tpbench-plot(1).
set -e
version=source-tree
name=$(basename "$0")
usage() {
    cat <<EOF
Usage: $name [-o PREFIX] [-t TITLE] FILE[=LABEL] ...
Plot tpbench output with gnuplot.
  FILE ending in .hgrm (or any tpbench --hist output): latency by
    percentile, PREFIX-latency.png and .svg (x axis: percentile on a
    1/(1-p) log scale, as HdrHistogram's plotter draws it; several files
    are overlaid).
  FILE ending in .jsonl / .ndjson (tpbench --json-interval output):
    requests/s and p99 over time, PREFIX-rate.png and .svg.
  -o PREFIX   output file prefix (default: tpbench)
  -t TITLE    plot title (default: tpbench)
  LABEL       the legend of FILE's curve (default: its file name)
Needs gnuplot (and python3 for the JSON lines).
EOF
}
case ${1:-} in
--help) usage; exit 0 ;;
--version) echo "tpbench-plot (tpserv) $version"; exit 0 ;;
esac
prefix=tpbench
title=tpbench
while getopts o:t:h opt; do
    case $opt in
    o) prefix=$OPTARG ;;
    t) title=$OPTARG ;;
    h) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || { usage >&2; exit 2; }
command -v gnuplot > /dev/null || { echo "$name: gnuplot is not installed" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
lat=""; rate=""; i=0
for arg in "$@"; do
    f=${arg%%=*}; label=${arg#*=}; [ "$label" = "$arg" ] && label=$(basename "$f")
    [ -r "$f" ] || { echo "$name: cannot read $f" >&2; exit 1; }
    i=$((i + 1))
    case $f in
    *.jsonl|*.ndjson|*interval*)
        python3 -c 'import json,sys
for l in open(sys.argv[1]):
    if l.strip():
        d=json.loads(l); print(d["t"], d["rate_rps"], d["p99_us"]/1000.0, d["errors"])' "$f" > "$tmp/r$i"
        rate="$rate${rate:+, }'$tmp/r$i' using 1:2 with linespoints title '$label req/s', '$tmp/r$i' using 1:3 axes x1y2 with lines dt 2 title '$label p99 (ms)'" ;;
    *)
        awk 'NF == 4 && $1 ~ /^[0-9.]+$/ {print $4, $1}' "$f" > "$tmp/l$i"
        lat="$lat${lat:+, }'$tmp/l$i' using 1:2 with steps lw 2 title '$label'" ;;
    esac
done
term() {   # term EXT
    case $1 in
    png) echo "set terminal pngcairo size 800,480 font ',10'" ;;
    svg) echo "set terminal svg size 800,480 dynamic font 'sans,10'" ;;
    esac
}
for ext in png svg; do
    if [ -n "$lat" ]; then
        gnuplot <<GP
$(term $ext)
set output '$prefix-latency.$ext'
set title '$title: latency by percentile'
set logscale x
set xrange [1:*]
set xtics ('0%%' 1, '90%%' 10, '99%%' 100, '99.9%%' 1000, '99.99%%' 10000, '99.999%%' 100000)
set xlabel 'percentile'
set ylabel 'latency (ms)'
set grid
set key top left
plot $lat
GP
    fi
    if [ -n "$rate" ]; then
        gnuplot <<GP
$(term $ext)
set output '$prefix-rate.$ext'
set title '$title: rate and p99 over time'
set xlabel 'time (s)'
set ylabel 'requests/s'
set y2label 'p99 (ms)'
set y2tics
set ytics nomirror
set yrange [0:*]
set y2range [0:*]
set grid
set key bottom right
plot $rate
GP
    fi
done
[ -n "$lat" ] && echo "wrote $prefix-latency.png $prefix-latency.svg"
[ -n "$rate" ] && echo "wrote $prefix-rate.png $prefix-rate.svg"
exit 0
