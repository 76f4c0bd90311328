/* SPDX-License-Identifier: MIT */
/* check_common_escape.c - unit suite of common/escape.c, the one C-escape
 * set of tpclient -e and tpbench --request/--expect/--expect-term: every
 * escape, binary output (NUL inside), and a message naming each kind of
 * bad escape. The cases of tpclient's and tpbench's former decoders are
 * here. */
#include "suites.h"

#include <stdlib.h>
#include <string.h>

#include "../common/escape.h"

START_TEST(good)
{
    static const struct {
        const char *in;
        const char *out;
        size_t len;
    } cases[] = {
        {"plain", "plain", 5},
        {"a\\r\\n\\t", "a\r\n\t", 4},
        {"\\\\\\'\\\"\\?", "\\'\"?", 4},
        {"\\a\\b\\e\\f\\v", "\a\b\033\f\v", 5},
        {"\\x41\\x4a\\x4A\\x7", "AJJ\x07", 4},
        {"\\x414", "A4", 2}, /* at most two hex digits */
        {"\\101\\0\\7\\1234", "A\0\a\1234", 5},
        {"nul\\0in", "nul\0in", 6},
        {"\\xff", "\xff", 1},
        {"\\377", "\xff", 1},
        {"\\08", "\0" "8", 2}, /* octal stops at a non-octal digit */
        {"PING\\r\\n\\x41\\0\\101\\\\", "PING\r\nA\0A\\", 10}, /* tpbench's */
        {"", "", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *out = NULL, why[128] = "";
        size_t len = 99;
        ck_assert_msg(tpcm_unescape(cases[i].in, &out, &len, why, sizeof why) == 0, "%s: %s",
                      cases[i].in, why);
        ck_assert_uint_eq(len, cases[i].len);
        ck_assert_msg(memcmp(out, cases[i].out, len) == 0, "%s", cases[i].in);
        ck_assert_int_eq(out[len], '\0');
        free(out);
    }
}
END_TEST

START_TEST(bad)
{
    static const struct {
        const char *in, *why;
    } cases[] = {
        {"a\\q", "unknown escape '\\q'"},
        {"bad\\q", "unknown escape '\\q'"},
        {"\\z", "unknown escape '\\z'"},
        {"a\\", "trailing backslash"},
        {"trailing\\", "trailing backslash"},
        {"\\xg", "'\\x' needs hex digits"},
        {"\\x", "'\\x' needs hex digits"},
        {"\\400", "above \\377"},
        {"\\777", "'\\777' is above \\377"},
        {"\\\x01", "byte 0x01"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *out = (char *)1, why[128] = "";
        size_t len = 99;
        ck_assert_msg(tpcm_unescape(cases[i].in, &out, &len, why, sizeof why) == -1, "%s",
                      cases[i].in);
        ck_assert_msg(strstr(why, cases[i].why) != NULL, "%s: '%s'", cases[i].in, why);
        ck_assert_ptr_eq(out, (char *)1); /* untouched */
        ck_assert_uint_eq(len, 99);
    }
}
END_TEST

Suite *common_escape_suite(void)
{
    Suite *s = suite_create("common_escape");
    TCase *tc = tcase_create("escape");
    tcase_add_test(tc, good);
    tcase_add_test(tc, bad);
    suite_add_tcase(s, tc);
    return s;
}
