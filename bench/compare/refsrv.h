/* SPDX-License-Identifier: MIT */
/* The plumbing shared by the reference echo servers of bench/compare: the
 * command line (-p PORT, -t THREADS, -m MODE), loopback listening sockets
 * (one, or one per thread with SO_REUSEPORT on the same port), TCP_NODELAY,
 * the "listening on" line and SIGTERM = exit 0. Only the event handling
 * differs between the servers, so only that is compared. */
#ifndef REFSRV_H
#define REFSRV_H

#include <stddef.h>
#include <sys/types.h>

#define REFSRV_BUF_SIZE    (64 * 1024) /* read buffer, one per event loop */
#define REFSRV_MAX_THREADS 64

struct refsrv_opts {
    int port;         /* 0 = kernel picks */
    int threads;      /* event loops, >= 1 */
    const char *mode; /* server-specific variant, NULL = default */
    const char *cert; /* TLS servers (refsrv_parse_tls): -c PEM certificate chain */
    const char *key;  /* -k PEM private key (default: in the -c file) */
};

/* Parses argv; on a usage error prints why and exits 2. `modes` is the
 * help text for -m (NULL when the server has no variants). */
void refsrv_parse(int argc, char **argv, struct refsrv_opts *o, const char *modes);

/* The same for a TLS server: -c CERT (required) and -k KEY as well. */
void refsrv_parse_tls(int argc, char **argv, struct refsrv_opts *o, const char *modes);

/* Reports an unknown -m MODE with the usage text and exits 2. */
void refsrv_bad_mode(const char *mode);

/* Opens n listening sockets on 127.0.0.1:port (n > 1 uses SO_REUSEPORT so
 * each loop accepts for itself; port 0 picks one port for all of them).
 * Fills fds[0..n-1] (non-blocking) and returns the port; exits 1 on failure. */
int refsrv_listen(int port, int n, int *fds);

/* Prints "listening on 127.0.0.1:PORT", flushes, makes SIGTERM/SIGINT
 * exit 0 and SIGPIPE harmless, and raises the descriptor limit to its hard
 * maximum (the idle-connections scenario holds 10,000 sockets). Call once,
 * after listening. */
void refsrv_ready(int port);

/* TCP_NODELAY on an accepted socket (request/response needs it). */
void refsrv_nodelay(int fd);

/* Output a write() did not take: buf[off..len); buf is NULL when none. */
struct refsrv_out {
    char *buf;
    size_t off, len;
};

/* After write(fd, data, n) returned w: keep data[w..n). Returns -1 if the
 * write failed outright or memory ran out. */
int refsrv_out_keep(struct refsrv_out *o, const char *data, ssize_t n, ssize_t w);

/* Send the kept output: 1 = all gone (freed), 0 = socket full, -1 = error. */
int refsrv_out_flush(struct refsrv_out *o, int fd);

/* Prints "NAME: what: strerror(err)" and exits 1. */
void refsrv_die(const char *what, int err);

#endif
