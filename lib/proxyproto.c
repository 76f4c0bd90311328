/* SPDX-License-Identifier: MIT */
/* proxyproto.c - the PROXY protocol header (HAProxy's, versions 1 and 2)
 * that a load balancer sends first on each connection it forwards, saying
 * which client it forwards for. Pure parsing: bytes in, peer out; knows
 * nothing of sockets or connections.
 * Spec: https://www.haproxy.org/download/2.0/doc/proxy-protocol.txt */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>

#include "proxyproto.h"

#define V1_MAX 107 /* "PROXY TCP6 <39> <39> <5> <5>\r\n" */
static const char v2_sig[12] = {'\r', '\n', '\r', '\n', '\0', '\r', '\n', 'Q', 'U', 'I', 'T', '\n'};

/* v1: "PROXY TCP4|TCP6 SRC DST SPORT DPORT\r\n" or "PROXY UNKNOWN...\r\n". */
static int parse_v1(const char *p, size_t len, tps__peer *peer, size_t *used)
{
    const char *end = memchr(p, '\n', len < V1_MAX ? len : V1_MAX);
    if (end == NULL)
        return len < V1_MAX ? 0 : -1;
    if (end == p || end[-1] != '\r')
        return -1;
    char line[V1_MAX + 1], *save = NULL;
    size_t n = (size_t)(end - p) - 1;
    memcpy(line, p, n);
    line[n] = '\0';
    *used = n + 2;
    char *tok = strtok_r(line, " ", &save);
    char *proto = strtok_r(NULL, " ", &save);
    if (tok == NULL || strcmp(tok, "PROXY") != 0 || proto == NULL)
        return -1;
    if (strcmp(proto, "UNKNOWN") == 0)
        return 1; /* the balancer does not know: keep the socket's peer */
    int family = strcmp(proto, "TCP4") == 0 ? AF_INET : strcmp(proto, "TCP6") == 0 ? AF_INET6 : 0;
    char *src = strtok_r(NULL, " ", &save), *dst = strtok_r(NULL, " ", &save);
    char *sport = strtok_r(NULL, " ", &save), *dport = strtok_r(NULL, " ", &save);
    uint8_t a[16], b[16];
    int sp = sport ? tps__parse_port(sport) : -1, dp = dport ? tps__parse_port(dport) : -1;
    if (family == 0 || dst == NULL || strtok_r(NULL, " ", &save) != NULL || sp < 0 || dp < 0 ||
        inet_pton(family, src, a) != 1 || inet_pton(family, dst, b) != 1)
        return -1;
    memset(peer, 0, sizeof(*peer));
    peer->family = (uint8_t)family;
    peer->port = (uint16_t)sp;
    memcpy(peer->addr, a, family == AF_INET ? 4 : 16);
    return 1;
}

/* A v2 address block's source: addr (4 or 16 bytes), port (big-endian). */
static int set_peer(tps__peer *peer, int family, const unsigned char *addr,
                    const unsigned char *port)
{
    memset(peer, 0, sizeof(*peer));
    peer->family = (uint8_t)family;
    memcpy(peer->addr, addr, family == AF_INET ? 4 : 16);
    peer->port = (uint16_t)(port[0] << 8 | port[1]);
    return 1;
}

/* v2: signature, version/command, family/transport, length, addresses. */
static int parse_v2(const unsigned char *p, size_t len, tps__peer *peer, size_t *used)
{
    if (len < 16)
        return 0;
    size_t body = (size_t)p[14] << 8 | p[15];
    if ((p[12] & 0xF0) != 0x20 || (p[12] & 0x0F) > 1 || body > TPS__PROXY_V2_MAX_BODY)
        return -1;
    if (len < 16 + body)
        return 0;
    *used = 16 + body;
    if ((p[12] & 0x0F) == 0)
        return 1; /* LOCAL: the balancer's own connection (health check) */
    const unsigned char *a = p + 16;
    switch (p[13]) {
    case 0x11: /* TCP over IPv4: src, dst, sport, dport */
        return body < 12 ? -1 : set_peer(peer, AF_INET, a, a + 8);
    case 0x21: /* TCP over IPv6 */
        return body < 36 ? -1 : set_peer(peer, AF_INET6, a, a + 32);
    default: /* UNSPEC, UDP, unix: keep the socket's peer */
        return 1;
    }
}

int tps__proxy_parse(const char *p, size_t len, tps__peer *peer, size_t *used)
{
    size_t cmp = len < sizeof(v2_sig) ? len : sizeof(v2_sig);
    if (memcmp(p, v2_sig, cmp) == 0)
        return len < sizeof(v2_sig) ? 0 : parse_v2((const unsigned char *)p, len, peer, used);
    cmp = len < 6 ? len : 6;
    if (memcmp(p, "PROXY ", cmp) != 0)
        return -1;
    return len < 6 ? 0 : parse_v1(p, len, peer, used);
}
