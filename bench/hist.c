/* hist: log-linear histogram buckets, percentiles and merging. See hist.h
 * for the shape and its error bound (<= 1/256 of the value). */
#include "hist.h"

#include <string.h>

void tpb_hist_init(tpb_hist *h)
{
    memset(h, 0, sizeof *h);
    h->min = UINT64_MAX;
}

static unsigned log2_u64(uint64_t v)
{
    return 63u - (unsigned)__builtin_clzll(v);
}

size_t tpb_hist_index(uint64_t ns)
{
    if (ns > HIST_MAX_NS)
        ns = HIST_MAX_NS;
    if (ns < 2 * HIST_SUB)
        return (size_t)ns;
    unsigned shift = log2_u64(ns) - HIST_SUB_BITS; /* >= 1 */
    return (size_t)(shift + 1) * HIST_SUB + (size_t)((ns >> shift) - HIST_SUB);
}

uint64_t tpb_hist_lo(size_t idx)
{
    if (idx < 2 * HIST_SUB)
        return idx;
    uint64_t shift = idx / HIST_SUB - 1;
    return (uint64_t)(HIST_SUB + idx % HIST_SUB) << shift;
}

uint64_t tpb_hist_hi(size_t idx)
{
    if (idx < 2 * HIST_SUB)
        return idx;
    uint64_t shift = idx / HIST_SUB - 1;
    return tpb_hist_lo(idx) + ((UINT64_C(1) << shift) - 1);
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
