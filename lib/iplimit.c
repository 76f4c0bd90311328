/* SPDX-License-Identifier: MIT */
/* iplimit.c - connection counts per source address, for the per-address
 * cap. A chained hash under one mutex: touched once at accept (acceptor)
 * and once at close (worker), never per message. Entries whose count drops
 * to zero are removed, so memory follows the number of distinct peers. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct ipent {
    struct ipent *next;
    uint8_t family;
    uint8_t addr[16];
    unsigned count;
};

struct tps__iplimit {
    pthread_mutex_t lock;
    size_t nbuckets;
    struct ipent **buckets;
};

int tps__iplimit_new(tps__iplimit **out, size_t nbuckets)
{
    tps__iplimit *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return -ENOMEM;
    t->buckets = calloc(nbuckets, sizeof(*t->buckets));
    if (t->buckets == NULL) {
        free(t);
        return -ENOMEM;
    }
    t->nbuckets = nbuckets;
    pthread_mutex_init(&t->lock, NULL);
    *out = t;
    return 0;
}

void tps__iplimit_free(tps__iplimit *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->nbuckets; i++) {
        struct ipent *e = t->buckets[i], *next;
        for (; e != NULL; e = next) {
            next = e->next;
            free(e);
        }
    }
    free(t->buckets);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

static size_t hash(const tps__peer *p, size_t n)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < sizeof(p->addr); i++)
        h = (h ^ p->addr[i]) * 1099511628211ull;
    return (size_t)(h % n);
}

static struct ipent **find(tps__iplimit *t, const tps__peer *p)
{
    struct ipent **pp = &t->buckets[hash(p, t->nbuckets)];
    for (; *pp != NULL; pp = &(*pp)->next)
        if ((*pp)->family == p->family && memcmp((*pp)->addr, p->addr, 16) == 0)
            break;
    return pp;
}

bool tps__iplimit_take(tps__iplimit *t, const tps__peer *p, unsigned cap)
{
    bool ok = true;
    pthread_mutex_lock(&t->lock);
    struct ipent **pp = find(t, p);
    if (*pp == NULL) {
        struct ipent *e = calloc(1, sizeof(*e));
        if (e == NULL) {
            ok = false; /* out of memory: refuse rather than uncount */
        } else {
            e->family = p->family;
            memcpy(e->addr, p->addr, 16);
            e->count = 1;
            *pp = e;
        }
    } else if ((*pp)->count >= cap) {
        ok = false;
    } else {
        (*pp)->count++;
    }
    pthread_mutex_unlock(&t->lock);
    return ok;
}

void tps__iplimit_release(tps__iplimit *t, const tps__peer *p)
{
    pthread_mutex_lock(&t->lock);
    struct ipent **pp = find(t, p);
    struct ipent *e = *pp;
    if (e != NULL && --e->count == 0) {
        *pp = e->next;
        free(e);
    }
    pthread_mutex_unlock(&t->lock);
}
