// SPDX-License-Identifier: MIT
/*
 * Included by the kvaccel integration tests whose rollback batches run under
 * ThreadSanitizer (make tsan-test): TSan's deadlock detector keeps at most 64
 * mutexes per thread and aborts beyond, and a rollback batch holds the stripe
 * locks of its keys, up to 256.  Lock order is not what these tests check, so
 * the detector is off for them (races are still reported).
 */
const char *__tsan_default_options(void);
const char *__tsan_default_options(void)
{
	return "detect_deadlocks=0";
}
