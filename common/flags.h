/* SPDX-License-Identifier: MIT */
/* flags.h - the one command-line driver of tpserver, tpclient and tpbench:
 * a table of flags, each with a long name, an optional short letter, a
 * value name, help text and a typed destination (an offset into the
 * caller's options struct) or a callback.
 *
 * Spellings: --name=value, --name value, -x value, -xvalue, bundled short
 * booleans (-Uz), "--" ends the options, and anything else not starting
 * with '-' (or "-" itself) is a positional argument, wherever it stands.
 * A value given separately may not start with '-' (a forgotten value:
 * "--listen --workers 4"), unless the flag says TPCM_DASH_OK; attached
 * values (--x=-1, -x-1) are always taken.
 *
 * Values use common/units.h's grammar; a number outside the flag's
 * [min, max] is refused. Errors name the flag as the user spelled it and
 * the bad value ("--workers: invalid number 'abc'"). Nothing here prints
 * (but tpcm_flags_help, to the FILE it is given) or exits: the programs
 * print the message and exit 2. */
#ifndef TPCM_FLAGS_H
#define TPCM_FLAGS_H

#include <stddef.h>
#include <stdio.h>

enum tpcm_flag_type {
    TPCM_BOOL,     /* no value: the int at off becomes 1 */
    TPCM_COUNT,    /* a count in [min, max] */
    TPCM_DURATION, /* a duration in units of res_ns (rounded up), in [min, max] */
    TPCM_SIZE,     /* a size in bytes in [min, max] */
    TPCM_ONOFF,    /* "on" or "off": 1 or 0 */
    TPCM_CHOICE,   /* one of choices[]: its index, an int */
    TPCM_STRING,   /* the value itself: a const char * into argv */
    TPCM_CALL,     /* call(): with a value if value_name is set */
};

/* Flag bits. */
#define TPCM_REPEAT   1u /* may be given more than once even with once set */
#define TPCM_DASH_OK  2u /* a separate value may start with '-' ("-q -1") */
#define TPCM_STOP     4u /* parsing stops after this flag (--help) */

struct tpcm_flag {
    const char *name;       /* long name without "--", or NULL */
    char letter;            /* short letter, or 0 */
    const char *value_name; /* "N", "DUR", ...; NULL for a flag without value */
    const char *help;       /* one paragraph, wrapped by tpcm_flags_help */
    enum tpcm_flag_type type;
    size_t off;  /* where the value goes in the caller's struct */
    size_t size; /* sizeof that member: int, long, long long (4 or 8) */
    long long min, max;
    long long res_ns;            /* TPCM_DURATION: TPCM_MS etc. */
    const char *const *choices;  /* TPCM_CHOICE: NULL-terminated */
    /* TPCM_CALL: value is NULL for a flag without one. Returns 0, or -1
     * with a message (without the flag's name) in why. */
    int (*call)(void *base, const struct tpcm_flag *f, const char *value, char *why,
                size_t whylen);
    unsigned bits; /* TPCM_REPEAT, TPCM_DASH_OK, TPCM_STOP */
    int id;        /* the caller's own tag (tpserver: enum tps_option) */
};

/* A flag's destination in a struct type: .off and .size together. */
#define TPCM_AT(type, member) .off = offsetof(type, member), .size = sizeof(((type *)0)->member)

struct tpcm_flags {
    const struct tpcm_flag *flag;
    size_t n;
    /* Each positional argument, in order; NULL: none is allowed. Returns
     * 0, or -1 with a message in why (the whole message). */
    int (*positional)(void *base, const char *arg, char *why, size_t whylen);
    int once; /* a flag given twice is an error (but TPCM_REPEAT ones) */
};

/* Parses argv[1..argc) into base. seen, if not NULL, has t->n counters
 * (zeroed here) of how often each flag was given. Returns 0, 1 if a
 * TPCM_STOP flag ended the parse early, or -1 with a one-line message (no
 * program name, no newline) in err. */
int tpcm_flags_parse(const struct tpcm_flags *t, void *base, int argc, char *const *argv,
                     unsigned char *seen, char *err, size_t errlen);

/* The option list of --help, generated from the table: one entry per
 * flag ("  -w, --workers N" then its help wrapped at column 30), so that
 * the help cannot miss a flag. */
void tpcm_flags_help(const struct tpcm_flag *flag, size_t n, FILE *f);

/* Writes "-x" or "--name" of f into buf (for messages). */
void tpcm_flag_spelling(const struct tpcm_flag *f, char *buf, size_t len);

#endif
