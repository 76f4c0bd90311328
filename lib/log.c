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

static void vlog(const tps_server *srv, int level, int err, const char *fmt, va_list ap)
{
    char msg[512];
    int n = vsnprintf(msg, sizeof(msg), fmt, ap);
    if (n < 0)
        return;
    if (err > 0 && (size_t)n < sizeof(msg)) {
        char eb[128];
        /* GNU strerror_r returns the message pointer (thread-safe). */
        const char *es = strerror_r(err, eb, sizeof(eb));
        snprintf(msg + n, sizeof(msg) - (size_t)n, ": %s", es);
    }
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
