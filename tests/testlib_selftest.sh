# SPDX-License-Identifier: MIT
# testlib_selftest.sh - tests/testlib.sh fails a test whose programs
# reported trouble, and only then. Each case runs a child test (a script
# that sources the library, starts a fake server and ends one way or
# another) and checks its exit status: a sanitizer report of each kind
# (on stderr, in the log_path file a sanitized program writes, or at exit
# as LeakSanitizer's is, after the library's SIGTERM) or an alert line
# fails it whether it passed or skipped; a log with only info and warn
# lines passes; an alert the test allowed (allow_alert) passes, a
# sanitizer report it tried to allow does not; fail, fail_later (which goes on), skip and check_clean
# mean what they say. After each, the fake server must be gone and the
# child's scratch directory removed.
. "${top_srcdir:-.}/tests/testlib.sh"

# The fake server: says where it listens, logs what MODE says, then waits
# for SIGTERM (and leaves no sleep behind).
cat >"$TMPD/fakesrv.sh" <<'SH'
case $1 in
asan) echo "==4242==ERROR: AddressSanitizer: heap-use-after-free on address 0x602000000010" >&2 ;;
tsan) printf '==================\nWARNING: ThreadSanitizer: data race (pid=4242)\n' >&2 ;;
ubsan) echo "lib/conn.c:42:7: runtime error: signed integer overflow" >&2 ;;
alert) echo "tpserver: [error] epoll_wait() failed: Bad file descriptor" >&2 ;;
logpath) # where a sanitizer given log_path=PATH writes: PATH.PID
    p=$(printf '%s\n' "$ASAN_OPTIONS" | tr ': ' '\n\n' | sed -n 's/^log_path=//p' | tail -n 1)
    echo "==$$==ERROR: AddressSanitizer: stack-buffer-overflow" >"$p.$$" ;;
clean)
    echo "tpserver: [info] 127.0.0.1:4000: connection reset by peer" >&2
    echo "tpserver: [warn] proxy trust '10.0.0.1/8': bits past the prefix are ignored" >&2
    echo "tpserver: [debug] bad PROXY header: error while reading" >&2 ;;
esac
echo "fakesrv: listening on 127.0.0.1:9"
sleep 300 &
s=$!
trap 'kill $s; [ "$1" = lsan ] && echo "==4242==ERROR: LeakSanitizer: detected memory leaks" >&2; exit 0' TERM
wait $s
SH

# The child test: MODE of the fake server, then how the test ends.
cat >"$TMPD/child.sh" <<'SH'
. "$top_srcdir/tests/testlib.sh"
echo "$TMPD" >"$CHILD_INFO.tmpd"
[ "$2" != allowed ] || allow_alert 'epoll_wait\(\) failed|AddressSanitizer' 
start_listener fake sh "$FAKESRV" "$1"
echo "$SPAWN_PID" >"$CHILD_INFO.pid"
[ "$LISTEN_PORT" = 9 ] || fail "listen_addr read '$LISTEN_PORT'"
case $2 in
pass | allowed) finish ;;
fail) fail "deliberate" ;;
skip) skip "deliberate" ;;
later) fail_later "deliberate"; echo "went on" ;;
check) check_clean; echo "went on" ;;
esac
SH

n=0
# case MODE ENDING WANT-STATUS [WANT-OUTPUT]: one child test.
case_() {
    n=$((n + 1))
    info=$TMPD/case$n
    CHILD_INFO=$info FAKESRV=$TMPD/fakesrv.sh timeout 120 sh "$TMPD/child.sh" "$1" "$2" >"$info.out" 2>&1
    rc=$?
    what="fake server '$1', test ending with $2"
    if [ $rc -ne "$3" ]; then
        fail_later "$what: exit $rc, want $3"
        sed 's/^/  | /' "$info.out"
    else
        echo "ok: $what: exit $rc"
    fi
    if [ -n "${4:-}" ] && ! grep -q "$4" "$info.out"; then
        fail_later "$what: no '$4' in its output"
    fi
    pid=$(cat "$info.pid" 2>/dev/null)
    [ -n "$pid" ] || fail_later "$what: the fake server did not start"
    [ -z "$pid" ] || ! alive "$pid" || { fail_later "$what: fake server $pid still runs"; kill "$pid"; }
    d=$(cat "$info.tmpd" 2>/dev/null)
    [ -n "$d" ] && [ ! -e "$d" ] || fail_later "$what: scratch directory '$d' left behind"
}

case_ clean pass 0
case_ clean skip 77
case_ clean fail 1
case_ clean later 1 "went on"
case_ clean check 0 "went on"
for mode in asan tsan ubsan lsan alert logpath; do
    case_ "$mode" pass 1 "sanitizer report or alert line"
done
case_ asan skip 1
case_ ubsan check 1
grep -q "went on" "$TMPD/case$n.out" && fail_later "check_clean went on after a report"
case_ alert later 1 "went on"
case_ alert allowed 0
case_ asan allowed 1 "sanitizer report or alert line"
finish
