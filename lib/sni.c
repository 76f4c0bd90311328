/* SPDX-License-Identifier: MIT */
/* sni.c - the names a set of certificates serves, looked up per TLS
 * handshake, and the ClientHello's server_name (sni.h).
 *
 * Two sorted arrays and bsearch: built once when tps_server_tls() loads
 * a configuration, then read by every handshake on any thread with no
 * lock (the table never changes; a new configuration is a new table). A
 * handshake costs a lower-case copy of the name on the stack and one or
 * two binary searches, and allocates nothing. */
#include "config.h"

#include "sni.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* Dot-separated labels of 1-63 name characters, 253 bytes at most. */
static bool dns_name(const char *s, size_t len)
{
    size_t label = 0;
    if (len == 0 || len > 253)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '.') {
            if (label == 0)
                return false;
            label = 0;
        } else if (!name_char(s[i]) || ++label > 63) {
            return false;
        }
    }
    return label > 0;
}

static int push(tps__sni_entry **v, size_t *n, size_t *cap, const char *name, size_t len,
                uint32_t cert)
{
    if (*n == *cap) {
        size_t cap2 = *cap ? 2 * *cap : 8;
        tps__sni_entry *v2 = realloc(*v, cap2 * sizeof(**v));
        if (v2 == NULL)
            return -ENOMEM;
        *v = v2;
        *cap = cap2;
    }
    char *copy = malloc(len + 1);
    if (copy == NULL)
        return -ENOMEM;
    memcpy(copy, name, len);
    copy[len] = '\0';
    (*v)[(*n)++] = (tps__sni_entry){copy, len, cert};
    return 0;
}

int tps__sni_add(tps__sni_table *t, const char *name, size_t len, uint32_t cert)
{
    char low[TPS__SNI_MAX_NAME];
    if (len > sizeof(low))
        return -EINVAL;
    for (size_t i = 0; i < len; i++)
        low[i] = lower(name[i]);
    if (len > 2 && low[0] == '*' && low[1] == '.') {
        if (!dns_name(low + 2, len - 2))
            return -EINVAL;
        return push(&t->wild, &t->nwild, &t->cap_wild, low + 2, len - 2, cert);
    }
    if (!dns_name(low, len))
        return -EINVAL;
    return push(&t->exact, &t->nexact, &t->cap_exact, low, len, cert);
}

/* By name (bytes, then length), then by cert: the first given first. */
static int cmp_name(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    return c != 0 ? c : (alen > blen) - (alen < blen);
}

static int cmp_entry(const void *pa, const void *pb)
{
    const tps__sni_entry *a = pa, *b = pb;
    int c = cmp_name(a->name, a->len, b->name, b->len);
    return c != 0 ? c : (a->cert > b->cert) - (a->cert < b->cert);
}

/* Sort, then keep the first of each run of one name. */
static void sort_unique(tps__sni_entry *v, size_t *n)
{
    size_t out = 0;
    if (*n == 0)
        return;
    qsort(v, *n, sizeof(*v), cmp_entry);
    for (size_t i = 0; i < *n; i++) {
        if (out > 0 && cmp_name(v[out - 1].name, v[out - 1].len, v[i].name, v[i].len) == 0) {
            free(v[i].name);
            continue;
        }
        v[out++] = v[i];
    }
    *n = out;
}

void tps__sni_finish(tps__sni_table *t)
{
    sort_unique(t->exact, &t->nexact);
    sort_unique(t->wild, &t->nwild);
}

int tps__sni_serves(const tps__sni_table *t, uint32_t cert)
{
    for (size_t i = 0; i < t->nexact; i++)
        if (t->exact[i].cert == cert)
            return 1;
    for (size_t i = 0; i < t->nwild; i++)
        if (t->wild[i].cert == cert)
            return 1;
    return 0;
}

struct key {
    const char *name;
    size_t len;
};

static int cmp_key(const void *pk, const void *pe)
{
    const struct key *k = pk;
    const tps__sni_entry *e = pe;
    return cmp_name(k->name, k->len, e->name, e->len);
}

static long find(const tps__sni_entry *v, size_t n, const char *name, size_t len)
{
    const struct key k = {name, len};
    const tps__sni_entry *e = n ? bsearch(&k, v, n, sizeof(*v), cmp_key) : NULL;
    return e != NULL ? (long)e->cert : -1;
}

long tps__sni_lookup(const tps__sni_table *t, const char *name, size_t len)
{
    char low[TPS__SNI_MAX_NAME];
    if (len == 0 || len > sizeof(low))
        return -1;
    for (size_t i = 0; i < len; i++)
        low[i] = lower(name[i]);
    long cert = find(t->exact, t->nexact, low, len);
    if (cert >= 0)
        return cert;
    const char *dot = memchr(low, '.', len);
    if (dot == NULL || dot == low || dot + 1 == low + len)
        return -1;
    return find(t->wild, t->nwild, dot + 1, (size_t)(low + len - dot - 1));
}

void tps__sni_free(tps__sni_table *t)
{
    for (size_t i = 0; i < t->nexact; i++)
        free(t->exact[i].name);
    for (size_t i = 0; i < t->nwild; i++)
        free(t->wild[i].name);
    free(t->exact);
    free(t->wild);
    memset(t, 0, sizeof(*t));
}

int tps__sni_parse(const unsigned char *p, size_t n, const unsigned char **name, size_t *len)
{
    /* list length (2), type (1), name length (2), name */
    if (n < 5 || (size_t)(p[0] << 8 | p[1]) != n - 2 || p[2] != 0 ||
        (size_t)(p[3] << 8 | p[4]) != n - 5)
        return -1;
    size_t k = n - 5;
    if (k == 0 || k > TPS__SNI_MAX_NAME || memchr(p + 5, '\0', k) != NULL)
        return -1;
    *name = p + 5;
    *len = k;
    return 0;
}
