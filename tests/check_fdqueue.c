/* SPDX-License-Identifier: MIT */
/* check_fdqueue.c - unit suite of lib/fdqueue.c, the bounded queue that
 * hands accepted descriptors from the acceptor to the workers: FIFO order,
 * -EAGAIN when full (nothing queued) or empty, count and full, order kept
 * across the ring's wrap-around, queued descriptors closed on destroy, and
 * threads pushing and popping at once (every item delivered exactly once,
 * each producer's in order) - the part ThreadSanitizer checks in CI. */
#include "suites.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fdqueue.h"
#include "testutil.h"

/* An item that says who made it: the fd stays -1 (destroy closes queued
 * fds), the identity rides in accepted_ns. */
static tps__fditem item(uint64_t id)
{
    tps__fditem it;
    memset(&it, 0, sizeof it);
    it.fd = -1;
    it.accepted_ns = id;
    it.peer.port = (uint16_t)id;
    return it;
}

START_TEST(fifo_full_empty_count)
{
    tps__fdqueue q;
    ck_assert_int_eq(tps__fdqueue_init(&q, 4), 0);
    tps__fditem it;
    ck_assert_int_eq(tps__fdqueue_pop(&q, &it), -EAGAIN);
    ck_assert_uint_eq(tps__fdqueue_count(&q), 0);
    ck_assert(!tps__fdqueue_full(&q));
    for (uint64_t i = 1; i <= 4; i++) {
        tps__fditem in = item(i);
        ck_assert_int_eq(tps__fdqueue_push(&q, &in), 0);
        ck_assert_uint_eq(tps__fdqueue_count(&q), i);
        ck_assert(tps__fdqueue_full(&q) == (i == 4));
    }
    ck_assert(tps__fdqueue_full(&q));
    tps__fditem extra = item(99);
    ck_assert_int_eq(tps__fdqueue_push(&q, &extra), -EAGAIN);
    ck_assert_uint_eq(tps__fdqueue_count(&q), 4);
    for (uint64_t i = 1; i <= 4; i++) {
        ck_assert_int_eq(tps__fdqueue_pop(&q, &it), 0);
        ck_assert_uint_eq(it.accepted_ns, i); /* first in, first out */
        ck_assert_uint_eq(it.peer.port, i);   /* the whole item, not just a field */
        ck_assert_int_eq(it.fd, -1);
    }
    ck_assert_int_eq(tps__fdqueue_pop(&q, &it), -EAGAIN);
    ck_assert(!tps__fdqueue_full(&q));
    tps__fdqueue_destroy(&q);
}
END_TEST

/* Push and pop in uneven steps so head and tail pass the ring's end many
 * times: the order is the order of pushes. */
START_TEST(wrap_around)
{
    tps__fdqueue q;
    ck_assert_int_eq(tps__fdqueue_init(&q, 5), 0);
    uint64_t next_in = 0, next_out = 0;
    for (int round = 0; round < 40; round++) {
        int pushes = 1 + round % 5, pops = 1 + (round * 3) % 4;
        for (int i = 0; i < pushes; i++) {
            tps__fditem in = item(next_in);
            int rc = tps__fdqueue_push(&q, &in);
            ck_assert_int_eq(rc, next_in - next_out < 5 ? 0 : -EAGAIN);
            if (rc == 0)
                next_in++;
        }
        ck_assert_uint_eq(tps__fdqueue_count(&q), next_in - next_out);
        for (int i = 0; i < pops; i++) {
            tps__fditem it;
            int rc = tps__fdqueue_pop(&q, &it);
            ck_assert_int_eq(rc, next_out < next_in ? 0 : -EAGAIN);
            if (rc == 0)
                ck_assert_uint_eq(it.accepted_ns, next_out++);
        }
    }
    ck_assert_uint_gt(next_out, 20);
    tps__fdqueue_destroy(&q);
}
END_TEST

START_TEST(destroy_closes_queued)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    tps__fdqueue q;
    ck_assert_int_eq(tps__fdqueue_init(&q, 4), 0);
    for (int i = 0; i < 2; i++) {
        tps__fditem in = item((uint64_t)i);
        in.fd = p[i];
        ck_assert_int_eq(tps__fdqueue_push(&q, &in), 0);
    }
    tps__fditem it;
    ck_assert_int_eq(tps__fdqueue_pop(&q, &it), 0); /* taken: ours to close */
    ck_assert_int_eq(it.fd, p[0]);
    tps__fdqueue_destroy(&q);
    ck_assert_int_ne(fcntl(p[0], F_GETFD), -1);
    errno = 0;
    ck_assert_int_eq(fcntl(p[1], F_GETFD), -1); /* still queued: closed */
    ck_assert_int_eq(errno, EBADF);
    close(p[0]);
    tps__fdqueue_destroy(&q); /* twice is harmless */
}
END_TEST

/* ---- two producers, two consumers -------------------------------------- */

#define PRODUCERS 2
#define CONSUMERS 2

struct stress {
    tps__fdqueue q;
    uint64_t per_producer;
    unsigned char *seen[PRODUCERS]; /* by the consumer that popped it; read after join */
    uint64_t taken;                 /* items popped so far (atomic) */
    int bad;                        /* a consumer saw a producer go backwards */
};

struct role {
    struct stress *st;
    int id;
};

static void *producer(void *arg)
{
    struct role *r = arg;
    for (uint64_t i = 0; i < r->st->per_producer; i++) {
        tps__fditem in = item((uint64_t)r->id << 32 | i);
        while (tps__fdqueue_push(&r->st->q, &in) == -EAGAIN)
            sched_yield();
    }
    return NULL;
}

static void *consumer(void *arg)
{
    struct role *r = arg;
    struct stress *st = r->st;
    uint64_t last[PRODUCERS], total = st->per_producer * PRODUCERS, got = 0;
    int bad = 0;
    for (int p = 0; p < PRODUCERS; p++)
        last[p] = UINT64_MAX;
    /* Each takes until every item has been taken by someone. */
    for (;;) {
        tps__fditem it;
        if (tps__fdqueue_pop(&st->q, &it) < 0) {
            if (__atomic_load_n(&st->taken, __ATOMIC_ACQUIRE) == total)
                break;
            sched_yield();
            continue;
        }
        int p = (int)(it.accepted_ns >> 32);
        uint64_t i = it.accepted_ns & 0xFFFFFFFFu;
        if (p < 0 || p >= PRODUCERS || i >= st->per_producer ||
            (last[p] != UINT64_MAX && i <= last[p]))
            bad = 1;
        else
            st->seen[p][i]++; /* one writer per item, unless delivered twice */
        last[p] = i;
        got++;
        __atomic_add_fetch(&st->taken, 1, __ATOMIC_RELEASE);
    }
    if (bad)
        __atomic_store_n(&st->bad, 1, __ATOMIC_RELAXED);
    return (void *)(uintptr_t)got;
}

START_TEST(threads_push_and_pop)
{
    struct stress st;
    memset(&st, 0, sizeof st);
    st.per_producer = (uint64_t)tu_scale(100000, 20000);
    ck_assert_int_eq(tps__fdqueue_init(&st.q, 64), 0);
    for (int p = 0; p < PRODUCERS; p++)
        ck_assert_ptr_nonnull(st.seen[p] = calloc(st.per_producer, 1));
    pthread_t pt[PRODUCERS], ct[CONSUMERS];
    struct role pr[PRODUCERS], cr[CONSUMERS];
    for (int i = 0; i < CONSUMERS; i++) {
        cr[i] = (struct role){&st, i};
        ck_assert_int_eq(pthread_create(&ct[i], NULL, consumer, &cr[i]), 0);
    }
    for (int i = 0; i < PRODUCERS; i++) {
        pr[i] = (struct role){&st, i};
        ck_assert_int_eq(pthread_create(&pt[i], NULL, producer, &pr[i]), 0);
    }
    for (int i = 0; i < PRODUCERS; i++)
        pthread_join(pt[i], NULL);
    uint64_t got = 0;
    for (int i = 0; i < CONSUMERS; i++) {
        void *n;
        pthread_join(ct[i], &n);
        got += (uintptr_t)n;
    }
    ck_assert_int_eq(st.bad, 0);
    ck_assert_uint_eq(got, st.per_producer * PRODUCERS); /* none twice */
    for (int p = 0; p < PRODUCERS; p++) {
        for (uint64_t i = 0; i < st.per_producer; i++)
            ck_assert_msg(st.seen[p][i] == 1, "item %d/%llu seen %d times", p,
                          (unsigned long long)i, st.seen[p][i]);
        free(st.seen[p]);
    }
    ck_assert_uint_eq(tps__fdqueue_count(&st.q), 0);
    tps__fdqueue_destroy(&st.q);
}
END_TEST

Suite *fdqueue_suite(void)
{
    Suite *s = suite_create("fdqueue");
    TCase *tc = tcase_create("fdqueue");
    tcase_set_timeout(tc, tu_timeout(20));
    tcase_add_test(tc, fifo_full_empty_count);
    tcase_add_test(tc, wrap_around);
    tcase_add_test(tc, destroy_closes_queued);
    tcase_add_test(tc, threads_push_and_pop);
    suite_add_tcase(s, tc);
    return s;
}
