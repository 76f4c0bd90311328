/* SPDX-License-Identifier: MIT */
/* report.h - everything tpserver writes to stderr: the library's log lines,
 * its own log lines, and statistics blocks. */
#ifndef TPSRV_REPORT_H
#define TPSRV_REPORT_H

#include "tpserv.h"

/* Set the most verbose level printed. Call once, before any thread starts
 * (the level is then only read). */
void tpsrv_report_init(int level);
int tpsrv_report_level(void);

/* tps_log_fn: prints "tpserver: [level] msg". Thread-safe: one fprintf
 * per line (stdio locks the stream). */
void tpsrv_log(void *ud, int level, const char *msg);

/* tpserver's own log lines, filtered by the same level. */
void tpsrv_logf(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Print every statistic as "tpserver: stat NAME VALUE" lines after a
 * "tpserver: statistics (TITLE)" line, in one write so that log lines from
 * workers do not interleave. */
void tpsrv_print_stats(const tps_server *srv, const char *title);

#endif
