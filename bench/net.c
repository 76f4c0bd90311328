/* SPDX-License-Identifier: MIT */
/* net: target resolution, the early probe connect, non-blocking connect
 * with a rotating source address in 127.0.0.0/8 (so one process can open
 * more loopback connections than one address has ephemeral ports), and
 * the descriptor limit. */
#include "engine.h"
#include "net.h"
#include "tls.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

uint64_t tpb_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

long tpb_raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return -1;
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    getrlimit(RLIMIT_NOFILE, &rl);
    return (long)rl.rlim_cur;
}

static int resolve_unix(tpb_run *run, const char *path, char *err, size_t n)
{
    struct sockaddr_un *su = (struct sockaddr_un *)&run->addr;
    if (strlen(path) == 0 || strlen(path) >= sizeof su->sun_path) {
        snprintf(err, n, "bad unix socket path '%s'", path);
        return -1;
    }
    su->sun_family = AF_UNIX;
    strcpy(su->sun_path, path);
    run->addrlen = sizeof *su;
    return 0;
}

int tpb_resolve(tpb_run *run, char *err, size_t n)
{
    const char *t = run->o->target;
    char host[256];
    memset(&run->addr, 0, sizeof run->addr);
    if (strncmp(t, "unix:", 5) == 0)
        return resolve_unix(run, t + 5, err, n);
    const char *colon = strrchr(t, ':');
    size_t hl = colon ? (size_t)(colon - t) : 0;
    if (!colon || !colon[1] || hl == 0 || hl >= sizeof host) {
        snprintf(err, n, "bad target '%s': expected HOST:PORT, [V6]:PORT or unix:/path", t);
        return -1;
    }
    memcpy(host, t, hl);
    host[hl] = '\0';
    if (host[0] == '[' && host[hl - 1] == ']')
        memmove(host, host + 1, hl - 2), host[hl - 2] = '\0';
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
    int rc = getaddrinfo(host, colon + 1, &hints, &res);
    if (rc != 0) {
        snprintf(err, n, "cannot resolve '%s': %s", t, gai_strerror(rc));
        return -1;
    }
    memcpy(&run->addr, res->ai_addr, res->ai_addrlen);
    run->addrlen = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

static int is_loopback4(const tpb_run *run)
{
    const struct sockaddr_in *s = (const struct sockaddr_in *)&run->addr;
    return s->sin_family == AF_INET && (ntohl(s->sin_addr.s_addr) >> 24) == 127;
}

/* Start a non-blocking connect. src > 0 binds 127.0.0.(1+src) first.
 * Returns the fd (connect may be in progress) or -errno. */
int tpb_net_connect(const tpb_run *run, int src)
{
    int fam = run->addr.ss_family;
    int fd = socket(fam, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int one = 1;
    if (fam != AF_UNIX)
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (src > 0 && is_loopback4(run)) {
        struct sockaddr_in b = {.sin_family = AF_INET};
        b.sin_addr.s_addr = htonl(0x7f000001u + (uint32_t)src);
#ifdef IP_BIND_ADDRESS_NO_PORT
        setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
#endif
        if (bind(fd, (struct sockaddr *)&b, sizeof b) < 0) {
            int e = errno;
            close(fd);
            return -e;
        }
    }
    if (connect(fd, (const struct sockaddr *)&run->addr, run->addrlen) < 0 &&
        errno != EINPROGRESS) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

int tpb_net_can_rotate(const tpb_run *run)
{
    return is_loopback4(run);
}

int tpb_probe(const tpb_run *run, char *err, size_t n)
{
    int fd = tpb_net_connect(run, 0);
    if (fd < 0) {
        snprintf(err, n, "cannot connect to %s: %s", run->o->target, strerror(-fd));
        return -1;
    }
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    int e = 0;
    socklen_t el = sizeof e;
    int r = poll(&p, 1, 3000);
    if (r == 0)
        e = ETIMEDOUT;
    else if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) < 0)
        e = errno;
    if (e) {
        close(fd);
        snprintf(err, n, "cannot connect to %s: %s", run->o->target, strerror(e));
        return -1;
    }
    /* --tls: a handshake too, so that a certificate that does not verify
     * stops the run at once with its reason. */
    r = run->tls_ctx ? tpb_tls_probe(run, fd, 3000, err, n) : 0;
    close(fd);
    return r;
}
