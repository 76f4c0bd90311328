/* SPDX-License-Identifier: MIT */
/* flagnames.c - prints every option each program's own parser knows, one
 * "PROGRAM --long" or "PROGRAM -x" per line, from the parsers' tables
 * (server/opts.c, client/opts.c, bench/opts.c): tests/man.sh holds the man
 * pages to this list, so a flag added to a parser without its man page
 * fails make check. */
#include <stdio.h>

#include "../bench/opts.h"
#include "../client/opts.h"
#include "../server/opts.h"

static void put(const char *prog, const char *name, char letter)
{
    if (name)
        printf("%s --%s\n", prog, name);
    if (letter)
        printf("%s -%c\n", prog, letter);
}

int main(void)
{
    const char *name;
    char letter;
    for (size_t i = 0; (name = tpsrv_opts_flag_name(i)) != NULL; i++)
        put("tpserver", name, tpsrv_opts_flag_short(i));
    for (size_t i = 0; tpc_opts_flag(i, &name, &letter); i++)
        put("tpclient", name, letter);
    for (size_t i = 0; (name = tpb_opts_flag(i, &letter)) != NULL; i++)
        put("tpbench", name, letter);
    return fflush(stdout) == 0 ? 0 : 1;
}
