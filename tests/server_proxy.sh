# SPDX-License-Identifier: MIT
# server_proxy.sh - tpserver's proxy: listeners. First without HAProxy:
# --proxy-trust lets only the named balancers send a header (a client from
# 127.0.0.9 is closed unserved and counted; a bad range exits 2 before
# anything is bound). Then behind a real HAProxy (Debian's package) that
# sends the PROXY protocol, v1 (send-proxy) and v2 (send-proxy-v2, also
# with the unique-id, authority and crc32c TLVs): echoes come back whole
# (the header is consumed, not echoed), the server logs the client's own
# address (a client bound to 127.0.0.5 is seen as 127.0.0.5, not as
# HAProxy's 127.0.0.1) and the TLVs HAProxy sent, and a client that skips
# HAProxy and sends no header is closed and counted.
. "${top_srcdir:-.}/tests/server_lib.sh"

sock="$TMPD/must-not-exist.sock"
timeout 30 "$TPSERVER" --listen "proxy:unix:$sock" --proxy-trust 10.0.0.0/33 >"$SRV_OUT" 2>"$SRV_ERR"
rc=$?
[ $rc -eq 2 ] || fail "--proxy-trust 10.0.0.0/33 exited $rc, not 2"
grep -qF -- "--proxy-trust: invalid address range '10.0.0.0/33'" "$SRV_ERR" ||
    fail "no message naming the range: $(cat "$SRV_ERR")"
[ ! -e "$sock" ] || fail "a listener was bound before the bad --proxy-trust"

start_server "$TPSERVER" --listen proxy:127.0.0.1:0 --workers 1 --log-level debug \
    --proxy-trust 127.0.0.1 --proxy-trust 192.0.2.0/24
grep -q "started: .*, PROXY headers from 2 trusted ranges" "$SRV_ERR" ||
    fail "start line without the trusted ranges: $(grep started: "$SRV_ERR")"
py "$SRV_PORT" <<'PY' || fail "--proxy-trust 127.0.0.1 not applied"
import socket, sys
port = int(sys.argv[1])
hdr = b"PROXY TCP4 198.51.100.3 127.0.0.1 1000 7000\r\n"

def talk(src):
    s = socket.socket()
    s.bind((src, 0))
    s.settimeout(20)
    s.connect(("127.0.0.1", port))
    s.sendall(hdr + b"hello\n")
    try:
        got = s.recv(100)
    except ConnectionResetError:
        got = b""
    s.close()
    return got

assert talk("127.0.0.9") == b"", "an untrusted source was served"
assert talk("127.0.0.1") == b"hello\n", "a trusted source was not served"
PY
wait_for "proxy: connection from untrusted 127.0.0.9:[0-9]+: closed" "$SRV_ERR" 10
stop_server
[ "$(stat_value rejected_untrusted)" = 1 ] ||
    fail "rejected_untrusted '$(stat_value rejected_untrusted)', not 1"
[ "$(stat_value proxy_errors)" = 0 ] || fail "proxy_errors '$(stat_value proxy_errors)', not 0"
check_clean

need haproxy haproxy

# HAProxy connects from 127.0.0.1: trusted; so is everyone on a unix socket.
start_server "$TPSERVER" --listen proxy:127.0.0.1:0 --workers 1 --log-level debug \
    --proxy-trust 127.0.0.1
grep -q "(PROXY protocol)" "$SRV_ERR" || fail "the listener is not reported as a PROXY one"

ports=$(py <<'PY'
import socket
socks = [socket.socket() for _ in range(3)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
)
set -- $ports
HP1=$1
HP2=$2
HP3=$3
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
# The client speaks v2 to HAProxy with an AUTHORITY TLV, which HAProxy
# passes on (a plain-TCP front has no SNI of its own), with its unique id
# and a CRC32c of the whole header.
frontend v2tlv
    bind 127.0.0.1:$HP3 accept-proxy
    unique-id-format tps-uid-%cp
    default_backend tp_v2tlv
backend tp_v2tlv
    server tp 127.0.0.1:$SRV_PORT send-proxy-v2 proxy-v2-options unique-id,authority,crc32c
CFG
haproxy -c -q -f "$TMPD/haproxy.cfg" || fail "haproxy rejects the test's configuration"
spawn haproxy haproxy -db -f "$TMPD/haproxy.cfg"
HAPROXY_PID=$SPAWN_PID

py "$HP1" "$HP2" "$SRV_PORT" "$HP3" <<'PY' || fail "echo through haproxy"
import socket, struct, sys, time
hp1, hp2, direct, hp3 = (int(a) for a in sys.argv[1:5])

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

def echo(port, src, payload, data=None):
    s = connect(port, src)
    if data is not None:  # payload is our own header: echoed is the data
        s.sendall(payload)
        payload = data
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
# v2 to HAProxy: TCP4 198.51.100.7:4242 -> 127.0.0.1:80, AUTHORITY TLV
tlv = b"\x02" + struct.pack("!H", 12) + b"example.test"
addr = bytes([198, 51, 100, 7, 127, 0, 0, 1]) + struct.pack("!HH", 4242, 80)
v2 = b"\r\n\r\n\x00\r\nQUIT\n\x21\x11" + struct.pack("!H", len(addr) + len(tlv)) + addr + tlv
echo(hp3, "127.0.0.7", v2, b"hello with TLVs\n")
# straight to the server, no header: closed, nothing echoed
s = socket.create_connection(("127.0.0.1", direct), timeout=20)
s.sendall(b"hello without a header\n")
assert s.recv(100) == b"", "a connection without a PROXY header was served"
PY
wait_for "PROXY header from 127.0.0.1:[0-9]+: client 127.0.0.5:" "$SRV_ERR" 10
wait_for "PROXY header from 127.0.0.1:[0-9]+: client 127.0.0.6:" "$SRV_ERR" 10
# the CRC was checked (a wrong one closes); each TLV HAProxy sent is named
wait_for "PROXY header from 127.0.0.1:[0-9]+: client 198.51.100.7:4242, TLVs:" "$SRV_ERR" 10
line=$(grep "client 198.51.100.7:4242, TLVs:" "$SRV_ERR")
for t in " crc32c" " authority=example.test" " unique_id=tps-uid-4242"; do
    case "$line" in *"$t"*) ;; *) fail "no '$t' in: $line" ;; esac
done
kill "$HAPROXY_PID"
reap "$HAPROXY_PID" 30
stop_server
[ "$(stat_value proxy_errors)" = 1 ] || fail "proxy_errors '$(stat_value proxy_errors)', not 1"
[ "$(stat_value rejected_untrusted)" = 0 ] ||
    fail "rejected_untrusted '$(stat_value rejected_untrusted)', not 0 (HAProxy refused?)"
check_clean
exit 0
