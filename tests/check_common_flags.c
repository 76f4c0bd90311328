/* SPDX-License-Identifier: MIT */
/* check_common_flags.c - unit suite of common/flags.c, the flag-table
 * driver of the three programs, on a table of its own with a flag of
 * every type: each spelling (--n=v, --n v, -x v, -xv, bundled booleans,
 * "--", positionals anywhere), each error naming the flag as spelled and
 * the value, ranges, repeats, stop flags, values that start with '-', and
 * a --help list that has every flag of the table. */
#include "suites.h"

#include <stdio.h>
#include <string.h>

#include "../common/flags.h"
#include "../common/units.h"

struct o {
    int a, b, n, choice, onoff, calls;
    long long big, dur, size;
    const char *str;
    const char *pos[4];
    int npos;
};

static int call(void *base, const struct tpcm_flag *f, const char *v, char *why, size_t n)
{
    struct o *o = base;
    (void)f;
    if (v != NULL && strcmp(v, "bad") == 0) {
        snprintf(why, n, "no good: '%s'", v);
        return -1;
    }
    o->calls++;
    return 0;
}

static int positional(void *base, const char *arg, char *why, size_t n)
{
    struct o *o = base;
    if (o->npos == 4) {
        snprintf(why, n, "too many: '%s'", arg);
        return -1;
    }
    o->pos[o->npos++] = arg;
    return 0;
}

static const char *const colors[] = {"red", "green", NULL};
#define AT(m) TPCM_AT(struct o, m)
static const struct tpcm_flag table[] = {
    {.name = "alpha", .letter = 'a', .type = TPCM_BOOL, AT(a), .help = "alpha"},
    {.name = "beta", .letter = 'b', .type = TPCM_BOOL, AT(b), .help = "beta"},
    {.name = "num", .letter = 'n', .value_name = "N", .type = TPCM_COUNT, AT(n), .min = 1,
     .max = 100, .help = "a number"},
    {.name = "big", .value_name = "N", .type = TPCM_COUNT, AT(big), .min = 0,
     .max = 0x7fffffffffffffffLL, .help = "a big number"},
    {.name = "dur", .letter = 'd', .value_name = "DUR", .type = TPCM_DURATION, AT(dur),
     .min = 0, .max = 60000, .res_ns = TPCM_MS, .help = "a duration in ms"},
    {.name = "size", .value_name = "SIZE", .type = TPCM_SIZE, AT(size), .min = 64,
     .max = 1 << 20, .help = "a size"},
    {.name = "color", .value_name = "C", .type = TPCM_CHOICE, AT(choice), .choices = colors,
     .help = "red or green"},
    {.name = "switch", .value_name = "on|off", .type = TPCM_ONOFF, AT(onoff), .help = "a switch"},
    {.name = "str", .letter = 's', .value_name = "S", .type = TPCM_STRING, AT(str),
     .bits = TPCM_DASH_OK | TPCM_REPEAT, .help = "any text, even -x"},
    {.name = "call", .value_name = "V", .type = TPCM_CALL, .call = call, .help = "a callback"},
    {.letter = '4', .type = TPCM_CALL, .call = call, .help = "short only"},
    {.name = "stop", .type = TPCM_CALL, .call = call, .bits = TPCM_STOP, .help = "stops"},
};
#define N (sizeof table / sizeof table[0])

static struct o o;
static unsigned char seen[N];
static char err[256];

static int parse_t(int once, int with_pos, const char *const *args)
{
    struct tpcm_flags t = {.flag = table, .n = N, .once = once,
                           .positional = with_pos ? positional : NULL};
    char *argv[32] = {(char *)"prog"};
    int argc = 1;
    for (; *args && argc < 31; args++)
        argv[argc++] = (char *)*args;
    memset(&o, 0, sizeof o);
    err[0] = '\0';
    return tpcm_flags_parse(&t, &o, argc, argv, seen, err, sizeof err);
}
#define PARSE(...) parse_t(0, 1, (const char *const[]){__VA_ARGS__, NULL})

START_TEST(spellings)
{
    ck_assert_int_eq(PARSE("--num=5", "--dur", "1.5s", "-ab", "-n7", "x", "--size", "1.5k",
                           "--color=green", "--switch", "on", "-s", "-dash", "--", "-y"),
                     0);
    ck_assert_int_eq(o.n, 7); /* the last one wins without once */
    ck_assert_int_eq(seen[2], 2);
    ck_assert_int_eq(o.dur, 1500);
    ck_assert_int_eq(o.a, 1);
    ck_assert_int_eq(o.b, 1);
    ck_assert_int_eq(o.size, 1536);
    ck_assert_int_eq(o.choice, 1);
    ck_assert_int_eq(o.onoff, 1);
    ck_assert_str_eq(o.str, "-dash");
    ck_assert_int_eq(o.npos, 2);
    ck_assert_str_eq(o.pos[0], "x");
    ck_assert_str_eq(o.pos[1], "-y"); /* after "--" */
    ck_assert_int_eq(PARSE("-", "--big", "9223372036854775807", "-d", "100us", "-4", "--call",
                           "ok", "--switch=off"),
                     0);
    ck_assert_str_eq(o.pos[0], "-"); /* "-" alone is an argument */
    ck_assert(o.big == 0x7fffffffffffffffLL);
    ck_assert_int_eq(o.dur, 1); /* rounded up, not to 0 */
    ck_assert_int_eq(o.calls, 2);
    ck_assert_int_eq(o.onoff, 0);
    ck_assert_int_eq(PARSE("-sa"), 0); /* a value-taking short letter takes the rest */
    ck_assert_str_eq(o.str, "a");
    ck_assert_int_eq(o.a, 0);
    ck_assert_int_eq(PARSE("--str="), 0);
    ck_assert_str_eq(o.str, "");
}
END_TEST

START_TEST(stop)
{
    ck_assert_int_eq(PARSE("--stop", "--num=abc"), 1);
    ck_assert_int_eq(PARSE("--num=abc", "--stop"), -1);
}
END_TEST

static const struct {
    int once, pos;
    const char *args[4];
    const char *want;
} bad[] = {
    {0, 1, {"--num", "abc"}, "--num: invalid number 'abc'"},
    {0, 1, {"-n", "abc"}, "-n: invalid number 'abc'"},
    {0, 1, {"-nabc"}, "-n: invalid number 'abc'"},
    {0, 1, {"--num=0"}, "--num: value '0' out of range (1..100)"},
    {0, 1, {"--num=101"}, "out of range"},
    {0, 1, {"--num=99999999999999999999"}, "--num: value '99999999999999999999' out of range"},
    {0, 1, {"--num=-1"}, "--num: invalid number '-1'"},
    {0, 1, {"--num", "-1"}, "--num: missing value"},
    {0, 1, {"--num"}, "--num: missing value"},
    {0, 1, {"-n"}, "-n: missing value"},
    {0, 1, {"--num="}, "--num: invalid number ''"},
    {0, 1, {"--dur=1.5.5s"}, "--dur: invalid duration '1.5.5s'"},
    {0, 1, {"-d", "2m"}, "-d: value '2m' out of range (0..60000ms)"},
    {0, 1, {"--size=1.5"}, "--size: size '1.5' is not a whole number of bytes"},
    {0, 1, {"--size=0x10"}, "--size: invalid size '0x10'"},
    {0, 1, {"--size=1e3"}, "--size: invalid size '1e3'"},
    {0, 1, {"--size=32"}, "--size: value '32' out of range (64..1048576 bytes)"},
    {0, 1, {"--color=blue"}, "--color: unknown value 'blue' (one of: red, green)"},
    {0, 1, {"--switch=yes"}, "--switch: invalid value 'yes' (on or off)"},
    {0, 1, {"--alpha=1"}, "--alpha: takes no value (got '1')"},
    {0, 1, {"--call=bad"}, "--call: no good: 'bad'"},
    {0, 1, {"--bogus"}, "unknown option '--bogus'"},
    {0, 1, {"--al"}, "unknown option '--al'"},
    {0, 1, {"-ax"}, "unknown option '-x'"},
    {0, 1, {"-6"}, "unknown option '-6'"},
    {0, 0, {"stray"}, "unexpected argument 'stray'"},
    {0, 0, {"-"}, "unexpected argument '-'"},
    {0, 0, {"--", "--num"}, "unexpected argument '--num'"},
    {0, 1, {"1", "2", "3", "4"}, ""},
    {0, 1, {"1", "2", "3", "-a"}, ""},
    {1, 1, {"-n", "1", "--num=2"}, "--num: given more than once"},
    {1, 1, {"-a", "-a"}, "-a: given more than once"},
};

START_TEST(errors)
{
    const char *args[6] = {0};
    int n = 0;
    while (n < 4 && bad[_i].args[n]) {
        args[n] = bad[_i].args[n];
        n++;
    }
    if (bad[_i].want[0] == '\0') { /* the good ones between the bad */
        ck_assert_int_eq(parse_t(bad[_i].once, bad[_i].pos, args), 0);
        return;
    }
    ck_assert_int_eq(parse_t(bad[_i].once, bad[_i].pos, args), -1);
    ck_assert_msg(strstr(err, bad[_i].want) != NULL, "case %d: '%s' lacks '%s'", _i, err,
                  bad[_i].want);
}
END_TEST

START_TEST(repeats)
{
    /* TPCM_REPEAT flags may repeat even with once; a positional may not be
     * taken for a fifth time. */
    ck_assert_int_eq(parse_t(1, 1, (const char *const[]){"-s", "x", "--str=y", NULL}), 0);
    ck_assert_int_eq(seen[8], 2);
    ck_assert_int_eq(PARSE("1", "2", "3", "4", "5"), -1);
    ck_assert_str_eq(err, "too many: '5'");
}
END_TEST

START_TEST(help_lists_every_flag)
{
    char buf[4096] = "";
    FILE *f = fmemopen(buf, sizeof buf - 1, "w");
    ck_assert_ptr_nonnull(f);
    tpcm_flags_help(table, N, f);
    fclose(f);
    for (size_t i = 0; i < N; i++) {
        char want[64];
        tpcm_flag_spelling(&table[i], want, sizeof want);
        ck_assert_msg(strstr(buf, want) != NULL, "no %s in:\n%s", want, buf);
        ck_assert_msg(strstr(buf, table[i].help) != NULL, "no help of %s", want);
    }
    ck_assert_ptr_nonnull(strstr(buf, "  -n, --num N "));
    ck_assert_ptr_nonnull(strstr(buf, "      --switch on|off "));
    ck_assert_ptr_nonnull(strstr(buf, "  -4  "));
    for (const char *line = buf; *line; line = strchr(line, '\n') + 1)
        ck_assert_int_le((int)(strchr(line, '\n') - line), 79);
}
END_TEST

Suite *common_flags_suite(void)
{
    Suite *s = suite_create("common_flags");
    TCase *tc = tcase_create("flags");
    tcase_add_test(tc, spellings);
    tcase_add_test(tc, stop);
    tcase_add_loop_test(tc, errors, 0, (int)(sizeof bad / sizeof bad[0]));
    tcase_add_test(tc, repeats);
    tcase_add_test(tc, help_lists_every_flag);
    suite_add_tcase(s, tc);
    return s;
}
