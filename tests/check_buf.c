/* SPDX-License-Identifier: MIT */
/* check_buf.c - unit suite of lib/buf.c, the byte buffers behind every
 * connection's input and output: appends within the soft capacity bound
 * and the hard limit, -ENOBUFS leaving the buffer exactly as it was, room
 * reserved at the tail, consumption from the front (the buffer freed when
 * emptied past `keep`) and compaction instead of growth when the front has
 * room. Capacities are asserted exactly: they are the memory an idle or a
 * busy connection holds, which is what these rules exist for. */
#include "suites.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"

/* n bytes of a pattern that shows where each byte came from. */
static void pattern(char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (char)(seed * 31u + i * 7u + (i >> 8));
}

static char src[1 << 16];

static void setup(void)
{
    pattern(src, sizeof src, 1);
}

START_TEST(append_to_empty)
{
    tps__buf b = {0};
    ck_assert_int_eq(tps__buf_append(&b, src, 0, 100), 0);
    ck_assert_ptr_null(b.data); /* nothing appended, nothing allocated */
    ck_assert_int_eq(tps__buf_append(&b, src, 10, 1 << 20), 0);
    ck_assert_uint_eq(b.len, 10);
    ck_assert_uint_eq(b.off, 0);
    ck_assert_uint_eq(b.cap, 4096); /* the first allocation */
    ck_assert_int_eq(memcmp(tps__buf_head(&b), src, 10), 0);
    ck_assert_int_eq(tps__buf_append(&b, src + 10, 90, 1 << 20), 0);
    ck_assert_uint_eq(b.len, 100);
    ck_assert_int_eq(memcmp(tps__buf_head(&b), src, 100), 0);
    tps__buf_free(&b);
    ck_assert_ptr_null(b.data);
    ck_assert_uint_eq(b.len + b.off + b.cap, 0);
}
END_TEST

/* Growth doubles to the first power-of-two multiple of 4096 that fits,
 * clamped to the limit. */
START_TEST(growth_doubles_within_limit)
{
    static const struct {
        size_t first, second, limit, cap;
    } t[] = {
        {4096, 0, 1 << 20, 4096},      {4097, 0, 1 << 20, 8192}, {4096, 1, 1 << 20, 8192},
        {5000, 20000, 1 << 20, 32768}, {4500, 0, 5000, 5000},    {100, 4900, 5000, 5000},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        tps__buf b = {0};
        ck_assert_int_eq(tps__buf_append(&b, src, t[i].first, t[i].limit), 0);
        ck_assert_int_eq(tps__buf_append(&b, src + t[i].first, t[i].second, t[i].limit), 0);
        ck_assert_msg(b.cap == t[i].cap, "case %zu: cap %zu, want %zu", i, b.cap, t[i].cap);
        ck_assert_uint_eq(b.len, t[i].first + t[i].second);
        ck_assert_int_eq(memcmp(tps__buf_head(&b), src, b.len), 0);
        tps__buf_free(&b);
    }
}
END_TEST

/* The soft bound caps the capacity while the bytes fit it, and only then. */
START_TEST(soft_bound)
{
    tps__buf b = {0};
    ck_assert_int_eq(tps__buf_append_soft(&b, src, 5000, 6000, 1 << 20), 0);
    ck_assert_uint_eq(b.cap, 6000); /* not 8192 */
    ck_assert_int_eq(tps__buf_append_soft(&b, src + 5000, 1000, 6000, 1 << 20), 0);
    ck_assert_uint_eq(b.cap, 6000); /* exactly full: no growth */
    ck_assert_int_eq(tps__buf_append_soft(&b, src + 6000, 1, 6000, 1 << 20), 0);
    ck_assert_uint_eq(b.cap, 12000); /* past it: doubling again */
    ck_assert_uint_eq(b.len, 6001);
    ck_assert_int_eq(memcmp(tps__buf_head(&b), src, 6001), 0);
    tps__buf_free(&b);

    /* A soft bound below the first allocation holds it to the bound. */
    ck_assert_int_eq(tps__buf_append_soft(&b, src, 10, 100, 1 << 20), 0);
    ck_assert_uint_eq(b.cap, 100);
    tps__buf_free(&b);
}
END_TEST

/* Over the limit: -ENOBUFS, and not a byte or a field changed. */
START_TEST(limit_refuses_unchanged)
{
    tps__buf b = {0};
    ck_assert_int_eq(tps__buf_append(&b, src, 6000, 10000), 0);
    tps__buf_consume(&b, 1000, 0); /* off > 0: compaction must not happen either */
    tps__buf before = b;
    char copy[5000];
    memcpy(copy, tps__buf_head(&b), sizeof copy);
    ck_assert_int_eq(tps__buf_append(&b, src, 5001, 10000), -ENOBUFS);
    ck_assert_int_eq(tps__buf_append_soft(&b, src, 5001, 6000, 10000), -ENOBUFS);
    ck_assert_ptr_eq(b.data, before.data);
    ck_assert_uint_eq(b.off, before.off);
    ck_assert_uint_eq(b.len, before.len);
    ck_assert_uint_eq(b.cap, before.cap);
    ck_assert_int_eq(memcmp(tps__buf_head(&b), copy, sizeof copy), 0);
    /* Exactly up to the limit is fine. */
    ck_assert_int_eq(tps__buf_append(&b, src, 5000, 10000), 0);
    ck_assert_uint_eq(b.len, 10000);
    ck_assert_uint_le(b.cap, 10000);
    ck_assert_int_eq(tps__buf_append(&b, src, 1, 10000), -ENOBUFS);
    tps__buf_free(&b);
}
END_TEST

/* A length near SIZE_MAX under a limit of SIZE_MAX ("no limit") is
 * refused, not wrapped into a small sum that "fits" and then copied. */
START_TEST(huge_length_refused_not_wrapped)
{
    tps__buf b = {0};
    ck_assert_int_eq(tps__buf_append(&b, src, 100, SIZE_MAX), 0);
    tps__buf_consume(&b, 10, 0);
    size_t cap = b.cap;
    ck_assert_int_eq(tps__buf_append(&b, src, SIZE_MAX - 50, SIZE_MAX), -ENOBUFS);
    ck_assert_int_eq(tps__buf_append_soft(&b, src, SIZE_MAX - 95, 4096, SIZE_MAX), -ENOBUFS);
    ck_assert_uint_eq(b.len, 90);
    ck_assert_uint_eq(b.cap, cap);
    tps__buf_free(&b);
}
END_TEST

START_TEST(consume_front_and_free_on_empty)
{
    tps__buf b = {0};
    ck_assert_int_eq(tps__buf_append(&b, src, 3000, 1 << 20), 0);
    tps__buf_consume(&b, 1000, 0);
    ck_assert_uint_eq(b.off, 1000);
    ck_assert_uint_eq(b.len, 2000);
    ck_assert_int_eq(memcmp(tps__buf_head(&b), src + 1000, 2000), 0);

    /* Emptied with keep >= cap: the memory stays for the next bytes. */
    tps__buf_consume(&b, 2000, 4096);
    ck_assert_ptr_nonnull(b.data);
    ck_assert_uint_eq(b.cap, 4096);
    ck_assert_uint_eq(b.off + b.len, 0);

    /* Emptied with keep < cap: released, as an idle connection's is. */
    ck_assert_int_eq(tps__buf_append(&b, src, 10, 1 << 20), 0);
    tps__buf_consume(&b, 50, 4095); /* more than held: all of it */
    ck_assert_ptr_null(b.data);
    ck_assert_uint_eq(b.cap + b.off + b.len, 0);
    /* and usable again */
    ck_assert_int_eq(tps__buf_append(&b, src, 5, 1 << 20), 0);
    ck_assert_int_eq(memcmp(tps__buf_head(&b), src, 5), 0);
    tps__buf_free(&b);
}
END_TEST

/* Room at the front is reused (memmove) before the buffer grows. */
START_TEST(compaction_before_growth)
{
    tps__buf b = {0};
    ck_assert_int_eq(tps__buf_append(&b, src, 4000, 1 << 20), 0);
    tps__buf_consume(&b, 3000, 0);
    char *data = b.data;
    ck_assert_int_eq(tps__buf_append(&b, src + 4000, 2000, 1 << 20), 0);
    ck_assert_uint_eq(b.cap, 4096); /* 3000 bytes fit in 4096 */
    ck_assert_ptr_eq(b.data, data);
    ck_assert_uint_eq(b.off, 0);
    ck_assert_uint_eq(b.len, 3000);
    ck_assert_int_eq(memcmp(tps__buf_head(&b), src + 3000, 3000), 0);

    /* When they do not fit, growth moves the bytes to the front too. */
    tps__buf_consume(&b, 100, 0);
    ck_assert_int_eq(tps__buf_append(&b, src + 6000, 2000, 1 << 20), 0);
    ck_assert_uint_eq(b.cap, 8192);
    ck_assert_uint_eq(b.off, 0);
    ck_assert_uint_eq(b.len, 4900);
    ck_assert_int_eq(memcmp(tps__buf_head(&b), src + 3100, 4900), 0);
    tps__buf_free(&b);
}
END_TEST

START_TEST(reserve_and_commit)
{
    tps__buf b = {0};
    size_t room = 0;
    char *tail = tps__buf_reserve(&b, 100, 1000, &room);
    ck_assert_ptr_nonnull(tail);
    ck_assert_uint_eq(room, 1000); /* clamped to the limit, not 4096 */
    memcpy(tail, src, 600);
    tps__buf_commit(&b, 600);
    ck_assert_uint_eq(b.len, 600);

    /* Asking for more than the limit leaves gets what the limit leaves. */
    tail = tps__buf_reserve(&b, 5000, 1000, &room);
    ck_assert_ptr_eq(tail, b.data + 600);
    ck_assert_uint_eq(room, 400);
    memcpy(tail, src + 600, 400);
    tps__buf_commit(&b, 400);
    ck_assert_int_eq(memcmp(tps__buf_head(&b), src, 1000), 0);

    /* At the limit: nothing, and the buffer as it was. */
    room = 12345;
    ck_assert_ptr_null(tps__buf_reserve(&b, 1, 1000, &room));
    ck_assert_uint_eq(room, 12345);
    ck_assert_uint_eq(b.len, 1000);

    /* Consumed front: reserve compacts rather than refusing. */
    tps__buf_consume(&b, 700, 0);
    tail = tps__buf_reserve(&b, 500, 1000, &room);
    ck_assert_ptr_nonnull(tail);
    ck_assert_uint_eq(b.off, 0);
    ck_assert_uint_eq(room, 700);
    ck_assert_int_eq(memcmp(tps__buf_head(&b), src + 700, 300), 0);
    tps__buf_free(&b);
}
END_TEST

Suite *buf_suite(void)
{
    Suite *s = suite_create("buf");
    TCase *tc = tcase_create("buf");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, append_to_empty);
    tcase_add_test(tc, growth_doubles_within_limit);
    tcase_add_test(tc, soft_bound);
    tcase_add_test(tc, limit_refuses_unchanged);
    tcase_add_test(tc, huge_length_refused_not_wrapped);
    tcase_add_test(tc, consume_front_and_free_on_empty);
    tcase_add_test(tc, compaction_before_growth);
    tcase_add_test(tc, reserve_and_commit);
    suite_add_tcase(s, tc);
    return s;
}
