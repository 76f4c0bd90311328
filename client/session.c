/* SPDX-License-Identifier: MIT */
/* session.c - tpclient's exchange on a connected socket: one poll loop over
 * the socket and stdin, so sending never waits for a reply and a server
 * that answers while we still send (an echo of megabytes) cannot deadlock
 * us. The loop owns the decision of when the exchange is over and which
 * exit code that deserves: expectations met (--lines, --expect-bytes), peer
 * closed, connection reset, or --timeout of silence. Silence is only
 * counted while we are not waiting for stdin: a slow typist is not idle. */
#include "client.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define SEND_BUF 65536
#define RECV_BUF 65536

struct session {
    const struct tpc_opts *o;
    int fd;
    struct tpc_tls *tls; /* --tls: bytes go through it; else NULL */
    int notify_pending;  /* --tls: our close_notify waits for POLLOUT */
    char *err;
    size_t errlen;

    /* Send side: sbuf[soff..slen) is waiting for the socket. It is refilled
     * from the -m unit (message + eol, `msgs_left` more copies, the current
     * one sent up to unit_off) or from stdin. */
    char *unit;
    size_t unit_len, unit_off;
    uint64_t msgs_left;
    int use_stdin, stdin_open, prev_cr;
    int shut_wr;
    size_t soff, slen;
    char sbuf[SEND_BUF];

    uint64_t tx_bytes, rx_bytes, rx_lines;
    long long last_progress; /* ms; silence is measured from here */
    long long sent_all_at;   /* ms when everything was sent, for -q; 0 = not yet */
    char rbuf[RECV_BUF];
};

static int say(struct session *s, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records the message for main.c and returns code. */
static int say(struct session *s, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->err, s->errlen, fmt, ap);
    va_end(ap);
    return code;
}

static int expecting(const struct session *s)
{
    return s->o->lines > 0 || s->o->expect_bytes > 0;
}

static int send_idle(const struct session *s)
{
    return s->soff == s->slen;
}

/* Everything that will ever be sent has been sent. */
static int send_complete(const struct session *s)
{
    return send_idle(s) && (s->use_stdin ? !s->stdin_open : s->msgs_left == 0);
}

static int waiting_for_stdin(const struct session *s)
{
    return s->use_stdin && s->stdin_open && send_idle(s);
}

/* "3 of 5 lines", "10 of 64 bytes" or both, for messages. */
static void progress_text(const struct session *s, char *buf, size_t len)
{
    int n = 0;
    buf[0] = '\0';
    if (s->o->lines)
        n = snprintf(buf, len, "%llu of %llu lines", (unsigned long long)s->rx_lines,
                     (unsigned long long)s->o->lines);
    if (s->o->expect_bytes && n >= 0 && (size_t)n < len)
        snprintf(buf + n, len - (size_t)n, "%s%llu of %llu bytes", n ? ", " : "",
                 (unsigned long long)s->rx_bytes, (unsigned long long)s->o->expect_bytes);
}

/* Writes all of buf to stdout, through partial writes, EINTR and a
 * non-blocking stdout inherited from the caller. Returns 0 or an errno. */
static int write_stdout(const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(STDOUT_FILENO, buf, len);
        if (n < 0 && errno == EAGAIN) {
            struct pollfd p = {.fd = STDOUT_FILENO, .events = POLLOUT};
            poll(&p, 1, -1);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

static uint64_t count_newlines(const char *buf, size_t len)
{
    uint64_t n = 0;
    for (const char *p = buf, *end = buf + len; (p = memchr(p, '\n', (size_t)(end - p))) != NULL;
         p++)
        n++;
    return n;
}

/* Where in buf[0..len) the expectations become met, or -1 if they are not
 * met within it. Cutting there keeps the output independent of how TCP
 * happened to split the reply. */
static long satisfied_at(const struct session *s, const char *buf, size_t len)
{
    size_t cut = 0;
    uint64_t eb = s->o->expect_bytes, el = s->o->lines;
    if (eb > s->rx_bytes) {
        if (eb - s->rx_bytes > len)
            return -1;
        cut = (size_t)(eb - s->rx_bytes);
    }
    if (el > s->rx_lines) {
        uint64_t need = el - s->rx_lines;
        const char *p = buf, *end = buf + len;
        while (need > 0 && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
            p++;
            need--;
        }
        if (need > 0)
            return -1;
        if ((size_t)(p - buf) > cut)
            cut = (size_t)(p - buf);
    }
    return (long)cut;
}

/* Accounts and prints received bytes. Returns -1 to go on, or an exit
 * code when the expectations are met or stdout failed. */
static int got_data(struct session *s, const char *buf, size_t len)
{
    long cut = expecting(s) ? satisfied_at(s, buf, len) : -1;
    size_t use = cut >= 0 ? (size_t)cut : len;
    s->rx_bytes += use;
    if (s->o->lines)
        s->rx_lines += count_newlines(buf, use);
    s->last_progress = tpc_now_ms();
    int e = s->o->quiet ? 0 : write_stdout(buf, use);
    if (e == EPIPE)
        return say(s, TPC_EXIT_ERROR, "%s", ""); /* reader left: no noise */
    if (e != 0)
        return say(s, TPC_EXIT_ERROR, "writing to stdout: %s", strerror(e));
    return cut >= 0 ? TPC_EXIT_OK : -1;
}

/* recv() and send(), or their TLS look-alikes (same errno terms). */
static long io_recv(struct session *s, void *buf, size_t len)
{
    return s->tls ? tpc_tls_recv(s->tls, buf, len) : (long)recv(s->fd, buf, len, MSG_DONTWAIT);
}

static long io_send(struct session *s, const void *buf, size_t len)
{
    return s->tls ? tpc_tls_send(s->tls, buf, len) : (long)send(s->fd, buf, len, MSG_NOSIGNAL);
}

/* The peer closed (read 0) or its receive side is gone. */
static int peer_closed(struct session *s)
{
    char prog[128];
    if (s->tls && s->o->verbose)
        fprintf(stderr, "tpclient: the peer ended TLS %s\n",
                tpc_tls_truncated(s->tls) ? "without a close_notify" : "with a close_notify");
    if (expecting(s)) {
        progress_text(s, prog, sizeof prog);
        return say(s, TPC_EXIT_CLOSED,
                   "peer closed the connection before the expected reply "
                   "(received %s)",
                   prog);
    }
    if (!s->use_stdin && !send_complete(s))
        return say(s, TPC_EXIT_CLOSED, "peer closed the connection before all messages were sent");
    return TPC_EXIT_OK;
}

/* One read from the socket. Returns -1 to go on, or an exit code. */
static int on_readable(struct session *s)
{
    long n = io_recv(s, s->rbuf, sizeof s->rbuf);
    if (n > 0)
        return got_data(s, s->rbuf, (size_t)n);
    if (n == 0)
        return peer_closed(s);
    if (errno == EAGAIN || errno == EINTR)
        return -1;
    if (errno == ECONNRESET)
        return say(s, TPC_EXIT_CLOSED, "connection reset by peer");
    if (errno == EPROTO && s->tls)
        return say(s, TPC_EXIT_TLS, "TLS error: %s", tpc_tls_error(s->tls));
    return say(s, TPC_EXIT_ERROR, "recv() failed: %s", strerror(errno));
}

/* Tops up sbuf with copies of the -m unit; any unit size works, as copies
 * are cut at the buffer's end and resumed at unit_off. */
static void fill_from_message(struct session *s)
{
    if (s->soff == s->slen)
        s->soff = s->slen = 0;
    while (s->msgs_left > 0 && s->slen < sizeof s->sbuf) {
        size_t n = s->unit_len - s->unit_off, room = sizeof s->sbuf - s->slen;
        if (n > room)
            n = room;
        memcpy(s->sbuf + s->slen, s->unit + s->unit_off, n);
        s->slen += n;
        s->unit_off += n;
        if (s->unit_off == s->unit_len) {
            s->unit_off = 0;
            s->msgs_left--;
        }
    }
}

/* --crlf on stdin: each \n not already preceded by \r becomes \r\n. */
static size_t to_crlf(struct session *s, const char *in, size_t len, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (in[i] == '\n' && !s->prev_cr)
            out[o++] = '\r';
        out[o++] = in[i];
        s->prev_cr = in[i] == '\r';
    }
    return o;
}

/* One read from stdin into the (empty) send buffer. Returns -1 to go on,
 * or an exit code. */
static int on_stdin(struct session *s)
{
    char *dst = s->o->crlf ? s->rbuf : s->sbuf; /* rbuf is free between reads */
    size_t cap = s->o->crlf ? sizeof s->sbuf / 2 : sizeof s->sbuf;
    ssize_t n = read(STDIN_FILENO, dst, cap);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return -1;
    if (n < 0 && errno == EBADF) /* started with stdin closed: no input */
        n = 0;
    if (n < 0)
        return say(s, TPC_EXIT_ERROR, "reading stdin: %s", strerror(errno));
    s->last_progress = tpc_now_ms(); /* silence counts from now on */
    if (n == 0) {
        s->stdin_open = 0;
        return -1;
    }
    s->soff = 0;
    s->slen = s->o->crlf ? to_crlf(s, dst, (size_t)n, s->sbuf) : (size_t)n;
    return -1;
}

/* The peer stopped reading (EPIPE/ECONNRESET on send): print what it still
 * sent us, then report. Expectations met meanwhile still count as done. */
static int send_refused(struct session *s, int error)
{
    long n;
    while ((n = io_recv(s, s->rbuf, sizeof s->rbuf)) > 0) {
        int rc = got_data(s, s->rbuf, (size_t)n);
        if (rc >= 0)
            return rc;
    }
    return say(s, TPC_EXIT_CLOSED, "%s while sending",
               error == EPIPE ? "peer closed the connection" : "connection reset by peer");
}

/* Sends as much of sbuf as the socket takes. Returns -1 to go on, or an
 * exit code. */
static int on_writable(struct session *s)
{
    while (s->soff < s->slen) {
        long n = io_send(s, s->sbuf + s->soff, s->slen - s->soff);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return -1;
        if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
            return send_refused(s, errno);
        if (n < 0 && errno == EPROTO && s->tls)
            return say(s, TPC_EXIT_TLS, "TLS error: %s", tpc_tls_error(s->tls));
        if (n < 0)
            return say(s, TPC_EXIT_ERROR, "send() failed: %s", strerror(errno));
        s->soff += (size_t)n;
        s->tx_bytes += (uint64_t)n;
        s->last_progress = tpc_now_ms();
        if (!s->use_stdin && s->soff == s->slen)
            fill_from_message(s);
    }
    return -1;
}

static int timed_out(struct session *s)
{
    char prog[128];
    long t = s->o->timeout_ms;
    if (expecting(s)) {
        progress_text(s, prog, sizeof prog);
        return say(s, TPC_EXIT_TIMEOUT, "timed out after %ld ms without data (received %s)", t,
                   prog);
    }
    if (!send_complete(s))
        return say(s, TPC_EXIT_TIMEOUT, "timed out after %ld ms: the peer takes no more data", t);
    return TPC_EXIT_OK; /* no reply was required: silence ends the wait */
}

/* -q: the wait after everything was sent is over. Like silence, that is
 * the end unless a reply was required and has not come. */
static int quit_after_eof(struct session *s)
{
    char prog[128];
    if (!expecting(s))
        return TPC_EXIT_OK;
    progress_text(s, prog, sizeof prog);
    return say(s, TPC_EXIT_TIMEOUT, "quit %ld ms after sending everything (received %s)",
               s->o->quit_after_eof_ms, prog);
}

/* Milliseconds left of -q's wait (>= 0), or -1 if it is not running. */
static long long quit_left(const struct session *s)
{
    if (s->o->quit_after_eof_ms < 0 || s->sent_all_at == 0)
        return -1;
    long long left = s->sent_all_at + s->o->quit_after_eof_ms - tpc_now_ms();
    return left < 0 ? 0 : left;
}

/* Half-closes once everything is sent, when that is what the mode wants:
 * always at the end of stdin, after -m only with --half-close. Over TLS
 * our close_notify goes first (it may wait for POLLOUT), then the TCP
 * half close, so the peer sees a clean end of TLS and of the stream. */
static void maybe_shutdown(struct session *s)
{
    if (s->shut_wr || !send_complete(s))
        return;
    if (!s->use_stdin && !s->o->half_close)
        return;
    if (s->tls) {
        int r = tpc_tls_close_notify(s->tls);
        s->notify_pending = r == 0;
        if (r == 0)
            return;
    }
    shutdown(s->fd, SHUT_WR);
    s->shut_wr = 1;
}

/* poll() timeout for the next turn: -1 while waiting for stdin or with no
 * --timeout, else what is left of the silence allowance (>= 0). */
static int poll_timeout(const struct session *s)
{
    long long quit = quit_left(s);
    if (s->o->timeout_ms == 0 || waiting_for_stdin(s))
        return (int)quit;
    long long left = s->last_progress + s->o->timeout_ms - tpc_now_ms();
    if (left < 0)
        left = 0;
    return (int)(quit >= 0 && quit < left ? quit : left);
}

static int loop(struct session *s)
{
    for (;;) {
        maybe_shutdown(s);
        if (s->sent_all_at == 0 && send_complete(s))
            s->sent_all_at = tpc_now_ms();
        /* TLS: bytes already read into it are invisible to poll; a TLS
         * read may wait for POLLOUT, and so may our close_notify. */
        int pending = s->tls && tpc_tls_pending(s->tls);
        int tls_out = s->tls && (tpc_tls_wants_write(s->tls) || s->notify_pending);
        struct pollfd p[2] = {
            {.fd = s->fd, .events = POLLIN | (send_idle(s) && !tls_out ? 0 : POLLOUT)},
            {.fd = waiting_for_stdin(s) ? STDIN_FILENO : -1, .events = POLLIN},
        };
        int wait = pending ? 0 : poll_timeout(s);
        int n = poll(p, 2, wait);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return say(s, TPC_EXIT_ERROR, "poll() failed: %s", strerror(errno));
        if (pending)
            p[0].revents |= POLLIN;
        if (tls_out && send_idle(s) && (p[0].revents & POLLOUT))
            p[0].revents |= POLLIN; /* what waited for POLLOUT was a read */
        if (n == 0 && !pending && wait >= 0 && quit_left(s) == 0)
            return quit_after_eof(s);
        if (n == 0 && !pending && wait >= 0 && poll_timeout(s) == 0)
            return timed_out(s);
        int rc = -1;
        if (p[0].revents & (POLLIN | POLLHUP | POLLERR))
            rc = on_readable(s);
        if (rc < 0 && (p[0].revents & POLLOUT))
            rc = on_writable(s);
        if (rc < 0 && p[1].revents) /* POLLIN, POLLHUP, POLLNVAL: read tells */
            rc = on_stdin(s);
        if (rc >= 0)
            return rc;
    }
}

/* The -m unit: message + line ending, sent `count` times. */
static int setup_message(struct session *s)
{
    const struct tpc_opts *o = s->o;
    size_t eol = strlen(o->eol);
    s->unit_len = o->message_len + eol;
    s->unit = malloc(s->unit_len + 1);
    if (!s->unit)
        return say(s, TPC_EXIT_ERROR, "out of memory");
    memcpy(s->unit, o->message, o->message_len);
    memcpy(s->unit + o->message_len, o->eol, eol);
    s->msgs_left = s->unit_len > 0 ? o->count : 0; /* empty: nothing to send */
    fill_from_message(s);
    return -1;
}

int tpc_session_run(const struct tpc_opts *o, int fd, struct tpc_tls *tls, char *err,
                    size_t errlen)
{
    struct session *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return TPC_EXIT_ERROR;
    }
    s->o = o;
    s->fd = fd;
    s->tls = tls;
    s->err = err;
    s->errlen = errlen;
    s->use_stdin = o->message == NULL;
    s->stdin_open = s->use_stdin;
    s->last_progress = tpc_now_ms();
    int rc = s->use_stdin ? -1 : setup_message(s);
    if (rc < 0)
        rc = loop(s);
    if (o->verbose)
        fprintf(stderr, "tpclient: sent %llu bytes, received %llu bytes\n",
                (unsigned long long)s->tx_bytes, (unsigned long long)s->rx_bytes);
    free(s->unit);
    free(s);
    return rc;
}
