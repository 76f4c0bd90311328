/* SPDX-License-Identifier: MIT */
/* hist: log-linear histogram buckets, percentiles and merging. See hist.h
 * for the shape and its error bound (<= 1/256 of the value). */
#include "hist.h"

#include <string.h>

#include "loglin.h" /* the bucket arithmetic, shared with the library */

void tpb_hist_init(tpb_hist *h)
{
    memset(h, 0, sizeof *h);
    h->min = UINT64_MAX;
}

size_t tpb_hist_index(uint64_t ns)
{
    return tps__loglin_index(ns > HIST_MAX_NS ? HIST_MAX_NS : ns, HIST_SUB_BITS);
}

uint64_t tpb_hist_lo(size_t idx)
{
    return tps__loglin_lo(idx, HIST_SUB_BITS);
}

uint64_t tpb_hist_hi(size_t idx)
{
    return tps__loglin_lo(idx, HIST_SUB_BITS) + tps__loglin_width(idx, HIST_SUB_BITS) - 1;
}

uint64_t tpb_hist_mid(size_t idx)
{
    uint64_t lo = tpb_hist_lo(idx);
    return lo + (tpb_hist_hi(idx) - lo) / 2;
}

void tpb_hist_record_n(tpb_hist *h, uint64_t ns, uint64_t n)
{
    if (n == 0)
        return;
    if (ns > HIST_MAX_NS)
        h->clamped += n;
    h->b[tpb_hist_index(ns)] += n;
    h->count += n;
    h->sum += (double)ns * (double)n;
    if (ns < h->min)
        h->min = ns;
    if (ns > h->max)
        h->max = ns;
}

void tpb_hist_record(tpb_hist *h, uint64_t ns)
{
    tpb_hist_record_n(h, ns, 1);
}

void tpb_hist_merge(tpb_hist *dst, const tpb_hist *src)
{
    if (src->count == 0)
        return;
    for (size_t i = 0; i < HIST_BUCKETS; i++)
        dst->b[i] += src->b[i];
    dst->count += src->count;
    dst->sum += src->sum;
    dst->clamped += src->clamped;
    if (src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
}

uint64_t tpb_hist_pct(const tpb_hist *h, double p)
{
    if (h->count == 0)
        return 0;
    if (p >= 100.0)
        return h->max;
    uint64_t rank = (uint64_t)(p / 100.0 * (double)h->count + 0.999999);
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (size_t i = 0; i < HIST_BUCKETS; i++) {
        seen += h->b[i];
        if (seen >= rank) {
            uint64_t v = tpb_hist_mid(i);
            return v < h->min ? h->min : v > h->max ? h->max : v;
        }
    }
    return h->max;
}

double tpb_hist_mean(const tpb_hist *h)
{
    return h->count ? h->sum / (double)h->count : 0.0;
}
