/* SPDX-License-Identifier: MIT */
/* merge: `tpbench merge A.json B.json ...` (see merge.c). */
#ifndef TPB_MERGE_H
#define TPB_MERGE_H
#include "report.h"
/* Read one tpbench --json document into r (fields added to what r holds:
 * counts and histograms summed, duration the longest). 0, or -1 with err. */
int tpb_merge_json(tpb_report *r, const char *text, char *err, size_t n);
int tpb_merge_main(int argc, char **argv);
#endif
