/* SPDX-License-Identifier: MIT */
/* tlsclient.c - OpenSSL client setup shared by tpclient and tpbench (see
 * tlsclient.h). Independent of libtpserv: the server side of TLS is
 * lib/tls.c, and nothing here may call into the library. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#include "tlsclient.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

/* Also without OpenSSL: tpbench and tpclient decide SNI with it. */
int tlsc_is_ip(const char *host)
{
    unsigned char buf[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

#ifdef HAVE_OPENSSL
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdlib.h>

int tlsc_available(void)
{
    return 1;
}

/* What the context keeps for its callbacks. */
struct ctx_data {
    void (*on_session)(void *ssl, void *sess);
};

/* The first error of this thread's queue, as "reason" text; clears it. */
static const char *queue_reason(char *buf, size_t len)
{
    unsigned long e = ERR_peek_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    if (e && ERR_SYSTEM_ERROR(e)) /* a file that cannot be opened... */
        snprintf(buf, len, "%s", strerror(ERR_GET_REASON(e)));
    else if (r)
        snprintf(buf, len, "%s", r);
    else if (e)
        ERR_error_string_n(e, buf, len);
    else
        snprintf(buf, len, "unknown error");
    ERR_clear_error();
    return buf;
}

static void *fail_ctx(SSL_CTX *ctx, char *err, size_t errlen, const char *what, const char *file)
{
    char why[256];
    queue_reason(why, sizeof why);
    snprintf(err, errlen, "%s '%s': %s", what, file, why);
    tlsc_ctx_free(ctx);
    return NULL;
}

/* "h2,http/1.1" into the wire format (length-prefixed names). Returns
 * the length, or -1 for an empty or over-long name. */
static int alpn_encode(const char *list, unsigned char *out, size_t cap)
{
    size_t n = 0;
    for (const char *p = list;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == 0 || len > 255 || n + 1 + len > cap)
            return -1;
        out[n++] = (unsigned char)len;
        memcpy(out + n, p, len);
        n += len;
        if (!comma)
            return (int)n;
        p = comma + 1;
    }
}

static int new_session(SSL *ssl, SSL_SESSION *sess)
{
    struct ctx_data *d = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
    if (!d || !d->on_session)
        return 0; /* not kept: OpenSSL frees it */
    d->on_session(ssl, sess);
    return 1; /* the callee owns the reference */
}

void *tlsc_ctx_new(const struct tlsc_config *cfg, char *err, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    struct ctx_data *d = calloc(1, sizeof *d);
    if (!ctx || !d) {
        free(d);
        SSL_CTX_free(ctx);
        snprintf(err, errlen, "cannot create a TLS context: out of memory");
        return NULL;
    }
    d->on_session = cfg->on_session;
    SSL_CTX_set_app_data(ctx, d);
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    /* Reads take what the socket has (several records per recv); a write
     * retried after WANT_WRITE may come from a moved or grown buffer. */
    SSL_CTX_set_read_ahead(ctx, 1);
    SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (cfg->insecure) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    } else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        if (cfg->ca_file && SSL_CTX_load_verify_locations(ctx, cfg->ca_file, NULL) != 1)
            return fail_ctx(ctx, err, errlen, "cannot load the CA file", cfg->ca_file);
        if (!cfg->ca_file && SSL_CTX_set_default_verify_paths(ctx) != 1)
            return fail_ctx(ctx, err, errlen, "cannot load the system's CA store", "default");
    }
    if (cfg->cert_file) {
        const char *key = cfg->key_file ? cfg->key_file : cfg->cert_file;
        if (SSL_CTX_use_certificate_chain_file(ctx, cfg->cert_file) != 1)
            return fail_ctx(ctx, err, errlen, "cannot load the client certificate", cfg->cert_file);
        if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
            return fail_ctx(ctx, err, errlen, "cannot load the client key", key);
        if (SSL_CTX_check_private_key(ctx) != 1)
            return fail_ctx(ctx, err, errlen, "the key does not match the certificate", key);
    }
    if (cfg->alpn) {
        unsigned char wire[1024];
        int n = alpn_encode(cfg->alpn, wire, sizeof wire);
        if (n < 0) {
            snprintf(err, errlen,
                     "bad ALPN list '%s': names of 1 to 255 bytes, separated by commas",
                     cfg->alpn);
            tlsc_ctx_free(ctx);
            return NULL;
        }
        if (SSL_CTX_set_alpn_protos(ctx, wire, (unsigned)n) != 0) /* 0 is success */
            return fail_ctx(ctx, err, errlen, "cannot set ALPN", cfg->alpn);
    }
    if (cfg->cache_sessions) {
        SSL_CTX_set_session_cache_mode(ctx,
                                       SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
        SSL_CTX_sess_set_new_cb(ctx, new_session);
    } else {
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    }
    return ctx;
}

void tlsc_ctx_free(void *ctx)
{
    if (!ctx)
        return;
    free(SSL_CTX_get_app_data((SSL_CTX *)ctx));
    SSL_CTX_free(ctx);
}

void *tlsc_ssl_new(void *ctx, int fd, const char *sni, const char *verify_name, void *sess,
                   char *err, size_t errlen)
{
    char why[256];
    SSL *ssl = SSL_new(ctx);
    if (!ssl || SSL_set_fd(ssl, fd) != 1)
        goto failed;
    if (sni && SSL_set_tlsext_host_name(ssl, sni) != 1)
        goto failed;
    if (verify_name && SSL_get_verify_mode(ssl) != SSL_VERIFY_NONE) {
        int ok;
        if (tlsc_is_ip(verify_name)) {
            ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), verify_name);
        } else {
            SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
            ok = SSL_set1_host(ssl, verify_name);
        }
        if (ok != 1)
            goto failed;
    }
    if (sess && SSL_set_session(ssl, sess) != 1)
        goto failed;
    return ssl;
failed:
    snprintf(err, errlen, "cannot set up TLS: %s", queue_reason(why, sizeof why));
    SSL_free(ssl);
    return NULL;
}

const char *tlsc_reason(void *ssl, int saved_errno, char *buf, size_t len)
{
    unsigned long e = ERR_peek_error();
    if (e && ERR_GET_LIB(e) == ERR_LIB_SSL &&
        ERR_GET_REASON(e) == SSL_R_CERTIFICATE_VERIFY_FAILED && ssl) {
        long v = SSL_get_verify_result(ssl);
        ERR_clear_error();
        snprintf(buf, len, "certificate verify failed: %s", X509_verify_cert_error_string(v));
        return buf;
    }
    if (e)
        return queue_reason(buf, len);
    if (saved_errno)
        snprintf(buf, len, "%s", strerror(saved_errno));
    else
        snprintf(buf, len, "the peer closed the connection");
    return buf;
}

const char *tlsc_protocol(void *ssl)
{
    return SSL_get_version(ssl);
}

const char *tlsc_cipher(void *ssl)
{
    return SSL_get_cipher_name((SSL *)ssl);
}

const char *tlsc_alpn(void *ssl, char *buf, size_t len)
{
    const unsigned char *p = NULL;
    unsigned n = 0;
    SSL_get0_alpn_selected(ssl, &p, &n);
    if (n == 0)
        snprintf(buf, len, "none");
    else
        snprintf(buf, len, "%.*s", (int)n, (const char *)p);
    return buf;
}

int tlsc_resumed(void *ssl)
{
    return SSL_session_reused(ssl) == 1;
}

const char *tlsc_peer_subject(void *ssl, char *buf, size_t len)
{
    X509 *x = SSL_get1_peer_certificate(ssl);
    buf[0] = '\0';
    if (x) {
        X509_NAME_oneline(X509_get_subject_name(x), buf, (int)len);
        X509_free(x);
    }
    return buf;
}

void tlsc_session_free(void *sess)
{
    SSL_SESSION_free(sess);
}

#else /* !HAVE_OPENSSL */

int tlsc_available(void)
{
    return 0;
}

void *tlsc_ctx_new(const struct tlsc_config *cfg, char *err, size_t errlen)
{
    (void)cfg;
    snprintf(err, errlen, "TLS is not available: built without OpenSSL");
    return NULL;
}

void tlsc_ctx_free(void *ctx)
{
    (void)ctx;
}

void *tlsc_ssl_new(void *ctx, int fd, const char *sni, const char *verify_name, void *sess,
                   char *err, size_t errlen)
{
    (void)ctx, (void)fd, (void)sni, (void)verify_name, (void)sess;
    snprintf(err, errlen, "TLS is not available: built without OpenSSL");
    return NULL;
}

const char *tlsc_reason(void *ssl, int saved_errno, char *buf, size_t len)
{
    (void)ssl, (void)saved_errno;
    snprintf(buf, len, "built without OpenSSL");
    return buf;
}

const char *tlsc_protocol(void *ssl)
{
    (void)ssl;
    return "none";
}

const char *tlsc_cipher(void *ssl)
{
    (void)ssl;
    return "none";
}

const char *tlsc_alpn(void *ssl, char *buf, size_t len)
{
    (void)ssl;
    snprintf(buf, len, "none");
    return buf;
}

int tlsc_resumed(void *ssl)
{
    (void)ssl;
    return 0;
}

const char *tlsc_peer_subject(void *ssl, char *buf, size_t len)
{
    (void)ssl;
    if (len)
        buf[0] = '\0';
    return buf;
}

void tlsc_session_free(void *sess)
{
    (void)sess;
}

#endif
