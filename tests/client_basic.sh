#!/bin/sh
# SPDX-License-Identifier: MIT
# client_basic.sh - tpclient against a python3 echo server it starts on
# loopback: -m/-n, --crlf, escapes, --lines/--expect-bytes cuts, piped
# stdin (text, binary, 2 MB that the server echoes while we still send),
# a unix socket, IPv6 when ::1 exists, and -v.
. "${top_srcdir:-.}/tests/client_lib.sh"

start_server echo 127.0.0.1 0
p=$port

tc --message hello --count 3 --lines 3 127.0.0.1 "$p"
expect_rc 0 "-m hello -n 3 --lines 3"
expect_out 'hello\nhello\nhello\n' "-m -n 3"

tc --message=hi --crlf --lines 1 127.0.0.1 "$p"
expect_rc 0 "--crlf"
expect_out 'hi\r\n' "--crlf appends CRLF"

tc -e --message 'a\tb\x41\101\\' --lines 1 127.0.0.1 "$p"
expect_rc 0 "-e escapes"
expect_out 'a\tbAA\\\n' "-e decodes \\\\t \\\\x41 \\\\101 \\\\\\\\"

tc --message abcdef --expect-bytes 4 127.0.0.1 "$p"
expect_rc 0 "--expect-bytes 4"
expect_out 'abcd' "--expect-bytes prints exactly 4 bytes"

tc -e --message 'one\ntwo\nthree' --lines 2 127.0.0.1 "$p"
expect_rc 0 "--lines 2 of 3"
expect_out 'one\ntwo\n' "--lines prints exactly 2 lines"

tc --message 'x' --no-newline --half-close 127.0.0.1 "$p"
expect_rc 0 "--half-close, no expectation: ends at peer close"
expect_out 'x' "-N sends no newline"

tc --quiet --message hello --lines 1 127.0.0.1 "$p"
expect_rc 0 "-q"
expect_out '' "-q prints no reply"

# 1000 copies in one go: the count is honoured and nothing is lost.
tc --message 0123456789 --count 1000 --lines 1000 127.0.0.1 "$p"
expect_rc 0 "-n 1000"
[ "$(wc -c <"$out")" -eq 11000 ] || fail_later "-n 1000: $(wc -c <"$out") bytes, want 11000"

# Piped stdin, the issue's example: prints "hi" and exits 0.
printf 'hi\n' >"$tmp/in.hi"
tc_in=$tmp/in.hi tc 127.0.0.1 "$p"
expect_rc 0 "piped stdin"
expect_out 'hi\n' "piped stdin echoed"

# --crlf on stdin turns bare LF into CRLF, leaves CRLF alone.
printf 'a\nb\r\n' >"$tmp/in.crlf"
tc_in=$tmp/in.crlf tc --crlf 127.0.0.1 "$p"
expect_rc 0 "piped stdin --crlf"
expect_out 'a\r\nb\r\n' "stdin LF -> CRLF"

# Replies are printed as they arrive, while stdin is still open: a line's
# echo must show up before the next line is written.
cat >"$tmp/stream.py" <<'PY'
import os, select, subprocess, sys, time
p = subprocess.Popen(sys.argv[1:], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
got = b""
def wait_for(want):
    global got
    end = time.monotonic() + 10
    while want not in got and time.monotonic() < end:
        r, _, _ = select.select([p.stdout], [], [], 0.2)
        if r:
            got += os.read(p.stdout.fileno(), 4096)
    if want not in got:
        sys.exit("no %r while stdin was open (got %r)" % (want, got))
for line in (b"one\n", b"two\n"):
    p.stdin.write(line); p.stdin.flush()
    wait_for(line)
p.stdin.close()
rest = p.stdout.read()
rc = p.wait(timeout=10)
if rc != 0 or rest:
    sys.exit("exit %d, extra output %r" % (rc, rest))
PY
next_err
if python3 "$tmp/stream.py" "$TPCLIENT" 127.0.0.1 "$p" 2>"$err"; then
    echo "ok: replies stream while stdin is open"
else
    fail_later "streaming stdin"
fi

# Interactive: stdin a terminal (a pty), a line typed, its echo shown, then
# Ctrl-D ends the input and the session (exit 0).
cat >"$tmp/interactive.py" <<'PY'
import os, pty, select, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
got = b""
def read_until(want, secs):
    global got
    end = time.monotonic() + secs
    while want not in got and time.monotonic() < end:
        if select.select([fd], [], [], 0.2)[0]:
            try:
                got += os.read(fd, 4096)
            except OSError:
                break
os.write(fd, b"typed\n")
read_until(b"typed\r\ntyped", 10)  # the terminal's echo, then the server's
if got.count(b"typed") < 2:
    sys.exit("no echo of a typed line: %r" % got)
os.write(fd, b"\x04")
end = time.monotonic() + 10
while time.monotonic() < end:
    wpid, status = os.waitpid(pid, os.WNOHANG)
    if wpid:
        sys.exit(0 if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
                 else "exit status %r after Ctrl-D" % status)
    read_until(b"never", 0.2)
os.kill(pid, 9)
sys.exit("still running 10 s after Ctrl-D")
PY
next_err
if python3 "$tmp/interactive.py" "$TPCLIENT" 127.0.0.1 "$p" 2>"$err"; then
    echo "ok: interactive on a terminal, Ctrl-D ends"
else
    fail_later "interactive on a terminal"
fi

# Binary safety: every byte value, and 2 MB echoed while still sending.
python3 -c 'import sys; sys.stdout.buffer.write(bytes(range(256))*4)' >"$tmp/in.bin"
tc_in=$tmp/in.bin tc 127.0.0.1 "$p"
expect_rc 0 "binary stdin"
cmp -s "$tmp/in.bin" "$out" || fail_later "binary stdin: echo differs"

head -c 2000000 /dev/urandom >"$tmp/in.big"
tc_in=$tmp/in.big tc --timeout 20s 127.0.0.1 "$p"
expect_rc 0 "2 MB stdin"
cmp -s "$tmp/in.big" "$out" || fail_later "2 MB stdin: echo differs ($(wc -c <"$out") bytes)"

tc --message big --expect-bytes 4000000 --count 1000000 --timeout 20s 127.0.0.1 "$p"
expect_rc 0 "-n 1000000 while the echo comes back"
[ "$(wc -c <"$out")" -eq 4000000 ] || fail_later "-n 1000000: $(wc -c <"$out") bytes"

# -v names the connected peer on stderr.
tc -v --message hi --lines 1 localhost "$p"
expect_rc 0 "-v localhost"
expect_err "connected to 127\.0\.0\.1:$p" "-v names the peer"

# -4 with an IPv4 literal; -6 with it cannot resolve: 3.
tc -4 --message hi --lines 1 127.0.0.1 "$p"
expect_rc 0 "-4"
tc -6 --message hi --lines 1 127.0.0.1 "$p"
expect_rc 3 "-6 with an IPv4 address"

# Unix socket, -m and piped.
start_server echo - "unix:$tmp/echo.sock"
tc --message unixhi --lines 1 "unix:$tmp/echo.sock"
expect_rc 0 "unix socket -m"
expect_out 'unixhi\n' "unix socket echo"
tc_in=$tmp/in.hi tc -v "unix:$tmp/echo.sock"
expect_rc 0 "unix socket piped"
expect_out 'hi\n' "unix socket piped echo"
expect_err "connected to unix:$tmp/echo.sock" "-v names the unix peer"
tc_in=

# IPv6 loopback, if this host has it.
if python3 -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::1",0))' 2>/dev/null; then
    start_server echo ::1 0
    tc -6 -v --message six --lines 1 ::1 "$port"
    expect_rc 0 "-6 ::1"
    expect_out 'six\n' "IPv6 echo"
    expect_err "connected to \[::1\]:$port" "-v names [::1]"
    tc --message six --lines 1 "[::1]" "$port"
    expect_rc 0 "[::1] in brackets"
else
    echo "skip: no IPv6 loopback"
fi

# A real line protocol: redis, when installed (pipelined PINGs, CRLF).
if command -v redis-server >/dev/null 2>&1; then
    rport=$(free_port)
    spawn redis redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no \
        --dir "$tmp"
    wait_until 30 "redis-server answering PING" \
        "$TPCLIENT" --quiet --message PING --crlf --lines 1 --timeout 1s 127.0.0.1 "$rport"
    tc --message PING --crlf --count 3 --lines 3 127.0.0.1 "$rport"
    expect_rc 0 "redis: 3 pipelined PINGs"
    expect_out '+PONG\r\n+PONG\r\n+PONG\r\n' "redis: 3 PONGs"
    printf 'SET tpc v1\nGET tpc\n' >"$tmp/in.redis"
    tc_in=$tmp/in.redis tc --crlf --lines 3 127.0.0.1 "$rport"
    expect_rc 0 "redis: piped SET/GET with --crlf"
    expect_out '+OK\r\n$2\r\nv1\r\n' "redis: GET returns the value"
    tc_in=
else
    echo "skip: redis-server not installed"
fi

finish
