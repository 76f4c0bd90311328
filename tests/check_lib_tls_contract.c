/* SPDX-License-Identifier: MIT */
/* check_lib_tls_contract.c - the handler contract over tls: listeners
 * behaves exactly as over plain TCP (tpserv.h: "backpressure, limits,
 * timeouts, the lingering close (a close_notify first) and the drain
 * behave as over TCP"). Each test mirrors a plaintext one and asserts
 * what it asserts (the same close reason, statistic and bytes
 * delivered), with a real OpenSSL client (tlscli.c) in place of the
 * socket, plus what only TLS can say: a close that follows output ends
 * with a close_notify after the last byte, and one that gives up on the
 * peer does not.
 * - tps_server_conn_send/close from other threads (check_lib_mail.c):
 *   by id, in order, from many threads at once, and while the
 *   connection's may-block callback is blocked;
 * - backpressure for a slow reader (check_lib_echo.c);
 * - the send timeout and MAX_OUTPUT for a peer that does not read
 *   (check_lib_limits.c);
 * - a close after a large reply loses nothing, and the input limit's
 *   on_limit answer arrives before the close (check_lib_close.c).
 * Each runs with a plain and a may-block handler. Handshake, idle
 * timeout and graceful stop are check_lib_tls.c's. */
#include "config.h"

#include "testhandlers.h"
#include "suites.h"
#include "testutil.h"
#include "tlscli.h"

#ifdef HAVE_OPENSSL
#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const tps_tls_config server_cfg = {
    .cert_file = TCLI_CERTS "server.pem",
    .key_file = TCLI_CERTS "server.key",
    .alpn = "tpserv-test,http/1.1",
};

/* How long to wait for what must happen: only a failing test waits it
 * out, so it is generous (a loaded 2-core machine, a sanitized build). */
static long wait_ms(void)
{
    return tu_scale(10000, 30000);
}

/* A started server of h (may-block if mayblock) on a tls: listener. */
static tps_server *start_tls(const tps_handler *h, int mayblock, const tu_opt *opts)
{
    tps_server *srv = tu_server_new(tu_mode(h, mayblock), NULL, opts, NULL);
    int rc = tps_server_tls(srv, &server_cfg);
    ck_assert_msg(rc == 0, "tps_server_tls: %s", tps_strerror(rc));
    rc = tps_server_listen(srv, "tls:127.0.0.1:0");
    ck_assert_msg(rc == 0, "listen: %s", tps_strerror(rc));
    ck_assert_int_eq(tps_server_start(srv), 0);
    return srv;
}

/* A client whose receive window is small (SO_RCVBUF rcvbuf): one that
 * reads slowly or not at all fills it, and the server's socket, soon. */
static void open_small(tcli *t, int port, int rcvbuf)
{
    SSL_CTX *ctx = tcli_ctx(NULL, NULL, 0);
    ck_assert_msg(tcli_handshake(t, tcli_tcp_rcvbuf(port, rcvbuf), ctx, NULL),
                  "TLS handshake failed");
    t->own = ctx;
}

/* Read exactly want's bytes and compare. */
static void expect(tcli *t, const char *want)
{
    size_t n = strlen(want);
    char got[256];
    ck_assert_uint_lt(n, sizeof got);
    size_t k = tcli_read(t, got, n);
    got[k] = '\0';
    ck_assert_msg(k == n, "read '%s' (%zu bytes) waiting for '%s'", got, k, want);
    ck_assert_str_eq(got, want);
}

/* Read and discard to the end of the stream: the server's close_notify
 * (1), an EOF or reset without one (0), or nothing more within the
 * client's timeout (-1). *got counts the bytes read. */
static int drain_to_end(tcli *t, size_t *got)
{
    char buf[16384];
    int k;
    while ((k = SSL_read(t->ssl, buf, sizeof buf)) > 0)
        *got += (size_t)k;
    int saved = errno, e = SSL_get_error(t->ssl, k);
    ERR_clear_error();
    if (e == SSL_ERROR_SYSCALL && (saved == EAGAIN || saved == EWOULDBLOCK))
        return -1; /* SO_RCVTIMEO: silence, not an end */
    return e == SSL_ERROR_ZERO_RETURN ? 1 : e == SSL_ERROR_SSL || e == SSL_ERROR_SYSCALL ? 0 : -1;
}

/* The handlers and what they saw (close reasons, output pending) are
 * handlers.c's: the plaintext tests replayed here use the same ones, so
 * the two suites cannot drift apart. Only those whose plaintext
 * counterpart differs stay here (the gated echo, the pending-noting echo). */

/* ---- reaching a connection from other threads ---------------------------------------- */

/* Only the callback that blocks differs from check_lib_mail.c's (a gate
 * rather than a fixed sleep): the ids and senders are handlers.c's. */
static atomic_int gate_open, in_gate;

static void ids_reset(void)
{
    hd_ids_reset();
    atomic_store(&gate_open, 0);
    atomic_store(&in_gate, 0);
}

/* Echo; a message starting with 'G' first waits until the test opens the
 * gate (a callback that blocks for as long as the test needs, with no
 * clock in the assertion; bounded so a failed test cannot hang). */
static long reg_on_data(tps_conn *c, const char *data, size_t len)
{
    if (data[0] == 'G') {
        atomic_store(&in_gate, 1);
        int64_t end = tu_now_us() + (int64_t)(tu_timeout(60) * 1e6);
        while (!atomic_load(&gate_open) && tu_now_us() < end)
            tu_sleep_ms(2);
    }
    tps_conn_send(c, data, len);
    return (long)len;
}

static const tps_handler reg_handler = {
    .name = "reg",
    .on_open = hd_reg_on_open,
    .on_data = reg_on_data,
    .on_close = hd_rec_on_close,
};

/* check_lib_mail.c's test_mail_send_and_close over TLS: mail by id
 * arrives, the connection still echoes, a close by id comes after what
 * was queued before it, with a close_notify then the FIN (TCP: a clean
 * EOF), and the id is stale afterwards, never another client's. */
START_TEST(tls_by_id_send_and_close)
{
    ids_reset();
    hd_seen_reset();
    const tu_opt opts[] = {{TPS_OPT_WORKERS, 2}, TU_OPT_END};
    tps_server *srv = start_tls(&reg_handler, _i, opts);
    tcli t, t2;
    tcli_open_echoed(&t, tu_port(srv, 0), NULL);
    uint64_t id = hd_id_of(0);
    ck_assert_int_eq(tps_server_conn_send(srv, id, "hello\n", 6), 0);
    expect(&t, "hello\n");
    ck_assert(tcli_echo(&t, (const unsigned char *)"ping\n", 5, wait_ms())); /* still an echo */
    ck_assert_int_eq(tps_server_conn_send(srv, id, "bye\n", 4), 0);
    ck_assert_int_eq(tps_server_conn_close(srv, id), 0);
    expect(&t, "bye\n");
    ck_assert_int_eq(tcli_end(&t), 1);
    ck_assert_int_eq(tu_wait_eof(t.fd, wait_ms()), 0);
    tcli_free(&t);
    ck_assert_msg(hd_wait_reason(TPS_CLOSE_HANDLER, 1, wait_ms()) >= 0, "no HANDLER close");
    int rc = 0;
    for (int k = 0; k < 300 && (rc = tps_server_conn_send(srv, id, "x", 1)) == 0; k++)
        tu_sleep_ms(10);
    ck_assert_int_eq(rc, TPS_ENOTCONN);
    tcli_open_echoed(&t2, tu_port(srv, 0), NULL);
    uint64_t id2 = hd_id_of(1);
    ck_assert_uint_ne(id2, id);
    ck_assert_int_eq(tps_server_conn_send(srv, id, "x", 1), TPS_ENOTCONN);
    ck_assert_int_eq(tps_server_conn_send(srv, id2, "new\n", 4), 0);
    expect(&t2, "new\n");
    tcli_free(&t2);
    ck_assert_int_eq(atomic_load(&hd_reasons[TPS_CLOSE_HANDLER]), 1);
    tps_server_free(srv);
}
END_TEST

/* Every line arrives whole, and each thread's lines in its order. */
static void check_lines(tcli *t)
{
    int next[MAIL_SENDERS] = {0}, total = 0;
    char buf[16384], line[64];
    size_t have = 0;
    while (total < MAIL_SENDERS * MAIL_LINES) {
        int n = SSL_read(t->ssl, buf, sizeof buf);
        if (n <= 0)
            ck_abort_msg("after %d lines: SSL_read error %d", total, SSL_get_error(t->ssl, n));
        for (int j = 0; j < n; j++) { /* no ck_assert per byte: each is a syscall */
            if (have == sizeof line)
                ck_abort_msg("after %d lines: no end of line in %zu bytes", total, have);
            line[have++] = buf[j];
            if (buf[j] != '\n')
                continue;
            line[have - 1] = '\0';
            int k, i;
            if (sscanf(line, "t%d %d", &k, &i) != 2 || k < 0 || k >= MAIL_SENDERS)
                ck_abort_msg("garbled line '%s'", line);
            if (i != next[k])
                ck_abort_msg("thread %d: line %d after %d", k, i, next[k] - 1);
            next[k]++;
            total++;
            have = 0;
        }
    }
}

/* check_lib_mail.c's test_mail_many_threads over TLS: four threads send
 * to one connection at once, the mailbox small (MAX_OUTPUT 4096) so they
 * meet TPS_ENOBUFS and retry; the records carry every line whole, each
 * thread's in order. */
START_TEST(tls_by_id_many_threads)
{
    ids_reset();
    const tu_opt opts[] = {{TPS_OPT_WORKERS, 2}, {TPS_OPT_MAX_OUTPUT, 4096}, TU_OPT_END};
    tps_server *srv = start_tls(&reg_handler, _i, opts);
    tcli t;
    tcli_open_echoed(&t, tu_port(srv, 0), NULL);
    hd_sender s[MAIL_SENDERS];
    pthread_t th[MAIL_SENDERS];
    for (int k = 0; k < MAIL_SENDERS; k++) {
        s[k] = (hd_sender){.srv = srv, .id = hd_id_of(0), .k = k};
        ck_assert_int_eq(pthread_create(&th[k], NULL, hd_sender_main, &s[k]), 0);
    }
    check_lines(&t);
    for (int k = 0; k < MAIL_SENDERS; k++) {
        pthread_join(th[k], NULL);
        ck_assert_msg(s[k].err == 0, "thread %d: %s", k, tps_strerror(s[k].err));
    }
    tcli_free(&t);
    tps_server_free(srv);
}
END_TEST

/* check_lib_mail.c's test_mail_waits_for_callback over TLS, one worker:
 * while one connection's may-block callback is blocked, mail for another
 * TLS connection on the same worker is delivered (the worker was handed
 * on; without that it would wait for the gate, which opens only after),
 * and that one still echoes; mail for the blocked one waits and comes
 * after what its callback sent, in order. */
START_TEST(tls_by_id_waits_for_blocked_callback)
{
    ids_reset();
    const tu_opt opts[] = {{TPS_OPT_WORKERS, 1}, TU_OPT_END};
    tps_server *srv = start_tls(&reg_handler, 1, opts);
    tcli blocked, other;
    tcli_open_echoed(&blocked, tu_port(srv, 0), NULL);
    uint64_t bid = hd_id_of(0);
    tcli_open_echoed(&other, tu_port(srv, 0), NULL);
    uint64_t oid = hd_id_of(1);
    tcli_write(&blocked, "G\n", 2);
    int64_t end = tu_now_us() + wait_ms() * 1000;
    while (!atomic_load(&in_gate) && tu_now_us() < end)
        tu_sleep_ms(2);
    ck_assert_msg(atomic_load(&in_gate), "the callback never started");
    ck_assert_int_eq(tps_server_conn_send(srv, bid, "m1\n", 3), 0);
    ck_assert_int_eq(tps_server_conn_send(srv, oid, "o1\n", 3), 0);
    ck_assert_int_eq(tps_server_conn_send(srv, bid, "m2\n", 3), 0);
    char got[4] = "";
    size_t k = tcli_read(&other, got, 3);
    int echoed = k == 3 && tcli_echo(&other, (const unsigned char *)"e\n", 2, wait_ms());
    int gate_was_closed = !atomic_exchange(&gate_open, 1); /* before any assertion */
    ck_assert_msg(k == 3 && memcmp(got, "o1\n", 3) == 0,
                  "mail for the other connection waited for the blocked callback (%zu bytes)", k);
    ck_assert_msg(echoed, "the other connection was not served while a callback blocked");
    ck_assert(gate_was_closed);
    expect(&blocked, "G\nm1\nm2\n");
    ck_assert_uint_ge(tps_server_stat(srv, TPS_STAT_HANDOFFS), 1);
    tcli_free(&blocked);
    tcli_free(&other);
    tps_server_free(srv);
}
END_TEST

/* ---- backpressure ------------------------------------------------------------------- */

/* check_lib_echo.c's stream_slowly over TLS: writes in[0..n) and checks
 * every byte of the echo, reading it slowly (1 ms between reads of at
 * most one record). It starts to read only once the server has stopped
 * reading (BACKPRESSURE) or everything is sent: a reader merely slower
 * than the server may still keep up with a slow (sanitized, loaded)
 * build, and the test would then prove nothing. n exceeds what the
 * kernel buffers hold, so a server that did not pause would hold
 * megabytes of output (9 MiB when tried). */
static void stream_slowly(tps_server *srv, tcli *t, const unsigned char *in, size_t n)
{
    size_t sent = 0, rcvd = 0, retry = 0; /* a write to repeat as it was (OpenSSL's rule) */
    unsigned char buf[16384];
    bool reading = false;
    int64_t end = tu_now_us() + tu_scale(30000, 120000) * 1000;
    int fl = fcntl(t->fd, F_GETFL);
    fcntl(t->fd, F_SETFL, fl | O_NONBLOCK);
    while (rcvd < n && tu_now_us() < end) {
        if (sent < n) {
            size_t k = retry ? retry : n - sent > 65536 ? 65536 : n - sent;
            int w = tcli_ssl_write(t->ssl, in + sent, (int)k);
            int e = w > 0 ? SSL_ERROR_NONE : SSL_get_error(t->ssl, w);
            if (w > 0)
                sent += (size_t)w, retry = 0;
            else if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ)
                retry = k;
            else
                ck_abort_msg("SSL_write: error %d after %zu bytes", e, sent);
        }
        tu_sleep_ms(1);
        reading = reading || sent == n || tps_server_stat(srv, TPS_STAT_BACKPRESSURE) > 0;
        if (!reading)
            continue;
        int r = SSL_read(t->ssl, buf, sizeof buf);
        if (r <= 0) {
            int e = SSL_get_error(t->ssl, r);
            if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
                ck_abort_msg("SSL_read: error %d after %zu of %zu bytes", e, rcvd, n);
            continue;
        }
        if ((size_t)r > n - rcvd || memcmp(buf, in + rcvd, (size_t)r) != 0)
            ck_abort_msg("wrong bytes in [%zu, %zu)", rcvd, rcvd + (size_t)r);
        rcvd += (size_t)r;
    }
    ERR_clear_error();
    fcntl(t->fd, F_SETFL, fl);
    ck_assert_msg(rcvd == n, "received %zu of %zu (sent %zu)", rcvd, n, sent);
}

/* The echo handler's work, noting the most output it ever had pending. */
static long echo_on_data(tps_conn *c, const char *data, size_t len)
{
    if (tps_conn_send(c, data, len) < 0)
        return -1;
    hd_note_pending(c);
    return (long)len;
}

static const tps_handler echo_handler = {
    .name = "echo",
    .on_data = echo_on_data,
    .on_close = hd_rec_on_close,
};

/* check_lib_echo.c's test_echo_slow_reader over TLS: the echo owed to a
 * client that reads slowly passes OUTPUT_HIGH_WATER, the server stops
 * reading it (BACKPRESSURE), and every byte still arrives in order. The
 * output it held stayed within the high water plus one read's answer (a
 * read takes 64 KiB at most; check_lib_limits.c's output memory bound). */
START_TEST(tls_backpressure_slow_reader)
{
    const long hw = 65536;
    const tu_opt opts[] = {{TPS_OPT_OUTPUT_HIGH_WATER, hw}, TU_OPT_END};
    hd_seen_reset();
    tps_server *srv = start_tls(&echo_handler, _i, opts);
    tcli t;
    open_small(&t, tu_port(srv, 0), 16384);
    const size_t total = 16u << 20; /* past every kernel buffer */
    unsigned char *data = malloc(total);
    ck_assert_ptr_nonnull(data);
    for (size_t i = 0; i < total; i += TU_PATTERN_LEN)
        memcpy(data + i, tu_pattern(), total - i < TU_PATTERN_LEN ? total - i : TU_PATTERN_LEN);
    stream_slowly(srv, &t, data, total);
    free(data);
    ck_assert_msg(tps_server_stat(srv, TPS_STAT_BACKPRESSURE) > 0,
                  "BACKPRESSURE stat is 0 after %zu bytes to a slow reader", total);
    long held = atomic_load(&hd_max_pending);
    ck_assert_msg(held <= hw + 65536, "%ld bytes of output held, high water %ld", held, hw);
    tcli_free(&t);
    tps_server_free(srv);
}
END_TEST

/* ---- a peer that does not read: send timeout, MAX_OUTPUT ------------------------------ */

/* check_lib_limits.c's test_limits_send_timeout over TLS: output to a
 * client that never reads makes no progress, and the connection is
 * closed at the send timeout (SEND_TIMEOUT, its stat), its output within
 * MAX_OUTPUT. A timeout gives up on the peer: what it read ends without
 * a close_notify, so it can tell the stream was cut. */
START_TEST(tls_send_timeout)
{
    hd_seen_reset();
    const tu_opt opts[] = {{TPS_OPT_SEND_TIMEOUT_MS, 300},
                           {TPS_OPT_MAX_OUTPUT, 262144},
                           {TPS_OPT_OUTPUT_HIGH_WATER, 65536},
                           TU_OPT_END};
    tps_server *srv = start_tls(&hd_producer_handler, _i, opts);
    tcli t;
    open_small(&t, tu_port(srv, 0), 8192); /* and never reads */
    int64_t waited = hd_wait_reason(TPS_CLOSE_SEND_TIMEOUT, 1, wait_ms());
    ck_assert_msg(waited >= 0,
                  "%s: no SEND_TIMEOUT close for a peer that never reads "
                  "(reasons: output_limit %d, error %d, tls %d)",
                  _i ? "may-block" : "plain", atomic_load(&hd_reasons[TPS_CLOSE_OUTPUT_LIMIT]),
                  atomic_load(&hd_reasons[TPS_CLOSE_ERROR]),
                  atomic_load(&hd_reasons[TPS_CLOSE_TLS]));
    ck_assert_uint_eq(tu_wait_stat(srv, TPS_STAT_SEND_TIMEOUTS, 1, wait_ms()), 1);
    ck_assert_int_le(atomic_load(&hd_max_pending), 262144);
    size_t got = 0;
    int end = drain_to_end(&t, &got);
    ck_assert_msg(end == 0, "after %zu bytes: %s", got,
                  end == 1 ? "a close_notify, as if the stream were whole" : "no end");
    ck_assert_uint_gt(got, 0);
    tcli_free(&t);
    tps_server_free(srv);
}
END_TEST

/* check_lib_limits.c's test_limits_max_output over TLS: the flood
 * handler queues more than MAX_OUTPUT for a client that does not read;
 * the send past it is refused (TPS_ENOBUFS) and the connection closed
 * (OUTPUT_LIMIT, its stat), never holding more than the limit. Then the
 * client reads: what was queued before the refusal arrives whole
 * (tpserv.h: "closed ... after what was queued before is written"), then
 * a close_notify and the FIN. */
START_TEST(tls_max_output)
{
    hd_seen_reset();
    const tu_opt opts[] = {{TPS_OPT_MAX_OUTPUT, 262144}, TU_OPT_END};
    tps_server *srv = start_tls(&hd_flood_handler, _i, opts);
    tcli t;
    open_small(&t, tu_port(srv, 0), 8192);
    tcli_write(&t, "x", 1);
    ck_assert_msg(hd_wait_reason(TPS_CLOSE_OUTPUT_LIMIT, 1, wait_ms()) >= 0,
                  "no OUTPUT_LIMIT close; last send rc %d (reasons: send_timeout %d, error %d)",
                  atomic_load(&hd_last_send_rc), atomic_load(&hd_reasons[TPS_CLOSE_SEND_TIMEOUT]),
                  atomic_load(&hd_reasons[TPS_CLOSE_ERROR]));
    ck_assert_int_eq(atomic_load(&hd_last_send_rc), TPS_ENOBUFS);
    ck_assert_int_le(atomic_load(&hd_max_pending), 262144);
    ck_assert_uint_eq(tu_wait_stat(srv, TPS_STAT_OUTPUT_LIMIT, 1, wait_ms()), 1);
    enum { CHUNK = 65536, CHUNKS = 262144 / CHUNK };
    unsigned char *back = malloc(CHUNK);
    ck_assert_ptr_nonnull(back);
    for (int i = 0; i < CHUNKS; i++) {
        size_t k = tcli_read(&t, back, CHUNK);
        ck_assert_msg(k == CHUNK, "chunk %d: %zu of %d bytes", i, k, CHUNK);
        ck_assert_msg(memcmp(back, tu_pattern() + i * 1024, CHUNK) == 0, "chunk %d differs", i);
    }
    free(back);
    ck_assert_int_eq(tcli_end(&t), 1);
    ck_assert_int_eq(tu_wait_eof(t.fd, wait_ms()), 0);
    tcli_free(&t);
    tps_server_free(srv);
}
END_TEST

/* ---- a close after a large reply, the input limit ------------------------------------- */

/* check_lib_close.c's test_close_after_reply_loses_nothing over TLS; _i
 * is mode * HOW_COUNT + how. The client's window is small and it reads
 * only after a pause, so most of the reply still waits in the server when
 * the close comes; then it sends 32 KiB more that nobody reads. The reply
 * arrives whole, then a close_notify and the FIN (TCP: a clean EOF, not a
 * reset that drops the unread reply). */
START_TEST(tls_close_after_reply_loses_nothing)
{
    int mode = _i / HOW_COUNT, how = _i % HOW_COUNT;
    hd_seen_reset();
    hd_quit_reset(how);
    const tu_opt opts[] = {{TPS_OPT_MAX_OUTPUT, BIG_REPLY + 1024}, TU_OPT_END};
    tps_server *srv = start_tls(&hd_quit_handler, mode, opts);
    tcli t;
    open_small(&t, tu_port(srv, 0), 4096);
    ck_assert(tcli_echo(&t, (const unsigned char *)"hello\n", 6, wait_ms()));
    size_t tail = 32 * 1024;
    char *req = malloc(tail);
    ck_assert_ptr_nonnull(req);
    memset(req, 'x', tail);
    for (size_t i = 99; i < tail; i += 100)
        req[i] = '\n';
    tcli_write(&t, "QUIT\n", 5);
    tu_sleep_ms(100);          /* the server answered and closed */
    tcli_write(&t, req, tail); /* nobody will read it */
    tu_sleep_ms(200);
    unsigned char *back = malloc(BIG_REPLY);
    ck_assert_ptr_nonnull(back);
    size_t got = tcli_read(&t, back, BIG_REPLY);
    ck_assert_msg(got == BIG_REPLY, "how %d: %zu of %d reply bytes arrived", how, got, BIG_REPLY);
    ck_assert_int_eq(memcmp(back, tu_pattern(), BIG_REPLY), 0);
    int end = tcli_end(&t);
    ck_assert_msg(end == 1, "how %d: after the reply: %d, not a close_notify", how, end);
    int eof = tu_wait_eof(t.fd, wait_ms());
    ck_assert_msg(eof == 0, "how %d: after the close_notify: %d (%s), not a clean EOF", how, eof,
                  eof < 0 ? strerror(-eof) : "more data");
    tcli_free(&t);
    tu_wait_stat(srv, TPS_STAT_CLOSED, 1, wait_ms());
    ck_assert_int_eq(atomic_load(&hd_reasons[hd_quit_close_reason[how]]), 1);
    if (how == HOW_OUTPUT_LIMIT)
        ck_assert_int_eq(atomic_load(&hd_quit_refused), 1);
    free(req);
    free(back);
    tps_server_free(srv);
}
END_TEST

/* check_lib_close.c's test_close_input_limit_says_why and
 * check_lib_limits.c's test_limits_max_input over TLS; _i is mode * 2 +
 * (1 with on_limit). A peer overruns MAX_INPUT and goes on sending: it
 * reads on_limit's reason (if the handler has one), then a close_notify
 * and the FIN (TCP: a clean EOF, not a reset); INPUT_LIMIT is the reason
 * and the stat; a neighbour is served before and after. */
START_TEST(tls_input_limit)
{
    int mode = _i / 2, says_why = _i % 2;
    hd_seen_reset();
    hd_limit_reset();
    tps_handler h = hd_line_handler;
    if (!says_why)
        h.on_limit = NULL;
    const tu_opt opts[] = {{TPS_OPT_MAX_INPUT, 4096}, TU_OPT_END};
    tps_server *srv = start_tls(&h, mode, opts);
    tcli other, hog;
    tcli_open_echoed(&other, tu_port(srv, 0), NULL);
    tcli_open_echoed(&hog, tu_port(srv, 0), NULL);
    size_t n = 256 * 1024;
    char *junk = malloc(n);
    ck_assert_ptr_nonnull(junk);
    memset(junk, 'j', n);
    /* Whole: the server reads (and discards) to the end while it lingers. */
    tcli_write(&hog, junk, n);
    if (says_why) {
        char back[sizeof(TOO_LONG) - 1];
        size_t got = tcli_read(&hog, back, sizeof back);
        ck_assert_msg(got == sizeof back, "the peer read %zu bytes of the reason", got);
        ck_assert_int_eq(memcmp(back, TOO_LONG, sizeof back), 0);
    }
    int end = tcli_end(&hog);
    ck_assert_msg(end == 1, "after %s: %d, not a close_notify",
                  says_why ? "the reason" : "the input", end);
    int eof = tu_wait_eof(hog.fd, wait_ms());
    ck_assert_msg(eof == 0, "after the close_notify: %d (%s), not a clean EOF", eof,
                  eof < 0 ? strerror(-eof) : "more data");
    ck_assert_int_eq(atomic_load(&hd_limit_calls), says_why);
    if (says_why) {
        ck_assert_int_eq(atomic_load(&hd_limit_reason), TPS_CLOSE_INPUT_LIMIT);
        ck_assert_int_eq(atomic_load(&hd_limit_send_rc), 0);
    }
    ck_assert_uint_eq(tu_wait_stat(srv, TPS_STAT_INPUT_LIMIT, 1, wait_ms()), 1);
    tcli_free(&hog);
    ck_assert_msg(hd_wait_reason(TPS_CLOSE_INPUT_LIMIT, 1, wait_ms()) >= 0, "no INPUT_LIMIT close");
    ck_assert(tcli_echo(&other, (const unsigned char *)"two\n", 4, wait_ms()));
    tcli_free(&other);
    free(junk);
    tps_server_free(srv);
}
END_TEST

Suite *lib_tls_contract_suite(void)
{
    Suite *s = suite_create("lib_tls_contract");
    TCase *tc = tcase_create("contract");
    tcase_set_timeout(tc, tu_timeout(60));
    tcase_add_loop_test(tc, tls_by_id_send_and_close, 0, 2); /* plain, may-block */
    tcase_add_loop_test(tc, tls_by_id_many_threads, 0, 2);
    tcase_add_test(tc, tls_by_id_waits_for_blocked_callback);
    tcase_add_loop_test(tc, tls_backpressure_slow_reader, 0, 2);
    tcase_add_loop_test(tc, tls_send_timeout, 0, 2);
    tcase_add_loop_test(tc, tls_max_output, 0, 2);
    tcase_add_loop_test(tc, tls_close_after_reply_loses_nothing, 0, 2 * HOW_COUNT);
    tcase_add_loop_test(tc, tls_input_limit, 0, 4);
    suite_add_tcase(s, tc);
    return s;
}

#else /* !HAVE_OPENSSL: lib_tls checks that TLS is refused; nothing to run */

Suite *lib_tls_contract_suite(void)
{
    return suite_create("lib_tls_contract");
}
#endif
