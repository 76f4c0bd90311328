/* conn.c - one connection's life: adoption, turns (read, on_data, flush),
 * and the one close path. A turn runs on the runner in c->r, which runs
 * the connection's worker (or ran it when a callback of this turn blocked
 * and was handed off; it then finishes the turn under the worker's lock).
 * Callbacks of a may-block handler are bracketed by cb_enter/cb_leave.
 *
 * Hot path per message (echo): one recv into the runner's read scratch,
 * on_data, tps_conn_send, one send. A turn's output goes to the runner's
 * output scratch, except a first send of a slice of the input just read:
 * that is sent from the read scratch itself (echo, proxies, anything
 * that answers with bytes it was given copies nothing). Only bytes the
 * handler leaves unconsumed, or the socket does not take, are copied to
 * per-connection buffers, so an idle connection holds no buffer memory
 * and a message costs no allocation. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "internal.h"
#include "proxyproto.h"

static size_t opt_size(const tps_server *srv, int o)
{
    return (size_t)srv->opt[o];
}

/* The turn's output not yet in c->out: the scratch or an input slice,
 * never both. */
static size_t turn_out_len(const tps__runner *r)
{
    return r->obuf.len + r->oref_len;
}

static void turn_out_reset(tps__runner *r)
{
    r->obuf.len = 0;
    r->oref_len = 0;
}

/* Around each callback: a may-block handler's callback runs without the
 * worker's lock, with its connection away (handoff.c). */
static inline void cb_enter(tps_conn *c)
{
    if (c->srv->may_block)
        tps__callback_enter(c);
}
static inline void cb_leave(tps_conn *c)
{
    if (c->srv->may_block)
        tps__callback_leave(c);
}

void tps__conn_touch(tps__worker *w, tps_conn *c)
{
    atomic_store_explicit(&c->last_active_ms, w->now_ms, memory_order_relaxed);
    if (c->link.next != &w->conns) {
        tps__list_unlink(&c->link);
        tps__list_append(&w->conns, &c->link);
    }
}

bool tps__conn_wants_read(const tps_server *srv, const tps_conn *c)
{
    (void)srv;
    return !(c->flags & (TPS__CF_PEER_EOF | TPS__CF_READ_PAUSED)) &&
           (!(c->flags & TPS__CF_CLOSING) || (c->flags & TPS__CF_LINGER));
}

/* Close now: the one place that releases descriptor, buffers and count.
 * The slot itself is freed at the end of the worker's iteration (dead
 * list), after any turn still looking at it has returned. */
void tps__conn_close(tps__worker *w, tps_conn *c, int reason)
{
    static const int stat_for[TPS_CLOSE_REASON_COUNT_] = {
        [TPS_CLOSE_ERROR] = TPS_STAT_ERRORS,
        [TPS_CLOSE_IDLE_TIMEOUT] = TPS_STAT_IDLE_TIMEOUTS,
        [TPS_CLOSE_SEND_TIMEOUT] = TPS_STAT_SEND_TIMEOUTS,
        [TPS_CLOSE_INPUT_LIMIT] = TPS_STAT_INPUT_LIMIT,
        [TPS_CLOSE_OUTPUT_LIMIT] = TPS_STAT_OUTPUT_LIMIT,
        [TPS_CLOSE_PROXY] = TPS_STAT_PROXY_ERRORS,
    };
    tps_server *srv = w->srv;
    if (c->fd < 0)
        return;
    if ((c->flags & TPS__CF_OPENED) && srv->handler->on_close) {
        c->flags |= TPS__CF_CLOSING; /* sends from on_close are refused */
        cb_enter(c);
        srv->handler->on_close(c, reason);
        cb_leave(c);
    }
    if (stat_for[reason])
        tps__count(&w->stats, stat_for[reason], 1);
    tps__count(&w->stats, TPS_STAT_CLOSED, 1);
    tps__list_unlink(&c->link);
    w->nconns--;
    if (tps__list_linked(&c->send_link))
        tps__list_unlink(&c->send_link);
    if (tps__list_linked(&c->ready_link))
        tps__list_unlink(&c->ready_link);
    close(c->fd);
    c->fd = -1;
    if (c->r != NULL)
        turn_out_reset(c->r);
    tps__buf_free(&c->in);
    tps__buf_free(&c->out);
    if (c->flags & TPS__CF_IP_COUNTED)
        tps__iplimit_release(srv->iplimit, &c->peer);
    atomic_fetch_sub(&srv->active, 1);
    c->free_next = w->dead;
    w->dead = c;
}

static void close_later(tps_conn *c, int reason)
{
    if (!(c->flags & TPS__CF_CLOSING)) {
        c->flags |= TPS__CF_CLOSING;
        c->close_reason = reason;
    }
}

/* ---- output ------------------------------------------------------------ */

/* Is [p, p + len) inside what the turn's last read put in rbuf? */
static bool in_input(const tps__runner *r, const void *p, size_t len)
{
    uintptr_t a = (uintptr_t)p, lo = (uintptr_t)r->rbuf;
    return a >= lo && len <= r->rlen && a - lo <= r->rlen - len;
}

/* More output follows an input slice: copy the slice to where output
 * goes now (the scratch, or c->out if it is too big for it). */
static int unref(tps_conn *c, tps__runner *r, size_t max)
{
    size_t n = r->oref_len;
    r->oref_len = 0;
    if (n <= r->obuf.cap) {
        memcpy(r->obuf.data, r->oref, n);
        r->obuf.len = n;
        return 0;
    }
    return tps__buf_append(&c->out, r->oref, n, max);
}

int tps_conn_send(tps_conn *c, const void *data, size_t len)
{
    tps__runner *r = c->r;
    size_t max = opt_size(c->srv, TPS_OPT_MAX_OUTPUT);
    bool in_turn = r != NULL;
    size_t held = c->out.len + (in_turn ? turn_out_len(r) : 0);
    if (c->fd < 0 || (c->flags & TPS__CF_CLOSING))
        return TPS_ENOTCONN;
    if (len > max || held > max - len) {
        close_later(c, TPS_CLOSE_OUTPUT_LIMIT);
        return TPS_ENOBUFS;
    }
    if (in_turn && held == 0 && len > 0 && in_input(r, data, len)) {
        r->oref = data;
        r->oref_len = len;
        return 0;
    }
    if (in_turn && r->oref_len > 0 && unref(c, r, max) < 0)
        goto nomem;
    if (in_turn && c->out.len == 0 && len <= r->obuf.cap - r->obuf.len) {
        memcpy(r->obuf.data + r->obuf.len, data, len);
        r->obuf.len += len;
        return 0;
    }
    /* Large or backed-up output: keep the order, scratch first. */
    if (in_turn && r->obuf.len > 0) {
        if (tps__buf_append(&c->out, r->obuf.data, r->obuf.len, max) < 0)
            goto nomem;
        r->obuf.len = 0;
    }
    if (tps__buf_append(&c->out, data, len, max) < 0)
        goto nomem;
    return 0;
nomem:
    close_later(c, TPS_CLOSE_OUTPUT_LIMIT);
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
        ssize_t n = send(c->fd, p + done, len - done, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            return -errno;
        }
        done += (size_t)n;
    }
    if (done)
        tps__count(&w->stats, TPS_STAT_BYTES_OUT, done);
    return (ssize_t)done;
}

/* The output buffer just emptied: lift backpressure, offer on_writable. */
static void output_drained(tps__worker *w, tps_conn *c)
{
    if (c->srv->handler->on_writable && !(c->flags & TPS__CF_CLOSING)) {
        c->flags |= TPS__CF_WANT_WRITABLE;
        tps__ready_push(w, c);
    }
}

static void after_flush(tps__worker *w, tps_conn *c, size_t before, size_t sent)
{
    size_t hw = opt_size(c->srv, TPS_OPT_OUTPUT_HIGH_WATER);
    if (sent > 0)
        tps__conn_touch(w, c);
    tps__timers_on_output(w, c, sent > 0);
    if ((c->flags & TPS__CF_READ_PAUSED) && c->out.len <= hw / 2) {
        c->flags &= ~TPS__CF_READ_PAUSED;
        tps__ready_push(w, c); /* data may wait in the socket: no new edge */
    }
    if (before > 0 && c->out.len == 0)
        output_drained(w, c);
}

/* Write the turn's output and any backlog: one send() when the socket
 * keeps up. What it does not take is kept in c->out. */
static void flush_output(tps__worker *w, tps_conn *c)
{
    tps__runner *r = c->r;
    const char *p = r->oref_len > 0 ? r->oref : r->obuf.data;
    size_t len = turn_out_len(r), before = len + c->out.len, sent = 0;
    ssize_t n = 0;
    if (len > 0) {
        /* c->out is empty here: tps_conn_send moves the turn's output
         * into it before anything goes after it */
        n = send_some(w, c, p, len);
        if (n >= 0) {
            sent = (size_t)n;
            if (tps__buf_append(&c->out, p + n, len - sent, SIZE_MAX) < 0)
                n = -ENOMEM; /* never drop output silently */
        }
        turn_out_reset(r);
    } else if (c->out.len > 0) {
        n = send_some(w, c, tps__buf_head(&c->out), c->out.len);
        if (n > 0) {
            sent = (size_t)n;
            tps__buf_consume(&c->out, sent, 0);
        }
    }
    if (n < 0) {
        tps__conn_close(w, c, TPS_CLOSE_ERROR);
        return;
    }
    if (before > 0)
        after_flush(w, c, before, sent);
}

/* ---- input ------------------------------------------------------------- */

static void open_conn(tps__worker *w, tps_conn *c);

/* The client the PROXY header names counts against the per-address cap
 * in place of the balancer (acceptor.c left it out). */
static bool admit_client(tps__worker *w, tps_conn *c)
{
    tps_server *srv = c->srv;
    unsigned cap = (unsigned)srv->opt[TPS_OPT_MAX_CONNS_PER_IP];
    if (srv->iplimit == NULL || c->peer.family == AF_UNIX)
        return true;
    if (tps__iplimit_take(srv->iplimit, &c->peer, cap)) {
        c->flags |= TPS__CF_IP_COUNTED;
        return true;
    }
    tps_conn_send(c, TPS__BUSY_PER_IP, sizeof(TPS__BUSY_PER_IP) - 1);
    tps__count(&w->stats, TPS_STAT_REJECTED_PER_IP, 1);
    close_later(c, TPS_CLOSE_HANDLER);
    return false;
}

/* A PROXY listener's connection: parse the header at the start of its
 * input. Returns the header's length once complete (the connection is then
 * opened), 0 while incomplete, -1 if it was bad (closing). */
static long proxy_header(tps__worker *w, tps_conn *c, const char *data, size_t len)
{
    tps__peer peer = c->peer;
    size_t used = 0;
    int rc = tps__proxy_parse(data, len, &peer, &used);
    if (rc == 0)
        return 0;
    if (rc < 0) {
        char from[TPS__ADDRSTRLEN];
        tps__peer_format(&c->peer, from, sizeof(from));
        tps__log(c->srv, TPS_LOG_DEBUG, "bad PROXY protocol header from %s: closed", from);
        close_later(c, TPS_CLOSE_PROXY);
        return -1;
    }
    if (c->srv->log_level >= TPS_LOG_DEBUG) {
        char via[TPS__ADDRSTRLEN], client[TPS__ADDRSTRLEN];
        tps__peer_format(&c->peer, via, sizeof(via));
        tps__peer_format(&peer, client, sizeof(client));
        tps__log(c->srv, TPS_LOG_DEBUG, "PROXY header from %s: client %s", via, client);
    }
    c->flags &= ~TPS__CF_PROXY_WAIT;
    tps__list_unlink(&c->send_link); /* off the header list */
    c->send_since_ms = 0;
    c->peer = peer;
    if (admit_client(w, c))
        open_conn(w, c);
    return (long)used;
}

/* Hand data to on_data; keep what it leaves. from_scratch: data is the
 * runner's read buffer (leftovers must be copied), else it is c->in. */
static void deliver(tps__worker *w, tps_conn *c, const char *data, size_t len, bool from_scratch)
{
    const tps_handler *h = c->srv->handler;
    size_t skip = 0; /* a PROXY header's bytes */
    bool call = true;
    if (c->flags & TPS__CF_PROXY_WAIT) {
        long n = proxy_header(w, c, data, len);
        call = n != 0; /* incomplete: keep it all, used stays 0 */
        skip = n < 0 || (c->flags & TPS__CF_CLOSING) ? len : (size_t)n;
        if (!call)
            skip = 0;
    }
    long used = call ? (long)(len - skip) : 0;
    if (call && !(c->flags & TPS__CF_LINGER) && h->on_data != NULL && len > skip) {
        cb_enter(c);
        uint64_t t0 = tps__now_ns();
        used = h->on_data(c, data + skip, len - skip);
        uint64_t took = tps__now_ns() - t0;
        cb_leave(c);
        tps__hist_record(&w->hist[TPS_HIST_HANDLER], took); /* the worker's again */
    }
    if (c->fd < 0)
        return;
    if (used < 0) {
        close_later(c, TPS_CLOSE_HANDLER);
        used = (long)(len - skip);
    }
    if ((size_t)used > len - skip)
        used = (long)(len - skip); /* a handler bug; never read past the data */
    used += (long)skip;
    if (!from_scratch) {
        tps__buf_consume(&c->in, (size_t)used, 0);
    } else if ((size_t)used < len && tps__buf_append(&c->in, data + used, len - (size_t)used,
                                                     opt_size(c->srv, TPS_OPT_MAX_INPUT)) < 0) {
        close_later(c, TPS_CLOSE_INPUT_LIMIT);
    }
}

/* One recv; returns bytes read, 0 at EOF, -EAGAIN, or another -errno.
 * *asked is how much room the read had (a short read drained the socket). */
static ssize_t read_once(tps__worker *w, tps_conn *c, size_t *asked)
{
    size_t max_in = opt_size(c->srv, TPS_OPT_MAX_INPUT), room = 0;
    bool scratch = c->in.len == 0;
    char *p = scratch ? c->r->rbuf : tps__buf_reserve(&c->in, TPS__RBUF_SIZE, max_in, &room);
    if (scratch)
        room = TPS__RBUF_SIZE;
    if (p == NULL) {
        close_later(c, TPS_CLOSE_INPUT_LIMIT);
        return -ENOBUFS;
    }
    *asked = room;
    if (scratch && c->r->oref_len > 0) {
        flush_output(w, c); /* it is a slice of what this read overwrites */
        if (c->fd < 0)
            return -EPIPE;
    }
    ssize_t n;
    do
        n = recv(c->fd, p, room, 0);
    while (n < 0 && errno == EINTR);
    if (n <= 0)
        return n == 0 ? 0 : -errno;
    tps__count(&w->stats, TPS_STAT_BYTES_IN, (uint64_t)n);
    tps__conn_touch(w, c);
    if (scratch)
        c->r->rlen = (size_t)n;
    else
        tps__buf_commit(&c->in, (size_t)n);
    deliver(w, c, scratch ? p : tps__buf_head(&c->in), scratch ? (size_t)n : c->in.len, scratch);
    return n;
}

static bool above_high_water(tps__worker *w, tps_conn *c)
{
    size_t pending = c->out.len + turn_out_len(c->r);
    if (pending <= opt_size(c->srv, TPS_OPT_OUTPUT_HIGH_WATER))
        return false;
    c->flags |= TPS__CF_READ_PAUSED;
    tps__count(&w->stats, TPS_STAT_BACKPRESSURE, 1);
    return true;
}

static void read_input(tps__worker *w, tps_conn *c, uint32_t events)
{
    c->flags &= ~TPS__CF_READ_MORE;
    for (int i = 0; i < TPS__READS_PER_TURN; i++) {
        if (!tps__conn_wants_read(c->srv, c) || above_high_water(w, c))
            return;
        size_t asked = 0;
        ssize_t n = read_once(w, c, &asked);
        if (n == -EAGAIN || n == -EWOULDBLOCK || n == -ENOBUFS || c->fd < 0)
            return;
        if (n < 0) {
            tps__conn_close(w, c, TPS_CLOSE_ERROR);
            return;
        }
        if (n == 0) {
            c->flags |= TPS__CF_PEER_EOF;
            return;
        }
        /* A short read emptied the socket; an edge comes with new data.
         * After RDHUP read on to see the EOF. */
        if ((size_t)n < asked && !(events & (EPOLLRDHUP | EPOLLHUP)))
            return;
    }
    c->flags |= TPS__CF_READ_MORE; /* budget spent: yield to others */
    tps__ready_push(w, c);
}

/* ---- turns --------------------------------------------------------------- */

static void deliver_shutdown(tps_conn *c)
{
    if (c->flags & TPS__CF_SHUTDOWN)
        return;
    c->flags |= TPS__CF_SHUTDOWN;
    if (c->flags & TPS__CF_PROXY_WAIT) { /* never opened: nothing to finish */
        close_later(c, TPS_CLOSE_SHUTDOWN);
        return;
    }
    if (c->srv->handler->on_shutdown && !(c->flags & TPS__CF_CLOSING)) {
        cb_enter(c);
        c->srv->handler->on_shutdown(c);
        cb_leave(c);
    }
}

/* Draining: once everything read is answered and written, half-close and
 * discard further input until the peer's EOF, so the peer reads every
 * reply and a clean FIN instead of a reset. */
static void drain_step(tps__worker *w, tps_conn *c)
{
    if (!(c->flags & TPS__CF_SHUTDOWN) || (c->flags & TPS__CF_LINGER))
        return;
    if (c->in.len || c->out.len || (c->flags & TPS__CF_READ_MORE))
        return;
    shutdown(c->fd, SHUT_WR);
    c->flags |= TPS__CF_LINGER | TPS__CF_CLOSING;
    c->close_reason = TPS_CLOSE_SHUTDOWN;
    tps__ready_push(w, c); /* read what is already there */
}

/* After the callbacks: flush, then close if it is time. */
static void turn_end(tps__worker *w, tps_conn *c)
{
    flush_output(w, c);
    if (c->fd < 0)
        return;
    if (tps__draining(c->srv)) {
        if (w->now_ms >= atomic_load(&c->srv->drain_deadline_ms)) {
            tps__conn_close(w, c, TPS_CLOSE_SHUTDOWN);
            return;
        }
        drain_step(w, c);
    }
    if ((c->flags & TPS__CF_PEER_EOF) && !(c->flags & TPS__CF_CLOSING))
        close_later(c, c->flags & TPS__CF_LINGER ? TPS_CLOSE_SHUTDOWN : TPS_CLOSE_PEER);
    if ((c->flags & TPS__CF_CLOSING) && c->out.len == 0 &&
        (!(c->flags & TPS__CF_LINGER) || (c->flags & TPS__CF_PEER_EOF)))
        tps__conn_close(w, c, c->close_reason);
}

static void turn_begin(tps_conn *c)
{
    c->r = tps__self();
    turn_out_reset(c->r);
    c->r->rlen = 0;
}

void tps__conn_turn_begin(tps_conn *c)
{
    turn_begin(c);
}

void tps__conn_turn_end(tps__worker *w, tps_conn *c)
{
    if (c->fd >= 0)
        turn_end(w, c);
    c->r = NULL;
}

void tps__conn_turn(tps__worker *w, tps_conn *c, uint32_t events)
{
    turn_begin(c);
    if (tps__draining(c->srv))
        deliver_shutdown(c);
    if (c->out.len > 0 && (events == 0 || (events & EPOLLOUT)))
        flush_output(w, c);
    if (c->fd >= 0 && (events & (EPOLLERR | EPOLLHUP | EPOLLIN | EPOLLRDHUP) || events == 0))
        read_input(w, c, events);
    if (c->fd >= 0 && (c->flags & TPS__CF_WANT_WRITABLE) && c->out.len == 0 &&
        !(c->flags & TPS__CF_CLOSING)) {
        c->flags &= ~TPS__CF_WANT_WRITABLE;
        cb_enter(c);
        c->srv->handler->on_writable(c);
        cb_leave(c);
    }
    if (c->fd >= 0 && tps__draining(c->srv))
        deliver_shutdown(c); /* the stop may have begun during this turn */
    if (c->fd >= 0)
        turn_end(w, c);
    c->r = NULL;
}

void tps__conn_begin_shutdown(tps__worker *w, tps_conn *c)
{
    tps__ready_push(w, c);
}

static int register_pinned(tps__worker *w, tps_conn *c)
{
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
                             .data.u64 = tps__conn_datum(c)};
    if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0)
        return -errno;
    tps__list_append(&w->conns, &c->link);
    w->nconns++;
    return 0;
}

/* Undo admission for a descriptor that never became a connection. */
static void drop_fd(tps__worker *w, const tps__fditem *it, int stat)
{
    tps_server *srv = w->srv;
    close(it->fd);
    if (tps__ip_counted_at_accept(srv, it))
        tps__iplimit_release(srv->iplimit, &it->peer);
    atomic_fetch_sub(&srv->active, 1);
    tps__count(&w->stats, stat, 1);
}

/* on_open (after the PROXY header, on such listeners). */
static void open_conn(tps__worker *w, tps_conn *c)
{
    const tps_handler *h = c->srv->handler;
    int rc = 0;
    if (h->on_open) {
        cb_enter(c);
        rc = h->on_open(c);
        cb_leave(c);
    }
    if (rc < 0) {
        tps__count(&w->stats, TPS_STAT_REJECTED_HANDLER, 1);
        c->flags |= TPS__CF_CLOSING;
        c->close_reason = TPS_CLOSE_HANDLER;
    } else {
        c->flags |= TPS__CF_OPENED;
        if (tps__draining(c->srv)) /* adopted from the queue after the stop */
            deliver_shutdown(c);
    }
}

void tps__conn_adopt(tps__worker *w, const tps__fditem *it)
{
    tps_server *srv = w->srv;
    tps_conn *c = tps__conntab_alloc(&srv->conns, w);
    if (c == NULL) {
        tps__log(srv, TPS_LOG_ERROR, "no connection slot (out of memory?)");
        drop_fd(w, it, TPS_STAT_ERRORS);
        return;
    }
    c->fd = it->fd;
    c->srv = srv;
    c->peer = it->peer;
    tps__hist_record(&w->hist[TPS_HIST_QUEUE_WAIT], tps__now_ns() - it->accepted_ns);
    if (tps__ip_counted_at_accept(srv, it))
        c->flags |= TPS__CF_IP_COUNTED;
    tps__list_init(&c->link);
    tps__list_init(&c->send_link);
    tps__list_init(&c->ready_link);
    atomic_store_explicit(&c->last_active_ms, w->now_ms, memory_order_relaxed);
    int err = register_pinned(w, c);
    if (err < 0) {
        tps__log_errno(srv, TPS_LOG_ERROR, -err, "epoll_ctl(ADD) failed");
        c->fd = -1;
        drop_fd(w, it, TPS_STAT_ERRORS);
        tps__conntab_free(&srv->conns, c);
        return;
    }
    turn_begin(c);
    if (it->proxy) {
        c->flags |= TPS__CF_PROXY_WAIT; /* opened once the header is read */
        c->send_since_ms = w->now_ms;
        tps__list_append(&w->header_list, &c->send_link);
        if (tps__draining(srv))
            deliver_shutdown(c); /* never opened: this closes it */
    } else {
        open_conn(w, c);
    }
    turn_end(w, c);
    c->r = NULL; /* EPOLL_CTL_ADD already reported bytes that came early */
}

/* ---- public accessors ---------------------------------------------------- */

void tps_conn_close(tps_conn *c)
{
    close_later(c, TPS_CLOSE_HANDLER);
}

uint64_t tps_conn_id(const tps_conn *c)
{
    return tps__conn_datum(c);
}

int tps_conn_peer(const tps_conn *c, char *buf, size_t len)
{
    return tps__peer_format(&c->peer, buf, len);
}

void *tps_conn_get_data(const tps_conn *c)
{
    return c->data;
}
void tps_conn_set_data(tps_conn *c, void *data)
{
    c->data = data;
}
void *tps_conn_handler_data(const tps_conn *c)
{
    return c->srv->handler_ud;
}
