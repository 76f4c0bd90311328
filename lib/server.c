/* SPDX-License-Identifier: MIT */
/* server.c - the server's life: create, configure, listen, start, stop,
 * wait, free, and the statistics. The only module that starts or joins
 * threads. */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include "internal.h"

int tps_server_new(tps_server **out)
{
    tps_server *srv = calloc(1, sizeof(*srv));
    if (srv == NULL)
        return TPS_ENOMEM;
    tps__options_defaults(srv->opt);
    srv->handler_copy = tps_echo_handler;
    srv->handler = &srv->handler_copy;
    srv->log_level = TPS_LOG_INFO;
    atomic_init(&srv->drain_deadline_ms, INT64_MAX);
    srv->acceptor_wakefd = srv->reserve_fd = srv->monitor_evfd = -1;
    pthread_mutex_init(&srv->runners_lock, NULL);
    pthread_mutex_init(&srv->tls_lock, NULL);
    *out = srv;
    return 0;
}

/* The caller's struct may be shorter (built against an older header: its
 * missing callbacks stay NULL) or longer (a newer one: what it adds must
 * be unset, or it expects callbacks this library would never call). */
int tps_server_set_handler_size(tps_server *srv, const tps_handler *h, size_t size, void *ud)
{
    if (srv == NULL || h == NULL || size < offsetof(tps_handler, on_limit))
        return TPS_EINVAL;
    if (srv->started)
        return TPS_EBUSY;
    for (size_t i = sizeof(tps_handler); i < size; i++)
        if (((const unsigned char *)h)[i] != 0)
            return TPS_ENOSYS;
    memset(&srv->handler_copy, 0, sizeof(srv->handler_copy));
    memcpy(&srv->handler_copy, h, size < sizeof(tps_handler) ? size : sizeof(tps_handler));
    srv->handler_ud = ud;
    return 0;
}

int tps_server_set_log(tps_server *srv, tps_log_fn fn, void *ud, int level)
{
    if (srv == NULL || level < TPS_LOG_ERROR || level > TPS_LOG_DEBUG)
        return TPS_EINVAL;
    if (srv->started)
        return TPS_EBUSY;
    srv->log_fn = fn;
    srv->log_ud = ud;
    srv->log_level = level;
    return 0;
}

int tps_server_listen(tps_server *srv, const char *spec)
{
    if (srv == NULL || spec == NULL)
        return TPS_EINVAL;
    return srv->started ? TPS_EBUSY : tps__listener_open(srv, spec);
}

int tps_server_listen_fd(tps_server *srv, int fd)
{
    if (srv == NULL || fd < 0)
        return TPS_EINVAL;
    return srv->started ? TPS_EBUSY : tps__listener_adopt(srv, fd);
}

unsigned tps_server_listener_count(const tps_server *srv)
{
    return srv ? srv->nlisteners : 0;
}

int tps_server_address(const tps_server *srv, unsigned idx, char *buf, size_t len)
{
    if (srv == NULL || idx >= srv->nlisteners || buf == NULL)
        return TPS_EINVAL;
    size_t n = strlen(srv->listeners[idx].addr);
    if (n >= len)
        return TPS_ENOBUFS;
    memcpy(buf, srv->listeners[idx].addr, n + 1);
    return 0;
}

int tps_server_port(const tps_server *srv, unsigned idx)
{
    if (srv == NULL || idx >= srv->nlisteners)
        return TPS_EINVAL;
    const char *a = srv->listeners[idx].addr, *colon = strrchr(a, ':');
    if (strncmp(a, "unix:", 5) == 0 || colon == NULL)
        return TPS_EAFNOSUPPORT;
    return tps__parse_port(colon + 1);
}

/* Descriptors open now: the host's and the listeners'. A guess where
 * /proc is not mounted. */
static long long fds_open_now(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL)
        return 16;
    long long n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        n += e->d_name[0] != '.';
    closedir(d);
    return n - 1; /* the directory's own descriptor */
}

/* How many connections RLIMIT_NOFILE leaves room for: the limit, less what
 * is open now, what the server opens at start (an epoll and an eventfd
 * per worker; the acceptor's eventfd, the reserve, the monitor's), and a
 * slack for the host program (8, plus 1/64 of the limit). A max_conns
 * above it would only ever be reached through EMFILE shedding. */
static long long conns_that_fit(const tps_server *srv, long long *limit)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) {
        *limit = -1;
        return srv->opt[TPS_OPT_MAX_CONNS] ? srv->opt[TPS_OPT_MAX_CONNS] : 1024;
    }
    *limit = (long long)rl.rlim_cur;
    long long own = 2 * srv->opt[TPS_OPT_WORKERS] + 3;
    long long fits = *limit - fds_open_now() - own - (8 + *limit / 64);
    return fits < 1 ? 1 : fits;
}

/* Auto values: workers = CPUs, max conns = what RLIMIT_NOFILE allows; a
 * max conns set above that is clamped to it (and said so). */
static void resolve_auto(tps_server *srv)
{
    long long *opt = srv->opt, limit;
    if (opt[TPS_OPT_WORKERS] == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        opt[TPS_OPT_WORKERS] = n > 0 ? n : 1;
    }
    long long fits = conns_that_fit(srv, &limit);
    if (opt[TPS_OPT_MAX_CONNS] == 0) {
        opt[TPS_OPT_MAX_CONNS] = fits;
    } else if (opt[TPS_OPT_MAX_CONNS] > fits) {
        tps__log(srv, TPS_LOG_WARN,
                 "max_conns %lld does not fit RLIMIT_NOFILE %lld: using %lld "
                 "(raise the limit, ulimit -n, for more)",
                 opt[TPS_OPT_MAX_CONNS], limit, fits);
        opt[TPS_OPT_MAX_CONNS] = fits;
    }
    srv->nworkers = (unsigned)opt[TPS_OPT_WORKERS];
}

static int alloc_state(tps_server *srv)
{
    const long long *opt = srv->opt;
    int rc = tps__fdqueue_init(&srv->queue, (size_t)opt[TPS_OPT_QUEUE]);
    if (rc == 0)
        rc = tps__conntab_init(&srv->conns, (size_t)opt[TPS_OPT_MAX_CONNS] + 1);
    if (rc == 0 && opt[TPS_OPT_MAX_CONNS_PER_IP] > 0)
        rc = tps__iplimit_new(&srv->iplimit, 4096);
    srv->may_block = (srv->handler->flags & TPS_HANDLER_MAY_BLOCK) != 0;
    if (rc < 0)
        return rc;
    srv->workers = calloc(srv->nworkers, sizeof(*srv->workers));
    for (unsigned i = 0; srv->workers && i < srv->nworkers; i++)
        srv->workers[i].epfd = srv->workers[i].wakefd = -1; /* for free() */
    srv->acceptor_wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    srv->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (srv->workers == NULL)
        return TPS_ENOMEM;
    return srv->acceptor_wakefd < 0 || srv->reserve_fd < 0 ? -errno : 0;
}

/* Threads start with every signal blocked: signals belong to the host. */
static int start_threads(tps_server *srv)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = tps__hspool_start(srv);
    if (rc == 0)
        rc = tps__runners_start(srv);
    if (rc == 0)
        rc = tps__acceptor_start(srv);
    if (rc == 0) {
        srv->acceptor_started = true;
    } else { /* workers must not wait for an acceptor that never ran, and
              * runners never given a worker must not wait at all */
        atomic_store(&srv->acceptor_done, true);
        pthread_mutex_lock(&srv->runners_lock);
        srv->runners_quit = true;
        for (unsigned i = 0; i < srv->nrunners; i++)
            pthread_cond_signal(&srv->runners[i]->cond);
        pthread_mutex_unlock(&srv->runners_lock);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

/* The settings an operator would want to see at start; the opt-in ones
 * that trade something away only when they are on. */
static void log_started(tps_server *srv)
{
    char poll[48] = "", defer[48] = "", trust[48] = "";
    if (srv->ntrusted > 0)
        snprintf(trust, sizeof trust, ", PROXY headers from %u trusted ranges", srv->ntrusted);
    if (srv->opt[TPS_OPT_BUSY_POLL_US] > 0)
        snprintf(poll, sizeof poll, ", busy-poll %lld us", srv->opt[TPS_OPT_BUSY_POLL_US]);
    if (srv->opt[TPS_OPT_DEFER_ACCEPT_MS] > 0)
        snprintf(defer, sizeof defer, ", defer-accept %lld ms", srv->opt[TPS_OPT_DEFER_ACCEPT_MS]);
    tps__log(srv, TPS_LOG_INFO,
             "started: %u workers, queue %lld, max_conns %lld, handler %s%s%s%s%s", srv->nworkers,
             srv->opt[TPS_OPT_QUEUE], srv->opt[TPS_OPT_MAX_CONNS],
             srv->handler->name ? srv->handler->name : "(unnamed)",
             srv->may_block ? " (may block)" : "", poll, defer, trust);
}

int tps_server_start(tps_server *srv)
{
    if (srv == NULL)
        return TPS_EINVAL;
    if (srv->started)
        return TPS_EALREADY;
    if (srv->nlisteners == 0)
        return TPS_EINVAL;
    resolve_auto(srv);
    tps__listeners_prepare(srv);
    srv->started = true;
    atomic_store(&srv->run_state, TPS__RUN_RUNNING);
    int rc = alloc_state(srv);
    if (rc == 0)
        rc = start_threads(srv);
    if (rc < 0) {
        tps__log_errno(srv, TPS_LOG_ERROR, -rc, "tps_server_start() failed");
        tps_server_stop(srv, 0);
        tps_server_wait(srv);
        return rc;
    }
    log_started(srv);
    return 0;
}

int tps_server_stop(tps_server *srv, unsigned drain_ms)
{
    if (srv == NULL || !srv->started)
        return TPS_EINVAL;
    /* The deadline first, the state second: a worker that sees DRAINING
     * must see its deadline (it once read 0 and force-closed at once). */
    int64_t deadline = tps__now_ms() + drain_ms;
    int64_t cur = atomic_load(&srv->drain_deadline_ms);
    while (deadline < cur && !atomic_compare_exchange_weak(&srv->drain_deadline_ms, &cur, deadline))
        ; /* a second stop can only bring the deadline closer */
    int state = TPS__RUN_RUNNING;
    atomic_compare_exchange_strong(&srv->run_state, &state, TPS__RUN_DRAINING);
    /* tps__ring, not tps__wake: no logging in a signal handler. */
    if (srv->acceptor_wakefd >= 0)
        tps__ring(srv, srv->acceptor_wakefd);
    for (unsigned i = 0; srv->workers && i < srv->nworkers; i++)
        if (srv->workers[i].wakefd >= 0)
            tps__ring(srv, srv->workers[i].wakefd);
    return 0;
}

int tps_server_wait(tps_server *srv)
{
    if (srv == NULL || !srv->started)
        return TPS_EINVAL;
    if (srv->joined)
        return 0;
    if (srv->acceptor_started)
        pthread_join(srv->acceptor, NULL);
    tps__runners_join(srv);
    tps__hspool_stop(srv);     /* after the workers: none has a connection away */
    tps__listeners_close(srv); /* if the acceptor never ran */
    tps__wake_log(srv);
    srv->joined = true;
    atomic_store(&srv->run_state, TPS__RUN_STOPPED);
    tps__log(srv, TPS_LOG_INFO, "stopped");
    return 0;
}

void tps_server_free(tps_server *srv)
{
    if (srv == NULL)
        return;
    if (srv->started && !srv->joined) {
        tps_server_stop(srv, 0);
        tps_server_wait(srv);
    }
    tps__listeners_close(srv);
    for (unsigned i = 0; srv->workers && i < srv->nworkers; i++)
        tps__worker_destroy(&srv->workers[i]);
    free(srv->workers);
    free(srv->runners);
    pthread_mutex_destroy(&srv->runners_lock);
    tps__fdqueue_destroy(&srv->queue);
    tps__conntab_destroy(&srv->conns);
    tps__iplimit_free(srv->iplimit);
    tps__proxy_trust_free(srv);
    tps__tls_server_free(srv);
    pthread_mutex_destroy(&srv->tls_lock);
    if (srv->monitor_evfd >= 0)
        close(srv->monitor_evfd);
    if (srv->acceptor_wakefd >= 0)
        close(srv->acceptor_wakefd);
    if (srv->reserve_fd >= 0)
        close(srv->reserve_fd);
    free(srv);
}

static size_t worker_hists(const tps_server *srv, enum tps_hist h, const tps__hist **out)
{
    size_t n = 0;
    if (srv == NULL || (int)h < 0 || h >= TPS_HIST_COUNT_)
        return 0;
    for (unsigned i = 0; srv->workers && i < srv->nworkers; i++)
        out[n++] = &srv->workers[i].hist[h];
    return n;
}

uint64_t tps_server_hist_count(const tps_server *srv, enum tps_hist h)
{
    const tps__hist *hs[srv ? srv->nworkers + 1 : 1];
    size_t n = worker_hists(srv, h, hs);
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += atomic_load_explicit(&hs[i]->count, memory_order_relaxed);
    return sum;
}

uint64_t tps_server_hist_pct(const tps_server *srv, enum tps_hist h, double p)
{
    const tps__hist *hs[srv ? srv->nworkers + 1 : 1];
    size_t n = worker_hists(srv, h, hs);
    return n ? tps__hist_pct(hs, n, p < 0 ? 0 : p) : 0;
}

uint64_t tps_server_stat(const tps_server *srv, enum tps_stat s)
{
    if (srv == NULL || (int)s < 0 || s >= TPS_STAT_COUNT_)
        return 0;
    tps_server *m = (tps_server *)srv; /* the queue's lock is not const */
    if (s == TPS_STAT_ACTIVE)
        return atomic_load(&m->active) - (srv->started ? tps__fdqueue_count(&m->queue) : 0);
    if (s == TPS_STAT_QUEUED)
        return srv->started ? tps__fdqueue_count(&m->queue) : 0;
    uint64_t sum = atomic_load_explicit(&m->acc_stats.v[s], memory_order_relaxed);
    for (unsigned i = 0; srv->workers && i < srv->nworkers; i++)
        sum += atomic_load_explicit(&m->workers[i].stats.v[s], memory_order_relaxed);
    return sum;
}
