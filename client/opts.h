/* SPDX-License-Identifier: MIT */
/* opts.h - the command line of tpclient, parsed into a struct without side
 * effects: no printing, no exit, no global state (unlike getopt), so every
 * rule can be unit-tested (tests/check_client_opts.c). Errors come back as
 * a message naming the offending option or value; main.c adds the
 * "Try 'tpclient --help'" line and exits 2. */
#ifndef TPC_OPTS_H
#define TPC_OPTS_H

#include <stddef.h>
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

    /* -m: message (malloc'd, owned; escapes already decoded with -e) and
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

/* "500ms", "2s", "1.5s", "1m", "1h"; a plain number is seconds. Stores
 * milliseconds (rounded down) in *ms. Returns 0, or -1 with a message
 * ("not a duration", "out of range") in err. */
int tpc_parse_duration(const char *s, long *ms, char *err, size_t errlen);

/* Decimal unsigned integer in [min, max], no sign, no garbage. Returns 0
 * or -1 with a message in err. */
int tpc_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out, char *err,
                  size_t errlen);

/* Decodes C escapes (\\ \' \" \? \a \b \e \f \n \r \t \v, octal \NNN, \xHH)
 * of in into a new malloc'd buffer *out of *outlen bytes (binary: may hold
 * NUL; also NUL-terminated for convenience). Returns 0, or -1 with a
 * message in err and *out untouched. */
int tpc_decode_escapes(const char *in, char **out, size_t *outlen, char *err, size_t errlen);

/* The --help text (static storage). */
const char *tpc_usage(void);

/* The option table, for the man page test: the i-th option's long name
 * (NULL if it has none) and short letter (0 if none); returns 0 past the
 * end, 1 otherwise. */
int tpc_opts_flag(size_t i, const char **long_name, char *short_name);

#endif
