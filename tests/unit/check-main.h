/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_CHECK_MAIN_H
#define BERTH_CHECK_MAIN_H
/* One main() for every Check suite: CK_FORK (Check's default) runs each test
 * in its own process, so a crash fails one test, not the run. */
#include <check.h>
#include <stdlib.h>

#define BERTH_CHECK_MAIN(suite_fn)                           \
        int main(void)                                       \
        {                                                    \
                SRunner *sr = srunner_create(suite_fn());    \
                srunner_run_all(sr, CK_NORMAL);              \
                int failed = srunner_ntests_failed(sr);      \
                srunner_free(sr);                            \
                return failed ? EXIT_FAILURE : EXIT_SUCCESS; \
        }
#endif
