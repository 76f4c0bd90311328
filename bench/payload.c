/* SPDX-License-Identifier: MIT */
/* payload: request generation and byte-for-byte reply verification. */
#include "payload.h"

#include <string.h>

static const unsigned char magic[4] = {'T', 'P', 'B', '1'};

void tpb_payload_init(tpb_payload *p, const tpb_opts *o)
{
    memset(p, 0, sizeof *p);
    if (!o->request) {
        p->expect = TPB_EXPECT_ECHO;
        p->req_len = o->size;
        return;
    }
    p->req = o->request;
    p->req_len = o->request_len;
    p->expect = o->expect;
    p->exp = o->expect_buf;
    p->exp_len = o->expect_blen;
    if (o->expect == TPB_EXPECT_ECHO) { /* default: the request itself */
        p->expect = TPB_EXPECT_EXACT;
        p->exp = o->request;
        p->exp_len = o->request_len;
    } else if (o->expect == TPB_EXPECT_LEN) {
        p->exp_len = o->expect_len;
    }
}

static inline unsigned char body_byte(uint32_t cid, uint64_t seq, size_t i)
{
    return (unsigned char)(cid * 131u + (uint32_t)seq * 31u + (uint32_t)i * 7u +
                           (uint32_t)(i >> 8));
}

static void put_le(unsigned char *b, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        b[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le(const unsigned char *b, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | b[i];
    return v;
}

static void echo_header(unsigned char *h, uint32_t cid, uint64_t seq)
{
    put_le(h, cid, 4);
    put_le(h + 4, seq, 8);
    memcpy(h + 12, magic, 4);
}

void tpb_payload_request(const tpb_payload *p, uint32_t cid, uint64_t seq, char *buf)
{
    if (p->req) {
        memcpy(buf, p->req, p->req_len);
        return;
    }
    unsigned char *b = (unsigned char *)buf;
    echo_header(b, cid, seq);
    for (size_t i = TPB_HDR; i < p->req_len; i++)
        b[i] = body_byte(cid, seq, i);
}

/* A header byte differed: tell whose payload this is, once we can. */
static int classify(const tpb_rx *rx, uint32_t cid, size_t have)
{
    if (have < TPB_HDR || memcmp(rx->hdr + 12, magic, 4) != 0)
        return TPB_VERR_CORRUPT;
    if (get_le(rx->hdr, 4) != cid)
        return TPB_VERR_CROSS;
    return get_le(rx->hdr + 4, 8) != rx->seq ? TPB_VERR_REORDER : TPB_VERR_CORRUPT;
}

/* Header bytes are buffered so a mismatch can be classified. */
static int feed_header(tpb_rx *rx, uint32_t cid, const unsigned char *d, size_t n, size_t *k)
{
    unsigned char want[TPB_HDR];
    echo_header(want, cid, rx->seq);
    while (*k < n && rx->off < TPB_HDR)
        rx->hdr[rx->off++] = d[(*k)++];
    if (memcmp(rx->hdr, want, rx->off) == 0)
        return 0;
    rx->bad = 1;
    if (rx->off < TPB_HDR && *k == n)
        return 1; /* wait for the rest of the header to classify */
    return classify(rx, cid, rx->off);
}

static int feed_echo(const tpb_payload *p, tpb_rx *rx, uint32_t cid, const unsigned char *d,
                     size_t n, size_t *used)
{
    size_t k = 0;
    if (rx->off < TPB_HDR) {
        int r = feed_header(rx, cid, d, n, &k);
        if (r < 0)
            return r;
        if (r > 0 || rx->off < TPB_HDR) {
            *used = k;
            return 0; /* header incomplete (maybe already wrong) */
        }
    }
    /* A header already known to differ, completed in this call. */
    size_t need = p->req_len - rx->off;
    size_t take = n - k < need ? n - k : need;
    for (size_t i = 0; i < take; i++)
        if (d[k + i] != body_byte(cid, rx->seq, rx->off + i))
            return TPB_VERR_CORRUPT;
    rx->off += take;
    *used = k + take;
    if (rx->off < p->req_len)
        return 0;
    rx->off = 0;
    rx->seq++;
    return 1;
}

static int feed_exact(const tpb_payload *p, tpb_rx *rx, const char *d, size_t n, size_t *used)
{
    size_t take = n < p->exp_len - rx->off ? n : p->exp_len - rx->off;
    if (memcmp(d, p->exp + rx->off, take) != 0)
        return TPB_VERR_CORRUPT;
    rx->off += take;
    *used = take;
    if (rx->off < p->exp_len)
        return 0;
    rx->off = 0;
    return 1;
}

static int feed_len(const tpb_payload *p, tpb_rx *rx, size_t n, size_t *used)
{
    size_t take = n < p->exp_len - rx->off ? n : p->exp_len - rx->off;
    rx->off += take;
    *used = take;
    if (rx->off < p->exp_len)
        return 0;
    rx->off = 0;
    return 1;
}

/* The last exp_len bytes are kept in rx->hdr (terminators are at most
 * TPB_HDR bytes long here; longer ones are compared via the data). */
static int feed_term(const tpb_payload *p, tpb_rx *rx, const char *d, size_t n, size_t *used)
{
    size_t t = p->exp_len;
    for (size_t i = 0; i < n; i++) {
        memmove(rx->hdr, rx->hdr + 1, t - 1);
        rx->hdr[t - 1] = (unsigned char)d[i];
        rx->off++;
        if (rx->off >= t && memcmp(rx->hdr, p->exp, t) == 0) {
            *used = i + 1;
            rx->off = 0;
            return 1;
        }
        if (rx->off > TPB_REPLY_MAX)
            return TPB_VERR_LONG;
    }
    *used = n;
    return 0;
}

int tpb_payload_feed(const tpb_payload *p, tpb_rx *rx, uint32_t cid, const char *data, size_t len,
                     size_t *used)
{
    switch (p->expect) {
    case TPB_EXPECT_ECHO:
        return feed_echo(p, rx, cid, (const unsigned char *)data, len, used);
    case TPB_EXPECT_EXACT:
        return feed_exact(p, rx, data, len, used);
    case TPB_EXPECT_LEN:
        return feed_len(p, rx, len, used);
    case TPB_EXPECT_TERM:
        return feed_term(p, rx, data, len, used);
    }
    return TPB_VERR_CORRUPT;
}

const char *tpb_verr_name(int e)
{
    switch (e) {
    case TPB_VERR_CORRUPT:
        return "corrupt";
    case TPB_VERR_REORDER:
        return "reorder";
    case TPB_VERR_CROSS:
        return "cross";
    case TPB_VERR_LONG:
        return "too_long";
    }
    return "unknown";
}
