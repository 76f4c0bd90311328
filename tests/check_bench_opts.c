/* SPDX-License-Identifier: MIT */
/* Unit tests of bench/opts.c: the command line and percentile targets
 * (durations, sizes and escapes are check_common_units' and
 * check_common_escape': their cases moved there). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "../bench/opts.h"
#include "suites.h"

static int parse(tpb_opts *o, char *err, const char *const *args)
{
    char *argv[32];
    int argc = 0;
    argv[argc++] = (char *)"tpbench";
    for (; *args; args++)
        argv[argc++] = (char *)*args;
    argv[argc] = NULL;
    tpb_opts_defaults(o);
    return tpb_opts_parse(o, argc, argv, err, 256);
}

START_TEST(defaults_and_flags)
{
    tpb_opts o;
    char err[256];
    const char *a1[] = {"127.0.0.1:7000", NULL};
    ck_assert_int_eq(parse(&o, err, a1), 0);
    ck_assert_int_eq(o.connections, 10);
    ck_assert_int_eq(o.depth, 1);
    ck_assert_uint_eq(o.size, 64);
    ck_assert_str_eq(o.target, "127.0.0.1:7000");
    tpb_opts_free(&o);
    const char *a2[] = {
        "-c",       "100",       "-t",         "2",        "-d",          "2m",
        "--warmup", "500ms",     "--depth",    "8",        "--rate",      "5000",
        "--json",   "--request", "PING\\r\\n", "--expect", "+PONG\\r\\n", "unix:/tmp/x.sock",
        NULL};
    ck_assert_int_eq(parse(&o, err, a2), 0);
    ck_assert_int_eq(o.connections, 100);
    ck_assert_int_eq(o.threads, 2);
    ck_assert_uint_eq(o.duration_ns, 120000000000ull);
    ck_assert_uint_eq(o.warmup_ns, 500000000ull);
    ck_assert_int_eq(o.depth, 8);
    ck_assert(o.rate == 5000.0);
    ck_assert_int_eq(o.json, 1);
    ck_assert_uint_eq(o.request_len, 6);
    ck_assert_int_eq(o.expect, TPB_EXPECT_EXACT);
    ck_assert_uint_eq(o.expect_blen, 7);
    tpb_opts_free(&o);
    ck_assert_uint_eq(o.busy_poll_ns, 0);
    tpb_opts_free(&o);
    const char *a4[] = {"--busy-poll", "50us", "h:1", NULL};
    ck_assert_int_eq(parse(&o, err, a4), 0);
    ck_assert_uint_eq(o.busy_poll_ns, 50000);
    tpb_opts_free(&o);
    const char *a5[] = {"-d", "1.5s", "--size", "1.5k", "--warmup=0.5", "-R", "100",
                        "--request", "PING\\r\\n", "--expect-len", "1k", "[::1]:7000", NULL};
    ck_assert_int_eq(parse(&o, err, a5), 0);
    ck_assert_uint_eq(o.duration_ns, 1500000000ull);
    ck_assert_uint_eq(o.size, 1536);
    ck_assert_uint_eq(o.warmup_ns, 500000000ull);
    ck_assert_uint_eq(o.expect_len, 1024);
    ck_assert_str_eq(o.target, "[::1]:7000");
    tpb_opts_free(&o);
    const char *a3[] = {"--mode", "throughput", "h:1", NULL};
    ck_assert_int_eq(parse(&o, err, a3), 0);
    ck_assert_uint_eq(o.size, 65536);
    ck_assert_int_eq(o.depth, 4);
    tpb_opts_free(&o);
}
END_TEST

START_TEST(usage_errors)
{
    tpb_opts o;
    char err[256];
    const char *bad[][8] = {
        {"-c", "0", "h:1", NULL},
        {"-d", "ten", "h:1", NULL},
        {"--bogus", "h:1", NULL},
        {NULL},
        {"a:1", "b:2", NULL},
        {"--mode", "nope", "h:1", NULL},
        {"--expect", "x", "h:1", NULL},
        {"--size", "8", "h:1", NULL},
        {"--max-rate-under", "q99=1ms", "h:1", NULL},
        {"--busy-poll", "2s", "h:1", NULL},
        {"--busy-poll", "fast", "h:1", NULL},
        {"--request", "a", "--expect-len", "3", "--expect", "b", "h:1"},
        {"-d", "1e3", "h:1", NULL},
        {"-d", "0x10", "h:1", NULL},
        {"--size", "64kb", "h:1", NULL},
        {"--size", "1.5", "h:1", NULL},
        {"--request", "bad\\q", "h:1", NULL},
        {"host:", NULL},
        {":80", NULL},
        {"[::1", NULL},
        {"1.2.3.4:99999", NULL},
        {"h:0", NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        ck_assert_msg(parse(&o, err, bad[i]) == -1, "case %zu accepted", i);
        ck_assert_msg(strlen(err) > 0, "case %zu: no message", i);
        tpb_opts_free(&o);
    }
}
END_TEST

START_TEST(pct_target)
{
    double p;
    uint64_t ns;
    ck_assert_int_eq(tpb_parse_pct_target("p99=2ms", &p, &ns), 0);
    ck_assert(p == 99.0);
    ck_assert_uint_eq(ns, 2000000);
    ck_assert_int_eq(tpb_parse_pct_target("p99.9=500us", &p, &ns), 0);
    ck_assert(p == 99.9);
    ck_assert_int_eq(tpb_parse_pct_target("99=2ms", &p, &ns), -1);
    ck_assert_int_eq(tpb_parse_pct_target("p99", &p, &ns), -1);
}
END_TEST

Suite *bench_opts_suite(void)
{
    Suite *s = suite_create("bench_opts");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, defaults_and_flags);
    tcase_add_test(tc, usage_errors);
    tcase_add_test(tc, pct_target);
    suite_add_tcase(s, tc);
    return s;
}
