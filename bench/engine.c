/* SPDX-License-Identifier: MIT */
/* engine: starting, watching and joining the load threads of one run
 * (the per-thread work is in loop.c), and merging their figures. */
#include "engine.h"
#include "loop.h"

#include <stdlib.h>
#include <string.h>

void tpb_stats_init(tpb_stats *s)
{
    memset(&s->c, 0, sizeof s->c);
    tpb_hist_init(&s->lat);
    tpb_hist_init(&s->lat_unc);
    tpb_hist_init(&s->connect);
    tpb_hist_init(&s->ttfb);
    tpb_hist_init(&s->tls_full);
    tpb_hist_init(&s->tls_resumed);
}

static void counts_add(tpb_counts *d, const tpb_counts *s)
{
    d->requests += s->requests;
    d->responses += s->responses;
    d->bytes_tx += s->bytes_tx;
    d->bytes_rx += s->bytes_rx;
    d->connects += s->connects;
    d->conn_done += s->conn_done;
    d->open_now += s->open_now;
    d->open_max += s->open_max;
    d->tls_full += s->tls_full;
    d->tls_resumed += s->tls_resumed;
    d->tls_fail += s->tls_fail;
    for (int k = 0; k < TPB_E_COUNT; k++)
        d->errors[k] += s->errors[k];
}

void tpb_stats_merge(tpb_stats *dst, const tpb_stats *src)
{
    counts_add(&dst->c, &src->c);
    tpb_hist_merge(&dst->lat, &src->lat);
    tpb_hist_merge(&dst->lat_unc, &src->lat_unc);
    tpb_hist_merge(&dst->connect, &src->connect);
    tpb_hist_merge(&dst->ttfb, &src->ttfb);
    tpb_hist_merge(&dst->tls_full, &src->tls_full);
    tpb_hist_merge(&dst->tls_resumed, &src->tls_resumed);
}

const char *tpb_ekind_name(int k)
{
    static const char *const n[TPB_E_COUNT] = {
        "connect", "timeout", "corrupt", "reorder", "cross", "closed", "read", "write", "too_long",
    };
    return k >= 0 && k < TPB_E_COUNT ? n[k] : "?";
}

int tpb_run_start(tpb_run *run, const tpb_opts *o, double rate)
{
    run->o = o;
    run->rate = rate;
    tpb_payload_init(&run->payload, o);
    run->nw = o->threads;
    run->stop = 0;
    run->w = calloc((size_t)run->nw, sizeof *run->w);
    if (!run->w)
        return -1;
    run->t0 = tpb_now();
    run->m_start = run->t0 + o->warmup_ns;
    run->m_end = run->m_start + o->duration_ns;
    for (int i = 0; i < run->nw; i++) {
        tpb_worker *w = &run->w[i];
        w->run = run;
        w->index = i;
        tpb_stats_init(&w->local);
        tpb_hist_init(&w->shared_ivl);
        pthread_mutex_init(&w->lk, NULL);
        if (pthread_create(&w->th, NULL, tpb_loop_main, w) != 0)
            return -1;
    }
    return 0;
}

void tpb_run_tick(tpb_run *run, tpb_counts *sum, tpb_hist *ivl)
{
    memset(sum, 0, sizeof *sum);
    for (int i = 0; i < run->nw; i++) {
        tpb_worker *w = &run->w[i];
        pthread_mutex_lock(&w->lk);
        counts_add(sum, &w->shared);
        tpb_hist_merge(ivl, &w->shared_ivl);
        tpb_hist_init(&w->shared_ivl);
        pthread_mutex_unlock(&w->lk);
    }
}

void tpb_run_join(tpb_run *run, tpb_stats *out)
{
    tpb_stats_init(out);
    for (int i = 0; i < run->nw; i++) {
        pthread_join(run->w[i].th, NULL);
        tpb_stats_merge(out, &run->w[i].local);
        pthread_mutex_destroy(&run->w[i].lk);
    }
    free(run->w);
    run->w = NULL;
}
