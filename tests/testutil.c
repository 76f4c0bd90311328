/* SPDX-License-Identifier: MIT */
/* testutil.c - helpers for the Check suites that drive a real tps_server:
 * starting servers inside the test, loopback clients, deadline-bounded I/O,
 * clocks, load scaling for sanitizer runs and a recording log callback.
 * See testutil.h for the contracts. */
#include "testutil.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* ---- environment and clocks -------------------------------------------- */

int tu_slow(void)
{
    const char *s = getenv("TPS_TEST_SLOW");
    return s != NULL && strcmp(s, "1") == 0;
}

long tu_scale(long plain, long slow)
{
    return tu_slow() ? slow : plain;
}

double tu_timeout(double plain_seconds)
{
    return tu_slow() ? plain_seconds * 5 : plain_seconds;
}

static int64_t clock_us(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t tu_now_us(void)
{
    return clock_us(CLOCK_MONOTONIC);
}

int64_t tu_cpu_us(void)
{
    return clock_us(CLOCK_PROCESS_CPUTIME_ID);
}

void tu_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* ---- log capture -------------------------------------------------------- */

void tu_log_init(tu_log *log)
{
    memset(log, 0, sizeof *log);
    pthread_mutex_init(&log->mu, NULL);
}

void tu_log_fn(void *ud, int level, const char *msg)
{
    tu_log *log = ud;
    pthread_mutex_lock(&log->mu);
    if (level >= 0 && level < 4)
        log->count[level]++;
    if (level <= TPS_LOG_WARN && log->kept < TU_LOG_KEEP)
        snprintf(log->lines[log->kept++], sizeof log->lines[0], "%s", msg);
    pthread_mutex_unlock(&log->mu);
}

unsigned tu_log_count(tu_log *log, int level)
{
    pthread_mutex_lock(&log->mu);
    unsigned n = log->count[level];
    pthread_mutex_unlock(&log->mu);
    return n;
}

int tu_log_has(tu_log *log, const char *needle)
{
    int found = 0;
    pthread_mutex_lock(&log->mu);
    for (unsigned i = 0; i < log->kept && !found; i++)
        found = strstr(log->lines[i], needle) != NULL;
    pthread_mutex_unlock(&log->mu);
    return found;
}

const char *tu_log_dump(tu_log *log, char *buf, size_t len)
{
    size_t off = 0;
    buf[0] = '\0';
    pthread_mutex_lock(&log->mu);
    for (unsigned i = 0; i < log->kept && off + 1 < len; i++) {
        int n = snprintf(buf + off, len - off, "%s%s", i ? " | " : "", log->lines[i]);
        if (n < 0)
            break;
        off += (size_t)n;
    }
    pthread_mutex_unlock(&log->mu);
    return buf;
}

/* ---- servers ------------------------------------------------------------- */

const tps_handler *tu_mode(const tps_handler *h, int mayblock)
{
    static _Thread_local tps_handler copy;
    copy = *h;
    if (mayblock)
        copy.flags |= TPS_HANDLER_MAY_BLOCK;
    return &copy;
}

tps_server *tu_server_new(const tps_handler *h, void *ud, const tu_opt *opts, tu_log *log)
{
    tps_server *srv = NULL;
    ck_assert_int_eq(tps_server_new(&srv), 0);
    ck_assert_ptr_nonnull(srv);
    for (; opts != NULL && opts->opt != TPS_OPT_COUNT_; opts++) {
        int rc = tps_server_set(srv, opts->opt, opts->value);
        ck_assert_msg(rc == 0, "tps_server_set(%s, %lld): %s", tps_option_name(opts->opt),
                      opts->value, tps_err_name(rc));
    }
    if (h != NULL)
        ck_assert_int_eq(tps_server_set_handler(srv, h, ud), 0);
    if (log != NULL)
        ck_assert_int_eq(tps_server_set_log(srv, tu_log_fn, log, TPS_LOG_DEBUG), 0);
    return srv;
}

tps_server *tu_server_start(const tps_handler *h, void *ud, const tu_opt *opts, tu_log *log,
                            const char *spec)
{
    tps_server *srv = tu_server_new(h, ud, opts, log);
    const char *where = spec ? spec : "127.0.0.1:0";
    int rc = tps_server_listen(srv, where);
    ck_assert_msg(rc == 0, "tps_server_listen(%s): %d %s", where, rc, tps_err_name(rc));
    rc = tps_server_start(srv);
    ck_assert_msg(rc == 0, "tps_server_start: %d %s (%s)", rc, tps_err_name(rc), tps_strerror(rc));
    return srv;
}

int tu_port(const tps_server *srv, unsigned idx)
{
    int port = tps_server_port(srv, idx);
    ck_assert_msg(port > 0 && port < 65536, "tps_server_port(%u) = %d", idx, port);
    return port;
}

uint64_t tu_wait_stat(const tps_server *srv, enum tps_stat st, uint64_t want, long timeout_ms)
{
    int64_t end = tu_now_us() + timeout_ms * 1000;
    uint64_t v;
    while ((v = tps_server_stat(srv, st)) < want && tu_now_us() < end)
        tu_sleep_ms(2);
    return v;
}

uint64_t tu_wait_stat_le(const tps_server *srv, enum tps_stat st, uint64_t want, long timeout_ms)
{
    int64_t end = tu_now_us() + timeout_ms * 1000;
    uint64_t v;
    while ((v = tps_server_stat(srv, st)) > want && tu_now_us() < end)
        tu_sleep_ms(2);
    return v;
}

/* ---- clients ------------------------------------------------------------- */

static int connect_sa(int family, const struct sockaddr *sa, socklen_t len, int nonblock,
                      const struct sockaddr *src, socklen_t srclen)
{
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);
    if (fd < 0)
        return -errno;
    if (src != NULL && bind(fd, src, srclen) != 0) {
        int err = errno;
        close(fd);
        return -err;
    }
    if (connect(fd, sa, len) != 0 && !(nonblock && errno == EINPROGRESS)) {
        int err = errno;
        close(fd);
        return -err;
    }
    return fd;
}

int tu_connect_host(const char *host, int port, int nonblock)
{
    struct sockaddr_in6 a6 = {.sin6_family = AF_INET6};
    struct sockaddr_in a4 = {.sin_family = AF_INET};
    if (inet_pton(AF_INET, host, &a4.sin_addr) == 1) {
        a4.sin_port = htons((uint16_t)port);
        return connect_sa(AF_INET, (struct sockaddr *)&a4, sizeof a4, nonblock, NULL, 0);
    }
    if (inet_pton(AF_INET6, host, &a6.sin6_addr) == 1) {
        a6.sin6_port = htons((uint16_t)port);
        return connect_sa(AF_INET6, (struct sockaddr *)&a6, sizeof a6, nonblock, NULL, 0);
    }
    return -EINVAL;
}

int tu_connect(int port, int nonblock)
{
    int fd = tu_connect_host("127.0.0.1", port, nonblock);
    ck_assert_msg(fd >= 0, "connect 127.0.0.1:%d: %s", port, strerror(-fd));
    return fd;
}

int tu_connect_unix(const char *path, int nonblock)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sun.sun_path)
        return -ENAMETOOLONG;
    strcpy(sun.sun_path, path);
    return connect_sa(AF_UNIX, (struct sockaddr *)&sun, sizeof sun, nonblock, NULL, 0);
}

int tu_connect_from(const char *src, int port)
{
    struct sockaddr_in dst = {.sin_family = AF_INET};
    struct sockaddr_in from = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
    dst.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, src, &from.sin_addr) != 1)
        return -EINVAL;
    return connect_sa(AF_INET, (struct sockaddr *)&dst, sizeof dst, 0, (struct sockaddr *)&from,
                      sizeof from);
}

/* Wait for events on fd until the absolute deadline end (us). 1 = ready,
 * 0 = deadline passed. */
static int wait_fd(int fd, short events, int64_t end)
{
    for (;;) {
        int64_t left = end - tu_now_us();
        if (left <= 0)
            return 0;
        struct pollfd p = {.fd = fd, .events = events};
        int n = poll(&p, 1, (int)((left + 999) / 1000));
        if (n > 0)
            return 1;
        if (n < 0 && errno != EINTR)
            return 1; /* let the syscall itself report the error */
    }
}

int tu_write_all(int fd, const void *buf, size_t n, long timeout_ms)
{
    const char *p = buf;
    int64_t end = tu_now_us() + timeout_ms * 1000;
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
        } else if (w < 0 && (errno == EAGAIN || errno == EINTR || errno == ENOTCONN)) {
            if (!wait_fd(fd, POLLOUT, end))
                return -ETIMEDOUT;
        } else {
            return w < 0 ? -errno : -EIO;
        }
    }
    return 0;
}

long tu_read_exact(int fd, void *buf, size_t n, long timeout_ms, size_t *got)
{
    char *p = buf;
    size_t have = 0;
    long rc = (long)n;
    int64_t end = tu_now_us() + timeout_ms * 1000;
    while (have < n) {
        ssize_t r = recv(fd, p + have, n - have, MSG_DONTWAIT);
        if (r > 0) {
            have += (size_t)r;
        } else if (r == 0) {
            rc = (long)have;
            break;
        } else if (errno == EAGAIN || errno == EINTR) {
            if (!wait_fd(fd, POLLIN, end)) {
                rc = -ETIMEDOUT;
                break;
            }
        } else {
            rc = -errno;
            break;
        }
    }
    if (got != NULL)
        *got = have;
    return rc;
}

int tu_wait_eof(int fd, long timeout_ms)
{
    int64_t end = tu_now_us() + timeout_ms * 1000;
    char c[256];
    for (;;) {
        ssize_t r = recv(fd, c, sizeof c, MSG_DONTWAIT);
        if (r == 0)
            return 0;
        if (r > 0)
            return 1;
        if (errno != EAGAIN && errno != EINTR)
            return -errno;
        if (!wait_fd(fd, POLLIN, end))
            return -ETIMEDOUT;
    }
}

long tu_drain(int fd, long timeout_ms, int *err)
{
    int64_t end = tu_now_us() + timeout_ms * 1000;
    char b[16384];
    long total = 0;
    for (;;) {
        ssize_t r = recv(fd, b, sizeof b, MSG_DONTWAIT);
        if (r > 0) {
            total += r;
            continue;
        }
        if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
            if (err != NULL)
                *err = r == 0 ? 0 : -errno;
            return total;
        }
        if (!wait_fd(fd, POLLIN, end)) {
            if (err != NULL)
                *err = -ETIMEDOUT;
            return -ETIMEDOUT;
        }
    }
}

int tu_echo_roundtrip(int fd, const void *msg, size_t n, long timeout_ms)
{
    int rc = tu_write_all(fd, msg, n, timeout_ms);
    if (rc != 0)
        return rc;
    char *back = malloc(n ? n : 1);
    if (back == NULL)
        return -ENOMEM;
    long r = tu_read_exact(fd, back, n, timeout_ms, NULL);
    if (r >= 0 && (size_t)r != n)
        rc = -EPIPE; /* EOF before the whole echo */
    else if (r < 0)
        rc = (int)r;
    else if (memcmp(back, msg, n) != 0)
        rc = -EBADMSG;
    free(back);
    return rc;
}

void tu_close_rst(int fd)
{
    struct linger lg = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd);
}

int tu_max_fd(void)
{
    int max = -1;
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL)
        return -1;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        int n = atoi(e->d_name);
        if (e->d_name[0] != '.' && n > max && n != dirfd(d))
            max = n;
    }
    closedir(d);
    return max;
}

/* ---- data ----------------------------------------------------------------- */

uint64_t tu_rand(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static unsigned char *pattern;
static pthread_once_t pattern_once = PTHREAD_ONCE_INIT;

static void pattern_build(void)
{
    uint64_t s = 0x9E3779B97F4A7C15ULL;
    pattern = malloc(TU_PATTERN_LEN);
    if (pattern == NULL)
        abort();
    for (size_t i = 0; i < TU_PATTERN_LEN; i += 8) {
        uint64_t v = tu_rand(&s);
        memcpy(pattern + i, &v, 8);
    }
}

const unsigned char *tu_pattern(void)
{
    pthread_once(&pattern_once, pattern_build);
    return pattern;
}

int tu_connect_rcvbuf(int port, int rcvbuf, int nonblock)
{
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    if (nonblock)
        ck_assert_int_eq(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
    return fd;
}

long long tu_get(const tps_server *srv, enum tps_option opt)
{
    long long v = 0;
    ck_assert_int_eq(tps_server_get(srv, opt, &v), 0);
    return v;
}
