/* SPDX-License-Identifier: MIT */
/* handlers.h - the handlers tpserver can serve besides the library's echo:
 * the classic inetd test services discard (RFC 863), chargen (RFC 864) and
 * daytime (RFC 867), and sleep, a line echo whose "sleep MS" blocks. */
#ifndef TPSRV_HANDLERS_H
#define TPSRV_HANDLERS_H

#include "opts.h"
#include "tpserv.h"

extern const tps_handler tpsrv_discard_handler;
extern const tps_handler tpsrv_chargen_handler;
extern const tps_handler tpsrv_daytime_handler;
extern const tps_handler tpsrv_sleep_handler;

/* The handler for a --handler choice (static storage). */
const tps_handler *tpsrv_handler_for(enum tpsrv_handler_kind kind);

#endif
