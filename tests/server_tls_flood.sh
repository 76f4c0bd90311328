# SPDX-License-Identifier: MIT
# server_tls_flood.sh - a flood of TLS handshakes beside established TLS
# clients: their p99 stays within 2x of its baseline.
#
# Ten established TLS clients send 64 B echoes at a constant 2,000/s
# (tpbench open loop: the p99 is corrected for coordinated omission, so a
# stall counts for every request it held up). tests/tlsflood replays a
# ClientHello on 64 connections at once: each costs tpserver a full
# handshake step (key share, secrets, signature) and costs the machine
# little else, as a flood from the network would. Three rounds of
# baseline then flood, interleaved, and the medians of their p99s are
# compared, so that one spike of the machine's does not decide it; if
# they are over, the three rounds run once more (a regression fails both:
# see below).
#
# The server runs what protects its established clients on a machine of
# its own: the handshake pool at SCHED_IDLE (--tls-handshake-offload on),
# and a rate cap (--tls-handshake-rate 500). Both are needed on these two
# cores. Measured here (p99 under the flood / baseline): an uncapped flood
# at *another* process raised it 15-20x (the flood's CPU is the machine's),
# so no scheduling inside tpserver can hold 2x without the cap; with the
# cap, steps in the workers gave 2.8-8.6x, a pool at nice 10 2.9-8.8x,
# nice 19 2.6-4.3x, SCHED_IDLE 1.0-2.2x (bench/RESULTS.md).
# TPS_FLOOD_OFFLOAD=off runs the test with the steps in the workers, to
# see it fail.
# Skips (77) only in a build without OpenSSL.
. "${top_srcdir:-.}/tests/server_lib.sh"
need_built "$TPBENCH"
FLOOD=$top_builddir/tests/tlsflood
[ -x "$FLOOD" ] || skip "tests/tlsflood not built (a build without OpenSSL)"
CERTS="$top_srcdir/tests/tls"

jget() {
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# p99 of one 3 s run of the established clients, in us; its echoes are
# verified, and any error fails the test.
established() {
    "$TPBENCH" -q --tls --tls-ca "$CERTS/ca.pem" -c 10 -R 2000 -d 3s -w 0.5s --size 64 --json \
        "127.0.0.1:$SRV_PORT" >"$TMPD/$1.json" 2>"$TMPD/$1.err" ||
        fail "tpbench ($1) exited $?: $(cat "$TMPD/$1.err")"
    [ "$(jget "$TMPD/$1.json" 'd["errors"]')" = 0 ] || fail "$1: errors: $(cat "$TMPD/$1.json")"
    jget "$TMPD/$1.json" 'int(d["latency_us"]["p99"])'
}

median3() { printf '%s\n' "$@" | sort -n | sed -n 2p; }

# The machine's busy CPU-seconds so far (all but idle and iowait).
machine_busy() { awk '$1 == "cpu" { printf "%.0f\n", ($2 + $3 + $4 + $7 + $8 + $9) }' /proc/stat; }
hz=$(getconf CLK_TCK)

# rounds OFFLOAD - sets BASE and FLOODED (median p99s, us) and FLIGHTS.
rounds() {
    start_server "$TPSERVER" --listen tls:127.0.0.1:0 --workers 2 --tls-handshake-offload "$1" \
        --tls-handshake-rate 500 --tls-cert "$CERTS/server.pem" --tls-key "$CERTS/server.key"
    local b="" f="" r
    FLIGHTS=0
    BUSY=0
    for r in 1 2 3; do
        local t0
        t0=$(machine_busy)
        b="$b $(established "base-$1-$r")"
        # A baseline costs this test about 0.3 CPUs (server and tpbench):
        # more than 0.9 of the 2 means another program ran (make -j2 check
        # runs two tests at once), and the p99s measure it, not us.
        local used=$(($(machine_busy) - t0))
        echo "baseline $r: the machine was busy $((used * 100 / hz)) CPU-centiseconds in about 3.5 s"
        [ "$used" -gt $((hz * 35 / 10 * 9 / 10)) ] && BUSY=1
        "$FLOOD" -c 64 -d 4.5 127.0.0.1 "$SRV_PORT" >"$TMPD/flood-$1-$r.out" 2>&1 &
        local fpid=$!
        sleep 1 # the flood is at full strength
        f="$f $(established "flood-$1-$r")"
        wait $fpid || fail "tlsflood exited $?: $(cat "$TMPD/flood-$1-$r.out")"
        FLIGHTS=$((FLIGHTS + $(sed -n 's/^flights \([0-9]*\).*/\1/p' "$TMPD/flood-$1-$r.out")))
    done
    echo "offload $1: p99 baseline$b us; under the flood$f us; $FLIGHTS handshakes answered"
    BASE=$(median3 $b)
    FLOODED=$(median3 $f)
    stop_server
}

mode=${TPS_FLOOD_OFFLOAD:-on}
for attempt in 1 2; do
    rounds "$mode"
    echo "median p99: $BASE us, under the flood $FLOODED us"
    # The flood was one: the server answered handshakes at about its cap.
    [ "$FLIGHTS" -ge 1000 ] || fail "the flood got only $FLIGHTS handshakes answered"
    # A sanitizer's build (TPS_TEST_SLOW) is 5-15x slower per event but
    # not per handshake (OpenSSL is not instrumented): a time bound means
    # nothing there (seen: 2.5x under ThreadSanitizer). What it checks is
    # above: every echo of the established clients verified, during a
    # flood, with the race and memory checkers on.
    if [ -n "${TPS_TEST_SLOW:-}" ]; then
        echo "instrumented build: the 2x bound is not asserted"
        finish
    fi
    if [ "$BUSY" = 1 ]; then
        echo "another program used the CPU during a baseline: the 2x bound is not asserted"
        finish
    fi
    [ "$FLOODED" -le $((2 * BASE)) ] && finish
done
fail "under a handshake flood the established clients' p99 is $FLOODED us, more than 2x its baseline $BASE us"
