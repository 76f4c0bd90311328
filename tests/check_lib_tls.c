/* SPDX-License-Identifier: MIT */
/* check_lib_tls.c - integration suite of tls: listeners, against a real
 * OpenSSL client on loopback (certificates in tests/tls/):
 * - echo of random sizes up to 1 MiB from concurrent clients, byte for
 *   byte, with plain and may-block dispatch;
 * - what was negotiated is visible to the handler (tps_conn_tls);
 * - every kind of bad client gets a counted close and hurts no one else:
 *   plaintext, TLS 1.1, a stalled handshake, a garbage record, an EOF
 *   without close_notify, a missing or wrong client certificate;
 * - a close by the handler, the idle timeout and a graceful stop end with
 *   a close_notify after the last byte;
 * - session resumption, certificate rotation while running (a bad file
 *   keeps the old one), and proxy:tls: (PROXY header, then TLS);
 * - certificates chosen by SNI: exact names, wildcards, the CN, case,
 *   the default; the first given wins; a session resumes only under its
 *   own certificate; the whole set rotates, or none of it;
 * - kernel TLS: the path a connection took (tps_conn_tls TPS_TLS_KTLS and
 *   the TPS_STAT_TLS_KTLS_* stats) is the one this kernel allows, echoes
 *   of several records work on it, and no_ktls turns it off (a kernel
 *   that has it is tested for real by tests/ktls_vm.sh).
 * Built without OpenSSL, the suite checks that TLS is refused clearly. */
#include "config.h"

#include "suites.h"
#include "testutil.h"
#include "tlscli.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef HAVE_OPENSSL
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/un.h>

#define CERTS TCLI_CERTS

static const tps_tls_config server_cfg = {
    .cert_file = CERTS "server.pem",
    .key_file = CERTS "server.key",
    .alpn = "tpserv-test,http/1.1",
};

/* ---- what the handler saw ---------------------------------------------------- */

static atomic_int reasons[TPS_CLOSE_REASON_COUNT_];
static pthread_mutex_t seen_mu = PTHREAD_MUTEX_INITIALIZER;
static char seen[7][160]; /* the last on_open's tps_conn_tls() answers */
static char seen_peer[64];

static void reasons_reset(void)
{
    for (int i = 0; i < TPS_CLOSE_REASON_COUNT_; i++)
        atomic_store(&reasons[i], 0);
}

static int rec_on_open(tps_conn *c)
{
    pthread_mutex_lock(&seen_mu);
    for (int i = TPS_TLS_PROTOCOL; i <= TPS_TLS_KTLS; i++)
        if (tps_conn_tls(c, i, seen[i], sizeof(seen[i])) < 0)
            snprintf(seen[i], sizeof(seen[i]), "(none)");
    tps_conn_peer(c, seen_peer, sizeof(seen_peer));
    pthread_mutex_unlock(&seen_mu);
    return 0;
}

static void rec_on_close(tps_conn *c, int reason)
{
    (void)c;
    if (reason >= 0 && reason < TPS_CLOSE_REASON_COUNT_)
        atomic_fetch_add(&reasons[reason], 1);
}

/* Echo, except a line "BYE\n" which is answered "bye\n" and closes. */
static long bye_on_data(tps_conn *c, const char *data, size_t len)
{
    if (len >= 4 && memcmp(data, "BYE\n", 4) == 0) {
        tps_conn_send(c, "bye\n", 4);
        return -1;
    }
    return tps_conn_send(c, data, len) < 0 ? -1 : (long)len;
}

static const tps_handler rec_handler = {
    .on_open = rec_on_open, .on_data = bye_on_data, .on_close = rec_on_close};

static tps_server *start_tls(const tps_handler *h, const tu_opt *opts, tu_log *log,
                             const tps_tls_config *cfg, const char *spec)
{
    tps_server *srv = tu_server_new(h ? h : &rec_handler, NULL, opts, log);
    int rc = tps_server_tls(srv, cfg ? cfg : &server_cfg);
    ck_assert_msg(rc == 0, "tps_server_tls: %s", tps_strerror(rc));
    rc = tps_server_listen(srv, spec ? spec : "tls:127.0.0.1:0");
    ck_assert_msg(rc == 0, "listen: %s", tps_strerror(rc));
    ck_assert_int_eq(tps_server_start(srv), 0);
    reasons_reset();
    return srv;
}

/* ---- echo ------------------------------------------------------------------------ */

struct echo_job {
    int port, rounds;
    unsigned seed;
    atomic_int *good;
};

static void *echo_client(void *arg)
{
    struct echo_job *j = arg;
    tcli t;
    SSL_CTX *ctx = tcli_ctx(NULL, NULL, 0);
    size_t max = (size_t)tu_scale(1 << 20, 256 << 10);
    unsigned char *buf = malloc(max);
    int ok = tcli_open(&t, j->port, ctx);
    for (int r = 0; ok && r < j->rounds; r++) {
        size_t n = 1 + (size_t)rand_r(&j->seed) % max;
        for (size_t i = 0; i < n; i++)
            buf[i] = (unsigned char)rand_r(&j->seed);
        ok = tcli_echo(&t, buf, n, (long)tu_timeout(20) * 1000);
    }
    if (ok)
        atomic_fetch_add(j->good, 1);
    free(buf);
    tcli_free(&t);
    SSL_CTX_free(ctx);
    return NULL;
}

/* Concurrent clients echo random sizes up to 1 MiB, verified byte for
 * byte, with plain (bit 0 of _i clear) and may-block (set) dispatch, the
 * ClientHello step in the workers (bit 1 clear) or in the handshake pool
 * (set: this test once found a stall there, a client's first bytes left
 * in the socket after the pool finished its handshake). */
START_TEST(tls_echo_random_sizes)
{
    enum { MAXC = 32 };
    int nclients = (int)tu_scale(32, 8);
    const tu_opt opts[] = {{TPS_OPT_TLS_HANDSHAKE_OFFLOAD, _i >> 1}, TU_OPT_END};
    tps_server *srv = start_tls(tu_mode(&rec_handler, _i & 1), opts, NULL, NULL, NULL);
    pthread_t th[MAXC];
    struct echo_job jobs[MAXC];
    atomic_int good = 0;
    for (int i = 0; i < nclients; i++) {
        jobs[i] = (struct echo_job){tu_port(srv, 0), 4, 1234u + (unsigned)i, &good};
        ck_assert_int_eq(pthread_create(&th[i], NULL, echo_client, &jobs[i]), 0);
    }
    for (int i = 0; i < nclients; i++)
        pthread_join(th[i], NULL);
    ck_assert_int_eq(atomic_load(&good), nclients);
    ck_assert_uint_eq(tu_wait_stat(srv, TPS_STAT_TLS_HANDSHAKES, (uint64_t)nclients, 5000),
                      (uint64_t)nclients);
    ck_assert_uint_gt(tps_server_hist_count(srv, TPS_HIST_TLS_HANDSHAKE), 0);
    tps_server_free(srv);
}
END_TEST

/* on_open sees the protocol, cipher, ALPN and SNI; no client certificate. */
START_TEST(tls_negotiated_values)
{
    tps_server *srv = start_tls(NULL, NULL, NULL, NULL, NULL);
    tcli t;
    tcli_open_echoed(&t, tu_port(srv, 0), NULL);
    pthread_mutex_lock(&seen_mu);
    ck_assert_str_eq(seen[TPS_TLS_PROTOCOL], "TLSv1.3");
    ck_assert_str_eq(seen[TPS_TLS_CIPHER], SSL_get_cipher_name(t.ssl));
    ck_assert_str_eq(seen[TPS_TLS_ALPN], "tpserv-test");
    ck_assert_str_eq(seen[TPS_TLS_SNI], "localhost");
    ck_assert_str_eq(seen[TPS_TLS_PEER_SUBJECT], "(none)");
    ck_assert_str_eq(seen[TPS_TLS_RESUMED], "0");
    pthread_mutex_unlock(&seen_mu);
    tcli_free(&t);
    tps_server_free(srv);
}
END_TEST

/* ---- bad clients: a counted close, and the others go on ---------------------------- */

/* A good client echoes while a bad one is dealt with. */
static void good_client_works(tps_server *srv)
{
    tcli t;
    tcli_open_echoed(&t, tu_port(srv, 0), NULL);
    tcli_free(&t);
}

START_TEST(tls_plaintext_refused)
{
    tps_server *srv = start_tls(NULL, NULL, NULL, NULL, NULL);
    int fd = tcli_tcp(tu_port(srv, 0));
    ck_assert_int_eq(tu_write_all(fd, "GET / HTTP/1.0\r\n\r\n", 18, 2000), 0);
    int end = tu_wait_eof(fd, 5000);
    ck_assert_msg(end == 0 || end == -ECONNRESET || end == 1, "end %d", end);
    close(fd);
    ck_assert_uint_eq(tu_wait_stat(srv, TPS_STAT_TLS_FAIL_VERSION, 1, 5000), 1);
    ck_assert_int_eq(atomic_load(&reasons[TPS_CLOSE_TLS]), 0); /* never opened */
    good_client_works(srv);
    tps_server_free(srv);
}
END_TEST

START_TEST(tls_old_version_refused)
{
    tps_server *srv = start_tls(NULL, NULL, NULL, NULL, NULL);
    SSL_CTX *ctx = tcli_ctx(NULL, NULL, TLS1_1_VERSION);
    tcli t;
    ck_assert(!tcli_open(&t, tu_port(srv, 0), ctx));
    tcli_free(&t);
    SSL_CTX_free(ctx);
    ck_assert_uint_eq(tu_wait_stat(srv, TPS_STAT_TLS_FAIL_VERSION, 1, 5000), 1);
    ck_assert_uint_eq(tps_server_stat(srv, TPS_STAT_TLS_HANDSHAKES), 0);
    good_client_works(srv);
    tps_server_free(srv);
}
END_TEST

/* Half a ClientHello, then silence: closed at the handshake timeout. */
START_TEST(tls_stalled_handshake_times_out)
{
    static const tu_opt opts[] = {{TPS_OPT_TLS_HANDSHAKE_TIMEOUT_MS, 300}, TU_OPT_END};
    static const unsigned char hello_start[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00};
    tps_server *srv = start_tls(NULL, opts, NULL, NULL, NULL);
    int fd = tcli_tcp(tu_port(srv, 0));
    ck_assert_int_eq(tu_write_all(fd, hello_start, sizeof(hello_start), 2000), 0);
    int64_t t0 = tu_now_us();
    int end = tu_wait_eof(fd, 5000);
    int64_t took_ms = (tu_now_us() - t0) / 1000;
    close(fd);
    ck_assert_msg(end == 0 || end == -ECONNRESET, "end %d", end);
    ck_assert_msg(took_ms >= 250, "closed after %lld ms, before the timeout", (long long)took_ms);
    ck_assert_uint_eq(tps_server_stat(srv, TPS_STAT_TLS_HANDSHAKE_TIMEOUTS), 1);
    good_client_works(srv);
    tps_server_free(srv);
}
END_TEST

/* At TLS_MAX_HANDSHAKES, TLS clients wait in the backlog: none is cut.
 * Four connect and stall; two more connect (the kernel completes their
 * TCP handshake) but are not accepted until two stalled ones leave. */
START_TEST(tls_handshake_cap_waits)
{
    static const tu_opt opts[] = {{TPS_OPT_TLS_MAX_HANDSHAKES, 4}, TU_OPT_END};
    tps_server *srv = start_tls(NULL, opts, NULL, NULL, NULL);
    int fd[6];
    for (int i = 0; i < 6; i++)
        fd[i] = tcli_tcp(tu_port(srv, 0));
    ck_assert_uint_eq(tu_wait_stat(srv, TPS_STAT_ACCEPTED, 4, 5000), 4);
    tu_sleep_ms(200);
    ck_assert_uint_eq(tps_server_stat(srv, TPS_STAT_ACCEPTED), 4); /* at the cap */
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(tu_wait_eof(fd[i], 50), -ETIMEDOUT); /* none cut */
    close(fd[0]);
    close(fd[1]);
    ck_assert_uint_eq(tu_wait_stat(srv, TPS_STAT_ACCEPTED, 6, 5000), 6);
    close(fd[2]);
    good_client_works(srv); /* its turn comes once a slot is free */
    ck_assert_uint_eq(tps_server_stat(srv, TPS_STAT_TLS_HANDSHAKE_TIMEOUTS), 0);
    ck_assert_uint_eq(tps_server_stat(srv, TPS_STAT_TLS_HANDSHAKES), 1);
    for (int i = 3; i < 6; i++)
        close(fd[i]);
    tps_server_free(srv);
}
END_TEST

/* TPS_OPT_TLS_HANDSHAKE_RATE: a burst of a second's worth, then the rate;
 * the clients past it wait in the backlog, none is refused. */
START_TEST(tls_handshake_rate_caps_accepts)
{
    static const tu_opt opts[] = {{TPS_OPT_TLS_HANDSHAKE_RATE, 10}, TU_OPT_END};
    tps_server *srv = start_tls(NULL, opts, NULL, NULL, NULL);
    int fd[25];
    for (int i = 0; i < 25; i++)
        fd[i] = tcli_tcp(tu_port(srv, 0));
    ck_assert_uint_ge(tu_wait_stat(srv, TPS_STAT_ACCEPTED, 10, 5000), 10);
    tu_sleep_ms(300);
    /* 10 at once, then 1 per 100 ms: a slow machine accepts fewer, never more. */
    ck_assert_uint_le(tps_server_stat(srv, TPS_STAT_ACCEPTED), 14);
    ck_assert_uint_eq(tu_wait_stat(srv, TPS_STAT_ACCEPTED, 25, (int)tu_timeout(10) * 1000), 25);
    for (int i = 0; i < 25; i++)
        close(fd[i]);
    good_client_works(srv);
    ck_assert_uint_eq(tps_server_stat(srv, TPS_STAT_TLS_HANDSHAKES), 1);
    tps_server_free(srv);
}
END_TEST

/* Both places the ClientHello step can run: the workers (0), the pool at
 * SCHED_IDLE (1): the same handshakes, counted the same. */
START_TEST(tls_handshake_offload_modes)
{
    const tu_opt opts[] = {{TPS_OPT_TLS_HANDSHAKE_OFFLOAD, _i}, TU_OPT_END};
    tps_server *srv = start_tls(NULL, opts, NULL, NULL, NULL);
    SSL_CTX *ctx = tcli_ctx(NULL, NULL, 0);
    for (int i = 0; i < 3; i++) {
        tcli t;
        tcli_open_echoed(&t, tu_port(srv, 0), ctx);
        tcli_free(&t);
    }
    SSL_CTX_free(ctx);
    ck_assert_uint_eq(tu_wait_stat(srv, TPS_STAT_TLS_HANDSHAKES, 3, 5000), 3);
    ck_assert_uint_eq(tps_server_stat(srv, TPS_STAT_TLS_FAIL_OTHER), 0);
    tps_server_free(srv);
}
END_TEST

/* After the handshake, bytes that are no TLS record: TPS_CLOSE_TLS. */
START_TEST(tls_garbage_record)
{
    tps_server *srv = start_tls(NULL, NULL, NULL, NULL, NULL);
    tcli t;
    tcli_open_echoed(&t, tu_port(srv, 0), NULL);
    ck_assert_int_eq(tu_write_all(t.fd, "\x17\x03\x03\x00\x10garbagegarbage!!", 21, 2000), 0);
    ck_assert_int_ne(tu_wait_eof(t.fd, 5000), -ETIMEDOUT);
    ck_assert_uint_eq(tu_wait_stat(srv, TPS_STAT_TLS_RECORD_ERRORS, 1, 5000), 1);
    ck_assert_uint_eq(tu_wait_stat(srv, TPS_STAT_CLOSED, 1, 5000), 1);
    ck_assert_int_eq(atomic_load(&reasons[TPS_CLOSE_TLS]), 1);
    tcli_free(&t);
    good_client_works(srv);
    tps_server_free(srv);
}
END_TEST

/* A client that just closes its socket: an EOF to the handler (PEER),
 * counted as without close_notify. */
START_TEST(tls_eof_without_close_notify)
{
    tps_server *srv = start_tls(NULL, NULL, NULL, NULL, NULL);
    tcli t;
    tcli_open_echoed(&t, tu_port(srv, 0), NULL);
    shutdown(t.fd, SHUT_WR);
    ck_assert_uint_eq(tu_wait_stat(srv, TPS_STAT_TLS_NO_CLOSE_NOTIFY, 1, 5000), 1);
    ck_assert_uint_eq(tu_wait_stat(srv, TPS_STAT_CLOSED, 1, 5000), 1);
    ck_assert_int_eq(atomic_load(&reasons[TPS_CLOSE_PEER]), 1);
    tcli_free(&t);
    tps_server_free(srv);
}
END_TEST

static const tps_tls_config verify_cfg = {
    .cert_file = CERTS "server.pem",
    .key_file = CERTS "server.key",
    .ca_file = CERTS "ca.pem",
    .verify_client = TPS_TLS_VERIFY_REQUIRED,
};

START_TEST(tls_client_cert_required)
{
    tps_server *srv = start_tls(NULL, NULL, NULL, &verify_cfg, NULL);
    SSL_CTX *none = tcli_ctx(NULL, NULL, 0);
    SSL_CTX *rogue = tcli_ctx(CERTS "rogue.pem", CERTS "rogue.key", 0);
    SSL_CTX *good = tcli_ctx(CERTS "client.pem", CERTS "client.key", 0);
    tcli t;
    /* TLS 1.3: the client learns of the refusal at its first read. */
    tcli_open(&t, tu_port(srv, 0), none);
    SSL_write(t.ssl, "x", 1);
    ck_assert_int_le(tcli_end(&t), 0);
    tcli_free(&t);
    ck_assert_uint_eq(tu_wait_stat(srv, TPS_STAT_TLS_FAIL_CERT, 1, 5000), 1);
    tcli_open(&t, tu_port(srv, 0), rogue);
    SSL_write(t.ssl, "x", 1);
    ck_assert_int_le(tcli_end(&t), 0);
    tcli_free(&t);
    ck_assert_uint_eq(tu_wait_stat(srv, TPS_STAT_TLS_FAIL_CERT, 2, 5000), 2);
    tcli_open_echoed(&t, tu_port(srv, 0), good);
    pthread_mutex_lock(&seen_mu);
    ck_assert_str_eq(seen[TPS_TLS_PEER_SUBJECT], "CN=tpserv test client");
    pthread_mutex_unlock(&seen_mu);
    tcli_free(&t);
    ck_assert_uint_eq(tps_server_stat(srv, TPS_STAT_TLS_HANDSHAKES), 1);
    SSL_CTX_free(none);
    SSL_CTX_free(rogue);
    SSL_CTX_free(good);
    tps_server_free(srv);
}
END_TEST

/* ---- the end of a connection: close_notify after the last byte ----------------------- */

START_TEST(tls_handler_close_sends_close_notify)
{
    tps_server *srv = start_tls(tu_mode(&rec_handler, _i), NULL, NULL, NULL, NULL);
    SSL_CTX *ctx = tcli_ctx(NULL, NULL, 0);
    tcli t;
    char buf[4];
    ck_assert(tcli_open(&t, tu_port(srv, 0), ctx));
    tcli_write(&t, "BYE\n", 4);
    ck_assert_uint_eq(tcli_read(&t, buf, 4), 4);
    ck_assert_int_eq(memcmp(buf, "bye\n", 4), 0);
    ck_assert_int_eq(tcli_end(&t), 1);
    tcli_free(&t);
    ck_assert_uint_eq(tu_wait_stat(srv, TPS_STAT_CLOSED, 1, 5000), 1);
    ck_assert_int_eq(atomic_load(&reasons[TPS_CLOSE_HANDLER]), 1);
    SSL_CTX_free(ctx);
    tps_server_free(srv);
}
END_TEST

START_TEST(tls_idle_timeout_sends_close_notify)
{
    static const tu_opt opts[] = {{TPS_OPT_IDLE_TIMEOUT_MS, 200}, TU_OPT_END};
    tps_server *srv = start_tls(NULL, opts, NULL, NULL, NULL);
    tcli t;
    tcli_open_echoed(&t, tu_port(srv, 0), NULL);
    ck_assert_int_eq(tcli_end(&t), 1);
    ck_assert_int_eq(atomic_load(&reasons[TPS_CLOSE_IDLE_TIMEOUT]), 1);
    tcli_free(&t);
    tps_server_free(srv);
}
END_TEST

START_TEST(tls_stop_sends_close_notify)
{
    static const tu_opt opts[] = {{TPS_OPT_LINGER_MS, 100}, TU_OPT_END};
    tps_server *srv = start_tls(NULL, opts, NULL, NULL, NULL);
    tcli t;
    tcli_open_echoed(&t, tu_port(srv, 0), NULL);
    ck_assert_int_eq(tps_server_stop(srv, 5000), 0);
    ck_assert_int_eq(tcli_end(&t), 1);
    ck_assert_int_eq(tps_server_wait(srv), 0);
    tcli_free(&t);
    tps_server_free(srv);
}
END_TEST

/* ---- resumption, rotation, proxy:tls: ------------------------------------------------ */

START_TEST(tls_session_resumed)
{
    tps_server *srv = start_tls(NULL, NULL, NULL, NULL, NULL);
    SSL_CTX *ctx = tcli_ctx(NULL, NULL, 0);
    tcli t;
    /* TLS 1.3 tickets come after the handshake: read something first. */
    tcli_open_echoed(&t, tu_port(srv, 0), ctx);
    SSL_SESSION *sess = SSL_get1_session(t.ssl);
    ck_assert_ptr_nonnull(sess);
    SSL_shutdown(t.ssl);
    tcli_free(&t);
    ck_assert(tcli_handshake(&t, tcli_tcp(tu_port(srv, 0)), ctx, sess));
    ck_assert(tcli_echo(&t, (const unsigned char *)"again\n", 6, 5000));
    ck_assert(SSL_session_reused(t.ssl));
    pthread_mutex_lock(&seen_mu);
    ck_assert_str_eq(seen[TPS_TLS_RESUMED], "1");
    pthread_mutex_unlock(&seen_mu);
    ck_assert_uint_eq(tps_server_stat(srv, TPS_STAT_TLS_RESUMED), 1);
    ck_assert_uint_eq(tps_server_stat(srv, TPS_STAT_TLS_HANDSHAKES), 2);
    SSL_SESSION_free(sess);
    tcli_free(&t);
    SSL_CTX_free(ctx);
    tps_server_free(srv);
}
END_TEST

/* One resumption attempt with sess; returns whether it resumed. */
static int resumes(int port, SSL_CTX *ctx, SSL_SESSION *sess)
{
    tcli t;
    ck_assert(tcli_handshake(&t, tcli_tcp(port), ctx, sess));
    ck_assert(tcli_echo(&t, (const unsigned char *)"r\n", 2, 5000));
    int reused = SSL_session_reused(t.ssl);
    SSL_shutdown(t.ssl);
    tcli_free(&t);
    return reused;
}

/* Ticket keys are replaced every TLS_TICKET_KEY_MS: a ticket resumes
 * during its key's period and the next, not after; a rotated certificate
 * keeps resuming (the keys are the server's, not the context's). */
START_TEST(tls_ticket_keys_rotate)
{
    static const tu_opt opts[] = {{TPS_OPT_TLS_TICKET_KEY_MS, 2000}, TU_OPT_END};
    tps_server *srv = start_tls(NULL, opts, NULL, NULL, NULL);
    SSL_CTX *ctx = tcli_ctx(NULL, NULL, 0);
    tcli t;
    int port = tu_port(srv, 0);
    tcli_open_echoed(&t, port, ctx);
    SSL_SESSION *sess = SSL_get1_session(t.ssl);
    SSL_shutdown(t.ssl);
    tcli_free(&t);
    ck_assert_msg(resumes(port, ctx, sess), "no resumption within the key's period");
    tps_tls_config next = server_cfg;
    next.cert_file = CERTS "server2.pem";
    next.key_file = CERTS "server2.key";
    ck_assert_int_eq(tps_server_tls(srv, &next), 0);
    ck_assert_msg(resumes(port, ctx, sess), "a new certificate lost the sessions");
    tu_sleep_ms(2400); /* the key is now the previous one: still opens */
    ck_assert_msg(resumes(port, ctx, sess), "no resumption in the next period");
    tu_sleep_ms(2400); /* two rotations: gone */
    ck_assert_msg(!resumes(port, ctx, sess), "a ticket two periods old resumed");
    SSL_SESSION_free(sess);
    SSL_CTX_free(ctx);
    tps_server_free(srv);
}
END_TEST

static void subject_of_server(tcli *t, char *buf, size_t len)
{
    X509 *cert = SSL_get1_peer_certificate(t->ssl);
    ck_assert_ptr_nonnull(cert);
    X509_NAME_oneline(X509_get_subject_name(cert), buf, (int)len);
    X509_free(cert);
}

START_TEST(tls_certificate_rotation)
{
    tu_log log;
    tu_log_init(&log);
    tps_server *srv = start_tls(NULL, NULL, &log, NULL, NULL);
    SSL_CTX *ctx = tcli_ctx(NULL, NULL, 0);
    tcli before, after;
    char subj[256];
    ck_assert(tcli_open(&before, tu_port(srv, 0), ctx));
    subject_of_server(&before, subj, sizeof(subj));
    ck_assert_str_eq(subj, "/CN=localhost");

    tps_tls_config next = server_cfg;
    next.cert_file = CERTS "server2.pem";
    next.key_file = CERTS "server2.key";
    ck_assert_int_eq(tps_server_tls(srv, &next), 0);
    ck_assert(tcli_open(&after, tu_port(srv, 0), ctx));
    subject_of_server(&after, subj, sizeof(subj));
    ck_assert_str_eq(subj, "/CN=localhost rotated");
    tcli_free(&after);

    /* A bad file (a key that does not match) keeps the rotated one. */
    next.key_file = CERTS "server.key";
    ck_assert_int_eq(tps_server_tls(srv, &next), TPS_ETLS);
    ck_assert(tu_log_has(&log, "key values mismatch"));
    next.cert_file = CERTS "no-such-file.pem";
    ck_assert_int_eq(tps_server_tls(srv, &next), TPS_ETLS);
    ck_assert(tu_log_has(&log, "no-such-file.pem"));
    ck_assert(tcli_open(&after, tu_port(srv, 0), ctx));
    subject_of_server(&after, subj, sizeof(subj));
    ck_assert_str_eq(subj, "/CN=localhost rotated");
    tcli_free(&after);

    /* The connection from before goes on. */
    ck_assert(tcli_echo(&before, (const unsigned char *)"old\n", 4, 5000));
    tcli_free(&before);
    SSL_CTX_free(ctx);
    tps_server_free(srv);
}
END_TEST

/* HAProxy's send-proxy + ssl: the header and the ClientHello in one
 * segment (MSG_MORE holds the header back), so the bytes after the header
 * in the server's first read are the handshake's. */
START_TEST(tls_after_proxy_header)
{
    static const char hdr[] = "PROXY TCP4 192.0.2.7 127.0.0.1 4567 443\r\n";
    tps_server *srv = start_tls(NULL, NULL, NULL, NULL, "proxy:tls:127.0.0.1:0");
    SSL_CTX *ctx = tcli_ctx(NULL, NULL, 0);
    tcli t;
    int fd = tcli_tcp(tu_port(srv, 0));
    ck_assert_int_eq(send(fd, hdr, sizeof(hdr) - 1, MSG_MORE), (ssize_t)(sizeof(hdr) - 1));
    ck_assert(tcli_handshake(&t, fd, ctx, NULL));
    ck_assert(tcli_echo(&t, (const unsigned char *)"via proxy\n", 10, 5000));
    pthread_mutex_lock(&seen_mu);
    ck_assert_str_eq(seen_peer, "192.0.2.7:4567");
    ck_assert_str_eq(seen[TPS_TLS_PROTOCOL], "TLSv1.3");
    pthread_mutex_unlock(&seen_mu);
    tcli_free(&t);
    SSL_CTX_free(ctx);
    tps_server_free(srv);
}
END_TEST

/* ---- certificates chosen by SNI ------------------------------------------------------- */

/* What tests/tls/mkcerts.sh puts in each: "CN [its DNS names]". */
#define CERT_DEFAULT "localhost [localhost]"
#define CERT_A       "a.test [a.test a2.test exact.wild.test]"
#define CERT_A_DUP   "a.test second [a.test]"
#define CERT_B       "b.test [b.test]"
#define CERT_B2      "b.test rotated [b.test]"
#define CERT_WILD    "wildcard [*.wild.test]"
#define CERT_CN      "cn.test []"

static const tps_tls_cert sni_certs[] = {
    {CERTS "a.pem", CERTS "a.key"},
    {CERTS "b.pem", CERTS "b.key"}, /* RSA, the default ECDSA */
    {CERTS "wild.pem", CERTS "wild.key"},
    {CERTS "cn.pem", CERTS "cn.key"},
};

static tps_tls_config sni_cfg(const tps_tls_cert *certs, size_t n)
{
    tps_tls_config cfg = server_cfg;
    cfg.certs = certs;
    cfg.ncerts = n;
    return cfg;
}

/* The server's certificate as "CN [DNS names]". */
static void server_cert(tcli *t, char *buf, size_t len)
{
    X509 *cert = SSL_get1_peer_certificate(t->ssl);
    ck_assert_ptr_nonnull(cert);
    char cn[64] = "";
    X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof(cn));
    size_t n = (size_t)snprintf(buf, len, "%s [", cn);
    GENERAL_NAMES *gens = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    for (int i = 0, k = 0; i < sk_GENERAL_NAME_num(gens) && n < len; i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        if (g->type == GEN_DNS)
            n += (size_t)snprintf(buf + n, len - n, "%s%s", k++ ? " " : "",
                                  (const char *)ASN1_STRING_get0_data(g->d.dNSName));
    }
    if (n < len)
        snprintf(buf + n, len - n, "]");
    GENERAL_NAMES_free(gens);
    X509_free(cert);
}

/* Connect asking for sni (NULL: no server_name), offering resume (or
 * NULL), echo, and put the certificate that came into buf; *sess (if not
 * NULL) gets the session. Returns whether it resumed. */
static int sni_connect(int port, SSL_CTX *ctx, const char *sni, SSL_SESSION *resume,
                       SSL_SESSION **sess, char *buf, size_t len)
{
    tcli t;
    ck_assert_msg(tcli_handshake_sni(&t, tcli_tcp(port), ctx, resume, sni),
                  "the handshake asking for %s failed", sni ? sni : "(no name)");
    ck_assert(tcli_echo(&t, (const unsigned char *)"sni\n", 4, 5000)); /* TLS 1.3: the ticket */
    server_cert(&t, buf, len);
    int reused = SSL_session_reused(t.ssl);
    if (sess != NULL)
        *sess = SSL_get1_session(t.ssl);
    SSL_shutdown(t.ssl);
    tcli_free(&t);
    return reused;
}

/* The certificate the server gives a client asking for sni. */
static const char *cert_for(int port, SSL_CTX *ctx, const char *sni)
{
    static char buf[256];
    sni_connect(port, ctx, sni, NULL, NULL, buf, sizeof(buf));
    return buf;
}

/* Each name gets its certificate, in any case; a wildcard covers one
 * label; no name, or one no certificate has, gets the default; on_open
 * sees the name asked for. _i: TLS 1.3 (0) or 1.2 (1). */
START_TEST(tls_sni_selects)
{
    static const struct {
        const char *sni, *want;
    } cases[] = {
        {"a.test", CERT_A},
        {"A.TeSt", CERT_A},
        {"a2.test", CERT_A},
        {"b.test", CERT_B},
        {"x.wild.test", CERT_WILD},
        {"X.Wild.TEST", CERT_WILD},
        {"exact.wild.test", CERT_A},     /* an exact name before a wildcard */
        {"y.x.wild.test", CERT_DEFAULT}, /* a wildcard is one label */
        {"wild.test", CERT_DEFAULT},     /* and not none */
        {"cn.test", CERT_CN},            /* no subjectAltName: the CN */
        {"localhost", CERT_DEFAULT},
        {"unknown.test", CERT_DEFAULT},
        {"a.test.", CERT_DEFAULT},
        {NULL, CERT_DEFAULT},
    };
    tps_tls_config cfg = sni_cfg(sni_certs, 4);
    tps_server *srv = start_tls(NULL, NULL, NULL, &cfg, NULL);
    SSL_CTX *ctx = tcli_ctx(NULL, NULL, _i ? TLS1_2_VERSION : 0);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *sni = cases[i].sni;
        ck_assert_msg(strcmp(cert_for(tu_port(srv, 0), ctx, sni), cases[i].want) == 0,
                      "%s got '%s', not '%s'", sni ? sni : "(no name)",
                      cert_for(tu_port(srv, 0), ctx, sni), cases[i].want);
        pthread_mutex_lock(&seen_mu);
        ck_assert_str_eq(seen[TPS_TLS_SNI], sni ? sni : "(none)");
        ck_assert_str_eq(seen[TPS_TLS_PROTOCOL], _i ? "TLSv1.2" : "TLSv1.3");
        pthread_mutex_unlock(&seen_mu);
    }
    ck_assert_uint_eq(tps_server_stat(srv, TPS_STAT_TLS_FAIL_OTHER), 0);
    SSL_CTX_free(ctx);
    tps_server_free(srv);
}
END_TEST

/* Of two certificates with one name the first given wins; exact names
 * come before wildcards whatever the order; a certificate that wins no
 * name is logged. */
START_TEST(tls_sni_first_wins)
{
    static const tps_tls_cert order1[] = {
        {CERTS "wild.pem", CERTS "wild.key"},
        {CERTS "a-dup.pem", CERTS "a-dup.key"},
        {CERTS "a.pem", CERTS "a.key"},
    };
    static const tps_tls_cert order2[] = {
        {CERTS "a.pem", CERTS "a.key"},
        {CERTS "a-dup.pem", CERTS "a-dup.key"},
    };
    tu_log log;
    tu_log_init(&log);
    tps_tls_config cfg = sni_cfg(order1, 3);
    tps_server *srv = start_tls(NULL, NULL, &log, &cfg, NULL);
    SSL_CTX *ctx = tcli_ctx(NULL, NULL, 0);
    int port = tu_port(srv, 0);
    ck_assert_str_eq(cert_for(port, ctx, "a.test"), CERT_A_DUP);
    ck_assert_str_eq(cert_for(port, ctx, "a2.test"), CERT_A);
    ck_assert_str_eq(cert_for(port, ctx, "exact.wild.test"), CERT_A);
    ck_assert_str_eq(cert_for(port, ctx, "x.wild.test"), CERT_WILD);
    ck_assert(!tu_log_has(&log, "no client gets it"));
    cfg = sni_cfg(order2, 2);
    ck_assert_int_eq(tps_server_tls(srv, &cfg), 0);
    ck_assert_str_eq(cert_for(port, ctx, "a.test"), CERT_A);
    ck_assert(tu_log_has(&log, "a-dup.pem' serves no name that a certificate given before it "
                               "does not: no client gets it"));
    SSL_CTX_free(ctx);
    tps_server_free(srv);
}
END_TEST

/* A session resumes only under the certificate it was made under: a
 * client that offers a.test's session asking for b.test (or for no name)
 * gets a full handshake and b.test's certificate; the same certificate
 * resumes under any of its names. _i: TLS 1.3 (0) or 1.2 (1), whose
 * sessions OpenSSL handles on different paths. */
START_TEST(tls_sni_resumption)
{
    tps_tls_config cfg = sni_cfg(sni_certs, 4);
    tps_server *srv = start_tls(NULL, NULL, NULL, &cfg, NULL);
    SSL_CTX *ctx = tcli_ctx(NULL, NULL, _i ? TLS1_2_VERSION : 0);
    int port = tu_port(srv, 0);
    char got[256];
    SSL_SESSION *sa, *sdef;
    ck_assert(!sni_connect(port, ctx, "a.test", NULL, &sa, got, sizeof(got)));
    ck_assert_str_eq(got, CERT_A);
    ck_assert_msg(sni_connect(port, ctx, "a.test", sa, NULL, got, sizeof(got)),
                  "a.test's session did not resume for a.test");
    ck_assert_str_eq(got, CERT_A);
    ck_assert_msg(sni_connect(port, ctx, "a2.test", sa, NULL, got, sizeof(got)),
                  "a.test's session did not resume for a2.test, a name of the same certificate");
    pthread_mutex_lock(&seen_mu); /* TLS 1.2: OpenSSL keeps the name with the session */
    ck_assert_str_eq(seen[TPS_TLS_SNI], _i ? "a.test" : "a2.test");
    pthread_mutex_unlock(&seen_mu);
    ck_assert_msg(!sni_connect(port, ctx, "b.test", sa, NULL, got, sizeof(got)),
                  "a.test's session resumed for b.test");
    ck_assert_str_eq(got, CERT_B);
    ck_assert_msg(!sni_connect(port, ctx, NULL, sa, NULL, got, sizeof(got)),
                  "a.test's session resumed without a name");
    ck_assert_str_eq(got, CERT_DEFAULT);
    ck_assert(!sni_connect(port, ctx, NULL, NULL, &sdef, got, sizeof(got)));
    ck_assert_msg(!sni_connect(port, ctx, "a.test", sdef, NULL, got, sizeof(got)),
                  "the default's session resumed for a.test");
    ck_assert_str_eq(got, CERT_A);
    ck_assert_msg(sni_connect(port, ctx, "unknown.test", sdef, NULL, got, sizeof(got)),
                  "the default's session did not resume for a name it serves");
    ck_assert_str_eq(got, CERT_DEFAULT);
    ck_assert_uint_eq(tps_server_stat(srv, TPS_STAT_TLS_RESUMED), 3);
    SSL_SESSION_free(sa);
    SSL_SESSION_free(sdef);
    SSL_CTX_free(ctx);
    tps_server_free(srv);
}
END_TEST

/* tps_server_tls() replaces the whole set for new connections; a set
 * with one bad file (missing, or a key of another certificate) is
 * refused whole, naming the file, and the set in use goes on serving; an
 * established connection keeps its certificate; a renewed certificate
 * for the same names resumes the sessions of the one it replaced. */
START_TEST(tls_sni_rotation)
{
    static const tps_tls_cert renewed[] = {{CERTS "b2.pem", CERTS "b2.key"}};
    static const tps_tls_cert missing[] = {
        {CERTS "a.pem", CERTS "a.key"},
        {CERTS "no-such-file.pem", NULL},
    };
    static const tps_tls_cert wrong_key[] = {
        {CERTS "b2.pem", CERTS "b2.key"},
        {CERTS "a.pem", CERTS "b.key"},
    };
    tu_log log;
    tu_log_init(&log);
    tps_tls_config cfg = sni_cfg(sni_certs, 2); /* a, b */
    tps_server *srv = start_tls(NULL, NULL, &log, &cfg, NULL);
    SSL_CTX *ctx = tcli_ctx(NULL, NULL, 0);
    int port = tu_port(srv, 0);
    char got[256];
    SSL_SESSION *sb;
    tcli before;
    ck_assert(tcli_handshake_sni(&before, tcli_tcp(port), ctx, NULL, "b.test"));
    ck_assert(!sni_connect(port, ctx, "b.test", NULL, &sb, got, sizeof(got)));
    ck_assert_str_eq(got, CERT_B);

    cfg = sni_cfg(renewed, 1);
    ck_assert_int_eq(tps_server_tls(srv, &cfg), 0);
    ck_assert_str_eq(cert_for(port, ctx, "b.test"), CERT_B2);
    ck_assert_str_eq(cert_for(port, ctx, "a.test"), CERT_DEFAULT); /* gone with the old set */
    ck_assert_msg(sni_connect(port, ctx, "b.test", sb, NULL, got, sizeof(got)),
                  "b.test's renewed certificate lost its sessions");

    cfg = sni_cfg(missing, 2);
    ck_assert_int_eq(tps_server_tls(srv, &cfg), TPS_ETLS);
    ck_assert(tu_log_has(&log, "certificate file '" CERTS "no-such-file.pem'"));
    ck_assert(tu_log_has(&log, "the certificates in use stay"));
    cfg = sni_cfg(wrong_key, 2);
    ck_assert_int_eq(tps_server_tls(srv, &cfg), TPS_ETLS);
    ck_assert(tu_log_has(&log, "key file '" CERTS "b.key' does not match certificate file '" CERTS
                               "a.pem'"));
    ck_assert_str_eq(cert_for(port, ctx, "b.test"), CERT_B2); /* the set in use */
    ck_assert_str_eq(cert_for(port, ctx, "a.test"), CERT_DEFAULT);

    server_cert(&before, got, sizeof(got)); /* the connection from before goes on */
    ck_assert_str_eq(got, CERT_B);
    ck_assert(tcli_echo(&before, (const unsigned char *)"old\n", 4, 5000));
    tcli_free(&before);
    SSL_SESSION_free(sb);
    SSL_CTX_free(ctx);
    tps_server_free(srv);
}
END_TEST

/* Bad SNI settings are refused before anything is read; an older
 * caller's struct without certs/ncerts loads one certificate. */
START_TEST(tls_sni_config_errors)
{
    static const tps_tls_cert no_file[] = {{CERTS "a.pem", CERTS "a.key"}, {NULL, NULL}};
    static const tps_tls_cert not_a_cert[] = {{CERTS "a.key", CERTS "a.key"}};
    tu_log log;
    tu_log_init(&log);
    tps_server *srv = tu_server_new(NULL, NULL, NULL, &log);
    tps_tls_config bad = sni_cfg(NULL, 2);
    ck_assert_int_eq(tps_server_tls(srv, &bad), TPS_EINVAL);
    bad = sni_cfg(no_file, 2);
    ck_assert_int_eq(tps_server_tls(srv, &bad), TPS_EINVAL);
    ck_assert(tu_log_has(&log, "SNI certificate 1 has no certificate file"));
    bad = sni_cfg(not_a_cert, 1);
    ck_assert_int_eq(tps_server_tls(srv, &bad), TPS_ETLS);
    ck_assert(tu_log_has(&log, "certificate file '" CERTS "a.key'"));
    ck_assert_int_eq(tps_server_listen(srv, "tls:127.0.0.1:0"), TPS_EINVAL); /* nothing loaded */
    /* The struct of a caller built before certs/ncerts: what lies past
     * its end is not read. */
    tps_tls_config old = sni_cfg((const tps_tls_cert *)&log, 99);
    ck_assert_int_eq(tps_server_tls_size(srv, &old, offsetof(tps_tls_config, certs)), 0);
    ck_assert_int_eq(tps_server_listen(srv, "tls:127.0.0.1:0"), 0);
    tps_server_free(srv);
}
END_TEST

/* ---- kernel TLS ----------------------------------------------------------------- */

/* Does this kernel offer the "tls" ULP? The library's own question, asked
 * here again: attaching it to an unconnected TCP socket says ENOTCONN
 * where it exists, ENOENT where it does not. */
static bool kernel_offers_ktls(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    int rc = setsockopt(fd, IPPROTO_TCP, TCP_ULP, "tls", sizeof("tls"));
    bool yes = rc == 0 || errno == ENOTCONN;
    close(fd);
    return yes;
}

/* _i: bit 0 TLS 1.2 (else 1.3), bit 1 no_ktls. The path on_open saw is
 * what this kernel allows (TLS 1.2: both ways where it has the ULP; TLS
 * 1.3 never, see lib/tls.c), the stats count it, and echoes from one byte
 * to several full records come back byte for byte. */
START_TEST(tls_ktls_path)
{
    bool tls12 = _i & 1, off = _i & 2;
    tps_tls_config cfg = server_cfg;
    cfg.no_ktls = off;
    tps_server *srv = start_tls(NULL, NULL, NULL, &cfg, NULL);
    SSL_CTX *ctx = tcli_ctx(NULL, NULL, tls12 ? TLS1_2_VERSION : 0);
    tcli t;
    ck_assert(tcli_open(&t, tu_port(srv, 0), ctx));
    static const size_t sizes[] = {1, 64, 16384, 16385, 100000};
    unsigned char *buf = malloc(100000);
    ck_assert_ptr_nonnull(buf);
    for (size_t i = 0; i < 100000; i++)
        buf[i] = (unsigned char)(i * 131u + 7u);
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
        ck_assert_msg(tcli_echo(&t, buf, sizes[i], 10000), "echo of %zu bytes", sizes[i]);
    free(buf);
    const char *want = !off && tls12 && kernel_offers_ktls() ? "tx+rx" : "none";
    pthread_mutex_lock(&seen_mu);
    ck_assert_str_eq(seen[TPS_TLS_PROTOCOL], tls12 ? "TLSv1.2" : "TLSv1.3");
    ck_assert_str_eq(seen[TPS_TLS_KTLS], want);
    pthread_mutex_unlock(&seen_mu);
    ck_assert_uint_eq(tu_wait_stat(srv, TPS_STAT_TLS_HANDSHAKES, 1, 5000), 1);
    ck_assert_uint_eq(tps_server_stat(srv, TPS_STAT_TLS_KTLS_TX), strcmp(want, "none") != 0);
    ck_assert_uint_eq(tps_server_stat(srv, TPS_STAT_TLS_KTLS_RX), strcmp(want, "tx+rx") == 0);
    tcli_write(&t, "BYE\n", 4);
    char bye[4];
    ck_assert_uint_eq(tcli_read(&t, bye, 4), 4);
    ck_assert_int_eq(tcli_end(&t), 1); /* the close_notify, whoever encrypts it */
    tcli_free(&t);
    SSL_CTX_free(ctx);
    tps_server_free(srv);
}
END_TEST

/* Not TCP, never the kernel's TLS: a unix listener says "none". */
START_TEST(tls_ktls_unix_none)
{
    char path[64];
    snprintf(path, sizeof(path), "/tmp/tps-ktls-%d.sock", (int)getpid());
    char spec[80];
    snprintf(spec, sizeof(spec), "tls:unix:%s", path);
    unlink(path);
    tps_server *srv = start_tls(NULL, NULL, NULL, NULL, spec);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    SSL_CTX *ctx = tcli_ctx(NULL, NULL, TLS1_2_VERSION);
    tcli t;
    ck_assert(tcli_handshake(&t, fd, ctx, NULL));
    ck_assert(tcli_echo(&t, (const unsigned char *)"over unix\n", 10, 5000));
    pthread_mutex_lock(&seen_mu);
    ck_assert_str_eq(seen[TPS_TLS_KTLS], "none");
    pthread_mutex_unlock(&seen_mu);
    ck_assert_uint_eq(tps_server_stat(srv, TPS_STAT_TLS_KTLS_TX), 0);
    tcli_free(&t);
    SSL_CTX_free(ctx);
    tps_server_free(srv);
    unlink(path);
}
END_TEST

/* Configuration errors are refused with a reason, before anything runs. */
START_TEST(tls_config_errors)
{
    tu_log log;
    tu_log_init(&log);
    tps_server *srv = tu_server_new(NULL, NULL, NULL, &log);
    tps_tls_config bad = server_cfg;
    ck_assert_int_eq(tps_server_listen(srv, "tls:127.0.0.1:0"), TPS_EINVAL); /* no cert yet */
    bad.min_version = "1.1";
    ck_assert_int_eq(tps_server_tls(srv, &bad), TPS_EINVAL);
    bad = server_cfg;
    bad.verify_client = TPS_TLS_VERIFY_REQUIRED; /* without a CA file */
    ck_assert_int_eq(tps_server_tls(srv, &bad), TPS_EINVAL);
    bad = server_cfg;
    bad.ciphers = "NO-SUCH-CIPHER";
    ck_assert_int_eq(tps_server_tls(srv, &bad), TPS_ETLS);
    bad = server_cfg;
    bad.alpn = "h2,,x";
    ck_assert_int_eq(tps_server_tls(srv, &bad), TPS_EINVAL);
    bad = server_cfg;
    bad.no_ktls = 2; /* a boolean */
    ck_assert_int_eq(tps_server_tls(srv, &bad), TPS_EINVAL);
    bad = server_cfg;
    bad.cert_file = CERTS "ca.pem"; /* not the key's certificate */
    ck_assert_int_eq(tps_server_tls(srv, &bad), TPS_ETLS);
    /* A deep path and the why after it, whole in one line (a 512-byte
     * line cut the why off in make distcheck's deeper build tree). */
    static char deep[1200];
    memset(deep, 'd', sizeof(deep) - 1);
    memcpy(deep, "/no-such-dir/", 13);
    memcpy(deep + sizeof(deep) - 10, "/cert.pem", 10);
    bad = server_cfg;
    bad.cert_file = deep;
    ck_assert_int_eq(tps_server_tls(srv, &bad), TPS_ETLS);
    char dump[2048];
    ck_assert_msg(tu_log_has(&log, "/cert.pem': ") && tu_log_has(&log, "No such file"),
                  "the error line lost its end: %s", tu_log_dump(&log, dump, sizeof(dump)));
    ck_assert_int_eq(tps_server_listen(srv, "tls:127.0.0.1:0"), TPS_EINVAL);
    ck_assert_int_eq(tps_server_tls(srv, &server_cfg), 0);
    ck_assert_int_eq(tps_server_listen(srv, "tls:127.0.0.1:0"), 0);
    tps_server_free(srv);
}
END_TEST

Suite *lib_tls_suite(void)
{
    Suite *s = suite_create("lib_tls");
    TCase *tc = tcase_create("tls");
    tcase_set_timeout(tc, tu_timeout(60));
    tcase_add_loop_test(tc, tls_echo_random_sizes, 0, 4);
    tcase_add_test(tc, tls_negotiated_values);
    tcase_add_test(tc, tls_plaintext_refused);
    tcase_add_test(tc, tls_old_version_refused);
    tcase_add_test(tc, tls_stalled_handshake_times_out);
    tcase_add_test(tc, tls_handshake_cap_waits);
    tcase_add_test(tc, tls_handshake_rate_caps_accepts);
    tcase_add_loop_test(tc, tls_handshake_offload_modes, 0, 2);
    tcase_add_test(tc, tls_garbage_record);
    tcase_add_test(tc, tls_eof_without_close_notify);
    tcase_add_test(tc, tls_client_cert_required);
    tcase_add_loop_test(tc, tls_handler_close_sends_close_notify, 0, 2);
    tcase_add_test(tc, tls_idle_timeout_sends_close_notify);
    tcase_add_test(tc, tls_stop_sends_close_notify);
    tcase_add_test(tc, tls_session_resumed);
    tcase_add_test(tc, tls_certificate_rotation);
    tcase_add_test(tc, tls_ticket_keys_rotate);
    tcase_add_test(tc, tls_after_proxy_header);
    tcase_add_loop_test(tc, tls_sni_selects, 0, 2);
    tcase_add_test(tc, tls_sni_first_wins);
    tcase_add_loop_test(tc, tls_sni_resumption, 0, 2);
    tcase_add_test(tc, tls_sni_rotation);
    tcase_add_test(tc, tls_sni_config_errors);
    tcase_add_test(tc, tls_config_errors);
    tcase_add_loop_test(tc, tls_ktls_path, 0, 4);
    tcase_add_test(tc, tls_ktls_unix_none);
    suite_add_tcase(s, tc);
    return s;
}

#else /* !HAVE_OPENSSL */

/* Without OpenSSL, TLS is refused with TPS_ENOTSUP, never half-served. */
START_TEST(tls_not_built)
{
    tps_server *srv = tu_server_new(NULL, NULL, NULL, NULL);
    tps_tls_config cfg = {.cert_file = "x.pem"};
    ck_assert_int_eq(tps_server_tls(srv, &cfg), TPS_ENOTSUP);
    ck_assert_int_eq(tps_server_listen(srv, "tls:127.0.0.1:0"), TPS_ENOTSUP);
    tps_server_free(srv);
}
END_TEST

Suite *lib_tls_suite(void)
{
    Suite *s = suite_create("lib_tls");
    TCase *tc = tcase_create("tls");
    tcase_add_test(tc, tls_not_built);
    suite_add_tcase(s, tc);
    return s;
}
#endif
