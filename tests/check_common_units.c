/* SPDX-License-Identifier: MIT */
/* check_common_units.c - unit suite of common/units.c, the one grammar of
 * counts, durations and sizes of tpserver, tpclient and tpbench. One
 * table, each spelling run through the count parser, the duration parser
 * at three resolutions (ns as tpbench, us and ms as tpserver and tpclient)
 * and the size parser, so a row shows at a glance what "5m" means to each;
 * the cases of the three programs' former parsers are here, with their
 * verdicts under the common grammar. Then the edges of the range for every
 * unit, where the value meets LLONG_MAX, rounding up, and *out left
 * untouched on every error. */
#include "suites.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>

#include "../common/units.h"

#define E  (-EINVAL)
#define R  (-ERANGE)
#define D  (-EDOM)
#define OK 0

static const struct row {
    const char *s;
    int crc;
    long long count;
    int drc; /* the same verdict at every resolution */
    long long ns, us, ms;
    int src;
    long long size;
} rows[] = {
    /* spelling  count     duration: ns             us            ms        size */
    {"0", OK, 0, OK, 0, 0, 0, OK, 0},
    {"7", OK, 7, OK, 7000000000LL, 7000000, 7000, OK, 7},
    {"007", OK, 7, OK, 7000000000LL, 7000000, 7000, OK, 7},
    {"5ns", E, 0, OK, 5, 1, 1, E, 0}, /* rounded up: never 0 */
    {"1ns", E, 0, OK, 1, 1, 1, E, 0},
    {"5us", E, 0, OK, 5000, 5, 1, E, 0},
    {"100us", E, 0, OK, 100000, 100, 1, E, 0},
    {"5ms", E, 0, OK, 5000000, 5000, 5, E, 0},
    {"250ms", E, 0, OK, 250000000, 250000, 250, E, 0},
    {"5s", E, 0, OK, 5000000000LL, 5000000, 5000, E, 0},
    {"5m", E, 0, OK, 300000000000LL, 300000000, 300000, OK, 5242880},
    {"2m", E, 0, OK, 120000000000LL, 120000000, 120000, OK, 2097152},
    {"5M", E, 0, E, 0, 0, 0, OK, 5242880},
    {"5h", E, 0, OK, 18000000000000LL, 18000000000LL, 18000000, E, 0},
    {"1h", E, 0, OK, 3600000000000LL, 3600000000LL, 3600000, E, 0},
    {"5k", E, 0, E, 0, 0, 0, OK, 5120},
    {"4k", E, 0, E, 0, 0, 0, OK, 4096},
    {"5K", E, 0, E, 0, 0, 0, OK, 5120},
    {"5g", E, 0, E, 0, 0, 0, OK, 5368709120LL},
    {"5G", E, 0, E, 0, 0, 0, OK, 5368709120LL},
    /* Fractions: exact, rounded up in time, whole bytes in size. */
    {"1.5", E, 0, OK, 1500000000LL, 1500000, 1500, D, 0},
    {"1.5s", E, 0, OK, 1500000000LL, 1500000, 1500, E, 0},
    {"0.5", E, 0, OK, 500000000, 500000, 500, D, 0},
    {"0.25", E, 0, OK, 250000000, 250000, 250, D, 0},
    {"0.5m", E, 0, OK, 30000000000LL, 30000000, 30000, OK, 524288},
    {"1.0005s", E, 0, OK, 1000500000LL, 1000500, 1001, E, 0},
    {"0.1s", E, 0, OK, 100000000, 100000, 100, E, 0},
    {"0.0000000001s", E, 0, OK, 1, 1, 1, E, 0},
    {"0.00000000001m", E, 0, OK, 1, 1, 1, D, 0}, /* 0.6 ns */
    {"0.000000000000000000001h", E, 0, OK, 1, 1, 1, E, 0},
    {"1.5M", E, 0, E, 0, 0, 0, OK, 1572864},
    {"0.5k", E, 0, E, 0, 0, 0, OK, 512},
    {"0.1k", E, 0, E, 0, 0, 0, D, 0},
    {"1.0", E, 0, OK, 1000000000, 1000000, 1000, OK, 1},
    {"2.000", E, 0, OK, 2000000000, 2000000, 2000, OK, 2},
    /* Not the grammar. */
    {"", E, 0, E, 0, 0, 0, E, 0},
    {"s", E, 0, E, 0, 0, 0, E, 0},
    {"ms", E, 0, E, 0, 0, 0, E, 0},
    {"-1", E, 0, E, 0, 0, 0, E, 0},
    {"-1s", E, 0, E, 0, 0, 0, E, 0},
    {"+1", E, 0, E, 0, 0, 0, E, 0},
    {"+1s", E, 0, E, 0, 0, 0, E, 0},
    {" 1", E, 0, E, 0, 0, 0, E, 0},
    {"1 ", E, 0, E, 0, 0, 0, E, 0},
    {"1 s", E, 0, E, 0, 0, 0, E, 0},
    {" 10s", E, 0, E, 0, 0, 0, E, 0},
    {"1.", E, 0, E, 0, 0, 0, E, 0},
    {"1.s", E, 0, E, 0, 0, 0, E, 0},
    {".5", E, 0, E, 0, 0, 0, E, 0},
    {"1.5.5s", E, 0, E, 0, 0, 0, E, 0},
    {"1,5s", E, 0, E, 0, 0, 0, E, 0},
    {"0x10", E, 0, E, 0, 0, 0, E, 0},
    {"1e3", E, 0, E, 0, 0, 0, E, 0},
    {"12abc", E, 0, E, 0, 0, 0, E, 0},
    {"5MS", E, 0, E, 0, 0, 0, E, 0},
    {"10S", E, 0, E, 0, 0, 0, E, 0},
    {"5sec", E, 0, E, 0, 0, 0, E, 0},
    {"1sec", E, 0, E, 0, 0, 0, E, 0},
    {"10d", E, 0, E, 0, 0, 0, E, 0},
    {"10mss", E, 0, E, 0, 0, 0, E, 0},
    {"1ss", E, 0, E, 0, 0, 0, E, 0},
    {"s10", E, 0, E, 0, 0, 0, E, 0},
    {"5kb", E, 0, E, 0, 0, 0, E, 0}, /* tpbench took "kb" once; no program does now */
    {"64kk", E, 0, E, 0, 0, 0, E, 0},
    {"64t", E, 0, E, 0, 0, 0, E, 0},
    {"5mm", E, 0, E, 0, 0, 0, E, 0},
    {"abc", E, 0, E, 0, 0, 0, E, 0},
    {"9223372036854775807", OK, LLONG_MAX, R, 0, 0, 0, OK, LLONG_MAX},
    {"9223372036854775807ns", E, 0, OK, LLONG_MAX, LLONG_MAX / 1000 + 1, LLONG_MAX / 1000000 + 1,
     E, 0},
    /* Too many digits: -ERANGE wins over a bad unit (the digits fail first). */
    {"9223372036854775808", R, 0, R, 0, 0, 0, R, 0},
    {"99999999999999999999999", R, 0, R, 0, 0, 0, R, 0},
    {"99999999999999999999h", R, 0, R, 0, 0, 0, E, 0},
    {"99999999999999999999x", R, 0, E, 0, 0, 0, E, 0},
    {"8589934592g", E, 0, E, 0, 0, 0, R, 0},
};

START_TEST(table)
{
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const struct row *r = &rows[i];
        long long v = -42;
        ck_assert_msg(tpcm_parse_count(r->s, &v) == r->crc, "count '%s'", r->s);
        ck_assert_msg(v == (r->crc == OK ? r->count : -42), "count '%s' = %lld", r->s, v);
        v = -42;
        ck_assert_msg(tpcm_parse_duration(r->s, TPCM_NS, &v) == r->drc, "ns '%s'", r->s);
        ck_assert_msg(v == (r->drc == OK ? r->ns : -42), "ns '%s' = %lld", r->s, v);
        v = -42;
        ck_assert_msg(tpcm_parse_duration(r->s, TPCM_US, &v) == r->drc, "us '%s'", r->s);
        ck_assert_msg(v == (r->drc == OK ? r->us : -42), "us '%s' = %lld", r->s, v);
        v = -42;
        ck_assert_msg(tpcm_parse_duration(r->s, TPCM_MS, &v) == r->drc, "ms '%s'", r->s);
        ck_assert_msg(v == (r->drc == OK ? r->ms : -42), "ms '%s' = %lld", r->s, v);
        v = -42;
        ck_assert_msg(tpcm_parse_size(r->s, &v) == r->src, "size '%s'", r->s);
        ck_assert_msg(v == (r->src == OK ? r->size : -42), "size '%s' = %lld", r->s, v);
    }
}
END_TEST

/* For every unit: the largest v with v * unit <= LLONG_MAX is taken, v + 1
 * is -ERANGE (durations count in ns whatever the resolution). */
START_TEST(range_edges)
{
    static const struct {
        int size;
        const char *unit;
        long long mul;
    } t[] = {
        {0, "", 1000000000LL}, {0, "ns", 1}, {0, "us", 1000}, {0, "ms", 1000000},
        {0, "s", 1000000000LL}, {0, "m", 60000000000LL}, {0, "h", 3600000000000LL},
        {1, "", 1}, {1, "k", 1024}, {1, "M", 1 << 20}, {1, "g", 1 << 30},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        long long top = LLONG_MAX / t[i].mul, v = -42;
        char s[48];
        snprintf(s, sizeof s, "%lld%s", top, t[i].unit);
        int rc = t[i].size ? tpcm_parse_size(s, &v) : tpcm_parse_duration(s, TPCM_NS, &v);
        ck_assert_msg(rc == 0 && v == top * t[i].mul, "'%s'", s);
        if (t[i].mul == 1)
            continue; /* top + 1 has too many digits: the table covers it */
        v = -42;
        snprintf(s, sizeof s, "%lld%s", top + 1, t[i].unit);
        rc = t[i].size ? tpcm_parse_size(s, &v) : tpcm_parse_duration(s, TPCM_NS, &v);
        ck_assert_msg(rc == -ERANGE && v == -42, "'%s'", s);
    }
}
END_TEST

/* Any resolution in ns works, and rounding is up exactly at the edge. */
START_TEST(resolutions)
{
    long long v;
    ck_assert_int_eq(tpcm_parse_duration("1s", 3, &v), 0);
    ck_assert_int_eq(v, 333333334);
    ck_assert_int_eq(tpcm_parse_duration("999999ns", TPCM_MS, &v), 0);
    ck_assert_int_eq(v, 1);
    ck_assert_int_eq(tpcm_parse_duration("1000001ns", TPCM_MS, &v), 0);
    ck_assert_int_eq(v, 2);
    ck_assert_int_eq(tpcm_parse_duration("1000000ns", TPCM_MS, &v), 0);
    ck_assert_int_eq(v, 1);
    ck_assert_int_eq(tpcm_parse_duration("1s", 0, &v), -EINVAL);
    ck_assert_str_eq(tpcm_units_strerror(-ERANGE), "too large");
    ck_assert_str_eq(tpcm_units_strerror(-EDOM), "not a whole number of bytes");
}
END_TEST

Suite *common_units_suite(void)
{
    Suite *s = suite_create("common_units");
    TCase *tc = tcase_create("units");
    tcase_add_test(tc, table);
    tcase_add_test(tc, range_edges);
    tcase_add_test(tc, resolutions);
    suite_add_tcase(s, tc);
    return s;
}
