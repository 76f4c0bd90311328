/* SPDX-License-Identifier: MIT */
/* log.c - the library's only way to speak: format into a stack buffer and
 * hand the line to the user's callback. Never prints itself. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "internal.h"

static bool enabled(const tps_server *srv, int level)
{
    return srv->log_fn != NULL && level <= srv->log_level;
}

/* Room for two file paths and OpenSSL's queue of reasons (a TLS
 * configuration error names both files, then says why, and 512 bytes cut
 * the why off deep paths). A line that is longer still ends in "..." so
 * the reader knows. */
#define LOG_LINE_MAX 4096

static void vlog(const tps_server *srv, int level, int err, const char *fmt, va_list ap)
{
    char msg[LOG_LINE_MAX];
    int n = vsnprintf(msg, sizeof(msg), fmt, ap);
    if (n < 0)
        return;
    if (err > 0 && (size_t)n < sizeof(msg)) {
        char eb[128];
        /* GNU strerror_r returns the message pointer (thread-safe). */
        const char *es = strerror_r(err, eb, sizeof(eb));
        n += snprintf(msg + n, sizeof(msg) - (size_t)n, ": %s", es);
    }
    if ((size_t)n >= sizeof(msg))
        memcpy(msg + sizeof(msg) - 4, "...", 4);
    srv->log_fn(srv->log_ud, level, msg);
}

void tps__log(const tps_server *srv, int level, const char *fmt, ...)
{
    if (!enabled(srv, level))
        return;
    va_list ap;
    va_start(ap, fmt);
    vlog(srv, level, 0, fmt, ap);
    va_end(ap);
}

void tps__log_errno(const tps_server *srv, int level, int err, const char *fmt, ...)
{
    if (!enabled(srv, level))
        return;
    va_list ap;
    va_start(ap, fmt);
    vlog(srv, level, err, fmt, ap);
    va_end(ap);
}

int64_t tps__now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
