/* SPDX-License-Identifier: MIT */
/* options.c - the option, statistic and histogram tables, from the X-macro
 * maps in tpserv.h: names, defaults, ranges and descriptions in one place. */
#include "config.h"

#include <ctype.h>

#include "internal.h"

struct optdef {
    const char *name;
    long long def, min, max;
    const char *desc;
};

static const struct optdef optdefs[TPS_OPT_COUNT_] = {
#define TPS_OPT_DEF_(name, def, min, max, desc) {#name, def, min, max, desc},
    TPS_OPTION_MAP(TPS_OPT_DEF_)
#undef TPS_OPT_DEF_
};

static const char *const statnames[TPS_STAT_COUNT_][2] = {
#define TPS_STAT_DEF_(name, desc) {#name, desc},
    TPS_STAT_MAP(TPS_STAT_DEF_)
#undef TPS_STAT_DEF_
};

static const char *const histnames[TPS_HIST_COUNT_] = {
#define TPS_HIST_DEF_(name, desc) #name,
    TPS_HIST_MAP(TPS_HIST_DEF_)
#undef TPS_HIST_DEF_
};

/* Lower-cased copies of the names, made at first use. */
static char lower_opt[TPS_OPT_COUNT_][40];
static char lower_stat[TPS_STAT_COUNT_][40];
static char lower_hist[TPS_HIST_COUNT_][40];
static pthread_once_t lower_once = PTHREAD_ONCE_INIT;

static void lower_copy(char *dst, size_t len, const char *src)
{
    size_t i;
    for (i = 0; src[i] && i + 1 < len; i++)
        dst[i] = (char)tolower((unsigned char)src[i]);
    dst[i] = '\0';
}

static void make_lower(void)
{
    for (int i = 0; i < TPS_OPT_COUNT_; i++)
        lower_copy(lower_opt[i], sizeof(lower_opt[i]), optdefs[i].name);
    for (int i = 0; i < TPS_STAT_COUNT_; i++)
        lower_copy(lower_stat[i], sizeof(lower_stat[i]), statnames[i][0]);
    for (int i = 0; i < TPS_HIST_COUNT_; i++)
        lower_copy(lower_hist[i], sizeof(lower_hist[i]), histnames[i]);
}

/* names[i] lower-cased, or NULL if i is out of range. */
static const char *lowered(const char (*names)[40], int i, int count)
{
    if (i < 0 || i >= count)
        return NULL;
    pthread_once(&lower_once, make_lower);
    return names[i];
}

void tps__options_defaults(long long *opt)
{
    for (int i = 0; i < TPS_OPT_COUNT_; i++)
        opt[i] = optdefs[i].def;
}

int tps_server_set(tps_server *srv, enum tps_option o, long long value)
{
    if (srv == NULL || (int)o < 0 || o >= TPS_OPT_COUNT_)
        return TPS_EINVAL;
    if (srv->started)
        return TPS_EBUSY;
    if (value < optdefs[o].min || value > optdefs[o].max)
        return TPS_ERANGE;
    srv->opt[o] = value;
    return 0;
}

int tps_server_get(const tps_server *srv, enum tps_option o, long long *value)
{
    if (srv == NULL || value == NULL || (int)o < 0 || o >= TPS_OPT_COUNT_)
        return TPS_EINVAL;
    *value = srv->opt[o];
    return 0;
}

const char *tps_option_name(enum tps_option o)
{
    return lowered(lower_opt, (int)o, TPS_OPT_COUNT_);
}

const char *tps_option_desc(enum tps_option o)
{
    return (int)o < 0 || o >= TPS_OPT_COUNT_ ? NULL : optdefs[o].desc;
}

const char *tps_stat_name(enum tps_stat s)
{
    return lowered(lower_stat, (int)s, TPS_STAT_COUNT_);
}

const char *tps_hist_name(enum tps_hist h)
{
    return lowered(lower_hist, (int)h, TPS_HIST_COUNT_);
}

const char *tps_stat_desc(enum tps_stat s)
{
    return (int)s < 0 || s >= TPS_STAT_COUNT_ ? NULL : statnames[s][1];
}
