# SPDX-License-Identifier: MIT
# server_tls_sni.sh - tpserver with certificates chosen by SNI
# (--tls-sni-cert), against the real `openssl s_client -servername`: each
# name gets its certificate (its subject read back with `openssl x509`),
# in any case, a wildcard covers one label, no name or an unknown one
# gets --tls-cert's; SIGHUP takes every certificate renewed on disk, and a
# bad file keeps all the ones in use; a malformed value exits 2 and a key
# of another certificate exits 1, each naming what is wrong.
# Skips (77) only when tpserver was built without OpenSSL or openssl is
# missing; scripts/deps.sh test installs it.
. "${top_srcdir:-.}/tests/server_lib.sh"

CERTS="$top_srcdir/tests/tls"
timeout 20 "$TPSERVER" --listen tls:127.0.0.1:0 >"$SRV_OUT" 2>"$SRV_ERR"
grep -q "built without OpenSSL" "$SRV_ERR" && skip "tpserver built without OpenSSL"
need openssl openssl

# The server reads a and b from copies: SIGHUP rotates them.
for f in a.pem a.key b.pem b.key; do
    cp "$CERTS/$f" "$TMPD/$f" || fail "cannot copy the test certificate $f"
done

# ---- flags ------------------------------------------------------------------
# Each of these must exit at once; timeout bounds a server that would not.
for bad in ",$TMPD/a.key" "$TMPD/a.pem," ""; do
    timeout 20 "$TPSERVER" --listen tls:127.0.0.1:0 --tls-cert "$CERTS/server.pem" \
        --tls-key "$CERTS/server.key" --tls-sni-cert "$bad" >"$SRV_OUT" 2>"$SRV_ERR"
    rc=$?
    [ $rc -eq 2 ] || fail "--tls-sni-cert '$bad' exited $rc, not 2"
    grep -qF -- "--tls-sni-cert: expected CERT or CERT,KEY" "$SRV_ERR" ||
        fail "--tls-sni-cert '$bad': no clear message: $(cat "$SRV_ERR")"
    grep -q "listening on" "$SRV_OUT" && fail "it listened with --tls-sni-cert '$bad'"
done
timeout 20 "$TPSERVER" --listen 127.0.0.1:0 --tls-sni-cert "$TMPD/a.pem" >"$SRV_OUT" 2>"$SRV_ERR"
[ $? -eq 2 ] || fail "--tls-sni-cert without --tls-cert did not exit 2"
grep -qF "TLS flags need --tls-cert" "$SRV_ERR" || fail "no message: $(cat "$SRV_ERR")"
timeout 20 "$TPSERVER" --listen tls:127.0.0.1:0 --tls-cert "$CERTS/server.pem" \
    --tls-key "$CERTS/server.key" --tls-sni-cert "$TMPD/a.pem,$TMPD/b.key" >"$SRV_OUT" 2>"$SRV_ERR"
[ $? -eq 1 ] || fail "a key of another certificate did not exit 1"
grep -q "key file '.*b.key' does not match certificate file '.*a.pem'" "$SRV_ERR" ||
    fail "the error does not name the files: $(cat "$SRV_ERR")"
grep -q "listening on" "$SRV_OUT" && fail "it listened with a bad key"

# ---- which certificate each name gets ---------------------------------------------
start_server "$TPSERVER" --listen tls:127.0.0.1:0 --tls-cert "$CERTS/server.pem" \
    --tls-key "$CERTS/server.key" --tls-sni-cert "$TMPD/a.pem,$TMPD/a.key" \
    --tls-sni-cert "$TMPD/b.pem,$TMPD/b.key" --tls-sni-cert "$CERTS/wild.pem,$CERTS/wild.key"
grep -q "TLS: certificate '.*server.pem', and 3 more chosen by SNI (6 names) loaded" "$SRV_ERR" ||
    fail "the load is not reported: $(grep TLS: "$SRV_ERR")"

# subject NAME: the subject of the certificate a client asking for NAME
# gets ("-" asks for none); the chain must verify against the test CA.
subject() {
    if [ "$1" = - ]; then sni=-noservername; else sni="-servername $1"; fi
    # shellcheck disable=SC2086 # $sni is two words, or one
    timeout 20 openssl s_client -connect "127.0.0.1:$SRV_PORT" $sni -CAfile "$CERTS/ca.pem" \
        -verify_return_error </dev/null 2>/dev/null | openssl x509 -noout -subject 2>/dev/null
}
expect() { # NAME SUBJECT
    got=$(subject "$1")
    [ "$got" = "subject=$2" ] || fail_later "asking for $1: '$got', not 'subject=$2'"
}
expect a.test "CN = a.test"
expect A.Test "CN = a.test"
expect a2.test "CN = a.test"
expect b.test "CN = b.test"
expect x.wild.test "CN = wildcard"
expect exact.wild.test "CN = a.test"
expect y.x.wild.test "CN = localhost"
expect other.test "CN = localhost"
expect - "CN = localhost"
# The name checks out against the certificate, and the connection echoes.
out=$( (printf 'hello a.test\n'; sleep 1) | timeout 20 openssl s_client -brief \
    -connect "127.0.0.1:$SRV_PORT" -servername a.test -CAfile "$CERTS/ca.pem" \
    -verify_return_error -verify_hostname a.test 2>&1)
echo "$out" | grep -q "^hello a.test$" || fail "s_client for a.test: no echo: $out"
echo "$out" | grep -q "Verification: OK" || fail "s_client for a.test: not verified: $out"

# ---- SIGHUP: every certificate read again -------------------------------------------
cp "$CERTS/b2.pem" "$TMPD/b.pem" && cp "$CERTS/b2.key" "$TMPD/b.key" || fail "cannot copy b2"
kill -HUP "$SRV_PID"
wait_for "SIGHUP: reloaded" "$SRV_ERR" 10
expect b.test "CN = b.test rotated"
expect a.test "CN = a.test"
expect - "CN = localhost"
echo "not a certificate" >"$TMPD/a.pem"
allow_alert "\[error\] (TLS: certificate file .*a.pem|SIGHUP: reload failed)" # on purpose
kill -HUP "$SRV_PID"
wait_for "SIGHUP: reload failed" "$SRV_ERR" 10
grep -q "certificate file '.*a.pem'.*the certificates in use stay" "$SRV_ERR" ||
    fail "a bad file's error does not say which and why: $(tail -n 3 "$SRV_ERR")"
expect a.test "CN = a.test"
expect b.test "CN = b.test rotated"

stop_server
[ "$(stat_value tls_fail_other)" = 0 ] || fail "failed handshakes: $(stat_value tls_fail_other)"
echo "ok: each name its certificate (s_client); SIGHUP rotation, a bad file kept the set; flags"
