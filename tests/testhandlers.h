/* SPDX-License-Identifier: MIT */
/* testhandlers.h - test handlers shared by the plaintext and TLS suites.
 * check_lib_tls_contract.c replays tests of check_lib_limits.c,
 * check_lib_close.c and check_lib_mail.c over a tls: listener and asserts
 * the same things, so it must drive the server with the very same
 * handlers: one definition here keeps the two from drifting apart (a fix
 * to one copy would silently leave the other testing something else).
 *
 * The handlers run on the server's threads and only record what they
 * saw, in the atomics below; the test thread asserts on those (a
 * ck_assert on a server thread would not stop the test cleanly). The
 * state is global: each test resets what it reads before it starts its
 * server (hd_seen_reset and friends), and runs one server at a time. */
#ifndef TPS_TESTS_TESTHANDLERS_H
#define TPS_TESTS_TESTHANDLERS_H

#include "testutil.h"

#include <stdatomic.h>
#include <stdint.h>

/* ---- what the handlers saw ------------------------------------------------ */

/* Closes counted by reason, the most output ever pending on one
 * connection (hd_note_pending), and the last refused tps_conn_send's code
 * (the flood handler). */
extern atomic_int hd_reasons[TPS_CLOSE_REASON_COUNT_];
extern atomic_long hd_max_pending;
extern atomic_int hd_last_send_rc;

/* Zero all three. */
void hd_seen_reset(void);
/* An on_close that counts the reason in hd_reasons. */
void hd_rec_on_close(tps_conn *c, int reason);
/* Raise hd_max_pending to c's pending output if that is more. */
void hd_note_pending(tps_conn *c);
/* Wait until hd_reasons[r] reaches want; the microseconds waited, or -1. */
int64_t hd_wait_reason(int r, int want, long timeout_ms);

/* ---- a peer that does not read (check_lib_limits.c) ----------------------- */

/* Streams 128 KiB whenever the output buffer empties, from on_open on (a
 * well-behaved producer: it never passes MAX_OUTPUT by itself); notes
 * what is pending, records closes. */
extern const tps_handler hd_producer_handler;
/* On any input, ignores it and queues 64 KiB after 64 KiB of the pattern
 * (chunk i from tu_pattern() + i * 1024) until the library refuses; the
 * refusal's code goes to hd_last_send_rc. Notes pending, records closes. */
extern const tps_handler hd_flood_handler;

/* ---- a close after a large reply (check_lib_close.c) ---------------------- */

#define BIG_REPLY (200 * 1024)
/* How hd_quit_handler closes after its reply: tps_conn_close, on_data
 * returning -1, or a second reply over TPS_OPT_MAX_OUTPUT. */
enum { HOW_CLOSE, HOW_RETURN, HOW_OUTPUT_LIMIT, HOW_COUNT };
/* Set by the test (hd_quit_reset); hd_quit_refused is 1 once the
 * HOW_OUTPUT_LIMIT send was refused with TPS_ENOBUFS. */
extern atomic_int hd_quit_how, hd_quit_refused;
void hd_quit_reset(int how);
/* The close reason each way must give (both suites assert it). */
extern const int hd_quit_close_reason[HOW_COUNT];
/* A line protocol: each line is echoed; "QUIT" is answered with BIG_REPLY
 * bytes of the pattern, then the connection is closed the hd_quit_how
 * way, with whatever the peer sent after it unread. Records closes. */
extern const tps_handler hd_quit_handler;

/* ---- the input limit (check_lib_close.c) ---------------------------------- */

#define TOO_LONG "-ERR line too long\r\n"
/* Echoes one whole line a call; consumes nothing until a line is whole. */
long hd_line_on_data(tps_conn *c, const char *data, size_t len);
/* hd_line_on_data, with an on_limit that sends TOO_LONG: it counts its
 * calls and keeps the reason and its send's code. Records closes. */
extern const tps_handler hd_line_handler;
extern atomic_int hd_limit_calls, hd_limit_reason, hd_limit_send_rc;
/* Calls 0, reason and send code -1 (not yet called). */
void hd_limit_reset(void);

/* ---- reaching connections by id (check_lib_mail.c) ------------------------ */

/* The ids of the first HD_MAXC connections opened, in order. */
enum { HD_MAXC = 8 };
void hd_ids_reset(void);
/* An on_open that publishes the connection's id. */
int hd_reg_on_open(tps_conn *c);
/* The id of the i-th connection opened, once its on_open ran. */
uint64_t hd_id_of(int i);

/* MAIL_SENDERS threads each send MAIL_LINES lines "t<k> <i>\n" to one
 * connection by id, retrying while its mailbox is full (TPS_ENOBUFS). */
enum { MAIL_SENDERS = 4, MAIL_LINES = 500 };
typedef struct hd_sender {
    tps_server *srv;
    uint64_t id;
    int k;   /* which thread: the line's t<k> */
    int err; /* the first other code tps_server_conn_send returned */
} hd_sender;
void *hd_sender_main(void *arg); /* a pthread start routine of an hd_sender */

#endif
