/* SPDX-License-Identifier: MIT */
/* opts: tpbench's command line (wrk's short flags where they exist) and the
 * small value parsers it needs: durations, sizes, C escapes, percentile
 * targets. Usage errors are reported as text; main.c exits 2 on them. */
#include "opts.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char tpb_usage_text[] =
    "usage: tpbench [options] HOST:PORT | [V6ADDR]:PORT | unix:/path\n"
    "       tpbench merge A.json B.json ...   (merge results of several runs)\n"
    "\n"
    "Load:\n"
    "  -c, --connections N   connections to open (default 10)\n"
    "  -t, --threads N       threads, each with its own epoll loop (default 1)\n"
    "  -d, --duration T      measured time: 10s, 2m, 500ms (default 10s)\n"
    "  -w, --warmup T        unmeasured time before it (default 1s)\n"
    "  -D, --depth N         requests in flight per connection (default 1 = ping-pong)\n"
    "  -R, --rate R          open loop: constant total rate R requests/s, latency\n"
    "                        measured from when each request SHOULD have been sent\n"
    "                        (coordinated-omission corrected); uncorrected shown too\n"
    "      --timeout T       a reply later than this is an error (default 5s)\n"
    "Modes (--mode):\n"
    "  req         request/response (default)\n"
    "  throughput  stream large chunks (default --size 64k, --depth 4), report bytes/s\n"
    "  churn       connect, one request, close, repeat: connections/s (on a\n"
    "              loopback target from 64 sources, 127.0.0.2-65)\n"
    "  idle        open -c connections, only --active K send requests (default 1)\n"
    "  ramp        open connections at --rate connections/s (default: at once),\n"
    "              each then ping-pongs; reports connect times\n"
    "      --active K        active connections in idle mode\n"
    "Payload:\n"
    "  -s, --size N          echo payload bytes (default 64; 4k, 1M accepted). Every\n"
    "                        payload carries connection id + sequence number and each\n"
    "                        echoed byte is verified: corrupt, reordered and\n"
    "                        cross-connection bytes are counted as errors\n"
    "      --request STR     send STR (C escapes: \\r \\n \\t \\0 \\xHH) instead of echo\n"
    "      --expect STR      ... and expect exactly STR back (default: STR itself)\n"
    "      --expect-len N    ... or expect any reply of N bytes\n"
    "      --expect-term STR ... or any reply ending with STR (e.g. '\\r\\n')\n"
    "Output:\n"
    "      --json            print one JSON object (fields: man tpbench)\n"
    "      --hist FILE       write the latency percentile distribution (HdrHistogram\n"
    "                        text format) for tpbench-plot; open loop also writes\n"
    "                        FILE.uncorrected\n"
    "      --json-interval FILE  one JSON line per second (rate, errors, p50, p99)\n"
    "  -q, --quiet           no progress line (it is only shown on a terminal)\n"
    "Search:\n"
    "      --max-rate-under pNN=T   find the highest open-loop rate whose pNN stays\n"
    "                        under T (e.g. p99=2ms), by short runs of -d each\n"
    "TLS:\n"
    "      --tls             speak TLS; the server's certificate must verify and\n"
    "                        match HOST (or --sni). Handshake times are reported\n"
    "                        apart from request latency\n"
    "      --tls-ca FILE     trust the CAs in FILE (PEM), not the system's\n"
    "      --insecure        do not verify the server's certificate\n"
    "      --sni NAME        server name to send and verify (default: HOST,\n"
    "                        unless it is an IP address)\n"
    "      --alpn LIST       offer these ALPN protocols, e.g. h2,http/1.1\n"
    "      --tls-resume      reconnections (churn, or after an error) resume the\n"
    "                        connection's last session (TLS 1.3 ticket): full and\n"
    "                        resumed handshakes are reported apart\n"
    "Client:\n"
    "      --busy-poll T     each thread polls for T (e.g. 50us) before it sleeps,\n"
    "                        so that replies do not wait for tpbench's own wakeup\n"
    "                        (costs a core per thread)\n"
    "  -h, --help            this text;  -V, --version  the version\n"
    "\n"
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

int tpb_parse_duration(const char *s, uint64_t *ns)
{
    static const struct {
        const char *sfx;
        double mul;
    } u[] = {
        {"ns", 1}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"", 1e9}, {"m", 60e9}, {"h", 3600e9},
    };
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || v < 0 || !isdigit((unsigned char)*s))
        return -1;
    for (size_t i = 0; i < sizeof u / sizeof u[0]; i++)
        if (strcmp(end, u[i].sfx) == 0) {
            double r = v * u[i].mul;
            if (r > 1e18)
                return -1;
            *ns = (uint64_t)(r + 0.5);
            return 0;
        }
    return -1;
}

int tpb_parse_size(const char *s, size_t *out)
{
    char *end;
    errno = 0;
    if (!isdigit((unsigned char)*s))
        return -1;
    unsigned long long v = strtoull(s, &end, 10);
    unsigned long long mul = 1;
    if (errno)
        return -1;
    if (*end == 'k' || *end == 'K')
        mul = 1024, end++;
    else if (*end == 'm' || *end == 'M')
        mul = 1024 * 1024, end++;
    else if (*end == 'g' || *end == 'G')
        mul = 1024ull * 1024 * 1024, end++;
    if (*end == 'b' || *end == 'B')
        end++;
    if (*end || v > (1ull << 40) / mul)
        return -1;
    *out = (size_t)(v * mul);
    return 0;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* One escape after the backslash at *s; advances *s; -1 if invalid. */
static int unescape_one(const char **s)
{
    static const char from[] = "nrt0\\\"'ae", to[] = "\n\r\t\0\\\"'\a\033";
    const char *p = *s;
    if (*p == 'x' && hexval(p[1]) >= 0) {
        int v = hexval(p[1]);
        p += 2;
        if (hexval(*p) >= 0)
            v = v * 16 + hexval(*p++);
        *s = p;
        return v;
    }
    if (*p >= '0' && *p <= '7' && p[1] >= '0' && p[1] <= '7') {
        int v = 0, n = 0;
        while (n < 3 && *p >= '0' && *p <= '7')
            v = v * 8 + (*p++ - '0'), n++;
        *s = p;
        return v & 0xff;
    }
    const char *hit = *p ? strchr(from, *p) : NULL;
    if (!hit)
        return -1;
    *s = p + 1;
    return (unsigned char)to[hit - from];
}

char *tpb_unescape(const char *s, size_t *len)
{
    char *out = malloc(strlen(s) + 1);
    size_t n = 0;
    if (!out)
        return NULL;
    while (*s) {
        if (*s != '\\') {
            out[n++] = *s++;
            continue;
        }
        s++;
        int c = unescape_one(&s);
        if (c < 0) {
            free(out);
            return NULL;
        }
        out[n++] = (char)c;
    }
    out[n] = '\0';
    *len = n;
    return out;
}

int tpb_parse_pct_target(const char *s, double *p, uint64_t *ns)
{
    char *end;
    if (*s != 'p' && *s != 'P')
        return -1;
    double v = strtod(s + 1, &end);
    if (end == s + 1 || *end != '=' || v <= 0 || v >= 100)
        return -1;
    if (tpb_parse_duration(end + 1, ns) < 0 || *ns == 0)
        return -1;
    *p = v;
    return 0;
}

const char *tpb_mode_name(enum tpb_mode m)
{
    static const char *const names[] = {"req", "throughput", "churn", "idle", "ramp"};
    return names[m];
}

enum {
    O_TIMEOUT = 256,
    O_ACTIVE,
    O_MODE,
    O_REQUEST,
    O_EXPECT,
    O_EXPECT_LEN,
    O_EXPECT_TERM,
    O_JSON,
    O_HIST,
    O_JSON_IVL,
    O_MAX_RATE,
    O_BUSY_POLL,
    /* TLS */
    O_TLS,
    O_TLS_CA,
    O_INSECURE,
    O_SNI,
    O_ALPN,
    O_TLS_RESUME
};

static const char short_opts[] = "c:t:d:w:D:R:s:qhV";
static const struct option long_opts[] = {
    {"connections", required_argument, 0, 'c'},
    {"threads", required_argument, 0, 't'},
    {"duration", required_argument, 0, 'd'},
    {"warmup", required_argument, 0, 'w'},
    {"depth", required_argument, 0, 'D'},
    {"rate", required_argument, 0, 'R'},
    {"size", required_argument, 0, 's'},
    {"quiet", no_argument, 0, 'q'},
    {"help", no_argument, 0, 'h'},
    {"version", no_argument, 0, 'V'},
    {"timeout", required_argument, 0, O_TIMEOUT},
    {"active", required_argument, 0, O_ACTIVE},
    {"mode", required_argument, 0, O_MODE},
    {"request", required_argument, 0, O_REQUEST},
    {"expect", required_argument, 0, O_EXPECT},
    {"expect-len", required_argument, 0, O_EXPECT_LEN},
    {"expect-term", required_argument, 0, O_EXPECT_TERM},
    {"json", no_argument, 0, O_JSON},
    {"hist", required_argument, 0, O_HIST},
    {"json-interval", required_argument, 0, O_JSON_IVL},
    {"max-rate-under", required_argument, 0, O_MAX_RATE},
    {"busy-poll", required_argument, 0, O_BUSY_POLL},
    /* TLS */
    {"tls", no_argument, 0, O_TLS},
    {"tls-ca", required_argument, 0, O_TLS_CA},
    {"insecure", no_argument, 0, O_INSECURE},
    {"sni", required_argument, 0, O_SNI},
    {"alpn", required_argument, 0, O_ALPN},
    {"tls-resume", no_argument, 0, O_TLS_RESUME},
    {0, 0, 0, 0},
};

const char *tpb_opts_flag(size_t i, char *short_name)
{
    if (i >= sizeof long_opts / sizeof long_opts[0] - 1) /* the {0} end */
        return NULL;
    int v = long_opts[i].val;
    *short_name = v > 0 && v < 128 && strchr(short_opts, v) && v != ':' ? (char)v : 0;
    return long_opts[i].name;
}

static int fail(char *err, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, n, fmt, ap);
    va_end(ap);
    return -1;
}

static int parse_int(const char *s, int lo, int hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno || v < lo || v > hi)
        return -1;
    *out = (int)v;
    return 0;
}

static int set_mode(tpb_opts *o, const char *s)
{
    for (int m = TPB_MODE_REQ; m <= TPB_MODE_RAMP; m++)
        if (strcmp(s, tpb_mode_name((enum tpb_mode)m)) == 0) {
            o->mode = (enum tpb_mode)m;
            return 0;
        }
    return -1;
}

static int set_expect(tpb_opts *o, enum tpb_expect e, const char *s)
{
    if (o->expect != TPB_EXPECT_ECHO)
        return -1; /* only one of --expect/--expect-len/--expect-term */
    o->expect = e;
    if (e == TPB_EXPECT_LEN) {
        size_t n;
        if (tpb_parse_size(s, &n) < 0 || n == 0)
            return -1;
        o->expect_len = n;
        return 0;
    }
    o->expect_buf = tpb_unescape(s, &o->expect_blen);
    return o->expect_buf && o->expect_blen > 0 ? 0 : -1;
}

static int parse_rate(const char *a, double *rate)
{
    char *end;
    *rate = strtod(a, &end);
    return end == a || *end || !(*rate > 0) || *rate > 1e9 ? -1 : 0;
}

/* An option with a value; -1 when the value is bad. */
static int apply_value(tpb_opts *o, int c, const char *a)
{
    switch (c) {
    case 'c':
        return parse_int(a, 1, 1000000, &o->connections);
    case 't':
        return parse_int(a, 1, 1024, &o->threads);
    case 'D':
        return parse_int(a, 1, 65536, &o->depth);
    case O_ACTIVE:
        return parse_int(a, 0, 1000000, &o->active);
    case 'd':
        return tpb_parse_duration(a, &o->duration_ns) || !o->duration_ns ? -1 : 0;
    case 'w':
        return tpb_parse_duration(a, &o->warmup_ns);
    case O_TIMEOUT:
        return tpb_parse_duration(a, &o->timeout_ns) || !o->timeout_ns ? -1 : 0;
    case 's':
        return tpb_parse_size(a, &o->size) || o->size < 1 ? -1 : 0;
    case 'R':
        return parse_rate(a, &o->rate);
    case O_MODE:
        return set_mode(o, a);
    case O_REQUEST:
        free(o->request);
        o->request = tpb_unescape(a, &o->request_len);
        return o->request && o->request_len ? 0 : -1;
    case O_EXPECT:
        return set_expect(o, TPB_EXPECT_EXACT, a);
    case O_EXPECT_LEN:
        return set_expect(o, TPB_EXPECT_LEN, a);
    case O_EXPECT_TERM:
        return set_expect(o, TPB_EXPECT_TERM, a);
    case O_HIST:
        free(o->hist_file);
        o->hist_file = strdup(a);
        return 0;
    case O_JSON_IVL:
        free(o->json_interval_file);
        o->json_interval_file = strdup(a);
        return 0;
    case O_MAX_RATE:
        return tpb_parse_pct_target(a, &o->max_rate_p, &o->max_rate_ns);
    case O_BUSY_POLL: /* up to 1 s: past that it is a spin, not a poll */
        return tpb_parse_duration(a, &o->busy_poll_ns) || o->busy_poll_ns > 1000000000ull ? -1 : 0;
    /* TLS: files and the ALPN list are checked when the context is made */
    case O_TLS_CA:
        free(o->tls_ca);
        return (o->tls_ca = strdup(a)) ? 0 : -1;
    case O_SNI:
        free(o->sni);
        return *a && (o->sni = strdup(a)) ? 0 : -1;
    case O_ALPN:
        free(o->alpn);
        return (o->alpn = strdup(a)) ? 0 : -1;
    }
    return -1;
}

/* What a good value looks like, for the error message. */
static const char *hint(int c)
{
    switch (c) {
    case 'c':
        return "1..1000000";
    case 't':
        return "1..1024";
    case 'D':
        return "1..65536";
    case 'd':
    case 'w':
    case O_TIMEOUT:
        return "e.g. 10s, 2m, 500ms";
    case 's':
        return "e.g. 64, 4k, 1M";
    case 'R':
        return "requests/s > 0";
    case O_MODE:
        return "req, throughput, churn, idle, ramp";
    case O_REQUEST:
        return "non-empty; escapes \\r \\n \\t \\0 \\xHH";
    case O_EXPECT:
    case O_EXPECT_LEN:
    case O_EXPECT_TERM:
        return "one of --expect, --expect-len, --expect-term";
    case O_MAX_RATE:
        return "e.g. p99=2ms";
    case O_BUSY_POLL:
        return "0..1s, e.g. 50us";
    case O_SNI:
        return "a server name";
    }
    return "see --help";
}

static const char *long_name(int c)
{
    for (const struct option *lo = long_opts; lo->name; lo++)
        if (lo->val == c)
            return lo->name;
    return "?";
}

/* One option; returns 0 or -1 with err filled. */
static int apply(tpb_opts *o, int c, const char *a, char *err, size_t n)
{
    switch (c) {
    case O_JSON:
        o->json = 1;
        return 0;
    case 'q':
        o->quiet = 1;
        return 0;
    case 'h':
        o->help = 1;
        return 0;
    case 'V':
        o->version = 1;
        return 0;
    /* TLS */
    case O_TLS:
        o->tls = 1;
        return 0;
    case O_INSECURE:
        o->insecure = 1;
        return 0;
    case O_TLS_RESUME:
        o->tls_resume = 1;
        return 0;
    }
    if (apply_value(o, c, a) < 0)
        return fail(err, n, "bad --%s '%s' (%s)", long_name(c), a, hint(c));
    return 0;
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
    int c;
    optind = 0; /* GNU: full reinitialisation, so tests can parse twice */
    opterr = 0;
    while ((c = getopt_long(argc, argv, short_opts, long_opts, NULL)) != -1) {
        if (c == '?' || c == ':')
            return fail(err, n, "unknown option or missing value: '%s' (see --help)",
                        argv[optind - 1]);
        if (apply(o, c, optarg, err, n) < 0)
            return -1;
    }
    if (o->help || o->version)
        return 0;
    if (optind != argc - 1)
        return fail(err, n,
                    optind >= argc ? "missing target HOST:PORT or unix:/path"
                                   : "one target expected, got extra '%s'",
                    argv[argc - 1]);
    o->target = strdup(argv[optind]);
    return finish(o, err, n);
}
