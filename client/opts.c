/* SPDX-License-Identifier: MIT */
/* opts.c - tpclient's command line: its flag table on the common driver
 * (common/flags.c: numbers, durations, the spellings of flags), the
 * target (common/addr.c), the message's C escapes (common/escape.c), the
 * rules between options and the --help text. Nothing here prints but the
 * usage, to the FILE it is given. */
#include "opts.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../common/addr.h"
#include "../common/escape.h"
#include "../common/flags.h"
#include "../common/units.h"

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

/* What the parse collects before the final checks; the flag driver
 * fills it (its first member is the options themselves). */
struct parse_state {
    struct tpc_opts o;
    const char *message_raw;
    const char *pos[3];
    int npos;
    int four, six, no_newline, unix_flag, count_set;
};

static int positional(void *base, const char *arg, char *why, size_t whylen)
{
    struct parse_state *st = base;
    (void)why, (void)whylen;
    if (st->npos < 3)
        st->pos[st->npos++] = arg;
    return 0;
}

/* nc: a negative number of seconds waits forever (the default). */
static int set_quit_after_eof(void *base, const struct tpcm_flag *f, const char *v, char *why,
                              size_t whylen)
{
    struct parse_state *st = base;
    long long ms;
    int rc;
    (void)f;
    if (v[0] == '-' && v[1] >= '0' && v[1] <= '9' && strspn(v + 1, "0123456789") == strlen(v + 1)) {
        st->o.quit_after_eof_ms = -1;
        return 0;
    }
    rc = tpcm_parse_duration(v, TPCM_MS, &ms);
    if (rc == 0 && ms > TPC_MAX_DURATION_MS)
        rc = -ERANGE;
    if (rc < 0) {
        snprintf(why, whylen, "%s '%s'",
                 rc == -EINVAL ? "invalid duration (e.g. 500ms, 1.5s, 2m; negative = never)"
                               : "out of range (at most 2147483647ms)",
                 v);
        return -1;
    }
    st->o.quit_after_eof_ms = (long)ms;
    return 0;
}

static int set_verbose(void *base, const struct tpcm_flag *f, const char *v, char *why, size_t n)
{
    (void)f, (void)v, (void)why, (void)n;
    ((struct parse_state *)base)->o.verbose++;
    return 0;
}

/* The first of --help / --version wins, as with GNU tools; parsing goes
 * on (an error after them is still one). */
static int set_action(void *base, const struct tpcm_flag *f, const char *v, char *why, size_t n)
{
    struct parse_state *st = base;
    (void)v, (void)why, (void)n;
    if (st->o.action == TPC_RUN)
        st->o.action = (enum tpc_action)f->id;
    return 0;
}

#define AT(member) TPCM_AT(struct parse_state, member)

/* Short letters that netcat (Debian's netcat-openbsd) also has mean what
 * they mean there: -4 -6 -C -h -N -n -q -U -v -w -z. tpclient's own
 * options are long only (-e aside, which nc does not have), so that a
 * script written for nc never hits a letter that means something else. */
static const struct tpcm_flag opt_table[] = {
    {.name = "timeout", .letter = 'w', .value_name = "DUR", .type = TPCM_DURATION,
     AT(o.timeout_ms), .min = 0, .max = TPC_MAX_DURATION_MS, .res_ns = TPCM_MS,
     .help = "connect timeout, and the silence after which waiting for replies stops: 500ms, "
             "2s, 1.5s, 1m, 1h; a plain number is seconds; 0 = wait forever (default 5s)"},
    {.name = "quit-after-eof", .letter = 'q', .value_name = "DUR", .type = TPCM_CALL,
     .call = set_quit_after_eof, .bits = TPCM_DASH_OK,
     .help = "once everything is sent (end of stdin, or the messages), wait at most DUR for "
             "replies; negative = until the peer closes (default)"},
    {.name = "half-close", .letter = 'N', .type = TPCM_BOOL, AT(o.half_close),
     .help = "shut down the sending side after the messages too (at end of stdin it always "
             "is), for servers that answer and close on end of input"},
    {.name = "crlf", .letter = 'C', .type = TPCM_BOOL, AT(o.crlf),
     .help = "send each bare \\n of stdin as \\r\\n; end MSG with \\r\\n instead of \\n"},
    {.name = "unix", .letter = 'U', .type = TPCM_BOOL, AT(unix_flag),
     .help = "the one argument is a unix socket PATH"},
    {.name = "zero-io", .letter = 'z', .type = TPCM_BOOL, AT(o.zero_io),
     .help = "connect, close at once, and exit 0 if that worked"},
    {.name = "numeric", .letter = 'n', .type = TPCM_BOOL, AT(o.numeric),
     .help = "HOST must be a numeric address (no DNS lookup)"},
    {.letter = '4', .type = TPCM_BOOL, AT(four), .help = "use only IPv4 addresses"},
    {.letter = '6', .type = TPCM_BOOL, AT(six), .help = "use only IPv6 addresses"},
    {.name = "verbose", .letter = 'v', .type = TPCM_CALL, .call = set_verbose,
     .help = "report connection attempts, the connected peer, what TLS negotiated and byte "
             "counts on stderr"},
    {.name = "message", .value_name = "MSG", .type = TPCM_STRING, AT(message_raw),
     .bits = TPCM_DASH_OK, .help = "send MSG (plus a line ending) instead of stdin"},
    {.name = "count", .value_name = "N", .type = TPCM_COUNT, AT(o.count), .min = 1,
     .max = 0x7fffffffffffffffLL, .help = "send the message N times (default 1)"},
    {.name = "escapes", .letter = 'e', .type = TPCM_BOOL, AT(o.escapes),
     .help = "decode C escapes in MSG: \\n \\r \\t \\\\ \\0 \\NNN \\xHH ... (see tpclient(1))"},
    {.name = "no-newline", .type = TPCM_BOOL, AT(no_newline),
     .help = "send MSG without a line ending"},
    {.name = "lines", .value_name = "N", .type = TPCM_COUNT, AT(o.lines), .min = 1,
     .max = 0x7fffffffffffffffLL,
     .help = "done (exit 0) after N reply lines; exactly those are printed"},
    {.name = "expect-bytes", .value_name = "N", .type = TPCM_COUNT, AT(o.expect_bytes),
     .min = 1, .max = 0x7fffffffffffffffLL,
     .help = "done (exit 0) after N reply bytes; exactly those are printed (with --lines: "
             "after both)"},
    {.name = "quiet", .type = TPCM_BOOL, AT(o.quiet),
     .help = "print no replies and no runtime errors; only the exit status tells (usage "
             "errors are still shown)"},
    /* TLS (client/tls.c does the work; values are checked where used) */
    {.name = "tls", .type = TPCM_BOOL, AT(o.tls),
     .help = "speak TLS to the target; the server's certificate must verify and match HOST "
             "(or --sni)"},
    {.name = "tls-ca", .value_name = "FILE", .type = TPCM_STRING, AT(o.tls_ca),
     .help = "trust the CAs in FILE (PEM) instead of the system's default ones"},
    {.name = "insecure", .type = TPCM_BOOL, AT(o.insecure),
     .help = "do not verify the server's certificate at all"},
    {.name = "sni", .value_name = "NAME", .type = TPCM_STRING, AT(o.sni),
     .help = "send NAME as the server name (default: HOST, unless it is an IP address) and "
             "verify it"},
    {.name = "alpn", .value_name = "LIST", .type = TPCM_STRING, AT(o.alpn),
     .help = "offer these ALPN protocols, e.g. h2,http/1.1"},
    {.name = "tls-cert", .value_name = "FILE", .type = TPCM_STRING, AT(o.tls_cert),
     .help = "present this client certificate (PEM)"},
    {.name = "tls-key", .value_name = "FILE", .type = TPCM_STRING, AT(o.tls_key),
     .help = "its private key (default: in the --tls-cert file)"},
    {.name = "help", .letter = 'h', .type = TPCM_CALL, .call = set_action, .id = TPC_HELP,
     .help = "show this help and exit"},
    {.name = "version", .type = TPCM_CALL, .call = set_action, .id = TPC_VERSION,
     .help = "show the version and exit"},
};
#define OPT_COUNT_ (sizeof(opt_table) / sizeof(opt_table[0]))

/* HOST PORT as with nc, HOST:PORT or [V6]:PORT in one argument, or
 * unix:PATH (-U PATH). The syntax is common/addr.c's, as for tpserver's
 * --listen and tpbench's target; a client needs a host and a port 1..65535. */
static int set_target(struct parse_state *st, char *err, size_t errlen)
{
    struct tpc_opts *o = &st->o;
    struct tpcm_addr a;
    const char *why, *spec = st->pos[0];
    char joined[TPCM_ADDR_HOSTMAX + 16];
    if (st->npos == 0)
        return fail(err, errlen,
                    st->unix_flag ? "-U needs a socket PATH"
                                  : "missing HOST and PORT (or unix:PATH)");
    if (st->npos > 2)
        return fail(err, errlen, "unexpected argument '%s'", st->pos[2]);
    int is_unix = st->unix_flag || strncmp(spec, "unix:", 5) == 0;
    if (is_unix && st->npos == 2)
        return fail(err, errlen, "unexpected argument '%s' after '%s'", st->pos[1], spec);
    if (st->unix_flag && strncmp(spec, "unix:", 5) != 0) {
        snprintf(joined, sizeof joined, "unix:%s", spec);
        if (strlen(spec) + 5 >= sizeof joined)
            return fail(err, errlen, "unix socket path too long: '%s'", spec);
        if (tpcm_addr_parse(joined, 0, &a, &why) < 0)
            return fail(err, errlen, "invalid socket PATH '%s': %s", spec, why);
        o->unix_path = spec;
        return 0;
    }
    if (!is_unix && st->npos == 1 && strchr(spec, ':') == NULL)
        return fail(err, errlen, "missing PORT after HOST '%s'", spec);
    if (st->npos == 2) { /* HOST PORT: one spec, the port checked as such */
        int bracketed = spec[0] == '[' && spec[strlen(spec) - 1] == ']';
        if (tpcm_port_parse(st->pos[1]) < 1)
            return fail(err, errlen, "invalid PORT '%s' (1..65535)", st->pos[1]);
        if (strlen(spec) == (size_t)(bracketed ? 2 : 0))
            return fail(err, errlen, "empty HOST");
        if (snprintf(joined, sizeof joined, "%s%s%s:%s", bracketed || !strchr(spec, ':') ? "" : "[",
                     spec, bracketed || !strchr(spec, ':') ? "" : "]",
                     st->pos[1]) >= (int)sizeof joined)
            return fail(err, errlen, "HOST too long: '%s'", spec);
        spec = joined;
    }
    if (tpcm_addr_parse(spec, 0, &a, &why) < 0)
        return fail(err, errlen, "invalid address '%s': %s", spec, why);
    if (a.kind == TPCM_ADDR_UNIX) {
        o->unix_path = a.path;
        return 0;
    }
    if (a.port < 1)
        return fail(err, errlen, "invalid PORT '%s' (1..65535)", a.port_text);
    o->host = strdup(a.host);
    if (!o->host)
        return fail(err, errlen, "out of memory");
    /* The port's text, inside argv: the last argument, or after the colon. */
    o->port = st->npos == 2 ? st->pos[1] : a.port_text;
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
    struct tpc_opts *o = &st->o;
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
    struct tpc_opts *o = &st->o;
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
    if (tpcm_unescape(st->message_raw, &o->message, &o->message_len, why, sizeof why) < 0)
        return fail(err, errlen, "invalid escape in --message '%s': %s", st->message_raw, why);
    return 0;
}

int tpc_opts_parse(struct tpc_opts *o, int argc, char *const argv[], char *err, size_t errlen)
{
    static const struct tpcm_flags t = {
        .flag = opt_table, .n = OPT_COUNT_, .positional = positional};
    struct parse_state st = {.o = {.action = TPC_RUN}};
    unsigned char seen[OPT_COUNT_];
    st.o.family = AF_UNSPEC;
    st.o.count = 1;
    st.o.eol = "\n";
    st.o.timeout_ms = TPC_DEFAULT_TIMEOUT_MS;
    st.o.quit_after_eof_ms = -1;
    int rc = tpcm_flags_parse(&t, &st, argc, argv, seen, err, errlen);
    for (size_t i = 0; i < OPT_COUNT_; i++)
        if (opt_table[i].name && strcmp(opt_table[i].name, "count") == 0)
            st.count_set = seen[i] != 0;
    if (rc == 0 && st.o.action == TPC_RUN) /* --help / --version: nothing else matters */
        rc = finish(&st, err, errlen);
    *o = st.o;
    if (rc < 0) {
        tpc_opts_free(o);
        return -1;
    }
    return 0;
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
    *long_name = opt_table[i].name;
    *short_name = opt_table[i].letter;
    return 1;
}

void tpc_usage(FILE *f)
{
    fputs("Usage: tpclient [OPTIONS] HOST PORT\n"
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
           "\n",
          f);
    tpcm_flags_help(opt_table, OPT_COUNT_, f);
    fputs(           "\n"
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
           "  tpclient -z -w 1 db.example 5432 && echo open\n",
          f);
}
