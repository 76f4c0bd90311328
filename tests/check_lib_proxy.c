/* SPDX-License-Identifier: MIT */
/* check_lib_proxy.c - integration suite of "proxy:" listeners (the PROXY
 * protocol, v1 and v2, as HAProxy and nginx send it) through real sockets:
 * the header is consumed, on_open and tps_conn_peer() see the client it
 * names, however the header is split, the per-address cap counts that
 * client, and a bad header closes the connection without opening it; v2
 * TLVs reach the handler through tps_conn_proxy_tlv() and malformed ones
 * close their connection only; the trust list keeps other sources out. */
#include "suites.h"
#include "testutil.h"

#include "proxyproto.h" /* tps__crc32c, to seal headers as a balancer would */

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Greets with the peer it sees, then echoes. */
static atomic_int px_opens;

static int px_on_open(tps_conn *c)
{
    char peer[80], line[96];
    atomic_fetch_add(&px_opens, 1);
    ck_assert_int_eq(tps_conn_peer(c, peer, sizeof peer), 0);
    int n = snprintf(line, sizeof line, "peer %s\n", peer);
    tps_conn_send(c, line, (size_t)n);
    return 0;
}

static long px_on_data(tps_conn *c, const char *data, size_t len)
{
    tps_conn_send(c, data, len);
    return (long)len;
}

static const tps_handler px_handler = {
    .name = "peer-greeter",
    .on_open = px_on_open,
    .on_data = px_on_data,
};

static tps_server *start_proxy_server(const tu_opt *opts)
{
    atomic_store(&px_opens, 0);
    const tu_opt none[] = {{TPS_OPT_WORKERS, 2}, TU_OPT_END};
    return tu_server_start(&px_handler, NULL, opts ? opts : none, NULL, "proxy:127.0.0.1:0");
}

/* Read one line (up to '\n') into buf. */
static void read_line(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    while (n + 1 < cap) {
        ck_assert_msg(tu_read_exact(fd, buf + n, 1, 3000, NULL) == 1, "no line (got '%.*s')",
                      (int)n, buf);
        if (buf[n++] == '\n')
            break;
    }
    buf[n] = '\0';
}

/* Send header then "hello"; expect the greeting and the echo. */
static void expect_peer(tps_server *srv, const void *hdr, size_t len, size_t chunk,
                        const char *want)
{
    int fd = tu_connect(tu_port(srv, 0), 0);
    for (size_t off = 0; off < len; off += chunk) {
        size_t n = len - off < chunk ? len - off : chunk;
        ck_assert_int_eq(tu_write_all(fd, (const char *)hdr + off, n, 1000), 0);
        if (chunk < len)
            tu_sleep_ms(2); /* separate segments */
    }
    ck_assert_int_eq(tu_write_all(fd, "hello", 5, 1000), 0);
    char line[128], back[5];
    read_line(fd, line, sizeof line);
    ck_assert_str_eq(line, want);
    ck_assert_int_eq(tu_read_exact(fd, back, 5, 3000, NULL), 5);
    ck_assert_int_eq(memcmp(back, "hello", 5), 0);
    close(fd);
}

static const char v1_tcp4[] = "PROXY TCP4 203.0.113.7 127.0.0.1 51000 7000\r\n";

START_TEST(test_proxy_v1)
{
    tps_server *srv = start_proxy_server(NULL);
    expect_peer(srv, v1_tcp4, strlen(v1_tcp4), 4096, "peer 203.0.113.7:51000\n");
    expect_peer(srv, v1_tcp4, strlen(v1_tcp4), 1, "peer 203.0.113.7:51000\n"); /* byte by byte */
    const char *v6 = "PROXY TCP6 2001:db8::1 ::1 443 7000\r\n";
    expect_peer(srv, v6, strlen(v6), 4096, "peer [2001:db8::1]:443\n");
    /* UNKNOWN: the balancer does not know; the socket's peer stays */
    const char *unk = "PROXY UNKNOWN\r\n";
    int fd = tu_connect(tu_port(srv, 0), 0);
    ck_assert_int_eq(tu_write_all(fd, unk, strlen(unk), 1000), 0);
    char line[128];
    read_line(fd, line, sizeof line);
    ck_assert_msg(strncmp(line, "peer 127.0.0.1:", 15) == 0, "UNKNOWN gave '%s'", line);
    close(fd);
    ck_assert_uint_eq(tps_server_stat(srv, TPS_STAT_PROXY_ERRORS), 0);
    tps_server_free(srv);
}
END_TEST

static const unsigned char v2_sig[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                         0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

/* A v2 header: command (0x21 PROXY, 0x20 LOCAL), family, address block
 * and a trailing TLV (type 0x04 NOOP) that must be skipped. */
static size_t v2_header(unsigned char *out, unsigned char cmd, unsigned char fam,
                        const unsigned char *addr, size_t alen)
{
    static const unsigned char tlv[] = {0x04, 0x00, 0x03, 'x', 'y', 'z'};
    size_t body = alen + sizeof tlv;
    memcpy(out, v2_sig, 12);
    out[12] = cmd;
    out[13] = fam;
    out[14] = (unsigned char)(body >> 8);
    out[15] = (unsigned char)body;
    if (alen > 0)
        memcpy(out + 16, addr, alen);
    memcpy(out + 16 + alen, tlv, sizeof tlv);
    return 16 + body;
}

START_TEST(test_proxy_v2)
{
    tps_server *srv = start_proxy_server(NULL);
    unsigned char hdr[128];
    const unsigned char a4[12] = {198, 51, 100, 9, 127, 0, 0, 1, 0xC3, 0x50, 0x1B, 0x58};
    size_t n = v2_header(hdr, 0x21, 0x11, a4, sizeof a4);
    expect_peer(srv, hdr, n, 4096, "peer 198.51.100.9:50000\n");
    expect_peer(srv, hdr, n, 5, "peer 198.51.100.9:50000\n");
    unsigned char a6[36] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x42};
    a6[32] = 0x01, a6[33] = 0xBB; /* port 443 */
    n = v2_header(hdr, 0x21, 0x21, a6, sizeof a6);
    expect_peer(srv, hdr, n, 4096, "peer [2001:db8::42]:443\n");
    /* LOCAL (a health check): no address, the socket's peer stays */
    n = v2_header(hdr, 0x20, 0x00, NULL, 0);
    int fd = tu_connect(tu_port(srv, 0), 0);
    ck_assert_int_eq(tu_write_all(fd, hdr, n, 1000), 0);
    char line[128];
    read_line(fd, line, sizeof line);
    ck_assert_msg(strncmp(line, "peer 127.0.0.1:", 15) == 0, "LOCAL gave '%s'", line);
    close(fd);
    tps_server_free(srv);
}
END_TEST

/* Each of these is closed without on_open and counted. */
START_TEST(test_proxy_bad_headers)
{
    tps_server *srv = start_proxy_server(NULL);
    unsigned char v2bad[64];
    const unsigned char a4[12] = {1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 0, 2};
    size_t v2n = v2_header(v2bad, 0x31, 0x11, a4, sizeof a4); /* version 3 */
    char longline[200];
    memset(longline, 'A', sizeof longline);
    memcpy(longline, "PROXY TCP4 ", 11);
    struct {
        const void *p;
        size_t n;
    } bad[] = {
        {"GET / HTTP/1.0\r\n\r\n", 18},
        {"PROXY TCP4 1.2.3.4\r\n", 20},
        {"PROXY TCP4 1.2.3.999 1.2.3.4 1 2\r\n", 34},
        {"PROXY TCP4 1.2.3.4 1.2.3.4 1 99999\r\n", 36},
        {"PROXY TCP4 1.2.3.4 1.2.3.4 1 2\n", 31}, /* LF without CR */
        {longline, sizeof longline},              /* no end in 107 bytes */
        {v2bad, v2n},
    };
    int nbad = (int)(sizeof bad / sizeof bad[0]);
    for (int i = 0; i < nbad; i++) {
        int fd = tu_connect(tu_port(srv, 0), 0);
        ck_assert_int_eq(tu_write_all(fd, bad[i].p, bad[i].n, 1000), 0);
        long got = tu_drain(fd, 3000, NULL);
        ck_assert_msg(got == 0, "bad header %d: %ld bytes came back (opened?)", i, got);
        close(fd);
    }
    ck_assert_uint_eq(tu_wait_stat(srv, TPS_STAT_PROXY_ERRORS, (uint64_t)nbad, 3000),
                      (uint64_t)nbad);
    ck_assert_int_eq(atomic_load(&px_opens), 0);
    expect_peer(srv, v1_tcp4, strlen(v1_tcp4), 4096,
                "peer 203.0.113.7:51000\n"); /* still serving */
    tps_server_free(srv);
}
END_TEST

/* All connections come from the balancer (127.0.0.1); the cap is per
 * client named in the header. */
START_TEST(test_proxy_per_client_cap)
{
    const tu_opt opts[] = {{TPS_OPT_WORKERS, 1}, {TPS_OPT_MAX_CONNS_PER_IP, 1}, TU_OPT_END};
    tps_server *srv = start_proxy_server(opts);
    const char *h1 = "PROXY TCP4 198.51.100.1 127.0.0.1 1000 7000\r\n";
    const char *h2 = "PROXY TCP4 198.51.100.2 127.0.0.1 1000 7000\r\n";
    char line[128];
    int a = tu_connect(tu_port(srv, 0), 0), b = tu_connect(tu_port(srv, 0), 0);
    int c = tu_connect(tu_port(srv, 0), 0);
    ck_assert_int_eq(tu_write_all(a, h1, strlen(h1), 1000), 0);
    read_line(a, line, sizeof line);
    ck_assert_str_eq(line, "peer 198.51.100.1:1000\n");
    ck_assert_int_eq(tu_write_all(b, h1, strlen(h1), 1000), 0); /* same client again */
    read_line(b, line, sizeof line);
    ck_assert_str_eq(line, "BUSY too many connections from your address\r\n");
    ck_assert_int_eq(tu_wait_eof(b, 3000), 0);
    ck_assert_int_eq(tu_write_all(c, h2, strlen(h2), 1000), 0); /* another client */
    read_line(c, line, sizeof line);
    ck_assert_str_eq(line, "peer 198.51.100.2:1000\n");
    ck_assert_uint_eq(tps_server_stat(srv, TPS_STAT_REJECTED_PER_IP), 1);
    close(a); /* frees 198.51.100.1's place */
    tu_wait_stat(srv, TPS_STAT_CLOSED, 2, 3000);
    int d = tu_connect(tu_port(srv, 0), 0);
    ck_assert_int_eq(tu_write_all(d, h1, strlen(h1), 1000), 0);
    read_line(d, line, sizeof line);
    ck_assert_str_eq(line, "peer 198.51.100.1:1000\n");
    close(b);
    close(c);
    close(d);
    tps_server_free(srv);
}
END_TEST

/* Random bytes after a valid-looking start (v2 signature or "PROXY "):
 * whatever they say, the server neither crashes nor reads past them (the
 * sanitizer builds watch), and it keeps serving. */
START_TEST(test_proxy_random_headers)
{
    tps_server *srv = start_proxy_server(NULL);
    uint64_t seed = 42;
    unsigned char buf[300];
    for (int i = 0; i < 200; i++) {
        size_t n = 1 + tu_rand(&seed) % sizeof buf;
        for (size_t k = 0; k < n; k++)
            buf[k] = (unsigned char)tu_rand(&seed);
        size_t pre = i % 2 ? 12 : 6;
        memcpy(buf, i % 2 ? (const void *)v2_sig : (const void *)"PROXY ", pre < n ? pre : n);
        int fd = tu_connect(tu_port(srv, 0), 0);
        (void)tu_write_all(fd, buf, n, 1000);
        shutdown(fd, SHUT_WR); /* an incomplete header then meets EOF */
        (void)tu_drain(fd, 3000, NULL);
        close(fd);
    }
    expect_peer(srv, v1_tcp4, strlen(v1_tcp4), 4096, "peer 203.0.113.7:51000\n");
    tps_server_free(srv);
}
END_TEST

/* Silence, or a header dripped too slowly, is closed at
 * TPS_OPT_PROXY_TIMEOUT_MS; a header in time is not. */
START_TEST(test_proxy_header_timeout)
{
    const tu_opt opts[] = {{TPS_OPT_WORKERS, 1}, {TPS_OPT_PROXY_TIMEOUT_MS, 200}, TU_OPT_END};
    tps_server *srv = start_proxy_server(opts);
    int port = tu_port(srv, 0);
    int silent = tu_connect(port, 0), drip = tu_connect(port, 0);
    int64_t t0 = tu_now_us();
    ck_assert_int_eq(tu_write_all(drip, "PROXY TCP4 ", 11, 1000), 0);
    tu_sleep_ms(100);
    expect_peer(srv, v1_tcp4, strlen(v1_tcp4), 4096, "peer 203.0.113.7:51000\n");
    ck_assert_int_eq(tu_write_all(drip, "1.2.3.4 ", 8, 1000), 0); /* activity is no excuse */
    ck_assert_int_eq(tu_wait_eof(silent, 3000), 0);
    ck_assert_int_eq(tu_wait_eof(drip, 3000), 0);
    int64_t took = tu_now_us() - t0;
    ck_assert_msg(took >= 150000 && took < tu_scale(1500000, 3000000),
                  "closed after %lld us, expected ~200 ms", (long long)took);
    ck_assert_uint_eq(tu_wait_stat(srv, TPS_STAT_PROXY_ERRORS, 2, 3000), 2);
    ck_assert_int_eq(atomic_load(&px_opens), 1);
    close(silent);
    close(drip);
    tps_server_free(srv);
}
END_TEST

/* A plain listener next to a proxy one is not affected. */
START_TEST(test_proxy_only_on_its_listener)
{
    tps_server *srv = tu_server_new(&px_handler, NULL, NULL, NULL);
    ck_assert_int_eq(tps_server_listen(srv, "127.0.0.1:0"), 0);
    ck_assert_int_eq(tps_server_listen(srv, "proxy:127.0.0.1:0"), 0);
    ck_assert_int_eq(tps_server_listen(srv, "proxy:"), TPS_EINVAL);
    ck_assert_int_eq(tps_server_start(srv), 0);
    int fd = tu_connect(tu_port(srv, 0), 0);
    char line[128];
    read_line(fd, line, sizeof line); /* greeted at once: no header expected */
    ck_assert_msg(strncmp(line, "peer 127.0.0.1:", 15) == 0, "plain listener gave '%s'", line);
    close(fd);
    fd = tu_connect(tu_port(srv, 1), 0);
    ck_assert_int_eq(tu_write_all(fd, v1_tcp4, strlen(v1_tcp4), 1000), 0);
    read_line(fd, line, sizeof line);
    ck_assert_str_eq(line, "peer 203.0.113.7:51000\n");
    close(fd);
    tps_server_free(srv);
}
END_TEST

/* ---- v2 TLVs ---------------------------------------------------------------- */

/* Greets with what the header's TLVs say, read through the public API. */
static char tlv_at_close[200]; /* UNIQUE_ID as on_close still sees it */
static atomic_int tlv_closes;

static void tlv_text(tps_conn *c, unsigned type, char *out, size_t cap)
{
    const void *v = NULL;
    size_t len = 0;
    int rc = tps_conn_proxy_tlv(c, type, &v, &len);
    if (rc == TPS_ENOENT) {
        snprintf(out, cap, "-");
        return;
    }
    ck_assert_int_eq(rc, 0);
    snprintf(out, cap, "%.*s", (int)len, (const char *)v);
}

static int tlv_on_open(tps_conn *c)
{
    char alpn[64], auth[64], uid[160], cn[64], netns[64], line[512];
    tlv_text(c, TPS_PP2_TYPE_ALPN, alpn, sizeof alpn);
    tlv_text(c, TPS_PP2_TYPE_AUTHORITY, auth, sizeof auth);
    tlv_text(c, TPS_PP2_TYPE_UNIQUE_ID, uid, sizeof uid);
    tlv_text(c, TPS_PP2_SSL_SUB(TPS_PP2_SUBTYPE_SSL_CN), cn, sizeof cn);
    tlv_text(c, TPS_PP2_TYPE_NETNS, netns, sizeof netns);
    int n = snprintf(line, sizeof line, "alpn=%s authority=%s uid=%s cn=%s netns=%s\n", alpn, auth,
                     uid, cn, netns);
    tps_conn_send(c, line, (size_t)n);
    return 0;
}

static void tlv_on_close(tps_conn *c, int reason)
{
    (void)reason;
    tlv_text(c, TPS_PP2_TYPE_UNIQUE_ID, tlv_at_close, sizeof tlv_at_close);
    atomic_fetch_add(&tlv_closes, 1);
}

static const tps_handler tlv_handler = {
    .name = "tlv-greeter",
    .on_open = tlv_on_open,
    .on_data = px_on_data,
    .on_close = tlv_on_close,
};

/* A v2 TCP4 header from 198.51.100.9:50000 with these TLVs; with_crc
 * appends a CRC32C TLV over it all. */
static size_t v2_with_tlvs(unsigned char *out, const void *tlvs, size_t tlen, int with_crc)
{
    static const unsigned char a4[12] = {198, 51, 100, 9, 127, 0, 0, 1, 0xC3, 0x50, 0x1B, 0x58};
    size_t body = 12 + tlen + (with_crc ? 7 : 0);
    memcpy(out, v2_sig, 12);
    out[12] = 0x21, out[13] = 0x11;
    out[14] = (unsigned char)(body >> 8), out[15] = (unsigned char)body;
    memcpy(out + 16, a4, 12);
    memcpy(out + 28, tlvs, tlen);
    if (with_crc) {
        unsigned char *t = out + 28 + tlen;
        memcpy(t, "\x03\x00\x04\0\0\0\0", 7);
        uint32_t crc = tps__crc32c(0, out, 16 + body);
        t[3] = (unsigned char)(crc >> 24), t[4] = (unsigned char)(crc >> 16);
        t[5] = (unsigned char)(crc >> 8), t[6] = (unsigned char)crc;
    }
    return 16 + body;
}

static const char tlvs_sent[] = "\x01\x00\x08http/1.1"                         /* ALPN */
                                "\x02\x00\x0b"                                 /* AUTHORITY */
                                "example.com"                                  /* */
                                "\x05\x00\x0c"                                 /* UNIQUE_ID */
                                "conn-4242-xy"                                 /* */
                                "\xE1\x00\x02zz"                               /* custom */
                                "\x20\x00\x0b\x01\x00\x00\x00\x00\x22\x00\x03" /* SSL, CN */
                                "bob";

START_TEST(test_proxy_v2_tlvs)
{
    atomic_store(&tlv_closes, 0);
    tlv_at_close[0] = '\0';
    const tu_opt opts[] = {{TPS_OPT_WORKERS, 2}, TU_OPT_END};
    tps_server *srv = tu_server_start(&tlv_handler, NULL, opts, NULL, "proxy:127.0.0.1:0");
    unsigned char hdr[256];
    char line[256];
    for (int crc = 0; crc <= 1; crc++) {
        size_t n = v2_with_tlvs(hdr, tlvs_sent, sizeof tlvs_sent - 1, crc);
        int fd = tu_connect(tu_port(srv, 0), 0);
        ck_assert_int_eq(tu_write_all(fd, hdr, n, 1000), 0);
        read_line(fd, line, sizeof line);
        ck_assert_str_eq(line, "alpn=http/1.1 authority=example.com uid=conn-4242-xy cn=bob "
                               "netns=-\n");
        ck_assert_int_eq(tu_echo_roundtrip(fd, "ping", 4, 3000), 0); /* not eaten by the TLVs */
        close(fd);
        tu_wait_stat(srv, TPS_STAT_CLOSED, (uint64_t)crc + 1, 3000);
    }
    /* still there in on_close (written by the worker before CLOSED counts) */
    for (int i = 0; i < 500 && atomic_load(&tlv_closes) < 2; i++)
        tu_sleep_ms(10);
    ck_assert_int_eq(atomic_load(&tlv_closes), 2);
    ck_assert_str_eq(tlv_at_close, "conn-4242-xy");
    /* v1, and v2 without TLVs: nothing to find */
    int fd = tu_connect(tu_port(srv, 0), 0);
    ck_assert_int_eq(tu_write_all(fd, v1_tcp4, strlen(v1_tcp4), 1000), 0);
    read_line(fd, line, sizeof line);
    ck_assert_str_eq(line, "alpn=- authority=- uid=- cn=- netns=-\n");
    close(fd);
    fd = tu_connect(tu_port(srv, 0), 0);
    size_t n = v2_with_tlvs(hdr, "", 0, 0);
    ck_assert_int_eq(tu_write_all(fd, hdr, n, 1000), 0);
    read_line(fd, line, sizeof line);
    ck_assert_str_eq(line, "alpn=- authority=- uid=- cn=- netns=-\n");
    close(fd);
    ck_assert_uint_eq(tps_server_stat(srv, TPS_STAT_PROXY_ERRORS), 0);
    tps_server_free(srv);
    ck_assert_int_eq(atomic_load(&tlv_closes), 4);
}
END_TEST

/* Malformed TLVs close their connection unopened and are counted, while a
 * client already served on the same server goes on being served. Each
 * header is followed by data, as a balancer's would be. */
START_TEST(test_proxy_bad_tlvs)
{
    tps_server *srv = start_proxy_server(NULL);
    int ok = tu_connect(tu_port(srv, 0), 0);
    char line[128];
    ck_assert_int_eq(tu_write_all(ok, v1_tcp4, strlen(v1_tcp4), 1000), 0);
    read_line(ok, line, sizeof line);
    ck_assert_str_eq(line, "peer 203.0.113.7:51000\n");
    struct {
        const char *tlv;
        size_t len;
        int crc;
    } bad[] = {
        {"\x01\x00\x09h2", 5, 0},                        /* ALPN value past the length */
        {"\x04\x00", 2, 0},                              /* TLV header cut */
        {"\x03\x00\x03\0\0\0", 6, 0},                    /* CRC32C of 3 bytes */
        {"\x05\x00\x02id", 5, 1},                        /* good, then the CRC is broken */
        {"\x20\x00\x08\x01\0\0\0\0\x22\x00\x09", 11, 0}, /* SSL sub-TLV overrun */
    };
    int nbad = (int)(sizeof bad / sizeof bad[0]);
    for (int i = 0; i < nbad; i++) {
        unsigned char hdr[128];
        size_t n = v2_with_tlvs(hdr, bad[i].tlv, bad[i].len, bad[i].crc);
        if (bad[i].crc)
            hdr[n - 1] ^= 0x01;
        memcpy(hdr + n, "hello", 5);
        int fd = tu_connect(tu_port(srv, 0), 0);
        ck_assert_int_eq(tu_write_all(fd, hdr, n + 5, 1000), 0);
        long got = tu_drain(fd, 3000, NULL);
        ck_assert_msg(got == 0, "bad TLVs %d: %ld bytes came back (served?)", i, got);
        close(fd);
        ck_assert_int_eq(tu_echo_roundtrip(ok, "still here", 10, 3000), 0);
    }
    ck_assert_uint_eq(tu_wait_stat(srv, TPS_STAT_PROXY_ERRORS, (uint64_t)nbad, 3000),
                      (uint64_t)nbad);
    ck_assert_int_eq(atomic_load(&px_opens), 1);
    close(ok);
    tps_server_free(srv);
}
END_TEST

/* ---- trusted sources --------------------------------------------------------- */

/* Connect from src, send a valid header: 1 if served (greeted), 0 if
 * closed without a byte. */
static int served_from(tps_server *srv, unsigned idx, const char *src)
{
    int fd = tu_connect_from(src, tu_port(srv, idx));
    ck_assert_msg(fd >= 0, "connect from %s: %s", src, tps_strerror(fd));
    ck_assert_int_eq(tu_write_all(fd, v1_tcp4, strlen(v1_tcp4), 1000), 0);
    char c;
    long n = tu_read_exact(fd, &c, 1, 3000, NULL);
    if (n == 1)
        ck_assert_int_eq(c, 'p'); /* "peer ..." */
    else
        ck_assert_msg(n == 0 || n == -ECONNRESET, "from %s: read gave %ld", src, n);
    close(fd);
    return n == 1;
}

START_TEST(test_proxy_trust)
{
    char path[64], spec[80];
    snprintf(path, sizeof path, "/tmp/tps-check-proxy-%d.sock", (int)getpid());
    snprintf(spec, sizeof spec, "proxy:unix:%s", path);
    tps_server *srv = tu_server_new(&px_handler, NULL, NULL, NULL);
    atomic_store(&px_opens, 0);
    const char *malformed[] = {"",          "127.0.0.1/33", "127.0.0.1/",  "127.0.0.1/+8",
                               "localhost", "::1/129",      "10.0.0.0/8 ", "10.0/8"};
    for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++)
        ck_assert_msg(tps_server_proxy_trust(srv, malformed[i]) == TPS_EINVAL, "'%s' taken",
                      malformed[i]);
    ck_assert_int_eq(tps_server_proxy_trust(srv, NULL), TPS_EINVAL);
    ck_assert_int_eq(tps_server_proxy_trust(NULL, "127.0.0.1"), TPS_EINVAL);
    ck_assert_int_eq(tps_server_proxy_trust(srv, "127.0.0.1"), 0);
    ck_assert_int_eq(tps_server_proxy_trust(srv, "2001:db8::/32"), 0);
    ck_assert_int_eq(tps_server_listen(srv, "proxy:127.0.0.1:0"), 0);
    ck_assert_int_eq(tps_server_listen(srv, "127.0.0.1:0"), 0);
    ck_assert_int_eq(tps_server_listen(srv, spec), 0);
    ck_assert_int_eq(tps_server_start(srv), 0);
    ck_assert_int_eq(tps_server_proxy_trust(srv, "10.0.0.0/8"), TPS_EBUSY);

    ck_assert_msg(!served_from(srv, 0, "127.0.0.2"), "untrusted 127.0.0.2 was served");
    ck_assert_uint_eq(tu_wait_stat(srv, TPS_STAT_REJECTED_UNTRUSTED, 1, 3000), 1);
    ck_assert_int_eq(atomic_load(&px_opens), 0);
    ck_assert_msg(served_from(srv, 0, "127.0.0.1"), "trusted 127.0.0.1 was not served");
    /* a plain listener does not care, and a unix socket peer is trusted */
    int fd = tu_connect_from("127.0.0.2", tu_port(srv, 1));
    char line[128];
    read_line(fd, line, sizeof line);
    ck_assert_msg(strncmp(line, "peer 127.0.0.2:", 15) == 0, "plain listener gave '%s'", line);
    close(fd);
    fd = tu_connect_unix(path, 0);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(tu_write_all(fd, v1_tcp4, strlen(v1_tcp4), 1000), 0);
    read_line(fd, line, sizeof line);
    ck_assert_str_eq(line, "peer 203.0.113.7:51000\n");
    close(fd);
    ck_assert_uint_eq(tps_server_stat(srv, TPS_STAT_REJECTED_UNTRUSTED), 1);
    ck_assert_uint_eq(tps_server_stat(srv, TPS_STAT_PROXY_ERRORS), 0);
    tps_server_free(srv);

    /* a range that holds 127.0.0.2 lets it in */
    srv = tu_server_new(&px_handler, NULL, NULL, NULL);
    ck_assert_int_eq(tps_server_proxy_trust(srv, "127.0.0.0/8"), 0);
    ck_assert_int_eq(tps_server_listen(srv, "proxy:127.0.0.1:0"), 0);
    ck_assert_int_eq(tps_server_start(srv), 0);
    ck_assert_msg(served_from(srv, 0, "127.0.0.2"), "127.0.0.2 in 127.0.0.0/8 not served");
    tps_server_free(srv);

    /* a refused range leaves nothing behind: the list stays empty (anyone) */
    srv = tu_server_new(&px_handler, NULL, NULL, NULL);
    ck_assert_int_eq(tps_server_proxy_trust(srv, "127.0.0.1/40"), TPS_EINVAL);
    ck_assert_int_eq(tps_server_listen(srv, "proxy:127.0.0.1:0"), 0);
    ck_assert_int_eq(tps_server_start(srv), 0);
    ck_assert_msg(served_from(srv, 0, "127.0.0.2"), "a refused range still restricts");
    ck_assert_uint_eq(tps_server_stat(srv, TPS_STAT_REJECTED_UNTRUSTED), 0);
    tps_server_free(srv);
}
END_TEST

Suite *lib_proxy_suite(void)
{
    Suite *s = suite_create("lib_proxy");
    TCase *tc = tcase_create("proxy");
    tcase_set_timeout(tc, tu_timeout(20));
    tcase_add_test(tc, test_proxy_v1);
    tcase_add_test(tc, test_proxy_v2);
    tcase_add_test(tc, test_proxy_bad_headers);
    tcase_add_test(tc, test_proxy_per_client_cap);
    tcase_add_test(tc, test_proxy_random_headers);
    tcase_add_test(tc, test_proxy_header_timeout);
    tcase_add_test(tc, test_proxy_only_on_its_listener);
    tcase_add_test(tc, test_proxy_v2_tlvs);
    tcase_add_test(tc, test_proxy_bad_tlvs);
    tcase_add_test(tc, test_proxy_trust);
    suite_add_tcase(s, tc);
    return s;
}
