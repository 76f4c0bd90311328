/* shared.c - shared dispatch for handlers that may block.
 *
 * DESIGN. Connections of a TPS_HANDLER_MAY_BLOCK handler live in one shared
 * epoll (level-triggered, EPOLLONESHOT) that every worker's epoll watches,
 * so any idle worker serves any ready connection and a blocked callback
 * stalls only its own connection. Each connection carries a turn token,
 * conn->turn = generation << 2 | state:
 *   ARMED    in epoll, nobody runs it; whoever CASes ARMED->BUSY owns it;
 *   BUSY     a worker runs its turn (or a timer scan claimed it);
 *   PENDING  BUSY, and an event arrived meanwhile (it was dropped).
 * The owner re-arms with EPOLL_CTL_MOD *while still BUSY* and then CASes
 * BUSY->ARMED; if that fails the state is PENDING: an event was delivered
 * to a worker that found the connection busy, so the owner runs one more
 * turn itself. Nothing is lost and no two turns of one connection overlap.
 * The acquire/release CASes also order one turn's writes before the next.
 * Slots are never freed while the server runs (conntab.c), and the token
 * carries the generation, so a stale event is recognised, not followed.
 *
 * Timeouts and the drain: a scan (every TPS__SHARED_SCAN_MS, by whichever
 * worker gets the registry's trylock) claims the ARMED connections that are
 * due and runs or closes them; BUSY ones meet the deadline at their turn's
 * end. The registry lock is held only to walk the list, never for a
 * callback. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "internal.h"

enum { ST_ARMED = 0, ST_BUSY = 1, ST_PENDING = 2 };
#define TOKEN(gen, st) ((uint64_t)(gen) << 2 | (uint64_t)(st))

int tps__shared_init(tps_server *srv)
{
    srv->shared_epfd = epoll_create1(EPOLL_CLOEXEC);
    if (srv->shared_epfd < 0)
        return -errno;
    /* New connections are announced here too, so that only a worker that
     * is free (polling the shared epoll, not blocked in a callback) adopts
     * one. */
    srv->shared_queue_evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC | EFD_SEMAPHORE);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = TPS__TAG_QUEUE};
    if (srv->shared_queue_evfd < 0 ||
        epoll_ctl(srv->shared_epfd, EPOLL_CTL_ADD, srv->shared_queue_evfd, &ev) < 0)
        return -errno;
    pthread_mutex_init(&srv->shared_lock, NULL);
    tps__list_init(&srv->shared_conns);
    return 0;
}

static uint32_t arm_mask(const tps_conn *c)
{
    uint32_t ev = EPOLLONESHOT | EPOLLRDHUP;
    if (tps__conn_wants_read(c->srv, c))
        ev |= EPOLLIN;
    if (c->out.len > 0 || (c->flags & TPS__CF_WANT_WRITABLE))
        ev |= EPOLLOUT;
    return ev;
}

/* Take the token for generation gen; false if stale or busy (a busy one is
 * marked PENDING so that its owner runs another turn). */
static bool claim(tps_conn *c, uint32_t gen)
{
    uint64_t cur = atomic_load_explicit(&c->turn, memory_order_acquire);
    for (;;) {
        if ((uint32_t)(cur >> 2) != gen)
            return false;
        uint64_t next = (cur & 3) == ST_ARMED ? TOKEN(gen, ST_BUSY) : TOKEN(gen, ST_PENDING);
        if ((cur & 3) == ST_PENDING)
            return false;
        if (atomic_compare_exchange_weak_explicit(&c->turn, &cur, next, memory_order_acq_rel,
                                                  memory_order_acquire))
            return (cur & 3) == ST_ARMED;
    }
}

/* Hand the connection back to the shared epoll. False: an event came in
 * while we held it, so we still own it and owe it another turn. */
static bool release(tps__worker *w, tps_conn *c, int op)
{
    if (c->fd < 0)
        return true; /* closed: close() left epoll; the slot is recycled */
    struct epoll_event ev = {.events = arm_mask(c), .data.u64 = tps__conn_datum(c)};
    if (epoll_ctl(w->srv->shared_epfd, op, c->fd, &ev) < 0) {
        tps__log_errno(w->srv, TPS_LOG_ERROR, errno, "epoll_ctl() on a shared connection failed");
        tps__conn_close(w, c, TPS_CLOSE_ERROR);
        return true;
    }
    uint64_t busy = TOKEN(c->gen, ST_BUSY);
    if (atomic_compare_exchange_strong_explicit(&c->turn, &busy, TOKEN(c->gen, ST_ARMED),
                                                memory_order_acq_rel, memory_order_acquire))
        return true;
    atomic_store_explicit(&c->turn, TOKEN(c->gen, ST_BUSY), memory_order_relaxed);
    return false;
}

/* Hand c back; then, if a stop began and c has not seen it, take it again.
 * The stop's sweep may have passed c while it was busy or not yet
 * registered, and an idle peer sends no event that would give it a turn. */
static void hand_back(tps__worker *w, tps_conn *c, int op)
{
    while (c->fd >= 0) { /* we own c here: its fields are ours to read */
        bool seen = (c->flags & TPS__CF_SHUTDOWN) != 0;
        uint32_t gen = c->gen;
        if (!release(w, c, op)) {
            tps__conn_turn(w, c, 0); /* an event came while we held it */
        } else if (!seen && tps__draining(w->srv) && claim(c, gen)) {
            tps__conn_turn(w, c, 0);
        } else {
            return;
        }
        op = EPOLL_CTL_MOD;
    }
}

static void run_owned(tps__worker *w, tps_conn *c, uint32_t events)
{
    tps__conn_turn(w, c, events);
    hand_back(w, c, EPOLL_CTL_MOD);
}

void tps__shared_register(tps__worker *w, tps_conn *c)
{
    tps_server *srv = w->srv;
    atomic_store_explicit(&c->turn, TOKEN(c->gen, ST_BUSY), memory_order_release);
    pthread_mutex_lock(&srv->shared_lock);
    tps__list_append(&srv->shared_conns, &c->link);
    atomic_fetch_add(&srv->nshared, 1);
    pthread_mutex_unlock(&srv->shared_lock);
    hand_back(w, c, EPOLL_CTL_ADD);
}

void tps__shared_unregister(tps_server *srv, tps_conn *c)
{
    pthread_mutex_lock(&srv->shared_lock);
    if (tps__list_linked(&c->link)) {
        tps__list_unlink(&c->link);
        atomic_fetch_sub(&srv->nshared, 1);
    }
    pthread_mutex_unlock(&srv->shared_lock);
}

/* Serve ready shared connections one at a time (never claim a second
 * before the first turn is over: a blocking turn must not hold others),
 * up to a bound so pinned work and timers still get their turn. Going
 * straight to the next one saves a round through the worker's epoll. */
#define SHARED_TURNS_PER_WAKE 16

void tps__shared_on_event(tps__worker *w)
{
    struct epoll_event ev;
    for (int i = 0; i < SHARED_TURNS_PER_WAKE; i++) {
        if (epoll_wait(w->srv->shared_epfd, &ev, 1, 0) != 1)
            return; /* none ready, or another worker took it */
        if (ev.data.u64 == TPS__TAG_QUEUE) {
            uint64_t one;
            if (read(w->srv->shared_queue_evfd, &one, sizeof(one)) == (ssize_t)sizeof(one))
                tps__worker_adopt(w, 1);
            continue;
        }
        tps_conn *c = tps__conntab_lookup(&w->srv->conns, ev.data.u64);
        if (c != NULL && claim(c, (uint32_t)(ev.data.u64 >> 32)))
            run_owned(w, c, ev.events);
        w->now_ms = tps__now_ms();
    }
}

/* ---- the scan ------------------------------------------------------------ */

/* Is c (unowned; only its atomics may be read) worth claiming now? While
 * draining: every connection that has not seen the stop, on every scan,
 * so none is left to the deadline because an event or a sweep missed it. */
static bool due(tps__worker *w, tps_conn *c, int64_t quiet_ms, bool draining)
{
    if (draining && !atomic_load_explicit(&c->shutdown_seen, memory_order_relaxed))
        return true;
    int64_t last = atomic_load_explicit(&c->last_active_ms, memory_order_relaxed);
    return quiet_ms > 0 && w->now_ms - last >= quiet_ms;
}

static void remember(tps__worker *w, tps_conn *c)
{
    if (w->nclaimed == w->claimed_cap) {
        size_t cap = w->claimed_cap ? w->claimed_cap * 2 : 64;
        tps_conn **p = realloc(w->claimed, cap * sizeof(*p));
        if (p == NULL) {
            release(w, c, EPOLL_CTL_MOD); /* try again next scan */
            return;
        }
        w->claimed = p;
        w->claimed_cap = cap;
    }
    w->claimed[w->nclaimed++] = c;
}

/* Under the registry lock: claim what is due. Only the token and the
 * atomics are read before the claim succeeds. */
static void collect(tps__worker *w, int64_t quiet_ms, bool draining, bool claim_all)
{
    tps_server *srv = w->srv;
    w->nclaimed = 0;
    for (tps__list *n = srv->shared_conns.next; n != &srv->shared_conns; n = n->next) {
        tps_conn *c = tps__container_of(n, tps_conn, link);
        uint32_t gen = (uint32_t)(atomic_load_explicit(&c->turn, memory_order_acquire) >> 2);
        if ((claim_all || due(w, c, quiet_ms, draining)) && claim(c, gen))
            remember(w, c);
    }
}

/* Since when c has waited on its peer to read: pending output, or a
 * producer waiting for EPOLLOUT after its last chunk went into a socket
 * buffer that then filled (no output of ours is left, yet it is stuck). */
static int64_t stuck_since(const tps_conn *c, int64_t last)
{
    if (c->out.len > 0)
        return c->send_since_ms;
    return (c->flags & TPS__CF_WANT_WRITABLE) ? last : -1;
}

/* We own c: close it if a limit passed, else give it a turn or hand it back. */
static void settle(tps__worker *w, tps_conn *c, bool draining, bool deadline_passed)
{
    const long long *opt = w->srv->opt;
    int64_t idle = opt[TPS_OPT_IDLE_TIMEOUT_MS], send = opt[TPS_OPT_SEND_TIMEOUT_MS];
    int64_t last = atomic_load_explicit(&c->last_active_ms, memory_order_relaxed);
    if (deadline_passed)
        tps__conn_close(w, c, TPS_CLOSE_SHUTDOWN);
    else if (send > 0 && stuck_since(c, last) >= 0 && w->now_ms - stuck_since(c, last) >= send)
        tps__conn_close(w, c, TPS_CLOSE_SEND_TIMEOUT);
    else if (idle > 0 && w->now_ms - last >= idle)
        tps__conn_close(w, c, TPS_CLOSE_IDLE_TIMEOUT);
    else if (draining && !(c->flags & TPS__CF_SHUTDOWN))
        run_owned(w, c, 0);
    else
        hand_back(w, c, EPOLL_CTL_MOD);
}

void tps__shared_maintain(tps__worker *w)
{
    tps_server *srv = w->srv;
    const long long *opt = srv->opt;
    bool draining = tps__draining(srv);
    if (atomic_load(&srv->nshared) == 0)
        return;
    if (w->now_ms < atomic_load(&srv->shared_next_scan_ms))
        return;
    if (pthread_mutex_trylock(&srv->shared_lock) != 0)
        return;
    atomic_store(&srv->shared_next_scan_ms, w->now_ms + TPS__SHARED_SCAN_MS);
    int64_t quiet = opt[TPS_OPT_IDLE_TIMEOUT_MS];
    if (opt[TPS_OPT_SEND_TIMEOUT_MS] > 0 && (quiet == 0 || opt[TPS_OPT_SEND_TIMEOUT_MS] < quiet))
        quiet = opt[TPS_OPT_SEND_TIMEOUT_MS];
    bool deadline_passed = draining && w->now_ms >= atomic_load(&srv->drain_deadline_ms);
    collect(w, quiet, draining, deadline_passed);
    pthread_mutex_unlock(&srv->shared_lock);
    for (size_t i = 0; i < w->nclaimed; i++)
        settle(w, w->claimed[i], draining, deadline_passed);
    w->nclaimed = 0;
}
