/* SPDX-License-Identifier: MIT */
/* check_lib_echo.c - integration suite of libtpserv's echo path, written
 * from the contract in tpserv.h: many concurrent clients echoing messages of
 * skewed random sizes verified byte for byte (driven by two client threads
 * each with its own epoll loop, not a thread per client), trickling writers,
 * slow readers that push the server into backpressure, output made of
 * slices of the input (sent without a copy), half-close, unix and
 * IPv6 listeners and several listeners at once. */
#include "suites.h"
#include "testutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- many clients, one epoll loop per driver thread ----------------------- */

typedef struct ec_client {
    int fd;
    int connected;
    unsigned msg;      /* index of the current message */
    size_t size, off;  /* current message: length, offset in tu_pattern() */
    size_t sent, rcvd; /* of the current message */
    uint64_t rng;
} ec_client;

typedef struct ec_driver {
    int port;
    unsigned first, count; /* clients [first, first + count) */
    unsigned nmsg;
    size_t max_size;
    long deadline_ms;
    /* results */
    unsigned done;
    uint64_t bytes; /* echoed bytes verified */
    char err[256];
} ec_driver;

/* Skewed: 90% up to 4 KiB, 9% up to 64 KiB, 1% up to max (1 MiB). */
static size_t pick_size(uint64_t *rng, size_t max)
{
    uint64_t r = tu_rand(rng) % 1000;
    if (r < 900)
        return 1 + tu_rand(rng) % 4096;
    if (r < 990)
        return 4096 + tu_rand(rng) % 61440;
    return 65536 + tu_rand(rng) % (max - 65536 + 1);
}

static void next_msg(ec_client *c, size_t max)
{
    c->size = pick_size(&c->rng, max);
    c->off = tu_rand(&c->rng) % (TU_PATTERN_LEN - c->size);
    c->sent = c->rcvd = 0;
}

static void ec_mod(int ep, ec_client *c, uint32_t ev)
{
    struct epoll_event e = {.events = ev, .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e);
}

/* Returns 1 when the client finished all its messages, -1 on failure
 * (d->err set), 0 otherwise. */
static int ec_on_read(ec_driver *d, int ep, ec_client *c, char *buf)
{
    const unsigned char *pat = tu_pattern();
    ssize_t r = recv(c->fd, buf, 65536, MSG_DONTWAIT);
    if (r < 0)
        return errno == EAGAIN || errno == EINTR ? 0 : -1;
    if (r == 0 || c->rcvd + (size_t)r > c->sent) {
        snprintf(d->err, sizeof d->err, "fd %d msg %u: %s after %zu of %zu bytes", c->fd, c->msg,
                 r == 0 ? "EOF" : "more echoed than sent", c->rcvd, c->size);
        return -1;
    }
    if (memcmp(buf, pat + c->off + c->rcvd, (size_t)r) != 0) {
        snprintf(d->err, sizeof d->err, "fd %d msg %u: wrong bytes at %zu", c->fd, c->msg, c->rcvd);
        return -1;
    }
    c->rcvd += (size_t)r;
    d->bytes += (uint64_t)r;
    if (c->rcvd < c->size)
        return 0;
    if (++c->msg == d->nmsg)
        return 1;
    next_msg(c, d->max_size);
    ec_mod(ep, c, EPOLLIN | EPOLLOUT);
    return 0;
}

static int ec_on_write(ec_driver *d, int ep, ec_client *c)
{
    if (!c->connected) {
        int err = 0;
        socklen_t l = sizeof err;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
        if (err != 0) {
            snprintf(d->err, sizeof d->err, "connect: %s", strerror(err));
            return -1;
        }
        c->connected = 1;
    }
    size_t n = c->size - c->sent;
    if (n > 262144)
        n = 262144;
    ssize_t w = send(c->fd, tu_pattern() + c->off + c->sent, n, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w < 0 && errno != EAGAIN && errno != EINTR) {
        snprintf(d->err, sizeof d->err, "fd %d send: %s", c->fd, strerror(errno));
        return -1;
    }
    if (w > 0)
        c->sent += (size_t)w;
    if (c->sent == c->size)
        ec_mod(ep, c, EPOLLIN);
    return 0;
}

static int ec_event(ec_driver *d, int ep, struct epoll_event *e, char *buf)
{
    ec_client *c = e->data.ptr;
    int rc = 0;
    if ((e->events & EPOLLOUT) && c->sent < c->size)
        rc = ec_on_write(d, ep, c);
    if (rc == 0 && (e->events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && c->connected)
        rc = ec_on_read(d, ep, c, buf);
    if (rc == 0 && (e->events & EPOLLERR) && !c->connected)
        rc = ec_on_write(d, ep, c);
    if (rc != 0) {
        epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
        c->fd = -1;
    }
    return rc;
}

static void *ec_drive(void *arg)
{
    ec_driver *d = arg;
    ec_client *cl = calloc(d->count, sizeof *cl);
    char *buf = malloc(65536);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    for (unsigned i = 0; i < d->count; i++) {
        ec_client *c = &cl[i];
        c->rng = 0x1234567ULL + (d->first + i) * 7919ULL;
        next_msg(c, d->max_size);
        c->fd = tu_connect_host("127.0.0.1", d->port, 1);
        if (c->fd < 0) {
            snprintf(d->err, sizeof d->err, "connect #%u: %s", d->first + i, strerror(-c->fd));
            break;
        }
        struct epoll_event e = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
        epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &e);
    }
    int64_t end = tu_now_us() + d->deadline_ms * 1000;
    struct epoll_event evs[64];
    while (d->err[0] == '\0' && d->done < d->count && tu_now_us() < end) {
        int n = epoll_wait(ep, evs, 64, 100);
        for (int i = 0; i < n && d->err[0] == '\0'; i++)
            if (ec_event(d, ep, &evs[i], buf) == 1)
                d->done++;
    }
    for (unsigned i = 0; i < d->count; i++)
        if (cl[i].fd >= 0)
            close(cl[i].fd);
    close(ep);
    free(buf);
    free(cl);
    return NULL;
}

/* The process needs two descriptors per client (its end and the server's). */
static void raise_nofile(unsigned clients)
{
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rlim_t want = clients * 2 + 256;
    if (rl.rlim_cur < want) {
        rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

START_TEST(test_echo_many_clients)
{
    const unsigned nclients = (unsigned)tu_scale(1000, 100);
    const unsigned nmsg = (unsigned)tu_scale(6, 3);
    raise_nofile(nclients);
    tps_server *srv = tu_server_start(tu_mode(&tps_echo_handler, _i), NULL, NULL, NULL, NULL);
    int port = tu_port(srv, 0);
    ec_driver d[2];
    pthread_t th[2];
    int64_t t0 = tu_now_us();
    for (unsigned i = 0; i < 2; i++) {
        d[i] = (ec_driver){.port = port,
                           .first = i * nclients / 2,
                           .count = nclients / 2,
                           .nmsg = nmsg,
                           .max_size = (size_t)tu_scale(1 << 20, 256 << 10),
                           .deadline_ms = tu_scale(60000, 200000)};
        ck_assert_int_eq(pthread_create(&th[i], NULL, ec_drive, &d[i]), 0);
    }
    for (unsigned i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    uint64_t bytes = d[0].bytes + d[1].bytes;
    fprintf(stderr, "echo_many: %u clients, %llu bytes verified in %.2f s\n", nclients,
            (unsigned long long)bytes, (tu_now_us() - t0) / 1e6);
    for (unsigned i = 0; i < 2; i++)
        ck_assert_msg(d[i].err[0] == '\0' && d[i].done == d[i].count,
                      "driver %u: %u/%u clients done; %s", i, d[i].done, d[i].count,
                      d[i].err[0] ? d[i].err : "deadline");
    /* Every byte read was written back: the counters agree with the run. */
    tu_wait_stat(srv, TPS_STAT_CLOSED, nclients, 5000);
    ck_assert_uint_eq(tps_server_stat(srv, TPS_STAT_ACCEPTED), nclients);
    ck_assert_uint_eq(tu_wait_stat(srv, TPS_STAT_BYTES_IN, bytes, 3000), bytes);
    ck_assert_uint_eq(tu_wait_stat(srv, TPS_STAT_BYTES_OUT, bytes, 3000), bytes);
    tps_server_free(srv);
}
END_TEST

/* ---- partial reads and writes --------------------------------------------- */

START_TEST(test_echo_trickle_writer)
{
    tps_server *srv = tu_server_start(tu_mode(&tps_echo_handler, _i), NULL, NULL, NULL, NULL);
    int fd = tu_connect(tu_port(srv, 0), 0);
    const unsigned char *pat = tu_pattern();
    const size_t n = 300;
    unsigned char back[300];
    size_t got = 0;
    for (size_t i = 0; i < n; i++) {
        ck_assert_int_eq(tu_write_all(fd, pat + i, 1, 2000), 0);
        tu_sleep_ms(1 + (long)(i % 3));
        ssize_t r = recv(fd, back + got, n - got, MSG_DONTWAIT);
        if (r > 0)
            got += (size_t)r;
    }
    size_t more = 0;
    long r = tu_read_exact(fd, back + got, n - got, 5000, &more);
    ck_assert_msg(r == (long)(n - got), "read rest: %ld (had %zu of %zu)", r, got + more, n);
    ck_assert_mem_eq(back, pat, n);
    close(fd);
    tps_server_free(srv);
}
END_TEST

/* Streams in[0..in_len) through fd (non-blocking, with a small receive
 * buffer) while reading the answer slowly, 1 ms between reads, and checks
 * it against want[0..want_len). Aborts the test on EOF, a socket error, a
 * wrong byte or the deadline. */
static void stream_slowly(int fd, const char *in, size_t in_len, const char *want, size_t want_len)
{
    size_t sent = 0, rcvd = 0;
    char buf[32768];
    int64_t end = tu_now_us() + tu_scale(30000, 120000) * 1000;
    while (rcvd < want_len && tu_now_us() < end) {
        if (sent < in_len) {
            size_t n = in_len - sent > 65536 ? 65536 : in_len - sent;
            ssize_t w = send(fd, in + sent, n, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (w < 0 && errno != EAGAIN)
                ck_abort_msg("send: %s", strerror(errno));
            if (w > 0)
                sent += (size_t)w;
        }
        tu_sleep_ms(1);
        ssize_t r = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (r == 0)
            ck_abort_msg("EOF after %zu of %zu bytes", rcvd, want_len);
        if (r < 0) {
            if (errno != EAGAIN)
                ck_abort_msg("recv: %s", strerror(errno));
            continue;
        }
        /* ck_assert per byte would cost a syscall each (mark_point). */
        if ((size_t)r > want_len - rcvd || memcmp(buf, want + rcvd, (size_t)r) != 0)
            ck_abort_msg("wrong bytes in [%zu, %zu)", rcvd, rcvd + (size_t)r);
        rcvd += (size_t)r;
    }
    ck_assert_msg(rcvd == want_len, "received %zu of %zu (sent %zu of %zu)", rcvd, want_len, sent,
                  in_len);
}

/* n bytes of tu_pattern() repeated. */
static char *pattern_bytes(size_t n)
{
    char *p = malloc(n);
    ck_assert_ptr_nonnull(p);
    for (size_t i = 0; i < n; i += TU_PATTERN_LEN)
        memcpy(p + i, tu_pattern(), n - i < TU_PATTERN_LEN ? n - i : TU_PATTERN_LEN);
    return p;
}

/* The client's receive buffer is small and it reads slowly: the server's
 * output passes OUTPUT_HIGH_WATER, it must stop reading (backpressure) and
 * still deliver every byte in order. */
START_TEST(test_echo_slow_reader)
{
    const tu_opt opts[] = {{TPS_OPT_OUTPUT_HIGH_WATER, 65536}, TU_OPT_END};
    tps_server *srv = tu_server_start(tu_mode(&tps_echo_handler, _i), NULL, opts, NULL, NULL);
    int fd = tu_connect_rcvbuf(tu_port(srv, 0), 16384, 1);
    const size_t total = 16u << 20; /* past every kernel buffer */
    char *data = pattern_bytes(total);
    stream_slowly(fd, data, total, data, total);
    free(data);
    ck_assert_msg(tps_server_stat(srv, TPS_STAT_BACKPRESSURE) > 0,
                  "BACKPRESSURE stat is 0 after %zu bytes to a slow reader", total);
    close(fd);
    tps_server_free(srv);
}
END_TEST

/* ---- output made of slices of the input ---------------------------------- */

/* Answers every complete line L with "L L #": two sends of the same slice
 * of its input, then a constant. tps_conn_send takes a first slice of the
 * input without copying it; whatever follows must copy it first, and a
 * read that would overwrite it must send it first. Lines that straddle
 * reads come from the connection's input buffer instead. */
static long twice_on_data(tps_conn *c, const char *data, size_t len)
{
    size_t used = 0;
    for (const char *nl; (nl = memchr(data + used, '\n', len - used)) != NULL;) {
        size_t n = (size_t)(nl - (data + used)) + 1;
        if (tps_conn_send(c, data + used, n) != 0 || tps_conn_send(c, data + used, n) != 0 ||
            tps_conn_send(c, "#\n", 2) != 0)
            return -1;
        used += n;
    }
    return (long)used;
}

static const tps_handler twice_handler = {.name = "twice", .on_data = twice_on_data};

/* Lines of 1..300 letters; *out gets what twice_handler answers. */
static char *twice_lines(size_t want, size_t *len, char **out, size_t *out_len)
{
    char *in = malloc(want + 301), *o = malloc(3 * (want + 301)); /* a line: l + 1 in, 2l + 4 out */
    size_t n = 0, on = 0;
    ck_assert_ptr_nonnull(in);
    ck_assert_ptr_nonnull(o);
    for (unsigned i = 0; n < want; i++) {
        size_t l = 1 + (i * 7919u) % 300, start = n;
        for (size_t j = 0; j < l; j++)
            in[n++] = (char)('a' + (i + j) % 26);
        in[n++] = '\n';
        memcpy(o + on, in + start, n - start);
        memcpy(o + on + (n - start), in + start, n - start);
        on += 2 * (n - start);
        memcpy(o + on, "#\n", 2);
        on += 2;
    }
    *len = n;
    *out = o;
    *out_len = on;
    return in;
}

START_TEST(test_echo_input_slices)
{
    const tu_opt opts[] = {{TPS_OPT_OUTPUT_HIGH_WATER, 65536}, TU_OPT_END};
    tps_server *srv = tu_server_start(tu_mode(&twice_handler, _i), NULL, opts, NULL, NULL);
    /* a small receive buffer: the server's sends come up short */
    int fd = tu_connect_rcvbuf(tu_port(srv, 0), 16384, 1);
    size_t in_len, want_len;
    char *want, *in = twice_lines(4u << 20, &in_len, &want, &want_len);
    stream_slowly(fd, in, in_len, want, want_len);
    ck_assert_uint_eq(tps_server_stat(srv, TPS_STAT_ERRORS), 0);
    close(fd);
    free(in);
    free(want);
    tps_server_free(srv);
}
END_TEST

START_TEST(test_echo_half_close)
{
    tps_server *srv = tu_server_start(tu_mode(&tps_echo_handler, _i), NULL, NULL, NULL, NULL);
    int fd = tu_connect(tu_port(srv, 0), 0);
    const size_t n = 65536;
    char *back = malloc(n);
    ck_assert_int_eq(tu_write_all(fd, tu_pattern(), n, 5000), 0);
    ck_assert_int_eq(shutdown(fd, SHUT_WR), 0);
    size_t got = 0;
    long r = tu_read_exact(fd, back, n, 5000, &got);
    ck_assert_msg(r == (long)n, "after SHUT_WR read %zu of %zu (rc %ld)", got, n, r);
    ck_assert_mem_eq(back, tu_pattern(), n);
    int e = tu_wait_eof(fd, 5000);
    ck_assert_msg(e == 0, "expected EOF after the echoes, got %d (%s)", e,
                  e < 0 ? strerror(-e) : "more data");
    free(back);
    close(fd);
    tps_server_free(srv);
}
END_TEST

/* ---- churn: slots and generations are reused, nothing leaks -------------- */

typedef struct churn_arg {
    int port, n;
    int failures;
} churn_arg;

/* Connect, echo, then close normally or with a reset (every third), or
 * reset right after sending (every fifth), so the server sees every way
 * a connection can end while its slot is being reused. */
static void *churn_main(void *arg)
{
    churn_arg *a = arg;
    for (int i = 0; i < a->n; i++) {
        int fd = tu_connect_host("127.0.0.1", a->port, 0);
        if (fd < 0) {
            a->failures++;
            continue;
        }
        if (i % 5 == 4) {
            tu_write_all(fd, tu_pattern(), 3000, 1000);
            tu_close_rst(fd);
            continue;
        }
        if (tu_echo_roundtrip(fd, tu_pattern() + i, 100 + (size_t)i % 900, 5000) != 0)
            a->failures++;
        if (i % 3 == 0)
            tu_close_rst(fd);
        else
            close(fd);
    }
    return NULL;
}

START_TEST(test_echo_churn)
{
    const int per = (int)tu_scale(500, 100);
    tps_server *srv = tu_server_start(tu_mode(&tps_echo_handler, _i), NULL, NULL, NULL, NULL);
    churn_arg a[2] = {{tu_port(srv, 0), per, 0}, {tu_port(srv, 0), per, 0}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, churn_main, &a[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    ck_assert_msg(a[0].failures + a[1].failures == 0, "%d connections failed to echo",
                  a[0].failures + a[1].failures);
    uint64_t want = (uint64_t)per * 2;
    tu_wait_stat(srv, TPS_STAT_CLOSED, want, 5000);
    ck_assert_uint_eq(tps_server_stat(srv, TPS_STAT_ACCEPTED), want);
    ck_assert_uint_eq(tps_server_stat(srv, TPS_STAT_CLOSED), want);
    /* counters are consistent one by one, not across: wait for each */
    ck_assert_uint_eq(tu_wait_stat_le(srv, TPS_STAT_ACTIVE, 0, 3000), 0);
    int fd = tu_connect(tu_port(srv, 0), 0);
    ck_assert_int_eq(tu_echo_roundtrip(fd, "still", 5, 5000), 0);
    close(fd);
    tps_server_free(srv);
}
END_TEST

/* ---- listeners -------------------------------------------------------------- */

static void roundtrip_ok(int fd, size_t n, const char *what)
{
    int rc = tu_echo_roundtrip(fd, tu_pattern() + 17, n, 5000);
    ck_assert_msg(rc == 0, "%s: echo of %zu bytes: %d (%s)", what, n, rc, strerror(-rc));
}

START_TEST(test_echo_unix)
{
    char path[64], spec[80], addr[96];
    snprintf(path, sizeof path, "/tmp/tps-check-echo-%d.sock", (int)getpid());
    snprintf(spec, sizeof spec, "unix:%s", path);
    tps_server *srv = tu_server_start(NULL, NULL, NULL, NULL, spec);
    ck_assert_int_lt(tps_server_port(srv, 0), 0);
    ck_assert_int_eq(tps_server_address(srv, 0, addr, sizeof addr), 0);
    ck_assert_str_eq(addr, spec);
    int fd = tu_connect_unix(path, 0);
    ck_assert_msg(fd >= 0, "connect %s: %s", path, strerror(-fd));
    roundtrip_ok(fd, 1, "unix");
    roundtrip_ok(fd, 32768, "unix");
    close(fd);
    tps_server_free(srv);
    unlink(path);
}
END_TEST

/* Listen on [::1]:0; 0 if IPv6 loopback is unavailable here. */
static int listen_v6(tps_server *srv)
{
    int rc = tps_server_listen(srv, "[::1]:0");
    if (rc == TPS_EADDRNOTAVAIL || rc == TPS_EAFNOSUPPORT) {
        fprintf(stderr, "ipv6 loopback unavailable (%s): skipped\n", tps_err_name(rc));
        return 0;
    }
    ck_assert_msg(rc == 0, "listen [::1]:0: %s", tps_err_name(rc));
    return 1;
}

START_TEST(test_echo_ipv6)
{
    tps_server *srv = tu_server_new(NULL, NULL, NULL, NULL);
    if (!listen_v6(srv)) {
        tps_server_free(srv);
        return;
    }
    ck_assert_int_eq(tps_server_start(srv), 0);
    char addr[96];
    ck_assert_int_eq(tps_server_address(srv, 0, addr, sizeof addr), 0);
    ck_assert_msg(strncmp(addr, "[::1]:", 6) == 0, "address %s", addr);
    int fd = tu_connect_host("::1", tu_port(srv, 0), 0);
    ck_assert_msg(fd >= 0, "connect [::1]: %s", strerror(-fd));
    roundtrip_ok(fd, 5000, "ipv6");
    close(fd);
    tps_server_free(srv);
}
END_TEST

START_TEST(test_echo_many_listeners)
{
    char path[64], spec[80];
    snprintf(path, sizeof path, "/tmp/tps-check-ml-%d.sock", (int)getpid());
    snprintf(spec, sizeof spec, "unix:%s", path);
    tps_server *srv = tu_server_new(NULL, NULL, NULL, NULL);
    ck_assert_int_eq(tps_server_listen(srv, "127.0.0.1:0"), 0);
    ck_assert_int_eq(tps_server_listen(srv, "127.0.0.1:0"), 0);
    ck_assert_int_eq(tps_server_listen(srv, spec), 0);
    unsigned n = 3 + (unsigned)listen_v6(srv);
    ck_assert_uint_eq(tps_server_listener_count(srv), n);
    ck_assert_int_eq(tps_server_start(srv), 0);
    int p0 = tu_port(srv, 0), p1 = tu_port(srv, 1);
    ck_assert_int_ne(p0, p1);
    int fds[4];
    fds[0] = tu_connect(p0, 0);
    fds[1] = tu_connect(p1, 0);
    fds[2] = tu_connect_unix(path, 0);
    ck_assert_int_ge(fds[2], 0);
    if (n == 4) {
        fds[3] = tu_connect_host("::1", tu_port(srv, 3), 0);
        ck_assert_int_ge(fds[3], 0);
    }
    for (unsigned i = 0; i < n; i++)
        roundtrip_ok(fds[i], 1000 + i, "listener");
    for (unsigned i = 0; i < n; i++)
        close(fds[i]);
    tps_server_free(srv);
    unlink(path);
}
END_TEST

Suite *lib_echo_suite(void)
{
    Suite *s = suite_create("lib_echo");
    TCase *tc = tcase_create("many");
    tcase_set_timeout(tc, tu_timeout(90));
    tcase_add_loop_test(tc, test_echo_many_clients, 0, 2); /* plain, may-block */
    suite_add_tcase(s, tc);

    tc = tcase_create("partial");
    tcase_set_timeout(tc, tu_timeout(40));
    tcase_add_loop_test(tc, test_echo_trickle_writer, 0, 2); /* plain, may-block */
    tcase_add_loop_test(tc, test_echo_slow_reader, 0, 2);    /* plain, may-block */
    tcase_add_loop_test(tc, test_echo_input_slices, 0, 2);   /* plain, may-block */
    tcase_add_loop_test(tc, test_echo_half_close, 0, 2);     /* plain, may-block */
    tcase_add_loop_test(tc, test_echo_churn, 0, 2);          /* plain, may-block */
    suite_add_tcase(s, tc);

    tc = tcase_create("listeners");
    tcase_set_timeout(tc, tu_timeout(15));
    tcase_add_test(tc, test_echo_unix);
    tcase_add_test(tc, test_echo_ipv6);
    tcase_add_test(tc, test_echo_many_listeners);
    suite_add_tcase(s, tc);
    return s;
}
