/* SPDX-License-Identifier: MIT */
/* check_error.c - the error, close-reason, option and stat tables. */
#include <check.h>
#include <string.h>

#include "tpserv.h"
#include "suites.h"

START_TEST(every_code_has_name_and_message)
{
#define CHECK_ERR_(name, val, msg)              \
    ck_assert_str_eq(tps_err_name(val), #name); \
    ck_assert_str_eq(tps_strerror(val), msg);   \
    ck_assert_int_lt(val, 0);
    TPS_ERRNO_MAP(CHECK_ERR_)
#undef CHECK_ERR_
    ck_assert_str_eq(tps_err_name(-999999), "UNKNOWN");
    ck_assert_str_eq(tps_strerror(-999999), "unknown error");
    ck_assert_str_eq(tps_strerror(0), "success");
}
END_TEST

START_TEST(codes_are_negated_errno)
{
    ck_assert_int_eq(TPS_EADDRINUSE, -EADDRINUSE);
    ck_assert_int_eq(TPS_EMFILE, -EMFILE);
}
END_TEST

START_TEST(close_reasons_and_levels)
{
    ck_assert_str_eq(tps_close_reason_str(TPS_CLOSE_IDLE_TIMEOUT), "idle timeout");
    ck_assert_str_eq(tps_close_reason_str(-1), "unknown reason");
    ck_assert_str_eq(tps_close_reason_str(TPS_CLOSE_REASON_COUNT_), "unknown reason");
    ck_assert_int_eq(tps_log_level_parse("debug"), TPS_LOG_DEBUG);
    ck_assert_int_eq(tps_log_level_parse("WARN"), TPS_LOG_WARN);
    ck_assert_int_eq(tps_log_level_parse("loud"), TPS_EINVAL);
    ck_assert_int_eq(tps_log_level_parse(NULL), TPS_EINVAL);
    ck_assert_str_eq(tps_log_level_name(TPS_LOG_ERROR), "error");
    ck_assert_str_eq(tps_log_level_name(42), "unknown");
}
END_TEST

START_TEST(option_and_stat_names)
{
    ck_assert_str_eq(tps_option_name(TPS_OPT_MAX_CONNS), "max_conns");
    ck_assert_str_eq(tps_option_name(TPS_OPT_IDLE_TIMEOUT_MS), "idle_timeout_ms");
    ck_assert_ptr_null(tps_option_name(TPS_OPT_COUNT_));
    ck_assert_str_eq(tps_stat_name(TPS_STAT_BYTES_IN), "bytes_in");
    ck_assert_ptr_null(tps_stat_name(TPS_STAT_COUNT_));
    for (int i = 0; i < TPS_STAT_COUNT_; i++)
        ck_assert_ptr_nonnull(tps_stat_desc((enum tps_stat)i));
}
END_TEST

Suite *error_suite(void)
{
    Suite *s = suite_create("error");
    TCase *tc = tcase_create("tables");
    tcase_add_test(tc, every_code_has_name_and_message);
    tcase_add_test(tc, codes_are_negated_errno);
    tcase_add_test(tc, close_reasons_and_levels);
    tcase_add_test(tc, option_and_stat_names);
    suite_add_tcase(s, tc);
    return s;
}
