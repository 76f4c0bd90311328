/* SPDX-License-Identifier: MIT */
/* opts.c - tpserver's command line on the common flag driver
 * (common/flags.c). The library's options are not listed here: their
 * flags are generated from TPS_OPTION_MAP (lib/tpserv.h), so every option
 * the library has is a flag, with the library's range, default and text.
 * The listen specs are not checked here either: the library's own parser
 * does that when main() hands them to tps_server_listen(). Nothing here
 * prints (but the usage, to the FILE given) or exits. */
#include "config.h"

#include "opts.h"

#include <ctype.h>
#include <string.h>

#include "../common/flags.h"
#include "../common/units.h"
#include "sockaddr.h"

static const char *const handler_names[] = {"echo", "discard", "chargen", "daytime", "sleep", NULL};
static const char *const log_names[] = {"error", "warn", "info", "debug", NULL};
static const char *const queue_full_names[] = {"pause", "reject", NULL};
static const char *const verify_names[] = {"none", "optional", "required", NULL};

static const struct {
    const char *name;
    long long def, min, max;
    const char *desc;
} lib_opt[] = {
#define LIBOPT_(name, def, min, max, desc) {#name, def, min, max, desc},
    TPS_OPTION_MAP(LIBOPT_)
#undef LIBOPT_
};

static int add_listen(void *base, const struct tpcm_flag *f, const char *spec, char *why,
                      size_t whylen)
{
    struct tpsrv_opts *o = base;
    (void)f;
    if (o->nlisten >= TPSRV_MAX_LISTEN) {
        snprintf(why, whylen, "too many listeners at '%s' (max %d)", spec, TPSRV_MAX_LISTEN);
        return -1;
    }
    o->listen[o->nlisten++] = spec;
    return 0;
}

/* The syntax tps_server_proxy_trust() takes ("10.0.0.0/8", "127.0.0.1",
 * "::1/128"), checked with the library's own parser so that a typo exits
 * 2 before anything is bound; main.c hands the range on. */
static int add_trust(void *base, const struct tpcm_flag *f, const char *cidr, char *why,
                     size_t whylen)
{
    struct tpsrv_opts *o = base;
    tps__cidr range;
    int host_bits;
    (void)f;
    if (tps__cidr_parse(cidr, &range, &host_bits) < 0) {
        snprintf(why, whylen,
                 "invalid address range '%s' (use ADDR or ADDR/BITS, e.g. 10.0.0.0/8)", cidr);
        return -1;
    }
    if (o->ntrust >= TPSRV_MAX_TRUST) {
        snprintf(why, whylen, "too many ranges at '%s' (max %d)", cidr, TPSRV_MAX_TRUST);
        return -1;
    }
    o->trust[o->ntrust++] = cidr;
    return 0;
}

/* CERT or CERT,KEY: split at the first comma, so CERT's file name may
 * not hold one (KEY's may). The files are read by the library, at start
 * and on SIGHUP, not here. */
static int add_sni_cert(void *base, const struct tpcm_flag *f, const char *v, char *why,
                        size_t whylen)
{
    struct tpsrv_opts *o = base;
    const char *comma = strchr(v, ',');
    (void)f;
    if (*v == '\0' || comma == v || (comma != NULL && comma[1] == '\0')) {
        snprintf(why, whylen,
                 "expected CERT or CERT,KEY (PEM files; CERT's name without a comma), not '%s'",
                 v);
        return -1;
    }
    if (o->nsni >= TPSRV_MAX_SNI_CERTS) {
        snprintf(why, whylen, "too many certificates at '%s' (max %d)", v, TPSRV_MAX_SNI_CERTS);
        return -1;
    }
    o->sni[o->nsni++] = (struct tpsrv_sni_cert){v, comma ? (size_t)(comma - v) : strlen(v),
                                                comma ? comma + 1 : NULL};
    return 0;
}

static int set_action(void *base, const struct tpcm_flag *f, const char *v, char *why, size_t n)
{
    (void)v, (void)why, (void)n;
    ((struct tpsrv_opts *)base)->action = (enum tpsrv_action)f->id;
    return 0;
}

#define AT(member) TPCM_AT(struct tpsrv_opts, member)

/* The table: tpserver's own flags around the library's, which build()
 * fills in. */
enum { NHEAD = 3, NTAIL = 16, NDEFS = NHEAD + TPS_OPT_COUNT_ + NTAIL };
static const struct tpcm_flag head[NHEAD] = {
    {.name = "listen", .letter = 'l', .value_name = "SPEC", .type = TPCM_CALL,
     .call = add_listen, .bits = TPCM_REPEAT, .id = -1,
     .help = "listen on SPEC; repeatable. SPEC is HOST:PORT, [V6ADDR]:PORT, :PORT or *:PORT "
             "(all addresses), or unix:/path. Port 0 picks a free port. A proxy: prefix "
             "(proxy:127.0.0.1:7000) wants the PROXY protocol (v1/v2) from a balancer; a tls: "
             "prefix (tls:0.0.0.0:7443) serves TLS (--tls-cert), and proxy:tls: takes the "
             "PROXY header, then TLS (HAProxy's send-proxy with ssl). Default: "
             TPSRV_DEFAULT_LISTEN},
    {.name = "proxy-trust", .value_name = "CIDR", .type = TPCM_CALL, .call = add_trust,
     .bits = TPCM_REPEAT, .id = -1,
     .help = "take proxy: connections only from CIDR (the balancers: 10.0.0.0/8, 127.0.0.1, "
             "::1/128); repeatable. Others are closed unread. Default: from anyone (bind "
             "proxy: where only they reach)"},
    {.name = "handler", .value_name = "NAME", .type = TPCM_CHOICE, AT(handler),
     .choices = handler_names, .id = -1,
     .help = "echo (default), discard (RFC 863), chargen (RFC 864), daytime (RFC 867) or "
             "sleep (echoes lines; 'sleep MS' sleeps MS ms in the handler, then says "
             "'slept MS')"},
};
static const struct tpcm_flag tail[NTAIL] = {
    {.name = "may-block", .type = TPCM_BOOL, AT(may_block), .id = -1,
     .help = "dispatch the handler as one that may block (sleep always is)"},
    {.name = "drain-timeout", .value_name = "DUR", .type = TPCM_DURATION, AT(drain_ms),
     .min = 0, .max = TPSRV_MAX_DRAIN_MS, .res_ns = TPCM_MS, .id = -1,
     .help = "on SIGTERM, time to finish before force-closing (default 10s)"},
    {.name = "log-level", .value_name = "LEVEL", .type = TPCM_CHOICE, AT(log_level),
     .choices = log_names, .id = -1, .help = "error, warn, info (default) or debug"},
    /* TLS for tls: listeners; main.c hands them to tps_server_tls(), at start
     * and on SIGHUP (the files are read then, not here). */
    {.name = "tls-cert", .value_name = "FILE", .type = TPCM_STRING, AT(tls_cert), .id = -1,
     .help = "PEM certificate, then its chain: needed by tls: listeners, the default (for "
             "clients that ask for no name, or one no --tls-sni-cert holds); SIGHUP reads "
             "every certificate and key again, for new connections"},
    {.name = "tls-key", .value_name = "FILE", .type = TPCM_STRING, AT(tls_key), .id = -1,
     .help = "PEM private key (default: in --tls-cert)"},
    {.name = "tls-sni-cert", .value_name = "CERT[,KEY]", .type = TPCM_CALL,
     .call = add_sni_cert, .bits = TPCM_REPEAT, .id = -1,
     .help = "one more PEM certificate (then its chain) and its key (default: in CERT), for "
             "clients that ask for a name it holds (SNI): its subjectAltName DNS names, or its "
             "CN if it has none; *.example.com serves x.example.com. Repeatable; exact names "
             "before wildcards, and of two with one name the first given wins (--tls-cert "
             "first). A session resumes only with its own certificate"},
    {.name = "tls-ca", .value_name = "FILE", .type = TPCM_STRING, AT(tls_ca), .id = -1,
     .help = "PEM CAs for client certificates"},
    {.name = "tls-verify-client", .value_name = "none|optional|required", .type = TPCM_CHOICE,
     AT(tls_verify), .choices = verify_names, .id = -1,
     .help = "client certificates (default: required with --tls-ca, else none)"},
    {.name = "tls-min", .value_name = "1.2|1.3", .type = TPCM_STRING, AT(tls_min), .id = -1,
     .help = "lowest TLS version (default 1.2; 1.0 and 1.1 are always refused)"},
    {.name = "tls-ciphers", .value_name = "LIST", .type = TPCM_STRING, AT(tls_ciphers), .id = -1,
     .help = "TLS 1.2 ciphers, OpenSSL's syntax (default: ECDHE with AES-GCM or "
             "ChaCha20-Poly1305)"},
    {.name = "tls-ciphersuites", .value_name = "LIST", .type = TPCM_STRING,
     AT(tls_ciphersuites), .id = -1, .help = "TLS 1.3 cipher suites, OpenSSL's syntax"},
    {.name = "alpn", .value_name = "LIST", .type = TPCM_STRING, AT(alpn), .id = -1,
     .help = "ALPN protocols, ours first (h2,http/1.1); a client offering none of them is "
             "refused"},
    {.name = "tls-no-tickets", .type = TPCM_BOOL, AT(tls_no_tickets), .id = -1,
     .help = "no session tickets (sessions still resume from the server's cache)"},
    {.name = "tls-no-ktls", .type = TPCM_BOOL, AT(tls_no_ktls), .id = -1,
     .help = "never kernel TLS (default: TLS 1.2 records are the kernel's where it offers the tls "
             "ULP)"},
    {.name = "help", .letter = 'h', .type = TPCM_CALL, .call = set_action, .bits = TPCM_STOP,
     .id = TPSRV_HELP, .help = "show this help and exit"},
    {.name = "version", .letter = 'V', .type = TPCM_CALL, .call = set_action,
     .bits = TPCM_STOP, .id = TPSRV_VERSION, .help = "show the version and exit"},
};

static struct tpcm_flag defs[NDEFS];
static size_t ndefs;
static char names[TPS_OPT_COUNT_][40];
static char helps[TPS_OPT_COUNT_][320];

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* "30s", "1500ms", "64k", "1M": a default as the user would type it. */
static void format_default(char *buf, size_t len, enum tpcm_flag_type type, long long res_ns,
                           long long v)
{
    if (type == TPCM_ONOFF)
        snprintf(buf, len, "%s", v ? "on" : "off");
    else if (type == TPCM_DURATION && v != 0 && res_ns == TPCM_MS && v % 1000 == 0)
        snprintf(buf, len, "%llds", v / 1000);
    else if (type == TPCM_DURATION && v != 0)
        snprintf(buf, len, "%lld%s", v, res_ns == TPCM_MS ? "ms" : "us");
    else if (type == TPCM_SIZE && v != 0 && v % (1LL << 20) == 0)
        snprintf(buf, len, "%lldM", v >> 20);
    else if (type == TPCM_SIZE && v != 0 && v % 1024 == 0)
        snprintf(buf, len, "%lldk", v >> 10);
    else
        snprintf(buf, len, "%lld", v);
}

/* The flag of library option i: its name is the option's lowercased, with
 * '-' for '_' and without _MS/_US; the kind follows from the name (_MS,
 * _US: a duration), the range (0..1: on/off) or the description ("bytes":
 * a size); everything else is a count. */
static void lib_flag(int i, struct tpcm_flag *f)
{
    const char *up = lib_opt[i].name;
    char *name = names[i], def[32];
    size_t n = strlen(up);

    memset(f, 0, sizeof *f);
    if (ends_with(up, "_MS") || ends_with(up, "_US"))
        n -= 3;
    for (size_t k = 0; k < n && k + 1 < sizeof names[i]; k++)
        name[k] = up[k] == '_' ? '-' : (char)tolower((unsigned char)up[k]);
    f->name = name;
    f->id = i;
    f->off = offsetof(struct tpsrv_opts, value) + (size_t)i * sizeof(long long);
    f->size = sizeof(long long);
    f->min = lib_opt[i].min;
    f->max = lib_opt[i].max;
    if (ends_with(up, "_MS") || ends_with(up, "_US")) {
        f->type = TPCM_DURATION;
        f->res_ns = ends_with(up, "_MS") ? TPCM_MS : TPCM_US;
        f->value_name = "DUR";
    } else if (lib_opt[i].min == 0 && lib_opt[i].max == 1) {
        f->type = TPCM_ONOFF;
        f->value_name = "on|off";
    } else if (strstr(lib_opt[i].desc, "bytes") != NULL) {
        f->type = TPCM_SIZE;
        f->value_name = "SIZE";
    } else {
        f->type = TPCM_COUNT;
        f->value_name = "N";
    }
    if (i == TPS_OPT_WORKERS)
        f->letter = 'w';
    if (i == TPS_OPT_QUEUE)
        f->letter = 'q';
    if (i == TPS_OPT_QUEUE_FULL_REJECT) { /* a choice of words, as it always was */
        snprintf(name, sizeof names[i], "queue-full");
        f->type = TPCM_CHOICE;
        f->choices = queue_full_names;
        f->value_name = "pause|reject";
        snprintf(helps[i], sizeof helps[i],
                 "when the queue is full: stop accepting (pause, the default) or answer busy "
                 "and close (reject)");
        f->help = helps[i];
        return;
    }
    format_default(def, sizeof def, f->type, f->res_ns, lib_opt[i].def);
    n = strlen(lib_opt[i].desc);
    if (n > 0 && lib_opt[i].desc[n - 1] == ')') /* "(0 = never; default 30s)" */
        snprintf(helps[i], sizeof helps[i], "%.*s; default %s)", (int)(n - 1), lib_opt[i].desc,
                 def);
    else
        snprintf(helps[i], sizeof helps[i], "%s (default %s)", lib_opt[i].desc, def);
    f->help = helps[i];
}

static void build(void)
{
    if (ndefs != 0)
        return;
    memcpy(defs, head, sizeof head);
    for (int i = 0; i < TPS_OPT_COUNT_; i++)
        lib_flag(i, &defs[NHEAD + i]);
    memcpy(defs + NHEAD + TPS_OPT_COUNT_, tail, sizeof tail);
    ndefs = NDEFS;
}

const char *tpsrv_handler_kind_name(enum tpsrv_handler_kind k)
{
    if ((unsigned)k >= sizeof handler_names / sizeof handler_names[0] - 1)
        return "?";
    return handler_names[k];
}

const char *tpsrv_opts_flag_name(size_t i)
{
    build();
    return i < ndefs ? defs[i].name : NULL;
}

char tpsrv_opts_flag_short(size_t i)
{
    build();
    return i < ndefs ? defs[i].letter : 0;
}

static void opts_init(struct tpsrv_opts *o)
{
    memset(o, 0, sizeof *o);
    o->action = TPSRV_RUN;
    for (int i = 0; i < TPS_OPT_COUNT_; i++)
        o->value[i] = lib_opt[i].def;
    o->drain_ms = TPSRV_DEFAULT_DRAIN_MS;
    o->handler = TPSRV_HANDLER_ECHO;
    o->log_level = TPS_LOG_INFO;
    o->tls_verify = -1;
}

const char *tpsrv_opts_parse(struct tpsrv_opts *o, int argc, char *const *argv, char *errbuf,
                             size_t errlen)
{
    unsigned char seen[NDEFS];
    struct tpcm_flags t;

    build();
    t = (struct tpcm_flags){.flag = defs, .n = ndefs, .once = 1};
    opts_init(o);
    if (tpcm_flags_parse(&t, o, argc, argv, seen, errbuf, errlen) < 0)
        return errbuf;
    for (size_t i = 0; i < ndefs; i++)
        if (i >= NHEAD && i < NHEAD + TPS_OPT_COUNT_ && seen[i])
            o->is_set[defs[i].id] = 1;
    return NULL;
}

void tpsrv_opts_print_usage(FILE *f)
{
    build();
    fputs("Usage: tpserver [OPTION]...\n"
          "Serve TCP (or unix socket) clients with a thread pool; echo by default.\n"
          "\n",
          f);
    tpcm_flags_help(defs, ndefs, f);
    fputs("\n"
          "N is a decimal number. DUR is a number, maybe with a fraction, and a unit\n"
          "ns, us, ms, s, m or h (no unit = seconds): 500ms, 1.5s, 2m; it is rounded\n"
          "up to the option's resolution, so a non-zero value never becomes 0.\n"
          "SIZE is a number, maybe with a fraction, and k, m or g (powers of 1024,\n"
          "either case): 64k, 1.5M; it must come out whole bytes.\n"
          "'--opt value', '--opt=value', '-w 4' and '-w4' all work.\n"
          "\n"
          "Signals: SIGTERM/SIGINT stop gracefully (a second one stops at once);\n"
          "SIGUSR1 prints statistics to stderr; SIGHUP reloads the TLS certificates\n"
          "and keys (all, or none if one is bad). Statistics are also printed at exit.\n",
          f);
}
