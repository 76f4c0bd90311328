/* SPDX-License-Identifier: MIT */
/* opts: tpbench's command line (wrk's short flags where they exist) on the
 * common flag driver (common/flags.c), whose grammar of durations, sizes,
 * C escapes (common/escape.c) and targets (common/addr.c) tpserver and
 * tpclient share; here only what is tpbench's own: the table, rates,
 * percentile targets, the rules between options. Usage errors are
 * reported as text; main.c exits 2 on them. */
#include "opts.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/addr.h"
#include "../common/escape.h"
#include "../common/flags.h"
#include "../common/units.h"

static const char usage_head[] =
    "usage: tpbench [options] HOST:PORT | [V6ADDR]:PORT | unix:/path\n"
    "       tpbench merge A.json B.json ...   (merge results of several runs)\n"
    "\n"
    "Modes (--mode): req (request/response, the default); throughput (stream\n"
    "large chunks, default --size 64k --depth 4, report bytes/s); churn (connect,\n"
    "one request, close, repeat: connections/s; on a loopback target from 64\n"
    "sources, 127.0.0.2-65); idle (open -c connections, only --active K send);\n"
    "ramp (open connections at --rate connections/s, each then ping-pongs;\n"
    "reports connect times).\n"
    "\n";
static const char usage_tail[] =
    "\n"
    "T is a duration: a number, maybe with a fraction, and ns, us, ms, s, m or h\n"
    "(no unit = seconds): 10s, 1.5s, 500ms. N for --size and --expect-len is a\n"
    "size: 64, 4k, 1.5M (powers of 1024, whole bytes). STR takes C escapes:\n"
    "\\r \\n \\t \\\\ \\0 \\NNN \\xHH and the rest of tpbench(1)'s list.\n"
    "Exit status: 0 ok, 1 run failed (cannot connect, errors), 2 usage error.\n"
    "JSON fields and methodology: man tpbench. Plots: tpbench-plot FILE.hgrm FILE.jsonl\n"
    "Examples:\n"
    "  tpbench -c 50 -d 10s 127.0.0.1:7000\n"
    "  tpbench -c 50 --request 'PING\\r\\n' --expect '+PONG\\r\\n' 127.0.0.1:6379\n"
    "  tpbench --request 'version\\r\\n' --expect-term '\\r\\n' 127.0.0.1:11211\n"
    "  tpbench -c 100 -R 20000 -d 30s --hist out.hgrm 127.0.0.1:7000\n"
    "  tpbench --tls --tls-ca ca.pem --tls-resume --mode churn -c 4 localhost:7443\n";

void tpb_opts_defaults(tpb_opts *o)
{
    memset(o, 0, sizeof *o);
    o->connections = 10;
    o->threads = 1;
    o->depth = 0; /* 0 = mode default */
    o->active = 1;
    o->duration_ns = 10ull * 1000000000ull;
    o->warmup_ns = 1000000000ull;
    o->timeout_ns = 5ull * 1000000000ull;
    o->size = 0; /* 0 = mode default */
}

void tpb_opts_free(tpb_opts *o)
{
    free(o->target);
    free(o->request);
    free(o->expect_buf);
    free(o->hist_file);
    free(o->json_interval_file);
    /* TLS */
    free(o->tls_ca);
    free(o->sni);
    free(o->alpn);
    memset(o, 0, sizeof *o);
}

int tpb_parse_pct_target(const char *s, double *p, uint64_t *ns)
{
    char *end;
    if (*s != 'p' && *s != 'P')
        return -1;
    double v = strtod(s + 1, &end);
    if (end == s + 1 || *end != '=' || v <= 0 || v >= 100)
        return -1;
    long long t;
    if (tpcm_parse_duration(end + 1, TPCM_NS, &t) < 0 || t == 0)
        return -1;
    *ns = (uint64_t)t;
    *p = v;
    return 0;
}

const char *tpb_mode_name(enum tpb_mode m)
{
    static const char *const names[] = {"req", "throughput", "churn", "idle", "ramp"};
    return names[m];
}

static int fail(char *err, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, n, fmt, ap);
    va_end(ap);
    return -1;
}

static int set_rate(void *base, const struct tpcm_flag *f, const char *a, char *why, size_t n)
{
    tpb_opts *o = base;
    char *end;
    (void)f;
    o->rate = strtod(a, &end);
    if (end == a || *end || !(o->rate > 0) || o->rate > 1e9)
        return fail(why, n, "invalid rate '%s' (requests/s > 0)", a);
    return 0;
}

/* Decoded C escapes into a new buffer; *buf is freed and replaced. */
static int unescape_into(char **buf, size_t *len, const char *a, char *why, size_t n)
{
    char *out;
    size_t olen;
    char e[128];
    if (tpcm_unescape(a, &out, &olen, e, sizeof e) < 0)
        return fail(why, n, "invalid value '%s': %s", a, e);
    if (olen == 0) {
        free(out);
        return fail(why, n, "empty value '%s'", a);
    }
    free(*buf);
    *buf = out;
    *len = olen;
    return 0;
}

static int set_request(void *base, const struct tpcm_flag *f, const char *a, char *why, size_t n)
{
    tpb_opts *o = base;
    (void)f;
    return unescape_into(&o->request, &o->request_len, a, why, n);
}

/* --expect, --expect-len, --expect-term: one of them (f->id says which). */
static int set_expect(void *base, const struct tpcm_flag *f, const char *a, char *why, size_t n)
{
    tpb_opts *o = base;
    if (o->expect != TPB_EXPECT_ECHO)
        return fail(why, n, "only one of --expect, --expect-len, --expect-term");
    if (f->id == TPB_EXPECT_LEN) {
        long long v;
        int rc = tpcm_parse_size(a, &v);
        if (rc < 0 || v < 1 || v > (1LL << 40))
            return fail(why, n, "invalid length '%s' (1..1T bytes, e.g. 64, 4k)", a);
        o->expect_len = (size_t)v;
    } else if (unescape_into(&o->expect_buf, &o->expect_blen, a, why, n) < 0) {
        return -1;
    }
    o->expect = (enum tpb_expect)f->id;
    return 0;
}

static int set_file(void *base, const struct tpcm_flag *f, const char *a, char *why, size_t n)
{
    char **slot = (char **)((char *)base + f->off);
    free(*slot);
    *slot = strdup(a);
    return *slot ? 0 : fail(why, n, "out of memory");
}

static int set_sni(void *base, const struct tpcm_flag *f, const char *a, char *why, size_t n)
{
    if (*a == '\0')
        return fail(why, n, "empty server name");
    return set_file(base, f, a, why, n);
}

static int set_max_rate(void *base, const struct tpcm_flag *f, const char *a, char *why, size_t n)
{
    tpb_opts *o = base;
    (void)f;
    if (tpb_parse_pct_target(a, &o->max_rate_p, &o->max_rate_ns) < 0)
        return fail(why, n, "invalid target '%s' (e.g. p99=2ms)", a);
    return 0;
}

/* The one target: its syntax is common/addr.c's (tpbench resolves it
 * later, in net.c); a client needs a host and a port 1..65535. */
static int set_target(void *base, const char *a, char *why, size_t n)
{
    tpb_opts *o = base;
    struct tpcm_addr addr;
    const char *e;
    if (o->target != NULL)
        return fail(why, n, "one target expected, got extra '%s'", a);
    if (tpcm_addr_parse(a, 0, &addr, &e) < 0)
        return fail(why, n, "invalid target '%s': %s", a, e);
    if (addr.kind == TPCM_ADDR_INET && addr.port < 1)
        return fail(why, n, "invalid target '%s': port must be 1..65535", a);
    o->target = strdup(a);
    return o->target ? 0 : fail(why, n, "out of memory");
}

static const char *const mode_names[] = {"req", "throughput", "churn", "idle", "ramp", NULL};

#define AT(member) TPCM_AT(tpb_opts, member)
#define NS_MAX     1000000000000000000LL /* 1e18 ns: 31 years */

static const struct tpcm_flag table[] = {
    {.name = "connections", .letter = 'c', .value_name = "N", .type = TPCM_COUNT,
     AT(connections), .min = 1, .max = 1000000, .help = "connections to open (default 10)"},
    {.name = "threads", .letter = 't', .value_name = "N", .type = TPCM_COUNT, AT(threads),
     .min = 1, .max = 1024, .help = "threads, each with its own epoll loop (default 1)"},
    {.name = "duration", .letter = 'd', .value_name = "T", .type = TPCM_DURATION,
     AT(duration_ns), .min = 1, .max = NS_MAX, .res_ns = TPCM_NS,
     .help = "measured time: 10s, 2m, 500ms (default 10s)"},
    {.name = "warmup", .letter = 'w', .value_name = "T", .type = TPCM_DURATION, AT(warmup_ns),
     .min = 0, .max = NS_MAX, .res_ns = TPCM_NS, .help = "unmeasured time before it (default 1s)"},
    {.name = "depth", .letter = 'D', .value_name = "N", .type = TPCM_COUNT, AT(depth), .min = 1,
     .max = 65536, .help = "requests in flight per connection (default 1 = ping-pong)"},
    {.name = "rate", .letter = 'R', .value_name = "R", .type = TPCM_CALL, .call = set_rate,
     .help = "open loop: constant total rate R requests/s, latency measured from when each "
             "request SHOULD have been sent (coordinated-omission corrected); uncorrected "
             "shown too"},
    {.name = "timeout", .value_name = "T", .type = TPCM_DURATION, AT(timeout_ns), .min = 1,
     .max = NS_MAX, .res_ns = TPCM_NS, .help = "a reply later than this is an error (default 5s)"},
    {.name = "mode", .value_name = "MODE", .type = TPCM_CHOICE, AT(mode), .choices = mode_names,
     .help = "req, throughput, churn, idle or ramp (above)"},
    {.name = "active", .value_name = "K", .type = TPCM_COUNT, AT(active), .min = 0,
     .max = 1000000, .help = "active connections in idle mode (default 1)"},
    {.name = "size", .letter = 's', .value_name = "N", .type = TPCM_SIZE, AT(size), .min = 1,
     .max = 1LL << 40,
     .help = "echo payload bytes (default 64; 4k, 1.5M accepted). Every payload carries "
             "connection id + sequence number and each echoed byte is verified: corrupt, "
             "reordered and cross-connection bytes are counted as errors"},
    {.name = "request", .value_name = "STR", .type = TPCM_CALL, .call = set_request,
     .bits = TPCM_DASH_OK, .help = "send STR (C escapes: \\r \\n \\t \\0 \\xHH) instead of echo"},
    {.name = "expect", .value_name = "STR", .type = TPCM_CALL, .call = set_expect,
     .bits = TPCM_DASH_OK, .id = TPB_EXPECT_EXACT,
     .help = "... and expect exactly STR back (default: STR itself)"},
    {.name = "expect-len", .value_name = "N", .type = TPCM_CALL, .call = set_expect,
     .id = TPB_EXPECT_LEN, .help = "... or expect any reply of N bytes"},
    {.name = "expect-term", .value_name = "STR", .type = TPCM_CALL, .call = set_expect,
     .bits = TPCM_DASH_OK, .id = TPB_EXPECT_TERM,
     .help = "... or any reply ending with STR (e.g. '\\r\\n')"},
    {.name = "json", .type = TPCM_BOOL, AT(json),
     .help = "print one JSON object (fields: man tpbench)"},
    {.name = "hist", .value_name = "FILE", .type = TPCM_CALL, .call = set_file, AT(hist_file),
     .help = "write the latency percentile distribution (HdrHistogram text format) for "
             "tpbench-plot; open loop also writes FILE.uncorrected"},
    {.name = "json-interval", .value_name = "FILE", .type = TPCM_CALL, .call = set_file,
     AT(json_interval_file), .help = "one JSON line per second (rate, errors, p50, p99)"},
    {.name = "quiet", .letter = 'q', .type = TPCM_BOOL, AT(quiet),
     .help = "no progress line (it is only shown on a terminal)"},
    {.name = "max-rate-under", .value_name = "pNN=T", .type = TPCM_CALL, .call = set_max_rate,
     .help = "find the highest open-loop rate whose pNN stays under T (e.g. p99=2ms), by "
             "short runs of -d each"},
    {.name = "busy-poll", .value_name = "T", .type = TPCM_DURATION, AT(busy_poll_ns), .min = 0,
     .max = 1000000000LL, .res_ns = TPCM_NS, /* past 1 s it is a spin, not a poll */
     .help = "each thread polls for T (0..1s, e.g. 50us) before it sleeps, so that replies "
             "do not wait for tpbench's own wakeup (costs a core per thread)"},
    /* TLS (the work is in bench/tls.c; files and ALPN are checked there) */
    {.name = "tls", .type = TPCM_BOOL, AT(tls),
     .help = "speak TLS; the server's certificate must verify and match HOST (or --sni). "
             "Handshake times are reported apart from request latency"},
    {.name = "tls-ca", .value_name = "FILE", .type = TPCM_CALL, .call = set_file, AT(tls_ca),
     .help = "trust the CAs in FILE (PEM), not the system's"},
    {.name = "insecure", .type = TPCM_BOOL, AT(insecure),
     .help = "do not verify the server's certificate"},
    {.name = "sni", .value_name = "NAME", .type = TPCM_CALL, .call = set_sni, AT(sni),
     .help = "server name to send and verify (default: HOST, unless it is an IP address)"},
    {.name = "alpn", .value_name = "LIST", .type = TPCM_CALL, .call = set_file, AT(alpn),
     .help = "offer these ALPN protocols, e.g. h2,http/1.1"},
    {.name = "tls-resume", .type = TPCM_BOOL, AT(tls_resume),
     .help = "reconnections (churn, or after an error) resume the connection's last session "
             "(TLS 1.3 ticket): full and resumed handshakes are reported apart"},
    {.name = "help", .letter = 'h', .type = TPCM_BOOL, AT(help), .help = "this text"},
    {.name = "version", .letter = 'V', .type = TPCM_BOOL, AT(version), .help = "the version"},
};
#define NTABLE (sizeof table / sizeof table[0])

void tpb_print_usage(FILE *f)
{
    fputs(usage_head, f);
    tpcm_flags_help(table, NTABLE, f);
    fputs(usage_tail, f);
}

const char *tpb_opts_flag(size_t i, char *short_name)
{
    if (i >= NTABLE)
        return NULL;
    *short_name = table[i].letter;
    return table[i].name;
}

/* Mode defaults and cross-option checks, after all flags are read. */
static int finish(tpb_opts *o, char *err, size_t n)
{
    if (!o->depth)
        o->depth = o->mode == TPB_MODE_THROUGHPUT ? 4 : 1;
    if (!o->size)
        o->size = o->mode == TPB_MODE_THROUGHPUT ? 65536 : 64;
    if (o->request && o->size && o->mode == TPB_MODE_THROUGHPUT)
        return fail(err, n, "--mode throughput streams echo payloads; drop --request");
    if (!o->request && o->expect != TPB_EXPECT_ECHO)
        return fail(err, n, "--expect/--expect-len/--expect-term need --request");
    if (o->expect == TPB_EXPECT_TERM && o->expect_blen > 16)
        return fail(err, n, "--expect-term is limited to 16 bytes");
    if (o->size < 16 && !o->request)
        return fail(err, n, "--size must be >= 16 for verified echo payloads (id + sequence)");
    if (o->threads > o->connections)
        o->threads = o->connections;
    if (o->mode == TPB_MODE_IDLE && o->active > o->connections)
        return fail(err, n, "--active %d exceeds --connections %d", o->active, o->connections);
    if (o->max_rate_ns && o->mode != TPB_MODE_REQ)
        return fail(err, n, "--max-rate-under works with --mode req only");
    if (o->rate > 0 && o->mode == TPB_MODE_CHURN)
        return fail(err, n, "--rate is not supported with --mode churn");
    /* TLS */
    if (!o->tls && (o->tls_ca || o->insecure || o->sni || o->alpn || o->tls_resume))
        return fail(err, n, "--tls-ca, --insecure, --sni, --alpn and --tls-resume need --tls");
    if (o->insecure && o->tls_ca)
        return fail(err, n, "--insecure and --tls-ca exclude each other");
    return 0;
}

int tpb_opts_parse(tpb_opts *o, int argc, char **argv, char *err, size_t n)
{
    static const struct tpcm_flags t = {.flag = table, .n = NTABLE, .positional = set_target};
    if (tpcm_flags_parse(&t, o, argc, argv, NULL, err, n) < 0)
        return -1;
    if (o->help || o->version)
        return 0;
    if (o->target == NULL)
        return fail(err, n, "missing target HOST:PORT or unix:/path");
    return finish(o, err, n);
}
