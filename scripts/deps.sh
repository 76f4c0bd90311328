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
#                    TLS scan of the TLS tests).
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
test="check python3 redis-server redis-tools memcached haproxy libuv1-dev libevent-dev gnuplot-nox time mandoc netcat-openbsd lintian openssl gnutls-bin testssl.sh"
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
[ -z "$missing" ] && exit 0
echo "deps.sh: installing:$missing" >&2
SUDO=
[ "$(id -u)" -ne 0 ] && SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
