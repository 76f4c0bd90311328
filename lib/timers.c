/* SPDX-License-Identifier: MIT */
/* timers.c - the timeouts of a worker's connections, the drain's quiet
 * rule and its deadline. No timer wheel is needed: every connection
 * shares one idle timeout, one send timeout and one linger time, so
 * keeping the lists in activity order (touch = move to tail, O(1)) puts
 * the next to expire at the head.
 * A connection away in a callback is on neither list: it cannot time out
 * while its handler works, and its turn ends with a touch.
 * A close calls on_close, which may block and be handed off (handoff.c):
 * after one, the loops stop unless this runner still runs the worker. */
#include "config.h"

#include "internal.h"

static int64_t min_next(int64_t next, int64_t cand)
{
    return next < 0 || cand < next ? cand : next;
}

static int64_t expire_idle(tps__worker *w, int64_t idle)
{
    while (!tps__list_empty(&w->conns)) {
        tps_conn *c = tps__container_of(w->conns.next, tps_conn, link);
        int64_t due = atomic_load_explicit(&c->last_active_ms, memory_order_relaxed) + idle;
        if (due > w->now_ms)
            return due - w->now_ms;
        tps__conn_close(w, c, TPS_CLOSE_IDLE_TIMEOUT);
        if (!tps__runs(w, tps__self()))
            return -1;
    }
    return -1;
}

/* Close, in list order, the conns of a send_link list (pending output, a
 * PROXY header awaited, lingering) whose send_since_ms + limit has passed
 * (a lingering one reports the reason it was closed for: conn.c). */
static int64_t expire_since(tps__worker *w, tps__list *list, int64_t limit, int reason, int stat)
{
    while (!tps__list_empty(list)) {
        tps_conn *c = tps__container_of(list->next, tps_conn, send_link);
        int64_t due = c->send_since_ms + limit;
        if (due > w->now_ms)
            return due - w->now_ms;
        if (stat >= 0)
            tps__count(&w->stats, stat, 1);
        tps__conn_close(w, c, reason);
        if (!tps__runs(w, tps__self()))
            return -1;
    }
    return -1;
}

/* Draining: a connection is served until it has been quiet (no input)
 * for LINGER_MS since the stop began or since its last input, whichever
 * is later; then, if it owes no output, its lingering close begins. So an
 * upload in progress when the stop came is finished and answered, a
 * request already on its way to an idle connection is still served, and
 * a stop with only idle connections ends after about LINGER_MS. A
 * connection still owing output, or already lingering, is looked at again
 * LINGER_MS later (touched to the LRU's tail), so each sweep stops at the
 * first connection not yet due: O(due connections), not O(all). */
static int64_t drain_quiet(tps__worker *w, int64_t linger)
{
    while (!tps__list_empty(&w->conns)) {
        tps_conn *c = tps__container_of(w->conns.next, tps_conn, link);
        int64_t since = atomic_load_explicit(&c->last_active_ms, memory_order_relaxed);
        int64_t due = (since > w->drain_start_ms ? since : w->drain_start_ms) + linger;
        if (due > w->now_ms)
            return due - w->now_ms;
        tps__conn_touch(w, c); /* due again LINGER_MS from now: the loop ends */
        if (c->out.len == 0 && !(c->flags & TPS__CF_LINGER))
            tps__conn_half_close(w, c, TPS_CLOSE_SHUTDOWN);
    }
    return -1;
}

/* The drain's last call, LINGER_MS before its deadline (at once with
 * LINGER_MS 0, or a deadline closer than that): from then on a connection
 * that owes nothing closes, quiet or not, so that a peer that never stops
 * talking (ping-pong) still gets its last reply and a clean EOF before
 * the deadline cuts. Every connection gets a turn to see it (conn.c,
 * turn_end); those still owing output close once they have flushed it. */
static int64_t drain_last_call(tps__worker *w, int64_t deadline, int64_t linger)
{
    if (w->last_call)
        return -1;
    if (linger > 0 && deadline - linger > w->now_ms)
        return deadline - linger - w->now_ms;
    w->last_call = true;
    for (tps__list *n = w->conns.next; n != &w->conns; n = n->next)
        tps__ready_push(w, tps__container_of(n, tps_conn, link));
    return -1;
}

static int64_t drain_deadline(tps__worker *w)
{
    int64_t deadline = atomic_load(&w->srv->drain_deadline_ms);
    if (deadline > w->now_ms)
        return deadline - w->now_ms;
    while (!tps__list_empty(&w->conns) && tps__runs(w, tps__self())) {
        tps_conn *c = tps__container_of(w->conns.next, tps_conn, link);
        tps__conn_close(w, c, TPS_CLOSE_SHUTDOWN);
    }
    return -1;
}

/* A list's sweep, if its timeout is on and the list holds anything: on
 * the message path the lists are empty, and this costs a load each. */
static void sweep(tps__worker *w, tps__list *list, long long limit, int reason, int stat,
                  int64_t *next)
{
    int64_t t;
    if (limit > 0 && !tps__list_empty(list) &&
        (t = expire_since(w, list, limit, reason, stat)) >= 0)
        *next = min_next(*next, t);
}

int tps__timers_run(tps__worker *w)
{
    const long long *opt = w->srv->opt;
    int64_t next = -1, t;
    if (opt[TPS_OPT_IDLE_TIMEOUT_MS] > 0 && (t = expire_idle(w, opt[TPS_OPT_IDLE_TIMEOUT_MS])) >= 0)
        next = min_next(next, t);
    sweep(w, &w->send_list, opt[TPS_OPT_SEND_TIMEOUT_MS], TPS_CLOSE_SEND_TIMEOUT, -1, &next);
    sweep(w, &w->header_list, opt[TPS_OPT_PROXY_TIMEOUT_MS], TPS_CLOSE_PROXY, -1, &next);
    sweep(w, &w->hs_list, opt[TPS_OPT_TLS_HANDSHAKE_TIMEOUT_MS], TPS_CLOSE_TLS,
          TPS_STAT_TLS_HANDSHAKE_TIMEOUTS, &next);
    sweep(w, &w->linger_list, opt[TPS_OPT_LINGER_MS], TPS_CLOSE_SHUTDOWN, -1, &next);
    if (w->drain_seen) {
        int64_t linger = opt[TPS_OPT_LINGER_MS];
        int64_t deadline = atomic_load(&w->srv->drain_deadline_ms);
        if ((t = drain_last_call(w, deadline, linger)) >= 0)
            next = min_next(next, t);
        if (!w->last_call && (t = drain_quiet(w, linger)) >= 0)
            next = min_next(next, t);
        if ((t = drain_deadline(w)) >= 0)
            next = min_next(next, t);
    }
    /* +1: wake just after the deadline, not just before (coarse clock). */
    return next < 0 ? -1 : (int)(next > 60000 ? 60000 : next + 1);
}
