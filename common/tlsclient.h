/* SPDX-License-Identifier: MIT */
/* tlsclient.h - the OpenSSL client setup that tpclient and tpbench share
 * (and nothing else: neither links libtpserv). A tlsc_config says what the
 * command line asked for; tlsc_ctx_new() turns it into an SSL_CTX,
 * tlsc_ssl_new() makes one connection's SSL with its SNI and the name the
 * server's certificate must match, and tlsc_reason() says in one line why
 * a handshake or a TLS read/write failed (OpenSSL's reason, and the
 * certificate verification result when that was the cause).
 *
 * The OpenSSL types are passed as void * so that callers compile without
 * OpenSSL headers. Built without OpenSSL, tlsc_available() is 0 and the
 * rest fails cleanly ("built without OpenSSL"). */
#ifndef TLSC_TLSCLIENT_H
#define TLSC_TLSCLIENT_H

#include <stddef.h>

struct tlsc_config {
    const char *ca_file;   /* PEM CAs to trust; NULL: the system's default */
    int insecure;          /* 1: do not verify the server at all */
    const char *cert_file; /* client certificate (PEM, with its chain), or NULL */
    const char *key_file;  /* its key; NULL: in cert_file */
    const char *alpn;      /* "h2,http/1.1" (our order of preference), or NULL */
    int cache_sessions;    /* 1: call on_session for each session (ticket) */
    /* With cache_sessions: a new resumable session of ssl arrived (a TLS
     * 1.3 ticket after the handshake); the callee owns sess (an
     * SSL_SESSION *) and frees it with tlsc_session_free. */
    void (*on_session)(void *ssl, void *sess);
};

/* 1 if this build has OpenSSL, else 0. */
int tlsc_available(void);

/* An SSL_CTX (as void *) for cfg, or NULL with a one-line message in err
 * (a file that cannot be loaded, a key that does not match its
 * certificate, a malformed ALPN list). */
void *tlsc_ctx_new(const struct tlsc_config *cfg, char *err, size_t errlen);
void tlsc_ctx_free(void *ctx);

/* The SSL (as void *) of one connection on fd, client side, ready for
 * SSL_connect. sni: the server name sent (NULL: none). verify_name: the
 * DNS name or IP address the certificate must be valid for (NULL: any;
 * ignored when the context is insecure). sess: an SSL_SESSION to resume,
 * or NULL. Returns NULL with a message in err. */
void *tlsc_ssl_new(void *ctx, int fd, const char *sni, const char *verify_name, void *sess,
                   char *err, size_t errlen);

/* 1 if host is a numeric IPv4 or IPv6 address (which SNI must not carry). */
int tlsc_is_ip(const char *host);

/* Why the last TLS call on ssl failed: OpenSSL's reason from this
 * thread's error queue ("certificate verify failed: self-signed
 * certificate in certificate chain", "tlsv13 alert certificate
 * required", ...), else errno's text or "the peer closed the
 * connection". Clears the thread's error queue. Returns buf. */
const char *tlsc_reason(void *ssl, int saved_errno, char *buf, size_t len);

/* What the connection negotiated, as text ("TLSv1.3",
 * "TLS_AES_256_GCM_SHA384", the ALPN protocol or "none"). */
const char *tlsc_protocol(void *ssl);
const char *tlsc_cipher(void *ssl);
const char *tlsc_alpn(void *ssl, char *buf, size_t len);
/* 1 if the handshake resumed a session. */
int tlsc_resumed(void *ssl);
/* The server certificate's subject, one line, into buf ("" if none). */
const char *tlsc_peer_subject(void *ssl, char *buf, size_t len);

void tlsc_session_free(void *sess);

#endif
