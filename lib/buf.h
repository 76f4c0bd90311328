/* SPDX-License-Identifier: MIT */
/* buf.h - a growable byte buffer consumed from the front: the bytes are
 * data[off, off + len). Owned by one thread at a time; never shared. */
#ifndef TPS_BUF_H
#define TPS_BUF_H

#include <stddef.h>

typedef struct tps__buf {
    char *data;
    size_t off, len, cap;
} tps__buf;

static inline const char *tps__buf_head(const tps__buf *b)
{
    return b->data + b->off;
}

/* Append len bytes, growing up to `limit` total bytes held. Returns 0, or
 * -ENOBUFS (over limit) / -ENOMEM; the buffer is unchanged on error. */
int tps__buf_append(tps__buf *b, const void *p, size_t len, size_t limit);
/* The same, keeping the capacity within `soft` (<= limit) for as long as
 * the bytes held fit it (growth stops doubling there). */
int tps__buf_append_soft(tps__buf *b, const void *p, size_t len, size_t soft, size_t limit);
/* Make room for at least `want` more bytes at the tail (compacting or
 * growing, within `limit`); returns the tail pointer and the room in *room,
 * or NULL when the limit leaves no room / memory runs out. */
char *tps__buf_reserve(tps__buf *b, size_t want, size_t limit, size_t *room);
/* Mark n bytes written at the tail. */
static inline void tps__buf_commit(tps__buf *b, size_t n)
{
    b->len += n;
}
/* Drop n bytes from the front; an emptied buffer is freed if its
 * capacity exceeds `keep` (idle connections hold no memory). */
void tps__buf_consume(tps__buf *b, size_t n, size_t keep);
void tps__buf_free(tps__buf *b);

#endif
