/* SPDX-License-Identifier: MIT */
/* fuzz_cidr.c - libFuzzer target for the address ranges of
 * --proxy-trust / tps_server_proxy_trust() (tps__cidr_parse and
 * tps__cidr_match in lib/sockaddr.c): a user's text decides who may claim
 * to be any client, so a range must mean exactly what it says.
 * Properties: a parsed range has a prefix within its family and no bits set
 * past it, prints back (inet_ntop "/bits") to the same range; it holds its
 * own address, loses it when a bit inside the prefix flips, keeps it when
 * one outside flips; an IPv4 range holds the IPv4-mapped IPv6 form and
 * nothing of another family; and on a peer made of the input's bytes,
 * match agrees with a bit-by-bit reference. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

#include "fuzz.h"
#include "sockaddr.h"

static bool bit(const uint8_t *a, int i)
{
    return a[i / 8] >> (7 - i % 8) & 1;
}

/* Reference: family equal (IPv4-mapped IPv6 peers count as IPv4), then
 * the first c->bits bits equal, one at a time. */
static int ref_match(const tps__cidr *c, const tps__peer *p)
{
    static const uint8_t mapped[12] = {[10] = 0xFF, [11] = 0xFF};
    const uint8_t *a = p->addr;
    int fam = p->family;
    if (fam == AF_INET6 && c->family == AF_INET && memcmp(a, mapped, 12) == 0) {
        a += 12;
        fam = AF_INET;
    }
    if (fam != c->family)
        return 0;
    for (int i = 0; i < c->bits; i++)
        if (bit(a, i) != bit(c->addr, i))
            return 0;
    return 1;
}

static tps__peer peer_of(const tps__cidr *c)
{
    tps__peer p = {.family = c->family, .port = 1};
    memcpy(p.addr, c->addr, sizeof p.addr);
    return p;
}

static void check_range(const tps__cidr *c)
{
    int max = c->family == AF_INET ? 32 : 128;
    FUZZ_CHECK(c->family == AF_INET || c->family == AF_INET6);
    FUZZ_CHECK(c->bits <= max);
    for (int i = c->bits; i < 128; i++)
        FUZZ_CHECK(!bit(c->addr, i));

    /* Prints back to the same range, with no host bits. */
    char text[INET6_ADDRSTRLEN + 8];
    FUZZ_CHECK(inet_ntop(c->family, c->addr, text, INET6_ADDRSTRLEN) != NULL);
    snprintf(text + strlen(text), 8, "/%u", c->bits);
    tps__cidr again;
    int host_bits = -1;
    FUZZ_CHECK(tps__cidr_parse(text, &again, &host_bits) == 0);
    FUZZ_CHECK(host_bits == 0 && memcmp(&again, c, sizeof again) == 0);

    /* Its own address, then each bit flipped. */
    tps__peer p = peer_of(c);
    FUZZ_CHECK(tps__cidr_match(c, &p) == 1);
    for (int i = 0; i < max; i++) {
        tps__peer q = p;
        q.addr[i / 8] ^= (uint8_t)(0x80 >> (i % 8));
        FUZZ_CHECK(tps__cidr_match(c, &q) == (i >= c->bits));
    }
    tps__peer other = p;
    other.family = c->family == AF_INET ? AF_INET6 : AF_INET;
    if (c->family == AF_INET6) /* not a mapped address of an IPv4 range */
        FUZZ_CHECK(tps__cidr_match(c, &other) == 0);
    else
        FUZZ_CHECK(tps__cidr_match(c, &other) == ref_match(c, &other));
    tps__peer unix_peer = {.family = AF_UNIX};
    FUZZ_CHECK(tps__cidr_match(c, &unix_peer) == 0);
    if (c->family == AF_INET) {
        tps__peer m = {.family = AF_INET6, .addr = {[10] = 0xFF, [11] = 0xFF}};
        memcpy(m.addr + 12, c->addr, 4);
        FUZZ_CHECK(tps__cidr_match(c, &m) == 1);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    if (n > 200)
        return 0;
    char *s = fuzz_str(d, n);
    tps__cidr c;
    memset(&c, 0x5A, sizeof c);
    const tps__cidr before = c;
    int host_bits = -1;
    int rc = tps__cidr_parse(s, &c, &host_bits);
    FUZZ_CHECK(rc == 0 || rc == -EINVAL);
    if (rc == 0) {
        FUZZ_CHECK(host_bits == 0 || host_bits == 1);
        check_range(&c);
        /* The input's own bytes as a peer: match agrees with the reference. */
        if (n >= 17) {
            tps__peer p = {.family = d[16] & 1 ? AF_INET6 : AF_INET};
            memcpy(p.addr, d, 16);
            if (p.family == AF_INET)
                memset(p.addr + 4, 0, 12);
            FUZZ_CHECK(tps__cidr_match(&c, &p) == ref_match(&c, &p));
        }
    } else {
        FUZZ_CHECK(memcmp(&c, &before, sizeof c) == 0); /* untouched */
    }
    free(s);
    return 0;
}
