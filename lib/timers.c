/* SPDX-License-Identifier: MIT */
/* timers.c - the timeouts of a worker's connections and the drain
 * deadline. No timer wheel is needed: every connection shares one idle
 * timeout and one send timeout, so keeping the lists in activity order
 * (touch = move to tail, O(1)) puts the next to expire at the head.
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

/* Output state changed: keep send_since = time of the last progress while
 * output is pending (0 when none), and the send list in that order. */
void tps__timers_on_output(tps__worker *w, tps_conn *c, bool progress)
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

/* Close, in list order, the conns of a send_link list (pending output, or
 * a PROXY header awaited) whose send_since_ms + limit has passed. */
static int64_t expire_since(tps__worker *w, tps__list *list, int64_t limit, int reason)
{
    while (!tps__list_empty(list)) {
        tps_conn *c = tps__container_of(list->next, tps_conn, send_link);
        int64_t due = c->send_since_ms + limit;
        if (due > w->now_ms)
            return due - w->now_ms;
        tps__conn_close(w, c, reason);
        if (!tps__runs(w, tps__self()))
            return -1;
    }
    return -1;
}

static int64_t drain_deadline(tps__worker *w)
{
    int64_t deadline = atomic_load(&w->srv->drain_deadline_ms);
    if (deadline > w->now_ms)
        return deadline - w->now_ms;
    while (!tps__list_empty(&w->conns) && tps__runs(w, tps__self()))
        tps__conn_close(w, tps__container_of(w->conns.next, tps_conn, link), TPS_CLOSE_SHUTDOWN);
    return -1;
}

int tps__timers_run(tps__worker *w)
{
    const long long *opt = w->srv->opt;
    int64_t next = -1, t;
    if (opt[TPS_OPT_IDLE_TIMEOUT_MS] > 0 && (t = expire_idle(w, opt[TPS_OPT_IDLE_TIMEOUT_MS])) >= 0)
        next = min_next(next, t);
    if (opt[TPS_OPT_SEND_TIMEOUT_MS] > 0 &&
        (t = expire_since(w, &w->send_list, opt[TPS_OPT_SEND_TIMEOUT_MS],
                          TPS_CLOSE_SEND_TIMEOUT)) >= 0)
        next = min_next(next, t);
    if (opt[TPS_OPT_PROXY_TIMEOUT_MS] > 0 &&
        (t = expire_since(w, &w->header_list, opt[TPS_OPT_PROXY_TIMEOUT_MS], TPS_CLOSE_PROXY)) >= 0)
        next = min_next(next, t);
    if (w->drain_seen && (t = drain_deadline(w)) >= 0)
        next = min_next(next, t);
    /* +1: wake just after the deadline, not just before (coarse clock). */
    return next < 0 ? -1 : (int)(next > 60000 ? 60000 : next + 1);
}
