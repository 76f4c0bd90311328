#!/bin/sh
# SPDX-License-Identifier: MIT
# mkcerts.sh - regenerate the TLS tests' certificates (checked in, valid
# for 100 years, so that tests never depend on the clock or on running
# openssl at test time). Run from this directory: sh mkcerts.sh
#   ca.pem            the test CA
#   server.pem/.key   localhost + 127.0.0.1 + ::1, signed by ca (ECDSA P-256)
#   server2.pem/.key  the same names, another key: a rotated certificate
#   client.pem/.key   CN=tpserv test client, signed by ca
#   other-ca.pem      an unrelated CA
#   rogue.pem/.key    CN=rogue client, signed by other-ca
# Certificates chosen by SNI (tps_tls_config.certs), signed by ca:
#   a.pem/.key        CN=a.test; a.test, a2.test, exact.wild.test
#   a-dup.pem/.key    CN=a.test second; a.test (loses to a.pem if after it)
#   b.pem/.key        CN=b.test; b.test, an RSA key (the others are ECDSA:
#                     no certificate of the default's key type may stay)
#   b2.pem/.key       CN=b.test rotated; b.test: a renewed b.pem
#   wild.pem/.key     CN=wildcard; *.wild.test
#   cn.pem/.key       CN=cn.test and no subjectAltName: served by its CN
set -eu
days=36500
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
rsa_key() { openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null; }
ca() { # name subject
    key "$1.key"
    openssl req -x509 -new -key "$1.key" -sha256 -days $days -subj "$2" -out "$1.pem" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
}
leaf() { # name subject ca ext [keygen]
    ${5:-key} "$1.key"
    openssl req -new -key "$1.key" -subj "$2" -out "$1.csr"
    printf '%s\n' "$4" >"$1.ext"
    openssl x509 -req -in "$1.csr" -CA "$3.pem" -CAkey "$3.key" -CAcreateserial -days $days \
        -sha256 -extfile "$1.ext" -out "$1.pem" 2>/dev/null
    rm -f "$1.csr" "$1.ext"
}
srv_ext='subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1
extendedKeyUsage=serverAuth'
cli_ext='extendedKeyUsage=clientAuth'
sni_ext() { printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "$1"; }
ca ca "/CN=tpserv test CA"
ca other-ca "/CN=unrelated test CA"
leaf server "/CN=localhost" ca "$srv_ext"
leaf server2 "/CN=localhost rotated" ca "$srv_ext"
leaf client "/CN=tpserv test client" ca "$cli_ext"
leaf rogue "/CN=rogue client" other-ca "$cli_ext"
leaf a "/CN=a.test" ca "$(sni_ext DNS:a.test,DNS:a2.test,DNS:exact.wild.test)"
leaf a-dup "/CN=a.test second" ca "$(sni_ext DNS:a.test)"
leaf b "/CN=b.test" ca "$(sni_ext DNS:b.test)" rsa_key
leaf b2 "/CN=b.test rotated" ca "$(sni_ext DNS:b.test)"
leaf wild "/CN=wildcard" ca "$(sni_ext 'DNS:*.wild.test')"
leaf cn "/CN=cn.test" ca "extendedKeyUsage=serverAuth"
rm -f ca.key other-ca.key ./*.srl
