/* SPDX-License-Identifier: MIT */
/* The one Check runner: runs every suite listed in suites.h. Set
 * CK_RUN_SUITE=name to run one; CK_FORK=no to debug in one process. */
#include "suites.h"

#include <stdlib.h>

int main(void)
{
    SRunner *sr = srunner_create(NULL);
#define TPS_SUITE_ADD_(name) srunner_add_suite(sr, name##_suite());
    TPS_SUITES(TPS_SUITE_ADD_)
#undef TPS_SUITE_ADD_
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
