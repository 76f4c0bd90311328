/* SPDX-License-Identifier: MIT */
/* acceptor.c - the acceptor thread: accept4() on every listener, apply the
 * admission limits, push descriptors to the worker queue. It never runs
 * handler code and never blocks on a worker.
 *
 * Back-pressure: with the "pause" policy a full queue stops accepting
 * (listeners are left out of poll) until a worker pops; the kernel backlog
 * absorbs the burst. The acceptor announces that it waits (acceptor_waiting,
 * seq_cst) and then re-checks the queue; a worker pops and then reads the
 * flag. One of the two always sees the other, so no wakeup is lost.
 * EMFILE/ENFILE: the reserve descriptor is spent to accept, tell and close
 * every connection pending on that listener (the whole burst at once: one
 * at a time per pause left a new client waiting about a second), then
 * accepting pauses briefly, with a backoff capped at BACKOFF_MAX_MS, so a
 * lasting shortage costs a few wakeups a second and never a spin, and a
 * client that comes once descriptors are free waits at most that long. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define ACCEPT_BATCH   64
#define BACKOFF_MIN_MS 5
#define BACKOFF_MAX_MS 80
#define SHED_MAX       4096 /* connections shed per EMFILE: the backlog's size */

struct acc {
    tps_server *srv;
    int64_t pause_until_ms;
    int backoff_ms;
    uint64_t *wakes; /* per worker: descriptors queued for it this batch */
    /* TPS_OPT_TLS_HANDSHAKE_RATE: a token per TLS connection accepted,
     * refilled at the rate, at most a second's worth (the burst). */
    double tls_tokens;
    int64_t tls_refill_ns;
};

/* Tell each chosen worker once per accept batch, not per connection. */
static void flush_wakes(struct acc *a)
{
    tps_server *srv = a->srv;
    for (unsigned i = 0; i < srv->nworkers; i++) {
        if (a->wakes[i] == 0)
            continue;
        atomic_fetch_add(&srv->workers[i].owed, a->wakes[i]);
        tps__worker_notify(&srv->workers[i]);
        a->wakes[i] = 0;
    }
}

/* Turn a connection away with a line saying why (behind a balancer, it
 * passes the line on to the client). Best effort: the peer may already
 * be gone. */
static void reject(tps_server *srv, int fd, const char *line, int stat)
{
    /* An error, or EAGAIN on a full buffer, ends it; an interrupted or
     * partial send goes on. */
    size_t len = strlen(line), done = 0;
    while (done < len) {
        ssize_t n = send(fd, line + done, len - done, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0)
            done += (size_t)n;
        else if (n == 0 || errno != EINTR)
            break;
    }
    /* A close() with unread input resets the connection: the client
     * then reads "connection reset" after the busy line, not EOF, and
     * loses the line if it was not delivered yet (a segment lost and
     * due again is dropped with the reset). So the line goes out with a
     * FIN, and the request that came with the connection is read and
     * dropped first (some, not all: the acceptor does not wait, so what
     * arrives later still meets a reset). */
    shutdown(fd, SHUT_WR);
    char sink[4096];
    for (int i = 0; i < 16 && recv(fd, sink, sizeof sink, MSG_DONTWAIT) > 0; i++)
        ;
    close(fd);
    tps__count(&srv->acc_stats, stat, 1);
}

#define BUSY_MAX_CONNS "BUSY too many connections\r\n"

static void pause_accepting(struct acc *a)
{
    a->backoff_ms = a->backoff_ms ? a->backoff_ms * 2 : BACKOFF_MIN_MS;
    if (a->backoff_ms > BACKOFF_MAX_MS)
        a->backoff_ms = BACKOFF_MAX_MS;
    a->pause_until_ms = tps__now_ms() + a->backoff_ms;
    tps__count(&a->srv->acc_stats, TPS_STAT_ACCEPT_PAUSES, 1);
}

/* Out of descriptors: with the reserve descriptor, accept and turn away
 * every connection pending on l, so none waits in the backlog for a
 * descriptor that is not coming, then pause. */
static void shed(struct acc *a, const tps__listener *l, int err)
{
    tps_server *srv = a->srv;
    if (a->backoff_ms == 0)
        tps__log_errno(srv, TPS_LOG_WARN, err,
                       "accept4() failed, shedding pending connections and pausing");
    if (srv->reserve_fd >= 0) {
        close(srv->reserve_fd);
        for (int i = 0; i < SHED_MAX; i++) {
            int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd < 0 && errno == EINTR)
                continue;
            if (fd < 0)
                break;
            reject(srv, fd, l->tls ? "" : BUSY_MAX_CONNS, TPS_STAT_REJECTED_EMFILE);
        }
        srv->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    }
    pause_accepting(a);
}

static bool queue_has_room(tps_server *srv)
{
    return srv->opt[TPS_OPT_QUEUE_FULL_REJECT] || !tps__fdqueue_full(&srv->queue);
}

/* Which worker adopts the next connection: the one with the fewest,
 * round-robin among equals, whatever the handler (may-block ones too: a
 * blocked worker is handed off, not skipped). A plain wake-one
 * (EPOLLEXCLUSIVE on one eventfd in every worker's epoll) was measured to
 * hand most connections to the first-registered worker: the kernel picks
 * the first exclusive waiter whether or not it is the least busy. */
static unsigned pick_worker(tps_server *srv)
{
    unsigned n = srv->nworkers, start = srv->next_worker++ % n, best = start;
    size_t best_load = SIZE_MAX;
    for (unsigned k = 0; k < n; k++) {
        unsigned i = (start + k) % n;
        size_t load = atomic_load_explicit(&srv->workers[i].load, memory_order_relaxed);
        if (load < best_load) {
            best_load = load;
            best = i;
        }
    }
    return best;
}

/* Admission for one accepted descriptor; hands it to the queue. */
static void admit(struct acc *a, int fd, const tps__peer *peer, const tps__listener *l)
{
    tps_server *srv = a->srv;
    bool proxy = l->proxy;
    tps__fditem it = {
        .fd = fd, .proxy = proxy, .tls = l->tls, .accepted_ns = tps__now_ns(), .peer = *peer};
    /* A TLS client would read a plaintext BUSY line as a bad record. */
    const char *busy_conns = l->tls ? "" : BUSY_MAX_CONNS;
    const char *busy_ip = l->tls ? "" : TPS__BUSY_PER_IP;
    const char *busy_queue = l->tls ? "" : "BUSY server overloaded, try again\r\n";
    unsigned per_ip = (unsigned)srv->opt[TPS_OPT_MAX_CONNS_PER_IP];
    bool count_ip = tps__ip_counted_at_accept(srv, &it);
    if (proxy && !tps__proxy_trusted(srv, peer)) { /* no header read, none parsed */
        close(fd);
        tps__count(&srv->acc_stats, TPS_STAT_REJECTED_UNTRUSTED, 1);
        return;
    }
    if (atomic_load(&srv->active) >= (uint64_t)srv->opt[TPS_OPT_MAX_CONNS]) {
        reject(srv, fd, busy_conns, TPS_STAT_REJECTED_MAX_CONNS);
        return;
    }
    if (count_ip && !tps__iplimit_take(srv->iplimit, peer, per_ip)) {
        reject(srv, fd, busy_ip, TPS_STAT_REJECTED_PER_IP);
        return;
    }
    atomic_fetch_add(&srv->active, 1);
    if (l->tls)
        atomic_fetch_add(&srv->hs_pending, 1); /* before a worker can see it */
    if (tps__fdqueue_push(&srv->queue, &it) == 0) {
        a->wakes[pick_worker(srv)]++;
    } else {
        atomic_fetch_sub(&srv->active, 1);
        if (l->tls)
            atomic_fetch_sub(&srv->hs_pending, 1);
        if (count_ip)
            tps__iplimit_release(srv->iplimit, peer);
        reject(srv, fd, busy_queue, TPS_STAT_REJECTED_QUEUE_FULL);
    }
}

static bool tls_at_cap(tps_server *srv)
{
    long long cap = srv->opt[TPS_OPT_TLS_MAX_HANDSHAKES];
    return cap > 0 && atomic_load(&srv->hs_pending) >= (uint64_t)cap;
}

/* TLS connections accepted per second at most (TPS_OPT_TLS_HANDSHAKE_RATE,
 * HAProxy's maxsslrate): each costs a full handshake, and a flood of them
 * takes CPU from the established connections however it is scheduled (a
 * flood at another process on the same cores raised an established
 * client's p99 as much as one at us: tests/server_tls_flood.sh). Past
 * the rate, TLS listeners rest and clients wait in the backlog. true if a
 * token is left; else *timeout (ms, -1: none yet) is at most the wait for
 * the next one. */
static bool tls_rate_ok(struct acc *a, int *timeout)
{
    long long rate = a->srv->opt[TPS_OPT_TLS_HANDSHAKE_RATE];
    if (rate == 0)
        return true;
    uint64_t now = tps__now_ns();
    if (a->tls_refill_ns == 0)
        a->tls_tokens = (double)rate; /* a full bucket at start */
    else
        a->tls_tokens += (double)(now - (uint64_t)a->tls_refill_ns) * (double)rate / 1e9;
    if (a->tls_tokens > (double)rate)
        a->tls_tokens = (double)rate;
    a->tls_refill_ns = (int64_t)now;
    if (a->tls_tokens >= 1)
        return true;
    int wait = (int)((1 - a->tls_tokens) * 1000 / (double)rate) + 1;
    if (*timeout < 0 || wait < *timeout)
        *timeout = wait;
    tps__count(&a->srv->acc_stats, TPS_STAT_ACCEPT_PAUSES, 1);
    return false;
}

/* Accept until EAGAIN, a batch, a full queue, the TLS cap or rate, or a
 * pause. */
static void accept_batch(struct acc *a, const tps__listener *l)
{
    int lfd = l->fd;
    tps_server *srv = a->srv;
    bool rated = l->tls && srv->opt[TPS_OPT_TLS_HANDSHAKE_RATE] > 0;
    for (int i = 0; i < ACCEPT_BATCH && queue_has_room(srv) && !(l->tls && tls_at_cap(srv)) &&
                    !(rated && a->tls_tokens < 1);
         i++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        int fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (rated && fd >= 0)
            a->tls_tokens -= 1;
        if (fd < 0) {
            int err = errno;
            if (err == EAGAIN || err == EWOULDBLOCK)
                return;
            if (err == EINTR || err == ECONNABORTED || err == EPROTO)
                continue;
            if (err == EMFILE || err == ENFILE) {
                shed(a, l, err);
                return;
            }
            tps__log_errno(srv, TPS_LOG_ERROR, err, "accept4() failed");
            pause_accepting(a); /* ENOBUFS, ENOMEM...: never spin */
            return;
        }
        a->backoff_ms = 0;
        tps__count(&srv->acc_stats, TPS_STAT_ACCEPTED, 1);
        tps__peer peer;
        if (sl == 0 || ss.ss_family == AF_UNIX)
            memset(&peer, 0, sizeof(peer)), peer.family = AF_UNIX;
        else
            tps__peer_from_sockaddr(&peer, (struct sockaddr *)&ss);
        admit(a, fd, &peer, l);
    }
}

/* Should the listeners be polled now? Sets *timeout for a pause. */
static bool may_accept(struct acc *a, int *timeout)
{
    tps_server *srv = a->srv;
    int64_t now = tps__now_ms();
    *timeout = -1;
    if (a->pause_until_ms > now) {
        *timeout = (int)(a->pause_until_ms - now);
        return false;
    }
    if (queue_has_room(srv))
        return true;
    atomic_store(&srv->acceptor_waiting, true);
    if (queue_has_room(srv)) {
        atomic_store(&srv->acceptor_waiting, false);
        return true;
    }
    tps__count(&srv->acc_stats, TPS_STAT_ACCEPT_PAUSES, 1);
    return false;
}

/* TLS listeners rest while TPS_OPT_TLS_MAX_HANDSHAKES accepted TLS
 * connections are not through their handshake: the clients after them
 * wait in the kernel's backlog (HAProxy's maxsslconn) rather than being
 * accepted to starve each other's handshakes, or closed. A stalled one
 * leaves at the handshake timeout; a worker kicks us when one leaves at
 * the cap (tps__hs_done). */
static bool tls_full(tps_server *srv)
{
    if (!tls_at_cap(srv))
        return false;
    atomic_store(&srv->acceptor_waiting, true);
    if (!tls_at_cap(srv)) {
        atomic_store(&srv->acceptor_waiting, false);
        return false;
    }
    tps__count(&srv->acc_stats, TPS_STAT_ACCEPT_PAUSES, 1);
    return true;
}

/* One read takes the whole count; EAGAIN: nothing to take. */
static void drain_eventfd(int fd)
{
    uint64_t v;
    while (read(fd, &v, sizeof(v)) < 0 && errno == EINTR)
        ;
}

/* New connections should not preempt a worker in mid-turn. A SCHED_BATCH
 * thread that wakes does not preempt the one running on its core (it is
 * scheduled fairly otherwise), so on a core shared with a worker the
 * acceptor accepts when the worker waits, in batches. Measured on 2 cores,
 * 16 connectors churning: the acceptor's CPU per connection fell from 15
 * to 9 us and the worker's involuntary switches from 0.36 to 0.01 per
 * connection. Only from SCHED_OTHER: a host whose threads run under
 * another policy (real-time, SCHED_IDLE) keeps its inherited choice.
 * (glibc's thread attributes refuse SCHED_BATCH, hence from inside.) */
static void yield_to_workers(tps_server *srv)
{
#ifdef SCHED_BATCH
    struct sched_param sp;
    int policy, rc = pthread_getschedparam(pthread_self(), &policy, &sp);
    if (rc != 0 || policy != SCHED_OTHER)
        return;
    sp.sched_priority = 0;
    rc = pthread_setschedparam(pthread_self(), SCHED_BATCH, &sp);
    if (rc != 0)
        tps__log_errno(srv, TPS_LOG_DEBUG, rc, "acceptor: SCHED_BATCH refused");
#else
    (void)srv;
#endif
}

static void *acceptor_main(void *arg)
{
    tps_server *srv = arg;
    uint64_t wakes[srv->nworkers];
    struct acc a = {.srv = srv, .wakes = wakes};
    memset(wakes, 0, sizeof(wakes));
    struct pollfd pfd[TPS__MAX_LISTENERS + 1];
    unsigned n = srv->nlisteners;
    yield_to_workers(srv); /* before the name: tests find the thread by it */
#ifdef HAVE_PTHREAD_SETNAME_NP
    pthread_setname_np(pthread_self(), "tps-accept");
#endif
    for (unsigned i = 0; i < n; i++)
        pfd[i].fd = srv->listeners[i].fd;
    pfd[n].fd = srv->acceptor_wakefd;
    pfd[n].events = POLLIN;
    while (!tps__draining(srv)) {
        int timeout;
        short ev = may_accept(&a, &timeout) ? POLLIN : 0;
        short tls_ev = ev && !tls_full(srv) && tls_rate_ok(&a, &timeout) ? POLLIN : 0;
        for (unsigned i = 0; i < n; i++)
            pfd[i].events = srv->listeners[i].tls ? tls_ev : ev;
        /* Any return, EINTR included, goes round the loop, which checks
         * the run state first: a stop needs no timeout to be seen. */
        if (poll(pfd, n + 1, timeout) < 0 && errno != EINTR) {
            tps__log_errno(srv, TPS_LOG_ERROR, errno, "poll() failed");
            pause_accepting(&a);
        }
        atomic_store(&srv->acceptor_waiting, false);
        if (pfd[n].revents)
            drain_eventfd(srv->acceptor_wakefd);
        for (unsigned i = 0; i < n && !tps__draining(srv); i++)
            if (pfd[i].revents & POLLIN)
                accept_batch(&a, &srv->listeners[i]);
        flush_wakes(&a);
    }
    /* Stop accepting first: new connects are refused from here on. */
    tps__listeners_close(srv);
    atomic_store(&srv->acceptor_done, true);
    for (unsigned i = 0; i < srv->nworkers; i++)
        tps__wake(srv, srv->workers[i].wakefd);
    tps__wake_log(srv); /* a failed ring of the stop's, in a signal handler */
    return NULL;
}

int tps__acceptor_start(tps_server *srv)
{
    int rc = pthread_create(&srv->acceptor, NULL, acceptor_main, srv);
    return rc ? -rc : 0;
}
