/* SPDX-License-Identifier: MIT */
/* conn.c - one connection's life: adoption, turns (read, on_data, flush),
 * and the one close path; the output side is output.c. A turn runs on
 * the runner in c->r, which runs the connection's worker (or ran it when
 * a callback of this turn blocked and was handed off; it then finishes
 * the turn under the worker's lock). Callbacks of a may-block handler are
 * bracketed by cb_enter/cb_leave.
 *
 * Hot path per message (echo): one recv into the runner's read scratch,
 * on_data, tps_conn_send (which keeps echo's slice of the input without
 * copying it), one send. Only bytes the handler leaves unconsumed, or the
 * socket does not take, are copied to per-connection buffers, so an idle
 * connection holds no buffer memory and a message costs no allocation. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "internal.h"
#include "proxyproto.h"

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

/* A TLS peer closed for these reasons is told so with a close_notify: the
 * end of the data is the real end, not a truncation. */
static bool says_goodbye(int reason)
{
    return reason == TPS_CLOSE_PEER || reason == TPS_CLOSE_HANDLER ||
           reason == TPS_CLOSE_SHUTDOWN || reason == TPS_CLOSE_IDLE_TIMEOUT ||
           reason == TPS_CLOSE_INPUT_LIMIT || reason == TPS_CLOSE_OUTPUT_LIMIT;
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
        [TPS_CLOSE_RESET] = TPS_STAT_RESETS,
    };
    tps_server *srv = w->srv;
    if (c->fd < 0)
        return;
    /* Lingering, it was closed already (handler, limit, stop): whatever
     * ends the linger (EOF, quiet, a timeout, a reset) reports that. */
    if (c->flags & TPS__CF_LINGER)
        reason = c->close_reason;
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
    if (c->flags & TPS__CF_HS_COUNTED)
        tps__hs_done(srv);
    if (tps__list_linked(&c->send_link))
        tps__list_unlink(&c->send_link);
    if (tps__list_linked(&c->ready_link))
        tps__list_unlink(&c->ready_link);
    if (c->tls != NULL) { /* after on_close: tps_conn_tls() was valid there */
        if (c->out.len == 0 && says_goodbye(reason))
            tps__tls_close_notify(c); /* lingering, it was sent already */
        tps__tls_free(c);
    }
    close(c->fd);
    c->fd = -1;
    if (c->r != NULL)
        tps__turn_out_reset(c->r);
    tps__buf_free(&c->in);
    tps__buf_free(&c->out);
    free(c->proxy_tlvs); /* after on_close: tps_conn_proxy_tlv() was valid there */
    c->proxy_tlvs = NULL;
    if (c->flags & TPS__CF_IP_COUNTED)
        tps__iplimit_release(srv->iplimit, &c->peer);
    atomic_fetch_sub(&srv->active, 1);
    c->free_next = w->dead;
    w->dead = c;
}

/* ---- the clocks timers.c reads ---------------------------------------------
 * Each list is kept in the order its timeout expires (timers.c). */

/* Output state changed: keep send_since = time of the last progress while
 * output is pending (0 when none), and the send list in that order. */
static void send_clock(tps__worker *w, tps_conn *c, bool progress)
{
    bool linked = tps__list_linked(&c->send_link);
    if (c->out.len == 0) {
        c->send_since_ms = 0;
        if (linked)
            tps__list_unlink(&c->send_link);
        return;
    }
    if (!progress && c->send_since_ms != 0)
        return; /* stuck: the clock keeps running */
    c->send_since_ms = w->now_ms;
    if (c->away)
        return; /* linked when the callback returns */
    if (linked)
        tps__list_unlink(&c->send_link);
    tps__list_append(&w->send_list, &c->send_link);
}

/* A lingering connection read input (or just began to linger): restart
 * its quiet clock (timers.c closes it once quiet for LINGER_MS). false
 * once it has lingered longer than LINGER_MAX_MS in all (nginx's
 * lingering_time: a peer that keeps talking after our FIN, however short
 * its pauses): close it. */
static bool linger_clock(tps__worker *w, tps_conn *c)
{
    if (w->now_ms - c->linger_since_ms > c->srv->opt[TPS_OPT_LINGER_MAX_MS])
        return false;
    c->send_since_ms = w->now_ms;
    if (tps__list_linked(&c->send_link))
        tps__list_unlink(&c->send_link);
    tps__list_append(&w->linger_list, &c->send_link);
    return true;
}

/* ---- output ------------------------------------------------------------- */

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
    size_t hw = tps__opt_size(c->srv, TPS_OPT_OUTPUT_HIGH_WATER);
    if (sent > 0)
        tps__conn_touch(w, c);
    send_clock(w, c, sent > 0);
    if ((c->flags & TPS__CF_READ_PAUSED) && c->out.len <= hw / 2) {
        c->flags &= ~TPS__CF_READ_PAUSED;
        tps__ready_push(w, c); /* data may wait in the socket: no new edge */
    }
    if (before > 0 && c->out.len == 0)
        output_drained(w, c);
}

void tps__conn_flush(tps__worker *w, tps_conn *c)
{
    size_t before, sent;
    int rc = tps__out_flush(w, c, &before, &sent);
    if (rc < 0)
        tps__conn_close(w, c, tps__close_reason_for(rc));
    else if (before > 0)
        after_flush(w, c, before, sent);
}

/* Does a close for this reason follow output the peer must still read?
 * Then it is a lingering close (tps__conn_half_close). The others may cut:
 * the peer reset or broke the socket, a timeout gave up on it, or it sent
 * a bad PROXY header and was told nothing. */
static bool closes_gracefully(const tps_server *srv, int reason)
{
    return srv->opt[TPS_OPT_LINGER_MS] > 0 &&
           (reason == TPS_CLOSE_HANDLER || reason == TPS_CLOSE_INPUT_LIMIT ||
            reason == TPS_CLOSE_OUTPUT_LIMIT || reason == TPS_CLOSE_SHUTDOWN);
}

/* The lingering close: everything owed is flushed; shut our write side,
 * so the peer reads EOF right after the last byte, and from now on read
 * and discard its input until its EOF (then close) or until it has been
 * quiet for LINGER_MS (timers.c). A bare close() would reset the
 * connection the moment input arrives unread, and a reset makes the
 * peer's kernel drop the reply it has not read yet. */
void tps__conn_half_close(tps__worker *w, tps_conn *c, int reason)
{
    tps__conn_close_later(c, reason);
    if (c->flags & TPS__CF_LINGER)
        return;
    c->flags |= TPS__CF_LINGER;
    if (c->tls != NULL)
        tps__tls_close_notify(c); /* then the FIN; what follows is discarded raw */
    shutdown(c->fd, SHUT_WR);
    tps__buf_free(&c->in); /* nobody will consume it now */
    c->linger_since_ms = w->now_ms;
    linger_clock(w, c);
    tps__ready_push(w, c); /* read, and discard, what is already there */
}

/* ---- input ------------------------------------------------------------- */

/* The peer overran TPS_OPT_MAX_INPUT: the handler may answer it (on_limit)
 * before the graceful close. */
static void input_limit(tps_conn *c)
{
    const tps_handler *h = c->srv->handler;
    if (c->flags & TPS__CF_CLOSING)
        return;
    tps__buf_free(&c->in);
    if (h->on_limit != NULL && (c->flags & TPS__CF_OPENED)) {
        cb_enter(c);
        h->on_limit(c, TPS_CLOSE_INPUT_LIMIT);
        cb_leave(c);
    }
    tps__conn_close_later(c, TPS_CLOSE_INPUT_LIMIT);
}

static void open_conn(tps__worker *w, tps_conn *c);

/* A tls: connection's handshake begins (at adoption, or after its PROXY
 * header): it is opened once the handshake is done, or closed if that
 * takes longer than TPS_OPT_TLS_HANDSHAKE_TIMEOUT_MS (hs_list). */
static void tls_begin(tps__worker *w, tps_conn *c)
{
    c->flags |= TPS__CF_TLS_HS;
    c->send_since_ms = w->now_ms;
    tps__list_append(&w->hs_list, &c->send_link);
}

/* One step of the handshake: 1 done (the connection is opened now), 0
 * waiting for the peer (or for the pool to run the step), -1 failed.
 * With the handshake pool (hspool.c) a turn does not run the step that
 * answers the ClientHello, the costly one: it asks for it (TPS__CF_HS_STEP,
 * submitted at the turn's end, when nothing here touches c any more), and
 * the turn after the pool's reads the outcome. The later steps (TLS 1.3:
 * check the client's Finished, send tickets) cost a fraction of it and
 * two thread switches each in the pool, so the worker runs them, as it
 * runs every step without the pool: a few per iteration, after the
 * events of established connections (hs_budget). */
enum { HS_STEP_NOW = -2 }; /* no outcome from the pool: step here */

static int tls_handshake(tps__worker *w, tps_conn *c)
{
    int rc = HS_STEP_NOW;
    if (c->flags & TPS__CF_HS_RESULT) {
        c->flags &= ~TPS__CF_HS_RESULT;
        rc = c->hs_rc;
        /* The peer wrote while c was away, after the step's last recv():
         * its edge came and went here. Waiting, step on; done, the turn
         * after this one reads again, for the BIO's "drained" predates
         * those bytes (they sat in the socket for ever once: a stall). */
        if (c->away_events && rc == 0)
            rc = HS_STEP_NOW;
        else if (c->away_events && rc > 0)
            tps__ready_push(w, c);
        c->away_events = 0;
    }
    if (rc == HS_STEP_NOW) {
        if (w->srv->hspool != NULL && tps__tls_hs_answers_hello(c)) {
            c->flags |= TPS__CF_HS_STEP;
            return 0;
        }
        if (w->hs_budget == 0) { /* established connections first */
            tps__ready_push(w, c);
            return 0;
        }
        w->hs_budget--;
        rc = tps__tls_handshake_step(c);
    }
    tps__tls_handshake_count(w, c, rc);
    if (rc <= 0)
        return rc;
    c->flags &= ~(TPS__CF_TLS_HS | TPS__CF_HS_COUNTED);
    tps__list_unlink(&c->send_link); /* off the handshake list */
    tps__hs_done(c->srv);
    c->send_since_ms = 0;
    open_conn(w, c);
    return 1;
}

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
    if (c->tls == NULL) /* a TLS client would take it for a bad record */
        tps_conn_send(c, TPS__BUSY_PER_IP, sizeof(TPS__BUSY_PER_IP) - 1);
    tps__count(&w->stats, TPS_STAT_REJECTED_PER_IP, 1);
    tps__conn_close_later(c, TPS_CLOSE_HANDLER);
    return false;
}

/* A PROXY listener's connection: parse the header at the start of its
 * input. Returns the header's length once complete (the connection is then
 * opened), 0 while incomplete, -1 if it was bad (closing). */
static long proxy_header(tps__worker *w, tps_conn *c, const char *data, size_t len)
{
    tps__peer peer = c->peer;
    tps__proxy_hdr hdr;
    int rc = tps__proxy_parse(data, len, &peer, &hdr);
    if (rc == 0)
        return 0;
    if (rc < 0) {
        char from[TPS__ADDRSTRLEN];
        tps__peer_format(&c->peer, from, sizeof(from));
        tps__log(c->srv, TPS_LOG_DEBUG, "bad PROXY protocol header from %s: closed", from);
        tps__conn_close_later(c, TPS_CLOSE_PROXY);
        return -1;
    }
    if (hdr.tlv_len > 0 && tps__proxy_tlvs_keep(c, data + hdr.tlv_off, hdr.tlv_len) < 0) {
        tps__log(c->srv, TPS_LOG_ERROR, "no memory for a PROXY header's TLVs: closed");
        tps__conn_close_later(c, TPS_CLOSE_ERROR); /* not the header's fault */
        return -1;
    }
    if (c->srv->log_level >= TPS_LOG_DEBUG) {
        char via[TPS__ADDRSTRLEN], client[TPS__ADDRSTRLEN], tlvs[256];
        tps__peer_format(&c->peer, via, sizeof(via));
        tps__peer_format(&peer, client, sizeof(client));
        tps__proxy_tlvs_describe(c, tlvs, sizeof(tlvs));
        tps__log(c->srv, TPS_LOG_DEBUG, "PROXY header from %s: client %s%s%s", via, client,
                 tlvs[0] ? ", TLVs:" : "", tlvs);
    }
    c->flags &= ~TPS__CF_PROXY_WAIT;
    tps__list_unlink(&c->send_link); /* off the header list */
    c->send_since_ms = 0;
    c->peer = peer;
    if (!admit_client(w, c))
        return (long)hdr.used;
    if (c->tls == NULL) {
        open_conn(w, c);
        return (long)hdr.used;
    }
    /* What came after the header is the start of the TLS handshake. */
    if (tps__tls_preread(c, data + hdr.used, len - hdr.used) < 0) {
        tps__conn_close_later(c, TPS_CLOSE_ERROR);
        return (long)len;
    }
    tls_begin(w, c);
    tps__ready_push(w, c); /* no new edge may come: the client waits for us */
    return (long)len;
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
        tps__conn_close_later(c, TPS_CLOSE_HANDLER);
        used = (long)(len - skip);
    }
    if ((size_t)used > len - skip)
        used = (long)(len - skip); /* a handler bug; never read past the data */
    used += (long)skip;
    if (!from_scratch) {
        tps__buf_consume(&c->in, (size_t)used, 0);
    } else if ((size_t)used < len &&
               tps__buf_append(&c->in, data + used, len - (size_t)used,
                               tps__opt_size(c->srv, TPS_OPT_MAX_INPUT)) < 0) {
        input_limit(c);
    }
}

/* Read from the socket, through TLS unless before the PROXY header or
 * lingering (then the bytes are raw: the header, or input to discard). */
static ssize_t read_some(tps__worker *w, tps_conn *c, char *p, size_t room, bool *drained)
{
    ssize_t n;
    if (c->tls != NULL && !(c->flags & (TPS__CF_PROXY_WAIT | TPS__CF_LINGER))) {
        if (c->flags & TPS__CF_TLS_HS) {
            int rc = tls_handshake(w, c);
            if (rc <= 0) {
                *drained = true;
                return rc == 0 ? -EAGAIN : -EPROTO;
            }
            if (c->fd < 0 || (c->flags & TPS__CF_CLOSING))
                return -EAGAIN; /* on_open refused it: turn_end closes */
        }
        return tps__tls_read(w, c, p, room, drained);
    }
    do
        n = recv(c->fd, p, room, 0);
    while (n < 0 && errno == EINTR);
    *drained = n < (ssize_t)room; /* a short read emptied the socket */
    return n < 0 ? -errno : n;
}

/* One read; returns bytes read, 0 at EOF, -EAGAIN, or another -errno.
 * *drained: the socket has nothing more until the next edge. */
static ssize_t read_once(tps__worker *w, tps_conn *c, bool *drained)
{
    size_t max_in = tps__opt_size(c->srv, TPS_OPT_MAX_INPUT), room = 0;
    bool scratch = c->in.len == 0;
    char *p = scratch ? c->r->rbuf : tps__buf_reserve(&c->in, TPS__RBUF_SIZE, max_in, &room);
    if (scratch)
        room = TPS__RBUF_SIZE;
    if (p == NULL) {
        input_limit(c);
        return -ENOBUFS;
    }
    if (scratch && c->r->oref_len > 0) {
        tps__conn_flush(w, c); /* it is a slice of what this read overwrites */
        if (c->fd < 0)
            return -EPIPE;
    }
    ssize_t n = read_some(w, c, p, room, drained);
    if (n <= 0)
        return n;
    tps__count(&w->stats, TPS_STAT_BYTES_IN, (uint64_t)n);
    tps__conn_touch(w, c);
    if ((c->flags & TPS__CF_LINGER) && !linger_clock(w, c)) {
        tps__conn_close(w, c, c->close_reason); /* it never stops talking */
        return -EPIPE;
    }
    if (scratch)
        c->r->rlen = (size_t)n;
    else
        tps__buf_commit(&c->in, (size_t)n);
    deliver(w, c, scratch ? p : tps__buf_head(&c->in), scratch ? (size_t)n : c->in.len, scratch);
    return n;
}

static bool above_high_water(tps__worker *w, tps_conn *c)
{
    size_t pending = tps_conn_pending(c);
    if (pending <= tps__opt_size(c->srv, TPS_OPT_OUTPUT_HIGH_WATER))
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
        bool drained = false;
        ssize_t n = read_once(w, c, &drained);
        if (n == -EAGAIN || n == -EWOULDBLOCK || n == -ENOBUFS || c->fd < 0)
            return;
        if (n < 0) {
            tps__conn_close(w, c, tps__close_reason_for(n));
            return;
        }
        if (n == 0) {
            c->flags |= TPS__CF_PEER_EOF;
            return;
        }
        /* The socket is empty; an edge comes with new data. After RDHUP
         * read on to see the EOF. */
        if (drained && !(events & (EPOLLRDHUP | EPOLLHUP)))
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
    if (c->flags & (TPS__CF_PROXY_WAIT | TPS__CF_TLS_HS)) { /* never opened: nothing to finish */
        tps__conn_close_later(c, TPS_CLOSE_SHUTDOWN);
        return;
    }
    if (c->srv->handler->on_shutdown && !(c->flags & TPS__CF_CLOSING)) {
        cb_enter(c);
        c->srv->handler->on_shutdown(c);
        cb_leave(c);
    }
}

/* After the callbacks: flush, then close if it is time. A close that
 * follows output lingers (tps__conn_half_close); once the peer's EOF is
 * in, or for a reason that may cut, the descriptor is closed at once. A
 * graceful stop closes nothing here: timers.c half-closes a draining
 * connection once it has been quiet for LINGER_MS. */
static void turn_end(tps__worker *w, tps_conn *c)
{
    tps__conn_flush(w, c);
    if (c->fd < 0)
        return;
    if (tps__draining(c->srv) && w->now_ms >= atomic_load(&c->srv->drain_deadline_ms)) {
        tps__conn_close(w, c, TPS_CLOSE_SHUTDOWN);
        return;
    }
    if ((c->flags & TPS__CF_PEER_EOF) && !(c->flags & TPS__CF_CLOSING))
        tps__conn_close_later(c, TPS_CLOSE_PEER);
    /* The drain's last call (timers.c): a connection that owes nothing
     * now closes now, not when it goes quiet. */
    if (w->last_call && (c->flags & TPS__CF_SHUTDOWN) && c->out.len == 0 && c->in.len == 0 &&
        !(c->flags & TPS__CF_READ_MORE))
        tps__conn_close_later(c, TPS_CLOSE_SHUTDOWN);
    if (!(c->flags & TPS__CF_CLOSING) || c->out.len > 0)
        return;
    if ((c->flags & TPS__CF_PEER_EOF) || !closes_gracefully(c->srv, c->close_reason))
        tps__conn_close(w, c, c->close_reason);
    else
        tps__conn_half_close(w, c, c->close_reason);
}

static void turn_begin(tps_conn *c)
{
    c->r = tps__self();
    tps__turn_out_reset(c->r);
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
        tps__conn_flush(w, c);
    /* A TLS handshake may wait for room to write, not only for input. */
    if (c->fd >= 0 && (events & (EPOLLERR | EPOLLHUP | EPOLLIN | EPOLLRDHUP) || events == 0 ||
                       (c->flags & TPS__CF_TLS_HS)))
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
    if (c->flags & TPS__CF_HS_STEP) {
        if (c->fd >= 0 && !(c->flags & TPS__CF_CLOSING))
            tps__hspool_submit(w, c); /* c is away from here on */
        else
            c->flags &= ~TPS__CF_HS_STEP;
    }
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
    if (it->tls)
        tps__hs_done(srv);
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
    if (it->tls)
        c->flags |= TPS__CF_HS_COUNTED; /* the acceptor counted it pending */
    tps__list_init(&c->link);
    tps__list_init(&c->send_link);
    tps__list_init(&c->ready_link);
    atomic_store_explicit(&c->last_active_ms, w->now_ms, memory_order_relaxed);
    int err = it->tls ? tps__tls_attach(c) : 0;
    if (err < 0) {
        tps__log(srv, TPS_LOG_ERROR, "no memory for a TLS session: closed");
        c->fd = -1;
        drop_fd(w, it, TPS_STAT_ERRORS);
        tps__conntab_free(&srv->conns, c);
        return;
    }
    err = register_pinned(w, c);
    if (err < 0) {
        tps__log_errno(srv, TPS_LOG_ERROR, -err, "epoll_ctl(ADD) failed");
        tps__tls_free(c);
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
    } else if (c->tls != NULL) {
        tls_begin(w, c);
        if (tps__draining(srv))
            deliver_shutdown(c);
    } else {
        open_conn(w, c);
    }
    turn_end(w, c);
    c->r = NULL; /* EPOLL_CTL_ADD already reported bytes that came early */
}

/* ---- public accessors ---------------------------------------------------- */

void tps_conn_close(tps_conn *c)
{
    tps__conn_close_later(c, TPS_CLOSE_HANDLER);
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
