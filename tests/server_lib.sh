# SPDX-License-Identifier: MIT
# server_lib.sh - helpers sourced by the tpserver black-box tests
# (tests/server_*.sh). POSIX sh. Each test starts a built server on an
# ephemeral loopback port (or a unix socket in its own temporary
# directory), reads the port from the server's "listening on" line, talks
# to it with python3, and always kills what it started. Every wait is
# bounded; the bounds are generous because sanitizer builds are slow.

: "${top_builddir:=.}"
: "${top_srcdir:=.}"
TPSERVER="$top_builddir/server/tpserver"

command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 not found"; exit 77; }
[ -x "$TPSERVER" ] || { echo "ERROR: $TPSERVER is not built"; exit 99; }

TMPD=$(mktemp -d "${TMPDIR:-/tmp}/tpserver-test.XXXXXX") || exit 99
SRV_PID=
SRV_OUT="$TMPD/out"
SRV_ERR="$TMPD/err"

cleanup() {
    if [ -n "$SRV_PID" ]; then
        kill -9 "$SRV_PID" 2>/dev/null
        wait "$SRV_PID" 2>/dev/null
    fi
    rm -rf "$TMPD"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

fail() {
    echo "FAIL: $*" >&2
    if [ -s "$SRV_ERR" ]; then
        echo "--- server stderr (last lines):" >&2
        tail -n 40 "$SRV_ERR" >&2
    fi
    exit 1
}

# start_server PROGRAM ARG... - run it in the background with stdout in
# $SRV_OUT and stderr in $SRV_ERR, wait for its first "listening on" line,
# and set SRV_PID, SRV_ADDR (that line's address) and SRV_PORT.
start_server() {
    prog=$1
    shift
    : >"$SRV_OUT"
    : >"$SRV_ERR"
    "$prog" "$@" >"$SRV_OUT" 2>"$SRV_ERR" &
    SRV_PID=$!
    n=0
    while ! grep -q "listening on" "$SRV_OUT"; do
        server_alive || fail "server exited at start: $prog $*"
        n=$((n + 1))
        [ $n -le 300 ] || fail "server did not start within 30 s"
        sleep 0.1
    done
    SRV_ADDR=$(sed -n 's/.*listening on //p' "$SRV_OUT" | head -n 1)
    SRV_PORT=${SRV_ADDR##*:}
}

# True while the server runs (a zombie counts as exited).
server_alive() {
    [ -r "/proc/$SRV_PID/stat" ] &&
        [ "$(sed 's/.*) //' "/proc/$SRV_PID/stat" 2>/dev/null | cut -c1)" != Z ]
}

# wait_server SECONDS - wait for the server to exit; sets SRV_RC.
wait_server() {
    n=$(($1 * 10))
    while server_alive; do
        n=$((n - 1))
        [ $n -gt 0 ] || fail "server did not exit within $1 s"
        sleep 0.1
    done
    wait "$SRV_PID"
    SRV_RC=$?
    SRV_PID=
}

# wait_for PATTERN FILE SECONDS - wait until FILE has a line matching the
# extended regex PATTERN.
wait_for() {
    n=$(($3 * 10))
    while ! grep -Eq "$1" "$2"; do
        n=$((n - 1))
        [ $n -gt 0 ] || fail "no line matching '$1' in $2 within $3 s"
        sleep 0.1
    done
}

# stat_value NAME - the value of statistic NAME in the last statistics
# block printed to $SRV_ERR.
stat_value() {
    sed -n "s/^tpserver: stat $1 //p" "$SRV_ERR" | tail -n 1
}

# stop_server - SIGTERM, expect exit 0 and a final statistics block.
stop_server() {
    kill -TERM "$SRV_PID" || fail "cannot signal the server"
    wait_server 30
    [ "$SRV_RC" -eq 0 ] || fail "server exited $SRV_RC after SIGTERM"
    grep -q "^tpserver: statistics (final)" "$SRV_ERR" ||
        fail "no final statistics after SIGTERM"
}

# check_clean - fail on any sanitizer report in the server's stderr.
check_clean() {
    if grep -E "ERROR: AddressSanitizer|ThreadSanitizer|runtime error:|LeakSanitizer" "$SRV_ERR" >&2; then
        fail "sanitizer report in the server's stderr"
    fi
}

# py ARG... - run the python3 program on stdin, bounded to 60 s.
py() {
    timeout 60 python3 - "$@"
}
