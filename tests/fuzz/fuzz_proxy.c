/* SPDX-License-Identifier: MIT */
/* fuzz_proxy.c - libFuzzer target for the PROXY protocol v1/v2 parser
 * (lib/proxyproto.c), the first bytes a proxy: listener reads from the
 * network, before it knows who sent them. Properties checked, besides
 * ASan/UBSan finding no bad access:
 *  - the verdict is -1, 0 or 1; a complete header's length is within the
 *    input and its TLV block ends where the header does;
 *  - the peer is written only for a complete header, as IPv4/IPv6;
 *  - split at every byte (as the bytes may arrive): every prefix shorter
 *    than the verdict's point gives 0 ("more"), and every longer one the
 *    same verdict, length and peer; a good header completes exactly at its
 *    length;
 *  - tps__proxy_tlv_find finds the first TLV (and SSL sub-TLV) of each
 *    type the block holds, at its place, and nothing for the others; and on
 *    arbitrary bytes it never points outside them. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "proxyproto.h"

struct verdict {
    int r;
    tps__peer peer;
    tps__proxy_hdr h;
};

static const tps__peer *sentinel(void)
{
    static tps__peer s;
    memset(&s, 0xA5, sizeof(s));
    return &s;
}

/* Parse the first k bytes from an exact-size copy (an over-read is an
 * ASan report, not a silent look at the bytes after). */
static struct verdict parse_prefix(const uint8_t *d, size_t k)
{
    struct verdict v;
    char *p = malloc(k ? k : 1);
    FUZZ_CHECK(p != NULL);
    memcpy(p, d, k);
    v.peer = *sentinel();
    v.r = tps__proxy_parse(p, k, &v.peer, &v.h);
    free(p);
    FUZZ_CHECK(v.r >= -1 && v.r <= 1);
    if (v.r != 1)
        FUZZ_CHECK(memcmp(&v.peer, sentinel(), sizeof(v.peer)) == 0);
    return v;
}

static bool same(const struct verdict *a, const struct verdict *b)
{
    if (a->r != b->r)
        return false;
    if (a->r != 1)
        return true;
    return a->h.used == b->h.used && a->h.tlv_off == b->h.tlv_off && a->h.tlv_len == b->h.tlv_len &&
           memcmp(&a->peer, &b->peer, sizeof(a->peer)) == 0;
}

/* Walk a block the parser accepted (sub: the SSL TLV's sub-TLVs, which
 * must tile it too); check the lookup against the walk. */
static void check_tlvs(const unsigned char *b, size_t n, bool sub)
{
    bool seen[256] = {false};
    size_t off = 0;
    while (off < n) {
        FUZZ_CHECK(n - off >= 3); /* the parser promised a tiling */
        unsigned type = b[off];
        size_t vlen = (size_t)b[off + 1] << 8 | b[off + 2];
        FUZZ_CHECK(vlen <= n - off - 3);
        if (!sub && !seen[type]) {
            const void *val = NULL;
            size_t len = 0;
            FUZZ_CHECK(tps__proxy_tlv_find(b, n, type, &val, &len) == 0);
            FUZZ_CHECK(val == b + off + 3 && len == vlen);
            seen[type] = true;
        }
        if (!sub && type == 0x20) { /* SSL: client, verify, then sub-TLVs */
            FUZZ_CHECK(vlen >= 5);
            check_tlvs(b + off + 3 + 5, vlen - 5, true);
        }
        off += 3 + vlen;
    }
    if (sub)
        return;
    for (unsigned t = 0; t < 256; t++) {
        const void *val;
        size_t len;
        if (!seen[t])
            FUZZ_CHECK(tps__proxy_tlv_find(b, n, t, &val, &len) == -ENOENT);
    }
}

/* Sub-TLVs: look them up through the outer block (type 0x100 | sub). */
static void check_sub_lookup(const unsigned char *blk, size_t n)
{
    const void *ssl;
    size_t slen;
    if (tps__proxy_tlv_find(blk, n, 0x20, &ssl, &slen) < 0 || slen < 5)
        return;
    const unsigned char *s = (const unsigned char *)ssl + 5;
    size_t sn = slen - 5, off = 0;
    bool seen[256] = {false};
    while (off + 3 <= sn) {
        unsigned type = s[off];
        size_t vlen = (size_t)s[off + 1] << 8 | s[off + 2];
        if (vlen > sn - off - 3)
            break;
        if (!seen[type]) {
            const void *val = NULL;
            size_t len = 0;
            FUZZ_CHECK(tps__proxy_tlv_find(blk, n, 0x100 | type, &val, &len) == 0);
            FUZZ_CHECK(val == s + off + 3 && len == vlen);
            seen[type] = true;
        }
        off += 3 + vlen;
    }
}

/* Lookup over bytes no parser vetted: any answer lies inside them. */
static void check_raw_lookup(const uint8_t *d, size_t n)
{
    unsigned char *b = malloc(n ? n : 1);
    FUZZ_CHECK(b != NULL);
    memcpy(b, d, n);
    unsigned types[] = {n ? d[0] : 0u, 0x20, 0x121, 0x100 | (n > 1 ? d[n - 1] : 0u), 0x200};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        const void *val = NULL;
        size_t len = 0;
        int rc = tps__proxy_tlv_find(b, n, types[i], &val, &len);
        FUZZ_CHECK(rc == 0 || rc == -ENOENT);
        if (rc == 0)
            FUZZ_CHECK((const unsigned char *)val >= b && len <= n &&
                       (const unsigned char *)val + len <= b + n);
    }
    free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    if (n > 4 * TPS__PROXY_V2_MAX_BODY)
        return 0;
    struct verdict whole = parse_prefix(d, n);
    if (whole.r == 1) {
        FUZZ_CHECK(whole.h.used > 0 && whole.h.used <= n);
        FUZZ_CHECK(whole.h.tlv_len == 0 || whole.h.tlv_off + whole.h.tlv_len == whole.h.used);
        if (memcmp(&whole.peer, sentinel(), sizeof(whole.peer)) != 0) {
            FUZZ_CHECK(whole.peer.family == AF_INET || whole.peer.family == AF_INET6);
            if (whole.peer.family == AF_INET)
                for (int i = 4; i < 16; i++)
                    FUZZ_CHECK(whole.peer.addr[i] == 0);
        }
        if (whole.h.tlv_len > 0) {
            const unsigned char *blk = (const unsigned char *)d + whole.h.tlv_off;
            check_tlvs(blk, whole.h.tlv_len, false);
            check_sub_lookup(blk, whole.h.tlv_len);
        }
    }
    /* Every split point: 0 until the verdict's point, then the verdict.
     * All of them for short inputs; for long ones the first 300, a stride
     * and both sides of the header's end (each parse is O(k)). */
    size_t point = n + 1; /* first k with a non-zero answer */
    for (size_t k = 0; k <= n; k++) {
        bool near_end = whole.r == 1 && (k + 1 == whole.h.used || k == whole.h.used);
        if (k > 300 && k % 97 != 0 && !near_end && k != n)
            continue;
        struct verdict v = parse_prefix(d, k);
        if (v.r == 0) {
            FUZZ_CHECK(point > n); /* no "more" after a verdict */
            continue;
        }
        if (point > n)
            point = k;
        FUZZ_CHECK(same(&v, &whole));
    }
    if (whole.r == 1)
        FUZZ_CHECK(point == whole.h.used);
    if (whole.r == 0)
        FUZZ_CHECK(point > n);
    check_raw_lookup(d, n);
    return 0;
}
