/* SPDX-License-Identifier: MIT */
/* check_proxyproto.c - unit suite of the pure PROXY header parser
 * (lib/proxyproto.c) and of the address ranges of the trust list
 * (lib/sockaddr.c): tables of good and malformed v1 and v2 headers, each
 * valid header cut at every byte, TLV lookup, CRC32c against its known
 * vector. No sockets: lib_proxy drives the same through real ones. */
#include "suites.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "proxyproto.h"
#include "sockaddr.h"

/* A string literal's bytes without its NUL. */
#define S(lit) (const unsigned char *)(lit), (sizeof(lit) - 1)

static const unsigned char sig[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                      0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
/* 198.51.100.9:50000 -> 127.0.0.1:7000 */
static const unsigned char a4[12] = {198, 51, 100, 9, 127, 0, 0, 1, 0xC3, 0x50, 0x1B, 0x58};
/* [2001:db8::42]:443 -> [::1]:7000 */
static const unsigned char a6[36] = {
    0x20, 0x01, 0x0d, 0xb8, [15] = 0x42, [31] = 1, [32] = 0x01, 0xBB, 0x1B, 0x58};
static unsigned char aunix[216] = "/run/client.sock";

typedef struct pcase {
    const char *name;
    unsigned char b[2200];
    size_t n;
    int want;         /* 1 good, -1 malformed */
    const char *peer; /* good: the client it names, NULL if none */
} pcase;

static pcase cases[96];
static int ncases;

static pcase *add(const char *name, int want, const char *peer, const unsigned char *b, size_t n)
{
    ck_assert_int_lt(ncases, (int)(sizeof cases / sizeof cases[0]));
    ck_assert_uint_le(n, sizeof cases[0].b);
    pcase *c = &cases[ncases++];
    c->name = name, c->want = want, c->peer = peer, c->n = n;
    memcpy(c->b, b, n);
    return c;
}

static void set_len(pcase *c, size_t body)
{
    c->b[14] = (unsigned char)(body >> 8);
    c->b[15] = (unsigned char)body;
}

/* A v2 header: version/command, family, address block, TLVs; the
 * announced length covers both. */
static pcase *add_v2(const char *name, int want, const char *peer, unsigned char vc,
                     unsigned char fam, const unsigned char *addr, size_t alen,
                     const unsigned char *tlv, size_t tlen)
{
    unsigned char b[2200];
    memcpy(b, sig, 12);
    b[12] = vc, b[13] = fam;
    if (alen)
        memcpy(b + 16, addr, alen);
    if (tlen)
        memcpy(b + 16 + alen, tlv, tlen);
    pcase *c = add(name, want, peer, b, 16 + alen + tlen);
    set_len(c, alen + tlen);
    return c;
}

/* Fill the CRC32C TLV whose value starts at off (the field zeroed first). */
static void seal_crc(pcase *c, size_t off)
{
    memset(c->b + off, 0, 4);
    uint32_t crc = tps__crc32c(0, c->b, c->n);
    c->b[off] = (unsigned char)(crc >> 24), c->b[off + 1] = (unsigned char)(crc >> 16);
    c->b[off + 2] = (unsigned char)(crc >> 8), c->b[off + 3] = (unsigned char)crc;
}

/* Every TLV the parser knows, an unknown and a custom one, and a CRC. */
static const char all_tlvs[] = "\x01\x00\x02h2"                /* ALPN */
                               "\x02\x00\x0b"                  /* AUTHORITY */
                               "example.com"                   /* */
                               "\x04\x00\x00"                  /* NOOP, empty */
                               "\x30\x00\x03"                  /* NETNS */
                               "red"                           /* */
                               "\xE0\x00\x03xyz"               /* custom */
                               "\x7A\x00\x01!"                 /* unassigned */
                               "\x20\x00\x1A"                  /* SSL, 26 bytes: */
                               "\x07\x00\x00\x00\x00"          /* client, verify */
                               "\x21\x00\x07TLSv1.3"           /* VERSION */
                               "\x22\x00\x03"                  /* CN */
                               "bob"                           /* */
                               "\x26\x00\x02zz"                /* unknown sub */
                               "\x03\x00\x04\x00\x00\x00\x00"; /* CRC32C last */
#define ALL_TLVS_LEN (sizeof(all_tlvs) - 1)

static void build_good(void)
{
    add("v1 tcp4", 1, "203.0.113.7:51000", S("PROXY TCP4 203.0.113.7 127.0.0.1 51000 7000\r\n"));
    add("v1 tcp6", 1, "[2001:db8::1]:443", S("PROXY TCP6 2001:db8::1 ::1 443 7000\r\n"));
    add("v1 port 0", 1, "10.0.0.1:0", S("PROXY TCP4 10.0.0.1 10.0.0.2 0 65535\r\n"));
    add("v1 unknown", 1, NULL, S("PROXY UNKNOWN\r\n"));
    add("v1 unknown, rest ignored", 1, NULL, S("PROXY UNKNOWN ::1 ::1 1 2 whatever\r\n"));
    add("v1 longest tcp6 (104 bytes)", 1, "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535",
        S("PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
          "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n"));
    add("v1 longest (107 bytes)", 1, NULL,
        S("PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
          "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n"));

    add_v2("v2 tcp4", 1, "198.51.100.9:50000", 0x21, 0x11, a4, 12, NULL, 0);
    add_v2("v2 tcp6", 1, "[2001:db8::42]:443", 0x21, 0x21, a6, 36, NULL, 0);
    pcase *c =
        add_v2("v2 tcp4, every TLV, crc", 1, "198.51.100.9:50000", 0x21, 0x11, a4, 12, S(all_tlvs));
    seal_crc(c, c->n - 4);
    c = add_v2("v2 tcp6, every TLV, crc", 1, "[2001:db8::42]:443", 0x21, 0x21, a6, 36, S(all_tlvs));
    seal_crc(c, c->n - 4);
    add_v2("v2 unix stream + TLV", 1, NULL, 0x21, 0x31, aunix, 216, S("\x01\x00\x02h2"));
    add_v2("v2 udp4", 1, NULL, 0x21, 0x12, a4, 12, NULL, 0);
    add_v2("v2 unspec + TLV", 1, NULL, 0x21, 0x00, NULL, 0, S("\x05\x00\x02id"));
    add_v2("v2 ssl without sub-TLVs", 1, "198.51.100.9:50000", 0x21, 0x11, a4, 12,
           S("\x20\x00\x05\x01\x00\x00\x00\x00"));
    /* sub-TLVs have their own numbers: 0x03 inside SSL is no CRC */
    add_v2("v2 ssl sub-TLV 0x03 of 1 byte", 1, "198.51.100.9:50000", 0x21, 0x11, a4, 12,
           S("\x20\x00\x09\x01\0\0\0\0\x03\x00\x01!"));
    unsigned char uid[131] = {0x05, 0x00, 128};
    memset(uid + 3, 'u', 128);
    add_v2("v2 unique_id of 128", 1, "198.51.100.9:50000", 0x21, 0x11, a4, 12, uid, sizeof uid);
    /* LOCAL: the spec says to discard the block and ignore the family */
    add_v2("v2 local", 1, NULL, 0x20, 0x00, NULL, 0, NULL, 0);
    add_v2("v2 local, block discarded", 1, NULL, 0x20, 0xFF, S("\x01\x00\x09x"), NULL, 0);
    unsigned char big[TPS__PROXY_V2_MAX_BODY - 12] = {0x04, (sizeof big - 3) >> 8,
                                                      (sizeof big - 3) & 0xFF};
    add_v2("v2 longest body", 1, "198.51.100.9:50000", 0x21, 0x11, a4, 12, big, sizeof big);
}

static void build_bad(void)
{
    add("v1 two spaces", -1, NULL, S("PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n"));
    add("v1 trailing space", -1, NULL, S("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n"));
    add("v1 '+' port", -1, NULL, S("PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n"));
    add("v1 negative port", -1, NULL, S("PROXY TCP4 1.2.3.4 5.6.7.8 1 -2\r\n"));
    add("v1 port 65536", -1, NULL, S("PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n"));
    add("v1 port of six digits", -1, NULL, S("PROXY TCP4 1.2.3.4 5.6.7.8 000001 2\r\n"));
    add("v1 hex port", -1, NULL, S("PROXY TCP4 1.2.3.4 5.6.7.8 0x10 2\r\n"));
    add("v1 tcp4 with IPv6", -1, NULL, S("PROXY TCP4 ::1 5.6.7.8 1 2\r\n"));
    add("v1 tcp6 with IPv4", -1, NULL, S("PROXY TCP6 1.2.3.4 ::1 1 2\r\n"));
    add("v1 tcp4 leading zero", -1, NULL, S("PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n"));
    add("v1 bad address", -1, NULL, S("PROXY TCP4 1.2.3.999 1.2.3.4 1 2\r\n"));
    add("v1 TCP5", -1, NULL, S("PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n"));
    add("v1 lower case", -1, NULL, S("PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n"));
    add("v1 five fields", -1, NULL, S("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n"));
    add("v1 seven fields", -1, NULL, S("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n"));
    add("v1 NUL inside", -1, NULL, S("PROXY TCP4 1.2.3.4\000x 5.6.7.8 1 2\r\n"));
    add("v1 tab", -1, NULL, S("PROXY TCP4\t1.2.3.4 5.6.7.8 1 2\r\n"));
    add("v1 CR inside", -1, NULL, S("PROXY TCP4 1.2.3.4\r 5.6.7.8 1 2\r\n"));
    add("v1 LF without CR", -1, NULL, S("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n"));
    add("v1 UNKNOWNX", -1, NULL, S("PROXY UNKNOWNX\r\n"));
    add("v1 nothing", -1, NULL, S("PROXY \r\n"));
    add("not a header", -1, NULL, S("GET / HTTP/1.0\r\n\r\n"));
    unsigned char longline[108];
    memset(longline, '1', sizeof longline);
    memcpy(longline, "PROXY TCP4 ", 11);
    add("v1 no end in 107 bytes", -1, NULL, longline, sizeof longline);

    add_v2("v2 version 1", -1, NULL, 0x11, 0x11, a4, 12, NULL, 0);
    add_v2("v2 version 3", -1, NULL, 0x31, 0x11, a4, 12, NULL, 0);
    add_v2("v2 command 2", -1, NULL, 0x22, 0x11, a4, 12, NULL, 0);
    add_v2("v2 command 15", -1, NULL, 0x2F, 0x11, a4, 12, NULL, 0);
    add_v2("v2 family 0x13", -1, NULL, 0x21, 0x13, a4, 12, NULL, 0);
    add_v2("v2 family 0x10", -1, NULL, 0x21, 0x10, a4, 12, NULL, 0);
    add_v2("v2 family 0x01", -1, NULL, 0x21, 0x01, a4, 12, NULL, 0);
    add_v2("v2 family 0x41", -1, NULL, 0x21, 0x41, a4, 12, NULL, 0);
    add_v2("v2 tcp4 address cut", -1, NULL, 0x21, 0x11, a4, 11, NULL, 0);
    add_v2("v2 tcp6 address cut", -1, NULL, 0x21, 0x21, a6, 35, NULL, 0);
    add_v2("v2 unix address cut", -1, NULL, 0x21, 0x31, aunix, 215, NULL, 0);
    /* length 0, the address and a TLV after it as if they were data */
    pcase *c = add_v2("v2 tcp4 zero-length body", -1, NULL, 0x21, 0x11, a4, 12, S("\x04\0\0"));
    set_len(c, 0);
    /* the announced length ends inside the TLV; bytes follow (data) */
    c = add_v2("v2 TLV overruns the length", -1, NULL, 0x21, 0x11, a4, 12,
               S("\x01\x00\x05h2\0\0\0hello"));
    set_len(c, 12 + 5);
    add_v2("v2 TLV header cut (1 byte)", -1, NULL, 0x21, 0x11, a4, 12, S("\x04"));
    add_v2("v2 TLV header cut (2 bytes)", -1, NULL, 0x21, 0x11, a4, 12, S("\x04\x00"));
    add_v2("v2 TLV value cut", -1, NULL, 0x21, 0x11, a4, 12,
           S("\x02\x00\x04"
             "abc"));
    c = add_v2("v2 bad CRC", -1, NULL, 0x21, 0x11, a4, 12, S("\x03\x00\x04\0\0\0\0"));
    seal_crc(c, c->n - 4);
    c->b[c->n - 1] ^= 1;
    c = add_v2("v2 CRC of another header", -1, NULL, 0x21, 0x11, a4, 12, S("\x03\x00\x04\0\0\0\0"));
    seal_crc(c, c->n - 4);
    c->b[16] ^= 0x80; /* the client's address changed in transit */
    add_v2("v2 CRC of 3 bytes", -1, NULL, 0x21, 0x11, a4, 12, S("\x03\x00\x03\0\0\0"));
    add_v2("v2 CRC of 5 bytes", -1, NULL, 0x21, 0x11, a4, 12, S("\x03\x00\x05\0\0\0\0\0"));
    c = add_v2("v2 two CRCs", -1, NULL, 0x21, 0x11, a4, 12,
               S("\x03\x00\x04\0\0\0\0\x03\x00\x04\0\0\0\0"));
    seal_crc(c, c->n - 4);
    add_v2("v2 SSL shorter than 5", -1, NULL, 0x21, 0x11, a4, 12, S("\x20\x00\x04\x01\0\0\0"));
    add_v2("v2 SSL sub-TLV overrun", -1, NULL, 0x21, 0x11, a4, 12,
           S("\x20\x00\x0A\x01\0\0\0\0\x22\x00\x09"
             "bob"));
    add_v2("v2 SSL sub-TLV header cut", -1, NULL, 0x21, 0x11, a4, 12,
           S("\x20\x00\x07\x01\0\0\0\0\x22\x00"));
    unsigned char uid[132] = {0x05, 0x00, 129};
    add_v2("v2 unique_id of 129", -1, NULL, 0x21, 0x11, a4, 12, uid, sizeof uid);
    unsigned char auth[259] = {0x02, 0x01, 0x00};
    memset(auth + 3, 'a', 256);
    add_v2("v2 authority of 256", -1, NULL, 0x21, 0x11, a4, 12, auth, sizeof auth);
    unsigned char big[TPS__PROXY_V2_MAX_BODY - 11] = {0x04, (sizeof big - 3) >> 8,
                                                      (sizeof big - 3) & 0xFF};
    add_v2("v2 body too long", -1, NULL, 0x21, 0x11, a4, 12, big, sizeof big);
}

static void build(void)
{
    ncases = 0;
    build_good();
    build_bad();
}

static void check_peer(const pcase *c, const tps__peer *peer)
{
    char got[TPS__ADDRSTRLEN];
    if (c->peer == NULL) {
        ck_assert_msg(peer->family == AF_UNIX, "%s: named a client", c->name);
        return;
    }
    ck_assert_int_eq(tps__peer_format(peer, got, sizeof got), 0);
    ck_assert_msg(strcmp(got, c->peer) == 0, "%s: client %s, not %s", c->name, got, c->peer);
}

/* Each whole case, then with data after it (the header's length is used,
 * the data is not). The socket's peer stands for "none named". */
START_TEST(test_table)
{
    build();
    for (int i = 0; i < ncases; i++) {
        const pcase *c = &cases[i];
        unsigned char buf[sizeof c->b + 5];
        memcpy(buf, c->b, c->n);
        memcpy(buf + c->n, "hello", 5);
        for (int extra = 0; extra <= 5; extra += 5) {
            tps__peer peer = {.family = AF_UNIX};
            tps__proxy_hdr h;
            int rc = tps__proxy_parse((const char *)buf, c->n + (size_t)extra, &peer, &h);
            ck_assert_msg(rc == c->want, "%s (+%d): %d, not %d", c->name, extra, rc, c->want);
            if (rc == 1) {
                ck_assert_msg(h.used == c->n, "%s: used %zu of %zu", c->name, h.used, c->n);
                check_peer(c, &peer);
            }
        }
    }
}
END_TEST

/* Cut anywhere, a valid header asks for more and names nobody yet; a
 * malformed one is never accepted from a part of it. */
START_TEST(test_every_split)
{
    build();
    for (int i = 0; i < ncases; i++) {
        const pcase *c = &cases[i];
        for (size_t k = 0; k < c->n; k++) {
            tps__peer peer = {.family = AF_UNIX};
            tps__proxy_hdr h;
            int rc = tps__proxy_parse((const char *)c->b, k, &peer, &h);
            if (c->want == 1)
                ck_assert_msg(rc == 0, "%s: %d at %zu of %zu bytes", c->name, rc, k, c->n);
            else
                ck_assert_msg(rc <= 0, "%s: accepted at %zu of %zu bytes", c->name, k, c->n);
            ck_assert_int_eq(peer.family, AF_UNIX);
        }
    }
}
END_TEST

/* A bad version, command or family is refused as soon as its byte is in,
 * not after the header's announced length (or a timeout). */
START_TEST(test_early_refusal)
{
    const struct {
        unsigned char vc, fam;
        size_t at;
    } t[] = {{0x11, 0x11, 13}, {0x31, 0x11, 13}, {0x22, 0x11, 13},
             {0x21, 0x13, 14}, {0x21, 0x41, 14}, {0x21, 0x01, 14}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        unsigned char b[16];
        memcpy(b, sig, 12);
        b[12] = t[i].vc, b[13] = t[i].fam, b[14] = 0x08, b[15] = 0x00; /* 2 KiB announced */
        tps__peer peer;
        tps__proxy_hdr h;
        ck_assert_int_eq(tps__proxy_parse((const char *)b, t[i].at - 1, &peer, &h), 0);
        ck_assert_msg(tps__proxy_parse((const char *)b, t[i].at, &peer, &h) == -1,
                      "0x%02x 0x%02x not refused at %zu bytes", t[i].vc, t[i].fam, t[i].at);
    }
}
END_TEST

/* The TLVs come back where the parser says, each findable by type. */
START_TEST(test_tlv_find)
{
    build();
    const pcase *c = NULL;
    for (int i = 0; i < ncases && c == NULL; i++)
        if (strcmp(cases[i].name, "v2 tcp4, every TLV, crc") == 0)
            c = &cases[i];
    ck_assert_ptr_nonnull(c);
    tps__peer peer;
    tps__proxy_hdr h;
    ck_assert_int_eq(tps__proxy_parse((const char *)c->b, c->n, &peer, &h), 1);
    ck_assert_uint_eq(h.tlv_off, 16 + 12);
    ck_assert_uint_eq(h.tlv_len, ALL_TLVS_LEN);
    const unsigned char *b = c->b + h.tlv_off;
    struct {
        unsigned type;
        const char *want; /* NULL: absent */
        size_t len;
    } t[] = {
        {0x01, "h2", 2},
        {0x02, "example.com", 11},
        {0x04, "", 0},
        {0x30, "red", 3},
        {0xE0, "xyz", 3},
        {0x7A, "!", 1},
        {0x0100 | 0x21, "TLSv1.3", 7},
        {0x0100 | 0x22, "bob", 3},
        {0x0100 | 0x26, "zz", 2},
        {0x05, NULL, 0},
        {0x0100 | 0x23, NULL, 0},
        {0x0200 | 0x22, NULL, 0},
        {0x21, NULL, 0},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        const void *v = NULL;
        size_t len = 99;
        int rc = tps__proxy_tlv_find(b, h.tlv_len, t[i].type, &v, &len);
        if (t[i].want == NULL) {
            ck_assert_msg(rc == -ENOENT, "type 0x%x: %d, not -ENOENT", t[i].type, rc);
            continue;
        }
        ck_assert_msg(rc == 0, "type 0x%x not found", t[i].type);
        ck_assert_uint_eq(len, t[i].len);
        ck_assert_int_eq(memcmp(v, t[i].want, len), 0);
    }
    const void *v;
    size_t len;
    ck_assert_int_eq(tps__proxy_tlv_find(b, h.tlv_len, 0x20, &v, &len), 0);
    ck_assert_uint_eq(len, 26); /* the whole SSL value */
    ck_assert_int_eq(((const unsigned char *)v)[0], 0x07);
    /* a v1 header and a LOCAL one carry none */
    ck_assert_int_eq(tps__proxy_parse("PROXY UNKNOWN\r\n", 15, &peer, &h), 1);
    ck_assert_uint_eq(h.tlv_len, 0);
}
END_TEST

START_TEST(test_crc32c)
{
    ck_assert_uint_eq(tps__crc32c(0, "123456789", 9), 0xE3069283u);
    ck_assert_uint_eq(tps__crc32c(tps__crc32c(0, "1234", 4), "56789", 5), 0xE3069283u);
    ck_assert_uint_eq(tps__crc32c(0, "", 0), 0);
    unsigned char zeros[32] = {0}; /* RFC 3720 B.4's vector */
    ck_assert_uint_eq(tps__crc32c(0, zeros, sizeof zeros), 0x8A9136AAu);
}
END_TEST

static tps__peer peer_of(const char *a)
{
    tps__peer p = {0};
    p.family = strchr(a, ':') ? AF_INET6 : AF_INET;
    ck_assert_int_eq(inet_pton(p.family, a, p.addr), 1);
    return p;
}

START_TEST(test_cidr)
{
    const char *bad[] = {"",
                         "/8",
                         "10.0.0.0/",
                         "10.0.0.0/33",
                         "10.0.0.0/+8",
                         "10.0.0.0/08",
                         "10.0.0.0/8/8",
                         "10.0.0/8",
                         "::1/129",
                         "::1/-1",
                         "10.0.0.0 /8",
                         "localhost",
                         "10.0.0.0/8 ",
                         "[::1]/128",
                         "::1/1000"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tps__cidr c;
        int hb;
        ck_assert_msg(tps__cidr_parse(bad[i], &c, &hb) == -EINVAL, "'%s' accepted", bad[i]);
    }
    struct {
        const char *cidr, *peer;
        int match, host_bits;
    } t[] = {
        {"127.0.0.1", "127.0.0.1", 1, 0},
        {"127.0.0.1", "127.0.0.2", 0, 0},
        {"10.0.0.0/8", "10.255.1.2", 1, 0},
        {"10.0.0.0/8", "11.0.0.0", 0, 0},
        {"10.1.2.3/8", "10.9.9.9", 1, 1}, /* host bits ignored */
        {"192.168.4.0/22", "192.168.7.255", 1, 0},
        {"192.168.4.0/22", "192.168.8.0", 0, 0},
        {"0.0.0.0/0", "8.8.8.8", 1, 0},
        {"0.0.0.0/0", "::1", 0, 0},
        {"127.0.0.1", "::ffff:127.0.0.1", 1, 0}, /* a dual-stack listener's IPv4 */
        {"127.0.0.1", "::1", 0, 0},
        {"::1/128", "::1", 1, 0},
        {"::1", "::2", 0, 0},
        {"2001:db8::/32", "2001:db8:ffff::1", 1, 0},
        {"2001:db8::/32", "2001:db9::1", 0, 0},
        {"2001:db8::/33", "2001:db8:8000::", 0, 0},
        {"::/0", "fe80::1", 1, 0},
        {"::/0", "1.2.3.4", 0, 0},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        tps__cidr c;
        int hb = -1;
        ck_assert_msg(tps__cidr_parse(t[i].cidr, &c, &hb) == 0, "'%s' refused", t[i].cidr);
        ck_assert_int_eq(hb, t[i].host_bits);
        tps__peer p = peer_of(t[i].peer);
        ck_assert_msg(tps__cidr_match(&c, &p) == t[i].match, "%s in %s: %d", t[i].peer, t[i].cidr,
                      !t[i].match);
    }
}
END_TEST

Suite *proxyproto_suite(void)
{
    Suite *s = suite_create("proxyproto");
    TCase *tc = tcase_create("parse");
    tcase_add_test(tc, test_table);
    tcase_add_test(tc, test_every_split);
    tcase_add_test(tc, test_early_refusal);
    tcase_add_test(tc, test_tlv_find);
    tcase_add_test(tc, test_crc32c);
    tcase_add_test(tc, test_cidr);
    suite_add_tcase(s, tc);
    return s;
}
