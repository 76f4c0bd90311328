/* SPDX-License-Identifier: MIT */
/* opts.h - the command line of tpclient, parsed into a struct without side
 * effects: no printing, no exit, no global state (unlike getopt), so every
 * rule can be unit-tested (tests/check_client_opts.c). Errors come back as
 * a message naming the offending option or value; main.c adds the
 * "Try 'tpclient --help'" line and exits 2. */
#ifndef TPC_OPTS_H
#define TPC_OPTS_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#define TPC_DEFAULT_TIMEOUT_MS 5000L
/* poll() takes an int of milliseconds: durations above this are refused. */
#define TPC_MAX_DURATION_MS 2147483647LL

enum tpc_action { TPC_RUN, TPC_HELP, TPC_VERSION };

struct tpc_opts {
    enum tpc_action action;

    /* Target: unix_path, or host and port (the port is validated numeric).
     * All point into argv (host without its [brackets] is copied). */
    const char *unix_path;
    char *host;
    const char *port;
    int family; /* AF_UNSPEC, or AF_INET / AF_INET6 for -4 / -6 */

    /* --message: the message (malloc'd, owned: tpc_opts_free frees it;
     * escapes already decoded with -e) and
     * the line ending appended to each of its `count` copies. */
    char *message;
    size_t message_len;
    uint64_t count;
    const char *eol; /* "\n", "\r\n" (--crlf) or "" (--no-newline) */
    int crlf;        /* also: translate LF to CRLF on stdin */
    int escapes;
    int half_close; /* -N: shutdown(SHUT_WR) after the --message messages
                       (at the end of stdin it always happens) */

    long timeout_ms;        /* -w: connect and inactivity; 0 = none */
    long quit_after_eof_ms; /* -q: quit this long after all is sent; -1 = never */
    int zero_io;            /* -z: connect, close, report */
    int numeric;            /* -n: HOST must be a numeric address */
    uint64_t expect_bytes;  /* 0 = no expectation */
    uint64_t lines;         /* 0 = no expectation */

    int quiet;
    int verbose;

    /* TLS (client/tls.c does the work): --tls and its settings; the
     * strings point into argv, NULL when not given. */
    int tls;
    int insecure;
    const char *tls_ca, *tls_cert, *tls_key, *sni, *alpn;
};

/* Parses argv[1..argc). Returns 0 and fills o (free with tpc_opts_free),
 * or -1 with a one-line message in err (o is then already freed). */
int tpc_opts_parse(struct tpc_opts *o, int argc, char *const argv[], char *err, size_t errlen);
void tpc_opts_free(struct tpc_opts *o);

/* Prints the --help text to f: the option list is generated from the
 * parser's own table. */
void tpc_usage(FILE *f);

/* The option table, for the man page test: the i-th option's long name
 * (NULL if it has none) and short letter (0 if none); returns 0 past the
 * end, 1 otherwise. */
int tpc_opts_flag(size_t i, const char **long_name, char *short_name);

#endif
