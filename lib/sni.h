/* SPDX-License-Identifier: MIT */
/* sni.h - which certificate a TLS client gets: the names a set of
 * certificates serves, as a table built once per configuration, and the
 * one name a ClientHello's server_name extension asks for (RFC 6066, 3).
 * Plain C without OpenSSL, so that a fuzz target takes it whole
 * (tests/fuzz/fuzz_sni.c); tlsctx.c reads the names out of the
 * certificates and looks up each handshake's name here. */
#ifndef TPS_SNI_H
#define TPS_SNI_H

#include <stddef.h>
#include <stdint.h>

/* The longest host name looked up: OpenSSL refuses a longer server_name
 * (TLSEXT_MAXLEN_host_name), and a DNS name has at most 253 bytes. */
#define TPS__SNI_MAX_NAME 255

typedef struct tps__sni_entry {
    char *name; /* lower case; a wildcard's without its "*." (owned) */
    size_t len;
    uint32_t cert; /* the caller's index of the certificate */
} tps__sni_entry;

/* Exact names and wildcards ("*.example.com" kept as "example.com"),
 * each sorted by name with one entry per name. Built by one thread
 * (tps__sni_add, then tps__sni_finish), then only read: any number of
 * threads may look up at once. Zeroed: an empty table. */
typedef struct tps__sni_table {
    tps__sni_entry *exact, *wild;
    size_t nexact, nwild, cap_exact, cap_wild;
} tps__sni_table;

/* Add name (len bytes, any case) as served by certificate cert. A name
 * is a DNS name of letters, digits, '-' and '_' in dot-separated labels
 * of 1-63 bytes, at most 253 in all; "*.rest" is a wildcard for exactly
 * one more label in front of rest (RFC 6125, 6.4.3: the whole left-most
 * label, nothing else). Returns 0, -EINVAL for anything else (nothing is
 * added: the caller says why), -ENOMEM. */
int tps__sni_add(tps__sni_table *t, const char *name, size_t len, uint32_t cert);

/* Sort both lists; where two entries have the same name, the one of the
 * lowest cert stays (the certificate given first wins). Call once, after
 * the last tps__sni_add. */
void tps__sni_finish(tps__sni_table *t);

/* Does any entry name cert? (A certificate all of whose names an
 * earlier one took is never chosen: the caller warns.) */
int tps__sni_serves(const tps__sni_table *t, uint32_t cert);

/* The certificate for a client's name (len bytes, any case): the exact
 * entry, else the wildcard for its parent (x.example.com matches
 * *.example.com; y.x.example.com and example.com do not). Returns its
 * cert, or -1 if no entry covers the name (then the default serves). No
 * allocation, no lock: a copy in lower case on the stack and at most two
 * binary searches. */
long tps__sni_lookup(const tps__sni_table *t, const char *name, size_t len);

void tps__sni_free(tps__sni_table *t);

/* The host name in the body of a ClientHello's server_name extension
 * (p, n: without the extension's type and length): a list of 2-byte
 * length holding one host_name entry (type 0) with a name of 1-255 bytes
 * and no NUL, the list filling the body exactly. OpenSSL takes only that
 * form (any other it refuses, and so ends the handshake), so neither do
 * we: 0 with *name (pointing into p) and *len, or -1. */
int tps__sni_parse(const unsigned char *p, size_t n, const unsigned char **name, size_t *len);

#endif
