/* SPDX-License-Identifier: MIT */
/* main.c - tpserver: the library's server as a program. Parse the command
 * line (exit 2 on a bad flag, before anything is bound), raise the
 * open-file limit, bind every listener (exit 2 for a spec the library
 * cannot read, exit 1 naming the address when binding fails), print
 * where it listens, then let the main thread serve
 * signals until the server stops, and print the final statistics. This is
 * the only file of tpserver that exits. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "handlers.h"
#include "opts.h"
#include "report.h"
#include "sigloop.h"
#include "tpserv.h"

/* Servers that hold one descriptor per client raise the soft limit to the
 * hard one at start, as memcached and redis do: the soft default (1024)
 * is a guard for careless programs, not a budget for a server. */
static void raise_nofile_limit(void)
{
    struct rlimit rl;
    unsigned long long old;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        tpsrv_logf(TPS_LOG_WARN, "getrlimit(RLIMIT_NOFILE) failed: %m");
        return;
    }
    old = (unsigned long long)rl.rlim_cur;
    if (rl.rlim_cur == rl.rlim_max) {
        tpsrv_logf(TPS_LOG_INFO, "open-file limit is %llu", old);
        return;
    }
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
        tpsrv_logf(TPS_LOG_WARN,
                   "setrlimit(RLIMIT_NOFILE, %llu) failed: %m; "
                   "open-file limit stays %llu",
                   (unsigned long long)rl.rlim_max, old);
    else
        tpsrv_logf(TPS_LOG_INFO, "raised the open-file limit from %llu to %llu", old,
                   (unsigned long long)rl.rlim_max);
}

static int has_proxy_listener(const struct tpsrv_opts *o)
{
    for (unsigned i = 0; i < o->nlisten; i++)
        if (strncmp(o->listen[i], "proxy:", 6) == 0)
            return 1;
    return 0;
}

static int has_tls_listener(const struct tpsrv_opts *o)
{
    for (unsigned i = 0; i < o->nlisten; i++)
        if (strncmp(o->listen[i], "tls:", 4) == 0 || strncmp(o->listen[i], "proxy:tls:", 10) == 0)
            return 1;
    return 0;
}

/* Flags that only make sense together; a message, or NULL. */
static const char *check_tls_flags(const struct tpsrv_opts *o)
{
#ifndef HAVE_OPENSSL
    if (has_tls_listener(o) || o->tls_cert != NULL || o->nsni > 0)
        return "TLS: this tpserver was built without OpenSSL";
#endif
    if (has_tls_listener(o) && o->tls_cert == NULL)
        return "a tls: listener needs --tls-cert";
    if (o->tls_cert == NULL &&
        (o->tls_key || o->tls_ca || o->tls_min || o->tls_ciphers || o->tls_ciphersuites ||
         o->alpn || o->tls_no_tickets || o->tls_no_ktls || o->tls_verify >= 0 || o->nsni > 0))
        return "TLS flags need --tls-cert (and a tls: listener)";
    if (o->tls_verify > TPS_TLS_VERIFY_NONE && o->tls_ca == NULL)
        return "--tls-verify-client needs --tls-ca";
    if (o->tls_min != NULL && strcmp(o->tls_min, "1.2") != 0 && strcmp(o->tls_min, "1.3") != 0)
        return "--tls-min: 1.2 or 1.3 (older versions are always refused)";
    return NULL;
}

/* The TLS configuration the flags say; files are read by the library.
 * Also on SIGHUP: certificates renewed on disk are taken for new
 * connections, all of them or, if one is bad, none (the library logs
 * which and why). */
static int load_tls(tps_server *srv, const void *ud)
{
    const struct tpsrv_opts *o = ud;
    tps_tls_cert certs[TPSRV_MAX_SNI_CERTS];
    char *names[TPSRV_MAX_SNI_CERTS]; /* each CERT, cut from its CERT,KEY */
    int rc = 0;
    tps_tls_config cfg = {
        .cert_file = o->tls_cert,
        .key_file = o->tls_key,
        .ca_file = o->tls_ca,
        .verify_client = o->tls_verify >= 0  ? o->tls_verify
                         : o->tls_ca != NULL ? TPS_TLS_VERIFY_REQUIRED
                                             : TPS_TLS_VERIFY_NONE,
        .min_version = o->tls_min,
        .ciphers = o->tls_ciphers,
        .ciphersuites = o->tls_ciphersuites,
        .alpn = o->alpn,
        .no_tickets = o->tls_no_tickets,
        .no_ktls = o->tls_no_ktls,
        .certs = certs,
        .ncerts = o->nsni,
    };
    if (o->tls_cert == NULL)
        return 0;
    for (unsigned i = 0; i < o->nsni; i++) {
        names[i] = strndup(o->sni[i].cert, o->sni[i].cert_len);
        certs[i] = (tps_tls_cert){names[i], o->sni[i].key};
        if (names[i] == NULL)
            rc = TPS_ENOMEM;
    }
    if (rc == 0)
        rc = tps_server_tls(srv, &cfg);
    for (unsigned i = 0; i < o->nsni; i++)
        free(names[i]);
    return rc;
}

/* Options, handler and log. *copy receives the handler when --may-block
 * needs a flagged copy of a const handler; it must outlive srv. */
static int configure(tps_server *srv, const struct tpsrv_opts *o, tps_handler *copy)
{
    const tps_handler *h = tpsrv_handler_for(o->handler);
    int rc;

    for (int i = 0; i < TPS_OPT_COUNT_; i++) {
        if (!o->is_set[i])
            continue;
        rc = tps_server_set(srv, (enum tps_option)i, o->value[i]);
        if (rc < 0) {
            fprintf(stderr, "tpserver: option %s=%lld: %s\n", tps_option_name((enum tps_option)i),
                    o->value[i], tps_strerror(rc));
            return rc;
        }
    }
    for (unsigned i = 0; i < o->ntrust; i++) {
        rc = tps_server_proxy_trust(srv, o->trust[i]);
        if (rc < 0) {
            fprintf(stderr, "tpserver: --proxy-trust %s: %s\n", o->trust[i], tps_strerror(rc));
            return rc;
        }
    }
    if (o->ntrust > 0 && !has_proxy_listener(o))
        tpsrv_logf(TPS_LOG_WARN, "--proxy-trust does nothing without a proxy: listener");
    if (o->tls_cert != NULL && !has_tls_listener(o))
        tpsrv_logf(TPS_LOG_WARN, "--tls-cert does nothing without a tls: listener");
    if (o->may_block) {
        *copy = *h;
        copy->flags |= TPS_HANDLER_MAY_BLOCK;
        h = copy;
    }
    rc = tps_server_set_log(srv, tpsrv_log, NULL, o->log_level);
    if (rc == 0)
        rc = tps_server_set_handler(srv, h, NULL);
    if (rc < 0) {
        fprintf(stderr, "tpserver: cannot configure the server: %s\n", tps_strerror(rc));
        return rc;
    }
    rc = load_tls(srv, o);
    if (rc < 0)
        fprintf(stderr, "tpserver: TLS: %s (%s)\n", tps_strerror(rc), tps_err_name(rc));
    return rc;
}

/* Returns 0, or the exit status: 2 for a malformed spec, 1 otherwise. */
static int listen_all(tps_server *srv, const struct tpsrv_opts *o)
{
    static const char *const fallback[] = {TPSRV_DEFAULT_LISTEN};
    const char *const *specs = o->nlisten ? o->listen : fallback;
    unsigned n = o->nlisten ? o->nlisten : 1;

    for (unsigned i = 0; i < n; i++) {
        int rc = tps_server_listen(srv, specs[i]);
        /* The library is the one parser of listen specs: a spec it cannot
         * read (the log line before says why) is a usage error, as any
         * other bad flag value; binding or resolving is a runtime one. */
        if (rc == TPS_EINVAL || rc == TPS_ENAMETOOLONG) {
            fprintf(stderr,
                    "tpserver: --listen: invalid address '%s' (use HOST:PORT, [V6]:PORT, "
                    ":PORT or unix:/path)\nTry 'tpserver --help' for more information.\n",
                    specs[i]);
            return 2;
        }
        if (rc < 0) {
            fprintf(stderr, "tpserver: cannot listen on %s: %s (%s)\n", specs[i], tps_strerror(rc),
                    tps_err_name(rc));
            return 1;
        }
    }
    return 0;
}

/* One line per listener on stdout, flushed: scripts read the port of
 * "--listen 127.0.0.1:0" from here. */
static void print_listeners(const tps_server *srv)
{
    char addr[256];

    for (unsigned i = 0; i < tps_server_listener_count(srv); i++)
        if (tps_server_address(srv, i, addr, sizeof addr) == 0)
            printf("tpserver: listening on %s\n", addr);
    fflush(stdout);
}

static int usage_error(const char *msg)
{
    fprintf(stderr,
            "tpserver: %s\nTry 'tpserver --help' for more "
            "information.\n",
            msg);
    return 2;
}

/* Everything after a good parse; returns the exit status. */
static int serve(const struct tpsrv_opts *o)
{
    tps_server *srv = NULL;
    tps_handler copy;
    sigset_t set;
    int rc;

    tpsrv_report_init(o->log_level);
    raise_nofile_limit();
    if ((rc = tpsrv_block_signals(&set)) < 0 || (rc = tps_server_new(&srv)) < 0) {
        fprintf(stderr, "tpserver: cannot start: %s\n", tps_strerror(rc));
        return 1;
    }
    if (configure(srv, o, &copy) < 0) {
        tps_server_free(srv);
        return 1;
    }
    if ((rc = listen_all(srv, o)) != 0) {
        tps_server_free(srv);
        return rc;
    }
    if ((rc = tps_server_start(srv)) < 0) {
        fprintf(stderr, "tpserver: cannot start: %s\n", tps_strerror(rc));
        tps_server_free(srv);
        return 1;
    }
    tpsrv_logf(TPS_LOG_INFO, "tpserver %s: handler %s%s, drain timeout %u ms", tps_version(),
               tpsrv_handler_kind_name(o->handler), o->may_block ? " (may block)" : "",
               o->drain_ms);
    print_listeners(srv);
    rc = tpsrv_sigloop(srv, &set, o->drain_ms, o->tls_cert ? load_tls : NULL, o);
    tpsrv_print_stats(srv, "final");
    tps_server_free(srv);
    tpsrv_logf(TPS_LOG_INFO, "exiting");
    return rc < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
    struct tpsrv_opts o;
    char err[512];
    const char *msg = tpsrv_opts_parse(&o, argc, argv, err, sizeof err);

    if (msg == NULL && o.action == TPSRV_RUN)
        msg = check_tls_flags(&o);
    if (msg != NULL)
        return usage_error(msg);
    if (o.action == TPSRV_HELP) {
        tpsrv_opts_print_usage(stdout);
        return 0;
    }
    if (o.action == TPSRV_VERSION) {
        printf("tpserver (tpserv) %s\n", tps_version());
        return 0;
    }
    return serve(&o);
}
