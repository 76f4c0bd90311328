/* SPDX-License-Identifier: MIT */
/* fuzz.h - what every libFuzzer target in tests/fuzz shares: the entry
 * point's prototype, a property check that aborts (so libFuzzer and the
 * corpus replay in make check both see a failure), and turning the
 * fuzzer's bytes into the C strings the parsers take. */
#ifndef TPS_FUZZ_H
#define TPS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property that must hold for every input: abort (a crash to libFuzzer
 * and a failed test to the replay) with where and what. */
#define FUZZ_CHECK(cond)                                                                \
    do {                                                                                \
        if (!(cond)) {                                                                  \
            fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                    \
        }                                                                               \
    } while (0)

/* The bytes as a malloc'd C string of exactly n + 1 bytes (a parser that
 * reads past the NUL is caught by ASan); an embedded NUL ends it early. */
static inline char *fuzz_str(const uint8_t *d, size_t n)
{
    char *s = malloc(n + 1);
    if (s == NULL)
        abort();
    memcpy(s, d, n);
    s[n] = '\0';
    return s;
}

/* Split a fuzz_str copy of n bytes at its NULs into at most max strings
 * (pointing into s). Returns how many. */
static inline int fuzz_split(char *s, size_t n, char **out, int max)
{
    int k = 0;
    size_t start = 0;
    for (size_t i = 0; i <= n && k < max; i++)
        if (s[i] == '\0') {
            out[k++] = s + start;
            start = i + 1;
        }
    return k;
}

#endif
