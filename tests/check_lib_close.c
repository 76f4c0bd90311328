/* SPDX-License-Identifier: MIT */
/* check_lib_close.c - integration suite of "lose nothing": every close
 * that follows output lets the peer read all of it, then a clean EOF.
 * - A handler's close (tps_conn_close, on_data < 0) or an output-limit
 *   close while the peer has pipelined more input: the reply arrives
 *   whole, however slowly the peer reads, and no reset follows.
 * - An input-limit close: the handler's on_limit answer arrives, then EOF.
 * - A peer that keeps sending after the close is cut off at LINGER_MAX_MS.
 * - A graceful stop during many large uploads: every echo completes.
 * - A graceful stop with only idle connections ends after about
 *   LINGER_MS, not after the drain deadline, and a request that comes
 *   meanwhile is still answered.
 * Each test runs with a plain handler and with TPS_HANDLER_MAY_BLOCK. */
#include "testhandlers.h"
#include "suites.h"
#include "testutil.h"

#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* The handlers (the quit and line protocols) and the close reasons they
 * record are handlers.c's, shared with the TLS replay of these tests
 * (check_lib_tls_contract.c). */

/* The same handler, plain (mode 0) or may-block (mode 1): the library
 * copies the struct, so one definition serves both. */
static tps_server *start_mode(const tps_handler *h, int mode, const tu_opt *opts)
{
    tps_handler copy = *h;
    if (mode)
        copy.flags |= TPS_HANDLER_MAY_BLOCK;
    return tu_server_start(&copy, NULL, opts, NULL, NULL);
}

/* ---- a close after a large reply ------------------------------------------ */

/* hd_quit_handler: each line is echoed; "QUIT" is answered with BIG_REPLY
 * bytes of the pattern, then the connection is closed in one of three ways
 * (HOW_*), with whatever the peer sent after it unread. _i: mode *
 * HOW_COUNT + how. The client's receive window is small and it reads only
 * after a pause, so most of the reply still waits in the server's socket
 * when the close comes; then it sends 32 KiB more that nobody reads. Input
 * to a closed socket makes the kernel answer with a reset, and the reset
 * makes the client's kernel drop what it has not read yet: after a bare
 * close() the reply came cut at ~4 KiB. */
START_TEST(test_close_after_reply_loses_nothing)
{
    int mode = _i / HOW_COUNT, how = _i % HOW_COUNT;
    hd_seen_reset();
    hd_quit_reset(how);
    const tu_opt opts[] = {{TPS_OPT_MAX_OUTPUT, BIG_REPLY + 1024}, TU_OPT_END};
    tps_server *srv = start_mode(&hd_quit_handler, mode, opts);
    int fd = tu_connect_rcvbuf(tu_port(srv, 0), 4096, 0);
    ck_assert_int_eq(tu_echo_roundtrip(fd, "hello\n", 6, 5000), 0);
    size_t tail = 32 * 1024;
    char *req = malloc(tail);
    memset(req, 'x', tail);
    for (size_t i = 99; i < tail; i += 100)
        req[i] = '\n';
    ck_assert_int_eq(tu_write_all(fd, "QUIT\n", 5, 5000), 0);
    tu_sleep_ms(100);                                       /* the server answered and closed */
    ck_assert_int_eq(tu_write_all(fd, req, tail, 5000), 0); /* nobody will read it */
    tu_sleep_ms(200);
    char *back = malloc(BIG_REPLY);
    size_t got = 0;
    long r = tu_read_exact(fd, back, BIG_REPLY, 10000, &got);
    ck_assert_msg(r == BIG_REPLY, "how %d: %zu of %d reply bytes arrived (rc %ld: %s)", how, got,
                  BIG_REPLY, r, r < 0 ? strerror((int)-r) : "EOF");
    ck_assert_int_eq(memcmp(back, tu_pattern(), BIG_REPLY), 0);
    int eof = tu_wait_eof(fd, 5000);
    ck_assert_msg(eof == 0, "how %d: after the reply: %d (%s), not a clean EOF", how, eof,
                  eof < 0 ? strerror(-eof) : "more data");
    close(fd);
    tu_wait_stat(srv, TPS_STAT_CLOSED, 1, 5000);
    ck_assert_int_eq(atomic_load(&hd_reasons[hd_quit_close_reason[how]]), 1);
    if (how == HOW_OUTPUT_LIMIT) /* the second reply was refused */
        ck_assert_int_eq(atomic_load(&hd_quit_refused), 1);
    free(req);
    free(back);
    tps_server_free(srv);
}
END_TEST

/* ---- a peer that keeps talking after the close ----------------------------- */

/* Write a byte every 50 ms (shorter than LINGER_MS, so the quiet clock
 * never fires) until a write fails: the ms that took, or -1 if the
 * connection still took bytes after limit_ms. */
static long chatter_until_cut(int fd, long limit_ms)
{
    int64_t t0 = tu_now_us();
    while ((tu_now_us() - t0) / 1000 < limit_ms) {
        if (send(fd, "x", 1, MSG_NOSIGNAL) < 0)
            return (long)((tu_now_us() - t0) / 1000);
        tu_sleep_ms(50);
    }
    return -1;
}

/* hd_quit_handler's close after its reply, with a peer that reads the
 * reply and its EOF, then keeps sending: it is cut off LINGER_MAX_MS
 * (1 s here) after the close began, not at LINGER_MS (300 ms: it never
 * pauses that long), and with LINGER_MAX_MS at 60 s it is still served
 * 2 s later. _i: mode. */
START_TEST(test_close_linger_max_cuts_chatty_peer)
{
    for (int cap = 0; cap < 2; cap++) {
        hd_seen_reset();
        hd_quit_reset(HOW_CLOSE);
        const tu_opt opts[] = {
            {TPS_OPT_LINGER_MS, 300}, {TPS_OPT_LINGER_MAX_MS, cap == 0 ? 1000 : 60000}, TU_OPT_END};
        tps_server *srv = start_mode(&hd_quit_handler, _i, opts);
        int fd = tu_connect(tu_port(srv, 0), 0);
        ck_assert_int_eq(tu_write_all(fd, "QUIT\n", 5, 5000), 0);
        char *back = malloc(BIG_REPLY);
        size_t got = 0;
        ck_assert_int_eq(tu_read_exact(fd, back, BIG_REPLY, 10000, &got), BIG_REPLY);
        ck_assert_int_eq(tu_wait_eof(fd, 5000), 0); /* the close began */
        long took = chatter_until_cut(fd, cap == 0 ? tu_scale(5000, 15000) : 2000);
        fprintf(stderr, "linger max %d ms: a chatty peer was cut after %ld ms (-1: not)\n",
                cap == 0 ? 1000 : 60000, took);
        if (cap == 0) {
            ck_assert_msg(took >= 0, "a peer that kept sending was not cut off");
            ck_assert_msg(took >= 700, "cut after %ld ms, before LINGER_MAX_MS", took);
        } else {
            ck_assert_msg(took < 0, "cut after %ld ms with LINGER_MAX_MS at 60 s", took);
        }
        close(fd);
        free(back);
        tps_server_free(srv);
    }
}
END_TEST

/* ---- the input limit ------------------------------------------------------ */

/* hd_line_handler answers a line longer than TPS_OPT_MAX_INPUT with
 * TOO_LONG from on_limit. The peer overruns MAX_INPUT and goes on
 * sending: it reads the handler's reason, then EOF (not a reset), and its
 * neighbour is unaffected. */
START_TEST(test_close_input_limit_says_why)
{
    hd_seen_reset();
    hd_limit_reset();
    const tu_opt opts[] = {{TPS_OPT_MAX_INPUT, 4096}, TU_OPT_END};
    tps_server *srv = start_mode(&hd_line_handler, _i, opts);
    int port = tu_port(srv, 0), other = tu_connect(port, 0), hog = tu_connect(port, 0);
    ck_assert_int_eq(tu_echo_roundtrip(other, "one\n", 4, 5000), 0);
    size_t n = 256 * 1024;
    char *junk = malloc(n);
    memset(junk, 'j', n);
    /* Whole: the server reads (and discards) to the end while it lingers. */
    ck_assert_int_eq(tu_write_all(hog, junk, n, 10000), 0);
    char back[sizeof(TOO_LONG) - 1];
    size_t got = 0;
    long r = tu_read_exact(hog, back, sizeof back, 5000, &got);
    ck_assert_msg(r == (long)sizeof back, "the peer read %zu bytes of the reason (rc %ld: %s)", got,
                  r, r < 0 ? strerror((int)-r) : "EOF");
    ck_assert_int_eq(memcmp(back, TOO_LONG, sizeof back), 0);
    int eof = tu_wait_eof(hog, 5000);
    ck_assert_msg(eof == 0, "after the reason: %d (%s), not a clean EOF", eof,
                  eof < 0 ? strerror(-eof) : "more data");
    ck_assert_int_eq(atomic_load(&hd_limit_calls), 1);
    ck_assert_int_eq(atomic_load(&hd_limit_reason), TPS_CLOSE_INPUT_LIMIT);
    ck_assert_int_eq(atomic_load(&hd_limit_send_rc), 0); /* the reason was queued */
    ck_assert_uint_eq(tu_wait_stat(srv, TPS_STAT_INPUT_LIMIT, 1, 3000), 1);
    ck_assert_int_eq(tu_echo_roundtrip(other, "two\n", 4, 5000), 0);
    close(hog);
    close(other);
    free(junk);
    tps_server_free(srv);
}
END_TEST

/* ---- a graceful stop during uploads ---------------------------------------- */

#define UPLOAD  (1u << 20)
#define CHUNK   (32 * 1024)
#define PACE_US 8000 /* a chunk per client every 8 ms: ~260 ms per upload */

typedef struct upload {
    int fd;
    size_t off; /* where in the pattern its bytes start */
    size_t sent, got;
    int64_t next_send_us;
    int eof; /* 1 clean EOF, -errno on a reset or error */
} upload;

/* All clients in one poll loop: each sends UPLOAD bytes, paced, while it
 * reads its echo; the stop comes when they are about a third through.
 * Returns 0 when every client got its whole echo and then a clean EOF;
 * otherwise explains the first one that did not in err. */
static int run_uploads(tps_server *srv, upload *u, int n, unsigned drain_ms, char *err,
                       size_t errlen)
{
    struct pollfd *pfd = calloc((size_t)n, sizeof *pfd);
    char *buf = malloc(CHUNK);
    int64_t t0 = tu_now_us(), stop_at = t0 + 90000, end = t0 + tu_scale(20, 60) * 1000000;
    int stopped = 0, left = n;
    while (left > 0 && tu_now_us() < end) {
        int64_t now = tu_now_us();
        if (!stopped && now >= stop_at) {
            ck_assert_int_eq(tps_server_stop(srv, drain_ms), 0);
            stopped = 1;
        }
        for (int i = 0; i < n; i++) {
            pfd[i].fd = u[i].eof ? -1 : u[i].fd;
            pfd[i].events = POLLIN;
            if (u[i].sent < UPLOAD && now >= u[i].next_send_us)
                pfd[i].events |= POLLOUT;
        }
        poll(pfd, (nfds_t)n, 2);
        now = tu_now_us();
        for (int i = 0; i < n; i++) {
            upload *c = &u[i];
            if (pfd[i].revents & POLLOUT) {
                size_t len = UPLOAD - c->sent < CHUNK ? UPLOAD - c->sent : CHUNK;
                ssize_t w = send(c->fd, tu_pattern() + c->off + c->sent, len, MSG_NOSIGNAL);
                if (w > 0) {
                    c->sent += (size_t)w;
                    c->next_send_us = now + PACE_US;
                }
            }
            if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            ssize_t r = recv(c->fd, buf, CHUNK, MSG_DONTWAIT);
            if (r > 0) {
                if (c->got + (size_t)r > UPLOAD ||
                    memcmp(buf, tu_pattern() + c->off + c->got, (size_t)r) != 0) {
                    snprintf(err, errlen, "client %d: wrong echo bytes at %zu", i, c->got);
                    left = 0;
                    break;
                }
                c->got += (size_t)r;
            } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
                c->eof = r == 0 ? 1 : -errno;
                left--;
            }
        }
    }
    for (int i = 0; i < n && !err[0]; i++)
        if (u[i].got != UPLOAD || u[i].eof != 1)
            snprintf(err, errlen, "client %d: sent %zu, echo %zu of %u bytes, then %s", i,
                     u[i].sent, u[i].got, UPLOAD,
                     u[i].eof == 1 ? "EOF"
                     : u[i].eof    ? strerror(-u[i].eof)
                                   : "nothing");
    free(buf);
    free(pfd);
    return err[0] ? -1 : 0;
}

/* A stop with a long deadline, while 100 clients are sending 1 MiB
 * each: every echo completes and ends with a clean EOF, and the stop
 * ends once they are done and quiet, well before its deadline. (The
 * drain used to stop reading any connection whose input and output were
 * empty for a moment: the echoes were cut at the stop, 100 of 100.) */
START_TEST(test_close_stop_finishes_uploads)
{
    hd_seen_reset();
    int n = (int)tu_scale(100, 12);
    const tu_opt opts[] = {{TPS_OPT_WORKERS, 2}, {TPS_OPT_LINGER_MS, 300}, TU_OPT_END};
    tps_server *srv = start_mode(&tps_echo_handler, _i, opts);
    upload *u = calloc((size_t)n, sizeof *u);
    for (int i = 0; i < n; i++) {
        u[i].fd = tu_connect(tu_port(srv, 0), 1);
        u[i].off = (size_t)i * 4099 % UPLOAD;
    }
    char err[300] = "";
    int64_t t0 = tu_now_us();
    int rc = run_uploads(srv, u, n, 15000, err, sizeof err);
    ck_assert_msg(rc == 0, "%s", err);
    ck_assert_int_eq(tps_server_wait(srv), 0);
    int64_t took = (tu_now_us() - t0) / 1000;
    fprintf(stderr, "uploads: %d x %u bytes echoed whole across a stop, done in %lld ms\n", n,
            UPLOAD, (long long)took);
    ck_assert_msg(took < tu_scale(8000, 30000), "the stop took %lld ms of its 15000",
                  (long long)took);
    for (int i = 0; i < n; i++)
        close(u[i].fd);
    free(u);
    tps_server_free(srv);
}
END_TEST

/* ---- a graceful stop with idle connections --------------------------------- */

/* 20 idle, answered connections; half close when they read EOF, half
 * never do. stop(10 s): the stop waits LINGER_MS (300 ms here) for late
 * input, then half-closes them all, waits up to LINGER_MS more for the
 * peers' EOF, and ends: after ~0.3-0.6 s, not 10 s. A request sent
 * 100 ms into the stop is still answered. */
START_TEST(test_close_stop_idle_is_prompt)
{
    hd_seen_reset();
    enum { N = 20 };
    const tu_opt opts[] = {{TPS_OPT_LINGER_MS, 300}, TU_OPT_END};
    tps_handler rec = {.name = "rec-echo", .on_data = hd_line_on_data, .on_close = hd_rec_on_close};
    tps_server *srv = start_mode(&rec, _i, opts);
    int fds[N];
    for (int i = 0; i < N; i++) {
        fds[i] = tu_connect(tu_port(srv, 0), 0);
        ck_assert_int_eq(tu_echo_roundtrip(fds[i], "hi\n", 3, 5000), 0);
    }
    int64_t t0 = tu_now_us();
    ck_assert_int_eq(tps_server_stop(srv, 10000), 0);
    tu_sleep_ms(100);
    ck_assert_msg(tu_echo_roundtrip(fds[0], "late\n", 5, 3000) == 0,
                  "a request 100 ms into the stop was not answered");
    for (int i = 0; i < N; i += 2) { /* the polite half */
        ck_assert_int_eq(tu_wait_eof(fds[i], 5000), 0);
        close(fds[i]);
    }
    ck_assert_int_eq(tps_server_wait(srv), 0);
    int64_t took = (tu_now_us() - t0) / 1000;
    fprintf(stderr, "idle stop: wait returned after %lld ms (LINGER_MS 300, deadline 10000)\n",
            (long long)took);
    ck_assert_msg(took >= 300, "the stop did not wait for late input (%lld ms)", (long long)took);
    ck_assert_msg(took < tu_scale(1500, 4000), "a stop with only idle connections took %lld ms",
                  (long long)took);
    for (int i = 1; i < N; i += 2) {
        ck_assert_int_eq(tu_wait_eof(fds[i], 1000), 0);
        close(fds[i]);
    }
    ck_assert_int_eq(atomic_load(&hd_reasons[TPS_CLOSE_SHUTDOWN]), N);
    tps_server_free(srv);
}
END_TEST

Suite *lib_close_suite(void)
{
    Suite *s = suite_create("lib_close");
    TCase *tc = tcase_create("close");
    tcase_set_timeout(tc, tu_timeout(30));
    tcase_add_loop_test(tc, test_close_after_reply_loses_nothing, 0, 2 * HOW_COUNT);
    tcase_add_loop_test(tc, test_close_input_limit_says_why, 0, 2);
    tcase_add_loop_test(tc, test_close_linger_max_cuts_chatty_peer, 0, 2);
    suite_add_tcase(s, tc);

    tc = tcase_create("stop");
    tcase_set_timeout(tc, tu_timeout(60));
    tcase_add_loop_test(tc, test_close_stop_finishes_uploads, 0, 2);
    tcase_add_loop_test(tc, test_close_stop_idle_is_prompt, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}
