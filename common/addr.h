/* SPDX-License-Identifier: MIT */
/* addr.h - the one address syntax of tpserver (--listen, through the
 * library's tps_server_listen), tpclient and tpbench:
 *
 *   HOST:PORT     a name or an IPv4 address; the last colon splits, so an
 *                 unbracketed IPv6 address works too ("::1:80")
 *   [V6]:PORT     an IPv6 (or any) address in brackets
 *   :PORT *:PORT  every address: for listeners only (TPCM_ADDR_ANY)
 *   unix:PATH     a unix socket; PATH must fit a sockaddr_un
 *
 * PORT is 1 to 5 decimal digits, 0..65535, nothing else. Splitting only:
 * nothing is resolved, nothing allocated, no global state. Compiled into
 * libtpserv too (lib/sockaddr.c splits listen specs with it), so every
 * name here stays out of the library's exports (tps_* only); prefixes such
 * as "proxy:" belong to the library and are stripped before. */
#ifndef TPCM_ADDR_H
#define TPCM_ADDR_H

#include <stddef.h>

#define TPCM_ADDR_HOSTMAX 256 /* host buffer: names up to 255 bytes */

enum tpcm_addr_kind { TPCM_ADDR_INET, TPCM_ADDR_UNIX };

/* Flags of tpcm_addr_parse. */
#define TPCM_ADDR_ANY 1u /* ":PORT" and "*:PORT" are allowed (host "") */

struct tpcm_addr {
    enum tpcm_addr_kind kind;
    char host[TPCM_ADDR_HOSTMAX]; /* brackets removed; "" = every address */
    int port;                     /* 0..65535 */
    int bracketed;                /* the host was written [in brackets] */
    const char *port_text;        /* the port's digits, inside spec */
    const char *path;             /* unix: the path, inside spec */
};

/* Splits spec into *a (a's pointers point into spec, which must outlive
 * them). Returns 0, -EINVAL (malformed) or -ENAMETOOLONG (host or path too
 * long), with *why (static text) saying what is wrong on error. */
int tpcm_addr_parse(const char *spec, unsigned flags, struct tpcm_addr *a, const char **why);

/* A decimal port 0..65535, 1 to 5 digits, nothing trailing; -1 if not. */
int tpcm_port_parse(const char *s);

#endif
