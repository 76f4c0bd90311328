#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Functional check of an echo server (not a benchmark): starts SERVER ARGS...
with -p 0 appended, reads its "listening on 127.0.0.1:PORT" line, then checks
ping-pong on several connections, a 4 MiB transfer read slowly (the server
must hold back, not buffer without bound, and lose nothing), half-close
(data sent before shutdown(SHUT_WR) all comes back, then EOF), that
SIGTERM ends the server with status 0, and that its stderr holds no
sanitizer report. With --tls-ca CA (before SERVER) every connection speaks
TLS and the server's certificate must verify against CA for 127.0.0.1;
half-close is then a TCP FIN without close_notify. Exit 0 = pass, 1 = fail."""
import os, signal, socket, ssl, subprocess, sys, tempfile, time

TLS = None  # an ssl.SSLContext with --tls-ca

def connect(port, timeout):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    return TLS.wrap_socket(s, server_hostname="127.0.0.1") if TLS else s

def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)

def recv_exact(s, n):
    out = bytearray()
    while len(out) < n:
        b = s.recv(min(65536, n - len(out)))
        if not b:
            fail("EOF after %d of %d bytes" % (len(out), n))
        out += b
    return bytes(out)

def pingpong(port, conns=20, rounds=200):
    socks = [connect(port, 10) for _ in range(conns)]
    for r in range(rounds):
        for i, s in enumerate(socks):
            s.sendall(b"%-64d" % (r * conns + i))
        for i, s in enumerate(socks):
            if recv_exact(s, 64) != b"%-64d" % (r * conns + i):
                fail("ping-pong reply mismatch")
    for s in socks:
        s.close()

def slow_reader(port, total=4 << 20):
    s = connect(port, 20)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    data = os.urandom(1 << 20) * (total >> 20)
    s.setblocking(False)
    sent, got = 0, bytearray()
    deadline = time.time() + 30
    while len(got) < total and time.time() < deadline:
        if sent < total:
            try:
                sent += s.send(data[sent:sent + 65536])
            except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
                pass
        time.sleep(0.0005)  # read slowly
        try:
            got += s.recv(16384)
        except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
            pass
    if bytes(got) != data:
        fail("bulk echo: got %d of %d bytes or wrong content" % (len(got), total))
    s.close()

def half_close(port):
    s = connect(port, 10)
    msg = b"x" * 200000
    s.sendall(msg)
    # A TLS socket's shutdown() would be a close_notify exchange: half-close
    # the TCP connection underneath, as a client that just stops would.
    socket.socket.shutdown(s, socket.SHUT_WR)
    if recv_exact(s, len(msg)) != msg:
        fail("half-close: data mismatch")
    if s.recv(1) != b"":
        fail("half-close: no EOF after the echo")
    s.close()

def main():
    global TLS
    argv = sys.argv[1:]
    if len(argv) >= 2 and argv[0] == "--tls-ca":
        TLS = ssl.create_default_context(cafile=argv[1])
        argv = argv[2:]
    if not argv:
        print("usage: echo_check.py [--tls-ca CA] SERVER [ARGS...]", file=sys.stderr)
        sys.exit(2)
    err = tempfile.TemporaryFile(mode="w+")
    p = subprocess.Popen(argv + ["-p", "0"], stdout=subprocess.PIPE, stderr=err,
                         text=True)
    try:
        line = p.stdout.readline().strip()
        if not line.startswith("listening on 127.0.0.1:"):
            fail("unexpected first line %r" % line)
        port = int(line.rsplit(":", 1)[1])
        pingpong(port)
        slow_reader(port)
        half_close(port)
        p.send_signal(signal.SIGTERM)
        if p.wait(timeout=10) != 0:
            fail("exit status %d after SIGTERM" % p.returncode)
        err.seek(0)
        log = err.read()
        if "Sanitizer" in log or "runtime error:" in log:
            sys.stdout.write(log)
            fail("sanitizer report on the server's stderr")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    print("PASS:", " ".join(sys.argv[1:]))

main()
