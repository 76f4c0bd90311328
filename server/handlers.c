/* handlers.c - discard, chargen and daytime, each a few callbacks over the
 * public API only. chargen shows the producer pattern: it queues one chunk
 * and sends the next from on_writable, when the previous chunk has been
 * written, so a slow reader costs one chunk of memory, not an unbounded
 * buffer. */
#include "config.h"

#include "handlers.h"

#include <stdint.h>
#include <stdio.h>
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

const tps_handler *tpsrv_handler_for(enum tpsrv_handler_kind kind)
{
    switch (kind) {
    case TPSRV_HANDLER_DISCARD:
        return &tpsrv_discard_handler;
    case TPSRV_HANDLER_CHARGEN:
        return &tpsrv_chargen_handler;
    case TPSRV_HANDLER_DAYTIME:
        return &tpsrv_daytime_handler;
    case TPSRV_HANDLER_ECHO:
        break;
    }
    return &tps_echo_handler;
}
