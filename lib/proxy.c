/* SPDX-License-Identifier: MIT */
/* proxy.c - what surrounds the PROXY header parser (proxyproto.c) on a
 * "proxy:" listener: who may send a header at all (the trusted balancers'
 * addresses, checked by the acceptor), and what the handler may read of a
 * header beyond the client's address (its v2 TLVs, kept per connection). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "proxyproto.h"

/* ---- trusted sources ------------------------------------------------------ */

int tps_server_proxy_trust(tps_server *srv, const char *cidr)
{
    tps__cidr c;
    int host_bits = 0;
    if (srv == NULL)
        return TPS_EINVAL;
    if (srv->started)
        return TPS_EBUSY;
    if (tps__cidr_parse(cidr, &c, &host_bits) < 0)
        return TPS_EINVAL;
    tps__cidr *grown = realloc(srv->trusted, (srv->ntrusted + 1) * sizeof(*grown));
    if (grown == NULL)
        return TPS_ENOMEM;
    srv->trusted = grown;
    srv->trusted[srv->ntrusted++] = c;
    if (host_bits) /* nginx's set_real_ip_from says so too */
        tps__log(srv, TPS_LOG_WARN, "proxy trust '%s': bits past the prefix are ignored", cidr);
    return 0;
}

void tps__proxy_trust_free(tps_server *srv)
{
    free(srv->trusted);
    srv->trusted = NULL;
    srv->ntrusted = 0;
}

/* Acceptor thread; the list no longer changes once started. */
bool tps__proxy_trusted(const tps_server *srv, const tps__peer *peer)
{
    if (srv->ntrusted == 0 || peer->family == AF_UNIX)
        return true;
    for (unsigned i = 0; i < srv->ntrusted; i++)
        if (tps__cidr_match(&srv->trusted[i], peer))
            return true;
    if (srv->log_level >= TPS_LOG_DEBUG) {
        char from[TPS__ADDRSTRLEN];
        tps__peer_format(peer, from, sizeof(from));
        tps__log(srv, TPS_LOG_DEBUG, "proxy: connection from untrusted %s: closed", from);
    }
    return false;
}

/* ---- TLVs ----------------------------------------------------------------- */

/* Worker, in the turn that parsed the header; freed by tps__conn_close(). */
int tps__proxy_tlvs_keep(tps_conn *c, const char *p, size_t n)
{
    tps__tlvs *t = malloc(sizeof(*t) + n);
    if (t == NULL)
        return TPS_ENOMEM;
    t->len = n;
    memcpy(t->b, p, n);
    c->proxy_tlvs = t;
    return 0;
}

int tps_conn_proxy_tlv(const tps_conn *c, unsigned type, const void **value, size_t *len)
{
    if (c == NULL || value == NULL || len == NULL)
        return TPS_EINVAL;
    if (c->proxy_tlvs == NULL)
        return TPS_ENOENT;
    return tps__proxy_tlv_find(c->proxy_tlvs->b, c->proxy_tlvs->len, type, value, len);
}

static const char *tlv_name(unsigned type)
{
    switch (type) {
    case TPS_PP2_TYPE_ALPN:
        return "alpn";
    case TPS_PP2_TYPE_AUTHORITY:
        return "authority";
    case TPS_PP2_TYPE_CRC32C:
        return "crc32c";
    case TPS_PP2_TYPE_NOOP:
        return "noop";
    case TPS_PP2_TYPE_UNIQUE_ID:
        return "unique_id";
    case TPS_PP2_TYPE_SSL:
        return "ssl";
    case TPS_PP2_TYPE_NETNS:
        return "netns";
    default:
        return NULL;
    }
}

/* Debug only: each TLV's name, and the value of the textual ones
 * (printable bytes as they are, others as '?', cut at 64). */
void tps__proxy_tlvs_describe(const tps_conn *c, char *buf, size_t cap)
{
    const tps__tlvs *t = c->proxy_tlvs;
    size_t at = 0;
    buf[0] = '\0';
    for (size_t off = 0; t != NULL && t->len - off >= 3 && at < cap;) {
        unsigned type = t->b[off];
        size_t vlen = (size_t)t->b[off + 1] << 8 | t->b[off + 2];
        const unsigned char *v = t->b + off + 3;
        if (vlen > t->len - off - 3)
            break; /* the parser let no such TLV through */
        const char *name = tlv_name(type);
        int n = name ? snprintf(buf + at, cap - at, " %s", name)
                     : snprintf(buf + at, cap - at, " 0x%02x", type);
        at += n > 0 ? (size_t)n : 0;
        bool text = type == TPS_PP2_TYPE_ALPN || type == TPS_PP2_TYPE_AUTHORITY ||
                    type == TPS_PP2_TYPE_UNIQUE_ID || type == TPS_PP2_TYPE_NETNS;
        if (text && at + 1 < cap)
            buf[at++] = '=';
        for (size_t i = 0; text && i < vlen && i < 64 && at + 1 < cap; i++)
            buf[at++] = v[i] >= 0x20 && v[i] < 0x7F ? (char)v[i] : '?';
        if (at >= cap)
            at = cap - 1;
        buf[at] = '\0';
        off += 3 + vlen;
    }
}
