#!/bin/sh
# The other load shapes against a correct echo server: connection churn,
# idle connections with a few active, throughput streaming, connect ramp.
. "${top_srcdir:-.}/tests/bench_lib.sh"
start_srv modes --fault none

"$TPBENCH" -q --mode churn -c 4 -d 1s -w 0 --json "127.0.0.1:$PORT" > "$TMPD/churn.json" || fail "churn exit $?"
[ "$(jget "$TMPD/churn.json" 'd["conn_done"] > 10 and d["conn_done"] == d["responses"]')" = True ] || fail "churn counts"

"$TPBENCH" -q --mode idle -c 300 --active 2 -d 1s -w 200ms --json "127.0.0.1:$PORT" > "$TMPD/idle.json" || fail "idle exit $?"
[ "$(jget "$TMPD/idle.json" 'd["open_max"]')" = 300 ] || fail "idle: not all 300 open"
[ "$(jget "$TMPD/idle.json" 'd["responses"] > 0')" = True ] || fail "idle: no active traffic"

"$TPBENCH" -q --mode throughput -c 2 -d 1s -w 0 --json "127.0.0.1:$PORT" > "$TMPD/tp.json" || fail "throughput exit $?"
[ "$(jget "$TMPD/tp.json" 'd["bytes_rx"] > 1000000 and d["size"] == 65536')" = True ] || fail "throughput bytes"

"$TPBENCH" -q --mode ramp -c 20 -R 100 -d 1s -w 0 --json "127.0.0.1:$PORT" > "$TMPD/ramp.json" 2> "$TMPD/ramp.err" \
    || fail "ramp exit $?: $(cat "$TMPD/ramp.err") $(jget "$TMPD/ramp.json" "d[\"errors_by_kind\"], d[\"responses\"]")"
[ "$(jget "$TMPD/ramp.json" 'd["connects"] == 20 and d["connect_us"]["count"] == 20')" = True ] || fail "ramp connects"
[ "$(jget "$TMPD/ramp.json" 'd["open_loop"]')" = False ] || fail "ramp: --rate paced requests too"

# --max-rate-under: a generous target on a correct server must find a rate.
"$TPBENCH" -q -c 2 -d 300ms -w 0 --max-rate-under p99=1s "127.0.0.1:$PORT" > "$TMPD/mr.txt" 2> "$TMPD/mr.err" \
    || fail "max-rate exit $?: $(cat "$TMPD/mr.err")"
grep -q "^max rate with p99 <= 1000.000 ms: [1-9][0-9]* req/s" "$TMPD/mr.txt" || fail "max-rate: $(cat "$TMPD/mr.txt")"
[ "$(grep -c ' -> ok' "$TMPD/mr.err")" -ge 1 ] || fail "max-rate: no passing step"
echo ok
