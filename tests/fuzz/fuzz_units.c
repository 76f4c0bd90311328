/* SPDX-License-Identifier: MIT */
/* fuzz_units.c - libFuzzer target for tpserver's count, duration and size
 * parsers (server/units.c), which take the values a user types after
 * --workers, --idle-timeout, --max-output and the rest. Each parser is
 * held to a reference written differently (128-bit arithmetic, a table
 * walk) on every input: the same verdict (0, -EINVAL, -ERANGE), the same
 * value, and *out untouched on error. Across parsers: a plain count is the
 * same number of bytes, seconds in ms and in us; and a count prints back
 * to the digits it came from (less leading zeros). */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "units.h"

struct unit {
    const char *name;
    long long mul;
};

static const struct unit ms_units[] = {{"", 1000},   {"ms", 1},      {"s", 1000},
                                       {"m", 60000}, {"h", 3600000}, {NULL, 0}};
static const struct unit us_units[] = {{"", 1000000},  {"us", 1},       {"ms", 1000},
                                       {"s", 1000000}, {"m", 60000000}, {NULL, 0}};
static const struct unit size_units[] = {{"", 1},        {"k", 1024},    {"K", 1024},
                                         {"m", 1 << 20}, {"M", 1 << 20}, {"g", 1 << 30},
                                         {"G", 1 << 30}, {NULL, 0}};
static const struct unit count_units[] = {{"", 1}, {NULL, 0}};

/* The reference: digits (overflow first, whatever follows), then a unit
 * from the table matched as the whole rest, then the product's range. */
static int ref(const char *s, const struct unit *u, long long *out)
{
    unsigned __int128 v = 0;
    size_t i = 0;
    bool big = false;
    for (; s[i] >= '0' && s[i] <= '9'; i++) {
        v = v * 10 + (unsigned)(s[i] - '0');
        if (v > LLONG_MAX) {
            big = true;
            v = (unsigned __int128)LLONG_MAX + 1; /* stays big, cannot wrap */
        }
    }
    if (i == 0)
        return -EINVAL;
    if (big)
        return -ERANGE;
    for (; u->name != NULL; u++)
        if (strcmp(s + i, u->name) == 0) {
            unsigned __int128 r = v * (unsigned __int128)u->mul;
            if (r > LLONG_MAX)
                return -ERANGE;
            *out = (long long)r;
            return 0;
        }
    return -EINVAL;
}

static int check_one(int (*parse)(const char *, long long *), const struct unit *u, const char *s,
                     long long *out)
{
    const long long untouched = -0x5A5A5A5ALL;
    long long got = untouched, want = untouched;
    int rc = parse(s, &got), wrc = ref(s, u, &want);
    FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ERANGE);
    FUZZ_CHECK(rc == wrc);
    FUZZ_CHECK(got == want);
    if (rc == 0)
        FUZZ_CHECK(got >= 0);
    *out = got;
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    if (n > 256)
        return 0;
    char *s = fuzz_str(d, n);
    long long count, ms, us, size;
    int rc = check_one(tpsrv_parse_count, count_units, s, &count);
    int rms = check_one(tpsrv_parse_duration_ms, ms_units, s, &ms);
    int rus = check_one(tpsrv_parse_duration_us, us_units, s, &us);
    int rsz = check_one(tpsrv_parse_size, size_units, s, &size);
    if (rc == 0) {
        /* A bare number: bytes, seconds (1000 ms, 10^6 us), or too large. */
        FUZZ_CHECK(rsz == 0 && size == count);
        FUZZ_CHECK(rms == 0 ? ms == count * 1000 : rms == -ERANGE && count > LLONG_MAX / 1000);
        FUZZ_CHECK(rus == 0 ? us == count * 1000000
                            : rus == -ERANGE && count > LLONG_MAX / 1000000);
        char back[32];
        snprintf(back, sizeof back, "%lld", count);
        const char *digits = s;
        while (digits[0] == '0' && digits[1] != '\0')
            digits++;
        FUZZ_CHECK(strcmp(back, digits) == 0);
    } else {
        /* Not a count: no unit-less parser may take it as a number. */
        FUZZ_CHECK(rc == -ERANGE || s[0] == '\0' || strspn(s, "0123456789") != strlen(s));
    }
    /* Seconds are seconds in both duration parsers. */
    if (rms == 0 && rus == 0)
        FUZZ_CHECK(us == ms * 1000);
    free(s);
    return 0;
}
