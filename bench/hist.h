/* SPDX-License-Identifier: MIT */
/* hist: a log-linear latency histogram (HdrHistogram's idea, fixed shape).
 * Values are nanoseconds. Below 2^HIST_SUB_BITS+1 every value has its own
 * bucket; above, each power of two is cut into 2^HIST_SUB_BITS buckets, so
 * a bucket is at most 1/128 of its value wide and the midpoint we report is
 * within 0.4% of any value in it. Values past HIST_MAX_NS (about 18 min)
 * are clamped into the last bucket and flagged by `clamped`. A histogram
 * belongs to one thread; merging is done by the owner of the destination. */
#ifndef TPB_HIST_H
#define TPB_HIST_H
#include <stddef.h>
#include <stdint.h>

#define HIST_SUB_BITS  7
#define HIST_SUB       (1u << HIST_SUB_BITS) /* 128 */
#define HIST_MAX_SHIFT 34                    /* 2^(34+8) ns ~ 73 min */
#define HIST_BUCKETS   ((HIST_MAX_SHIFT + 2) * HIST_SUB)
#define HIST_MAX_NS    ((UINT64_C(1) << (HIST_MAX_SHIFT + HIST_SUB_BITS + 1)) - 1)

typedef struct tpb_hist {
    uint64_t count;
    uint64_t min, max; /* exact, ns */
    double sum;        /* for the mean */
    uint64_t clamped;
    uint64_t b[HIST_BUCKETS];
} tpb_hist;

void tpb_hist_init(tpb_hist *h);
void tpb_hist_record(tpb_hist *h, uint64_t ns);
void tpb_hist_record_n(tpb_hist *h, uint64_t ns, uint64_t n);
void tpb_hist_merge(tpb_hist *dst, const tpb_hist *src);
/* Value (ns) at percentile p in [0,100]: the midpoint of the bucket that
 * holds the ceil(p/100*count)-th value, clamped into [min, max]. */
uint64_t tpb_hist_pct(const tpb_hist *h, double p);
double tpb_hist_mean(const tpb_hist *h);
/* Bucket index <-> value range, for the sparse JSON encoding. */
size_t tpb_hist_index(uint64_t ns);
uint64_t tpb_hist_lo(size_t idx);
uint64_t tpb_hist_hi(size_t idx);
uint64_t tpb_hist_mid(size_t idx);
#endif
