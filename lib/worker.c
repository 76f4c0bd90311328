/* SPDX-License-Identifier: MIT */
/* worker.c - a worker's loop over the connections it adopted (edge-
 * triggered, registered once) and the runner threads that run the loops.
 *
 * One iteration: run what is pending (the events of the last wait, the
 * descriptors owed to us, mail, then the ready list: turns owed without
 * an event, such as a spent read budget, lifted backpressure,
 * on_writable, the drain), timers, free the slots of connections closed
 * meanwhile; then wait. What is pending lives in the worker, not on the
 * runner's stack, so that a spare runner that takes the worker over
 * (handoff.c) goes on exactly where the blocked one stopped.
 *
 * Waking a worker: other threads publish work in the worker (owed,
 * inbox_ready, hs_back_ready) and ring its doorbell eventfd only if the worker says it
 * is waiting. The worker announces it waits, then re-checks for work; the
 * publisher publishes, then reads the flag (all seq_cst). One of the two
 * always sees the other, so no wakeup is lost, and a busy worker costs
 * its publishers no write(). The doorbell is edge-triggered and never
 * read: an eventfd wakes its epoll waiters on every write, and the work
 * itself is in the fields above, so the read() would only drain a count
 * nobody needs.
 *
 * Busy polling (TPS_OPT_BUSY_POLL_US): before it announces that it waits,
 * the worker polls its epoll without sleeping for up to that long. It has
 * not announced anything, so publishers do not ring, and the poll checks
 * their fields itself. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "internal.h"

/* A connection away in a callback gets its turn when it is back. */
static bool defer_if_away(tps_conn *c, uint32_t events)
{
    if (!c->away)
        return false;
    c->away_events |= events ? events : EPOLLIN;
    atomic_store(&c->hs_event, true); /* a handshake step's: see hspool.c */
    return true;
}

static void run_ready(tps__worker *w, tps__runner *r)
{
    /* One round: turns pushed during it wait for the next. */
    if (tps__list_empty(&w->batch) && !tps__list_empty(&w->ready)) {
        w->batch = w->ready;
        w->batch.next->prev = &w->batch;
        w->batch.prev->next = &w->batch;
        tps__list_init(&w->ready);
    }
    while (!tps__list_empty(&w->batch) && tps__runs(w, r)) {
        tps_conn *c = tps__container_of(w->batch.next, tps_conn, ready_link);
        tps__list_unlink(&c->ready_link);
        if (!defer_if_away(c, 0))
            tps__conn_turn(w, c, 0);
    }
}

static void free_dead(tps__worker *w)
{
    while (w->dead != NULL) {
        tps_conn *c = w->dead;
        w->dead = c->free_next;
        tps__conntab_free(&w->srv->conns, c);
    }
}

/* Adopt up to n queued descriptors while r runs w. An on_open that blocks
 * hands w to a spare runner: what is left stays owed, for it. Fewer than
 * n may be left in the queue if another worker, finishing, took some. */
static void adopt(tps__worker *w, tps__runner *r, uint64_t n)
{
    tps__fditem it;
    for (; n > 0 && tps__runs(w, r); n--) {
        if (tps__fdqueue_pop(&w->srv->queue, &it) != 0)
            return;
        tps__acceptor_kick(w->srv);
        tps__conn_adopt(w, &it);
    }
    if (n > 0) /* handed off */
        atomic_fetch_add(&w->owed, n);
}

static void on_event(tps__worker *w, const struct epoll_event *ev)
{
    uint64_t d = ev->data.u64;
    if (d == TPS__TAG_WAKE)
        return; /* the doorbell: what it rang for is checked in run_pending */
    tps_conn *c = tps__conntab_lookup(&w->srv->conns, d);
    /* Our conns only; closed ones left epoll (this event predates that). */
    if (c != NULL && c->fd >= 0 && c->w == w && c->gen == (uint32_t)(d >> 32) &&
        !defer_if_away(c, ev->events))
        tps__conn_turn(w, c, ev->events);
}

/* The stop began: every connection gets a turn to see it (those away in
 * a callback see it when their turn goes on). */
static void begin_drain(tps__worker *w)
{
    w->drain_seen = true;
    w->drain_start_ms = w->now_ms;
    for (tps__list *n = w->conns.next; n != &w->conns; n = n->next)
        tps__conn_begin_shutdown(w, tps__container_of(n, tps_conn, link));
}

static bool finished(tps__worker *w, tps__runner *r)
{
    tps_server *srv = w->srv;
    if (!w->drain_seen || !atomic_load(&srv->acceptor_done))
        return false;
    adopt(w, r, tps__fdqueue_count(&srv->queue)); /* nothing is pushed any more: leftovers */
    return w->nconns == 0 && tps__fdqueue_count(&srv->queue) == 0;
}

static void run_pending(tps__worker *w, tps__runner *r)
{
    w->hs_budget = TPS__HANDSHAKES_PER_ROUND;
    while (w->ev_next < w->nev && tps__runs(w, r)) {
        struct epoll_event ev = w->evs[w->ev_next++];
        on_event(w, &ev);
    }
    if (tps__runs(w, r) && atomic_load_explicit(&w->owed, memory_order_relaxed) != 0)
        adopt(w, r, atomic_exchange(&w->owed, 0));
    if (tps__runs(w, r) && atomic_load_explicit(&w->hs_back_ready, memory_order_relaxed))
        tps__hspool_collect(w);
    if (tps__runs(w, r) &&
        (atomic_load_explicit(&w->inbox_ready, memory_order_relaxed) || !tps__list_empty(&w->mail)))
        tps__mail_run(w);
    if (tps__runs(w, r))
        run_ready(w, r);
    if (tps__runs(w, r))
        tps__timers_run(w);
    if (tps__runs(w, r))
        free_dead(w);
}

static int next_timeout(tps__worker *w)
{
    if (!tps__list_empty(&w->ready))
        return 0;
    int t = tps__timers_run(w);
    /* A handshake step may come back without a ring (hspool.c): look
     * for it now and then, for its handshake timeout's sake. */
    if (w->hs_away > 0 && (t < 0 || t > TPS__HS_BACK_POLL_MS))
        t = TPS__HS_BACK_POLL_MS;
    return t;
}

/* Did another thread publish work for w (descriptors, mail, handshake
 * steps done)? */
static bool work_published(tps__worker *w)
{
    return atomic_load(&w->owed) != 0 || atomic_load(&w->inbox_ready) ||
           atomic_load(&w->hs_back_ready);
}

/* Poll for events without sleeping, for up to the busy-poll budget (or
 * *timeout ms, if a timer is due sooner: then *timeout becomes 0, the
 * timer's time having been spent here). A peer whose next message comes
 * within the budget then finds us awake, and its send pays for no wakeup
 * of ours. Called without w's lock. epoll_wait's count, 0 if nothing came. */
static int busy_poll(tps__worker *w, int *timeout)
{
    uint64_t budget_ns = (uint64_t)w->srv->opt[TPS_OPT_BUSY_POLL_US] * 1000;
    if (*timeout >= 0 && (uint64_t)*timeout * 1000000 <= budget_ns) {
        budget_ns = (uint64_t)*timeout * 1000000;
        *timeout = 0;
    }
    uint64_t until = tps__now_ns() + budget_ns;
    do {
        int n = epoll_wait(w->epfd, w->evs, TPS__MAX_EVENTS, 0);
        if (n != 0 || work_published(w))
            return n;
    } while (tps__now_ns() < until);
    return 0;
}

/* Wait for events, for at most timeout ms (-1: no timer). Called without
 * w's lock. epoll_wait's count, or -1: on any return, EINTR included,
 * worker_run goes round and checks the published work and the run state
 * before it waits again, so whatever wakes us (a ring, a signal, a timer)
 * is enough to see a stop: the stop needs no timeout of its own. */
static int wait_events(tps__worker *w, int timeout)
{
    if (timeout != 0 && w->srv->opt[TPS_OPT_BUSY_POLL_US] > 0) {
        int n = busy_poll(w, &timeout);
        if (n != 0)
            return n;
    }
    atomic_store(&w->waiting, true);
    if (work_published(w)) /* after announcing: see "Waking a worker" above */
        timeout = 0;
    return epoll_wait(w->epfd, w->evs, TPS__MAX_EVENTS, timeout);
}

bool tps__worker_run(tps__worker *w, tps__runner *r)
{
    tps__worker_lock(w);
    w->now_ms = tps__now_ms(); /* adoptions stamp it: never the epoch */
    while (tps__runs(w, r)) {
        run_pending(w, r);
        if (!tps__runs(w, r))
            break;
        w->now_ms = tps__now_ms();
        if (!w->drain_seen && tps__draining(w->srv))
            begin_drain(w);
        if (finished(w, r) && tps__runs(w, r)) {
            w->finished = true;
            tps__worker_unlock(w);
            return true;
        }
        if (!tps__runs(w, r)) /* an on_open while adopting leftovers blocked */
            break;
        atomic_store_explicit(&w->load, w->nconns, memory_order_relaxed);
        int timeout = next_timeout(w);
        if (!tps__runs(w, r)) /* a timer's on_close blocked and was handed off */
            break;
        tps__worker_unlock(w);
        int n = wait_events(w, timeout);
        if (n < 0 && errno != EINTR)
            tps__log_errno(w->srv, TPS_LOG_ERROR, errno, "epoll_wait() failed");
        tps__worker_lock(w);
        atomic_store_explicit(&w->waiting, false, memory_order_relaxed);
        w->nev = n > 0 ? n : 0;
        w->ev_next = 0;
        w->now_ms = tps__now_ms();
    }
    /* Handed off while in a callback: the new runner may be asleep in
     * epoll_wait and must see what our turn left (ready pushes, a close). */
    tps__worker_unlock(w);
    tps__wake(w->srv, w->wakefd);
    return false;
}

static int epoll_add(int epfd, int fd, uint32_t events, uint64_t tag)
{
    struct epoll_event ev = {.events = events, .data.u64 = tag};
    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

int tps__worker_init(tps_server *srv, tps__worker *w, unsigned id)
{
    w->srv = srv;
    w->id = id;
    pthread_mutex_init(&w->lock, NULL);
    tps__mail_init(w);
    tps__list_init(&w->conns);
    tps__list_init(&w->send_list);
    tps__list_init(&w->header_list);
    tps__list_init(&w->hs_list);
    tps__list_init(&w->hs_back);
    tps__list_init(&w->linger_list);
    tps__list_init(&w->ready);
    tps__list_init(&w->batch);
    w->epfd = epoll_create1(EPOLL_CLOEXEC);
    w->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    w->evs = malloc(TPS__MAX_EVENTS * sizeof(*w->evs));
    if (w->epfd < 0 || w->wakefd < 0)
        return -errno;
    if (w->evs == NULL)
        return TPS_ENOMEM;
    return epoll_add(w->epfd, w->wakefd, EPOLLIN | EPOLLET, TPS__TAG_WAKE);
}

void tps__worker_destroy(tps__worker *w)
{
    if (w->epfd >= 0)
        close(w->epfd);
    if (w->wakefd >= 0)
        close(w->wakefd);
    free(w->evs);
    if (w->srv != NULL) {
        pthread_mutex_destroy(&w->lock);
        tps__mail_destroy(w);
    }
}
