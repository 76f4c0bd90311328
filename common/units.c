/* SPDX-License-Identifier: MIT */
/* units.c - counts, durations and sizes (units.h). Exact integer
 * arithmetic throughout: "1.5M" is 1572864 bytes and "0.1s" 100 ms, with
 * no floating point to round either way. strtoll()/strtod() are not used:
 * they skip spaces, take signs, hex and exponents, and report overflow
 * only through errno, and each of those has let a bad flag through in
 * some program's past (tpbench took "1e3" and "0x10" as durations). */
#include "config.h"

#include "units.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

/* The number's text: whole digits [w, w+nw), fraction digits [f, f+nf)
 * (nf == 0: none), and the unit after them. */
struct num {
    const char *w, *f, *unit;
    size_t nw, nf;
};

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* DIGITS [. DIGITS]; "1." and ".5" are not numbers. */
static int split_num(const char *s, struct num *n)
{
    const char *p = s;

    n->w = p;
    while (is_digit(*p))
        p++;
    n->nw = (size_t)(p - s);
    if (n->nw == 0)
        return -EINVAL;
    n->f = p;
    n->nf = 0;
    if (*p == '.') {
        n->f = ++p;
        while (is_digit(*p))
            p++;
        n->nf = (size_t)(p - n->f);
        if (n->nf == 0)
            return -EINVAL;
    }
    n->unit = p;
    return 0;
}

/* *v = *v * 10 + d, or -ERANGE. */
static int push_digit(long long *v, int d)
{
    if (*v > (LLONG_MAX - d) / 10)
        return -ERANGE;
    *v = *v * 10 + d;
    return 0;
}

static int mul_range(long long a, long long b, long long *out)
{
    if (b != 0 && a > LLONG_MAX / b)
        return -ERANGE;
    *out = a * b;
    return 0;
}

/* value = (WHOLE.FRAC * 10^e) * m, exactly: *ip gets its integer part and
 * *frac whether anything is left below 1. Shifting the point by e takes
 * the first e fraction digits into the integer; the rest, multiplied by m
 * digit by digit from the right (long multiplication by a small number),
 * leaves a carry that is the integer it adds and a non-zero digit if the
 * product is not whole. m must be below LLONG_MAX / 10. */
static int scale_exact(const struct num *n, int e, long long m, long long *ip, int *frac)
{
    long long v = 0, carry = 0;
    int rc;

    for (size_t i = 0; i < n->nw; i++)
        if ((rc = push_digit(&v, n->w[i] - '0')) < 0)
            return rc;
    for (int i = 0; i < e; i++)
        if ((rc = push_digit(&v, (size_t)i < n->nf ? n->f[i] - '0' : 0)) < 0)
            return rc;
    *frac = 0;
    for (size_t i = n->nf; i > (size_t)e; i--) {
        long long t = (long long)(n->f[i - 1] - '0') * m + carry;
        *frac |= t % 10 != 0;
        carry = t / 10;
    }
    if ((rc = mul_range(v, m, &v)) < 0)
        return rc;
    if (v > LLONG_MAX - carry)
        return -ERANGE;
    *ip = v + carry;
    return 0;
}

int tpcm_parse_count(const char *s, long long *out)
{
    long long v = 0;
    const char *p = s;
    int rc;

    if (!is_digit(*p))
        return -EINVAL;
    for (; is_digit(*p); p++)
        if ((rc = push_digit(&v, *p - '0')) < 0)
            return rc;
    if (*p != '\0')
        return -EINVAL;
    *out = v;
    return 0;
}

int tpcm_parse_duration(const char *s, long long res_ns, long long *out)
{
    /* ns per unit as m * 10^e, so that the point shifts exactly. */
    static const struct {
        const char *name;
        int e;
        long long m;
    } units[] = {
        {"ns", 0, 1}, {"us", 3, 1}, {"ms", 6, 1}, {"s", 9, 1}, {"", 9, 1}, {"m", 10, 6}, {"h", 11, 36},
    };
    struct num n;
    long long ns;
    int frac, rc;

    if (res_ns <= 0 || (rc = split_num(s, &n)) < 0)
        return -EINVAL;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(n.unit, units[i].name) != 0)
            continue;
        if ((rc = scale_exact(&n, units[i].e, units[i].m, &ns, &frac)) < 0)
            return rc;
        *out = ns / res_ns + (ns % res_ns != 0 || frac); /* round up */
        return 0;
    }
    return -EINVAL;
}

int tpcm_parse_size(const char *s, long long *out)
{
    struct num n;
    long long m = 1, v;
    int frac, rc;

    if ((rc = split_num(s, &n)) < 0)
        return rc;
    switch (n.unit[0]) {
    case '\0':
        break;
    case 'k':
    case 'K':
        m = 1LL << 10;
        break;
    case 'm':
    case 'M':
        m = 1LL << 20;
        break;
    case 'g':
    case 'G':
        m = 1LL << 30;
        break;
    default:
        return -EINVAL;
    }
    if (n.unit[0] != '\0' && n.unit[1] != '\0')
        return -EINVAL;
    if ((rc = scale_exact(&n, 0, m, &v, &frac)) < 0)
        return rc;
    if (frac)
        return -EDOM;
    *out = v;
    return 0;
}

const char *tpcm_units_strerror(int rc)
{
    switch (rc) {
    case -ERANGE:
        return "too large";
    case -EDOM:
        return "not a whole number of bytes";
    default:
        return "invalid";
    }
}
