// SPDX-License-Identifier: MIT
/* nvkv-bench runner: starting the worker threads. */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "bench/run.c"
#include "check_main.h"

/* Neighbours of run.c this suite never reaches: the RocksDB and kvaccel
 * engines, whose libraries the unit tests do not link. */
const struct bench_engine_ops bench_engine_rocksdb;
const struct bench_engine_ops bench_engine_kvaccel;

static void *idle(void *arg)
{
	return arg;
}

/* Regression: run_one() returned -errno after a failed pthread_create(),
 * which reports its error as its return value (errno held whatever failed
 * inside it, or 0: a run "succeeded" with no threads).  Thread stacks too big
 * to map make every creation fail. */
START_TEST(start_workers_returns_pthread_error_regression)
{
	struct worker w[2];
	pthread_attr_t a;
	pthread_t t[2];
	unsigned int started = 7;
	int want;

	memset(w, 0, sizeof(w));
	ck_assert_int_eq(pthread_attr_init(&a), 0);
	ck_assert_int_eq(pthread_attr_setstacksize(&a, (size_t)1 << 46), 0);
	ck_assert_int_eq(pthread_setattr_default_np(&a), 0);
	want = pthread_create(&t[0], NULL, idle, NULL); /* what this libc answers */
	ck_assert_int_ne(want, 0);
	errno = 0;
	ck_assert_int_eq(start_workers(w, t, 2, &started), -want);
	ck_assert_uint_eq(started, 0);
	pthread_attr_destroy(&a);
}
END_TEST

static Suite *run_suite(void)
{
	Suite *s = suite_create("bench/run");
	TCase *tc = tcase_create("run");

	tcase_add_test(tc, start_workers_returns_pthread_error_regression);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(run_suite)
