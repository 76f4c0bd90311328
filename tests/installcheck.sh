#!/bin/sh
# SPDX-License-Identifier: MIT
# installcheck.sh LIBDIR KVSERVER_C - build the embedding example against
# the *installed* header, library and tpserv.pc, as the README tells users,
# then run it and check that it answers. Run by `make installcheck` (and so
# by `make distcheck`).
set -eu
libdir=$1 src=$2
d=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$d"' EXIT
pid=
PKG_CONFIG_PATH="$libdir/pkgconfig"
export PKG_CONFIG_PATH
# shellcheck disable=SC2046 # pkg-config output is meant to be split
${CC:-cc} -o "$d/kvserver" "$src" $(pkg-config --cflags --libs tpserv)
LD_LIBRARY_PATH="$libdir" "$d/kvserver" 127.0.0.1:0 >"$d/out" 2>&1 &
pid=$!
port=
for _ in $(seq 50); do
    port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$d/out")
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "$port" ] || { echo "installcheck: kvserver did not start:"; cat "$d/out"; exit 1; }
reply=$(python3 - "$port" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"SET a b\nGET a\n")
s.shutdown(socket.SHUT_WR)
data = b""
while True:
    chunk = s.recv(4096)
    if not chunk:
        break
    data += chunk
print(data.decode(errors="replace"))
PY
)
echo "installcheck: built with pkg-config, kvserver replied: $(echo "$reply" | tr '\r\n' '  ')"
case "$reply" in
*"VALUE b"*) exit 0 ;;
*) echo "installcheck: expected 'VALUE b'"; cat "$d/out"; exit 1 ;;
esac
