/* SPDX-License-Identifier: MIT */
/* tlscli.c - the OpenSSL client of the TLS suites (tlscli.h). */
#include "config.h"

#include "tlscli.h"

#ifdef HAVE_OPENSSL
#include "testutil.h"

#include <fcntl.h>
#include <openssl/err.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

SSL_CTX *tcli_ctx(const char *cert, const char *key, int max)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    ck_assert_ptr_nonnull(ctx);
    ck_assert_int_eq(SSL_CTX_load_verify_locations(ctx, TCLI_CERTS "ca.pem", NULL), 1);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    if (cert != NULL) {
        ck_assert_int_eq(SSL_CTX_use_certificate_chain_file(ctx, cert), 1);
        ck_assert_int_eq(SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM), 1);
    }
    if (max != 0) {
        SSL_CTX_set_min_proto_version(ctx, 0);
        SSL_CTX_set_max_proto_version(ctx, max);
        SSL_CTX_set_cipher_list(ctx, "DEFAULT:@SECLEVEL=0"); /* let it offer 1.1 */
    }
    return ctx;
}

static void set_nonblock(int fd, int on)
{
    int fl = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK);
}

static int with_timeouts(int fd)
{
    struct timeval tv = {.tv_sec = (time_t)tu_timeout(10)};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    return fd;
}

int tcli_tcp(int port)
{
    return with_timeouts(tu_connect(port, 0));
}

int tcli_tcp_rcvbuf(int port, int rcvbuf)
{
    return with_timeouts(tu_connect_rcvbuf(port, rcvbuf, 0));
}

static int handshake(tcli *t, int fd, SSL_CTX *ctx, SSL_SESSION *resume, const char *sni,
                     const char *host)
{
    static const unsigned char alpn[] = "\x0btpserv-test";
    t->fd = fd;
    t->ctx = ctx;
    t->own = NULL;
    t->ssl = SSL_new(ctx);
    ck_assert_ptr_nonnull(t->ssl);
    SSL_set_fd(t->ssl, fd);
    if (sni != NULL)
        SSL_set_tlsext_host_name(t->ssl, sni);
    if (host != NULL)
        SSL_set1_host(t->ssl, host);
    SSL_set_alpn_protos(t->ssl, alpn, sizeof(alpn) - 1);
    if (resume != NULL)
        SSL_set_session(t->ssl, resume);
    int ok = SSL_connect(t->ssl) == 1;
    ERR_clear_error();
    return ok;
}

int tcli_handshake(tcli *t, int fd, SSL_CTX *ctx, SSL_SESSION *resume)
{
    return handshake(t, fd, ctx, resume, "localhost", "localhost");
}

int tcli_handshake_sni(tcli *t, int fd, SSL_CTX *ctx, SSL_SESSION *resume, const char *sni)
{
    return handshake(t, fd, ctx, resume, sni, NULL);
}

int tcli_open(tcli *t, int port, SSL_CTX *ctx)
{
    return tcli_handshake(t, tcli_tcp(port), ctx, NULL);
}

void tcli_open_echoed(tcli *t, int port, SSL_CTX *ctx)
{
    SSL_CTX *own = ctx == NULL ? tcli_ctx(NULL, NULL, 0) : NULL;
    ck_assert_msg(tcli_open(t, port, ctx ? ctx : own), "TLS handshake failed");
    t->own = own;
    ck_assert_msg(tcli_echo(t, (const unsigned char *)"ok\n", 3, (long)(tu_timeout(10) * 1000)),
                  "no echo over TLS");
}

void tcli_free(tcli *t)
{
    SSL_free(t->ssl);
    if (t->fd >= 0)
        close(t->fd);
    SSL_CTX_free(t->own);
    t->ssl = NULL;
    t->fd = -1;
    t->own = NULL;
}

int tcli_ssl_write(SSL *ssl, const void *p, int n)
{
    sigset_t sigpipe, old;
    struct timespec now = {0, 0};
    sigemptyset(&sigpipe);
    sigaddset(&sigpipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &sigpipe, &old);
    int w = SSL_write(ssl, p, n);
    int saved = errno;
    while (sigtimedwait(&sigpipe, NULL, &now) > 0) /* take back the one it raised */
        ;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    errno = saved;
    return w;
}

void tcli_write(tcli *t, const void *p, size_t n)
{
    int w = tcli_ssl_write(t->ssl, p, (int)n);
    int e = w > 0 ? SSL_ERROR_NONE : SSL_get_error(t->ssl, w);
    ERR_clear_error();
    ck_assert_msg(w == (int)n, "SSL_write of %zu bytes: %d (SSL error %d: the server closed?)", n,
                  w, e);
}

size_t tcli_read(tcli *t, void *p, size_t n)
{
    size_t got = 0;
    while (got < n) {
        int k = SSL_read(t->ssl, (char *)p + got, (int)(n - got));
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    ERR_clear_error();
    return got;
}

int tcli_end(tcli *t)
{
    char c;
    int k = SSL_read(t->ssl, &c, 1);
    int e = k > 0 ? -2 : SSL_get_error(t->ssl, k);
    ERR_clear_error();
    return e == SSL_ERROR_ZERO_RETURN ? 1 : e == SSL_ERROR_SSL || e == SSL_ERROR_SYSCALL ? 0 : -1;
}

int tcli_echo(tcli *t, const unsigned char *out, size_t n, long timeout_ms)
{
    unsigned char *in = malloc(n ? n : 1);
    size_t sent = 0, got = 0;
    int64_t end = tu_now_us() + timeout_ms * 1000;
    ck_assert_ptr_nonnull(in);
    set_nonblock(t->fd, 1);
    while (got < n && tu_now_us() < end) {
        bool want_out = false, progress = false;
        if (sent < n) {
            size_t k = n - sent > 16384 ? 16384 : n - sent;
            int w = tcli_ssl_write(t->ssl, out + sent, (int)k);
            if (w > 0)
                sent += (size_t)w, progress = true;
            else if (SSL_get_error(t->ssl, w) == SSL_ERROR_WANT_WRITE)
                want_out = true;
            else if (SSL_get_error(t->ssl, w) != SSL_ERROR_WANT_READ)
                break;
        }
        int r = SSL_read(t->ssl, in + got, (int)(n - got));
        if (r > 0)
            got += (size_t)r, progress = true;
        else if (SSL_get_error(t->ssl, r) != SSL_ERROR_WANT_READ &&
                 SSL_get_error(t->ssl, r) != SSL_ERROR_WANT_WRITE)
            break;
        if (!progress) {
            struct pollfd pfd = {.fd = t->fd, .events = POLLIN | (want_out ? POLLOUT : 0)};
            poll(&pfd, 1, 50);
        }
    }
    ERR_clear_error();
    set_nonblock(t->fd, 0);
    int ok = got == n && memcmp(in, out, n) == 0;
    free(in);
    return ok;
}
#endif /* HAVE_OPENSSL */
