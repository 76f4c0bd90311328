/* SPDX-License-Identifier: MIT */
/* handoff.c - what keeps a blocking callback (TPS_HANDLER_MAY_BLOCK) from
 * stalling the other connections of its worker.
 *
 * A runner releases its worker's lock for the length of each callback and
 * marks the worker's cb_seq odd. The monitor thread samples every worker's
 * cb_seq once per tick: the same odd value twice means one callback has
 * run for at least a tick, and the worker is handed to a spare runner,
 * which goes on with the loop (epoll events and ready turns live in the
 * worker, not on a runner's stack, so nothing is left behind). The blocked
 * runner, when its callback returns, takes the lock again, finishes its
 * turn and parks as a spare. Spares are threads started on demand, up to
 * TPS_OPT_SPARE_THREADS, and kept parked until the server stops.
 *
 * The monitor sleeps without a timeout when no callback has run for a
 * while (monitor_asleep); a runner entering a callback wakes it. Dekker
 * style: the runner stores cb_seq then loads monitor_asleep, the monitor
 * stores monitor_asleep then loads every cb_seq, all seq_cst, so one of
 * them sees the other. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "internal.h"

#define IDLE_TICKS_BEFORE_SLEEP 100

/* ---- callbacks ----------------------------------------------------------- */

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
            tps__wake(w->srv->monitor_evfd);
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

/* ---- spares -------------------------------------------------------------- */

/* A parked runner, or a new one while under the cap; NULL if none.
 * Called with the worker's lock held (lock order: worker, runners). */
static tps__runner *take_spare(tps_server *srv)
{
    pthread_mutex_lock(&srv->runners_lock);
    tps__runner *r = srv->spares;
    if (r != NULL)
        srv->spares = r->next_spare;
    bool may_start = r == NULL && srv->nrunners < srv->max_runners && !srv->runners_quit;
    bool log_cap = r == NULL && !may_start && !srv->spare_cap_logged;
    if (log_cap)
        srv->spare_cap_logged = true;
    pthread_mutex_unlock(&srv->runners_lock);
    if (may_start)
        r = tps__runner_new(srv, NULL);
    if (log_cap)
        tps__log(srv, TPS_LOG_WARN,
                 "all %lld spare threads are busy: a worker stays blocked in a callback "
                 "(raise TPS_OPT_SPARE_THREADS)",
                 srv->opt[TPS_OPT_SPARE_THREADS]);
    return r;
}

tps__worker *tps__runner_park(tps__runner *r)
{
    tps_server *srv = r->srv;
    pthread_mutex_lock(&srv->runners_lock);
    r->w = NULL;
    r->next_spare = srv->spares;
    srv->spares = r;
    while (r->w == NULL && !srv->runners_quit)
        pthread_cond_wait(&r->cond, &srv->runners_lock);
    tps__worker *w = r->w;
    pthread_mutex_unlock(&srv->runners_lock);
    return w;
}

static void assign(tps__runner *r, tps__worker *w)
{
    tps_server *srv = w->srv;
    pthread_mutex_lock(&srv->runners_lock);
    r->w = w;
    pthread_cond_signal(&r->cond);
    pthread_mutex_unlock(&srv->runners_lock);
}

void tps__worker_done(tps__worker *w)
{
    tps_server *srv = w->srv;
    pthread_mutex_lock(&srv->runners_lock);
    if (++srv->workers_done == srv->nworkers) {
        srv->runners_quit = true;
        for (tps__runner *r = srv->spares; r != NULL; r = r->next_spare)
            pthread_cond_signal(&r->cond);
    }
    pthread_mutex_unlock(&srv->runners_lock);
    if (srv->monitor_evfd >= 0)
        tps__wake(srv->monitor_evfd);
}

/* ---- the monitor --------------------------------------------------------- */

/* w's runner has been in the callback numbered seq for a tick. */
static void hand_off(tps__worker *w, uint64_t seq)
{
    tps__worker_lock(w);
    if (atomic_load(&w->cb_seq) == seq && w->handed_seq != seq && !w->finished) {
        w->handed_seq = seq;
        tps__runner *r = take_spare(w->srv);
        if (r != NULL) {
            w->runner = r;
            atomic_store(&w->cb_seq, seq + 1);
            tps__count(&w->stats, TPS_STAT_HANDOFFS, 1);
            assign(r, w);
        }
    }
    tps__worker_unlock(w);
}

static bool quitting(tps_server *srv)
{
    pthread_mutex_lock(&srv->runners_lock);
    bool q = srv->runners_quit;
    pthread_mutex_unlock(&srv->runners_lock);
    return q;
}

/* One tick: hand off what is stuck; true if any callback ran since the
 * last tick (then the next tick comes soon). */
static bool scan(tps_server *srv, uint64_t *last)
{
    bool active = false;
    for (unsigned i = 0; i < srv->nworkers; i++) {
        uint64_t seq = atomic_load(&srv->workers[i].cb_seq);
        if (seq != last[i] || (seq & 1))
            active = true;
        if ((seq & 1) && seq == last[i])
            hand_off(&srv->workers[i], seq);
        last[i] = seq;
    }
    return active;
}

static void *monitor_main(void *arg)
{
    tps_server *srv = arg;
    uint64_t *last = calloc(srv->nworkers, sizeof(*last));
    int idle_ticks = 0;
#ifdef HAVE_PTHREAD_SETNAME_NP
    pthread_setname_np(pthread_self(), "tps-monitor");
#endif
    struct pollfd pfd = {.fd = srv->monitor_evfd, .events = POLLIN};
    while (last != NULL && !quitting(srv)) {
        int timeout = TPS__HANDOFF_TICK_MS;
        if (idle_ticks >= IDLE_TICKS_BEFORE_SLEEP) {
            atomic_store(&srv->monitor_asleep, true);
            if (!scan(srv, last)) /* the re-check of the Dekker pair */
                timeout = -1;
            else
                atomic_store(&srv->monitor_asleep, false), idle_ticks = 0;
        }
        if (poll(&pfd, 1, timeout) > 0) {
            uint64_t v;
            (void)!read(srv->monitor_evfd, &v, sizeof(v));
            idle_ticks = 0;
        }
        atomic_store(&srv->monitor_asleep, false);
        idle_ticks = scan(srv, last) ? 0 : idle_ticks + 1;
    }
    free(last);
    return NULL;
}

int tps__handoff_start(tps_server *srv)
{
    srv->monitor_evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (srv->monitor_evfd < 0)
        return -errno;
    int rc = pthread_create(&srv->monitor, NULL, monitor_main, srv);
    if (rc != 0)
        return -rc;
    srv->monitor_started = true;
    return 0;
}

void tps__handoff_stop(tps_server *srv)
{
    if (srv->monitor_started) {
        pthread_mutex_lock(&srv->runners_lock);
        srv->runners_quit = true;
        pthread_mutex_unlock(&srv->runners_lock);
        tps__wake(srv->monitor_evfd);
        pthread_join(srv->monitor, NULL);
        srv->monitor_started = false;
    }
}
