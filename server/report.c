/* SPDX-License-Identifier: MIT */
/* report.c - tpserver's stderr: log lines and statistics. Lines start with
 * "tpserver: " so that a supervisor's merged log says who wrote them, and
 * each is written with one stdio call, which holds the stream lock, so
 * lines from concurrent workers never mix. */
#include "config.h"

#include "report.h"

#include <stdarg.h>
#include <stdio.h>

static int max_level = TPS_LOG_INFO;

void tpsrv_report_init(int level)
{
    max_level = level;
}

int tpsrv_report_level(void)
{
    return max_level;
}

void tpsrv_log(void *ud, int level, const char *msg)
{
    fprintf(stderr, "tpserver: [%s] %s\n", tps_log_level_name(level), msg);
}

void tpsrv_logf(int level, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    if (level > max_level)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    tpsrv_log(NULL, level, msg);
}

void tpsrv_print_stats(const tps_server *srv, const char *title)
{
    char buf[4096];
    size_t n = 0;

    n += (size_t)snprintf(buf, sizeof buf, "tpserver: statistics (%s)\n", title);
    for (int i = 0; i < TPS_STAT_COUNT_ && n < sizeof buf; i++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "tpserver: stat %s %llu\n",
                              tps_stat_name((enum tps_stat)i),
                              (unsigned long long)tps_server_stat(srv, (enum tps_stat)i));
    for (int i = 0; i < TPS_HIST_COUNT_ && n < sizeof buf; i++) {
        enum tps_hist h = (enum tps_hist)i;
        n += (size_t)snprintf(
            buf + n, sizeof buf - n,
            "tpserver: hist %s count %llu p50 %.3f p99 %.3f p99.9 %.3f max %.3f us\n",
            tps_hist_name(h), (unsigned long long)tps_server_hist_count(srv, h),
            tps_server_hist_pct(srv, h, 50) / 1e3, tps_server_hist_pct(srv, h, 99) / 1e3,
            tps_server_hist_pct(srv, h, 99.9) / 1e3, tps_server_hist_pct(srv, h, 100) / 1e3);
    }
    fwrite(buf, 1, n < sizeof buf ? n : sizeof buf - 1, stderr);
    fflush(stderr);
}
