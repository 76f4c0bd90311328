/* SPDX-License-Identifier: MIT */
/* loop: one thread's epoll engine (see loop.c). */
#ifndef TPB_LOOP_H
#define TPB_LOOP_H
#include "engine.h"
void *tpb_loop_main(void *worker);
#endif
