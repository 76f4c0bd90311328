/* SPDX-License-Identifier: MIT */
/* sigloop.c - signals as events: all of them are blocked in every thread
 * and the main thread takes them with sigwaitinfo(), so the reaction runs
 * as ordinary code (no async-signal-safety limits, no EINTR in workers).
 *
 * Threads: main (this loop) and one waiter that blocks in
 * tps_server_wait(). The waiter sets `done` and then signals main with
 * SIGUSR2; main joins it before returning, so srv stays valid for the
 * waiter's whole life. */
#include "config.h"

#include "sigloop.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "report.h"

struct waiter {
    tps_server *srv;
    pthread_t main_thread;
    atomic_int done;
    int rc;
};

int tpsrv_block_signals(sigset_t *set)
{
    static const int sigs[] = {SIGTERM, SIGINT, SIGUSR1, SIGUSR2, SIGHUP, SIGPIPE};

    sigemptyset(set);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaddset(set, sigs[i]);
    return -pthread_sigmask(SIG_BLOCK, set, NULL);
}

static void *waiter_main(void *arg)
{
    struct waiter *w = arg;

    w->rc = tps_server_wait(w->srv);
    atomic_store(&w->done, 1);
    pthread_kill(w->main_thread, SIGUSR2);
    return NULL;
}

static void on_stop_signal(tps_server *srv, int sig, int *count, unsigned drain_ms)
{
    const char *name = sig == SIGTERM ? "SIGTERM" : "SIGINT";

    if ((*count)++ == 0) {
        tpsrv_logf(TPS_LOG_INFO,
                   "%s: stopping, draining for up to %u ms "
                   "(send it again to stop at once)",
                   name, drain_ms);
        tps_server_stop(srv, drain_ms);
    } else {
        tpsrv_logf(TPS_LOG_WARN, "%s again: stopping now", name);
        tps_server_stop(srv, 0);
    }
}

struct reload {
    int (*fn)(tps_server *srv, const void *ud);
    const void *ud;
};

static void on_hup(tps_server *srv, const struct reload *r)
{
    if (r->fn == NULL) {
        tpsrv_logf(TPS_LOG_INFO, "SIGHUP ignored: nothing to reload");
        return;
    }
    int rc = r->fn(srv, r->ud);
    if (rc < 0)
        tpsrv_logf(TPS_LOG_ERROR, "SIGHUP: reload failed (%s): serving on with the old one",
                   tps_strerror(rc));
    else
        tpsrv_logf(TPS_LOG_INFO, "SIGHUP: reloaded");
}

static void handle(tps_server *srv, int sig, int *stops, unsigned drain_ms, const struct reload *r)
{
    switch (sig) {
    case SIGTERM:
    case SIGINT:
        on_stop_signal(srv, sig, stops, drain_ms);
        break;
    case SIGUSR1:
        tpsrv_print_stats(srv, "SIGUSR1");
        break;
    case SIGHUP:
        on_hup(srv, r);
        break;
    default: /* SIGUSR2: the waiter's wake-up; SIGPIPE: nothing to do */
        break;
    }
}

int tpsrv_sigloop(tps_server *srv, const sigset_t *set, unsigned drain_ms,
                  int (*reload)(tps_server *srv, const void *ud), const void *ud)
{
    const struct reload r = {reload, ud};
    struct waiter w = {.srv = srv, .main_thread = pthread_self()};
    pthread_t tid;
    int stops = 0, rc;

    atomic_init(&w.done, 0);
    rc = pthread_create(&tid, NULL, waiter_main, &w);
    if (rc != 0) {
        tpsrv_logf(TPS_LOG_ERROR, "pthread_create() failed: %s", strerror(rc));
        tps_server_stop(srv, 0);
        tps_server_wait(srv);
        return -rc;
    }
    while (!atomic_load(&w.done)) {
        siginfo_t si;
        int sig = sigwaitinfo(set, &si);
        if (sig > 0)
            handle(srv, sig, &stops, drain_ms, &r);
    }
    pthread_join(tid, NULL);
    return w.rc;
}
