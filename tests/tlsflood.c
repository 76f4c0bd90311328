/* SPDX-License-Identifier: MIT */
/* tlsflood.c - a handshake flood that costs the server, not the machine.
 *
 *   tlsflood [-c CONNS] [-d SECONDS] HOST PORT
 *
 * A flood from the network costs a server the handshakes it answers; a
 * flood generator on the same 2-core machine would also cost the machine
 * its own half of every handshake (key share, verifying the signature and
 * the chain), and so would measure the machine, not the server. This one
 * makes one real ClientHello with OpenSSL (a fresh X25519 key share, the
 * server's first group) and replays it on CONNS connections at once: each
 * sends it, waits for the first byte of the server's answer (the server
 * has generated its key share, derived the secrets and signed by then),
 * resets the connection (SO_LINGER 0: no TIME_WAIT to run out of ports)
 * and starts again. Its own cost is connect, write, read and close.
 *
 * Prints "flights N" (answers received) at the end; exits 1 if the server
 * answered none, 2 on bad arguments. */
#include <errno.h>
#include <netdb.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 1024

static unsigned char hello[4096];
static size_t hello_len;

/* One ClientHello, as OpenSSL writes it, into hello[]. */
static int make_hello(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL *ssl = ctx ? SSL_new(ctx) : NULL;
    BIO *rb = BIO_new(BIO_s_mem()), *wb = BIO_new(BIO_s_mem());
    if (ssl == NULL || rb == NULL || wb == NULL)
        return -1;
    SSL_set_bio(ssl, rb, wb);
    SSL_set_tlsext_host_name(ssl, "localhost");
    SSL_set_connect_state(ssl);
    (void)SSL_do_handshake(ssl); /* wants to read: the hello is written */
    int n = BIO_read(wb, hello, sizeof(hello));
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    if (n <= 0)
        return -1;
    hello_len = (size_t)n;
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A new connection on slot i: connect (non-blocking) and register it;
 * the hello goes when it is writable. */
static int open_one(int ep, const struct addrinfo *ai, int i)
{
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN,
                             .data.u64 = (uint64_t)fd << 32 | (unsigned)i};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int main(int argc, char **argv)
{
    int conns = 64;
    double secs = 5;
    int opt;
    while ((opt = getopt(argc, argv, "c:d:")) != -1) {
        if (opt == 'c')
            conns = atoi(optarg);
        else if (opt == 'd')
            secs = atof(optarg);
        else
            goto usage;
    }
    if (argc - optind != 2 || conns < 1 || conns > MAX_CONNS || !(secs > 0)) {
    usage:
        fprintf(stderr, "usage: tlsflood [-c CONNS (1-%d)] [-d SECONDS] HOST PORT\n", MAX_CONNS);
        return 2;
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
    int err = getaddrinfo(argv[optind], argv[optind + 1], &hints, &ai);
    if (err != 0) {
        fprintf(stderr, "tlsflood: %s:%s: %s\n", argv[optind], argv[optind + 1], gai_strerror(err));
        return 2;
    }
    if (make_hello() < 0) {
        fprintf(stderr, "tlsflood: OpenSSL wrote no ClientHello\n");
        return 1;
    }
    int ep = epoll_create1(EPOLL_CLOEXEC);
    static char sent[MAX_CONNS];
    for (int i = 0; i < conns; i++)
        if (open_one(ep, ai, i) < 0) {
            perror("tlsflood: connect");
            return 1;
        }
    unsigned long flights = 0, failed = 0;
    double end = now_s() + secs;
    struct epoll_event evs[256];
    while (now_s() < end) {
        int n = epoll_wait(ep, evs, 256, 100);
        for (int k = 0; k < n; k++) {
            int fd = (int)(evs[k].data.u64 >> 32), i = (int)(evs[k].data.u64 & 0xffffffffu);
            char buf[4096];
            bool done = false;
            if (!sent[i] && (evs[k].events & EPOLLOUT)) {
                /* The hello fits any socket buffer: one write or failure. */
                struct epoll_event in = {.events = EPOLLIN, .data.u64 = evs[k].data.u64};
                if (write(fd, hello, hello_len) == (ssize_t)hello_len &&
                    epoll_ctl(ep, EPOLL_CTL_MOD, fd, &in) == 0)
                    sent[i] = 1;
                else
                    done = true, failed++;
            }
            if (!done && (evs[k].events & (EPOLLIN | EPOLLERR | EPOLLHUP))) {
                ssize_t r = read(fd, buf, sizeof(buf));
                if (r > 0)
                    flights++;
                else if (r < 0 && errno == EAGAIN)
                    continue;
                else
                    failed++;
                done = true;
            }
            if (done) {
                close(fd); /* a reset: SO_LINGER 0 */
                sent[i] = 0;
                if (open_one(ep, ai, i) < 0)
                    failed++;
            }
        }
    }
    printf("flights %lu failed %lu\n", flights, failed);
    freeaddrinfo(ai);
    return flights > 0 ? 0 : 1;
}
