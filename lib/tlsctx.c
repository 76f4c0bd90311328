/* SPDX-License-Identifier: MIT */
/* tlsctx.c - a TLS configuration (tps_server_tls) made into the one
 * SSL_CTX of tls: listeners: certificates and the names they serve (SNI),
 * session tickets, ALPN, versions and ciphers, kernel TLS. What happens on
 * a connection (the BIO, the handshake steps, reads and writes, what was
 * negotiated) is tls.c's.
 *
 * The context lives in srv->tls_ctx under srv->tls_lock. tps_server_tls()
 * builds a whole new one before it takes the lock, so a bad file changes
 * nothing, and swaps it in; each connection's SSL holds a reference to the
 * context it was born with, so established connections keep theirs.
 * Everything a context refers to (its certificates, SNI table, ALPN list)
 * hangs on it as ex_data and is freed with its last reference. Its
 * callbacks run on the thread of a handshake step (a worker, or the
 * handshake pool) and only read what the context holds, or take
 * tls_lock (tickets). */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
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
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "sni.h"

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
        if (enc ? i == 0
                : (k->born_ms != 0 && memcmp(k->name, name, 16) == 0 &&
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

/* ---- errors ----------------------------------------------------------------------- */

void tps__tls_errors(char *buf, size_t cap)
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

/* Log "TLS: <what>: <OpenSSL's reasons>" at error level, saying so when
 * the configuration in use stays, and free the context being built (may
 * be NULL). Returns TPS_ETLS. */
__attribute__((format(printf, 3, 4))) static int ctx_fail(tps_server *srv, SSL_CTX *ctx,
                                                          const char *fmt, ...)
{
    char what[2048], why[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    tps__tls_errors(why, sizeof(why));
    pthread_mutex_lock(&srv->tls_lock);
    bool had = srv->tls_ctx != NULL;
    pthread_mutex_unlock(&srv->tls_lock);
    tps__log(srv, TPS_LOG_ERROR, "TLS: %s: %s%s", what, why,
             had ? "; the certificates in use stay" : "");
    SSL_CTX_free(ctx);
    return TPS_ETLS;
}

/* ---- ALPN ------------------------------------------------------------------------ */

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

/* ---- kernel TLS ------------------------------------------------------------------ */

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

/* ---- certificates, and which one a client gets (SNI) ---------------------------
 * cert_file is the default; each of certs[] serves the names it holds:
 * its subjectAltName DNS entries, or its subject's CN if it has none (as
 * HAProxy reads them). A client's server_name picks the certificate with
 * that exact name, else the one with a wildcard for it, else the default
 * serves. Of two certificates holding one name, the first given wins
 * (the default before certs[], then certs[] in order).
 *
 * One SSL_CTX holds them all, the default as its own certificate. A
 * ClientHello callback looks the name up once and, for a certificate
 * other than the default, puts it on the connection's SSL with
 * SSL_use_cert_and_key(): our side allocates nothing (OpenSSL takes
 * references on the certificate and key, and copies the chain's array
 * of pointers). Not SSL_set_SSL_CTX() with a context per certificate: it
 * copies the new context's whole CERT per handshake, and every setting
 * would have to be kept alike in all contexts. Not the certificate
 * callback (SSL_CTX_set_cert_cb) either: it runs once OpenSSL has decided
 * on resumption, and the name must decide that too.
 *
 * Resumption: OpenSSL looks a session up (a ticket, or an id in the
 * cache) before it parses the server_name, and does not hold a session
 * to the name it was made for: it resumes b.test with a session made
 * under a.test's certificate when both share one session id context
 * (tls_sni_resumption in tests/check_lib_tls.c fails so, in TLS 1.2 and
 * 1.3). It does refuse a session of another session id context.
 * So the callback, which runs before the lookup, gives the connections
 * of each certificate their own: a hash of the names it serves, and
 * "tpserv" for the default, as before. A session never resumes under a
 * certificate other than its own (that client gets a full handshake and
 * the right certificate), while a renewed certificate for the same names
 * keeps resuming the sessions of the one it replaced. */

struct sni_cert {
    X509 *x509;
    EVP_PKEY *pkey;
    STACK_OF(X509) *chain; /* what followed the certificate in its file; NULL: nothing */
    unsigned char sid[SSL_MAX_SID_CTX_LENGTH]; /* the session id context of its sessions */
    unsigned sid_len;
};

/* A context's certificates: [0] is the default, then certs[] in order.
 * Owned by the context (ex_data), read-only once it is built. */
struct sni_set {
    size_t n;
    struct sni_cert *cert;
    tps__sni_table names; /* of certs[] and the default: what a name gets */
};

static const unsigned char default_sid[] = "tpserv";
static int certs_index = -1;

static void certs_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
    struct sni_set *set = ptr;
    (void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
    if (set == NULL)
        return;
    for (size_t i = 0; i < set->n; i++) {
        X509_free(set->cert[i].x509);
        EVP_PKEY_free(set->cert[i].pkey);
        sk_X509_pop_free(set->cert[i].chain, X509_free);
    }
    free(set->cert);
    tps__sni_free(&set->names);
    free(set);
}

/* The certificate and then its chain from a PEM file, as
 * SSL_CTX_use_certificate_chain_file() reads one, and the key (from
 * key_file, or the same file), which must be the certificate's. Logs
 * which file and why; returns 0 or TPS_ETLS. */
static int load_cert(tps_server *srv, const char *cert_file, const char *key_file,
                     struct sni_cert *c)
{
    const char *key = key_file ? key_file : cert_file;
    BIO *in = BIO_new_file(cert_file, "r");
    c->x509 = in ? PEM_read_bio_X509_AUX(in, NULL, NULL, NULL) : NULL;
    if (c->x509 == NULL) {
        BIO_free(in);
        return ctx_fail(srv, NULL, "certificate file '%s'", cert_file);
    }
    X509 *ca;
    while ((ca = PEM_read_bio_X509(in, NULL, NULL, NULL)) != NULL)
        if ((c->chain == NULL && (c->chain = sk_X509_new_null()) == NULL) ||
            !sk_X509_push(c->chain, ca)) {
            X509_free(ca);
            BIO_free(in);
            return ctx_fail(srv, NULL, "certificate file '%s'", cert_file);
        }
    BIO_free(in);
    /* The end of the file reads as "no start line"; anything else is bad. */
    unsigned long e = ERR_peek_last_error();
    if (e != 0 && !(ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE))
        return ctx_fail(srv, NULL, "certificate file '%s'", cert_file);
    ERR_clear_error();
    in = BIO_new_file(key, "r");
    c->pkey = in ? PEM_read_bio_PrivateKey(in, NULL, NULL, NULL) : NULL;
    BIO_free(in);
    if (c->pkey == NULL)
        return ctx_fail(srv, NULL, "key file '%s'", key);
    if (X509_check_private_key(c->x509, c->pkey) != 1)
        return ctx_fail(srv, NULL, "key file '%s' does not match certificate file '%s'", key,
                        cert_file);
    return 0;
}

/* One name of a certificate into t; a name that is no DNS name (a CN
 * such as "My Server") is skipped with a warning. */
static int add_name(tps_server *srv, tps__sni_table *t, const ASN1_STRING *s, const char *file)
{
    const char *name = (const char *)ASN1_STRING_get0_data(s);
    int len = ASN1_STRING_length(s);
    int rc = len > 0 ? tps__sni_add(t, name, (size_t)len, 0) : -EINVAL;
    if (rc == -EINVAL)
        tps__log(srv, TPS_LOG_WARN,
                 "TLS: certificate file '%s': '%.*s' is no DNS name: no client "
                 "asking for it gets this certificate",
                 file, len > 0 && len < 256 ? len : 0, name);
    return rc == -ENOMEM ? TPS_ENOMEM : 0;
}

/* The names x serves: its subjectAltName DNS entries, or, only if it has
 * none, its subject's CNs. (IP addresses never come as a server_name.) */
static int cert_names(tps_server *srv, X509 *x, const char *file, tps__sni_table *t)
{
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    int ndns = 0, rc = 0;
    for (int k = 0; rc == 0 && k < sk_GENERAL_NAME_num(gens); k++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, k);
        if (g->type == GEN_DNS) {
            ndns++;
            rc = add_name(srv, t, g->d.dNSName, file);
        }
    }
    GENERAL_NAMES_free(gens);
    ERR_clear_error(); /* no subjectAltName is no error */
    const X509_NAME *subj = X509_get_subject_name(x);
    for (int k = -1;
         rc == 0 && ndns == 0 && (k = X509_NAME_get_index_by_NID(subj, NID_commonName, k)) >= 0;)
        rc = add_name(srv, t, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, k)), file);
    return rc;
}

/* Certificate i's names into the set's table, and its session id
 * context: SHA-256 of those names, sorted, so that it is the same for a
 * renewed certificate of the same names. */
static int add_cert_names(tps_server *srv, struct sni_set *set, uint32_t i, const char *file)
{
    tps__sni_table own = {0};
    int rc = cert_names(srv, set->cert[i].x509, file, &own);
    EVP_MD_CTX *md = rc == 0 ? EVP_MD_CTX_new() : NULL;
    if (rc == 0 && (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1))
        rc = TPS_ENOMEM;
    tps__sni_finish(&own);
    for (size_t k = 0; rc == 0 && k < own.nexact + own.nwild; k++) {
        const tps__sni_entry *e = k < own.nexact ? &own.exact[k] : &own.wild[k - own.nexact];
        char name[TPS__SNI_MAX_NAME + 3];
        int n = snprintf(name, sizeof(name), "%s%s", k < own.nexact ? "" : "*.", e->name);
        if (tps__sni_add(&set->names, name, (size_t)n, i) < 0 ||
            EVP_DigestUpdate(md, name, (size_t)n + 1) != 1) /* with its NUL: a separator */
            rc = TPS_ENOMEM;
    }
    if (rc == 0 && i > 0 && EVP_DigestFinal_ex(md, set->cert[i].sid, &set->cert[i].sid_len) != 1)
        rc = TPS_ENOMEM;
    EVP_MD_CTX_free(md);
    tps__sni_free(&own);
    return rc;
}

/* The ClientHello callback: the certificate for the client's name, and
 * its session id context, on this connection before OpenSSL looks for a
 * session to resume (see above). Runs on the thread of the handshake
 * step, reads only the set. */
static int sni_select(SSL *ssl, int *alert, void *arg)
{
    const struct sni_set *set = arg;
    const unsigned char *ext, *name;
    size_t n, len;
    long i = -1;
    /* A malformed server_name gets the default here, and OpenSSL then
     * ends the handshake when it parses the extension itself. */
    if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &ext, &n) == 1 &&
        tps__sni_parse(ext, n, &name, &len) == 0)
        i = tps__sni_lookup(&set->names, (const char *)name, len);
    const struct sni_cert *c = &set->cert[i > 0 ? i : 0];
    /* Already so: the default, on a new SSL; or the same name again in
     * the second ClientHello after a HelloRetryRequest. */
    if (SSL_get_certificate(ssl) == c->x509)
        return SSL_CLIENT_HELLO_SUCCESS;
    /* No certificate of the default's key type may stay beside it: a
     * client that takes both would get the default. */
    SSL_certs_clear(ssl);
    if (SSL_use_cert_and_key(ssl, c->x509, c->pkey, c->chain, 1) != 1 ||
        SSL_set_session_id_context(ssl, c->sid, c->sid_len) != 1) {
        *alert = SSL_AD_INTERNAL_ERROR;
        return SSL_CLIENT_HELLO_ERROR;
    }
    return SSL_CLIENT_HELLO_SUCCESS;
}

/* The server_name is taken (acknowledged): OpenSSL keeps it with a new
 * session only then, and without it a resumed TLS 1.2 session would
 * report no name at all (SSL_get_servername gives the session's there). */
static int sni_ack(SSL *ssl, int *alert, void *arg)
{
    (void)ssl, (void)alert, (void)arg;
    return SSL_TLSEXT_ERR_OK;
}

/* Every certificate of cfg into a set owned by ctx: the default is also
 * ctx's own; with certs[], the names table and the ClientHello callback.
 * Nothing is half-loaded: on an error (logged, naming the file) the
 * caller frees ctx and with it the set. *nnames: the names served. */
static int load_certs(tps_server *srv, SSL_CTX *ctx, const tps_tls_config *cfg, size_t *nnames)
{
    struct sni_set *set = calloc(1, sizeof(*set));
    if (set == NULL || (set->cert = calloc(cfg->ncerts + 1, sizeof(*set->cert))) == NULL ||
        SSL_CTX_set_ex_data(ctx, certs_index, set) != 1) {
        free(set != NULL ? set->cert : NULL);
        free(set);
        return TPS_ENOMEM;
    }
    set->n = cfg->ncerts + 1;
    memcpy(set->cert[0].sid, default_sid, sizeof(default_sid) - 1);
    set->cert[0].sid_len = sizeof(default_sid) - 1;
    for (size_t i = 0; i < set->n; i++) {
        const char *cert = i ? cfg->certs[i - 1].cert_file : cfg->cert_file;
        const char *key = i ? cfg->certs[i - 1].key_file : cfg->key_file;
        int rc = load_cert(srv, cert, key, &set->cert[i]);
        if (rc == 0 && cfg->ncerts > 0)
            rc = add_cert_names(srv, set, (uint32_t)i, cert);
        if (rc < 0)
            return rc;
    }
    SSL_CTX_set_tlsext_servername_callback(ctx, sni_ack);
    const struct sni_cert *d = &set->cert[0];
    if (SSL_CTX_use_cert_and_key(ctx, d->x509, d->pkey, d->chain, 1) != 1)
        return ctx_fail(srv, NULL, "certificate file '%s'", cfg->cert_file);
    *nnames = 0;
    if (cfg->ncerts == 0)
        return 0; /* one certificate: no callback, no table */
    tps__sni_finish(&set->names);
    *nnames = set->names.nexact + set->names.nwild;
    /* What the callback will do, once each now: a certificate OpenSSL
     * refuses to serve (a key too weak for the security level) is an
     * error naming its file, not a failed handshake later. */
    SSL *trial = SSL_new(ctx);
    if (trial == NULL)
        return ctx_fail(srv, NULL, "cannot create a connection to try the certificates on");
    for (size_t i = 1; i < set->n; i++) {
        SSL_certs_clear(trial);
        if (SSL_use_cert_and_key(trial, set->cert[i].x509, set->cert[i].pkey, set->cert[i].chain,
                                 1) != 1) {
            SSL_free(trial);
            return ctx_fail(srv, NULL, "certificate file '%s'", cfg->certs[i - 1].cert_file);
        }
        if (!tps__sni_serves(&set->names, (uint32_t)i))
            tps__log(srv, TPS_LOG_WARN,
                     "TLS: certificate file '%s' serves no name that a certificate given "
                     "before it does not: no client gets it",
                     cfg->certs[i - 1].cert_file);
    }
    SSL_free(trial);
    SSL_CTX_set_client_hello_cb(ctx, sni_select, set);
    return 0;
}

/* ---- the context ----------------------------------------------------------------- */

#define TPS__TLS12_CIPHERS "ECDHE+AESGCM:ECDHE+CHACHA20"

static int build_ctx(tps_server *srv, const tps_tls_config *cfg, SSL_CTX **out, size_t *nnames)
{
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
    if (cfg->ncerts > 0 && cfg->certs == NULL) {
        tps__log(srv, TPS_LOG_ERROR, "TLS: %zu SNI certificates, and no array of them",
                 cfg->ncerts);
        return TPS_EINVAL;
    }
    for (size_t i = 0; i < cfg->ncerts; i++)
        if (cfg->certs[i].cert_file == NULL) {
            tps__log(srv, TPS_LOG_ERROR, "TLS: SNI certificate %zu has no certificate file", i);
            return TPS_EINVAL;
        }
    if (cfg->no_ktls != 0 && cfg->no_ktls != 1) {
        tps__log(srv, TPS_LOG_ERROR, "TLS: no_ktls %d: expected 0 or 1", cfg->no_ktls);
        return TPS_EINVAL;
    }
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL)
        return ctx_fail(srv, ctx, "cannot create a context");
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
    SSL_CTX_set_session_id_context(ctx, default_sid, sizeof(default_sid) - 1);
    SSL_CTX_set_app_data(ctx, srv);
    /* A session resumes for as long as its ticket's key can open it. */
    SSL_CTX_set_timeout(ctx, (long)(2 * srv->opt[TPS_OPT_TLS_TICKET_KEY_MS] / 1000));
    if (!cfg->no_tickets)
        SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticket_cb);
    int rc = load_certs(srv, ctx, cfg, nnames);
    if (rc < 0) {
        SSL_CTX_free(ctx);
        return rc;
    }
    /* TLS 1.2 default: forward secrecy and AEAD only (no CBC: LUCKY13;
     * no RSA key transport: ROBOT), Mozilla's "intermediate" without DHE. */
    const char *ciphers = cfg->ciphers ? cfg->ciphers : TPS__TLS12_CIPHERS;
    if (SSL_CTX_set_cipher_list(ctx, ciphers) != 1)
        return ctx_fail(srv, ctx, "TLS 1.2 cipher list '%s'", ciphers);
    if (cfg->ciphersuites && SSL_CTX_set_ciphersuites(ctx, cfg->ciphersuites) != 1)
        return ctx_fail(srv, ctx, "TLS 1.3 cipher suites '%s'", cfg->ciphersuites);
    if (cfg->ca_file != NULL) {
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(cfg->ca_file);
        if (names == NULL || SSL_CTX_load_verify_locations(ctx, cfg->ca_file, NULL) != 1) {
            sk_X509_NAME_pop_free(names, X509_NAME_free);
            return ctx_fail(srv, ctx, "CA file '%s'", cfg->ca_file);
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
            tps__log(srv, TPS_LOG_ERROR,
                     "TLS: ALPN list '%s': names of 1-255 bytes, comma-separated", cfg->alpn);
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
    certs_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, certs_free);
}

int tps_server_tls_size(tps_server *srv, const tps_tls_config *cfg, size_t size)
{
    tps_tls_config mine = {0};
    if (srv == NULL || cfg == NULL)
        return TPS_EINVAL;
    /* A newer caller's struct: fields this library does not know must be
     * unset, or it would silently ignore a setting. An older caller's
     * smaller one: the fields it lacks stay 0 (no SNI certificates). */
    for (size_t i = sizeof(mine); i < size; i++)
        if (((const unsigned char *)cfg)[i] != 0)
            return TPS_ENOSYS;
    memcpy(&mine, cfg, size < sizeof(mine) ? size : sizeof(mine));
    pthread_once(&lib_once, lib_init);
    if (alpn_index < 0 || certs_index < 0)
        return TPS_ENOMEM;
    pthread_mutex_lock(&srv->tls_lock);
    if (srv->tickets == NULL)
        srv->tickets = calloc(1, sizeof(*srv->tickets));
    bool no_mem = srv->tickets == NULL;
    pthread_mutex_unlock(&srv->tls_lock);
    if (no_mem)
        return TPS_ENOMEM;
    SSL_CTX *ctx = NULL;
    size_t nnames = 0;
    int rc = build_ctx(srv, &mine, &ctx, &nnames);
    if (rc < 0)
        return rc;
    pthread_mutex_lock(&srv->tls_lock);
    SSL_CTX *old = srv->tls_ctx;
    srv->tls_ctx = ctx;
    pthread_mutex_unlock(&srv->tls_lock);
    SSL_CTX_free(old); /* connections born with it keep a reference */
    char sni[96] = "";
    if (mine.ncerts > 0)
        snprintf(sni, sizeof(sni), ", and %zu more chosen by SNI (%zu names)", mine.ncerts, nnames);
    tps__log(srv, TPS_LOG_INFO, "TLS: certificate '%s'%s loaded%s; kernel TLS %s", mine.cert_file,
             sni, old ? " (new connections use it)" : "",
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
#endif
