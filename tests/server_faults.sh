# SPDX-License-Identifier: MIT
# server_faults.sh - tpserver under injected system-call faults (issue 11,
# item 5). The LD_PRELOAD shim tests/faultinj.c makes a fraction of the
# server's read/write/recv/send/accept4/epoll_wait/poll/sigwaitinfo calls
# fail with EINTR (or EAGAIN on accept4) or come up short (send), as the
# kernel may; the clients run without it. Under those faults:
#  (a) 10,000 echoes over 200 connections from 40 parallel clients, sizes
#      from 1 byte to 256 KiB, come back byte for byte, and each
#      connection then ends with a clean EOF (nothing extra, nothing lost);
#  (b) SIGTERM with a 3 s drain deadline, while clients are connected
#      (idle ones and ones still streaming), ends the process within the
#      deadline plus one second, with exit status 0;
#  (c) the shim's summary shows faults injected on every call kind;
#  (d) a stop whose doorbell rings (the eventfd writes tps_server_stop
#      makes from tpserver's signal thread) fail with EINTR 9 times in 10
#      still ends the process within the deadline plus one second.
# A doorbell write lost to EINTR once stalled clients and hung the stop.
# TPS_TEST_FAULT_SEED picks another fault sequence (default 1).
. "${top_srcdir:-.}/tests/server_lib.sh"

SHIM="$top_builddir/tests/.libs/libfaultinj.so"
[ -f "$SHIM" ] || skip "$SHIM not built (configured without shared libraries?)"
SHIM="$(cd "$(dirname "$SHIM")" && pwd)/libfaultinj.so"
REPORT="$TMPD/faults"
DRAIN_S=3

# Rates per call: high where the server makes few calls (the acceptor's
# eventfd read, sigwaitinfo) so that each kind is hit in every run; the
# eventfd writes (doorbells) high enough that a lost ring is certain.
# ASan wants its runtime first in the library list; the shim, which only
# forwards to whatever comes next (the sanitizer's interceptors), may go
# first. TSan has no such check.
start_server env LD_PRELOAD="$SHIM" \
    TPS_FAULT_SEED="${TPS_TEST_FAULT_SEED:-1}" \
    TPS_FAULT_CALLS="read=0.9,write=0.3,recv=0.1,send=0.2,accept4=0.3,epoll_wait=0.2,poll=0.3,sigwaitinfo=0.9" \
    TPS_FAULT_REPORT="$REPORT" \
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
    "$TPSERVER" --listen 127.0.0.1:0 --workers 4 --queue 2 --drain-timeout "${DRAIN_S}s"

# (a) Echoes. --queue 2 makes the acceptor pause on a full queue and be
# woken by the workers (its eventfd), as bursts of connects arrive.
timeout 300 python3 - "$SRV_PORT" <<'PY' || fail "echoes under injected faults"
import asyncio, os, random, sys

PORT = int(sys.argv[1])
TASKS, CONNS, MSGS = 40, 5, 50          # 40 * 5 * 50 = 10,000 echoes
OP_TIMEOUT = 30                         # a stalled echo fails, never hangs
rng = random.Random(11)

def die(msg):                           # at once, without asyncio's noise
    print(msg, file=sys.stderr, flush=True)
    os._exit(1)

def size():
    r = rng.random()
    if r < 0.01:
        return rng.randint(64 * 1024 + 1, 256 * 1024)
    if r < 0.10:
        return rng.randint(2049, 64 * 1024)
    return rng.randint(1, 2048)

async def one_conn(t, k, sizes):
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection("127.0.0.1", PORT), OP_TIMEOUT)
    except (asyncio.TimeoutError, OSError) as e:
        die("cannot connect: client %d conn %d: %r" % (t, k, e))
    for i, n in enumerate(sizes):
        msg = rng.randbytes(n)
        writer.write(msg)
        try:
            _, got = await asyncio.wait_for(
                asyncio.gather(writer.drain(), reader.readexactly(n)), OP_TIMEOUT)
        except asyncio.TimeoutError:
            die("stalled: client %d conn %d echo %d (%d bytes)" % (t, k, i, n))
        except (asyncio.IncompleteReadError, OSError) as e:
            die("lost: client %d conn %d echo %d (%d bytes): %r" % (t, k, i, n, e))
        if got != msg:
            die("wrong bytes: client %d conn %d echo %d (%d bytes)" % (t, k, i, n))
    writer.write_eof()
    try:
        rest = await asyncio.wait_for(reader.read(), OP_TIMEOUT)
    except asyncio.TimeoutError:
        die("no EOF after the echoes of client %d conn %d" % (t, k))
    if rest != b"":
        die("%d extra bytes after the echoes of client %d conn %d" % (len(rest), t, k))
    writer.close()
    return len(sizes), sum(sizes)

async def client(t, plan):
    done = 0
    for k, sizes in enumerate(plan):
        done += (await one_conn(t, k, sizes))[0]
    return done

async def main():
    plans = [[[size() for _ in range(MSGS)] for _ in range(CONNS)] for _ in range(TASKS)]
    total = sum(sum(sum(c) for c in p) for p in plans)
    big = sum(1 for p in plans for c in p for n in c if n > 64 * 1024)
    done = await asyncio.gather(*(client(t, p) for t, p in enumerate(plans)))
    assert sum(done) == TASKS * CONNS * MSGS
    print("echoes: %d exact (%d bytes, %d over 64 KiB)" % (sum(done), total, big))

asyncio.run(main())
PY

# (b) SIGTERM with clients connected: 20 idle ones (each answered once)
# and 4 that keep streaming through the stop. The drain ends them (idle
# ones promptly, the others at the deadline at the latest) and the process
# must be gone within the deadline plus one second.
timeout 120 python3 - "$SRV_PORT" "$SRV_PID" "$DRAIN_S" <<'PY' || fail "stop under injected faults"
import asyncio, os, signal, sys, time

PORT, PID, DRAIN = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])

def gone():
    try:
        with open("/proc/%d/stat" % PID) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:                     # ENOENT once reaped, ESRCH while it goes
        return True

async def idle():
    r, w = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", PORT), 30)
    w.write(b"hello\n")
    assert await asyncio.wait_for(r.readexactly(6), 30) == b"hello\n"
    return r, w

async def stream(r, w):
    chunk = b"x" * 4096
    try:
        while True:
            w.write(chunk)
            await w.drain()
            if not await r.read(65536):
                return
    except (ConnectionError, OSError):
        return

async def until_eof(r):
    try:
        while await r.read(65536):
            pass
    except (ConnectionError, OSError):
        pass

async def main():
    conns = await asyncio.gather(*(idle() for _ in range(24)))
    streams = [asyncio.create_task(stream(r, w)) for r, w in conns[:4]]
    await asyncio.sleep(0.3)
    t0 = time.monotonic()
    os.kill(PID, signal.SIGTERM)
    limit = t0 + DRAIN + 1.0
    ends = streams + [asyncio.create_task(until_eof(r)) for r, _ in conns[4:]]
    _, pending = await asyncio.wait(ends, timeout=DRAIN + 5)
    if pending:
        sys.exit("%d connections still open %.1f s after SIGTERM" % (len(pending), DRAIN + 5))
    while not gone() and time.monotonic() < limit:
        await asyncio.sleep(0.02)
    took = time.monotonic() - t0
    if not gone():
        sys.exit("still running %.1f s after SIGTERM (drain deadline %.0f s)" % (took, DRAIN))
    print("exited %.2f s after SIGTERM (drain deadline %.0f s)" % (took, DRAIN))

asyncio.run(main())
PY
wait_server 10
[ "$SRV_RC" -eq 0 ] || fail "exit $SRV_RC after SIGTERM"
grep -q "^tpserver: statistics (final)" "$SRV_ERR" || fail "no final statistics"
[ "$(stat_value accepted)" = 224 ] || fail "accepted '$(stat_value accepted)', want 224"
check_clean

# (c) The shim really injected, on every call it intercepts.
[ -s "$REPORT" ] || fail "no fault-injection summary in $REPORT"
cat "$REPORT"
for call in read write recv send accept4 epoll_wait poll sigwaitinfo; do
    line=$(grep "^faultinj: $call " "$REPORT") || fail "no summary line for $call"
    n=0
    for f in eintr eagain short; do
        v=$(echo "$line" | sed -n "s/.* $f=\([0-9]*\).*/\1/p")
        n=$((n + v))
    done
    [ "$n" -gt 0 ] || fail "no fault injected on $call: $line"
done
grep -Eq "^faultinj: send .* short=[1-9]" "$REPORT" || fail "no short send injected"
grep -Eq "^faultinj: accept4 .* eagain=[1-9]" "$REPORT" || fail "no EAGAIN injected on accept4"

# (d) Faults on the signal thread's writes only (the main thread, named
# tpserver): nothing but the stop's rings. One client, answered, so that
# every thread is up and asleep; then SIGTERM. A ring lost here left the
# acceptor in poll(-1) for good.
: >"$REPORT"
start_server env LD_PRELOAD="$SHIM" \
    TPS_FAULT_SEED="${TPS_TEST_FAULT_SEED:-1}" TPS_FAULT_CALLS="write=0.9" \
    TPS_FAULT_THREADS=tpserver TPS_FAULT_REPORT="$REPORT" \
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
    "$TPSERVER" --listen 127.0.0.1:0 --workers 4 --drain-timeout "${DRAIN_S}s"
py "$SRV_PORT" <<'PY' || fail "echo before the stop"
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30)
s.sendall(b"ping\n")
assert s.recv(10) == b"ping\n"
PY
kill -TERM "$SRV_PID" || fail "cannot signal the server"
wait_server $((DRAIN_S + 1))
[ "$SRV_RC" -eq 0 ] || fail "exit $SRV_RC after SIGTERM (stop rings faulted)"
check_clean
cat "$REPORT"
grep -Eq "^faultinj: write .* eintr=[1-9]" "$REPORT" || fail "no EINTR injected on the stop's rings"
exit 0
