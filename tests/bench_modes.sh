#!/bin/sh
# SPDX-License-Identifier: MIT
# The other load shapes against a correct echo server: connection churn,
# idle connections with a few active, throughput streaming, connect ramp.
. "${top_srcdir:-.}/tests/bench_lib.sh"
start_srv modes --fault none

"$TPBENCH" -q --mode churn -c 4 -d 1s -w 0 --json "127.0.0.1:$PORT" > "$TMPD/churn.json" || fail "churn exit $?"
[ "$(jget "$TMPD/churn.json" 'd["conn_done"] > 10 and d["conn_done"] == d["responses"]')" = True ] || fail "churn counts"

# Churn on loopback spreads its connects over the 64 source addresses
# 127.0.0.2-65 (one address's ports in TIME_WAIT would cap the rate): a
# server that records its peers sees them all.
cat > "$TMPD/peers.py" <<'PY'
import socket, sys, time
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(128)
srv.settimeout(0.2)
print(srv.getsockname()[1], flush=True)
peers, end = set(), time.time() + 30
while time.time() < end:
    try:
        c, addr = srv.accept()
    except socket.timeout:
        continue
    if addr[0] not in peers:
        peers.add(addr[0])
        with open(sys.argv[1], "w") as f:
            f.write("".join(p + "\n" for p in sorted(peers)))
    c.settimeout(2)
    try:
        c.sendall(c.recv(65536))
    except OSError:
        pass
    c.close()
PY
spawn peers python3 "$TMPD/peers.py" "$TMPD/npeers"
wait_until 30 "the peer recorder printing its port" test -s "$TMPD/peers.out"
pport=$(head -1 "$TMPD/peers.out")
"$TPBENCH" -q --mode churn -c 2 -d 1s -w 0 --json "127.0.0.1:$pport" > "$TMPD/churn2.json" || fail "churn (peers) exit $?"
# (127.0.0.1 is tpbench's probe connect.)
n=$(grep -c -E '^127\.0\.0\.([2-9]|[1-5][0-9]|6[0-5])$' "$TMPD/npeers")
[ "$n" = 64 ] || fail "churn used $n of the sources 127.0.0.2-65, not 64 ($(jget "$TMPD/churn2.json" 'd["connects"]') connects): $(tr '\n' ' ' < "$TMPD/npeers")"

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

# --busy-poll: the run is reported with it, and while a reply is late the
# client polls (uses CPU) instead of sleeping; without it, it sleeps.
"$TPBENCH" -q -c 1 -d 300ms -w 0 --busy-poll 50us --json "127.0.0.1:$PORT" > "$TMPD/bp.json" \
    || fail "busy-poll exit $?"
[ "$(jget "$TMPD/bp.json" 'd["busy_poll_us"] == 50 and d["responses"] > 0 and d["errors"] == 0')" = True ] \
    || fail "busy-poll run: $(cat "$TMPD/bp.json")"
start_srv stall --fault stall --stall-after 0 --stall-ms 5000
python3 - "$TPBENCH" "$PORT" <<'PY' || fail "--busy-poll does not poll"
import resource, subprocess, sys
def cpu(extra):
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.argv[1], "-q", "-c", "1", "-d", "500ms", "-w", "0", "--timeout", "10s"]
                   + extra + ["127.0.0.1:" + sys.argv[2]], capture_output=True)
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime
polled, slept = cpu(["--busy-poll", "1s"]), cpu([])
print("CPU while the reply is late: %.3f s polling, %.3f s sleeping" % (polled, slept))
# A sleeping client uses ~0.01 s (~0.09 s under ThreadSanitizer); a
# polling one ~0.45 s alone, ~0.12 s when a busy machine gives it a
# fraction of a core (make check -j2): relative, not absolute.
assert polled > 0.06 and polled > 3 * slept, (polled, slept)
PY
echo ok
