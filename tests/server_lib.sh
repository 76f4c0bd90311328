# SPDX-License-Identifier: MIT
# server_lib.sh - what the black-box tests of tpserver and the example
# servers (tests/server_*.sh) add to tests/testlib.sh: the server a test
# is talking to in SRV_* variables, tpserver's statistics and graceful
# stop, and python3 clients. Starting, waiting, failing, cleaning up and
# the scan of every server's log are testlib.sh's.
. "${top_srcdir:-.}/tests/testlib.sh"
need python3 python3
need_built "$TPSERVER"

# For foreground runs that are meant to fail (bad flags): not scanned.
SRV_OUT=$TMPD/out
SRV_ERR=$TMPD/err
n_srv=0

# start_server PROGRAM ARG... - start it in the background (each server
# keeps its own logs: srvN.out, srvN.err), wait for its first "listening
# on" line, and set SRV_PID, SRV_OUT, SRV_ERR, SRV_ADDR (that line's
# address) and SRV_PORT.
start_server() {
    n_srv=$((n_srv + 1))
    start_listener "srv$n_srv" "$@"
    SRV_PID=$SPAWN_PID
    SRV_OUT=$TMPD/srv$n_srv.out
    SRV_ERR=$TMPD/srv$n_srv.err
    SRV_ADDR=$LISTEN_ADDR
    SRV_PORT=$LISTEN_PORT
}

server_alive() { alive "$SRV_PID"; }

# wait_server SECONDS - wait for the server to exit; sets SRV_RC.
wait_server() {
    reap "$SRV_PID" "$1"
    SRV_RC=$REAP_RC
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

# py ARG... - run the python3 program on stdin, bounded to 60 s.
py() {
    timeout 60 python3 - "$@"
}
