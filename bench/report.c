/* SPDX-License-Identifier: MIT */
/* report: summary text, JSON, percentile files (see report.h). */
#include "report.h"

#include <stdlib.h>
#include <string.h>

static const double pcts[] = {50, 90, 99, 99.9, 99.99};
static const char *const pct_keys[] = {"p50", "p90", "p99", "p99_9", "p99_99"};

tpb_report *tpb_report_new(void)
{
    tpb_report *r = calloc(1, sizeof *r);
    if (r)
        tpb_stats_init(&r->s);
    return r;
}

static void payload_desc(char *b, size_t n, const tpb_opts *o)
{
    static const char *const how[] = {"echo", "exact reply", "reply length", "reply terminator"};
    if (!o->request)
        snprintf(b, n, "%zu B echo, verified", o->size);
    else
        snprintf(b, n, "%zu B request, %s", o->request_len, how[o->expect]);
}

void tpb_report_fill(tpb_report *r, const tpb_opts *o, double rate, const tpb_stats *s)
{
    snprintf(r->target, sizeof r->target, "%s", o->target);
    snprintf(r->mode, sizeof r->mode, "%s", tpb_mode_name(o->mode));
    payload_desc(r->payload, sizeof r->payload, o);
    r->connections = o->connections;
    r->threads = o->threads;
    r->depth = o->depth;
    r->busy_poll_us = o->busy_poll_ns / 1000;
    r->processes = 1;
    r->open_loop = rate > 0;
    r->rate_target = rate;
    r->duration_s = (double)o->duration_ns / 1e9;
    r->warmup_s = (double)o->warmup_ns / 1e9;
    r->size = o->size;
    r->tls = o->tls;
    r->s = *s;
}

uint64_t tpb_report_errors(const tpb_counts *c)
{
    uint64_t t = 0;
    for (int k = 0; k < TPB_E_COUNT; k++)
        t += c->errors[k];
    return t;
}

double tpb_report_rate(const tpb_report *r)
{
    return r->duration_s > 0 ? (double)r->s.c.responses / r->duration_s : 0;
}

static void text_hist_row(FILE *f, const char *name, const tpb_hist *h)
{
    if (!h->count)
        return;
    fprintf(f, "  %-22s", name);
    for (size_t i = 0; i < sizeof pcts / sizeof pcts[0]; i++)
        fprintf(f, " %9.1f", (double)tpb_hist_pct(h, pcts[i]) / 1e3);
    fprintf(f, " %9.1f %9.1f %10llu\n", (double)h->max / 1e3, tpb_hist_mean(h) / 1e3,
            (unsigned long long)h->count);
}

static void text_errors(FILE *f, const tpb_counts *c)
{
    fprintf(f, "  errors %llu", (unsigned long long)tpb_report_errors(c));
    for (int k = 0; k < TPB_E_COUNT; k++)
        if (c->errors[k])
            fprintf(f, "  %s %llu", tpb_ekind_name(k), (unsigned long long)c->errors[k]);
    fputc('\n', f);
}

void tpb_report_text(FILE *f, const tpb_report *r)
{
    const tpb_counts *c = &r->s.c;
    double d = r->duration_s;
    fprintf(f, "tpbench %s: mode %s, %s, %d connections, %d threads, depth %d, %s", r->target,
            r->mode, r->open_loop ? "open loop" : "closed loop", r->connections, r->threads,
            r->depth, r->payload);
    if (r->open_loop)
        fprintf(f, ", target %.0f req/s", r->rate_target);
    if (r->busy_poll_us)
        fprintf(f, ", busy-poll %llu us", (unsigned long long)r->busy_poll_us);
    if (r->processes > 1)
        fprintf(f, ", merged from %d processes", r->processes);
    fprintf(f, "\n  %.2f s measured after %.2f s warm-up\n", d, r->warmup_s);
    fprintf(f, "  %llu responses, %.1f req/s, in %.2f MB/s, out %.2f MB/s\n",
            (unsigned long long)c->responses, tpb_report_rate(r), (double)c->bytes_rx / d / 1e6,
            (double)c->bytes_tx / d / 1e6);
    fprintf(f,
            "  connections: %llu connects, %llu closed after one request (%.1f conn/s), max open "
            "%llu\n",
            (unsigned long long)c->connects, (unsigned long long)c->conn_done,
            (double)c->conn_done / d, (unsigned long long)c->open_max);
    if (r->tls)
        fprintf(f,
                "  TLS: %llu handshakes, %llu full, %llu resumed; %llu failed (counted as "
                "connect errors)\n",
                (unsigned long long)(c->tls_full + c->tls_resumed),
                (unsigned long long)c->tls_full, (unsigned long long)c->tls_resumed,
                (unsigned long long)c->tls_fail);
    text_errors(f, c);
    fprintf(f, "  %-22s %9s %9s %9s %9s %9s %9s %9s %10s\n", "times in us", "p50", "p90", "p99",
            "p99.9", "p99.99", "max", "mean", "count");
    text_hist_row(f, r->open_loop ? "latency (corrected)" : "latency", &r->s.lat);
    text_hist_row(f, "latency (uncorrected)", &r->s.lat_unc);
    text_hist_row(f, "time to first byte", &r->s.ttfb);
    text_hist_row(f, "connect", &r->s.connect);
    text_hist_row(f, "TLS handshake (full)", &r->s.tls_full);
    text_hist_row(f, "TLS handshake (resumed)", &r->s.tls_resumed);
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

static void json_summary(FILE *f, const char *key, const tpb_hist *h)
{
    fprintf(f, ",\n  \"%s\": {\"count\": %llu, \"min\": %.3f, \"mean\": %.3f", key,
            (unsigned long long)h->count, h->count ? (double)h->min / 1e3 : 0.0,
            tpb_hist_mean(h) / 1e3);
    for (size_t i = 0; i < sizeof pcts / sizeof pcts[0]; i++)
        fprintf(f, ", \"%s\": %.3f", pct_keys[i], (double)tpb_hist_pct(h, pcts[i]) / 1e3);
    fprintf(f, ", \"max\": %.3f, \"sum_ns\": %.0f, \"min_ns\": %llu, \"max_ns\": %llu}",
            (double)h->max / 1e3, h->sum, (unsigned long long)(h->count ? h->min : 0),
            (unsigned long long)h->max);
}

static void json_buckets(FILE *f, const char *key, const tpb_hist *h)
{
    fprintf(f, ",\n  \"%s\": [", key);
    int first = 1;
    for (size_t i = 0; i < HIST_BUCKETS; i++)
        if (h->b[i]) {
            fprintf(f, "%s[%zu,%llu]", first ? "" : ",", i, (unsigned long long)h->b[i]);
            first = 0;
        }
    fputc(']', f);
}

static void json_counts(FILE *f, const tpb_report *r)
{
    const tpb_counts *c = &r->s.c;
    double d = r->duration_s;
    fprintf(f, ",\n  \"requests\": %llu, \"responses\": %llu, \"rate_rps\": %.3f",
            (unsigned long long)c->requests, (unsigned long long)c->responses, tpb_report_rate(r));
    fprintf(f, ",\n  \"bytes_tx\": %llu, \"bytes_rx\": %llu, \"throughput_rx_Bps\": %.1f",
            (unsigned long long)c->bytes_tx, (unsigned long long)c->bytes_rx,
            (double)c->bytes_rx / d);
    fprintf(f,
            ",\n  \"connects\": %llu, \"conn_done\": %llu, \"conn_rate\": %.3f, \"open_max\": %llu",
            (unsigned long long)c->connects, (unsigned long long)c->conn_done,
            (double)c->conn_done / d, (unsigned long long)c->open_max);
    fprintf(f, ",\n  \"errors\": %llu, \"errors_by_kind\": {",
            (unsigned long long)tpb_report_errors(c));
    for (int k = 0; k < TPB_E_COUNT; k++)
        fprintf(f, "%s\"%s\": %llu", k ? ", " : "", tpb_ekind_name(k),
                (unsigned long long)c->errors[k]);
    fputc('}', f);
    fprintf(f,
            ",\n  \"tls\": %s, \"tls_handshakes_full\": %llu, \"tls_handshakes_resumed\": %llu, "
            "\"tls_handshake_failures\": %llu",
            r->tls ? "true" : "false", (unsigned long long)c->tls_full,
            (unsigned long long)c->tls_resumed, (unsigned long long)c->tls_fail);
}

void tpb_report_json(FILE *f, const tpb_report *r)
{
    fprintf(f, "{\"tool\": \"tpbench\", \"format\": 1,\n  \"target\": ");
    json_str(f, r->target);
    fprintf(f, ", \"mode\": ");
    json_str(f, r->mode);
    fprintf(f, ", \"payload\": ");
    json_str(f, r->payload);
    fprintf(f,
            ",\n  \"connections\": %d, \"threads\": %d, \"depth\": %d, \"size\": %llu, "
            "\"processes\": %d, \"busy_poll_us\": %llu",
            r->connections, r->threads, r->depth, (unsigned long long)r->size, r->processes,
            (unsigned long long)r->busy_poll_us);
    fprintf(
        f,
        ",\n  \"open_loop\": %s, \"rate_target\": %.3f, \"duration_s\": %.6f, \"warmup_s\": %.6f",
        r->open_loop ? "true" : "false", r->rate_target, r->duration_s, r->warmup_s);
    json_counts(f, r);
    json_summary(f, "latency_us", &r->s.lat);
    json_summary(f, "latency_uncorrected_us", &r->s.lat_unc);
    json_summary(f, "ttfb_us", &r->s.ttfb);
    json_summary(f, "connect_us", &r->s.connect);
    json_summary(f, "tls_handshake_full_us", &r->s.tls_full);
    json_summary(f, "tls_handshake_resumed_us", &r->s.tls_resumed);
    fprintf(f, ",\n  \"hist_unit\": \"ns\", \"hist_sub_bits\": %d", HIST_SUB_BITS);
    json_buckets(f, "hist_latency", &r->s.lat);
    json_buckets(f, "hist_latency_uncorrected", &r->s.lat_unc);
    json_buckets(f, "hist_ttfb", &r->s.ttfb);
    json_buckets(f, "hist_connect", &r->s.connect);
    json_buckets(f, "hist_tls_handshake_full", &r->s.tls_full);
    json_buckets(f, "hist_tls_handshake_resumed", &r->s.tls_resumed);
    fprintf(f, "\n}\n");
}

void tpb_report_hist(FILE *f, const tpb_hist *h)
{
    fprintf(f, "%12s %14s %10s %14s\n\n", "Value", "Percentile", "TotalCount", "1/(1-Percentile)");
    uint64_t seen = 0;
    for (size_t i = 0; i < HIST_BUCKETS && h->count; i++) {
        if (!h->b[i])
            continue;
        seen += h->b[i];
        uint64_t v = tpb_hist_hi(i) < h->max ? tpb_hist_hi(i) : h->max;
        double p = (double)seen / (double)h->count;
        if (seen < h->count)
            fprintf(f, "%12.3f %14.12f %10llu %14.2f\n", (double)v / 1e6, p,
                    (unsigned long long)seen, 1.0 / (1.0 - p));
        else
            fprintf(f, "%12.3f %14.12f %10llu\n", (double)v / 1e6, p, (unsigned long long)seen);
    }
    fprintf(f, "#[Mean    = %12.3f, StdDeviation   = %12.3f]\n", tpb_hist_mean(h) / 1e6, 0.0);
    fprintf(f, "#[Max     = %12.3f, Total count    = %12llu]\n", (double)h->max / 1e6,
            (unsigned long long)h->count);
    fprintf(f, "#[Buckets = %12d, SubBuckets     = %12d]\n", HIST_MAX_SHIFT + 2, HIST_SUB);
}

void tpb_report_interval(FILE *f, double t, const tpb_counts *d, double secs, const tpb_hist *ivl)
{
    fprintf(
        f,
        "{\"t\": %.3f, \"rate_rps\": %.1f, \"responses\": %llu, \"errors\": %llu, "
        "\"rx_Bps\": %.1f, \"open\": %llu, \"p50_us\": %.3f, \"p99_us\": %.3f, \"max_us\": %.3f}\n",
        t, (double)d->responses / secs, (unsigned long long)d->responses,
        (unsigned long long)tpb_report_errors(d), (double)d->bytes_rx / secs,
        (unsigned long long)d->open_now, (double)tpb_hist_pct(ivl, 50) / 1e3,
        (double)tpb_hist_pct(ivl, 99) / 1e3, (double)ivl->max / 1e3);
}
