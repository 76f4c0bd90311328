/* SPDX-License-Identifier: MIT */
/* bev-echo.c - see bev-echo.h. */
#include "bev-echo.h"

#include <event2/buffer.h>
#include <event2/event.h>

#include "refsrv.h"

static void on_read(struct bufferevent *bev, void *arg)
{
    struct evbuffer *out = bufferevent_get_output(bev);
    (void)arg;
    evbuffer_add_buffer(out, bufferevent_get_input(bev));
    if (evbuffer_get_length(out) >= REFSRV_BUF_SIZE)
        bufferevent_disable(bev, EV_READ);
}

/* Called when the output has drained (write low watermark 0). */
static void on_write(struct bufferevent *bev, void *arg)
{
    (void)arg;
    bufferevent_enable(bev, EV_READ);
}

static void free_drained(struct bufferevent *bev, void *arg)
{
    (void)arg;
    bufferevent_free(bev);
}

/* At EOF the echo of what came before it may still be waiting: free only
 * once the output has drained. Freeing closes the socket (and frees an
 * openssl bufferevent's SSL): BEV_OPT_CLOSE_ON_FREE. */
static void on_event(struct bufferevent *bev, short what, void *arg)
{
    (void)arg;
    if ((what & BEV_EVENT_EOF) && evbuffer_get_length(bufferevent_get_output(bev)) > 0)
        bufferevent_setcb(bev, NULL, free_drained, on_event, NULL);
    else if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
        bufferevent_free(bev);
}

void bev_echo_start(struct bufferevent *bev)
{
    bufferevent_setcb(bev, on_read, on_write, on_event, NULL);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
}
