# SPDX-License-Identifier: MIT
# version.sh - one version everywhere: every program's --version and the
# header's TPS_VERSION_* say configure.ac's version (PACKAGE_VERSION, from
# the Makefile's test environment).
. "${top_srcdir:-.}/tests/testlib.sh"
[ -n "${PACKAGE_VERSION:-}" ] || hard_error "PACKAGE_VERSION not set (run from make check)"
for p in server/tpserver client/tpclient bench/tpbench; do
    out=$("$top_builddir/$p" --version 2>&1)
    want="$(basename "$p") (tpserv) $PACKAGE_VERSION"
    if [ "$out" = "$want" ]; then
        echo "ok: $p --version: $out"
    else
        fail_later "$p --version said '$out', want '$want'"
    fi
done
h=$(sed -n 's/^#define TPS_VERSION_[A-Z]* \([0-9]*\).*/\1/p' "$top_srcdir/lib/tpserv.h" | paste -sd.)
if [ "$h" = "$PACKAGE_VERSION" ]; then
    echo "ok: tpserv.h TPS_VERSION_*: $h"
else
    fail_later "tpserv.h TPS_VERSION_* say '$h', configure.ac '$PACKAGE_VERSION'"
fi
finish
