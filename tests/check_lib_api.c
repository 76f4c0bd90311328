/* SPDX-License-Identifier: MIT */
/* check_lib_api.c - integration suite of libtpserv's public surface, from
 * the contract in tpserv.h: option ranges and EBUSY after start, listen spec
 * errors, the error/reason/stat/level tables, peer formatting, unique
 * connection ids, on_open rejection, close reasons, tps_conn_send on a
 * closing connection, SIGPIPE safety and exact byte counters. */
#include "config.h" /* _GNU_SOURCE: SCHED_BATCH, SCHED_IDLE */

#include "suites.h"
#include "testutil.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static void echo_ok(int fd)
{
    int rc = tu_echo_roundtrip(fd, "hello", 5, tu_scale(5000, 20000));
    ck_assert_msg(rc == 0, "echo: %d (%s)", rc, strerror(-rc));
}

/* "MAX_CONNS" -> "max_conns" */
static void lower(const char *in, char *out, size_t len)
{
    size_t i = 0;
    for (; in[i] != '\0' && i + 1 < len; i++)
        out[i] = (char)tolower((unsigned char)in[i]);
    out[i] = '\0';
}

/* ---- options ------------------------------------------------------------ */

static const struct {
    const char *name;
    long long def, min, max;
} opt_info[] = {
#define OPT_INFO_(n, d, lo, hi, desc) {#n, d, lo, hi},
    TPS_OPTION_MAP(OPT_INFO_)
#undef OPT_INFO_
};

START_TEST(test_api_option_ranges)
{
    tps_server *srv = NULL;
    ck_assert_int_eq(tps_server_new(&srv), 0);
    for (int i = 0; i < TPS_OPT_COUNT_; i++) {
        enum tps_option o = (enum tps_option)i;
        char want[64];
        lower(opt_info[i].name, want, sizeof want);
        ck_assert_ptr_nonnull(tps_option_name(o));
        ck_assert_str_eq(tps_option_name(o), want);
        ck_assert_ptr_nonnull(tps_option_desc(o));
        ck_assert_int_eq(tu_get(srv, o), opt_info[i].def);
        ck_assert_msg(tps_server_set(srv, o, opt_info[i].min - 1) == TPS_ERANGE,
                      "%s: min-1 accepted", want);
        ck_assert_msg(tps_server_set(srv, o, opt_info[i].max + 1) == TPS_ERANGE,
                      "%s: max+1 accepted", want);
        ck_assert_int_eq(tu_get(srv, o), opt_info[i].def);
        ck_assert_int_eq(tps_server_set(srv, o, opt_info[i].max), 0);
        ck_assert_int_eq(tu_get(srv, o), opt_info[i].max);
        ck_assert_int_eq(tps_server_set(srv, o, opt_info[i].min), 0);
        ck_assert_int_eq(tu_get(srv, o), opt_info[i].min);
        ck_assert_int_eq(tps_server_set(srv, o, opt_info[i].def), 0);
    }
    ck_assert_int_eq(tps_server_set(srv, TPS_OPT_COUNT_, 1), TPS_EINVAL);
    long long untouched = 42; /* an error is a code, never a value */
    ck_assert_int_eq(tps_server_get(srv, TPS_OPT_COUNT_, &untouched), TPS_EINVAL);
    ck_assert_int_eq(tps_server_get(srv, (enum tps_option) - 1, &untouched), TPS_EINVAL);
    ck_assert_int_eq(tps_server_get(srv, TPS_OPT_QUEUE, NULL), TPS_EINVAL);
    ck_assert_int_eq(untouched, 42);
    ck_assert_int_eq(tps_server_set(srv, (enum tps_option) - 1, 1), TPS_EINVAL);
    ck_assert_ptr_null(tps_option_name(TPS_OPT_COUNT_));
    ck_assert_int_eq(tps_server_set_handler_size(srv, NULL, sizeof(tps_handler), NULL), TPS_EINVAL);
    ck_assert_int_eq(tps_server_start(srv), TPS_EINVAL); /* no listener */
    ck_assert_int_eq(tps_server_wait(srv), TPS_EINVAL);  /* never started */
    tps_server_free(srv);
    tps_server_free(NULL);
}
END_TEST

START_TEST(test_api_busy_after_start)
{
    tps_server *srv = tu_server_start(NULL, NULL, NULL, NULL, NULL);
    ck_assert_int_eq(tps_server_set(srv, TPS_OPT_QUEUE, 5), TPS_EBUSY);
    ck_assert_int_eq(tu_get(srv, TPS_OPT_QUEUE), 1024);
    ck_assert_int_eq(tps_server_set_handler(srv, &tps_echo_handler, NULL), TPS_EBUSY);
    ck_assert_int_eq(tps_server_start(srv), TPS_EALREADY);
    ck_assert_int_gt(tu_get(srv, TPS_OPT_WORKERS), 0);   /* resolved */
    ck_assert_int_gt(tu_get(srv, TPS_OPT_MAX_CONNS), 0); /* resolved */
    int fd = tu_connect(tu_port(srv, 0), 0);
    echo_ok(fd); /* the default handler is echo */
    close(fd);
    tps_server_free(srv);
}
END_TEST

/* ---- listen specs ----------------------------------------------------------- */

START_TEST(test_api_listen_errors)
{
    tps_server *srv = NULL;
    ck_assert_int_eq(tps_server_new(&srv), 0);
    static const char *bad[] = {"nonsense", "1.2.3.4:99999", "host:",  ":abc",
                                "",         "127.0.0.1:-1",  "[::1:80"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = tps_server_listen(srv, bad[i]);
        ck_assert_msg(rc == TPS_EINVAL, "listen \"%s\": %s, want EINVAL", bad[i], tps_err_name(rc));
    }
    ck_assert_uint_eq(tps_server_listener_count(srv), 0);

    int ls = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    ck_assert_int_eq(bind(ls, (struct sockaddr *)&a, sizeof a), 0);
    ck_assert_int_eq(listen(ls, 1), 0);
    ck_assert_int_eq(getsockname(ls, (struct sockaddr *)&a, &al), 0);
    char spec[64];
    snprintf(spec, sizeof spec, "127.0.0.1:%d", ntohs(a.sin_port));
    ck_assert_int_eq(tps_server_listen(srv, spec), TPS_EADDRINUSE);
    ck_assert_uint_eq(tps_server_listener_count(srv), 0);
    close(ls);

    ck_assert_int_eq(tps_server_listen(srv, "127.0.0.1:0"), 0);
    ck_assert_uint_eq(tps_server_listener_count(srv), 1);
    char addr[64], want[64];
    ck_assert_int_eq(tps_server_address(srv, 0, addr, sizeof addr), 0);
    snprintf(want, sizeof want, "127.0.0.1:%d", tu_port(srv, 0));
    ck_assert_str_eq(addr, want);
    ck_assert_int_lt(tps_server_address(srv, 1, addr, sizeof addr), 0);
    tps_server_free(srv);
}
END_TEST

/* ---- tables ----------------------------------------------------------------- */

START_TEST(test_api_error_tables)
{
#define CHECK_ERR_(n, v, m)               \
    ck_assert_str_eq(tps_strerror(v), m); \
    ck_assert_str_eq(tps_err_name(v), #n);
    TPS_ERRNO_MAP(CHECK_ERR_)
#undef CHECK_ERR_
    ck_assert_str_eq(tps_strerror(424242), "unknown error");
    ck_assert_str_eq(tps_err_name(424242), "UNKNOWN");
#define CHECK_REASON_(n, m) ck_assert_str_eq(tps_close_reason_str(TPS_CLOSE_##n), m);
    TPS_CLOSE_REASON_MAP(CHECK_REASON_)
#undef CHECK_REASON_
    static const char *levels[] = {"error", "warn", "info", "debug"};
    for (int i = 0; i < 4; i++) {
        ck_assert_str_eq(tps_log_level_name(i), levels[i]);
        ck_assert_int_eq(tps_log_level_parse(levels[i]), i);
    }
    ck_assert_int_eq(tps_log_level_parse("loud"), TPS_EINVAL);
    static const char *stats[] = {
#define STAT_NAME_(n, d) #n,
        TPS_STAT_MAP(STAT_NAME_)
#undef STAT_NAME_
    };
    for (int i = 0; i < TPS_STAT_COUNT_; i++) {
        char want[64];
        lower(stats[i], want, sizeof want);
        ck_assert_ptr_nonnull(tps_stat_name((enum tps_stat)i));
        ck_assert_str_eq(tps_stat_name((enum tps_stat)i), want);
        ck_assert_ptr_nonnull(tps_stat_desc((enum tps_stat)i));
    }
    ck_assert_ptr_null(tps_stat_name(TPS_STAT_COUNT_));
    ck_assert_str_eq(tps_version(), "0.1.0");
}
END_TEST

/* ---- a handler that records per-connection facts ----------------------------- */

static pthread_mutex_t rec_mu = PTHREAD_MUTEX_INITIALIZER;
static char rec_peer[80];
static int rec_small_rc;
static uint64_t rec_ids[128];
static unsigned rec_nids;
static atomic_int rec_opens, rec_closes, rec_after_close_rc;
static atomic_int rec_reasons[TPS_CLOSE_REASON_COUNT_];
static atomic_int reject_odd; /* on_open rejects every second connection */

static void rec_reset(void)
{
    pthread_mutex_lock(&rec_mu);
    rec_peer[0] = '\0';
    rec_small_rc = 0;
    rec_nids = 0;
    pthread_mutex_unlock(&rec_mu);
    atomic_store(&rec_opens, 0);
    atomic_store(&rec_closes, 0);
    atomic_store(&rec_after_close_rc, 1);
    atomic_store(&reject_odd, 0);
    for (int i = 0; i < TPS_CLOSE_REASON_COUNT_; i++)
        atomic_store(&rec_reasons[i], 0);
}

static int rec_on_open(tps_conn *c)
{
    int n = atomic_fetch_add(&rec_opens, 1);
    char small[4];
    pthread_mutex_lock(&rec_mu);
    tps_conn_peer(c, rec_peer, sizeof rec_peer);
    rec_small_rc = tps_conn_peer(c, small, sizeof small);
    if (rec_nids < 128)
        rec_ids[rec_nids++] = tps_conn_id(c);
    pthread_mutex_unlock(&rec_mu);
    return atomic_load(&reject_odd) && n % 2 == 1 ? -1 : 0;
}

/* 'q' first: close by returning <0. 'c' first: send "x", close, then try to
 * send more. 's' first: stream 256 KiB per turn. Otherwise echo. */
static long rec_on_data(tps_conn *c, const char *data, size_t len)
{
    switch (data[0]) {
    case 'q':
        return -1;
    case 'c':
        tps_conn_send(c, "x", 1);
        tps_conn_close(c);
        atomic_store(&rec_after_close_rc, tps_conn_send(c, "y", 1));
        return (long)len;
    case 's':
        tps_conn_set_data(c, (void *)1);
        tps_conn_send(c, tu_pattern(), 262144);
        return (long)len;
    default:
        tps_conn_send(c, data, len);
        return (long)len;
    }
}

static void rec_on_writable(tps_conn *c)
{
    if (tps_conn_get_data(c) != NULL)
        tps_conn_send(c, tu_pattern(), 262144);
}

static void rec_on_close(tps_conn *c, int reason)
{
    atomic_fetch_add(&rec_closes, 1);
    if (reason >= 0 && reason < TPS_CLOSE_REASON_COUNT_)
        atomic_fetch_add(&rec_reasons[reason], 1);
}

static const tps_handler rec_handler = {
    .name = "rec",
    .on_open = rec_on_open,
    .on_data = rec_on_data,
    .on_writable = rec_on_writable,
    .on_close = rec_on_close,
};

static void peer_is(const char *want)
{
    pthread_mutex_lock(&rec_mu);
    char got[80];
    snprintf(got, sizeof got, "%s", rec_peer);
    int small = rec_small_rc;
    pthread_mutex_unlock(&rec_mu);
    ck_assert_str_eq(got, want);
    ck_assert_msg(small == TPS_ENOBUFS, "tps_conn_peer into 4 bytes: %s", tps_err_name(small));
}

START_TEST(test_api_conn_peer)
{
    rec_reset();
    char path[64], spec[80], want[80];
    snprintf(path, sizeof path, "/tmp/tps-check-api-%d.sock", (int)getpid());
    snprintf(spec, sizeof spec, "unix:%s", path);
    tps_server *srv = tu_server_new(&rec_handler, NULL, NULL, NULL);
    ck_assert_int_eq(tps_server_listen(srv, "127.0.0.1:0"), 0);
    ck_assert_int_eq(tps_server_listen(srv, spec), 0);
    int v6 = tps_server_listen(srv, "[::1]:0") == 0;
    ck_assert_int_eq(tps_server_start(srv), 0);

    int fd = tu_connect(tu_port(srv, 0), 0);
    struct sockaddr_in me;
    socklen_t ml = sizeof me;
    getsockname(fd, (struct sockaddr *)&me, &ml);
    echo_ok(fd);
    snprintf(want, sizeof want, "127.0.0.1:%d", ntohs(me.sin_port));
    peer_is(want);
    close(fd);

    fd = tu_connect_unix(path, 0);
    ck_assert_int_ge(fd, 0);
    echo_ok(fd);
    peer_is("unix");
    close(fd);

    if (v6) {
        fd = tu_connect_host("::1", tu_port(srv, 2), 0);
        ck_assert_int_ge(fd, 0);
        struct sockaddr_in6 me6;
        socklen_t l6 = sizeof me6;
        getsockname(fd, (struct sockaddr *)&me6, &l6);
        echo_ok(fd);
        snprintf(want, sizeof want, "[::1]:%d", ntohs(me6.sin6_port));
        peer_is(want);
        close(fd);
    }
    tps_server_free(srv);
    unlink(path);
}
END_TEST

START_TEST(test_api_conn_ids_unique)
{
    rec_reset();
    tps_server *srv = tu_server_start(&rec_handler, NULL, NULL, NULL, NULL);
    int port = tu_port(srv, 0);
    /* Sequential connections reuse slots: the generation must differ. */
    for (int i = 0; i < 40; i++) {
        int fd = tu_connect(port, 0);
        echo_ok(fd);
        close(fd);
        tu_wait_stat(srv, TPS_STAT_CLOSED, (uint64_t)i + 1, 3000);
    }
    int fds[20];
    for (int i = 0; i < 20; i++) {
        fds[i] = tu_connect(port, 0);
        echo_ok(fds[i]);
    }
    for (int i = 0; i < 20; i++)
        close(fds[i]);
    pthread_mutex_lock(&rec_mu);
    unsigned n = rec_nids, dups = 0;
    for (unsigned i = 0; i < n; i++)
        for (unsigned j = i + 1; j < n; j++)
            dups += rec_ids[i] == rec_ids[j];
    pthread_mutex_unlock(&rec_mu);
    ck_assert_uint_eq(n, 60);
    ck_assert_msg(dups == 0, "%u duplicate connection ids among %u", dups, n);
    tps_server_free(srv);
}
END_TEST

/* ---- open, close, send after close ------------------------------------------ */

START_TEST(test_api_on_open_rejects)
{
    rec_reset();
    atomic_store(&reject_odd, 1);
    tps_server *srv = tu_server_start(tu_mode(&rec_handler, _i), NULL, NULL, NULL, NULL);
    for (int i = 0; i < 4; i++) {
        int fd = tu_connect(tu_port(srv, 0), 0);
        if (i % 2 == 0) {
            echo_ok(fd);
        } else {
            int err = 0;
            long n = tu_drain(fd, 3000, &err);
            ck_assert_msg(n == 0 && (err == 0 || err == -ECONNRESET),
                          "rejected by on_open: %ld bytes, %s", n, strerror(-err));
        }
        close(fd);
        tu_wait_stat(srv, TPS_STAT_CLOSED, (uint64_t)i + 1, 3000);
    }
    ck_assert_uint_eq(tu_wait_stat(srv, TPS_STAT_REJECTED_HANDLER, 2, 3000), 2);
    tu_wait_stat_le(srv, TPS_STAT_ACTIVE, 0, 3000);
    ck_assert_int_eq(atomic_load(&rec_closes), 2); /* not for rejected */
    tps_server_free(srv);
}
END_TEST

START_TEST(test_api_close_reasons_and_send_after_close)
{
    rec_reset();
    tps_server *srv = tu_server_start(tu_mode(&rec_handler, _i), NULL, NULL, NULL, NULL);
    int port = tu_port(srv, 0);

    int fd = tu_connect(port, 0); /* handler returns <0 */
    ck_assert_int_eq(tu_write_all(fd, "q", 1, 1000), 0);
    int err = 0;
    tu_drain(fd, 3000, &err);
    ck_assert_msg(err == 0 || err == -ECONNRESET, "q: %s", strerror(-err));
    close(fd);

    fd = tu_connect(port, 0); /* tps_conn_close after a send */
    ck_assert_int_eq(tu_write_all(fd, "c", 1, 1000), 0);
    char got[8];
    size_t n = 0;
    long r = tu_read_exact(fd, got, sizeof got, 3000, &n);
    ck_assert_msg(r == 1 && got[0] == 'x', "after tps_conn_close: read %ld (want \"x\" then EOF)",
                  r);
    close(fd);
    ck_assert_int_eq(atomic_load(&rec_after_close_rc), TPS_ENOTCONN);

    fd = tu_connect(port, 0); /* peer closes */
    echo_ok(fd);
    close(fd);
    tu_wait_stat(srv, TPS_STAT_CLOSED, 3, 3000);
    ck_assert_int_eq(atomic_load(&rec_reasons[TPS_CLOSE_HANDLER]), 2);
    ck_assert_int_eq(atomic_load(&rec_reasons[TPS_CLOSE_PEER]), 1);
    ck_assert_int_eq(atomic_load(&rec_closes), 3);
    tps_server_free(srv);
}
END_TEST

/* A peer that resets is a client going away, not a socket error: on_close
 * gets TPS_CLOSE_RESET and RESETS counts it, whether the server learns it
 * reading (an idle connection) or writing (output pending). */
START_TEST(test_api_peer_reset)
{
    rec_reset();
    tps_server *srv = tu_server_start(tu_mode(&rec_handler, _i), NULL, NULL, NULL, NULL);
    int port = tu_port(srv, 0);
    int fd = tu_connect(port, 0);
    echo_ok(fd);
    tu_close_rst(fd);
    fd = tu_connect_rcvbuf(port, 8192, 0); /* 's': the server keeps sending */
    ck_assert_int_eq(tu_write_all(fd, "s", 1, 1000), 0);
    tu_sleep_ms(200); /* both socket buffers full, the rest queued */
    tu_close_rst(fd);
    ck_assert_uint_eq(tu_wait_stat(srv, TPS_STAT_RESETS, 2, 3000), 2);
    ck_assert_uint_eq(tu_wait_stat(srv, TPS_STAT_CLOSED, 2, 3000), 2);
    ck_assert_int_eq(atomic_load(&rec_reasons[TPS_CLOSE_RESET]), 2);
    ck_assert_int_eq(atomic_load(&rec_reasons[TPS_CLOSE_ERROR]), 0);
    ck_assert_uint_eq(tps_server_stat(srv, TPS_STAT_ERRORS), 0);
    tps_server_free(srv);
}
END_TEST

/* ---- SIGPIPE and counters ----------------------------------------------------- */

START_TEST(test_api_no_sigpipe)
{
    struct sigaction sa;
    sigaction(SIGPIPE, NULL, &sa);
    if (sa.sa_handler != SIG_DFL) { /* an inherited SIG_IGN would hide bugs */
        signal(SIGPIPE, SIG_DFL);
        sigaction(SIGPIPE, NULL, &sa);
    }
    ck_assert_msg(sa.sa_handler == SIG_DFL, "SIGPIPE must be at default");
    rec_reset();
    tps_server *srv = tu_server_start(tu_mode(&rec_handler, _i), NULL, NULL, NULL, NULL);
    int port = tu_port(srv, 0);
    for (int i = 0; i < 20; i++) {
        int fd = tu_connect(port, 0);
        char buf[16384];
        ck_assert_int_eq(tu_write_all(fd, "s", 1, 1000), 0);
        ck_assert_int_eq(tu_read_exact(fd, buf, sizeof buf, 3000, NULL), (long)sizeof buf);
        tu_close_rst(fd); /* the server is still writing */
    }
    tu_wait_stat(srv, TPS_STAT_CLOSED, 20, 5000);
    tu_sleep_ms(100);
    int fd = tu_connect(port, 0);
    echo_ok(fd); /* still alive and serving */
    close(fd);
    ck_assert_uint_eq(tu_wait_stat(srv, TPS_STAT_CLOSED, 21, 3000), 21);
    /* counters are consistent one by one, not across: wait for each */
    ck_assert_uint_eq(tu_wait_stat_le(srv, TPS_STAT_ACTIVE, 0, 3000), 0);
    tps_server_free(srv);
}
END_TEST

START_TEST(test_api_byte_counters_exact)
{
    tps_server *srv = tu_server_start(tu_mode(&tps_echo_handler, _i), NULL, NULL, NULL, NULL);
    int fd = tu_connect(tu_port(srv, 0), 0);
    const size_t n = 100000;
    char *back = malloc(n);
    ck_assert_int_eq(tu_write_all(fd, tu_pattern(), n, 5000), 0);
    ck_assert_int_eq(tu_read_exact(fd, back, n, 5000, NULL), (long)n);
    ck_assert_mem_eq(back, tu_pattern(), n);
    close(fd);
    ck_assert_uint_eq(tu_wait_stat(srv, TPS_STAT_CLOSED, 1, 3000), 1);
    ck_assert_uint_eq(tu_wait_stat(srv, TPS_STAT_ACCEPTED, 1, 3000), 1);
    /* counters are consistent one by one, not across: wait for each */
    ck_assert_uint_eq(tu_wait_stat_le(srv, TPS_STAT_ACTIVE, 0, 3000), 0);
    ck_assert_uint_eq(tu_wait_stat(srv, TPS_STAT_BYTES_IN, n, 3000), n);
    ck_assert_uint_eq(tu_wait_stat(srv, TPS_STAT_BYTES_OUT, n, 3000), n);
    free(back);
    tps_server_free(srv);
}
END_TEST

/* TPS_OPT_DEFER_ACCEPT_MS: a connected client that has sent nothing is
 * not accepted yet; one that speaks is accepted and served at once. */
START_TEST(test_api_defer_accept)
{
    const tu_opt opts[] = {{TPS_OPT_WORKERS, 1}, {TPS_OPT_DEFER_ACCEPT_MS, 30000}, TU_OPT_END};
    tps_server *srv = tu_server_start(tu_mode(&tps_echo_handler, _i), NULL, opts, NULL, NULL);
    int silent = tu_connect(tu_port(srv, 0), 0);
    int fd = tu_connect(tu_port(srv, 0), 0);
    tu_sleep_ms(300);
    ck_assert_uint_eq(tps_server_stat(srv, TPS_STAT_ACCEPTED), 0);
    ck_assert_int_eq(tu_echo_roundtrip(fd, "spoke\n", 6, 3000), 0);
    ck_assert_uint_eq(tps_server_stat(srv, TPS_STAT_ACCEPTED), 1);
    close(fd);
    tu_close_rst(silent); /* a FIN would count as speaking */
    tps_server_free(srv);
}
END_TEST

/* TPS_OPT_BUSY_POLL_US: after a message the worker polls instead of
 * sleeping (the process burns CPU while the test sleeps); a connection
 * accepted meanwhile is served at once, not when the poll gives up; the
 * poll ends at the next timer (the idle timeout closes on time, not after
 * the budget); and a stop ends it. */
START_TEST(test_api_busy_poll)
{
    const tu_opt opts[] = {{TPS_OPT_WORKERS, 1},
                           {TPS_OPT_BUSY_POLL_US, 1000000},
                           {TPS_OPT_IDLE_TIMEOUT_MS, 600},
                           TU_OPT_END};
    tps_server *srv = tu_server_start(tu_mode(&tps_echo_handler, _i), NULL, opts, NULL, NULL);
    int a = tu_connect(tu_port(srv, 0), 0);
    ck_assert_int_eq(tu_echo_roundtrip(a, "a\n", 2, 3000), 0);
    int64_t t0 = tu_now_us(), cpu0 = tu_cpu_us();
    tu_sleep_ms(100);
    int64_t spun = tu_cpu_us() - cpu0;
    ck_assert_msg(spun >= 20000, "%lld us of CPU in 100 ms: the worker slept", (long long)spun);

    int b = tu_connect(tu_port(srv, 0), 0);
    int64_t t1 = tu_now_us();
    ck_assert_int_eq(tu_echo_roundtrip(b, "b\n", 2, 3000), 0);
    int64_t took = tu_now_us() - t1;
    ck_assert_msg(took < tu_scale(150000, 300000), "served after %lld us", (long long)took);

    ck_assert_int_eq(tu_wait_eof(a, 3000), 0);
    took = tu_now_us() - t0;
    ck_assert_msg(took < tu_scale(1100000, 2000000), "idle close after %lld us, expected ~600 ms",
                  (long long)took);
    t1 = tu_now_us();
    tps_server_free(srv);
    took = tu_now_us() - t1;
    ck_assert_msg(took < tu_scale(500000, 1500000), "stop took %lld us", (long long)took);
    close(a);
    close(b);
}
END_TEST

/* ---- framing: leftovers come back first, extended -------------------------- */

static atomic_int frame_bad_ud, frame_calls;
static int frame_ud_target;

/* Says "hi\n" at open; then answers each complete line with "<line>!\n"
 * and leaves a partial line buffered. */
static int frame_on_open(tps_conn *c)
{
    if (tps_conn_handler_data(c) != &frame_ud_target)
        atomic_fetch_add(&frame_bad_ud, 1);
    return tps_conn_send(c, "hi\n", 3);
}

static long frame_on_data(tps_conn *c, const char *data, size_t len)
{
    atomic_fetch_add(&frame_calls, 1);
    size_t used = 0;
    for (size_t i = 0; i < len; i++) {
        if (data[i] != '\n')
            continue;
        tps_conn_send(c, data + used, i - used);
        tps_conn_send(c, "!\n", 2);
        used = i + 1;
    }
    return (long)used;
}

static const tps_handler frame_handler = {
    .name = "frame",
    .on_open = frame_on_open,
    .on_data = frame_on_data,
};

START_TEST(test_api_framing_leftovers)
{
    atomic_store(&frame_bad_ud, 0);
    atomic_store(&frame_calls, 0);
    tps_server *srv = tu_server_start(&frame_handler, &frame_ud_target, NULL, NULL, NULL);
    int fd = tu_connect(tu_port(srv, 0), 0);
    char got[64];
    ck_assert_int_eq(tu_read_exact(fd, got, 3, 3000, NULL), 3);
    ck_assert_mem_eq(got, "hi\n", 3); /* on_open may send */
    static const char *parts[] = {"ab", "c\nde", "f", "\n"};
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(tu_write_all(fd, parts[i], strlen(parts[i]), 1000), 0);
        tu_sleep_ms(30); /* separate reads on the server */
    }
    const char *want = "abc!\ndef!\n";
    long r = tu_read_exact(fd, got, strlen(want), 3000, NULL);
    ck_assert_int_eq(r, (long)strlen(want));
    ck_assert_mem_eq(got, want, strlen(want));
    ck_assert_int_ge(atomic_load(&frame_calls), 3);
    ck_assert_int_eq(atomic_load(&frame_bad_ud), 0);
    close(fd);
    tps_server_free(srv);
}
END_TEST

/* A line longer than MAX_INPUT can never be consumed: INPUT_LIMIT. */
START_TEST(test_api_framing_input_limit)
{
    const tu_opt opts[] = {{TPS_OPT_MAX_INPUT, 1024}, TU_OPT_END};
    tps_server *srv = tu_server_start(&frame_handler, &frame_ud_target, opts, NULL, NULL);
    int fd = tu_connect(tu_port(srv, 0), 0);
    char buf[4096];
    memset(buf, 'a', sizeof buf);
    tu_write_all(fd, buf, sizeof buf, 2000); /* may fail once closed */
    int err = 0;
    long n = tu_drain(fd, 3000, &err);
    ck_assert_msg(n == 3 && (err == 0 || err == -ECONNRESET), "over-long line: %ld bytes then %s",
                  n, strerror(-err));
    ck_assert_uint_eq(tu_wait_stat(srv, TPS_STAT_INPUT_LIMIT, 1, 2000), 1);
    close(fd);
    tps_server_free(srv);
}
END_TEST

/* ---- other listener kinds ------------------------------------------------------ */

START_TEST(test_api_listen_fd)
{
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    ck_assert_int_eq(bind(ls, (struct sockaddr *)&a, sizeof a), 0);
    ck_assert_int_eq(listen(ls, 16), 0);
    ck_assert_int_eq(getsockname(ls, (struct sockaddr *)&a, &al), 0);
    tps_server *srv = tu_server_new(NULL, NULL, NULL, NULL);
    ck_assert_int_eq(tps_server_listen_fd(srv, ls), 0);
    ck_assert_int_eq(tps_server_port(srv, 0), ntohs(a.sin_port));
    ck_assert_int_eq(tps_server_start(srv), 0);
    int fd = tu_connect(ntohs(a.sin_port), 0);
    echo_ok(fd);
    close(fd);
    tps_server_free(srv); /* closes ls: the server owns it */
    ck_assert_int_eq(tu_connect_host("127.0.0.1", ntohs(a.sin_port), 0), -ECONNREFUSED);
    int pipefd[2];
    ck_assert_int_eq(pipe(pipefd), 0);
    ck_assert_int_eq(tps_server_new(&srv), 0);
    int rc = tps_server_listen_fd(srv, pipefd[0]);
    ck_assert_msg(rc == TPS_ENOTSOCK, "listen_fd(pipe): %s", tps_err_name(rc));
    tps_server_free(srv);
    close(pipefd[1]);
}
END_TEST

START_TEST(test_api_unix_stale_replaced)
{
    char path[64], spec[80];
    snprintf(path, sizeof path, "/tmp/tps-check-stale-%d.sock", (int)getpid());
    snprintf(spec, sizeof spec, "unix:%s", path);
    unlink(path);
    int old = tu_connect_unix(path, 0); /* nothing there yet */
    ck_assert_int_lt(old, 0);
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    strcpy(sun.sun_path, path);
    old = socket(AF_UNIX, SOCK_STREAM, 0);
    ck_assert_int_eq(bind(old, (struct sockaddr *)&sun, sizeof sun), 0);
    close(old); /* leaves a stale socket file */
    tps_server *srv = tu_server_start(NULL, NULL, NULL, NULL, spec);
    int fd = tu_connect_unix(path, 0);
    ck_assert_msg(fd >= 0, "connect %s: %s", path, strerror(-fd));
    echo_ok(fd);
    close(fd);
    tps_server_free(srv);
    unlink(path);
}
END_TEST

START_TEST(test_api_wildcard_dual_stack)
{
    tps_server *srv = tu_server_new(NULL, NULL, NULL, NULL);
    int rc = tps_server_listen(srv, ":0");
    ck_assert_msg(rc == 0, "listen :0: %s", tps_err_name(rc));
    ck_assert_int_eq(tps_server_start(srv), 0);
    int port = tu_port(srv, 0);
    int fd = tu_connect(port, 0);
    echo_ok(fd);
    close(fd);
    fd = tu_connect_host("::1", port, 0);
    if (fd >= 0) {
        echo_ok(fd);
        close(fd);
    } else {
        fprintf(stderr, "wildcard: no ::1 here (%s)\n", strerror(-fd));
    }
    tps_server_free(srv);
}
END_TEST

/* ---- histograms ---------------------------------------------------------- */

/* Echo; a message starting with 'S' takes 20 ms in on_data. */
static long slow_s_on_data(tps_conn *c, const char *data, size_t len)
{
    if (data[0] == 'S')
        tu_sleep_ms(20);
    tps_conn_send(c, data, len);
    return (long)len;
}

static const tps_handler slow_s_handler = {.name = "slow-s", .on_data = slow_s_on_data};

/* 100 fast on_data calls and 5 of 20 ms: the handler histogram holds all
 * 105, its median is fast and its p99 and max are the slow ones (within
 * the ~3% bucket error); queue wait counts each accepted connection. */
START_TEST(test_api_histograms)
{
    const tu_opt opts[] = {{TPS_OPT_WORKERS, 2}, TU_OPT_END};
    tps_server *srv = tu_server_start(&slow_s_handler, NULL, opts, NULL, NULL);
    ck_assert_uint_eq(tps_server_hist_count(srv, TPS_HIST_HANDLER), 0);
    ck_assert_uint_eq(tps_server_hist_pct(srv, TPS_HIST_HANDLER, 50), 0);
    for (int k = 0; k < 3; k++) {
        int fd = tu_connect(tu_port(srv, 0), 0);
        for (int i = 0; i < (k == 0 ? 100 : 0); i++)
            ck_assert_int_eq(tu_echo_roundtrip(fd, "f", 1, 3000), 0);
        for (int i = 0; i < (k == 1 ? 5 : 0); i++)
            ck_assert_int_eq(tu_echo_roundtrip(fd, "S", 1, 3000), 0);
        close(fd);
    }
    tu_wait_stat(srv, TPS_STAT_CLOSED, 3, 3000);
    uint64_t n = tps_server_hist_count(srv, TPS_HIST_HANDLER);
    uint64_t p50 = tps_server_hist_pct(srv, TPS_HIST_HANDLER, 50);
    uint64_t p99 = tps_server_hist_pct(srv, TPS_HIST_HANDLER, 99);
    uint64_t max = tps_server_hist_pct(srv, TPS_HIST_HANDLER, 100);
    fprintf(stderr, "histograms: handler n %llu p50 %llu ns p99 %llu ns max %llu ns\n",
            (unsigned long long)n, (unsigned long long)p50, (unsigned long long)p99,
            (unsigned long long)max);
    ck_assert_uint_eq(n, 105);
    ck_assert_uint_lt(p50, 5000000);
    ck_assert_uint_ge(p99, 19000000);
    ck_assert_uint_ge(max, 20000000);
    ck_assert_uint_lt(max, 2000000000);
    ck_assert_uint_le(p99, max);
    ck_assert_uint_eq(tps_server_hist_count(srv, TPS_HIST_QUEUE_WAIT), 3);
    ck_assert_uint_gt(tps_server_hist_pct(srv, TPS_HIST_QUEUE_WAIT, 100), 0);
    ck_assert_uint_eq(tps_server_hist_count(srv, TPS_HIST_COUNT_), 0);
    ck_assert_uint_eq(tps_server_hist_pct(NULL, TPS_HIST_HANDLER, 50), 0);
    ck_assert_str_eq(tps_hist_name(TPS_HIST_QUEUE_WAIT), "queue_wait");
    ck_assert_str_eq(tps_hist_name(TPS_HIST_HANDLER), "handler");
    ck_assert_ptr_null(tps_hist_name(TPS_HIST_COUNT_));
    tps_server_free(srv);
}
END_TEST

/* The scheduling policy of this process's thread named name, or -1. */
static int thread_policy(const char *name)
{
    DIR *d = opendir("/proc/self/task");
    ck_assert_ptr_nonnull(d);
    int policy = -1;
    for (struct dirent *e; policy < 0 && (e = readdir(d)) != NULL;) {
        char path[300], comm[32] = "";
        snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
        FILE *f = fopen(path, "r");
        if (f == NULL)
            continue;
        if (fgets(comm, sizeof(comm), f) != NULL && strncmp(comm, name, strlen(name)) == 0 &&
            comm[strlen(name)] == '\n')
            policy = sched_getscheduler((pid_t)atoi(e->d_name));
        fclose(f);
    }
    closedir(d);
    return policy;
}

/* The acceptor runs SCHED_BATCH (it must not preempt a worker) when the
 * thread that starts the server is SCHED_OTHER; a host that chose another
 * policy (here SCHED_IDLE, which needs no privilege) keeps it. The
 * acceptor sets its policy before it names itself, so once the name shows,
 * the policy holds. */
START_TEST(test_api_acceptor_policy)
{
    int host = _i ? SCHED_IDLE : SCHED_OTHER, want = _i ? SCHED_IDLE : SCHED_BATCH;
    struct sched_param sp = {.sched_priority = 0};
    ck_assert_int_eq(pthread_setschedparam(pthread_self(), host, &sp), 0);
    tps_server *srv = tu_server_start(NULL, NULL, NULL, NULL, NULL);
    int got = -1; /* the thread names itself when it runs */
    for (int64_t end = tu_now_us() + 2000000; got < 0 && tu_now_us() < end; tu_sleep_ms(1))
        got = thread_policy("tps-accept");
    ck_assert_int_eq(pthread_setschedparam(pthread_self(), SCHED_OTHER, &sp), 0);
    ck_assert_msg(got == want, "acceptor policy %d, want %d (host %d)", got, want, host);
    int fd = tu_connect(tu_port(srv, 0), 0);
    echo_ok(fd);
    close(fd);
    tps_server_free(srv);
}
END_TEST

Suite *lib_api_suite(void)
{
    Suite *s = suite_create("lib_api");
    TCase *tc = tcase_create("config");
    tcase_set_timeout(tc, tu_timeout(10));
    tcase_add_test(tc, test_api_option_ranges);
    tcase_add_test(tc, test_api_busy_after_start);
    tcase_add_test(tc, test_api_listen_errors);
    tcase_add_test(tc, test_api_error_tables);
    tcase_add_test(tc, test_api_listen_fd);
    tcase_add_test(tc, test_api_unix_stale_replaced);
    tcase_add_test(tc, test_api_wildcard_dual_stack);
    suite_add_tcase(s, tc);

    tc = tcase_create("conns");
    tcase_set_timeout(tc, tu_timeout(20));
    tcase_add_test(tc, test_api_conn_peer);
    tcase_add_test(tc, test_api_conn_ids_unique);
    tcase_add_loop_test(tc, test_api_on_open_rejects, 0, 2);
    tcase_add_loop_test(tc, test_api_close_reasons_and_send_after_close, 0, 2);
    tcase_add_loop_test(tc, test_api_peer_reset, 0, 2);
    tcase_add_loop_test(tc, test_api_no_sigpipe, 0, 2);
    tcase_add_loop_test(tc, test_api_byte_counters_exact, 0, 2);
    tcase_add_loop_test(tc, test_api_defer_accept, 0, 2);
    tcase_add_loop_test(tc, test_api_busy_poll, 0, 2);
    tcase_add_test(tc, test_api_framing_leftovers);
    tcase_add_test(tc, test_api_framing_input_limit);
    tcase_add_test(tc, test_api_histograms);
    tcase_add_loop_test(tc, test_api_acceptor_policy, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}
