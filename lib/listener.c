/* SPDX-License-Identifier: MIT */
/* listener.c - opening, adopting and closing the server's listening
 * sockets. Binding happens in tps_server_listen() so that a wrong address
 * is reported before any thread starts. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "internal.h"

static int set_flags(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -errno;
    fl = fcntl(fd, F_GETFD);
    if (fl < 0 || fcntl(fd, F_SETFD, fl | FD_CLOEXEC) < 0)
        return -errno;
    return 0;
}

/* A stale socket file (nobody listening) is replaced; anything else that
 * exists at the path is left alone and bind reports EADDRINUSE. */
static void unlink_stale_unix(const struct sockaddr_un *sun)
{
    struct stat st;
    if (lstat(sun->sun_path, &st) != 0 || !S_ISSOCK(st.st_mode))
        return;
    int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (probe < 0)
        return;
    if (connect(probe, (const struct sockaddr *)sun, sizeof(*sun)) < 0 && errno == ECONNREFUSED)
        unlink(sun->sun_path);
    close(probe);
}

static int bind_listen(tps_server *srv, const tps__endpoint *ep, int *out)
{
    int fam = ep->ss.ss_family, one = 1, zero = 0;
    int fd = socket(fam, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (fam != AF_UNIX) {
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (srv->opt[TPS_OPT_REUSEPORT] &&
            setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)
            goto fail;
        if (fam == AF_INET6 && ep->any)
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
    } else {
        unlink_stale_unix((const struct sockaddr_un *)&ep->ss);
    }
    if (bind(fd, (const struct sockaddr *)&ep->ss, ep->len) < 0 ||
        listen(fd, (int)srv->opt[TPS_OPT_BACKLOG]) < 0)
        goto fail;
    *out = fd;
    return 0;
fail:;
    int err = -errno;
    close(fd);
    return err;
}

static int add_listener(tps_server *srv, int fd, const char *unix_path, bool proxy, bool tls)
{
    tps__listener *l = &srv->listeners[srv->nlisteners];
    l->fd = fd;
    l->proxy = proxy;
    l->unix_path = unix_path ? strdup(unix_path) : NULL;
    if (tps__sockname_format(fd, l->addr, sizeof(l->addr)) < 0)
        strcpy(l->addr, "?");
    srv->nlisteners++;
    l->tls = tls;
    tps__log(srv, TPS_LOG_INFO, "listening on %s%s%s", l->addr, proxy ? " (PROXY protocol)" : "",
             tls ? " (TLS)" : "");
    return 0;
}

int tps__listener_open(tps_server *srv, const char *spec)
{
    tps__endpoint ep;
    const char *why;
    int fd = -1;
    const char *addr = spec;
    bool proxy = addr != NULL && strncmp(addr, "proxy:", 6) == 0;
    addr += proxy ? 6 : 0;
    bool tls = addr != NULL && strncmp(addr, "tls:", 4) == 0;
    addr += tls ? 4 : 0;
    if (srv->nlisteners == TPS__MAX_LISTENERS)
        return TPS_ENOBUFS;
    if (tls && tps__tls_ready(srv) < 0) {
        int err = tps__tls_ready(srv);
        tps__log(srv, TPS_LOG_ERROR, "listen '%s': %s", spec,
                 err == TPS_ENOTSUP ? "TLS: this libtpserv was built without OpenSSL"
                                    : "TLS: no certificate yet (tps_server_tls() first)");
        return err;
    }
    int rc = tps__endpoint_parse(addr, &ep, &why);
    if (rc < 0) {
        tps__log(srv, TPS_LOG_ERROR, "listen '%s': %s", spec ? spec : "(null)", why);
        return rc;
    }
    rc = bind_listen(srv, &ep, &fd);
    if (rc == -EAFNOSUPPORT && ep.any) { /* no IPv6: all IPv4 addresses */
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ep.ss;
        in_port_t port = ((struct sockaddr_in6 *)&ep.ss)->sin6_port;
        memset(&ep.ss, 0, sizeof(ep.ss));
        s4->sin_family = AF_INET;
        s4->sin_port = port;
        s4->sin_addr.s_addr = htonl(INADDR_ANY);
        ep.len = sizeof(*s4);
        rc = bind_listen(srv, &ep, &fd);
    }
    if (rc < 0) {
        tps__log_errno(srv, TPS_LOG_ERROR, -rc, "listen '%s': bind() failed", spec);
        return rc;
    }
    const char *path = ep.ss.ss_family == AF_UNIX ? ((struct sockaddr_un *)&ep.ss)->sun_path : NULL;
    return add_listener(srv, fd, path, proxy, tls);
}

int tps__listener_adopt(tps_server *srv, int fd)
{
    int type = 0, acc = 0;
    socklen_t sl = sizeof(type);
    if (srv->nlisteners == TPS__MAX_LISTENERS)
        return TPS_ENOBUFS;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &sl) < 0)
        return errno == ENOTSOCK ? TPS_ENOTSOCK : -errno;
    sl = sizeof(acc);
    if (type != SOCK_STREAM || getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &sl) < 0 || !acc)
        return TPS_ENOTSOCK;
    int rc = set_flags(fd);
    if (rc < 0)
        return rc;
    return add_listener(srv, fd, NULL, false, false);
}

/* The kernel takes TCP_DEFER_ACCEPT in seconds; a failure only costs the
 * wakeup it would have spared, so it is logged, not fatal. */
static void set_defer_accept(tps_server *srv, const tps__listener *l)
{
    long long ms = srv->opt[TPS_OPT_DEFER_ACCEPT_MS];
    int secs = (int)((ms + 999) / 1000);
    if (ms > 0 && setsockopt(l->fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &secs, sizeof(secs)) < 0)
        tps__log_errno(srv, TPS_LOG_WARN, errno, "%s: TCP_DEFER_ACCEPT", l->addr);
}

/* Accepted sockets inherit TCP_NODELAY from their listener on Linux, so it
 * is set once here rather than by a setsockopt per connection. */
void tps__listeners_prepare(tps_server *srv)
{
    int on = srv->opt[TPS_OPT_NODELAY] ? 1 : 0;
    for (unsigned i = 0; i < srv->nlisteners; i++) {
        const tps__listener *l = &srv->listeners[i];
        if (strncmp(l->addr, "unix:", 5) == 0)
            continue;
        setsockopt(l->fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
        set_defer_accept(srv, l);
    }
}

void tps__listeners_close(tps_server *srv)
{
    for (unsigned i = 0; i < srv->nlisteners; i++) {
        tps__listener *l = &srv->listeners[i];
        if (l->fd >= 0)
            close(l->fd);
        l->fd = -1;
        if (l->unix_path) {
            unlink(l->unix_path);
            free(l->unix_path);
            l->unix_path = NULL;
        }
    }
}
