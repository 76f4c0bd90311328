/* SPDX-License-Identifier: MIT */
/* addr.c - HOST:PORT, [V6]:PORT, :PORT and unix:PATH (addr.h). */
#include "config.h"

#include "addr.h"

#include <errno.h>
#include <string.h>
#include <sys/un.h>

int tpcm_port_parse(const char *s)
{
    long v = 0;
    size_t n = strlen(s);

    if (n == 0 || n > 5)
        return -1;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        v = v * 10 + (*s - '0');
    }
    return v <= 65535 ? (int)v : -1;
}

static int bad(const char **why, const char *text, int rc)
{
    *why = text;
    return rc;
}

int tpcm_addr_parse(const char *spec, unsigned flags, struct tpcm_addr *a, const char **why)
{
    const char *h = spec, *colon;
    size_t n;

    memset(a, 0, sizeof *a);
    *why = "";
    if (spec == NULL)
        return bad(why, "no address", -EINVAL);
    if (strncmp(spec, "unix:", 5) == 0) {
        a->kind = TPCM_ADDR_UNIX;
        a->path = spec + 5;
        if (*a->path == '\0')
            return bad(why, "empty unix socket path", -EINVAL);
        if (strlen(a->path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
            return bad(why, "unix socket path too long", -ENAMETOOLONG);
        return 0;
    }
    a->kind = TPCM_ADDR_INET;
    if (*spec == '[') {
        const char *end = strchr(spec, ']');
        if (end == NULL || end == spec + 1 || end[1] != ':') /* "[]:80" is a typo */
            return bad(why, "expected [IPV6]:PORT", -EINVAL);
        h = spec + 1;
        n = (size_t)(end - h);
        colon = end + 1;
        a->bracketed = 1;
    } else {
        colon = strrchr(spec, ':');
        if (colon == NULL)
            return bad(why, "expected HOST:PORT, [IPV6]:PORT or unix:PATH", -EINVAL);
        n = (size_t)(colon - spec);
    }
    if (n >= sizeof a->host)
        return bad(why, "host name too long", -ENAMETOOLONG);
    memcpy(a->host, h, n);
    a->host[n] = '\0';
    if (strcmp(a->host, "*") == 0)
        a->host[0] = '\0';
    if (a->host[0] == '\0' && !(flags & TPCM_ADDR_ANY))
        return bad(why, "missing host before the port", -EINVAL);
    a->port_text = colon + 1;
    a->port = tpcm_port_parse(colon + 1);
    if (a->port < 0)
        return bad(why, "port must be a number from 0 to 65535", -EINVAL);
    return 0;
}
