/* SPDX-License-Identifier: MIT */
/* runner.c - the library's threads and their lives: the runners (a
 * thread with its own scratch buffers that runs a worker's loop: one per
 * worker, plus spares for may-block handlers), the spare pool, and the
 * monitor that hands a worker blocked in a callback to a spare.
 *
 * The monitor samples every worker's cb_seq once per tick (handoff.c
 * marks it odd while a callback runs): the same odd value twice means one
 * callback has run for at least a tick, and the worker is given to a
 * spare runner, which goes on with the loop (epoll events and ready turns
 * live in the worker, not on a runner's stack, so nothing is left
 * behind). The blocked runner, when its callback returns, finishes its
 * turn and parks as a spare. Spares are threads started on demand, up to
 * TPS_OPT_SPARE_THREADS, and kept parked until the server stops. The
 * monitor sleeps without a timeout while no callback runs (handoff.c
 * wakes it). */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "internal.h"

#define IDLE_TICKS_BEFORE_SLEEP 100

_Thread_local tps__runner *tps__self_;

static tps__runner *runner_new(tps_server *srv, tps__worker *w);

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
        r = runner_new(srv, NULL);
    if (log_cap)
        tps__log(srv, TPS_LOG_WARN,
                 "all %lld spare threads are busy: a worker stays blocked in a callback "
                 "(raise TPS_OPT_SPARE_THREADS)",
                 srv->opt[TPS_OPT_SPARE_THREADS]);
    return r;
}

/* r no longer runs a worker: park it as a spare until it is given one
 * (returned) or the server ends (NULL). */
static tps__worker *park(tps__runner *r)
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

/* w is finished: once all are, parked runners end. */
static void worker_done(tps__worker *w)
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
        tps__wake(srv, srv->monitor_evfd);
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
            while (read(srv->monitor_evfd, &v, sizeof(v)) < 0 && errno == EINTR)
                ;
            idle_ticks = 0;
        }
        atomic_store(&srv->monitor_asleep, false);
        idle_ticks = scan(srv, last) ? 0 : idle_ticks + 1;
    }
    free(last);
    return NULL;
}

static int monitor_start(tps_server *srv)
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

static void monitor_stop(tps_server *srv)
{
    if (srv->monitor_started) {
        pthread_mutex_lock(&srv->runners_lock);
        srv->runners_quit = true;
        pthread_mutex_unlock(&srv->runners_lock);
        tps__wake(srv, srv->monitor_evfd);
        pthread_join(srv->monitor, NULL);
        srv->monitor_started = false;
    }
}

/* ---- runners ------------------------------------------------------------ */

static void *runner_main(void *arg)
{
    tps__runner *r = arg;
    tps_server *srv = r->srv;
    tps__self_ = r;
#ifdef HAVE_PTHREAD_SETNAME_NP
    char name[16];
    snprintf(name, sizeof(name), "tps-run-%u", r->id);
    pthread_setname_np(pthread_self(), name);
#endif
    pthread_mutex_lock(&srv->runners_lock);
    while (r->w == NULL && !srv->runners_quit)
        pthread_cond_wait(&r->cond, &srv->runners_lock);
    tps__worker *w = r->w;
    pthread_mutex_unlock(&srv->runners_lock);
    while (w != NULL) {
        if (tps__worker_run(w, r))
            worker_done(w);
        w = park(r);
    }
    return NULL;
}

static void runner_free(tps__runner *r)
{
    pthread_cond_destroy(&r->cond);
    free(r->rbuf);
    free(r->obuf.data);
    free(r);
}

/* Start a runner thread with its scratch; parked unless w != NULL. */
static tps__runner *runner_new(tps_server *srv, tps__worker *w)
{
    tps__runner *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return NULL;
    r->srv = srv;
    r->w = w;
    r->rbuf = malloc(TPS__RBUF_SIZE);
    r->obuf.data = malloc(TPS__OBUF_SIZE);
    r->obuf.cap = TPS__OBUF_SIZE;
    pthread_cond_init(&r->cond, NULL);
    if (r->rbuf == NULL || r->obuf.data == NULL) {
        runner_free(r);
        return NULL;
    }
    pthread_mutex_lock(&srv->runners_lock);
    r->id = srv->nrunners;
    int rc = srv->nrunners < srv->max_runners ? pthread_create(&r->thread, NULL, runner_main, r)
                                              : EAGAIN;
    if (rc == 0)
        srv->runners[srv->nrunners++] = r;
    pthread_mutex_unlock(&srv->runners_lock);
    if (rc != 0) {
        tps__log_errno(srv, TPS_LOG_ERROR, rc, "cannot start a runner thread");
        runner_free(r);
        return NULL;
    }
    return r;
}

int tps__runners_start(tps_server *srv)
{
    long long spares = srv->may_block ? srv->opt[TPS_OPT_SPARE_THREADS] : 0;
    srv->max_runners = srv->nworkers + (unsigned)spares;
    srv->runners = calloc(srv->max_runners, sizeof(*srv->runners));
    if (srv->runners == NULL)
        return TPS_ENOMEM;
    for (unsigned i = 0; i < srv->nworkers; i++) {
        int rc = tps__worker_init(srv, &srv->workers[i], i);
        if (rc < 0)
            return rc;
    }
    /* Each worker's runner is set before any thread starts: tps__runs()
     * reads it without a lock in the pinned case. */
    for (unsigned i = 0; i < srv->nworkers; i++) {
        tps__runner *r = runner_new(srv, NULL);
        if (r == NULL)
            return TPS_ENOMEM;
        srv->workers[i].runner = r;
    }
    pthread_mutex_lock(&srv->runners_lock);
    for (unsigned i = 0; i < srv->nworkers; i++) {
        srv->runners[i]->w = &srv->workers[i];
        pthread_cond_signal(&srv->runners[i]->cond);
    }
    pthread_mutex_unlock(&srv->runners_lock);
    return srv->may_block ? monitor_start(srv) : 0;
}

void tps__runners_join(tps_server *srv)
{
    monitor_stop(srv);
    /* The monitor, the only one that starts runners after start, is gone:
     * nrunners no longer changes. */
    for (unsigned i = 0; i < srv->nrunners; i++)
        pthread_join(srv->runners[i]->thread, NULL);
    /* Only now: a runner signals the others' conditions until it ends. */
    for (unsigned i = 0; i < srv->nrunners; i++)
        runner_free(srv->runners[i]);
    srv->nrunners = 0;
}
