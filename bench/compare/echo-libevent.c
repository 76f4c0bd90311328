/* SPDX-License-Identifier: MIT */
/* Reference echo server on libevent 2, in two variants (-m):
 *  "raw" (default): plain event callbacks, the fast way. Read events are
 *    level-triggered and persistent; a read fills the base's 64 KiB buffer
 *    and is written straight back; the part the socket refuses is copied
 *    aside, reading is switched off and a write event switched on until the
 *    remainder is gone (backpressure).
 *  "bufferevent": the textbook way: evbuffer_add_buffer(output, input) in
 *    the read callback, reading disabled while more than 64 KiB wait to be
 *    sent, re-enabled when the output has drained.
 * Both accept through an evconnlistener. -t N runs N event bases, one per
 * thread, each with its own SO_REUSEPORT listener; bases are not shared
 * between threads, so they are created without locks. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include "refsrv.h"
#include "bev-echo.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct basectx {
    struct event_base *base;
    pthread_t tid;
    char buf[REFSRV_BUF_SIZE];
};

struct conn {
    evutil_socket_t fd;
    struct basectx *bc;
    struct event *rd, *wr;
    struct refsrv_out out; /* unsent remainder */
};

static int use_bufferevent;

/* ---- raw events --------------------------------------------------------- */

static void conn_free(struct conn *c)
{
    event_free(c->rd);
    event_free(c->wr);
    close(c->fd);
    free(c->out.buf);
    free(c);
}

/* Keeps data[w..n) and swaps reading for waiting on writability. */
static int conn_keep(struct conn *c, const char *data, ssize_t n, ssize_t w)
{
    if (refsrv_out_keep(&c->out, data, n, w) < 0)
        return -1;
    event_del(c->rd);
    event_add(c->wr, NULL);
    return 0;
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    char *buf = c->bc->buf;
    ssize_t n;
    (void)what;
    do {
        n = read(fd, buf, REFSRV_BUF_SIZE);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            conn_free(c);
            return;
        }
        if (n < 0)
            return;
        ssize_t w = write(fd, buf, (size_t)n);
        if (w != n) {
            if (conn_keep(c, buf, n, w) < 0)
                conn_free(c);
            return;
        }
    } while (n == REFSRV_BUF_SIZE); /* a short read drained it; level-triggered anyway */
}

static void on_writable(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    (void)what;
    int r = refsrv_out_flush(&c->out, (int)fd);
    if (r < 0)
        conn_free(c);
    if (r <= 0)
        return;
    event_del(c->wr);
    event_add(c->rd, NULL);
}

static void raw_adopt(struct basectx *bc, evutil_socket_t fd)
{
    struct conn *c = calloc(1, sizeof *c);
    if (c) {
        c->fd = fd;
        c->bc = bc;
        c->rd = event_new(bc->base, fd, EV_READ | EV_PERSIST, on_readable, c);
        c->wr = event_new(bc->base, fd, EV_WRITE | EV_PERSIST, on_writable, c);
    }
    if (!c || !c->rd || !c->wr || event_add(c->rd, NULL) < 0) {
        if (c) {
            if (c->rd)
                event_free(c->rd);
            if (c->wr)
                event_free(c->wr);
            free(c);
        }
        close(fd);
    }
}

/* ---- bufferevents ------------------------------------------------------- */

static void bev_adopt(struct basectx *bc, evutil_socket_t fd)
{
    struct bufferevent *bev = bufferevent_socket_new(bc->base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (!bev) {
        close(fd);
        return;
    }
    bev_echo_start(bev);
}

/* ---- listening and threads ---------------------------------------------- */

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
                      void *arg)
{
    (void)l, (void)sa, (void)salen;
    refsrv_nodelay(fd);
    if (use_bufferevent)
        bev_adopt(arg, fd);
    else
        raw_adopt(arg, fd);
}

static void base_init(struct basectx *bc, int fd)
{
    struct event_config *cfg = event_config_new();
    if (!cfg || event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK) < 0)
        refsrv_die("event_config", ENOMEM);
    bc->base = event_base_new_with_config(cfg);
    event_config_free(cfg);
    if (!bc->base)
        refsrv_die("event_base_new", ENOMEM);
    unsigned flags = LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC;
    if (!evconnlistener_new(bc->base, on_accept, bc, flags, 4096, fd))
        refsrv_die("evconnlistener_new", errno);
}

static void *base_run(void *arg)
{
    struct basectx *bc = arg;
    event_base_dispatch(bc->base);
    return NULL;
}

int main(int argc, char **argv)
{
    struct refsrv_opts o;
    refsrv_parse(argc, argv, &o, "raw (event callbacks, default) or bufferevent");
    if (o.mode && strcmp(o.mode, "bufferevent") == 0)
        use_bufferevent = 1;
    else if (o.mode && strcmp(o.mode, "raw") != 0)
        refsrv_bad_mode(o.mode);
    int fds[REFSRV_MAX_THREADS];
    struct basectx *bcs = calloc((size_t)o.threads, sizeof *bcs);
    if (!bcs)
        refsrv_die("calloc", ENOMEM);
    int port = refsrv_listen(o.port, o.threads, fds);
    for (int i = 0; i < o.threads; i++)
        base_init(&bcs[i], fds[i]);
    refsrv_ready(port);
    for (int i = 1; i < o.threads; i++)
        if ((errno = pthread_create(&bcs[i].tid, NULL, base_run, &bcs[i])) != 0)
            refsrv_die("pthread_create", errno);
    base_run(&bcs[0]);
    return 0;
}
