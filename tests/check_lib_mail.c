/* SPDX-License-Identifier: MIT */
/* check_lib_mail.c - integration suite of tps_server_conn_send() and
 * tps_server_conn_close(): other threads reach a connection by id, in
 * order, never a newer connection in the same slot, with or without
 * TPS_HANDLER_MAY_BLOCK, and the mailbox is bounded. */
#include "testhandlers.h"
#include "suites.h"
#include "testutil.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- a handler that publishes its connections' ids ------------------------ */

/* The ids (hd_reg_on_open, hd_id_of) and the sending threads
 * (hd_sender_main) are handlers.c's, shared with the TLS replay of these
 * tests (check_lib_tls_contract.c). */

/* Echo; a message starting with 'S' sleeps 300 ms first. */
static long reg_on_data(tps_conn *c, const char *data, size_t len)
{
    if (data[0] == 'S')
        tu_sleep_ms(300);
    tps_conn_send(c, data, len);
    return (long)len;
}

static const tps_handler reg_plain = {
    .name = "reg",
    .on_open = hd_reg_on_open,
    .on_data = reg_on_data,
};

static void expect(int fd, const char *want)
{
    size_t n = strlen(want);
    char got[256];
    ck_assert_uint_lt(n, sizeof got);
    ck_assert_int_eq(tu_read_exact(fd, got, n, 3000, NULL), (long)n);
    got[n] = '\0';
    ck_assert_str_eq(got, want);
}

/* ---- send and close by id -------------------------------------------------- */

START_TEST(test_mail_send_and_close)
{
    hd_ids_reset();
    const tu_opt opts[] = {{TPS_OPT_WORKERS, 2}, TU_OPT_END};
    tps_server *srv = tu_server_start(tu_mode(&reg_plain, _i), NULL, opts, NULL, NULL);
    int fd = tu_connect(tu_port(srv, 0), 0);
    uint64_t id = hd_id_of(0);
    ck_assert_int_eq(tps_server_conn_send(srv, id, "hello\n", 6), 0);
    expect(fd, "hello\n");
    ck_assert_int_eq(tu_echo_roundtrip(fd, "ping\n", 5, 3000), 0); /* still an echo */
    ck_assert_int_eq(tps_server_conn_send(srv, id, "bye\n", 4), 0);
    ck_assert_int_eq(tps_server_conn_close(srv, id), 0);
    expect(fd, "bye\n"); /* what was queued before the close is written */
    ck_assert_int_eq(tu_wait_eof(fd, 3000), 0);
    close(fd);
    /* The id is stale once the slot is freed; a new connection may take
     * the slot, never the id. */
    int rc = 0;
    for (int t = 0; t < 300 && (rc = tps_server_conn_send(srv, id, "x", 1)) == 0; t++)
        tu_sleep_ms(10);
    ck_assert_int_eq(rc, TPS_ENOTCONN);
    int fd2 = tu_connect(tu_port(srv, 0), 0);
    uint64_t id2 = hd_id_of(1);
    ck_assert_uint_ne(id2, id);
    ck_assert_int_eq(tps_server_conn_send(srv, id, "x", 1), TPS_ENOTCONN);
    ck_assert_int_eq(tps_server_conn_send(srv, id2, "new\n", 4), 0);
    expect(fd2, "new\n");
    close(fd2);
    ck_assert_int_eq(tps_server_conn_send(NULL, id2, "x", 1), TPS_EINVAL);
    ck_assert_int_eq(tps_server_conn_send(srv, id2, NULL, 1), TPS_EINVAL);
    ck_assert_int_eq(tps_server_conn_send(srv, 0, "x", 1), TPS_ENOTCONN);
    ck_assert_int_eq(tps_server_conn_send(srv, (uint64_t)7 << 32 | 123456, "x", 1), TPS_ENOTCONN);
    ck_assert_int_eq(tps_server_conn_close(srv, 0), TPS_ENOTCONN);
    tps_server_free(srv);
}
END_TEST

/* ---- several threads, one connection ------------------------------------- */

/* Every line arrives whole, and each thread's lines in its order. */
static void check_lines(int fd)
{
    int next[MAIL_SENDERS] = {0}, total = 0;
    char buf[64 * 1024];
    size_t have = 0;
    while (total < MAIL_SENDERS * MAIL_LINES) {
        long r = tu_read_exact(fd, buf + have, 1, 5000, NULL);
        ck_assert_msg(r == 1, "after %d lines: read %ld", total, r);
        have++;
        if (buf[have - 1] != '\n')
            continue;
        buf[have - 1] = '\0';
        int k, i;
        ck_assert_msg(sscanf(buf, "t%d %d", &k, &i) == 2 && k >= 0 && k < MAIL_SENDERS,
                      "garbled line '%s'", buf);
        ck_assert_msg(i == next[k], "thread %d: line %d after %d", k, i, next[k] - 1);
        next[k]++;
        total++;
        have = 0;
    }
}

START_TEST(test_mail_many_threads)
{
    hd_ids_reset();
    const tu_opt opts[] = {{TPS_OPT_WORKERS, 2}, {TPS_OPT_MAX_OUTPUT, 4096}, TU_OPT_END};
    tps_server *srv = tu_server_start(tu_mode(&reg_plain, _i), NULL, opts, NULL, NULL);
    int fd = tu_connect(tu_port(srv, 0), 0);
    hd_sender s[MAIL_SENDERS];
    pthread_t th[MAIL_SENDERS];
    for (int k = 0; k < MAIL_SENDERS; k++) {
        s[k] = (hd_sender){.srv = srv, .id = hd_id_of(0), .k = k};
        ck_assert_int_eq(pthread_create(&th[k], NULL, hd_sender_main, &s[k]), 0);
    }
    check_lines(fd);
    for (int k = 0; k < MAIL_SENDERS; k++) {
        pthread_join(th[k], NULL);
        ck_assert_msg(s[k].err == 0, "thread %d: %s", k, tps_strerror(s[k].err));
    }
    close(fd);
    tps_server_free(srv);
}
END_TEST

/* ---- mail for a connection whose callback sleeps -------------------------- */

/* It waits for the callback, and comes after what the callback sent. Other
 * connections' mail does not wait (the worker was handed on). */
START_TEST(test_mail_waits_for_callback)
{
    hd_ids_reset();
    const tu_opt opts[] = {{TPS_OPT_WORKERS, 1}, TU_OPT_END};
    tps_server *srv = tu_server_start(tu_mode(&reg_plain, 1), NULL, opts, NULL, NULL);
    int sl = tu_connect(tu_port(srv, 0), 0);
    uint64_t sid = hd_id_of(0);
    int other = tu_connect(tu_port(srv, 0), 0);
    uint64_t oid = hd_id_of(1);
    ck_assert_int_eq(tu_write_all(sl, "S\n", 2, 1000), 0);
    tu_sleep_ms(50); /* the 300 ms sleep is under way */
    int64_t t0 = tu_now_us();
    ck_assert_int_eq(tps_server_conn_send(srv, sid, "m1\n", 3), 0);
    ck_assert_int_eq(tps_server_conn_send(srv, oid, "o1\n", 3), 0);
    ck_assert_int_eq(tps_server_conn_send(srv, sid, "m2\n", 3), 0);
    expect(other, "o1\n");
    int64_t other_us = tu_now_us() - t0;
    expect(sl, "S\nm1\nm2\n");
    int64_t sl_us = tu_now_us() - t0;
    /* The sleep ends ~250 ms after t0: even a slow build is well before. */
    ck_assert_msg(other_us < tu_scale(100000, 200000), "the other connection's mail took %lld us",
                  (long long)other_us);
    ck_assert_msg(sl_us >= 200000, "mail overtook the sleeping callback (%lld us)",
                  (long long)sl_us);
    close(sl);
    close(other);
    tps_server_free(srv);
}
END_TEST

/* ---- the mailbox is bounded ------------------------------------------------ */

/* One worker blocked (no spare thread), so nothing is taken from its inbox:
 * TPS_OPT_MAX_OUTPUT bytes fit, the next byte is refused, and everything
 * accepted arrives once the callback returns. */
START_TEST(test_mail_bounded)
{
    hd_ids_reset();
    const tu_opt opts[] = {
        {TPS_OPT_WORKERS, 1}, {TPS_OPT_SPARE_THREADS, 0}, {TPS_OPT_MAX_OUTPUT, 4096}, TU_OPT_END};
    tps_server *srv = tu_server_start(tu_mode(&reg_plain, 1), NULL, opts, NULL, NULL);
    int fd = tu_connect(tu_port(srv, 0), 0);
    uint64_t id = hd_id_of(0);
    ck_assert_int_eq(tu_write_all(fd, "S", 1, 1000), 0);
    tu_sleep_ms(50);
    char chunk[1024];
    memset(chunk, 'm', sizeof chunk);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(tps_server_conn_send(srv, id, chunk, sizeof chunk), 0);
    ck_assert_int_eq(tps_server_conn_send(srv, id, "x", 1), TPS_ENOBUFS);
    expect(fd, "S");
    char back[4096];
    ck_assert_int_eq(tu_read_exact(fd, back, sizeof back, 3000, NULL), (long)sizeof back);
    for (size_t i = 0; i < sizeof back; i++)
        ck_assert_int_eq(back[i], 'm');
    close(fd);
    tps_server_free(srv);
}
END_TEST

Suite *lib_mail_suite(void)
{
    Suite *s = suite_create("lib_mail");
    TCase *tc = tcase_create("by_id");
    tcase_set_timeout(tc, tu_timeout(20));
    tcase_add_loop_test(tc, test_mail_send_and_close, 0, 2); /* plain, may-block */
    tcase_add_loop_test(tc, test_mail_many_threads, 0, 2);   /* plain, may-block */
    tcase_add_test(tc, test_mail_waits_for_callback);
    tcase_add_test(tc, test_mail_bounded);
    suite_add_tcase(s, tc);
    return s;
}
