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
    TPC_EXIT_CLOSED = 5   /* peer closed before the expected reply, or
                             reset the connection */
};

/* Connects to the target of o (TCP: every address getaddrinfo gives, in
 * order; or a unix socket), each attempt bounded by o->timeout_ms. On
 * success stores a non-blocking, close-on-exec socket in *fd and returns
 * TPC_EXIT_OK; otherwise returns another tpc_exit code with a message in
 * err. With o->verbose, reports attempts and the connected peer on stderr. */
int tpc_connect(const struct tpc_opts *o, int *fd, char *err, size_t errlen);

/* Runs the exchange on the connected socket fd (which it does not close):
 * sends -m messages or stdin, copies replies to stdout, and decides when
 * the exchange is over. Returns a tpc_exit code; err holds a message for
 * any code but TPC_EXIT_OK. */
int tpc_session_run(const struct tpc_opts *o, int fd, char *err, size_t errlen);

/* Monotonic clock in milliseconds. */
long long tpc_now_ms(void);

#endif
