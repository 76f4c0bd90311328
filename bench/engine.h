/* SPDX-License-Identifier: MIT */
/* engine: the load itself. main.c fills a tpb_run, tpb_run_start() starts
 * one thread per --threads, each with its own epoll loop over its share of
 * the connections (connection ids are dealt round-robin); the caller
 * polls tpb_run_tick() once a second for live figures and calls
 * tpb_run_join() for the final ones. THREADS: each tpb_worker's `local`
 * part is touched by its thread alone; `shared` is guarded by its mutex
 * and is how figures reach the main thread while the run is going. */
#ifndef TPB_ENGINE_H
#define TPB_ENGINE_H
#include <pthread.h>
#include <stdint.h>
#include <sys/socket.h>

#include "hist.h"
#include "opts.h"
#include "payload.h"

enum tpb_ekind {
    TPB_E_CONNECT,
    TPB_E_TIMEOUT,
    TPB_E_CORRUPT,
    TPB_E_REORDER,
    TPB_E_CROSS,
    TPB_E_CLOSED,
    TPB_E_READ,
    TPB_E_WRITE,
    TPB_E_LONG,
    TPB_E_COUNT
};

typedef struct tpb_counts {
    uint64_t requests, responses, bytes_tx, bytes_rx; /* measured window */
    uint64_t connects, conn_done;                     /* whole run */
    uint64_t errors[TPB_E_COUNT];                     /* whole run */
    uint64_t open_now, open_max;
    /* TLS handshakes (whole run): done in full, resumed, failed (these
     * are also counted as connect errors) */
    uint64_t tls_full, tls_resumed, tls_fail;
} tpb_counts;

typedef struct tpb_stats { /* what a run produces */
    tpb_counts c;
    tpb_hist lat, lat_unc, connect, ttfb;
    tpb_hist tls_full, tls_resumed; /* handshake times, after the connect */
} tpb_stats;

struct tpb_run;

typedef struct tpb_worker {
    struct tpb_run *run;
    int index;
    pthread_t th;
    tpb_stats local;     /* thread-private until joined */
    pthread_mutex_t lk;  /* guards `shared` */
    tpb_counts shared;   /* snapshot of local.c */
    tpb_hist shared_ivl; /* latencies since the last tick */
} tpb_worker;

typedef struct tpb_run {
    const tpb_opts *o;
    tpb_payload payload;
    struct sockaddr_storage addr;
    socklen_t addrlen;
    double rate;                 /* request rate for this run (0 = closed) */
    uint64_t t0, m_start, m_end; /* monotonic ns: start, measured window */
    tpb_worker *w;
    int nw;
    int stop; /* atomic: ask threads to end now */
    /* TLS (bench/tls.c): the client context (NULL without --tls), the
     * server name sent and the one verified, and the first failure's
     * reason (set once, by whichever thread fails first). */
    void *tls_ctx;
    const char *tls_sni, *tls_verify;
    char tls_host[256];
    int tls_reason_set;
    char tls_reason[256];
} tpb_run;

uint64_t tpb_now(void);
/* Resolve o->target into run->addr; 0, or -1 with a message in err. */
int tpb_resolve(tpb_run *run, char *err, size_t n);
/* Connect once, blocking with a timeout, to fail early with a clear message. */
int tpb_probe(const tpb_run *run, char *err, size_t n);
int tpb_run_start(tpb_run *run, const tpb_opts *o, double rate);
/* Collect what the threads published since the last call. */
void tpb_run_tick(tpb_run *run, tpb_counts *sum, tpb_hist *ivl);
/* Wait for the threads, merge their stats into out, free the run. */
void tpb_run_join(tpb_run *run, tpb_stats *out);
void tpb_stats_merge(tpb_stats *dst, const tpb_stats *src);
void tpb_stats_init(tpb_stats *s);
const char *tpb_ekind_name(int k);
/* Raise RLIMIT_NOFILE to the hard limit; returns the new soft limit. */
long tpb_raise_nofile(void);
#endif
