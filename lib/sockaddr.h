/* SPDX-License-Identifier: MIT */
/* sockaddr.h - listen-address parsing and compact peer addresses. Knows
 * nothing of servers or event loops. */
#ifndef TPS_SOCKADDR_H
#define TPS_SOCKADDR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define TPS__ADDRSTRLEN 128

/* A peer address in 20 bytes (a sockaddr_storage is 128): kept per
 * connection for tps_conn_peer() and the per-address cap. */
typedef struct tps__peer {
    uint8_t family; /* AF_INET, AF_INET6, AF_UNIX */
    uint16_t port;  /* host order */
    uint8_t addr[16];
} tps__peer;

/* A parsed listen spec. */
typedef struct tps__endpoint {
    struct sockaddr_storage ss;
    socklen_t len;
    int any; /* ":PORT"/"*:PORT": try [::] dual-stack, else 0.0.0.0 */
} tps__endpoint;

/* Parse "HOST:PORT", "[V6]:PORT", ":PORT", "*:PORT" or "unix:/path".
 * Returns 0, -EINVAL (malformed: *why says what), -ENAMETOOLONG or
 * TPS_EAI (host not resolved). */
int tps__endpoint_parse(const char *spec, tps__endpoint *ep, const char **why);
void tps__peer_from_sockaddr(tps__peer *p, const struct sockaddr *sa);
/* "1.2.3.4:5", "[::1]:5" or "unix"; -ENOBUFS if it does not fit. */
int tps__peer_format(const tps__peer *p, char *buf, size_t len);
/* Same for a bound socket's local address ("unix:/path" for unix). */
int tps__sockname_format(int fd, char *buf, size_t len);
/* Parse a decimal port 0..65535 with nothing trailing; -1 if invalid. */
int tps__parse_port(const char *s);

/* An address range: the first `bits` bits of addr (the rest are zero). */
typedef struct tps__cidr {
    uint8_t family; /* AF_INET or AF_INET6 */
    uint8_t bits;   /* 0..32 or 0..128 */
    uint8_t addr[16];
} tps__cidr;

/* "10.0.0.0/8", "127.0.0.1" (/32), "::1/128", "2001:db8::/32": 0, or
 * -EINVAL (bad address, prefix not a plain decimal in range). Bits past
 * the prefix are cleared; *host_bits says whether any were set. */
int tps__cidr_parse(const char *s, tps__cidr *out, int *host_bits);
/* Is p inside c? An IPv4 range also holds IPv4-mapped IPv6 peers. */
int tps__cidr_match(const tps__cidr *c, const tps__peer *p);

#endif
