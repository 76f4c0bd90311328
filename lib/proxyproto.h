/* SPDX-License-Identifier: MIT */
/* proxyproto.h - parse a PROXY protocol header (v1 text or v2 binary). */
#ifndef TPS_PROXYPROTO_H
#define TPS_PROXYPROTO_H

#include <stddef.h>

#include "sockaddr.h"

/* Longest v2 address block and TLVs we accept (haproxy sends a few TLVs). */
#define TPS__PROXY_V2_MAX_BODY 2048

/* Parse the header at the start of p[0..len). Returns 1 when complete
 * (*used = its length; *peer = the client it names, left untouched for
 * UNKNOWN/LOCAL/non-TCP headers), 0 if more bytes are needed, -1 if this
 * is not a valid header. */
int tps__proxy_parse(const char *p, size_t len, tps__peer *peer, size_t *used);

#endif
