/* SPDX-License-Identifier: MIT */
/* buf.c - growable front-consumed byte buffers for connection input and
 * output. Growth doubles (amortised O(1) appends); an emptied buffer is
 * released so that an idle connection costs only its struct. */
#include "config.h"

#include "buf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int grow(tps__buf *b, size_t need, size_t limit)
{
    if (b->off > 0 && b->off + b->len + need > b->cap && b->len + need <= b->cap) {
        memmove(b->data, b->data + b->off, b->len);
        b->off = 0;
        return 0;
    }
    if (b->off + b->len + need <= b->cap)
        return 0;
    if (b->len + need > limit)
        return -ENOBUFS;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + need)
        cap *= 2;
    if (cap > limit)
        cap = limit;
    char *p = malloc(cap);
    if (p == NULL)
        return -ENOMEM;
    if (b->len)
        memcpy(p, b->data + b->off, b->len);
    free(b->data);
    b->data = p;
    b->off = 0;
    b->cap = cap;
    return 0;
}

int tps__buf_append(tps__buf *b, const void *p, size_t len, size_t limit)
{
    if (len == 0)
        return 0;
    int rc = grow(b, len, limit);
    if (rc < 0)
        return rc;
    memcpy(b->data + b->off + b->len, p, len);
    b->len += len;
    return 0;
}

char *tps__buf_reserve(tps__buf *b, size_t want, size_t limit, size_t *room)
{
    if (b->len >= limit)
        return NULL;
    if (want > limit - b->len)
        want = limit - b->len;
    if (grow(b, want, limit) < 0)
        return NULL;
    *room = b->cap - b->off - b->len;
    return b->data + b->off + b->len;
}

void tps__buf_consume(tps__buf *b, size_t n, size_t keep)
{
    if (n >= b->len) {
        b->off = b->len = 0;
        if (b->cap > keep) {
            free(b->data);
            b->data = NULL;
            b->cap = 0;
        }
        return;
    }
    b->off += n;
    b->len -= n;
}

void tps__buf_free(tps__buf *b)
{
    free(b->data);
    b->data = NULL;
    b->off = b->len = b->cap = 0;
}
