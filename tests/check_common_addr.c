/* SPDX-License-Identifier: MIT */
/* check_common_addr.c - unit suite of common/addr.c, the one address
 * syntax: HOST:PORT, [V6]:PORT, :PORT / *:PORT (listeners only) and
 * unix:PATH, with the reason of each refusal, and the port rule. The
 * listen-spec cases of tpserver's former --listen check are here (the
 * library's own, through tps__endpoint_parse, are in check_sockaddr). */
#include "suites.h"

#include <errno.h>
#include <string.h>
#include <sys/un.h>

#include "../common/addr.h"

START_TEST(ports)
{
    static const struct {
        const char *s;
        int want;
    } t[] = {
        {"0", 0},      {"1", 1},      {"80", 80},     {"65535", 65535}, {"00080", 80},
        {"65536", -1}, {"99999", -1}, {"000080", -1}, {"", -1},         {"-1", -1},
        {"+1", -1},    {" 1", -1},    {"1 ", -1},     {"0x10", -1},     {"8o", -1},
        {"http", -1},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        ck_assert_msg(tpcm_port_parse(t[i].s) == t[i].want, "'%s'", t[i].s);
}
END_TEST

static const struct {
    const char *spec;
    unsigned flags;
    int rc;
    const char *host; /* or the path, or part of why on error */
    int port;
} cases[] = {
    {"127.0.0.1:7000", 0, 0, "127.0.0.1", 7000},
    {"host.example:1", 0, 0, "host.example", 1},
    {"[::1]:7000", 0, 0, "::1", 7000},
    {"[::]:0", TPCM_ADDR_ANY, 0, "::", 0},
    {"::1:80", 0, 0, "::1", 80}, /* the last colon splits, as the library always did */
    {":80", TPCM_ADDR_ANY, 0, "", 80},
    {"*:81", TPCM_ADDR_ANY, 0, "", 81},
    {":80", 0, -EINVAL, "missing host", 0},
    {"*:81", 0, -EINVAL, "missing host", 0},
    {"unix:/tmp/x", 0, 0, "/tmp/x", 0},
    {"unix:", 0, -EINVAL, "empty unix socket path", 0},
    {"host:", 0, -EINVAL, "port", 0},
    {"127.0.0.1:", 0, -EINVAL, "port", 0},
    {"127.0.0.1:65536", 0, -EINVAL, "port", 0},
    {"1.2.3.4:99999", 0, -EINVAL, "port", 0},
    {"127.0.0.1:http", 0, -EINVAL, "port", 0},
    {"127.0.0.1:000080", 0, -EINVAL, "port", 0}, /* found by fuzz_listen */
    {"localhost", 0, -EINVAL, "HOST:PORT", 0},
    {"nohostport", 0, -EINVAL, "HOST:PORT", 0},
    {"", 0, -EINVAL, "HOST:PORT", 0},
    {"[::1", 0, -EINVAL, "[IPV6]", 0},
    {"[::1:80", 0, -EINVAL, "[IPV6]", 0},
    {"[::1]80", 0, -EINVAL, "[IPV6]", 0},
    {"[]:80", TPCM_ADDR_ANY, -EINVAL, "[IPV6]", 0},
    {"[::]:1[]:80", TPCM_ADDR_ANY, -EINVAL, "port", 0}, /* found by fuzz_listen */
};

START_TEST(specs)
{
    struct tpcm_addr a;
    const char *why = NULL;
    int rc = tpcm_addr_parse(cases[_i].spec, cases[_i].flags, &a, &why);
    ck_assert_msg(rc == cases[_i].rc, "'%s': %d (%s)", cases[_i].spec, rc, why);
    ck_assert_ptr_nonnull(why);
    if (rc < 0) {
        ck_assert_msg(strstr(why, cases[_i].host) != NULL, "'%s': why '%s'", cases[_i].spec, why);
    } else if (a.kind == TPCM_ADDR_UNIX) {
        ck_assert_str_eq(a.path, cases[_i].host);
    } else {
        ck_assert_str_eq(a.host, cases[_i].host);
        ck_assert_int_eq(a.port, cases[_i].port);
        ck_assert_int_eq(tpcm_port_parse(a.port_text), a.port);
        ck_assert_int_eq(a.bracketed, cases[_i].spec[0] == '[');
    }
}
END_TEST

START_TEST(lengths)
{
    struct tpcm_addr a;
    const char *why;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path) + 8] = "unix:/";
    memset(path + 6, 'p', sizeof path - 7);
    path[sizeof path - 1] = '\0';
    ck_assert_int_eq(tpcm_addr_parse(path, 0, &a, &why), -ENAMETOOLONG);
    ck_assert_ptr_nonnull(strstr(why, "too long"));
    path[5 + sizeof(((struct sockaddr_un *)0)->sun_path) - 1] = '\0'; /* 107 bytes: fits */
    ck_assert_int_eq(tpcm_addr_parse(path, 0, &a, &why), 0);
    char host[TPCM_ADDR_HOSTMAX + 8];
    memset(host, 'h', sizeof host);
    strcpy(host + TPCM_ADDR_HOSTMAX, ":80");
    ck_assert_int_eq(tpcm_addr_parse(host, 0, &a, &why), -ENAMETOOLONG);
    strcpy(host + TPCM_ADDR_HOSTMAX - 1, ":80"); /* 255 bytes of host: fits */
    ck_assert_int_eq(tpcm_addr_parse(host, 0, &a, &why), 0);
    ck_assert_int_eq(tpcm_addr_parse(NULL, 0, &a, &why), -EINVAL);
}
END_TEST

Suite *common_addr_suite(void)
{
    Suite *s = suite_create("common_addr");
    TCase *tc = tcase_create("addr");
    tcase_add_test(tc, ports);
    tcase_add_loop_test(tc, specs, 0, (int)(sizeof cases / sizeof cases[0]));
    tcase_add_test(tc, lengths);
    suite_add_tcase(s, tc);
    return s;
}
