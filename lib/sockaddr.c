/* SPDX-License-Identifier: MIT */
/* sockaddr.c - listen specs to socket addresses and addresses to text. */
#include "config.h"

#include "sockaddr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include "../common/addr.h"
#include "tpserv.h"

/* The one port rule of the three programs and the library. */
int tps__parse_port(const char *s)
{
    return tpcm_port_parse(s);
}

/* path is checked by tpcm_addr_parse: not empty, fits sun_path. */
static int parse_unix(const char *path, tps__endpoint *ep)
{
    struct sockaddr_un *sun = (struct sockaddr_un *)&ep->ss;
    sun->sun_family = AF_UNIX;
    strcpy(sun->sun_path, path);
    ep->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1);
    return 0;
}

static int resolve(const char *host, int port, tps__endpoint *ep, const char **why)
{
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    char portstr[16];
    snprintf(portstr, sizeof(portstr), "%d", port);
    if (getaddrinfo(host, portstr, &hints, &res) != 0 || res == NULL) {
        *why = "host name could not be resolved";
        return TPS_EAI;
    }
    memcpy(&ep->ss, res->ai_addr, res->ai_addrlen);
    ep->len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

int tps__endpoint_parse(const char *spec, tps__endpoint *ep, const char **why)
{
    struct tpcm_addr a;
    memset(ep, 0, sizeof(*ep));
    /* The split is common/addr.c's, the same tpclient and tpbench use. */
    int rc = tpcm_addr_parse(spec, TPCM_ADDR_ANY, &a, why);
    if (rc < 0)
        return rc;
    if (a.kind == TPCM_ADDR_UNIX)
        return parse_unix(a.path, ep);
    int port = a.port;
    if (a.host[0] == '\0') {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ep->ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_addr = in6addr_any;
        s6->sin6_port = htons((uint16_t)port);
        ep->len = sizeof(*s6);
        ep->any = 1;
        return 0;
    }
    return resolve(a.host, port, ep, why);
}

void tps__peer_from_sockaddr(tps__peer *p, const struct sockaddr *sa)
{
    memset(p, 0, sizeof(*p));
    p->family = (uint8_t)sa->sa_family;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
        memcpy(p->addr, &s4->sin_addr, 4);
        p->port = ntohs(s4->sin_port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
        memcpy(p->addr, &s6->sin6_addr, 16);
        p->port = ntohs(s6->sin6_port);
    }
}

int tps__peer_format(const tps__peer *p, char *buf, size_t len)
{
    char a[INET6_ADDRSTRLEN];
    int n;
    if (buf == NULL || len == 0)
        return -EINVAL;
    if (p->family == AF_INET) {
        inet_ntop(AF_INET, p->addr, a, sizeof(a));
        n = snprintf(buf, len, "%s:%u", a, p->port);
    } else if (p->family == AF_INET6) {
        inet_ntop(AF_INET6, p->addr, a, sizeof(a));
        n = snprintf(buf, len, "[%s]:%u", a, p->port);
    } else {
        n = snprintf(buf, len, "unix");
    }
    return n >= 0 && (size_t)n < len ? 0 : -ENOBUFS;
}

int tps__sockname_format(int fd, char *buf, size_t len)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
        return -errno;
    if (ss.ss_family == AF_UNIX) {
        const struct sockaddr_un *sun = (const struct sockaddr_un *)&ss;
        int n = snprintf(buf, len, "unix:%s", sun->sun_path);
        return n >= 0 && (size_t)n < len ? 0 : -ENOBUFS;
    }
    tps__peer p;
    tps__peer_from_sockaddr(&p, (struct sockaddr *)&ss);
    return tps__peer_format(&p, buf, len);
}

/* The prefix length after '/': decimal digits, no sign, no leading zero. */
static int parse_prefix(const char *s, int max)
{
    int v = 0;
    if (*s == '\0' || (s[0] == '0' && s[1] != '\0') || strlen(s) > 3)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        v = v * 10 + (*s - '0');
    }
    return v <= max ? v : -1;
}

int tps__cidr_parse(const char *s, tps__cidr *out, int *host_bits)
{
    char a[INET6_ADDRSTRLEN];
    const char *slash = s ? strchr(s, '/') : NULL;
    size_t n = s == NULL ? 0 : slash ? (size_t)(slash - s) : strlen(s);
    tps__cidr c = {0};
    if (n == 0 || n >= sizeof(a))
        return -EINVAL;
    memcpy(a, s, n);
    a[n] = '\0';
    c.family = memchr(a, ':', n) ? AF_INET6 : AF_INET;
    int max = c.family == AF_INET ? 32 : 128;
    int bits = slash ? parse_prefix(slash + 1, max) : max;
    if (bits < 0 || inet_pton(c.family, a, c.addr) != 1)
        return -EINVAL;
    c.bits = (uint8_t)bits;
    uint8_t orig[16];
    memcpy(orig, c.addr, sizeof(orig));
    for (int i = 0; i < max / 8; i++) /* clear what the prefix leaves out */
        c.addr[i] &= (uint8_t)(i < bits / 8 ? 0xFF : i == bits / 8 ? 0xFF00 >> (bits % 8) : 0);
    *host_bits = memcmp(orig, c.addr, sizeof(orig)) != 0;
    *out = c;
    return 0;
}

int tps__cidr_match(const tps__cidr *c, const tps__peer *p)
{
    static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
    const uint8_t *a = p->addr;
    int family = p->family;
    if (family == AF_INET6 && c->family == AF_INET && memcmp(a, v4mapped, 12) == 0)
        a += 12, family = AF_INET;
    if (family != c->family)
        return 0;
    int whole = c->bits / 8, rest = c->bits % 8;
    if (memcmp(a, c->addr, (size_t)whole) != 0)
        return 0;
    return rest == 0 || ((a[whole] ^ c->addr[whole]) & (0xFF00 >> rest) & 0xFF) == 0;
}
