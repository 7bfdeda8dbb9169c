/* SPDX-License-Identifier: MIT */
/*
 * main() for a Check test program: one suite per module.  The suite runs in
 * fork mode so a crash in one test is reported and the others still run.
 */
#ifndef TEST_CHECK_MAIN_H
#define TEST_CHECK_MAIN_H

#include <check.h>
#include <stdlib.h>

#define TEST_MAIN(suite_fn)                                       \
	int main(void)                                            \
	{                                                         \
		SRunner *sr = srunner_create(suite_fn());         \
		int failed;                                       \
		srunner_run_all(sr, CK_NORMAL);                   \
		failed = srunner_ntests_failed(sr);               \
		srunner_free(sr);                                 \
		return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE; \
	}

#endif /* TEST_CHECK_MAIN_H */
