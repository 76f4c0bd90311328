/* SPDX-License-Identifier: MIT */
/* conntab.c - the connection table: slots in chunks that live as long as
 * the server, recycled through a free list with a generation bump. A
 * slot's memory is never returned while the server runs, so a stale
 * epoll datum can be checked (generation) rather
 * than followed into freed memory. The lock is taken per connection open
 * and close, never per message; lookup is lock-free. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int tps__conntab_init(tps__conntab *t, size_t max_slots)
{
    memset(t, 0, sizeof(*t));
    t->max_slots = max_slots;
    t->nchunks = (max_slots + TPS__CHUNK - 1) / TPS__CHUNK;
    t->chunks = calloc(t->nchunks, sizeof(*t->chunks));
    if (t->chunks == NULL)
        return -ENOMEM;
    pthread_mutex_init(&t->lock, NULL);
    return 0;
}

void tps__conntab_destroy(tps__conntab *t)
{
    if (t->chunks == NULL)
        return;
    for (size_t i = 0; i < t->nchunks; i++)
        free(t->chunks[i]);
    free(t->chunks);
    t->chunks = NULL;
    pthread_mutex_destroy(&t->lock);
}

static tps_conn *slot_ptr(tps__conntab *t, size_t slot)
{
    return &t->chunks[slot / TPS__CHUNK][slot % TPS__CHUNK];
}

/* A fresh slot from the next chunk position; lock held. */
static tps_conn *fresh_slot(tps__conntab *t)
{
    if (t->used >= t->max_slots)
        return NULL;
    size_t ci = t->used / TPS__CHUNK;
    if (t->chunks[ci] == NULL) {
        tps_conn *chunk = calloc(TPS__CHUNK, sizeof(tps_conn));
        if (chunk == NULL)
            return NULL;
        /* Publish with release: lock-free lookups read the pointer. */
        atomic_store_explicit((_Atomic(tps_conn *) *)&t->chunks[ci], chunk, memory_order_release);
    }
    tps_conn *c = slot_ptr(t, t->used);
    c->slot = (uint32_t)t->used++;
    c->gen = 0;
    return c;
}

/* The slot is set up under the lock: tps__conntab_owner() reads gen and w
 * from other threads under it. */
tps_conn *tps__conntab_alloc(tps__conntab *t, struct tps__worker *w)
{
    pthread_mutex_lock(&t->lock);
    tps_conn *c = t->free_head;
    if (c != NULL)
        t->free_head = c->free_next;
    else
        c = fresh_slot(t);
    if (c != NULL) {
        uint32_t slot = c->slot, gen = c->gen + 1;
        if (gen == 0)
            gen = 1; /* generation 0 is reserved for the library's tags */
        memset(c, 0, sizeof(*c));
        c->slot = slot;
        c->gen = gen;
        c->fd = -1;
        c->w = w;
    }
    pthread_mutex_unlock(&t->lock);
    return c;
}

void tps__conntab_free(tps__conntab *t, tps_conn *c)
{
    pthread_mutex_lock(&t->lock);
    c->w = NULL; /* no owner: ids naming this slot are stale */
    c->free_next = t->free_head;
    t->free_head = c;
    pthread_mutex_unlock(&t->lock);
}

/* The slot id names if its generation matches, or NULL; lock held. */
static tps_conn *slot_of(tps__conntab *t, uint64_t id)
{
    uint32_t gen = (uint32_t)(id >> 32), slot = (uint32_t)id;
    if (gen == 0 || slot >= t->used)
        return NULL;
    tps_conn *c = slot_ptr(t, slot);
    return c->gen == gen ? c : NULL;
}

struct tps__worker *tps__conntab_owner(tps__conntab *t, uint64_t id)
{
    pthread_mutex_lock(&t->lock);
    tps_conn *c = slot_of(t, id);
    struct tps__worker *w = c != NULL ? c->w : NULL;
    pthread_mutex_unlock(&t->lock);
    return w;
}

tps_conn *tps__conntab_get(tps__conntab *t, uint64_t id, const struct tps__worker *w)
{
    pthread_mutex_lock(&t->lock);
    tps_conn *c = slot_of(t, id);
    if (c != NULL && c->w != w)
        c = NULL;
    pthread_mutex_unlock(&t->lock);
    return c;
}

tps_conn *tps__conntab_lookup(tps__conntab *t, uint64_t datum)
{
    uint32_t gen = (uint32_t)(datum >> 32), slot = (uint32_t)datum;
    if (gen == 0 || slot >= t->max_slots)
        return NULL;
    tps_conn *chunk = atomic_load_explicit((_Atomic(tps_conn *) *)&t->chunks[slot / TPS__CHUNK],
                                           memory_order_acquire);
    if (chunk == NULL)
        return NULL;
    return &chunk[slot % TPS__CHUNK];
}
