/* SPDX-License-Identifier: MIT */
/* replay.c - runs a fuzz target's LLVMFuzzerTestOneInput over its checked-
 * in corpus without libFuzzer, so that make check replays every seed and
 * every past crash in every build (gcc, TSan, ASan+UBSan), with no clang.
 * Arguments are files or directories (every regular file in them, sorted,
 * so a failure names the same file each run); with none, the directory
 * the build compiled in (TPS_FUZZ_CORPUS). A property failure aborts, which
 * fails the test; the file being run is printed first, so the log names it. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);
    for (size_t got; buf != NULL && (got = fread(buf + n, 1, cap - n, f)) > 0;) {
        n += got;
        if (n == cap) {
            uint8_t *p = realloc(buf, cap *= 2);
            if (p == NULL)
                free(buf);
            buf = p;
        }
    }
    fclose(f);
    if (buf == NULL) {
        fprintf(stderr, "replay: %s: out of memory\n", path);
        return -1;
    }
    /* An exact-size copy: reading past the input is caught under ASan. */
    uint8_t *exact = malloc(n ? n : 1);
    if (exact == NULL) {
        free(buf);
        return -1;
    }
    memcpy(exact, buf, n);
    free(buf);
    fprintf(stderr, "replay: %s (%zu bytes)\n", path, n);
    LLVMFuzzerTestOneInput(exact, n);
    free(exact);
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Returns how many files ran, or -1. */
static int run_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode))
        return run_file(path) < 0 ? -1 : 1;
    DIR *d = opendir(path);
    if (d == NULL) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t nn = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.')
            continue;
        char **p = realloc(names, (nn + 1) * sizeof(*names));
        if (p == NULL || (p[nn] = malloc(strlen(path) + strlen(e->d_name) + 2)) == NULL) {
            fprintf(stderr, "replay: out of memory\n");
            exit(EXIT_FAILURE);
        }
        names = p;
        sprintf(names[nn++], "%s/%s", path, e->d_name);
    }
    closedir(d);
    qsort(names, nn, sizeof(*names), cmp_names);
    int ran = 0;
    for (size_t i = 0; i < nn; i++) {
        if (ran >= 0 && run_file(names[i]) == 0)
            ran++;
        else
            ran = -1;
        free(names[i]);
    }
    free(names);
    return ran;
}

int main(int argc, char **argv)
{
    static char corpus[] = TPS_FUZZ_CORPUS;
    char *dflt[] = {argv[0], corpus, NULL};
    if (argc < 2) {
        argc = 2;
        argv = dflt;
    }
    int total = 0;
    for (int i = 1; i < argc; i++) {
        int n = run_path(argv[i]);
        if (n < 0)
            return EXIT_FAILURE;
        total += n;
    }
    if (total == 0) { /* an empty or missing corpus proves nothing */
        fprintf(stderr, "replay: no input files\n");
        return EXIT_FAILURE;
    }
    fprintf(stderr, "replay: %d inputs, all passed\n", total);
    return EXIT_SUCCESS;
}
