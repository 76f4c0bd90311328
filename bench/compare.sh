#!/bin/bash
# SPDX-License-Identifier: MIT
# Compare tpserver with what a C programmer would otherwise use: the
# reference echo servers of bench/compare (raw epoll, libuv, libevent, each
# with 1 and 2 loops), redis and memcached (request/response only), all
# driven by the same bench/tpbench scenarios. Runs are interleaved (for each
# repeat, for each scenario, every server in turn, each on a fresh process
# and a fresh port) so that drift in the machine's load hits all servers
# alike; bench/compare/report.py then prints medians and the ratio to the
# best reference, and writes CSV, JSON and a gnuplot PNG. See
# bench/compare/README.md. Pieces that are missing are skipped with a message.
set -u

usage() {
    cat <<'EOF'
usage: bench/compare.sh [options]
  -r N        repeats per (scenario, server), round robin (default 3, min 1)
  -d T        measured time per run for tpbench (default 1s)
  -w T        warm-up per run (default 300ms)
  -T N        tpbench threads (default 1)
  -P T        tpbench polls up to T before it sleeps (--busy-poll, e.g. 50us;
              default: it sleeps at once)
  -s LIST     servers, comma-separated (default: all), from
              epoll-1 epoll-2 libuv-1 libuv-2 libevent-1 libevent-2
              tpserver-1 tpserver-2 tpserver-1-mayblock tpserver-2-mayblock
              tpserver-1-defer redis memcached-1 memcached-2
              and, only when named: epoll-2-acceptor epoll-1-spin
              libevent-1-bufferevent libevent-2-bufferevent tpserver-2-defer
              tpserver-1-busypoll tpserver-2-busypoll
  -S LIST     scenarios, comma-separated (default: all), from
              pingpong pipeline throughput idle10k churn single
  -o DIR      results directory (default compare-results/YYYYmmdd-HHMMSS
              in the build directory)
  -B DIR      build directory (default: the source tree, or $BUILDDIR)
  -n          no make, no package installation: use what is built
  -L SECONDS  kill a tpbench run that takes longer than this (default 120)
  -Q SECONDS  before each run, wait up to SECONDS for the machine to be quiet
              (other work under 0.25 CPU over half a second; default 0 = no wait)
  -h          this text
Environment: BUILDDIR as -B.
EOF
}

top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILDDIR:-$top}
repeats=3 dur=1s warm=300ms tpb_threads=1 tpb_poll='' outdir='' do_make=1 run_limit=120 quiet_wait=0
servers_all="epoll-1 epoll-2 libuv-1 libuv-2 libevent-1 libevent-2 tpserver-1 tpserver-2 tpserver-1-mayblock tpserver-2-mayblock tpserver-1-defer redis memcached-1 memcached-2"
# Variants of the references, not run by default (-s to pick them): the
# other connection distribution of echo-epoll, its loop that never sleeps
# (what wakeups cost), libevent's bufferevents; tpserver-2 deferring accepts,
# tpserver busy-polling 50 us before it sleeps.
servers_extra="epoll-2-acceptor epoll-1-spin libevent-1-bufferevent libevent-2-bufferevent tpserver-2-defer tpserver-1-busypoll tpserver-2-busypoll"
scenarios_all="pingpong pipeline throughput idle10k churn single"
servers=$servers_all scenarios=$scenarios_all
while getopts "r:d:w:T:P:s:S:o:B:L:Q:nh" opt; do
    case $opt in
    r) repeats=$OPTARG ;;
    d) dur=$OPTARG ;;
    w) warm=$OPTARG ;;
    T) tpb_threads=$OPTARG ;;
    P) tpb_poll=$OPTARG ;;
    s) servers=${OPTARG//,/ } ;;
    S) scenarios=${OPTARG//,/ } ;;
    o) outdir=$OPTARG ;;
    B) build=$OPTARG ;;
    n) do_make=0 ;;
    L) run_limit=$OPTARG ;;
    Q) quiet_wait=$OPTARG ;;
    h) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || { echo "compare.sh: unexpected argument '$1'" >&2; usage >&2; exit 2; }
case $repeats in '' | *[!0-9]* | 0) echo "compare.sh: -r wants a number >= 1" >&2; exit 2 ;; esac
# -P goes to every tpbench run: a bad one would fail them all, one by one.
if [ -n "$tpb_poll" ] && ! [[ $tpb_poll =~ ^[0-9]+(ns|us|ms|s)$ ]]; then
    echo "compare.sh: -P wants a duration such as 50us, not '$tpb_poll'" >&2
    exit 2
fi
for s in $servers; do
    case " $servers_all $servers_extra " in *" $s "*) ;; *) echo "compare.sh: unknown server '$s'" >&2; exit 2 ;; esac
done
for s in $scenarios; do
    case " $scenarios_all " in *" $s "*) ;; *) echo "compare.sh: unknown scenario '$s'" >&2; exit 2 ;; esac
done
command -v python3 >/dev/null || { echo "compare.sh: python3 is needed (free ports, report)" >&2; exit 1; }

say() { printf 'compare: %s\n' "$*" >&2; }

# ---- prerequisites --------------------------------------------------------

prepare() {
    if [ "$do_make" = 1 ]; then
        sh "$top/scripts/deps.sh" || say "scripts/deps.sh failed; going on with what is installed"
        if [ ! -f "$build/Makefile" ]; then
            say "no $build/Makefile: run 'autoreconf -fi && ./configure' (or pass -B DIR); using what is built"
        else
            # One target at a time: a piece that does not build yet must not
            # stop the others from being compared.
            for t in bench/tpbench server/tpserver bench/compare/echo-epoll \
                     bench/compare/echo-libuv bench/compare/echo-libevent; do
                local log="$outdir/make-${t##*/}.log"
                make -s -C "$build" "$t" >/dev/null 2>"$log" || say "make $t failed (see $log)"
                [ -s "$log" ] || rm -f "$log"
            done
        fi
    fi
    tpbench=$build/bench/tpbench
    [ -x "$tpbench" ] || { say "bench/tpbench is not built: nothing can be measured"; exit 1; }
    ulimit -n "$(ulimit -Hn)" 2>/dev/null
    [ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge 10100 ] ||
        say "descriptor limit $(ulimit -n) < 10100: idle10k will fail"
}

# server_cmd NAME PORT: prints the command line, or nothing if unavailable.
server_cmd() {
    local b=$build/bench/compare p=$2
    case $1 in
    epoll-* | libuv-* | libevent-*) # NAME-THREADS[-MODE]
        local impl=${1%%-*} rest=${1#*-}
        local threads=${rest%%-*} mode=${rest#*-}
        [ -x "$b/echo-$impl" ] || return 0
        echo "$b/echo-$impl -p $p -t $threads$([ "$mode" != "$rest" ] && echo " -m $mode")" ;;
    tpserver-*) # tpserver-WORKERS[-VARIANT]
        local rest=${1#tpserver-} flags=''
        case $rest in
        *-mayblock) flags=' --may-block' ;;
        *-busypoll) flags=' --busy-poll 50us' ;; # a worker polls 50 us before it sleeps
        *-defer) flags=' --defer-accept 1s' ;;   # accepted once the first request is in
        esac
        [ -x "$build/server/tpserver" ] &&
            echo "$build/server/tpserver --listen 127.0.0.1:$p --workers ${rest%%-*}$flags" ;;
    redis)
        command -v redis-server >/dev/null &&
            echo "redis-server --port $p --bind 127.0.0.1 --save '' --appendonly no --maxclients 11000 --protected-mode no --daemonize no --loglevel warning" ;;
    memcached-*)
        command -v memcached >/dev/null &&
            echo "memcached -l 127.0.0.1 -p $p -U 0 -t ${1#memcached-} -c 11000$([ "$(id -u)" = 0 ] && echo ' -u root')" ;;
    esac
}

# What a server answers: echo servers take tpbench's verified echo payload;
# redis and memcached get a request/response pair of their own protocol.
proto_args() {
    case $1 in
    redis) printf '%s\n' '--request PING\r\n --expect +PONG\r\n' ;;
    memcached-*) printf '%s\n' '--request version\r\n --expect-term \r\n' ;;
    *) echo "--size 64" ;;
    esac
}

is_echo() { case $1 in redis | memcached-*) return 1 ;; *) return 0 ;; esac; }

# scenario_args NAME SERVER: tpbench arguments, or nothing if it does not apply.
scenario_args() {
    local p
    p=$(proto_args "$2")
    case $1 in
    pingpong) echo "-c 50 $p" ;;
    pipeline) echo "-c 50 --depth 16 $p" ;;
    throughput) is_echo "$2" && echo "--mode throughput -c 8 --size 16k" ;;
    idle10k) echo "--mode idle -c 10000 --active 100 $p" ;;
    churn) echo "--mode churn -c 16 $p" ;;
    single) echo "-c 1 $p" ;;
    esac
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# CPU seconds: the whole machine's busy time (all but idle and iowait),
# one process's own, and this shell's waited-for children's (bash `times`;
# it must run in this shell, not in a $(...) subshell, hence the file).
machine_cpu() { awk '$1 == "cpu" { printf "%.2f\n", ($2 + $3 + $4 + $7 + $8 + $9) / 100 }' /proc/stat; }
proc_cpu() { awk '{ printf "%.2f\n", ($14 + $15) / 100 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
children_cpu_to() { times >"$1"; }
children_cpu_of() { awk 'NR == 2 { print m($1) + m($2) } function m(s, a) { split(s, a, "m"); return a[1] * 60 + a[2] }' "$1"; }
now_s() { date +%s.%N; }

# wait_quiet: with -Q, sample the machine (none of ours is running) until
# other work uses under 0.25 CPU over half a second, or -Q seconds pass.
wait_quiet() {
    local deadline busy m0 m1
    [ "$quiet_wait" != 0 ] || return 0
    deadline=$(($(date +%s) + quiet_wait))
    while :; do
        m0=$(machine_cpu)
        sleep 0.5
        m1=$(machine_cpu)
        busy=$(awk -v a="$m0" -v b="$m1" 'BEGIN { print ((b - a) / 0.5 < 0.25) ? "quiet" : "busy" }')
        [ "$busy" = quiet ] && return 0
        [ "$(date +%s)" -lt "$deadline" ] || { say "machine still busy after ${quiet_wait}s; running anyway"; return 0; }
    done
}

rss_kib() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status" 2>/dev/null; }
hwm_kib() { awk '$1 == "VmHWM:" { print $2 }' "/proc/$1/status" 2>/dev/null; }

# ---- one server process ----------------------------------------------------

srv_pid=
start_server() { # NAME LOG -> sets srv_pid, srv_port; 1 if it did not come up
    local cmd
    srv_port=$(free_port)
    cmd=$(server_cmd "$1" "$srv_port") || return 1
    [ -n "$cmd" ] || return 1
    eval "exec $cmd" >"$2" 2>&1 </dev/null &
    srv_pid=$!
    for _ in $(seq 100); do
        kill -0 "$srv_pid" 2>/dev/null || { srv_pid=; return 1; }
        (exec 3<>"/dev/tcp/127.0.0.1/$srv_port") 2>/dev/null && return 0
        sleep 0.05
    done
    stop_server
    return 1
}

stop_server() {
    [ -n "$srv_pid" ] || return 0
    kill -TERM "$srv_pid" 2>/dev/null
    for _ in $(seq 50); do
        kill -0 "$srv_pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$srv_pid" 2>/dev/null
    wait "$srv_pid" 2>/dev/null
    srv_pid=
}
trap 'stop_server; exit 130' INT TERM
trap 'stop_server' EXIT

# ---- the runs -------------------------------------------------------------

# run_one SCENARIO SERVER REPEAT: appends one line to runs.csv.
run_one() {
    local sc=$1 sv=$2 rep=$3 args base status rss0='' hwm='' comm='' foreign='' server_cpu=''
    args=$(scenario_args "$sc" "$sv") || return 0
    [ -n "$args" ] || return 0
    base="$outdir/runs/$sc.$sv.$rep"
    wait_quiet
    if ! start_server "$sv" "$base.server.log"; then
        say "$sv: not available or did not start (see $base.server.log); skipped"
        echo "$sc,$sv,$rep,nostart,,,,,," >>"$outdir/runs.csv"
        return 0
    fi
    sleep 0.1
    rss0=$(rss_kib "$srv_pid")
    comm=$(cat "/proc/$srv_pid/comm" 2>/dev/null)
    # Foreign load: CPU that neither this server nor tpbench used while the
    # run went on, in CPUs (1.0 = one core busy with something else). Runs
    # on a machine that other work keeps busy are not comparable.
    local m0 s0 w0 m1 s1 w1
    children_cpu_to "$outdir/.times0"
    m0=$(machine_cpu) s0=$(proc_cpu "$srv_pid") w0=$(now_s)
    # shellcheck disable=SC2086 # args are word lists built above
    timeout "$run_limit" "$tpbench" -q --json -t "$tpb_threads" -d "$dur" -w "$warm" \
        ${tpb_poll:+--busy-poll "$tpb_poll"} $args \
        "127.0.0.1:$srv_port" >"$base.json" 2>"$base.err"
    status=$?
    children_cpu_to "$outdir/.times1"
    m1=$(machine_cpu) s1=$(proc_cpu "$srv_pid") w1=$(now_s)
    foreign=$(awk -v a="$m0" -v b="$m1" -v s0="$s0" -v s1="$s1" \
        -v c0="$(children_cpu_of "$outdir/.times0")" -v c1="$(children_cpu_of "$outdir/.times1")" \
        -v w0="$w0" -v w1="$w1" 'BEGIN { printf "%.2f", ((b - a) - (s1 - s0) - (c1 - c0)) / (w1 - w0) }')
    server_cpu=$(awk -v s0="$s0" -v s1="$s1" -v w0="$w0" -v w1="$w1" 'BEGIN { printf "%.2f", (s1 - s0) / (w1 - w0) }')
    hwm=$(hwm_kib "$srv_pid")
    kill -0 "$srv_pid" 2>/dev/null || status="died"
    stop_server
    if [ "$status" = 0 ]; then
        status=ok
    else
        say "$sc/$sv#$rep: tpbench status $status ($(head -c 200 "$base.err"))"
    fi
    echo "$sc,$sv,$rep,$status,$rss0,$hwm,$comm,$server_cpu,$foreign,$base.json" >>"$outdir/runs.csv"
}

order() { # REP WORDS...: the order of repeat REP: as given first, then shuffled
    local rep=$1
    shift
    local -a w=("$@")
    local i j t seed=$((rep * 2654435761 % 4294967296))
    if [ "$rep" -gt 1 ]; then # Fisher-Yates, seeded by the repeat: reproducible
        for ((i = ${#w[@]} - 1; i > 0; i--)); do
            seed=$(((seed * 1103515245 + 12345) % 2147483648))
            j=$(((seed >> 16) % (i + 1))) # the LCG's high bits: its low ones cycle
            t=${w[i]} w[i]=${w[j]} w[j]=$t
        done
    fi
    for ((i = 0; i < ${#w[@]}; i++)); do echo "${w[i]}"; done
}

main() {
    [ -n "$outdir" ] || outdir=$build/compare-results/$(date -u +%Y%m%d-%H%M%S)
    mkdir -p "$outdir/runs" || exit 1
    prepare
    {
        echo "date_utc=$(date -u +%FT%TZ)"
        echo "host=$(uname -srm)"
        echo "cpus=$(nproc)"
        echo "git=$(git -C "$top" rev-parse --short HEAD 2>/dev/null)"
        echo "repeats=$repeats"
        echo "duration=$dur"
        echo "warmup=$warm"
        echo "tpbench_threads=$tpb_threads"
        echo "tpbench_busy_poll=${tpb_poll:-0}"
        echo "quiet_wait=$quiet_wait"
        echo "tpbench=$("$tpbench" --version 2>&1 | head -1)"
        echo "redis=$(redis-server --version 2>/dev/null | head -1)"
        echo "memcached=$(memcached -V 2>/dev/null)"
    } >"$outdir/meta.txt"
    echo "scenario,server,repeat,status,rss_before_kib,rss_peak_kib,comm,server_cpus,foreign_cpus,json" >"$outdir/runs.csv"
    local rep sc sv total=0 n=0 have=''
    for sv in $servers; do
        if [ -n "$(server_cmd "$sv" 0)" ]; then
            have="$have $sv"
        else
            say "skipping $sv: not built or not installed"
        fi
    done
    servers=$have
    [ -n "$servers" ] || { say "no server to measure"; exit 1; }
    for sc in $scenarios; do for sv in $servers; do
        [ -n "$(scenario_args "$sc" "$sv")" ] && total=$((total + repeats))
    done; done
    say "$total runs of $dur (+$warm warm-up) each; results in $outdir"
    for rep in $(seq "$repeats"); do
        # Each repeat shuffles the server order, so that no server always
        # runs first, or right after a heavy scenario (TIME_WAIT sockets,
        # 10,000 closing connections) or after the same neighbour (a
        # rotation kept each server's predecessor; see RESULTS.md, churn).
        for sc in $scenarios; do
            # shellcheck disable=SC2086 # a word list
            for sv in $(order "$rep" $servers); do
                [ -n "$(scenario_args "$sc" "$sv")" ] || continue
                n=$((n + 1))
                say "[$n/$total] repeat $rep: $sc on $sv"
                run_one "$sc" "$sv" "$rep"
            done
        done
    done
    rm -f "$outdir/.times0" "$outdir/.times1"
    python3 "$top/bench/compare/report.py" "$outdir"
}

main
