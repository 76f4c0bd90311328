/* SPDX-License-Identifier: MIT */
/* buf.c - growable front-consumed byte buffers for connection input and
 * output. Growth doubles (amortised O(1) appends) within an optional soft
 * bound; an emptied buffer is released so that an idle connection costs
 * only its struct. */
#include "config.h"

#include "buf.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Room for `need` more bytes. Capacity doubles (amortised O(1) appends),
 * but not past `soft` while the bytes fit it, so a buffer held near a
 * known bound (output up to the high water plus one read) never holds
 * twice that; past `soft` it doubles again, up to `limit`. realloc, not
 * malloc + copy: a large block is remapped, not held twice meanwhile. */
static int grow(tps__buf *b, size_t need, size_t soft, size_t limit)
{
    if (need > SIZE_MAX - b->off - b->len)
        return -ENOBUFS; /* the sums below would wrap */
    if (b->off > 0 && b->off + b->len + need > b->cap && b->len + need <= b->cap) {
        memmove(b->data, b->data + b->off, b->len);
        b->off = 0;
        return 0;
    }
    if (b->off + b->len + need <= b->cap)
        return 0;
    if (need > limit || b->len > limit - need)
        return -ENOBUFS;
    size_t want = b->len + need, cap = b->cap ? b->cap : 4096;
    while (cap < want)
        cap = cap > SIZE_MAX / 2 ? want : cap * 2; /* no wrap at absurd limits */
    if (cap > soft && want <= soft)
        cap = soft;
    if (cap > limit)
        cap = limit;
    if (b->off > 0) {
        memmove(b->data, b->data + b->off, b->len);
        b->off = 0;
    }
    char *p = realloc(b->data, cap);
    if (p == NULL)
        return -ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

int tps__buf_append_soft(tps__buf *b, const void *p, size_t len, size_t soft, size_t limit)
{
    if (len == 0)
        return 0;
    int rc = grow(b, len, soft, limit);
    if (rc < 0)
        return rc;
    memcpy(b->data + b->off + b->len, p, len);
    b->len += len;
    return 0;
}

int tps__buf_append(tps__buf *b, const void *p, size_t len, size_t limit)
{
    return tps__buf_append_soft(b, p, len, limit, limit);
}

char *tps__buf_reserve(tps__buf *b, size_t want, size_t limit, size_t *room)
{
    if (b->len >= limit)
        return NULL;
    if (want > limit - b->len)
        want = limit - b->len;
    if (grow(b, want, limit, limit) < 0)
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
