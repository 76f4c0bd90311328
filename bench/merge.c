/* SPDX-License-Identifier: MIT */
/* merge: combine the --json results of several tpbench processes (on one
 * or several machines, run at the same time) into one report. The JSON
 * carries every histogram as a sparse bucket list, so merged percentiles
 * are exact to the histogram's resolution, not averages of percentiles.
 * The reader only understands tpbench's own output: it looks fields up
 * by their (unique) key, it is not a general JSON parser. */
#include "merge.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Position just after `"key":` within [s, end), or NULL. */
static const char *find_key(const char *s, const char *end, const char *key)
{
    char pat[96];
    int pl = snprintf(pat, sizeof pat, "\"%s\":", key);
    for (const char *p = s; p && p + pl <= end; p++) {
        p = memchr(p, '"', (size_t)(end - p));
        if (!p || p + pl > end)
            return NULL;
        if (memcmp(p, pat, (size_t)pl) == 0)
            return p + pl;
    }
    return NULL;
}

static int get_num(const char *s, const char *end, const char *key, double *v)
{
    const char *p = find_key(s, end, key);
    char *e;
    if (!p)
        return -1;
    *v = strtod(p, &e);
    return e == p ? -1 : 0;
}

static void get_str(const char *s, const char *end, const char *key, char *out, size_t n)
{
    const char *p = find_key(s, end, key);
    size_t i = 0;
    if (!p || (p = strchr(p, '"')) == NULL)
        return;
    for (p++; *p && *p != '"' && i + 1 < n; p++)
        out[i++] = *p == '\\' && p[1] ? *++p : *p;
    out[i] = '\0';
}

static uint64_t get_u64(const char *s, const char *end, const char *key)
{
    double v = 0;
    get_num(s, end, key, &v);
    return (uint64_t)v;
}

/* Buckets "[[i,c],...]" plus exact min/max/sum from the summary object. */
static int read_hist(tpb_hist *h, const char *s, const char *end, const char *bkey,
                     const char *skey)
{
    const char *p = find_key(s, end, bkey), *o = find_key(s, end, skey);
    if (!p || !o || !(p = strchr(p, '[')))
        return -1;
    const char *oe = strchr(o, '}');
    tpb_hist t;
    tpb_hist_init(&t);
    for (p++; *p && *p != ']';) {
        unsigned long long i, c;
        int used;
        if (sscanf(p, " [%llu,%llu]%n", &i, &c, &used) != 2 || i >= HIST_BUCKETS)
            return -1;
        t.b[i] += c;
        t.count += c;
        p += used;
        while (*p == ',' || *p == ' ')
            p++;
    }
    if (t.count) {
        t.min = get_u64(o, oe, "min_ns");
        t.max = get_u64(o, oe, "max_ns");
        get_num(o, oe, "sum_ns", &t.sum);
    }
    tpb_hist_merge(h, &t);
    return 0;
}

static void read_counts(tpb_counts *c, const char *s, const char *e)
{
    static const char *const keys[] = {"requests",
                                       "responses",
                                       "bytes_tx",
                                       "bytes_rx",
                                       "connects",
                                       "conn_done",
                                       "open_max",
                                       "tls_handshakes_full",
                                       "tls_handshakes_resumed",
                                       "tls_handshake_failures"};
    uint64_t *f[] = {&c->requests, &c->responses,   &c->bytes_tx,    &c->bytes_rx,
                     &c->connects, &c->conn_done,   &c->open_max,    &c->tls_full,
                     &c->tls_resumed, &c->tls_fail};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        *f[i] += get_u64(s, e, keys[i]);
    const char *eb = find_key(s, e, "errors_by_kind");
    const char *ee = eb ? strchr(eb, '}') : NULL;
    for (int k = 0; eb && ee && k < TPB_E_COUNT; k++)
        c->errors[k] += get_u64(eb, ee, tpb_ekind_name(k));
}

static void read_meta(tpb_report *r, const char *s, const char *e)
{
    double d = 0, w = 0, rt = 0;
    if (!r->processes) {
        get_str(s, e, "target", r->target, sizeof r->target);
        get_str(s, e, "mode", r->mode, sizeof r->mode);
        get_str(s, e, "payload", r->payload, sizeof r->payload);
        r->depth = (int)get_u64(s, e, "depth");
        r->busy_poll_us = get_u64(s, e, "busy_poll_us");
        r->size = get_u64(s, e, "size");
    }
    r->processes += (int)get_u64(s, e, "processes");
    r->connections += (int)get_u64(s, e, "connections");
    r->threads += (int)get_u64(s, e, "threads");
    get_num(s, e, "duration_s", &d);
    get_num(s, e, "warmup_s", &w);
    get_num(s, e, "rate_target", &rt);
    r->duration_s = d > r->duration_s ? d : r->duration_s;
    r->warmup_s = w > r->warmup_s ? w : r->warmup_s;
    r->rate_target += rt;
    r->open_loop |=
        find_key(s, e, "open_loop") && strncmp(find_key(s, e, "open_loop"), " true", 5) == 0;
}

int tpb_merge_json(tpb_report *r, const char *text, char *err, size_t n)
{
    const char *e = text + strlen(text);
    double fmt = 0;
    double bits = 0;
    if (!find_key(text, e, "tool") || get_num(text, e, "format", &fmt) < 0 || fmt != 1) {
        snprintf(err, n, "not a tpbench --json result (format 1)");
        return -1;
    }
    if (get_num(text, e, "hist_sub_bits", &bits) < 0 || bits != HIST_SUB_BITS) {
        snprintf(err, n, "histogram of another geometry (hist_sub_bits %g, expected %d)", bits,
                 HIST_SUB_BITS);
        return -1;
    }
    read_meta(r, text, e);
    read_counts(&r->s.c, text, e);
    /* TLS figures: in results of tpbench with TLS support only */
    r->tls |= find_key(text, e, "tls") && strncmp(find_key(text, e, "tls"), " true", 5) == 0;
    read_hist(&r->s.tls_full, text, e, "hist_tls_handshake_full", "tls_handshake_full_us");
    read_hist(&r->s.tls_resumed, text, e, "hist_tls_handshake_resumed",
              "tls_handshake_resumed_us");
    if (read_hist(&r->s.lat, text, e, "hist_latency", "latency_us") < 0 ||
        read_hist(&r->s.lat_unc, text, e, "hist_latency_uncorrected", "latency_uncorrected_us") <
            0 ||
        read_hist(&r->s.ttfb, text, e, "hist_ttfb", "ttfb_us") < 0 ||
        read_hist(&r->s.connect, text, e, "hist_connect", "connect_us") < 0) {
        snprintf(err, n, "histogram fields missing or malformed");
        return -1;
    }
    return 0;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, len = 0;
    char *b = malloc(cap);
    size_t got;
    while (b && (got = fread(b + len, 1, cap - len - 1, f)) > 0) {
        len += got;
        if (cap - len < 2) {
            char *nb = realloc(b, cap *= 2);
            if (!nb)
                free(b);
            b = nb;
        }
    }
    fclose(f);
    if (b)
        b[len] = '\0';
    return b;
}

int tpb_merge_main(int argc, char **argv)
{
    int json = 0, first = 1;
    char err[256];
    if (argc > 1 && strcmp(argv[1], "--json") == 0)
        json = 1, first = 2;
    if (argc - first < 1) {
        fprintf(stderr, "usage: tpbench merge [--json] A.json B.json ...\n");
        return 2;
    }
    tpb_report *r = tpb_report_new();
    for (int i = first; r && i < argc; i++) {
        char *t = slurp(argv[i]);
        if (!t || tpb_merge_json(r, t, err, sizeof err) < 0) {
            fprintf(stderr, "tpbench merge: %s: %s\n", argv[i], t ? err : "cannot read");
            free(t);
            free(r);
            return 1;
        }
        free(t);
    }
    if (!r)
        return 1;
    if (json)
        tpb_report_json(stdout, r);
    else
        tpb_report_text(stdout, r);
    free(r);
    return 0;
}
