/* SPDX-License-Identifier: MIT */
/* handoff.c - the runner's side of a may-block callback
 * (TPS_HANDLER_MAY_BLOCK): it releases its worker's lock for the length
 * of each callback, with the connection away from the worker's lists, and
 * marks the worker's cb_seq odd, so that the monitor (runner.c) can see a
 * callback that blocks and hand the worker to a spare runner. When the
 * callback returns, the runner takes the lock again and, if the worker
 * was handed on meanwhile, finishes only this connection's turn.
 *
 * The monitor sleeps without a timeout when no callback has run for a
 * while (monitor_asleep); a runner entering a callback wakes it. Dekker
 * style: the runner stores cb_seq then loads monitor_asleep, the monitor
 * stores monitor_asleep then loads every cb_seq, all seq_cst, so one of
 * them sees the other. */
#include "config.h"

#include "internal.h"

void tps__callback_enter(tps_conn *c)
{
    tps__worker *w = c->w;
    c->away = true;
    tps__list_unlink(&c->link);
    if (tps__list_linked(&c->send_link))
        tps__list_unlink(&c->send_link);
    if (tps__runs(w, tps__self())) {
        atomic_store(&w->cb_seq, atomic_load_explicit(&w->cb_seq, memory_order_relaxed) + 1);
        if (atomic_load(&w->srv->monitor_asleep) && atomic_exchange(&w->srv->monitor_asleep, false))
            tps__ring(w->srv, w->srv->monitor_evfd); /* under w->lock: no log */
    }
    tps__worker_unlock(w);
}

void tps__callback_leave(tps_conn *c)
{
    tps__worker *w = c->w;
    tps__worker_lock(w);
    if (tps__runs(w, tps__self()))
        atomic_store_explicit(&w->cb_seq,
                              atomic_load_explicit(&w->cb_seq, memory_order_relaxed) + 1,
                              memory_order_relaxed);
    w->now_ms = tps__now_ms(); /* the callback may have taken long */
    c->away = false;
    tps__list_append(&w->conns, &c->link);
    if (c->out.len > 0) { /* the send timeout's clock kept running */
        if (c->send_since_ms == 0)
            c->send_since_ms = w->now_ms;
        tps__list_append(&w->send_list, &c->send_link);
    }
    if (c->away_events) {
        c->away_events = 0;
        tps__ready_push(w, c);
    }
}
