/* SPDX-License-Identifier: MIT */
/* net.c - tpclient's connection phase: resolve HOST PORT with getaddrinfo
 * and try each address with a bounded non-blocking connect, or connect to a
 * unix socket. Decides which exit code a failure deserves (refused and
 * not-found are 3, a timeout is 4) so that scripts can tell them apart. */
#include "client.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

long long tpc_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "1.2.3.4:5" or "[::1]:5" for messages. */
static void format_addr(const struct sockaddr *sa, socklen_t len, char *buf, size_t buflen)
{
    char host[NI_MAXHOST], serv[NI_MAXSERV];
    if (getnameinfo(sa, len, host, sizeof host, serv, sizeof serv,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
        snprintf(buf, buflen, "?");
        return;
    }
    snprintf(buf, buflen, sa->sa_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, serv);
}

/* Waits for a non-blocking connect. Returns 0, an errno value, or
 * ETIMEDOUT. timeout_ms 0 = no limit. */
static int wait_connected(int fd, long timeout_ms)
{
    long long deadline = tpc_now_ms() + timeout_ms;
    for (;;) {
        long long left = deadline - tpc_now_ms();
        if (timeout_ms > 0 && left <= 0)
            return ETIMEDOUT;
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        int n = poll(&p, 1, timeout_ms > 0 ? (int)left : -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno;
        if (n == 0)
            continue; /* re-check the deadline */
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
            return errno;
        return soerr;
    }
}

/* One attempt. Returns the socket, or -1 with *error set. */
static int try_addr(const struct addrinfo *ai, long timeout_ms, int *error)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
        *error = errno;
        return -1;
    }
    int rc;
    do
        rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
    while (rc < 0 && errno == EINTR);
    *error = rc == 0 ? 0 : errno == EINPROGRESS ? wait_connected(fd, timeout_ms) : errno;
    if (*error == 0)
        return fd;
    close(fd);
    return -1;
}

/* Which exit code a connect errno deserves. */
static int connect_exit(int error)
{
    switch (error) {
    case ETIMEDOUT:
        return TPC_EXIT_TIMEOUT;
    case EMFILE:
    case ENFILE:
    case ENOMEM:
    case ENOBUFS:
        return TPC_EXIT_ERROR;
    default: /* refused, unreachable, no such socket, permission... */
        return TPC_EXIT_CONNECT;
    }
}

static void report_peer(const struct tpc_opts *o, int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    char addr[NI_MAXHOST + NI_MAXSERV + 4];
    if (!o->verbose)
        return;
    if (o->unix_path)
        snprintf(addr, sizeof addr, "unix:%s", o->unix_path);
    else if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0)
        format_addr((struct sockaddr *)&ss, len, addr, sizeof addr);
    else
        snprintf(addr, sizeof addr, "%s port %s", o->host, o->port);
    fprintf(stderr, "tpclient: connected to %s\n", addr);
}

static int connect_tcp(const struct tpc_opts *o, int *fd, char *err, size_t errlen)
{
    struct addrinfo hints = {.ai_family = o->family,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICSERV | (o->numeric ? AI_NUMERICHOST : 0)};
    struct addrinfo *res, *ai;
    int rc = getaddrinfo(o->host, o->port, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "cannot resolve host '%s'%s: %s", o->host,
                 o->family == AF_INET    ? " (IPv4)"
                 : o->family == AF_INET6 ? " (IPv6)"
                                         : "",
                 rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
        return rc == EAI_MEMORY || rc == EAI_SYSTEM ? TPC_EXIT_ERROR : TPC_EXIT_CONNECT;
    }
    int failure = 0; /* the first error that is not a timeout wins */
    for (ai = res; ai; ai = ai->ai_next) {
        int error;
        char addr[NI_MAXHOST + NI_MAXSERV + 4];
        *fd = try_addr(ai, o->timeout_ms, &error);
        if (*fd >= 0)
            break;
        format_addr(ai->ai_addr, ai->ai_addrlen, addr, sizeof addr);
        if (o->verbose)
            fprintf(stderr, "tpclient: connect to %s failed: %s\n", addr, strerror(error));
        if (failure == 0 || failure == ETIMEDOUT)
            failure = error;
    }
    freeaddrinfo(res);
    if (ai)
        return TPC_EXIT_OK;
    snprintf(err, errlen, "cannot connect to %s port %s: %s", o->host, o->port,
             failure == ETIMEDOUT ? "connect timed out" : strerror(failure));
    return connect_exit(failure);
}

/* A unix connect completes or fails at once, except when the listener's
 * backlog is full: then a blocking connect waits, bounded by SO_SNDTIMEO
 * (which unix connect honours), so the socket goes non-blocking after. */
static int connect_unix(const struct tpc_opts *o, int *fd, char *err, size_t errlen)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    strncpy(sun.sun_path, o->unix_path, sizeof sun.sun_path - 1);
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), rc, error = 0;
    if (s < 0) {
        snprintf(err, errlen, "socket(AF_UNIX) failed: %s", strerror(errno));
        return TPC_EXIT_ERROR;
    }
    struct timeval tv = {.tv_sec = o->timeout_ms / 1000, .tv_usec = (o->timeout_ms % 1000) * 1000};
    setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    do
        rc = connect(s, (struct sockaddr *)&sun, sizeof sun);
    while (rc < 0 && errno == EINTR);
    if (rc < 0)
        error = errno == EAGAIN || errno == EINPROGRESS ? ETIMEDOUT : errno;
    if (error == 0 && fcntl(s, F_SETFL, fcntl(s, F_GETFL) | O_NONBLOCK) < 0)
        error = errno;
    if (error != 0) {
        close(s);
        snprintf(err, errlen, "cannot connect to unix:%s: %s", o->unix_path,
                 error == ETIMEDOUT ? "connect timed out" : strerror(error));
        return connect_exit(error);
    }
    *fd = s;
    return TPC_EXIT_OK;
}

int tpc_connect(const struct tpc_opts *o, int *fd, char *err, size_t errlen)
{
    int rc = o->unix_path ? connect_unix(o, fd, err, errlen) : connect_tcp(o, fd, err, errlen);
    if (rc == TPC_EXIT_OK)
        report_peer(o, *fd);
    return rc;
}
