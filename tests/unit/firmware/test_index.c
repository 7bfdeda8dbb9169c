// SPDX-License-Identifier: MIT
/*
 * B+tree index against a reference model: random puts/deletes, ordered scans,
 * and an allocation-failure sweep that checks the tree's structure.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "firmware/alloc.h"
/* The tree's nodes, for the structural check. */
#include "firmware/index.c"

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

/*
 * ck_assert records a check point on every call (a write to the parent in fork
 * mode): far too slow for the sweep's millions of checks.  This one costs
 * nothing until it fails.
 */
#define REQUIRE(c)                                                         \
	do {                                                               \
		if (!(c))                                                  \
			ck_abort_msg("%s:%d: %s", __FILE__, __LINE__, #c); \
	} while (0)

/*
 * Structural invariants, read from the nodes themselves: every leaf at the
 * same depth, keys strictly ascending inside the bounds their separators give,
 * the leaf chain visiting exactly the tree's leaves in order, and the counters
 * matching what is reachable.
 */
struct walk {
	struct leaf *prev;
	uint64_t leaves, inners, keys;
};

static void check_node(void *n, uint32_t height, const struct ckey *lo, const struct ckey *hi,
		       struct walk *w)
{
	uint32_t i;

	if (height == 1) {
		struct leaf *l = n;

		REQUIRE(l->h.leaf);
		REQUIRE(l->h.n <= LEAF_CAP);
		/* The chain reaches this leaf from the previous one in key order. */
		REQUIRE((w->prev ? w->prev->next : l) == l);
		for (i = 0; i < l->h.n; i++) {
			const struct entry *e = &l->e[i];

			REQUIRE(!lo || cmp(lo, e->key, e_klen(e)) <= 0);
			REQUIRE(!hi || cmp(hi, e->key, e_klen(e)) > 0);
			if (i > 0) {
				struct ckey pk = make_ckey(l->e[i - 1].key, e_klen(&l->e[i - 1]));

				REQUIRE(cmp(&pk, e->key, e_klen(e)) < 0);
			}
		}
		w->prev = l;
		w->leaves++;
		w->keys += l->h.n;
		return;
	}
	{
		struct inner *in = n;

		REQUIRE(!in->h.leaf);
		REQUIRE(in->h.n >= 1);
		REQUIRE(in->h.n <= INNER_CAP);
		w->inners++;
		for (i = 0; i <= in->h.n; i++) {
			struct ckey clo, chi;

			if (i > 0)
				clo = make_ckey(in->s[i - 1].key, in->s[i - 1].klen);
			if (i < in->h.n) {
				chi = make_ckey(in->s[i].key, in->s[i].klen);
				REQUIRE(!lo || cmp(lo, in->s[i].key, in->s[i].klen) < 0);
				REQUIRE(!hi || cmp(hi, in->s[i].key, in->s[i].klen) > 0);
			}
			if (i > 0 && i < in->h.n)
				REQUIRE(cmp(&clo, in->s[i].key, in->s[i].klen) < 0);
			check_node(in->child[i], height - 1, i > 0 ? &clo : lo,
				   i < in->h.n ? &chi : hi, w);
		}
	}
}

static void check_structure(const struct fw_index *ix)
{
	struct walk w = { 0 };

	REQUIRE(ix->height >= 1);
	check_node(ix->root, ix->height, NULL, NULL, &w);
	REQUIRE(w.prev->next == NULL);
	REQUIRE(w.leaves == ix->leaves);
	REQUIRE(w.inners == ix->inners);
	REQUIRE(w.keys == ix->count);
}

/* The sweep's workload: distinct 4-byte keys in a scrambled order, so splits
 * happen in the middle of leaves, and enough of them to split inner nodes and
 * the root. */
#define SWEEP_KEYS 24000

static void sweep_key(uint32_t i, uint8_t key[4])
{
	uint32_t x = i * 2654435761u; /* odd multiplier: a bijection */

	key[0] = (uint8_t)(x >> 24);
	key[1] = (uint8_t)(x >> 16);
	key[2] = (uint8_t)(x >> 8);
	key[3] = (uint8_t)x;
}

static struct fw_idx_val sweep_val(uint32_t i)
{
	struct fw_idx_val v = { (uint64_t)i << 12 | 7, i % 4096, i ^ 0x5a5a5a5au };

	return v;
}

/*
 * The first @n workload keys are there with their values, the others are not.
 * The ordered scan proves the set (n entries, strictly ascending, each one of
 * the first n keys with its value); point lookups of every 5th key and the
 * keys around @n prove the descent through the inner nodes finds them.
 */
static void check_contents(struct fw_index *ix, uint32_t n)
{
	struct fw_index_iter it;
	struct fw_idx_val v;
	const uint8_t *k;
	uint8_t key[4], prev[4], kl;
	uint32_t i, scanned = 0;

	REQUIRE(ix->count == n);
	for (i = n % 5; i < n + 8 && i < SWEEP_KEYS; i += i + 8 < n ? 5 : 1) {
		bool there;

		sweep_key(i, key);
		there = fw_index_get(ix, key, 4, &v);
		REQUIRE(there == (i < n));
		if (there) {
			REQUIRE(v.loc == sweep_val(i).loc);
			REQUIRE(v.vlen == sweep_val(i).vlen);
			REQUIRE(v.crc == sweep_val(i).crc);
		}
	}
	fw_index_seek(ix, NULL, 0, &it);
	while (fw_index_next(&it, &k, &kl, &v)) {
		uint32_t idx = (uint32_t)(v.loc >> 12);

		REQUIRE(kl == 4);
		REQUIRE(idx < n);
		REQUIRE(v.loc == sweep_val(idx).loc && v.vlen == sweep_val(idx).vlen &&
			v.crc == sweep_val(idx).crc);
		sweep_key(idx, key);
		REQUIRE(memcmp(k, key, 4) == 0);
		if (scanned > 0)
			REQUIRE(memcmp(prev, k, 4) < 0);
		memcpy(prev, k, 4);
		scanned++;
	}
	REQUIRE(scanned == n);
	check_structure(ix);
}

/*
 * SQLite-style: fail allocation N, and every later one, for every N the
 * workload reaches.  Done in one pass: each insert is tried with 0, 1, 2, ...
 * allocations allowed until it succeeds, so every allocation of the workload
 * fails once.  Each failed insert must return -ENOMEM and leave the tree
 * exactly as before it (contents, order, structure, node counters); the same
 * insert then gets more memory.  Regression: a leaf split linked its new leaf
 * into the chain before the parents' allocations could fail, and lost keys.
 */
START_TEST(alloc_failure_sweep_keeps_tree_intact)
{
	struct fw_index ix;
	uint32_t i, failures = 0, deep = 0, deepest = 0;

	ck_assert_int_eq(fw_index_init(&ix), 0);
	for (i = 0; i < SWEEP_KEYS; i++) {
		struct fw_idx_val v = sweep_val(i);
		uint8_t key[4];
		long allow;
		int rc;

		sweep_key(i, key);
		for (allow = 0;; allow++) {
			uint64_t leaves = ix.leaves, inners = ix.inners;

			fw_alloc_fail_after(allow);
			rc = fw_index_put(&ix, key, 4, &v, NULL);
			fw_alloc_fail_after(-1);
			if (rc == 0)
				break;
			REQUIRE(rc == -ENOMEM);
			check_contents(&ix, i);
			REQUIRE(ix.leaves == leaves); /* nothing leaked */
			REQUIRE(ix.inners == inners);
			failures++;
			if (allow > 0)
				deep++;
			if ((uint32_t)allow > deepest)
				deepest = (uint32_t)allow;
		}
		/* Every other key replaced: no allocation, must not disturb. */
		if (i % 2 == 0)
			REQUIRE(fw_index_put(&ix, key, 4, &v, NULL) == 1);
	}
	check_contents(&ix, SWEEP_KEYS);
	/* The workload reached leaf splits, inner splits and a root split above them. */
	ck_assert_uint_ge(ix.height, 3);
	ck_assert_uint_gt(failures, 150);
	ck_assert_uint_ge(deep, 3);
	ck_assert_uint_ge(deepest, 2);
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
	tcase_add_test(tc, alloc_failure_sweep_keeps_tree_intact);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(index_suite)
