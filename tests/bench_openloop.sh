#!/bin/sh
# SPDX-License-Identifier: MIT
# Open loop corrects coordinated omission: a server that freezes 500 ms
# once must push the corrected p99 to >= 400 ms, while the uncorrected
# p99 (measured from the actual send) stays lower.
. "${top_srcdir:-.}/tests/bench_lib.sh"
start_srv stall --fault stall --stall-after 1000 --stall-ms 500

"$TPBENCH" -q -c 4 -R 1000 -d 3s -w 0 --json --hist "$TMPD/o.hgrm" "127.0.0.1:$PORT" > "$TMPD/o.json" || fail "exit $?"
[ -s "$TMPD/o.hgrm" ] && [ -s "$TMPD/o.hgrm.uncorrected" ] || fail "hist files missing"
c=$(jget "$TMPD/o.json" 'd["latency_us"]["p99"]')
u=$(jget "$TMPD/o.json" 'd["latency_uncorrected_us"]["p99"]')
echo "corrected p99 $c us, uncorrected p99 $u us"
[ "$(jget "$TMPD/o.json" 'd["open_loop"]')" = True ] || fail "not open loop"
[ "$(jget "$TMPD/o.json" 'd["latency_us"]["p99"] >= 400000')" = True ] || fail "corrected p99 $c < 400 ms"
[ "$(jget "$TMPD/o.json" 'd["latency_uncorrected_us"]["p99"] < d["latency_us"]["p99"] / 2')" = True ] \
    || fail "uncorrected p99 $u not well below corrected $c"
[ "$(jget "$TMPD/o.json" 'abs(d["rate_rps"] - 1000) < 150')" = True ] || fail "rate off target"
echo ok
