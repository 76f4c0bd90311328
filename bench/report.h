/* SPDX-License-Identifier: MIT */
/* report: turning a run's figures into text for people (summary, live
 * progress) and for tools (JSON object, per-second JSON lines, HdrHistogram
 * style percentile file). Also read back by merge.c, so the JSON field
 * names here are a stable, documented format (bench/README.md). */
#ifndef TPB_REPORT_H
#define TPB_REPORT_H
#include <stdio.h>

#include "engine.h"

typedef struct tpb_report {
    char target[256], mode[32], payload[64];
    int connections, threads, depth, processes, open_loop;
    uint64_t busy_poll_us; /* --busy-poll, 0 = off */
    double rate_target, duration_s, warmup_s;
    uint64_t size;
    int tls; /* --tls: handshake figures are part of the report */
    tpb_stats s;
} tpb_report;

tpb_report *tpb_report_new(void);
void tpb_report_fill(tpb_report *r, const tpb_opts *o, double rate, const tpb_stats *s);
void tpb_report_text(FILE *f, const tpb_report *r);
void tpb_report_json(FILE *f, const tpb_report *r);
/* Percentile distribution, values in milliseconds (HdrHistogram's
 * outputPercentileDistribution layout, one row per non-empty bucket). */
void tpb_report_hist(FILE *f, const tpb_hist *h);
void tpb_report_interval(FILE *f, double t, const tpb_counts *d, double secs, const tpb_hist *ivl);
uint64_t tpb_report_errors(const tpb_counts *c);
double tpb_report_rate(const tpb_report *r);
#endif
