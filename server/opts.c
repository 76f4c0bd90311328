/* SPDX-License-Identifier: MIT */
/* opts.c - tpserver's command-line parser: a table of flags, each with a
 * kind that says how its value is checked and where it is stored. Every
 * error names the flag as the user spelled it and the bad value; nothing
 * here prints or exits (main.c does, before binding anything). */
#include "config.h"

#include "opts.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sockaddr.h"
#include "units.h"

enum kind {
    K_LISTEN,
    K_PROXY_TRUST,
    K_COUNT,
    K_DURATION,
    K_DURATION_US,
    K_SIZE,
    K_DRAIN,
    K_QUEUE_FULL,
    K_HANDLER,
    K_LOG_LEVEL,
    K_MAY_BLOCK,
    K_HELP,
    K_VERSION,
    K_STRING,     /* TLS: a file name or list, kept as given */
    K_TLS_VERIFY, /* none|optional|required */
    K_NO_TICKETS
};

struct optdef {
    const char *name; /* long form, without "--" */
    char short_name;  /* 0 if none */
    enum kind kind;
    int tps_opt; /* enum tps_option for K_COUNT/K_DURATION[_US]/K_SIZE */
};

static const struct optdef defs[] = {
    {"listen", 'l', K_LISTEN, -1},
    {"workers", 'w', K_COUNT, TPS_OPT_WORKERS},
    {"queue", 'q', K_COUNT, TPS_OPT_QUEUE},
    {"queue-full", 0, K_QUEUE_FULL, -1},
    {"max-conns", 0, K_COUNT, TPS_OPT_MAX_CONNS},
    {"max-conns-per-ip", 0, K_COUNT, TPS_OPT_MAX_CONNS_PER_IP},
    {"idle-timeout", 0, K_DURATION, TPS_OPT_IDLE_TIMEOUT_MS},
    {"send-timeout", 0, K_DURATION, TPS_OPT_SEND_TIMEOUT_MS},
    {"drain-timeout", 0, K_DRAIN, -1},
    {"linger", 0, K_DURATION, TPS_OPT_LINGER_MS},
    {"max-input", 0, K_SIZE, TPS_OPT_MAX_INPUT},
    {"handler", 0, K_HANDLER, -1},
    {"may-block", 0, K_MAY_BLOCK, -1},
    {"spare-threads", 0, K_COUNT, TPS_OPT_SPARE_THREADS},
    {"proxy-timeout", 0, K_DURATION, TPS_OPT_PROXY_TIMEOUT_MS},
    {"proxy-trust", 0, K_PROXY_TRUST, -1},
    {"defer-accept", 0, K_DURATION, TPS_OPT_DEFER_ACCEPT_MS},
    {"busy-poll", 0, K_DURATION_US, TPS_OPT_BUSY_POLL_US},
    {"log-level", 0, K_LOG_LEVEL, -1},
    {"tls-cert", 0, K_STRING, 0},
    {"tls-key", 0, K_STRING, 1},
    {"tls-ca", 0, K_STRING, 2},
    {"tls-verify-client", 0, K_TLS_VERIFY, -1},
    {"tls-min", 0, K_STRING, 3},
    {"tls-ciphers", 0, K_STRING, 4},
    {"tls-ciphersuites", 0, K_STRING, 5},
    {"alpn", 0, K_STRING, 6},
    {"tls-no-tickets", 0, K_NO_TICKETS, -1},
    {"tls-handshake-timeout", 0, K_DURATION, TPS_OPT_TLS_HANDSHAKE_TIMEOUT_MS},
    {"help", 'h', K_HELP, -1},
    {"version", 'V', K_VERSION, -1},
};
#define NDEFS (sizeof defs / sizeof defs[0])

/* The library's ranges, from its own option table. */
static const long long opt_min[] = {
#define MIN_(name, def, min, max, desc) min,
    TPS_OPTION_MAP(MIN_)
#undef MIN_
};
static const long long opt_max[] = {
#define MAX_(name, def, min, max, desc) max,
    TPS_OPTION_MAP(MAX_)
#undef MAX_
};
static const long long opt_def[] = {
#define DEF_(name, def, min, max, desc) def,
    TPS_OPTION_MAP(DEF_)
#undef DEF_
};

static const char *const handler_names[] = {"echo", "discard", "chargen", "daytime", "sleep"};
static const char *const log_names[] = {"error", "warn", "info", "debug"};
static const char *const queue_full_names[] = {"pause", "reject"};
static const char *const verify_names[] = {"none", "optional", "required"};

/* State of one parse: where errors go and how the flag was spelled. */
struct parse {
    struct tpsrv_opts *o;
    char *err;
    size_t errlen;
    char flag[64]; /* "--workers" or "-w", for messages */
    unsigned char seen[NDEFS];
};

static const char *fail(struct parse *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static const char *fail(struct parse *p, const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(p->err, p->errlen, "%s: ", p->flag);

    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < p->errlen)
        vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return p->err;
}

const char *tpsrv_handler_kind_name(enum tpsrv_handler_kind k)
{
    if ((unsigned)k >= sizeof handler_names / sizeof handler_names[0])
        return "?";
    return handler_names[k];
}

const char *tpsrv_opts_flag_name(size_t i)
{
    return i < NDEFS ? defs[i].name : NULL;
}

char tpsrv_opts_flag_short(size_t i)
{
    return i < NDEFS ? defs[i].short_name : 0;
}

/* Index of s in names[0..n), or -1. */
static int lookup(const char *const *names, int n, const char *s)
{
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], s) == 0)
            return i;
    return -1;
}

static const char *set_choice(struct parse *p, const char *const *names, int n, const char *val,
                              int *out)
{
    int i = lookup(names, n, val);

    if (i < 0) {
        char list[128] = "";
        for (int j = 0; j < n; j++) {
            strncat(list, j ? ", " : "", sizeof list - strlen(list) - 1);
            strncat(list, names[j], sizeof list - strlen(list) - 1);
        }
        return fail(p, "unknown value '%s' (one of: %s)", val, list);
    }
    *out = i;
    return NULL;
}

/* Syntax of a listen spec, checked here so that a typo exits 2 before
 * anything is bound; the library resolves and binds it later. */
static const char *check_listen(struct parse *p, const char *spec)
{
    const char *full = spec, *colon;

    if (strncmp(spec, "proxy:", 6) == 0) /* the same address, PROXY protocol */
        spec += 6;
    if (strncmp(spec, "tls:", 4) == 0) /* the same address, TLS */
        spec += 4;
    colon = strrchr(spec, ':');
    if (strncmp(spec, "unix:", 5) == 0) {
        if (spec[5] == '\0')
            return fail(p, "missing socket path in '%s'", full);
        if (strlen(spec + 5) >= 108)
            return fail(p, "socket path too long in '%s'", full);
        return NULL;
    }
    if (colon == NULL)
        return fail(p,
                    "invalid address '%s' (use HOST:PORT, [V6]:PORT, "
                    ":PORT or unix:/path)",
                    full);
    if (tps__parse_port(colon + 1) < 0) /* the library's own rule */
        return fail(p, "invalid port in '%s' (0..65535)", full);
    if (spec[0] == '[') {
        /* The first ']' closes the address, right before the port. */
        if (colon - spec < 3 || strchr(spec, ']') != colon - 1)
            return fail(p, "invalid address '%s' (use [V6ADDR]:PORT)", full);
    } else if (memchr(spec, ':', (size_t)(colon - spec)) != NULL) {
        return fail(p,
                    "invalid address '%s' (IPv6 needs brackets, e.g. "
                    "[::1]:7000)",
                    full);
    }
    return NULL;
}

static const char *add_listen(struct parse *p, const char *spec)
{
    const char *e = check_listen(p, spec);

    if (e != NULL)
        return e;
    if (p->o->nlisten >= TPSRV_MAX_LISTEN)
        return fail(p, "too many listeners at '%s' (max %d)", spec, TPSRV_MAX_LISTEN);
    p->o->listen[p->o->nlisten++] = spec;
    return NULL;
}

/* The syntax tps_server_proxy_trust() takes ("10.0.0.0/8", "127.0.0.1",
 * "::1/128"), checked here with the library's own parser so that a typo
 * exits 2 before anything is bound; main.c hands the range on. */
static const char *add_trust(struct parse *p, const char *cidr)
{
    tps__cidr range;
    int host_bits;

    if (tps__cidr_parse(cidr, &range, &host_bits) < 0)
        return fail(p, "invalid address range '%s' (use ADDR or ADDR/BITS, e.g. 10.0.0.0/8)", cidr);
    if (p->o->ntrust >= TPSRV_MAX_TRUST)
        return fail(p, "too many ranges at '%s' (max %d)", cidr, TPSRV_MAX_TRUST);
    p->o->trust[p->o->ntrust++] = cidr;
    return NULL;
}

static const char *set_number(struct parse *p, const struct optdef *d, const char *val)
{
    long long v = 0, min = 0, max = TPSRV_MAX_DRAIN_MS;
    const char *what = "number", *unit = "";
    int rc;

    if (d->kind == K_COUNT) {
        rc = tpsrv_parse_count(val, &v);
    } else if (d->kind == K_SIZE) {
        rc = tpsrv_parse_size(val, &v);
        what = "size (e.g. 65536, 64k, 1m)", unit = " bytes";
    } else if (d->kind == K_DURATION_US) {
        rc = tpsrv_parse_duration_us(val, &v);
        what = "duration (e.g. 50us, 1ms)", unit = "us";
    } else {
        rc = tpsrv_parse_duration_ms(val, &v);
        what = "duration (e.g. 500ms, 10s, 2m)", unit = "ms";
    }
    if (d->tps_opt >= 0)
        min = opt_min[d->tps_opt], max = opt_max[d->tps_opt];
    if (rc == -EINVAL)
        return fail(p, "invalid %s '%s'", what, val);
    if (rc < 0 || v < min || v > max)
        return fail(p, "value '%s' out of range (%lld..%lld%s)", val, min, max, unit);
    if (d->tps_opt < 0) {
        p->o->drain_ms = (unsigned)v;
    } else {
        p->o->value[d->tps_opt] = v;
        p->o->is_set[d->tps_opt] = 1;
    }
    return NULL;
}

#define NAMES(a) a, (int)(sizeof a / sizeof a[0])

static const char *apply(struct parse *p, const struct optdef *d, const char *val)
{
    struct tpsrv_opts *o = p->o;
    int i = 0;
    const char *e = NULL;

    switch (d->kind) {
    case K_LISTEN:
        return add_listen(p, val);
    case K_PROXY_TRUST:
        return add_trust(p, val);
    case K_COUNT:
    case K_DURATION:
    case K_DURATION_US:
    case K_SIZE:
    case K_DRAIN:
        return set_number(p, d, val);
    case K_QUEUE_FULL:
        if ((e = set_choice(p, NAMES(queue_full_names), val, &i)) == NULL) {
            o->value[TPS_OPT_QUEUE_FULL_REJECT] = i;
            o->is_set[TPS_OPT_QUEUE_FULL_REJECT] = 1;
        }
        return e;
    case K_HANDLER:
        e = set_choice(p, NAMES(handler_names), val, &i);
        o->handler = (enum tpsrv_handler_kind)i;
        return e;
    case K_LOG_LEVEL:
        e = set_choice(p, NAMES(log_names), val, &i);
        o->log_level = i;
        return e;
    case K_MAY_BLOCK:
        o->may_block = 1;
        return NULL;
    case K_STRING: {
        const char **slot[] = {&o->tls_cert,    &o->tls_key,          &o->tls_ca, &o->tls_min,
                               &o->tls_ciphers, &o->tls_ciphersuites, &o->alpn};
        if (val[0] == '\0')
            return fail(p, "empty value");
        *slot[d->tps_opt] = val;
        return NULL;
    }
    case K_TLS_VERIFY:
        return set_choice(p, NAMES(verify_names), val, &o->tls_verify);
    case K_NO_TICKETS:
        o->tls_no_tickets = 1;
        return NULL;
    case K_HELP:
        o->action = TPSRV_HELP;
        return NULL;
    case K_VERSION:
        o->action = TPSRV_VERSION;
        return NULL;
    }
    return NULL;
}

/* Find the flag of arg, remember its spelling in p->flag, and set *val to
 * an attached value ("--opt=value", "-w4") or NULL. */
static const char *find_flag(struct parse *p, const char *arg, const struct optdef **out,
                             const char **val)
{
    size_t n;
    int is_long = arg[0] == '-' && arg[1] == '-' && arg[2] != '\0';

    if (!is_long && (arg[0] != '-' || arg[1] == '\0' || arg[1] == '-')) {
        snprintf(p->err, p->errlen, "unexpected argument '%s'", arg);
        return p->err;
    }
    n = is_long ? strcspn(arg + 2, "=") + 2 : 2;
    *val = arg[n] == '\0' ? NULL : arg + n + (is_long ? 1 : 0);
    snprintf(p->flag, sizeof p->flag, "%.*s", (int)n, arg);
    for (size_t i = 0; i < NDEFS; i++) {
        if (is_long ? (strlen(defs[i].name) == n - 2 && strncmp(defs[i].name, arg + 2, n - 2) == 0)
                    : (defs[i].short_name == arg[1])) {
            *out = &defs[i];
            return NULL;
        }
    }
    snprintf(p->err, p->errlen, "unknown option '%s'", p->flag);
    return p->err;
}

static int takes_value(const struct optdef *d)
{
    return d->kind != K_MAY_BLOCK && d->kind != K_HELP && d->kind != K_VERSION &&
           d->kind != K_NO_TICKETS;
}

static void opts_init(struct tpsrv_opts *o)
{
    memset(o, 0, sizeof *o);
    o->action = TPSRV_RUN;
    for (int i = 0; i < TPS_OPT_COUNT_; i++)
        o->value[i] = opt_def[i];
    o->drain_ms = TPSRV_DEFAULT_DRAIN_MS;
    o->handler = TPSRV_HANDLER_ECHO;
    o->log_level = TPS_LOG_INFO;
    o->tls_verify = -1;
}

const char *tpsrv_opts_parse(struct tpsrv_opts *o, int argc, char *const *argv, char *errbuf,
                             size_t errlen)
{
    struct parse p = {.o = o, .err = errbuf, .errlen = errlen};

    opts_init(o);
    for (int i = 1; i < argc && o->action == TPSRV_RUN; i++) {
        const struct optdef *d = NULL;
        const char *val = NULL, *e = find_flag(&p, argv[i], &d, &val);

        if (e != NULL)
            return e;
        if (!takes_value(d) && val != NULL)
            return fail(&p, "takes no value (got '%s')", val);
        if (takes_value(d) && val == NULL) {
            /* A following flag is not a value: no value of ours starts
             * with '-', and "--listen --workers 4" is a forgotten value. */
            if (i + 1 >= argc || argv[i + 1][0] == '-')
                return fail(&p, "missing value");
            val = argv[++i];
        }
        if (d->kind != K_LISTEN && d->kind != K_PROXY_TRUST && p.seen[d - defs]++)
            return fail(&p, "given more than once");
        if ((e = apply(&p, d, val)) != NULL)
            return e;
    }
    return NULL;
}

void tpsrv_opts_print_usage(FILE *f)
{
    fprintf(f,
            "Usage: tpserver [OPTION]...\n"
            "Serve TCP (or unix socket) clients with a thread pool; echo by default.\n"
            "\n"
            "  -l, --listen SPEC          listen on SPEC; repeatable. SPEC is HOST:PORT,\n"
            "                             [V6ADDR]:PORT, :PORT or *:PORT (all addresses),\n"
            "                             or unix:/path. Port 0 picks a free port.\n"
            "                             A proxy: prefix (proxy:127.0.0.1:7000) wants\n"
            "                             the PROXY protocol (v1/v2) from a balancer.\n"
            "                             Default: " TPSRV_DEFAULT_LISTEN "\n"
            "      --proxy-timeout DUR    close a proxy: connection whose header is not\n"
            "                             whole after DUR (default 10s; 0 = never)\n"
            "      --proxy-trust CIDR     take proxy: connections only from CIDR (the\n"
            "                             balancers: 10.0.0.0/8, 127.0.0.1, ::1/128);\n"
            "                             repeatable. Others are closed unread. Default:\n"
            "                             from anyone (bind proxy: where only they reach)\n"
            "      --defer-accept DUR     accept a TCP connection once the client has\n"
            "                             sent something, or after DUR (0 = at once,\n"
            "                             the default). Spares a wakeup per connection;\n"
            "                             only for protocols where the client speaks first\n"
            "      --busy-poll DUR        a worker with nothing to do polls for DUR\n"
            "                             (e.g. 50us) before it sleeps: lower latency\n"
            "                             for a core kept busy (default 0 = sleep at once)\n"
            "  -w, --workers N            worker threads (default %lld = online CPUs)\n"
            "  -q, --queue N              accept queue capacity (default %lld)\n"
            "      --queue-full=pause|reject  when the queue is full: stop accepting\n"
            "                             (default) or answer busy and close\n"
            "      --max-conns N          max connections (default 0 = from the\n"
            "                             open-file limit)\n"
            "      --max-conns-per-ip N   max connections per client address (0 = no cap)\n"
            "      --idle-timeout DUR     close idle connections (default 0 = never)\n"
            "      --send-timeout DUR     close peers that stop reading (default %lldms)\n"
            "      --drain-timeout DUR    on SIGTERM, time to finish before force-closing\n"
            "                             (default %dms)\n"
            "      --linger DUR           closing or stopping, how long a client must be\n"
            "                             quiet before its connection is closed, so no\n"
            "                             reply is cut (default 1s; 0 = close at once)\n"
            "      --max-input SIZE       max unconsumed input per connection\n"
            "                             (default %lld bytes)\n"
            "      --handler NAME         echo (default), discard (RFC 863),\n"
            "                             chargen (RFC 864), daytime (RFC 867) or\n"
            "                             sleep (echoes lines; 'sleep MS' sleeps MS\n"
            "                             ms in the handler, then says 'slept MS')\n"
            "      --may-block            dispatch the handler as one that may block\n"
            "                             (sleep always is)\n"
            "      --spare-threads N      threads that may take over a worker blocked\n"
            "                             in a may-block callback (default %lld)\n"
            "      --log-level LEVEL      error, warn, info (default) or debug\n"
            "\n"
            "TLS (a tls: listener, e.g. tls:0.0.0.0:7443, or proxy:tls: for HAProxy's\n"
            "send-proxy with ssl; SIGHUP reloads the certificate files):\n"
            "      --tls-cert FILE        PEM certificate, then its chain (required)\n"
            "      --tls-key FILE         PEM private key (default: in --tls-cert)\n"
            "      --tls-ca FILE          PEM CAs for client certificates\n"
            "      --tls-verify-client none|optional|required\n"
            "                             client certificates (default: required\n"
            "                             with --tls-ca, else none)\n"
            "      --tls-min 1.2|1.3      lowest protocol version (default 1.2)\n"
            "      --tls-ciphers LIST     TLS 1.2 ciphers (OpenSSL syntax)\n"
            "      --tls-ciphersuites LIST  TLS 1.3 cipher suites (OpenSSL syntax)\n"
            "      --alpn LIST            ALPN protocols, ours first (h2,http/1.1);\n"
            "                             a client offering none of them is refused\n"
            "      --tls-no-tickets       no session tickets (resumption stays on)\n"
            "      --tls-handshake-timeout DUR  close a handshake not done after DUR\n"
            "                             (default 10s; 0 = never)\n"
            "\n"
            "  -h, --help                 show this help and exit\n"
            "  -V, --version              show the version and exit\n"
            "\n"
            "DUR is a number with ms, s, m or h (no unit = seconds), e.g. 500ms, 10s.\n"
            "SIZE is a number with k, m or g (powers of 1024), e.g. 64k, 1m.\n"
            "Both '--opt value' and '--opt=value' work.\n"
            "\n"
            "Signals: SIGTERM/SIGINT stop gracefully (a second one stops at once);\n"
            "SIGUSR1 prints statistics to stderr; SIGHUP reloads the TLS certificate.\n"
            "Statistics are also printed at exit.\n",
            opt_def[TPS_OPT_WORKERS], opt_def[TPS_OPT_QUEUE], opt_def[TPS_OPT_SEND_TIMEOUT_MS],
            TPSRV_DEFAULT_DRAIN_MS, opt_def[TPS_OPT_MAX_INPUT], opt_def[TPS_OPT_SPARE_THREADS]);
}
