/* SPDX-License-Identifier: MIT */
/* escape.h - the one set of C escapes that tpclient (-e --message) and
 * tpbench (--request, --expect, --expect-term) decode:
 *
 *   \\ \' \" \? \a \b \e \f \n \r \t \v   the usual (\e is ESC, 0x1b)
 *   \N, \NN, \NNN                          octal, at most \377
 *   \xH, \xHH                              hex, one or two digits
 *
 * Anything else after a backslash, and a backslash at the end, is an
 * error. Binary-safe: "\0" decodes to a NUL byte inside the result. */
#ifndef TPCM_ESCAPE_H
#define TPCM_ESCAPE_H

#include <stddef.h>

/* Decodes in into a new malloc'd buffer *out (the caller frees it) of
 * *outlen bytes, NUL-terminated for convenience beyond them. Returns 0, or
 * -1 with a message naming the bad escape in why ("unknown escape '\q'",
 * "trailing backslash", "out of memory"); *out and *outlen are then
 * untouched. */
int tpcm_unescape(const char *in, char **out, size_t *outlen, char *why, size_t whylen);

#endif
