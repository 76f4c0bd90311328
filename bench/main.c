/* SPDX-License-Identifier: MIT */
/* tpbench: a TCP request/response load generator. This file is the
 * program's orchestration only: command line, the per-second progress
 * and interval files while a run goes, the final reports, the
 * --max-rate-under search and the exit status. The load is in engine.c
 * and loop.c, the figures in hist.c and report.c. */
#include "config.h"

#include "engine.h"
#include "merge.h"
#include "report.h"
#include "tls.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TPB_VERSION "tpbench (tpserv) " PACKAGE_VERSION

static volatile sig_atomic_t interrupted;
/* The first TLS failure's reason of the last run (empty if none). */
static char run_tls_reason[256];

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

static void sleep_until(uint64_t t)
{
    uint64_t now = tpb_now();
    if (t <= now)
        return;
    struct timespec ts = {.tv_sec = (time_t)((t - now) / 1000000000ull),
                          .tv_nsec = (long)((t - now) % 1000000000ull)};
    nanosleep(&ts, NULL);
}

typedef struct watch { /* main thread's view while a run goes */
    FILE *ivl_file;
    int progress;
    tpb_counts prev;
    tpb_hist sofar, ivl;
} watch;

static void show_tick(watch *wa, const tpb_run *run, const tpb_counts *sum, uint64_t now)
{
    tpb_counts d = *sum;
    d.responses -= wa->prev.responses;
    d.bytes_rx -= wa->prev.bytes_rx;
    for (int k = 0; k < TPB_E_COUNT; k++)
        d.errors[k] -= wa->prev.errors[k];
    int warm = now < run->m_start + 500000000ull;
    double t = ((double)now - (double)run->m_start) / 1e9;
    if (wa->ivl_file && !warm)
        tpb_report_interval(wa->ivl_file, t, &d, 1.0, &wa->ivl);
    if (wa->progress)
        fprintf(stderr, "\r%s %6.1fs  %10.0f req/s  errors %llu  p99 so far %.1f us  open %llu   ",
                warm ? "warm-up" : "running", t, (double)d.responses,
                (unsigned long long)tpb_report_errors(sum),
                (double)tpb_hist_pct(&wa->sofar, 99) / 1e3, (unsigned long long)sum->open_now);
    wa->prev = *sum;
}

/* Watch a started run once a second until its end or ^C. */
static void watch_run(tpb_run *run, watch *wa)
{
    uint64_t next = run->t0 + 1000000000ull;
    while (tpb_now() < run->m_end) {
        sleep_until(next < run->m_end ? next : run->m_end);
        if (interrupted) {
            __atomic_store_n(&run->stop, 1, __ATOMIC_RELAXED);
            break;
        }
        uint64_t now = tpb_now();
        if (now < next && now < run->m_end)
            continue;
        tpb_counts sum;
        tpb_hist_init(&wa->ivl);
        tpb_run_tick(run, &sum, &wa->ivl);
        tpb_hist_merge(&wa->sofar, &wa->ivl);
        if (now >= next)
            show_tick(wa, run, &sum, now);
        next += 1000000000ull;
    }
    if (wa->progress)
        fputc('\n', stderr);
}

/* One run at `rate` (0 = closed loop); fills r. */
static int run_once(const tpb_opts *o, tpb_run *run, double rate, int live, tpb_report *r)
{
    watch *wa = calloc(1, sizeof *wa);
    tpb_stats *s = malloc(sizeof *s);
    if (!wa || !s || tpb_run_start(run, o, rate) < 0) {
        fprintf(stderr, "tpbench: cannot start threads\n");
        exit(1);
    }
    tpb_hist_init(&wa->sofar);
    wa->progress = live && !o->quiet && isatty(2);
    if (live && o->json_interval_file && !(wa->ivl_file = fopen(o->json_interval_file, "w")))
        fprintf(stderr, "tpbench: cannot write %s\n", o->json_interval_file);
    watch_run(run, wa);
    uint64_t end = tpb_now();
    tpb_run_join(run, s);
    tpb_report_fill(r, o, rate, s);
    snprintf(run_tls_reason, sizeof run_tls_reason, "%s", run->tls_reason_set ? run->tls_reason : "");
    run->tls_reason_set = 0;
    if (interrupted && end < run->m_end)
        r->duration_s = end > run->m_start ? (double)(end - run->m_start) / 1e9 : 1e-9;
    if (wa->ivl_file)
        fclose(wa->ivl_file);
    free(wa);
    free(s);
    return 0;
}

static void write_hist(const char *path, const char *suffix, const tpb_hist *h)
{
    char name[4096];
    snprintf(name, sizeof name, "%s%s", path, suffix);
    FILE *f = fopen(name, "w");
    if (!f) {
        fprintf(stderr, "tpbench: cannot write %s\n", name);
        return;
    }
    tpb_report_hist(f, h);
    fclose(f);
}

/* --hist FILE: the latency (corrected in open loop); open loop also
 * writes FILE.uncorrected, so both curves can be plotted. */
static void write_hist_file(const char *path, const tpb_report *r)
{
    write_hist(path, "", &r->s.lat);
    if (r->open_loop)
        write_hist(path, ".uncorrected", &r->s.lat_unc);
}

/* Print what a finished run found; returns the exit status. */
static int finish(const tpb_opts *o, const tpb_report *r)
{
    if (o->json)
        tpb_report_json(stdout, r);
    else
        tpb_report_text(stdout, r);
    if (o->hist_file)
        write_hist_file(o->hist_file, r);
    uint64_t errs = tpb_report_errors(&r->s.c);
    if (r->s.c.tls_fail)
        fprintf(stderr, "tpbench: %llu TLS handshakes failed; the first because: %s\n",
                (unsigned long long)r->s.c.tls_fail, run_tls_reason);
    else if (run_tls_reason[0] && errs)
        fprintf(stderr, "tpbench: first TLS error: %s\n", run_tls_reason);
    int want_replies = o->mode != TPB_MODE_IDLE || o->active > 0;
    if (want_replies && r->s.c.responses == 0) {
        fprintf(stderr,
                "tpbench: no valid reply from %s (%llu errors: the server closed, "
                "timed out or sent unexpected bytes)\n",
                o->target, (unsigned long long)errs);
        return 1;
    }
    if (errs) {
        fprintf(stderr, "tpbench: %llu errors during the run (see errors_by_kind)\n",
                (unsigned long long)errs);
        return 1;
    }
    return 0;
}

static int step_ok(const tpb_opts *o, const tpb_report *r, double rate)
{
    uint64_t p = tpb_hist_pct(&r->s.lat, o->max_rate_p);
    int ok = r->s.c.responses > 0 && p <= o->max_rate_ns && !tpb_report_errors(&r->s.c) &&
             tpb_report_rate(r) >= 0.95 * rate;
    fprintf(stderr, "  rate %10.0f req/s: achieved %10.0f, p%g %10.1f us, errors %llu -> %s\n",
            rate, tpb_report_rate(r), o->max_rate_p, (double)p / 1e3,
            (unsigned long long)tpb_report_errors(&r->s.c), ok ? "ok" : "over");
    return ok;
}

/* Closed-loop run for a ceiling, then bisection over open-loop runs. */
static int max_rate_search(const tpb_opts *o, tpb_run *run, tpb_report *r, tpb_report *best)
{
    run_once(o, run, 0, 0, r);
    double lo = 0, hi = tpb_report_rate(r) * 1.05;
    fprintf(stderr,
            "tpbench: closed-loop ceiling %.0f req/s; searching below it for p%g <= %.1f us\n",
            tpb_report_rate(r), o->max_rate_p, (double)o->max_rate_ns / 1e3);
    for (int i = 0; i < 8 && !interrupted && hi > 1; i++) {
        double mid = (lo + hi) / 2;
        run_once(o, run, mid, 0, r);
        if (step_ok(o, r, mid)) {
            lo = mid;
            *best = *r;
        } else {
            hi = mid;
        }
    }
    if (lo == 0) {
        fprintf(stderr, "tpbench: no rate tried kept p%g under the target\n", o->max_rate_p);
        return 1;
    }
    /* with --json, stdout carries only the JSON object (of the best run) */
    fprintf(o->json ? stderr : stdout, "max rate with p%g <= %.3f ms: %.0f req/s\n", o->max_rate_p,
            (double)o->max_rate_ns / 1e6, lo);
    return finish(o, best);
}

/* --rate is a request rate, except in ramp mode, where it paces connects. */
static double request_rate(const tpb_opts *o)
{
    return o->mode == TPB_MODE_RAMP ? 0 : o->rate;
}

static void usage_error(const char *msg)
{
    fprintf(stderr, "tpbench: %s\ntry 'tpbench --help'\n", msg);
    exit(2);
}

static void prepare(tpb_opts *o, tpb_run *run)
{
    char err[512];
    long lim = tpb_raise_nofile();
    if (lim > 0 && o->connections + o->threads + 32 > lim) {
        fprintf(stderr,
                "tpbench: %d connections need more descriptors than the hard limit "
                "RLIMIT_NOFILE=%ld allows (raise it with ulimit -Hn as root)\n",
                o->connections, lim);
        exit(1);
    }
    memset(run, 0, sizeof *run);
    run->o = o;
    if (tpb_tls_setup(run, err, sizeof err) < 0)
        usage_error(err); /* a --tls-ca that cannot be read, a bad --alpn */
    if (tpb_resolve(run, err, sizeof err) < 0 || tpb_probe(run, err, sizeof err) < 0) {
        fprintf(stderr, "tpbench: %s\n", err);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    char err[512];
    tpb_opts o;
    tpb_run run;
    if (argc > 1 && strcmp(argv[1], "merge") == 0)
        return tpb_merge_main(argc - 1, argv + 1);
    tpb_opts_defaults(&o);
    if (tpb_opts_parse(&o, argc, argv, err, sizeof err) < 0)
        usage_error(err);
    if (o.help || o.version) {
        fputs(o.help ? tpb_usage_text : TPB_VERSION "\n", stdout);
        return 0;
    }
    if (o.tls && !tpb_tls_available())
        usage_error("--tls: this tpbench was built without OpenSSL");
    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, on_sigint);
    prepare(&o, &run);
    tpb_report *r = tpb_report_new(), *best = tpb_report_new();
    if (!r || !best)
        return 1;
    int rc = o.max_rate_ns ? max_rate_search(&o, &run, r, best)
                           : (run_once(&o, &run, request_rate(&o), 1, r), finish(&o, r));
    free(r);
    free(best);
    tpb_tls_teardown(&run);
    tpb_opts_free(&o);
    return rc;
}
