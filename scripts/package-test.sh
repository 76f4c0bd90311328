#!/bin/sh
# SPDX-License-Identifier: MIT
# package-test.sh - build the Debian packages in a clean copy of the tree,
# lint them, install them, use them, and purge them:
#  1. copy the tracked files (git ls-files: no build products) to a
#     scratch directory outside the tree;
#  2. install what building needs (build-essential, dpkg-dev, lintian and
#     debian/control's Build-Depends, by apt-get build-dep);
#  3. dpkg-buildpackage -us -uc -b (the symbols check fails on any ABI
#     difference; the package build runs a quick subset of the tests);
#  4. lintian: fails on errors, summarises warnings by tag;
#  5. apt-get install ./*.deb; tpserver --version; the installed tpclient
#     talks to the installed tpserver; tests/installcheck.sh against the
#     system paths builds the embedding example with pkg-config against
#     libtpserv-dev and runs it, runs every program's --help/--version and
#     checks the man pages (man -l without warnings) and docs;
#  6. apt-get purge the packages, also on failure, so that what runs
#     after tests the build tree, not an installed copy.
# Needs root (or sudo) and Debian's package archive. Prints the .deb file
# lists. KEEP=1 keeps the scratch directory.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
SUDO=
[ "$(id -u)" -ne 0 ] && SUDO=sudo
say() { echo "package-test: $*"; }

cd "$src"
git rev-parse --is-inside-work-tree >/dev/null 2>&1 ||
    { say "needs a git checkout (it copies the tracked files)"; exit 2; }
version=$(dpkg-parsechangelog -l debian/changelog -S Version 2>/dev/null ||
    sed -n '1s/.*(\(.*\)).*/\1/p' debian/changelog)
ac_version=$(sed -n 's/^m4_define(\[TPS_VERSION\], \[\(.*\)\])$/\1/p' configure.ac)
[ "$version" = "$ac_version" ] ||
    { say "debian/changelog says $version, configure.ac $ac_version: make them agree"; exit 1; }

work=$(mktemp -d /tmp/tpserv-package.XXXXXX)
pkgs="libtpserv0 libtpserv-dev tpserv-tools"
cleanup() {
    rc=$?
    if dpkg-query -W -f='${Status}\n' $pkgs 2>/dev/null | grep -q "ok installed"; then
        say "purging $pkgs"
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get purge -y -qq $pkgs >/dev/null
    fi
    [ "${KEEP:-0}" = 1 ] && say "kept $work" || rm -rf "$work"
    exit $rc
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# 1. A clean copy.
tree=$work/tpserv-$version
mkdir -p "$tree"
git ls-files -z | tar --null -T - -cf - | tar -xf - -C "$tree"
say "copied $(git ls-files | wc -l) tracked files to $tree"

# 2. Build dependencies.
need="build-essential dpkg-dev lintian man-db"
missing=
for p in $need; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ] || ! (cd "$tree" && dpkg-checkbuilddeps >/dev/null 2>&1); then
    say "installing build dependencies"
    $SUDO apt-get update -qq
    # shellcheck disable=SC2086
    [ -z "$missing" ] || DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
    (cd "$tree" && DEBIAN_FRONTEND=noninteractive $SUDO apt-get build-dep -y -qq ./)
fi

# 3. Build.
say "dpkg-buildpackage -us -uc -b"
# noddebs: ./*.deb is then exactly the three packages.
(cd "$tree" && DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:+$DEB_BUILD_OPTIONS }noddebs" dpkg-buildpackage -us -uc -b) \
    >"$work/build.log" 2>&1 || {
    tail -n 80 "$work/build.log"
    say "FAIL: dpkg-buildpackage (log above)"
    exit 1
}
grep -E '^dpkg-(gensymbols|buildpackage): (warning|info: binary-only)' "$work/build.log" || true
changes=$(ls "$work"/tpserv_"$version"_*.changes)
say "built: $(cd "$work" && ls ./*.deb | tr '\n' ' ')"
for deb in "$work"/*.deb; do
    echo "== $(basename "$deb") ($(stat -c %s "$deb") bytes)"
    dpkg-deb -c "$deb" | awk '{printf "  %9s %s\n", $3, $6 ($7 ? " " $7 " " $8 : "")}'
done
echo "== libtpserv0.symbols: $(grep -c '@Base' "$tree/debian/libtpserv0.symbols") symbols"

# 4. Lint.
say "lintian"
lintian --fail-on error --display-info --pedantic "$changes" >"$work/lintian.log" 2>&1 && lrc=0 || lrc=$?
for sev in E W I P; do
    n=$(grep -c "^$sev: " "$work/lintian.log" || true)
    tags=$(sed -n "s/^$sev: [^ ]*: \([^ ]*\).*/\1/p" "$work/lintian.log" | sort | uniq -c | awk '{printf "%s%s(%s)", sep, $2, $1; sep=", "}')
    echo "lintian $sev: $n${tags:+ -- $tags}"
done
if [ "$lrc" -ne 0 ]; then
    cat "$work/lintian.log"
    say "FAIL: lintian reports errors (or failed: $lrc)"
    exit 1
fi

# 5. Install and use.
say "apt-get install ./*.deb"
(cd "$work" && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq ./*.deb) >"$work/install.log" 2>&1 || {
    cat "$work/install.log"
    say "FAIL: apt-get install"
    exit 1
}
v=$(tpserver --version)
say "tpserver --version: $v"
[ "$v" = "tpserver (tpserv) $version" ] || { say "FAIL: want 'tpserver (tpserv) $version'"; exit 1; }
[ "$(command -v tpserver)" = /usr/bin/tpserver ] || { say "FAIL: tpserver is not /usr/bin/tpserver"; exit 1; }
man -w tps_conn_send >/dev/null || { say "FAIL: man tps_conn_send finds nothing"; exit 1; }
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
CC=cc PACKAGE_VERSION=$version sh "$src/tests/installcheck.sh" "/usr/lib/$multiarch" \
    "$src/examples/kvserver.c" /usr/bin /usr/share/man /usr/share/doc/tpserv-tools /usr/include
# The README's embedding example, built exactly as the README says.
d=$work/app
mkdir -p "$d"
awk '/^```c[ \t]*$/ { n++; inblk = (n == 1); next } /^```/ { inblk = 0 } inblk' \
    "$src/README.md" >"$d/app.c"
# shellcheck disable=SC2046
cc -Wall -Wextra -Werror -o "$d/app" "$d/app.c" $(pkg-config --cflags --libs tpserv)
"$d/app" 127.0.0.1:0 >"$d/out" 2>&1 &
apid=$!
port=
for _ in $(seq 50); do
    port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$d/out")
    [ -n "$port" ] && break
    sleep 0.1
done
r=$(printf 'packaged\n' | tpclient -w 5 127.0.0.1 "${port:-1}" || true)
kill "$apid" 2>/dev/null || true
wait "$apid" 2>/dev/null || true
[ "$r" = "you said: packaged" ] || { say "FAIL: the README example built with pkg-config answered '$r'"; exit 1; }
say "the README example, built with pkg-config against libtpserv-dev, answered '$r'"
ldd "$d/app" | grep -qE "libtpserv.so.0 => (/usr)?/lib/$multiarch/libtpserv.so.0 " ||
    { say "FAIL: the example does not use the packaged libtpserv.so.0"; ldd "$d/app"; exit 1; }

# 6. Purge (the trap does it).
say "ok"
