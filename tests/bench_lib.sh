# SPDX-License-Identifier: MIT
# Shared helpers of the tests/bench_*.sh scripts (sourced, not run).
# Sets TPBENCH and TESTSRV, starts misbehaving servers, reads JSON fields,
# and kills everything it started on exit.
: "${top_builddir:=.}" "${top_srcdir:=.}"
TPBENCH="$top_builddir/bench/tpbench"
TESTSRV="$top_builddir/tests/testsrv_fault"
TMPD=$(mktemp -d "${TMPDIR:-/tmp}/tpbench-test.XXXXXX")
PIDS=""
cleanup() {
    for p in $PIDS; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$TMPD"
}
trap cleanup EXIT INT TERM
[ -x "$TPBENCH" ] || { echo "missing $TPBENCH"; exit 99; }

fail() { echo "FAIL: $*"; exit 1; }

# start_srv NAME ARGS...: start testsrv_fault, set PORT.
start_srv() {
    name=$1; shift
    "$TESTSRV" --lifetime 60 "$@" > "$TMPD/$name.port" &
    PIDS="$PIDS $!"
    for _ in $(seq 1 100); do
        PORT=$(awk '/^PORT/{print $2}' "$TMPD/$name.port")
        [ -n "$PORT" ] && return 0
        sleep 0.05
    done
    fail "testsrv_fault $* did not start"
}

# jget FILE EXPR: a value from a tpbench --json document, e.g. jget f.json 'd["errors"]'
jget() {
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
