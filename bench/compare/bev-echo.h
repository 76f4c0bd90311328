/* SPDX-License-Identifier: MIT */
/* bev-echo.h - libevent's textbook echo on a bufferevent, shared by the
 * plain (echo-libevent -m bufferevent) and the TLS (echo-libevent-tls,
 * bufferevent_openssl) references, so both measure the same code. */
#ifndef BENCH_BEV_ECHO_H
#define BENCH_BEV_ECHO_H

#include <event2/bufferevent.h>

/* Echo on bev from now on: the input is moved to the output, reading
 * pauses while REFSRV_BUF_SIZE or more wait to be sent, and bev is freed
 * at EOF (once its output has drained) or on an error. */
void bev_echo_start(struct bufferevent *bev);

#endif
