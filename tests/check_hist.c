/* SPDX-License-Identifier: MIT */
/* check_hist.c - unit suite of lib/hist.c, the latency histograms behind
 * tps_server_stats' percentiles: an empty set answers 0, small values are
 * exact, larger ones within a bucket (1/16 of their power of two) and
 * never above the largest recorded, p100 is the exact maximum, values past
 * 2^42 ns share the last bucket, percentiles never decrease with p, and
 * merging histograms is the same as recording everything in one. */
#include "suites.h"

#include <stdlib.h>
#include <string.h>

#include "hist.h"

static tps__hist *fresh(void)
{
    tps__hist *h = calloc(1, sizeof *h);
    ck_assert_ptr_nonnull(h);
    return h;
}

static uint64_t pct1(const tps__hist *h, double p)
{
    const tps__hist *hs[] = {h};
    return tps__hist_pct(hs, 1, p);
}

START_TEST(empty_is_zero)
{
    tps__hist *h = fresh();
    ck_assert_uint_eq(pct1(h, 50), 0);
    ck_assert_uint_eq(pct1(h, 100), 0);
    ck_assert_uint_eq(tps__hist_pct(NULL, 0, 99), 0);
    free(h);
}
END_TEST

/* One value: every percentile lands in its bucket; the answer is the
 * bucket's middle (clamped to the value, the max) within 1/16. */
START_TEST(single_values)
{
    static const uint64_t v[] = {0,      1,         7,        15,
                                 16,     17,        100,      1000,
                                 123456, 999999999, 1u << 31, 4398046511103ull /* 2^42 - 1 */};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        tps__hist *h = fresh();
        tps__hist_record(h, v[i]);
        ck_assert_uint_eq(h->count, 1);
        ck_assert_uint_eq(h->max, v[i]);
        ck_assert_uint_eq(pct1(h, 100), v[i]);
        uint64_t p50 = pct1(h, 50);
        ck_assert_msg(p50 <= v[i], "%llu: p50 %llu above the max", (unsigned long long)v[i],
                      (unsigned long long)p50);
        ck_assert_msg(v[i] - p50 <= v[i] / 16, "%llu: p50 %llu", (unsigned long long)v[i],
                      (unsigned long long)p50);
        if (v[i] < 16)
            ck_assert_uint_eq(p50, v[i]); /* a bucket each */
        free(h);
    }
}
END_TEST

START_TEST(past_the_top_is_clamped)
{
    tps__hist *h = fresh();
    tps__hist_record(h, 1000);
    tps__hist_record(h, UINT64_MAX);
    ck_assert_uint_eq(h->b[TPS__HIST_BUCKETS - 1], 1); /* the last bucket */
    ck_assert_uint_eq(pct1(h, 100), UINT64_MAX);       /* the max is exact */
    ck_assert_uint_eq(pct1(h, 50), 992 + 16);          /* [992, 1024): its middle */
    free(h);
}
END_TEST

/* 1..1000: percentiles in order, each within its bucket of the truth. */
START_TEST(percentiles_in_order)
{
    tps__hist *h = fresh();
    for (uint64_t v = 1; v <= 1000; v++)
        tps__hist_record(h, v);
    uint64_t prev = 0;
    static const double ps[] = {0, 1, 10, 25, 50, 75, 90, 99, 99.9, 100};
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) {
        uint64_t got = pct1(h, ps[i]);
        uint64_t truth = ps[i] == 0 ? 1 : (uint64_t)(ps[i] * 10 + 0.999999);
        ck_assert_msg(got >= prev, "p%g = %llu below the one before, %llu", ps[i],
                      (unsigned long long)got, (unsigned long long)prev);
        uint64_t diff = got > truth ? got - truth : truth - got;
        ck_assert_msg(diff <= truth / 16 + 1, "p%g = %llu, truth %llu", ps[i],
                      (unsigned long long)got, (unsigned long long)truth);
        prev = got;
    }
    ck_assert_uint_eq(pct1(h, 100), 1000);
    free(h);
}
END_TEST

/* Two histograms merged answer what one holding both would. */
START_TEST(merge_equals_one)
{
    tps__hist *a = fresh(), *b = fresh(), *all = fresh();
    for (uint64_t i = 0; i < 5000; i++) {
        uint64_t v = (i * 2654435761u) % 10000000u;
        tps__hist_record(i % 3 ? a : b, v);
        tps__hist_record(all, v);
    }
    const tps__hist *both[] = {a, b};
    for (double p = 0; p <= 100; p += 2.5)
        ck_assert_msg(tps__hist_pct(both, 2, p) == pct1(all, p), "p%g", p);
    free(a);
    free(b);
    free(all);
}
END_TEST

START_TEST(clock_moves_forward)
{
    uint64_t t0 = tps__now_ns(), t1 = tps__now_ns();
    ck_assert_uint_gt(t0, 0);
    ck_assert_uint_ge(t1, t0);
}
END_TEST

Suite *hist_suite(void)
{
    Suite *s = suite_create("hist");
    TCase *tc = tcase_create("hist");
    tcase_add_test(tc, empty_is_zero);
    tcase_add_test(tc, single_values);
    tcase_add_test(tc, past_the_top_is_clamped);
    tcase_add_test(tc, percentiles_in_order);
    tcase_add_test(tc, merge_equals_one);
    tcase_add_test(tc, clock_moves_forward);
    suite_add_tcase(s, tc);
    return s;
}
