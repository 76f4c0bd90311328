# SPDX-License-Identifier: MIT
# server_testssl.sh - testssl.sh (Debian's package) scans a tpserver tls:
# listener with its defaults: protocols (no SSLv2/3, TLS 1.0 or 1.1),
# cipher categories, forward secrecy, and the known vulnerabilities
# (Heartbleed, CCS, ROBOT, renegotiation, CRIME, POODLE, SWEET32, FREAK,
# DROWN, LOGJAM, BEAST, LUCKY13, RC4...). Fails on any finding rated
# MEDIUM or worse, and on any of those checks missing from the scan.
# About a minute. Skips (77) only without testssl or without TLS.
. "${top_srcdir:-.}/tests/server_lib.sh"

CERTS="$top_srcdir/tests/tls"
TESTSSL=$(command -v testssl || command -v testssl.sh) || skip "testssl.sh not installed"
"$TPSERVER" --listen tls:127.0.0.1:0 --tls-cert "$CERTS/server.pem" >"$SRV_OUT" 2>"$SRV_ERR"
grep -q "built without OpenSSL" "$SRV_ERR" && skip "tpserver built without OpenSSL"

start_server "$TPSERVER" --listen tls:127.0.0.1:0 --tls-cert "$CERTS/server.pem" \
    --tls-key "$CERTS/server.key"
# -p protocols, -s cipher categories, -f forward secrecy, -U vulnerabilities.
timeout 600 "$TESTSSL" --quiet --color 0 --warnings off --jsonfile "$TMPD/scan.json" \
    -p -s -f -U --ip 127.0.0.1 "127.0.0.1:$SRV_PORT" >"$TMPD/scan.txt" 2>&1 ||
    [ -s "$TMPD/scan.json" ] || fail "testssl did not run: $(tail -n 20 "$TMPD/scan.txt")"
py "$TMPD/scan.json" <<'PY' || { cat "$TMPD/scan.txt" >&2; fail "testssl findings"; }
import json, sys
scan = json.load(open(sys.argv[1]))
by_id = {f["id"]: f for f in scan}
bad = [f for f in scan if f.get("severity") in ("MEDIUM", "HIGH", "CRITICAL")]
for f in bad:
    print("FINDING %s %s: %s" % (f["severity"], f["id"], f["finding"]))
wanted = ["SSLv2", "SSLv3", "TLS1", "TLS1_1", "TLS1_2", "TLS1_3", "heartbleed", "CCS",
          "ROBOT", "secure_client_renego", "CRIME_TLS", "POODLE_SSL", "SWEET32", "FREAK",
          "DROWN", "LOGJAM", "BEAST", "LUCKY13", "RC4"]
missing = [i for i in wanted if i not in by_id]
print("missing checks:", missing) if missing else None
for i in ("SSLv2", "SSLv3", "TLS1", "TLS1_1"):
    if i in by_id and "not offered" not in by_id[i]["finding"]:
        print("%s offered: %s" % (i, by_id[i]["finding"]))
        bad.append(by_id[i])
for i in wanted:
    if i in by_id:
        print("%-22s %-8s %s" % (i, by_id[i]["severity"], by_id[i]["finding"]))
sys.exit(1 if bad or missing else 0)
PY
stop_server
