/* SPDX-License-Identifier: MIT */
/* opts.h - tpserver's command line, parsed into a struct.
 *
 * The parser never exits and never prints: it fills struct tpsrv_opts or
 * returns a message naming the flag and the bad value, so that main() can
 * print it and exit 2 before binding anything, and so that
 * tests/check_server_opts.c can test it without a process. Ranges come
 * from the library's TPS_OPTION_MAP, so a value the library would refuse
 * is refused here first. */
#ifndef TPSRV_OPTS_H
#define TPSRV_OPTS_H

#include <stddef.h>
#include <stdio.h>

#include "tpserv.h"

#define TPSRV_DEFAULT_LISTEN   "127.0.0.1:7000"
#define TPSRV_DEFAULT_DRAIN_MS 10000
#define TPSRV_MAX_DRAIN_MS     86400000
#define TPSRV_MAX_LISTEN       64
#define TPSRV_MAX_TRUST        64
#define TPSRV_MAX_SNI_CERTS    256

enum tpsrv_handler_kind {
    TPSRV_HANDLER_ECHO,
    TPSRV_HANDLER_DISCARD,
    TPSRV_HANDLER_CHARGEN,
    TPSRV_HANDLER_DAYTIME,
    TPSRV_HANDLER_SLEEP
};

/* What main() should do after a successful parse. */
enum tpsrv_action { TPSRV_RUN, TPSRV_HELP, TPSRV_VERSION };

/* A --tls-sni-cert CERT[,KEY]: the value points into argv; CERT is its
 * first cert_len bytes (the value is split at its first comma), key the
 * rest after the comma, or NULL (the key is in CERT). */
struct tpsrv_sni_cert {
    const char *cert;
    size_t cert_len;
    const char *key;
};

struct tpsrv_opts {
    enum tpsrv_action action;
    /* Listen specs point into argv (valid for the life of the program). */
    const char *listen[TPSRV_MAX_LISTEN];
    unsigned nlisten; /* 0: use TPSRV_DEFAULT_LISTEN */
    /* --proxy-trust ranges, syntax-checked, pointing into argv. */
    const char *trust[TPSRV_MAX_TRUST];
    unsigned ntrust;
    /* Library options given on the command line; the others keep the
     * library's defaults (is_set[i] == 0). */
    long long value[TPS_OPT_COUNT_];
    unsigned char is_set[TPS_OPT_COUNT_];
    unsigned drain_ms;
    enum tpsrv_handler_kind handler;
    int may_block;
    int log_level; /* enum tps_log_level */
    /* TLS for tls: listeners (strings point into argv; NULL: not given).
     * main.c turns them into a tps_tls_config, at start and on SIGHUP. */
    const char *tls_cert, *tls_key, *tls_ca, *tls_min, *tls_ciphers, *tls_ciphersuites, *alpn;
    int tls_verify; /* enum tps_tls_verify, or -1: required with --tls-ca, else none */
    int tls_no_tickets;
    int tls_no_ktls;
    /* --tls-sni-cert, in the order given (of two with one name, the
     * first wins). */
    struct tpsrv_sni_cert sni[TPSRV_MAX_SNI_CERTS];
    unsigned nsni;
};

/* Parse argv[1..argc). Returns NULL and fills *o, or returns errbuf holding
 * a one-line message (no program name, no newline) such as
 * "--workers: invalid number 'abc'". o is fully initialised either way. */
const char *tpsrv_opts_parse(struct tpsrv_opts *o, int argc, char *const *argv, char *errbuf,
                             size_t errlen);

/* Print the --help text, with the library's defaults, to f. */
void tpsrv_opts_print_usage(FILE *f);

/* Name of a handler kind ("echo", ...). */
const char *tpsrv_handler_kind_name(enum tpsrv_handler_kind k);

/* The long name (without "--") of the i-th flag the parser knows, or NULL
 * past the last: lets the tests hold the usage text to the parser. */
const char *tpsrv_opts_flag_name(size_t i);
/* Its short letter, or 0 if it has none (or past the last). */
char tpsrv_opts_flag_short(size_t i);

#endif
