/* SPDX-License-Identifier: MIT */
/* hist.h - the library's latency histograms: log-linear buckets of
 * nanoseconds (HdrHistogram's shape: every power of two cut into
 * 2^TPS__HIST_SUB_BITS buckets, so a reported value is within 1/32 of the
 * truth), written by one thread at a time, read by any (relaxed atomics). */
#ifndef TPS_HIST_H
#define TPS_HIST_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define TPS__HIST_SUB_BITS 4
#define TPS__HIST_SUB      (1u << TPS__HIST_SUB_BITS)
#define TPS__HIST_TOP      42 /* 2^42 ns, 73 minutes: longer ones share the last bucket */
#define TPS__HIST_BUCKETS  ((TPS__HIST_TOP - TPS__HIST_SUB_BITS + 1) * TPS__HIST_SUB)

typedef struct tps__hist {
    _Atomic uint64_t count, max;
    _Atomic uint64_t b[TPS__HIST_BUCKETS];
} tps__hist;

/* Only the histogram's writer calls this (one thread at a time). */
void tps__hist_record(tps__hist *h, uint64_t ns);

/* Merge n histograms into counts (TPS__HIST_BUCKETS) and return the value
 * at percentile p (0..100) of the merge; 0 if empty. */
uint64_t tps__hist_pct(const tps__hist *const *hs, size_t n, double p);

/* Monotonic clock in nanoseconds (vDSO: no system call). */
uint64_t tps__now_ns(void);

#endif
