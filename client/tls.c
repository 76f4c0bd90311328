/* SPDX-License-Identifier: MIT */
/* tls.c - tpclient's TLS: the handshake after the TCP (or unix) connect,
 * bounded by -w like the connect; then recv()/send() look-alikes over the
 * non-blocking socket that session.c's poll loop calls, so that every
 * behaviour of the plain exchange (-N, -q, -w, --lines, exit codes) holds
 * over TLS too. The context setup is shared with tpbench
 * (common/tlsclient.c). A failed handshake is TPC_EXIT_TLS with OpenSSL's
 * reason; so is an alert after it (TLS 1.3 servers refuse a client
 * certificate only after the client's handshake has finished). */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#include "client.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/tlsclient.h"

#ifdef HAVE_OPENSSL
#include <openssl/err.h>
#include <openssl/ssl.h>

struct tpc_tls {
    SSL_CTX *ctx;
    SSL *ssl;
    int want_write; /* the last call waits for POLLOUT */
    int truncated;  /* EOF without close_notify */
    char error[256];
};

/* The name the server's certificate must match: --sni, else HOST; none
 * for a unix socket without --sni (the chain is still verified). */
static const char *verify_name(const struct tpc_opts *o)
{
    return o->sni ? o->sni : o->host;
}

/* The server name we send: --sni, else HOST unless it is an address. */
static const char *sni_name(const struct tpc_opts *o)
{
    if (o->sni)
        return o->sni;
    return o->host && !tlsc_is_ip(o->host) ? o->host : NULL;
}

static void report(const struct tpc_opts *o, struct tpc_tls *t)
{
    char alpn[64], subj[256];
    if (!o->verbose)
        return;
    fprintf(stderr, "tpclient: TLS %s, cipher %s, ALPN %s%s\n", tlsc_protocol(t->ssl),
            tlsc_cipher(t->ssl), tlsc_alpn(t->ssl, alpn, sizeof alpn),
            tlsc_resumed(t->ssl) ? ", resumed" : "");
    tlsc_peer_subject(t->ssl, subj, sizeof subj);
    if (o->insecure)
        fprintf(stderr, "tpclient: server certificate %s (NOT verified: --insecure)\n",
                subj[0] ? subj : "(none)");
    else
        fprintf(stderr, "tpclient: server certificate %s verified%s%s\n", subj,
                verify_name(o) ? " for " : "", verify_name(o) ? verify_name(o) : "");
}

/* "HOST port PORT" or "unix:PATH", for messages. */
static void target_text(const struct tpc_opts *o, char *buf, size_t len)
{
    if (o->unix_path)
        snprintf(buf, len, "unix:%s", o->unix_path);
    else
        snprintf(buf, len, "%s port %s", o->host, o->port);
}

static int handshake(const struct tpc_opts *o, struct tpc_tls *t, int fd, char *err,
                     size_t errlen)
{
    char why[256], target[300];
    long long deadline = tpc_now_ms() + o->timeout_ms;
    target_text(o, target, sizeof target);
    for (;;) {
        ERR_clear_error();
        errno = 0;
        int r = SSL_connect(t->ssl);
        if (r == 1)
            return TPC_EXIT_OK;
        int e = SSL_get_error(t->ssl, r), saved = errno;
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
            snprintf(err, errlen, "TLS handshake with %s failed: %s", target,
                     tlsc_reason(t->ssl, e == SSL_ERROR_SYSCALL ? saved : 0, why, sizeof why));
            return TPC_EXIT_TLS;
        }
        long long left = deadline - tpc_now_ms();
        if (o->timeout_ms > 0 && left <= 0) {
            snprintf(err, errlen, "TLS handshake with %s timed out after %ld ms", target,
                     o->timeout_ms);
            return TPC_EXIT_TIMEOUT;
        }
        struct pollfd p = {.fd = fd, .events = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT};
        if (poll(&p, 1, o->timeout_ms > 0 ? (int)left : -1) < 0 && errno != EINTR) {
            snprintf(err, errlen, "poll() failed: %s", strerror(errno));
            return TPC_EXIT_ERROR;
        }
    }
}

int tpc_tls_start(const struct tpc_opts *o, int fd, struct tpc_tls **tls, char *err,
                  size_t errlen)
{
    struct tlsc_config cfg = {.ca_file = o->tls_ca,
                              .insecure = o->insecure,
                              .cert_file = o->tls_cert,
                              .key_file = o->tls_key,
                              .alpn = o->alpn};
    struct tpc_tls *t = calloc(1, sizeof *t);
    *tls = NULL;
    if (!t) {
        snprintf(err, errlen, "out of memory");
        return TPC_EXIT_ERROR;
    }
    t->ctx = tlsc_ctx_new(&cfg, err, errlen);
    if (!t->ctx) {
        free(t);
        return TPC_EXIT_USAGE;
    }
    if (o->insecure && o->verbose)
        fprintf(stderr, "tpclient: --insecure: the server's certificate will not be verified\n");
    t->ssl = tlsc_ssl_new(t->ctx, fd, sni_name(o), verify_name(o), NULL, err, errlen);
    int rc = t->ssl ? handshake(o, t, fd, err, errlen) : TPC_EXIT_ERROR;
    if (rc != TPC_EXIT_OK) {
        tpc_tls_free(t);
        return rc;
    }
    report(o, t);
    *tls = t;
    return TPC_EXIT_OK;
}

/* Maps a failed SSL_read/SSL_write onto recv()/send()'s errno terms. */
static long failed(struct tpc_tls *t, int r, int saved_errno)
{
    int e = SSL_get_error(t->ssl, r);
    switch (e) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
        t->want_write = e == SSL_ERROR_WANT_WRITE;
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_ZERO_RETURN: /* close_notify */
        return 0;
    case SSL_ERROR_SYSCALL:
        ERR_clear_error();
        if (saved_errno == 0) { /* EOF, no close_notify */
            t->truncated = 1;
            return 0;
        }
        errno = saved_errno;
        return -1;
    default:
        if (ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
            ERR_clear_error();
            t->truncated = 1;
            return 0;
        }
        tlsc_reason(t->ssl, 0, t->error, sizeof t->error);
        errno = EPROTO;
        return -1;
    }
}

long tpc_tls_recv(struct tpc_tls *t, void *buf, size_t len)
{
    size_t n = 0;
    ERR_clear_error();
    errno = 0;
    t->want_write = 0;
    int r = SSL_read_ex(t->ssl, buf, len, &n);
    return r == 1 ? (long)n : failed(t, r, errno);
}

long tpc_tls_send(struct tpc_tls *t, const void *buf, size_t len)
{
    size_t n = 0;
    ERR_clear_error();
    errno = 0;
    t->want_write = 0;
    int r = SSL_write_ex(t->ssl, buf, len, &n);
    return r == 1 ? (long)n : failed(t, r, errno);
}

int tpc_tls_wants_write(const struct tpc_tls *t)
{
    return t->want_write;
}

int tpc_tls_pending(const struct tpc_tls *t)
{
    return SSL_has_pending(t->ssl);
}

int tpc_tls_truncated(const struct tpc_tls *t)
{
    return t->truncated;
}

const char *tpc_tls_error(const struct tpc_tls *t)
{
    return t->error;
}

int tpc_tls_close_notify(struct tpc_tls *t)
{
    ERR_clear_error();
    int r = SSL_shutdown(t->ssl);
    if (r >= 0)
        return 1; /* 0: ours is sent, theirs still to come: that is the point */
    int e = SSL_get_error(t->ssl, r);
    ERR_clear_error();
    if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
        t->want_write = e == SSL_ERROR_WANT_WRITE;
        return 0;
    }
    return -1;
}

void tpc_tls_free(struct tpc_tls *t)
{
    if (!t)
        return;
    SSL_free(t->ssl);
    tlsc_ctx_free(t->ctx);
    free(t);
}

#else /* !HAVE_OPENSSL: main.c refuses --tls first; these are never reached */

int tpc_tls_start(const struct tpc_opts *o, int fd, struct tpc_tls **tls, char *err,
                  size_t errlen)
{
    (void)o, (void)fd;
    *tls = NULL;
    snprintf(err, errlen, "--tls: this tpclient was built without OpenSSL");
    return TPC_EXIT_USAGE;
}

long tpc_tls_recv(struct tpc_tls *t, void *buf, size_t len)
{
    (void)t, (void)buf, (void)len;
    errno = EPROTO;
    return -1;
}

long tpc_tls_send(struct tpc_tls *t, const void *buf, size_t len)
{
    (void)t, (void)buf, (void)len;
    errno = EPROTO;
    return -1;
}

int tpc_tls_wants_write(const struct tpc_tls *t)
{
    (void)t;
    return 0;
}

int tpc_tls_pending(const struct tpc_tls *t)
{
    (void)t;
    return 0;
}

int tpc_tls_truncated(const struct tpc_tls *t)
{
    (void)t;
    return 0;
}

const char *tpc_tls_error(const struct tpc_tls *t)
{
    (void)t;
    return "built without OpenSSL";
}

int tpc_tls_close_notify(struct tpc_tls *t)
{
    (void)t;
    return -1;
}

void tpc_tls_free(struct tpc_tls *t)
{
    (void)t;
}

#endif
