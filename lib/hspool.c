/* SPDX-License-Identifier: MIT */
/* hspool.c - TLS handshake steps off the workers' threads.
 *
 * Why: the step that answers a ClientHello generates a key share, derives
 * the secrets and signs, 0.3-1 ms of CPU in one OpenSSL call that nothing
 * interrupts. Run by a worker, it delays every established connection of
 * that worker by as much, and under a flood of handshakes by that times
 * the steps queued (measured: an established client's p99 went from 0.28
 * to 3.8 ms). Here each step runs on a pool thread at SCHED_IDLE, so
 * that the handshakes get only what established connections leave: a
 * worker that wakes takes the CPU at once. With a flood capped at 500
 * handshakes/s (TPS_OPT_TLS_HANDSHAKE_RATE) an established client's p99
 * stayed at 1.0-2.2x its baseline; pool threads at nice 10 gave 2.9-8.8x
 * (the scheduler lets them finish their slice first) and nice 19
 * 2.6-4.3x, no better than steps in the workers (2.8-8.6x at 300-1,000/s),
 * so there is no such middle setting. The pool is off by default (TPS_OPT_TLS_HANDSHAKE_OFFLOAD):
 * - its hand-offs cost thread switches: 6-8 per resumed handshake
 *   against under 1 in the workers, and 30% more CPU (334-364 against
 *   254-261 us; full handshakes 5-15% more);
 * - beside another busy process SCHED_IDLE gets next to no CPU and new
 *   clients starve (seen at nice 19 already: a test's handshakes timing
 *   out while a compiler ran).
 * It is for a machine that is the server's, under handshake floods.
 *
 * Ownership: a connection whose step is submitted is "away" from its
 * worker (as in a may-block callback: off the worker's lists, its events
 * kept in away_events, its mail kept). Only the pool thread that took it
 * touches it, and only c->tls and the socket (tps__tls_handshake_step),
 * until it is back on its worker's hs_back list. The pool's lock orders
 * the two hand-overs, so the step's thread sees what the worker wrote and
 * the other way round. The outcome is counted by the worker, which owns
 * the stats (tps__tls_handshake_count).
 *
 * A worker with a connection away cannot finish, so the pool lives until
 * every worker has: tps_server_wait joins it after the runners. */
#include "config.h"

#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

#include "internal.h"

struct tps__hspool {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    tps__list queue; /* connections whose step waits, oldest first (send_link) */
    bool quit;
    unsigned nthreads;
    pthread_t threads[];
};

/* The handshake timeout passed while the step waited in the queue: skip
 * it, the worker's timer closes the connection (the flood is what makes
 * the queue long: do not spend on it what the timeout would throw away). */
static bool expired(const tps_conn *c, int64_t now_ms)
{
    long long limit = c->srv->opt[TPS_OPT_TLS_HANDSHAKE_TIMEOUT_MS];
    return limit > 0 && now_ms - c->send_since_ms >= limit;
}

static void *hs_main(void *arg)
{
    tps_server *srv = arg;
    struct tps__hspool *p = srv->hspool;
    /* Linux: the policy is per thread, and lowering it needs no
     * privilege; if it fails the steps still run, only without the
     * protection. */
    struct sched_param sp = {.sched_priority = 0};
    int rc = pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp);
    if (rc != 0)
        tps__log_errno(srv, TPS_LOG_WARN, rc, "handshake thread: SCHED_IDLE refused");
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (tps__list_empty(&p->queue) && !p->quit)
            pthread_cond_wait(&p->cond, &p->lock);
        if (tps__list_empty(&p->queue))
            break; /* quit, and every worker finished: nothing can come */
        tps_conn *c = tps__container_of(p->queue.next, tps_conn, send_link);
        tps__list_unlink(&c->send_link);
        pthread_mutex_unlock(&p->lock);

        bool late = expired(c, tps__now_ms());
        c->hs_rc = (signed char)(late ? 0 : tps__tls_handshake_step(c));

        /* Back to the worker. It needs waking if the step ended the
         * handshake (either way) or skipped it: nothing else may wake it
         * for c. A step that waits for the peer needs none, for the
         * peer's next bytes are an event of the worker's, and that saves
         * a wakeup per handshake. Unless that event came already, while c
         * was away: then the worker saw it (hs_event) and may sleep.
         * Dekker with the worker: it stores hs_event, then reads
         * hs_back_ready before it sleeps; we store hs_back_ready, then
         * read hs_event (seq_cst): one of us sees the other. */
        tps__worker *w = c->w;
        pthread_mutex_lock(&p->lock);
        tps__list_append(&w->hs_back, &c->send_link);
        atomic_store(&w->hs_back_ready, true);
        bool ring = late || c->hs_rc != 0 || atomic_load(&c->hs_event);
        pthread_mutex_unlock(&p->lock);
        /* w cannot finish before it took c back, and its doorbell lives
         * until tps_server_free, after this thread is joined. */
        if (ring)
            tps__worker_notify(w);
        pthread_mutex_lock(&p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

int tps__hspool_start(tps_server *srv)
{
    bool tls = false;
    for (unsigned i = 0; i < srv->nlisteners; i++)
        tls |= srv->listeners[i].tls;
    if (!tls || srv->opt[TPS_OPT_TLS_HANDSHAKE_OFFLOAD] == 0)
        return 0;
    unsigned n = srv->nworkers;
    struct tps__hspool *p = calloc(1, sizeof(*p) + n * sizeof(p->threads[0]));
    if (p == NULL)
        return TPS_ENOMEM;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->cond, NULL);
    tps__list_init(&p->queue);
    srv->hspool = p;
    for (; p->nthreads < n; p->nthreads++) {
        int rc = pthread_create(&p->threads[p->nthreads], NULL, hs_main, srv);
        if (rc != 0)
            return -rc; /* the threads started are joined by tps__hspool_stop */
    }
    return 0;
}

void tps__hspool_stop(tps_server *srv)
{
    struct tps__hspool *p = srv->hspool;
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->lock);
    p->quit = true;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    for (unsigned i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->lock);
    free(p);
    srv->hspool = NULL;
}

void tps__hspool_submit(tps__worker *w, tps_conn *c)
{
    struct tps__hspool *p = w->srv->hspool;
    c->flags &= ~TPS__CF_HS_STEP;
    c->away = true;
    c->away_events = 0; /* the step reads what they announced */
    atomic_store_explicit(&c->hs_event, false, memory_order_relaxed); /* published by the lock */
    w->hs_away++;
    tps__list_unlink(&c->link);
    if (tps__list_linked(&c->send_link))
        tps__list_unlink(&c->send_link); /* hs_list: back in order in collect */
    if (tps__list_linked(&c->ready_link))
        tps__list_unlink(&c->ready_link);
    pthread_mutex_lock(&p->lock);
    tps__list_append(&p->queue, &c->send_link);
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->lock);
}

/* Back on the handshake list, in the order of the handshakes' starts
 * (timers.c expires from the front). Steps come back about in that
 * order, so the walk from the back is short. */
static void hs_list_insert(tps__worker *w, tps_conn *c)
{
    tps__list *at = w->hs_list.prev;
    while (at != &w->hs_list &&
           tps__container_of(at, tps_conn, send_link)->send_since_ms > c->send_since_ms)
        at = at->prev;
    tps__list_append(at->next, &c->send_link); /* i.e. insert after at */
}

void tps__hspool_collect(tps__worker *w)
{
    struct tps__hspool *p = w->srv->hspool;
    tps__list back;
    tps__list_init(&back);
    pthread_mutex_lock(&p->lock);
    if (!tps__list_empty(&w->hs_back)) {
        back = w->hs_back;
        back.next->prev = &back;
        back.prev->next = &back;
        tps__list_init(&w->hs_back);
    }
    atomic_store(&w->hs_back_ready, false);
    pthread_mutex_unlock(&p->lock);
    while (!tps__list_empty(&back)) {
        tps_conn *c = tps__container_of(back.next, tps_conn, send_link);
        tps__list_unlink(&c->send_link);
        w->hs_away--;
        c->away = false;
        c->flags |= TPS__CF_HS_RESULT;
        tps__list_append(&w->conns, &c->link);
        hs_list_insert(w, c);
        tps__ready_push(w, c); /* its turn reads the outcome */
    }
}
