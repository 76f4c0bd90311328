/* SPDX-License-Identifier: MIT */
/* Unit tests of bench/payload.c: echo payloads verify byte for byte and
 * tell corruption, reordering and another connection's bytes apart;
 * fixed requests match exact bytes, a length or a terminator. */
#include <check.h>
#include <string.h>

#include "../bench/payload.h"
#include "suites.h"

static tpb_payload echo_payload(size_t size)
{
    tpb_opts o;
    tpb_payload p;
    tpb_opts_defaults(&o);
    o.size = size;
    tpb_payload_init(&p, &o);
    return p;
}

/* Feed n bytes in pieces of `step`; returns the first non-zero result. */
static int feed(const tpb_payload *p, tpb_rx *rx, uint32_t cid, const char *d, size_t n,
                size_t step)
{
    for (size_t off = 0; off < n;) {
        size_t used = 0, k = n - off < step ? n - off : step;
        int r = tpb_payload_feed(p, rx, cid, d + off, k, &used);
        off += used;
        if (r != 0)
            return off == n || r < 0 ? r : 2; /* 2: completed early */
    }
    return 0;
}

START_TEST(echo_roundtrip_any_split)
{
    tpb_payload p = echo_payload(100);
    char buf[100];
    for (size_t step = 1; step <= 100; step += 33) {
        tpb_rx rx = {0};
        for (uint64_t seq = 0; seq < 3; seq++) {
            tpb_payload_request(&p, 7, seq, buf);
            ck_assert_int_eq(feed(&p, &rx, 7, buf, sizeof buf, step), 1);
        }
    }
}
END_TEST

START_TEST(echo_flip_and_drop_detected)
{
    tpb_payload p = echo_payload(64);
    char buf[64];
    tpb_payload_request(&p, 1, 0, buf);
    for (size_t i = 0; i < sizeof buf; i++) {
        tpb_rx rx = {0};
        buf[i] ^= 0x10;
        int r = feed(&p, &rx, 1, buf, sizeof buf, 64);
        ck_assert_msg(r < 0, "flip at %zu not caught", i);
        buf[i] ^= 0x10;
    }
    tpb_rx rx = {0};
    memmove(buf + 30, buf + 31, 33); /* a dropped byte shifts the rest */
    ck_assert_int_lt(feed(&p, &rx, 1, buf, 63, 64), 0);
}
END_TEST

START_TEST(echo_cross_and_reorder)
{
    tpb_payload p = echo_payload(32);
    char buf[32];
    tpb_rx rx = {0};
    tpb_payload_request(&p, 2, 0, buf);                              /* connection 2's reply ... */
    ck_assert_int_eq(feed(&p, &rx, 5, buf, 32, 32), TPB_VERR_CROSS); /* ... on 5 */
    memset(&rx, 0, sizeof rx);
    tpb_payload_request(&p, 5, 1, buf); /* seq 1 before seq 0 */
    ck_assert_int_eq(feed(&p, &rx, 5, buf, 32, 32), TPB_VERR_REORDER);
    memset(&rx, 0, sizeof rx);
    ck_assert_int_eq(feed(&p, &rx, 5, buf, 5, 1), 0); /* incomplete header: wait */
    ck_assert_int_eq(rx.bad, 1);
}
END_TEST

static tpb_payload fixed(const char *req, enum tpb_expect e, const char *exp, size_t len)
{
    tpb_payload p = {.expect = e,
                     .req = req,
                     .req_len = strlen(req),
                     .exp = exp,
                     .exp_len = exp ? strlen(exp) : len};
    return p;
}

START_TEST(fixed_replies)
{
    tpb_rx rx = {0};
    tpb_payload p = fixed("PING\r\n", TPB_EXPECT_EXACT, "+PONG\r\n", 0);
    ck_assert_int_eq(feed(&p, &rx, 0, "+PONG\r\n", 7, 3), 1);
    ck_assert_int_eq(feed(&p, &rx, 0, "-ERR x\r\n", 8, 8), TPB_VERR_CORRUPT);
    memset(&rx, 0, sizeof rx);
    p = fixed("version\r\n", TPB_EXPECT_TERM, "\r\n", 0);
    ck_assert_int_eq(feed(&p, &rx, 0, "VERSION 1.6.18\r\n", 16, 1), 1);
    ck_assert_int_eq(feed(&p, &rx, 0, "VERSION 1.6.18\r\n", 16, 16), 1);
    size_t used;
    ck_assert_int_eq(tpb_payload_feed(&p, &rx, 0, "A\r\nB\r\n", 6, &used), 1);
    ck_assert_uint_eq(used, 3);
    memset(&rx, 0, sizeof rx);
    p = fixed("x", TPB_EXPECT_LEN, NULL, 5);
    ck_assert_int_eq(feed(&p, &rx, 0, "abcde", 5, 2), 1);
}
END_TEST

Suite *bench_payload_suite(void)
{
    Suite *s = suite_create("bench_payload");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, echo_roundtrip_any_split);
    tcase_add_test(tc, echo_flip_and_drop_detected);
    tcase_add_test(tc, echo_cross_and_reorder);
    tcase_add_test(tc, fixed_replies);
    suite_add_tcase(s, tc);
    return s;
}
