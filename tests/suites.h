/* SPDX-License-Identifier: MIT */
/* The Check suites of tests/check_all: one line per module. Each
 * tests/check_<module>.c defines Suite *<module>_suite(void). */
#ifndef TPS_TESTS_SUITES_H
#define TPS_TESTS_SUITES_H
#include <check.h>

#define TPS_SUITES(X)   \
    X(error)            \
    X(bench_hist)       \
    X(bench_opts)       \
    X(bench_payload)    \
    X(bench_report)     \
    X(server_opts)      \
    X(client_opts)      \
    X(lib_api)          \
    X(lib_echo)         \
    X(lib_block)        \
    X(lib_limits)       \
    X(lib_stop)         \
    X(lib_close)        \
    X(lib_mail)         \
    X(lib_proxy)        \
    X(lib_tls)          \
    X(lib_tls_contract) \
    X(proxyproto)       \
    X(lib_wake)         \
    X(buf)              \
    X(fdqueue)          \
    X(conntab)          \
    X(sockaddr)         \
    X(hist)             \
    X(common_units)     \
    X(common_escape)    \
    X(common_addr)      \
    X(common_flags)     \
    /* end */

#define TPS_SUITE_DECL_(name) Suite *name##_suite(void);
TPS_SUITES(TPS_SUITE_DECL_)
#undef TPS_SUITE_DECL_
#endif
