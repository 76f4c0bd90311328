/* SPDX-License-Identifier: MIT */
/* Reference echo server on libuv, written the way libuv's own examples and
 * benchmarks do it, plus the usual speed-ups: one 64 KiB read buffer per
 * loop (alloc_cb hands it out; nothing keeps it past read_cb), uv_try_write
 * first, and only the part the socket refuses goes through uv_write in a
 * malloc'd copy. While such a write is pending the connection stops reading
 * (backpressure) and resumes in the write callback. -t N runs N loops, one
 * per thread, each with its own SO_REUSEPORT listener (uv_tcp_open). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include "refsrv.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

struct loopctx {
    uv_loop_t loop;
    uv_tcp_t server;
    pthread_t tid;
    char buf[REFSRV_BUF_SIZE];
};

/* A pending remainder: the request and its bytes in one allocation. */
struct wreq {
    uv_write_t req;
    uv_buf_t b;
    char data[];
};

static void on_closed(uv_handle_t *h)
{
    free(h);
}

static void conn_close(uv_stream_t *s)
{
    if (!uv_is_closing((uv_handle_t *)s))
        uv_close((uv_handle_t *)s, on_closed);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
    struct loopctx *lc = h->loop->data;
    (void)hint;
    *b = uv_buf_init(lc->buf, sizeof lc->buf);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b);

static void on_written(uv_write_t *req, int status)
{
    uv_stream_t *s = req->handle;
    free(req);
    if (status < 0)
        conn_close(s);
    else if (!uv_is_closing((uv_handle_t *)s))
        uv_read_start(s, on_alloc, on_read);
}

/* Queues data[w..n) and stops reading until it is written. */
static void send_rest(uv_stream_t *s, const char *data, size_t n, size_t w)
{
    struct wreq *wr = malloc(sizeof *wr + (n - w));
    if (!wr) {
        conn_close(s);
        return;
    }
    memcpy(wr->data, data + w, n - w);
    wr->b = uv_buf_init(wr->data, (unsigned)(n - w));
    if (uv_write(&wr->req, s, &wr->b, 1, on_written) < 0) {
        free(wr);
        conn_close(s);
        return;
    }
    uv_read_stop(s);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    if (n < 0) {
        conn_close(s);
        return;
    }
    if (n == 0)
        return;
    uv_buf_t out = uv_buf_init(b->base, (unsigned)n);
    int w = uv_try_write(s, &out, 1);
    if (w == n)
        return;
    if (w < 0 && w != UV_EAGAIN) {
        conn_close(s);
        return;
    }
    send_rest(s, b->base, (size_t)n, w < 0 ? 0 : (size_t)w);
}

static void on_connection(uv_stream_t *server, int status)
{
    if (status < 0)
        return;
    uv_tcp_t *c = malloc(sizeof *c);
    if (!c)
        return;
    uv_tcp_init(server->loop, c);
    if (uv_accept(server, (uv_stream_t *)c) < 0) {
        uv_close((uv_handle_t *)c, on_closed);
        return;
    }
    uv_tcp_nodelay(c, 1);
    uv_read_start((uv_stream_t *)c, on_alloc, on_read);
}

static void loop_init(struct loopctx *lc, int fd)
{
    int r = uv_loop_init(&lc->loop);
    if (r == 0)
        r = uv_tcp_init(&lc->loop, &lc->server);
    if (r == 0)
        r = uv_tcp_open(&lc->server, fd);
    if (r == 0)
        r = uv_listen((uv_stream_t *)&lc->server, 4096, on_connection);
    if (r < 0) {
        fprintf(stderr, "echo-libuv: loop setup: %s\n", uv_strerror(r));
        exit(1);
    }
    lc->loop.data = lc;
}

static void *loop_run(void *arg)
{
    struct loopctx *lc = arg;
    uv_run(&lc->loop, UV_RUN_DEFAULT);
    return NULL;
}

int main(int argc, char **argv)
{
    struct refsrv_opts o;
    refsrv_parse(argc, argv, &o, NULL);
    int fds[REFSRV_MAX_THREADS];
    struct loopctx *lcs = calloc((size_t)o.threads, sizeof *lcs);
    if (!lcs)
        refsrv_die("calloc", ENOMEM);
    int port = refsrv_listen(o.port, o.threads, fds);
    for (int i = 0; i < o.threads; i++)
        loop_init(&lcs[i], fds[i]);
    refsrv_ready(port);
    for (int i = 1; i < o.threads; i++)
        if ((errno = pthread_create(&lcs[i].tid, NULL, loop_run, &lcs[i])) != 0)
            refsrv_die("pthread_create", errno);
    loop_run(&lcs[0]);
    return 0;
}
