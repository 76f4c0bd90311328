#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/compare/report.py on a results directory written here with known
# figures: medians over the ok runs only, the ratio to the best reference
# (tpserver-* are never references), the spread of the repeats, the wins
# against the best reference paired by repeat, the KiB per
# idle connection, the TLS figures (CPU per handshake and its ratio to the
# best reference's, handshake p50, resumed share; no CPU per request for
# idle runs), and a clear refusal of a directory without runs.
# Skips (77) without python3.
. "${top_srcdir:-.}/tests/testlib.sh"
REPORT="$top_srcdir/bench/compare/report.py"
need python3 python3

# run SCENARIO SERVER REPEAT STATUS JSON-BODY [RSS_BEFORE RSS_PEAK] (server CPUs 0.50)
run() {
    j="$TMPD/$1.$2.$3.json"
    printf '%s\n' "$5" > "$j"
    echo "$1,$2,$3,$4,${6:-1000},${7:-1000},x,0.50,0.00,$j" >> "$TMPD/runs.csv"
}
echo "scenario,server,repeat,status,rss_before_kib,rss_peak_kib,comm,server_cpus,foreign_cpus,json" \
    > "$TMPD/runs.csv"
# epoll-1: 90, 100, 110 -> median 100, spread 20%; libuv-1 median 80;
# tpserver-1: 95, 100, 105 and a failed run of 1 (left out) -> 1.00, 10%.
for v in 90 100 110; do run pingpong epoll-1 $((v / 10)) ok "{\"rate_rps\": $v, \"latency_us\": {\"p50\": 10, \"p99\": 20}}"; done
for v in 70 80 90; do run pingpong libuv-1 $((v / 10)) ok "{\"rate_rps\": $v}"; done
for v in 95 100 105; do run pingpong tpserver-1 $v ok "{\"rate_rps\": $v}"; done
run pingpong tpserver-1 4 failed '{"rate_rps": 1}'
# A tpserver faster than every reference must not become the reference.
run churn tpserver-1 1 ok '{"conn_rate": 300}'
run churn redis 1 ok '{"conn_rate": 200}'
# pipeline, paired by repeat: tpserver-1 beats epoll-1 (the best
# reference) in repeats 2 and 3, not in 1 nor in 4, where its run failed.
for r in 1 2 3 4; do run pipeline epoll-1 $r ok '{"rate_rps": 100}'; done
for r in 1 2 3 4; do run pipeline libuv-1 $r ok '{"rate_rps": 90}'; done
run pipeline tpserver-1 1 ok '{"rate_rps": 99}'
run pipeline tpserver-1 2 ok '{"rate_rps": 100}'
run pipeline tpserver-1 3 ok '{"rate_rps": 102}'
run pipeline tpserver-1 4 failed '{"rate_rps": 500}'
# idle10k: 10,000 connections, RSS 2,000 -> 4,000 KiB: 0.20 KiB each.
run idle10k epoll-1 1 ok '{"rate_rps": 50, "open_max": 10000}' 2000 4000
# TLS: 500 and 250 handshakes/s on 0.50 CPUs: 1000 and 2000 us of CPU per
# handshake, tpserver-tls-1 at 0.50 of haproxy-tls-1's; p50 is the
# handshake's; 90 of 100 handshakes resumed.
hs='"tls_handshakes_full": 10, "tls_handshakes_resumed": 90, "tls_handshake_resumed_us": {"p50": 300, "p99": 900}, "latency_us": {"p50": 5, "p99": 7}'
run tls-resumed tpserver-tls-1 1 ok "{\"conn_rate\": 500, $hs}"
run tls-resumed haproxy-tls-1 1 ok "{\"conn_rate\": 250, $hs}"
run tls-idle10k tpserver-tls-1 1 ok '{"rate_rps": 50, "open_max": 1000}' 1000 3000
printf 'host=test\n' > "$TMPD/meta.txt"

python3 "$REPORT" "$TMPD" > "$TMPD/out" 2> "$TMPD/err" || fail "report.py failed: $(cat "$TMPD/err")"
row() { grep "^$1 *$2 " "$TMPD/out" || fail "no $1 $2 row in: $(cat "$TMPD/out")"; }
# columns: scenario server median unit vs-best spread per-srv-CPU p50 p99 ...
check() { # SCENARIO SERVER FIELD-NO EXPECTED
    got=$(row "$1" "$2" | awk -v f="$3" '{print $f}')
    [ "$got" = "$4" ] || fail "$1 $2 field $3 is '$got', expected '$4'"
}
check pingpong epoll-1 3 100
check pingpong epoll-1 5 1.00
check pingpong epoll-1 6 20%
check pingpong libuv-1 5 0.80
check pingpong tpserver-1 3 100
check pingpong tpserver-1 5 1.00
check pingpong tpserver-1 6 10%
check pingpong tpserver-1 12 3/4
check pingpong epoll-1 8 10.0
check churn tpserver-1 5 1.50
check churn redis 5 1.00
check churn redis 6 -
check pipeline tpserver-1 14 2/3
check pipeline libuv-1 14 0/4
check pipeline epoll-1 14 -
check churn tpserver-1 14 1/1
row idle10k epoll-1 | grep -q "0.20 KiB/conn" || fail "idle10k KiB per connection: $(row idle10k epoll-1)"
check tls-resumed tpserver-tls-1 4 hs/s
check tls-resumed tpserver-tls-1 5 2.00
check tls-resumed tpserver-tls-1 8 300.0
check tls-resumed tpserver-tls-1 15 1000.0
check tls-resumed tpserver-tls-1 16 0.50
check tls-resumed haproxy-tls-1 15 2000.0
check tls-resumed haproxy-tls-1 16 1.00
row tls-resumed tpserver-tls-1 | grep -q "resumed 90%" || fail "resumed share: $(row tls-resumed tpserver-tls-1)"
check tls-idle10k tpserver-tls-1 15 -
row tls-idle10k tpserver-tls-1 | grep -q "with 1000 conns 3000 KiB, 2.00 KiB/conn" ||
    fail "tls-idle10k KiB per connection: $(row tls-idle10k tpserver-tls-1)"
for f in summary.txt summary.csv summary.json; do
    [ -s "$TMPD/$f" ] || fail "$f not written"
done
python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
assert d["meta"]["host"] == "test", d["meta"]
s = [x for x in d["summary"] if x["server"] == "epoll-1" and x["scenario"] == "pingpong"][0]
assert abs(s["spread_pct"] - 20.0) < 1e-9, s' "$TMPD/summary.json" || fail "summary.json"

mkdir "$TMPD/none" && head -1 "$TMPD/runs.csv" > "$TMPD/none/runs.csv"
python3 "$REPORT" "$TMPD/none" > /dev/null 2> "$TMPD/err" && fail "a directory without runs was accepted"
grep -q "no runs" "$TMPD/err" || fail "no clear message for a directory without runs: $(cat "$TMPD/err")"
python3 "$REPORT" > /dev/null 2>&1
[ $? -eq 2 ] || fail "no argument: expected exit 2"
echo "ok"
