/* SPDX-License-Identifier: MIT */
/* tls.c - TLS on a connection, with OpenSSL 3: its BIO, the handshake
 * steps, reads, writes and the close_notify, and what was negotiated
 * (tps_conn_tls). The configuration, made into the SSL_CTX each new
 * connection's SSL is made from (certificates and SNI, tickets, ALPN), is
 * tlsctx.c's; a connection's SSL holds a reference to the context it was
 * born with, so a new configuration leaves established connections be.
 *
 * A connection's SSL talks to the socket through a BIO of our own rather
 * than OpenSSL's socket BIO, for three reasons: sends use MSG_NOSIGNAL (a
 * write() to a reset peer would raise SIGPIPE); the bytes that came after
 * a PROXY header in the same read are fed to the handshake first; and the
 * BIO knows whether its last recv() was short, i.e. whether the socket is
 * drained, so a turn reads until then and not one syscall more (the
 * plaintext path's rule, conn.c). With read-ahead and a 64 KiB read
 * buffer one recv() takes several records, and SSL_read decrypts them
 * from memory.
 *
 * Kernel TLS (kTLS): OpenSSL 3.0 moves a direction's keys into the kernel
 * (SSL_OP_ENABLE_KTLS) only through BIO controls that its own socket BIO
 * implements, with a key structure private to OpenSSL. So where the kernel
 * offers the "tls" ULP, a TCP connection's BIO gets OpenSSL's socket BIO
 * (BIO_NOCLOSE) chained behind it: every control goes to that one, and
 * once a direction is in the kernel its reads or writes do too (recvmsg()
 * with the record type, write() or sendmsg() with one). Until then, and
 * for what stays in user space (TLS 1.3: tlsctx.c's ktls_info_cb), this
 * BIO does its own syscalls as above. Its writes without MSG_NOSIGNAL
 * run on the library's threads, which block every signal: a SIGPIPE stays
 * pending on that thread and never reaches the host.
 *
 * Owned by the connection's worker thread, like the rest of tps_conn. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"

#ifdef HAVE_OPENSSL
#include <openssl/err.h>
#include <openssl/ssl.h>

struct tps__tls {
    SSL *ssl;
    tps__buf pre;     /* raw bytes read with the PROXY header: handshake's */
    uint64_t hs_start_ns;
    int fail_stat;    /* a failed handshake step's TPS_STAT_TLS_FAIL_* */
    int sys_errno;    /* the BIO's last socket error */
    bool drained;     /* the BIO's last recv() was short (or EAGAIN/EOF) */
    bool notified;    /* our close_notify was sent */
    bool broken;      /* a fatal TLS or socket error: no close_notify */
};

/* ---- the BIO ---------------------------------------------------------------- */

static BIO_METHOD *bio_method;

static int bio_read(BIO *b, char *out, int len)
{
    tps_conn *c = BIO_get_data(b);
    struct tps__tls *t = c->tls;
    BIO_clear_retry_flags(b);
    if (len <= 0)
        return 0;
    if (t->pre.len > 0) {
        size_t n = t->pre.len < (size_t)len ? t->pre.len : (size_t)len;
        memcpy(out, tps__buf_head(&t->pre), n);
        tps__buf_consume(&t->pre, n, 0);
        if (t->pre.len == 0)
            tps__buf_free(&t->pre);
        return (int)n;
    }
    BIO *next = BIO_next(b);
    if (next != NULL && BIO_get_ktls_recv(next)) {
        /* The kernel decrypts: OpenSSL's BIO gives one record type per
         * recvmsg(). A short one does not say the socket is empty (a
         * control record may wait behind data), so only EAGAIN does. */
        errno = 0;
        int k = BIO_read(next, out, len);
        BIO_copy_next_retry(b);
        t->drained = k <= 0;
        if (k < 0 && !BIO_should_retry(b))
            t->sys_errno = errno;
        return k;
    }
    ssize_t n;
    do
        n = recv(c->fd, out, (size_t)len, 0);
    while (n < 0 && errno == EINTR);
    if (n > 0) {
        t->drained = n < len;
        return (int)n;
    }
    t->drained = true;
    if (n == 0)
        return 0;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
        BIO_set_retry_read(b);
        return -1;
    }
    t->sys_errno = errno;
    return -1;
}

static int bio_write(BIO *b, const char *in, int len)
{
    tps_conn *c = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    BIO *next = BIO_next(b);
    if (next != NULL && BIO_get_ktls_send(next)) {
        /* The kernel encrypts: OpenSSL's BIO sends plaintext, and records
         * of another type with that type attached (sendmsg()). */
        errno = 0;
        int k = BIO_write(next, in, len);
        BIO_copy_next_retry(b);
        if (k < 0 && !BIO_should_retry(b))
            c->tls->sys_errno = errno ? errno : EPIPE;
        return k;
    }
    ssize_t n;
    do
        n = send(c->fd, in, (size_t)len, MSG_NOSIGNAL | MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    if (n >= 0)
        return (int)n;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
        BIO_set_retry_write(b);
        return -1;
    }
    c->tls->sys_errno = errno;
    return -1;
}

/* With a socket BIO behind (kTLS wanted), every control is its: the kTLS
 * ones (start, ask, mark the next write's record type) and the rest. */
static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    BIO *next = BIO_next(b);
    if (next != NULL)
        return BIO_ctrl(next, cmd, num, ptr);
    return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int bio_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

static void bio_method_init(void)
{
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "tpserv");
    if (m == NULL)
        return;
    BIO_meth_set_read(m, bio_read);
    BIO_meth_set_write(m, bio_write);
    BIO_meth_set_ctrl(m, bio_ctrl);
    BIO_meth_set_create(m, bio_create);
    bio_method = m;
}

/* ---- a connection ----------------------------------------------------------- */

static pthread_once_t bio_once = PTHREAD_ONCE_INIT;

int tps__tls_attach(tps_conn *c)
{
    pthread_once(&bio_once, bio_method_init);
    struct tps__tls *t = bio_method ? calloc(1, sizeof(*t)) : NULL;
    if (t == NULL)
        return TPS_ENOMEM;
    pthread_mutex_lock(&c->srv->tls_lock);
    t->ssl = SSL_new(c->srv->tls_ctx); /* takes a reference on the context */
    pthread_mutex_unlock(&c->srv->tls_lock);
    BIO *b = t->ssl ? BIO_new(bio_method) : NULL;
    if (b == NULL) {
        SSL_free(t->ssl);
        free(t);
        ERR_clear_error();
        return TPS_ENOMEM;
    }
    BIO_set_data(b, c);
    /* kTLS needs OpenSSL's socket BIO behind ours (see the top); TCP only. */
    if (SSL_get_options(t->ssl) & SSL_OP_ENABLE_KTLS) {
        BIO *sock = c->peer.family != AF_UNIX ? BIO_new_socket(c->fd, BIO_NOCLOSE) : NULL;
        if (sock != NULL)
            BIO_push(b, sock);
        else
            SSL_clear_options(t->ssl, SSL_OP_ENABLE_KTLS);
        ERR_clear_error();
    }
    SSL_set_bio(t->ssl, b, b);
    SSL_set_accept_state(t->ssl);
    t->hs_start_ns = tps__now_ns();
    c->tls = t;
    return 0;
}

int tps__tls_preread(tps_conn *c, const char *p, size_t n)
{
    c->tls->hs_start_ns = tps__now_ns(); /* the handshake starts after the header */
    return n == 0 ? 0 : tps__buf_append(&c->tls->pre, p, n, SIZE_MAX);
}

bool tps__tls_hs_answers_hello(const tps_conn *c)
{
    return SSL_get_state(c->tls->ssl) == TLS_ST_BEFORE;
}

/* Which failure a handshake's first queued error says it was. */
static int failure_stat(unsigned long e)
{
    if (ERR_GET_LIB(e) != ERR_LIB_SSL)
        return TPS_STAT_TLS_FAIL_OTHER;
    switch (ERR_GET_REASON(e)) {
    case SSL_R_WRONG_VERSION_NUMBER:
    case SSL_R_UNSUPPORTED_PROTOCOL:
    case SSL_R_VERSION_TOO_LOW:
    case SSL_R_UNKNOWN_PROTOCOL:
    case SSL_R_HTTP_REQUEST:
    case SSL_R_HTTPS_PROXY_REQUEST:
    case SSL_R_PACKET_LENGTH_TOO_LONG:
    case SSL_R_RECORD_LENGTH_MISMATCH:
        return TPS_STAT_TLS_FAIL_VERSION;
    case SSL_R_CERTIFICATE_VERIFY_FAILED:
    case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
    case SSL_R_NO_CERTIFICATES_RETURNED:
        return TPS_STAT_TLS_FAIL_CERT;
    default:
        return TPS_STAT_TLS_FAIL_OTHER;
    }
}

static void log_failure(tps_conn *c, const char *what)
{
    char from[TPS__ADDRSTRLEN], why[512];
    if (c->srv->log_level < TPS_LOG_DEBUG) {
        ERR_clear_error();
        return;
    }
    tps__peer_format(&c->peer, from, sizeof(from));
    tps__tls_errors(why, sizeof(why));
    if (c->tls->sys_errno)
        snprintf(why, sizeof(why), "%s", strerror(c->tls->sys_errno));
    tps__log(c->srv, TPS_LOG_DEBUG, "TLS %s from %s: %s: closed", what, from, why);
}

int tps__tls_handshake_step(tps_conn *c)
{
    struct tps__tls *t = c->tls;
    int n = SSL_do_handshake(t->ssl);
    if (n == 1)
        return 1;
    int e = SSL_get_error(t->ssl, n);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
        return 0;
    t->broken = true;
    /* The error queue is this thread's: read it here, count it later. */
    t->fail_stat = e == SSL_ERROR_SSL ? failure_stat(ERR_peek_error()) : TPS_STAT_TLS_FAIL_OTHER;
    log_failure(c, "handshake");
    return -1;
}

void tps__tls_handshake_count(tps__worker *w, tps_conn *c, int rc)
{
    struct tps__tls *t = c->tls;
    if (rc < 0) {
        tps__count(&w->stats, t->fail_stat, 1);
    } else if (rc > 0) {
        tps__count(&w->stats, TPS_STAT_TLS_HANDSHAKES, 1);
        if (SSL_session_reused(t->ssl))
            tps__count(&w->stats, TPS_STAT_TLS_RESUMED, 1);
        if (BIO_get_ktls_send(SSL_get_wbio(t->ssl)))
            tps__count(&w->stats, TPS_STAT_TLS_KTLS_TX, 1);
        if (BIO_get_ktls_recv(SSL_get_rbio(t->ssl)))
            tps__count(&w->stats, TPS_STAT_TLS_KTLS_RX, 1);
        tps__hist_record(&w->hist[TPS_HIST_TLS_HANDSHAKE], tps__now_ns() - t->hs_start_ns);
    }
}

ssize_t tps__tls_read(tps__worker *w, tps_conn *c, char *p, size_t room, bool *drained)
{
    struct tps__tls *t = c->tls;
    size_t got = 0;
    *drained = false;
    while (got < room) {
        size_t ask = room - got;
        int n = SSL_read(t->ssl, p + got, ask > INT_MAX ? INT_MAX : (int)ask);
        if (n > 0) {
            got += (size_t)n;
            /* Records buffered: decrypt on, no syscall. Else the BIO's last
             * recv() says whether the socket has more. */
            if (!SSL_has_pending(t->ssl) && t->drained) {
                *drained = true;
                break;
            }
            continue;
        }
        int e = SSL_get_error(t->ssl, n);
        if (got > 0) {
            /* Deliver what came; the next read meets an error again. The
             * socket's EAGAIN is the end of this edge: no second try. */
            *drained = e == SSL_ERROR_WANT_READ && t->drained;
            break;
        }
        switch (e) {
        case SSL_ERROR_WANT_READ:
        case SSL_ERROR_WANT_WRITE:
            *drained = true;
            return -EAGAIN;
        case SSL_ERROR_ZERO_RETURN: /* close_notify */
            return 0;
        case SSL_ERROR_SYSCALL:
            t->broken = true;
            ERR_clear_error();
            if (t->sys_errno == 0) { /* OpenSSL 1.1 style bare EOF */
                tps__count(&w->stats, TPS_STAT_TLS_NO_CLOSE_NOTIFY, 1);
                return 0;
            }
            return -t->sys_errno;
        default:
            t->broken = true;
            if (ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
                ERR_clear_error();
                tps__count(&w->stats, TPS_STAT_TLS_NO_CLOSE_NOTIFY, 1);
                return 0; /* the peer is done, only impolitely */
            }
            tps__count(&w->stats, TPS_STAT_TLS_RECORD_ERRORS, 1);
            log_failure(c, "record");
            return -EPROTO;
        }
    }
    return (ssize_t)got;
}

ssize_t tps__tls_write(tps_conn *c, const char *p, size_t len)
{
    struct tps__tls *t = c->tls;
    int n = SSL_write(t->ssl, p, len > INT_MAX ? INT_MAX : (int)len);
    if (n > 0)
        return n;
    switch (SSL_get_error(t->ssl, n)) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
        return -EAGAIN;
    case SSL_ERROR_SYSCALL:
        t->broken = true;
        ERR_clear_error();
        return t->sys_errno ? -t->sys_errno : -EPIPE;
    default:
        t->broken = true;
        ERR_clear_error();
        return -EPROTO;
    }
}

void tps__tls_close_notify(tps_conn *c)
{
    struct tps__tls *t = c->tls;
    if (t->notified || t->broken || !SSL_is_init_finished(t->ssl))
        return;
    t->notified = true;
    if (SSL_shutdown(t->ssl) < 0)
        ERR_clear_error(); /* a full socket: the FIN still says we are done */
}

void tps__tls_free(tps_conn *c)
{
    struct tps__tls *t = c->tls;
    if (t == NULL)
        return;
    SSL_free(t->ssl);
    tps__buf_free(&t->pre);
    free(t);
    c->tls = NULL;
}

/* ---- what was negotiated ------------------------------------------------------ */

static int put(char *buf, size_t len, const char *s, size_t n)
{
    if (s == NULL || n == 0)
        return TPS_ENOENT;
    if (len > 0) {
        size_t k = n < len - 1 ? n : len - 1;
        memcpy(buf, s, k);
        buf[k] = '\0';
    }
    return n > INT_MAX ? INT_MAX : (int)n;
}

int tps_conn_tls(const tps_conn *c, enum tps_tls_item item, char *buf, size_t len)
{
    if (c == NULL || c->tls == NULL || buf == NULL)
        return TPS_ENOENT;
    SSL *ssl = c->tls->ssl;
    switch (item) {
    case TPS_TLS_PROTOCOL: {
        const char *s = SSL_get_version(ssl);
        return put(buf, len, s, strlen(s));
    }
    case TPS_TLS_CIPHER: {
        const char *s = SSL_get_cipher_name(ssl);
        return put(buf, len, s, s ? strlen(s) : 0);
    }
    case TPS_TLS_ALPN: {
        const unsigned char *s = NULL;
        unsigned n = 0;
        SSL_get0_alpn_selected(ssl, &s, &n);
        return put(buf, len, (const char *)s, n);
    }
    case TPS_TLS_SNI: {
        const char *s = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
        return put(buf, len, s, s ? strlen(s) : 0);
    }
    case TPS_TLS_PEER_SUBJECT: {
        X509 *cert = SSL_get0_peer_certificate(ssl);
        if (cert == NULL)
            return TPS_ENOENT;
        char tmp[1024];
        BIO *m = BIO_new(BIO_s_mem());
        if (m == NULL)
            return TPS_ENOMEM;
        X509_NAME_print_ex(m, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
        int n = BIO_read(m, tmp, sizeof(tmp));
        BIO_free(m);
        return put(buf, len, tmp, n > 0 ? (size_t)n : 0);
    }
    case TPS_TLS_RESUMED:
        return put(buf, len, SSL_session_reused(ssl) ? "1" : "0", 1);
    case TPS_TLS_KTLS: {
        static const char *const path[] = {"none", "tx", "rx", "tx+rx"};
        const char *s =
            path[BIO_get_ktls_send(SSL_get_wbio(ssl)) | BIO_get_ktls_recv(SSL_get_rbio(ssl)) << 1];
        return put(buf, len, s, strlen(s));
    }
    }
    return TPS_ENOENT;
}

#else /* !HAVE_OPENSSL: TLS is refused where it is asked for. */

int tps__tls_attach(tps_conn *c)
{
    (void)c;
    return TPS_ENOTSUP;
}
int tps__tls_preread(tps_conn *c, const char *p, size_t n)
{
    (void)c, (void)p, (void)n;
    return TPS_ENOTSUP;
}
bool tps__tls_hs_answers_hello(const tps_conn *c)
{
    (void)c;
    return false;
}
int tps__tls_handshake_step(tps_conn *c)
{
    (void)c;
    return -1;
}
void tps__tls_handshake_count(tps__worker *w, tps_conn *c, int rc)
{
    (void)w, (void)c, (void)rc;
}
ssize_t tps__tls_read(tps__worker *w, tps_conn *c, char *p, size_t room, bool *drained)
{
    (void)w, (void)c, (void)p, (void)room;
    *drained = true;
    return -EPROTO;
}
ssize_t tps__tls_write(tps_conn *c, const char *p, size_t len)
{
    (void)c, (void)p, (void)len;
    return -EPROTO;
}
void tps__tls_close_notify(tps_conn *c)
{
    (void)c;
}
void tps__tls_free(tps_conn *c)
{
    (void)c;
}
int tps_conn_tls(const tps_conn *c, enum tps_tls_item item, char *buf, size_t len)
{
    (void)c, (void)item, (void)buf, (void)len;
    return TPS_ENOENT;
}
#endif
