/* SPDX-License-Identifier: MIT */
/* check_lib_wake.c - the doorbell writes (tps__ring, tps__wake in
 * lib/worker.c), what tests/server_faults.sh cannot reach through its
 * shim: an eventfd whose counter is at its maximum answers EAGAIN, which
 * is a ring that already happened, not a failure; a real failure (a bad
 * descriptor) is recorded, keeps the caller's errno (tps_server_stop may
 * run in a signal handler) and is logged once, only by tps__wake. */
#include "suites.h"
#include "testutil.h"

#include "internal.h"

#include <errno.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

START_TEST(test_ring_counts_and_full_counter)
{
    tps_server *srv = NULL;
    ck_assert_int_eq(tps_server_new(&srv), 0);
    int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    ck_assert_int_ge(fd, 0);
    uint64_t v = 0;
    ck_assert_int_eq(tps__ring(srv, fd), 0);
    ck_assert_int_eq(read(fd, &v, sizeof(v)), sizeof(v));
    ck_assert_uint_eq(v, 1);
    /* The counter at its maximum (2^64 - 2): the write says EAGAIN. */
    v = UINT64_MAX - 1;
    ck_assert_int_eq(write(fd, &v, sizeof(v)), sizeof(v));
    ck_assert_int_eq(tps__ring(srv, fd), 0);
    ck_assert_int_eq(atomic_load(&srv->wake_errno), 0);
    close(fd);
    tps_server_free(srv);
}
END_TEST

START_TEST(test_ring_failure_recorded_logged_once)
{
    tu_log log;
    tu_log_init(&log);
    tps_server *srv = NULL;
    ck_assert_int_eq(tps_server_new(&srv), 0);
    ck_assert_int_eq(tps_server_set_log(srv, tu_log_fn, &log, TPS_LOG_DEBUG), 0);
    int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    close(fd); /* now a bad descriptor */
    errno = EDOM;
    ck_assert_int_eq(tps__ring(srv, fd), -EBADF);
    ck_assert_int_eq(errno, EDOM);
    ck_assert_int_eq(atomic_load(&srv->wake_errno), EBADF);
    ck_assert_uint_eq(tu_log_count(&log, TPS_LOG_ERROR), 0); /* tps__ring never logs */
    tps__wake(srv, fd);
    tps__wake(srv, fd);
    tps__wake_log(srv);
    ck_assert_uint_eq(tu_log_count(&log, TPS_LOG_ERROR), 1);
    ck_assert(tu_log_has(&log, "eventfd"));
    tps_server_free(srv);
}
END_TEST

Suite *lib_wake_suite(void)
{
    Suite *s = suite_create("lib_wake");
    TCase *tc = tcase_create("ring");
    tcase_add_test(tc, test_ring_counts_and_full_counter);
    tcase_add_test(tc, test_ring_failure_recorded_logged_once);
    suite_add_tcase(s, tc);
    return s;
}
