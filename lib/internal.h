/* SPDX-License-Identifier: MIT */
/* internal.h - declarations shared by the library's modules, never
 * installed. Names here are tps__ (non-static, internal).
 *
 * THREADS AND OWNERSHIP
 * - The acceptor thread owns the listeners, the reserve descriptor and the
 *   per-address counts' inserts; it never runs handler code.
 * - A worker is a loop's state: its epoll, its connections, their lists
 *   and timers, its counters. A runner is a thread with its own scratch
 *   buffers. Normally worker i is run by runner i and nothing else touches
 *   it, so the hot path takes no lock.
 * - Handlers that may block (TPS_HANDLER_MAY_BLOCK): a worker's state is
 *   guarded by worker->lock, which its runner holds except in epoll_wait
 *   and in callbacks. While a callback runs, its connection is "away":
 *   out of the worker's lists, so nobody else starts a turn on it or
 *   closes it, and only the runner in the callback touches it. If the
 *   callback outlasts a tick, the monitor (handoff.c) gives the worker to
 *   a spare runner; the blocked runner, once back, finishes its turn
 *   under the lock and retires to the spare pool. So a blocked callback
 *   stalls only its own connection, and the loop itself never pays for a
 *   handoff that does not happen.
 * - A turn's scratch belongs to the runner in c->r (set for the turn).
 * - Lock order: worker->lock before srv->runners_lock; conntab.lock,
 *   iplimit.lock and the fd queue's mutex are leaves. No callback runs
 *   under any lock.
 */
#ifndef TPS_INTERNAL_H
#define TPS_INTERNAL_H

#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "tpserv.h"
#include "buf.h"
#include "fdqueue.h"
#include "hist.h"
#include "sockaddr.h"

#define TPS__MAX_LISTENERS   64
#define TPS__RBUF_SIZE       (64 * 1024) /* worker read scratch */
#define TPS__OBUF_SIZE       (64 * 1024) /* worker output scratch */
#define TPS__READS_PER_TURN  8           /* fairness: reads before yielding */
/* Fairness: TLS handshake steps (the costly one signs) a worker takes per
 * loop iteration; the others wait for the next, after the events of
 * established connections. */
#define TPS__HANDSHAKES_PER_ROUND 8
/* A worker with handshake steps in the pool sleeps at most this long. */
#define TPS__HS_BACK_POLL_MS 100
#define TPS__MAX_EVENTS      256         /* epoll events per wait */
#define TPS__HANDOFF_TICK_MS 1           /* a callback this old may be handed off */

/* epoll data of the library's own descriptors: generation 0 never names a
 * connection, so these cannot collide with (gen << 32 | slot). */
enum { TPS__TAG_WAKE = 1 };

/* Intrusive circular doubly linked list. */
typedef struct tps__list {
    struct tps__list *prev, *next;
} tps__list;

static inline void tps__list_init(tps__list *l)
{
    l->prev = l->next = l;
}
static inline bool tps__list_empty(const tps__list *l)
{
    return l->next == l;
}
static inline bool tps__list_linked(const tps__list *n)
{
    return n->next != NULL && n->next != n;
}
static inline void tps__list_unlink(tps__list *n)
{
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->prev = n->next = n;
}
static inline void tps__list_append(tps__list *head, tps__list *n)
{
    n->prev = head->prev;
    n->next = head;
    head->prev->next = n;
    head->prev = n;
}
#define tps__container_of(p, type, member) ((type *)(void *)((char *)(p)-offsetof(type, member)))

/* Connection flags (owned by whoever runs the connection's turn). */
enum {
    TPS__CF_OPENED = 1u << 1,        /* on_open accepted it: on_close owed */
    TPS__CF_CLOSING = 1u << 2,       /* close once output is flushed */
    TPS__CF_PEER_EOF = 1u << 3,      /* read returned 0 */
    TPS__CF_READ_PAUSED = 1u << 4,   /* backpressure: output above high water */
    TPS__CF_READ_MORE = 1u << 6,     /* read budget ran out with data left */
    TPS__CF_WANT_WRITABLE = 1u << 7, /* output drained: call on_writable */
    TPS__CF_SHUTDOWN = 1u << 8,      /* on_shutdown delivered */
    TPS__CF_LINGER = 1u << 9,        /* SHUT_WR sent: discard input to EOF (linger list) */
    TPS__CF_PROXY_WAIT = 1u << 10,   /* PROXY header not read yet: not opened */
    TPS__CF_IP_COUNTED = 1u << 11,   /* counted in the per-address cap */
    TPS__CF_TLS_HS = 1u << 12,       /* TLS handshake not done: not opened (hs_list) */
    TPS__CF_HS_COUNTED = 1u << 13,   /* counted in srv->hs_pending */
    TPS__CF_HS_STEP = 1u << 14,      /* hand the next handshake step to hspool.c (turn's end) */
    TPS__CF_HS_RESULT = 1u << 15,    /* hspool.c ran a step: its outcome waits in c->tls */
};

struct tps__worker;
struct tps__runner;

/* A PROXY v2 header's TLVs as sent, for tps_conn_proxy_tlv(): one
 * allocation, only for a connection whose header had any (proxy.c). */
typedef struct tps__tlvs {
    size_t len;
    unsigned char b[];
} tps__tlvs;

struct tps_conn {
    uint32_t slot, gen;
    int fd;
    unsigned flags;
    int close_reason;
    bool away;            /* in a may-block callback (worker lock), or its
                             handshake step on a pool thread (hspool.c) */
    signed char hs_rc;    /* that step's outcome (TPS__CF_HS_RESULT) */
    _Atomic bool hs_event; /* an event came while away: the pool must ring (hspool.c) */
    uint32_t away_events; /* events that came meanwhile (worker lock) */
    tps_server *srv;
    struct tps__worker *w;          /* owner, for life */
    struct tps__runner *r;          /* runner of the turn in progress, else NULL */
    tps__buf in;                    /* unconsumed input (empty for most protocols) */
    tps__buf out;                   /* output the socket did not take yet */
    void *data;                     /* the handler's */
    _Atomic int64_t last_active_ms; /* relaxed: read by the idle timer */
    int64_t send_since_ms;          /* last output progress while output pending;
                                       before the PROXY header: accept time;
                                       lingering: last input */
    int64_t linger_since_ms;        /* lingering: when SHUT_WR was sent */
    tps__list link;                 /* worker's LRU of its conns (not while away) */
    tps__list send_link;            /* worker's conns with output (not while away),
                                       or waiting for their PROXY header,
                                       or lingering (none of them has output),
                                       or in their TLS handshake (hs_list), or,
                                       away, in the handshake pool (hspool.c) */
    tps__list ready_link;           /* worker's ready list */
    struct tps_conn *free_next;     /* conntab free list / worker dead list */
    tps__peer peer;
    tps__tlvs *proxy_tlvs; /* owned; NULL if none; freed by tps__conn_close() */
    struct tps__tls *tls;  /* owned; NULL unless from a tls: listener (tls.c) */
};

/* Per-worker counters: written by the owning worker only (relaxed atomic
 * load+store, so a plain add on x86), summed by tps_server_stat(). */
typedef struct tps__counters {
    _Atomic uint64_t v[TPS_STAT_COUNT_];
} tps__counters;

static inline void tps__count(tps__counters *c, int stat, uint64_t n)
{
    uint64_t cur = atomic_load_explicit(&c->v[stat], memory_order_relaxed);
    atomic_store_explicit(&c->v[stat], cur + n, memory_order_relaxed);
}

/* A thread that runs workers' loops (see THREADS above). */
typedef struct tps__runner {
    tps_server *srv;
    pthread_t thread;
    unsigned id;
    struct tps__worker *w; /* assigned worker, NULL while parked (runners_lock) */
    pthread_cond_t cond;   /* parked: waits for a worker or the end */
    struct tps__runner *next_spare;
    char *rbuf;    /* read scratch: input lands here first */
    size_t rlen;   /* bytes the turn's last read left in rbuf */
    tps__buf obuf; /* output scratch of the conn in turn (c->r == this) */
    /* or, instead, output that is a slice of rbuf, sent without a copy
     * (conn.c: valid until the next read into rbuf) */
    const char *oref;
    size_t oref_len;
} tps__runner;

typedef struct tps__worker {
    tps_server *srv;
    unsigned id;
    int epfd;
    int wakefd;              /* doorbell: edge-triggered, never read (see tps__worker_notify) */
    _Atomic uint64_t owed;   /* descriptors the acceptor queued for us, not adopted yet */
    _Atomic bool waiting;    /* the runner is in, or about to enter, epoll_wait */
    pthread_mutex_t lock;    /* may-block: see THREADS above */
    tps__runner *runner;     /* who runs the loop (changed under lock) */
    _Atomic uint64_t cb_seq; /* may-block: odd while runner is in a callback */
    uint64_t handed_seq;     /* the callback last handed off (monitor, lock) */
    tps__list conns;         /* conns, least recently active first */
    tps__list send_list;     /* conns with pending output, oldest first */
    tps__list header_list;   /* conns waiting for their PROXY header, oldest first */
    tps__list hs_list;       /* conns in their TLS handshake, oldest first */
    unsigned hs_budget;      /* TLS handshake steps left this iteration */
    tps__list linger_list;   /* lingering conns, least recent input first */
    tps__list ready;         /* conns owed a turn without an event */
    tps__list batch;         /* the round of ready turns in progress */
    tps_conn *dead;          /* closed this iteration; slots freed at its end */
    size_t nconns;
    _Atomic size_t load; /* nconns, published for the acceptor's choice */
    int64_t now_ms;
    int64_t drain_start_ms; /* when this worker saw the stop */
    bool drain_seen;
    bool last_call; /* draining, LINGER_MS before the deadline (timers.c) */
    bool finished;
    int nev, ev_next; /* events of the last wait, and the next to run */
    struct epoll_event *evs;
    tps__counters stats;
    tps__hist hist[TPS_HIST_COUNT_]; /* written like stats */
    /* mail from other threads (mail.c) */
    pthread_mutex_t inbox_lock; /* guards inbox and mail_bytes */
    struct tps__mail *inbox, **inbox_tail;
    size_t mail_bytes;        /* queued, not yet delivered or dropped */
    _Atomic bool inbox_ready; /* the inbox has something */
    tps__list mail;           /* taken from the inbox, not delivered yet */
    /* handshake steps done by the pool (hspool.c), back to us */
    tps__list hs_back;          /* guarded by the pool's lock */
    _Atomic bool hs_back_ready; /* hs_back has something (seq_cst, as owed) */
    unsigned hs_away;           /* our connections in the pool or in hs_back */
} tps__worker;

/* Conn table: stable slots (never freed while the server lives), so an
 * epoll event naming a closed connection can be recognised by its
 * generation instead of dereferencing freed memory. */
typedef struct tps__conntab {
    pthread_mutex_t lock;
    tps_conn **chunks;
    size_t nchunks, used; /* chunk pointers; slots handed out so far */
    size_t max_slots;
    tps_conn *free_head;
} tps__conntab;

#define TPS__CHUNK 256

int tps__conntab_init(tps__conntab *t, size_t max_slots);
void tps__conntab_destroy(tps__conntab *t);
tps_conn *tps__conntab_alloc(tps__conntab *t, struct tps__worker *w);
void tps__conntab_free(tps__conntab *t, tps_conn *c);
/* The worker that owns the open connection with this id, or NULL. Takes
 * the table's lock: for other threads, never on the message path. */
struct tps__worker *tps__conntab_owner(tps__conntab *t, uint64_t id);
/* The connection with this id if w owns it (it may be closed: fd < 0). */
tps_conn *tps__conntab_get(tps__conntab *t, uint64_t id, const struct tps__worker *w);
/* The slot an epoll datum names, or NULL for a datum that names none (gen
 * 0: the library's own descriptors; a slot never handed out). Lock-free.
 * The slot may hold a newer connection or none: the caller compares its
 * generation and fd (worker.c, on_event) before using it. */
tps_conn *tps__conntab_lookup(tps__conntab *t, uint64_t datum);
static inline uint64_t tps__conn_datum(const tps_conn *c)
{
    return (uint64_t)c->gen << 32 | c->slot;
}

/* Per-source-address connection counts (only when MAX_CONNS_PER_IP). */
typedef struct tps__iplimit tps__iplimit;
int tps__iplimit_new(tps__iplimit **out, size_t buckets);
void tps__iplimit_free(tps__iplimit *t);
/* Count one more from peer unless it already has `cap`; true if counted. */
bool tps__iplimit_take(tps__iplimit *t, const tps__peer *peer, unsigned cap);
void tps__iplimit_release(tps__iplimit *t, const tps__peer *peer);

/* What a peer over its per-address cap reads before the close. */
#define TPS__BUSY_PER_IP "BUSY too many connections from your address\r\n"

typedef struct tps__listener {
    int fd;
    bool proxy; /* clients start with a PROXY protocol header */
    bool tls;   /* then a TLS handshake (tls.c) */
    char addr[TPS__ADDRSTRLEN];
    char *unix_path; /* unlinked at close when we created it */
} tps__listener;

enum { TPS__RUN_NEW, TPS__RUN_RUNNING, TPS__RUN_DRAINING, TPS__RUN_STOPPED };

struct tps_server {
    long long opt[TPS_OPT_COUNT_];
    const tps_handler *handler; /* &handler_copy: callbacks are reached through it */
    tps_handler handler_copy;
    void *handler_ud;
    tps_log_fn log_fn;
    void *log_ud;
    int log_level;

    tps__listener listeners[TPS__MAX_LISTENERS];
    unsigned nlisteners;
    tps__cidr *trusted; /* proxy: listeners' balancers (empty: anyone); */
    unsigned ntrusted;  /* set before start, read by the acceptor */

    pthread_mutex_t tls_lock; /* guards tls_ctx: replaced while running (tlsctx.c) */
    void *tls_ctx;            /* SSL_CTX for tls: listeners' new connections */
    /* tls: connections accepted and not through their handshake: the
     * acceptor adds, the worker subtracts; TLS listeners rest while it is
     * at TPS_OPT_TLS_MAX_HANDSHAKES (seq_cst with acceptor_waiting). */
    _Atomic uint64_t hs_pending;
    struct tps__ticket_keys *tickets; /* tls_lock; server-wide: a new SSL_CTX
                                          keeps resuming the old one's sessions */
    struct tps__hspool *hspool;       /* TLS handshake threads (hspool.c); NULL: in the workers */

    _Atomic int run_state;    /* TPS__RUN_* */
    _Atomic int wake_errno;   /* first failed doorbell write (tps__ring), 0 if none */
    _Atomic bool wake_logged; /* ... and it was logged */
    _Atomic int64_t drain_deadline_ms;
    bool started, joined;

    /* acceptor */
    pthread_t acceptor;
    int acceptor_wakefd;
    int reserve_fd;                /* spent on EMFILE to shed a conn */
    _Atomic bool acceptor_waiting; /* paused on a full queue/max conns */
    _Atomic bool acceptor_done;
    unsigned next_worker;    /* acceptor's round-robin cursor */
    tps__counters acc_stats; /* written by the acceptor only */
    tps__iplimit *iplimit;

    tps__fdqueue queue;
    tps__conntab conns;
    _Atomic uint64_t active; /* open connections (all workers) */

    unsigned nworkers; /* initialised (destroyed at free) */
    bool acceptor_started;
    bool may_block; /* the handler's TPS_HANDLER_MAY_BLOCK */
    tps__worker *workers;

    /* runners (worker.c) and spares (handoff.c) */
    pthread_mutex_t runners_lock; /* guards the fields below and runner->w */
    tps__runner **runners;        /* every runner started, joined at wait */
    unsigned nrunners, max_runners;
    tps__runner *spares; /* parked runners */
    unsigned workers_done;
    bool runners_quit; /* every worker finished: parked runners exit */
    bool spare_cap_logged;

    /* the monitor (handoff.c), may-block only */
    pthread_t monitor;
    bool monitor_started;
    int monitor_evfd;
    _Atomic bool monitor_asleep;
};

/* options.c */
void tps__options_defaults(long long *opt);

/* log.c: format and pass to the log callback if level is enabled. */
void tps__log(const tps_server *srv, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Same, appending ": <strerror(err)>" for a positive errno value. */
void tps__log_errno(const tps_server *srv, int level, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* time */
int64_t tps__now_ms(void);

/* listener.c */
int tps__listener_open(tps_server *srv, const char *spec);
int tps__listener_adopt(tps_server *srv, int fd);
void tps__listeners_prepare(tps_server *srv);
void tps__listeners_close(tps_server *srv);

/* proxy.c: what surrounds the PROXY header parser (proxyproto.c). */
/* May a proxy: listener take a connection from peer? Logs a refusal. */
bool tps__proxy_trusted(const tps_server *srv, const tps__peer *peer);
void tps__proxy_trust_free(tps_server *srv);
/* Keep a parsed header's TLVs p[0..n) for c; TPS_ENOMEM. */
int tps__proxy_tlvs_keep(tps_conn *c, const char *p, size_t n);
/* The TLVs c came with as text for a debug line ("unique_id=... crc32c"). */
void tps__proxy_tlvs_describe(const tps_conn *c, char *buf, size_t cap);

/* tlsctx.c: the TLS configuration (tps_server_tls), an SSL_CTX in
 * srv->tls_ctx. Without OpenSSL, stubs that refuse. */
void tps__tls_server_free(tps_server *srv);
/* Is TLS configured (a tls: listener may be opened)? TPS_ENOTSUP without
 * OpenSSL, TPS_EINVAL before tps_server_tls(). */
int tps__tls_ready(tps_server *srv);
/* The OpenSSL errors queued on this thread as "reason; reason" into buf,
 * and clear them: each is logged where it happened, never left for the
 * next call's SSL_get_error to trip on. (OpenSSL builds only.) */
void tps__tls_errors(char *buf, size_t cap);

/* tls.c: TLS connections (OpenSSL). Without OpenSSL each is a stub that
 * never runs: no tls: listener can be opened then. */
/* Give c a TLS session with the current configuration (its handshake
 * starts at the next read): 0 or TPS_ENOMEM. Worker thread. */
int tps__tls_attach(tps_conn *c);
/* Raw bytes read with a PROXY header that belong to the TLS handshake. */
int tps__tls_preread(tps_conn *c, const char *p, size_t n);
/* Advance the handshake: 1 done, 0 waiting for the peer, -1 failed
 * (logged at debug level). Touches only c->tls and the socket, so it may
 * run on a handshake thread while c is away from its worker (hspool.c);
 * the outcome is counted by tps__tls_handshake_count on the worker. */
int tps__tls_handshake_step(tps_conn *c);
/* Will the next step answer the ClientHello (nothing sent yet)? That one
 * generates a key share, derives and signs: the costly step. */
bool tps__tls_hs_answers_hello(const tps_conn *c);
/* Count a step's outcome rc in w's stats (handshakes, resumptions, the
 * time, failures by reason). Worker thread. */
void tps__tls_handshake_count(tps__worker *w, tps_conn *c, int rc);
/* Decrypt into p[0..room): bytes (>0), 0 at the peer's EOF, -EAGAIN, or
 * -EPROTO (bad record: counted) / another -errno. *drained: nothing more
 * to read until the next edge. */
ssize_t tps__tls_read(tps__worker *w, tps_conn *c, char *p, size_t room, bool *drained);
/* Encrypt and send: bytes taken (>0), -EAGAIN, or -errno / -EPROTO. */
ssize_t tps__tls_write(tps_conn *c, const char *p, size_t len);
/* Send a close_notify (once; best effort) before our FIN. */
void tps__tls_close_notify(tps_conn *c);
/* Free c's TLS session (at close). */
void tps__tls_free(tps_conn *c);

/* hspool.c: TLS handshake steps on low-priority threads, so that a flood
 * of handshakes cannot delay the established connections of a worker.
 * Started (if TPS_OPT_TLS_HANDSHAKE_OFFLOAD and a tls: listener) and
 * stopped with the server, the stop after every worker finished. */
int tps__hspool_start(tps_server *srv);
void tps__hspool_stop(tps_server *srv);
/* c's next step runs on a pool thread: c goes away from w (off its lists,
 * events kept in away_events) until tps__hspool_collect. w's runner, at
 * the end of c's turn. */
void tps__hspool_submit(tps__worker *w, tps_conn *c);
/* Take back the connections whose step is done: each is owed a turn, in
 * which conn.c reads the outcome (TPS__CF_HS_RESULT). w's runner. */
void tps__hspool_collect(tps__worker *w);

/* ---- the modules, from the top down ----------------------------------------
 * Calls go down this list, never up: server -> runner -> worker -> {mail,
 * timers} -> conn -> {handoff, output} -> leaves (wake, conntab, proxy,
 * buf, log...); server -> acceptor -> leaves. What a lower module needs of
 * a higher one's state is a static inline below (the ready list, the
 * doorbell, the calling thread's runner), not a call back up.
 * scripts/lib-callgraph.py --check verifies it (make check runs it where
 * cflow is installed). */

/* wake.c: doorbells (eventfds the acceptor, workers and monitor wait on).
 * A ring is never lost: EINTR is retried and EAGAIN means the counter is
 * already non-zero, i.e. rung. Any other error (a closed or wrong
 * descriptor: a bug) is recorded in srv->wake_errno and logged once.
 * tps__ring only records: it is async-signal-safe (tps_server_stop) and
 * fit to call under a lock. tps__wake also logs, so its caller holds no
 * lock (the log callback is the host's code). */
int tps__ring(tps_server *srv, int eventfd);
void tps__wake(tps_server *srv, int eventfd);
/* Log a recorded doorbell failure, once per server (no lock held). */
void tps__wake_log(tps_server *srv);

/* acceptor.c */
int tps__acceptor_start(tps_server *srv);

/* runner.c: the threads. Runners (one per worker, plus spares started on
 * demand for may-block handlers), the spare pool and the monitor that
 * hands a worker blocked in a callback to a spare. Starts and joins them. */
int tps__runners_start(tps_server *srv);
/* Stop the monitor and join every runner (after the acceptor ended). */
void tps__runners_join(tps_server *srv);
/* Only runner.c writes it: the runner of the calling thread (NULL outside
 * the library's threads). */
extern _Thread_local tps__runner *tps__self_ __attribute__((visibility("hidden")));
static inline tps__runner *tps__self(void)
{
    return tps__self_;
}
/* Is r still the one running w's loop? (w->lock held, or not may-block) */
static inline bool tps__runs(const tps__worker *w, const tps__runner *r)
{
    return w->runner == r;
}

/* worker.c: a worker's loop. */
int tps__worker_init(tps_server *srv, tps__worker *w, unsigned id);
void tps__worker_destroy(tps__worker *w);
/* Run w's loop while r runs it. true: w is finished (the server stopped
 * and it has no connection left); false: w was handed to another runner. */
bool tps__worker_run(tps__worker *w, tps__runner *r);
/* Work was published for w (owed, inbox_ready): ring its doorbell if it
 * may be asleep. The caller's publishing RMW must be seq_cst. */
static inline void tps__worker_notify(tps__worker *w)
{
    if (atomic_load(&w->waiting))
        tps__wake(w->srv, w->wakefd);
}
/* c is owed a turn without an event (w's runner, or w->lock held). */
static inline void tps__ready_push(tps__worker *w, tps_conn *c)
{
    if (!tps__list_linked(&c->ready_link))
        tps__list_append(&w->ready, &c->ready_link);
}
/* A worker freed room (queue pop): wake the acceptor if it waits for it
 * (acceptor_waiting, seq_cst: see acceptor.c). */
static inline void tps__acceptor_kick(tps_server *srv)
{
    if (atomic_load(&srv->acceptor_waiting))
        tps__wake(srv, srv->acceptor_wakefd);
}
/* A tls: connection is through its handshake, or gone before: one fewer
 * pending; at the cap, TLS listeners may accept again. */
static inline void tps__hs_done(tps_server *srv)
{
    uint64_t was = atomic_fetch_sub(&srv->hs_pending, 1);
    long long cap = srv->opt[TPS_OPT_TLS_MAX_HANDSHAKES];
    if (cap > 0 && was == (uint64_t)cap)
        tps__acceptor_kick(srv);
}

/* mail.c: tps_server_conn_send/close from any thread. */
void tps__mail_init(tps__worker *w);
void tps__mail_destroy(tps__worker *w);
/* Deliver what other threads queued for w's connections (runner of w). */
void tps__mail_run(tps__worker *w);

/* timers.c: idle/send/linger timeouts, the drain's quiet rule and its
 * deadline. Returns ms until the next, or -1. */
int tps__timers_run(tps__worker *w);

/* conn.c: a turn is one pass over a connection: read, call on_data, flush,
 * maybe close. `events` are epoll events (0 = "try everything"). */
void tps__conn_adopt(tps__worker *w, const tps__fditem *it);
void tps__conn_turn(tps__worker *w, tps_conn *c, uint32_t events);
/* A turn without reading, for mail: begin, tps_conn_send..., end. */
void tps__conn_turn_begin(tps_conn *c);
void tps__conn_turn_end(tps__worker *w, tps_conn *c);
void tps__conn_close(tps__worker *w, tps_conn *c, int reason);
/* Close once the turn is over (the reason of the first call stands). */
static inline void tps__conn_close_later(tps_conn *c, int reason)
{
    if (!(c->flags & TPS__CF_CLOSING)) {
        c->flags |= TPS__CF_CLOSING;
        c->close_reason = reason;
    }
}
void tps__conn_begin_shutdown(tps__worker *w, tps_conn *c);
/* The lingering close of a connection that owes no output: SHUT_WR, then
 * discard input until the peer's EOF or LINGER_MS of quiet (timers.c). */
void tps__conn_half_close(tps__worker *w, tps_conn *c, int reason);
void tps__conn_touch(tps__worker *w, tps_conn *c);
bool tps__conn_wants_read(const tps_server *srv, const tps_conn *c);
/* Send the turn's output and any backlog (output.c), then act on what
 * happened: close on a socket error, restart the send clock, lift
 * backpressure, offer on_writable. */
void tps__conn_flush(tps__worker *w, tps_conn *c);

/* handoff.c: around every callback of a may-block handler (w->lock held
 * on entry and on return; released in between, the connection away). */
void tps__callback_enter(tps_conn *c);
void tps__callback_leave(tps_conn *c);

/* output.c: the turn's output and c->out (tps_conn_send is there too). */
/* Write the turn's output and any backlog, keeping what the socket
 * refuses. 0, or -errno of a failed send (the caller closes); *before is
 * what was owed, *sent what went out. Touches nothing else. */
int tps__out_flush(tps__worker *w, tps_conn *c, size_t *before, size_t *sent);
/* Forget the turn's output (a new turn, or the connection closed). */
void tps__turn_out_reset(tps__runner *r);

/* Why a failed recv/send (-errno) closes its connection: a peer that
 * reset (ECONNRESET; EPIPE once the reset was reported) is a client going
 * away, counted apart from socket errors an operator should look at. */
static inline int tps__close_reason_for(long neg_errno)
{
    if (neg_errno == -EPROTO)
        return TPS_CLOSE_TLS; /* tls.c: a bad record */
    return neg_errno == -ECONNRESET || neg_errno == -EPIPE ? TPS_CLOSE_RESET : TPS_CLOSE_ERROR;
}

static inline size_t tps__opt_size(const tps_server *srv, int o)
{
    return (size_t)srv->opt[o];
}

/* Only may-block servers share a worker between threads (see THREADS). */
static inline void tps__worker_lock(tps__worker *w)
{
    if (w->srv->may_block)
        pthread_mutex_lock(&w->lock);
}
static inline void tps__worker_unlock(tps__worker *w)
{
    if (w->srv->may_block)
        pthread_mutex_unlock(&w->lock);
}

/* Does the acceptor count this descriptor in the per-address cap? Not for
 * unix sockets, and not behind a PROXY balancer, whose address it is: the
 * worker counts the client the header names instead. */
static inline bool tps__ip_counted_at_accept(const tps_server *srv, const tps__fditem *it)
{
    return srv->iplimit != NULL && it->peer.family != AF_UNIX && !it->proxy;
}

static inline bool tps__draining(const tps_server *srv)
{
    return atomic_load_explicit(&srv->run_state, memory_order_acquire) >= TPS__RUN_DRAINING;
}

#endif /* TPS_INTERNAL_H */
