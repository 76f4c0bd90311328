/* SPDX-License-Identifier: MIT */
/* fdqueue.h - the bounded MPMC queue of accepted descriptors between the
 * acceptor and the workers. A mutex guards the ring: one push and one pop
 * per connection, never per message. Waking a worker is the acceptor's
 * business (acceptor.c picks which one), not the queue's. */
#ifndef TPS_FDQUEUE_H
#define TPS_FDQUEUE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "sockaddr.h"

typedef struct tps__fditem {
    int fd;
    bool proxy;           /* from a PROXY protocol listener */
    bool tls;             /* from a tls: listener */
    uint64_t accepted_ns; /* for the queue-wait histogram */
    tps__peer peer;
} tps__fditem;

typedef struct tps__fdqueue {
    pthread_mutex_t lock;
    tps__fditem *ring;
    size_t cap, head, count; /* guarded by lock */
} tps__fdqueue;

int tps__fdqueue_init(tps__fdqueue *q, size_t cap);
/* Closes descriptors still queued. */
void tps__fdqueue_destroy(tps__fdqueue *q);
/* 0, or -EAGAIN when full (nothing is queued). */
int tps__fdqueue_push(tps__fdqueue *q, const tps__fditem *it);
/* 0 and *it, or -EAGAIN when empty. Non-blocking. */
int tps__fdqueue_pop(tps__fdqueue *q, tps__fditem *it);
size_t tps__fdqueue_count(tps__fdqueue *q);
bool tps__fdqueue_full(tps__fdqueue *q);

#endif
