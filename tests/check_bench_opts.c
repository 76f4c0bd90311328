/* SPDX-License-Identifier: MIT */
/* Unit tests of bench/opts.c: value parsers and the command line. */
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

START_TEST(durations)
{
    uint64_t ns;
    ck_assert_int_eq(tpb_parse_duration("10s", &ns), 0);
    ck_assert_uint_eq(ns, 10000000000ull);
    ck_assert_int_eq(tpb_parse_duration("2m", &ns), 0);
    ck_assert_uint_eq(ns, 120000000000ull);
    ck_assert_int_eq(tpb_parse_duration("500ms", &ns), 0);
    ck_assert_uint_eq(ns, 500000000ull);
    ck_assert_int_eq(tpb_parse_duration("250us", &ns), 0);
    ck_assert_uint_eq(ns, 250000ull);
    ck_assert_int_eq(tpb_parse_duration("3", &ns), 0);
    ck_assert_uint_eq(ns, 3000000000ull);
    ck_assert_int_eq(tpb_parse_duration("1.5s", &ns), 0);
    ck_assert_uint_eq(ns, 1500000000ull);
    ck_assert_int_eq(tpb_parse_duration("10x", &ns), -1);
    ck_assert_int_eq(tpb_parse_duration("", &ns), -1);
    ck_assert_int_eq(tpb_parse_duration("-1s", &ns), -1);
    ck_assert_int_eq(tpb_parse_duration("s", &ns), -1);
}
END_TEST

START_TEST(sizes_and_escapes)
{
    size_t n;
    ck_assert_int_eq(tpb_parse_size("64", &n), 0);
    ck_assert_uint_eq(n, 64);
    ck_assert_int_eq(tpb_parse_size("4k", &n), 0);
    ck_assert_uint_eq(n, 4096);
    ck_assert_int_eq(tpb_parse_size("1M", &n), 0);
    ck_assert_uint_eq(n, 1048576);
    ck_assert_int_eq(tpb_parse_size("12q", &n), -1);
    char *s = tpb_unescape("PING\\r\\n\\x41\\0\\101\\\\", &n);
    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(n, 10);
    ck_assert(memcmp(s, "PING\r\nA\0A\\", 10) == 0);
    free(s);
    ck_assert_ptr_null(tpb_unescape("bad\\q", &n));
    ck_assert_ptr_null(tpb_unescape("trailing\\", &n));
}
END_TEST

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
    tcase_add_test(tc, durations);
    tcase_add_test(tc, sizes_and_escapes);
    tcase_add_test(tc, defaults_and_flags);
    tcase_add_test(tc, usage_errors);
    tcase_add_test(tc, pct_target);
    suite_add_tcase(s, tc);
    return s;
}
