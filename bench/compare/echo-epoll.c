/* SPDX-License-Identifier: MIT */
/* Reference echo server on raw epoll: what a competent C programmer writes
 * without a library, and so the first thing tpserver must beat. One
 * edge-triggered event loop per thread; each loop owns its connections for
 * their whole life (no locks). Connections reach a loop in one of two ways
 * (-m): "reuseport" (default) gives every loop its own SO_REUSEPORT listener
 * so the kernel spreads connections; "acceptor" lets loop 0 accept for all
 * and hand each new socket round robin to a loop's epoll; "spin" is the
 * default with loops that never sleep (epoll_wait with a zero timeout), to
 * measure what a wakeup costs the peers that cause it. A read fills a
 * per-loop 64 KiB buffer and is written straight back; only what the socket
 * refuses is copied aside, and a connection with such a remainder stops
 * reading until the remainder is gone (backpressure: at most 64 KiB held per
 * connection however slowly the peer reads). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* accept4, SO_REUSEPORT */
#endif
#include "refsrv.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

struct conn {
    int fd;
    struct refsrv_out out; /* unsent remainder */
};

struct loop {
    int ep;
    int lfd; /* this loop's listener, -1 if it has none */
    pthread_t tid;
    char buf[REFSRV_BUF_SIZE];
};

static struct loop *loops;
static int nloops;
static int acceptor_mode;
static int wait_ms = -1;   /* epoll_wait timeout: 0 when spinning */
static unsigned next_loop; /* round robin cursor, touched by loop 0 only */

static void conn_close(struct conn *c)
{
    close(c->fd); /* also removes it from the epoll set */
    free(c->out.buf);
    free(c);
}

/* Reads and echoes until the socket is drained (a short read says so, unless
 * the peer's FIN is pending and we must read on to see EOF), the peer stops
 * taking data, or the connection ends. Returns -1 when it must close. */
static int conn_echo(struct loop *l, struct conn *c, int rdhup)
{
    for (;;) {
        ssize_t n = read(c->fd, l->buf, sizeof l->buf);
        if (n == 0)
            return -1;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno == EAGAIN ? 0 : -1;
        ssize_t w = write(c->fd, l->buf, (size_t)n);
        if (w != n) /* reading stops until the remainder is sent */
            return refsrv_out_keep(&c->out, l->buf, n, w);
        if ((size_t)n < sizeof l->buf && !rdhup)
            return 0;
    }
}

static void conn_event(struct loop *l, struct conn *c, uint32_t ev)
{
    if (ev & (EPOLLERR | EPOLLHUP)) {
        conn_close(c);
        return;
    }
    /* Read when input is signalled, or when a remainder has just gone out:
     * reading stopped while it was pending, and edge-triggered epoll will
     * not report the bytes that arrived meanwhile again. */
    int want_read = (ev & (EPOLLIN | EPOLLRDHUP)) || c->out.buf;
    int r = c->out.buf ? refsrv_out_flush(&c->out, c->fd) : 1;
    if (r == 1 && want_read)
        r = conn_echo(l, c, (ev & EPOLLRDHUP) != 0);
    if (r < 0)
        conn_close(c);
}

static void adopt(struct loop *l, int fd)
{
    struct conn *c = calloc(1, sizeof *c);
    if (!c) {
        close(fd);
        return;
    }
    c->fd = fd;
    struct epoll_event e = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = c};
    if (epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &e) < 0)
        conn_close(c);
}

/* The listener is level-triggered: accept what is pending, then return to
 * the loop (descriptor exhaustion just leaves the rest in the backlog). */
static void accept_all(struct loop *l)
{
    for (;;) {
        int fd = accept4(l->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            return;
        }
        refsrv_nodelay(fd);
        adopt(acceptor_mode ? &loops[next_loop++ % (unsigned)nloops] : l, fd);
    }
}

static void *loop_run(void *arg)
{
    struct loop *l = arg;
    struct epoll_event ev[256];
    for (;;) {
        int n = epoll_wait(l->ep, ev, 256, wait_ms);
        if (n < 0 && errno != EINTR)
            refsrv_die("epoll_wait", errno);
        for (int i = 0; i < n; i++) {
            if (ev[i].data.ptr == NULL)
                accept_all(l);
            else
                conn_event(l, ev[i].data.ptr, ev[i].events);
        }
    }
    return NULL;
}

static void loop_init(struct loop *l, int lfd)
{
    l->ep = epoll_create1(EPOLL_CLOEXEC);
    if (l->ep < 0)
        refsrv_die("epoll_create1", errno);
    l->lfd = lfd;
    if (lfd < 0)
        return;
    struct epoll_event e = {.events = EPOLLIN, .data.ptr = NULL};
    if (epoll_ctl(l->ep, EPOLL_CTL_ADD, lfd, &e) < 0)
        refsrv_die("epoll_ctl(listener)", errno);
}

int main(int argc, char **argv)
{
    struct refsrv_opts o;
    refsrv_parse(argc, argv, &o,
                 "reuseport (a listener per loop, default), acceptor, or spin\n"
                 "              (reuseport, and the loops never sleep)");
    if (o.mode && strcmp(o.mode, "acceptor") == 0)
        acceptor_mode = 1;
    else if (o.mode && strcmp(o.mode, "spin") == 0)
        wait_ms = 0;
    else if (o.mode && strcmp(o.mode, "reuseport") != 0)
        refsrv_bad_mode(o.mode);
    nloops = o.threads;
    loops = calloc((size_t)nloops, sizeof *loops);
    int fds[REFSRV_MAX_THREADS];
    if (!loops)
        refsrv_die("calloc", errno);
    int port = refsrv_listen(o.port, acceptor_mode ? 1 : nloops, fds);
    for (int i = 0; i < nloops; i++)
        loop_init(&loops[i], acceptor_mode && i > 0 ? -1 : fds[i]);
    refsrv_ready(port);
    for (int i = 1; i < nloops; i++)
        if ((errno = pthread_create(&loops[i].tid, NULL, loop_run, &loops[i])) != 0)
            refsrv_die("pthread_create", errno);
    loop_run(&loops[0]);
    return 0;
}
