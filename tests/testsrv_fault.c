/* SPDX-License-Identifier: MIT */
/* testsrv_fault: a deliberately misbehaving echo server for tpbench's
 * black-box tests. Single thread, poll(), loopback only. It listens on
 * 127.0.0.1 (port 0 = any; the port is printed as "PORT n" on stdout) and
 * echoes, except for the one fault chosen with --fault:
 *   none     plain echo
 *   flip     flip one byte in every --every N bytes echoed
 *   drop     drop one byte in every --every N bytes
 *   cross    send every --every N-th read chunk to another connection
 *   stall    freeze the whole server once for --stall-ms (default 500)
 *            when --stall-after ms have passed since the first byte
 *   close    close each connection after --every N bytes
 *   garbage  answer every read with "garbage\r\n"
 * It exits after --lifetime seconds (default 60) so a failed test never
 * leaves it behind. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAXC 1024

static struct pollfd pf[MAXC + 1];
static long long nbytes[MAXC + 1];
static int nfd = 1;
static const char *fault = "none";
static long every = 1000, stall_ms = 500, stall_after = 1000, lifetime = 60;
static long long total, chunks, first_ms = -1;
static int stalled;

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int listen_on(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    socklen_t al = sizeof a;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 512) < 0) {
        perror("testsrv_fault: bind/listen");
        exit(1);
    }
    getsockname(fd, (struct sockaddr *)&a, &al);
    printf("PORT %d\n", ntohs(a.sin_port));
    fflush(stdout);
    return fd;
}

static void send_all(int fd, const char *b, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, b, n, MSG_NOSIGNAL); /* blocking socket */
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return; /* peer gone: it is dropped on its next read */
        b += w, n -= (size_t)w;
    }
}

static void drop_conn(int i)
{
    close(pf[i].fd);
    pf[i] = pf[nfd - 1];
    pf[i].revents = 0; /* already served in this pass (we go downwards) */
    nbytes[i] = nbytes[nfd - 1];
    nfd--;
}

/* Apply the fault to one chunk; returns the fd to answer on, or -1. */
static int mangle(int i, char *b, ssize_t *n)
{
    long long before = total;
    total += *n;
    nbytes[i] += *n;
    chunks++;
    if (!strcmp(fault, "flip") && total / every != before / every)
        b[*n / 2] ^= 0x01;
    if (!strcmp(fault, "drop") && total / every != before / every && *n > 1) {
        memmove(b + *n / 2, b + *n / 2 + 1, (size_t)(*n - *n / 2 - 1));
        (*n)--;
    }
    if (!strcmp(fault, "garbage"))
        *n = (ssize_t)strlen(strcpy(b, "garbage\r\n"));
    if (!strcmp(fault, "close") && nbytes[i] >= every)
        return -1;
    if (!strcmp(fault, "cross") && chunks % every == 0 && nfd > 2)
        return pf[i == 1 ? 2 : 1].fd;
    return pf[i].fd;
}

static void maybe_stall(void)
{
    if (first_ms < 0)
        first_ms = now_ms();
    if (!strcmp(fault, "stall") && !stalled && now_ms() - first_ms >= stall_after) {
        stalled = 1;
        usleep((useconds_t)stall_ms * 1000);
    }
}

static void serve(int i)
{
    static char b[65536];
    ssize_t n = read(pf[i].fd, b, sizeof b - 16);
    if (n <= 0) {
        drop_conn(i);
        return;
    }
    maybe_stall();
    int to = mangle(i, b, &n);
    if (to < 0) {
        drop_conn(i);
        return;
    }
    send_all(to, b, (size_t)n);
}

int main(int argc, char **argv)
{
    int port = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--fault"))
            fault = argv[i + 1];
        else if (!strcmp(argv[i], "--every"))
            every = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--port"))
            port = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--stall-ms"))
            stall_ms = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--stall-after"))
            stall_after = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--lifetime"))
            lifetime = atol(argv[i + 1]);
        else {
            fprintf(stderr, "testsrv_fault: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (every < 1)
        every = 1;
    pf[0].fd = listen_on(port);
    pf[0].events = POLLIN;
    long long end = now_ms() + lifetime * 1000;
    while (now_ms() < end) {
        if (poll(pf, (nfds_t)nfd, 200) <= 0)
            continue;
        if ((pf[0].revents & POLLIN) && nfd <= MAXC) {
            int c = accept(pf[0].fd, NULL, NULL);
            if (c >= 0)
                pf[nfd].fd = c, pf[nfd].events = POLLIN, pf[nfd].revents = 0, nbytes[nfd++] = 0;
        }
        for (int i = nfd - 1; i >= 1; i--)
            if (pf[i].revents & (POLLIN | POLLHUP | POLLERR))
                serve(i);
    }
    return 0;
}
