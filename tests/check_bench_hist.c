/* SPDX-License-Identifier: MIT */
/* Unit tests of bench/hist.c: bucket geometry, and percentiles of known
 * distributions against exact sorted order statistics (within 1%). */
#include <check.h>
#include <math.h>
#include <stdlib.h>

#include "../bench/hist.h"
#include "suites.h"

static uint64_t rng_state = 88172645463325252ull;

static double urand(void) /* xorshift64: deterministic, in (0,1) */
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return ((double)(rng_state >> 11) + 0.5) / 9007199254740992.0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Compare every reported percentile with the exact one, same rank rule. */
static void check_pcts(uint64_t *v, size_t n)
{
    static const double ps[] = {1, 10, 25, 50, 75, 90, 99, 99.9, 99.99, 100};
    tpb_hist *h = malloc(sizeof *h);
    tpb_hist_init(h);
    for (size_t i = 0; i < n; i++)
        tpb_hist_record(h, v[i]);
    qsort(v, n, sizeof *v, cmp_u64);
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) {
        size_t rank = (size_t)ceil(ps[i] / 100.0 * (double)n);
        double exact = (double)v[rank - 1], got = (double)tpb_hist_pct(h, ps[i]);
        ck_assert_msg(fabs(got - exact) <= 0.01 * exact, "p%g: got %.0f, exact %.0f", ps[i], got,
                      exact);
    }
    ck_assert_uint_eq(h->count, n);
    ck_assert_uint_eq(h->min, v[0]);
    ck_assert_uint_eq(h->max, v[n - 1]);
    free(h);
}

START_TEST(buckets_bound_values)
{
    for (uint64_t v = 1; v < HIST_MAX_NS; v = v + 1 + v / 97) {
        size_t i = tpb_hist_index(v);
        ck_assert_uint_le(tpb_hist_lo(i), v);
        ck_assert_uint_ge(tpb_hist_hi(i), v);
        double width = (double)(tpb_hist_hi(i) - tpb_hist_lo(i));
        ck_assert(width <= (double)v / 128.0);
        ck_assert_uint_lt(i, HIST_BUCKETS);
    }
    ck_assert_uint_eq(tpb_hist_index(HIST_MAX_NS), HIST_BUCKETS - 1);
}
END_TEST

START_TEST(uniform_matches_sorted)
{
    size_t n = 200000;
    uint64_t *v = malloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++) /* 1 us .. 100 ms */
        v[i] = 1000 + (uint64_t)(urand() * 100e6);
    check_pcts(v, n);
    free(v);
}
END_TEST

START_TEST(exponential_matches_sorted)
{
    size_t n = 200000;
    uint64_t *v = malloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++) /* mean 1 ms, long tail */
        v[i] = 1000 + (uint64_t)(-log(urand()) * 1e6);
    check_pcts(v, n);
    free(v);
}
END_TEST

START_TEST(log_uniform_us_to_minutes)
{
    size_t n = 100000;
    uint64_t *v = malloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++) /* 1 us .. 30 min, evenly in log */
        v[i] = (uint64_t)(1e3 * pow(1.8e9, urand()));
    check_pcts(v, n);
    free(v);
}
END_TEST

START_TEST(merge_equals_single)
{
    tpb_hist *a = malloc(sizeof *a), *b = malloc(sizeof *b), *all = malloc(sizeof *all);
    tpb_hist_init(a);
    tpb_hist_init(b);
    tpb_hist_init(all);
    for (int i = 0; i < 10000; i++) {
        uint64_t x = (uint64_t)(urand() * 1e7);
        tpb_hist_record(i % 2 ? a : b, x);
        tpb_hist_record(all, x);
    }
    tpb_hist_merge(a, b);
    ck_assert_uint_eq(a->count, all->count);
    ck_assert_uint_eq(a->max, all->max);
    ck_assert_uint_eq(a->min, all->min);
    ck_assert_uint_eq(tpb_hist_pct(a, 99.9), tpb_hist_pct(all, 99.9));
    free(a), free(b), free(all);
}
END_TEST

START_TEST(empty_and_clamped)
{
    tpb_hist *h = malloc(sizeof *h);
    tpb_hist_init(h);
    ck_assert_uint_eq(tpb_hist_pct(h, 99), 0);
    tpb_hist_record(h, UINT64_C(1) << 60);
    ck_assert_uint_eq(h->clamped, 1);
    ck_assert_uint_eq(tpb_hist_pct(h, 50), UINT64_C(1) << 60); /* clamped to exact max */
    free(h);
}
END_TEST

Suite *bench_hist_suite(void)
{
    Suite *s = suite_create("bench_hist");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, buckets_bound_values);
    tcase_add_test(tc, uniform_matches_sorted);
    tcase_add_test(tc, exponential_matches_sorted);
    tcase_add_test(tc, log_uniform_us_to_minutes);
    tcase_add_test(tc, merge_equals_single);
    tcase_add_test(tc, empty_and_clamped);
    suite_add_tcase(s, tc);
    return s;
}
