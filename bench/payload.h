/* SPDX-License-Identifier: MIT */
/* payload: what tpbench sends and how it checks what comes back.
 * Echo payloads carry the connection id and a per-connection sequence
 * number, and every other byte is a function of both, so a flipped,
 * dropped, reordered or foreign byte is caught at the first byte it
 * touches. Fixed requests (--request) are checked against exact bytes,
 * a length or a terminator. One tpb_payload is shared read-only by all
 * threads; each connection owns its tpb_rx. */
#ifndef TPB_PAYLOAD_H
#define TPB_PAYLOAD_H
#include <stddef.h>
#include <stdint.h>

#include "opts.h"

#define TPB_HDR       16 /* cid(4) seq(8) magic(4) */
#define TPB_TERM_MAX  64
#define TPB_REPLY_MAX (1u << 20) /* longest reply accepted in term mode */

enum tpb_verr {                        /* negative results of tpb_payload_feed */
                TPB_VERR_CORRUPT = -1, /* a byte differs (flip, drop, garbage) */
                TPB_VERR_REORDER = -2, /* our connection, wrong sequence number */
                TPB_VERR_CROSS = -3,   /* another connection's payload */
                TPB_VERR_LONG = -4,    /* no terminator within TPB_REPLY_MAX */
};

typedef struct tpb_payload {
    enum tpb_expect expect;
    size_t req_len;  /* bytes per request */
    const char *req; /* fixed request, or NULL for echo payloads */
    const char *exp; /* exact reply or terminator */
    size_t exp_len;  /* exact/len/term length */
} tpb_payload;

typedef struct tpb_rx { /* per-connection receive state */
    uint64_t seq;       /* sequence of the reply being received */
    size_t off;         /* bytes of it received so far */
    unsigned char hdr[TPB_HDR];
    int bad; /* a header byte differed; waiting for the rest */
} tpb_rx;

void tpb_payload_init(tpb_payload *p, const tpb_opts *o);
/* Write request `seq` of connection `cid` into buf (p->req_len bytes). */
void tpb_payload_request(const tpb_payload *p, uint32_t cid, uint64_t seq, char *buf);
/* Consume reply bytes. Returns 1 when a reply completed (*used bytes were
 * consumed, rx is reset for the next), 0 when all len bytes were consumed
 * without completing, or a negative tpb_verr. */
int tpb_payload_feed(const tpb_payload *p, tpb_rx *rx, uint32_t cid, const char *data, size_t len,
                     size_t *used);
const char *tpb_verr_name(int e);
#endif
