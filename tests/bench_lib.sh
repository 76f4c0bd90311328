# SPDX-License-Identifier: MIT
# bench_lib.sh - what the tpbench black-box tests (tests/bench_*.sh) add
# to tests/testlib.sh: testsrv_fault, the misbehaving echo server they
# measure, and jget for tpbench's JSON reports.
. "${top_srcdir:-.}/tests/testlib.sh"
TESTSRV="$top_builddir/tests/testsrv_fault"
need_built "$TPBENCH"
need_built "$TESTSRV"
need python3 python3

# start_srv NAME ARGS...: start testsrv_fault (logs srv-NAME.out and
# .err, apart from the NAME.* files of the tests), set PORT.
start_srv() {
    name=$1; shift
    spawn "srv-$name" "$TESTSRV" --lifetime 60 "$@"
    wait_until 30 "testsrv_fault $* printing its port" srv_port "$TMPD/srv-$name.out"
}
srv_port() {
    PORT=$(awk '/^PORT/{print $2}' "$1")
    [ -n "$PORT" ]
}

# jget FILE EXPR: a value from a tpbench --json document, e.g. jget f.json 'd["errors"]'
jget() {
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}
