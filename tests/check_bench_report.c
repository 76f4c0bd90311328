/* SPDX-License-Identifier: MIT */
/* Unit tests of bench/report.c and bench/merge.c: the --json document
 * reads back through the merge reader with the same counts and the same
 * percentiles, merging two copies doubles counts and keeps percentiles,
 * and the percentile file ends at 100 %. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../bench/merge.h"
#include "../bench/report.h"
#include "suites.h"

static tpb_report *sample_report(void)
{
    tpb_report *r = tpb_report_new();
    snprintf(r->target, sizeof r->target, "127.0.0.1:7\"x");
    snprintf(r->mode, sizeof r->mode, "req");
    r->connections = 10, r->threads = 2, r->depth = 1, r->processes = 1;
    r->duration_s = 2.0;
    r->s.c.requests = r->s.c.responses = 1000;
    r->s.c.errors[TPB_E_CROSS] = 3;
    for (uint64_t i = 1; i <= 1000; i++) {
        tpb_hist_record(&r->s.lat, i * 1000); /* 1 us .. 1 ms */
        tpb_hist_record(&r->s.ttfb, i * 900);
    }
    tpb_hist_record(&r->s.connect, 50000);
    return r;
}

static char *to_json(const tpb_report *r)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    tpb_report_json(f, r);
    fclose(f);
    return buf;
}

START_TEST(json_reads_back)
{
    tpb_report *r = sample_report(), *back = tpb_report_new();
    char *js = to_json(r), err[128];
    ck_assert_int_eq(tpb_merge_json(back, js, err, sizeof err), 0);
    ck_assert_str_eq(back->target, r->target);
    ck_assert_uint_eq(back->s.c.responses, 1000);
    ck_assert_uint_eq(back->s.c.errors[TPB_E_CROSS], 3);
    ck_assert_uint_eq(back->s.lat.count, 1000);
    ck_assert_uint_eq(back->s.lat.min, r->s.lat.min);
    ck_assert_uint_eq(back->s.lat.max, r->s.lat.max);
    ck_assert_uint_eq(tpb_hist_pct(&back->s.lat, 99), tpb_hist_pct(&r->s.lat, 99));
    ck_assert_uint_eq(tpb_hist_pct(&back->s.ttfb, 50), tpb_hist_pct(&r->s.ttfb, 50));
    ck_assert_uint_eq(back->s.connect.count, 1);
    free(js), free(r), free(back);
}
END_TEST

START_TEST(merge_two)
{
    tpb_report *r = sample_report(), *m = tpb_report_new();
    char *js = to_json(r), err[128];
    ck_assert_int_eq(tpb_merge_json(m, js, err, sizeof err), 0);
    ck_assert_int_eq(tpb_merge_json(m, js, err, sizeof err), 0);
    ck_assert_int_eq(m->processes, 2);
    ck_assert_int_eq(m->connections, 20);
    ck_assert_uint_eq(m->s.c.responses, 2000);
    ck_assert(tpb_report_rate(m) == 1000.0); /* 2000 over the longest 2 s */
    ck_assert_uint_eq(tpb_hist_pct(&m->s.lat, 90), tpb_hist_pct(&r->s.lat, 90));
    ck_assert_int_eq(tpb_merge_json(m, "{\"hello\": 1}", err, sizeof err), -1);
    free(js), free(r), free(m);
}
END_TEST

START_TEST(hist_file_ends_at_100)
{
    tpb_report *r = sample_report();
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    tpb_report_hist(f, &r->s.lat);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(buf, "Value"));
    ck_assert_ptr_nonnull(strstr(buf, "1.000000000000       1000\n"));
    ck_assert_ptr_nonnull(strstr(buf, "Total count    =         1000"));
    free(buf), free(r);
}
END_TEST

Suite *bench_report_suite(void)
{
    Suite *s = suite_create("bench_report");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, json_reads_back);
    tcase_add_test(tc, merge_two);
    tcase_add_test(tc, hist_file_ends_at_100);
    suite_add_tcase(s, tc);
    return s;
}
