/* SPDX-License-Identifier: MIT */
/* escape.c - C escapes (escape.h): the union of what tpclient and tpbench
 * decoded before they shared this file. */
#include "config.h"

#include "escape.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int simple_escape(char c)
{
    static const char from[] = "\\'\"?abefnrtv";
    static const char to[] = "\\'\"?\a\b\033\f\n\r\t\v";
    const char *hit = c ? strchr(from, c) : NULL;
    return hit ? (unsigned char)to[hit - from] : -1;
}

/* The escape after the backslash at *pp into *byte; advances *pp past it.
 * Returns 0 or -1 with a message in why. */
static int decode_one(const char **pp, unsigned char *byte, char *why, size_t whylen)
{
    const char *p = *pp;
    int v = simple_escape(*p);

    if (v >= 0) {
        *byte = (unsigned char)v;
        *pp = p + 1;
        return 0;
    }
    if (*p >= '0' && *p <= '7') {
        int n = 0, i;
        for (i = 0; i < 3 && p[i] >= '0' && p[i] <= '7'; i++)
            n = n * 8 + (p[i] - '0');
        if (n > 255) {
            snprintf(why, whylen, "octal escape '\\%.3s' is above \\377", p);
            return -1;
        }
        *byte = (unsigned char)n;
        *pp = p + i;
        return 0;
    }
    if (*p == 'x') {
        int hi = hexval(p[1]), lo;
        if (hi < 0) {
            snprintf(why, whylen, "'\\x' needs hex digits");
            return -1;
        }
        lo = hexval(p[2]);
        *byte = (unsigned char)(lo < 0 ? hi : hi * 16 + lo);
        *pp = p + (lo < 0 ? 2 : 3);
        return 0;
    }
    if (*p == '\0')
        snprintf(why, whylen, "trailing backslash");
    else if ((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f)
        snprintf(why, whylen, "unknown escape '\\%c'", *p);
    else
        snprintf(why, whylen, "unknown escape '\\' then byte 0x%02x", (unsigned char)*p);
    return -1;
}

int tpcm_unescape(const char *in, char **out, size_t *outlen, char *why, size_t whylen)
{
    char *buf = malloc(strlen(in) + 1); /* decoding never grows */
    size_t n = 0;

    if (buf == NULL) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    for (const char *p = in; *p != '\0';) {
        unsigned char b = (unsigned char)*p++;
        if (b == '\\' && decode_one(&p, &b, why, whylen) < 0) {
            free(buf);
            return -1;
        }
        buf[n++] = (char)b;
    }
    buf[n] = '\0';
    *out = buf;
    *outlen = n;
    return 0;
}
