# SPDX-License-Identifier: MIT
# server_unix.sh - tpserver on a unix socket and TCP at once: one
# "listening on" line per listener, echo through both.
. "${top_srcdir:-.}/tests/server_lib.sh"

sock="$TMPD/echo.sock"
start_server "$TPSERVER" --listen "unix:$sock" -l 127.0.0.1:0 -w 2
wait_for "listening on 127\.0\.0\.1:" "$SRV_OUT" 10
[ "$(grep -c "listening on" "$SRV_OUT")" -eq 2 ] || fail "want 2 listening lines: $(cat "$SRV_OUT")"
grep -qxF "tpserver: listening on unix:$sock" "$SRV_OUT" || fail "no unix line: $(cat "$SRV_OUT")"
[ -S "$sock" ] || fail "$sock is not a socket"
port=$(sed -n 's/.*listening on 127\.0\.0\.1://p' "$SRV_OUT")

py "$sock" "$port" <<'PY' || fail "echo over unix and tcp"
import socket, sys
def roundtrip(s, msg):
    s.sendall(msg)
    got = b""
    while len(got) < len(msg):
        chunk = s.recv(65536)
        assert chunk, "EOF"
        got += chunk
    assert got == msg, got
u = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
u.settimeout(20)
u.connect(sys.argv[1])
t = socket.create_connection(("127.0.0.1", int(sys.argv[2])), timeout=20)
for i in range(20):
    roundtrip(u, b"unix %d\n" % i)
    roundtrip(t, b"tcp %d\n" % i)
roundtrip(u, bytes(range(256)) * 200)
PY
stop_server
[ "$(stat_value accepted)" = 2 ] || fail "accepted '$(stat_value accepted)', not 2"
check_clean
exit 0
