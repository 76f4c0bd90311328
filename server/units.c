/* SPDX-License-Identifier: MIT */
/* units.c - strict parsers for counts, durations and sizes given on the
 * command line. strtoll() is not used: it skips spaces, accepts signs and
 * reports overflow only through errno, and each of those has let a bad
 * flag through in some server's past. */
#include "config.h"

#include "units.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

/* Leading decimal digits of s into *out; *end points past them. */
static int parse_digits(const char *s, long long *out, const char **end)
{
    long long v = 0;
    const char *p = s;

    if (*p < '0' || *p > '9')
        return -EINVAL;
    for (; *p >= '0' && *p <= '9'; p++) {
        int d = *p - '0';
        if (v > (LLONG_MAX - d) / 10)
            return -ERANGE;
        v = v * 10 + d;
    }
    *out = v;
    *end = p;
    return 0;
}

/* *out = v * mul, or -ERANGE. */
static int scale(long long v, long long mul, long long *out)
{
    if (v > LLONG_MAX / mul)
        return -ERANGE;
    *out = v * mul;
    return 0;
}

int tpsrv_parse_count(const char *s, long long *out)
{
    const char *end;
    long long v;
    int rc = parse_digits(s, &v, &end);

    if (rc < 0)
        return rc;
    if (*end != '\0')
        return -EINVAL;
    *out = v;
    return 0;
}

struct unit {
    const char *name;
    long long mul;
};

/* Digits, then one of units (the first, "", for no unit). */
static int parse_with_unit(const char *s, const struct unit *units, size_t n, long long *out)
{
    const char *end;
    long long v;
    int rc = parse_digits(s, &v, &end);

    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n; i++)
        if (strcmp(end, units[i].name) == 0)
            return scale(v, units[i].mul, out);
    return -EINVAL;
}

int tpsrv_parse_duration_ms(const char *s, long long *out)
{
    static const struct unit units[] = {
        {"", 1000}, {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000},
    };
    return parse_with_unit(s, units, sizeof units / sizeof units[0], out);
}

int tpsrv_parse_duration_us(const char *s, long long *out)
{
    static const struct unit units[] = {
        {"", 1000000}, {"us", 1}, {"ms", 1000}, {"s", 1000000}, {"m", 60000000},
    };
    return parse_with_unit(s, units, sizeof units / sizeof units[0], out);
}

int tpsrv_parse_size(const char *s, long long *out)
{
    static const struct unit units[] = {
        {"", 1},          {"k", 1LL << 10}, {"K", 1LL << 10}, {"m", 1LL << 20},
        {"M", 1LL << 20}, {"g", 1LL << 30}, {"G", 1LL << 30},
    };
    return parse_with_unit(s, units, sizeof units / sizeof units[0], out);
}
