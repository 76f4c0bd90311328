/* SPDX-License-Identifier: MIT */
/* fdqueue.c - bounded queue of accepted descriptors; see fdqueue.h. */
#include "config.h"

#include "fdqueue.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

int tps__fdqueue_init(tps__fdqueue *q, size_t cap)
{
    q->ring = calloc(cap, sizeof(*q->ring));
    if (q->ring == NULL)
        return -ENOMEM;
    pthread_mutex_init(&q->lock, NULL);
    q->cap = cap;
    q->head = q->count = 0;
    return 0;
}

void tps__fdqueue_destroy(tps__fdqueue *q)
{
    if (q->ring == NULL)
        return;
    for (size_t i = 0; i < q->count; i++)
        close(q->ring[(q->head + i) % q->cap].fd);
    free(q->ring);
    q->ring = NULL;
    pthread_mutex_destroy(&q->lock);
}

int tps__fdqueue_push(tps__fdqueue *q, const tps__fditem *it)
{
    pthread_mutex_lock(&q->lock);
    if (q->count == q->cap) {
        pthread_mutex_unlock(&q->lock);
        return -EAGAIN;
    }
    q->ring[(q->head + q->count) % q->cap] = *it;
    q->count++;
    pthread_mutex_unlock(&q->lock);
    return 0;
}

int tps__fdqueue_pop(tps__fdqueue *q, tps__fditem *it)
{
    pthread_mutex_lock(&q->lock);
    int rc = -EAGAIN;
    if (q->count > 0) {
        *it = q->ring[q->head];
        q->head = (q->head + 1) % q->cap;
        q->count--;
        rc = 0;
    }
    pthread_mutex_unlock(&q->lock);
    return rc;
}

size_t tps__fdqueue_count(tps__fdqueue *q)
{
    pthread_mutex_lock(&q->lock);
    size_t n = q->count;
    pthread_mutex_unlock(&q->lock);
    return n;
}

bool tps__fdqueue_full(tps__fdqueue *q)
{
    pthread_mutex_lock(&q->lock);
    bool full = q->count == q->cap;
    pthread_mutex_unlock(&q->lock);
    return full;
}
