# SPDX-License-Identifier: MIT
# server_echo.sh - tpserver's default handler from outside: several
# concurrent clients get back exactly what they sent (small lines and a
# 256 KB block), SIGUSR1 prints statistics, SIGTERM exits 0 with final
# statistics whose counters match the traffic, and --idle-timeout closes
# a silent client.
. "${top_srcdir:-.}/tests/server_lib.sh"

start_server "$TPSERVER" --listen 127.0.0.1:0 --workers 2 --log-level debug
grep -q "^tpserver: listening on 127.0.0.1:[1-9][0-9]*$" "$SRV_OUT" ||
    fail "bad listening line: $(cat "$SRV_OUT")"

# 5 clients at once; each sends 20 lines then 256 KB and checks every byte.
py "$SRV_PORT" <<'PY' || fail "echo clients failed"
import socket, sys, threading
port = int(sys.argv[1])
errors = []

def recv_exact(s, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise RuntimeError("EOF after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return bytes(buf)

def client(i):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        for j in range(20):
            msg = ("client %d line %d\n" % (i, j)).encode()
            s.sendall(msg)
            got = recv_exact(s, len(msg))
            assert got == msg, (got, msg)
        block = bytes((i * 7 + k) % 251 for k in range(256 * 1024))
        # Send and receive at once: the block is larger than socket buffers.
        t = threading.Thread(target=s.sendall, args=(block,))
        t.start()
        got = recv_exact(s, len(block))
        t.join()
        assert got == block, "256 KB block differs"
        s.close()
    except Exception as e:
        errors.append("client %d: %r" % (i, e))

threads = [threading.Thread(target=client, args=(i,)) for i in range(5)]
for t in threads: t.start()
for t in threads: t.join()
for e in errors: print(e)
sys.exit(1 if errors else 0)
PY

# Sent per client: 20 lines of "client I line J\n" plus 256 KiB.
expect_bytes=$(python3 -c 'print(sum(len("client %d line %d\n" % (i, j)) for i in range(5) for j in range(20)) + 5 * 256 * 1024)')

kill -USR1 "$SRV_PID"
wait_for "^tpserver: statistics \(SIGUSR1\)" "$SRV_ERR" 10
wait_for "^tpserver: stat backpressure " "$SRV_ERR" 10
[ "$(stat_value accepted)" = 5 ] || fail "SIGUSR1: accepted is '$(stat_value accepted)', not 5"
server_alive || fail "server died on SIGUSR1"

stop_server
[ "$(stat_value accepted)" = 5 ] || fail "final accepted '$(stat_value accepted)', not 5"
[ "$(stat_value closed)" = 5 ] || fail "final closed '$(stat_value closed)', not 5"
[ "$(stat_value active)" = 0 ] || fail "final active '$(stat_value active)', not 0"
[ "$(stat_value bytes_in)" = "$expect_bytes" ] ||
    fail "bytes_in '$(stat_value bytes_in)', not $expect_bytes"
[ "$(stat_value bytes_out)" = "$expect_bytes" ] ||
    fail "bytes_out '$(stat_value bytes_out)', not $expect_bytes"
check_clean

# --idle-timeout: a silent client is closed after about 300 ms, well
# before our 20 s bound.
start_server "$TPSERVER" --listen 127.0.0.1:0 --workers 1 --idle-timeout 300ms
py "$SRV_PORT" <<'PY' || fail "idle timeout not applied"
import socket, sys, time
port = int(sys.argv[1])
s = socket.create_connection(("127.0.0.1", port), timeout=20)
t0 = time.monotonic()
data = s.recv(100)
elapsed = time.monotonic() - t0
assert data == b"", data
assert 0.2 <= elapsed < 20, elapsed
PY
stop_server
[ "$(stat_value idle_timeouts)" = 1 ] || fail "idle_timeouts '$(stat_value idle_timeouts)', not 1"
check_clean
exit 0
