/* SPDX-License-Identifier: MIT */
/* loglin.h - the bucket arithmetic of a log-linear histogram
 * (HdrHistogram's shape), shared by the library's histograms (lib/hist.c)
 * and tpbench's (bench/hist.c), which differ only in precision. Values
 * below 2^sub_bits have a bucket each; above, each power of two is cut
 * into 2^sub_bits equal buckets. Header-only, no state. */
#ifndef TPS_LOGLIN_H
#define TPS_LOGLIN_H

#include <stddef.h>
#include <stdint.h>

static inline size_t tps__loglin_index(uint64_t v, unsigned sub_bits)
{
    uint64_t sub = UINT64_C(1) << sub_bits;
    if (v < sub)
        return (size_t)v;
    unsigned shift = 63u - (unsigned)__builtin_clzll(v) - sub_bits;
    return (size_t)((shift + 1) * sub + (v >> shift) - sub);
}

/* The smallest value in bucket idx, and how many values it holds. */
static inline uint64_t tps__loglin_lo(size_t idx, unsigned sub_bits)
{
    size_t sub = (size_t)1 << sub_bits;
    if (idx < sub)
        return idx;
    unsigned shift = (unsigned)(idx / sub) - 1;
    return (uint64_t)(sub + idx % sub) << shift;
}

static inline uint64_t tps__loglin_width(size_t idx, unsigned sub_bits)
{
    size_t sub = (size_t)1 << sub_bits;
    return idx < sub ? 1 : UINT64_C(1) << (idx / sub - 1);
}

#endif
