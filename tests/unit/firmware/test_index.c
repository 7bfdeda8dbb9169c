// SPDX-License-Identifier: MIT
/* B+tree index against a reference model: random puts/deletes, ordered scans. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "firmware/alloc.h"
#include "firmware/index.h"

#define NKEYS 20000

struct ref {
	uint8_t key[16];
	uint8_t klen;
	bool live;
	uint64_t loc;
};

static struct ref refs[NKEYS];

static int cmp_ref(const void *a, const void *b)
{
	const struct ref *x = a, *y = b;
	int c = memcmp(x->key, y->key, x->klen < y->klen ? x->klen : y->klen);

	return c ? c : (int)x->klen - (int)y->klen;
}

static void make_keys(void)
{
	int i, last;

	srand(99);
	for (i = 0; i < NKEYS; i++) {
		/* Lengths 1..16 with shared prefixes so ordering corner cases occur. */
		refs[i].klen = (uint8_t)(1 + rand() % 16);
		memset(refs[i].key, 0, 16);
		for (int j = 0; j < refs[i].klen; j++)
			refs[i].key[j] = (uint8_t)(j < 2 ? 'a' + rand() % 3 : rand());
		refs[i].live = false;
	}
	qsort(refs, NKEYS, sizeof(refs[0]), cmp_ref);
	/* Drop duplicates, comparing with the last key kept. */
	for (i = 1, last = 0; i < NKEYS; i++) {
		if (!cmp_ref(&refs[last], &refs[i]))
			refs[i].klen = 0;
		else
			last = i;
	}
}

START_TEST(random_ops_match_reference)
{
	struct fw_index ix;
	struct fw_idx_val v, old;
	struct fw_index_iter it;
	const uint8_t *k;
	uint8_t kl;
	int i, n, rc;

	make_keys();
	ck_assert_int_eq(fw_index_init(&ix), 0);
	for (i = 0; i < 200000; i++) {
		struct ref *r = &refs[rand() % NKEYS];

		if (!r->klen)
			continue;
		if (rand() % 4 == 0) {
			rc = fw_index_del(&ix, r->key, r->klen, &old);
			ck_assert_int_eq(rc, r->live ? 0 : -ENOENT);
			if (r->live)
				ck_assert_uint_eq(old.loc, r->loc);
			r->live = false;
		} else {
			v.loc = (uint64_t)rand() << 8;
			v.vlen = (uint32_t)(rand() % (1 << 24));
			v.crc = (uint32_t)i;
			rc = fw_index_put(&ix, r->key, r->klen, &v, &old);
			ck_assert_int_eq(rc, r->live ? 1 : 0);
			r->live = true;
			r->loc = v.loc;
		}
	}
	/* Point lookups. */
	for (i = 0, n = 0; i < NKEYS; i++) {
		if (!refs[i].klen)
			continue;
		ck_assert(fw_index_get(&ix, refs[i].key, refs[i].klen, &v) == refs[i].live);
		if (refs[i].live) {
			ck_assert_uint_eq(v.loc, refs[i].loc);
			n++;
		}
	}
	ck_assert_uint_eq(ix.count, (uint64_t)n);
	/* Full scan in sorted order. */
	fw_index_seek(&ix, NULL, 0, &it);
	for (i = 0; i < NKEYS; i++) {
		if (!refs[i].klen || !refs[i].live)
			continue;
		ck_assert(fw_index_next(&it, &k, &kl, &v));
		ck_assert_uint_eq(kl, refs[i].klen);
		ck_assert_mem_eq(k, refs[i].key, kl);
	}
	ck_assert(!fw_index_next(&it, &k, &kl, &v));
	/* Seek to every 97th key: the first live key >= it. */
	for (i = 0; i < NKEYS; i += 97) {
		int j = i;

		if (!refs[i].klen)
			continue;
		while (j < NKEYS && (!refs[j].klen || !refs[j].live))
			j++;
		fw_index_seek(&ix, refs[i].key, refs[i].klen, &it);
		if (j == NKEYS) {
			ck_assert(!fw_index_next(&it, &k, &kl, NULL));
		} else {
			ck_assert(fw_index_next(&it, &k, &kl, NULL));
			ck_assert_uint_eq(kl, refs[j].klen);
			ck_assert_mem_eq(k, refs[j].key, kl);
		}
	}
	/* 32-byte entries: at ~50-100 % leaf fill, well under 64 B per key. */
	ck_assert_uint_lt(fw_index_mem(&ix) / (ix.count + 1), 80);
	fw_index_fini(&ix);
}
END_TEST

START_TEST(sequential_inserts_fill_leaves)
{
	struct fw_index ix;
	struct fw_idx_val v = { 1, 2, 3 };
	uint8_t key[8];
	uint32_t i;

	ck_assert_int_eq(fw_index_init(&ix), 0);
	for (i = 0; i < 100000; i++) {
		key[0] = (uint8_t)(i >> 24);
		key[1] = (uint8_t)(i >> 16);
		key[2] = (uint8_t)(i >> 8);
		key[3] = (uint8_t)i;
		ck_assert_int_eq(fw_index_put(&ix, key, 4, &v, NULL), 0);
	}
	ck_assert_uint_lt(fw_index_mem(&ix) / ix.count, 40);
	fw_index_fini(&ix);
}
END_TEST

START_TEST(out_of_memory_is_reported)
{
	struct fw_index ix;
	struct fw_idx_val v = { 1, 2, 3 };
	uint8_t key[4];
	uint32_t i;
	int rc = 0;

	ck_assert_int_eq(fw_index_init(&ix), 0);
	fw_alloc_fail_after(3);
	for (i = 0; i < 100000 && rc == 0; i++) {
		memcpy(key, &i, 4);
		rc = fw_index_put(&ix, key, 4, &v, NULL);
	}
	fw_alloc_fail_after(-1);
	ck_assert_int_eq(rc, -ENOMEM);
	/* Everything inserted before the failure is still there. */
	for (uint32_t j = 0; j + 1 < i; j++) {
		memcpy(key, &j, 4);
		ck_assert(fw_index_get(&ix, key, 4, &v));
	}
	fw_index_fini(&ix);
}
END_TEST

static Suite *index_suite(void)
{
	Suite *s = suite_create("firmware/index");
	TCase *tc = tcase_create("index");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, random_ops_match_reference);
	tcase_add_test(tc, sequential_inserts_fill_leaves);
	tcase_add_test(tc, out_of_memory_is_reported);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(index_suite)
