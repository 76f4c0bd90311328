/* SPDX-License-Identifier: MIT */
/* tpserv.h - the whole public API of libtpserv, a thread-pool multi-client
 * TCP server library.
 *
 * An acceptor thread accepts connections on one or more listeners and hands
 * the descriptors through a bounded queue to a pool of worker threads. Each
 * worker runs an epoll loop over the connections it adopted and calls the
 * handler's callbacks. A handler that may block says so, and a worker
 * blocked in one of its callbacks is handed to a spare thread, so that a
 * blocked call stalls only its own connection.
 *
 * Conventions: functions return 0 or a negative TPS_E* code (never answer
 * through errno alone). Handles are opaque. The library never prints, never
 * exits and never installs signal handlers; it reports through the log
 * callback set with tps_server_set_log(). SIGPIPE cannot reach the host
 * from it: its socket writes use MSG_NOSIGNAL, and kernel TLS writes (which
 * OpenSSL makes with write()) run on its threads, which block all signals. */
#ifndef TPSERV_H
#define TPSERV_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TPS_VERSION_MAJOR 0
#define TPS_VERSION_MINOR 1
#define TPS_VERSION_PATCH 0

/* The library's version as "MAJOR.MINOR.PATCH" (static storage). */
const char *tps_version(void);

/* ---- errors ------------------------------------------------------------ */

/* X(name, value, message). Values are negated errno numbers, so that a
 * failed syscall's errno passes through unchanged (libuv's convention). */
#define TPS_ERRNO_MAP(X)                                                \
    X(EINVAL, -EINVAL, "invalid argument")                              \
    X(ENOMEM, -ENOMEM, "out of memory")                                 \
    X(EAGAIN, -EAGAIN, "resource temporarily unavailable, try again")   \
    X(EBUSY, -EBUSY, "server is running; option cannot be changed now") \
    X(EALREADY, -EALREADY, "operation already in progress")             \
    X(ENOENT, -ENOENT, "no such entry")                                 \
    X(ERANGE, -ERANGE, "value out of range")                            \
    X(ENAMETOOLONG, -ENAMETOOLONG, "name too long")                     \
    X(EADDRINUSE, -EADDRINUSE, "address already in use")                \
    X(EADDRNOTAVAIL, -EADDRNOTAVAIL, "address not available")           \
    X(EAFNOSUPPORT, -EAFNOSUPPORT, "address family not supported")      \
    X(EACCES, -EACCES, "permission denied")                             \
    X(EMFILE, -EMFILE, "too many open files")                           \
    X(ENFILE, -ENFILE, "file table overflow")                           \
    X(ENOBUFS, -ENOBUFS, "no buffer space available")                   \
    X(ENOTCONN, -ENOTCONN, "connection is closed or closing")           \
    X(ENOTSOCK, -ENOTSOCK, "descriptor is not a listening socket")      \
    X(ECONNRESET, -ECONNRESET, "connection reset by peer")              \
    X(ETIMEDOUT, -ETIMEDOUT, "timed out")                               \
    X(ENOSYS, -ENOSYS, "not supported on this system")                  \
    X(EHOSTUNREACH, -EHOSTUNREACH, "host unreachable")                  \
    X(EAI, -3000, "host name could not be resolved")                    \
    X(ENOTSUP, -ENOTSUP, "not supported by this build")                 \
    X(ETLS, -3001, "TLS certificate, key or setting refused")

enum tps_errno {
#define TPS_ERR_ENUM_(name, val, msg) TPS_##name = (val),
    TPS_ERRNO_MAP(TPS_ERR_ENUM_)
#undef TPS_ERR_ENUM_
};

/* A message for a TPS_E* code (or any negated errno). Static storage,
 * thread-safe; unknown codes give "unknown error". */
const char *tps_strerror(int err);
/* The code's name, e.g. "EADDRINUSE" (static storage; "UNKNOWN" if none). */
const char *tps_err_name(int err);

/* ---- logging ----------------------------------------------------------- */

enum tps_log_level { TPS_LOG_ERROR = 0, TPS_LOG_WARN = 1, TPS_LOG_INFO = 2, TPS_LOG_DEBUG = 3 };

/* Called from any library thread (acceptor or worker), possibly
 * concurrently: it must be thread-safe. msg is valid only during the call,
 * has no trailing newline and names the failed syscall and errno where one
 * failed, e.g. "accept4() failed: Too many open files". */
typedef void (*tps_log_fn)(void *ud, int level, const char *msg);

/* Level names "error", "warn", "info", "debug"; parse returns the level or
 * TPS_EINVAL. */
const char *tps_log_level_name(int level);
int tps_log_level_parse(const char *name);

/* ---- connections and handlers ------------------------------------------ */

typedef struct tps_server tps_server;
typedef struct tps_conn tps_conn;

/* Why a connection closed; passed to on_close. */
#define TPS_CLOSE_REASON_MAP(X)                         \
    X(PEER, "peer closed the connection")               \
    X(ERROR, "socket error")                            \
    X(HANDLER, "closed by the handler")                 \
    X(IDLE_TIMEOUT, "idle timeout")                     \
    X(SEND_TIMEOUT, "send timeout: peer does not read") \
    X(INPUT_LIMIT, "input buffer limit exceeded")       \
    X(OUTPUT_LIMIT, "output buffer limit exceeded")     \
    X(SHUTDOWN, "server shutting down")                 \
    X(PROXY, "bad or missing PROXY protocol header")    \
    X(RESET, "reset by the peer")                       \
    X(TLS, "TLS handshake failed or timed out, or a bad TLS record")

enum tps_close_reason {
#define TPS_CLOSE_ENUM_(name, msg) TPS_CLOSE_##name,
    TPS_CLOSE_REASON_MAP(TPS_CLOSE_ENUM_)
#undef TPS_CLOSE_ENUM_
        TPS_CLOSE_REASON_COUNT_
};
const char *tps_close_reason_str(int reason);

/* Handler flags. */
enum {
    /* Callbacks may block (sleep, disk, database). A callback that has run
     * for about a millisecond gets its worker handed to a spare thread, so
     * the worker's other connections go on being served; the blocked
     * thread finishes its connection's turn when the callback returns and
     * becomes a spare. So a blocked callback stalls only its own
     * connection (others wait at most ~2 ms), as long as fewer callbacks
     * block at once than TPS_OPT_SPARE_THREADS. Costs a lock/unlock and a
     * clock read per callback; nothing per message otherwise. */
    TPS_HANDLER_MAY_BLOCK = 1u << 0
};

/* A handler: a set of callbacks, all optional except on_data (a NULL
 * on_data discards input). tps_server_set_handler() copies it, with its
 * size: callbacks appended in later versions of this header are NULL for
 * a program built against an earlier one, so the struct may grow without
 * breaking programs already built. Initialise it with designated
 * initialisers (unnamed members are then NULL).
 *
 * Threads: callbacks of one connection are never called concurrently and
 * always see each other's writes. Callbacks of different connections run
 * concurrently on different workers. Inside a callback the tps_conn * is
 * valid; it must not be kept past on_close. */
typedef struct tps_handler {
    const char *name;
    unsigned flags; /* TPS_HANDLER_* */

    /* A new connection was adopted by a worker. Return 0 to keep it, or a
     * negative value to close it (on_close is then not called). May send. */
    int (*on_open)(tps_conn *c);

    /* data[0..len) is all input buffered for c (previous leftovers first).
     * Return how many bytes were consumed (0..len); the rest stays buffered
     * and is presented again, extended, when more arrives. Return a
     * negative value to close the connection. data is valid only during the
     * call. */
    long (*on_data)(tps_conn *c, const char *data, size_t len);

    /* The output buffer of c became empty after a flush. Lets a producer
     * (chargen, file streaming) send the next chunk without unbounded
     * buffering. Called at most once per loop turn of the worker. */
    void (*on_writable)(tps_conn *c);

    /* The server started a graceful stop. The connection is served on
     * until its peer has been quiet for TPS_OPT_LINGER_MS, then closed
     * (gracefully) once its output is flushed, or at the drain deadline;
     * a handler may send a goodbye or close it here. */
    void (*on_shutdown)(tps_conn *c);

    /* c is closing for `reason` (enum tps_close_reason); release per-
     * connection state here. No sending. */
    void (*on_close)(tps_conn *c, int reason);

    /* The library is about to close c for a limit the peer overran:
     * today `reason` is TPS_CLOSE_INPUT_LIMIT (the peer sent more than
     * TPS_OPT_MAX_INPUT that on_data left unconsumed). A last chance to
     * tell the peer why in the protocol's own words ("-ERR line too
     * long"): what is sent here is flushed, then the connection is closed
     * gracefully (see TPS_OPT_LINGER_MS), so the peer reads it and then
     * EOF. The unconsumed input is dropped and no more is delivered;
     * on_close(c, reason) follows. Optional. */
    void (*on_limit)(tps_conn *c, int reason);
} tps_handler;

/* The default handler: echoes every byte back. */
extern const tps_handler tps_echo_handler;

/* Queue output for c; it is written after the current callback returns
 * (one write per turn). The caller's buffer may be reused at once: the
 * bytes are copied, except a slice of on_data's input, which is written
 * from where it lies (echoing costs no copy). Only from a callback of c
 * (its worker's thread; other threads use tps_server_conn_send()).
 * Returns 0, TPS_ENOTCONN if c is closing, TPS_ENOBUFS if the output
 * would pass TPS_OPT_MAX_OUTPUT, or TPS_ENOMEM if memory for it ran out;
 * on either error nothing is queued and c is closed with
 * TPS_CLOSE_OUTPUT_LIMIT after what was queued before is written. Above
 * TPS_OPT_OUTPUT_HIGH_WATER the library stops reading c until the peer
 * has read enough (backpressure). */
int tps_conn_send(tps_conn *c, const void *data, size_t len);

/* Bytes queued for c and not yet written. Only from a callback of c. */
size_t tps_conn_pending(const tps_conn *c);

/* Close c once its queued output is written (bounded by the send timeout),
 * gracefully (see TPS_OPT_LINGER_MS). Deferred: safe inside any callback
 * of c; no further on_data. Only from a callback of c (other threads:
 * tps_server_conn_close()). */
void tps_conn_close(tps_conn *c);

/* A 64-bit id unique for the life of the server (slot and generation), so
 * a reused descriptor number never names another client. Only from a
 * callback of c; the id itself may go to any thread (tps_server_conn_*). */
uint64_t tps_conn_id(const tps_conn *c);

/* The peer address as "1.2.3.4:5", "[::1]:5" or "unix" into buf (the
 * caller's). Returns 0 or TPS_ENOBUFS/TPS_EINVAL. Only from a callback of
 * c. */
int tps_conn_peer(const tps_conn *c, char *buf, size_t len);

/* PROXY protocol v2 TLVs (the spec's PP2_TYPE_* and PP2_SUBTYPE_SSL_*):
 * what the balancer says about the client besides its address. */
enum tps_pp2_type {
    TPS_PP2_TYPE_ALPN = 0x01,      /* the negotiated application protocol */
    TPS_PP2_TYPE_AUTHORITY = 0x02, /* host name the client asked for (SNI) */
    TPS_PP2_TYPE_CRC32C = 0x03,    /* checksum of the header (verified) */
    TPS_PP2_TYPE_NOOP = 0x04,      /* padding */
    TPS_PP2_TYPE_UNIQUE_ID = 0x05, /* the balancer's id of the connection */
    TPS_PP2_TYPE_SSL = 0x20,       /* client (1 byte), verify (4), sub-TLVs */
    TPS_PP2_TYPE_NETNS = 0x30,     /* network namespace name */
    /* Sub-TLVs of TPS_PP2_TYPE_SSL, looked up as TPS_PP2_SSL_SUB(type). */
    TPS_PP2_SUBTYPE_SSL_VERSION = 0x21,
    TPS_PP2_SUBTYPE_SSL_CN = 0x22,
    TPS_PP2_SUBTYPE_SSL_CIPHER = 0x23,
    TPS_PP2_SUBTYPE_SSL_SIG_ALG = 0x24,
    TPS_PP2_SUBTYPE_SSL_KEY_ALG = 0x25
};
#define TPS_PP2_SSL_SUB(subtype) (0x100u | (unsigned)(subtype))

/* The first TLV of `type` (0..255, any type: unknown and custom ones
 * 0xE0-0xEF are kept) in the PROXY v2 header c came with: 0 and *value,
 * *len, or TPS_ENOENT if there is none (also for a connection without a
 * v2 header, or whose header was LOCAL). TPS_PP2_TYPE_SSL gives the whole
 * SSL value; TPS_PP2_SSL_SUB(TPS_PP2_SUBTYPE_SSL_CN) and the like give a
 * sub-TLV from inside it. Values are bytes as sent, not NUL-terminated.
 * The header was validated before on_open: every length fits, a CRC32C
 * TLV matched. Only from a callback of c (like tps_conn_peer()). The
 * memory is the library's, valid until on_close returns. */
int tps_conn_proxy_tlv(const tps_conn *c, unsigned type, const void **value, size_t *len);

/* What a TLS connection negotiated, as text into buf (NUL-terminated,
 * truncated to len): the string's length, or TPS_ENOENT if c is not a
 * TLS connection or has no such value (no ALPN, no SNI, no client
 * certificate). Only from a callback of c. */
enum tps_tls_item {
    TPS_TLS_PROTOCOL,     /* "TLSv1.3" */
    TPS_TLS_CIPHER,       /* "TLS_AES_256_GCM_SHA384" */
    TPS_TLS_ALPN,         /* the protocol chosen */
    TPS_TLS_SNI,          /* the server name the client asked for (a
                             resumed TLS 1.2 session: the one it was
                             made for) */
    TPS_TLS_PEER_SUBJECT, /* the verified client certificate's subject */
    TPS_TLS_RESUMED,      /* "1" if the session was resumed, else "0" */
    TPS_TLS_KTLS          /* which directions the kernel encrypts or
                             decrypts (kernel TLS): "tx+rx", "tx", "rx" or
                             "none" (see tps_tls_config.no_ktls) */
};
int tps_conn_tls(const tps_conn *c, enum tps_tls_item item, char *buf, size_t len);

/* Per-connection pointer for the handler (NULL at on_open); the library
 * never dereferences or frees it (on_close is where the handler does).
 * Only from a callback of c. */
void *tps_conn_get_data(const tps_conn *c);
void tps_conn_set_data(tps_conn *c, void *data);

/* The server's handler pointer (tps_server_set_handler's ud). From any
 * callback. */
void *tps_conn_handler_data(const tps_conn *c);

/* ---- reaching a connection from other threads ---------------------------- */

/* Thread-safe, from any thread: an application thread, or a callback of
 * another connection. Queue len bytes for the connection whose
 * tps_conn_id() is id; its worker writes them, in the order queued,
 * between turns (after the callback that runs now, if one does). Returns
 * 0 once queued, TPS_ENOTCONN if no open connection has this id (a closed
 * connection's id never names a newer one), TPS_ENOBUFS if
 * TPS_OPT_MAX_OUTPUT bytes already wait for that connection's worker (it,
 * or the peer, is not keeping up: try later), TPS_ENOMEM or TPS_EINVAL.
 * Data queued for a connection that closes before it is written is
 * dropped; the connection's own output limits apply as for
 * tps_conn_send(). Call between tps_server_start() and tps_server_free(). */
int tps_server_conn_send(tps_server *srv, uint64_t id, const void *data, size_t len);

/* Thread-safe: close the connection whose id is id once what was queued
 * for it before is written (as tps_conn_close()). 0, TPS_ENOTCONN,
 * TPS_ENOMEM or TPS_EINVAL. */
int tps_server_conn_close(tps_server *srv, uint64_t id);

/* ---- server ------------------------------------------------------------- */

/* Integer options. X(name, default, min, max, description). 0 means "auto"
 * where the description says so. Set them before tps_server_start().
 *
 * DEFER_ACCEPT_MS sets TCP_DEFER_ACCEPT on TCP listeners: the kernel
 * finishes the handshake but hands the connection over only when the
 * client's first bytes arrive, so they are there when the worker adopts
 * it. That spares a wakeup per connection (measured on connection churn), but it
 * only suits protocols where the client speaks first: a greeting sent from
 * on_open waits until the client says something. A silent client is
 * accepted anyway after about this long (rounded up to whole seconds, then
 * to the kernel's SYN-ACK retransmission steps: 1, 3, 7, 15 s...); until
 * then it holds no descriptor, does not count in MAX_CONNS or the stats,
 * and takes a place in the listen backlog.
 *
 * BUSY_POLL_US trades CPU for latency: a worker with nothing to do polls
 * its connections without sleeping for up to this long before it sleeps.
 * A peer whose next message comes within that time then does not pay for
 * waking the worker, which is most of a round trip on loopback or a VM
 * (measured: one connection's p50 56 -> 20 us at 50 us). The cost
 * is that a worker stays busy for this long after every burst of work:
 * up to a whole core per worker under steady light load, nothing when
 * idle. Give busy-polling workers cores of their own; on a core shared
 * with the clients it slows both.
 *
 * LINGER_MS is how long the library waits for a peer to go quiet before a
 * close can no longer cut a reply (nginx's lingering_timeout). A close
 * that follows output (the handler's, a limit's, a graceful stop's) is
 * never a bare close(): a close() with unread input makes the kernel
 * answer with a reset, and the peer then loses the reply that was still
 * in flight. So the output is flushed, the write side shut (the peer
 * reads EOF after the last byte), and the peer's further input is read
 * and discarded until its own EOF, or until it has sent nothing for
 * LINGER_MS, before the descriptor is closed. A peer that never pauses
 * that long is cut off LINGER_MAX_MS after the close began (nginx's
 * lingering_time; it then may lose the reply's unread end, but it is
 * sending into a closed connection and holds a descriptor meanwhile).
 * During a graceful stop a connection keeps being served until it has
 * been quiet (no input) for LINGER_MS since the stop began or since its
 * last input, whichever is later; then it is closed that same way. An
 * upload in progress is finished, and idle connections let the stop end
 * after about LINGER_MS instead of the whole drain time. 0: close at once
 * (a reset where input is unread), and a stop closes each connection as
 * soon as it owes nothing. */
#define TPS_OPTION_MAP(X)                                                                     \
    X(WORKERS, 0, 0, 1024, "worker threads (0 = number of online CPUs)")                      \
    X(QUEUE, 1024, 1, 1048576, "accept queue capacity (descriptors)")                         \
    X(QUEUE_FULL_REJECT, 0, 0, 1,                                                             \
      "when the queue is full: 0 = stop accepting, 1 = answer busy and close")                \
    X(MAX_CONNS, 0, 0, 16777216, "max connections (0 = derive from RLIMIT_NOFILE)")           \
    X(MAX_CONNS_PER_IP, 0, 0, 16777216, "max connections per source address (0 = no cap)")    \
    X(MAX_INPUT, 1048576, 64, 1073741824, "max unconsumed input per connection, bytes")       \
    X(OUTPUT_HIGH_WATER, 1048576, 1, 1073741824,                                              \
      "queued output above which reading pauses, bytes")                                      \
    X(MAX_OUTPUT, 16777216, 1, 1073741824, "max queued output per connection, bytes")         \
    X(IDLE_TIMEOUT_MS, 0, 0, 86400000, "close after this long idle (0 = never)")              \
    X(SEND_TIMEOUT_MS, 30000, 0, 86400000,                                                    \
      "close if queued output makes no progress this long (0 = never)")                       \
    X(BACKLOG, 4096, 1, 1048576, "listen() backlog")                                          \
    X(REUSEPORT, 0, 0, 1, "SO_REUSEPORT on listeners")                                        \
    X(NODELAY, 1, 0, 1, "TCP_NODELAY on accepted connections")                                \
    X(SPARE_THREADS, 64, 0, 4096,                                                             \
      "may-block handlers: threads that may take over workers blocked in callbacks")          \
    X(PROXY_TIMEOUT_MS, 10000, 0, 86400000,                                                   \
      "proxy: listeners: close if the PROXY header is not whole after this long (0 = never)") \
    X(DEFER_ACCEPT_MS, 0, 0, 3600000,                                                         \
      "TCP listeners: accept a connection once its first bytes arrive (0 = at once)")         \
    X(BUSY_POLL_US, 0, 0, 1000000,                                                            \
      "a worker polls this long for more events before it sleeps (0 = sleeps at once)")       \
    X(LINGER_MS, 1000, 0, 600000,                                                             \
      "graceful close and stop: how long a peer must be quiet before the close (0 = at once)") \
    X(TLS_HANDSHAKE_TIMEOUT_MS, 10000, 0, 86400000,                                          \
      "tls: listeners: close if the TLS handshake is not done after this long (0 = never)") \
    X(TLS_HANDSHAKE_OFFLOAD, 0, 0, 1,                                                        \
      "tls: listeners: the step that answers a ClientHello runs in SCHED_IDLE threads, not "   \
      "in the workers, so that a flood of handshakes delays established connections less")    \
    X(TLS_HANDSHAKE_RATE, 0, 0, 16777216,                                                    \
      "tls: listeners: new TLS connections accepted per second at most; more wait to be "    \
      "accepted (0 = no cap)")                                                               \
    X(TLS_MAX_HANDSHAKES, 1024, 0, 16777216,                                                 \
      "tls: listeners: handshakes in progress at most; more wait to be accepted (0 = no cap)") \
    X(TLS_TICKET_KEY_MS, 3600000, 1000, 86400000,                                           \
      "tls: listeners: session ticket keys are replaced this often (the last one still resumes)") \
    X(LINGER_MAX_MS, 30000, 100, 86400000,                                                   \
      "graceful close: a peer that keeps sending is cut off after this long in all")

enum tps_option {
#define TPS_OPT_ENUM_(name, def, min, max, desc) TPS_OPT_##name,
    TPS_OPTION_MAP(TPS_OPT_ENUM_)
#undef TPS_OPT_ENUM_
        TPS_OPT_COUNT_
};

/* Statistics. Counters are totals since start; ACTIVE and QUEUED are
 * current values. */
#define TPS_STAT_MAP(X)                                                     \
    X(ACCEPTED, "connections accepted")                                     \
    X(ACTIVE, "connections open now")                                       \
    X(QUEUED, "accepted descriptors waiting in the queue now")              \
    X(CLOSED, "connections closed")                                         \
    X(REJECTED_QUEUE_FULL, "rejected: accept queue full")                   \
    X(REJECTED_MAX_CONNS, "rejected: max connections")                      \
    X(REJECTED_PER_IP, "rejected: per-address cap")                         \
    X(REJECTED_EMFILE, "shed: out of descriptors")                          \
    X(REJECTED_HANDLER, "rejected by on_open")                              \
    X(ACCEPT_PAUSES, "times accepting paused (queue full, limits, EMFILE)") \
    X(BYTES_IN, "bytes read")                                               \
    X(BYTES_OUT, "bytes written")                                           \
    X(IDLE_TIMEOUTS, "closed: idle timeout")                                \
    X(SEND_TIMEOUTS, "closed: send timeout")                                \
    X(INPUT_LIMIT, "closed: input limit")                                   \
    X(OUTPUT_LIMIT, "closed: output limit")                                 \
    X(ERRORS, "closed: socket errors other than a reset")                   \
    X(BACKPRESSURE, "times reading paused for backpressure")                \
    X(HANDOFFS, "workers handed to a spare thread (callback blocked)")      \
    X(PROXY_ERRORS, "closed: bad or missing PROXY protocol header")         \
    X(RESETS, "closed: reset by the peer")                                  \
    X(REJECTED_UNTRUSTED, "rejected: proxy: connection from an untrusted address") \
    X(TLS_HANDSHAKES, "TLS handshakes completed")                                 \
    X(TLS_RESUMED, "TLS handshakes that resumed a session")                       \
    X(TLS_FAIL_VERSION, "TLS handshakes failed: not TLS, or a version refused")   \
    X(TLS_FAIL_CERT, "TLS handshakes failed: client certificate missing or bad")  \
    X(TLS_FAIL_OTHER, "TLS handshakes failed: no shared cipher, alert, other")    \
    X(TLS_HANDSHAKE_TIMEOUTS, "closed: TLS handshake not done in time")           \
    X(TLS_RECORD_ERRORS, "closed: bad TLS record after the handshake")            \
    X(TLS_NO_CLOSE_NOTIFY, "TLS peers that ended without a close_notify")         \
    X(TLS_KTLS_TX, "TLS handshakes after which the kernel encrypts (kTLS)")       \
    X(TLS_KTLS_RX, "TLS handshakes after which the kernel decrypts (kTLS)")

enum tps_stat {
#define TPS_STAT_ENUM_(name, desc) TPS_STAT_##name,
    TPS_STAT_MAP(TPS_STAT_ENUM_)
#undef TPS_STAT_ENUM_
        TPS_STAT_COUNT_
};

/* Latency histograms since start, in nanoseconds, log-linear buckets
 * (a reported value is within ~3% of the true one). */
#define TPS_HIST_MAP(X)                                                \
    X(QUEUE_WAIT, "accept to adoption by a worker (the accept queue)") \
    X(HANDLER, "one on_data call")                                     \
    X(TLS_HANDSHAKE, "a TLS handshake, from its start to done")

enum tps_hist {
#define TPS_HIST_ENUM_(name, desc) TPS_HIST_##name,
    TPS_HIST_MAP(TPS_HIST_ENUM_)
#undef TPS_HIST_ENUM_
        TPS_HIST_COUNT_
};

/* Create a server with default options and the echo handler. Returns 0 and
 * sets *out, or TPS_ENOMEM. Free with tps_server_free(). */
int tps_server_new(tps_server **out);

/* Stop (immediately, no drain) if running, join every thread, close every
 * descriptor and free. NULL is a no-op. Not from a callback. */
void tps_server_free(tps_server *srv);

/* Set an integer option. TPS_EINVAL for an unknown option, TPS_ERANGE for a
 * value outside [min, max], TPS_EBUSY once started. Before start, from the
 * thread that owns srv. */
int tps_server_set(tps_server *srv, enum tps_option opt, long long value);
/* The option's current value into *value (the default until set; auto
 * values are resolved by tps_server_start()): 0, or TPS_EINVAL for an
 * unknown option or a NULL argument (*value is then untouched). From the
 * thread that owns srv, or any thread once it is started (options no
 * longer change then). */
int tps_server_get(const tps_server *srv, enum tps_option opt, long long *value);
/* Lower-case option name ("max_conns") and description; NULL if unknown.
 * Static storage, any thread. */
const char *tps_option_name(enum tps_option opt);
const char *tps_option_desc(enum tps_option opt);

/* Handler for new connections, and the pointer tps_conn_handler_data()
 * returns. *h is copied (it need not outlive the call). Before start,
 * from the thread that owns srv. TPS_EBUSY once started, TPS_EINVAL if h
 * is NULL, TPS_ENOSYS if h sets a callback this library does not know
 * (a program built against a newer header). A macro, so that the size
 * of the caller's tps_handler travels with it (see tps_handler). */
#define tps_server_set_handler(srv, h, ud) \
    tps_server_set_handler_size((srv), (h), sizeof(*(h)), (ud))
int tps_server_set_handler_size(tps_server *srv, const tps_handler *h, size_t size, void *ud);

/* Log callback and the most verbose level passed to it. fn may be NULL (the
 * default: nothing is logged). Before start, from the thread that owns
 * srv. */
int tps_server_set_log(tps_server *srv, tps_log_fn fn, void *ud, int level);

/* Bind and listen now (so errors show before start; from the thread that
 * owns srv, before tps_server_start(): TPS_EBUSY after): "HOST:PORT",
 * "[V6ADDR]:PORT", ":PORT" or "*:PORT" (all addresses, dual-stack IPv6 and
 * IPv4), "unix:/path" (a stale socket file is replaced). PORT 0 picks a
 * free port; see tps_server_address(). TPS_EINVAL for a malformed spec,
 * TPS_EAI for an unknown host, or the bind/listen error.
 * A "proxy:" prefix ("proxy:127.0.0.1:7000") makes a listener for a load
 * balancer that speaks the PROXY protocol (HAProxy's send-proxy or
 * send-proxy-v2, nginx's proxy_protocol): every connection must start with
 * a v1 or v2 header, which the library consumes; on_open runs after it,
 * tps_conn_peer() and the per-address cap see the client it names, and
 * tps_conn_proxy_tlv() what else a v2 header says. A connection with a
 * bad header is closed (TPS_STAT_PROXY_ERRORS). Anyone who can connect to
 * such a listener can claim any address: bind it where only the balancer
 * reaches it, or name the balancers with tps_server_proxy_trust(). A
 * header not whole within TPS_OPT_PROXY_TIMEOUT_MS of the accept closes
 * the connection too. */
int tps_server_listen(tps_server *srv, const char *spec);

/* Accept PROXY headers only from the balancers: once at least one range is
 * given, a connection to a proxy: listener from an address outside every
 * range is closed as it is accepted, before a byte of it is read
 * (TPS_STAT_REJECTED_UNTRUSTED); unix socket peers are always trusted
 * (the socket file's permissions guard them). cidr is "10.0.0.0/8",
 * "127.0.0.1" (one address), "::1/128" or "2001:db8::/32"; an IPv4 range
 * also matches IPv4-mapped IPv6 peers (::ffff:10.1.2.3) of a dual-stack
 * listener. Repeatable. Before start: TPS_EBUSY once started, TPS_EINVAL
 * for a malformed cidr (nothing is added), TPS_ENOMEM. */
int tps_server_proxy_trust(tps_server *srv, const char *cidr);

/* ---- TLS ---------------------------------------------------------------
 * A "tls:" listener ("tls:127.0.0.1:7443", "tls:unix:/path") serves TLS
 * with the configuration of tps_server_tls(); "proxy:tls:" expects the
 * PROXY header first, then the TLS handshake (HAProxy's send-proxy with
 * ssl). The handler is the same as over plain TCP: on_open runs once the
 * handshake is done, on_data sees plaintext, tps_conn_send encrypts, and
 * backpressure, limits, timeouts, the lingering close (a close_notify
 * first) and the drain behave as over TCP. A handshake not done within
 * TPS_OPT_TLS_HANDSHAKE_TIMEOUT_MS, a failed one or a bad record later
 * closes the connection (TPS_CLOSE_TLS, counted by reason in the
 * TPS_STAT_TLS_* stats). Sessions resume with tickets sealed by keys the
 * server replaces every TPS_OPT_TLS_TICKET_KEY_MS (set the TLS options
 * before tps_server_tls()). Needs a library built with OpenSSL 3: otherwise
 * tps_server_tls() and a tls: listener give TPS_ENOTSUP. */
enum tps_tls_verify {
    TPS_TLS_VERIFY_NONE = 0,     /* no client certificate asked for */
    TPS_TLS_VERIFY_OPTIONAL = 1, /* asked for; one that is sent must verify */
    TPS_TLS_VERIFY_REQUIRED = 2  /* a client without a good one is refused */
};

/* A certificate chosen by the name a client asks for (SNI): see
 * tps_tls_config.certs. */
typedef struct tps_tls_cert {
    const char *cert_file; /* PEM: the certificate, then its chain */
    const char *key_file;  /* PEM private key; NULL: it is in cert_file */
} tps_tls_cert;

typedef struct tps_tls_config {
    const char *cert_file;   /* PEM: the certificate, then its chain; the
                                default, for a client that asks for no
                                name or one no certificate serves */
    const char *key_file;    /* PEM private key; NULL: it is in cert_file */
    const char *ca_file;     /* PEM CAs for client certificates, or NULL */
    int verify_client;       /* enum tps_tls_verify; needs ca_file */
    const char *min_version; /* "1.2" (NULL: the default) or "1.3" */
    const char *ciphers;     /* TLS 1.2 cipher list (OpenSSL syntax); NULL:
                                ECDHE with AES-GCM or ChaCha20-Poly1305 */
    const char *ciphersuites; /* TLS 1.3 suites (OpenSSL syntax), or NULL */
    const char *alpn;        /* "h2,http/1.1": protocols in our order of
                                preference; a client offering none of them
                                is refused; NULL: no ALPN */
    int no_tickets;          /* 1: no session tickets (resumption is on) */
    int no_ktls;             /* 1: never kernel TLS. 0 (default): where the
                                kernel offers the "tls" ULP, a TLS 1.2
                                connection over TCP with AES-GCM or
                                ChaCha20-Poly1305 has the kernel encrypt
                                and decrypt its records after the
                                handshake (TLS 1.3 never: OpenSSL 3.0
                                cannot pass a KeyUpdate's new key on);
                                tps_conn_tls TPS_TLS_KTLS tells which */
    /* More certificates, chosen by the name the client asks for
     * (server_name, SNI). The names a certificate serves are read from
     * it: its subjectAltName DNS entries, or its subject's CN if it has
     * none; "*.example.com" serves x.example.com (one label, not
     * y.x.example.com nor example.com). A client's name, in any case,
     * gets the certificate with that exact name, else the one with a
     * wildcard for it, else cert_file. Of two certificates with the same
     * name the first given wins: cert_file, then certs[] in order (one
     * that wins no name is logged as never chosen). A session resumes
     * only under the certificate it was made under; a client that offers
     * another's gets a full handshake. NULL and 0 (the default): one
     * certificate. The caller owns the array; it is read during the call
     * only. (An older caller's smaller struct has neither: one certificate.) */
    const tps_tls_cert *certs;
    size_t ncerts;
} tps_tls_config;

/* Load the certificates, keys and settings for tls: listeners: 0, or
 * TPS_ETLS (the log says which file or setting and why: nothing changes
 * then, not even the certificates that were good), TPS_EINVAL (bad
 * min_version, verify_client without ca_file, no_ktls other than 0 or
 * 1, ncerts without certs, an entry of certs without cert_file),
 * TPS_ENOTSUP (built without OpenSSL), TPS_ENOMEM. The files are read
 * now; cfg need not outlive the call. Any thread, any time, also while
 * the server runs: connections accepted afterwards use the new
 * configuration, all its certificates at once; established ones keep
 * theirs (certificate rotation without a restart). A macro, so the
 * caller's struct size travels. */
#define tps_server_tls(srv, cfg) tps_server_tls_size((srv), (cfg), sizeof(*(cfg)))
int tps_server_tls_size(tps_server *srv, const tps_tls_config *cfg, size_t size);

/* Serve an already listening socket (systemd socket activation, inherited
 * descriptor). The server owns fd from then on (closes it at free, also
 * on error). Before start, from the thread that owns srv. */
int tps_server_listen_fd(tps_server *srv, int fd);

/* Number of listeners, and listener idx's bound address as text
 * ("127.0.0.1:41234", "[::]:80", "unix:/path") into the caller's buf.
 * Any thread: listeners do not change after start. */
unsigned tps_server_listener_count(const tps_server *srv);
int tps_server_address(const tps_server *srv, unsigned idx, char *buf, size_t len);
/* The bound TCP port of listener idx, or a negative code (unix). */
int tps_server_port(const tps_server *srv, unsigned idx);

/* Start the acceptor and workers and return. Resolves auto options; a
 * MAX_CONNS that RLIMIT_NOFILE cannot hold is clamped to what it can (a
 * warning through the log names the value in force). From the thread that
 * owns srv. TPS_EINVAL with
 * no listener, TPS_EALREADY if started. Threads block all signals and
 * inherit the caller's scheduling policy, except that the acceptor of a
 * SCHED_OTHER caller runs SCHED_BATCH, so that a new connection does not
 * preempt a worker in mid-turn (Linux; threads are named "tps-accept",
 * "tps-run-N"). */
int tps_server_start(tps_server *srv);

/* Begin a graceful stop: stop accepting, call on_shutdown, serve each
 * connection until its peer has been quiet for TPS_OPT_LINGER_MS (so
 * uploads in flight finish) and close it gracefully once it owes no
 * output; LINGER_MS before the deadline close whatever owes nothing;
 * force-close what is left after drain_ms (0 = at once). Returns at once;
 * may be called again with a shorter deadline (a second signal).
 * Thread-safe and async-signal-safe (it only stores atomics and writes
 * eventfds). */
int tps_server_stop(tps_server *srv, unsigned drain_ms);

/* Wait until the server has stopped and every thread is joined. Returns 0,
 * or TPS_EINVAL if never started. Not from a callback. */
int tps_server_wait(tps_server *srv);

/* One statistic (sums over workers; consistent per counter, not across
 * counters). Thread-safe, lock-free. */
uint64_t tps_server_stat(const tps_server *srv, enum tps_stat stat);
/* Lower-case name ("bytes_in") and description; NULL if unknown. */
const char *tps_stat_name(enum tps_stat stat);

/* Histogram h merged over the workers: how many values it holds, and the
 * value at percentile p (0..100; 100 is the maximum), in nanoseconds; 0
 * when empty or h is unknown. Thread-safe; a little behind the workers. */
uint64_t tps_server_hist_count(const tps_server *srv, enum tps_hist h);
uint64_t tps_server_hist_pct(const tps_server *srv, enum tps_hist h, double p);
/* "queue_wait", "handler": lower-case names for output; NULL if unknown. */
const char *tps_hist_name(enum tps_hist h);
const char *tps_stat_desc(enum tps_stat stat);

#ifdef __cplusplus
}
#endif
#endif /* TPSERV_H */
