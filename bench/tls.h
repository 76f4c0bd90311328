/* SPDX-License-Identifier: MIT */
/* tls: tpbench's TLS (see tls.c). The SSL of a connection is a void * so
 * that loop.c compiles without OpenSSL headers. */
#ifndef TPB_TLS_H
#define TPB_TLS_H
#include <stddef.h>

#include "engine.h"

/* What a step of a non-blocking TLS call came to. */
enum tpb_tls_st { TPB_TLS_OK, TPB_TLS_WANT_READ, TPB_TLS_WANT_WRITE, TPB_TLS_EOF, TPB_TLS_ERR };

/* 1 if this build has OpenSSL. */
int tpb_tls_available(void);
/* With --tls: the client context into run->tls_ctx (files, --alpn
 * checked now). 0, or -1 with a message. Without --tls: 0, nothing. */
int tpb_tls_setup(tpb_run *run, char *err, size_t n);
void tpb_tls_teardown(tpb_run *run);
/* The early probe's handshake on the connected non-blocking fd, at most
 * timeout_ms: 0, or -1 with the reason in err. */
int tpb_tls_probe(const tpb_run *run, int fd, int timeout_ms, char *err, size_t n);

/* A connection's SSL on fd; *sess_slot is where --tls-resume keeps the
 * connection's latest session (resumed from here, replaced by each new
 * ticket). NULL on failure (the reason is recorded in run). */
void *tpb_tls_new(tpb_run *run, int fd, void **sess_slot);
/* One handshake step: OK (done), WANT_READ, WANT_WRITE or ERR (the
 * first failure's reason is kept in run->tls_reason). */
int tpb_tls_handshake(tpb_run *run, void *ssl);
int tpb_tls_resumed(void *ssl);
/* One SSL_read into buf / one SSL_write of buf: bytes (> 0), or 0 with
 * *st one of WANT_READ, WANT_WRITE, EOF or ERR (reason kept in run). */
size_t tpb_tls_read(tpb_run *run, void *ssl, char *buf, size_t len, int *st);
size_t tpb_tls_write(tpb_run *run, void *ssl, const char *buf, size_t len, int *st);
/* Bytes wait inside TLS, where epoll cannot see them. */
int tpb_tls_pending(void *ssl);
/* Frees ssl, after sending our close_notify if notify (an orderly end). */
void tpb_tls_free(void *ssl, int notify);
void tpb_tls_session_free(void *sess);
/* Keeps why (once per run: the first failure is the one reported). */
void tpb_tls_note(tpb_run *run, const char *why);
#endif
