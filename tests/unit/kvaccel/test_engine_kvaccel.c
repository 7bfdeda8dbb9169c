// SPDX-License-Identifier: MIT
/*
 * nvkv-bench's kvaccel engine (bench/engine_kvaccel.c, included for its static
 * functions): the fallback that empties the KV namespace of a device refusing
 * Format NVM by deleting every key it lists, over several List commands.
 */
#include <check.h>

#include "../../../bench/engine_kvaccel.c"
#include "check_main.h"

/* nvkv_bench_main.c's: which RocksDB flags the command line gave (none here). */
bool bench_tuning_given(const char *name)
{
	(void)name;
	return false;
}

static unsigned int count_keys(struct nvkv_dev *d)
{
	struct nvkv_iter *it;
	const void *k;
	size_t kl;
	unsigned int n = 0;

	ck_assert_int_eq(nvkv_iter_open(d, NULL, 0, &it), 0);
	while (nvkv_iter_next(it, &k, &kl) == 1)
		n++;
	nvkv_iter_close(it);
	return n;
}

/* Keys of 1..16 bytes, more than one List (64 KiB) returns. */
START_TEST(test_delete_listed_empties)
{
	struct nvkv_host_stats hs;
	struct nvkv_dev *d;
	char key[17];
	unsigned int i, n = 0;

	ck_assert_int_eq(nvkv_open("sim", NULL, &d), 0);
	for (i = 0; i < 6000; i++) {
		int kl = snprintf(key, sizeof(key), "%u%s", i, i % 3 ? "" : "-xxxxxxxxxxxx");

		if (kl > 16)
			kl = 16;
		ck_assert_int_eq(nvkv_store(d, key, (size_t)kl, "v", 1, 0), 0);
		n++;
	}
	ck_assert_uint_eq(count_keys(d), n);
	ck_assert_int_eq(delete_listed(d), 0);
	ck_assert_uint_eq(count_keys(d), 0);
	nvkv_host_stats(d, &hs);
	ck_assert_uint_eq(hs.deletes, n);      /* one Delete per key, no key twice */
	ck_assert_int_eq(delete_listed(d), 0); /* an empty namespace: nothing to do */
	nvkv_close(d);
}
END_TEST

static Suite *engine_suite(void)
{
	Suite *s = suite_create("engine_kvaccel");
	TCase *tc = tcase_create("clear");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_delete_listed_empties);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(engine_suite)
