/* SPDX-License-Identifier: MIT */
/* tls: tpbench over TLS. The context comes from the shared client setup
 * (common/tlsclient.c: CAs or --insecure, SNI and the name the server's
 * certificate must match, ALPN); here are the per-connection steps that
 * loop.c maps onto its epoll interest: a non-blocking handshake, one
 * SSL_read into the thread's read buffer and one SSL_write per flush,
 * each reporting WANT_READ / WANT_WRITE instead of EAGAIN. With
 * --tls-resume each connection keeps the last session (TLS 1.3 ticket)
 * its server sent and offers it on its next connect. Failures keep their
 * first reason in the run, for one line at the end instead of one per
 * connection. */
#include "config.h"

#include "tls.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "../common/tlsclient.h"

int tpb_tls_available(void)
{
    return tlsc_available();
}

void tpb_tls_note(tpb_run *run, const char *why)
{
    if (__atomic_exchange_n(&run->tls_reason_set, 1, __ATOMIC_ACQ_REL) == 0)
        snprintf(run->tls_reason, sizeof run->tls_reason, "%s", why);
}

/* HOST of HOST:PORT or [V6]:PORT into buf; NULL for a unix: target. */
static const char *target_host(const tpb_opts *o, char *buf, size_t n)
{
    const char *t = o->target, *colon = strrchr(t, ':');
    if (strncmp(t, "unix:", 5) == 0 || !colon)
        return NULL;
    size_t hl = (size_t)(colon - t);
    if (hl >= 2 && t[0] == '[' && t[hl - 1] == ']')
        t++, hl -= 2;
    snprintf(buf, n, "%.*s", (int)hl, t);
    return buf;
}

static void on_session(void *ssl, void *sess);

int tpb_tls_setup(tpb_run *run, char *err, size_t n)
{
    const tpb_opts *o = run->o;
    if (!o->tls)
        return 0;
    struct tlsc_config cfg = {.ca_file = o->tls_ca,
                              .insecure = o->insecure,
                              .alpn = o->alpn,
                              .cache_sessions = o->tls_resume,
                              .on_session = on_session};
    run->tls_ctx = tlsc_ctx_new(&cfg, err, n);
    if (!run->tls_ctx)
        return -1;
    /* SNI: --sni, else HOST unless it is an address; the certificate must
     * match --sni or HOST (a unix: target without --sni: the chain only). */
    const char *host = target_host(o, run->tls_host, sizeof run->tls_host);
    run->tls_verify = o->sni ? o->sni : host;
    run->tls_sni = o->sni ? o->sni : host && !tlsc_is_ip(host) ? host : NULL;
    return 0;
}

void tpb_tls_teardown(tpb_run *run)
{
    tlsc_ctx_free(run->tls_ctx);
    run->tls_ctx = NULL;
}

#ifdef HAVE_OPENSSL
#include <openssl/err.h>
#include <openssl/ssl.h>

static void on_session(void *ssl, void *sess)
{
    void **slot = SSL_get_app_data(ssl);
    if (!slot) {
        SSL_SESSION_free(sess);
        return;
    }
    SSL_SESSION_free(*slot);
    *slot = sess;
}

void *tpb_tls_new(tpb_run *run, int fd, void **sess_slot)
{
    char err[256];
    SSL *ssl = tlsc_ssl_new(run->tls_ctx, fd, run->tls_sni, run->tls_verify, *sess_slot, err,
                            sizeof err);
    if (!ssl) {
        tpb_tls_note(run, err);
        return NULL;
    }
    SSL_set_app_data(ssl, sess_slot);
    return ssl;
}

/* Why the last call failed: kept once, and the thread's queue cleared. */
static int failed(tpb_run *run, SSL *ssl, int r, int *st)
{
    int saved = errno, e = SSL_get_error(ssl, r);
    char why[256];
    switch (e) {
    case SSL_ERROR_WANT_READ:
        return *st = TPB_TLS_WANT_READ;
    case SSL_ERROR_WANT_WRITE:
        return *st = TPB_TLS_WANT_WRITE;
    case SSL_ERROR_ZERO_RETURN:
        return *st = TPB_TLS_EOF;
    case SSL_ERROR_SYSCALL:
        ERR_clear_error();
        if (saved == 0 || saved == ECONNRESET || saved == EPIPE)
            return *st = TPB_TLS_EOF; /* the peer went away */
        break;
    default:
        if (ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
            ERR_clear_error();
            return *st = TPB_TLS_EOF;
        }
        break;
    }
    if (!__atomic_load_n(&run->tls_reason_set, __ATOMIC_RELAXED))
        tpb_tls_note(run, tlsc_reason(ssl, e == SSL_ERROR_SYSCALL ? saved : 0, why, sizeof why));
    ERR_clear_error();
    return *st = TPB_TLS_ERR;
}

int tpb_tls_handshake(tpb_run *run, void *ssl)
{
    int st = TPB_TLS_OK;
    errno = 0;
    int r = SSL_connect(ssl);
    if (r == 1)
        return TPB_TLS_OK;
    failed(run, ssl, r, &st);
    if (st == TPB_TLS_EOF) { /* closed during the handshake: a failure */
        tpb_tls_note(run, "the server closed the connection during the handshake");
        st = TPB_TLS_ERR;
    }
    return st;
}

int tpb_tls_resumed(void *ssl)
{
    return SSL_session_reused(ssl) == 1;
}

size_t tpb_tls_read(tpb_run *run, void *ssl, char *buf, size_t len, int *st)
{
    size_t n = 0;
    errno = 0;
    int r = SSL_read_ex(ssl, buf, len, &n);
    if (r == 1)
        return n;
    failed(run, ssl, r, st);
    return 0;
}

size_t tpb_tls_write(tpb_run *run, void *ssl, const char *buf, size_t len, int *st)
{
    size_t n = 0;
    errno = 0;
    int r = SSL_write_ex(ssl, buf, len, &n);
    if (r == 1)
        return n;
    failed(run, ssl, r, st);
    return 0;
}

int tpb_tls_pending(void *ssl)
{
    return SSL_has_pending(ssl);
}

void tpb_tls_free(void *ssl, int notify)
{
    if (!ssl)
        return;
    if (notify)
        SSL_shutdown(ssl); /* one try: the socket closes right after */
    else
        SSL_set_quiet_shutdown(ssl, 1);
    ERR_clear_error();
    SSL_free(ssl);
}

void tpb_tls_session_free(void *sess)
{
    SSL_SESSION_free(sess);
}

int tpb_tls_probe(const tpb_run *run, int fd, int timeout_ms, char *err, size_t n)
{
    void *slot = NULL;
    tpb_run *r = (tpb_run *)run; /* for the reason only */
    SSL *ssl = tpb_tls_new(r, fd, &slot);
    int st = ssl ? TPB_TLS_WANT_WRITE : TPB_TLS_ERR;
    while (st == TPB_TLS_WANT_READ || st == TPB_TLS_WANT_WRITE) {
        struct pollfd p = {.fd = fd, .events = st == TPB_TLS_WANT_READ ? POLLIN : POLLOUT};
        if (poll(&p, 1, timeout_ms) == 0) {
            tpb_tls_note(r, "the handshake timed out");
            st = TPB_TLS_ERR;
            break;
        }
        st = tpb_tls_handshake(r, ssl);
    }
    tpb_tls_free(ssl, st == TPB_TLS_OK);
    tpb_tls_session_free(slot);
    if (st == TPB_TLS_OK) {
        r->tls_reason_set = 0; /* a probe's success leaves nothing to report */
        return 0;
    }
    snprintf(err, n, "TLS handshake with %s failed: %s", run->o->target, run->tls_reason);
    return -1;
}

#else /* !HAVE_OPENSSL: main.c refuses --tls first; never reached */

static void on_session(void *ssl, void *sess)
{
    (void)ssl, (void)sess;
}

void *tpb_tls_new(tpb_run *run, int fd, void **sess_slot)
{
    (void)fd, (void)sess_slot;
    tpb_tls_note(run, "built without OpenSSL");
    return NULL;
}

int tpb_tls_handshake(tpb_run *run, void *ssl)
{
    (void)run, (void)ssl;
    return TPB_TLS_ERR;
}

int tpb_tls_resumed(void *ssl)
{
    (void)ssl;
    return 0;
}

size_t tpb_tls_read(tpb_run *run, void *ssl, char *buf, size_t len, int *st)
{
    (void)run, (void)ssl, (void)buf, (void)len;
    *st = TPB_TLS_ERR;
    return 0;
}

size_t tpb_tls_write(tpb_run *run, void *ssl, const char *buf, size_t len, int *st)
{
    (void)run, (void)ssl, (void)buf, (void)len;
    *st = TPB_TLS_ERR;
    return 0;
}

int tpb_tls_pending(void *ssl)
{
    (void)ssl;
    return 0;
}

void tpb_tls_free(void *ssl, int notify)
{
    (void)ssl, (void)notify;
}

void tpb_tls_session_free(void *sess)
{
    (void)sess;
}

int tpb_tls_probe(const tpb_run *run, int fd, int timeout_ms, char *err, size_t n)
{
    (void)run, (void)fd, (void)timeout_ms;
    snprintf(err, n, "--tls: this tpbench was built without OpenSSL");
    return -1;
}

#endif
