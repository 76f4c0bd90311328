/* SPDX-License-Identifier: MIT */
/* tlscli.h - a real OpenSSL client for the suites that drive tls:
 * listeners (check_lib_tls.c, check_lib_tls_contract.c): it trusts the
 * test CA in tests/tls/, sends SNI "localhost" and ALPN "tpserv-test",
 * and uses blocking sockets with 10 s timeouts (tu_timeout-scaled), so a
 * server that misbehaves fails a test instead of hanging it.
 *
 * Helpers that cannot go on fail the current test (ck_assert); I/O
 * helpers return what happened so tests assert on it. Built without
 * OpenSSL, this header declares nothing. */
#ifndef TPS_TESTS_TLSCLI_H
#define TPS_TESTS_TLSCLI_H

#include "config.h"

#ifdef HAVE_OPENSSL
#include <openssl/ssl.h>
#include <stddef.h>

#define TCLI_CERTS TPS_TEST_SRCDIR "/tests/tls/"

typedef struct tcli {
    int fd;
    SSL_CTX *ctx;
    SSL *ssl;
    SSL_CTX *own; /* a context the client made for itself; tcli_free frees it */
} tcli;

/* A client context trusting the test CA; cert/key may be NULL. max is a
 * TLS1_x_VERSION or 0. */
SSL_CTX *tcli_ctx(const char *cert, const char *key, int max);

/* A blocking TCP connection to 127.0.0.1:port with 10 s send/receive
 * timeouts. The _rcvbuf variant sets SO_RCVBUF before connecting (a small
 * receive window: a peer that reads slowly, or not at all). */
int tcli_tcp(int port);
int tcli_tcp_rcvbuf(int port, int rcvbuf);

/* Handshake on fd (owned from now on). Returns 1, or 0 if it failed (the
 * client is still to be freed). */
int tcli_handshake(tcli *t, int fd, SSL_CTX *ctx, SSL_SESSION *resume);
/* The same with server_name sni (NULL: none sent), and no check of the
 * server's name (the chain must still verify): the SNI tests look at
 * which certificate came. */
int tcli_handshake_sni(tcli *t, int fd, SSL_CTX *ctx, SSL_SESSION *resume, const char *sni);
int tcli_open(tcli *t, int port, SSL_CTX *ctx);

/* Open a client (with ctx, or NULL: a default context of its own) and
 * check that the connection is served: the handshake succeeds and "ok\n"
 * comes back. Fails the test otherwise. */
void tcli_open_echoed(tcli *t, int port, SSL_CTX *ctx);

/* Close the socket without a close_notify (a test that wants one calls
 * SSL_shutdown first) and free the client's own context. */
void tcli_free(tcli *t);

/* SSL_write, except that a write to a reset connection fails instead of
 * killing the test with SIGPIPE (OpenSSL's socket BIO uses write(); the
 * signal is blocked for the call and taken back). */
int tcli_ssl_write(SSL *ssl, const void *p, int n);

/* Write all n bytes (asserts). */
void tcli_write(tcli *t, const void *p, size_t n);

/* Read exactly n bytes; returns what arrived. */
size_t tcli_read(tcli *t, void *p, size_t n);

/* After the expected data: the server's close_notify (1), an EOF without
 * one (0), or something else (-1: data, a reset, a timeout). */
int tcli_end(tcli *t);

/* Echo n bytes through a non-blocking loop that writes and reads at once
 * (a large echo would otherwise fill both directions and stall): 1 if
 * exactly out came back within timeout_ms. */
int tcli_echo(tcli *t, const unsigned char *out, size_t n, long timeout_ms);

#endif /* HAVE_OPENSSL */
#endif
