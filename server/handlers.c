/* SPDX-License-Identifier: MIT */
/* handlers.c - discard, chargen, daytime and sleep, each a few callbacks
 * over the public API only. chargen shows the producer pattern: it queues one chunk
 * and sends the next from on_writable, when the previous chunk has been
 * written, so a slow reader costs one chunk of memory, not an unbounded
 * buffer. */
#include "config.h"

#include "handlers.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- discard (RFC 863): read and throw away --------------------------- */

static long discard_data(tps_conn *c, const char *data, size_t len)
{
    return (long)len;
}

const tps_handler tpsrv_discard_handler = {
    .name = "discard",
    .on_data = discard_data,
};

/* ---- chargen (RFC 864): rotating lines of printable ASCII -------------- */

#define CHARGEN_FIRST 32  /* ' ' */
#define CHARGEN_COUNT 95  /* ' ' .. '~' */
#define CHARGEN_LINE  72  /* characters per line, then CR LF */
#define CHARGEN_LINES 200 /* lines per chunk: ~14.6 KB */

/* The connection's data pointer holds the offset of the next line's first
 * character (0..94) as an integer, so chargen needs no allocation; NULL,
 * the initial value, is offset 0. */
static void chargen_chunk(tps_conn *c)
{
    unsigned start = (unsigned)(uintptr_t)tps_conn_get_data(c);
    char buf[CHARGEN_LINES * (CHARGEN_LINE + 2)];
    char *p = buf;

    for (unsigned l = 0; l < CHARGEN_LINES; l++) {
        for (unsigned i = 0; i < CHARGEN_LINE; i++)
            *p++ = (char)(CHARGEN_FIRST + (start + l + i) % CHARGEN_COUNT);
        *p++ = '\r';
        *p++ = '\n';
    }
    start = (start + CHARGEN_LINES) % CHARGEN_COUNT;
    tps_conn_set_data(c, (void *)(uintptr_t)start);
    tps_conn_send(c, buf, sizeof buf);
}

static int chargen_open(tps_conn *c)
{
    chargen_chunk(c);
    return 0;
}

static void chargen_writable(tps_conn *c)
{
    chargen_chunk(c);
}

/* Never-ending output would never drain: stop producing and close. */
static void chargen_shutdown(tps_conn *c)
{
    tps_conn_close(c);
}

const tps_handler tpsrv_chargen_handler = {
    .name = "chargen",
    .on_open = chargen_open,
    .on_data = discard_data,
    .on_writable = chargen_writable,
    .on_shutdown = chargen_shutdown,
};

/* ---- daytime (RFC 867): one line with the time, then close ------------ */

static int daytime_open(tps_conn *c)
{
    char line[128];
    struct tm tm;
    time_t now = time(NULL);

    /* UTC and the C locale: thread-safe and the same on every host.
     * RFC 867 leaves the format free; this is its suggested one. */
    gmtime_r(&now, &tm);
    size_t n = strftime(line, sizeof line, "%A, %B %d, %Y %H:%M:%S-UTC\r\n", &tm);
    tps_conn_send(c, line, n);
    tps_conn_close(c);
    return 0;
}

const tps_handler tpsrv_daytime_handler = {
    .name = "daytime",
    .on_open = daytime_open,
    .on_data = discard_data,
};

/* ---- sleep: a handler that blocks, to see what blocking costs ---------- */

#define SLEEP_MAX_MS 60000

/* "sleep MS" (MS 0..60000) -> MS, else -1. */
static long sleep_request(const char *line, size_t len)
{
    char num[8];
    if (len < 7 || memcmp(line, "sleep ", 6) != 0 || len - 6 >= sizeof num)
        return -1;
    memcpy(num, line + 6, len - 6);
    num[len - 6] = '\0';
    char *end;
    long ms = strtol(num, &end, 10);
    return *end == '\0' && num[0] >= '0' && num[0] <= '9' && ms <= SLEEP_MAX_MS ? ms : -1;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = ms % 1000 * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* Line by line: "sleep MS" blocks this callback MS milliseconds and
 * answers "slept MS"; any other line is echoed. A partial line waits. */
static long sleep_data(tps_conn *c, const char *data, size_t len)
{
    size_t used = 0;
    const char *nl;
    while ((nl = memchr(data + used, '\n', len - used)) != NULL) {
        const char *line = data + used;
        size_t n = (size_t)(nl - line) + 1, body = n - 1;
        if (body > 0 && line[body - 1] == '\r')
            body--;
        long ms = sleep_request(line, body);
        if (ms >= 0) {
            char reply[32];
            sleep_ms(ms);
            tps_conn_send(c, reply, (size_t)snprintf(reply, sizeof reply, "slept %ld\r\n", ms));
        } else {
            tps_conn_send(c, line, n);
        }
        used += n;
    }
    return (long)used;
}

/* A line longer than --max-input: say so, in the line protocol's words,
 * before the library closes (gracefully: the client reads this, then EOF). */
static void sleep_limit(tps_conn *c, int reason)
{
    static const char msg[] = "ERR line too long\r\n";
    (void)reason;
    tps_conn_send(c, msg, sizeof msg - 1);
}

const tps_handler tpsrv_sleep_handler = {
    .name = "sleep",
    .flags = TPS_HANDLER_MAY_BLOCK,
    .on_data = sleep_data,
    .on_limit = sleep_limit,
};

const tps_handler *tpsrv_handler_for(enum tpsrv_handler_kind kind)
{
    switch (kind) {
    case TPSRV_HANDLER_DISCARD:
        return &tpsrv_discard_handler;
    case TPSRV_HANDLER_CHARGEN:
        return &tpsrv_chargen_handler;
    case TPSRV_HANDLER_DAYTIME:
        return &tpsrv_daytime_handler;
    case TPSRV_HANDLER_SLEEP:
        return &tpsrv_sleep_handler;
    case TPSRV_HANDLER_ECHO:
        break;
    }
    return &tps_echo_handler;
}
