/* SPDX-License-Identifier: MIT */
/* units.h - strict parsers for tpserver's numeric option values.
 *
 * Each accepts only its whole string: decimal digits, then an optional
 * unit. No sign, no spaces, no trailing junk, no overflow. They return 0
 * and set *out, or -EINVAL (garbage) or -ERANGE (too large for a long
 * long after applying the unit); *out is untouched on error. */
#ifndef TPSRV_UNITS_H
#define TPSRV_UNITS_H

/* Digits only. */
int tpsrv_parse_count(const char *s, long long *out);
/* Digits and an optional unit ms, s, m, h; no unit = seconds. The result
 * is in milliseconds. */
int tpsrv_parse_duration_ms(const char *s, long long *out);
/* The same with us (microseconds) too; the result is in microseconds. */
int tpsrv_parse_duration_us(const char *s, long long *out);
/* Digits and an optional k, m, g (powers of 1024, either case); no unit =
 * bytes. */
int tpsrv_parse_size(const char *s, long long *out);

#endif
