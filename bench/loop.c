/* SPDX-License-Identifier: MIT */
/* loop: one load thread. It owns a share of the connections (ids dealt
 * round-robin), one epoll descriptor and one read buffer, and drives them
 * without locks: connect, fill each connection's pipeline (closed loop:
 * up to --depth in flight; open loop: also no earlier than each request's
 * scheduled time), verify replies as they stream in, record latencies
 * that complete inside the measured window, and publish counters to its
 * tpb_worker.shared every 200 ms. Any broken connection (verification
 * error, timeout, peer close) is counted once, closed and reopened. */
#include "loop.h"
#include "net.h"
#include "tls.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define RBUF          (64 * 1024)
#define SCAN_NS       50000000ull  /* timeouts and reconnects */
#define PUB_NS        200000000ull /* publish to the main thread */
#define RETRY_NS      100000000ull /* after a failed connect */
#define REOPEN_NS     10000000ull  /* after any other error */
#define CONNECT_BATCH 128          /* connects started per loop turn */
#ifndef TPB_SRC_START              /* first extra source address; a build */
#define TPB_SRC_START 0            /* knob to test the bind() path */
#endif
/* Churn spreads its connects over this many loopback source addresses:
 * one address's client ports, each held 1 s in TIME_WAIT before the
 * kernel reuses it, capped churn near 14k connections/s here. */
#define CHURN_SOURCES 64

/* --tls: C_HANDSHAKE between the TCP connect and C_OPEN. */
enum { C_WAIT, C_CONNECTING, C_HANDSHAKE, C_OPEN };

typedef struct bconn {
    int fd, state, active, aj; /* aj: index among active conns (open loop) */
    uint32_t cid, ev;
    uint64_t t_connect, retry_at, tx_seq, sent_k;
    uint64_t *r_sent, *r_due; /* in-flight ring, --depth entries */
    unsigned head, n;
    int ttfb_done;
    char *out;
    size_t olen, ooff, ocap;
    tpb_rx rx;
    void *ssl;      /* --tls: this connection's SSL, else NULL */
    void *sess;     /* --tls-resume: the session to offer on reconnect */
    uint64_t t_hs;  /* when the handshake started (TCP connected) */
    int rd_wants_wr; /* a TLS read waits for EPOLLOUT */
} bconn;

typedef struct loop {
    tpb_worker *w;
    tpb_run *run;
    const tpb_opts *o;
    tpb_stats *st;
    int ep, nc, nact, src, depth, churn;
    int churn_sources; /* churn on loopback: rotate CHURN_SOURCES sources */
    unsigned churn_k;  /* connects made so: picks the next source */
    bconn *c, **act;
    char *rbuf;
    uint64_t now, gap, ev_next, ramp_gap, next_scan, next_pub;
    int ramp_opened;
    tpb_hist ivl;
} loop;

static int measuring(const loop *L)
{
    return L->now >= L->run->m_start && L->now < L->run->m_end;
}

static void set_events(loop *L, bconn *c, uint32_t ev)
{
    if (c->ev == ev)
        return;
    struct epoll_event e = {.events = ev, .data.ptr = c};
    epoll_ctl(L->ep, EPOLL_CTL_MOD, c->fd, &e);
    c->ev = ev;
}

static void close_conn(loop *L, bconn *c, uint64_t retry_ns)
{
    if (c->fd >= 0) {
        tpb_tls_free(c->ssl, 0);
        c->ssl = NULL;
        c->rd_wants_wr = 0;
        close(c->fd); /* also leaves the epoll set */
        if (c->state == C_OPEN || c->state == C_HANDSHAKE)
            L->st->c.open_now--;
    }
    c->fd = -1;
    c->state = C_WAIT;
    c->retry_at = L->now + retry_ns;
    c->head = c->n = 0;
    c->olen = c->ooff = 0;
    c->tx_seq = 0;
    c->ttfb_done = 0;
    memset(&c->rx, 0, sizeof c->rx);
}

static void fail_conn(loop *L, bconn *c, int kind)
{
    L->st->c.errors[kind]++;
    close_conn(L, c, kind == TPB_E_CONNECT ? RETRY_NS : REOPEN_NS);
}

/* Churn on a loopback target: the next of CHURN_SOURCES addresses
 * 127.0.0.2... per connect (a source whose ports ran out is skipped). */
static int churn_connect(loop *L)
{
    int fd = -EADDRNOTAVAIL;
    for (int i = 0; i < CHURN_SOURCES && fd == -EADDRNOTAVAIL; i++)
        fd = tpb_net_connect(L->run, 1 + (int)(L->churn_k++ % CHURN_SOURCES));
    return fd;
}

/* Any other mode: one source until its ports run out, then the next. */
static int steady_connect(loop *L)
{
    for (;;) {
        int fd = tpb_net_connect(L->run, L->src);
        if (fd != -EADDRNOTAVAIL || !tpb_net_can_rotate(L->run) || L->src >= 250)
            return fd;
        L->src++; /* this source address ran out of ephemeral ports */
    }
}

static void start_connect(loop *L, bconn *c)
{
    int fd = L->churn_sources ? churn_connect(L) : steady_connect(L);
    c->t_connect = L->now;
    if (fd < 0) {
        fail_conn(L, c, TPB_E_CONNECT);
        return;
    }
    c->fd = fd;
    c->state = C_CONNECTING;
    c->ev = EPOLLOUT;
    struct epoll_event e = {.events = EPOLLOUT, .data.ptr = c};
    if (epoll_ctl(L->ep, EPOLL_CTL_ADD, fd, &e) < 0)
        fail_conn(L, c, TPB_E_CONNECT);
}

/* Intended send time of this connection's k-th request (open loop). */
static uint64_t due_time(const loop *L, const bconn *c, uint64_t k)
{
    return L->run->t0 + (k * (uint64_t)L->nact + (uint64_t)c->aj) * L->gap;
}

/* TLS: one SSL_write of everything pending (it cuts the records); a
 * write that waits keeps its bytes where they are and is retried. */
static void flush_tls(loop *L, bconn *c)
{
    int st = TPB_TLS_OK;
    size_t w = c->ooff < c->olen
                   ? tpb_tls_write(L->run, c->ssl, c->out + c->ooff, c->olen - c->ooff, &st)
                   : 0;
    if (st == TPB_TLS_WANT_WRITE || st == TPB_TLS_WANT_READ) {
        set_events(L, c, st == TPB_TLS_WANT_WRITE ? EPOLLIN | EPOLLOUT : EPOLLIN);
        return;
    }
    if (st != TPB_TLS_OK) {
        fail_conn(L, c, st == TPB_TLS_EOF ? TPB_E_CLOSED : TPB_E_WRITE);
        return;
    }
    if (measuring(L))
        L->st->c.bytes_tx += w;
    c->ooff = c->olen = 0;
    set_events(L, c, c->rd_wants_wr ? EPOLLIN | EPOLLOUT : EPOLLIN);
}

static void flush(loop *L, bconn *c)
{
    if (c->ssl) {
        flush_tls(L, c);
        return;
    }
    while (c->ooff < c->olen) {
        ssize_t w = send(c->fd, c->out + c->ooff, c->olen - c->ooff, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EAGAIN || errno == EINTR) {
                set_events(L, c, EPOLLIN | EPOLLOUT);
                return;
            }
            fail_conn(L, c, errno == EPIPE || errno == ECONNRESET ? TPB_E_CLOSED : TPB_E_WRITE);
            return;
        }
        c->ooff += (size_t)w;
        if (measuring(L))
            L->st->c.bytes_tx += (uint64_t)w;
    }
    c->ooff = c->olen = 0;
    set_events(L, c, EPOLLIN);
}

static int may_send(const loop *L, const bconn *c)
{
    if (!c->active || c->state != C_OPEN || c->n >= (unsigned)L->depth)
        return 0;
    if (L->churn && c->tx_seq >= 1)
        return 0;
    return L->gap == 0 || due_time(L, c, c->sent_k) <= L->now;
}

static void enqueue(loop *L, bconn *c)
{
    size_t len = L->run->payload.req_len;
    if (c->olen + len > c->ocap) {
        size_t cap = (c->olen + len) * 2;
        char *p = realloc(c->out, cap);
        if (!p)
            abort(); /* out of memory in a load generator: nothing sane to do */
        c->out = p, c->ocap = cap;
    }
    tpb_payload_request(&L->run->payload, c->cid, c->tx_seq++, c->out + c->olen);
    c->olen += len;
    unsigned slot = (c->head + c->n++) % (unsigned)L->depth;
    c->r_sent[slot] = L->now;
    c->r_due[slot] = L->gap ? due_time(L, c, c->sent_k) : L->now;
    c->sent_k++;
    if (measuring(L))
        L->st->c.requests++;
}

static void pump(loop *L, bconn *c)
{
    while (may_send(L, c))
        enqueue(L, c);
    if (c->state == C_OPEN && c->olen > c->ooff)
        flush(L, c);
}

static void complete(loop *L, bconn *c)
{
    uint64_t sent = c->r_sent[c->head], due = c->r_due[c->head];
    c->head = (c->head + 1) % (unsigned)L->depth;
    c->n--;
    c->ttfb_done = 0;
    if (measuring(L)) {
        L->st->c.responses++;
        tpb_hist_record(&L->st->lat, L->now - due);
        tpb_hist_record(&L->ivl, L->now - due);
        if (L->gap)
            tpb_hist_record(&L->st->lat_unc, L->now - sent);
    }
    if (L->churn) {
        if (measuring(L))
            L->st->c.conn_done++;
        tpb_tls_free(c->ssl, 1); /* an orderly end: close_notify */
        c->ssl = NULL;
        close_conn(L, c, 0);
        start_connect(L, c);
    }
}

static const int verr_kind[] = {0, TPB_E_CORRUPT, TPB_E_REORDER, TPB_E_CROSS, TPB_E_LONG};

/* Feed received bytes to the verifier; 0, or -1 when c was failed. */
static int process(loop *L, bconn *c, const char *d, size_t len)
{
    if (measuring(L))
        L->st->c.bytes_rx += len;
    while (len > 0) {
        if (c->n == 0) { /* bytes nobody asked for */
            fail_conn(L, c, TPB_E_CORRUPT);
            return -1;
        }
        if (!c->ttfb_done && measuring(L))
            tpb_hist_record(&L->st->ttfb, L->now - c->r_sent[c->head]);
        c->ttfb_done = 1;
        size_t used = 0;
        int r = tpb_payload_feed(&L->run->payload, &c->rx, c->cid, d, len, &used);
        if (r < 0) {
            fail_conn(L, c, verr_kind[-r]);
            return -1;
        }
        d += used, len -= used;
        if (r == 1) {
            complete(L, c);
            if (c->state != C_OPEN)
                return -1;
        }
    }
    return 0;
}

/* TLS: SSL_read into the thread's buffer until TLS holds nothing more
 * (epoll cannot see what it buffered; what is still in the socket, it
 * reports, as the interest is level-triggered). */
static void do_read_tls(loop *L, bconn *c)
{
    c->rd_wants_wr = 0;
    for (;;) {
        int st = TPB_TLS_OK;
        size_t r = tpb_tls_read(L->run, c->ssl, L->rbuf, RBUF, &st);
        if (r > 0) {
            if (process(L, c, L->rbuf, r) < 0)
                return;
            if (!tpb_tls_pending(c->ssl))
                break;
            continue;
        }
        if (st == TPB_TLS_WANT_READ)
            break;
        if (st == TPB_TLS_WANT_WRITE) { /* e.g. a key update to answer */
            c->rd_wants_wr = 1;
            set_events(L, c, EPOLLIN | EPOLLOUT);
            break;
        }
        fail_conn(L, c, st == TPB_TLS_EOF ? TPB_E_CLOSED : TPB_E_READ);
        return;
    }
    pump(L, c);
}

static void do_read(loop *L, bconn *c)
{
    if (c->ssl) {
        do_read_tls(L, c);
        return;
    }
    for (int i = 0; i < 8; i++) { /* bounded, for fairness */
        ssize_t r = read(c->fd, L->rbuf, RBUF);
        if (r > 0) {
            if (process(L, c, L->rbuf, (size_t)r) < 0)
                return;
            if (r < RBUF)
                break;
            continue;
        }
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            break;
        fail_conn(L, c, r == 0 || errno == ECONNRESET ? TPB_E_CLOSED : TPB_E_READ);
        return;
    }
    pump(L, c);
}

/* A failed or timed-out handshake: a connect error (its reason is
 * reported once, at the end). */
static void tls_failed(loop *L, bconn *c)
{
    L->st->c.tls_fail++;
    fail_conn(L, c, TPB_E_CONNECT);
}

/* One handshake step; once done, its time goes to the full or resumed
 * histogram, apart from request latency, and requests may go. */
static void handshake(loop *L, bconn *c)
{
    int st = tpb_tls_handshake(L->run, c->ssl);
    if (st == TPB_TLS_WANT_READ || st == TPB_TLS_WANT_WRITE) {
        set_events(L, c, st == TPB_TLS_WANT_READ ? EPOLLIN : EPOLLOUT);
        return;
    }
    if (st != TPB_TLS_OK) {
        tls_failed(L, c);
        return;
    }
    /* The clock, not L->now of the event batch: the last step's own
     * crypto is part of the handshake, and on a busy machine the server's
     * whole flight can arrive while the first SSL_connect still runs. */
    int resumed = tpb_tls_resumed(c->ssl);
    resumed ? L->st->c.tls_resumed++ : L->st->c.tls_full++;
    tpb_hist_record(resumed ? &L->st->tls_resumed : &L->st->tls_full, tpb_now() - c->t_hs);
    c->state = C_OPEN;
    set_events(L, c, EPOLLIN);
    pump(L, c);
}

static void on_connected(loop *L, bconn *c)
{
    int e = 0;
    socklen_t el = sizeof e;
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &el) < 0 || e) {
        fail_conn(L, c, TPB_E_CONNECT);
        return;
    }
    c->state = C_OPEN;
    tpb_counts *k = &L->st->c;
    k->connects++;
    if (++k->open_now > k->open_max)
        k->open_max = k->open_now;
    tpb_hist_record(&L->st->connect, L->now - c->t_connect);
    if (L->run->tls_ctx) {
        c->state = C_HANDSHAKE;
        c->t_hs = L->now;
        c->ssl = tpb_tls_new(L->run, c->fd, &c->sess);
        if (c->ssl)
            handshake(L, c);
        else
            tls_failed(L, c);
        return;
    }
    set_events(L, c, EPOLLIN);
    pump(L, c);
}

static void on_event(loop *L, bconn *c, uint32_t ev)
{
    if (c->state == C_CONNECTING) {
        on_connected(L, c);
        return;
    }
    if (c->state == C_HANDSHAKE) {
        handshake(L, c);
        return;
    }
    if (c->state != C_OPEN)
        return;
    if (ev & (EPOLLIN | EPOLLERR | EPOLLHUP) || ((ev & EPOLLOUT) && c->rd_wants_wr)) {
        do_read(L, c);
        if (c->state != C_OPEN)
            return;
    }
    if (ev & EPOLLOUT)
        flush(L, c);
}

/* Open loop: the thread's due events are evenly spaced, one connection
 * after another, so one cursor tells which connection to wake next. */
static void fire_due(loop *L)
{
    while (L->gap && L->nact && L->run->t0 + L->ev_next * L->gap <= L->now) {
        bconn *c = L->act[L->ev_next % (uint64_t)L->nact];
        L->ev_next++;
        pump(L, c);
    }
}

/* Start due connects. Unpaced, at most CONNECT_BATCH per turn, so that
 * completions are seen between batches and connect times stay honest. */
static void ramp_open(loop *L)
{
    int batch = 0;
    while (L->ramp_opened < L->nc && batch++ < CONNECT_BATCH &&
           (!L->ramp_gap || L->run->t0 + (uint64_t)L->ramp_opened * L->ramp_gap <= L->now))
        start_connect(L, &L->c[L->ramp_opened++]);
}

static void scan(loop *L)
{
    uint64_t to = L->o->timeout_ns;
    for (int i = 0; i < L->ramp_opened; i++) {
        bconn *c = &L->c[i];
        if (c->state == C_WAIT && L->now >= c->retry_at)
            start_connect(L, c);
        else if (c->state == C_CONNECTING && L->now - c->t_connect > to)
            fail_conn(L, c, TPB_E_CONNECT);
        else if (c->state == C_HANDSHAKE && L->now - c->t_connect > to) {
            tpb_tls_note(L->run, "the handshake timed out (--timeout)");
            tls_failed(L, c);
        }
        else if (c->state == C_OPEN && c->n && L->now - c->r_sent[c->head] > to)
            fail_conn(L, c, c->rx.bad ? TPB_E_CORRUPT : TPB_E_TIMEOUT);
    }
    L->next_scan = L->now + SCAN_NS;
}

static void publish(loop *L)
{
    tpb_worker *w = L->w;
    pthread_mutex_lock(&w->lk);
    w->shared = L->st->c;
    tpb_hist_merge(&w->shared_ivl, &L->ivl);
    pthread_mutex_unlock(&w->lk);
    tpb_hist_init(&L->ivl);
    L->next_pub = L->now + PUB_NS;
}

static uint64_t next_wake(const loop *L)
{
    uint64_t t = L->next_scan < L->next_pub ? L->next_scan : L->next_pub;
    if (L->gap && L->nact) {
        uint64_t d = L->run->t0 + L->ev_next * L->gap;
        t = d < t ? d : t;
    }
    if (L->ramp_opened < L->nc) {
        uint64_t d = L->run->t0 + (uint64_t)L->ramp_opened * L->ramp_gap;
        t = d < t ? d : t; /* unpaced (gap 0): t0, i.e. now */
    }
    return t < L->run->m_end ? t : L->run->m_end;
}

/* --busy-poll: poll without sleeping until something comes, the budget
 * is spent or the next timed event (wake) is due. */
static int busy_poll(loop *L, struct epoll_event *ev, int max, uint64_t wake)
{
    uint64_t until = L->now + L->o->busy_poll_ns;
    if (until > wake)
        until = wake;
    int n;
    while ((n = epoll_wait(L->ep, ev, max, 0)) == 0 && tpb_now() < until)
        ;
    return n;
}

/* Sleep until something comes or wake (ns) is due. */
static int sleep_wait(loop *L, struct epoll_event *ev, int max, uint64_t wake)
{
    uint64_t now = tpb_now(), d = wake > now ? wake - now : 0;
    struct timespec ts = {.tv_sec = (time_t)(d / 1000000000ull),
                          .tv_nsec = (long)(d % 1000000000ull)};
    int n = epoll_pwait2(L->ep, ev, max, &ts, NULL);
    if (n < 0 && errno == ENOSYS)
        n = epoll_wait(L->ep, ev, max, (int)((d + 999999) / 1000000));
    return n;
}

static void wait_events(loop *L)
{
    struct epoll_event ev[256];
    uint64_t wake = next_wake(L);
    int n = L->o->busy_poll_ns ? busy_poll(L, ev, 256, wake) : 0;
    if (n == 0)
        n = sleep_wait(L, ev, 256, wake);
    L->now = tpb_now();
    for (int i = 0; i < n; i++)
        on_event(L, ev[i].data.ptr, ev[i].events);
}

/* Deal connections: worker i of n gets global ids i, i+n, ... */
static int setup(loop *L, tpb_worker *w)
{
    const tpb_opts *o = w->run->o;
    memset(L, 0, sizeof *L);
    L->w = w, L->run = w->run, L->o = o, L->st = &w->local;
    L->depth = o->depth;
    L->churn = o->mode == TPB_MODE_CHURN;
    L->churn_sources = L->churn && tpb_net_can_rotate(L->run);
    L->nc = (o->connections - w->index + w->run->nw - 1) / w->run->nw;
    L->src = TPB_SRC_START;
    L->ep = epoll_create1(EPOLL_CLOEXEC);
    L->c = calloc((size_t)L->nc, sizeof *L->c);
    L->act = calloc((size_t)L->nc, sizeof *L->act);
    L->rbuf = malloc(RBUF);
    if (L->ep < 0 || !L->c || !L->act || !L->rbuf)
        return -1;
    for (int i = 0; i < L->nc; i++) {
        bconn *c = &L->c[i];
        c->fd = -1;
        c->cid = (uint32_t)(w->index + i * w->run->nw);
        c->active = o->mode != TPB_MODE_IDLE || (int)c->cid < o->active;
        c->r_sent = calloc((size_t)L->depth, sizeof *c->r_sent);
        c->r_due = calloc((size_t)L->depth, sizeof *c->r_due);
        if (!c->r_sent || !c->r_due)
            return -1;
        if (c->active)
            c->aj = L->nact, L->act[L->nact++] = c;
    }
    return 0;
}

/* Rates: the thread's share of the total, by its active connections. */
static void set_rates(loop *L)
{
    const tpb_opts *o = L->o;
    int total_act = o->mode == TPB_MODE_IDLE ? o->active : o->connections;
    double r = L->run->rate;
    if (r > 0 && L->nact > 0)
        L->gap = (uint64_t)(1e9 / (r * L->nact / total_act)) + 1;
    if (o->mode == TPB_MODE_RAMP && o->rate > 0)
        L->ramp_gap = (uint64_t)(1e9 / (o->rate * L->nc / o->connections));
}

static void teardown(loop *L)
{
    for (int i = 0; i < L->nc && L->c; i++) {
        tpb_tls_free(L->c[i].ssl, L->c[i].state == C_OPEN);
        tpb_tls_session_free(L->c[i].sess);
        if (L->c[i].fd >= 0)
            close(L->c[i].fd);
        free(L->c[i].r_sent);
        free(L->c[i].r_due);
        free(L->c[i].out);
    }
    if (L->ep >= 0)
        close(L->ep);
    free(L->c);
    free(L->act);
    free(L->rbuf);
}

void *tpb_loop_main(void *arg)
{
    loop *L = malloc(sizeof *L);
    if (!L)
        abort();
    if (setup(L, arg) < 0)
        abort(); /* startup allocation failure */
    set_rates(L);
    tpb_hist_init(&L->ivl);
    L->now = tpb_now();
    L->next_scan = L->now + SCAN_NS;
    L->next_pub = L->now + PUB_NS;
    while (!__atomic_load_n(&L->run->stop, __ATOMIC_RELAXED) && L->now < L->run->m_end) {
        ramp_open(L);
        wait_events(L);
        fire_due(L);
        if (L->now >= L->next_scan)
            scan(L);
        if (L->now >= L->next_pub)
            publish(L);
    }
    publish(L);
    teardown(L);
    free(L);
    return NULL;
}
