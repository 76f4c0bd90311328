/* SPDX-License-Identifier: MIT */
/* flags.c - the flag-table driver (flags.h). */
#include "config.h"

#include "flags.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "units.h"

/* One parse: the table, the struct it fills and where errors go. */
struct parse {
    const struct tpcm_flags *t;
    void *base;
    char *err;
    size_t errlen;
    char flag[64]; /* the flag as spelled: "--workers" or "-w" */
};

static int fail(struct parse *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "FLAG: message". */
static int fail(struct parse *p, const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(p->err, p->errlen, "%s: ", p->flag);

    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < p->errlen)
        vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

void tpcm_flag_spelling(const struct tpcm_flag *f, char *buf, size_t len)
{
    if (f->name != NULL)
        snprintf(buf, len, "--%s", f->name);
    else
        snprintf(buf, len, "-%c", f->letter);
}

static void store(void *base, const struct tpcm_flag *f, long long v)
{
    char *at = (char *)base + f->off;

    if (f->size == sizeof(int)) {
        int i = (int)v;
        memcpy(at, &i, sizeof i);
    } else {
        memcpy(at, &v, sizeof v);
    }
}

static const char *unit_name(long long res_ns)
{
    return res_ns == TPCM_MS ? "ms" : res_ns == TPCM_US ? "us" : res_ns == TPCM_NS ? "ns" : "";
}

/* A count, duration or size: the grammar, then the flag's range. */
static int set_number(struct parse *p, const struct tpcm_flag *f, const char *val)
{
    static const char *const what[] = {
        [TPCM_COUNT] = "number",
        [TPCM_DURATION] = "duration",
        [TPCM_SIZE] = "size",
    };
    static const char *const hint[] = {
        [TPCM_COUNT] = "",
        [TPCM_DURATION] = " (e.g. 500ms, 1.5s, 2m)",
        [TPCM_SIZE] = " (e.g. 4096, 64k, 1.5M)",
    };
    long long v = 0;
    int rc;

    if (f->type == TPCM_COUNT)
        rc = tpcm_parse_count(val, &v);
    else if (f->type == TPCM_DURATION)
        rc = tpcm_parse_duration(val, f->res_ns, &v);
    else
        rc = tpcm_parse_size(val, &v);
    if (rc == -EINVAL)
        return fail(p, "invalid %s '%s'%s", what[f->type], val, hint[f->type]);
    if (rc == -EDOM)
        return fail(p, "size '%s' is not a whole number of bytes", val);
    if (rc < 0 || v < f->min || v > f->max)
        return fail(p, "value '%s' out of range (%lld..%lld%s%s)", val, f->min, f->max,
                    f->type == TPCM_SIZE ? " bytes" : "",
                    f->type == TPCM_DURATION ? unit_name(f->res_ns) : "");
    store(p->base, f, v);
    return 0;
}

static int set_choice(struct parse *p, const struct tpcm_flag *f, const char *val)
{
    char list[160] = "";

    for (int i = 0; f->choices[i] != NULL; i++)
        if (strcmp(f->choices[i], val) == 0) {
            store(p->base, f, i);
            return 0;
        }
    for (int i = 0; f->choices[i] != NULL; i++) {
        strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
        strncat(list, f->choices[i], sizeof list - strlen(list) - 1);
    }
    return fail(p, "unknown value '%s' (one of: %s)", val, list);
}

static int apply(struct parse *p, const struct tpcm_flag *f, const char *val)
{
    char why[256] = "";

    switch (f->type) {
    case TPCM_BOOL:
        store(p->base, f, 1);
        return 0;
    case TPCM_COUNT:
    case TPCM_DURATION:
    case TPCM_SIZE:
        return set_number(p, f, val);
    case TPCM_ONOFF:
        if (strcmp(val, "on") == 0 || strcmp(val, "off") == 0) {
            store(p->base, f, val[1] == 'n');
            return 0;
        }
        return fail(p, "invalid value '%s' (on or off)", val);
    case TPCM_CHOICE:
        return set_choice(p, f, val);
    case TPCM_STRING:
        memcpy((char *)p->base + f->off, &val, sizeof val);
        return 0;
    case TPCM_CALL:
        if (f->call(p->base, f, val, why, sizeof why) < 0)
            return fail(p, "%s", why);
        return 0;
    }
    return fail(p, "unknown flag type");
}

static const struct tpcm_flag *find_long(const struct tpcm_flags *t, const char *name, size_t len)
{
    for (size_t i = 0; i < t->n; i++) {
        const char *l = t->flag[i].name;
        if (l != NULL && strlen(l) == len && strncmp(l, name, len) == 0)
            return &t->flag[i];
    }
    return NULL;
}

static const struct tpcm_flag *find_short(const struct tpcm_flags *t, char c)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->flag[i].letter == c)
            return &t->flag[i];
    return NULL;
}

/* Can next be the separate value of f? */
static int value_ok(const struct tpcm_flag *f, const char *next)
{
    return next != NULL && (next[0] != '-' || next[1] == '\0' || (f->bits & TPCM_DASH_OK));
}

/* One flag found: count it, get its value, apply it. *used is set to 1
 * when the value was the next argument. Returns 0, 1 (stop) or -1. */
static int take(struct parse *p, const struct tpcm_flag *f, const char *attached, const char *next,
                unsigned char *seen, int *used)
{
    size_t i = (size_t)(f - p->t->flag);
    const char *val = attached;

    if (f->value_name == NULL && attached != NULL)
        return fail(p, "takes no value (got '%s')", attached);
    if (f->value_name != NULL && attached == NULL) {
        if (!value_ok(f, next))
            return fail(p, "missing value");
        val = next;
        *used = 1;
    }
    if (seen != NULL) {
        if (p->t->once && seen[i] && !(f->bits & TPCM_REPEAT))
            return fail(p, "given more than once");
        if (seen[i] < 255)
            seen[i]++;
    }
    if (apply(p, f, val) < 0)
        return -1;
    return (f->bits & TPCM_STOP) ? 1 : 0;
}

/* "--name", "--name=value", "--name value". */
static int parse_long(struct parse *p, const char *arg, const char *next, unsigned char *seen,
                      int *used)
{
    const char *name = arg + 2, *eq = strchr(name, '=');
    size_t len = eq ? (size_t)(eq - name) : strlen(name);
    const struct tpcm_flag *f = find_long(p->t, name, len);

    snprintf(p->flag, sizeof p->flag, "--%.*s", (int)len, name);
    if (f == NULL) {
        snprintf(p->err, p->errlen, "unknown option '%s'", p->flag);
        return -1;
    }
    return take(p, f, eq ? eq + 1 : NULL, next, seen, used);
}

/* "-x", "-xvalue", "-x value", "-abc" (booleans bundled, the last may take
 * a value). */
static int parse_short(struct parse *p, const char *arg, const char *next, unsigned char *seen,
                       int *used)
{
    for (const char *c = arg + 1; *c != '\0'; c++) {
        const struct tpcm_flag *f = find_short(p->t, *c);
        int rc;

        snprintf(p->flag, sizeof p->flag, "-%c", *c);
        if (f == NULL) {
            snprintf(p->err, p->errlen, "unknown option '%s'", p->flag);
            return -1;
        }
        if (f->value_name != NULL)
            return take(p, f, c[1] != '\0' ? c + 1 : NULL, next, seen, used);
        if ((rc = take(p, f, NULL, NULL, seen, used)) != 0)
            return rc;
    }
    return 0;
}

int tpcm_flags_parse(const struct tpcm_flags *t, void *base, int argc, char *const *argv,
                     unsigned char *seen, char *err, size_t errlen)
{
    struct parse p = {.t = t, .base = base, .err = err, .errlen = errlen};
    int only_positional = 0;

    if (seen != NULL)
        memset(seen, 0, t->n);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;
        int used = 0, rc;

        if (!only_positional && strcmp(a, "--") == 0) {
            only_positional = 1;
            continue;
        }
        if (!only_positional && a[0] == '-' && a[1] == '-')
            rc = parse_long(&p, a, next, seen, &used);
        else if (!only_positional && a[0] == '-' && a[1] != '\0')
            rc = parse_short(&p, a, next, seen, &used);
        else if (t->positional == NULL) {
            snprintf(err, errlen, "unexpected argument '%s'", a);
            return -1;
        } else {
            rc = t->positional(base, a, err, errlen);
        }
        if (rc != 0)
            return rc;
        i += used;
    }
    return 0;
}

/* Writes text wrapped to fit columns [col, 79), the first line continuing
 * at column *at. */
static void wrap(FILE *f, const char *text, int col, int at)
{
    const char *w = text;

    while (*w != '\0') {
        size_t len = strcspn(w, " ");
        if (at > col && at + 1 + (int)len > 79) {
            fprintf(f, "\n%*s", col, "");
            at = col;
        } else if (at > col) {
            fputc(' ', f);
            at++;
        }
        fprintf(f, "%.*s", (int)len, w);
        at += (int)len;
        w += len;
        while (*w == ' ')
            w++;
    }
    fputc('\n', f);
}

void tpcm_flags_help(const struct tpcm_flag *flag, size_t n, FILE *f)
{
    enum { COL = 30 };

    for (size_t i = 0; i < n; i++) {
        const struct tpcm_flag *d = &flag[i];
        char left[96];
        int len;

        if (d->help == NULL) /* an alias documented with another flag */
            continue;
        len = snprintf(left, sizeof left, "  %c%c%s%s%s%s%s", d->letter ? '-' : ' ',
                       d->letter ? d->letter : ' ', d->letter && d->name ? ", " : "  ",
                       d->name ? "--" : "", d->name ? d->name : "", d->value_name ? " " : "",
                       d->value_name ? d->value_name : "");
        if (len < 0)
            continue;
        fputs(left, f);
        if (len + 2 > COL) {
            fprintf(f, "\n%*s", COL, "");
            len = COL;
        } else {
            fprintf(f, "%*s", COL - len, "");
            len = COL;
        }
        wrap(f, d->help, COL, len);
    }
}
