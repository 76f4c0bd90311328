# SPDX-License-Identifier: MIT
# version.sh - one version everywhere: every program's --version and the
# header's TPS_VERSION_* say configure.ac's version (PACKAGE_VERSION, from
# the Makefile's test environment).
: "${top_builddir:=.}" "${top_srcdir:=.}"
[ -n "${PACKAGE_VERSION:-}" ] || { echo "FAIL: PACKAGE_VERSION not set (run from make check)"; exit 1; }
fail=0
for p in server/tpserver client/tpclient bench/tpbench; do
    out=$("$top_builddir/$p" --version 2>&1)
    want="$(basename "$p") (tpserv) $PACKAGE_VERSION"
    if [ "$out" = "$want" ]; then
        echo "ok: $p --version: $out"
    else
        echo "FAIL: $p --version said '$out', want '$want'"
        fail=1
    fi
done
h=$(sed -n 's/^#define TPS_VERSION_[A-Z]* \([0-9]*\).*/\1/p' "$top_srcdir/lib/tpserv.h" | paste -sd.)
if [ "$h" = "$PACKAGE_VERSION" ]; then
    echo "ok: tpserv.h TPS_VERSION_*: $h"
else
    echo "FAIL: tpserv.h TPS_VERSION_* say '$h', configure.ac '$PACKAGE_VERSION'"
    fail=1
fi
exit $fail
