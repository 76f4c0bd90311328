/* SPDX-License-Identifier: MIT */
/* tls.c - TLS on a connection, with OpenSSL 3.
 *
 * The configuration (tps_server_tls) becomes an SSL_CTX kept in
 * srv->tls_ctx under srv->tls_lock; a new one replaces it while the
 * server runs, and each connection's SSL holds a reference to the context
 * it was born with, so established connections keep theirs.
 *
 * A connection's SSL talks to the socket through a BIO of our own rather
 * than OpenSSL's socket BIO, for three reasons: sends use MSG_NOSIGNAL (a
 * write() to a reset peer would raise SIGPIPE); the bytes that came after
 * a PROXY header in the same read are fed to the handshake first; and the
 * BIO knows whether its last recv() was short, i.e. whether the socket is
 * drained, so a turn reads until then and not one syscall more (the
 * plaintext path's rule, conn.c). With read-ahead and a 64 KiB read
 * buffer one recv() takes several records, and SSL_read decrypts them
 * from memory.
 *
 * Kernel TLS (kTLS): OpenSSL 3.0 moves a direction's keys into the kernel
 * (SSL_OP_ENABLE_KTLS) only through BIO controls that its own socket BIO
 * implements, with a key structure private to OpenSSL. So where the kernel
 * offers the "tls" ULP, a TCP connection's BIO gets OpenSSL's socket BIO
 * (BIO_NOCLOSE) chained behind it: every control goes to that one, and
 * once a direction is in the kernel its reads or writes do too (recvmsg()
 * with the record type, write() or sendmsg() with one). Until then, and
 * for what stays in user space (TLS 1.3: see ktls_info_cb), this BIO does
 * its own syscalls as above. Its writes without MSG_NOSIGNAL run on the
 * library's threads, which block every signal: a SIGPIPE stays pending on
 * that thread and never reaches the host.
 *
 * Owned by the connection's worker thread, like the rest of tps_conn. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"

#ifdef HAVE_OPENSSL
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

struct tps__tls {
    SSL *ssl;
    tps__buf pre;     /* raw bytes read with the PROXY header: handshake's */
    uint64_t hs_start_ns;
    int fail_stat;    /* a failed handshake step's TPS_STAT_TLS_FAIL_* */
    int sys_errno;    /* the BIO's last socket error */
    bool drained;     /* the BIO's last recv() was short (or EAGAIN/EOF) */
    bool notified;    /* our close_notify was sent */
    bool broken;      /* a fatal TLS or socket error: no close_notify */
};

/* ---- the BIO ---------------------------------------------------------------- */

static BIO_METHOD *bio_method;

static int bio_read(BIO *b, char *out, int len)
{
    tps_conn *c = BIO_get_data(b);
    struct tps__tls *t = c->tls;
    BIO_clear_retry_flags(b);
    if (len <= 0)
        return 0;
    if (t->pre.len > 0) {
        size_t n = t->pre.len < (size_t)len ? t->pre.len : (size_t)len;
        memcpy(out, tps__buf_head(&t->pre), n);
        tps__buf_consume(&t->pre, n, 0);
        if (t->pre.len == 0)
            tps__buf_free(&t->pre);
        return (int)n;
    }
    BIO *next = BIO_next(b);
    if (next != NULL && BIO_get_ktls_recv(next)) {
        /* The kernel decrypts: OpenSSL's BIO gives one record type per
         * recvmsg(). A short one does not say the socket is empty (a
         * control record may wait behind data), so only EAGAIN does. */
        errno = 0;
        int k = BIO_read(next, out, len);
        BIO_copy_next_retry(b);
        t->drained = k <= 0;
        if (k < 0 && !BIO_should_retry(b))
            t->sys_errno = errno;
        return k;
    }
    ssize_t n;
    do
        n = recv(c->fd, out, (size_t)len, 0);
    while (n < 0 && errno == EINTR);
    if (n > 0) {
        t->drained = n < len;
        return (int)n;
    }
    t->drained = true;
    if (n == 0)
        return 0;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
        BIO_set_retry_read(b);
        return -1;
    }
    t->sys_errno = errno;
    return -1;
}

static int bio_write(BIO *b, const char *in, int len)
{
    tps_conn *c = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    BIO *next = BIO_next(b);
    if (next != NULL && BIO_get_ktls_send(next)) {
        /* The kernel encrypts: OpenSSL's BIO sends plaintext, and records
         * of another type with that type attached (sendmsg()). */
        errno = 0;
        int k = BIO_write(next, in, len);
        BIO_copy_next_retry(b);
        if (k < 0 && !BIO_should_retry(b))
            c->tls->sys_errno = errno ? errno : EPIPE;
        return k;
    }
    ssize_t n;
    do
        n = send(c->fd, in, (size_t)len, MSG_NOSIGNAL | MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    if (n >= 0)
        return (int)n;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
        BIO_set_retry_write(b);
        return -1;
    }
    c->tls->sys_errno = errno;
    return -1;
}

/* With a socket BIO behind (kTLS wanted), every control is its: the kTLS
 * ones (start, ask, mark the next write's record type) and the rest. */
static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    BIO *next = BIO_next(b);
    if (next != NULL)
        return BIO_ctrl(next, cmd, num, ptr);
    return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int bio_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

static void bio_method_init(void)
{
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "tpserv");
    if (m == NULL)
        return;
    BIO_meth_set_read(m, bio_read);
    BIO_meth_set_write(m, bio_write);
    BIO_meth_set_ctrl(m, bio_ctrl);
    BIO_meth_set_create(m, bio_create);
    bio_method = m;
}

/* ---- session tickets ------------------------------------------------------------
 * Ticket keys belong to the server, not to an SSL_CTX: a certificate
 * rotated with tps_server_tls() keeps resuming sessions. The current key
 * seals new tickets and is replaced every TPS_OPT_TLS_TICKET_KEY_MS; the
 * one before it still opens tickets (and they are renewed), so a ticket
 * resumes for one to two periods. OpenSSL's own keys would live as long
 * as the process. The callback runs once per handshake that carries or
 * gets a ticket, under tls_lock (a leaf). */

struct tps__ticket_key {
    unsigned char name[16], aes[32], hmac[32];
    int64_t born_ms; /* 0: none */
};
struct tps__ticket_keys {
    struct tps__ticket_key k[2]; /* current, previous */
};

static int new_key(struct tps__ticket_key *k, int64_t now)
{
    if (RAND_bytes(k->name, sizeof(k->name)) != 1 || RAND_bytes(k->aes, sizeof(k->aes)) != 1 ||
        RAND_bytes(k->hmac, sizeof(k->hmac)) != 1)
        return -1;
    k->born_ms = now;
    return 0;
}

/* srv->tls_lock held. */
static int rotate_keys(tps_server *srv, int64_t now)
{
    struct tps__ticket_keys *t = srv->tickets;
    if (t->k[0].born_ms != 0 && now - t->k[0].born_ms < srv->opt[TPS_OPT_TLS_TICKET_KEY_MS])
        return 0;
    t->k[1] = t->k[0];
    return new_key(&t->k[0], now);
}

static int ticket_cb(SSL *ssl, unsigned char name[16], unsigned char *iv, EVP_CIPHER_CTX *cctx,
                     EVP_MAC_CTX *hctx, int enc)
{
    tps_server *srv = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
    struct tps__ticket_key key;
    int64_t now = tps__now_ms(), life = srv->opt[TPS_OPT_TLS_TICKET_KEY_MS];
    int rc = 0;
    pthread_mutex_lock(&srv->tls_lock);
    if (rotate_keys(srv, now) < 0) {
        pthread_mutex_unlock(&srv->tls_lock);
        return -1;
    }
    for (int i = 0; i < 2; i++) {
        const struct tps__ticket_key *k = &srv->tickets->k[i];
        if (enc ? i == 0 : (k->born_ms != 0 && memcmp(k->name, name, 16) == 0 &&
                           now - k->born_ms < 2 * life)) {
            key = *k;
            /* 2: open it, then issue a new one: always in TLS 1.3, whose
             * clients use a ticket once (RFC 8446, C.4); in TLS 1.2 when
             * the key is the previous one. */
            rc = i == 0 && SSL_version(ssl) != TLS1_3_VERSION ? 1 : 2;
            break;
        }
    }
    pthread_mutex_unlock(&srv->tls_lock);
    if (rc == 0)
        return 0; /* an unknown or expired key: a full handshake */
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, key.hmac, sizeof(key.hmac)),
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_end()};
    if (enc) {
        memcpy(name, key.name, 16);
        if (RAND_bytes(iv, EVP_MAX_IV_LENGTH) != 1 ||
            EVP_EncryptInit_ex(cctx, EVP_aes_256_cbc(), NULL, key.aes, iv) != 1)
            rc = -1;
    } else if (EVP_DecryptInit_ex(cctx, EVP_aes_256_cbc(), NULL, key.aes, iv) != 1) {
        rc = -1;
    }
    if (rc > 0 && EVP_MAC_CTX_set_params(hctx, params) != 1)
        rc = -1;
    OPENSSL_cleanse(&key, sizeof(key));
    return rc;
}

/* ---- the configuration -------------------------------------------------------- */

/* The OpenSSL errors queued on this thread as "reason; reason", and clear
 * them: each is logged where it happened, never left for the next call's
 * SSL_get_error to trip on. */
static void ssl_errors(char *buf, size_t cap)
{
    unsigned long e;
    size_t used = 0;
    buf[0] = '\0';
    while ((e = ERR_get_error()) != 0 && used + 2 < cap) {
        char one[256];
        ERR_error_string_n(e, one, sizeof(one));
        int n = snprintf(buf + used, cap - used, "%s%s", used ? "; " : "", one);
        if (n < 0)
            break;
        used += (size_t)n < cap - used ? (size_t)n : cap - used - 1;
    }
    ERR_clear_error();
    if (buf[0] == '\0')
        snprintf(buf, cap, "no reason given");
}

/* ALPN: the server's list in wire format (length-prefixed), kept with the
 * context; the first of ours the client offers wins. */
static int alpn_index = -1;

static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned inlen, void *arg)
{
    const unsigned char *ours = arg;
    (void)ssl;
    for (const unsigned char *p = ours + 1; p[-1] != 0; p += p[-1] + 1)
        for (unsigned i = 0; i < inlen; i += in[i] + 1u)
            if (in[i] == p[-1] && i + 1u + in[i] <= inlen && memcmp(in + i + 1, p, p[-1]) == 0) {
                *out = in + i + 1;
                *outlen = in[i];
                return SSL_TLSEXT_ERR_OK;
            }
    return SSL_TLSEXT_ERR_ALERT_FATAL; /* RFC 7301: no_application_protocol */
}

static void alpn_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
    (void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
    free(ptr);
}

/* "h2,http/1.1" as wire format with a 0 after the last (our end mark). */
static unsigned char *alpn_wire(const char *list)
{
    size_t n = strlen(list);
    unsigned char *w = malloc(n + 2), *len = w;
    if (w == NULL)
        return NULL;
    *len = 0;
    for (const char *p = list;; p++) {
        if (*p == ',' || *p == '\0') {
            if (*len == 0) { /* an empty name */
                free(w);
                return NULL;
            }
            len += *len + 1;
            *len = 0;
            if (*p == '\0')
                break;
        } else if (*len == 255) {
            free(w);
            return NULL;
        } else {
            len[++*len] = (unsigned char)*p;
        }
    }
    return w;
}

static int ctx_fail(tps_server *srv, SSL_CTX *ctx, const char *what, const char *arg)
{
    char why[512];
    ssl_errors(why, sizeof(why));
    pthread_mutex_lock(&srv->tls_lock);
    bool had = srv->tls_ctx != NULL;
    pthread_mutex_unlock(&srv->tls_lock);
    tps__log(srv, TPS_LOG_ERROR, "TLS: %s%s%s%s: %s%s", what, arg ? " '" : "", arg ? arg : "",
             arg ? "'" : "", why, had ? "; the certificate in use stays" : "");
    SSL_CTX_free(ctx);
    return TPS_ETLS;
}

#define TPS__TLS12_CIPHERS "ECDHE+AESGCM:ECDHE+CHACHA20"

/* Does the kernel offer kernel TLS? Asked once per process: attaching the
 * "tls" ULP to a TCP socket that is not connected fails with ENOTCONN
 * where the ULP exists, and ENOENT where it does not. Unlike reading
 * /proc/sys/net/ipv4/tcp_available_ulp (which needs /proc, and lists only
 * loaded ULPs), the attempt also loads the tls module where it is one and
 * we may (CAP_NET_ADMIN), as OpenSSL's own attempt would. */
static bool ktls_kernel;
static pthread_once_t ktls_once = PTHREAD_ONCE_INIT;

static void ktls_probe(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return;
    int rc = setsockopt(fd, IPPROTO_TCP, TCP_ULP, "tls", sizeof("tls"));
    ktls_kernel = rc == 0 || errno == ENOTCONN; /* 0: an old kernel took it */
    close(fd);
}

/* TLS 1.3 keeps its records in user space. OpenSSL 3.0 would hand the
 * kernel its sending key (not the receiving one), but cannot hand it a new
 * one after a KeyUpdate, nor could the kernels of its day take one: a peer
 * asking for a key update then gets records under the old key, and the
 * connection breaks (seen in tests/ktls_vm.sh). So kTLS is turned off for
 * a TLS 1.3 connection once its version is chosen: just before the
 * ServerHello, long before the keys change. */
static void ktls_info_cb(const SSL *ssl, int where, int ret)
{
    (void)ret;
    if ((where & SSL_CB_ACCEPT_LOOP) && SSL_get_state(ssl) == TLS_ST_SW_SRVR_HELLO &&
        SSL_version(ssl) >= TLS1_3_VERSION)
        SSL_clear_options((SSL *)ssl, SSL_OP_ENABLE_KTLS); /* the callback's const is a view */
}

static int build_ctx(tps_server *srv, const tps_tls_config *cfg, SSL_CTX **out)
{
    static const unsigned char sid_ctx[] = "tpserv";
    int min = TLS1_2_VERSION;
    if (cfg->min_version != NULL && strcmp(cfg->min_version, "1.2") != 0) {
        if (strcmp(cfg->min_version, "1.3") != 0) {
            tps__log(srv, TPS_LOG_ERROR, "TLS: minimum version '%s': expected 1.2 or 1.3",
                     cfg->min_version);
            return TPS_EINVAL;
        }
        min = TLS1_3_VERSION;
    }
    if (cfg->verify_client < TPS_TLS_VERIFY_NONE || cfg->verify_client > TPS_TLS_VERIFY_REQUIRED ||
        (cfg->verify_client != TPS_TLS_VERIFY_NONE && cfg->ca_file == NULL)) {
        tps__log(srv, TPS_LOG_ERROR, "TLS: verifying client certificates needs a CA file");
        return TPS_EINVAL;
    }
    if (cfg->cert_file == NULL) {
        tps__log(srv, TPS_LOG_ERROR, "TLS: no certificate file");
        return TPS_EINVAL;
    }
    if (cfg->no_ktls != 0 && cfg->no_ktls != 1) {
        tps__log(srv, TPS_LOG_ERROR, "TLS: no_ktls %d: expected 0 or 1", cfg->no_ktls);
        return TPS_EINVAL;
    }
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL)
        return ctx_fail(srv, ctx, "cannot create a context", NULL);
    SSL_CTX_set_min_proto_version(ctx, min);
    /* No renegotiation (a CPU sink and an old attack surface), no
     * compression (CRIME); our cipher order, not the client's. */
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE |
                                 (cfg->no_tickets ? SSL_OP_NO_TICKET : 0));
    /* Partial writes: SSL_write returns what went out, like send(); the
     * rest is retried from c->out, which may have moved. Idle connections
     * give their 16-64 KiB of buffers back. */
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                              SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_read_ahead(ctx, 1);
    SSL_CTX_set_default_read_buffer_len(ctx, TPS__RBUF_SIZE);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
    SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof(sid_ctx) - 1);
    SSL_CTX_set_app_data(ctx, srv);
    /* A session resumes for as long as its ticket's key can open it. */
    SSL_CTX_set_timeout(ctx, (long)(2 * srv->opt[TPS_OPT_TLS_TICKET_KEY_MS] / 1000));
    if (!cfg->no_tickets)
        SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticket_cb);
    if (SSL_CTX_use_certificate_chain_file(ctx, cfg->cert_file) != 1)
        return ctx_fail(srv, ctx, "certificate file", cfg->cert_file);
    const char *key = cfg->key_file ? cfg->key_file : cfg->cert_file;
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
        return ctx_fail(srv, ctx, "key file", key);
    if (SSL_CTX_check_private_key(ctx) != 1)
        return ctx_fail(srv, ctx, "the key does not match the certificate", key);
    /* TLS 1.2 default: forward secrecy and AEAD only (no CBC: LUCKY13;
     * no RSA key transport: ROBOT), Mozilla's "intermediate" without DHE. */
    const char *ciphers = cfg->ciphers ? cfg->ciphers : TPS__TLS12_CIPHERS;
    if (SSL_CTX_set_cipher_list(ctx, ciphers) != 1)
        return ctx_fail(srv, ctx, "TLS 1.2 cipher list", ciphers);
    if (cfg->ciphersuites && SSL_CTX_set_ciphersuites(ctx, cfg->ciphersuites) != 1)
        return ctx_fail(srv, ctx, "TLS 1.3 cipher suites", cfg->ciphersuites);
    if (cfg->ca_file != NULL) {
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(cfg->ca_file);
        if (names == NULL || SSL_CTX_load_verify_locations(ctx, cfg->ca_file, NULL) != 1) {
            sk_X509_NAME_pop_free(names, X509_NAME_free);
            return ctx_fail(srv, ctx, "CA file", cfg->ca_file);
        }
        SSL_CTX_set_client_CA_list(ctx, names);
        if (cfg->verify_client != TPS_TLS_VERIFY_NONE)
            SSL_CTX_set_verify(ctx,
                               SSL_VERIFY_PEER | (cfg->verify_client == TPS_TLS_VERIFY_REQUIRED
                                                      ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT
                                                      : 0),
                               NULL);
    }
    /* Kernel TLS where the kernel has it; OpenSSL still falls back to its
     * own records per direction when the cipher, version or kernel says no. */
    if (!cfg->no_ktls) {
        pthread_once(&ktls_once, ktls_probe);
        if (ktls_kernel) {
            SSL_CTX_set_options(ctx, SSL_OP_ENABLE_KTLS);
            SSL_CTX_set_info_callback(ctx, ktls_info_cb);
        }
    }
    if (cfg->alpn != NULL) {
        unsigned char *wire = alpn_wire(cfg->alpn);
        if (wire == NULL) {
            tps__log(srv, TPS_LOG_ERROR, "TLS: ALPN list '%s': names of 1-255 bytes, comma-separated",
                     cfg->alpn);
            SSL_CTX_free(ctx);
            return TPS_EINVAL;
        }
        SSL_CTX_set_ex_data(ctx, alpn_index, wire);
        SSL_CTX_set_alpn_select_cb(ctx, alpn_select, wire);
    }
    *out = ctx;
    return 0;
}

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;

static void lib_init(void)
{
    alpn_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, alpn_free);
    bio_method_init();
}

int tps_server_tls_size(tps_server *srv, const tps_tls_config *cfg, size_t size)
{
    tps_tls_config mine = {0};
    if (srv == NULL || cfg == NULL)
        return TPS_EINVAL;
    /* A newer caller's struct: fields this library does not know must be
     * unset, or it would silently ignore a setting. */
    for (size_t i = sizeof(mine); i < size; i++)
        if (((const unsigned char *)cfg)[i] != 0)
            return TPS_ENOSYS;
    memcpy(&mine, cfg, size < sizeof(mine) ? size : sizeof(mine));
    pthread_once(&lib_once, lib_init);
    if (bio_method == NULL || alpn_index < 0)
        return TPS_ENOMEM;
    pthread_mutex_lock(&srv->tls_lock);
    if (srv->tickets == NULL)
        srv->tickets = calloc(1, sizeof(*srv->tickets));
    bool no_mem = srv->tickets == NULL;
    pthread_mutex_unlock(&srv->tls_lock);
    if (no_mem)
        return TPS_ENOMEM;
    SSL_CTX *ctx = NULL;
    int rc = build_ctx(srv, &mine, &ctx);
    if (rc < 0)
        return rc;
    pthread_mutex_lock(&srv->tls_lock);
    SSL_CTX *old = srv->tls_ctx;
    srv->tls_ctx = ctx;
    pthread_mutex_unlock(&srv->tls_lock);
    SSL_CTX_free(old); /* connections born with it keep a reference */
    tps__log(srv, TPS_LOG_INFO, "TLS: certificate '%s' loaded%s; kernel TLS %s", mine.cert_file,
             old ? " (new connections use it)" : "",
             mine.no_ktls  ? "off"
             : ktls_kernel ? "on"
                           : "not offered by this kernel");
    return 0;
}

void tps__tls_server_free(tps_server *srv)
{
    SSL_CTX_free(srv->tls_ctx);
    srv->tls_ctx = NULL;
    if (srv->tickets != NULL)
        OPENSSL_cleanse(srv->tickets, sizeof(*srv->tickets));
    free(srv->tickets);
    srv->tickets = NULL;
}

int tps__tls_ready(tps_server *srv)
{
    pthread_mutex_lock(&srv->tls_lock);
    bool ready = srv->tls_ctx != NULL;
    pthread_mutex_unlock(&srv->tls_lock);
    return ready ? 0 : TPS_EINVAL;
}

/* ---- a connection ----------------------------------------------------------- */

int tps__tls_attach(tps_conn *c)
{
    struct tps__tls *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return TPS_ENOMEM;
    pthread_mutex_lock(&c->srv->tls_lock);
    t->ssl = SSL_new(c->srv->tls_ctx); /* takes a reference on the context */
    pthread_mutex_unlock(&c->srv->tls_lock);
    BIO *b = t->ssl ? BIO_new(bio_method) : NULL;
    if (b == NULL) {
        SSL_free(t->ssl);
        free(t);
        ERR_clear_error();
        return TPS_ENOMEM;
    }
    BIO_set_data(b, c);
    /* kTLS needs OpenSSL's socket BIO behind ours (see the top); TCP only. */
    if (SSL_get_options(t->ssl) & SSL_OP_ENABLE_KTLS) {
        BIO *sock = c->peer.family != AF_UNIX ? BIO_new_socket(c->fd, BIO_NOCLOSE) : NULL;
        if (sock != NULL)
            BIO_push(b, sock);
        else
            SSL_clear_options(t->ssl, SSL_OP_ENABLE_KTLS);
        ERR_clear_error();
    }
    SSL_set_bio(t->ssl, b, b);
    SSL_set_accept_state(t->ssl);
    t->hs_start_ns = tps__now_ns();
    c->tls = t;
    return 0;
}

int tps__tls_preread(tps_conn *c, const char *p, size_t n)
{
    c->tls->hs_start_ns = tps__now_ns(); /* the handshake starts after the header */
    return n == 0 ? 0 : tps__buf_append(&c->tls->pre, p, n, SIZE_MAX);
}

bool tps__tls_hs_answers_hello(const tps_conn *c)
{
    return SSL_get_state(c->tls->ssl) == TLS_ST_BEFORE;
}

/* Which failure a handshake's first queued error says it was. */
static int failure_stat(unsigned long e)
{
    if (ERR_GET_LIB(e) != ERR_LIB_SSL)
        return TPS_STAT_TLS_FAIL_OTHER;
    switch (ERR_GET_REASON(e)) {
    case SSL_R_WRONG_VERSION_NUMBER:
    case SSL_R_UNSUPPORTED_PROTOCOL:
    case SSL_R_VERSION_TOO_LOW:
    case SSL_R_UNKNOWN_PROTOCOL:
    case SSL_R_HTTP_REQUEST:
    case SSL_R_HTTPS_PROXY_REQUEST:
    case SSL_R_PACKET_LENGTH_TOO_LONG:
    case SSL_R_RECORD_LENGTH_MISMATCH:
        return TPS_STAT_TLS_FAIL_VERSION;
    case SSL_R_CERTIFICATE_VERIFY_FAILED:
    case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
    case SSL_R_NO_CERTIFICATES_RETURNED:
        return TPS_STAT_TLS_FAIL_CERT;
    default:
        return TPS_STAT_TLS_FAIL_OTHER;
    }
}

static void log_failure(tps_conn *c, const char *what)
{
    char from[TPS__ADDRSTRLEN], why[512];
    if (c->srv->log_level < TPS_LOG_DEBUG) {
        ERR_clear_error();
        return;
    }
    tps__peer_format(&c->peer, from, sizeof(from));
    ssl_errors(why, sizeof(why));
    if (c->tls->sys_errno)
        snprintf(why, sizeof(why), "%s", strerror(c->tls->sys_errno));
    tps__log(c->srv, TPS_LOG_DEBUG, "TLS %s from %s: %s: closed", what, from, why);
}

int tps__tls_handshake_step(tps_conn *c)
{
    struct tps__tls *t = c->tls;
    int n = SSL_do_handshake(t->ssl);
    if (n == 1)
        return 1;
    int e = SSL_get_error(t->ssl, n);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
        return 0;
    t->broken = true;
    /* The error queue is this thread's: read it here, count it later. */
    t->fail_stat = e == SSL_ERROR_SSL ? failure_stat(ERR_peek_error()) : TPS_STAT_TLS_FAIL_OTHER;
    log_failure(c, "handshake");
    return -1;
}

void tps__tls_handshake_count(tps__worker *w, tps_conn *c, int rc)
{
    struct tps__tls *t = c->tls;
    if (rc < 0) {
        tps__count(&w->stats, t->fail_stat, 1);
    } else if (rc > 0) {
        tps__count(&w->stats, TPS_STAT_TLS_HANDSHAKES, 1);
        if (SSL_session_reused(t->ssl))
            tps__count(&w->stats, TPS_STAT_TLS_RESUMED, 1);
        if (BIO_get_ktls_send(SSL_get_wbio(t->ssl)))
            tps__count(&w->stats, TPS_STAT_TLS_KTLS_TX, 1);
        if (BIO_get_ktls_recv(SSL_get_rbio(t->ssl)))
            tps__count(&w->stats, TPS_STAT_TLS_KTLS_RX, 1);
        tps__hist_record(&w->hist[TPS_HIST_TLS_HANDSHAKE], tps__now_ns() - t->hs_start_ns);
    }
}

ssize_t tps__tls_read(tps__worker *w, tps_conn *c, char *p, size_t room, bool *drained)
{
    struct tps__tls *t = c->tls;
    size_t got = 0;
    *drained = false;
    while (got < room) {
        size_t ask = room - got;
        int n = SSL_read(t->ssl, p + got, ask > INT_MAX ? INT_MAX : (int)ask);
        if (n > 0) {
            got += (size_t)n;
            /* Records buffered: decrypt on, no syscall. Else the BIO's last
             * recv() says whether the socket has more. */
            if (!SSL_has_pending(t->ssl) && t->drained) {
                *drained = true;
                break;
            }
            continue;
        }
        int e = SSL_get_error(t->ssl, n);
        if (got > 0) {
            /* Deliver what came; the next read meets an error again. The
             * socket's EAGAIN is the end of this edge: no second try. */
            *drained = e == SSL_ERROR_WANT_READ && t->drained;
            break;
        }
        switch (e) {
        case SSL_ERROR_WANT_READ:
        case SSL_ERROR_WANT_WRITE:
            *drained = true;
            return -EAGAIN;
        case SSL_ERROR_ZERO_RETURN: /* close_notify */
            return 0;
        case SSL_ERROR_SYSCALL:
            t->broken = true;
            ERR_clear_error();
            if (t->sys_errno == 0) { /* OpenSSL 1.1 style bare EOF */
                tps__count(&w->stats, TPS_STAT_TLS_NO_CLOSE_NOTIFY, 1);
                return 0;
            }
            return -t->sys_errno;
        default:
            t->broken = true;
            if (ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
                ERR_clear_error();
                tps__count(&w->stats, TPS_STAT_TLS_NO_CLOSE_NOTIFY, 1);
                return 0; /* the peer is done, only impolitely */
            }
            tps__count(&w->stats, TPS_STAT_TLS_RECORD_ERRORS, 1);
            log_failure(c, "record");
            return -EPROTO;
        }
    }
    return (ssize_t)got;
}

ssize_t tps__tls_write(tps_conn *c, const char *p, size_t len)
{
    struct tps__tls *t = c->tls;
    int n = SSL_write(t->ssl, p, len > INT_MAX ? INT_MAX : (int)len);
    if (n > 0)
        return n;
    switch (SSL_get_error(t->ssl, n)) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
        return -EAGAIN;
    case SSL_ERROR_SYSCALL:
        t->broken = true;
        ERR_clear_error();
        return t->sys_errno ? -t->sys_errno : -EPIPE;
    default:
        t->broken = true;
        ERR_clear_error();
        return -EPROTO;
    }
}

void tps__tls_close_notify(tps_conn *c)
{
    struct tps__tls *t = c->tls;
    if (t->notified || t->broken || !SSL_is_init_finished(t->ssl))
        return;
    t->notified = true;
    if (SSL_shutdown(t->ssl) < 0)
        ERR_clear_error(); /* a full socket: the FIN still says we are done */
}

void tps__tls_free(tps_conn *c)
{
    struct tps__tls *t = c->tls;
    if (t == NULL)
        return;
    SSL_free(t->ssl);
    tps__buf_free(&t->pre);
    free(t);
    c->tls = NULL;
}

/* ---- what was negotiated ------------------------------------------------------ */

static int put(char *buf, size_t len, const char *s, size_t n)
{
    if (s == NULL || n == 0)
        return TPS_ENOENT;
    if (len > 0) {
        size_t k = n < len - 1 ? n : len - 1;
        memcpy(buf, s, k);
        buf[k] = '\0';
    }
    return n > INT_MAX ? INT_MAX : (int)n;
}

int tps_conn_tls(const tps_conn *c, enum tps_tls_item item, char *buf, size_t len)
{
    if (c == NULL || c->tls == NULL || buf == NULL)
        return TPS_ENOENT;
    SSL *ssl = c->tls->ssl;
    switch (item) {
    case TPS_TLS_PROTOCOL: {
        const char *s = SSL_get_version(ssl);
        return put(buf, len, s, strlen(s));
    }
    case TPS_TLS_CIPHER: {
        const char *s = SSL_get_cipher_name(ssl);
        return put(buf, len, s, s ? strlen(s) : 0);
    }
    case TPS_TLS_ALPN: {
        const unsigned char *s = NULL;
        unsigned n = 0;
        SSL_get0_alpn_selected(ssl, &s, &n);
        return put(buf, len, (const char *)s, n);
    }
    case TPS_TLS_SNI: {
        const char *s = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
        return put(buf, len, s, s ? strlen(s) : 0);
    }
    case TPS_TLS_PEER_SUBJECT: {
        X509 *cert = SSL_get0_peer_certificate(ssl);
        if (cert == NULL)
            return TPS_ENOENT;
        char tmp[1024];
        BIO *m = BIO_new(BIO_s_mem());
        if (m == NULL)
            return TPS_ENOMEM;
        X509_NAME_print_ex(m, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
        int n = BIO_read(m, tmp, sizeof(tmp));
        BIO_free(m);
        return put(buf, len, tmp, n > 0 ? (size_t)n : 0);
    }
    case TPS_TLS_RESUMED:
        return put(buf, len, SSL_session_reused(ssl) ? "1" : "0", 1);
    case TPS_TLS_KTLS: {
        static const char *const path[] = {"none", "tx", "rx", "tx+rx"};
        const char *s =
            path[BIO_get_ktls_send(SSL_get_wbio(ssl)) | BIO_get_ktls_recv(SSL_get_rbio(ssl)) << 1];
        return put(buf, len, s, strlen(s));
    }
    }
    return TPS_ENOENT;
}

#else /* !HAVE_OPENSSL: TLS is refused where it is asked for. */

int tps_server_tls_size(tps_server *srv, const tps_tls_config *cfg, size_t size)
{
    (void)cfg, (void)size;
    if (srv != NULL)
        tps__log(srv, TPS_LOG_ERROR, "TLS: this libtpserv was built without OpenSSL");
    return TPS_ENOTSUP;
}
void tps__tls_server_free(tps_server *srv)
{
    (void)srv;
}
int tps__tls_ready(tps_server *srv)
{
    (void)srv;
    return TPS_ENOTSUP;
}
int tps__tls_attach(tps_conn *c)
{
    (void)c;
    return TPS_ENOTSUP;
}
int tps__tls_preread(tps_conn *c, const char *p, size_t n)
{
    (void)c, (void)p, (void)n;
    return TPS_ENOTSUP;
}
bool tps__tls_hs_answers_hello(const tps_conn *c)
{
    (void)c;
    return false;
}
int tps__tls_handshake_step(tps_conn *c)
{
    (void)c;
    return -1;
}
void tps__tls_handshake_count(tps__worker *w, tps_conn *c, int rc)
{
    (void)w, (void)c, (void)rc;
}
ssize_t tps__tls_read(tps__worker *w, tps_conn *c, char *p, size_t room, bool *drained)
{
    (void)w, (void)c, (void)p, (void)room;
    *drained = true;
    return -EPROTO;
}
ssize_t tps__tls_write(tps_conn *c, const char *p, size_t len)
{
    (void)c, (void)p, (void)len;
    return -EPROTO;
}
void tps__tls_close_notify(tps_conn *c)
{
    (void)c;
}
void tps__tls_free(tps_conn *c)
{
    (void)c;
}
int tps_conn_tls(const tps_conn *c, enum tps_tls_item item, char *buf, size_t len)
{
    (void)c, (void)item, (void)buf, (void)len;
    return TPS_ENOENT;
}
#endif
