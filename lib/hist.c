/* SPDX-License-Identifier: MIT */
/* hist.c - log-linear latency histograms (see hist.h). */
#include "config.h"

#include <time.h>

#include "hist.h"
#include "loglin.h"

static size_t bucket_of(uint64_t ns)
{
    if (ns >> TPS__HIST_TOP) /* clamped */
        return TPS__HIST_BUCKETS - 1;
    return tps__loglin_index(ns, TPS__HIST_SUB_BITS);
}

/* The middle of bucket i's value range. */
static uint64_t bucket_mid(size_t i)
{
    return tps__loglin_lo(i, TPS__HIST_SUB_BITS) + tps__loglin_width(i, TPS__HIST_SUB_BITS) / 2;
}

static void bump(_Atomic uint64_t *v, uint64_t n)
{
    atomic_store_explicit(v, atomic_load_explicit(v, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

void tps__hist_record(tps__hist *h, uint64_t ns)
{
    bump(&h->b[bucket_of(ns)], 1);
    bump(&h->count, 1);
    if (ns > atomic_load_explicit(&h->max, memory_order_relaxed))
        atomic_store_explicit(&h->max, ns, memory_order_relaxed);
}

uint64_t tps__hist_pct(const tps__hist *const *hs, size_t n, double p)
{
    uint64_t total = 0, max = 0;
    for (size_t k = 0; k < n; k++) {
        total += atomic_load_explicit(&hs[k]->count, memory_order_relaxed);
        uint64_t m = atomic_load_explicit(&hs[k]->max, memory_order_relaxed);
        max = m > max ? m : max;
    }
    if (total == 0)
        return 0;
    if (p >= 100)
        return max;
    uint64_t rank = (uint64_t)(p / 100.0 * (double)total + 0.999999), seen = 0;
    rank = rank == 0 ? 1 : rank;
    for (size_t i = 0; i < TPS__HIST_BUCKETS; i++) {
        for (size_t k = 0; k < n; k++)
            seen += atomic_load_explicit(&hs[k]->b[i], memory_order_relaxed);
        if (seen >= rank) {
            uint64_t mid = bucket_mid(i);
            return mid > max ? max : mid;
        }
    }
    return max; /* counts moved under us: the largest is a fair answer */
}

uint64_t tps__now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
