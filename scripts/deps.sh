#!/bin/sh
# SPDX-License-Identifier: MIT
# deps.sh [build|test|bench] - install the Debian packages tpserv needs, if missing.
#   build (default): what building and running needs: compiler, autotools,
#                    pkg-config, OpenSSL 3 (TLS listeners; optional to
#                    configure, installed here so the default build has it).
#   test:            that, plus the unit-test framework and everything the
#                    test suite and benchmarks drive: python3, real servers
#                    (redis, memcached, haproxy), reference libraries
#                    (libuv, libevent), gnuplot, mandoc (man page lint),
#                    netcat-openbsd (tpclient's nc compatibility), lintian,
#                    openssl, gnutls-bin, testssl.sh (TLS peers and the
#                    TLS scan of the TLS tests); qemu-system-x86 and cpio,
#                    and Debian's kernel package (downloaded, not
#                    installed: into /var/cache/tpserv, so the host's /boot
#                    stays as it is), for tests/ktls_vm.sh, which boots that
#                    kernel to test kernel TLS where the host's kernel may
#                    not have it.
#   bench:           build, plus what bench/compare.sh measures against:
#                    redis, memcached, libuv, libevent (also its OpenSSL
#                    bufferevents), and the TLS terminators haproxy, nginx
#                    with its stream module, stunnel4; python3, openssl,
#                    gnuplot for the report. (Installing nginx on a system
#                    with a service manager may start its default site;
#                    the comparison runs its own nginx from a temporary
#                    prefix and leaves that one alone.)
# Safe to rerun: does nothing when everything is present. Needs root (or
# sudo) only when something is missing.
set -e
build="autoconf automake libtool pkg-config make gcc libc6-dev libssl-dev"
bench="python3 redis-server memcached libuv1-dev libevent-dev haproxy nginx libnginx-mod-stream stunnel4 openssl gnuplot-nox procps"
test="check python3 redis-server redis-tools memcached haproxy libuv1-dev libevent-dev gnuplot-nox time mandoc netcat-openbsd lintian openssl gnutls-bin testssl.sh qemu-system-x86 cpio"
kernel_cache=/var/cache/tpserv
case ${1:-build} in
build) want=$build ;;
test) want="$build $test" ;;
bench) want="$build $bench" ;;
*) echo "usage: sh scripts/deps.sh [build|test|bench]" >&2; exit 2 ;;
esac
missing=
for p in $want; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
        missing="$missing $p"
done
# The kernel for tests/ktls_vm.sh: the package linux-image-amd64 points at.
kernel=
[ "${1:-build}" = test ] && ! ls "$kernel_cache"/linux-image-*.deb >/dev/null 2>&1 && kernel=yes
[ -z "$missing" ] && [ -z "$kernel" ] && exit 0
SUDO=
[ "$(id -u)" -ne 0 ] && SUDO=sudo
$SUDO apt-get update -qq
if [ -n "$missing" ]; then
    echo "deps.sh: installing:$missing" >&2
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
fi
if [ -n "$kernel" ]; then
    pkg=$(apt-cache depends linux-image-amd64 | sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n 1)
    [ -n "$pkg" ] || { echo "deps.sh: no kernel package behind linux-image-amd64" >&2; exit 1; }
    echo "deps.sh: downloading $pkg into $kernel_cache" >&2
    $SUDO mkdir -p "$kernel_cache"
    # apt's _apt user must be able to write there (else it warns, unsandboxed).
    id _apt >/dev/null 2>&1 && $SUDO chown _apt "$kernel_cache"
    (cd "$kernel_cache" && $SUDO apt-get download -qq "$pkg")
fi
