/* SPDX-License-Identifier: MIT */
/* error.c - the error, close-reason and log-level tables, made from the
 * X-macro maps in tpserv.h so that names and messages cannot drift. */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "internal.h"

const char *tps_version(void)
{
    return PACKAGE_VERSION;
}

const char *tps_strerror(int err)
{
    switch (err) {
#define TPS_ERR_MSG_(name, val, msg) \
    case (val):                      \
        return msg;
        TPS_ERRNO_MAP(TPS_ERR_MSG_)
#undef TPS_ERR_MSG_
    case 0:
        return "success";
    default:
        return "unknown error";
    }
}

const char *tps_err_name(int err)
{
    switch (err) {
#define TPS_ERR_NAME_(name, val, msg) \
    case (val):                       \
        return #name;
        TPS_ERRNO_MAP(TPS_ERR_NAME_)
#undef TPS_ERR_NAME_
    default:
        return "UNKNOWN";
    }
}

const char *tps_close_reason_str(int reason)
{
    static const char *const msgs[] = {
#define TPS_CLOSE_MSG_(name, msg) msg,
        TPS_CLOSE_REASON_MAP(TPS_CLOSE_MSG_)
#undef TPS_CLOSE_MSG_
    };
    if (reason < 0 || reason >= TPS_CLOSE_REASON_COUNT_)
        return "unknown reason";
    return msgs[reason];
}

static const char *const level_names[] = {"error", "warn", "info", "debug"};

const char *tps_log_level_name(int level)
{
    if (level < TPS_LOG_ERROR || level > TPS_LOG_DEBUG)
        return "unknown";
    return level_names[level];
}

int tps_log_level_parse(const char *name)
{
    if (name == NULL)
        return TPS_EINVAL;
    for (int i = TPS_LOG_ERROR; i <= TPS_LOG_DEBUG; i++)
        if (strcasecmp(name, level_names[i]) == 0)
            return i;
    if (strcasecmp(name, "warning") == 0)
        return TPS_LOG_WARN;
    return TPS_EINVAL;
}
