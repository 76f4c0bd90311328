# SPDX-License-Identifier: MIT
# server_kv.sh - the embedding example examples/kvserver from outside:
# SET/GET/DEL semantics, errors for bad lines, a value shared across
# connections (one table for all workers), the line-length limit.
. "${top_srcdir:-.}/tests/server_lib.sh"

KV="$top_builddir/examples/kvserver"
need_built "$KV"

start_server "$KV" 127.0.0.1:0
py "$SRV_PORT" <<'PY' || fail "kv protocol"
import socket, sys, threading
port = int(sys.argv[1])

class Client:
    def __init__(self):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=20)
        self.buf = b""
    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.s.recv(4096)
            assert chunk, "EOF"
            self.buf += chunk
        l, self.buf = self.buf.split(b"\r\n", 1)
        return l.decode()
    def cmd(self, text):
        self.s.sendall(text.encode() + b"\n")
        return self.line()

a, b = Client(), Client()
assert a.cmd("GET k") == "NOT_FOUND"
assert a.cmd("SET k hello world") == "OK"
assert b.cmd("GET k") == "VALUE hello world"          # shared table
assert b.cmd("SET k v2\r") == "OK"                     # CRLF accepted
assert a.cmd("GET k") == "VALUE v2"
assert a.cmd("DEL k") == "DELETED"
assert b.cmd("DEL k") == "NOT_FOUND"
assert a.cmd("GET k").startswith("NOT_FOUND")
for bad in ["", "FOO x", "get k", "SET k", "GET", "GET a b", "SET " + "k" * 251 + " v"]:
    r = a.cmd(bad)
    assert r.startswith("ERROR "), (bad, r)
# Pipelined commands in one write, answered in order.
a.s.sendall(b"SET p 1\nSET q 2\nGET p\nGET q\n")
assert [a.line() for _ in range(4)] == ["OK", "OK", "VALUE 1", "VALUE 2"]

# Concurrent writers on distinct keys, all visible afterwards.
def writer(i):
    c = Client()
    for j in range(50):
        assert c.cmd("SET w%d_%d %d" % (i, j, j)) == "OK"
ts = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
for t in ts: t.start()
for t in ts: t.join()
for i in range(4):
    assert b.cmd("GET w%d_49" % i) == "VALUE 49"

# An over-long line: an error, then the server closes the connection.
a.s.sendall(b"SET big " + b"x" * 5000)
assert a.line() == "ERROR line too long"
assert a.s.recv(100) == b""
PY
kill -TERM "$SRV_PID"
wait_server 30
[ "$SRV_RC" -eq 0 ] || fail "kvserver exited $SRV_RC after SIGTERM"
grep -q "kvserver: stopped, 202 keys" "$SRV_OUT" || fail "final line: $(tail -n 1 "$SRV_OUT")"
check_clean
exit 0
