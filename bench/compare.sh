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
# TLS (-s tls -S tls): tpserver's tls: listener against HAProxy, nginx
# (stream) and stunnel terminating TLS in front of echo-epoll, and a
# libevent bufferevent_openssl echo; the same machinery, a server being
# then all the processes it runs (terminator, its workers, the backend).
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
              TLS (the word 'tls' names them all): tpserver-tls-1
              tpserver-tls-2 haproxy-tls-1 haproxy-tls-2 nginx-tls-1
              nginx-tls-2 stunnel-tls libevent-tls-1 libevent-tls-2
  -S LIST     scenarios, comma-separated (default: all), from
              pingpong pipeline throughput idle10k churn single
              TLS ('tls' names them all; the default when -s names only
              TLS servers): tls-full tls-resumed tls-pingpong
              tls-throughput tls-idle10k
  -o DIR      results directory (default compare-results/YYYYmmdd-HHMMSS
              in the build directory)
  -B DIR      build directory (default: the source tree, or $BUILDDIR)
  -n          no make, no package installation: use what is built
  -L SECONDS  kill a tpbench run that takes longer than this (default 120)
  -Q SECONDS  before each run, wait up to SECONDS for the machine to be quiet
              (other work under 0.25 CPU over half a second; default 0 = no wait)
  -h          this text
Environment: BUILDDIR as -B; TLS_IDLE_WARMUP: tls-idle10k's warm-up, in
which its 10,000 handshakes are made (default 20s).
EOF
}

top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILDDIR:-$top}
# tls-idle10k's warm-up, in which its 10,000 full handshakes are done
# (environment TLS_IDLE_WARMUP; the run's open_max says if they were).
tls_idle_warm=${TLS_IDLE_WARMUP:-20s}
repeats=3 dur=1s warm=300ms tpb_threads=1 tpb_poll='' outdir='' do_make=1 run_limit=120 quiet_wait=0
servers_all="epoll-1 epoll-2 libuv-1 libuv-2 libevent-1 libevent-2 tpserver-1 tpserver-2 tpserver-1-mayblock tpserver-2-mayblock tpserver-1-defer redis memcached-1 memcached-2"
# Variants of the references, not run by default (-s to pick them): the
# other connection distribution of echo-epoll, its loop that never sleeps
# (what wakeups cost), libevent's bufferevents; tpserver-2 deferring accepts,
# tpserver busy-polling 50 us before it sleeps.
servers_extra="epoll-2-acceptor epoll-1-spin libevent-1-bufferevent libevent-2-bufferevent tpserver-2-defer tpserver-1-busypoll tpserver-2-busypoll"
scenarios_all="pingpong pipeline throughput idle10k churn single"
# TLS: run only when named (-s tls -S tls), the plain defaults stay as they
# were. tpserver's tls: listener, TLS terminators (HAProxy, nginx's stream
# module, stunnel) in front of echo-epoll -t 1, and a libevent
# bufferevent_openssl echo; -N is threads / worker processes.
servers_tls="tpserver-tls-1 tpserver-tls-2 haproxy-tls-1 haproxy-tls-2 nginx-tls-1 nginx-tls-2 stunnel-tls libevent-tls-1 libevent-tls-2"
scenarios_tls="tls-full tls-resumed tls-pingpong tls-throughput tls-idle10k"
servers=$servers_all scenarios=$scenarios_all servers_given='' scenarios_given=''
while getopts "r:d:w:T:P:s:S:o:B:L:Q:nh" opt; do
    case $opt in
    r) repeats=$OPTARG ;;
    d) dur=$OPTARG ;;
    w) warm=$OPTARG ;;
    T) tpb_threads=$OPTARG ;;
    P) tpb_poll=$OPTARG ;;
    s) servers=${OPTARG//,/ } servers_given=1 ;;
    S) scenarios=${OPTARG//,/ } scenarios_given=1 ;;
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
is_tls() { case $1 in *tls*) return 0 ;; *) return 1 ;; esac; }
# The word 'tls' stands for the whole TLS list; with only TLS servers (or
# scenarios) named, the other list defaults to the TLS one too.
servers=$(for s in $servers; do [ "$s" = tls ] && echo "$servers_tls" || echo "$s"; done)
scenarios=$(for s in $scenarios; do [ "$s" = tls ] && echo "$scenarios_tls" || echo "$s"; done)
servers=$(echo $servers) scenarios=$(echo $scenarios) # one line, one space
all_tls() { local w; for w in "$@"; do is_tls "$w" || return 1; done; [ $# -gt 0 ]; }
# shellcheck disable=SC2086 # word lists
if [ -n "$servers_given" ] && [ -z "$scenarios_given" ] && all_tls $servers; then
    scenarios=$scenarios_tls
elif [ -n "$scenarios_given" ] && [ -z "$servers_given" ] && all_tls $scenarios; then
    servers=$servers_tls
fi
for s in $servers; do
    case " $servers_all $servers_extra $servers_tls " in *" $s "*) ;; *) echo "compare.sh: unknown server '$s'" >&2; exit 2 ;; esac
done
for s in $scenarios; do
    case " $scenarios_all $scenarios_tls " in *" $s "*) ;; *) echo "compare.sh: unknown scenario '$s'" >&2; exit 2 ;; esac
done
command -v python3 >/dev/null || { echo "compare.sh: python3 is needed (free ports, report)" >&2; exit 1; }

say() { printf 'compare: %s\n' "$*" >&2; }

# ---- prerequisites --------------------------------------------------------

prepare() {
    if [ "$do_make" = 1 ]; then
        # The bench set: build tools, redis, memcached, libuv, libevent and,
        # for TLS, haproxy, nginx with its stream module, stunnel4, openssl.
        sh "$top/scripts/deps.sh" bench || say "scripts/deps.sh bench failed; going on with what is installed"
        if [ ! -f "$build/Makefile" ]; then
            say "no $build/Makefile: run 'autoreconf -fi && ./configure' (or pass -B DIR); using what is built"
        else
            # One target at a time: a piece that does not build yet must not
            # stop the others from being compared.
            for t in bench/tpbench server/tpserver bench/compare/echo-epoll \
                     bench/compare/echo-libuv bench/compare/echo-libevent \
                     bench/compare/echo-libevent-tls; do
                local log="$outdir/make-${t##*/}.log"
                make -s -C "$build" "$t" >/dev/null 2>"$log" || say "make $t failed (see $log)"
                [ -s "$log" ] || rm -f "$log"
            done
        fi
    fi
    tpbench=$build/bench/tpbench
    [ -x "$tpbench" ] || { say "bench/tpbench is not built: nothing can be measured"; exit 1; }
    nginx_stream_find
    # A terminator holds two descriptors per connection (client, backend):
    # as root, raise the hard limit too; else take the hard limit.
    ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null
    local lim
    lim=$(ulimit -n)
    [ "$lim" = unlimited ] || [ "$lim" -ge 10100 ] ||
        say "descriptor limit $lim < 10100: idle10k will fail"
    # A terminator needs two per connection: where the limit is below
    # 20,200 (hard limits cannot always be raised, even by root),
    # tls-idle10k opens as many as fit, the same number on every server.
    if [ "$lim" != unlimited ] && [ "$lim" -lt 80200 ]; then
        term_maxconn=$(((lim - 100) / 2))
        if [ "$lim" -lt 20200 ]; then
            tls_idle_conns=$(((lim - 200) / 2 / 50 * 50))
            case " $scenarios " in *" tls-idle10k "*)
                say "descriptor limit $lim: a TLS terminator holds two per connection, so tls-idle10k opens $tls_idle_conns connections, not 10,000, on every server" ;;
            esac
        fi
    fi
}

# ---- TLS servers ------------------------------------------------------------
# All of them serve the tests' certificate (ECDSA P-256, CN=localhost, IP
# SAN 127.0.0.1), which tpbench verifies against the tests' CA. The
# terminators take it as a PEM with certificate and key (HAProxy's crt) or
# as two files, and forward to an echo-epoll -t 1 backend of their own.
tls_dir=$top/tests/tls
tls_ca=$tls_dir/ca.pem tls_cert=$tls_dir/server.pem tls_key=$tls_dir/server.key
tls_pem= # certificate + key in one file, written by main into the results
tls_idle_conns=10000 term_maxconn=40000 # see prepare: the descriptor limit
nginx_stream= # "static", or the path of the stream module to load; see prepare

# nginx_stream_find: how this nginx gets its stream module (Debian 12:
# libnginx-mod-stream, a dynamic module under nginx's --modules-path).
nginx_stream_find() {
    local v dir
    command -v nginx >/dev/null || return 0
    v=$(nginx -V 2>&1)
    case " $v " in
    *" --with-stream=dynamic "*)
        dir=$(printf '%s\n' "$v" | tr ' ' '\n' | sed -n 's/^--modules-path=//p')
        [ -n "$dir" ] && [ -f "$dir/ngx_stream_module.so" ] && nginx_stream=$dir/ngx_stream_module.so ;;
    *" --with-stream "*) nginx_stream=static ;;
    esac
}

# backend_cmd NAME: the plaintext echo a terminator forwards to (-p PORT
# is added), or nothing when NAME is a server of its own.
backend_cmd() {
    case $1 in
    haproxy-tls-* | nginx-tls-* | stunnel-tls) echo "$build/bench/compare/echo-epoll -t 1" ;;
    esac
}

# write_conf NAME PORT BACKEND-PORT DIR: the terminator's configuration,
# DIR/NAME.conf; everything it writes (pid, logs) stays in DIR. Defaults
# everywhere but TLS 1.3 (nginx 1.22's default list ends at 1.2), what
# tls-idle10k's connections need (term_maxconn: as many as the descriptor
# limit allows, two each), and TCP_NODELAY where it is not already on
# (stunnel's own examples set it).
write_conf() {
    local n=${1##*-} f="$4/$1.conf"
    case $1 in
    haproxy-tls-*)
        cat >"$f" <<CONF
global
    nbthread $n
    maxconn $term_maxconn
defaults
    mode tcp
    timeout connect 5s
    timeout client 300s
    timeout server 300s
frontend tls
    bind 127.0.0.1:$2 ssl crt $tls_pem
    default_backend echo
backend echo
    server echo 127.0.0.1:$3
CONF
        ;;
    nginx-tls-*)
        {
            [ "$nginx_stream" = static ] || echo "load_module $nginx_stream;"
            cat <<CONF
daemon off;
master_process on;
worker_processes $n;
pid $4/nginx.pid;
error_log $4/error.log error;
events { worker_connections $((term_maxconn * 2)); }
stream {
    server {
        listen 127.0.0.1:$2 ssl;
        ssl_protocols TLSv1.2 TLSv1.3; # 1.22's default stops at TLSv1.2
        ssl_certificate $tls_cert;
        ssl_certificate_key $tls_key;
        proxy_pass 127.0.0.1:$3;
    }
}
CONF
        } >"$f" ;;
    stunnel-tls)
        cat >"$f" <<CONF
foreground = yes
pid =
syslog = no
debug = 3
output = $4/stunnel.log
[echo]
accept = 127.0.0.1:$2
connect = 127.0.0.1:$3
cert = $tls_cert
key = $tls_key
socket = l:TCP_NODELAY=1
socket = r:TCP_NODELAY=1
CONF
        ;;
    esac
}

# server_cmd NAME PORT: prints the command line, or nothing if unavailable.
# A terminator's command names its configuration, $srv_conf in $srv_confdir.
server_cmd() {
    local b=$build/bench/compare p=$2
    case $1 in
    tpserver-tls-*)
        [ -x "$build/server/tpserver" ] &&
            echo "$build/server/tpserver --listen tls:127.0.0.1:$p --workers ${1#tpserver-tls-} --tls-cert $tls_cert --tls-key $tls_key" ;;
    libevent-tls-*)
        [ -x "$b/echo-libevent-tls" ] && echo "$b/echo-libevent-tls -p $p -t ${1#libevent-tls-} -c $tls_cert -k $tls_key" ;;
    haproxy-tls-*)
        command -v haproxy >/dev/null && [ -x "$b/echo-epoll" ] && echo "haproxy -db -f $srv_conf" ;;
    nginx-tls-*)
        [ -n "$nginx_stream" ] && [ -x "$b/echo-epoll" ] &&
            echo "nginx -p $srv_confdir -c $srv_conf -e $srv_confdir/error.log" ;;
    stunnel-tls)
        command -v stunnel >/dev/null && [ -x "$b/echo-epoll" ] && echo "stunnel $srv_conf" ;;
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

# scenario_args NAME SERVER: tpbench arguments, or nothing if it does not
# apply. TLS scenarios are for TLS servers only, and the others for the rest.
scenario_args() {
    local p t="--tls --tls-ca $tls_ca"
    if is_tls "$1" || is_tls "$2"; then
        is_tls "$1" && is_tls "$2" || return 0
    fi
    p=$(proto_args "$2")
    case $1 in
    tls-full) echo "--mode churn -c 16 $p $t" ;; # a new session every connection
    tls-resumed) echo "--mode churn -c 16 $p $t --tls-resume" ;;
    tls-pingpong) echo "-c 50 $p $t" ;;
    tls-throughput) echo "--mode throughput -c 8 --size 16k $t" ;;
    # 10,000 full handshakes before the measured window: a warm-up of
    # its own (-w $tls_idle_warm), long enough on a busy 2-core machine,
    # and --timeout 30s: opened all at once, the last handshakes wait
    # seconds behind the others, which is not what this scenario measures
    # (tls-full does); a server that closes them still fails it.
    tls-idle10k) echo "--mode idle -c $tls_idle_conns --active 100 $p $t -w $tls_idle_warm --timeout 30s" ;;
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
# CPU of a list of processes (a server's tree): utime + stime, and the
# children they reaped (cutime + cstime), so that none is lost.
procs_cpu() {
    local f='' p
    for p in "$@"; do f="$f /proc/$p/stat"; done
    # shellcheck disable=SC2086 # a list of files
    [ -n "$f" ] && awk '{ sub(/^.*\) /, ""); t += $12 + $13 + $14 + $15 } END { printf "%.2f\n", t / 100 }' $f 2>/dev/null || echo 0
}
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

# Memory of a list of processes: the sum of their RSS, and of their peaks.
procs_mem() { # FIELD PID...
    local k=$1 f='' p
    shift
    for p in "$@"; do f="$f /proc/$p/status"; done
    # shellcheck disable=SC2086 # a list of files
    [ -n "$f" ] && awk -v k="$k:" '$1 == k { t += $2; n++ } END { if (n) print t }' $f 2>/dev/null
}
rss_kib() { procs_mem VmRSS "$@"; }
hwm_kib() { procs_mem VmHWM "$@"; }

# tree_pids PID...: those processes and all their descendants (nginx's
# workers), the ones still alive.
tree_pids() {
    ps -e -o pid= -o ppid= | awk -v roots="$*" '
        BEGIN { n = split(roots, r, " "); for (i = 1; i <= n; i++) keep[r[i]] = 1 }
        { pp[$1] = $2; ids[NR] = $1 }
        END {
            do { more = 0
                 for (i in ids) { p = ids[i]; if (!(p in keep) && (pp[p] in keep)) { keep[p] = 1; more = 1 } }
            } while (more)
            for (p in keep) if (p in pp) print p
        }'
}
# shellcheck disable=SC2086 # one or two pids
srv_tree() { [ -z "$srv_pid$bk_pid" ] || tree_pids $srv_pid $bk_pid; }

# ---- one server process ----------------------------------------------------

# A server is one process, or for a TLS terminator two that this script
# starts (srv_pid, and bk_pid, its echo-epoll backend) with whatever they
# fork (srv_tree); its CPU and memory are those of the whole tree.
srv_pid='' bk_pid='' srv_conf='' srv_confdir=''
wait_port() { # PID PORT: 0 once PORT accepts, 1 if PID died or 5 s passed
    for _ in $(seq 100); do
        kill -0 "$1" 2>/dev/null || return 1
        (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

start_server() { # NAME LOG -> sets srv_pid, srv_port (bk_pid); 1 if it did not come up
    local cmd bcmd bport=''
    srv_conf='' srv_confdir=''
    bcmd=$(backend_cmd "$1")
    if [ -n "$bcmd" ]; then
        bport=$(free_port)
        eval "exec $bcmd -p $bport" >"$2.backend" 2>&1 </dev/null &
        bk_pid=$!
        wait_port "$bk_pid" "$bport" || { echo "backend did not start: $bcmd" >>"$2"; stop_server; return 1; }
        srv_confdir=${2%.log}.d srv_conf=${2%.log}.d/$1.conf
        mkdir -p "$srv_confdir" || { stop_server; return 1; }
    fi
    srv_port=$(free_port)
    cmd=$(server_cmd "$1" "$srv_port") || { stop_server; return 1; }
    [ -n "$cmd" ] || { stop_server; return 1; }
    [ -z "$bcmd" ] || write_conf "$1" "$srv_port" "$bport" "$srv_confdir"
    eval "exec $cmd" >"$2" 2>&1 </dev/null &
    srv_pid=$!
    wait_port "$srv_pid" "$srv_port" && return 0
    stop_server
    return 1
}

stop_server() {
    local p left
    [ -n "$srv_pid$bk_pid" ] || return 0
    left=$(srv_tree)
    # shellcheck disable=SC2086 # lists of pids
    kill -TERM $srv_pid $bk_pid 2>/dev/null
    for _ in $(seq 50); do
        for p in $srv_pid $bk_pid; do kill -0 "$p" 2>/dev/null && break; p=; done
        [ -n "$p" ] || break
        sleep 0.1
    done
    # shellcheck disable=SC2086 # lists of pids, all started by this script
    kill -KILL $srv_pid $bk_pid $left 2>/dev/null
    # shellcheck disable=SC2086
    wait $srv_pid $bk_pid 2>/dev/null
    srv_pid='' bk_pid=''
}
trap 'stop_server; exit 130' INT TERM
trap 'stop_server' EXIT

# tls_preflight SERVER...: one handshake with each TLS server, by openssl
# s_client, before any run: what it negotiated goes to meta.txt
# (tls.SERVER=PROTOCOL SUITE GROUP VERIFICATION) and to stderr. A server
# that does not start, or does not negotiate TLS 1.3 with a certificate
# that verifies, is named here (its runs then say more).
tls_preflight() {
    local sv out line
    command -v openssl >/dev/null || { say "no openssl: the negotiated suites are not checked"; return 0; }
    mkdir -p "$outdir/runs/preflight"
    for sv in "$@"; do
        is_tls "$sv" || continue
        if ! start_server "$sv" "$outdir/runs/preflight/$sv.server.log"; then
            say "preflight: $sv did not start (see $outdir/runs/preflight/$sv.server.log)"
            continue
        fi
        out=$(timeout 10 openssl s_client -brief -connect "127.0.0.1:$srv_port" -CAfile "$tls_ca" </dev/null 2>&1)
        stop_server
        line=$(printf '%s\n' "$out" | awk -F': ' '
            /^Protocol version:/ { p = $2 } /^Ciphersuite:/ { c = $2 }
            /^(Server|Peer) Temp Key:/ { split($2, k, ","); g = k[1] } /^Verification:/ { v = $2 }
            END { printf "%s %s %s verification=%s", p ? p : "?", c ? c : "?", g ? g : "?", v ? v : "?" }')
        echo "tls.$sv=$line" >>"$outdir/meta.txt"
        say "preflight: $sv negotiated $line"
        case $line in "TLSv1.3 "*"verification=OK") ;; *) say "preflight: $sv: not TLS 1.3 with a verified certificate: $(printf '%s' "$out" | tail -n 3 | tr '\n' ' ')" ;; esac
    done
}

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
    # shellcheck disable=SC2046 # the server's pids
    rss0=$(rss_kib $(srv_tree))
    comm=$(cat "/proc/$srv_pid/comm" 2>/dev/null)
    # Foreign load: CPU that neither this server nor tpbench used while the
    # run went on, in CPUs (1.0 = one core busy with something else). Runs
    # on a machine that other work keeps busy are not comparable.
    local m0 s0 w0 m1 s1 w1
    children_cpu_to "$outdir/.times0"
    # shellcheck disable=SC2046 # the server's pids
    m0=$(machine_cpu) s0=$(procs_cpu $(srv_tree)) w0=$(now_s)
    # shellcheck disable=SC2086 # args are word lists built above
    timeout "$run_limit" "$tpbench" -q --json -t "$tpb_threads" -d "$dur" -w "$warm" \
        ${tpb_poll:+--busy-poll "$tpb_poll"} $args \
        "127.0.0.1:$srv_port" >"$base.json" 2>"$base.err"
    status=$?
    children_cpu_to "$outdir/.times1"
    # shellcheck disable=SC2046 # the server's pids
    m1=$(machine_cpu) s1=$(procs_cpu $(srv_tree)) w1=$(now_s)
    foreign=$(awk -v a="$m0" -v b="$m1" -v s0="$s0" -v s1="$s1" \
        -v c0="$(children_cpu_of "$outdir/.times0")" -v c1="$(children_cpu_of "$outdir/.times1")" \
        -v w0="$w0" -v w1="$w1" 'BEGIN { printf "%.2f", ((b - a) - (s1 - s0) - (c1 - c0)) / (w1 - w0) }')
    server_cpu=$(awk -v s0="$s0" -v s1="$s1" -v w0="$w0" -v w1="$w1" 'BEGIN { printf "%.2f", (s1 - s0) / (w1 - w0) }')
    # shellcheck disable=SC2046 # the server's pids
    hwm=$(hwm_kib $(srv_tree))
    kill -0 "$srv_pid" 2>/dev/null || status="died"
    [ -z "$bk_pid" ] || kill -0 "$bk_pid" 2>/dev/null || status="backend died"
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
    # Absolute: nginx takes relative paths from its prefix, not from here.
    outdir=$(cd "$outdir" && pwd) || exit 1
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
        echo "openssl=$(openssl version 2>/dev/null)"
        echo "haproxy=$(haproxy -v 2>/dev/null | head -1)"
        echo "nginx=$(nginx -v 2>&1 | head -1)${nginx_stream:+ (stream: ${nginx_stream##*/})}"
        echo "stunnel=$(stunnel -version 2>&1 | grep -m1 '^stunnel')"
        echo "libevent=$(pkg-config --modversion libevent_openssl 2>/dev/null)"
        echo "descriptor_limit=$(ulimit -n)"
        echo "tls_idle_connections=$tls_idle_conns"
    } >"$outdir/meta.txt"
    # HAProxy's crt takes the certificate and its key in one file.
    tls_pem=$outdir/tls-server.pem
    cat "$tls_cert" "$tls_key" >"$tls_pem"
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
    # shellcheck disable=SC2086 # a word list
    tls_preflight $servers
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
