#!/bin/sh
# SPDX-License-Identifier: MIT
# tpclient --tls against a real TLS peer: tests/tlsecho, the library's
# tls: listener serving echo with the certificates of tests/tls/. Covers
# the roundtrip with the server verified against ca.pem (by name and by
# IP), a verification failure without the CA or for a wrong --sni (exit 6
# with OpenSSL's reason), --insecure, -v's protocol/cipher/ALPN report, a
# client certificate required by the server (given: echo; missing or from
# another CA: exit 6), -N's close_notify, and the usage errors. Skips (77)
# only in a build without TLS (tpclient --tls is then a usage error).
. "${top_srcdir:-.}/tests/client_lib.sh"
TLSECHO=$top_builddir/tests/tlsecho
certs=$top_srcdir/tests/tls

tc --tls --message x 127.0.0.1 1
[ "$rc" -eq 2 ] && grep -q 'built without OpenSSL' "$err" && skip "tpclient is built without OpenSSL"
need_built "$TLSECHO"

tls_port() {
    port=$(awk '/^PORT/{print $2}' "$1")
    [ -n "$port" ]
}

# start_tls NAME ARGS...: a tlsecho; sets $port.
start_tls() {
    name=$1
    shift
    spawn "$name" "$TLSECHO" --cert "$certs/server.pem" --key "$certs/server.key" --lifetime 60 "$@"
    wait_until 30 "tlsecho $* printing its port" tls_port "$tmp/$name.out"
}

start_tls plain --alpn "tpx,h2"
CA="--tls-ca $certs/ca.pem"

# 1. Roundtrip, verified by name (SNI localhost) and by IP address.
tc --tls $CA --message hello --lines 1 localhost "$port"
expect_rc 0 "echo over TLS, verified for localhost"
expect_out 'hello\n' "echo over TLS"
tc --tls $CA --message hello --lines 1 127.0.0.1 "$port"
expect_rc 0 "echo over TLS, verified for the IP 127.0.0.1"

# stdin, with the end of stdin as close_notify + half close: all comes back.
head -c 300000 /dev/urandom >"$tmp/big"
tc_in=$tmp/big tc --tls $CA localhost "$port"
expect_rc 0 "300 kB of stdin echoed over TLS"
cmp -s "$tmp/big" "$out" || fail "300 kB over TLS: the echo differs"

# 2. Verification failures: exit 6, one line with the reason.
tc --tls --message hello --lines 1 localhost "$port"
expect_rc 6 "no CA for the test server's certificate (system CAs only)"
expect_err '^tpclient: TLS handshake with localhost port [0-9]+ failed: certificate verify failed: ' \
    "verification failure names why"
[ "$(wc -l <"$err")" -eq 1 ] || fail "verification failure: not one line: $(cat "$err")"
tc --tls --tls-ca "$certs/other-ca.pem" --message hello --lines 1 localhost "$port"
expect_rc 6 "a CA that did not sign the server's certificate"
tc --tls $CA --sni wrong.example --message hello --lines 1 127.0.0.1 "$port"
expect_rc 6 "--sni wrong.example: the certificate is not for that name"
expect_err 'hostname mismatch' "--sni mismatch names why"
tc --tls $CA --alpn nope --message hello --lines 1 localhost "$port"
expect_rc 6 "an ALPN list the server does not accept"
expect_err 'alert no application protocol' "ALPN refusal names why"

# 3. --insecure works without the CA, and -v says so.
tc --tls --insecure -v --message hello --lines 1 localhost "$port"
expect_rc 0 "--insecure without the CA"
expect_out 'hello\n' "--insecure echo"
expect_err 'NOT verified' "--insecure -v says the server is not verified"

# 4. -v: protocol, cipher, ALPN.
tc --tls $CA --alpn tpx -v --message hello --lines 1 localhost "$port"
expect_rc 0 "-v over TLS"
expect_err '^tpclient: TLS TLSv1\.[23], cipher [A-Z0-9_-]+, ALPN tpx$' "-v: protocol, cipher, ALPN"
expect_err 'server certificate .*CN=localhost.* verified for localhost' "-v: the verified certificate"

# -N: the messages, then close_notify and a half close: the echo server
# answers and ends TLS cleanly.
tc --tls $CA -N -v --message hello localhost "$port"
expect_rc 0 "-N over TLS"
expect_out 'hello\n' "-N over TLS"
expect_err 'ended TLS with a close_notify' "-N: the server ended TLS cleanly"

# -z: the handshake is part of connecting.
tc --tls -z localhost "$port"
expect_rc 6 "-z --tls fails on an unverified server"
tc --tls $CA -z localhost "$port"
expect_rc 0 "-z --tls"

# 5. Client certificates, with a server that requires one.
start_tls mtls --ca "$certs/ca.pem" --verify required
tc --tls $CA --tls-cert "$certs/client.pem" --tls-key "$certs/client.key" \
    --message hello --lines 1 localhost "$port"
expect_rc 0 "client certificate accepted"
expect_out 'hello\n' "echo with a client certificate"
tc --tls $CA --message hello --lines 1 localhost "$port"
expect_rc 6 "no client certificate: refused"
expect_err 'certificate required' "the refusal names the alert"
tc --tls $CA --tls-cert "$certs/rogue.pem" --tls-key "$certs/rogue.key" \
    --message hello --lines 1 localhost "$port"
expect_rc 6 "a client certificate from another CA: refused"

# -w bounds the handshake: a TCP server that never answers.
start_server silent 127.0.0.1 0
tc --tls $CA -w 300ms --message hello localhost "$port"
expect_rc 4 "a silent server: the handshake times out"
expect_err 'TLS handshake with .* timed out' "handshake timeout message"

# 6. Usage errors (exit 2).
tc --sni x --message hello localhost 1
expect_rc 2 "--sni without --tls"
tc --tls --insecure $CA --message hello localhost 1
expect_rc 2 "--insecure with --tls-ca"
tc --tls --tls-key "$certs/client.key" --message hello localhost 1
expect_rc 2 "--tls-key without --tls-cert"
tc --tls --tls-ca "$tmp/nonexistent.pem" --message hello localhost "$port"
expect_rc 2 "an unreadable --tls-ca"
expect_err "cannot load the CA file .*No such file" "unreadable --tls-ca names the file"
tc --tls $CA --alpn 'a,,b' --message hello localhost "$port"
expect_rc 2 "a malformed --alpn"

finish
