/* SPDX-License-Identifier: MIT */
/* testhandlers.c - test handlers shared by the plaintext and TLS suites (see
 * testhandlers.h for why they live in one place). */
#include "testhandlers.h"

#include <stdio.h>
#include <string.h>

/* ---- what the handlers saw ------------------------------------------------ */

atomic_int hd_reasons[TPS_CLOSE_REASON_COUNT_];
atomic_long hd_max_pending;
atomic_int hd_last_send_rc;

void hd_seen_reset(void)
{
    for (int i = 0; i < TPS_CLOSE_REASON_COUNT_; i++)
        atomic_store(&hd_reasons[i], 0);
    atomic_store(&hd_max_pending, 0);
    atomic_store(&hd_last_send_rc, 0);
}

void hd_rec_on_close(tps_conn *c, int reason)
{
    (void)c;
    if (reason >= 0 && reason < TPS_CLOSE_REASON_COUNT_)
        atomic_fetch_add(&hd_reasons[reason], 1);
}

void hd_note_pending(tps_conn *c)
{
    long p = (long)tps_conn_pending(c);
    long m = atomic_load(&hd_max_pending);
    while (p > m && !atomic_compare_exchange_weak(&hd_max_pending, &m, p))
        ;
}

int64_t hd_wait_reason(int r, int want, long timeout_ms)
{
    int64_t t0 = tu_now_us(), end = t0 + timeout_ms * 1000;
    while (atomic_load(&hd_reasons[r]) < want) {
        if (tu_now_us() > end)
            return -1;
        tu_sleep_ms(2);
    }
    return tu_now_us() - t0;
}

/* ---- a peer that does not read -------------------------------------------- */

static void prod_fill(tps_conn *c)
{
    for (int i = 0; i < 8; i++)
        if (tps_conn_send(c, tu_pattern() + i * 16384, 16384) != 0)
            break;
    hd_note_pending(c);
}

static int prod_on_open(tps_conn *c)
{
    prod_fill(c);
    return 0;
}

const tps_handler hd_producer_handler = {
    .name = "producer",
    .on_open = prod_on_open,
    .on_writable = prod_fill,
    .on_close = hd_rec_on_close,
};

static long flood_on_data(tps_conn *c, const char *data, size_t len)
{
    (void)data;
    for (int i = 0; i < 64; i++) {
        int rc = tps_conn_send(c, tu_pattern() + i * 1024, 65536);
        hd_note_pending(c);
        if (rc != 0) {
            atomic_store(&hd_last_send_rc, rc);
            break;
        }
    }
    return (long)len;
}

const tps_handler hd_flood_handler = {
    .name = "flood",
    .on_data = flood_on_data,
    .on_close = hd_rec_on_close,
};

/* ---- a close after a large reply ------------------------------------------ */

atomic_int hd_quit_how, hd_quit_refused;

const int hd_quit_close_reason[HOW_COUNT] = {
    [HOW_CLOSE] = TPS_CLOSE_HANDLER,
    [HOW_RETURN] = TPS_CLOSE_HANDLER,
    [HOW_OUTPUT_LIMIT] = TPS_CLOSE_OUTPUT_LIMIT,
};

void hd_quit_reset(int how)
{
    atomic_store(&hd_quit_how, how);
    atomic_store(&hd_quit_refused, 0);
}

static long quit_on_data(tps_conn *c, const char *data, size_t len)
{
    size_t used = 0;
    const char *nl;
    while (used < len && (nl = memchr(data + used, '\n', len - used)) != NULL) {
        size_t n = (size_t)(nl - (data + used)) + 1;
        if (n == 5 && memcmp(data + used, "QUIT\n", 5) == 0) {
            tps_conn_send(c, tu_pattern(), BIG_REPLY);
            switch (atomic_load(&hd_quit_how)) {
            case HOW_CLOSE:
                tps_conn_close(c);
                return (long)len;
            case HOW_RETURN:
                return -1;
            default: /* over TPS_OPT_MAX_OUTPUT: refused, and closes */
                if (tps_conn_send(c, tu_pattern(), BIG_REPLY) == TPS_ENOBUFS)
                    atomic_store(&hd_quit_refused, 1);
                return (long)len;
            }
        }
        tps_conn_send(c, data + used, n);
        used += n;
    }
    return (long)used;
}

const tps_handler hd_quit_handler = {
    .name = "quit",
    .on_data = quit_on_data,
    .on_close = hd_rec_on_close,
};

/* ---- the input limit ------------------------------------------------------ */

long hd_line_on_data(tps_conn *c, const char *data, size_t len)
{
    const char *nl = memchr(data, '\n', len);
    if (nl == NULL)
        return 0;
    tps_conn_send(c, data, (size_t)(nl - data) + 1);
    return (long)(nl - data) + 1;
}

atomic_int hd_limit_calls, hd_limit_reason, hd_limit_send_rc;

void hd_limit_reset(void)
{
    atomic_store(&hd_limit_calls, 0);
    atomic_store(&hd_limit_reason, -1);
    atomic_store(&hd_limit_send_rc, -1);
}

static void line_on_limit(tps_conn *c, int reason)
{
    atomic_fetch_add(&hd_limit_calls, 1);
    atomic_store(&hd_limit_reason, reason);
    atomic_store(&hd_limit_send_rc, tps_conn_send(c, TOO_LONG, sizeof(TOO_LONG) - 1));
}

const tps_handler hd_line_handler = {
    .name = "lines",
    .on_data = hd_line_on_data,
    .on_close = hd_rec_on_close,
    .on_limit = line_on_limit,
};

/* ---- reaching connections by id -------------------------------------------- */

static _Atomic uint64_t ids[HD_MAXC];
static atomic_int nopen;

void hd_ids_reset(void)
{
    atomic_store(&nopen, 0);
    for (int i = 0; i < HD_MAXC; i++)
        atomic_store(&ids[i], 0);
}

int hd_reg_on_open(tps_conn *c)
{
    int i = atomic_fetch_add(&nopen, 1);
    if (i < HD_MAXC)
        atomic_store(&ids[i], tps_conn_id(c));
    return 0;
}

uint64_t hd_id_of(int i)
{
    for (int t = 0; t < 500; t++) {
        uint64_t id = atomic_load(&ids[i]);
        if (id != 0)
            return id;
        tu_sleep_ms(10);
    }
    ck_abort_msg("connection %d was never opened", i);
    return 0;
}

void *hd_sender_main(void *arg)
{
    hd_sender *s = arg;
    char line[32];
    for (int i = 0; i < MAIL_LINES; i++) {
        int n = snprintf(line, sizeof line, "t%d %d\n", s->k, i);
        int rc;
        while ((rc = tps_server_conn_send(s->srv, s->id, line, (size_t)n)) == TPS_ENOBUFS)
            tu_sleep_ms(1); /* the worker catches up */
        if (rc != 0) {
            s->err = rc;
            break;
        }
    }
    return NULL;
}
