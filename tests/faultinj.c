/* SPDX-License-Identifier: MIT */
/* faultinj.c - an LD_PRELOAD shim that makes a fraction of the server's
 * system calls fail or come up short, the way the kernel is allowed to,
 * so that a test can see whether every caller copes (tests/server_faults.sh).
 * Built by the test suite only (tests/libfaultinj.la), never installed,
 * never linked into a program: load it into the server alone, not into
 * the clients that check it.
 *
 * WHICH FAULTS ON WHICH CALLS. Only what the kernel could really return at
 * that point is injected; a fault the kernel never produces would make the
 * test measure the shim, not the server.
 * - EINTR on every intercepted call: POSIX allows it on each of them and
 *   Linux returns it whenever a blocking call meets a signal handler
 *   (epoll_wait, poll and sigwaitinfo even with SA_RESTART). The call does
 *   nothing (the real call is not made), exactly like an interrupted one.
 * - read: EINTR only, and only on sockets and eventfds. No short read and
 *   no EAGAIN: the server's sockets are edge-triggered (epoll(7)), and a
 *   stream read that comes back short or with EAGAIN is taken as "drained"
 *   by design, so a fake one would strand data no new edge announces.
 * - write: on sockets EINTR or a short count (a nonblocking write may take
 *   part of the buffer); on eventfds EINTR only (an 8-byte eventfd write is
 *   all or nothing, and EAGAIN there means the counter is already high,
 *   which a fake could not make true). Other descriptors (stderr, files,
 *   pipes) are left alone: the shim is about the server's I/O, not its log.
 * - recv: EINTR only (same edge-triggered reason as read: no EAGAIN, no
 *   short count).
 * - send: EINTR or a short count (at least one byte sent). No spurious
 *   EAGAIN: the server would wait for an EPOLLOUT edge that never comes.
 * - accept4: EINTR, and EAGAIN on a nonblocking listener (another process
 *   or thread may have taken the pending connection first; the listener
 *   stays readable, so level-triggered poll reports it again).
 * - epoll_wait, poll, sigwaitinfo: EINTR.
 * The symbols are the ones tpserver really imports (`nm -D server/tpserver`:
 * read, write, recv, send, accept4, epoll_wait, poll, sigwaitinfo); calls
 * glibc makes internally (stdio's write) do not go through the PLT and are
 * not seen, which is what we want.
 *
 * CONFIGURATION (environment, read once at load)
 *   TPS_FAULT_RATE    probability that an intercepted call is faulted
 *                     (default 0.05)
 *   TPS_FAULT_CALLS   comma-separated calls to fault, each optionally with
 *                     its own rate: "write=0.5,recv,send" (default: all of
 *                     the calls above at TPS_FAULT_RATE; "none": count only)
 *   TPS_FAULT_SEED    seed (default 1)
 *   TPS_FAULT_THREADS comma-separated prefixes of the names of the threads
 *                     to fault, e.g. "tpserver" (the main thread, which
 *                     calls tps_server_stop) or "tps-run-,tps-accept"
 *                     (default: every thread). Calls are counted in all.
 *   TPS_FAULT_REPORT  file the summary is appended to at exit (default
 *                     stderr). One line per call:
 *                     "faultinj: write calls=N eintr=N eagain=N short=N"
 *                     plus "faultinj: total injected=N". A process that
 *                     does not exit normally writes no summary.
 *
 * DETERMINISM AND THREADS. Each thread draws from its own xorshift64*
 * streams, one per call, seeded from the seed, the thread's name (tpserv
 * names its threads: tps-accept, tps-run-N, ...) and the call. So the
 * n-th write of thread tps-run-1 is faulted or not for a given seed
 * whatever the other threads do; what varies from run to run is only how
 * many calls a thread makes. The counters are atomics. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

enum call {
    C_READ,
    C_WRITE,
    C_RECV,
    C_SEND,
    C_ACCEPT4,
    C_EPOLL_WAIT,
    C_POLL,
    C_SIGWAITINFO,
    NCALLS
};
enum fault { F_NONE, F_EINTR, F_EAGAIN, F_SHORT, NFAULTS };

static const char *const call_name[NCALLS] = {
    "read", "write", "recv", "send", "accept4", "epoll_wait", "poll", "sigwaitinfo",
};

/* Rates as thresholds on a 32-bit draw: 0 = never, 2^32 = always. */
static uint64_t threshold[NCALLS];
static uint64_t seed = 1;
static const char *report_path;
static const char *threads; /* TPS_FAULT_THREADS, NULL = all */

/* Counters: [call][0] = calls seen, [call][fault] = faults injected. */
static uint64_t counts[NCALLS][NFAULTS];

static void count(enum call c, enum fault f)
{
    __atomic_fetch_add(&counts[c][f], 1, __ATOMIC_RELAXED);
}

/* ---- the real functions -------------------------------------------------- */

static __typeof__(read) *real_read;
static __typeof__(write) *real_write;
static __typeof__(recv) *real_recv;
static __typeof__(send) *real_send;
static __typeof__(accept4) *real_accept4;
static __typeof__(epoll_wait) *real_epoll_wait;
static __typeof__(poll) *real_poll;
static __typeof__(sigwaitinfo) *real_sigwaitinfo;

/* Resolve on first use too: a call may come before our constructor runs. */
#define REAL(name)                                                                    \
    ({                                                                                \
        __typeof__(real_##name) f_ = __atomic_load_n(&real_##name, __ATOMIC_ACQUIRE); \
        if (f_ == NULL) {                                                             \
            f_ = (__typeof__(real_##name))dlsym(RTLD_NEXT, #name);                    \
            if (f_ == NULL)                                                           \
                abort();                                                              \
            __atomic_store_n(&real_##name, f_, __ATOMIC_RELEASE);                     \
        }                                                                             \
        f_;                                                                           \
    })

/* ---- configuration ------------------------------------------------------- */

static uint64_t rate_threshold(const char *s)
{
    double r = strtod(s, NULL);
    if (!(r > 0))
        return 0;
    if (r >= 1)
        return UINT64_C(1) << 32;
    return (uint64_t)(r * 4294967296.0);
}

static void configure(void)
{
    const char *s = getenv("TPS_FAULT_SEED");
    if (s != NULL && *s != '\0')
        seed = strtoull(s, NULL, 0);
    s = getenv("TPS_FAULT_RATE");
    uint64_t dflt = rate_threshold(s != NULL && *s != '\0' ? s : "0.05");
    report_path = getenv("TPS_FAULT_REPORT");
    threads = getenv("TPS_FAULT_THREADS");
    if (threads != NULL && *threads == '\0')
        threads = NULL;
    s = getenv("TPS_FAULT_CALLS");
    if (s == NULL || *s == '\0') {
        for (int c = 0; c < NCALLS; c++)
            threshold[c] = dflt;
        return;
    }
    char list[512];
    snprintf(list, sizeof(list), "%s", s);
    for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok != NULL;
         tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        if (eq != NULL)
            *eq = '\0';
        int c = 0;
        while (c < NCALLS && strcmp(tok, call_name[c]) != 0)
            c++;
        if (c < NCALLS)
            threshold[c] = eq != NULL ? rate_threshold(eq + 1) : dflt;
        else if (strcmp(tok, "none") != 0)
            fprintf(stderr, "faultinj: unknown call '%s' in TPS_FAULT_CALLS\n", tok);
    }
}

__attribute__((constructor)) static void faultinj_init(void)
{
    configure();
    (void)REAL(read), (void)REAL(write), (void)REAL(recv), (void)REAL(send);
    (void)REAL(accept4), (void)REAL(epoll_wait), (void)REAL(poll), (void)REAL(sigwaitinfo);
}

__attribute__((destructor)) static void faultinj_report(void)
{
    char line[200];
    int fd = 2;
    if (report_path != NULL && *report_path != '\0') {
        fd = open(report_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd < 0)
            fd = 2;
    }
    uint64_t total = 0;
    for (int c = 0; c < NCALLS; c++) {
        uint64_t v[NFAULTS];
        for (int f = 0; f < NFAULTS; f++)
            v[f] = __atomic_load_n(&counts[c][f], __ATOMIC_RELAXED);
        total += v[F_EINTR] + v[F_EAGAIN] + v[F_SHORT];
        int n = snprintf(
            line, sizeof(line), "faultinj: %s calls=%llu eintr=%llu eagain=%llu short=%llu\n",
            call_name[c], (unsigned long long)v[F_NONE], (unsigned long long)v[F_EINTR],
            (unsigned long long)v[F_EAGAIN], (unsigned long long)v[F_SHORT]);
        (void)!REAL(write)(fd, line, (size_t)n);
    }
    int n =
        snprintf(line, sizeof(line), "faultinj: total injected=%llu\n", (unsigned long long)total);
    (void)!REAL(write)(fd, line, (size_t)n);
    if (fd != 2)
        close(fd);
}

/* ---- per-thread draws ---------------------------------------------------- */

static __thread uint64_t state[NCALLS];
static __thread int seeded;
static __thread bool faulted; /* this thread is one of TPS_FAULT_THREADS */

static uint64_t splitmix64(uint64_t x)
{
    x += UINT64_C(0x9e3779b97f4a7c15);
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

static bool name_listed(const char *name)
{
    for (const char *p = threads; p != NULL && *p != '\0';) {
        size_t n = strcspn(p, ",");
        if (n > 0 && strncmp(name, p, n) == 0)
            return true;
        p += n + (p[n] == ',');
    }
    return false;
}

static void seed_thread(void)
{
    char name[17] = "";
    uint64_t h = UINT64_C(0xcbf29ce484222325); /* FNV-1a of the thread's name */
    if (prctl(PR_GET_NAME, name, 0, 0, 0) != 0)
        name[0] = '\0';
    faulted = threads == NULL || name_listed(name);
    for (const char *p = name; *p; p++)
        h = (h ^ (unsigned char)*p) * UINT64_C(0x100000001b3);
    for (int c = 0; c < NCALLS; c++) {
        state[c] = splitmix64(seed ^ splitmix64(h + (uint64_t)c));
        if (state[c] == 0)
            state[c] = 1;
    }
    seeded = 1;
}

static uint64_t draw(enum call c)
{
    if (!seeded)
        seed_thread();
    uint64_t x = state[c]; /* xorshift64* */
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    state[c] = x;
    return (x * UINT64_C(0x2545f4914f6cdd1d)) >> 32;
}

/* Should this call be faulted? Counts the call; one draw per call, always,
 * so that a thread's sequence does not depend on descriptors' kinds. */
static bool hit(enum call c)
{
    count(c, F_NONE);
    return draw(c) < threshold[c] && faulted;
}

/* ---- descriptor kinds ---------------------------------------------------- */

enum kind { K_OTHER, K_SOCKET, K_EVENTFD };

static enum kind fd_kind(int fd)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return K_OTHER;
    if (S_ISSOCK(st.st_mode))
        return K_SOCKET;
    if ((st.st_mode & S_IFMT) != 0) /* anonymous inodes have no type bits */
        return K_OTHER;
    char path[64], target[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    ssize_t n = readlink(path, target, sizeof(target) - 1);
    if (n < 0)
        return K_OTHER;
    target[n] = '\0';
    return strcmp(target, "anon_inode:[eventfd]") == 0 ? K_EVENTFD : K_OTHER;
}

static ssize_t fail(enum call c, enum fault f, int err)
{
    count(c, f);
    errno = err;
    return -1;
}

/* A length that is short but not empty, for len >= 2. */
static size_t short_len(enum call c, size_t len)
{
    return 1 + (size_t)(draw(c) % (len - 1));
}

/* ---- the wrappers ------------------------------------------------------- */

ssize_t read(int fd, void *buf, size_t len)
{
    if (hit(C_READ) && fd_kind(fd) != K_OTHER)
        return fail(C_READ, F_EINTR, EINTR);
    return REAL(read)(fd, buf, len);
}

ssize_t write(int fd, const void *buf, size_t len)
{
    if (hit(C_WRITE)) {
        enum kind k = fd_kind(fd);
        if (k == K_EVENTFD || (k == K_SOCKET && (len < 2 || (draw(C_WRITE) & 1))))
            return fail(C_WRITE, F_EINTR, EINTR);
        if (k == K_SOCKET) {
            count(C_WRITE, F_SHORT);
            return REAL(write)(fd, buf, short_len(C_WRITE, len));
        }
    }
    return REAL(write)(fd, buf, len);
}

ssize_t recv(int fd, void *buf, size_t len, int flags)
{
    if (hit(C_RECV))
        return fail(C_RECV, F_EINTR, EINTR);
    return REAL(recv)(fd, buf, len, flags);
}

ssize_t send(int fd, const void *buf, size_t len, int flags)
{
    if (hit(C_SEND)) {
        if (len < 2 || (draw(C_SEND) & 1))
            return fail(C_SEND, F_EINTR, EINTR);
        count(C_SEND, F_SHORT);
        return REAL(send)(fd, buf, short_len(C_SEND, len), flags);
    }
    return REAL(send)(fd, buf, len, flags);
}

int accept4(int fd, __SOCKADDR_ARG addr, socklen_t *restrict addrlen, int flags)
{
    if (hit(C_ACCEPT4)) {
        int fl = fcntl(fd, F_GETFL);
        if (fl >= 0 && (fl & O_NONBLOCK) && (draw(C_ACCEPT4) & 1))
            return (int)fail(C_ACCEPT4, F_EAGAIN, EAGAIN);
        return (int)fail(C_ACCEPT4, F_EINTR, EINTR);
    }
    return REAL(accept4)(fd, addr, addrlen, flags);
}

int epoll_wait(int epfd, struct epoll_event *evs, int max, int timeout)
{
    if (hit(C_EPOLL_WAIT))
        return (int)fail(C_EPOLL_WAIT, F_EINTR, EINTR);
    return REAL(epoll_wait)(epfd, evs, max, timeout);
}

int poll(struct pollfd *fds, nfds_t n, int timeout)
{
    if (hit(C_POLL))
        return (int)fail(C_POLL, F_EINTR, EINTR);
    return REAL(poll)(fds, n, timeout);
}

int sigwaitinfo(const sigset_t *set, siginfo_t *info)
{
    if (hit(C_SIGWAITINFO))
        return (int)fail(C_SIGWAITINFO, F_EINTR, EINTR);
    return REAL(sigwaitinfo)(set, info);
}
