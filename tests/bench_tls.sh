#!/bin/sh
# SPDX-License-Identifier: MIT
# tpbench --tls against tests/tlsecho (the library's tls: listener serving
# echo): request/response runs its time with verified replies and no
# error, and reports its handshakes apart from request latency; churn
# with --tls-resume resumes sessions (and the server agrees); throughput
# streams; a server that does not verify stops the run with the reason;
# a handshake failing mid-run is a connect error reported once. Skips (77)
# only in a build without TLS.
. "${top_srcdir:-.}/tests/bench_lib.sh"
TLSECHO="$top_builddir/tests/tlsecho"
certs="$top_srcdir/tests/tls"

"$TPBENCH" --tls -d 1s 127.0.0.1:1 > /dev/null 2> "$TMPD/avail.err"
[ $? -eq 2 ] && grep -q 'built without OpenSSL' "$TMPD/avail.err" && skip "tpbench is built without OpenSSL"
need_built "$TLSECHO"

# start_tls NAME ARGS...: a tlsecho; sets PORT.
start_tls() {
    name=$1; shift
    spawn "tls-$name" "$TLSECHO" --cert "$certs/server.pem" --key "$certs/server.key" --lifetime 60 "$@"
    eval "pid_$name=$SPAWN_PID"
    wait_until 30 "tlsecho $* printing its port" srv_port "$TMPD/tls-$name.out"
}
CA="--tls-ca $certs/ca.pem"
start_tls echo

# 1. Request/response for 2 s: replies verified, no error, the handshakes
# counted and timed apart from the requests (text and JSON).
"$TPBENCH" -q --tls $CA -c 4 -d 2s -w 200ms --json "localhost:$PORT" > "$TMPD/req.json" \
    2> "$TMPD/req.err" || fail "req over TLS: exit $? $(cat "$TMPD/req.err")"
[ "$(jget "$TMPD/req.json" 'd["errors"] == 0 and d["responses"] > 100')" = True ] ||
    fail "req over TLS: $(jget "$TMPD/req.json" '(d["errors_by_kind"], d["responses"])')"
[ "$(jget "$TMPD/req.json" 'd["tls"] and d["tls_handshakes_full"] == 4 and d["tls_handshake_full_us"]["count"] == 4 and d["tls_handshake_full_us"]["min"] > 0 and d["tls_handshake_failures"] == 0')" = True ] ||
    fail "req over TLS: handshake figures $(grep tls "$TMPD/req.json")"
[ "$(jget "$TMPD/req.json" 'd["latency_us"]["count"] == d["responses"]')" = True ] ||
    fail "req over TLS: handshakes mixed into the latency"
"$TPBENCH" -q --tls $CA -c 2 -d 500ms -w 0 "localhost:$PORT" > "$TMPD/req.txt" || fail "req text: exit $?"
grep -Eq '^  TLS: 2 handshakes, 2 full, 0 resumed; 0 failed' "$TMPD/req.txt" || fail "text: no TLS line: $(cat "$TMPD/req.txt")"
grep -q '^  TLS handshake (full) ' "$TMPD/req.txt" || fail "text: no handshake row"

# 2. Churn with --tls-resume: every reconnection resumes; without it none.
"$TPBENCH" -q --tls $CA --tls-resume --mode churn -c 2 -d 1s -w 0 --json "127.0.0.1:$PORT" \
    > "$TMPD/churn.json" 2> "$TMPD/churn.err" || fail "churn --tls-resume: exit $? $(cat "$TMPD/churn.err")"
[ "$(jget "$TMPD/churn.json" 'd["errors"] == 0 and d["conn_done"] > 10 and d["tls_handshakes_resumed"] > 0 and d["tls_handshakes_resumed"] >= d["tls_handshakes_full"] and d["tls_handshake_resumed_us"]["count"] == d["tls_handshakes_resumed"]')" = True ] ||
    fail "churn --tls-resume: $(grep -E '"(errors|conn_done|tls_handshakes_[a-z]+)"' "$TMPD/churn.json")"
"$TPBENCH" -q --tls $CA --mode churn -c 2 -d 500ms -w 0 --json "127.0.0.1:$PORT" > "$TMPD/churn0.json" ||
    fail "churn without resumption: exit $?"
[ "$(jget "$TMPD/churn0.json" 'd["errors"] == 0 and d["tls_handshakes_resumed"] == 0 and d["tls_handshakes_full"] > 5')" = True ] ||
    fail "churn without --tls-resume resumed sessions"
# The server saw the resumptions too (its STAT line at SIGTERM).
kill "$pid_echo"
wait_until 30 "tlsecho's statistics at exit" grep -q '^STAT' "$TMPD/tls-echo.out"
resumed=$(awk '/^STAT/{print $5}' "$TMPD/tls-echo.out")
[ "${resumed:-0}" -gt 0 ] || fail "the server counted no resumed handshake: $(cat "$TMPD/tls-echo.out")"

# 3. Throughput and pipelined depth over TLS.
start_tls echo2
"$TPBENCH" -q --tls --insecure --mode throughput -c 2 -d 1s -w 0 --json "127.0.0.1:$PORT" > "$TMPD/tp.json" ||
    fail "throughput over TLS: exit $?"
[ "$(jget "$TMPD/tp.json" 'd["errors"] == 0 and d["bytes_rx"] > 1000000')" = True ] || fail "throughput over TLS"
"$TPBENCH" -q --tls $CA -c 8 -t 2 -D 8 -s 3000 -d 1s -w 0 --json "localhost:$PORT" > "$TMPD/depth.json" ||
    fail "depth 8 over TLS: exit $?"
[ "$(jget "$TMPD/depth.json" 'd["errors"] == 0 and d["responses"] > 100')" = True ] || fail "depth 8 over TLS"

# 4. A server that does not verify: the run stops at the probe, exit 1,
# with OpenSSL's reason.
"$TPBENCH" -q --tls -c 2 -d 1s "localhost:$PORT" > /dev/null 2> "$TMPD/noca.err"
[ $? -eq 1 ] || fail "unverified server: exit not 1"
grep -q "TLS handshake with localhost:$PORT failed: certificate verify failed" "$TMPD/noca.err" ||
    fail "unverified server: $(cat "$TMPD/noca.err")"
"$TPBENCH" -q --tls $CA --sni wrong.example -c 2 -d 1s "127.0.0.1:$PORT" > /dev/null 2> "$TMPD/sni.err"
[ $? -eq 1 ] && grep -q 'hostname mismatch' "$TMPD/sni.err" || fail "--sni mismatch: $(cat "$TMPD/sni.err")"

# 5. Handshakes that fail mid-run: a server that speaks TLS to the probe
# (its first connection) and then answers ClientHellos with plaintext.
# Each failure is a connect error; the reason is reported once.
cat > "$TMPD/flaky.py" <<'PY'
import socket, ssl, sys, threading, time
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(64)
print("PORT", srv.getsockname()[1], flush=True)
threading.Timer(30, lambda: sys.exit(0)).start()
first = True
srv.settimeout(30)
while True:
    c, _ = srv.accept()
    try:
        if first:
            first = False
            t = ctx.wrap_socket(c, server_side=True)
            t.unwrap()
        else:
            c.recv(4096)
            c.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\n")
    except (OSError, ssl.SSLError):
        pass
    c.close()
PY
spawn flakysrv python3 "$TMPD/flaky.py" "$certs/server.pem" "$certs/server.key"
wait_until 30 "the flaky server printing its port" srv_port "$TMPD/flakysrv.out"
"$TPBENCH" -q --tls $CA -c 2 -d 1s -w 0 --json "localhost:$PORT" > "$TMPD/flaky.json" 2> "$TMPD/flaky.err"
[ $? -eq 1 ] || fail "failing handshakes: exit not 1"
[ "$(jget "$TMPD/flaky.json" 'd["tls_handshake_failures"] > 0 and d["errors_by_kind"]["connect"] >= d["tls_handshake_failures"] and d["responses"] == 0')" = True ] ||
    fail "failing handshakes not counted as connect errors: $(grep -E 'tls|errors' "$TMPD/flaky.json")"
[ "$(grep -c 'TLS handshakes failed; the first because: ' "$TMPD/flaky.err")" -eq 1 ] ||
    fail "failing handshakes: reason not reported once: $(cat "$TMPD/flaky.err")"
grep -q 'wrong version number\|packet length too long\|record layer failure' "$TMPD/flaky.err" ||
    fail "failing handshakes: OpenSSL's reason missing: $(cat "$TMPD/flaky.err")"

# A server that requires a client certificate refuses after the client's
# TLS 1.3 handshake: the run's first TLS error is shown once, too.
start_tls mtls --ca "$certs/ca.pem" --verify required
"$TPBENCH" -q --tls $CA -c 2 -d 500ms -w 0 "localhost:$PORT" > /dev/null 2> "$TMPD/mtls.err"
[ $? -eq 1 ] || fail "client certificate required: exit not 1"
[ "$(grep -c 'certificate required' "$TMPD/mtls.err")" -eq 1 ] ||
    fail "client certificate required: $(cat "$TMPD/mtls.err")"

# 6. Usage errors.
"$TPBENCH" --sni x "127.0.0.1:$PORT" > /dev/null 2>&1; [ $? -eq 2 ] || fail "--sni without --tls"
"$TPBENCH" --tls --insecure $CA "127.0.0.1:$PORT" > /dev/null 2>&1; [ $? -eq 2 ] || fail "--insecure with --tls-ca"
"$TPBENCH" --tls --tls-ca "$TMPD/none.pem" "127.0.0.1:$PORT" > /dev/null 2> "$TMPD/ca.err"
[ $? -eq 2 ] && grep -q 'cannot load the CA file' "$TMPD/ca.err" || fail "unreadable --tls-ca: $(cat "$TMPD/ca.err")"
cat "$TMPD/flaky.err" "$TMPD/mtls.err"
echo "all passed"
finish
