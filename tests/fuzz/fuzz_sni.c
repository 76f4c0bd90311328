/* SPDX-License-Identifier: MIT */
/* fuzz_sni.c - libFuzzer target for what chooses a TLS certificate
 * (lib/sni.c): the server_name extension of a ClientHello, bytes from
 * any client read before anything is authenticated, and the lookup of
 * the name in it among the names of the server's certificates.
 * Properties: tps__sni_parse agrees with a reference reading of RFC
 * 6066's ServerNameList in the one form OpenSSL takes, and its name lies
 * in the input; tps__sni_add takes exactly the names a reference check
 * calls DNS names (or "*." and one); on a table of fixed names and
 * names from the input, the lists are sorted with one entry a name, and
 * tps__sni_lookup agrees with a linear reference (ASCII case folded,
 * exact names before wildcards, a wildcard covers one whole label, the
 * first given wins) for the input's last string and for the parsed name. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "sni.h"

/* list length (2) | type 0 (1) | name length (2) | name: one entry, the
 * list filling the body, a name of 1-255 bytes without NUL. */
static int ref_parse(const uint8_t *d, size_t n, size_t *len)
{
    if (n < 2 || (size_t)d[0] * 256 + d[1] != n - 2 || n < 5 || d[2] != 0)
        return -1;
    size_t k = (size_t)d[3] * 256 + d[4];
    if (k + 5 != n || k == 0 || k > 255)
        return -1;
    for (size_t i = 0; i < k; i++)
        if (d[5 + i] == 0)
            return -1;
    *len = k;
    return 0;
}

static void fold(char *dst, const char *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = src[i] >= 'A' && src[i] <= 'Z' ? (char)(src[i] + 32) : src[i];
}

/* Labels of 1-63 of [a-z0-9_-] between single dots, 253 bytes at most,
 * maybe after a "*." (s is folded). */
static bool ref_valid(const char *s, size_t n)
{
    if (n >= 2 && s[0] == '*' && s[1] == '.')
        s += 2, n -= 2;
    if (n == 0 || n > 253)
        return false;
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == '.') {
            if (i - start < 1 || i - start > 63)
                return false;
            start = i + 1;
        } else if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '-' ||
                     s[i] == '_')) {
            return false;
        }
    }
    return true;
}

enum { MAXN = 24 };
struct ref {
    char name[MAXN][256];
    size_t len[MAXN];
    uint32_t cert[MAXN];
    int n;
};

static long ref_lookup(const struct ref *r, const char *q, size_t n)
{
    char low[256];
    if (n == 0 || n > 255)
        return -1;
    fold(low, q, n);
    for (int i = 0; i < r->n; i++) /* in the order given: the first wins */
        if (r->name[i][0] != '*' && r->len[i] == n && memcmp(r->name[i], low, n) == 0)
            return r->cert[i];
    size_t label = 0;
    while (label < n && low[label] != '.')
        label++;
    if (label == 0 || label + 1 >= n)
        return -1;
    for (int i = 0; i < r->n; i++)
        if (r->name[i][0] == '*' && r->len[i] - 2 == n - label - 1 &&
            memcmp(r->name[i] + 2, low + label + 1, n - label - 1) == 0)
            return r->cert[i];
    return -1;
}

static void add(tps__sni_table *t, struct ref *r, const char *name, uint32_t cert)
{
    size_t n = strlen(name);
    char low[300];
    int rc = tps__sni_add(t, name, n, cert);
    FUZZ_CHECK(rc == 0 || rc == -EINVAL);
    if (n < sizeof(low))
        fold(low, name, n);
    bool valid = n < sizeof(low) && ref_valid(low, n);
    FUZZ_CHECK((rc == 0) == valid);
    if (valid && r->n < MAXN) {
        memcpy(r->name[r->n], low, n);
        r->len[r->n] = n;
        r->cert[r->n++] = cert;
    }
}

static void check_sorted(const tps__sni_entry *v, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++) {
        size_t m = v[i].len < v[i + 1].len ? v[i].len : v[i + 1].len;
        int c = memcmp(v[i].name, v[i + 1].name, m);
        FUZZ_CHECK(c < 0 || (c == 0 && v[i].len < v[i + 1].len));
    }
}

static const char *const fixed[] = {
    "a.test", "*.wild.test", "exact.wild.test", "A.TEST", "b.test", "*.a.test",
    "x",      "*.x",         "bad name",        "*.*.x",  "a..b",   "-.-",
    "*.",     "*",           "a.test.",         ".a",
};

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    if (n > 1024)
        return 0;
    const unsigned char *name = NULL;
    size_t len = 0, ref_len = 0;
    int rc = tps__sni_parse(d, n, &name, &len);
    FUZZ_CHECK(rc == ref_parse(d, n, &ref_len));
    if (rc == 0)
        FUZZ_CHECK(name == d + 5 && len == ref_len);

    tps__sni_table t = {0};
    struct ref r = {.n = 0};
    uint32_t cert = 0;
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        add(&t, &r, fixed[i], cert++);
    char *s = fuzz_str(d, n);
    char *part[9];
    int k = fuzz_split(s, n, part, 9);
    for (int i = 0; i + 1 < k; i++)
        add(&t, &r, part[i], cert++);
    tps__sni_finish(&t);
    check_sorted(t.exact, t.nexact);
    check_sorted(t.wild, t.nwild);
    const char *q = part[k - 1];
    FUZZ_CHECK(tps__sni_lookup(&t, q, strlen(q)) == ref_lookup(&r, q, strlen(q)));
    if (rc == 0)
        FUZZ_CHECK(tps__sni_lookup(&t, (const char *)name, len) ==
                   ref_lookup(&r, (const char *)name, len));
    for (int i = 0; i < r.n; i++) /* each name finds a certificate, maybe an earlier one */
        FUZZ_CHECK(tps__sni_lookup(&t, r.name[i], r.len[i]) >= 0 || r.name[i][0] == '*');
    tps__sni_free(&t);
    free(s);
    return 0;
}
