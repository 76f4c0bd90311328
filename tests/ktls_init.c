/* SPDX-License-Identifier: MIT */
/* ktls_init.c - the init (PID 1) of tests/ktls_vm.sh's virtual machine:
 * kernel TLS tested for real, on a kernel that has it.
 *
 * Built static (it is the initramfs's only program). It mounts /dev and
 * /proc, loads the modules listed in /modules.list in that order (tls.ko
 * and the AEADs it asks the crypto API for: nothing here can run modprobe
 * for it), brings up loopback, and serves a tls: listener of libtpserv
 * with an echo handler. An OpenSSL client in this process, which never
 * uses kTLS itself (so OpenSSL in user space checks every record the
 * kernel made), then runs one connection per case: TLS 1.2 and 1.3, each
 * with AES-GCM and ChaCha20-Poly1305. Each echoes sizes from one byte to
 * past 16 KiB records and 1 MiB, compared byte for byte, then asks the
 * server to close and expects its close_notify (a record the kernel sends
 * with its type attached). on_open's tps_conn_tls(TPS_TLS_KTLS) must say
 * "tx+rx" for TLS 1.2 and "none" for 1.3 (which the library keeps in user
 * space: a KeyUpdate, which the last case asks for, would break it); the
 * stats must count the same.
 *
 * The verdict is one line on the console, "KTLS-VM: PASS" or "KTLS-VM:
 * FAIL: ...", then the machine powers off. TPS_KTLS_OFF=1 on the kernel
 * command line (init's environment) sets no_ktls: the test must fail then,
 * which is how tests/ktls_vm.sh proves it can. TPS_KTLS_STRACE=1 (the
 * script then copies strace in) adds a measurement: the syscalls of the
 * server's worker thread over 1000 ping-pongs of 64 bytes, per version. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <dirent.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tpserv.h"

static int failures;

static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("KTLS-VM: ");
    vprintf(fmt, ap);
    printf("\n");
    fflush(stdout);
    va_end(ap);
}

static void bad(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("KTLS-VM: problem: ");
    vprintf(fmt, ap);
    printf("\n");
    fflush(stdout);
    va_end(ap);
    failures++;
}

static double uptime_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_BOOTTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void power_off(void)
{
    fflush(stdout);
    sync();
    reboot(RB_POWER_OFF);
    for (;;) /* PID 1 must not return: the kernel would panic */
        pause();
}

/* ---- the machine ------------------------------------------------------------ */

static void setup_console(void)
{
    mkdir("/dev", 0755);
    mkdir("/proc", 0555);
    mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
    mount("proc", "/proc", "proc", 0, NULL);
    int fd = open("/dev/console", O_RDWR);
    if (fd >= 0) {
        dup2(fd, 0), dup2(fd, 1), dup2(fd, 2);
        if (fd > 2)
            close(fd);
    }
}

/* Each line of /modules.list, in order; one already built in or loaded is
 * fine (EEXIST). */
static void load_modules(void)
{
    FILE *f = fopen("/modules.list", "r");
    char path[256];
    if (f == NULL) {
        bad("no /modules.list");
        return;
    }
    while (fgets(path, sizeof(path), f) != NULL) {
        path[strcspn(path, "\n")] = '\0';
        if (path[0] == '\0')
            continue;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || (syscall(SYS_finit_module, fd, "", 0) != 0 && errno != EEXIST))
            bad("module %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
    }
    fclose(f);
}

static void loopback_up(void)
{
    struct ifreq ifr = {0};
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
    if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) != 0) {
        bad("lo: %s", strerror(errno));
    } else {
        ifr.ifr_flags |= IFF_UP;
        if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0)
            bad("lo up: %s", strerror(errno));
    }
    if (s >= 0)
        close(s);
}

static void show_ulps(void)
{
    char ulp[128] = "(unreadable)";
    FILE *f = fopen("/proc/sys/net/ipv4/tcp_available_ulp", "r");
    if (f != NULL) {
        if (fgets(ulp, sizeof(ulp), f) == NULL)
            ulp[0] = '\0';
        ulp[strcspn(ulp, "\n")] = '\0';
        fclose(f);
    }
    say("tcp_available_ulp: %s", ulp);
}

/* ---- the server: echo, and "BYE\n" closes (with a close_notify) ---------------- */

static pthread_mutex_t seen_mu = PTHREAD_MUTEX_INITIALIZER;
static char seen_proto[32], seen_cipher[64], seen_ktls[16];

static int on_open(tps_conn *c)
{
    pthread_mutex_lock(&seen_mu);
    if (tps_conn_tls(c, TPS_TLS_PROTOCOL, seen_proto, sizeof(seen_proto)) < 0)
        snprintf(seen_proto, sizeof(seen_proto), "?");
    if (tps_conn_tls(c, TPS_TLS_CIPHER, seen_cipher, sizeof(seen_cipher)) < 0)
        snprintf(seen_cipher, sizeof(seen_cipher), "?");
    if (tps_conn_tls(c, TPS_TLS_KTLS, seen_ktls, sizeof(seen_ktls)) < 0)
        snprintf(seen_ktls, sizeof(seen_ktls), "?");
    pthread_mutex_unlock(&seen_mu);
    return 0;
}

static long on_data(tps_conn *c, const char *data, size_t len)
{
    if (len >= 4 && memcmp(data, "BYE\n", 4) == 0) {
        tps_conn_send(c, "bye\n", 4);
        return -1;
    }
    return tps_conn_send(c, data, len) < 0 ? -1 : (long)len;
}

static void on_log(void *ud, int level, const char *msg)
{
    (void)ud;
    printf("tpserv: [%s] %s\n", tps_log_level_name(level), msg);
}

static tps_server *start_server(bool ktls_off)
{
    static const tps_handler h = {.name = "ktls-echo", .on_open = on_open, .on_data = on_data};
    tps_tls_config cfg = {
        .cert_file = "/certs/server.pem",
        .key_file = "/certs/server.key",
        .ciphers = "ECDHE+AESGCM:ECDHE+CHACHA20",
        .ciphersuites = "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256",
        .no_ktls = ktls_off,
    };
    tps_server *srv = NULL;
    int rc = tps_server_new(&srv);
    if (rc == 0)
        rc = tps_server_set_handler(srv, &h, NULL);
    if (rc == 0)
        rc = tps_server_set_log(srv, on_log, NULL, TPS_LOG_INFO);
    if (rc == 0)
        rc = tps_server_set(srv, TPS_OPT_WORKERS, 1);
    if (rc == 0)
        rc = tps_server_tls(srv, &cfg);
    if (rc == 0)
        rc = tps_server_listen(srv, "tls:127.0.0.1:0");
    if (rc == 0)
        rc = tps_server_start(srv);
    if (rc != 0) {
        bad("server: %s", tps_strerror(rc));
        tps_server_free(srv);
        return NULL;
    }
    return srv;
}

/* ---- the client -------------------------------------------------------------- */

static int connect_to(int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/* Echo n bytes: write and read at once, non-blocking (a large echo would
 * fill both directions and stall otherwise). 1 if all came back equal. */
static int echo(SSL *ssl, int fd, const unsigned char *out, size_t n)
{
    unsigned char *in = malloc(n);
    size_t sent = 0, got = 0;
    double end = uptime_s() + 30;
    while (in != NULL && got < n && uptime_s() < end) {
        bool progress = false, want_out = false;
        if (sent < n) {
            int w = SSL_write(ssl, out + sent, (int)(n - sent > 16384 ? 16384 : n - sent));
            if (w > 0)
                sent += (size_t)w, progress = true;
            else if (SSL_get_error(ssl, w) == SSL_ERROR_WANT_WRITE)
                want_out = true;
            else if (SSL_get_error(ssl, w) != SSL_ERROR_WANT_READ)
                break;
        }
        int r = SSL_read(ssl, in + got, (int)(n - got));
        if (r > 0)
            got += (size_t)r, progress = true;
        else if (SSL_get_error(ssl, r) != SSL_ERROR_WANT_READ &&
                 SSL_get_error(ssl, r) != SSL_ERROR_WANT_WRITE)
            break;
        if (!progress) {
            struct pollfd p = {.fd = fd, .events = POLLIN | (want_out ? POLLOUT : 0)};
            poll(&p, 1, 100);
        }
    }
    int ok = in != NULL && got == n && memcmp(in, out, n) == 0;
    free(in);
    ERR_clear_error();
    return ok;
}

/* After "BYE\n": "bye\n", then the server's close_notify. */
static int bye(SSL *ssl, int fd)
{
    char buf[8];
    size_t got = 0;
    int fl = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    struct timeval tv = {.tv_sec = 10};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (SSL_write(ssl, "BYE\n", 4) != 4)
        return 0;
    while (got < 4) {
        int r = SSL_read(ssl, buf + got, 4 - (int)got);
        if (r <= 0)
            return 0;
        got += (size_t)r;
    }
    int r = SSL_read(ssl, buf, 1);
    int closed = r <= 0 && SSL_get_error(ssl, r) == SSL_ERROR_ZERO_RETURN;
    ERR_clear_error();
    return memcmp(buf, "bye\n", 4) == 0 && closed;
}

struct tcase {
    int version;
    const char *cipher; /* a TLS 1.2 cipher list, or a TLS 1.3 suite */
    const char *want;   /* the kernel's part that OpenSSL 3.0 offers */
    bool key_update;    /* the client asks for a key update halfway */
};

static void run_case(int port, const struct tcase *tc, const unsigned char *data)
{
    static const size_t sizes[] = {1, 64, 16383, 16384, 16385, 65539, 1u << 20};
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL *ssl = NULL;
    int fd = connect_to(port);
    const char *name = tc->version == TLS1_3_VERSION ? "TLSv1.3" : "TLSv1.2";
    if (ctx == NULL || fd < 0) {
        bad("%s: no client (%s)", name, strerror(errno));
        goto out;
    }
    SSL_CTX_set_min_proto_version(ctx, tc->version);
    SSL_CTX_set_max_proto_version(ctx, tc->version);
    SSL_CTX_load_verify_locations(ctx, "/certs/ca.pem", NULL);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    if (tc->version == TLS1_3_VERSION)
        SSL_CTX_set_ciphersuites(ctx, tc->cipher);
    else
        SSL_CTX_set_cipher_list(ctx, tc->cipher);
    ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    SSL_set_tlsext_host_name(ssl, "localhost");
    SSL_set1_host(ssl, "localhost");
    if (SSL_connect(ssl) != 1) {
        char why[256];
        ERR_error_string_n(ERR_get_error(), why, sizeof(why));
        bad("%s %s: handshake: %s", name, tc->cipher, why);
        goto out;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    size_t ok = 0, total = 0;
    double t0 = uptime_s();
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        if (tc->key_update && i == 3 && SSL_key_update(ssl, SSL_KEY_UPDATE_REQUESTED) != 1)
            bad("%s: SSL_key_update failed", name);
        if (echo(ssl, fd, data, sizes[i]))
            ok++;
        else
            bad("%s %s: echo of %zu bytes differs or stalled", name, tc->cipher, sizes[i]);
        total += sizes[i];
    }
    double secs = uptime_s() - t0;
    if (!bye(ssl, fd))
        bad("%s %s: no \"bye\" and close_notify after BYE", name, tc->cipher);
    pthread_mutex_lock(&seen_mu);
    say("%s %s: server saw %s %s, kernel path \"%s\" (want \"%s\"); %zu/%zu echoes "
        "(%zu bytes) byte for byte in %.2fs",
        name, SSL_get_cipher_name(ssl), seen_proto, seen_cipher, seen_ktls, tc->want, ok,
        sizeof(sizes) / sizeof(sizes[0]), total, secs);
    if (strcmp(seen_ktls, tc->want) != 0)
        bad("%s %s: kernel path \"%s\", want \"%s\"", name, tc->cipher, seen_ktls, tc->want);
    if (strcmp(seen_proto, name) != 0)
        bad("%s: the server negotiated %s", name, seen_proto);
    seen_ktls[0] = '\0';
    pthread_mutex_unlock(&seen_mu);
out:
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    if (fd >= 0)
        close(fd);
}

/* ---- the measurement (TPS_KTLS_STRACE=1) ---------------------------------------- */

/* The thread of this process named comm, or 0. */
static long find_thread(const char *comm)
{
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    long tid = 0;
    while (d != NULL && tid == 0 && (e = readdir(d)) != NULL) {
        char path[300], name[32] = "";
        snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
        FILE *f = fopen(path, "r");
        if (f == NULL)
            continue;
        if (fgets(name, sizeof(name), f) != NULL && strncmp(name, comm, strlen(comm)) == 0)
            tid = strtol(e->d_name, NULL, 10);
        fclose(f);
    }
    if (d != NULL)
        closedir(d);
    return tid;
}

static void measure(int port, int version, const char *cipher)
{
    enum { ROUNDS = 1000 };
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_min_proto_version(ctx, version);
    SSL_CTX_set_max_proto_version(ctx, version);
    if (version == TLS1_2_VERSION)
        SSL_CTX_set_cipher_list(ctx, cipher);
    SSL *ssl = SSL_new(ctx);
    int fd = connect_to(port);
    SSL_set_fd(ssl, fd);
    char msg[64], back[64];
    memset(msg, 'p', sizeof(msg));
    long tid = find_thread("tps-run-0");
    if (fd < 0 || SSL_connect(ssl) != 1 || tid == 0 || SSL_write(ssl, msg, 64) != 64 ||
        SSL_read(ssl, back, 64) <= 0) {
        bad("measure: no connection or no worker thread");
        goto out;
    }
    char tids[24];
    snprintf(tids, sizeof(tids), "%ld", tid);
    pid_t st = fork();
    if (st == 0) {
        execl("/usr/bin/strace", "strace", "-c", "-p", tids, "-o", "/strace.out", (char *)NULL);
        _exit(127);
    }
    sleep(2); /* attached */
    int ok = 0;
    for (int i = 0; i < ROUNDS; i++) {
        size_t got = 0;
        if (SSL_write(ssl, msg, 64) != 64)
            break;
        while (got < 64) {
            int r = SSL_read(ssl, back + got, 64 - (int)got);
            if (r <= 0)
                break;
            got += (size_t)r;
        }
        ok += got == 64;
    }
    char path[16];
    pthread_mutex_lock(&seen_mu);
    snprintf(path, sizeof(path), "%s", seen_ktls);
    pthread_mutex_unlock(&seen_mu);
    kill(st, SIGINT);
    waitpid(st, NULL, 0);
    say("strace -c of the worker thread, %s, kernel path \"%s\", %d ping-pongs of 64 bytes:",
        SSL_get_version(ssl), path, ok);
    FILE *f = fopen("/strace.out", "r");
    char line[256];
    while (f != NULL && fgets(line, sizeof(line), f) != NULL)
        printf("KTLS-VM: strace: %s", line);
    if (f != NULL)
        fclose(f);
    fflush(stdout);
out:
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    if (fd >= 0)
        close(fd);
}

int main(void)
{
    setup_console();
    say("init started at %.2fs after boot", uptime_s());
    const char *off = getenv("TPS_KTLS_OFF");
    bool ktls_off = off != NULL && strcmp(off, "1") == 0;
    load_modules();
    loopback_up();
    show_ulps();
    if (ktls_off)
        say("TPS_KTLS_OFF=1: the server is configured with no_ktls (this run must FAIL)");
    static const struct tcase cases[] = {
        {TLS1_2_VERSION, "ECDHE-ECDSA-AES128-GCM-SHA256", "tx+rx", false},
        {TLS1_2_VERSION, "ECDHE-ECDSA-CHACHA20-POLY1305", "tx+rx", false},
        {TLS1_3_VERSION, "TLS_AES_128_GCM_SHA256", "none", false},
        {TLS1_3_VERSION, "TLS_CHACHA20_POLY1305_SHA256", "none", false},
        /* What keeps TLS 1.3 in user space: a key update halfway. */
        {TLS1_3_VERSION, "TLS_AES_128_GCM_SHA256", "none", true},
    };
    enum { NCASES = sizeof(cases) / sizeof(cases[0]) };
    unsigned char *data = malloc(1u << 20);
    tps_server *srv = failures == 0 && data != NULL ? start_server(ktls_off) : NULL;
    if (srv != NULL) {
        for (size_t i = 0; i < (1u << 20); i++)
            data[i] = (unsigned char)('a' + (i * 7 + i / 26) % 26); /* never "BYE\n" */
        for (int i = 0; i < NCASES; i++)
            run_case(tps_server_port(srv, 0), &cases[i], data);
        const char *st = getenv("TPS_KTLS_STRACE");
        int extra = 0; /* the measurement's handshakes: one TLS 1.2, one 1.3 */
        if (st != NULL && strcmp(st, "1") == 0) {
            measure(tps_server_port(srv, 0), TLS1_2_VERSION, "ECDHE-ECDSA-AES128-GCM-SHA256");
            measure(tps_server_port(srv, 0), TLS1_3_VERSION, NULL);
            extra = 1;
        }
        uint64_t tx = tps_server_stat(srv, TPS_STAT_TLS_KTLS_TX);
        uint64_t rx = tps_server_stat(srv, TPS_STAT_TLS_KTLS_RX);
        uint64_t hs = tps_server_stat(srv, TPS_STAT_TLS_HANDSHAKES);
        say("stats: %llu handshakes, kernel encrypts %llu, decrypts %llu", (unsigned long long)hs,
            (unsigned long long)tx, (unsigned long long)rx);
        if (hs != (uint64_t)(NCASES + 2 * extra) || tx != (uint64_t)(2 + extra) ||
            rx != (uint64_t)(2 + extra))
            bad("stats: want %d handshakes, %d kernel-encrypted and decrypted", NCASES + 2 * extra,
                2 + extra);
        tps_server_free(srv);
    }
    free(data);
    say("done at %.2fs after boot", uptime_s());
    if (failures == 0)
        say("PASS");
    else
        say("FAIL: %d problem(s)", failures);
    power_off();
}
