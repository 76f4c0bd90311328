/* SPDX-License-Identifier: MIT */
/* kvserver.c - a small in-memory key-value server embedding libtpserv,
 * written against the installed header only, as an application would.
 *
 * Build against the installed library:
 *     cc -o kvserver kvserver.c $(pkg-config --cflags --libs tpserv)
 * Run and try it:
 *     ./kvserver 127.0.0.1:7001
 *     printf 'SET greeting hello world\nGET greeting\n' | nc -q1 127.0.0.1 7001
 *
 * Protocol: one command per line ending in "\n" (a "\r" before it is
 * dropped), at most KV_MAX_LINE bytes; one reply line per command, ending
 * in "\r\n":
 *     SET key value   -> OK              (value: the rest of the line)
 *     GET key         -> VALUE value | NOT_FOUND
 *     DEL key         -> DELETED | NOT_FOUND
 *     anything else   -> ERROR <reason>
 * A line longer than KV_MAX_LINE is answered "ERROR line too long" and
 * the connection is closed, so a client cannot make the server buffer an
 * endless line.
 *
 * Threads: the library calls on_data for different connections on
 * different workers at once, so the one table shared by all of them is
 * protected by a mutex, held only for the table operation itself. */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tpserv.h>

#define KV_MAX_LINE 1024
#define KV_MAX_KEY  250
#define KV_MAX_KEYS 100000
#define KV_BUCKETS  4096

struct entry {
    struct entry *next;
    char *key;
    char *value;
};

/* The store: a chained hash table; every field under `lock`. */
static struct {
    pthread_mutex_t lock;
    struct entry *bucket[KV_BUCKETS];
    size_t count;
} kv = {.lock = PTHREAD_MUTEX_INITIALIZER};

static size_t hash(const char *s, size_t n)
{
    size_t h = 14695981039346656037u; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211u;
    return h % KV_BUCKETS;
}

/* The link that points at key's entry, or at the NULL ending its chain.
 * Caller holds kv.lock. */
static struct entry **find(const char *key, size_t klen)
{
    struct entry **pp = &kv.bucket[hash(key, klen)];
    while (*pp != NULL && (strlen((*pp)->key) != klen || memcmp((*pp)->key, key, klen) != 0))
        pp = &(*pp)->next;
    return pp;
}

static char *dup_n(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p != NULL) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

/* Returns the reply line for SET. */
static const char *kv_set(const char *key, size_t klen, const char *val, size_t vlen)
{
    const char *res = "OK";
    char *v = dup_n(val, vlen);

    pthread_mutex_lock(&kv.lock);
    struct entry **pp = find(key, klen);
    if (v == NULL) {
        res = "ERROR out of memory";
    } else if (*pp != NULL) {
        free((*pp)->value);
        (*pp)->value = v, v = NULL;
    } else if (kv.count >= KV_MAX_KEYS) {
        res = "ERROR store full";
    } else {
        struct entry *e = malloc(sizeof *e);
        char *k = dup_n(key, klen);
        if (e == NULL || k == NULL) {
            free(e), free(k);
            res = "ERROR out of memory";
        } else {
            *e = (struct entry){.next = NULL, .key = k, .value = v};
            *pp = e, v = NULL, kv.count++;
        }
    }
    pthread_mutex_unlock(&kv.lock);
    free(v);
    return res;
}

/* Copies key's value into out (KV_MAX_LINE + 1 bytes); 0 if absent. */
static int kv_get(const char *key, size_t klen, char *out)
{
    pthread_mutex_lock(&kv.lock);
    struct entry *e = *find(key, klen);
    if (e != NULL)
        snprintf(out, KV_MAX_LINE + 1, "%s", e->value);
    pthread_mutex_unlock(&kv.lock);
    return e != NULL;
}

static int kv_del(const char *key, size_t klen)
{
    pthread_mutex_lock(&kv.lock);
    struct entry **pp = find(key, klen), *e = *pp;
    if (e != NULL) {
        *pp = e->next;
        kv.count--;
    }
    pthread_mutex_unlock(&kv.lock);
    if (e != NULL) {
        free(e->key), free(e->value), free(e);
    }
    return e != NULL;
}

static void kv_free_all(void)
{
    for (size_t i = 0; i < KV_BUCKETS; i++) {
        while (kv.bucket[i] != NULL) {
            struct entry *e = kv.bucket[i];
            kv.bucket[i] = e->next;
            free(e->key), free(e->value), free(e);
        }
    }
    kv.count = 0;
}

static void reply(tps_conn *c, const char *a, const char *b)
{
    tps_conn_send(c, a, strlen(a));
    if (b != NULL)
        tps_conn_send(c, b, strlen(b));
    tps_conn_send(c, "\r\n", 2);
}

/* Split "CMD KEY REST": *key and *rest point into line. */
static void split(const char *line, size_t n, size_t *cmdlen, const char **key, size_t *klen,
                  const char **rest, size_t *rlen)
{
    const char *end = line + n, *sp = memchr(line, ' ', n);

    *cmdlen = sp ? (size_t)(sp - line) : n;
    *key = sp ? sp + 1 : end;
    sp = memchr(*key, ' ', (size_t)(end - *key));
    *klen = (size_t)((sp ? sp : end) - *key);
    *rest = sp ? sp + 1 : NULL;
    *rlen = sp ? (size_t)(end - *rest) : 0;
}

static void command(tps_conn *c, const char *line, size_t n)
{
    char value[KV_MAX_LINE + 1];
    const char *key, *rest;
    size_t cmdlen, klen, rlen;

    split(line, n, &cmdlen, &key, &klen, &rest, &rlen);
#define IS(word) (cmdlen == strlen(word) && memcmp(line, word, cmdlen) == 0)
    if (!IS("SET") && !IS("GET") && !IS("DEL"))
        reply(c, "ERROR unknown command", NULL);
    else if (klen == 0 || klen > KV_MAX_KEY)
        reply(c, "ERROR key must be 1 to 250 bytes", NULL);
    else if (IS("SET") != (rest != NULL))
        reply(c, IS("SET") ? "ERROR usage: SET key value" : "ERROR too many arguments", NULL);
    else if (IS("SET"))
        reply(c, kv_set(key, klen, rest, rlen), NULL);
    else if (IS("GET") && kv_get(key, klen, value))
        reply(c, "VALUE ", value);
    else if (IS("GET"))
        reply(c, "NOT_FOUND", NULL);
    else
        reply(c, kv_del(key, klen) ? "DELETED" : "NOT_FOUND", NULL);
#undef IS
}

static long too_long(tps_conn *c, size_t len)
{
    reply(c, "ERROR line too long", NULL);
    tps_conn_close(c); /* after the reply is written */
    return (long)len;
}

/* Consume every complete line; leave a partial one buffered. */
static long kv_data(tps_conn *c, const char *data, size_t len)
{
    size_t used = 0;

    while (used < len) {
        const char *line = data + used;
        const char *nl = memchr(line, '\n', len - used);
        if (nl == NULL)
            break;
        size_t n = (size_t)(nl - line);
        if (n > KV_MAX_LINE)
            return too_long(c, len);
        used += n + 1;
        if (n > 0 && line[n - 1] == '\r')
            n--;
        command(c, line, n);
    }
    if (len - used > KV_MAX_LINE)
        return too_long(c, len);
    return (long)used;
}

/* The library's own input limit (TPS_OPT_MAX_INPUT) was passed first: the
 * same answer; the library closes after it. */
static void kv_limit(tps_conn *c, int reason)
{
    (void)reason;
    reply(c, "ERROR line too long", NULL);
}

static const tps_handler kv_handler = {
    .name = "kv",
    .on_data = kv_data,
    .on_limit = kv_limit,
};

static int fail(const char *what, int rc)
{
    fprintf(stderr, "kvserver: %s: %s\n", what, tps_strerror(rc));
    return 1;
}

/* Wait for SIGINT or SIGTERM (blocked before the server's threads start,
 * so they inherit the mask and the signal comes here), then stop. */
static int run(tps_server *srv, const char *spec)
{
    char addr[256];
    sigset_t set;
    int rc, sig;

    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    if ((rc = tps_server_set_handler(srv, &kv_handler, NULL)) < 0)
        return fail("set handler", rc);
    if ((rc = tps_server_listen(srv, spec)) < 0)
        return fail(spec, rc);
    if ((rc = tps_server_start(srv)) < 0)
        return fail("start", rc);
    if (tps_server_address(srv, 0, addr, sizeof addr) == 0)
        printf("kvserver: listening on %s\n", addr);
    fflush(stdout);
    sigwait(&set, &sig);
    tps_server_stop(srv, 2000);
    tps_server_wait(srv);
    printf("kvserver: stopped, %zu keys\n", kv.count);
    return 0;
}

int main(int argc, char **argv)
{
    tps_server *srv;
    int rc;

    if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
        fprintf(stderr, "usage: kvserver [HOST:PORT | unix:/path]\n");
        return 2;
    }
    if ((rc = tps_server_new(&srv)) < 0)
        return fail("new", rc);
    rc = run(srv, argc == 2 ? argv[1] : "127.0.0.1:7001");
    tps_server_free(srv);
    kv_free_all();
    return rc;
}
