/* SPDX-License-Identifier: MIT */
/* main.c - tpclient: connect to a TCP or unix stream service, send stdin or
 * -m messages, print the replies. The only place that prints errors and
 * exits; the exit codes are listed in client.h and in --help. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#include "client.h"
#include "../common/tlsclient.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

static int usage_error(const char *msg)
{
    fprintf(stderr, "tpclient: %s\nTry 'tpclient --help' for more information.\n", msg);
    return TPC_EXIT_USAGE;
}

static int run(const struct tpc_opts *o)
{
    char err[512] = "";
    int fd = -1;
    struct tpc_tls *tls = NULL;
    int rc = tpc_connect(o, &fd, err, sizeof err);
    /* --tls: the handshake belongs to connecting (also for -z). */
    if (rc == TPC_EXIT_OK && o->tls && (rc = tpc_tls_start(o, fd, &tls, err, sizeof err)) != 0)
        close(fd);
    if (rc == TPC_EXIT_OK) {
        /* -z: connecting was the whole question. */
        rc = o->zero_io ? TPC_EXIT_OK : tpc_session_run(o, fd, tls, err, sizeof err);
        if (tls && o->zero_io)
            tpc_tls_close_notify(tls);
        tpc_tls_free(tls);
        close(fd);
    }
    if (rc == TPC_EXIT_USAGE) /* --tls settings that cannot be used */
        return usage_error(err);
    /* An empty message means "nothing worth saying" (stdout's reader left). */
    if (rc != TPC_EXIT_OK && err[0] && !o->quiet)
        fprintf(stderr, "tpclient: %s\n", err);
    return rc;
}

int main(int argc, char *argv[])
{
    struct tpc_opts o;
    char err[512];
    if (tpc_opts_parse(&o, argc, argv, err, sizeof err) < 0)
        return usage_error(err);
    if (o.action == TPC_HELP) {
        fputs(tpc_usage(), stdout);
        return fflush(stdout) == 0 ? TPC_EXIT_OK : TPC_EXIT_ERROR;
    }
    if (o.action == TPC_VERSION) {
        printf("tpclient (tpserv) %s\n", PACKAGE_VERSION);
        return fflush(stdout) == 0 ? TPC_EXIT_OK : TPC_EXIT_ERROR;
    }
    if (o.tls && !tlsc_available()) {
        tpc_opts_free(&o);
        return usage_error("--tls: this tpclient was built without OpenSSL");
    }
    /* A reader of our stdout that goes away must not kill us silently
     * mid-exchange; sends use MSG_NOSIGNAL anyway. */
    signal(SIGPIPE, SIG_IGN);
    int rc = run(&o);
    tpc_opts_free(&o);
    return rc;
}
