/* SPDX-License-Identifier: MIT */
/* testutil.h - helpers shared by the Check suites that drive a real
 * tps_server over loopback: start a server inside the test (never in an
 * unchecked fixture: forking a multithreaded parent breaks Check's fork mode
 * and ThreadSanitizer), connect clients, move bytes with deadlines, read
 * clocks, scale loads for slow (sanitizer) runs and record log lines.
 *
 * Helpers that cannot go on (socket(), a failed start) fail the current test
 * with ck_abort_msg; I/O helpers return codes so tests assert on them. */
#ifndef TPS_TESTS_TESTUTIL_H
#define TPS_TESTS_TESTUTIL_H

#include "tpserv.h"

#include <check.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- environment and clocks -------------------------------------------- */

/* 1 when TPS_TEST_SLOW=1 (the ThreadSanitizer job): scale loads down. */
int tu_slow(void);
/* plain when running normally, slow under TPS_TEST_SLOW=1. */
long tu_scale(long plain, long slow);
/* A Check timeout in seconds, multiplied by 5 under TPS_TEST_SLOW. */
double tu_timeout(double plain_seconds);

int64_t tu_now_us(void); /* CLOCK_MONOTONIC, microseconds */
int64_t tu_cpu_us(void); /* CPU time of the whole process */
void tu_sleep_ms(long ms);

/* ---- log capture -------------------------------------------------------- */

#define TU_LOG_KEEP 64
/* Records every ERROR/WARN message (the first TU_LOG_KEEP kept verbatim)
 * and counts lines per level. Thread-safe: the library logs from any of
 * its threads. Must outlive the server it is attached to. */
typedef struct tu_log {
    pthread_mutex_t mu;
    unsigned count[4]; /* per tps_log_level */
    unsigned kept;
    char lines[TU_LOG_KEEP][4096]; /* a whole library line (its maximum) */
} tu_log;

void tu_log_init(tu_log *log);
void tu_log_fn(void *ud, int level, const char *msg); /* a tps_log_fn */
unsigned tu_log_count(tu_log *log, int level);
/* 1 if a kept ERROR/WARN line contains needle. */
int tu_log_has(tu_log *log, const char *needle);
/* The kept lines joined by " | " into buf (for failure messages). */
const char *tu_log_dump(tu_log *log, char *buf, size_t len);

/* ---- servers ------------------------------------------------------------- */

/* h as it is (mayblock 0) or with TPS_HANDLER_MAY_BLOCK added (1): one
 * handler definition serves both dispatch modes. Points to the calling
 * thread's copy, valid until the next call: hand it straight to
 * tu_server_start() (tps_server_set_handler copies it). */
const tps_handler *tu_mode(const tps_handler *h, int mayblock);

/* One option assignment; arrays end with { TPS_OPT_COUNT_, 0 }. */
typedef struct tu_opt {
    enum tps_option opt;
    long long value;
} tu_opt;
#define TU_OPT_END        \
    {                     \
        TPS_OPT_COUNT_, 0 \
    }

/* New server with opts (may be NULL), handler h (NULL = echo) and log (may
 * be NULL), listening on spec (NULL = "127.0.0.1:0"), started. Aborts the
 * test on any failure. */
tps_server *tu_server_start(const tps_handler *h, void *ud, const tu_opt *opts, tu_log *log,
                            const char *spec);
/* Like tu_server_start but does not start: add listeners, then start. */
tps_server *tu_server_new(const tps_handler *h, void *ud, const tu_opt *opts, tu_log *log);
/* An option's value (asserts tps_server_get succeeds). */
long long tu_get(const tps_server *srv, enum tps_option opt);
/* TCP port of listener idx (aborts the test if it has none). */
int tu_port(const tps_server *srv, unsigned idx);

/* Poll a statistic until it reaches at least want, up to timeout_ms.
 * Returns the last value read. */
uint64_t tu_wait_stat(const tps_server *srv, enum tps_stat st, uint64_t want, long timeout_ms);
/* Poll until the statistic is at most want. */
uint64_t tu_wait_stat_le(const tps_server *srv, enum tps_stat st, uint64_t want, long timeout_ms);

/* ---- clients ------------------------------------------------------------- */

/* Connect to host:port ("127.0.0.1", "::1"); nonblock selects O_NONBLOCK
 * (the connect may then still be in progress). Returns the fd or a negated
 * errno (the test decides whether that is a failure). */
/* A TCP client to 127.0.0.1:port whose SO_RCVBUF is set to `rcvbuf` before
 * connect (so its receive window stays small: a slow reader); non-blocking
 * if `nonblock`. Asserts on failure. */
int tu_connect_rcvbuf(int port, int rcvbuf, int nonblock);
int tu_connect_host(const char *host, int port, int nonblock);
/* tu_connect_host("127.0.0.1", ...) that aborts the test on failure. */
int tu_connect(int port, int nonblock);
/* Connect to a unix socket path; fd or negated errno. */
int tu_connect_unix(const char *path, int nonblock);
/* Bind the client to a local IPv4 source address before connecting
 * (127.0.0.2 reaches a 127.0.0.1 listener from another "host"). */
int tu_connect_from(const char *src, int port);

/* Send all n bytes (MSG_NOSIGNAL, poll-driven, works on blocking and
 * non-blocking fds). Returns 0, -ETIMEDOUT, or a negated errno. */
int tu_write_all(int fd, const void *buf, size_t n, long timeout_ms);
/* Read exactly n bytes. Returns n, the count read before EOF (< n),
 * -ETIMEDOUT or a negated errno; *got (may be NULL) holds what arrived. */
long tu_read_exact(int fd, void *buf, size_t n, long timeout_ms, size_t *got);
/* Wait for the end of the stream: 0 = clean EOF, 1 = data arrived instead
 * (discarded), -ECONNRESET, -ETIMEDOUT or another negated errno. */
int tu_wait_eof(int fd, long timeout_ms);
/* Read and discard until EOF or error; returns bytes read, or -ETIMEDOUT.
 * *err (may be NULL) gets 0 for a clean EOF or the negated errno. */
long tu_drain(int fd, long timeout_ms, int *err);
/* Send msg and read the same bytes back; 0 or a negative code. */
int tu_echo_roundtrip(int fd, const void *msg, size_t n, long timeout_ms);
/* Close with an RST (SO_LINGER 0). */
void tu_close_rst(int fd);
/* Highest open descriptor number of the process. */
int tu_max_fd(void);

/* A deterministic pseudo-random pattern of at least 2 MiB, built once:
 * tests send slices of it and compare echoes against it. */
const unsigned char *tu_pattern(void);
#define TU_PATTERN_LEN (2u << 20)
/* xorshift64* step; seed must be nonzero. */
uint64_t tu_rand(uint64_t *state);

#endif
