/* SPDX-License-Identifier: MIT */
/* sigloop.h - tpserver's main thread after start: it waits for signals
 * and turns them into server calls, until the server has stopped. */
#ifndef TPSRV_SIGLOOP_H
#define TPSRV_SIGLOOP_H

#include <signal.h>

#include "tpserv.h"

/* Block the signals the loop handles (SIGTERM, SIGINT, SIGUSR1, SIGHUP,
 * SIGPIPE, and SIGUSR2, used internally) in the calling thread and fill
 * *set with them. Call in main before any thread starts: the library's
 * threads inherit the mask, so every such signal stays pending for
 * sigwaitinfo() instead of interrupting a worker. */
int tpsrv_block_signals(sigset_t *set);

/* Serve signals until srv has stopped and been waited for:
 *  first SIGTERM/SIGINT  -> tps_server_stop(srv, drain_ms)
 *  second one            -> tps_server_stop(srv, 0)
 *  SIGUSR1               -> statistics to stderr
 *  SIGHUP                -> reload(srv, ud), if reload is not NULL
 *                           (tpserver: the TLS certificate files)
 *  SIGPIPE               -> ignored
 * A helper thread blocks in tps_server_wait() and wakes this loop with
 * SIGUSR2, so a server that stops for any reason ends the loop. Returns
 * tps_server_wait()'s result, or a negative code if the helper could not
 * be started (the server is then stopped). */
int tpsrv_sigloop(tps_server *srv, const sigset_t *set, unsigned drain_ms,
                  int (*reload)(tps_server *srv, const void *ud), const void *ud);

#endif
