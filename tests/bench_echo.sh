#!/bin/sh
# SPDX-License-Identifier: MIT
# Closed loop against a correct echo server: verified replies, no errors,
# JSON fields present, histogram file written, two results merge into one.
. "${top_srcdir:-.}/tests/bench_lib.sh"
start_srv echo --fault none

"$TPBENCH" -q -c 8 -t 2 -D 4 -s 100 -d 1s -w 200ms --json --hist "$TMPD/h.hgrm" \
    --json-interval "$TMPD/ivl.json" "127.0.0.1:$PORT" > "$TMPD/a.json" || fail "run a exit $?"
[ "$(jget "$TMPD/a.json" 'd["errors"]')" = 0 ] || fail "errors in a clean run"
resp=$(jget "$TMPD/a.json" 'd["responses"]')
[ "$resp" -gt 100 ] || fail "only $resp responses"
jget "$TMPD/a.json" 'd["latency_us"]["p99"] > 0 and d["latency_us"]["p50"] <= d["latency_us"]["p99"] <= d["latency_us"]["max"]' | grep -q True || fail "percentiles not ordered"
[ "$(jget "$TMPD/a.json" 'd["bytes_rx"] == 100 * d["responses"]')" = True ] || fail "bytes_rx != 100 * responses"
grep -q "^ *[0-9.]* 1.000000000000" "$TMPD/h.hgrm" || fail "hist file lacks the 100% row"
[ -s "$TMPD/ivl.json" ] || fail "no interval lines"

"$TPBENCH" -q -c 4 -d 1s -w 0 --json "127.0.0.1:$PORT" > "$TMPD/b.json" || fail "run b exit $?"
"$TPBENCH" merge --json "$TMPD/a.json" "$TMPD/b.json" > "$TMPD/m.json" || fail "merge exit $?"
[ "$(jget "$TMPD/m.json" 'd["responses"] == '"$resp"' + '"$(jget "$TMPD/b.json" 'd["responses"]')")" = True ] \
    || fail "merged responses are not the sum"
[ "$(jget "$TMPD/m.json" 'd["processes"]')" = 2 ] || fail "merged processes != 2"
[ "$(jget "$TMPD/m.json" 'd["latency_us"]["count"] == d["responses"]')" = True ] || fail "merged histogram count"
"$TPBENCH" merge "$TMPD/a.json" "$TMPD/b.json" | grep -q "merged from 2 processes" || fail "merge text"
# Not a terminal: no progress line, stderr stays empty on a clean run.
"$TPBENCH" -c 2 -d 1s -w 0 "127.0.0.1:$PORT" > "$TMPD/plain.txt" 2> "$TMPD/plain.err" || fail "plain run exit $?"
[ -s "$TMPD/plain.err" ] && fail "stderr not quiet: $(cat "$TMPD/plain.err")"
grep -q "req/s" "$TMPD/plain.txt" || fail "no summary"
echo "ok: $resp responses"
