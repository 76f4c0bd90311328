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
# Run from the source tree (it is not installed): testlib.sh is beside it.
set -eu
. "$(dirname "$0")/testlib.sh"
libdir=$1 src=$2
bindir=${3:-} mandir=${4:-} docdir=${5:-} includedir=${6:-}
d=$TMPD

PKG_CONFIG_PATH="$libdir/pkgconfig"
export PKG_CONFIG_PATH
# shellcheck disable=SC2046 # pkg-config output is meant to be split
${CC:-cc} -o "$d/kvserver" "$src" $(pkg-config --cflags --libs tpserv)
start_listener kvserver env LD_LIBRARY_PATH="$libdir" "$d/kvserver" 127.0.0.1:0
reply=$(python3 - "$LISTEN_PORT" <<'PY'
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
*) fail "expected 'VALUE b'" ;;
esac
kill "$SPAWN_PID"
reap "$SPAWN_PID" 30
[ -n "$bindir" ] || finish

for prog in tpserver tpclient tpbench tpbench-plot; do
    p=$bindir/$prog
    [ -x "$p" ] || { fail_later "$p is not installed"; continue; }
    "$p" --help >"$d/help" 2>&1 || fail_later "$prog --help exited $?"
    grep -q . "$d/help" || fail_later "$prog --help printed nothing"
    if grep -nE '(^|[ (])(\.\./|bench/|server/|client/|examples/|lib/|scripts/)' "$d/help"; then
        fail_later "$prog --help points into the source tree (above)"
    fi
    v=$("$p" --version 2>&1) || fail_later "$prog --version exited $?"
    [ "$v" = "$prog (tpserv) ${PACKAGE_VERSION:-?}" ] ||
        fail_later "$prog --version said '$v', want '$prog (tpserv) ${PACKAGE_VERSION:-?}'"
done
echo "installcheck: --help and --version of every installed program"

# The installed client talks to the installed server.
spawn tpserver "$bindir/tpserver" --listen 127.0.0.1:0
if ! listen_addr "$d/tpserver.out" "$SPAWN_PID"; then
    fail_later "installed tpserver did not start: $(cat "$d/tpserver.err")"
else
    r=$(printf 'installed\n' | "$bindir/tpclient" -w 5 127.0.0.1 "$LISTEN_PORT") || fail_later "tpclient exited $?"
    [ "$r" = installed ] || fail_later "installed tpclient got '$r' from installed tpserver"
    kill "$SPAWN_PID"
    reap "$SPAWN_PID" 30
    [ "$REAP_RC" -eq 0 ] || fail_later "tpserver exited $REAP_RC on SIGTERM"
fi
echo "installcheck: installed tpclient talked to installed tpserver"

for f in "$includedir/tpserv.h" "$libdir/libtpserv.a" "$libdir/libtpserv.so" \
    "$libdir/pkgconfig/tpserv.pc"; do
    [ -e "$f" ] || fail_later "$f is not installed"
done
# Docs, compressed (a Debian package) or not.
for f in README.md bench/README.md bench/RESULTS.md; do
    [ -e "$docdir/$f" ] || [ -e "$docdir/$f.gz" ] || fail_later "$docdir/$f is not installed"
done
# The license: LICENSE, or a Debian package's copyright file.
[ -e "$docdir/LICENSE" ] || [ -e "$docdir/copyright" ] || fail_later "no LICENSE in $docdir"
# Man pages, compressed (a Debian package) or not.
for page in man1/tpserver.1 man1/tpclient.1 man1/tpbench.1 man1/tpbench-plot.1 man3/tpserv.3; do
    [ -f "$mandir/$page" ] || [ -f "$mandir/$page.gz" ] || fail_later "$mandir/$page is not installed"
done
# Every public function of the installed header has its page.
for fn in $(sed 's|/\*.*\*/||' "$includedir/tpserv.h" | grep -E '^[a-z].*\btps_[a-z0-9_]+\(' |
    grep -v '^typedef' | sed -E 's/.*\b(tps_[a-z0-9_]+)\(.*/\1/' | sort -u); do
    [ -e "$mandir/man3/$fn.3" ] || [ -e "$mandir/man3/$fn.3.gz" ] || fail_later "no man page for $fn"
done
if command -v man >/dev/null 2>&1; then
    for page in "$mandir"/man1/tp*.1* "$mandir/man3/tpserv.3"*; do
        w=$(MANWIDTH=80 man -l "$page" 2>&1 >/dev/null) || fail_later "man -l $page failed"
        [ -z "$w" ] || fail_later "man -l $page: $w"
    done
fi
echo "installcheck: header, libraries, tpserv.pc, man pages and docs installed"
finish
