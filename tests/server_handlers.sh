# SPDX-License-Identifier: MIT
# server_handlers.sh - tpserver's other handlers from outside: discard
# (RFC 863) answers nothing, chargen (RFC 864) streams the rotating
# 72-character pattern, daytime (RFC 867) sends the time and closes, and
# --may-block still echoes, and sleep blocks only its own connection.
. "${top_srcdir:-.}/tests/server_lib.sh"

# discard: 100000 bytes in, nothing out; the server closes after our EOF.
start_server "$TPSERVER" --listen 127.0.0.1:0 --workers 2 --handler discard
py "$SRV_PORT" <<'PY' || fail "discard"
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
s.sendall(b"x" * 100000)
s.shutdown(socket.SHUT_WR)
data = s.recv(100)
assert data == b"", data
PY
stop_server
[ "$(stat_value bytes_in)" = 100000 ] || fail "discard: bytes_in '$(stat_value bytes_in)'"
[ "$(stat_value bytes_out)" = 0 ] || fail "discard: bytes_out '$(stat_value bytes_out)'"
check_clean

# chargen: check 2000 lines, from two clients at once; a third client that
# never reads must not stop the others.
start_server "$TPSERVER" --listen 127.0.0.1:0 --workers 2 --handler chargen
py "$SRV_PORT" <<'PY' || fail "chargen"
import socket, sys, threading
port = int(sys.argv[1])
lazy = socket.create_connection(("127.0.0.1", port), timeout=20)
errors = []

def check(n_lines):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=20)
        want = 74 * n_lines
        buf = bytearray()
        while len(buf) < want:
            chunk = s.recv(65536)
            assert chunk, "EOF after %d bytes" % len(buf)
            buf += chunk
        s.close()
        for k in range(n_lines):
            line = bytes(buf[74 * k: 74 * k + 74])
            exp = bytes(32 + (k + i) % 95 for i in range(72)) + b"\r\n"
            assert line == exp, "line %d: %r" % (k, line)
    except Exception as e:
        errors.append(repr(e))

ts = [threading.Thread(target=check, args=(2000,)) for _ in range(2)]
for t in ts: t.start()
for t in ts: t.join()
lazy.close()
for e in errors: print(e)
sys.exit(1 if errors else 0)
PY
stop_server
check_clean

# daytime: one line in the RFC's suggested format, then EOF.
start_server "$TPSERVER" --listen 127.0.0.1:0 --workers 1 --handler daytime
py "$SRV_PORT" <<'PY' || fail "daytime"
import re, socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
buf = b""
while True:
    chunk = s.recv(1024)
    if not chunk:
        break
    buf += chunk
m = re.fullmatch(rb"[A-Z][a-z]+day, [A-Z][a-z]+ \d\d, (\d{4}) \d\d:\d\d:\d\d-UTC\r\n", buf)
assert m, buf
assert abs(int(m.group(1)) - time.gmtime().tm_year) <= 1, buf
PY
stop_server
[ "$(stat_value closed)" = 1 ] || fail "daytime: closed '$(stat_value closed)', not 1"
check_clean

# --may-block: the echo handler as one that may block.
start_server "$TPSERVER" --listen 127.0.0.1:0 --workers 2 --may-block
grep -q "may block" "$SRV_ERR" || fail "--may-block not reported"
py "$SRV_PORT" <<'PY' || fail "echo with --may-block"
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
for i in range(50):
    msg = b"ping %d\n" % i
    s.sendall(msg)
    got = b""
    while len(got) < len(msg):
        chunk = s.recv(100)
        assert chunk, "EOF"
        got += chunk
    assert got == msg, got
PY
stop_server
check_clean

# sleep: a line echo whose "sleep MS" blocks its callback; with one worker
# the worker is handed to a spare thread, so another connection's echoes
# do not wait for the sleeping one.
start_server "$TPSERVER" --listen 127.0.0.1:0 --workers 1 --handler sleep
grep -q "handler sleep (may block)" "$SRV_ERR" || fail "sleep handler is not may-block"
py "$SRV_PORT" <<'PY' || fail "sleep handler"
import socket, sys, time
port = int(sys.argv[1])
def read_line(s):
    got = b""
    while not got.endswith(b"\n"):
        chunk = s.recv(100)
        assert chunk, "EOF"
        got += chunk
    return got
sleeper = socket.create_connection(("127.0.0.1", port), timeout=20)
other = socket.create_connection(("127.0.0.1", port), timeout=20)
other.sendall(b"warm\n")
assert read_line(other) == b"warm\n"
t0 = time.monotonic()
sleeper.sendall(b"sleep 400\r\n")
time.sleep(0.05)  # the sleep is under way
worst = 0
for i in range(20):
    t = time.monotonic()
    other.sendall(b"line %d\n" % i)
    assert read_line(other) == b"line %d\n" % i
    worst = max(worst, time.monotonic() - t)
assert worst < 0.2, "an echo waited %.3f s for the sleeping connection" % worst
assert read_line(sleeper) == b"slept 400\r\n"
assert time.monotonic() - t0 >= 0.4
for bad in (b"sleep\n", b"sleep -1\n", b"sleep 60001\n", b"sleep 1x\n"):
    sleeper.sendall(bad)  # not a valid request: echoed, not slept
    assert read_line(sleeper) == bad, bad
PY
stop_server
[ "$(stat_value handoffs)" -ge 1 ] || fail "sleep: no handoff counted ($(stat_value handoffs))"
# the handler histogram saw the 400 ms call: its max is exact
hmax=$(sed -n 's/^tpserver: hist handler count [0-9]* .* max \([0-9.]*\) us$/\1/p' "$SRV_ERR" | tail -n 1)
[ -n "$hmax" ] || fail "no handler histogram in the statistics"
awk -v m="$hmax" 'BEGIN { exit !(m >= 400000 && m < 10000000) }' ||
    fail "handler histogram max $hmax us, expected the 400 ms sleep"
check_clean

# A line over --max-input: the sleep handler says why (on_limit), and the
# client reads that line and then EOF, not a reset, although it keeps
# sending; --linger bounds how long the server waits for it to go quiet.
start_server "$TPSERVER" --listen 127.0.0.1:0 --workers 1 --handler sleep --max-input 4k --linger 300ms
py "$SRV_PORT" <<'PY' || fail "sleep: --max-input reason"
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
s.sendall(b"x" * 200000)  # whole: the server discards what follows the limit
got = b""
while True:
    chunk = s.recv(4096)  # a reset raises ConnectionResetError here
    if not chunk:
        break
    got += chunk
assert got == b"ERR line too long\r\n", got
PY
stop_server
[ "$(stat_value input_limit)" = 1 ] || fail "sleep: input_limit '$(stat_value input_limit)'"
check_clean
exit 0
