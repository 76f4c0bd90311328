# SPDX-License-Identifier: MIT
# client_lib.sh - sourced by the tests/client_*.sh black-box tests of
# tpclient (not a test itself): a scratch directory cleaned by a trap,
# small python3 servers on loopback or unix sockets that the tests start
# and kill, exit-code assertions, and the final scan of every captured
# stderr for sanitizer reports.

: "${top_builddir:=.}"
: "${top_srcdir:=.}"
TPCLIENT=$top_builddir/client/tpclient
if [ ! -x "$TPCLIENT" ]; then
    echo "SKIP: $TPCLIENT is not built"
    exit 77
fi
if ! command -v python3 >/dev/null 2>&1; then
    echo "SKIP: python3 is needed for the test servers"
    exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tpclient-test.XXXXXX") || exit 1
server_pids=
failures=0
# stop_servers: SIGTERM, up to 10 s to exit, then SIGKILL; never hangs.
stop_servers() {
    for p in $server_pids; do kill "$p" 2>/dev/null; done
    for p in $server_pids; do
        i=0
        while kill -0 "$p" 2>/dev/null && [ $i -lt 100 ]; do
            sleep 0.1
            i=$((i + 1))
        done
        kill -9 "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    server_pids=
}
cleanup() {
    stop_servers
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# The test server. MODE: echo (echo until EOF, then close), silent (accept,
# read, never answer), close (accept and close at once), reset (read, then
# close with RST), full (TCP only:
# never accept, backlog full, so connects time out). ADDR: a TCP port
# on HOST (0 = pick one) or unix:PATH. Writes the bound port (or "unix") to
# READY once listening, so tests never race the bind. Lives at most 120 s.
cat >"$tmp/server.py" <<'PY'
import os, socket, sys, threading, time
mode, host, addr, ready = sys.argv[1:5]
if addr.startswith("unix:"):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(addr[5:])
    port = "unix"
else:
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, int(addr)))
    port = str(s.getsockname()[1])
if mode == "full":
    # Never accepts, and fills its accept queue: further SYNs are dropped,
    # so a connect times out (a loopback stand-in for a black hole).
    s.listen(0)
    fill = []
    for i in range(4):
        c = socket.socket(s.family)
        c.setblocking(False)
        c.connect_ex((host, int(port)))
        fill.append(c)
    time.sleep(0.3)
else:
    s.listen(64)
with open(ready + ".tmp", "w") as f:
    f.write(port + "\n")
os.rename(ready + ".tmp", ready)

def serve(c):
    try:
        if mode == "close":
            return
        if mode == "reset":
            # Read the request, then abort: SO_LINGER 0 makes close send RST.
            c.recv(65536)
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
            return
        while True:
            d = c.recv(65536)
            if not d:
                break
            if mode == "echo":
                c.sendall(d)
        if mode == "silent":
            time.sleep(60)
    except OSError:
        pass
    finally:
        c.close()

threading.Timer(120, lambda: os._exit(0)).start()
if mode == "full":
    time.sleep(120)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY

# start_server MODE HOST ADDR: starts one; sets $port (or "unix").
n_servers=0
start_server() {
    n_servers=$((n_servers + 1))
    ready=$tmp/ready.$n_servers
    python3 "$tmp/server.py" "$1" "$2" "$3" "$ready" 2>>"$tmp/server.err" &
    server_pids="$server_pids $!"
    i=0
    while [ ! -f "$ready" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
    if [ ! -f "$ready" ]; then
        echo "FAIL: test server ($1 $2 $3) did not start"; cat "$tmp/server.err"
        exit 1
    fi
    port=$(cat "$ready")
}

# A TCP port on 127.0.0.1 that nothing listens on (bound, then released).
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

n_run=0
# tc ARGS...: runs tpclient with stdin from $tc_in (default /dev/null);
# sets $rc, $out (a file of stdout bytes) and $err (a file of stderr).
tc() {
    n_run=$((n_run + 1))
    out=$tmp/out.$n_run err=$tmp/err.$n_run
    "$TPCLIENT" "$@" <"${tc_in:-/dev/null}" >"$out" 2>"$err"
    rc=$?
}

fail() {
    echo "FAIL: $*"
    [ -n "$err" ] && [ -s "$err" ] && sed 's/^/  stderr: /' "$err"
    failures=$((failures + 1))
}

# expect_rc WANT WHAT
expect_rc() {
    if [ "$rc" -ne "$1" ]; then fail "$2: exit $rc, want $1"; else echo "ok: $2"; fi
}

# expect_out WANT WHAT: stdout must be exactly the printf-expanded WANT.
expect_out() {
    printf "$1" >"$tmp/want"
    if ! cmp -s "$tmp/want" "$out"; then
        fail "$2: stdout differs"
        echo "  want: $(od -c "$tmp/want" | head -3)"
        echo "  got:  $(od -c "$out" | head -3)"
    fi
}

# expect_err PATTERN WHAT: stderr must match the grep -E PATTERN.
expect_err() {
    grep -Eq -- "$1" "$err" || fail "$2: stderr lacks /$1/"
}

# Ends the test: any sanitizer report in any stderr fails it.
finish() {
    # -q: grep's status is then 0 on a match even if a glob matched no file.
    san='AddressSanitizer|ThreadSanitizer|LeakSanitizer|runtime error:'
    if grep -qs -E "$san" "$tmp"/err.* "$tmp"/*.err; then
        err=
        fail "sanitizer reports:"
        grep -s -H -A5 -E "$san" "$tmp"/err.* "$tmp"/*.err | head -40
    fi
    if [ "$failures" -ne 0 ]; then
        echo "$failures failure(s)"
        exit 1
    fi
    echo "all passed"
    exit 0
}
