# SPDX-License-Identifier: MIT
# server_opts.sh - tpserver's command line from outside: --help and
# --version, every kind of bad flag exits 2 naming the flag and the value
# before anything is bound, and a listen error exits 1 naming the address.
. "${top_srcdir:-.}/tests/server_lib.sh"

"$TPSERVER" --help >"$TMPD/help" 2>&1 || fail "--help did not exit 0"
for f in --listen --workers --queue-full --max-conns-per-ip --idle-timeout \
         --drain-timeout --max-input --handler --may-block --log-level --proxy-trust; do
    grep -q -- "$f" "$TMPD/help" || fail "--help does not mention $f"
done
"$TPSERVER" -V >"$TMPD/version" 2>&1 || fail "-V did not exit 0"
grep -q "^tpserver (tpserv) [0-9]" "$TMPD/version" || fail "bad -V: $(cat "$TMPD/version")"

# Each case: the arguments, then two strings the message must hold. The
# unix listener first on the line shows whether anything was bound. Each
# run is bounded: a flag wrongly accepted would start a server for good.
sock="$TMPD/must-not-exist.sock"
while IFS='|' read -r args n1 n2; do
    # shellcheck disable=SC2086 # the arguments are split on purpose
    timeout 30 "$TPSERVER" --listen "unix:$sock" $args >"$SRV_OUT" 2>"$SRV_ERR"
    rc=$?
    [ $rc -eq 2 ] || fail "'$args' exited $rc, not 2"
    grep -qF -- "$n1" "$SRV_ERR" || fail "'$args': message lacks '$n1': $(cat "$SRV_ERR")"
    grep -qF -- "$n2" "$SRV_ERR" || fail "'$args': message lacks '$n2': $(cat "$SRV_ERR")"
    grep -qF "Try 'tpserver --help'" "$SRV_ERR" || fail "'$args': no usage hint"
    [ ! -e "$sock" ] || fail "'$args': a listener was bound before the error"
    [ ! -s "$SRV_OUT" ] || fail "'$args': printed to stdout: $(cat "$SRV_OUT")"
done <<'CASES'
--workers abc|--workers|'abc'
--workers=4x|--workers|'4x'
-w 5000|-w|'5000'
--queue=0|--queue|'0'
-q 99999999999999999999999|-q|out of range
--max-conns=-1|--max-conns|'-1'
--idle-timeout=10x|--idle-timeout|'10x'
--send-timeout=1.5s|--send-timeout|'1.5s'
--drain-timeout 99999999999999999999|--drain-timeout|out of range
--max-input=1q|--max-input|'1q'
--max-input=2g|--max-input|'2g'
--handler=gopher|--handler|'gopher'
--queue-full=drop|--queue-full|'drop'
--log-level loud|--log-level|'loud'
--listen nohostport|--listen|'nohostport'
--listen 127.0.0.1:70000|--listen|127.0.0.1:70000
--listen proxy:|--listen|'proxy:'
--listen proxy:127.0.0.1|--listen|'proxy:127.0.0.1'
--spare-threads=5000|--spare-threads|out of range
--proxy-timeout=soon|--proxy-timeout|'soon'
--proxy-trust 10.0.0.0/33|--proxy-trust|'10.0.0.0/33'
--proxy-trust=localhost|--proxy-trust|'localhost'
--defer-accept=2h|--defer-accept|out of range
--busy-poll=5x|--busy-poll|'5x'
--busy-poll=2s|--busy-poll|out of range
--handler=sleepy|--handler|'sleepy'
--may-block=yes|--may-block|'yes'
--workers 2 --workers 3|--workers|more than once
--workers|--workers|missing value
--bogus|unknown option|--bogus
stray|unexpected argument|stray
CASES

# A listen error is a runtime error: exit 1, naming the address and cause.
start_server "$TPSERVER" --listen 127.0.0.1:0 --workers 1
timeout 30 "$TPSERVER" --listen "127.0.0.1:$SRV_PORT" --workers 1 >"$TMPD/out2" 2>"$TMPD/err2"
rc=$?
[ $rc -eq 1 ] || fail "second server on port $SRV_PORT exited $rc, not 1"
grep -qF "127.0.0.1:$SRV_PORT" "$TMPD/err2" || fail "no address in: $(cat "$TMPD/err2")"
grep -qi "address already in use" "$TMPD/err2" || fail "no cause in: $(cat "$TMPD/err2")"
stop_server
check_clean

# Options reach the library: with --max-conns-per-ip 1 a second client
# from 127.0.0.1 is closed unserved while the first one is served.
start_server "$TPSERVER" --listen=127.0.0.1:0 -w 1 --max-conns-per-ip=1 \
    --max-input 64k --queue-full=reject --log-level=warn
py "$SRV_PORT" <<'PY' || fail "--max-conns-per-ip 1 not applied"
import socket, sys
port = int(sys.argv[1])
a = socket.create_connection(("127.0.0.1", port), timeout=20)
a.sendall(b"one\n")
assert a.recv(100) == b"one\n"
b = socket.create_connection(("127.0.0.1", port), timeout=20)
try:
    b.sendall(b"two\n")
    data = b.recv(100)
except ConnectionResetError:
    data = b""
assert not data.endswith(b"two\n"), data
a.sendall(b"still\n")
assert a.recv(100) == b"still\n"
PY
stop_server
[ "$(stat_value rejected_per_ip)" = 1 ] || fail "rejected_per_ip '$(stat_value rejected_per_ip)', not 1"
grep -q "\[info\]" "$SRV_ERR" && fail "--log-level=warn still printed info lines"
check_clean

# --defer-accept reaches the listener: a client that has sent nothing is
# not accepted while one that spoke is served at once. The start line
# names both opt-in settings that trade something away.
start_server "$TPSERVER" --listen=127.0.0.1:0 -w 1 --defer-accept 30s --busy-poll 20us
py "$SRV_PORT" <<'PY' || fail "--defer-accept 30s: echo failed"
import socket, struct, sys, time
port = int(sys.argv[1])
silent = socket.create_connection(("127.0.0.1", port), timeout=20)
a = socket.create_connection(("127.0.0.1", port), timeout=20)
a.sendall(b"spoke\n")
assert a.recv(100) == b"spoke\n"
time.sleep(0.3)
# A FIN would count as speaking and get the silent one accepted; a reset
# just drops it from the kernel's queue.
silent.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
silent.close()
PY
stop_server
[ "$(stat_value accepted)" = 1 ] || fail "--defer-accept: accepted '$(stat_value accepted)', not 1"
grep -q "started: .*, busy-poll 20 us, defer-accept 30000 ms" "$SRV_ERR" || fail "start line without defer-accept: $(grep started: "$SRV_ERR")"
check_clean
exit 0
