/* SPDX-License-Identifier: MIT */
/* check_units.c - unit suite of server/units.c, tpserver's strict count,
 * duration and size parsers. One table, each spelling run through all
 * four parsers, so a row shows at a glance how the grammars differ (what
 * "5m" means to each, which take "us" or "h"); then the edges of the range
 * for every unit, where v * unit meets LLONG_MAX; and *out left untouched
 * on every error. check_server_opts holds them to the flags that use them. */
#include "suites.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>

#include "../server/units.h"

#define E  (-EINVAL)
#define R  (-ERANGE)
#define OK 0

static const struct row {
    const char *s;
    int crc;
    long long count;
    int mrc;
    long long ms;
    int urc;
    long long us;
    int src;
    long long size;
} rows[] = {
    /* spelling   count        duration ms          duration us               size */
    {"0", OK, 0, OK, 0, OK, 0, OK, 0},
    {"7", OK, 7, OK, 7000, OK, 7000000, OK, 7},
    {"007", OK, 7, OK, 7000, OK, 7000000, OK, 7},
    {"5ms", E, 0, OK, 5, OK, 5000, E, 0},
    {"5us", E, 0, E, 0, OK, 5, E, 0},
    {"5s", E, 0, OK, 5000, OK, 5000000, E, 0},
    {"5m", E, 0, OK, 300000, OK, 300000000, OK, 5242880},
    {"5M", E, 0, E, 0, E, 0, OK, 5242880},
    {"5h", E, 0, OK, 18000000, E, 0, E, 0},
    {"5k", E, 0, E, 0, E, 0, OK, 5120},
    {"5K", E, 0, E, 0, E, 0, OK, 5120},
    {"5g", E, 0, E, 0, E, 0, OK, 5368709120LL},
    {"5G", E, 0, E, 0, E, 0, OK, 5368709120LL},
    {"", E, 0, E, 0, E, 0, E, 0},
    {"s", E, 0, E, 0, E, 0, E, 0},
    {"-1", E, 0, E, 0, E, 0, E, 0},
    {"+1", E, 0, E, 0, E, 0, E, 0},
    {" 1", E, 0, E, 0, E, 0, E, 0},
    {"1 ", E, 0, E, 0, E, 0, E, 0},
    {"1.5", E, 0, E, 0, E, 0, E, 0},
    {"1.5s", E, 0, E, 0, E, 0, E, 0},
    {"0x10", E, 0, E, 0, E, 0, E, 0},
    {"5MS", E, 0, E, 0, E, 0, E, 0},
    {"5sec", E, 0, E, 0, E, 0, E, 0},
    {"5kb", E, 0, E, 0, E, 0, E, 0},
    {"5mm", E, 0, E, 0, E, 0, E, 0},
    {"9223372036854775807", OK, LLONG_MAX, R, 0, R, 0, OK, LLONG_MAX},
    /* Too many digits: -ERANGE wins over a bad unit (the digits fail first). */
    {"9223372036854775808", R, 0, R, 0, R, 0, R, 0},
    {"99999999999999999999x", R, 0, R, 0, R, 0, R, 0},
};

START_TEST(table)
{
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const struct row *r = &rows[i];
        long long v = -42;
        ck_assert_msg(tpsrv_parse_count(r->s, &v) == r->crc, "count '%s'", r->s);
        ck_assert_msg(v == (r->crc == OK ? r->count : -42), "count '%s' = %lld", r->s, v);
        v = -42;
        ck_assert_msg(tpsrv_parse_duration_ms(r->s, &v) == r->mrc, "ms '%s'", r->s);
        ck_assert_msg(v == (r->mrc == OK ? r->ms : -42), "ms '%s' = %lld", r->s, v);
        v = -42;
        ck_assert_msg(tpsrv_parse_duration_us(r->s, &v) == r->urc, "us '%s'", r->s);
        ck_assert_msg(v == (r->urc == OK ? r->us : -42), "us '%s' = %lld", r->s, v);
        v = -42;
        ck_assert_msg(tpsrv_parse_size(r->s, &v) == r->src, "size '%s'", r->s);
        ck_assert_msg(v == (r->src == OK ? r->size : -42), "size '%s' = %lld", r->s, v);
    }
}
END_TEST

/* For every unit: the largest v with v * unit <= LLONG_MAX is taken, v + 1
 * is -ERANGE. */
START_TEST(range_edges)
{
    static const struct {
        int (*parse)(const char *, long long *);
        const char *unit;
        long long mul;
    } t[] = {
        {tpsrv_parse_duration_ms, "", 1000},
        {tpsrv_parse_duration_ms, "ms", 1},
        {tpsrv_parse_duration_ms, "s", 1000},
        {tpsrv_parse_duration_ms, "m", 60000},
        {tpsrv_parse_duration_ms, "h", 3600000},
        {tpsrv_parse_duration_us, "", 1000000},
        {tpsrv_parse_duration_us, "us", 1},
        {tpsrv_parse_duration_us, "ms", 1000},
        {tpsrv_parse_duration_us, "m", 60000000},
        {tpsrv_parse_size, "", 1},
        {tpsrv_parse_size, "k", 1024},
        {tpsrv_parse_size, "M", 1 << 20},
        {tpsrv_parse_size, "g", 1 << 30},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        long long top = LLONG_MAX / t[i].mul, v = -42;
        char s[48];
        snprintf(s, sizeof s, "%lld%s", top, t[i].unit);
        ck_assert_msg(t[i].parse(s, &v) == 0 && v == top * t[i].mul, "'%s'", s);
        if (t[i].mul == 1)
            continue; /* top + 1 has too many digits: the table covers it */
        v = -42;
        snprintf(s, sizeof s, "%lld%s", top + 1, t[i].unit);
        ck_assert_msg(t[i].parse(s, &v) == -ERANGE && v == -42, "'%s'", s);
    }
}
END_TEST

Suite *units_suite(void)
{
    Suite *s = suite_create("units");
    TCase *tc = tcase_create("units");
    tcase_add_test(tc, table);
    tcase_add_test(tc, range_edges);
    suite_add_tcase(s, tc);
    return s;
}
