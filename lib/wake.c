/* SPDX-License-Identifier: MIT */
/* wake.c - doorbells: the eventfds the acceptor, the workers and the
 * monitor sleep on, and the one way to ring them. A leaf: it knows
 * nothing of who waits. */
#include "config.h"

#include <errno.h>
#include <unistd.h>

#include "internal.h"

/* A ring that does not happen can leave a thread asleep for good: the
 * acceptor waits in poll(-1) and an idle worker in epoll_wait(-1), and
 * neither has a periodic wakeup to fall back on (an idle server costs no
 * CPU). So: EINTR is retried; EAGAIN is an eventfd whose counter is at its
 * maximum, already rung; anything else cannot happen to a valid eventfd
 * (EBADF, EINVAL: a bug), is recorded and logged once. errno is kept for
 * the caller (tps_server_stop may run in a signal handler). */
int tps__ring(tps_server *srv, int fd)
{
    static const uint64_t one = 1;
    int saved = errno, err = 0;
    for (;;) {
        ssize_t n = write(fd, &one, sizeof(one));
        if (n == (ssize_t)sizeof(one))
            break;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        err = n < 0 ? errno : EIO;
        int none = 0;
        atomic_compare_exchange_strong(&srv->wake_errno, &none, err);
        break;
    }
    errno = saved;
    return -err;
}

void tps__wake(tps_server *srv, int fd)
{
    if (tps__ring(srv, fd) < 0)
        tps__wake_log(srv);
}

void tps__wake_log(tps_server *srv)
{
    int err = atomic_load(&srv->wake_errno);
    if (err != 0 && !atomic_exchange(&srv->wake_logged, true))
        tps__log_errno(srv, TPS_LOG_ERROR, err,
                       "cannot ring a thread's eventfd (logged once; a wakeup may be late)");
}
