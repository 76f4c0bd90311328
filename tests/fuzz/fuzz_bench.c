/* SPDX-License-Identifier: MIT */
/* fuzz_bench.c - libFuzzer target for tpbench's user-given values and its
 * reply checking (bench/opts.c, bench/payload.c, and the common parsers
 * under them): --request / --expect / --expect-term escapes
 * (common/escape.c), durations and sizes (common/units.c), the flag driver
 * (common/flags.c), pNN=T targets, the whole argv,
 * then the server's reply bytes fed to the checker the run would build.
 * The input is NUL-separated arguments, then a double NUL, then the reply
 * stream (raw bytes; in echo mode XORed onto valid replies, so that zero
 * bytes mean a correct server).
 * Properties: escapes never grow the text and decode a re-encoding (\ooo)
 * of their output back to it; a duration at a coarser resolution is the
 * finer one rounded up and a bare number means seconds / bytes; a parsed command line is
 * consistent (a target, threads <= connections, a terminator of 1..16
 * bytes); and the reply checker gives the same replies and the same error
 * however the stream is cut into reads (whole, byte by byte, uneven
 * chunks), each reply being exactly what the mode says: the expected
 * bytes, the expected length, or text whose first terminator is its end;
 * echo replies complete exactly where they end and fail in the first
 * reply with a wrong byte. */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "opts.h"
#include "payload.h"
#include "../../common/escape.h"
#include "../../common/units.h"

#define MAX_ARGS   12
#define MAX_STREAM 8192
#define MAX_EVENTS (MAX_STREAM + 2)

static void check_unescape(const char *s)
{
    size_t len = 0, alen = 0;
    char *out = NULL, *again = NULL, why[128];
    if (tpcm_unescape(s, &out, &len, why, sizeof why) < 0) {
        FUZZ_CHECK(strchr(s, '\\') != NULL);
        return;
    }
    FUZZ_CHECK(len <= strlen(s) && out[len] == '\0');
    if (strchr(s, '\\') == NULL)
        FUZZ_CHECK(len == strlen(s) && memcmp(out, s, len) == 0);
    char *enc = malloc(4 * len + 1);
    FUZZ_CHECK(enc != NULL);
    for (size_t i = 0; i < len; i++)
        sprintf(enc + 4 * i, "\\%03o", (unsigned char)out[i]);
    enc[4 * len] = '\0';
    FUZZ_CHECK(tpcm_unescape(enc, &again, &alen, why, sizeof why) == 0);
    FUZZ_CHECK(alen == len && memcmp(again, out, len) == 0);
    free(again);
    free(enc);
    free(out);
}

static void check_values(const char *s)
{
    long long ns = 7, ns2 = 7, us = 7;
    if (tpcm_parse_duration(s, TPCM_NS, &ns) == 0) {
        FUZZ_CHECK(ns >= 0);
        size_t n = strlen(s);
        if (n > 0 && n < 64 && strspn(s, "0123456789") == n) {
            char with[70];
            snprintf(with, sizeof with, "%ss", s);
            FUZZ_CHECK(tpcm_parse_duration(with, TPCM_NS, &ns2) == 0 && ns2 == ns);
        }
        /* Coarser resolution: the same value rounded up, never 0 if not 0. */
        FUZZ_CHECK(tpcm_parse_duration(s, TPCM_US, &us) == 0);
        FUZZ_CHECK(us == ns / 1000 + (ns % 1000 != 0));
    } else {
        FUZZ_CHECK(ns == 7);
    }
    long long sz = 7;
    int rc = tpcm_parse_size(s, &sz);
    if (rc == 0) {
        FUZZ_CHECK(sz >= 0);
        if (strspn(s, "0123456789") == strlen(s))
            FUZZ_CHECK((unsigned long long)sz == strtoull(s, NULL, 10));
    } else {
        FUZZ_CHECK(sz == 7 && (rc == -EINVAL || rc == -ERANGE || rc == -EDOM));
    }
    double p = -1;
    uint64_t pns = 7;
    if (tpb_parse_pct_target(s, &p, &pns) == 0)
        FUZZ_CHECK(p > 0 && p < 100 && pns > 0);
}

/* What feeding a stream gave: each completed reply's end, then how it
 * stopped (0: all bytes taken, or the error). */
struct outcome {
    size_t ends[MAX_EVENTS];
    size_t nends;
    int stop;
};

/* Feed s[0..n) in reads of the sizes cut() picks. */
static void feed(const tpb_payload *p, const char *s, size_t n, size_t (*cut)(size_t, size_t),
                 struct outcome *out)
{
    tpb_rx rx;
    memset(&rx, 0, sizeof rx);
    out->nends = 0;
    out->stop = 0;
    size_t pos = 0;
    for (size_t read_no = 0; pos < n; read_no++) {
        size_t len = cut(read_no, n - pos), at = pos;
        while (at < pos + len) {
            size_t used = 0;
            int r = tpb_payload_feed(p, &rx, 7, s + at, pos + len - at, &used);
            if (r < 0) {
                out->stop = r;
                return;
            }
            FUZZ_CHECK(used <= pos + len - at);
            at += used;
            if (r == 1) {
                FUZZ_CHECK(out->nends < MAX_EVENTS);
                out->ends[out->nends++] = at;
            } else {
                FUZZ_CHECK(at == pos + len); /* 0: everything taken */
            }
            FUZZ_CHECK(used > 0); /* no reply is empty; no read is left unread */
        }
        pos += len;
    }
}

static size_t cut_whole(size_t i, size_t left)
{
    return left;
}
static size_t cut_bytes(size_t i, size_t left)
{
    return 1;
}
static size_t cut_uneven(size_t i, size_t left)
{
    size_t want = 1 + (i * 7919 + 3) % 23;
    return want < left ? want : left;
}

static bool same_outcome(const struct outcome *a, const struct outcome *b)
{
    return a->stop == b->stop && a->nends == b->nends &&
           memcmp(a->ends, b->ends, a->nends * sizeof(a->ends[0])) == 0;
}

/* What each mode promises about the replies it reports. */
static void check_replies(const tpb_payload *p, const char *s, size_t n, const struct outcome *o)
{
    size_t start = 0;
    for (size_t i = 0; i < o->nends; i++) {
        size_t end = o->ends[i], rl = end - start;
        FUZZ_CHECK(end > start && end <= n);
        switch (p->expect) {
        case TPB_EXPECT_EXACT:
            FUZZ_CHECK(rl == p->exp_len && memcmp(s + start, p->exp, rl) == 0);
            break;
        case TPB_EXPECT_LEN:
            FUZZ_CHECK(rl == p->exp_len);
            break;
        case TPB_EXPECT_TERM:
            FUZZ_CHECK(rl >= p->exp_len);
            for (size_t k = start; k + p->exp_len <= end; k++) /* first terminator ends it */
                FUZZ_CHECK((memcmp(s + k, p->exp, p->exp_len) == 0) == (k + p->exp_len == end));
            break;
        case TPB_EXPECT_ECHO:
            FUZZ_CHECK(rl == p->req_len);
            break;
        }
        start = end;
    }
    if (o->stop == 0 && p->expect == TPB_EXPECT_LEN)
        FUZZ_CHECK(n - start < p->exp_len); /* what is left is a partial reply */
}

/* Echo mode: stream = valid replies XOR noise. Replies complete exactly
 * while their noise is zero; the first noisy one fails once it is all in. */
static void check_echo(const tpb_payload *p, const uint8_t *noise, size_t n)
{
    if (p->req_len == 0 || p->req_len > MAX_STREAM)
        return;
    char *s = malloc(n ? n : 1), *req = malloc(p->req_len);
    FUZZ_CHECK(s != NULL && req != NULL);
    for (size_t off = 0, seq = 0; off < n; off += p->req_len, seq++) {
        tpb_payload_request(p, 7, seq, req);
        for (size_t i = 0; i < p->req_len && off + i < n; i++)
            s[off + i] = (char)(req[i] ^ noise[off + i]);
    }
    struct outcome whole, bytes;
    feed(p, s, n, cut_whole, &whole);
    feed(p, s, n, cut_bytes, &bytes);
    FUZZ_CHECK(same_outcome(&whole, &bytes));
    size_t bad = 0;
    while (bad < n && noise[bad] == 0)
        bad++;
    size_t good = bad / p->req_len; /* replies before the first wrong byte */
    FUZZ_CHECK(whole.nends == (bad == n ? n / p->req_len : good));
    for (size_t i = 0; i < whole.nends; i++)
        FUZZ_CHECK(whole.ends[i] == (i + 1) * p->req_len);
    if (bad < n && n >= (good + 1) * p->req_len)
        FUZZ_CHECK(whole.stop < 0);
    free(req);
    free(s);
}

static void check_payload(const tpb_opts *o, const uint8_t *stream, size_t n)
{
    if (n > MAX_STREAM)
        return;
    tpb_payload p;
    tpb_payload_init(&p, o);
    if (p.expect == TPB_EXPECT_ECHO) {
        check_echo(&p, stream, n);
        return;
    }
    if (p.expect != TPB_EXPECT_LEN && p.exp_len == 0)
        return;
    char *s = malloc(n ? n : 1);
    FUZZ_CHECK(s != NULL);
    memcpy(s, stream, n);
    static struct outcome whole, bytes, uneven;
    feed(&p, s, n, cut_whole, &whole);
    feed(&p, s, n, cut_bytes, &bytes);
    feed(&p, s, n, cut_uneven, &uneven);
    FUZZ_CHECK(same_outcome(&whole, &bytes) && same_outcome(&whole, &uneven));
    check_replies(&p, s, n, &whole);
    free(s);
}

static void check_argv(int argc, char **argv, const uint8_t *stream, size_t n)
{
    tpb_opts o;
    char err[512] = "";
    tpb_opts_defaults(&o);
    if (tpb_opts_parse(&o, argc, argv, err, sizeof err) < 0) {
        FUZZ_CHECK(err[0] != '\0');
    } else if (!o.help && !o.version) {
        FUZZ_CHECK(o.target != NULL);
        FUZZ_CHECK(o.threads >= 1 && o.threads <= o.connections);
        FUZZ_CHECK(o.request == NULL || o.request_len > 0);
        if (o.expect == TPB_EXPECT_TERM)
            FUZZ_CHECK(o.expect_blen >= 1 && o.expect_blen <= 16);
        if (o.expect == TPB_EXPECT_EXACT)
            FUZZ_CHECK(o.expect_blen >= 1);
        if (o.expect == TPB_EXPECT_LEN)
            FUZZ_CHECK(o.expect_len >= 1);
        if (o.expect != TPB_EXPECT_ECHO)
            FUZZ_CHECK(o.request != NULL);
        check_payload(&o, stream, n);
    }
    tpb_opts_free(&o);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    if (n > 2 * MAX_STREAM)
        return 0;
    /* Arguments up to the first "\0\0", the reply stream after it. */
    size_t split = n;
    for (size_t i = 0; i + 1 < n; i++)
        if (d[i] == 0 && d[i + 1] == 0) {
            split = i;
            break;
        }
    const uint8_t *stream = split + 2 <= n ? d + split + 2 : d + n;
    size_t slen = (size_t)(d + n - stream);
    char *s = fuzz_str(d, split), *args[MAX_ARGS + 2];
    int k = fuzz_split(s, split, args + 1, MAX_ARGS);
    for (int i = 1; i <= k; i++) {
        check_unescape(args[i]);
        check_values(args[i]);
    }
    static char prog[] = "tpbench";
    args[0] = prog;
    args[k + 1] = NULL;
    check_argv(k + 1, args, stream, slen);
    free(s);
    return 0;
}
