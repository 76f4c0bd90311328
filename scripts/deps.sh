#!/bin/sh
# SPDX-License-Identifier: MIT
# Install the Debian packages tpserv needs to build and test, if missing.
# Safe to rerun: does nothing when everything is present. Needs root (or
# sudo) only when something is missing.
set -e
need="autoconf automake libtool pkg-config make gcc check python3"
# Optional: real servers and libraries for integration tests and benchmarks.
want="redis-server redis-tools memcached haproxy libuv1-dev libevent-dev gnuplot-nox time"
missing=
for p in $need $want; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
        missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps.sh: installing:$missing" >&2
SUDO=
[ "$(id -u)" -ne 0 ] && SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
