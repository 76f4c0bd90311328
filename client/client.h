/* SPDX-License-Identifier: MIT */
/* client.h - what the pieces of tpclient share: its exit codes (documented
 * in --help, so scripts can tell a refused connection from a timeout) and
 * the connection and session entry points that main.c glues together. Each
 * piece reports failure as one of these codes plus a message in a
 * caller-provided buffer; only main.c prints errors and exits (the others
 * print only -v reports). */
#ifndef TPC_CLIENT_H
#define TPC_CLIENT_H

#include <stddef.h>

#include "opts.h"

enum tpc_exit {
    TPC_EXIT_OK = 0,      /* done, and every expectation was met */
    TPC_EXIT_ERROR = 1,   /* anything else: out of memory, stdout broken... */
    TPC_EXIT_USAGE = 2,   /* bad command line; nothing was attempted */
    TPC_EXIT_CONNECT = 3, /* refused, unreachable, host or socket not found */
    TPC_EXIT_TIMEOUT = 4, /* connect timed out, or silence while a reply
                             was expected */
    TPC_EXIT_CLOSED = 5,  /* peer closed before the expected reply, or
                             reset the connection */
    TPC_EXIT_TLS = 6      /* --tls: handshake or certificate verification
                             failed, the server refused us (an alert), or
                             a bad TLS record */
};

/* Connects to the target of o (TCP: every address getaddrinfo gives, in
 * order; or a unix socket), each attempt bounded by o->timeout_ms. On
 * success stores a non-blocking, close-on-exec socket in *fd and returns
 * TPC_EXIT_OK; otherwise returns another tpc_exit code with a message in
 * err. With o->verbose, reports attempts and the connected peer on stderr. */
int tpc_connect(const struct tpc_opts *o, int *fd, char *err, size_t errlen);

struct tpc_tls;

/* Runs the exchange on the connected socket fd (which it does not close):
 * sends -m messages or stdin, copies replies to stdout, and decides when
 * the exchange is over. With tls (not NULL) the bytes go through it. Returns
 * a tpc_exit code; err holds a message for any code but TPC_EXIT_OK. */
int tpc_session_run(const struct tpc_opts *o, int fd, struct tpc_tls *tls, char *err,
                    size_t errlen);

/* ---- TLS (client/tls.c) ---------------------------------------------------
 * tpc_tls_start: builds the context from the --tls options (a file that
 * cannot be loaded or a bad --alpn is TPC_EXIT_USAGE: nothing was tried
 * yet), then does the handshake on the connected fd, bounded by -w (a
 * timeout is TPC_EXIT_TIMEOUT, any failure TPC_EXIT_TLS with OpenSSL's
 * reason). With -v reports what was negotiated. */
int tpc_tls_start(const struct tpc_opts *o, int fd, struct tpc_tls **tls, char *err,
                  size_t errlen);
/* recv()/send() over TLS, on the non-blocking socket: >0 bytes; 0 at the
 * peer's end (close_notify, or an EOF without one: see tpc_tls_truncated);
 * -1 with errno EAGAIN (see tpc_tls_wants_write), ECONNRESET, EPIPE, or
 * EPROTO for a TLS failure (tpc_tls_error says why). */
long tpc_tls_recv(struct tpc_tls *t, void *buf, size_t len);
long tpc_tls_send(struct tpc_tls *t, const void *buf, size_t len);
/* The last call is blocked on the socket becoming writable. */
int tpc_tls_wants_write(const struct tpc_tls *t);
/* Decrypted or raw bytes wait inside TLS: poll() cannot see them. */
int tpc_tls_pending(const struct tpc_tls *t);
/* The peer's end came without a close_notify. */
int tpc_tls_truncated(const struct tpc_tls *t);
const char *tpc_tls_error(const struct tpc_tls *t);
/* Sends our close_notify: 1 done, 0 try again when writable, -1 failed. */
int tpc_tls_close_notify(struct tpc_tls *t);
void tpc_tls_free(struct tpc_tls *t);

/* Monotonic clock in milliseconds. */
long long tpc_now_ms(void);

#endif
