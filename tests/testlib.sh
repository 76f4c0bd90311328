# SPDX-License-Identifier: MIT
# testlib.sh - the one library of the black-box test scripts (POSIX sh,
# sourced, not run). Every tests/*.sh and bench/compare/check-*.sh sources
# it, directly or through a program's layer (server_lib.sh, client_lib.sh,
# bench_lib.sh), which adds only what is particular to that program.
#
# Exit status (automake's): 0 pass, 1 fail, 77 skip, 99 hard error.
#   fail MSG        prints FAIL: MSG and ends the test (status 1).
#   fail_later MSG  prints FAIL: MSG and goes on; the test ends with 1.
#                   Both record the failure in a file, so one called in a
#                   subshell ($(...), a pipeline) still fails the test.
#   skip MSG        77; need CMD [PACKAGE] skips when a tool is missing.
#   hard_error MSG  99: the test itself cannot run (a program of this tree
#                   is not built, a scratch directory cannot be made).
#   finish          ends the test now (its status as at any other exit).
#
# Processes: spawn NAME CMD... starts CMD in the background with stdout in
# $TMPD/NAME.out and stderr in $TMPD/NAME.err. Whatever way the test ends,
# every process still running is sent SIGTERM (so sanitizers' exit checks,
# LeakSanitizer's included, run), given 15 s, then SIGKILLed, and reaped;
# then $TMPD is removed. Every wait is bounded; the bounds are generous
# because sanitizer builds are slow.
#
# The scan: when the test ends, however it ends, it fails (status 1, even
# after a skip) if any of these holds a sanitizer report or an alert line:
#  - every spawned process's stdout and stderr, and every file passed to
#    register_log (for programs a test runs in the foreground);
#  - $TMPD/san.PID: ASAN/LSAN/TSAN/UBSAN_OPTIONS get log_path=$TMPD/san
#    here, so every sanitized program the test starts, in the background
#    or not, with its stderr kept or thrown away, writes its reports there.
#    Not UBSan's in an ASan+UBSan build (GCC 12 writes them to stderr
#    whatever log_path says): those are caught in the logs above, and a
#    foreground run whose stderr is not one still fails on its status,
#    since the build's -fno-sanitize-recover=all makes the program abort.
# A sanitizer report: "ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
# "WARNING: ThreadSanitizer", "runtime error:" (UBSan) or a sanitizer's
# "SUMMARY:". An alert: libtpserv's log has four levels (lib/tpserv.h:
# error, warn, info, debug) and logs at "error" only what should never
# happen in a working server: a system call failing beyond the errors it
# handles (epoll_wait, poll, accept4, epoll_ctl), no memory, a thread that
# cannot start, an eventfd that cannot be rung. Peers' misdeeds (resets,
# bad PROXY headers, limits) are info or debug, so a test may provoke them
# freely. tpserver prints its log as "tpserver: [LEVEL] message"
# (server/report.c), so an alert is a line starting "NAME: [error] ", or
# glibc's own abort messages (a failed assert(), "*** ... ***:
# terminated"). The one expected error-level line, a listen error at
# start (the server then exits 1), is provoked only by foreground runs
# whose output the test checks itself and does not register. An operator's
# mistake that a running server reports at "error" and survives (a bad
# certificate on SIGHUP) is declared by the test that provokes it with
# allow_alert ERE; sanitizer reports can never be allowed.
# check_clean runs the same scan at once (fail on a hit).

: "${top_builddir:=.}" "${top_srcdir:=.}"
TPSERVER=$top_builddir/server/tpserver
TPCLIENT=$top_builddir/client/tpclient
TPBENCH=$top_builddir/bench/tpbench

TMPD=$(mktemp -d "${TMPDIR:-/tmp}/tpserv-test.XXXXXX") || {
    echo "ERROR: cannot make a scratch directory" >&2
    exit 99
}
T_PIDS=
T_LOGS=$TMPD/.logs     # one file name a line: the logs the scan reads
T_FAILED=$TMPD/.failed # one line per failure, from any (sub)shell
: >"$T_LOGS"
FAIL_SHOW=             # a file whose last lines fail/fail_later show
T_SAN_RE='ERROR: (AddressSanitizer|LeakSanitizer)|WARNING: ThreadSanitizer|runtime error:|SUMMARY: [A-Za-z]*Sanitizer'
T_ALERT_RE='^[A-Za-z0-9_.-]+: \[error\] |Assertion .* failed|\*\*\* .* \*\*\*: terminated'
T_ALLOW_RE='x^' # matches nothing: allow_alert adds to it
# Appended, so that an outer setting (CI's halt_on_error=1...) still holds.
for v in ASAN_OPTIONS LSAN_OPTIONS TSAN_OPTIONS UBSAN_OPTIONS; do
    eval "$v=\"\${$v:+\$$v:}log_path=$TMPD/san\""
    export "${v?}"
done

t_note() { printf '%s\n' "$*" >&2; }

# t_record MSG: the failure line, also in $T_FAILED.
t_record() {
    t_note "FAIL: $*"
    printf '%s\n' "$*" >>"$T_FAILED"
    if [ -n "$FAIL_SHOW" ] && [ -s "$FAIL_SHOW" ]; then
        t_note "--- last lines of $FAIL_SHOW:"
        tail -n 40 "$FAIL_SHOW" >&2
    fi
}
fail() {
    t_record "$*"
    exit 1
}
fail_later() { t_record "$*"; }
skip() {
    t_note "SKIP: $*"
    exit 77
}
hard_error() {
    t_note "ERROR: $*"
    exit 99
}
finish() { exit 0; }

# need CMD [PACKAGE]: skip unless CMD is installed.
need() {
    command -v "$1" >/dev/null 2>&1 || skip "$1 is not installed${2:+ (Debian: $2)}"
}
# need_built FILE: this tree's program FILE must be built.
need_built() {
    [ -x "$1" ] || hard_error "$1 is not built"
}

register_log() { printf '%s\n' "$1" >>"$T_LOGS"; }

# spawn NAME CMD [ARG...]: CMD in the background; sets SPAWN_PID. A NAME
# is used once: a second start would overwrite a log before its scan.
spawn() {
    t_name=$1
    shift
    [ ! -e "$TMPD/$t_name.err" ] || hard_error "spawn: the name '$t_name' is taken"
    register_log "$TMPD/$t_name.out"
    register_log "$TMPD/$t_name.err"
    "$@" >"$TMPD/$t_name.out" 2>"$TMPD/$t_name.err" &
    SPAWN_PID=$!
    T_PIDS="$T_PIDS $SPAWN_PID"
    FAIL_SHOW=$TMPD/$t_name.err
}

# alive PID: true while it runs (kill -0 would count a zombie as running).
alive() {
    [ -r "/proc/$1/stat" ] && [ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)" != Z ]
}

# wait_until SECONDS WHAT CMD [ARG...]: run CMD every 0.1 s until it
# succeeds; fail "WHAT not within SECONDS s" if it never does.
wait_until() {
    t_ws=$1
    t_wn=$(($1 * 10))
    t_what=$2
    shift 2
    until "$@"; do
        t_wn=$((t_wn - 1))
        [ $t_wn -gt 0 ] || fail "$t_what: not within $t_ws s"
        sleep 0.1
    done
}

# wait_for ERE FILE SECONDS: until FILE has a line matching ERE.
wait_for() {
    t_fn=$(($3 * 10))
    until grep -Eq -- "$1" "$2" 2>/dev/null; do
        t_fn=$((t_fn - 1))
        [ $t_fn -gt 0 ] || fail "no line matching '$1' in $2 within $3 s"
        sleep 0.1
    done
}

# reap PID SECONDS: wait (bounded) for PID to exit; REAP_RC = its status.
reap() {
    t_rn=$(($2 * 10))
    while alive "$1"; do
        t_rn=$((t_rn - 1))
        [ $t_rn -gt 0 ] || fail "process $1 did not exit within $2 s"
        sleep 0.1
    done
    REAP_RC=0
    wait "$1" || REAP_RC=$?
    t_rest=
    for t_p in $T_PIDS; do [ "$t_p" = "$1" ] || t_rest="$t_rest $t_p"; done
    T_PIDS=$t_rest
}

# stop_all [SECONDS]: SIGTERM to every process still running, up to
# SECONDS (15) for all to exit, then SIGKILL; all are reaped.
stop_all() {
    for t_p in $T_PIDS; do kill -TERM "$t_p" 2>/dev/null; done
    t_sn=$((${1:-15} * 10))
    for t_p in $T_PIDS; do
        while alive "$t_p" && [ $t_sn -gt 0 ]; do
            sleep 0.1
            t_sn=$((t_sn - 1))
        done
        kill -KILL "$t_p" 2>/dev/null
        wait "$t_p" 2>/dev/null
    done
    T_PIDS=
}

# listen_addr FILE PID [SECONDS]: wait (30 s) for the first "listening on
# ADDR" line in FILE while PID runs; set LISTEN_ADDR and LISTEN_PORT (the
# part after the last colon). Returns 1, quietly, if none comes.
listen_addr() {
    t_ln=$((${3:-30} * 10))
    LISTEN_ADDR=
    LISTEN_PORT=
    until grep -q "listening on " "$1" 2>/dev/null; do
        alive "$2" || return 1
        t_ln=$((t_ln - 1))
        [ $t_ln -gt 0 ] || return 1
        sleep 0.1
    done
    LISTEN_ADDR=$(sed -n 's/.*listening on //p' "$1" | head -n 1)
    LISTEN_PORT=${LISTEN_ADDR##*:}
}

# start_listener NAME CMD [ARG...]: spawn, then listen_addr on its stdout;
# fails if the program exits or says nothing within 30 s.
start_listener() {
    spawn "$@"
    listen_addr "$TMPD/$1.out" "$SPAWN_PID" || {
        shift
        fail "no 'listening on' line from: $*"
    }
}

# free_port: a TCP port on 127.0.0.1 that nothing listens on (bound, then
# released; python3).
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' ||
        fail "free_port: python3 failed"
}

# allow_alert ERE: alert lines matching ERE are the test's own doing
# (see above); the scan passes over them.
allow_alert() { T_ALLOW_RE="$T_ALLOW_RE|$1"; }

# t_hits FILE: its sanitizer lines and its alert lines not allowed.
t_hits() {
    grep -E -A 12 -- "$T_SAN_RE" "$1"
    grep -E -- "$T_ALERT_RE" "$1" | grep -Ev -- "$T_ALLOW_RE"
}

# t_scan: print the sanitizer reports and alert lines of every log; true
# if there was any.
t_scan() {
    t_hit=1
    for t_f in "$TMPD"/san.*; do echo "$t_f"; done | cat "$T_LOGS" - | {
        while IFS= read -r t_f; do
            [ -f "$t_f" ] && [ -n "$(t_hits "$t_f")" ] || continue
            t_note "--- $t_f:"
            t_hits "$t_f" | head -n 60 >&2
            t_hit=0
        done
        return $t_hit
    }
}

# check_clean: the end-of-test scan, now.
check_clean() {
    if t_scan; then
        T_SCANNED=1
        fail "sanitizer report or alert line in a log (above)"
    fi
}

T_SCANNED=
t_exit() {
    t_rc=$?
    set +e
    stop_all
    if [ -z "$T_SCANNED" ] && t_scan; then
        t_note "FAIL: sanitizer report or alert line in a log (above)"
        echo scan >>"$T_FAILED"
    fi
    if [ -s "$T_FAILED" ] && { [ $t_rc -eq 0 ] || [ $t_rc -eq 77 ]; }; then
        t_note "FAIL: $(wc -l <"$T_FAILED") failure(s)"
        t_rc=1
    fi
    rm -rf "$TMPD"
    exit $t_rc
}
trap t_exit EXIT
trap 'exit 1' INT TERM HUP
