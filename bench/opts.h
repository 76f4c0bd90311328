/* SPDX-License-Identifier: MIT */
/* opts: the tpbench command line, parsed into one plain struct. Parsing is
 * pure (no I/O but the error text it writes into `err`), so the unit tests
 * drive it directly. Owned by bench/main.c; the engine only reads it. */
#ifndef TPB_OPTS_H
#define TPB_OPTS_H
#include <stddef.h>
#include <stdint.h>

enum tpb_mode { TPB_MODE_REQ, TPB_MODE_THROUGHPUT, TPB_MODE_CHURN, TPB_MODE_IDLE, TPB_MODE_RAMP };
enum tpb_expect { TPB_EXPECT_ECHO, TPB_EXPECT_EXACT, TPB_EXPECT_LEN, TPB_EXPECT_TERM };

typedef struct tpb_opts {
    char *target; /* "host:port", "[v6]:port" or "unix:/path" */
    int connections, threads, depth, active;
    uint64_t duration_ns, warmup_ns, timeout_ns;
    uint64_t busy_poll_ns; /* poll this long before sleeping; 0 = sleep at once */
    double rate;           /* total requests/s; 0 = closed loop */
    size_t size;           /* echo payload bytes */
    enum tpb_mode mode;
    enum tpb_expect expect;
    char *request;
    size_t request_len; /* decoded --request */
    char *expect_buf;
    size_t expect_blen; /* --expect bytes or --expect-term */
    size_t expect_len;  /* --expect-len */
    int json, quiet, help, version;
    char *hist_file, *json_interval_file;
    double max_rate_p;    /* --max-rate-under pNN=T: percentile ... */
    uint64_t max_rate_ns; /* ... and its bound; 0 = no search */
    /* TLS (the work is in bench/tls.c) */
    int tls, insecure, tls_resume;
    char *tls_ca, *sni, *alpn;
} tpb_opts;

void tpb_opts_defaults(tpb_opts *o);
void tpb_opts_free(tpb_opts *o);
/* Parse argv; 0 on success, -1 with a message in err on a usage error. */
int tpb_opts_parse(tpb_opts *o, int argc, char **argv, char *err, size_t errlen);
/* "10s", "2m", "500ms", "250us", "1h", bare number = seconds. */
int tpb_parse_duration(const char *s, uint64_t *ns);
/* "64", "4k", "1M" (binary multiples). */
int tpb_parse_size(const char *s, size_t *out);
/* C escapes (\r \n \t \0 \\ \xHH \NNN); returns malloc'd bytes, NULL on a bad escape. */
char *tpb_unescape(const char *s, size_t *len);
/* "p99=2ms", "p99.9=10ms". */
int tpb_parse_pct_target(const char *s, double *p, uint64_t *ns);
const char *tpb_mode_name(enum tpb_mode m);
extern const char tpb_usage_text[];
/* The parser's i-th option, for the man page test: its long name, and in
 * *short_name its letter (0 if none); NULL past the last. */
const char *tpb_opts_flag(size_t i, char *short_name);
#endif
