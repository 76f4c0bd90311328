/* SPDX-License-Identifier: MIT */
/* tlsecho: a TLS echo server for the black-box tests of tpclient --tls and
 * tpbench --tls (tests/client_tls.sh, tests/bench_tls.sh), built from the
 * library's tls: listener. It listens on tls:127.0.0.1:PORT (0 = any) and
 * prints "PORT n" once listening; on SIGTERM/SIGINT, or after --lifetime
 * seconds (default 60, so a failed test never leaves it behind), it prints
 * "STAT handshakes N resumed M failed K no_close_notify L" and exits.
 *   --cert FILE --key FILE    server certificate (required)
 *   --ca FILE --verify MODE   client certificates: optional or required
 *   --alpn LIST               protocols it accepts (a client offering none
 *                             of them is refused)
 *   --no-tickets              resumption by session id, not tickets
 *   --workers N               worker threads (default: the library's) */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tpserv.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static void usage(void)
{
    fprintf(stderr, "usage: tlsecho --cert FILE --key FILE [--ca FILE --verify optional|required]\n"
                    "               [--alpn LIST] [--no-tickets] [--port N] [--workers N]\n"
                    "               [--lifetime SECONDS]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    tps_tls_config cfg = {0};
    long port = 0, lifetime = 60, workers = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--no-tickets") == 0) {
            cfg.no_tickets = 1;
            continue;
        }
        if (!v)
            usage();
        i++;
        if (strcmp(a, "--cert") == 0)
            cfg.cert_file = v;
        else if (strcmp(a, "--key") == 0)
            cfg.key_file = v;
        else if (strcmp(a, "--ca") == 0)
            cfg.ca_file = v;
        else if (strcmp(a, "--verify") == 0)
            cfg.verify_client = strcmp(v, "required") == 0   ? TPS_TLS_VERIFY_REQUIRED
                                : strcmp(v, "optional") == 0 ? TPS_TLS_VERIFY_OPTIONAL
                                                             : (usage(), 0);
        else if (strcmp(a, "--alpn") == 0)
            cfg.alpn = v;
        else if (strcmp(a, "--port") == 0)
            port = atol(v);
        else if (strcmp(a, "--workers") == 0)
            workers = atol(v);
        else if (strcmp(a, "--lifetime") == 0)
            lifetime = atol(v);
        else
            usage();
    }
    if (!cfg.cert_file)
        usage();
    tps_server *srv;
    char spec[64];
    int rc = tps_server_new(&srv);
    if (rc == 0 && workers > 0)
        rc = tps_server_set(srv, TPS_OPT_WORKERS, workers);
    if (rc == 0)
        rc = tps_server_tls(srv, &cfg);
    snprintf(spec, sizeof spec, "tls:127.0.0.1:%ld", port);
    if (rc == 0)
        rc = tps_server_listen(srv, spec);
    if (rc == 0)
        rc = tps_server_start(srv);
    if (rc != 0) {
        fprintf(stderr, "tlsecho: %s\n", tps_strerror(rc));
        return 1;
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    printf("PORT %d\n", tps_server_port(srv, 0));
    fflush(stdout);
    for (long t = 0; !stop && t < lifetime * 10; t++)
        nanosleep(&(struct timespec){.tv_nsec = 100000000L}, NULL);
    tps_server_stop(srv, 1000);
    tps_server_wait(srv);
    printf("STAT handshakes %llu resumed %llu failed %llu no_close_notify %llu\n",
           (unsigned long long)tps_server_stat(srv, TPS_STAT_TLS_HANDSHAKES),
           (unsigned long long)tps_server_stat(srv, TPS_STAT_TLS_RESUMED),
           (unsigned long long)(tps_server_stat(srv, TPS_STAT_TLS_FAIL_VERSION) +
                                tps_server_stat(srv, TPS_STAT_TLS_FAIL_CERT) +
                                tps_server_stat(srv, TPS_STAT_TLS_FAIL_OTHER)),
           (unsigned long long)tps_server_stat(srv, TPS_STAT_TLS_NO_CLOSE_NOTIFY));
    fflush(stdout);
    tps_server_free(srv);
    return 0;
}
