/* SPDX-License-Identifier: MIT */
/* net: socket helpers of the engine (see net.c). */
#ifndef TPB_NET_H
#define TPB_NET_H
#include "engine.h"
int tpb_net_connect(const tpb_run *run, int src);
int tpb_net_can_rotate(const tpb_run *run);
#endif
