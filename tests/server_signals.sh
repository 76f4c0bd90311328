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

# A client that never reads its echo cannot drain: the server holds more
# than the high water of its output and stops reading, so the connection
# always owes output. The first SIGTERM waits (drain and send timeouts
# are 60 s; it is quiet, but owes), the second stops at once.
start_server "$TPSERVER" --listen 127.0.0.1:0 --workers 1 \
    --drain-timeout 60s --send-timeout 60s --linger 200ms
py "$SRV_PORT" "$SRV_PID" <<'PY' || fail "second SIGTERM"
import os, signal, socket, sys, time
pid = int(sys.argv[2])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", int(sys.argv[1])))
s.setblocking(False)
sent, end = 0, time.monotonic() + 10
while time.monotonic() < end:         # until the server stops reading
    try:
        sent += s.send(b"x" * 65536)
    except BlockingIOError:
        time.sleep(0.2)
        try:
            sent += s.send(b"x" * 65536)
        except BlockingIOError:
            break
assert sent > 2 << 20, "the server took only %d bytes" % sent
os.kill(pid, signal.SIGTERM)
time.sleep(1.0)                       # five times --linger: quiet, but owing
state = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()[0]
assert state != "Z", "exited before its drain deadline"
os.kill(pid, signal.SIGTERM)
# Keep the unread connection open until the server is gone: closing it
# would let the server drain and hide a second signal that did nothing.
deadline = time.monotonic() + 20
while time.monotonic() < deadline:
    try:
        st = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):  # ESRCH while it exits
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
