/* worker.c - a worker thread: one epoll loop over the connections it
 * adopted (pinned, edge-triggered, registered once), its wake eventfd
 * (the acceptor adds one per queued descriptor it wants this worker to
 * adopt; a stop adds one too) and, for handlers that may block, the shared
 * epoll.
 *
 * One iteration: wait for events -> run turns -> run the ready list (turns
 * owed without an event: read budget spent, backpressure lifted,
 * on_writable, drain) -> timers -> free the slots of connections closed
 * during the iteration. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "internal.h"

#define MAX_EVENTS 256

void tps__wake(int fd)
{
    uint64_t one = 1;
    /* EAGAIN means the counter is already non-zero: awake anyway. */
    (void)!write(fd, &one, sizeof(one));
}

void tps__ready_push(tps__worker *w, tps_conn *c)
{
    /* Shared conns get their next turn from the shared epoll (their arm
     * mask covers these cases); a worker-local list would race. */
    if ((c->flags & TPS__CF_SHARED) || tps__list_linked(&c->ready_link))
        return;
    tps__list_append(&w->ready, &c->ready_link);
}

static void run_ready(tps__worker *w)
{
    tps__list batch;
    if (tps__list_empty(&w->ready))
        return;
    /* Take the whole list: turns may push again, for the next round. */
    batch = w->ready;
    batch.next->prev = &batch;
    batch.prev->next = &batch;
    tps__list_init(&w->ready);
    while (!tps__list_empty(&batch)) {
        tps_conn *c = tps__container_of(batch.next, tps_conn, ready_link);
        tps__list_unlink(&c->ready_link);
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

/* One wake count per descriptor the acceptor queued for us: adopt that
 * many (fewer if another worker, woken by a stop, took some first). */
void tps__worker_adopt(tps__worker *w, uint64_t n)
{
    tps__fditem it;
    for (; n > 0 && tps__fdqueue_pop(&w->srv->queue, &it) == 0; n--) {
        tps__acceptor_kick(w->srv);
        tps__conn_adopt(w, it.fd, &it.peer);
    }
}

static void on_event(tps__worker *w, const struct epoll_event *ev)
{
    uint64_t d = ev->data.u64, v;
    if (d == TPS__TAG_WAKE) {
        if (read(w->wakefd, &v, sizeof(v)) == (ssize_t)sizeof(v))
            tps__worker_adopt(w, v);
    } else if (d == TPS__TAG_SHARED) {
        tps__shared_on_event(w);
    } else {
        tps_conn *c = tps__conntab_lookup(&w->srv->conns, d);
        /* Pinned conns are this worker's alone; closed ones left epoll. */
        if (c != NULL && c->fd >= 0 && c->w == w && c->gen == (uint32_t)(d >> 32))
            tps__conn_turn(w, c, ev->events);
    }
}

/* The stop began: every pinned connection gets a turn to see it. */
static void begin_drain(tps__worker *w)
{
    w->drain_seen = true;
    for (tps__list *n = w->conns.next; n != &w->conns; n = n->next)
        tps__conn_begin_shutdown(w, tps__container_of(n, tps_conn, link));
}

static bool finished(tps__worker *w)
{
    if (w->drain_seen && atomic_load(&w->srv->acceptor_done))
        tps__worker_adopt(w, SIZE_MAX); /* nothing is pushed any more: take leftovers */
    tps_server *srv = w->srv;
    return w->drain_seen && atomic_load(&srv->acceptor_done) && w->nconns == 0 &&
           atomic_load(&srv->nshared) == 0 && tps__fdqueue_count(&srv->queue) == 0;
}

static int next_timeout(tps__worker *w)
{
    if (!tps__list_empty(&w->ready))
        return 0;
    return tps__timers_run(w);
}

static void *worker_main(void *arg)
{
    tps__worker *w = arg;
    struct epoll_event evs[MAX_EVENTS];
#ifdef HAVE_PTHREAD_SETNAME_NP
    char name[16];
    snprintf(name, sizeof(name), "tps-worker-%u", w->id);
    pthread_setname_np(pthread_self(), name);
#endif
    for (;;) {
        w->now_ms = tps__now_ms();
        if (!w->drain_seen && tps__draining(w->srv))
            begin_drain(w);
        if (finished(w))
            break;
        atomic_store_explicit(&w->load, w->nconns, memory_order_relaxed);
        int n = epoll_wait(w->epfd, evs, MAX_EVENTS, next_timeout(w));
        if (n < 0 && errno != EINTR)
            tps__log_errno(w->srv, TPS_LOG_ERROR, errno, "epoll_wait() failed");
        w->now_ms = tps__now_ms();
        /* Adoptions first: a shared turn in this batch may block. */
        for (int i = 0; i < n; i++)
            if (evs[i].data.u64 == TPS__TAG_WAKE)
                on_event(w, &evs[i]);
        for (int i = 0; i < n; i++)
            if (evs[i].data.u64 != TPS__TAG_WAKE)
                on_event(w, &evs[i]);
        run_ready(w);
        tps__timers_run(w);
        if (w->srv->shared_epfd >= 0)
            tps__shared_maintain(w);
        free_dead(w);
    }
    return NULL;
}

static int epoll_add(int epfd, int fd, uint32_t events, uint64_t tag)
{
    struct epoll_event ev = {.events = events, .data.u64 = tag};
    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static int worker_init(tps_server *srv, tps__worker *w, unsigned id)
{
    w->srv = srv;
    w->id = id;
    tps__list_init(&w->conns);
    tps__list_init(&w->send_list);
    tps__list_init(&w->ready);
    w->epfd = epoll_create1(EPOLL_CLOEXEC);
    w->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    w->rbuf = malloc(TPS__RBUF_SIZE);
    w->obuf.data = malloc(TPS__OBUF_SIZE);
    w->obuf.cap = TPS__OBUF_SIZE;
    if (w->epfd < 0 || w->wakefd < 0)
        return -errno;
    if (w->rbuf == NULL || w->obuf.data == NULL)
        return TPS_ENOMEM;
    int rc = epoll_add(w->epfd, w->wakefd, EPOLLIN, TPS__TAG_WAKE);
    if (rc == 0 && srv->shared_epfd >= 0)
        rc = epoll_add(w->epfd, srv->shared_epfd, EPOLLIN, TPS__TAG_SHARED);
    return rc;
}

void tps__worker_destroy(tps__worker *w)
{
    if (w->epfd >= 0)
        close(w->epfd);
    if (w->wakefd >= 0)
        close(w->wakefd);
    free(w->rbuf);
    free(w->obuf.data);
    free(w->claimed);
}

int tps__workers_start(tps_server *srv)
{
    for (unsigned i = 0; i < srv->nworkers; i++) {
        int rc = worker_init(srv, &srv->workers[i], i);
        if (rc < 0)
            return rc;
    }
    for (unsigned i = 0; i < srv->nworkers; i++) {
        int rc = pthread_create(&srv->workers[i].thread, NULL, worker_main, &srv->workers[i]);
        if (rc != 0)
            return -rc;
        srv->nthreads = i + 1;
    }
    return 0;
}
