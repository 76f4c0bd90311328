/* SPDX-License-Identifier: MIT */
/* Reference TLS echo server on libevent 2's bufferevent_openssl, the way
 * its documentation and samples do it: each accepted socket becomes a
 * bufferevent_openssl_socket_new(..., BUFFEREVENT_SSL_ACCEPTING); the read
 * callback moves the decrypted input to the output with
 * evbuffer_add_buffer(); reading is disabled while more than 64 KiB wait
 * to be sent and re-enabled when the output has drained (write low
 * watermark 0), so a peer that does not read holds at most that much.
 * At EOF (close_notify, or a plain TCP FIN: dirty shutdowns are allowed,
 * as for the other references' half-close) the echo of what came before
 * it is sent first, then the connection is freed.
 *
 * One SSL_CTX with OpenSSL's defaults (TLS 1.2 and 1.3, the default
 * suites and groups, stateless session tickets; only a FIN without
 * close_notify is taken as EOF, see tls_init), the certificate chain of
 * -c and the key of -k. -t N runs N event bases, one per thread, each with
 * its own SO_REUSEPORT listener and no locks (nothing is shared between
 * bases but the SSL_CTX, which OpenSSL makes thread-safe). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include "refsrv.h"
#include "bev-echo.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

struct basectx {
    struct event_base *base;
    pthread_t tid;
};

static SSL_CTX *ctx;

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
                      void *arg)
{
    struct basectx *bc = arg;
    (void)l, (void)sa, (void)salen;
    refsrv_nodelay(fd);
    SSL *ssl = SSL_new(ctx);
    struct bufferevent *bev =
        ssl ? bufferevent_openssl_socket_new(bc->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                             BEV_OPT_CLOSE_ON_FREE)
            : NULL;
    if (!bev) {
        SSL_free(ssl);
        close(fd);
        return;
    }
    bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
    bev_echo_start(bev);
}

static void tls_init(const char *cert, const char *key)
{
    ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx || SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, key ? key : cert, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        fprintf(stderr, "echo-libevent-tls: %s: ", cert);
        ERR_print_errors_fp(stderr);
        exit(1);
    }
    /* OpenSSL 3 reports a TCP FIN without close_notify as an error (and
     * sends a decode_error alert), which libevent 2.1's dirty-shutdown
     * switch does not recognise: make it a plain EOF, as with OpenSSL 1.1. */
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
}

static void base_init(struct basectx *bc, int fd)
{
    struct event_config *cfg = event_config_new();
    if (!cfg || event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK) < 0)
        refsrv_die("event_config", ENOMEM);
    bc->base = event_base_new_with_config(cfg);
    event_config_free(cfg);
    if (!bc->base)
        refsrv_die("event_base_new", ENOMEM);
    unsigned flags = LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC;
    if (!evconnlistener_new(bc->base, on_accept, bc, flags, 4096, fd))
        refsrv_die("evconnlistener_new", errno);
}

static void *base_run(void *arg)
{
    struct basectx *bc = arg;
    event_base_dispatch(bc->base);
    return NULL;
}

int main(int argc, char **argv)
{
    struct refsrv_opts o;
    refsrv_parse_tls(argc, argv, &o, NULL);
    tls_init(o.cert, o.key);
    int fds[REFSRV_MAX_THREADS];
    struct basectx *bcs = calloc((size_t)o.threads, sizeof *bcs);
    if (!bcs)
        refsrv_die("calloc", ENOMEM);
    int port = refsrv_listen(o.port, o.threads, fds);
    for (int i = 0; i < o.threads; i++)
        base_init(&bcs[i], fds[i]);
    refsrv_ready(port);
    for (int i = 1; i < o.threads; i++)
        if ((errno = pthread_create(&bcs[i].tid, NULL, base_run, &bcs[i])) != 0)
            refsrv_die("pthread_create", errno);
    base_run(&bcs[0]);
    return 0;
}
