/* SPDX-License-Identifier: MIT */
/* units.h - the one grammar of counts, durations and sizes that tpserver,
 * tpclient and tpbench take on their command lines (and libtpserv never
 * sees). Each parser accepts only its whole string, with no sign, space,
 * trailing junk or overflow:
 *
 *   count     DIGITS
 *   duration  DIGITS [. DIGITS] [ns|us|ms|s|m|h]   (no unit = seconds)
 *   size      DIGITS [. DIGITS] [k|K|m|M|g|G]       (powers of 1024; no
 *                                                   unit = bytes)
 *
 * They return 0 and set *out, or -EINVAL (not the grammar), -ERANGE (above
 * LLONG_MAX after the unit) or, for a size only, -EDOM (a fraction that
 * does not come out whole bytes, as "1.5" or "0.1k"); *out is untouched on
 * error. Ranges are the caller's business (common/flags.c checks each
 * flag's own). No allocation, no global state: safe from any thread. */
#ifndef TPCM_UNITS_H
#define TPCM_UNITS_H

/* Nanoseconds per unit of result: pass one of these as res_ns. */
#define TPCM_NS 1LL
#define TPCM_US 1000LL
#define TPCM_MS 1000000LL

int tpcm_parse_count(const char *s, long long *out);
/* The duration in units of res_ns (TPCM_NS, TPCM_US, TPCM_MS or any
 * positive number of nanoseconds), rounded UP: a non-zero duration never
 * becomes 0, which many flags read as "off" ("100us" is 1 in ms). The
 * exact value is computed from the digits (no floating point), so
 * "0.1s" is 100 ms exactly. */
int tpcm_parse_duration(const char *s, long long res_ns, long long *out);
int tpcm_parse_size(const char *s, long long *out);

/* What a parse error means, as a short phrase for a message ("not a
 * number", "too large", ...): rc is what the parsers above return. */
const char *tpcm_units_strerror(int rc);

#endif
