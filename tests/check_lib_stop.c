/* SPDX-License-Identifier: MIT */
/* check_lib_stop.c - integration suite of stopping a libtpserv server, from
 * the contract in tpserv.h: a graceful stop in the middle of ping-pong
 * traffic loses no echo and ends every connection with a clean EOF, a stop
 * with no drain force-closes, on_shutdown is called, tps_server_free works
 * on a running server and stop may be repeated with a shorter deadline. */
#include "suites.h"
#include "testutil.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- an echo handler that records close reasons and shutdowns ------------ */

static atomic_int reasons[TPS_CLOSE_REASON_COUNT_];
static atomic_int shutdowns;

static void rec_reset(void)
{
    for (int i = 0; i < TPS_CLOSE_REASON_COUNT_; i++)
        atomic_store(&reasons[i], 0);
    atomic_store(&shutdowns, 0);
}

static long rec_on_data(tps_conn *c, const char *data, size_t len)
{
    tps_conn_send(c, data, len);
    return (long)len;
}

static void rec_on_close(tps_conn *c, int reason)
{
    if (reason >= 0 && reason < TPS_CLOSE_REASON_COUNT_)
        atomic_fetch_add(&reasons[reason], 1);
}

static void bye_on_shutdown(tps_conn *c)
{
    atomic_fetch_add(&shutdowns, 1);
    tps_conn_send(c, "bye\n", 4);
}

static const tps_handler rec_handler = {
    .name = "rec-echo",
    .on_data = rec_on_data,
    .on_close = rec_on_close,
};
static const tps_handler bye_handler = {
    .name = "bye-echo",
    .on_data = rec_on_data,
    .on_close = rec_on_close,
    .on_shutdown = bye_on_shutdown,
};

static void echo_ok(int fd)
{
    int rc = tu_echo_roundtrip(fd, "ping", 4, tu_scale(5000, 20000));
    ck_assert_msg(rc == 0, "echo: %d (%s)", rc, strerror(-rc));
}

/* ---- graceful stop under traffic ------------------------------------------ */

typedef struct pp_client {
    int port, id;
    atomic_int rounds;
    char err[200];
} pp_client;

/* Reads the echo of one message; 1 = complete, 0 = clean EOF before any of
 * it, -1 = failure (c->err set). */
static int pp_read_reply(pp_client *c, int fd, const unsigned char *want, size_t n)
{
    unsigned char back[4096];
    size_t got = 0;
    long r = tu_read_exact(fd, back, n, 20000, &got);
    if (got > 0 && memcmp(back, want, got) != 0) {
        snprintf(c->err, sizeof c->err, "client %d: wrong echo bytes", c->id);
        return -1;
    }
    if (r == (long)n)
        return 1;
    if (r == 0)
        return 0;
    if (r > 0)
        snprintf(c->err, sizeof c->err, "client %d: EOF after %zu of a %zu-byte reply", c->id, got,
                 n);
    else
        snprintf(c->err, sizeof c->err,
                 "client %d: %s (not a clean EOF) after %d rounds, %zu of "
                 "%zu bytes of the reply",
                 c->id, strerror((int)-r), atomic_load(&c->rounds), got, n);
    return -1;
}

static void *pp_main(void *arg)
{
    pp_client *c = arg;
    uint64_t rng = 0xABCDEFULL + (uint64_t)c->id * 104729;
    int fd = tu_connect_host("127.0.0.1", c->port, 0);
    if (fd < 0) {
        snprintf(c->err, sizeof c->err, "connect: %s", strerror(-fd));
        return NULL;
    }
    for (;;) {
        size_t n = 1 + tu_rand(&rng) % 4096;
        const unsigned char *msg = tu_pattern() + tu_rand(&rng) % 65536;
        int rc = tu_write_all(fd, msg, n, 20000);
        if (rc != 0) {
            snprintf(c->err, sizeof c->err, "client %d: send: %s", c->id, strerror(-rc));
            break;
        }
        if (pp_read_reply(c, fd, msg, n) != 1)
            break;
        atomic_fetch_add(&c->rounds, 1);
    }
    close(fd);
    return NULL;
}

START_TEST(test_stop_graceful_under_traffic)
{
    rec_reset();
    const int n = (int)tu_scale(16, 6);
    tps_server *srv = tu_server_start(tu_mode(&rec_handler, _i), NULL, NULL, NULL, NULL);
    pp_client *cl = calloc((size_t)n, sizeof *cl);
    pthread_t *th = calloc((size_t)n, sizeof *th);
    for (int i = 0; i < n; i++) {
        cl[i].port = tu_port(srv, 0);
        cl[i].id = i;
        ck_assert_int_eq(pthread_create(&th[i], NULL, pp_main, &cl[i]), 0);
    }
    tu_sleep_ms(tu_scale(500, 1500));
    int64_t t0 = tu_now_us();
    ck_assert_int_eq(tps_server_stop(srv, 2000), 0);
    ck_assert_int_eq(tps_server_wait(srv), 0);
    int64_t took = tu_now_us() - t0;
    for (int i = 0; i < n; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < n; i++) {
        ck_assert_msg(cl[i].err[0] == '\0', "%s", cl[i].err);
        ck_assert_msg(atomic_load(&cl[i].rounds) > 0, "client %d never got an echo", i);
    }
    ck_assert_msg(took < tu_scale(3500, 8000) * 1000,
                  "tps_server_wait returned %lld ms after stop(2000)", (long long)(took / 1000));
    ck_assert_uint_eq(tps_server_stat(srv, TPS_STAT_ACTIVE), 0);
    ck_assert_uint_eq(tps_server_stat(srv, TPS_STAT_ACCEPTED), (uint64_t)n);
    ck_assert_uint_eq(tps_server_stat(srv, TPS_STAT_CLOSED), (uint64_t)n);
    ck_assert_int_eq(atomic_load(&reasons[TPS_CLOSE_SHUTDOWN]), n);
    tps_server_free(srv);
    free(cl);
    free(th);
}
END_TEST

/* ---- other ways to stop ----------------------------------------------------- */

START_TEST(test_stop_drain_zero_force_closes)
{
    rec_reset();
    tps_server *srv = tu_server_start(tu_mode(&rec_handler, _i), NULL, NULL, NULL, NULL);
    int fds[4];
    for (int i = 0; i < 4; i++) {
        fds[i] = tu_connect(tu_port(srv, 0), 0);
        echo_ok(fds[i]);
    }
    int64_t t0 = tu_now_us();
    ck_assert_int_eq(tps_server_stop(srv, 0), 0);
    ck_assert_int_eq(tps_server_wait(srv), 0);
    int64_t took = tu_now_us() - t0;
    ck_assert_msg(took < tu_scale(1000, 4000) * 1000, "stop(0) took %lld ms",
                  (long long)(took / 1000));
    for (int i = 0; i < 4; i++) {
        int err = 0;
        tu_drain(fds[i], 2000, &err);
        ck_assert_msg(err == 0 || err == -ECONNRESET, "client %d after stop(0): %s", i,
                      strerror(-err));
        close(fds[i]);
    }
    ck_assert_uint_eq(tps_server_stat(srv, TPS_STAT_ACTIVE), 0);
    ck_assert_int_eq(atomic_load(&reasons[TPS_CLOSE_SHUTDOWN]), 4);
    tps_server_free(srv);
}
END_TEST

START_TEST(test_stop_before_any_connection)
{
    tps_server *srv = tu_server_start(NULL, NULL, NULL, NULL, NULL);
    int64_t t0 = tu_now_us();
    ck_assert_int_eq(tps_server_stop(srv, 1000), 0);
    ck_assert_int_eq(tps_server_wait(srv), 0);
    ck_assert_int_lt(tu_now_us() - t0, tu_scale(1000, 4000) * 1000);
    ck_assert_uint_eq(tps_server_stat(srv, TPS_STAT_ACCEPTED), 0);
    ck_assert_uint_eq(tps_server_stat(srv, TPS_STAT_ACTIVE), 0);
    tps_server_free(srv);
}
END_TEST

START_TEST(test_stop_free_running)
{
    tps_server *srv = tu_server_start(NULL, NULL, NULL, NULL, NULL);
    int port = tu_port(srv, 0), fds[3];
    for (int i = 0; i < 3; i++) {
        fds[i] = tu_connect(port, 0);
        echo_ok(fds[i]);
    }
    int64_t t0 = tu_now_us();
    tps_server_free(srv);
    ck_assert_int_lt(tu_now_us() - t0, tu_scale(2000, 6000) * 1000);
    for (int i = 0; i < 3; i++) {
        int err = 0;
        tu_drain(fds[i], 2000, &err);
        ck_assert_msg(err == 0 || err == -ECONNRESET, "client %d after free: %s", i,
                      strerror(-err));
        close(fds[i]);
    }
    int fd = tu_connect_host("127.0.0.1", port, 0);
    ck_assert_msg(fd == -ECONNREFUSED, "connect after tps_server_free: %s (listener still open)",
                  fd >= 0 ? "accepted" : strerror(-fd));
}
END_TEST

START_TEST(test_stop_calls_on_shutdown)
{
    enum { NSHUT = 20 };
    rec_reset();
    tps_server *srv = tu_server_start(tu_mode(&bye_handler, _i), NULL, NULL, NULL, NULL);
    int fds[NSHUT];
    /* All echo at once just before the stop, so that some are still in
     * the middle of their turn when it begins: each must still get
     * on_shutdown. */
    for (int i = 0; i < NSHUT; i++)
        fds[i] = tu_connect(tu_port(srv, 0), 0);
    for (int i = 0; i < NSHUT; i++)
        ck_assert_int_eq(tu_write_all(fds[i], "ping", 4, 1000), 0);
    for (int i = 0; i < NSHUT; i++) {
        char b[4];
        ck_assert_int_eq(tu_read_exact(fds[i], b, 4, 3000, NULL), 4);
    }
    ck_assert_int_eq(tps_server_stop(srv, 2000), 0);
    for (int i = 0; i < NSHUT; i++) {
        char bye[4];
        long r = tu_read_exact(fds[i], bye, 4, 3000, NULL);
        ck_assert_msg(r == 4 && memcmp(bye, "bye\n", 4) == 0,
                      "client %d: no goodbye from on_shutdown (%ld)", i, r);
        ck_assert_int_eq(tu_wait_eof(fds[i], 3000), 0);
        close(fds[i]);
    }
    ck_assert_int_eq(tps_server_wait(srv), 0);
    ck_assert_int_eq(atomic_load(&shutdowns), NSHUT);
    ck_assert_int_eq(atomic_load(&reasons[TPS_CLOSE_SHUTDOWN]), NSHUT);
    tps_server_free(srv);
}
END_TEST

/* A client that never reads keeps output queued, so stop(10000) would wait;
 * a second stop(0) must cut the drain short. */
START_TEST(test_stop_twice_shortens_drain)
{
    tps_server *srv = tu_server_start(NULL, NULL, NULL, NULL, NULL);
    int fd = tu_connect(tu_port(srv, 0), 0);
    int small = 8192;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    /* Fill the server's socket buffer and then its output buffer. */
    for (int i = 0; i < 16; i++)
        if (tu_write_all(fd, tu_pattern(), TU_PATTERN_LEN, 300) != 0)
            break;
    int64_t t0 = tu_now_us();
    ck_assert_int_eq(tps_server_stop(srv, 10000), 0);
    tu_sleep_ms(200);
    ck_assert_int_eq(tps_server_stop(srv, 0), 0);
    ck_assert_int_eq(tps_server_wait(srv), 0);
    int64_t took = tu_now_us() - t0;
    ck_assert_msg(took < tu_scale(2000, 6000) * 1000,
                  "second stop(0) did not cut the 10 s drain: %lld ms", (long long)(took / 1000));
    int again = tps_server_stop(srv, 0); /* after wait: harmless */
    fprintf(stderr, "stop after wait: %d\n", again);
    ck_assert_uint_eq(tps_server_stat(srv, TPS_STAT_ACTIVE), 0);
    close(fd);
    tps_server_free(srv);
}
END_TEST

/* 'g' asks for 2 MiB at once; anything else is echoed. */
static long big_on_data(tps_conn *c, const char *data, size_t len)
{
    if (data[0] == 'g')
        tps_conn_send(c, tu_pattern(), TU_PATTERN_LEN);
    else
        tps_conn_send(c, data, len);
    return (long)len;
}

static const tps_handler big_handler = {
    .name = "big",
    .on_data = big_on_data,
    .on_close = rec_on_close,
};

/* Output queued when the stop begins is delivered in full before the EOF,
 * to a client that only starts reading later (within the drain time). */
START_TEST(test_stop_drain_delivers_queued_output)
{
    rec_reset();
    tps_server *srv = tu_server_start(tu_mode(&big_handler, _i), NULL, NULL, NULL, NULL);
    int fd = tu_connect(tu_port(srv, 0), 0);
    ck_assert_int_eq(tu_write_all(fd, "g", 1, 1000), 0);
    tu_sleep_ms(100);
    ck_assert_int_eq(tps_server_stop(srv, 5000), 0);
    tu_sleep_ms(300); /* the client is not reading yet */
    char *back = malloc(TU_PATTERN_LEN);
    size_t got = 0;
    long r = tu_read_exact(fd, back, TU_PATTERN_LEN, 5000, &got);
    ck_assert_msg(r == (long)TU_PATTERN_LEN, "drain delivered %zu of %u queued bytes (rc %ld)", got,
                  TU_PATTERN_LEN, r);
    ck_assert_mem_eq(back, tu_pattern(), TU_PATTERN_LEN);
    ck_assert_int_eq(tu_wait_eof(fd, 3000), 0);
    /* The server may linger for our EOF after its own (lingering close):
     * once we close, the stop completes well before the 5 s deadline. */
    close(fd);
    int64_t t0 = tu_now_us();
    ck_assert_int_eq(tps_server_wait(srv), 0);
    int64_t took = (tu_now_us() - t0) / 1000;
    ck_assert_msg(took < tu_scale(1500, 4000), "wait took %lld ms after the last client closed",
                  (long long)took);
    free(back);
    tps_server_free(srv);
}
END_TEST

/* A peer that never reads holds the drain until its deadline, not less
 * and not much more. */
START_TEST(test_stop_drain_deadline_respected)
{
    rec_reset();
    const tu_opt opts[] = {{TPS_OPT_SEND_TIMEOUT_MS, 0}, TU_OPT_END};
    tps_server *srv = tu_server_start(tu_mode(&big_handler, _i), NULL, opts, NULL, NULL);
    int fd = tu_connect(tu_port(srv, 0), 0);
    int small = 8192;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    for (int i = 0; i < 8; i++)
        ck_assert_int_eq(tu_write_all(fd, "g", 1, 1000), 0);
    tu_sleep_ms(200);
    int64_t t0 = tu_now_us();
    ck_assert_int_eq(tps_server_stop(srv, 700), 0);
    ck_assert_int_eq(tps_server_wait(srv), 0);
    int64_t took = (tu_now_us() - t0) / 1000;
    ck_assert_msg(took >= 600 && took < tu_scale(2000, 5000),
                  "stop(700) with a stuck peer took %lld ms", (long long)took);
    ck_assert_int_eq(atomic_load(&reasons[TPS_CLOSE_SHUTDOWN]), 1);
    close(fd);
    tps_server_free(srv);
}
END_TEST

/* ---- stop while descriptors wait in the accept queue ---------------------- */

static atomic_int gate_closed, gate_opens;

static int gate_on_open(tps_conn *c)
{
    atomic_fetch_add(&gate_opens, 1);
    int64_t end = tu_now_us() + 10000000;
    while (atomic_load(&gate_closed) && tu_now_us() < end)
        tu_sleep_ms(2);
    return 0;
}

static const tps_handler gate_handler = {
    .name = "gate",
    .on_open = gate_on_open,
    .on_data = rec_on_data,
    .on_close = rec_on_close,
};

/* One worker is stuck in on_open, two descriptors wait in the queue when
 * the stop begins: every accepted descriptor is closed in the end, none
 * leaks, and nothing new is served after the stop. */
START_TEST(test_stop_with_queued_descriptors)
{
    rec_reset();
    atomic_store(&gate_closed, 1);
    atomic_store(&gate_opens, 0);
    const tu_opt opts[] = {{TPS_OPT_WORKERS, 1}, {TPS_OPT_QUEUE, 4}, TU_OPT_END};
    tps_server *srv = tu_server_start(&gate_handler, NULL, opts, NULL, NULL);
    int port = tu_port(srv, 0), fds[3];
    fds[0] = tu_connect(port, 0);
    int64_t end = tu_now_us() + 3000000;
    while (atomic_load(&gate_opens) < 1 && tu_now_us() < end)
        tu_sleep_ms(2);
    ck_assert_int_eq(atomic_load(&gate_opens), 1);
    fds[1] = tu_connect(port, 0);
    fds[2] = tu_connect(port, 0);
    ck_assert_uint_eq(tu_wait_stat(srv, TPS_STAT_QUEUED, 2, 3000), 2);
    ck_assert_int_eq(tps_server_stop(srv, 1000), 0);
    tu_sleep_ms(100);
    int late = tu_connect_host("127.0.0.1", port, 0);
    atomic_store(&gate_closed, 0);
    ck_assert_int_eq(tps_server_wait(srv), 0);
    for (int i = 0; i < 3; i++) {
        int err = 0;
        tu_drain(fds[i], 3000, &err);
        ck_assert_msg(err == 0 || err == -ECONNRESET, "client %d after stop: %s", i,
                      strerror(-err));
        close(fds[i]);
    }
    if (late >= 0) { /* connected to the backlog: must not be served */
        int rc = tu_echo_roundtrip(late, "x", 1, 1000);
        ck_assert_msg(rc != 0, "a client connecting after stop was served");
        close(late);
    }
    uint64_t acc = tps_server_stat(srv, TPS_STAT_ACCEPTED);
    ck_assert_uint_eq(tps_server_stat(srv, TPS_STAT_CLOSED), acc);
    ck_assert_uint_eq(tps_server_stat(srv, TPS_STAT_ACTIVE), 0);
    ck_assert_uint_eq(tps_server_stat(srv, TPS_STAT_QUEUED), 0);
    tps_server_free(srv);
}
END_TEST

/* ---- stop while clients keep arriving --------------------------------------- */

typedef struct churner {
    int port;
    atomic_int stop;
    int served, hung;
} churner;

/* Connect, echo, close, again; after the server stops, connections are
 * refused, closed or reset, but none may hang. */
static void *churner_main(void *arg)
{
    churner *c = arg;
    while (!atomic_load(&c->stop)) {
        int fd = tu_connect_host("127.0.0.1", c->port, 0);
        if (fd < 0) {
            tu_sleep_ms(5);
            continue;
        }
        int rc = tu_echo_roundtrip(fd, "churn", 5, 3000);
        c->served += rc == 0;
        c->hung += rc == -ETIMEDOUT;
        close(fd);
    }
    return NULL;
}

START_TEST(test_stop_during_connection_churn)
{
    tps_server *srv = tu_server_start(tu_mode(&rec_handler, _i), NULL, NULL, NULL, NULL);
    churner ch[2] = {{.port = tu_port(srv, 0)}, {.port = tu_port(srv, 0)}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, churner_main, &ch[i]), 0);
    tu_sleep_ms(tu_scale(300, 800));
    ck_assert_int_eq(tps_server_stop(srv, 500), 0);
    ck_assert_int_eq(tps_server_wait(srv), 0);
    uint64_t acc = tps_server_stat(srv, TPS_STAT_ACCEPTED);
    uint64_t closed = tps_server_stat(srv, TPS_STAT_CLOSED);
    uint64_t active = tps_server_stat(srv, TPS_STAT_ACTIVE);
    uint64_t queued = tps_server_stat(srv, TPS_STAT_QUEUED);
    tps_server_free(srv); /* closes the listeners: clients get refused */
    tu_sleep_ms(100);
    for (int i = 0; i < 2; i++) {
        atomic_store(&ch[i].stop, 1);
        pthread_join(th[i], NULL);
    }
    ck_assert_msg(ch[0].served > 0 && ch[1].served > 0, "served before the stop: %d and %d",
                  ch[0].served, ch[1].served);
    ck_assert_msg(ch[0].hung + ch[1].hung == 0,
                  "%d connections hung (no echo, no close) around the stop",
                  ch[0].hung + ch[1].hung);
    ck_assert_msg(closed == acc && active == 0 && queued == 0,
                  "after wait: accepted %llu closed %llu active %llu queued "
                  "%llu",
                  (unsigned long long)acc, (unsigned long long)closed, (unsigned long long)active,
                  (unsigned long long)queued);
}
END_TEST

Suite *lib_stop_suite(void)
{
    Suite *s = suite_create("lib_stop");
    TCase *tc = tcase_create("graceful");
    tcase_set_timeout(tc, tu_timeout(30));
    tcase_add_loop_test(tc, test_stop_graceful_under_traffic, 0, 2);
    suite_add_tcase(s, tc);

    tc = tcase_create("other");
    tcase_set_timeout(tc, tu_timeout(15));
    tcase_add_loop_test(tc, test_stop_drain_zero_force_closes, 0, 2);
    tcase_add_test(tc, test_stop_before_any_connection);
    tcase_add_test(tc, test_stop_with_queued_descriptors);
    tcase_add_loop_test(tc, test_stop_during_connection_churn, 0, 2);
    tcase_add_test(tc, test_stop_free_running);
    tcase_add_loop_test(tc, test_stop_calls_on_shutdown, 0, 2);
    tcase_add_test(tc, test_stop_twice_shortens_drain);
    tcase_add_loop_test(tc, test_stop_drain_delivers_queued_output, 0, 2);
    tcase_add_loop_test(tc, test_stop_drain_deadline_respected, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}
