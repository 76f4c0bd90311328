/* SPDX-License-Identifier: MIT */
/* check_conntab.c - unit suite of lib/conntab.c, the connection table
 * whose slots outlive their connections so that a late epoll event or a
 * stale tps_conn_id() can be recognised instead of followed into freed
 * memory: slots numbered in order across chunks, the limit, reuse through
 * the free list with a new generation each time (never 0), and lookups by
 * id (owner, get) that refuse stale, foreign, zero-generation and
 * out-of-range ids. The workers are real (zeroed) tps__worker objects used
 * only as owners. */
#include "suites.h"

#include <stdint.h>
#include <string.h>

#include "internal.h"

static tps__worker w1, w2;

START_TEST(alloc_in_order_across_chunks)
{
    tps__conntab t;
    const size_t max = 2 * TPS__CHUNK + 3;
    ck_assert_int_eq(tps__conntab_init(&t, max), 0);
    for (size_t i = 0; i < max; i++) {
        tps_conn *c = tps__conntab_alloc(&t, &w1);
        ck_assert_ptr_nonnull(c);
        ck_assert_uint_eq(c->slot, i);
        ck_assert_uint_eq(c->gen, 1);
        ck_assert_int_eq(c->fd, -1);
        ck_assert_ptr_eq(c->w, &w1);
        ck_assert_uint_eq(tps__conn_datum(c), (uint64_t)1 << 32 | i);
        ck_assert_ptr_eq(tps__conntab_lookup(&t, tps__conn_datum(c)), c);
    }
    ck_assert_ptr_null(tps__conntab_alloc(&t, &w1)); /* the limit */
    ck_assert_uint_eq(t.used, max);
    tps__conntab_destroy(&t);
    tps__conntab_destroy(&t); /* twice is harmless */
}
END_TEST

/* A freed slot comes back with the next generation: the old id names
 * nothing, the new one the new connection. */
START_TEST(reuse_bumps_generation)
{
    tps__conntab t;
    ck_assert_int_eq(tps__conntab_init(&t, 8), 0);
    tps_conn *a = tps__conntab_alloc(&t, &w1);
    tps_conn *b = tps__conntab_alloc(&t, &w1);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    uint64_t old = tps__conn_datum(a);
    ck_assert_ptr_eq(tps__conntab_owner(&t, old), &w1);
    ck_assert_ptr_eq(tps__conntab_get(&t, old, &w1), a);

    a->fd = 42; /* state the next user must not inherit */
    tps__conntab_free(&t, a);
    ck_assert_ptr_null(tps__conntab_owner(&t, old)); /* closed: no owner */
    ck_assert_ptr_null(tps__conntab_get(&t, old, &w1));

    tps_conn *again = tps__conntab_alloc(&t, &w2);
    ck_assert_ptr_eq(again, a);       /* the same memory ... */
    ck_assert_uint_eq(again->gen, 2); /* ... under a new name */
    ck_assert_int_eq(again->fd, -1);
    uint64_t now = tps__conn_datum(again);
    ck_assert_uint_ne(now, old);
    ck_assert_ptr_null(tps__conntab_owner(&t, old)); /* stale stays stale */
    ck_assert_ptr_null(tps__conntab_get(&t, old, &w2));
    ck_assert_ptr_eq(tps__conntab_owner(&t, now), &w2);
    ck_assert_ptr_eq(tps__conntab_get(&t, now, &w2), again);
    ck_assert_ptr_null(tps__conntab_get(&t, now, &w1)); /* not w1's */
    /* The lock-free lookup gives the slot; its generation tells stale from
     * live (the worker compares it, worker.c). */
    tps_conn *slot = tps__conntab_lookup(&t, old);
    ck_assert_ptr_eq(slot, again);
    ck_assert_uint_ne(slot->gen, (uint32_t)(old >> 32));
    /* b was never touched. */
    ck_assert_ptr_eq(tps__conntab_owner(&t, tps__conn_datum(b)), &w1);

    /* Freed slots are reused before fresh ones. */
    tps__conntab_free(&t, b);
    tps_conn *c = tps__conntab_alloc(&t, &w1);
    ck_assert_ptr_eq(c, b);
    ck_assert_uint_eq(t.used, 2);
    tps__conntab_destroy(&t);
}
END_TEST

/* Generation 0 is the library's tag space: after 2^32 - 1 reuses the
 * counter skips it. */
START_TEST(generation_skips_zero)
{
    tps__conntab t;
    ck_assert_int_eq(tps__conntab_init(&t, 2), 0);
    tps_conn *c = tps__conntab_alloc(&t, &w1);
    c->gen = UINT32_MAX;
    uint64_t last = tps__conn_datum(c);
    ck_assert_ptr_eq(tps__conntab_owner(&t, last), &w1);
    tps__conntab_free(&t, c);
    c = tps__conntab_alloc(&t, &w1);
    ck_assert_uint_eq(c->gen, 1);
    ck_assert_ptr_null(tps__conntab_owner(&t, last));
    ck_assert_ptr_null(tps__conntab_owner(&t, (uint64_t)c->slot)); /* gen 0 */
    tps__conntab_destroy(&t);
}
END_TEST

START_TEST(ids_out_of_range)
{
    tps__conntab t;
    ck_assert_int_eq(tps__conntab_init(&t, 3 * TPS__CHUNK), 0);
    tps_conn *c = tps__conntab_alloc(&t, &w1);
    ck_assert_ptr_nonnull(c);
    static const uint64_t bad[] = {
        0,                                  /* gen 0, slot 0 */
        (uint64_t)1 << 32 | 1,              /* slot 1: never handed out */
        (uint64_t)2 << 32 | 0,              /* a generation slot 0 never had */
        (uint64_t)1 << 32 | TPS__CHUNK,     /* a chunk not allocated */
        (uint64_t)1 << 32 | 3 * TPS__CHUNK, /* past max_slots */
        (uint64_t)1 << 32 | UINT32_MAX,
        UINT64_MAX,
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(tps__conntab_owner(&t, bad[i]) == NULL, "owner of case %zu", i);
        ck_assert_msg(tps__conntab_get(&t, bad[i], &w1) == NULL, "get of case %zu", i);
    }
    /* The lock-free lookup refuses what it cannot reach: gen 0, slots past
     * the table and chunks never allocated. */
    ck_assert_ptr_null(tps__conntab_lookup(&t, 0));
    ck_assert_ptr_null(tps__conntab_lookup(&t, (uint64_t)1 << 32 | TPS__CHUNK));
    ck_assert_ptr_null(tps__conntab_lookup(&t, (uint64_t)1 << 32 | 3 * TPS__CHUNK));
    ck_assert_ptr_null(tps__conntab_lookup(&t, UINT64_MAX));
    ck_assert_ptr_eq(tps__conntab_lookup(&t, (uint64_t)1 << 32), c);
    tps__conntab_destroy(&t);
}
END_TEST

Suite *conntab_suite(void)
{
    Suite *s = suite_create("conntab");
    TCase *tc = tcase_create("conntab");
    tcase_add_test(tc, alloc_in_order_across_chunks);
    tcase_add_test(tc, reuse_bumps_generation);
    tcase_add_test(tc, generation_skips_zero);
    tcase_add_test(tc, ids_out_of_range);
    suite_add_tcase(s, tc);
    return s;
}
