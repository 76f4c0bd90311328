# SPDX-License-Identifier: MIT
# server_proxy.sh - tpserver behind a real HAProxy (Debian's package) that
# sends the PROXY protocol, v1 (send-proxy) and v2 (send-proxy-v2): echoes
# come back whole (the header is consumed, not echoed), the server logs the
# client's own address (a client bound to 127.0.0.5 is seen as 127.0.0.5,
# not as HAProxy's 127.0.0.1), and a client that skips HAProxy and sends no
# header is closed and counted.
. "${top_srcdir:-.}/tests/server_lib.sh"
command -v haproxy >/dev/null 2>&1 || { echo "SKIP: haproxy not installed"; exit 77; }

start_server "$TPSERVER" --listen proxy:127.0.0.1:0 --workers 1 --log-level debug
grep -q "(PROXY protocol)" "$SRV_ERR" || fail "the listener is not reported as a PROXY one"

ports=$(py <<'PY'
import socket
socks = [socket.socket() for _ in range(2)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
)
HP1=${ports% *}
HP2=${ports#* }
cat >"$TMPD/haproxy.cfg" <<CFG
global
    maxconn 100
defaults
    mode tcp
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend v1
    bind 127.0.0.1:$HP1
    default_backend tp_v1
backend tp_v1
    server tp 127.0.0.1:$SRV_PORT send-proxy
frontend v2
    bind 127.0.0.1:$HP2
    default_backend tp_v2
backend tp_v2
    server tp 127.0.0.1:$SRV_PORT send-proxy-v2
CFG
haproxy -c -q -f "$TMPD/haproxy.cfg" || fail "haproxy rejects the test's configuration"
haproxy -db -f "$TMPD/haproxy.cfg" >"$TMPD/haproxy.log" 2>&1 &
HAPROXY_PID=$!
trap 'kill $HAPROXY_PID 2>/dev/null; wait $HAPROXY_PID 2>/dev/null; cleanup' EXIT

py "$HP1" "$HP2" "$SRV_PORT" <<'PY' || fail "echo through haproxy"
import socket, sys, time
hp1, hp2, direct = (int(a) for a in sys.argv[1:4])

def connect(port, src):
    for _ in range(100):  # haproxy may still be starting
        try:
            s = socket.socket()
            s.bind((src, 0))
            s.settimeout(20)
            s.connect(("127.0.0.1", port))
            return s
        except ConnectionRefusedError:
            s.close()
            time.sleep(0.1)
    raise SystemExit("haproxy did not listen on %d" % port)

def echo(port, src, payload):
    s = connect(port, src)
    s.sendall(payload)
    got = b""
    while len(got) < len(payload):
        chunk = s.recv(65536)
        assert chunk, "EOF after %d of %d bytes" % (len(got), len(payload))
        got += chunk
    assert got == payload, "echo differs (header echoed?)"
    s.close()

echo(hp1, "127.0.0.5", b"hello through send-proxy\n")
echo(hp2, "127.0.0.6", bytes(range(256)) * 256)  # 64 KiB through send-proxy-v2
# straight to the server, no header: closed, nothing echoed
s = socket.create_connection(("127.0.0.1", direct), timeout=20)
s.sendall(b"hello without a header\n")
assert s.recv(100) == b"", "a connection without a PROXY header was served"
PY
wait_for "PROXY header from 127.0.0.1:[0-9]+: client 127.0.0.5:" "$SRV_ERR" 10
wait_for "PROXY header from 127.0.0.1:[0-9]+: client 127.0.0.6:" "$SRV_ERR" 10
kill "$HAPROXY_PID"
wait "$HAPROXY_PID" 2>/dev/null
stop_server
[ "$(stat_value proxy_errors)" = 1 ] || fail "proxy_errors '$(stat_value proxy_errors)', not 1"
check_clean
exit 0
