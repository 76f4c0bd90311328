/* SPDX-License-Identifier: MIT */
/* check_lib_limits.c - integration suite of libtpserv's bounds, from the
 * contract in tpserv.h: accept queue full (reject or hold), max connections
 * total and per source address, idle and send timeouts (and a connection
 * accepted while a timeout's on_close keeps the worker busy), input and
 * output limits, and running out of descriptors (EMFILE) without a busy
 * loop. Each test starts its own server and checks both what the client
 * sees and the matching statistic and close reason. */
#include "testhandlers.h"
#include "suites.h"
#include "testutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- a handler that records what happened ------------------------------- */

/* Closes are counted in handlers.c's hd_reasons, shared with the TLS
 * replay of these tests (check_lib_tls_contract.c). */
static atomic_int gate_closed; /* on_open waits while set */
static atomic_int opens;

static void lim_reset(void)
{
    atomic_store(&gate_closed, 0);
    atomic_store(&opens, 0);
    hd_seen_reset();
}

static int lim_on_open(tps_conn *c)
{
    atomic_fetch_add(&opens, 1);
    int64_t end = tu_now_us() + 30000000;
    while (atomic_load(&gate_closed) && tu_now_us() < end)
        tu_sleep_ms(2);
    return 0;
}

/* Echoes, except on connections that send 'N' first: those consume
 * nothing, so their input only grows. */
static long lim_on_data(tps_conn *c, const char *data, size_t len)
{
    if (data[0] == 'N')
        return 0;
    tps_conn_send(c, data, len);
    return (long)len;
}

static const tps_handler lim_handler = {
    .name = "limits",
    .on_open = lim_on_open,
    .on_data = lim_on_data,
    .on_close = hd_rec_on_close,
};

static void echo_ok(int fd, const char *who)
{
    char msg[100];
    memset(msg, 'e', sizeof msg);
    int rc = tu_echo_roundtrip(fd, msg, sizeof msg, tu_scale(5000, 20000));
    ck_assert_msg(rc == 0, "%s: echo failed: %d (%s)", who, rc, strerror(-rc));
}

/* The client was turned away: EOF (maybe after a short busy line) or a
 * reset, not silence. Returns the bytes that came first. */
static long expect_turned_away(int fd, const char *who)
{
    int err = 0;
    long n = tu_drain(fd, 3000, &err);
    ck_assert_msg(err == 0 || err == -ECONNRESET,
                  "%s: expected to be closed, got %s after %ld bytes", who, strerror(-err), n);
    return n;
}

/* ---- the accept queue --------------------------------------------------- */

/* One worker blocked in on_open (client A), one descriptor in the queue
 * (client B): the queue of capacity 1 is full. */
static tps_server *fill_queue(int reject, int fds[2])
{
    lim_reset();
    atomic_store(&gate_closed, 1);
    const tu_opt opts[] = {
        {TPS_OPT_WORKERS, 1}, {TPS_OPT_QUEUE, 1}, {TPS_OPT_QUEUE_FULL_REJECT, reject}, TU_OPT_END};
    tps_server *srv = tu_server_start(&lim_handler, NULL, opts, NULL, NULL);
    int port = tu_port(srv, 0);
    fds[0] = tu_connect(port, 0);
    int64_t end = tu_now_us() + 5000000;
    while (atomic_load(&opens) < 1 && tu_now_us() < end)
        tu_sleep_ms(2);
    ck_assert_int_eq(atomic_load(&opens), 1);
    fds[1] = tu_connect(port, 0);
    ck_assert_uint_eq(tu_wait_stat(srv, TPS_STAT_QUEUED, 1, 5000), 1);
    return srv;
}

START_TEST(test_limits_queue_full_reject)
{
    int fds[5];
    tps_server *srv = fill_queue(1, fds);
    int port = tu_port(srv, 0);
    for (int i = 2; i < 5; i++) {
        fds[i] = tu_connect(port, 0);
        long n = expect_turned_away(fds[i], "client over the queue");
        ck_assert_msg(n > 0 && n < 256, "rejected client got %ld bytes, expected a busy line", n);
    }
    ck_assert_uint_eq(tu_wait_stat(srv, TPS_STAT_REJECTED_QUEUE_FULL, 3, 3000), 3);
    atomic_store(&gate_closed, 0);
    echo_ok(fds[0], "client in on_open");
    echo_ok(fds[1], "queued client");
    for (int i = 0; i < 5; i++)
        close(fds[i]);
    tps_server_free(srv);
}
END_TEST

START_TEST(test_limits_queue_full_hold)
{
    int fds[5];
    tps_server *srv = fill_queue(0, fds);
    int port = tu_port(srv, 0);
    char msg[100];
    memset(msg, 'h', sizeof msg);
    for (int i = 0; i < 5; i++) {
        if (i >= 2)
            fds[i] = tu_connect(port, 0);
        ck_assert_int_eq(tu_write_all(fds[i], msg, sizeof msg, 2000), 0);
    }
    tu_sleep_ms(300);
    ck_assert_int_eq(tu_wait_eof(fds[4], 1), -ETIMEDOUT); /* not rejected */
    ck_assert_uint_eq(tps_server_stat(srv, TPS_STAT_REJECTED_QUEUE_FULL), 0);
    atomic_store(&gate_closed, 0);
    for (int i = 0; i < 5; i++) {
        char back[100];
        long r = tu_read_exact(fds[i], back, sizeof back, 5000, NULL);
        ck_assert_msg(r == 100 && memcmp(back, msg, 100) == 0, "held client %d: read %ld", i, r);
        close(fds[i]);
    }
    ck_assert_uint_ge(tu_wait_stat(srv, TPS_STAT_ACCEPT_PAUSES, 1, 3000), 1);
    ck_assert_uint_eq(tu_wait_stat(srv, TPS_STAT_ACCEPTED, 5, 3000), 5);
    tps_server_free(srv);
}
END_TEST

/* ---- connection caps ----------------------------------------------------- */

START_TEST(test_limits_max_conns)
{
    const tu_opt opts[] = {{TPS_OPT_MAX_CONNS, 3}, TU_OPT_END};
    tps_server *srv = tu_server_start(NULL, NULL, opts, NULL, NULL);
    ck_assert_int_eq(tu_get(srv, TPS_OPT_MAX_CONNS), 3);
    int port = tu_port(srv, 0), fds[3];
    for (int i = 0; i < 3; i++) {
        fds[i] = tu_connect(port, 0);
        echo_ok(fds[i], "client under the cap");
    }
    int extra = tu_connect(port, 0);
    expect_turned_away(extra, "client over MAX_CONNS");
    close(extra);
    ck_assert_uint_ge(tu_wait_stat(srv, TPS_STAT_REJECTED_MAX_CONNS, 1, 3000), 1);
    for (int i = 0; i < 3; i++)
        echo_ok(fds[i], "existing client after a rejection");
    close(fds[0]);
    uint64_t active = tu_wait_stat_le(srv, TPS_STAT_ACTIVE, 2, 3000);
    ck_assert_msg(active == 2, "ACTIVE %llu after a close", (unsigned long long)active);
    fds[0] = tu_connect(port, 0);
    echo_ok(fds[0], "client in the freed slot");
    for (int i = 0; i < 3; i++)
        close(fds[i]);
    tps_server_free(srv);
}
END_TEST

/* A client over MAX_CONNS that sent its request at once reads the busy
 * line, then EOF: not a reset (a close() with its request unread gave
 * ECONNRESET after the line, and a reset drops a line still in flight).
 * DEFER_ACCEPT makes sure the request is there before the acceptor turns
 * the client away. */
START_TEST(test_limits_busy_line_survives_a_request)
{
    const tu_opt opts[] = {{TPS_OPT_MAX_CONNS, 1}, {TPS_OPT_DEFER_ACCEPT_MS, 1000}, TU_OPT_END};
    tps_server *srv = tu_server_start(NULL, NULL, opts, NULL, NULL);
    int port = tu_port(srv, 0);
    int held = tu_connect(port, 0);
    echo_ok(held, "client under the cap");
    int extra = tu_connect(port, 0);
    char req[2000];
    memset(req, 'r', sizeof req);
    ck_assert_int_eq(tu_write_all(extra, req, sizeof req, 2000), 0);
    ck_assert_uint_ge(tu_wait_stat(srv, TPS_STAT_REJECTED_MAX_CONNS, 1, 5000), 1);
    tu_sleep_ms(100); /* a reset, if one was sent, has arrived */
    char line[64] = {0};
    size_t got = 0;
    const char want[] = "BUSY too many connections\r\n";
    long r = tu_read_exact(extra, line, sizeof want - 1, 3000, &got);
    ck_assert_msg(r == (long)sizeof want - 1 && memcmp(line, want, sizeof want - 1) == 0,
                  "the turned-away client read %zu bytes '%s' (rc %ld: %s)", got, line, r,
                  r < 0 ? strerror((int)-r) : "EOF");
    ck_assert_int_eq(tu_wait_eof(extra, 3000), 0);
    close(extra);
    echo_ok(held, "client under the cap, after the rejection");
    close(held);
    tps_server_free(srv);
}
END_TEST

START_TEST(test_limits_per_ip)
{
    const tu_opt opts[] = {{TPS_OPT_MAX_CONNS_PER_IP, 2}, TU_OPT_END};
    tps_server *srv = tu_server_start(NULL, NULL, opts, NULL, NULL);
    int port = tu_port(srv, 0), fds[2];
    for (int i = 0; i < 2; i++) {
        fds[i] = tu_connect(port, 0);
        echo_ok(fds[i], "client under the per-IP cap");
    }
    int extra = tu_connect(port, 0);
    expect_turned_away(extra, "third client from 127.0.0.1");
    close(extra);
    ck_assert_uint_ge(tu_wait_stat(srv, TPS_STAT_REJECTED_PER_IP, 1, 3000), 1);
    int other = tu_connect_from("127.0.0.2", port);
    ck_assert_msg(other >= 0, "connect from 127.0.0.2: %s", strerror(-other));
    echo_ok(other, "client from 127.0.0.2");
    for (int i = 0; i < 2; i++)
        echo_ok(fds[i], "existing client");
    /* Closing one frees its place for the same address; the rejected
     * attempts must not have used any. */
    close(fds[0]);
    tu_wait_stat_le(srv, TPS_STAT_ACTIVE, 2, 3000);
    int64_t end = tu_now_us() + 3000000;
    fds[0] = -1;
    while (fds[0] < 0 && tu_now_us() < end) {
        int fd = tu_connect(port, 0);
        if (tu_echo_roundtrip(fd, "again", 5, 1000) == 0) {
            fds[0] = fd;
        } else {
            close(fd);
            tu_sleep_ms(50);
        }
    }
    ck_assert_msg(fds[0] >= 0, "127.0.0.1 still refused after one of its two closed");
    close(other);
    close(fds[0]);
    close(fds[1]);
    tps_server_free(srv);
}
END_TEST

/* Connections refused by on_open give their places back: with room for
 * one connection in total and one per address, a run of rejections must
 * not lock the next client out. */
static atomic_int refuse_first;

static int refuse_on_open(tps_conn *c)
{
    return atomic_fetch_sub(&refuse_first, 1) > 0 ? -1 : 0;
}

static const tps_handler refuse_handler = {
    .name = "refuse",
    .on_open = refuse_on_open,
    .on_data = lim_on_data,
};

START_TEST(test_limits_rejections_release_places)
{
    atomic_store(&refuse_first, 5);
    const tu_opt opts[] = {{TPS_OPT_MAX_CONNS, 1}, {TPS_OPT_MAX_CONNS_PER_IP, 1}, TU_OPT_END};
    tps_server *srv = tu_server_start(&refuse_handler, NULL, opts, NULL, NULL);
    int port = tu_port(srv, 0);
    for (int i = 0; i < 5; i++) {
        int fd = tu_connect(port, 0);
        expect_turned_away(fd, "refused by on_open");
        close(fd);
        /* the place is given back after the close the client saw */
        tu_wait_stat(srv, TPS_STAT_REJECTED_HANDLER, (uint64_t)i + 1, 3000);
        tu_wait_stat_le(srv, TPS_STAT_ACTIVE, 0, 3000);
    }
    ck_assert_uint_eq(tu_wait_stat(srv, TPS_STAT_REJECTED_HANDLER, 5, 3000), 5);
    int64_t end = tu_now_us() + 3000000;
    int served = 0;
    while (!served && tu_now_us() < end) {
        int fd = tu_connect(port, 0);
        served = tu_echo_roundtrip(fd, "after", 5, 1000) == 0;
        close(fd);
        if (!served)
            tu_sleep_ms(50);
    }
    ck_assert_msg(served,
                  "no client served after five on_open refusals "
                  "(rejected: max_conns %llu, per_ip %llu)",
                  (unsigned long long)tps_server_stat(srv, TPS_STAT_REJECTED_MAX_CONNS),
                  (unsigned long long)tps_server_stat(srv, TPS_STAT_REJECTED_PER_IP));
    tps_server_free(srv);
}
END_TEST

/* ---- timeouts ------------------------------------------------------------- */

/* An idle-timeout close that takes a while: the worker is busy in a timer's
 * callback, after it last looked for new descriptors and before it waits. */
static atomic_int slow_close_started;

static void slow_on_close(tps_conn *c, int reason)
{
    (void)c;
    if (reason == TPS_CLOSE_IDLE_TIMEOUT) {
        atomic_store(&slow_close_started, 1);
        tu_sleep_ms(300);
    }
}

static const tps_handler slow_close_handler = {
    .name = "slow-close", .on_data = lim_on_data, .on_close = slow_on_close};

/* A connection accepted while the only worker is busy is served when the
 * worker is done: the acceptor does not ring a worker that is not waiting,
 * so the worker must look for what it is owed before it waits. */
START_TEST(test_limits_accept_while_busy)
{
    lim_reset();
    atomic_store(&slow_close_started, 0);
    const tu_opt opts[] = {{TPS_OPT_WORKERS, 1}, {TPS_OPT_IDLE_TIMEOUT_MS, 100}, TU_OPT_END};
    tps_server *srv = tu_server_start(&slow_close_handler, NULL, opts, NULL, NULL);
    int port = tu_port(srv, 0);
    int idle = tu_connect(port, 0);
    int64_t end = tu_now_us() + 5000000;
    while (!atomic_load(&slow_close_started) && tu_now_us() < end)
        tu_sleep_ms(1);
    ck_assert_msg(atomic_load(&slow_close_started), "the idle connection was not closed");
    int fd = tu_connect(port, 0); /* while on_close sleeps */
    echo_ok(fd, "connection accepted while the worker was in on_close");
    close(fd);
    close(idle);
    tps_server_free(srv);
}
END_TEST

START_TEST(test_limits_idle_timeout)
{
    lim_reset();
    const long t_ms = tu_scale(400, 1000); /* the idle timeout */
    const tu_opt opts[] = {{TPS_OPT_IDLE_TIMEOUT_MS, t_ms}, TU_OPT_END};
    tps_server *srv = tu_server_start(tu_mode(&lim_handler, _i), NULL, opts, NULL, NULL);
    int port = tu_port(srv, 0);
    int idle = tu_connect(port, 0), busy = tu_connect(port, 0);
    echo_ok(busy, "busy client's first message");
    echo_ok(idle, "idle client's first message");
    int64_t t0 = tu_now_us(), closed_at = -1, last = t0, gap = 0;
    const long limit_ms = t_ms * 5;
    /* The busy client talks every 50 ms for 3+ idle periods; gap is the
     * longest silence it really had (a loaded machine may stall us). */
    while (tu_now_us() - t0 < limit_ms * 1000) {
        echo_ok(busy, "busy client");
        gap = tu_now_us() - last > gap ? tu_now_us() - last : gap;
        last = tu_now_us();
        if (closed_at >= 0 && last - t0 > t_ms * 3000)
            break;
        tu_sleep_ms(50);
        if (closed_at < 0) {
            int e = tu_wait_eof(idle, 0);
            ck_assert_msg(e != 1, "idle client got unexpected data");
            if (e == 0)
                closed_at = tu_now_us() - t0;
        }
    }
    ck_assert_msg(closed_at >= 0, "idle connection not closed in %ld ms", limit_ms);
    ck_assert_msg(closed_at >= t_ms * 800 && closed_at <= t_ms * 3000,
                  "idle connection closed after %lld us (timeout %ld ms)", (long long)closed_at,
                  t_ms);
    ck_assert_uint_eq(tu_wait_stat(srv, TPS_STAT_IDLE_TIMEOUTS, 1, 3000), 1);
    if (gap < t_ms * 800) /* else this run proves nothing about "busy" */
        ck_assert_int_eq(atomic_load(&hd_reasons[TPS_CLOSE_IDLE_TIMEOUT]), 1);
    else
        fprintf(stderr, "idle_timeout: busy client stalled %lld us\n", (long long)gap);
    close(busy);
    ck_assert_msg(hd_wait_reason(TPS_CLOSE_PEER, 1, 3000) >= 0,
                  "busy client's close not reported as PEER");
    close(idle);
    tps_server_free(srv);
}
END_TEST

/* The producer (hd_producer_handler) streams 128 KiB whenever its output
 * empties: it never passes MAX_OUTPUT by itself. */
START_TEST(test_limits_send_timeout)
{
    lim_reset();
    const tu_opt opts[] = {{TPS_OPT_SEND_TIMEOUT_MS, 300},
                           {TPS_OPT_MAX_OUTPUT, 262144},
                           {TPS_OPT_OUTPUT_HIGH_WATER, 65536},
                           TU_OPT_END};
    tps_server *srv = tu_server_start(tu_mode(&hd_producer_handler, _i), NULL, opts, NULL, NULL);
    int fd = tu_connect_rcvbuf(tu_port(srv, 0), 8192, 0); /* and never reads */
    int64_t waited = hd_wait_reason(TPS_CLOSE_SEND_TIMEOUT, 1, tu_scale(5000, 15000));
    ck_assert_msg(waited >= 0,
                  "%s: no SEND_TIMEOUT close for a peer that never reads "
                  "(reasons: output_limit %d, error %d)",
                  _i ? "may-block" : "plain", atomic_load(&hd_reasons[TPS_CLOSE_OUTPUT_LIMIT]),
                  atomic_load(&hd_reasons[TPS_CLOSE_ERROR]));
    fprintf(stderr, "send_timeout: closed after %lld ms, max pending %ld\n",
            (long long)(waited / 1000), atomic_load(&hd_max_pending));
    ck_assert_uint_eq(tu_wait_stat(srv, TPS_STAT_SEND_TIMEOUTS, 1, 3000), 1);
    ck_assert_int_le(atomic_load(&hd_max_pending), 262144);
    close(fd);
    tps_server_free(srv);
}
END_TEST

/* ---- input and output limits ---------------------------------------------- */

/* The flood handler (hd_flood_handler) queues 64 KiB after 64 KiB until
 * the library refuses. */
START_TEST(test_limits_max_output)
{
    lim_reset();
    const tu_opt opts[] = {{TPS_OPT_MAX_OUTPUT, 262144}, TU_OPT_END};
    tps_server *srv = tu_server_start(tu_mode(&hd_flood_handler, _i), NULL, opts, NULL, NULL);
    int fd = tu_connect_rcvbuf(tu_port(srv, 0), 8192, 0);
    ck_assert_int_eq(tu_write_all(fd, "x", 1, 1000), 0);
    ck_assert_msg(hd_wait_reason(TPS_CLOSE_OUTPUT_LIMIT, 1, 5000) >= 0,
                  "no OUTPUT_LIMIT close; last send rc %d", atomic_load(&hd_last_send_rc));
    ck_assert_int_eq(atomic_load(&hd_last_send_rc), TPS_ENOBUFS);
    ck_assert_int_le(atomic_load(&hd_max_pending), 262144);
    ck_assert_uint_eq(tu_wait_stat(srv, TPS_STAT_OUTPUT_LIMIT, 1, 3000), 1);
    close(fd);
    tps_server_free(srv);
}
END_TEST

START_TEST(test_limits_max_input)
{
    lim_reset();
    const tu_opt opts[] = {{TPS_OPT_MAX_INPUT, 65536}, TU_OPT_END};
    tps_server *srv = tu_server_start(tu_mode(&lim_handler, _i), NULL, opts, NULL, NULL);
    int port = tu_port(srv, 0);
    int other = tu_connect(port, 0), hog = tu_connect(port, 0);
    echo_ok(other, "neighbour before");
    char *junk = malloc(262144);
    memset(junk, 'N', 262144);
    int wrc = tu_write_all(hog, junk, 262144, 5000); /* may fail: closed */
    ck_assert_msg(hd_wait_reason(TPS_CLOSE_INPUT_LIMIT, 1, 5000) >= 0,
                  "hog not closed for INPUT_LIMIT (its write: %d)", wrc);
    expect_turned_away(hog, "hog");
    ck_assert_uint_eq(tu_wait_stat(srv, TPS_STAT_INPUT_LIMIT, 1, 3000), 1);
    echo_ok(other, "neighbour after");
    free(junk);
    close(hog);
    close(other);
    tps_server_free(srv);
}
END_TEST

/* ---- output memory of a peer that never reads ------------------------------ */

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define TU_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define TU_SANITIZED 1
#endif
#endif
#ifdef TU_SANITIZED
/* From the sanitizer runtime (its header is not installed with gcc). */
size_t __sanitizer_get_current_allocated_bytes(void);
static size_t heap_in_use(void) /* the sanitizer's allocator replaces malloc's */
{
    return __sanitizer_get_current_allocated_bytes();
}
#else
#include <malloc.h>
static size_t heap_in_use(void)
{
    struct mallinfo2 m = mallinfo2();
    return m.uordblks + m.hblkhd;
}
#endif

/* A peer sends and never reads: the echo it is owed piles up until the
 * high water stops reading, one read's answer past it at most. The heap
 * holds no more than that (it held twice: doubling took the buffer from
 * 1 MiB to 2 MiB for the last 64 KiB), and no less (the measure works). */
START_TEST(test_limits_output_memory_bound)
{
    const long long hw = 1 << 20;
    const tu_opt opts[] = {{TPS_OPT_WORKERS, 1},
                           {TPS_OPT_OUTPUT_HIGH_WATER, hw},
                           {TPS_OPT_SEND_TIMEOUT_MS, 0},
                           TU_OPT_END};
    tps_server *srv = tu_server_start(NULL, NULL, opts, NULL, NULL);
    int warm = tu_connect(tu_port(srv, 0), 0);
    echo_ok(warm, "warm-up"); /* slot chunks and the like exist before the base */
    const unsigned char *pattern = tu_pattern(); /* built (2 MiB) before the base */
    size_t base = heap_in_use();
    int hog = tu_connect_rcvbuf(tu_port(srv, 0), 4096, 1);
    int64_t end = tu_now_us() + 10000000;
    while (tps_server_stat(srv, TPS_STAT_BACKPRESSURE) == 0 && tu_now_us() < end) {
        ssize_t n = send(hog, pattern, 1 << 16, MSG_NOSIGNAL);
        if (n < 0)
            tu_sleep_ms(5);
    }
    ck_assert_uint_ge(tps_server_stat(srv, TPS_STAT_BACKPRESSURE), 1);
    tu_sleep_ms(200);
    size_t grew = heap_in_use() - base, bound = (size_t)hw + 64 * 1024;
    fprintf(stderr, "never-reading peer: heap grew %zu bytes; high water + one read = %zu\n", grew,
            bound);
    ck_assert_msg(grew >= (size_t)hw, "heap grew %zu: the measure misses the held output", grew);
    ck_assert_msg(grew <= bound + 8192, "heap grew %zu bytes, above high water + one read (%zu)",
                  grew, bound);
    close(hog);
    echo_ok(warm, "neighbour");
    close(warm);
    tps_server_free(srv);
}
END_TEST

/* ---- out of descriptors ----------------------------------------------------- */

/* A burst of 200 clients while the server has 6 descriptors left: within
 * a second every client it cannot serve has been told (BUSY, EOF) instead
 * of waiting in the backlog; the acceptor used at most 5% of a core
 * meanwhile; once descriptors are free again, a new client is served
 * within 150 ms. (It shed one pending client per pause, the pause
 * doubling to a second: the backlog drained at ~1 client/s.) */
START_TEST(test_limits_emfile)
{
    enum { NPRE = 200, FILL = 1024, FREE = 6 };
    tu_log log;
    tu_log_init(&log);
    const tu_opt opts[] = {{TPS_OPT_WORKERS, 1}, TU_OPT_END};
    tps_server *srv = tu_server_start(NULL, NULL, opts, &log, NULL);
    int port = tu_port(srv, 0), fds[NPRE];
    /* Client sockets exist before the limit drops, so only the server's
     * accept runs out of descriptors. */
    for (int i = 0; i < NPRE; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ck_assert_int_ge(fds[i], 0);
    }
    struct rlimit old, low;
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
    low = old;
    low.rlim_cur = (rlim_t)tu_max_fd() + 1 + 16;
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
    /* Fill every free number below the limit (holes included), then give
     * back exactly FREE of them: the server can accept FREE connections. */
    int fill[FILL], nfill = 0;
    while (nfill < FILL && (fill[nfill] = dup(0)) >= 0)
        nfill++;
    ck_assert_msg(nfill < FILL && errno == EMFILE, "could not reach EMFILE");
    ck_assert_int_ge(nfill, FREE);
    for (int i = 0; i < FREE; i++)
        close(fill[--nfill]);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int connected = 0;
    int64_t cpu0 = tu_cpu_us();
    for (int i = 0; i < NPRE; i++)
        connected += connect(fds[i], (struct sockaddr *)&a, sizeof a) == 0;
    tu_sleep_ms(1000);
    int64_t cpu = tu_cpu_us() - cpu0;
    int told = 0; /* a line or EOF waits for them: not left in the backlog */
    for (int i = 0; i < NPRE; i++) {
        struct pollfd p = {.fd = fds[i], .events = POLLIN};
        told += poll(&p, 1, 0) == 1;
    }
    uint64_t shed = tps_server_stat(srv, TPS_STAT_REJECTED_EMFILE);
    uint64_t accepted = tps_server_stat(srv, TPS_STAT_ACCEPTED);
    uint64_t pauses = tps_server_stat(srv, TPS_STAT_ACCEPT_PAUSES);
    char line[64] = "";
    ssize_t got = recv(fds[NPRE - 1], line, sizeof line - 1, MSG_DONTWAIT);
    for (int i = 0; i < NPRE; i++)
        close(fds[i]);
    for (int i = 0; i < nfill; i++)
        close(fill[i]);
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
    int64_t t0 = tu_now_us();
    int fd = tu_connect(port, 0);
    echo_ok(fd, "client after the descriptors came back");
    int64_t served = tu_now_us() - t0;
    close(fd);
    char dump[2048];
    unsigned loud = tu_log_count(&log, TPS_LOG_ERROR) + tu_log_count(&log, TPS_LOG_WARN);
    fprintf(stderr,
            "emfile: %d connected, %d told within 1 s, cpu %lld us in 1 s, shed %llu, "
            "accepted %llu, pauses %llu, next client served in %lld us, %u warn/error "
            "lines: %s\n",
            connected, told, (long long)cpu, (unsigned long long)shed, (unsigned long long)accepted,
            (unsigned long long)pauses, (long long)served, loud, tu_log_dump(&log, dump, 300));
    ck_assert_int_eq(connected, NPRE);
    ck_assert_msg(told >= NPRE - FREE, "only %d of %d clients were told within 1 s", told,
                  NPRE - FREE);
    ck_assert_msg(got > 0 && strncmp(line, "BUSY", 4) == 0, "a shed client read '%s' (%zd)", line,
                  got);
    ck_assert_msg(cpu < tu_scale(50000, 400000),
                  "process used %lld us CPU in 1 s of EMFILE: over 5%% of a core", (long long)cpu);
    ck_assert_msg(shed >= NPRE - 2 * FREE, "REJECTED_EMFILE %llu of %d", (unsigned long long)shed,
                  NPRE);
    ck_assert_msg(loud >= 1 && loud < 20, "%u warn/error log lines during EMFILE", loud);
    ck_assert_msg(served < tu_scale(150000, 600000), "the next client waited %lld us",
                  (long long)served);
    tps_server_free(srv);
}
END_TEST

/* A max_conns the descriptor limit cannot hold is clamped to what fits,
 * and the warning names the value in force; a small limit still leaves
 * room for a sensible number of connections. */
START_TEST(test_limits_max_conns_clamped)
{
    tu_log log;
    tu_log_init(&log);
    struct rlimit old, low;
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
    low = old;
    low.rlim_cur = (rlim_t)tu_max_fd() + 1 + 100;
    /* Descriptor numbers free below the limit (new ones fill the holes) */
    int held[1024], nheld = 0;
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
    while (nheld < 1024 && (held[nheld] = dup(0)) >= 0)
        nheld++;
    for (int i = 0; i < nheld; i++)
        close(held[i]);
    const tu_opt opts[] = {{TPS_OPT_WORKERS, 2}, {TPS_OPT_MAX_CONNS, 100000}, TU_OPT_END};
    tps_server *srv = tu_server_start(NULL, NULL, opts, &log, NULL);
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
    long long eff = tu_get(srv, TPS_OPT_MAX_CONNS);
    char want[64], dump[1024];
    snprintf(want, sizeof want, "using %lld", eff);
    /* The server's own 7 (2 epolls, 2 eventfds, acceptor, reserve,
     * monitor) and a slack of 8 + limit/64 for the host come off. */
    ck_assert_msg(eff <= nheld - 7 && eff >= nheld - 7 - 8 - (long long)low.rlim_cur / 64 - 4,
                  "max_conns %lld with %d descriptors free", eff, nheld);
    ck_assert_msg(tu_log_has(&log, want), "no warning with '%s': %s", want,
                  tu_log_dump(&log, dump, sizeof dump));
    tps_server_free(srv);
}
END_TEST

Suite *lib_limits_suite(void)
{
    Suite *s = suite_create("lib_limits");
    TCase *tc = tcase_create("queue");
    tcase_set_timeout(tc, tu_timeout(20));
    tcase_add_test(tc, test_limits_queue_full_reject);
    tcase_add_test(tc, test_limits_queue_full_hold);
    suite_add_tcase(s, tc);

    tc = tcase_create("caps");
    tcase_set_timeout(tc, tu_timeout(20));
    tcase_add_test(tc, test_limits_max_conns);
    tcase_add_test(tc, test_limits_busy_line_survives_a_request);
    tcase_add_test(tc, test_limits_per_ip);
    tcase_add_test(tc, test_limits_rejections_release_places);
    suite_add_tcase(s, tc);

    tc = tcase_create("timeouts");
    tcase_set_timeout(tc, tu_timeout(20));
    tcase_add_loop_test(tc, test_limits_idle_timeout, 0, 2);
    tcase_add_test(tc, test_limits_accept_while_busy);
    tcase_add_loop_test(tc, test_limits_send_timeout, 0, 2);
    suite_add_tcase(s, tc);

    tc = tcase_create("buffers");
    tcase_set_timeout(tc, tu_timeout(20));
    tcase_add_loop_test(tc, test_limits_max_output, 0, 2);
    tcase_add_loop_test(tc, test_limits_max_input, 0, 2);
    suite_add_tcase(s, tc);

    tc = tcase_create("emfile"); /* forked: the rlimit change stays there */
    tcase_set_timeout(tc, tu_timeout(20));
    tcase_add_test(tc, test_limits_emfile);
    tcase_add_test(tc, test_limits_max_conns_clamped);
    tcase_add_test(tc, test_limits_output_memory_bound);
    suite_add_tcase(s, tc);
    return s;
}
