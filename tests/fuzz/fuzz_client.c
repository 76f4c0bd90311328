/* SPDX-License-Identifier: MIT */
/* fuzz_client.c - libFuzzer target for tpclient's command line
 * (client/opts.c) and the common parsers under it: the C-escape decoder
 * behind -e (common/escape.c), the duration and count grammar
 * (common/units.c), and the whole argv parser on the flag driver
 * (common/flags.c) with its HOST PORT / HOST:PORT / [V6]:PORT / unix:PATH
 * target (common/addr.c). The input is split at NUL bytes into arguments.
 * Properties: escapes never grow the text, leave backslash-free text as
 * it is, and decode a re-encoding (every byte as \ooo) of their own output
 * back to it; a duration in ms is the one in ns rounded up, a bare number
 * is seconds and adding "s" changes nothing; a number prints back to its
 * digits; a successful parse names exactly one target with a port in
 * 1..65535; an error always says something. */
#include "config.h"

#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "opts.h"
#include "../../common/addr.h"
#include "../../common/escape.h"
#include "../../common/units.h"

#define MAX_ARGS 16

static void check_escapes(const char *in)
{
    char *out = (char *)1, err[256] = "";
    size_t len = 0;
    if (tpcm_unescape(in, &out, &len, err, sizeof err) < 0) {
        FUZZ_CHECK(out == (char *)1 && err[0] != '\0');
        FUZZ_CHECK(strchr(in, '\\') != NULL);
        return;
    }
    FUZZ_CHECK(len <= strlen(in) && out[len] == '\0');
    if (strchr(in, '\\') == NULL)
        FUZZ_CHECK(len == strlen(in) && memcmp(out, in, len) == 0);
    char *enc = malloc(4 * len + 1), *again = NULL;
    FUZZ_CHECK(enc != NULL);
    for (size_t i = 0; i < len; i++)
        sprintf(enc + 4 * i, "\\%03o", (unsigned char)out[i]);
    enc[4 * len] = '\0';
    size_t alen = 0;
    FUZZ_CHECK(tpcm_unescape(enc, &again, &alen, err, sizeof err) == 0);
    FUZZ_CHECK(alen == len && memcmp(again, out, len) == 0);
    free(again);
    free(enc);
    free(out);
}

/* The common duration grammar at tpclient's resolution (ms): a bare
 * number is seconds, rounding is up, and whole seconds are exact. */
static void check_duration(const char *s)
{
    long long ms = -7, ms2 = -7, ns = -7;
    if (tpcm_parse_duration(s, TPCM_MS, &ms) < 0) {
        FUZZ_CHECK(ms == -7);
        return;
    }
    FUZZ_CHECK(ms >= 0);
    /* ms is ns rounded up, where ns fits. */
    if (tpcm_parse_duration(s, TPCM_NS, &ns) == 0)
        FUZZ_CHECK(ms == ns / 1000000 + (ns % 1000000 != 0));
    size_t n = strlen(s);
    if (n > 0 && strspn(s, "0123456789.") == n) { /* no unit: seconds */
        char *with = malloc(n + 2);
        FUZZ_CHECK(with != NULL);
        memcpy(with, s, n);
        memcpy(with + n, "s", 2);
        FUZZ_CHECK(tpcm_parse_duration(with, TPCM_MS, &ms2) == 0 && ms2 == ms);
        free(with);
        if (strspn(s, "0123456789") == n) /* whole seconds */
            FUZZ_CHECK(ms % 1000 == 0 && strtoll(s, NULL, 10) == ms / 1000);
    }
}

static void check_u64(const char *s)
{
    long long v = 7;
    if (tpcm_parse_count(s, &v) < 0) {
        FUZZ_CHECK(v == 7);
        return;
    }
    char back[32];
    snprintf(back, sizeof back, "%lld", v);
    while (s[0] == '0' && s[1] != '\0')
        s++;
    FUZZ_CHECK(strcmp(back, s) == 0);
}

static void check_argv(int argc, char **argv)
{
    struct tpc_opts o;
    char err[512] = "";
    if (tpc_opts_parse(&o, argc, argv, err, sizeof err) < 0) {
        FUZZ_CHECK(err[0] != '\0');
        return;
    }
    if (o.action == TPC_RUN) {
        FUZZ_CHECK((o.unix_path != NULL) != (o.host != NULL));
        if (o.host != NULL) {
            FUZZ_CHECK(o.port != NULL && o.host[0] != '\0');
            FUZZ_CHECK(tpcm_port_parse(o.port) >= 1);
        } else {
            FUZZ_CHECK(o.unix_path[0] != '\0');
        }
        FUZZ_CHECK(o.eol != NULL &&
                   (strcmp(o.eol, "\n") == 0 || strcmp(o.eol, "\r\n") == 0 || o.eol[0] == '\0'));
        FUZZ_CHECK(o.timeout_ms >= 0 && o.timeout_ms <= TPC_MAX_DURATION_MS);
        if (o.message != NULL)
            FUZZ_CHECK(o.message[o.message_len] == '\0');
    }
    tpc_opts_free(&o);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    if (n > 1024)
        return 0;
    char *s = fuzz_str(d, n), *args[MAX_ARGS + 2];
    int k = fuzz_split(s, n, args + 1, MAX_ARGS);
    for (int i = 1; i <= k; i++) {
        check_escapes(args[i]);
        check_duration(args[i]);
        check_u64(args[i]);
    }
    static char prog[] = "tpclient";
    args[0] = prog;
    args[k + 1] = NULL;
    check_argv(k + 1, args);
    free(s);
    return 0;
}
