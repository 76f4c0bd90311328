# SPDX-License-Identifier: MIT
# client_lib.sh - what the tpclient black-box tests (tests/client_*.sh)
# add to tests/testlib.sh: small python3 servers on loopback or unix
# sockets, tc (one tpclient run, its stderr kept and scanned at the end),
# and expect_* checks, which record a failure and go on (fail_later), so
# that one run reports every exit code that is wrong.
. "${top_srcdir:-.}/tests/testlib.sh"
need_built "$TPCLIENT"
need python3 python3
tmp=$TMPD

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
    spawn "server$n_servers" python3 "$tmp/server.py" "$1" "$2" "$3" "$ready"
    wait_until 30 "test server ($1 $2 $3) start" test -f "$ready"
    port=$(cat "$ready")
}

n_run=0
# next_err: a new file for a tpclient run's stderr, in $err (scanned at
# the end, shown by a failure).
next_err() {
    n_run=$((n_run + 1))
    err=$tmp/err.$n_run
    register_log "$err"
    FAIL_SHOW=$err
}

# tc ARGS...: runs tpclient with stdin from $tc_in (default /dev/null);
# sets $rc, $out (a file of stdout bytes) and $err (a file of stderr).
tc() {
    next_err
    out=$tmp/out.$n_run
    "$TPCLIENT" "$@" <"${tc_in:-/dev/null}" >"$out" 2>"$err"
    rc=$?
}

# expect_rc WANT WHAT
expect_rc() {
    if [ "$rc" -ne "$1" ]; then fail_later "$2: exit $rc, want $1"; else echo "ok: $2"; fi
}

# expect_out WANT WHAT: stdout must be exactly the printf-expanded WANT.
expect_out() {
    printf "$1" >"$tmp/want"
    if ! cmp -s "$tmp/want" "$out"; then
        fail_later "$2: stdout differs"
        echo "  want: $(od -c "$tmp/want" | head -3)"
        echo "  got:  $(od -c "$out" | head -3)"
    fi
}

# expect_err PATTERN WHAT: stderr must match the grep -E PATTERN.
expect_err() {
    grep -Eq -- "$1" "$err" || fail_later "$2: stderr lacks /$1/"
}
