/* SPDX-License-Identifier: MIT */
/* check_server_opts.c - unit tests of tpserver's command-line parser
 * (server/opts.c, on common/flags.c; the value grammar itself is
 * check_common_units'): good values in every accepted form, the flags
 * generated from TPS_OPTION_MAP, each kind of bad value, overflow,
 * duplicates and missing arguments. The parser never exits, so no process is needed. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>

#include "../server/opts.h"
#include "suites.h"

static struct tpsrv_opts o;
static char err[256];

/* Parse a NULL-terminated list of arguments (argv[0] is added). */
static const char *parse(const char *first, ...)
{
    char *argv[64] = {(char *)"tpserver"};
    int argc = 1;
    va_list ap;

    va_start(ap, first);
    for (const char *a = first; a != NULL && argc < 63; a = va_arg(ap, const char *))
        argv[argc++] = (char *)a;
    va_end(ap);
    return tpsrv_opts_parse(&o, argc, argv, err, sizeof err);
}

/* The parse must fail with a message holding both needles. */
#define ck_fails_with(res, n1, n2)                                        \
    do {                                                                  \
        const char *r_ = (res);                                           \
        ck_assert_ptr_nonnull(r_);                                        \
        ck_assert_msg(strstr(r_, n1) != NULL, "'%s' lacks '%s'", r_, n1); \
        ck_assert_msg(strstr(r_, n2) != NULL, "'%s' lacks '%s'", r_, n2); \
    } while (0)

START_TEST(defaults)
{
    ck_assert_ptr_null(parse(NULL));
    ck_assert_int_eq(o.action, TPSRV_RUN);
    ck_assert_uint_eq(o.nlisten, 0);
    ck_assert_int_eq(o.handler, TPSRV_HANDLER_ECHO);
    ck_assert_int_eq(o.may_block, 0);
    ck_assert_int_eq(o.log_level, TPS_LOG_INFO);
    ck_assert_uint_eq(o.drain_ms, 10000);
    for (int i = 0; i < TPS_OPT_COUNT_; i++)
        ck_assert_int_eq(o.is_set[i], 0);
}
END_TEST

START_TEST(every_flag_long_forms)
{
    ck_assert_ptr_null(parse(
        "--listen", "127.0.0.1:0", "--listen=[::1]:7001", "--listen", "unix:/tmp/x.sock",
        "--listen", ":80", "--listen=*:81", "--workers", "4", "--queue=16", "--queue-full=reject",
        "--max-conns", "100", "--max-conns-per-ip=5", "--idle-timeout", "500ms",
        "--send-timeout=2m", "--drain-timeout", "3", "--max-input=64k", "--handler", "chargen",
        "--may-block", "--log-level=debug", "--defer-accept=2s", "--busy-poll", "50us", NULL));
    ck_assert_uint_eq(o.nlisten, 5);
    ck_assert_str_eq(o.listen[0], "127.0.0.1:0");
    ck_assert_str_eq(o.listen[1], "[::1]:7001");
    ck_assert_str_eq(o.listen[2], "unix:/tmp/x.sock");
    ck_assert_str_eq(o.listen[4], "*:81");
    ck_assert_int_eq(o.value[TPS_OPT_WORKERS], 4);
    ck_assert_int_eq(o.value[TPS_OPT_QUEUE], 16);
    ck_assert_int_eq(o.value[TPS_OPT_QUEUE_FULL_REJECT], 1);
    ck_assert_int_eq(o.value[TPS_OPT_MAX_CONNS], 100);
    ck_assert_int_eq(o.value[TPS_OPT_MAX_CONNS_PER_IP], 5);
    ck_assert_int_eq(o.value[TPS_OPT_IDLE_TIMEOUT_MS], 500);
    ck_assert_int_eq(o.value[TPS_OPT_SEND_TIMEOUT_MS], 120000);
    ck_assert_int_eq(o.value[TPS_OPT_MAX_INPUT], 65536);
    ck_assert_int_eq(o.value[TPS_OPT_DEFER_ACCEPT_MS], 2000);
    ck_assert_int_eq(o.value[TPS_OPT_BUSY_POLL_US], 50);
    ck_assert_int_eq(o.is_set[TPS_OPT_WORKERS], 1);
    ck_assert_int_eq(o.is_set[TPS_OPT_BACKLOG], 0);
    ck_assert_uint_eq(o.drain_ms, 3000);
    ck_assert_int_eq(o.handler, TPSRV_HANDLER_CHARGEN);
    ck_assert_int_eq(o.may_block, 1);
    ck_assert_int_eq(o.log_level, TPS_LOG_DEBUG);
}
END_TEST

START_TEST(short_forms)
{
    ck_assert_ptr_null(parse("-l", "127.0.0.1:0", "-l127.0.0.1:1", "-w", "2", "-q8", NULL));
    ck_assert_uint_eq(o.nlisten, 2);
    ck_assert_str_eq(o.listen[1], "127.0.0.1:1");
    ck_assert_int_eq(o.value[TPS_OPT_WORKERS], 2);
    ck_assert_int_eq(o.value[TPS_OPT_QUEUE], 8);
    ck_assert_ptr_null(parse("-h", NULL));
    ck_assert_int_eq(o.action, TPSRV_HELP);
    ck_assert_ptr_null(parse("--version", NULL));
    ck_assert_int_eq(o.action, TPSRV_VERSION);
    ck_assert_ptr_null(parse("-V", NULL));
    ck_assert_int_eq(o.action, TPSRV_VERSION);
}
END_TEST

START_TEST(choices)
{
    ck_assert_ptr_null(parse("--handler=discard", "--queue-full", "pause", NULL));
    ck_assert_int_eq(o.handler, TPSRV_HANDLER_DISCARD);
    ck_assert_int_eq(o.value[TPS_OPT_QUEUE_FULL_REJECT], 0);
    ck_assert_ptr_null(parse("--handler=daytime", "--log-level", "error", NULL));
    ck_assert_int_eq(o.handler, TPSRV_HANDLER_DAYTIME);
    ck_assert_int_eq(o.log_level, TPS_LOG_ERROR);
    ck_fails_with(parse("--handler", "ECHO", NULL), "--handler", "'ECHO'");
    ck_fails_with(parse("--handler=", NULL), "--handler", "''");
    ck_fails_with(parse("--queue-full=drop", NULL), "--queue-full", "'drop'");
    ck_fails_with(parse("--log-level=trace", NULL), "--log-level", "'trace'");
    ck_assert_str_eq(tpsrv_handler_kind_name(TPSRV_HANDLER_CHARGEN), "chargen");
}
END_TEST

START_TEST(bad_numbers)
{
    ck_fails_with(parse("--workers", "abc", NULL), "--workers", "'abc'");
    ck_fails_with(parse("-w", "-3", NULL), "-w", "missing value");
    ck_fails_with(parse("-w-3", NULL), "-w", "'-3'");
    ck_fails_with(parse("--workers=4x", NULL), "--workers", "'4x'");
    ck_fails_with(parse("--workers=", NULL), "--workers", "''");
    ck_fails_with(parse("--workers=1025", NULL), "--workers", "out of range");
    ck_fails_with(parse("--queue=0", NULL), "--queue", "'0'");
    ck_fails_with(parse("--queue=99999999999999999999", NULL), "--queue", "out of range");
    ck_fails_with(parse("--max-conns=16777217", NULL), "--max-conns", "'16777217'");
    ck_fails_with(parse("--max-input=63", NULL), "--max-input", "out of range");
    ck_fails_with(parse("--max-input=2g", NULL), "--max-input", "'2g'");
    ck_fails_with(parse("--max-input=64kb", NULL), "--max-input", "invalid size");
    ck_fails_with(parse("--idle-timeout=5x", NULL), "--idle-timeout", "invalid duration");
    ck_fails_with(parse("--idle-timeout=25h", NULL), "--idle-timeout", "out of range");
    ck_fails_with(parse("--send-timeout=-1s", NULL), "--send-timeout", "'-1s'");
    ck_fails_with(parse("--drain-timeout=1.5.5s", NULL), "--drain-timeout", "'1.5.5s'");
    ck_fails_with(parse("--drain-timeout=9223372036854775807", NULL), "--drain-timeout",
                  "out of range");
    /* Bounds themselves are accepted. */
    ck_assert_ptr_null(parse("--workers=0", "--queue=1", "--max-input=64", "--idle-timeout=24h",
                             "--drain-timeout=0", NULL));
    ck_assert_uint_eq(o.drain_ms, 0);
}
END_TEST

/* --listen specs are not checked here: the library's parser is the only
 * one (main.c turns its TPS_EINVAL into exit 2; tests/server_opts.sh and
 * check_common_addr hold the syntax). They are kept as given. */
START_TEST(listen_unchecked)
{
    ck_assert_ptr_null(parse("--listen", "localhost", "-l", "unix:", "--listen=::1:80", NULL));
    ck_assert_uint_eq(o.nlisten, 3);
    ck_assert_str_eq(o.listen[0], "localhost");
    ck_assert_str_eq(o.listen[2], "::1:80");
}
END_TEST

/* Every library option is a flag, named after it, with its range and
 * kind: the five that had none before included. */
START_TEST(generated_from_option_map)
{
    ck_assert_ptr_null(parse("--output-high-water=64k", "--max-output", "1.5M", "--backlog=16",
                             "--reuseport", "on", "--nodelay=off", "--linger=0.25", NULL));
    ck_assert_int_eq(o.value[TPS_OPT_OUTPUT_HIGH_WATER], 65536);
    ck_assert_int_eq(o.value[TPS_OPT_MAX_OUTPUT], 1572864);
    ck_assert_int_eq(o.value[TPS_OPT_BACKLOG], 16);
    ck_assert_int_eq(o.value[TPS_OPT_REUSEPORT], 1);
    ck_assert_int_eq(o.value[TPS_OPT_NODELAY], 0);
    ck_assert_int_eq(o.value[TPS_OPT_LINGER_MS], 250);
    for (int i = TPS_OPT_OUTPUT_HIGH_WATER; i <= TPS_OPT_NODELAY; i++)
        ck_assert_int_eq(o.is_set[i], i != TPS_OPT_IDLE_TIMEOUT_MS && i != TPS_OPT_SEND_TIMEOUT_MS);
    ck_fails_with(parse("--nodelay=1", NULL), "--nodelay", "'1'");
    ck_fails_with(parse("--backlog=0", NULL), "--backlog", "out of range");
    ck_fails_with(parse("--max-output=1.5", NULL), "--max-output", "whole number of bytes");
    /* Rounded up to the option's resolution: non-zero never becomes 0. */
    ck_assert_ptr_null(parse("--idle-timeout=100us", "--busy-poll=1ns", "--drain-timeout=1.5s", NULL));
    ck_assert_int_eq(o.value[TPS_OPT_IDLE_TIMEOUT_MS], 1);
    ck_assert_int_eq(o.value[TPS_OPT_BUSY_POLL_US], 1);
    ck_assert_uint_eq(o.drain_ms, 1500);
    /* One flag per option: the name rule, and no flag twice. */
    size_t n = 0;
    for (const char *name; (name = tpsrv_opts_flag_name(n)) != NULL; n++)
        for (size_t j = 0; j < n; j++)
            ck_assert_str_ne(name, tpsrv_opts_flag_name(j));
    static const char *const want[] = {"workers", "queue", "queue-full", "max-conns",
        "max-conns-per-ip", "max-input", "output-high-water", "max-output", "idle-timeout",
        "send-timeout", "backlog", "reuseport", "nodelay", "spare-threads", "proxy-timeout",
        "defer-accept", "busy-poll", "linger", "tls-handshake-timeout", "tls-handshake-offload",
        "tls-handshake-rate", "tls-max-handshakes", "tls-ticket-key", "linger-max"};
    ck_assert_uint_eq(sizeof want / sizeof want[0], TPS_OPT_COUNT_);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        size_t j = 0;
        while (tpsrv_opts_flag_name(j) && strcmp(tpsrv_opts_flag_name(j), want[i]) != 0)
            j++;
        ck_assert_msg(tpsrv_opts_flag_name(j) != NULL, "no --%s", want[i]);
    }
}
END_TEST

/* Repeatable; the library's syntax is checked before anything is bound. */
START_TEST(proxy_trust)
{
    ck_assert_ptr_null(parse("--proxy-trust", "10.0.0.0/8", "--proxy-trust=127.0.0.1",
                             "--proxy-trust", "::1/128", "--proxy-trust=2001:db8::/32",
                             "--proxy-trust", "0.0.0.0/0", NULL));
    ck_assert_uint_eq(o.ntrust, 5);
    ck_assert_str_eq(o.trust[0], "10.0.0.0/8");
    ck_assert_str_eq(o.trust[3], "2001:db8::/32");
    ck_fails_with(parse("--proxy-trust", "10.0.0.0/33", NULL), "--proxy-trust", "'10.0.0.0/33'");
    ck_fails_with(parse("--proxy-trust=::1/129", NULL), "--proxy-trust", "'::1/129'");
    ck_fails_with(parse("--proxy-trust=localhost", NULL), "--proxy-trust", "'localhost'");
    ck_fails_with(parse("--proxy-trust=10.0.0/8", NULL), "--proxy-trust", "'10.0.0/8'");
    ck_fails_with(parse("--proxy-trust=10.0.0.0/", NULL), "--proxy-trust", "'10.0.0.0/'");
    ck_fails_with(parse("--proxy-trust=10.0.0.0/+8", NULL), "--proxy-trust", "'10.0.0.0/+8'");
    ck_fails_with(parse("--proxy-trust=10.0.0.0/08", NULL), "--proxy-trust", "'10.0.0.0/08'");
    ck_fails_with(parse("--proxy-trust=/8", NULL), "--proxy-trust", "'/8'");
    ck_fails_with(parse("--proxy-trust", "--workers", "2", NULL), "--proxy-trust", "missing value");
}
END_TEST

/* CERT or CERT,KEY, split at the first comma; repeatable, in order. */
START_TEST(tls_sni_cert)
{
    ck_assert_ptr_null(parse("--tls-sni-cert", "a.pem,a.key", "--tls-sni-cert=b.pem",
                             "--tls-sni-cert", "c.pem,keys/c,1.key", NULL));
    ck_assert_uint_eq(o.nsni, 3);
    ck_assert_int_eq(strncmp(o.sni[0].cert, "a.pem", o.sni[0].cert_len), 0);
    ck_assert_uint_eq(o.sni[0].cert_len, 5);
    ck_assert_str_eq(o.sni[0].key, "a.key");
    ck_assert_str_eq(o.sni[1].cert, "b.pem");
    ck_assert_uint_eq(o.sni[1].cert_len, 5);
    ck_assert_ptr_null(o.sni[1].key);
    ck_assert_uint_eq(o.sni[2].cert_len, 5);
    ck_assert_str_eq(o.sni[2].key, "keys/c,1.key");
    ck_fails_with(parse("--tls-sni-cert", ",a.key", NULL), "--tls-sni-cert", "CERT,KEY");
    ck_fails_with(parse("--tls-sni-cert=a.pem,", NULL), "--tls-sni-cert", "'a.pem,'");
    ck_fails_with(parse("--tls-sni-cert=", NULL), "--tls-sni-cert", "expected CERT or CERT,KEY");
    ck_fails_with(parse("--tls-sni-cert", NULL), "--tls-sni-cert", "missing value");
}
END_TEST

START_TEST(too_many_listeners)
{
    char *argv[2 * TPSRV_MAX_LISTEN + 3];
    int argc = 0;

    argv[argc++] = (char *)"tpserver";
    for (int i = 0; i <= TPSRV_MAX_LISTEN; i++) {
        argv[argc++] = (char *)"-l";
        argv[argc++] = (char *)"127.0.0.1:0";
    }
    ck_assert_ptr_null(tpsrv_opts_parse(&o, argc - 2, argv, err, sizeof err));
    ck_assert_uint_eq(o.nlisten, TPSRV_MAX_LISTEN);
    ck_assert_ptr_nonnull(tpsrv_opts_parse(&o, argc, argv, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "too many"));
}
END_TEST

START_TEST(missing_values)
{
    ck_fails_with(parse("--workers", NULL), "--workers", "missing value");
    ck_fails_with(parse("-l", NULL), "-l", "missing value");
    ck_fails_with(parse("--listen", "--workers", "4", NULL), "--listen", "missing value");
    ck_fails_with(parse("--handler", NULL), "--handler", "missing value");
}
END_TEST

START_TEST(duplicates_and_unknowns)
{
    ck_fails_with(parse("-w", "2", "--workers=3", NULL), "--workers", "more than once");
    ck_fails_with(parse("--handler=echo", "--handler=echo", NULL), "--handler", "more than once");
    ck_fails_with(parse("--may-block", "--may-block", NULL), "--may-block", "more than once");
    ck_fails_with(parse("--may-block=yes", NULL), "--may-block", "'yes'");
    ck_fails_with(parse("--wrokers=2", NULL), "unknown option", "--wrokers");
    ck_fails_with(parse("-x", NULL), "unknown option", "-x");
    ck_fails_with(parse("--work", "2", NULL), "unknown option", "--work");
    ck_fails_with(parse("stray", NULL), "unexpected argument", "stray");
    ck_fails_with(parse("-", NULL), "unexpected argument", "'-'");
    ck_fails_with(parse("--", "stray", NULL), "unexpected argument", "'stray'");
    ck_assert_ptr_null(parse("--", NULL)); /* "--" ends the options (none follow) */
}
END_TEST

START_TEST(help_stops_parsing)
{
    /* --help wins over what follows it, not over errors before it. */
    ck_assert_ptr_null(parse("--help", "--workers=abc", NULL));
    ck_assert_int_eq(o.action, TPSRV_HELP);
    ck_fails_with(parse("--workers=abc", "--help", NULL), "--workers", "abc");
}
END_TEST

START_TEST(usage_mentions_every_flag)
{
    char buf[16384] = "";
    FILE *f = fmemopen(buf, sizeof buf - 1, "w");

    ck_assert_ptr_nonnull(f);
    tpsrv_opts_print_usage(f);
    fclose(f);
    /* Every flag the parser knows, as "--name " or "--name=" ("--queue"
     * alone would be found in "--queue-full"). */
    size_t i = 0;
    for (const char *name; (name = tpsrv_opts_flag_name(i)) != NULL; i++) {
        char sp[64], eq[64];
        snprintf(sp, sizeof sp, "--%s ", name);
        snprintf(eq, sizeof eq, "--%s=", name);
        ck_assert_msg(strstr(buf, sp) != NULL || strstr(buf, eq) != NULL, "no --%s", name);
    }
    ck_assert_uint_ge(i, 26); /* the table has 26 today; it only grows */
    ck_assert_ptr_nonnull(strstr(buf, TPSRV_DEFAULT_LISTEN));
}
END_TEST

Suite *server_opts_suite(void)
{
    Suite *s = suite_create("server_opts");
    TCase *tc = tcase_create("parse");

    tcase_add_test(tc, defaults);
    tcase_add_test(tc, every_flag_long_forms);
    tcase_add_test(tc, short_forms);
    tcase_add_test(tc, choices);
    tcase_add_test(tc, bad_numbers);
    tcase_add_test(tc, listen_unchecked);
    tcase_add_test(tc, generated_from_option_map);
    tcase_add_test(tc, proxy_trust);
    tcase_add_test(tc, tls_sni_cert);
    tcase_add_test(tc, too_many_listeners);
    tcase_add_test(tc, missing_values);
    tcase_add_test(tc, duplicates_and_unknowns);
    tcase_add_test(tc, help_stops_parsing);
    tcase_add_test(tc, usage_mentions_every_flag);
    suite_add_tcase(s, tc);
    return s;
}
