/* SPDX-License-Identifier: MIT */
/* mail.c - how other threads reach a connection: tps_server_conn_send()
 * and tps_server_conn_close() by connection id.
 *
 * The caller finds the owning worker under the conn table's lock (the id's
 * generation must match, so a reused slot never gets another client's
 * data), copies the bytes into a message and appends it to that worker's
 * inbox (inbox_lock), waking the worker when the inbox was empty. The
 * worker moves the inbox to its own list and delivers in order, each
 * message as a short turn (tps_conn_send + flush). A connection away in a
 * may-block callback keeps its messages, in order, until it is back.
 * Bytes queued per worker are capped (TPS_OPT_MAX_OUTPUT) so a thread that
 * outruns the worker gets TPS_ENOBUFS instead of unbounded memory. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef struct tps__mail {
    struct tps__mail *next; /* inbox */
    tps__list link;         /* worker's list */
    uint64_t id;
    bool close;
    size_t len;
    char data[];
} tps__mail;

void tps__mail_init(tps__worker *w)
{
    pthread_mutex_init(&w->inbox_lock, NULL);
    w->inbox = NULL;
    w->inbox_tail = &w->inbox;
    tps__list_init(&w->mail);
}

void tps__mail_destroy(tps__worker *w)
{
    while (w->inbox != NULL) {
        tps__mail *m = w->inbox;
        w->inbox = m->next;
        free(m);
    }
    while (w->mail.next != NULL && !tps__list_empty(&w->mail)) {
        tps__mail *m = tps__container_of(w->mail.next, tps__mail, link);
        tps__list_unlink(&m->link);
        free(m);
    }
    pthread_mutex_destroy(&w->inbox_lock);
}

static int post(tps_server *srv, uint64_t id, const void *data, size_t len, bool close)
{
    if (srv == NULL || !srv->started || (data == NULL && len > 0))
        return TPS_EINVAL;
    tps__worker *w = tps__conntab_owner(&srv->conns, id);
    if (w == NULL)
        return TPS_ENOTCONN;
    tps__mail *m = malloc(sizeof(*m) + len);
    if (m == NULL)
        return TPS_ENOMEM;
    m->next = NULL;
    m->id = id;
    m->close = close;
    m->len = len;
    if (len > 0)
        memcpy(m->data, data, len);
    pthread_mutex_lock(&w->inbox_lock);
    if (len > (size_t)srv->opt[TPS_OPT_MAX_OUTPUT] - w->mail_bytes) {
        pthread_mutex_unlock(&w->inbox_lock);
        free(m);
        return TPS_ENOBUFS;
    }
    w->mail_bytes += len;
    *w->inbox_tail = m;
    w->inbox_tail = &m->next;
    bool wake = !atomic_exchange(&w->inbox_ready, true);
    pthread_mutex_unlock(&w->inbox_lock);
    if (wake)
        tps__worker_notify(w);
    return 0;
}

int tps_server_conn_send(tps_server *srv, uint64_t id, const void *data, size_t len)
{
    return post(srv, id, data, len, false);
}

int tps_server_conn_close(tps_server *srv, uint64_t id)
{
    return post(srv, id, NULL, 0, true);
}

/* Move the inbox to the worker's list, in order. */
static void take_inbox(tps__worker *w)
{
    pthread_mutex_lock(&w->inbox_lock);
    tps__mail *m = w->inbox;
    w->inbox = NULL;
    w->inbox_tail = &w->inbox;
    atomic_store(&w->inbox_ready, false);
    pthread_mutex_unlock(&w->inbox_lock);
    for (; m != NULL; m = m->next)
        tps__list_append(&w->mail, &m->link);
}

static void done_bytes(tps__worker *w, size_t n)
{
    if (n == 0)
        return;
    pthread_mutex_lock(&w->inbox_lock);
    w->mail_bytes -= n;
    pthread_mutex_unlock(&w->inbox_lock);
}

void tps__mail_run(tps__worker *w)
{
    tps__runner *me = w->runner;
    size_t done = 0;
    if (atomic_load_explicit(&w->inbox_ready, memory_order_relaxed))
        take_inbox(w);
    /* The list is the worker's and only its runner walks it, so after a
     * callback that did not hand the worker off, `next` is still right. */
    for (tps__list *n = w->mail.next, *next; n != &w->mail && tps__runs(w, me); n = next) {
        next = n->next;
        tps__mail *m = tps__container_of(n, tps__mail, link);
        tps_conn *c = tps__conntab_get(&w->srv->conns, m->id, w);
        if (c != NULL && c->fd >= 0 && c->away)
            continue; /* its callback runs: keep its mail, in order */
        tps__list_unlink(&m->link);
        if (c != NULL && c->fd >= 0) {
            tps__conn_turn_begin(c);
            if (m->close)
                tps_conn_close(c);
            else
                (void)tps_conn_send(c, m->data, m->len); /* refused if closing */
            tps__conn_turn_end(w, c);
        }
        done += m->len;
        free(m);
    }
    done_bytes(w, done);
}
