# SPDX-License-Identifier: MIT
# server_signals.sh - how tpserver answers signals: SIGTERM drains and
# closes an idle client then exits 0; a second SIGTERM stops at once when
# a client never reads; SIGINT stops like SIGTERM; SIGHUP is ignored.
. "${top_srcdir:-.}/tests/server_lib.sh"

# An idle client is closed by the graceful stop, well before the drain
# deadline (60 s, so waiting for the deadline would fail the 30 s bound).
start_server "$TPSERVER" --listen 127.0.0.1:0 --workers 2 --drain-timeout 60s
py "$SRV_PORT" "$SRV_PID" <<'PY' || fail "graceful stop with an idle client"
import os, signal, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30)
s.sendall(b"hello\n")
assert s.recv(100) == b"hello\n"
os.kill(int(sys.argv[2]), signal.SIGTERM)
assert s.recv(100) == b"", "not closed by the stop"
PY
wait_server 30
[ "$SRV_RC" -eq 0 ] || fail "exit $SRV_RC after SIGTERM"
grep -q "^tpserver: statistics (final)" "$SRV_ERR" || fail "no final statistics"
[ "$(stat_value accepted)" = 1 ] || fail "accepted '$(stat_value accepted)'"
check_clean

# A chargen client that never reads cannot drain: the first SIGTERM waits
# (drain and send timeouts are 60 s), the second stops at once.
start_server "$TPSERVER" --listen 127.0.0.1:0 --workers 1 --handler chargen \
    --drain-timeout 60s --send-timeout 60s
py "$SRV_PORT" "$SRV_PID" <<'PY' || fail "second SIGTERM"
import os, signal, socket, sys, time
pid = int(sys.argv[2])
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
time.sleep(0.5)                       # let the server fill the buffers
os.kill(pid, signal.SIGTERM)
time.sleep(1.0)
state = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()[0]
assert state != "Z", "exited before its drain deadline"
os.kill(pid, signal.SIGTERM)
# Keep the unread connection open until the server is gone: closing it
# would let the server drain and hide a second signal that did nothing.
deadline = time.monotonic() + 20
while time.monotonic() < deadline:
    try:
        st = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        break
    if st == "Z":
        break
    time.sleep(0.1)
else:
    sys.exit("still running 20 s after the second SIGTERM")
PY
wait_server 30
[ "$SRV_RC" -eq 0 ] || fail "exit $SRV_RC after the second SIGTERM"
grep -q "SIGTERM again: stopping now" "$SRV_ERR" || fail "second SIGTERM not logged"
grep -q "^tpserver: statistics (final)" "$SRV_ERR" || fail "no final statistics"
check_clean

# SIGHUP is ignored; SIGINT stops.
start_server "$TPSERVER" --listen 127.0.0.1:0 --workers 1
kill -HUP "$SRV_PID"
wait_for "SIGHUP ignored" "$SRV_ERR" 10
server_alive || fail "SIGHUP killed the server"
kill -INT "$SRV_PID"
wait_server 30
[ "$SRV_RC" -eq 0 ] || fail "exit $SRV_RC after SIGINT"
grep -q "^tpserver: statistics (final)" "$SRV_ERR" || fail "no final statistics"
check_clean
exit 0
