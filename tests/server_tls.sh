# SPDX-License-Identifier: MIT
# server_tls.sh - tpserver's tls: listeners against the TLS clients people
# use: openssl s_client, gnutls-cli, Python's ssl (1,000 concurrent clients
# echoing random sizes up to 1 MiB, byte for byte) and HAProxy as a TLS
# client in front (ssl verify required; and send-proxy-v2 + ssl to a
# proxy:tls: listener). Then: flags that belong together exit 2 before
# anything is bound, a bad key exits 1 naming the file, a plaintext client
# is counted and closed while the others go on, and SIGHUP rotates the
# certificate for new connections (a bad file keeps the old one).
# Skips (77) only when tpserver was built without OpenSSL or a client
# program is missing; scripts/deps.sh test installs them.
. "${top_srcdir:-.}/tests/server_lib.sh"

CERTS="$top_srcdir/tests/tls"
# The server reads its certificate from copies: SIGHUP rotates them.
cp "$CERTS/server.pem" "$TMPD/cert.pem" && cp "$CERTS/server.key" "$TMPD/key.pem" ||
    fail "cannot copy the test certificates"

# ---- flags ---------------------------------------------------------------
"$TPSERVER" --listen tls:127.0.0.1:0 >"$SRV_OUT" 2>"$SRV_ERR"
rc=$?
grep -q "built without OpenSSL" "$SRV_ERR" && skip "tpserver built without OpenSSL"
[ $rc -eq 2 ] || fail "a tls: listener without --tls-cert exited $rc, not 2"
grep -qF "a tls: listener needs --tls-cert" "$SRV_ERR" || fail "no message: $(cat "$SRV_ERR")"
"$TPSERVER" --listen 127.0.0.1:0 --tls-cert "$TMPD/cert.pem" --tls-verify-client required \
    >"$SRV_OUT" 2>"$SRV_ERR"
[ $? -eq 2 ] || fail "--tls-verify-client without --tls-ca did not exit 2"
grep -qF -- "--tls-verify-client needs --tls-ca" "$SRV_ERR" || fail "no message: $(cat "$SRV_ERR")"
"$TPSERVER" --listen tls:127.0.0.1:0 --tls-cert "$TMPD/cert.pem" --tls-key "$CERTS/client.key" \
    >"$SRV_OUT" 2>"$SRV_ERR"
[ $? -eq 1 ] || fail "a key that does not match the certificate did not exit 1"
grep -q "key file '.*client.key'.*key values mismatch" "$SRV_ERR" ||
    fail "the error does not name the key file and why: $(cat "$SRV_ERR")"
grep -q "listening on" "$SRV_OUT" && fail "it listened with a bad key"

# ---- third-party clients ---------------------------------------------------
start_server "$TPSERVER" --listen tls:127.0.0.1:0 --tls-cert "$TMPD/cert.pem" \
    --tls-key "$TMPD/key.pem" --alpn echo,other --log-level debug
grep -q "(TLS)" "$SRV_ERR" || fail "the listener is not reported as TLS"

need openssl openssl
# The sleep keeps stdin open until the echo is back (s_client quits at EOF).
out=$( (printf 'hello s_client\n'; sleep 1) | timeout 20 openssl s_client -brief \
    -connect "127.0.0.1:$SRV_PORT" -CAfile "$CERTS/ca.pem" -verify_return_error \
    -servername localhost -verify_hostname localhost -alpn echo 2>&1)
echo "$out" | grep -q "^hello s_client$" || fail "s_client: no echo: $out"
echo "$out" | grep -q "Verification: OK" || fail "s_client: not verified: $out"
echo "$out" | grep -q "Protocol version: TLSv1.3" || fail "s_client: not TLS 1.3: $out"
out=$( (printf 'hello tls12\n'; sleep 1) | timeout 20 openssl s_client -brief -tls1_2 \
    -connect "127.0.0.1:$SRV_PORT" -CAfile "$CERTS/ca.pem" -verify_return_error 2>&1)
echo "$out" | grep -q "^hello tls12$" || fail "s_client -tls1_2: no echo: $out"
echo "$out" | grep -q "Ciphersuite: ECDHE-ECDSA-AES.*GCM\|Ciphersuite: ECDHE-ECDSA-CHACHA20" ||
    fail "TLS 1.2 without an AEAD forward-secret cipher: $out"
out=$( (printf 'x\n'; sleep 1) | timeout 20 openssl s_client -brief -tls1_1 \
    -cipher 'DEFAULT:@SECLEVEL=0' -connect "127.0.0.1:$SRV_PORT" 2>&1)
echo "$out" | grep -q "^x$" && fail "a TLS 1.1 client was served: $out"

need gnutls-cli gnutls-bin
out=$( (printf 'hello gnutls\n'; sleep 1) | timeout 20 gnutls-cli --x509cafile "$CERTS/ca.pem" \
    -p "$SRV_PORT" 127.0.0.1 --verify-hostname=localhost --alpn=echo 2>&1)
echo "$out" | grep -q "^hello gnutls$" || fail "gnutls-cli: no echo: $out"
echo "$out" | grep -q "Application protocol: echo" || fail "gnutls-cli: no ALPN: $out"

# A plaintext client is closed and counted; a TLS client meanwhile is fine.
TPS_SLOW=${TPS_TEST_SLOW:-0}
py "$SRV_PORT" "$CERTS/ca.pem" "$TPS_SLOW" <<'PY' || fail "python ssl clients"
import asyncio, random, resource, socket, ssl, sys
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
port, ca, slow = int(sys.argv[1]), sys.argv[2], sys.argv[3] == "1"

plain = socket.create_connection(("127.0.0.1", port), timeout=20)
plain.sendall(b"GET / HTTP/1.0\r\n\r\n")
try:
    assert plain.recv(100)[:1] != b"G", "plaintext was echoed"
except ConnectionResetError:
    pass
plain.close()

ctx = ssl.create_default_context(cafile=ca)
ctx.set_alpn_protocols(["echo"])
N = 200 if slow else 1000

async def client(i, sem):
    rng = random.Random(i)
    # Sizes from 1 B to 1 MiB, log-uniform: every order of magnitude.
    size = int(2 ** rng.uniform(0, 20))
    data = rng.randbytes(size)
    async with sem:
        r, w = await asyncio.open_connection("127.0.0.1", port, ssl=ctx,
                                             server_hostname="localhost")
    w.write(data)
    got = await r.readexactly(size)
    assert got == data, "client %d: echo differs" % i
    assert w.get_extra_info("ssl_object").selected_alpn_protocol() == "echo"
    w.close()
    return size

async def main():
    sem = asyncio.Semaphore(100)  # handshakes in flight; all stay open
    sizes = await asyncio.wait_for(asyncio.gather(*(client(i, sem) for i in range(N))), 100)
    print("python ssl: %d concurrent clients, %d bytes echoed, max %d" %
          (N, sum(sizes), max(sizes)))

asyncio.run(main())
PY

# ---- HAProxy as the TLS client ----------------------------------------------------
need haproxy haproxy
start_listener psrv "$TPSERVER" --listen proxy:tls:127.0.0.1:0 --tls-cert "$TMPD/cert.pem" \
    --tls-key "$TMPD/key.pem" --log-level debug --proxy-trust 127.0.0.1
PSRV_PID=$SPAWN_PID
PSRV_PORT=$LISTEN_PORT
HP1=$(free_port)
HP2=$(free_port)
cat >"$TMPD/haproxy.cfg" <<CFG
global
    maxconn 100
defaults
    mode tcp
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend plain1
    bind 127.0.0.1:$HP1
    default_backend tls
backend tls
    server tp 127.0.0.1:$SRV_PORT ssl verify required ca-file $CERTS/ca.pem sni str(localhost) verifyhost localhost
frontend plain2
    bind 127.0.0.1:$HP2
    default_backend proxytls
backend proxytls
    server tp 127.0.0.1:$PSRV_PORT send-proxy-v2 ssl verify required ca-file $CERTS/ca.pem verifyhost localhost
CFG
haproxy -c -q -f "$TMPD/haproxy.cfg" || fail "haproxy rejects the test's configuration"
spawn haproxy haproxy -db -f "$TMPD/haproxy.cfg"
py "$HP1" "$HP2" <<'PY' || fail "echo through haproxy's TLS: $(cat "$TMPD/haproxy.err")"
import os, socket, sys, time
for port, src in ((int(sys.argv[1]), "127.0.0.1"), (int(sys.argv[2]), "127.0.0.6")):
    for _ in range(100):  # haproxy may still be starting
        try:
            s = socket.socket()
            s.bind((src, 0))
            s.settimeout(20)
            s.connect(("127.0.0.1", port))
            break
        except ConnectionRefusedError:
            s.close()
            time.sleep(0.1)
    data = os.urandom(300000)
    s.sendall(data)
    got = b""
    while len(got) < len(data):
        chunk = s.recv(65536)
        assert chunk, "EOF after %d bytes" % len(got)
        got += chunk
    assert got == data, "the echo through haproxy differs"
    s.close()
PY
wait_for "PROXY header from 127.0.0.1:[0-9]+: client 127.0.0.6:" "$TMPD/psrv.err" 10
kill -TERM $PSRV_PID
reap $PSRV_PID 30
[ "$REAP_RC" = 0 ] || fail "the proxy:tls: server exited $REAP_RC"
grep -q "^tpserver: stat tls_handshakes 1$" "$TMPD/psrv.err" ||
    fail "proxy:tls: handshakes: $(grep tls_handshakes "$TMPD/psrv.err")"

# ---- SIGHUP: a new certificate for new connections ---------------------------------
subject() {
    timeout 20 openssl s_client -connect "127.0.0.1:$SRV_PORT" -CAfile "$CERTS/ca.pem" \
        </dev/null 2>/dev/null | sed -n 's/^subject=//p'
}
[ "$(subject)" = "CN = localhost" ] || fail "subject before SIGHUP: '$(subject)'"
cp "$CERTS/server2.pem" "$TMPD/cert.pem" && cp "$CERTS/server2.key" "$TMPD/key.pem"
kill -HUP "$SRV_PID"
wait_for "SIGHUP: reloaded" "$SRV_ERR" 10
[ "$(subject)" = "CN = localhost rotated" ] || fail "subject after SIGHUP: '$(subject)'"
echo "not a certificate" >"$TMPD/cert.pem"
allow_alert "\[error\] (TLS: certificate file .*cert.pem|SIGHUP: reload failed)" # on purpose
kill -HUP "$SRV_PID"
wait_for "SIGHUP: reload failed" "$SRV_ERR" 10
grep -q "certificate file '.*cert.pem'.*the certificates in use stay" "$SRV_ERR" ||
    fail "a bad file's error does not say which and why: $(tail -n 3 "$SRV_ERR")"
[ "$(subject)" = "CN = localhost rotated" ] || fail "a bad file replaced the certificate"

stop_server
[ "$(stat_value tls_fail_version)" -ge 2 ] ||
    fail "plaintext and TLS 1.1 not counted: tls_fail_version '$(stat_value tls_fail_version)'"
nclients=1000
[ "$TPS_SLOW" = 1 ] && nclients=200
[ "$(stat_value tls_handshakes)" -ge $nclients ] ||
    fail "tls_handshakes '$(stat_value tls_handshakes)'"
[ "$(stat_value errors)" = 0 ] || fail "socket errors: $(stat_value errors)"
echo "ok: s_client, gnutls-cli, python ssl, haproxy; flags; SIGHUP rotation"
