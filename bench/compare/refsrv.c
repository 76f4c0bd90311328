/* SPDX-License-Identifier: MIT */
/* Command line, listening sockets and process setup for the reference echo
 * servers (see refsrv.h). Kept out of the servers so that each of them is
 * only its event loop. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* accept4, SO_REUSEPORT */
#endif
#include "refsrv.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>

static const char *prog = "echo";
static const char *mode_help; /* -m help text of this server, for usage() */
static int tls_opts;          /* -c CERT -k KEY accepted (a TLS server) */

void refsrv_die(const char *what, int err)
{
    fprintf(stderr, "%s: %s: %s\n", prog, what, strerror(err));
    exit(1);
}

static void usage(const char *modes)
{
    fprintf(stderr, "usage: %s -p PORT [-t THREADS]%s%s\n", prog, modes ? " [-m MODE]" : "",
            tls_opts ? " -c CERT [-k KEY]" : "");
    fprintf(stderr, "  -p PORT     listen on 127.0.0.1:PORT (0 = any free port)\n"
                    "  -t THREADS  event loops, one per thread (default 1)\n");
    if (tls_opts)
        fprintf(stderr, "  -c CERT     PEM certificate, then its chain\n"
                        "  -k KEY      PEM private key (default: in CERT)\n");
    if (modes)
        fprintf(stderr, "  -m MODE     %s\n", modes);
    exit(2);
}

static long parse_num(const char *s, long lo, long hi, const char *what, const char *modes)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        fprintf(stderr, "%s: bad %s '%s' (want %ld..%ld)\n", prog, what, s, lo, hi);
        usage(modes);
    }
    return v;
}

static void parse(int argc, char **argv, struct refsrv_opts *o, const char *modes)
{
    const char *slash = strrchr(argv[0], '/');
    prog = slash ? slash + 1 : argv[0];
    mode_help = modes;
    o->port = -1;
    o->threads = 1;
    o->mode = NULL;
    o->cert = o->key = NULL;
    char optstr[16] = "p:t:h";
    if (modes)
        strcat(optstr, "m:");
    if (tls_opts)
        strcat(optstr, "c:k:");
    int ch;
    while ((ch = getopt(argc, argv, optstr)) != -1) {
        switch (ch) {
        case 'p':
            o->port = (int)parse_num(optarg, 0, 65535, "port", modes);
            break;
        case 't':
            o->threads = (int)parse_num(optarg, 1, REFSRV_MAX_THREADS, "thread count", modes);
            break;
        case 'm':
            o->mode = optarg;
            break;
        case 'c':
            o->cert = optarg;
            break;
        case 'k':
            o->key = optarg;
            break;
        default:
            usage(modes);
        }
    }
    if (optind != argc || o->port < 0 || (tls_opts && !o->cert)) {
        fprintf(stderr, "%s: %s\n", prog,
                optind != argc ? "unexpected argument"
                : o->port < 0  ? "-p PORT is required"
                               : "-c CERT is required");
        usage(modes);
    }
}

void refsrv_parse(int argc, char **argv, struct refsrv_opts *o, const char *modes)
{
    tls_opts = 0;
    parse(argc, argv, o, modes);
}

void refsrv_parse_tls(int argc, char **argv, struct refsrv_opts *o, const char *modes)
{
    tls_opts = 1;
    parse(argc, argv, o, modes);
}

void refsrv_bad_mode(const char *mode)
{
    fprintf(stderr, "%s: unknown mode '%s'\n", prog, mode);
    usage(mode_help);
}

static int listen_one(int port, int reuseport)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        refsrv_die("socket", errno);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0)
        refsrv_die("setsockopt(SO_REUSEPORT)", errno);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
        refsrv_die("bind 127.0.0.1", errno);
    if (listen(fd, 4096) < 0)
        refsrv_die("listen", errno);
    return fd;
}

int refsrv_listen(int port, int n, int *fds)
{
    for (int i = 0; i < n; i++) {
        fds[i] = listen_one(port, n > 1);
        if (i == 0) {
            struct sockaddr_in sa;
            socklen_t len = sizeof sa;
            if (getsockname(fds[0], (struct sockaddr *)&sa, &len) < 0)
                refsrv_die("getsockname", errno);
            port = ntohs(sa.sin_port);
        }
    }
    return port;
}

/* A benchmark reference needs no graceful drain: the driver stops it
 * between runs, so SIGTERM simply ends the process with status 0. */
static void on_term(int sig)
{
    (void)sig;
    _exit(0);
}

void refsrv_ready(int port)
{
    struct sigaction sa = {.sa_handler = on_term};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    printf("listening on 127.0.0.1:%d\n", port);
    fflush(stdout);
}

void refsrv_nodelay(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

int refsrv_out_keep(struct refsrv_out *o, const char *data, ssize_t n, ssize_t w)
{
    if (w < 0) {
        if (errno != EAGAIN && errno != EINTR)
            return -1;
        w = 0;
    }
    o->len = (size_t)(n - w);
    o->off = 0;
    o->buf = malloc(o->len);
    if (!o->buf)
        return -1;
    memcpy(o->buf, data + w, o->len);
    return 0;
}

int refsrv_out_flush(struct refsrv_out *o, int fd)
{
    while (o->off < o->len) {
        ssize_t n = write(fd, o->buf + o->off, o->len - o->off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno == EAGAIN ? 0 : -1;
        o->off += (size_t)n;
    }
    free(o->buf);
    o->buf = NULL;
    o->off = o->len = 0;
    return 1;
}
