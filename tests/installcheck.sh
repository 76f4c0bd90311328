#!/bin/sh
# SPDX-License-Identifier: MIT
# installcheck.sh LIBDIR KVSERVER_C [BINDIR MANDIR DOCDIR INCLUDEDIR] -
# check the *installed* copy: build the embedding example against the
# installed header, library and tpserv.pc, as the README tells users, run
# it and check that it answers; then (with the other directories) run
# every installed program's --help and --version (the version must be
# PACKAGE_VERSION, and no help may send the user to the source tree),
# have the installed tpclient talk to the installed tpserver, and check
# that the header, the static and shared library, the man pages (one per
# public function too) and the documentation are there. Run by `make
# installcheck` (and so by `make distcheck`) and by
# scripts/package-test.sh against the Debian packages.
set -eu
libdir=$1 src=$2
bindir=${3:-} mandir=${4:-} docdir=${5:-} includedir=${6:-}
d=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$d"' EXIT
pid=
# listen_port FILE: the port of the first "listening on 127.0.0.1:PORT"
# line FILE gets within 5 s, in $port (empty if none came).
listen_port() {
    port=
    for _ in $(seq 50); do
        port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$1")
        [ -n "$port" ] && return 0
        sleep 0.1
    done
}

PKG_CONFIG_PATH="$libdir/pkgconfig"
export PKG_CONFIG_PATH
# shellcheck disable=SC2046 # pkg-config output is meant to be split
${CC:-cc} -o "$d/kvserver" "$src" $(pkg-config --cflags --libs tpserv)
LD_LIBRARY_PATH="$libdir" "$d/kvserver" 127.0.0.1:0 >"$d/out" 2>&1 &
pid=$!
listen_port "$d/out"
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
*"VALUE b"*) ;;
*) echo "installcheck: expected 'VALUE b'"; cat "$d/out"; exit 1 ;;
esac
kill "$pid"
wait "$pid" 2>/dev/null || true
pid=
[ -n "$bindir" ] || exit 0

fail=0
bad() {
    echo "installcheck: FAIL: $*"
    fail=1
}
for prog in tpserver tpclient tpbench tpbench-plot; do
    p=$bindir/$prog
    [ -x "$p" ] || { bad "$p is not installed"; continue; }
    "$p" --help >"$d/help" 2>&1 || bad "$prog --help exited $?"
    grep -q . "$d/help" || bad "$prog --help printed nothing"
    if grep -nE '(^|[ (])(\.\./|bench/|server/|client/|examples/|lib/|scripts/)' "$d/help"; then
        bad "$prog --help points into the source tree (above)"
    fi
    v=$("$p" --version 2>&1) || bad "$prog --version exited $?"
    [ "$v" = "$prog (tpserv) ${PACKAGE_VERSION:-?}" ] ||
        bad "$prog --version said '$v', want '$prog (tpserv) ${PACKAGE_VERSION:-?}'"
done
echo "installcheck: --help and --version of every installed program"

# The installed client talks to the installed server.
"$bindir/tpserver" --listen 127.0.0.1:0 >"$d/tps.out" 2>"$d/tps.err" &
pid=$!
listen_port "$d/tps.out"
if [ -z "$port" ]; then
    bad "installed tpserver did not start: $(cat "$d/tps.err")"
else
    r=$(printf 'installed\n' | "$bindir/tpclient" -w 5 127.0.0.1 "$port") || bad "tpclient exited $?"
    [ "$r" = installed ] || bad "installed tpclient got '$r' from installed tpserver"
    kill "$pid"
    wait "$pid" || bad "tpserver exited $? on SIGTERM"
fi
pid=
echo "installcheck: installed tpclient talked to installed tpserver"

for f in "$includedir/tpserv.h" "$libdir/libtpserv.a" "$libdir/libtpserv.so" \
    "$libdir/pkgconfig/tpserv.pc"; do
    [ -e "$f" ] || bad "$f is not installed"
done
# Docs, compressed (a Debian package) or not.
for f in README.md bench/README.md bench/RESULTS.md; do
    [ -e "$docdir/$f" ] || [ -e "$docdir/$f.gz" ] || bad "$docdir/$f is not installed"
done
# The license: LICENSE, or a Debian package's copyright file.
[ -e "$docdir/LICENSE" ] || [ -e "$docdir/copyright" ] || bad "no LICENSE in $docdir"
# Man pages, compressed (a Debian package) or not.
for page in man1/tpserver.1 man1/tpclient.1 man1/tpbench.1 man1/tpbench-plot.1 man3/tpserv.3; do
    [ -f "$mandir/$page" ] || [ -f "$mandir/$page.gz" ] || bad "$mandir/$page is not installed"
done
# Every public function of the installed header has its page.
for fn in $(sed 's|/\*.*\*/||' "$includedir/tpserv.h" | grep -E '^[a-z].*\btps_[a-z0-9_]+\(' |
    grep -v '^typedef' | sed -E 's/.*\b(tps_[a-z0-9_]+)\(.*/\1/' | sort -u); do
    [ -e "$mandir/man3/$fn.3" ] || [ -e "$mandir/man3/$fn.3.gz" ] || bad "no man page for $fn"
done
if command -v man >/dev/null 2>&1; then
    for page in "$mandir"/man1/tp*.1* "$mandir/man3/tpserv.3"*; do
        w=$(MANWIDTH=80 man -l "$page" 2>&1 >/dev/null) || bad "man -l $page failed"
        [ -z "$w" ] || bad "man -l $page: $w"
    done
fi
echo "installcheck: header, libraries, tpserv.pc, man pages and docs installed"
exit $fail
