/* SPDX-License-Identifier: MIT */
/* fuzz_units.c - libFuzzer target for the one grammar of counts,
 * durations and sizes (common/units.c) that tpserver, tpclient and tpbench
 * take after --workers, --idle-timeout, -w, --duration, --max-input,
 * --size and the rest. Each parser is held to a reference written
 * differently (128-bit arithmetic on the whole and fraction parts, where
 * the parser multiplies digit by digit) on every input: the same verdict
 * (0, -EINVAL, -ERANGE, -EDOM), the same value, and *out untouched on
 * error. Across parsers: a count is the same number of bytes and of
 * seconds; a duration at a coarser resolution is the finer one rounded
 * up; and a count prints back to its digits (less leading zeros). */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "fuzz.h"
#include "units.h"

typedef unsigned __int128 u128;

struct unit {
    const char *name;
    long long mul; /* ns or bytes per unit */
};

static const struct unit dur_units[] = {
    {"ns", 1}, {"us", 1000}, {"ms", 1000000}, {"s", 1000000000LL}, {"", 1000000000LL},
    {"m", 60000000000LL}, {"h", 3600000000000LL}, {NULL, 0}};
static const struct unit size_units[] = {{"", 1},        {"k", 1024},    {"K", 1024},
                                         {"m", 1 << 20}, {"M", 1 << 20}, {"g", 1 << 30},
                                         {"G", 1 << 30}, {NULL, 0}};

/* The reference: WHOLE[.FRAC]UNIT with up to 18 fraction digits
 * (*skip: more, not compared), value W*U + F*U/10^k in 128 bits, then
 * ceil(value / res). size: the value must be whole (-EDOM). */
static int ref(const char *s, const struct unit *u, long long res, bool size, long long *out,
               bool *skip)
{
    u128 w = 0, f = 0, pow = 1;
    size_t i = 0, k = 0;
    bool big = false;
    *skip = false;
    for (; s[i] >= '0' && s[i] <= '9'; i++) {
        w = w * 10 + (unsigned)(s[i] - '0');
        if (w > LLONG_MAX) {
            big = true;
            w = (u128)LLONG_MAX + 1;
        }
    }
    if (i == 0)
        return -EINVAL;
    if (s[i] == '.') {
        size_t start = ++i;
        for (; s[i] >= '0' && s[i] <= '9'; i++, k++)
            if (k < 18) {
                f = f * 10 + (unsigned)(s[i] - '0');
                pow *= 10;
            } else {
                *skip = true;
            }
        if (i == start)
            return -EINVAL;
    }
    for (; u->name != NULL; u++) {
        if (strcmp(s + i, u->name) != 0)
            continue;
        if (big)
            return -ERANGE;
        u128 whole = w * (u128)u->mul + f * (u128)u->mul / pow;
        bool frac = f * (u128)u->mul % pow != 0;
        if (whole > LLONG_MAX)
            return -ERANGE;
        if (size && frac)
            return -EDOM;
        *out = (long long)(whole / (u128)res + (whole % (u128)res != 0 || frac));
        return 0;
    }
    return -EINVAL;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    if (n > 200)
        return 0;
    char *s = fuzz_str(d, n);
    long long count = -7, ns = -7, us = -7, ms = -7, size = -7, r = -7;
    bool skip;
    int rc = tpcm_parse_count(s, &count);
    int rns = tpcm_parse_duration(s, TPCM_NS, &ns);
    int rus = tpcm_parse_duration(s, TPCM_US, &us);
    int rms = tpcm_parse_duration(s, TPCM_MS, &ms);
    int rsz = tpcm_parse_size(s, &size);

    /* Untouched on error; the verdicts are the documented ones. */
    FUZZ_CHECK(rc == 0 || (count == -7 && (rc == -EINVAL || rc == -ERANGE)));
    FUZZ_CHECK(rns == 0 || (ns == -7 && (rns == -EINVAL || rns == -ERANGE)));
    FUZZ_CHECK(rms == 0 || (ms == -7 && (rms == -EINVAL || rms == -ERANGE)));
    FUZZ_CHECK(rsz == 0 || (size == -7 && (rsz == -EINVAL || rsz == -ERANGE || rsz == -EDOM)));
    /* The resolutions agree: the same verdict, rounded up. */
    FUZZ_CHECK(rns == rus && rns == rms);
    if (rns == 0) {
        FUZZ_CHECK(us == ns / 1000 + (ns % 1000 != 0));
        FUZZ_CHECK(ms == ns / 1000000 + (ns % 1000000 != 0));
    }
    /* The references. */
    int want = ref(s, dur_units, 1, false, &r, &skip);
    if (!skip) {
        FUZZ_CHECK(want == rns);
        FUZZ_CHECK(want != 0 || r == ns);
        want = ref(s, dur_units, 1000000, false, &r, &skip);
        FUZZ_CHECK(want != 0 || r == ms);
        want = ref(s, size_units, 1, true, &r, &skip);
        FUZZ_CHECK(want == rsz);
        FUZZ_CHECK(want != 0 || r == size);
    }
    if (rc == 0) {
        /* A bare number: bytes, seconds, or too large. */
        FUZZ_CHECK(rsz == 0 && size == count);
        FUZZ_CHECK(rns == 0 ? ns == count * 1000000000LL
                            : rns == -ERANGE && count > LLONG_MAX / 1000000000LL);
        char back[32];
        snprintf(back, sizeof back, "%lld", count);
        const char *digits = s;
        while (digits[0] == '0' && digits[1] != '\0')
            digits++;
        FUZZ_CHECK(strcmp(back, digits) == 0);
    } else {
        /* Not a count: no unit-less digits-only string. */
        FUZZ_CHECK(rc == -ERANGE || s[0] == '\0' || strspn(s, "0123456789") != strlen(s));
    }
    free(s);
    return 0;
}
