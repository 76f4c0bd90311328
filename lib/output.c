/* SPDX-License-Identifier: MIT */
/* output.c - a connection's output: tps_conn_send and the flush after a
 * turn. A turn's output goes to the runner's output scratch, except a
 * first send of a slice of the input just read: that is kept as a
 * reference into the runner's read scratch and sent from there (echo,
 * proxies, anything that answers with bytes it was given copies
 * nothing). Whatever is sent after it copies the slice to the scratch
 * first; a second read in the same turn sends it before overwriting it
 * (conn.c, read_once). What the socket does not take is copied to the
 * connection's own buffer, c->out, and goes out first next time. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "internal.h"

/* The turn's output not yet in c->out: the scratch or an input slice,
 * never both. */
static size_t turn_out_len(const tps__runner *r)
{
    return r->obuf.len + r->oref_len;
}

void tps__turn_out_reset(tps__runner *r)
{
    r->obuf.len = 0;
    r->oref_len = 0;
}

/* Is [p, p + len) inside what the turn's last read put in rbuf? */
static bool in_input(const tps__runner *r, const void *p, size_t len)
{
    uintptr_t a = (uintptr_t)p, lo = (uintptr_t)r->rbuf;
    return a >= lo && len <= r->rlen && a - lo <= r->rlen - len;
}

/* A slice of the read scratch always fits the output scratch. */
_Static_assert(TPS__OBUF_SIZE >= TPS__RBUF_SIZE, "an input slice must fit the output scratch");

/* More output follows an input slice: copy the slice into the (empty)
 * output scratch, where the rest goes after it. */
static void unref(tps__runner *r)
{
    memcpy(r->obuf.data, r->oref, r->oref_len);
    r->obuf.len = r->oref_len;
    r->oref_len = 0;
}

/* Append to c->out. Its capacity stays within the high water plus one
 * read while the bytes fit there: that is the most a connection whose
 * peer does not read can hold when each read's answer is no larger than
 * the read (reading stops above the high water, so one more read's worth
 * is the overshoot), and doubling must not make it twice that. */
static int out_append(tps_conn *c, const void *p, size_t len, size_t limit)
{
    size_t soft = tps__opt_size(c->srv, TPS_OPT_OUTPUT_HIGH_WATER) + TPS__RBUF_SIZE;
    return tps__buf_append_soft(&c->out, p, len, soft < limit ? soft : limit, limit);
}

int tps_conn_send(tps_conn *c, const void *data, size_t len)
{
    tps__runner *r = c->r;
    size_t max = tps__opt_size(c->srv, TPS_OPT_MAX_OUTPUT);
    bool in_turn = r != NULL;
    size_t held = c->out.len + (in_turn ? turn_out_len(r) : 0);
    if (c->fd < 0 || (c->flags & TPS__CF_CLOSING))
        return TPS_ENOTCONN;
    if (len > max || held > max - len) {
        tps__conn_close_later(c, TPS_CLOSE_OUTPUT_LIMIT);
        return TPS_ENOBUFS;
    }
    if (in_turn && held == 0 && len > 0 && in_input(r, data, len)) {
        r->oref = data;
        r->oref_len = len;
        return 0;
    }
    if (in_turn && r->oref_len > 0)
        unref(r);
    if (in_turn && c->out.len == 0 && len <= r->obuf.cap - r->obuf.len) {
        memcpy(r->obuf.data + r->obuf.len, data, len);
        r->obuf.len += len;
        return 0;
    }
    /* Large or backed-up output: keep the order, scratch first. */
    if (in_turn && r->obuf.len > 0) {
        if (out_append(c, r->obuf.data, r->obuf.len, max) < 0)
            goto nomem;
        r->obuf.len = 0;
    }
    if (out_append(c, data, len, max) < 0)
        goto nomem;
    return 0;
nomem:
    tps__conn_close_later(c, TPS_CLOSE_OUTPUT_LIMIT);
    return TPS_ENOMEM;
}

size_t tps_conn_pending(const tps_conn *c)
{
    return c->out.len + (c->r != NULL ? turn_out_len(c->r) : 0);
}

/* send() until done or EAGAIN; <0 on a socket error. */
static ssize_t send_some(tps__worker *w, tps_conn *c, const char *p, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = c->tls ? tps__tls_write(c, p + done, len - done)
                           : send(c->fd, p + done, len - done, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            int err = c->tls ? (int)-n : errno; /* tps__tls_write returns -errno */
            if (err == EINTR)
                continue;
            if (err == EAGAIN || err == EWOULDBLOCK)
                break;
            return -err;
        }
        done += (size_t)n;
    }
    if (done)
        tps__count(&w->stats, TPS_STAT_BYTES_OUT, done);
    return (ssize_t)done;
}

/* Write the turn's output and any backlog: one send() when the socket
 * keeps up. What it does not take is kept in c->out. What follows from
 * it (a close, the send clock, backpressure, on_writable) is conn.c's. */
int tps__out_flush(tps__worker *w, tps_conn *c, size_t *before, size_t *sent)
{
    tps__runner *r = c->r;
    const char *p = r->oref_len > 0 ? r->oref : r->obuf.data;
    size_t len = turn_out_len(r);
    ssize_t n = 0;
    *before = len + c->out.len;
    *sent = 0;
    if (len > 0) {
        /* c->out is empty here: tps_conn_send moves the turn's output
         * into it before anything goes after it */
        n = send_some(w, c, p, len);
        if (n >= 0) {
            *sent = (size_t)n;
            if (len > *sent && out_append(c, p + n, len - *sent, SIZE_MAX) < 0)
                n = -ENOMEM; /* never drop output silently */
        }
        tps__turn_out_reset(r);
    } else if (c->out.len > 0) {
        n = send_some(w, c, tps__buf_head(&c->out), c->out.len);
        if (n > 0) {
            *sent = (size_t)n;
            tps__buf_consume(&c->out, *sent, 0);
        }
    }
    return n < 0 ? (int)n : 0;
}
