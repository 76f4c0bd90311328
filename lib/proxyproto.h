/* SPDX-License-Identifier: MIT */
/* proxyproto.h - parse a PROXY protocol header (v1 text or v2 binary). */
#ifndef TPS_PROXYPROTO_H
#define TPS_PROXYPROTO_H

#include <stddef.h>
#include <stdint.h>

#include "sockaddr.h"

/* Longest v2 address block and TLVs we accept (haproxy sends a few TLVs). */
#define TPS__PROXY_V2_MAX_BODY 2048

/* What a complete header says besides the client. */
typedef struct tps__proxy_hdr {
    size_t used;    /* the header's length */
    size_t tlv_off; /* v2 with TLVs: they are p[tlv_off .. tlv_off + tlv_len) */
    size_t tlv_len; /* 0: no TLVs (v1, LOCAL, or none sent) */
} tps__proxy_hdr;

/* Parse the header at the start of p[0..len). Returns 1 when complete
 * (*h filled; *peer = the client it names, left untouched for
 * UNKNOWN/LOCAL/non-TCP headers), 0 if more bytes are needed (every
 * proper prefix of a valid header gives 0), -1 if this is not a valid
 * header. A v2 header is valid only if its address block is whole and its
 * TLVs (and the SSL TLV's sub-TLVs) tile the announced length exactly,
 * with the lengths their types require and a matching CRC32c if one is
 * sent. The TLVs are returned as they are, unknown types included. */
int tps__proxy_parse(const char *p, size_t len, tps__peer *peer, tps__proxy_hdr *h);

/* The first TLV of `type` in a block of TLVs that tps__proxy_parse
 * accepted: 0 and *value, *len (pointing into b), or -ENOENT. A type of
 * 0x100 | sub names the sub-TLV `sub` inside the SSL TLV (0x20). */
int tps__proxy_tlv_find(const unsigned char *b, size_t n, unsigned type, const void **value,
                        size_t *len);

/* CRC32c (Castagnoli), zlib's convention: crc is 0 to start, or the result
 * of the previous call to continue over more bytes. */
uint32_t tps__crc32c(uint32_t crc, const void *p, size_t n);

#endif
