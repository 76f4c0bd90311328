/* SPDX-License-Identifier: MIT */
/* check_client_opts.c - unit tests of tpclient's command-line module
 * (client/opts.c): good values, garbage and overflowing numbers, missing
 * values, targets and option combinations (the value grammar and the
 * escapes themselves are check_common_units' and check_common_escape'). */
#include "../client/opts.h"
#include "suites.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static char err[256];

/* Parses a NULL-terminated argument list (argv[0] added). */
#define PARSE(o, ...) parse_list(o, (const char *[]){"tpclient", __VA_ARGS__, NULL})

static int parse_list(struct tpc_opts *o, const char *list[])
{
    int argc = 0;
    while (list[argc])
        argc++;
    err[0] = '\0';
    return tpc_opts_parse(o, argc, (char *const *)list, err, sizeof err);
}

START_TEST(defaults)
{
    struct tpc_opts o;
    ck_assert_int_eq(PARSE(&o, "127.0.0.1", "7000"), 0);
    ck_assert_int_eq(o.action, TPC_RUN);
    ck_assert_str_eq(o.host, "127.0.0.1");
    ck_assert_str_eq(o.port, "7000");
    ck_assert_ptr_null(o.unix_path);
    ck_assert_ptr_null(o.message);
    ck_assert_int_eq(o.family, AF_UNSPEC);
    ck_assert_int_eq(o.timeout_ms, TPC_DEFAULT_TIMEOUT_MS);
    ck_assert_str_eq(o.eol, "\n");
    ck_assert_uint_eq(o.count, 1);
    ck_assert_uint_eq(o.lines, 0);
    ck_assert_uint_eq(o.expect_bytes, 0);
    tpc_opts_free(&o);
}
END_TEST

START_TEST(all_options)
{
    struct tpc_opts o;
    ck_assert_int_eq(PARSE(&o, "--message", "PING", "--count=3", "--crlf", "-w", "250ms",
                           "--expect-bytes", "21", "--lines=2", "-6", "--quiet", "-v",
                           "--half-close", "[::1]", "6379"),
                     0);
    ck_assert_str_eq(o.message, "PING");
    ck_assert_uint_eq(o.message_len, 4);
    ck_assert_uint_eq(o.count, 3);
    ck_assert_str_eq(o.eol, "\r\n");
    ck_assert_int_eq(o.timeout_ms, 250);
    ck_assert_uint_eq(o.expect_bytes, 21);
    ck_assert_uint_eq(o.lines, 2);
    ck_assert_int_eq(o.family, AF_INET6);
    ck_assert_int_eq(o.quiet, 1);
    ck_assert_int_eq(o.verbose, 1);
    ck_assert_int_eq(o.half_close, 1);
    ck_assert_str_eq(o.host, "::1"); /* brackets stripped */
    tpc_opts_free(&o);
}
END_TEST

START_TEST(options_after_target_and_dashdash)
{
    struct tpc_opts o;
    ck_assert_int_eq(PARSE(&o, "localhost", "80", "-4", "--no-newline", "--message", "x"), 0);
    ck_assert_int_eq(o.family, AF_INET);
    ck_assert_str_eq(o.eol, "");
    tpc_opts_free(&o);
    /* After "--", "-v" is a host name. */
    ck_assert_int_eq(PARSE(&o, "--", "-v", "80"), 0);
    ck_assert_str_eq(o.host, "-v");
    tpc_opts_free(&o);
}
END_TEST

START_TEST(unix_target)
{
    struct tpc_opts o;
    ck_assert_int_eq(PARSE(&o, "unix:/run/x.sock"), 0);
    ck_assert_str_eq(o.unix_path, "/run/x.sock");
    ck_assert_ptr_null(o.host);
    tpc_opts_free(&o);
    char longpath[200] = "unix:/";
    memset(longpath + 6, 'a', 150);
    longpath[156] = '\0';
    ck_assert_int_eq(PARSE(&o, longpath), -1);
    ck_assert_ptr_nonnull(strstr(err, "too long"));
    ck_assert_int_eq(PARSE(&o, "unix:"), -1);
    ck_assert_int_eq(PARSE(&o, "unix:/x", "80"), -1);
    ck_assert_int_eq(PARSE(&o, "-4", "unix:/x"), -1);
}
END_TEST

/* Letters netcat also has mean what they mean in nc (issue 13). */
START_TEST(netcat_letters)
{
    struct tpc_opts o;
    ck_assert_int_eq(
        PARSE(&o, "-w", "3", "-q", "1", "-N", "-C", "-v", "-n", "-4", "127.0.0.1", "7"), 0);
    ck_assert_int_eq(o.timeout_ms, 3000);        /* -w seconds */
    ck_assert_int_eq(o.quit_after_eof_ms, 1000); /* -q seconds */
    ck_assert_int_eq(o.half_close, 1);
    ck_assert_int_eq(o.crlf, 1);
    ck_assert_int_eq(o.verbose, 1);
    ck_assert_int_eq(o.numeric, 1);
    ck_assert_int_eq(o.family, AF_INET);
    tpc_opts_free(&o);
    ck_assert_int_eq(PARSE(&o, "-q", "-1", "h", "1"), 0); /* negative: forever */
    ck_assert_int_eq(o.quit_after_eof_ms, -1);
    tpc_opts_free(&o);
    ck_assert_int_eq(PARSE(&o, "h", "1"), 0);
    ck_assert_int_eq(o.quit_after_eof_ms, -1); /* the default, as nc's */
    tpc_opts_free(&o);
    ck_assert_int_eq(PARSE(&o, "-Uz", "/run/x.sock"), 0);
    ck_assert_str_eq(o.unix_path, "/run/x.sock");
    ck_assert_int_eq(o.zero_io, 1);
    tpc_opts_free(&o);
    ck_assert_int_eq(PARSE(&o, "-U"), -1);
    ck_assert_ptr_nonnull(strstr(err, "-U needs a socket PATH"));
    ck_assert_int_eq(PARSE(&o, "-n", "unix:/x"), -1);
    /* nc letters tpclient does not take are refused, never misread. */
    const char *refused[] = {"-l", "-k", "-u", "-p", "-s", "-t", "-b", "-d", "-m", "-V", "-x"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        ck_assert_int_eq(PARSE(&o, refused[i], "h", "1"), -1);
        ck_assert_ptr_nonnull(strstr(err, "unknown option"));
    }
}
END_TEST

START_TEST(help_and_version)
{
    struct tpc_opts o;
    ck_assert_int_eq(PARSE(&o, "--help"), 0);
    ck_assert_int_eq(o.action, TPC_HELP);
    tpc_opts_free(&o);
    ck_assert_int_eq(PARSE(&o, "--version", "--bogus-later-is-still-an-error"), -1);
    ck_assert_int_eq(PARSE(&o, "--version"), 0);
    ck_assert_int_eq(o.action, TPC_VERSION);
    tpc_opts_free(&o);
    char buf[8192] = "";
    FILE *f = fmemopen(buf, sizeof buf - 1, "w");
    ck_assert_ptr_nonnull(f);
    tpc_usage(f);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(buf, "Exit status"));
    /* The option list is generated: every flag of the table is in it. */
    const char *name;
    char letter;
    for (size_t i = 0; tpc_opts_flag(i, &name, &letter); i++) {
        char want[40];
        if (name)
            snprintf(want, sizeof want, "--%s", name);
        else
            snprintf(want, sizeof want, "-%c", letter);
        ck_assert_msg(strstr(buf, want) != NULL, "no %s in --help", want);
    }
}
END_TEST

/* Each bad command line fails with a message containing `want`. */
static const struct {
    const char *args[6];
    const char *want;
} bad[] = {
    {{"--count", "abc", "--message", "x", "h", "1"},
     "--count: invalid number 'abc'"},
    {{"--count", "-3", "--message", "x", "h", "1"}, "--count: missing value"},
    {{"--count=-3", "--message", "x", "h", "1"}, "--count: invalid number '-3'"},
    {{"--count", " 3", "--message", "x", "h", "1"}, "invalid number"},
    {{"--count", "3x", "--message", "x", "h", "1"}, "invalid number"},
    {{"--count", "0", "--message", "x", "h", "1"}, "--count: value '0' out of range"},
    {{"--count", "18446744073709551616", "--message", "x", "h", "1"}, "out of range"},
    {{"--lines", "", "h", "1"}, "--lines: invalid number ''"},
    {{"--expect-bytes=0", "h", "1"}, "--expect-bytes: value '0' out of range"},
    {{"--timeout", "soon", "h", "1"}, "--timeout: invalid duration 'soon'"},
    {{"-w", "5parsecs", "h", "1"}, "-w: invalid duration '5parsecs'"},
    {{"-w", "1.s", "h", "1"}, "invalid duration"},
    {{"-w", "1.5.5s", "h", "1"}, "-w: invalid duration '1.5.5s'"},
    {{"-w", "2147483648ms", "h", "1"}, "out of range"},
    {{"-q", "1sec", "h", "1"}, "-q: invalid duration"},
    {{"-w", "99999999999999999999", "h", "1"}, "out of range"},
    {{"-w", "25d", "h", "1"}, "invalid duration"},
    {{"-w", "600h", "h", "1"}, "out of range"},
    {{"h", "1", "--lines"}, "--lines: missing value"},
    {{"h", "1", "-w"}, "-w: missing value"},
    {{"--verbose=2", "h", "1"}, "--verbose: takes no value"},
    {{"--nope", "h", "1"}, "unknown option '--nope'"},
    {{"-vm", "3", "h", "1"}, "unknown option '-m'"},
    {{"--mess", "x", "h", "1"}, "unknown option '--mess'"},
    {{"h", "0"}, "invalid PORT '0'"},
    {{"h:0"}, "invalid PORT '0'"},
    {{"host:"}, "invalid address 'host:'"},
    {{":80"}, "missing host"},
    {{"[::1"}, "invalid address '[::1'"},
    {{"1.2.3.4:99999"}, "invalid address '1.2.3.4:99999'"},
    {{"h", "65536"}, "invalid PORT '65536'"},
    {{"h", "http"}, "invalid PORT 'http'"},
    {{"h"}, "missing PORT"},
    {{"-v"}, "missing HOST and PORT"},
    {{"h", "1", "2"}, "unexpected argument '2'"},
    {{"[]", "1"}, "empty HOST"},
    {{"-4", "-6", "h", "1"}, "-4 and -6"},
    {{"--count", "2", "h", "1"}, "--count needs --message"},
    {{"-e", "h", "1"}, "needs --message"},
    {{"-z", "--message", "x", "h", "1"}, "-z sends nothing"},
    {{"--no-newline", "-C", "--message", "x", "h", "1"}, "exclude each other"},
    {{"-e", "--message", "a\\q", "h", "1"}, "unknown escape '\\q'"},
    {{"-e", "--message", "a\\", "h", "1"}, "trailing backslash"},
    {{"-e", "--message", "\\xg", "h", "1"}, "'\\x' needs hex digits"},
    {{"-e", "--message", "\\400", "h", "1"}, "above \\377"},
};

START_TEST(bad_command_lines)
{
    struct tpc_opts o;
    const char *list[8] = {"tpclient"};
    size_t n = 0;
    while (n < 6 && bad[_i].args[n]) {
        list[n + 1] = bad[_i].args[n];
        n++;
    }
    list[n + 1] = NULL;
    ck_assert_int_eq(parse_list(&o, list), -1);
    ck_assert_msg(strstr(err, bad[_i].want) != NULL, "case %d: error \"%s\" lacks \"%s\"", _i, err,
                  bad[_i].want);
    /* A failed parse leaves nothing to free. */
    ck_assert_ptr_null(o.message);
    ck_assert_ptr_null(o.host);
}
END_TEST

/* HOST:PORT and [V6]:PORT in one argument, as tpbench and tpserver take
 * an address (common/addr.c), besides nc's HOST PORT. */
START_TEST(one_argument_targets)
{
    struct tpc_opts o;
    ck_assert_int_eq(PARSE(&o, "127.0.0.1:7000"), 0);
    ck_assert_str_eq(o.host, "127.0.0.1");
    ck_assert_str_eq(o.port, "7000");
    tpc_opts_free(&o);
    ck_assert_int_eq(PARSE(&o, "[::1]:7000"), 0);
    ck_assert_str_eq(o.host, "::1");
    tpc_opts_free(&o);
    ck_assert_int_eq(PARSE(&o, "::1", "80"), 0); /* nc's form with a bare IPv6 */
    ck_assert_str_eq(o.host, "::1");
    ck_assert_str_eq(o.port, "80");
    tpc_opts_free(&o);
    ck_assert_int_eq(PARSE(&o, "-w", "1.0005s", "-q", "100us", "h", "1"), 0);
    ck_assert_int_eq(o.timeout_ms, 1001); /* rounded up */
    ck_assert_int_eq(o.quit_after_eof_ms, 1);
    tpc_opts_free(&o);
    ck_assert_int_eq(PARSE(&o, "-w", "2147483647ms", "-q", "596h", "h", "1"), 0);
    ck_assert_int_eq(o.timeout_ms, 2147483647L);
    ck_assert_int_eq(o.quit_after_eof_ms, 2145600000L);
    tpc_opts_free(&o);
    ck_assert_int_eq(PARSE(&o, "-q", "597h", "h", "1"), -1);
    ck_assert_ptr_nonnull(strstr(err, "out of range"));
}
END_TEST

START_TEST(message_with_escapes_and_eol)
{
    struct tpc_opts o;
    ck_assert_int_eq(PARSE(&o, "-e", "--message", "a\\0b", "h", "1"), 0);
    ck_assert_uint_eq(o.message_len, 3);
    ck_assert_mem_eq(o.message, "a\0b", 3);
    tpc_opts_free(&o);
    /* Without -e the backslashes are sent as typed. */
    ck_assert_int_eq(PARSE(&o, "--message", "a\\0b", "h", "1"), 0);
    ck_assert_uint_eq(o.message_len, 4);
    tpc_opts_free(&o);
    /* --crlf also applies to stdin, without -m. */
    ck_assert_int_eq(PARSE(&o, "--crlf", "h", "1"), 0);
    ck_assert_int_eq(o.crlf, 1);
    tpc_opts_free(&o);
}
END_TEST

Suite *client_opts_suite(void)
{
    Suite *s = suite_create("client_opts");
    TCase *tc = tcase_create("parse");
    tcase_add_test(tc, defaults);
    tcase_add_test(tc, all_options);
    tcase_add_test(tc, options_after_target_and_dashdash);
    tcase_add_test(tc, netcat_letters);
    tcase_add_test(tc, unix_target);
    tcase_add_test(tc, help_and_version);
    tcase_add_loop_test(tc, bad_command_lines, 0, (int)(sizeof bad / sizeof bad[0]));
    tcase_add_test(tc, message_with_escapes_and_eol);
    suite_add_tcase(s, tc);
    tcase_add_test(tc, one_argument_targets);
    return s;
}
