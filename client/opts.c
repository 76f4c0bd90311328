/* SPDX-License-Identifier: MIT */
/* opts.c - parses tpclient's command line (see opts.h for why it is not
 * getopt): option table, numbers, durations, C escapes, the target
 * (HOST PORT or unix:PATH) and the --help text. Nothing here prints. */
#include "opts.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- values ------------------------------------------------------------ */

int tpc_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out, char *err,
                  size_t errlen)
{
    /* strtoull accepts " -5" and wraps it; demand digits only. */
    if (s[0] < '0' || s[0] > '9')
        return fail(err, errlen, "not a number");
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end != '\0')
        return fail(err, errlen, "not a number");
    if (errno == ERANGE || v > max)
        return fail(err, errlen, "too large (at most %llu)", (unsigned long long)max);
    if (v < min)
        return fail(err, errlen, "too small (at least %llu)", (unsigned long long)min);
    *out = v;
    return 0;
}

/* Milliseconds per unit, or 0 for an unknown unit. */
static long long unit_ms(const char *u)
{
    if (*u == '\0' || strcmp(u, "s") == 0)
        return 1000;
    if (strcmp(u, "ms") == 0)
        return 1;
    if (strcmp(u, "m") == 0)
        return 60 * 1000;
    if (strcmp(u, "h") == 0)
        return 3600 * 1000;
    return 0;
}

int tpc_parse_duration(const char *s, long *ms, char *err, size_t errlen)
{
    const char *p = s;
    long long whole = 0, frac = 0, frac_div = 1;
    if (*p < '0' || *p > '9')
        return fail(err, errlen, "not a duration (try 500ms, 2s, 1m)");
    for (; *p >= '0' && *p <= '9'; p++) {
        if (whole > TPC_MAX_DURATION_MS)
            return fail(err, errlen, "out of range");
        whole = whole * 10 + (*p - '0');
    }
    if (*p == '.') {
        if (p[1] < '0' || p[1] > '9')
            return fail(err, errlen, "not a duration (try 500ms, 2s, 1m)");
        /* Digits past milliseconds of an hour cannot matter: stop scaling. */
        for (p++; *p >= '0' && *p <= '9'; p++)
            if (frac_div < 1000000000LL) {
                frac = frac * 10 + (*p - '0');
                frac_div *= 10;
            }
    }
    long long unit = unit_ms(p);
    if (unit == 0)
        return fail(err, errlen, "unknown unit '%s' (use ms, s, m or h)", p);
    if (whole > TPC_MAX_DURATION_MS / unit)
        return fail(err, errlen, "out of range");
    long long total = whole * unit + frac * unit / frac_div;
    if (total > TPC_MAX_DURATION_MS)
        return fail(err, errlen, "out of range");
    *ms = (long)total;
    return 0;
}

/* ---- escapes ----------------------------------------------------------- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int simple_escape(char c)
{
    static const char from[] = "\\'\"?abefnrtv";
    static const char to[] = "\\'\"?\a\b\033\f\n\r\t\v";
    const char *hit = c ? strchr(from, c) : NULL;
    return hit ? to[hit - from] : -1;
}

/* Decodes the escape after the backslash at *pp into *byte and advances
 * *pp past it. Returns 0 or -1 with a message. */
static int decode_one(const char **pp, unsigned char *byte, char *err, size_t errlen)
{
    const char *p = *pp;
    int v = simple_escape(*p);
    if (v >= 0) {
        *byte = (unsigned char)v;
        *pp = p + 1;
        return 0;
    }
    if (*p >= '0' && *p <= '7') {
        int n = 0, i;
        for (i = 0; i < 3 && p[i] >= '0' && p[i] <= '7'; i++)
            n = n * 8 + (p[i] - '0');
        if (n > 255)
            return fail(err, errlen, "octal escape '\\%.3s' is above \\377", p);
        *byte = (unsigned char)n;
        *pp = p + i;
        return 0;
    }
    if (*p == 'x') {
        int hi = hexval(p[1]);
        if (hi < 0)
            return fail(err, errlen, "'\\x' needs hex digits");
        int lo = hexval(p[2]);
        *byte = (unsigned char)(lo < 0 ? hi : hi * 16 + lo);
        *pp = p + (lo < 0 ? 2 : 3);
        return 0;
    }
    if (*p == '\0')
        return fail(err, errlen, "trailing backslash");
    return fail(err, errlen, "unknown escape '\\%c'", *p);
}

int tpc_decode_escapes(const char *in, char **out, size_t *outlen, char *err, size_t errlen)
{
    char *buf = malloc(strlen(in) + 1); /* decoding never grows */
    if (!buf)
        return fail(err, errlen, "out of memory");
    size_t n = 0;
    for (const char *p = in; *p;) {
        unsigned char b = (unsigned char)*p++;
        if (b == '\\' && decode_one(&p, &b, err, errlen) < 0) {
            free(buf);
            return -1;
        }
        buf[n++] = (char)b;
    }
    buf[n] = '\0';
    *out = buf;
    *outlen = n;
    return 0;
}

/* ---- the option table -------------------------------------------------- */

enum opt_id {
    OPT_MESSAGE,
    OPT_COUNT,
    OPT_ESCAPES,
    OPT_CRLF,
    OPT_NO_NEWLINE,
    OPT_HALF_CLOSE,
    OPT_TIMEOUT,
    OPT_EXPECT_BYTES,
    OPT_LINES,
    OPT_IPV4,
    OPT_IPV6,
    OPT_QUIT_AFTER_EOF,
    OPT_UNIX,
    OPT_ZERO_IO,
    OPT_NUMERIC,
    OPT_QUIET,
    OPT_VERBOSE,
    OPT_HELP,
    OPT_VERSION,
    /* TLS */
    OPT_TLS,
    OPT_TLS_CA,
    OPT_INSECURE,
    OPT_SNI,
    OPT_ALPN,
    OPT_TLS_CERT,
    OPT_TLS_KEY
};

struct opt_def {
    char short_name; /* 0 if none */
    const char *long_name;
    int has_arg;
    enum opt_id id;
};

/* Short letters that netcat (Debian's netcat-openbsd) also has mean what
 * they mean there: -4 -6 -C -h -N -n -q -U -v -w -z. tpclient's own
 * options are long only (-e aside, which nc does not have), so that a
 * script written for nc never hits a letter that means something else. */
static const struct opt_def opt_table[] = {
    {0, "message", 1, OPT_MESSAGE},
    {0, "count", 1, OPT_COUNT},
    {'e', "escapes", 0, OPT_ESCAPES},
    {'C', "crlf", 0, OPT_CRLF},
    {0, "no-newline", 0, OPT_NO_NEWLINE},
    {'N', "half-close", 0, OPT_HALF_CLOSE},
    {'w', "timeout", 1, OPT_TIMEOUT},
    {'q', "quit-after-eof", 1, OPT_QUIT_AFTER_EOF},
    {0, "expect-bytes", 1, OPT_EXPECT_BYTES},
    {0, "lines", 1, OPT_LINES},
    {'4', NULL, 0, OPT_IPV4},
    {'6', NULL, 0, OPT_IPV6},
    {'U', "unix", 0, OPT_UNIX},
    {'z', "zero-io", 0, OPT_ZERO_IO},
    {'n', "numeric", 0, OPT_NUMERIC},
    {0, "quiet", 0, OPT_QUIET},
    {'v', "verbose", 0, OPT_VERBOSE},
    {'h', "help", 0, OPT_HELP},
    {0, "version", 0, OPT_VERSION},
    /* TLS */
    {0, "tls", 0, OPT_TLS},
    {0, "tls-ca", 1, OPT_TLS_CA},
    {0, "insecure", 0, OPT_INSECURE},
    {0, "sni", 1, OPT_SNI},
    {0, "alpn", 1, OPT_ALPN},
    {0, "tls-cert", 1, OPT_TLS_CERT},
    {0, "tls-key", 1, OPT_TLS_KEY},
};
#define OPT_COUNT_ (sizeof(opt_table) / sizeof(opt_table[0]))

/* What the parse collects before the final checks. */
struct parse_state {
    struct tpc_opts *o;
    const char *message_raw;
    const char *pos[3];
    int npos;
    int four, six, count_set, no_newline, unix_flag;
};

static int bad_value(char *err, size_t errlen, const char *name, const char *value, const char *why)
{
    return fail(err, errlen, "invalid value '%s' for %s: %s", value, name, why);
}

static int apply_valued(struct parse_state *st, enum opt_id id, const char *name, const char *v,
                        char *err, size_t errlen)
{
    struct tpc_opts *o = st->o;
    char why[128];
    int rc = 0;
    switch (id) {
    case OPT_MESSAGE:
        st->message_raw = v;
        break;
    case OPT_COUNT:
        rc = tpc_parse_u64(v, 1, UINT64_MAX, &o->count, why, sizeof why);
        st->count_set = 1;
        break;
    case OPT_TIMEOUT:
        rc = tpc_parse_duration(v, &o->timeout_ms, why, sizeof why);
        break;
    case OPT_EXPECT_BYTES:
        rc = tpc_parse_u64(v, 1, UINT64_MAX, &o->expect_bytes, why, sizeof why);
        break;
    case OPT_LINES:
        rc = tpc_parse_u64(v, 1, UINT64_MAX, &o->lines, why, sizeof why);
        break;
    case OPT_QUIT_AFTER_EOF:
        /* nc: a negative number of seconds waits forever (the default). */
        if (v[0] == '-' && v[1] >= '0' && v[1] <= '9' &&
            strspn(v + 1, "0123456789") == strlen(v + 1))
            o->quit_after_eof_ms = -1;
        else
            rc = tpc_parse_duration(v, &o->quit_after_eof_ms, why, sizeof why);
        break;
    /* TLS: values are checked when they are used (files, ALPN syntax) */
    case OPT_TLS_CA:
        o->tls_ca = v;
        break;
    case OPT_SNI:
        o->sni = v;
        break;
    case OPT_ALPN:
        o->alpn = v;
        break;
    case OPT_TLS_CERT:
        o->tls_cert = v;
        break;
    case OPT_TLS_KEY:
        o->tls_key = v;
        break;
    default:
        break;
    }
    return rc < 0 ? bad_value(err, errlen, name, v, why) : 0;
}

static void apply_flag(struct parse_state *st, enum opt_id id)
{
    struct tpc_opts *o = st->o;
    switch (id) {
    case OPT_ESCAPES:
        o->escapes = 1;
        break;
    case OPT_CRLF:
        o->crlf = 1;
        break;
    case OPT_NO_NEWLINE:
        st->no_newline = 1;
        break;
    case OPT_HALF_CLOSE:
        o->half_close = 1;
        break;
    case OPT_IPV4:
        st->four = 1;
        break;
    case OPT_IPV6:
        st->six = 1;
        break;
    case OPT_QUIET:
        o->quiet = 1;
        break;
    case OPT_UNIX:
        st->unix_flag = 1;
        break;
    case OPT_ZERO_IO:
        o->zero_io = 1;
        break;
    case OPT_NUMERIC:
        o->numeric = 1;
        break;
    case OPT_VERBOSE:
        o->verbose++;
        break;
    /* The first of --help / --version wins, as with GNU tools. */
    case OPT_HELP:
        if (o->action == TPC_RUN)
            o->action = TPC_HELP;
        break;
    case OPT_VERSION:
        if (o->action == TPC_RUN)
            o->action = TPC_VERSION;
        break;
    /* TLS */
    case OPT_TLS:
        o->tls = 1;
        break;
    case OPT_INSECURE:
        o->insecure = 1;
        break;
    default:
        break;
    }
}

static const struct opt_def *find_long(const char *name, size_t len)
{
    for (size_t i = 0; i < OPT_COUNT_; i++) {
        const char *l = opt_table[i].long_name;
        if (l && strlen(l) == len && strncmp(l, name, len) == 0)
            return &opt_table[i];
    }
    return NULL;
}

static const struct opt_def *find_short(char c)
{
    for (size_t i = 0; i < OPT_COUNT_; i++)
        if (opt_table[i].short_name == c)
            return &opt_table[i];
    return NULL;
}

/* "--name", "--name=value" or "--name value". Returns how many extra argv
 * entries were used (0 or 1), or -1. */
static int parse_long(struct parse_state *st, const char *arg, const char *next, char *err,
                      size_t errlen)
{
    const char *name = arg + 2, *eq = strchr(name, '=');
    size_t len = eq ? (size_t)(eq - name) : strlen(name);
    const struct opt_def *d = find_long(name, len);
    char spelled[64];
    snprintf(spelled, sizeof spelled, "--%.*s", (int)len, name);
    if (!d)
        return fail(err, errlen, "unknown option '%s'", spelled);
    if (!d->has_arg) {
        if (eq)
            return fail(err, errlen, "option '%s' takes no value", spelled);
        apply_flag(st, d->id);
        return 0;
    }
    if (eq)
        return apply_valued(st, d->id, spelled, eq + 1, err, errlen);
    if (!next)
        return fail(err, errlen, "option '%s' needs a value", spelled);
    return apply_valued(st, d->id, spelled, next, err, errlen) < 0 ? -1 : 1;
}

/* "-qv", "-n3", "-n 3". Returns extra argv entries used (0 or 1), or -1. */
static int parse_short(struct parse_state *st, const char *arg, const char *next, char *err,
                       size_t errlen)
{
    for (const char *p = arg + 1; *p; p++) {
        const struct opt_def *d = find_short(*p);
        char spelled[3] = {'-', *p, '\0'};
        if (!d)
            return fail(err, errlen, "unknown option '%s'", spelled);
        if (!d->has_arg) {
            apply_flag(st, d->id);
            continue;
        }
        if (p[1])
            return apply_valued(st, d->id, spelled, p + 1, err, errlen);
        if (!next)
            return fail(err, errlen, "option '%s' needs a value", spelled);
        return apply_valued(st, d->id, spelled, next, err, errlen) < 0 ? -1 : 1;
    }
    return 0;
}

static int parse_args(struct parse_state *st, int argc, char *const argv[], char *err,
                      size_t errlen)
{
    int only_positional = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;
        int used = 0;
        if (!only_positional && strcmp(a, "--") == 0)
            only_positional = 1;
        else if (!only_positional && a[0] == '-' && a[1] == '-')
            used = parse_long(st, a, next, err, errlen);
        else if (!only_positional && a[0] == '-' && a[1] != '\0')
            used = parse_short(st, a, next, err, errlen);
        else if (st->npos < 3)
            st->pos[st->npos++] = a;
        if (used < 0)
            return -1;
        i += used;
    }
    return 0;
}

static int set_target(struct parse_state *st, char *err, size_t errlen)
{
    struct tpc_opts *o = st->o;
    if (st->npos == 0)
        return fail(err, errlen,
                    st->unix_flag ? "-U needs a socket PATH"
                                  : "missing HOST and PORT (or unix:PATH)");
    if (st->npos > 2)
        return fail(err, errlen, "unexpected argument '%s'", st->pos[2]);
    /* -U PATH as with nc, or unix:PATH. */
    int is_unix = st->unix_flag || strncmp(st->pos[0], "unix:", 5) == 0;
    if (is_unix) {
        const char *path = st->pos[0] + (strncmp(st->pos[0], "unix:", 5) == 0 ? 5 : 0);
        if (st->npos == 2)
            return fail(err, errlen, "unexpected argument '%s' after '%s'", st->pos[1], st->pos[0]);
        if (*path == '\0')
            return fail(err, errlen, "empty path in '%s'", st->pos[0]);
        if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
            return fail(err, errlen, "unix socket path too long: '%s'", path);
        o->unix_path = path;
        return 0;
    }
    if (st->npos == 1)
        return fail(err, errlen, "missing PORT after HOST '%s'", st->pos[0]);
    uint64_t port;
    char why[128];
    if (tpc_parse_u64(st->pos[1], 1, 65535, &port, why, sizeof why) < 0)
        return fail(err, errlen, "invalid PORT '%s': %s", st->pos[1], why);
    /* "[::1]" as in URLs: getaddrinfo wants the bare address. */
    const char *h = st->pos[0];
    size_t hl = strlen(h);
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    if (hl == 0)
        return fail(err, errlen, "empty HOST");
    o->host = strndup(h, hl);
    if (!o->host)
        return fail(err, errlen, "out of memory");
    o->port = st->pos[1];
    return 0;
}

/* TLS: the settings need --tls, and make sense together. */
static int check_tls(const struct tpc_opts *o, char *err, size_t errlen)
{
    const char *stray = o->tls_ca     ? "--tls-ca"
                        : o->insecure ? "--insecure"
                        : o->sni      ? "--sni"
                        : o->alpn     ? "--alpn"
                        : o->tls_cert ? "--tls-cert"
                        : o->tls_key  ? "--tls-key"
                                      : NULL;
    if (!o->tls && stray)
        return fail(err, errlen, "%s needs --tls", stray);
    if (o->insecure && o->tls_ca)
        return fail(err, errlen, "--insecure and --tls-ca exclude each other");
    if (o->tls_key && !o->tls_cert)
        return fail(err, errlen, "--tls-key needs --tls-cert");
    if (o->sni && o->sni[0] == '\0')
        return fail(err, errlen, "empty --sni");
    return 0;
}

/* Rules between options, checked once all are known. */
static int check_combination(struct parse_state *st, char *err, size_t errlen)
{
    struct tpc_opts *o = st->o;
    if (st->four && st->six)
        return fail(err, errlen, "-4 and -6 exclude each other");
    if ((st->four || st->six) && o->unix_path)
        return fail(err, errlen, "-4/-6 make no sense with a unix socket");
    if (o->numeric && o->unix_path)
        return fail(err, errlen, "-n makes no sense with a unix socket");
    if (o->zero_io && st->message_raw)
        return fail(err, errlen, "-z sends nothing: --message makes no sense with it");
    if (!st->message_raw) {
        if (st->count_set)
            return fail(err, errlen, "--count needs --message");
        if (o->escapes)
            return fail(err, errlen, "-e/--escapes needs --message");
        if (st->no_newline)
            return fail(err, errlen, "--no-newline needs --message");
    }
    if (st->no_newline && o->crlf)
        return fail(err, errlen, "-C/--crlf and --no-newline exclude each other");
    return check_tls(o, err, errlen);
}

static int finish(struct parse_state *st, char *err, size_t errlen)
{
    struct tpc_opts *o = st->o;
    char why[128];
    if (set_target(st, err, errlen) < 0 || check_combination(st, err, errlen) < 0)
        return -1;
    o->family = st->four ? AF_INET : st->six ? AF_INET6 : AF_UNSPEC;
    o->eol = st->no_newline ? "" : o->crlf ? "\r\n" : "\n";
    if (!st->message_raw)
        return 0;
    if (!o->escapes) {
        o->message_len = strlen(st->message_raw);
        o->message = strdup(st->message_raw);
        return o->message ? 0 : fail(err, errlen, "out of memory");
    }
    if (tpc_decode_escapes(st->message_raw, &o->message, &o->message_len, why, sizeof why) < 0)
        return fail(err, errlen, "invalid escape in --message '%s': %s", st->message_raw, why);
    return 0;
}

int tpc_opts_parse(struct tpc_opts *o, int argc, char *const argv[], char *err, size_t errlen)
{
    struct parse_state st = {.o = o};
    memset(o, 0, sizeof *o);
    o->action = TPC_RUN;
    o->family = AF_UNSPEC;
    o->count = 1;
    o->eol = "\n";
    o->timeout_ms = TPC_DEFAULT_TIMEOUT_MS;
    o->quit_after_eof_ms = -1;
    if (parse_args(&st, argc, argv, err, errlen) < 0)
        goto failed;
    if (o->action != TPC_RUN) /* --help / --version: nothing else matters */
        return 0;
    if (finish(&st, err, errlen) < 0)
        goto failed;
    return 0;
failed:
    tpc_opts_free(o);
    return -1;
}

void tpc_opts_free(struct tpc_opts *o)
{
    if (!o)
        return;
    free(o->message);
    free(o->host);
    o->message = NULL;
    o->host = NULL;
}

int tpc_opts_flag(size_t i, const char **long_name, char *short_name)
{
    if (i >= OPT_COUNT_)
        return 0;
    *long_name = opt_table[i].long_name;
    *short_name = opt_table[i].short_name;
    return 1;
}

const char *tpc_usage(void)
{
    return "Usage: tpclient [OPTIONS] HOST PORT\n"
           "       tpclient [OPTIONS] unix:PATH | -U PATH\n"
           "A client for any line- or byte-oriented TCP (or unix socket) service.\n"
           "\n"
           "Without --message, stdin is sent as it comes (a terminal: line by line)\n"
           "while replies are printed as they arrive; at end of stdin the sending side\n"
           "is shut down and replies are printed until the peer closes, -w of silence\n"
           "or -q after the end. With --message, the message is sent COUNT times and\n"
           "replies are read until --lines/--expect-bytes are met, the peer closes,\n"
           "or -w of silence. Replies are written to stdout as raw bytes.\n"
           "Options that netcat also has mean what they mean in nc(1).\n"
           "\n"
           "  -w, --timeout DURATION  connect timeout, and the silence after which\n"
           "                          waiting for replies stops: 500ms, 2s, 1.5s, 1m, 1h;\n"
           "                          a plain number is seconds; 0 = wait forever\n"
           "                          (default 5s)\n"
           "  -q, --quit-after-eof DURATION\n"
           "                          once everything is sent (end of stdin, or the\n"
           "                          messages), wait at most DURATION for replies;\n"
           "                          negative = until the peer closes (default)\n"
           "  -N, --half-close        shut down the sending side after the messages too\n"
           "                          (at end of stdin it always is), for servers that\n"
           "                          answer and close on end of input\n"
           "  -C, --crlf              send each bare \\n of stdin as \\r\\n; end MSG with\n"
           "                          \\r\\n instead of \\n\n"
           "  -U, --unix              the one argument is a unix socket PATH\n"
           "  -z, --zero-io           connect, close at once, and exit 0 if that worked\n"
           "  -n, --numeric           HOST must be a numeric address (no DNS lookup)\n"
           "  -4, -6                  use only IPv4 / IPv6 addresses\n"
           "  -v, --verbose           report connection attempts, the connected peer,\n"
           "                          what TLS negotiated and byte counts on stderr\n"
           "      --message MSG       send MSG (plus a line ending) instead of stdin\n"
           "      --count N           send the message N times (default 1)\n"
           "  -e, --escapes           decode C escapes in MSG: \\n \\r \\t \\\\ \\0 \\NNN \\xHH "
           "...\n"
           "      --no-newline        send MSG without a line ending\n"
           "      --lines N           done (exit 0) after N reply lines; exactly those\n"
           "                          are printed\n"
           "      --expect-bytes N    done (exit 0) after N reply bytes; exactly those\n"
           "                          are printed (with --lines: after both)\n"
           "      --quiet             print no replies and no runtime errors; only the\n"
           "                          exit status tells (usage errors are still shown)\n"
           "TLS:\n"
           "      --tls               speak TLS to the target; the server's certificate\n"
           "                          must verify and match HOST (or --sni)\n"
           "      --tls-ca FILE       trust the CAs in FILE (PEM) instead of the\n"
           "                          system's default ones\n"
           "      --insecure          do not verify the server's certificate at all\n"
           "      --sni NAME          send NAME as the server name (default: HOST,\n"
           "                          unless it is an IP address) and verify it\n"
           "      --alpn LIST         offer these ALPN protocols, e.g. h2,http/1.1\n"
           "      --tls-cert FILE     present this client certificate (PEM)\n"
           "      --tls-key FILE      its private key (default: in the --tls-cert file)\n"
           "  -h, --help              show this help and exit\n"
           "      --version           show the version and exit\n"
           "\n"
           "HOST may be a name, an IPv4 or IPv6 address ([::1] works too); every\n"
           "address it resolves to is tried in turn.\n"
           "\n"
           "Exit status:\n"
           "  0  done: the peer closed, -w of silence or -q passed with no reply\n"
           "     expected, or --lines/--expect-bytes were received; -z: connected\n"
           "  1  other error (out of memory, stdout or stdin failed, ...)\n"
           "  2  usage error\n"
           "  3  could not connect: refused, unreachable, host or socket not found\n"
           "  4  timed out: connecting, or -w/-q while --lines or --expect-bytes\n"
           "     were not yet met (or messages could not be sent)\n"
           "  5  the peer closed before --lines/--expect-bytes were met or before\n"
           "     all messages were sent, or reset the connection\n"
           "  6  --tls: the handshake failed, the server's certificate did not\n"
           "     verify, or the server refused ours (alert), or a bad TLS record\n"
           "\n"
           "Examples:\n"
           "  printf 'hi\\n' | tpclient 127.0.0.1 7000\n"
           "  tpclient --message PING -C --lines 1 localhost 6379\n"
           "  tpclient -C -e --message 'GET / HTTP/1.0\\r\\n' -N example.org 80\n"
           "  tpclient -C --message stats -w 500ms -U /run/memcached.sock\n"
           "  tpclient -z -w 1 db.example 5432 && echo open\n";
}
