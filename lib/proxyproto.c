/* SPDX-License-Identifier: MIT */
/* proxyproto.c - the PROXY protocol header (HAProxy's, versions 1 and 2)
 * that a load balancer sends first on each connection it forwards, saying
 * which client it forwards for. Pure parsing: bytes in, peer and TLVs out;
 * knows nothing of sockets or connections.
 * Spec: https://www.haproxy.org/download/2.0/doc/proxy-protocol.txt
 *
 * Strict on purpose: a header is the balancer's word about who the client
 * is, and anything the spec does not allow (extra spaces, a TLV that runs
 * past the announced length, a wrong CRC) means the bytes did not come
 * from a well-behaved balancer, so the connection is refused rather than
 * guessed at. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "proxyproto.h"

#define V1_MAX 107 /* "PROXY TCP6 <39> <39> <5> <5>\r\n" */
static const char v2_sig[12] = {'\r', '\n', '\r', '\n', '\0', '\r', '\n', 'Q', 'U', 'I', 'T', '\n'};

/* v2 TLV types the parser checks (the spec's PP2_TYPE_*). */
enum {
    PP2_TYPE_AUTHORITY = 0x02,
    PP2_TYPE_CRC32C = 0x03,
    PP2_TYPE_UNIQUE_ID = 0x05,
    PP2_TYPE_SSL = 0x20,
};
#define UNIQUE_ID_MAX 128 /* the spec's bound */
#define AUTHORITY_MAX 255 /* a host name; HAProxy refuses longer ones too */
#define SSL_FIXED     5   /* client (1 byte) and verify (4) before sub-TLVs */

/* ---- CRC32c --------------------------------------------------------------- */

/* Reflected polynomial 0x82F63B78, four bits at a time: a 16-entry table
 * (t[i] = i shifted through the polynomial four times). Speed does not
 * matter here: at most one header per connection carries a CRC. */
static const uint32_t crc_nibble[16] = {
    0x00000000, 0x105EC76F, 0x20BD8EDE, 0x30E349B1, 0x417B1DBC, 0x5125DAD3, 0x61C69362, 0x7198540D,
    0x82F63B78, 0x92A8FC17, 0xA24BB5A6, 0xB21572C9, 0xC38D26C4, 0xD3D3E1AB, 0xE330A81A, 0xF36E6F75,
};

uint32_t tps__crc32c(uint32_t crc, const void *p, size_t n)
{
    const unsigned char *b = p;
    crc = ~crc;
    for (size_t i = 0; i < n; i++) {
        crc ^= b[i];
        crc = crc_nibble[crc & 0x0F] ^ (crc >> 4);
        crc = crc_nibble[crc & 0x0F] ^ (crc >> 4);
    }
    return ~crc;
}

/* ---- v1 ------------------------------------------------------------------- */

/* Split line[0..n) at single spaces into at most max fields. -1 if a field
 * is empty (two spaces, a leading or trailing one) or there are more. */
static int v1_split(const char *line, size_t n, const char **f, size_t *flen, int max)
{
    int k = 0;
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && line[i] != ' ')
            continue;
        if (i == start || k == max)
            return -1;
        f[k] = line + start;
        flen[k++] = i - start;
        start = i + 1;
    }
    return k;
}

/* A field as a C string in buf (for inet_pton and the port parser). */
static const char *v1_field(const char *f, size_t n, char *buf, size_t cap)
{
    if (n >= cap)
        return "";
    memcpy(buf, f, n);
    buf[n] = '\0';
    return buf;
}

static bool v1_is(const char *f, size_t n, const char *word)
{
    return n == strlen(word) && memcmp(f, word, n) == 0;
}

/* v1: "PROXY TCP4|TCP6 SRC DST SPORT DPORT\r\n" (single spaces, addresses
 * of the family named, decimal ports) or "PROXY UNKNOWN[ anything]\r\n". */
static int parse_v1(const char *p, size_t len, tps__peer *peer, tps__proxy_hdr *h)
{
    const char *end = memchr(p, '\n', len < V1_MAX ? len : V1_MAX);
    if (end == NULL)
        return len < V1_MAX ? 0 : -1;
    if (end == p || end[-1] != '\r')
        return -1;
    size_t n = (size_t)(end - p) - 1;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)p[i] < 0x20 || (unsigned char)p[i] > 0x7E)
            return -1; /* US-ASCII text only: no NUL, CR or tab inside */
    h->used = n + 2;
    if (n >= 13 && memcmp(p, "PROXY UNKNOWN", 13) == 0 && (n == 13 || p[13] == ' '))
        return 1; /* the balancer does not know: keep the socket's peer */
    const char *f[6];
    size_t fl[6];
    if (v1_split(p, n, f, fl, 6) != 6)
        return -1;
    int family = v1_is(f[1], fl[1], "TCP4") ? AF_INET : v1_is(f[1], fl[1], "TCP6") ? AF_INET6 : 0;
    char src[64], dst[64], sport[8], dport[8];
    uint8_t a[16], b[16];
    if (family == 0 || inet_pton(family, v1_field(f[2], fl[2], src, sizeof src), a) != 1 ||
        inet_pton(family, v1_field(f[3], fl[3], dst, sizeof dst), b) != 1)
        return -1;
    int sp = tps__parse_port(v1_field(f[4], fl[4], sport, sizeof sport));
    int dp = tps__parse_port(v1_field(f[5], fl[5], dport, sizeof dport));
    if (sp < 0 || dp < 0)
        return -1;
    memset(peer, 0, sizeof(*peer));
    peer->family = (uint8_t)family;
    peer->port = (uint16_t)sp;
    memcpy(peer->addr, a, family == AF_INET ? 4 : 16);
    return 1;
}

/* ---- v2 ------------------------------------------------------------------- */

/* The address block a family/transport byte needs, or -1 for a byte the
 * spec does not define (it says to reject those). */
static int v2_addr_len(unsigned fam)
{
    switch (fam) {
    case 0x00: /* UNSPEC */
        return 0;
    case 0x11: /* TCP over IPv4: src, dst, sport, dport */
    case 0x12: /* UDP over IPv4 */
        return 12;
    case 0x21: /* TCP over IPv6 */
    case 0x22: /* UDP over IPv6 */
        return 36;
    case 0x31: /* unix stream: two 108-byte paths */
    case 0x32: /* unix datagram */
        return 216;
    default:
        return -1;
    }
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The whole header hdr[0..len), with the CRC field at voff counted as
 * zeros, must have the CRC32c the field holds. */
static bool crc_ok(const unsigned char *hdr, size_t len, size_t voff)
{
    static const unsigned char zero[4];
    uint32_t crc = tps__crc32c(0, hdr, voff);
    crc = tps__crc32c(crc, zero, sizeof zero);
    crc = tps__crc32c(crc, hdr + voff + 4, len - voff - 4);
    return crc == be32(hdr + voff);
}

struct v2_walk {
    const unsigned char *hdr; /* the whole header, for the CRC */
    size_t len;
    bool crc_seen;
};

static int walk_tlvs(struct v2_walk *wk, size_t off, size_t end, bool sub);

/* The checks of one TLV's type on its value hdr[voff .. voff + vlen). */
static int check_tlv(struct v2_walk *wk, unsigned type, size_t voff, size_t vlen)
{
    switch (type) {
    case PP2_TYPE_CRC32C:
        if (vlen != 4 || wk->crc_seen || !crc_ok(wk->hdr, wk->len, voff))
            return -1;
        wk->crc_seen = true;
        return 0;
    case PP2_TYPE_UNIQUE_ID:
        return vlen <= UNIQUE_ID_MAX ? 0 : -1;
    case PP2_TYPE_AUTHORITY:
        return vlen <= AUTHORITY_MAX ? 0 : -1;
    case PP2_TYPE_SSL:
        return vlen < SSL_FIXED ? -1 : walk_tlvs(wk, voff + SSL_FIXED, voff + vlen, true);
    default: /* ALPN, NOOP, NETNS, custom (0xE0-0xEF), future: any length */
        return 0;
    }
}

/* TLVs (type, 16-bit big-endian length, value) must tile hdr[off..end)
 * exactly. Sub-TLVs (of the SSL TLV) are only checked to fit. */
static int walk_tlvs(struct v2_walk *wk, size_t off, size_t end, bool sub)
{
    while (off < end) {
        if (end - off < 3)
            return -1; /* a TLV header cut by the end */
        const unsigned char *t = wk->hdr + off;
        size_t vlen = (size_t)t[1] << 8 | t[2];
        if (vlen > end - off - 3)
            return -1; /* its value runs past the end */
        if (!sub && check_tlv(wk, t[0], off + 3, vlen) < 0)
            return -1;
        off += 3 + vlen;
    }
    return 0;
}

/* Version 2, and a command the spec defines: LOCAL (0) or PROXY (1). */
static bool v2_ver_cmd_ok(unsigned char vc)
{
    return (vc & 0xF0) == 0x20 && (vc & 0x0F) <= 1;
}

/* A v2 address block's source: addr (4 or 16 bytes), port (big-endian). */
static void set_peer(tps__peer *peer, int family, const unsigned char *addr,
                     const unsigned char *port)
{
    memset(peer, 0, sizeof(*peer));
    peer->family = (uint8_t)family;
    memcpy(peer->addr, addr, family == AF_INET ? 4 : 16);
    peer->port = (uint16_t)(port[0] << 8 | port[1]);
}

/* v2: signature, version/command, family/transport, length, addresses,
 * TLVs. What is known early is refused early. */
static int parse_v2(const unsigned char *p, size_t len, tps__peer *peer, tps__proxy_hdr *h)
{
    if (len > 12 && !v2_ver_cmd_ok(p[12]))
        return -1;
    bool local = len > 12 && (p[12] & 0x0F) == 0;
    if (len > 13 && !local && v2_addr_len(p[13]) < 0)
        return -1;
    if (len < 16)
        return 0;
    size_t body = (size_t)p[14] << 8 | p[15];
    if (body > TPS__PROXY_V2_MAX_BODY)
        return -1;
    if (len < 16 + body)
        return 0;
    h->used = 16 + body;
    /* LOCAL: the balancer's own connection (a health check); the spec says
     * to ignore the family and discard the block, TLVs included. */
    if (local)
        return 1;
    int alen = v2_addr_len(p[13]); /* known good once 14 bytes are in */
    if (alen < 0 || body < (size_t)alen)
        return -1; /* the address block is cut short */
    struct v2_walk wk = {.hdr = p, .len = 16 + body};
    if (walk_tlvs(&wk, 16 + (size_t)alen, 16 + body, false) < 0)
        return -1;
    h->tlv_off = 16 + (size_t)alen;
    h->tlv_len = body - (size_t)alen;
    if (p[13] == 0x11)
        set_peer(peer, AF_INET, p + 16, p + 24);
    else if (p[13] == 0x21)
        set_peer(peer, AF_INET6, p + 16, p + 48);
    /* else UNSPEC, UDP, unix: keep the socket's peer */
    return 1;
}

int tps__proxy_parse(const char *p, size_t len, tps__peer *peer, tps__proxy_hdr *h)
{
    memset(h, 0, sizeof(*h));
    size_t cmp = len < sizeof(v2_sig) ? len : sizeof(v2_sig);
    if (memcmp(p, v2_sig, cmp) == 0)
        return len < sizeof(v2_sig) ? 0 : parse_v2((const unsigned char *)p, len, peer, h);
    cmp = len < 6 ? len : 6;
    if (memcmp(p, "PROXY ", cmp) != 0)
        return -1;
    return len < 6 ? 0 : parse_v1(p, len, peer, h);
}

/* ---- TLV lookup ----------------------------------------------------------- */

static int find_tlv(const unsigned char *b, size_t n, unsigned type, const void **value,
                    size_t *len)
{
    size_t off = 0;
    while (n - off >= 3) {
        size_t vlen = (size_t)b[off + 1] << 8 | b[off + 2];
        if (vlen > n - off - 3)
            break; /* not from the parser; never read past n */
        if (b[off] == type) {
            *value = b + off + 3;
            *len = vlen;
            return 0;
        }
        off += 3 + vlen;
    }
    return -ENOENT;
}

int tps__proxy_tlv_find(const unsigned char *b, size_t n, unsigned type, const void **value,
                        size_t *len)
{
    if (type <= 0xFF)
        return find_tlv(b, n, type, value, len);
    const void *ssl;
    size_t slen;
    if (type > 0x1FF || find_tlv(b, n, PP2_TYPE_SSL, &ssl, &slen) < 0 || slen < SSL_FIXED)
        return -ENOENT;
    return find_tlv((const unsigned char *)ssl + SSL_FIXED, slen - SSL_FIXED, type & 0xFF, value,
                    len);
}
