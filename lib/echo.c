/* SPDX-License-Identifier: MIT */
/* echo.c - the default handler: every byte comes back. */
#include "config.h"

#include "tpserv.h"

static long echo_data(tps_conn *c, const char *data, size_t len)
{
    if (tps_conn_send(c, data, len) < 0)
        return -1;
    return (long)len;
}

const tps_handler tps_echo_handler = {
    .name = "echo",
    .on_data = echo_data,
};
