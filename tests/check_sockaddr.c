/* SPDX-License-Identifier: MIT */
/* check_sockaddr.c - unit suite of lib/sockaddr.c: the port parser, listen
 * specs (numeric hosts only: no test here may need DNS), peer addresses to
 * text (exact sizes: -ENOBUFS one byte short), bound sockets' names, and
 * the address ranges of the proxy trust list (parse, host bits, match,
 * IPv4-mapped peers). check_proxyproto covers a few ranges too; this is the
 * module's own table. */
#include "suites.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sockaddr.h"
#include "tpserv.h"

START_TEST(port_parser)
{
    static const struct {
        const char *s;
        int want;
    } t[] = {
        {"0", 0},      {"1", 1},      {"80", 80},     {"65535", 65535}, {"00080", 80},
        {"65536", -1}, {"99999", -1}, {"000080", -1}, {"", -1},         {"-1", -1},
        {"+1", -1},    {" 1", -1},    {"1 ", -1},     {"0x10", -1},     {"8o", -1},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        ck_assert_msg(tps__parse_port(t[i].s) == t[i].want, "'%s': %d, want %d", t[i].s,
                      tps__parse_port(t[i].s), t[i].want);
}
END_TEST

START_TEST(endpoints)
{
    static const struct {
        const char *spec;
        int rc, family, port, any;
        const char *why; /* part of the message on error */
    } t[] = {
        {"127.0.0.1:7000", 0, AF_INET, 7000, 0, NULL},
        {"[::1]:443", 0, AF_INET6, 443, 0, NULL},
        {"[10.0.0.1]:1", 0, AF_INET, 1, 0, NULL},
        {":8080", 0, AF_INET6, 8080, 1, NULL},
        {"*:0", 0, AF_INET6, 0, 1, NULL},
        {"::1:80", 0, AF_INET6, 80, 0, NULL}, /* the last colon splits */
        {"unix:/tmp/x.sock", 0, AF_UNIX, 0, 0, NULL},
        {"unix:", -EINVAL, 0, 0, 0, "empty"},
        {"127.0.0.1", -EINVAL, 0, 0, 0, "HOST:PORT"},
        {"127.0.0.1:", -EINVAL, 0, 0, 0, "port"},
        {"127.0.0.1:65536", -EINVAL, 0, 0, 0, "port"},
        {"[::1:80", -EINVAL, 0, 0, 0, "[IPV6]"},
        {"[::1]80", -EINVAL, 0, 0, 0, "[IPV6]"},
        {"[]:80", -EINVAL, 0, 0, 0, "[IPV6]"}, /* not "any": a typo (fuzz_listen) */
        {"", -EINVAL, 0, 0, 0, "HOST:PORT"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        tps__endpoint ep;
        const char *why = NULL;
        int rc = tps__endpoint_parse(t[i].spec, &ep, &why);
        ck_assert_msg(rc == t[i].rc, "'%s': rc %d, want %d", t[i].spec, rc, t[i].rc);
        ck_assert_ptr_nonnull(why);
        if (rc < 0) {
            ck_assert_msg(strstr(why, t[i].why) != NULL, "'%s': why '%s'", t[i].spec, why);
            continue;
        }
        ck_assert_int_eq(ep.ss.ss_family, t[i].family);
        ck_assert_int_eq(ep.any, t[i].any);
        if (t[i].family == AF_INET) {
            ck_assert_uint_eq(ep.len, sizeof(struct sockaddr_in));
            ck_assert_int_eq(ntohs(((struct sockaddr_in *)&ep.ss)->sin_port), t[i].port);
        } else if (t[i].family == AF_INET6) {
            ck_assert_uint_eq(ep.len, sizeof(struct sockaddr_in6));
            ck_assert_int_eq(ntohs(((struct sockaddr_in6 *)&ep.ss)->sin6_port), t[i].port);
        } else {
            struct sockaddr_un *sun = (struct sockaddr_un *)&ep.ss;
            ck_assert_str_eq(sun->sun_path, t[i].spec + 5);
            ck_assert_uint_eq(ep.len,
                              offsetof(struct sockaddr_un, sun_path) + strlen(t[i].spec + 5) + 1);
        }
    }
    const char *why;
    tps__endpoint ep;
    ck_assert_int_eq(tps__endpoint_parse(NULL, &ep, &why), -EINVAL);
    char path[sizeof(((struct sockaddr_un *)0)->sun_path) + 8] = "unix:/";
    memset(path + 6, 'p', sizeof path - 7);
    path[sizeof path - 1] = '\0';
    ck_assert_int_eq(tps__endpoint_parse(path, &ep, &why), -ENAMETOOLONG);
    path[5 + sizeof(((struct sockaddr_un *)0)->sun_path) - 1] = '\0'; /* 107 bytes: fits */
    ck_assert_int_eq(tps__endpoint_parse(path, &ep, &why), 0);
}
END_TEST

static tps__peer peer(int family, const char *addr, uint16_t port)
{
    tps__peer p;
    memset(&p, 0, sizeof p);
    p.family = (uint8_t)family;
    p.port = port;
    if (addr != NULL)
        ck_assert_int_eq(inet_pton(family, addr, p.addr), 1);
    return p;
}

START_TEST(peer_format)
{
    static const struct {
        int family;
        const char *addr;
        uint16_t port;
        const char *text;
    } t[] = {
        {AF_INET, "1.2.3.4", 5, "1.2.3.4:5"},
        {AF_INET, "255.255.255.255", 65535, "255.255.255.255:65535"},
        {AF_INET6, "::1", 7000, "[::1]:7000"},
        {AF_INET6, "2001:db8::42", 0, "[2001:db8::42]:0"},
        {AF_INET6, "::ffff:10.0.0.1", 80, "[::ffff:10.0.0.1]:80"},
        {AF_UNIX, NULL, 0, "unix"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        tps__peer p = peer(t[i].family, t[i].addr, t[i].port);
        size_t need = strlen(t[i].text) + 1;
        char buf[TPS__ADDRSTRLEN];
        ck_assert_int_eq(tps__peer_format(&p, buf, sizeof buf), 0);
        ck_assert_str_eq(buf, t[i].text);
        ck_assert_int_eq(tps__peer_format(&p, buf, need), 0); /* exactly enough */
        ck_assert_str_eq(buf, t[i].text);
        ck_assert_int_eq(tps__peer_format(&p, buf, need - 1), -ENOBUFS);
    }
    tps__peer p = peer(AF_INET, "1.2.3.4", 5);
    char one;
    ck_assert_int_eq(tps__peer_format(&p, &one, 0), -EINVAL);
    ck_assert_int_eq(tps__peer_format(&p, NULL, 10), -EINVAL);

    /* From a sockaddr: address and host-order port, nothing else. */
    struct sockaddr_in s4 = {.sin_family = AF_INET, .sin_port = htons(4242)};
    inet_pton(AF_INET, "192.0.2.1", &s4.sin_addr);
    tps__peer_from_sockaddr(&p, (struct sockaddr *)&s4);
    tps__peer want = peer(AF_INET, "192.0.2.1", 4242);
    ck_assert_int_eq(memcmp(&p, &want, sizeof p), 0);
    struct sockaddr_in6 s6 = {.sin6_family = AF_INET6, .sin6_port = htons(1)};
    inet_pton(AF_INET6, "2001:db8::1", &s6.sin6_addr);
    tps__peer_from_sockaddr(&p, (struct sockaddr *)&s6);
    want = peer(AF_INET6, "2001:db8::1", 1);
    ck_assert_int_eq(memcmp(&p, &want, sizeof p), 0);
}
END_TEST

START_TEST(sockname)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    socklen_t sl = sizeof sa;
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    char buf[TPS__ADDRSTRLEN], want[TPS__ADDRSTRLEN];
    snprintf(want, sizeof want, "127.0.0.1:%u", ntohs(sa.sin_port));
    ck_assert_int_eq(tps__sockname_format(fd, buf, sizeof buf), 0);
    ck_assert_str_eq(buf, want);
    ck_assert_int_eq(tps__sockname_format(fd, buf, strlen(want)), -ENOBUFS);
    close(fd);
    ck_assert_int_eq(tps__sockname_format(fd, buf, sizeof buf), -EBADF);

    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_un su = {.sun_family = AF_UNIX};
    snprintf(su.sun_path, sizeof su.sun_path, "/tmp/tps-check-sockaddr-%d", (int)getpid());
    unlink(su.sun_path);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&su, sizeof su), 0);
    snprintf(want, sizeof want, "unix:%s", su.sun_path);
    ck_assert_int_eq(tps__sockname_format(fd, buf, sizeof buf), 0);
    ck_assert_str_eq(buf, want);
    unlink(su.sun_path);
    close(fd);
}
END_TEST

START_TEST(cidr_parse)
{
    static const struct {
        const char *s;
        int rc, family, bits, host_bits;
        const char *addr; /* after clearing host bits */
    } t[] = {
        {"10.0.0.0/8", 0, AF_INET, 8, 0, "10.0.0.0"},
        {"10.1.2.3/8", 0, AF_INET, 8, 1, "10.0.0.0"},
        {"127.0.0.1", 0, AF_INET, 32, 0, "127.0.0.1"},
        {"172.31.255.255/12", 0, AF_INET, 12, 1, "172.16.0.0"},
        {"0.0.0.0/0", 0, AF_INET, 0, 0, "0.0.0.0"},
        {"1.2.3.4/0", 0, AF_INET, 0, 1, "0.0.0.0"},
        {"::1/128", 0, AF_INET6, 128, 0, "::1"},
        {"2001:db8::/32", 0, AF_INET6, 32, 0, "2001:db8::"},
        {"2001:dbf::1/29", 0, AF_INET6, 29, 1, "2001:db8::"},
        {"::/0", 0, AF_INET6, 0, 0, "::"},
        {"1.2.3.4/33", -EINVAL, 0, 0, 0, NULL},
        {"::/129", -EINVAL, 0, 0, 0, NULL},
        {"10.0.0.0/08", -EINVAL, 0, 0, 0, NULL},
        {"10.0.0.0/+8", -EINVAL, 0, 0, 0, NULL},
        {"10.0.0.0/", -EINVAL, 0, 0, 0, NULL},
        {"/8", -EINVAL, 0, 0, 0, NULL},
        {"10.0.0.0/8/8", -EINVAL, 0, 0, 0, NULL},
        {"localhost", -EINVAL, 0, 0, 0, NULL},
        {"", -EINVAL, 0, 0, 0, NULL},
        {NULL, -EINVAL, 0, 0, 0, NULL},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        tps__cidr c, before;
        memset(&c, 0x5A, sizeof c);
        before = c;
        int hb = -1;
        int rc = tps__cidr_parse(t[i].s, &c, &hb);
        ck_assert_msg(rc == t[i].rc, "'%s': rc %d", t[i].s ? t[i].s : "(null)", rc);
        if (rc < 0) {
            ck_assert_int_eq(memcmp(&c, &before, sizeof c), 0);
            ck_assert_int_eq(hb, -1);
            continue;
        }
        ck_assert_int_eq(c.family, t[i].family);
        ck_assert_int_eq(c.bits, t[i].bits);
        ck_assert_msg(hb == t[i].host_bits, "'%s': host_bits %d", t[i].s, hb);
        uint8_t a[16] = {0};
        ck_assert_int_eq(inet_pton(t[i].family, t[i].addr, a), 1);
        ck_assert_msg(memcmp(c.addr, a, 16) == 0, "'%s': address", t[i].s);
    }
}
END_TEST

START_TEST(cidr_match)
{
    static const struct {
        const char *range;
        int family;
        const char *peer;
        int want;
    } t[] = {
        {"10.0.0.0/8", AF_INET, "10.255.1.2", 1},
        {"10.0.0.0/8", AF_INET, "11.0.0.0", 0},
        {"10.0.0.0/8", AF_INET, "9.255.255.255", 0},
        {"172.16.0.0/12", AF_INET, "172.31.255.255", 1},
        {"172.16.0.0/12", AF_INET, "172.32.0.0", 0},
        {"127.0.0.1", AF_INET, "127.0.0.1", 1},
        {"127.0.0.1", AF_INET, "127.0.0.2", 0},
        {"0.0.0.0/0", AF_INET, "203.0.113.9", 1},
        {"10.0.0.0/8", AF_INET6, "::ffff:10.1.2.3", 1}, /* IPv4-mapped */
        {"10.0.0.0/8", AF_INET6, "::ffff:11.1.2.3", 0},
        {"10.0.0.0/8", AF_INET6, "::10.1.2.3", 0}, /* compatible, not mapped */
        {"0.0.0.0/0", AF_INET6, "::1", 0},         /* another family */
        {"::/0", AF_INET, "1.2.3.4", 0},
        {"::/0", AF_INET6, "2001:db8::1", 1},
        {"2001:db8::/29", AF_INET6, "2001:dbf:ffff::1", 1},
        {"2001:db8::/29", AF_INET6, "2001:dc0::", 0},
        {"::1/128", AF_INET6, "::1", 1},
        {"::1/128", AF_INET6, "::", 0},
        {"::ffff:10.0.0.0/104", AF_INET6, "::ffff:10.9.9.9", 1},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        tps__cidr c;
        int hb;
        ck_assert_int_eq(tps__cidr_parse(t[i].range, &c, &hb), 0);
        tps__peer p = peer(t[i].family, t[i].peer, 1);
        ck_assert_msg(tps__cidr_match(&c, &p) == t[i].want, "%s in %s: want %d", t[i].peer,
                      t[i].range, t[i].want);
    }
    tps__cidr any;
    int hb;
    ck_assert_int_eq(tps__cidr_parse("0.0.0.0/0", &any, &hb), 0);
    tps__peer u = {.family = AF_UNIX};
    ck_assert_int_eq(tps__cidr_match(&any, &u), 0);
}
END_TEST

Suite *sockaddr_suite(void)
{
    Suite *s = suite_create("sockaddr");
    TCase *tc = tcase_create("sockaddr");
    tcase_add_test(tc, port_parser);
    tcase_add_test(tc, endpoints);
    tcase_add_test(tc, peer_format);
    tcase_add_test(tc, sockname);
    tcase_add_test(tc, cidr_parse);
    tcase_add_test(tc, cidr_match);
    suite_add_tcase(s, tc);
    return s;
}
