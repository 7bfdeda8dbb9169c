// SPDX-License-Identifier: MIT
/*
 * B+tree index against a reference model: random puts/deletes, ordered scans,
 * a long randomized model check that walks the tree's invariants (it includes
 * index.c to see the nodes), and allocation failure at every allocation of
 * every split.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "firmware/alloc.h"
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

/*
 * Check's ck_assert_*() reports every passing assertion to the runner (a
 * write each); the hot loops below use these, which only speak on failure.
 */
#define REQUIRE(c)                                                         \
	do {                                                               \
		if (!(c))                                                  \
			ck_abort_msg("%s:%d: %s", __FILE__, __LINE__, #c); \
	} while (0)
#define REQUIRE_EQ(a, b)                                                                          \
	do {                                                                                      \
		long long a_ = (long long)(a), b_ = (long long)(b);                               \
		if (a_ != b_)                                                                     \
			ck_abort_msg("%s:%d: %s == %s: %lld != %lld", __FILE__, __LINE__, #a, #b, \
				     a_, b_);                                                     \
	} while (0)

/* ---- structural invariants ------------------------------------------------------ */

struct walk {
	const struct leaf *prev_leaf; /* leaves in key order, to check the chain */
	struct ckey last;	      /* last key seen in order */
	bool have_last;
	uint64_t keys, leaves, inners;
};

/* The test's own order (qsort), independent of the index's sort. */
static int cmp_skey(const void *a, const void *b)
{
	return cmp_ckey(&((const struct skey *)a)->k, &((const struct skey *)b)->k);
}

static struct ckey sep_ckey(const struct sep *s)
{
	struct ckey k = { kvc_get_be64(s->key), kvc_get_be64(s->key + 8), s->klen };

	return k;
}

/* Every key of the subtree lies in [lo, hi) (NULL: unbounded). */
static void check_node(const void *n, uint32_t height, const struct ckey *lo, const struct ckey *hi,
		       struct walk *w, const struct fw_index *ix)
{
	uint32_t i;

	if (height == 1) {
		const struct leaf *l = n;
		struct skey sk[LEAF_CAP];
		uint32_t m;

		REQUIRE_EQ(l->h.leaf, 1);
		REQUIRE(l->h.n <= LEAF_CAP);
		if (w->prev_leaf)
			REQUIRE(w->prev_leaf->next == l);
		else
			REQUIRE(l == ix->root || ix->height > 1);
		for (i = 0, m = 0; i < (l->h.sorted ? l->h.n : LEAF_CAP); i++) {
			struct ckey k = e_ckey(&l->e[i]);
			uint64_t h = key_hash(&k);

			if (!l->h.sorted && !l->fp[i])
				continue; /* a free slot of a hashed leaf */
			REQUIRE_EQ(l->fp[i], hash_fp(h));
			REQUIRE(l->fp[i] != 0);
			REQUIRE(!lo || cmp_ckey(&k, lo) >= 0);
			REQUIRE(!hi || cmp_ckey(&k, hi) < 0);
			if (l->h.sorted && i > 0)
				REQUIRE(cmp_ckey(&sk[i - 1].k, &k) < 0);
			if (!l->h.sorted) /* reachable: no free slot between its home and it */
				for (uint32_t j = hash_home(h); j != i; j = (j + 1) % LEAF_CAP)
					REQUIRE(l->fp[j] != 0);
			sk[m].k = k;
			sk[m].i = i;
			m++;
		}
		REQUIRE_EQ(m, l->h.n);
		if (!l->h.sorted) /* the probe window's copy of the first fingerprints */
			for (i = 0; i < FP_MIRROR; i++)
				REQUIRE_EQ(l->fp[LEAF_CAP + i], l->fp[i]);
		qsort(sk, l->h.n, sizeof(sk[0]), cmp_skey);
		for (i = 0; i < l->h.n; i++) {
			if (w->have_last)
				REQUIRE(cmp_ckey(&w->last, &sk[i].k) < 0);
			w->last = sk[i].k;
			w->have_last = true;
		}
		w->prev_leaf = l;
		w->keys += l->h.n;
		w->leaves++;
		return;
	}
	{
		const struct inner *in = n;

		REQUIRE_EQ(in->h.leaf, 0);
		for (i = 0; i < in->h.n; i++) {
			struct ckey c = sep_ckey(&in->s[i]);

			if (in->h.sorted)
				REQUIRE(c.hi == in->pfx && in->win[i] == c.lo);
			else
				REQUIRE(in->win[i] == c.hi);
		}
		REQUIRE(in->h.n <= INNER_CAP);
		/* The search's padding and block summary match the separators. */
		for (i = in->h.n; i < WIN_SLOTS; i++)
			REQUIRE(in->win[i] == UINT64_MAX);
		for (i = 0; i < SUM_SLOTS; i++)
			REQUIRE(in->sum[i] ==
				(i * 8 + 7 < in->h.n ? in->win[i * 8 + 7] : UINT64_MAX));
		w->inners++;
		for (i = 0; i <= in->h.n; i++) {
			struct ckey a, b;

			if (i > 0)
				a = sep_ckey(&in->s[i - 1]);
			if (i < in->h.n)
				b = sep_ckey(&in->s[i]);
			if (i > 0 && i < in->h.n)
				REQUIRE(cmp_ckey(&a, &b) < 0);
			check_node(in->child[i], height - 1, i > 0 ? &a : lo, i < in->h.n ? &b : hi,
				   w, ix);
		}
	}
}

static void check_tree(const struct fw_index *ix)
{
	struct walk w = { 0 };

	check_node(ix->root, ix->height, NULL, NULL, &w, ix);
	REQUIRE(w.prev_leaf->next == NULL);
	REQUIRE_EQ(w.keys, ix->count);
	REQUIRE_EQ(w.leaves, ix->leaves);
	REQUIRE_EQ(w.inners, ix->inners);
	REQUIRE(ix->height == 1 || ((const struct inner *)ix->root)->h.n > 0);
}

/* ---- randomized model check ------------------------------------------------------ */

#define MODEL_KEYS 60000
#define MODEL_OPS 1000000

struct mref {
	uint8_t key[16];
	uint8_t klen;
	bool live;
	struct fw_idx_val v;
};

static struct mref mrefs[MODEL_KEYS];
static uint32_t mlive;

static int cmp_mref(const void *a, const void *b)
{
	const struct mref *x = a, *y = b;
	int c = memcmp(x->key, y->key, x->klen < y->klen ? x->klen : y->klen);

	return c ? c : (int)x->klen - (int)y->klen;
}

/* xorshift64*: the model check's own generator, reproducible from its seed. */
static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint64_t next_rand(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dull;
}

/* Sorted, unique keys: lengths 1..16, shared prefixes, and the prefix cases. */
static uint32_t make_model_keys(void)
{
	uint32_t i, n;

	for (i = 0; i < MODEL_KEYS; i++) {
		struct mref *r = &mrefs[i];
		uint64_t x = next_rand();

		memset(r, 0, sizeof(*r));
		r->klen = (uint8_t)(1 + x % 16);
		if (i % 5 == 0)
			r->klen = 16;
		for (int j = 0; j < r->klen; j++)
			r->key[j] = (uint8_t)(j < 3 ? (uint8_t) "a0\x00\xff"[next_rand() % 4]
						    : next_rand());
		if (i % 5 == 1) { /* one of four 8-byte prefixes: equal first halves */
			r->klen = (uint8_t)(8 + next_rand() % 9);
			memset(r->key, 0, 8);
			r->key[7] = (uint8_t)(next_rand() % 4);
		}
	}
	qsort(mrefs, MODEL_KEYS, sizeof(mrefs[0]), cmp_mref);
	for (i = 1, n = 1; i < MODEL_KEYS; i++)
		if (cmp_mref(&mrefs[n - 1], &mrefs[i]))
			mrefs[n++] = mrefs[i];
	return n;
}

/* Seek to key @from and compare up to @max keys with the model. */
static void model_scan(struct fw_index *ix, uint32_t nkeys, uint32_t from, uint32_t max)
{
	struct fw_index_iter it;
	struct fw_idx_val v;
	const uint8_t *k;
	uint8_t kl;
	uint32_t j = from, seen = 0;

	fw_index_seek(ix, mrefs[from].key, mrefs[from].klen, &it);
	while (seen < max) {
		while (j < nkeys && !mrefs[j].live)
			j++;
		if (j == nkeys) {
			REQUIRE(!fw_index_next(&it, &k, &kl, &v));
			return;
		}
		REQUIRE(fw_index_next(&it, &k, &kl, &v));
		REQUIRE_EQ(kl, mrefs[j].klen);
		REQUIRE(memcmp(k, mrefs[j].key, kl) == 0);
		REQUIRE_EQ(v.loc, mrefs[j].v.loc);
		j++;
		seen++;
	}
}

/* Operation @pick (0..99: put below @put_pct, then delete, get, update, scan) on key @i. */
static void model_op_on(struct fw_index *ix, uint32_t nkeys, uint32_t op, uint32_t put_pct,
			uint32_t pick, uint32_t i)
{
	struct mref *r = &mrefs[i];
	struct fw_idx_val v, old;
	int rc;

	if (pick < put_pct) {
		uint64_t x = next_rand();

		v.loc = x >> 16;
		v.vlen = (uint32_t)(x & 0xffffff);
		v.crc = (uint32_t)(x >> 7) ^ op;
		rc = fw_index_put(ix, r->key, r->klen, &v, &old);
		REQUIRE_EQ(rc, r->live ? 1 : 0);
		if (r->live) {
			REQUIRE_EQ(old.loc, r->v.loc);
			REQUIRE_EQ(old.vlen, r->v.vlen);
			REQUIRE_EQ(old.crc, r->v.crc);
		} else {
			mlive++;
		}
		r->live = true;
		r->v = v;
	} else if (pick < 80) {
		rc = fw_index_del(ix, r->key, r->klen, &old);
		REQUIRE_EQ(rc, r->live ? 0 : -ENOENT);
		if (r->live) {
			REQUIRE_EQ(old.loc, r->v.loc);
			mlive--;
		}
		r->live = false;
	} else if (pick < 97) {
		bool found = fw_index_get(ix, r->key, r->klen, &v);

		REQUIRE(found == r->live);
		if (found) {
			REQUIRE_EQ(v.loc, r->v.loc);
			REQUIRE_EQ(v.vlen, r->v.vlen);
			REQUIRE_EQ(v.crc, r->v.crc);
		}
	} else if (pick < 99) {
		v = r->v;
		v.crc ^= 0x5a5a5a5a;
		REQUIRE_EQ(fw_index_update(ix, r->key, r->klen, &v), r->live ? 0 : -ENOENT);
		if (r->live)
			r->v = v;
	} else {
		model_scan(ix, nkeys, i, 40);
	}
	REQUIRE_EQ(ix->count, mlive);
}

static void model_op(struct fw_index *ix, uint32_t nkeys, uint32_t op, uint32_t put_pct)
{
	uint32_t pick = (uint32_t)(next_rand() % 100), i = (uint32_t)(next_rand() % nkeys);

	model_op_on(ix, nkeys, op, put_pct, pick, i);
}

/*
 * 1 M operations (insert, overwrite, delete, lookup, update, seek + scan) in
 * phases that grow the tree (splits, new roots) and shrink it (merges, root
 * collapse), with the whole structure checked between phases.
 */
/* ---- node pool: regions from a HAL-style mem_map ---------------------------------- */

static unsigned long maps, unmaps, map_limit = ~0ul;

static void *test_map(void *ctx, size_t len)
{
	void *p;

	(void)ctx;
	if (maps >= map_limit)
		return NULL;
	p = aligned_alloc(len, len);
	if (p) {
		memset(p, 0, len);
		maps++;
	}
	return p;
}

static void test_unmap(void *ctx, void *p, size_t len)
{
	(void)ctx;
	(void)len;
	ck_assert_uint_eq((uintptr_t)p % len, 0);
	free(p);
	unmaps++;
}

/* Loop tests run twice: nodes from fw_calloc (0) and from a pool (1). */
static int init_ix(struct fw_index *ix, int pooled)
{
	maps = unmaps = 0;
	map_limit = ~0ul;
	return pooled ? fw_index_init_mem(ix, test_map, test_unmap, NULL) : fw_index_init(ix);
}

START_TEST(model_check_random_ops)
{
	static const uint32_t phase_put[] = { 70, 75, 20, 70, 10, 65, 5, 72, 30, 70 };
	uint32_t nkeys = make_model_keys(), op = 0, p, peak_leaves = 0, merged = 0;
	struct fw_index ix;

	mlive = 0;
	REQUIRE_EQ(init_ix(&ix, _i), 0);
	for (p = 0; p < 10; p++) {
		uint64_t leaves0 = ix.leaves;

		for (uint32_t i = 0; i < MODEL_OPS / 10; i++)
			model_op(&ix, nkeys, op++, phase_put[p]);
		check_tree(&ix);
		if (ix.leaves > peak_leaves)
			peak_leaves = (uint32_t)ix.leaves;
		if (ix.leaves < leaves0)
			merged++;
		model_scan(&ix, nkeys, 0, nkeys); /* everything, in order */
	}
	REQUIRE(peak_leaves >= 300); /* deep enough for inner splits */
	REQUIRE(merged >= 3);	     /* the delete phases merged leaves */
	fw_index_fini(&ix);
}
END_TEST

/*
 * The firmware's pattern: each operation's key prefetched eight operations
 * ahead (fw_index_prefetch() remembers its leaf for the operation, and
 * fw_index_peek() where in it the key is), while the operations in between
 * split and merge leaves, delete keys (which moves others of their probe
 * run) and scan (which sorts leaves).  A remembered leaf or slot used after
 * its keys moved would lose or misplace them: the model sees it.
 */
#define AHEAD 8

/* Prefetch @r's key and, every other time, peek at it at once (what the
 * firmware does for a Retrieve): the slot it finds is remembered too. */
static void prefetch_and_peek(struct fw_index *ix, const struct mref *r, uint32_t op)
{
	const void *leaf = fw_index_prefetch(ix, r->key, r->klen);
	struct fw_idx_val v;

	if (op & 1) {
		REQUIRE(fw_index_peek(ix, leaf, r->key, r->klen, &v) == r->live);
		if (r->live)
			REQUIRE_EQ(v.loc, r->v.loc);
	}
}

START_TEST(model_check_prefetch_ahead)
{
	static const uint32_t phase_put[] = { 75, 15, 72, 8, 70, 30 };
	uint32_t nkeys = make_model_keys(), op = 0, p, merged = 0, splits = 0;
	uint32_t pick[AHEAD], key[AHEAD], k;
	struct fw_index ix;

	mlive = 0;
	REQUIRE_EQ(fw_index_init(&ix), 0);
	for (k = 0; k < AHEAD; k++) {
		pick[k] = (uint32_t)(next_rand() % 100);
		key[k] = (uint32_t)(next_rand() % nkeys);
		prefetch_and_peek(&ix, &mrefs[key[k]], k);
	}
	for (p = 0; p < 6; p++) {
		uint64_t leaves0 = ix.leaves, gen0 = ix.gen;

		for (uint32_t i = 0; i < MODEL_OPS / 10; i++, op++) {
			k = op % AHEAD;
			model_op_on(&ix, nkeys, op, phase_put[p], pick[k], key[k]);
			pick[k] = (uint32_t)(next_rand() % 100);
			key[k] = (uint32_t)(next_rand() % nkeys);
			prefetch_and_peek(&ix, &mrefs[key[k]], op);
		}
		check_tree(&ix);
		splits += ix.leaves > leaves0;
		merged += ix.leaves < leaves0;
		REQUIRE(ix.gen > gen0); /* the shape changed under the remembered leaves */
		model_scan(&ix, nkeys, 0, nkeys);
	}
	REQUIRE(splits >= 2 && merged >= 2);
	fw_index_fini(&ix);
}
END_TEST

/* Sequential, then reverse-sequential keys, then deleting all: every shape. */
/*
 * The burst pattern: up to 16 keys prefetched together (fw_index_prefetch_n(),
 * runs of neighbouring keys among them so the finger answers some), each
 * leaf the one a descent of its own finds and a peek there right, then the
 * operations on them run, splitting and merging under the remembered leaves.
 */
START_TEST(model_check_burst_prefetch)
{
	static const uint32_t phase_put[] = { 75, 15, 72, 8, 70, 30 };
	uint32_t nkeys = make_model_keys(), op = 0, p, g, j, merged = 0, splits = 0;
	uint32_t key[FW_INDEX_PREFETCH_N + 4], pick[FW_INDEX_PREFETCH_N + 4];
	const uint8_t *kp[FW_INDEX_PREFETCH_N + 4];
	uint8_t kl[FW_INDEX_PREFETCH_N + 4];
	const void *leaf[FW_INDEX_PREFETCH_N + 4];
	struct fw_index ix;
	struct fw_idx_val v;

	mlive = 0;
	REQUIRE_EQ(init_ix(&ix, 1), 0);
	for (p = 0; p < 6; p++) {
		uint64_t leaves0 = ix.leaves;

		for (uint32_t i = 0; i < MODEL_OPS / 10; i += g) {
			/* More than FW_INDEX_PREFETCH_N now and then: split in chunks. */
			g = 1 + (uint32_t)(next_rand() % (FW_INDEX_PREFETCH_N + 4));
			key[0] = (uint32_t)(next_rand() % nkeys);
			for (j = 0; j < g; j++) {
				if (j && next_rand() % 2) /* sorted keys: the next one */
					key[j] = (key[j - 1] + 1) % nkeys;
				else if (j)
					key[j] = (uint32_t)(next_rand() % nkeys);
				pick[j] = (uint32_t)(next_rand() % 100);
				kp[j] = mrefs[key[j]].key;
				kl[j] = mrefs[key[j]].klen;
			}
			fw_index_prefetch_n(&ix, kp, kl, g, leaf);
			for (j = 0; j < g; j++) {
				const struct mref *r = &mrefs[key[j]];

				REQUIRE(fw_index_peek(&ix, leaf[j], r->key, r->klen, &v) ==
					r->live);
				if (r->live)
					REQUIRE_EQ(v.loc, r->v.loc);
			}
			if (op % 3 == 0) /* a descent of its own finds the same leaf */
				for (j = 0; j < g; j++)
					REQUIRE(fw_index_prefetch(&ix, kp[j], kl[j]) == leaf[j]);
			for (j = 0; j < g; j++, op++)
				model_op_on(&ix, nkeys, op, phase_put[p], pick[j], key[j]);
		}
		check_tree(&ix);
		splits += ix.leaves > leaves0;
		merged += ix.leaves < leaves0;
		model_scan(&ix, nkeys, 0, nkeys);
	}
	REQUIRE(splits >= 2 && merged >= 2);
	fw_index_fini(&ix);
}
END_TEST

START_TEST(model_check_sequential_and_drain)
{
	struct fw_index ix;
	struct fw_idx_val v = { 7, 8, 9 };
	uint8_t key[8];
	uint32_t i;

	REQUIRE_EQ(init_ix(&ix, _i), 0);
	for (i = 0; i < 60000; i++) {
		uint32_t x = i < 30000 ? i : 90000 - i;

		key[0] = (uint8_t)(x >> 24);
		key[1] = (uint8_t)(x >> 16);
		key[2] = (uint8_t)(x >> 8);
		key[3] = (uint8_t)x;
		REQUIRE_EQ(fw_index_put(&ix, key, 4, &v, NULL), 0);
	}
	check_tree(&ix);
	REQUIRE(ix.height > 2);
	for (i = 0; i < 60000; i++) {
		uint32_t x = (i * 7919u) % 60000u;

		x = x < 30000 ? x : 90000 - x;
		key[0] = (uint8_t)(x >> 24);
		key[1] = (uint8_t)(x >> 16);
		key[2] = (uint8_t)(x >> 8);
		key[3] = (uint8_t)x;
		REQUIRE_EQ(fw_index_del(&ix, key, 4, NULL), 0);
		if (i % 10000 == 0)
			check_tree(&ix);
	}
	check_tree(&ix);
	REQUIRE_EQ(ix.count, 0);
	REQUIRE_EQ(ix.height, 1); /* merges collapsed the tree to one leaf */
	fw_index_fini(&ix);
	REQUIRE_EQ(maps, unmaps); /* fini gave every region back */
}
END_TEST

/*
 * Every put is first tried with allocation failing at its 1st, 2nd, ...
 * allocation until it succeeds: each failure must leave the tree exactly as
 * it was (key absent, count and every earlier key intact, invariants hold).
 * Regression: a leaf split used to link the new leaf before the inner split
 * above it allocated, so -ENOMEM there lost the moved keys from lookups.
 */
START_TEST(alloc_failure_at_every_split_allocation)
{
	struct fw_index ix;
	struct fw_idx_val v, got;
	uint8_t key[16];
	uint32_t i, failures = 0, deep = 0;
	int rc;

	REQUIRE_EQ(init_ix(&ix, _i), 0);
	memset(key, '0', sizeof(key));
	for (i = 0; i < 40000; i++) {
		uint64_t x = (uint64_t)i * 0x9e3779b97f4a7c15ull;
		long n;

		memcpy(key + 8, &x, 8);
		v.loc = i;
		v.vlen = 64;
		v.crc = i;
		for (n = 0;; n++) {
			uint64_t count = ix.count;

			fw_alloc_fail_after(n);
			rc = fw_index_put(&ix, key, 16, &v, NULL);
			fw_alloc_fail_after(-1);
			if (rc == 0)
				break;
			REQUIRE_EQ(rc, -ENOMEM);
			REQUIRE_EQ(ix.count, count);
			REQUIRE(!fw_index_get(&ix, key, 16, &got));
			failures++;
			if (n > 0)
				deep++; /* the split needed more than one node */
			if (n > 0 || i % 4096 == 0)
				check_tree(&ix);
		}
	}
	check_tree(&ix);
	REQUIRE(failures > 300);
	REQUIRE(deep >= 2); /* inner splits and a new root were hit */
	for (i = 0; i < 40000; i++) {
		uint64_t x = (uint64_t)i * 0x9e3779b97f4a7c15ull;

		memcpy(key + 8, &x, 8);
		REQUIRE(fw_index_get(&ix, key, 16, &got));
		REQUIRE_EQ(got.loc, i);
	}
	fw_index_fini(&ix);
}
END_TEST

/* Reference for inner_child(): the first separator above @k, by a linear scan. */
static uint32_t inner_child_ref(const struct inner *in, const struct ckey *k)
{
	uint32_t i;

	for (i = 0; i < in->h.n; i++) {
		struct ckey c = sep_ckey(&in->s[i]);

		if (cmp_ckey(&c, k) > 0)
			break;
	}
	return i;
}

/* Descend as find_leaf() does, checking each node's choice against the reference. */
static void check_descent(const struct fw_index *ix, const struct ckey *k)
{
	const void *n = ix->root;
	uint32_t d;

	for (d = 0; d + 1 < ix->height; d++) {
		const struct inner *in = n;
		uint32_t c = inner_child(in, k);

		REQUIRE_EQ(c, inner_child_ref(in, k));
		n = in->child[c];
	}
}

static void fill_key(uint8_t *key, uint8_t *klen, uint32_t i)
{
	uint64_t a = next_rand(), b = next_rand();

	memcpy(key, &a, 8);
	memcpy(key + 8, &b, 8);
	*klen = 16;
	switch (i % 4) {
	case 1: /* all-ones first half: the search's padding value */
		memset(key, 0xff, 8);
		*klen = (uint8_t)(8 + next_rand() % 9);
		break;
	case 2: /* one shared first half, not every key's: ties on the half */
		memcpy(key, "prefixAB", 8);
		*klen = (uint8_t)(8 + next_rand() % 9);
		break;
	default:
		break;
	}
	memset(key + *klen, 0, 16 - *klen);
}

/*
 * The two-level inner search (block summary, then a block of eight halves)
 * picks the same child as a linear scan of the full separators, for keys
 * present and absent, with halves equal to each other, to the key's, and to
 * UINT64_MAX (the value padding the unused slots).
 */
START_TEST(inner_search_matches_linear_scan)
{
	static uint8_t keys[30000][16], klens[30000];
	struct fw_index ix;
	struct fw_idx_val v = { 1, 2, 3 }, got;
	uint32_t i, n = 30000;

	rng = 77;
	REQUIRE_EQ(fw_index_init(&ix), 0);
	for (i = 0; i < n; i++) {
		fill_key(keys[i], &klens[i], i);
		v.loc = i;
		REQUIRE(fw_index_put(&ix, keys[i], klens[i], &v, NULL) >= 0);
	}
	REQUIRE(ix.height >= 3);
	check_tree(&ix);
	for (i = 0; i < n; i++) {
		struct ckey k = make_ckey(keys[i], klens[i]);
		uint8_t probe[16], plen;

		check_descent(&ix, &k);
		REQUIRE(fw_index_get(&ix, keys[i], klens[i], &got));
		fill_key(probe, &plen, i); /* most likely absent */
		k = make_ckey(probe, plen);
		check_descent(&ix, &k);
		k.lo = keys[i][15] & 1 ? 0 : UINT64_MAX; /* extremes of the second half */
		k.len = (uint8_t)(i % 17);
		check_descent(&ix, &k);
	}
	fw_index_fini(&ix);
}
END_TEST

/* The finger's bounds hold the keys of its leaf: what a lookup through it trusts. */
static void check_finger(const struct fw_index *ix)
{
	const struct fw_index_finger *f = &ix->finger;
	const struct leaf *l = f->leaf;
	uint32_t i;

	if (!l)
		return;
	for (i = 0; i < (l->h.sorted ? l->h.n : LEAF_CAP); i++) {
		struct ckey k;

		if (!l->h.sorted && !l->fp[i])
			continue;
		k = e_ckey(&l->e[i]);
		REQUIRE(in_finger(f, &k));
	}
}

/*
 * fw_index_prefetch() for keys present and absent, on a one-leaf tree and a
 * three-level one, changes no key or value and leaves the finger true to its
 * leaf; every lookup answers as before.
 */
START_TEST(prefetch_changes_nothing)
{
	static uint8_t keys[30000][16], klens[30000];
	static uint64_t locs[30000];
	uint64_t count;
	struct fw_index ix;
	struct fw_idx_val v = { 1, 2, 3 }, got;
	uint32_t i, n = 30000;
	uint8_t probe[16], plen;

	rng = 78;
	REQUIRE_EQ(fw_index_init(&ix), 0);
	fw_index_prefetch(&ix, keys[0], 16); /* empty root leaf */
	REQUIRE(ix.count == 0);
	for (i = 0; i < n; i++) {
		fill_key(keys[i], &klens[i], i);
		v.loc = i;
		REQUIRE(fw_index_put(&ix, keys[i], klens[i], &v, NULL) >= 0);
		if (i == 50) {
			fw_index_prefetch(&ix, keys[3], klens[3]);
			check_finger(&ix);
		}
	}
	REQUIRE(ix.height >= 3);
	for (i = 0; i < n; i++) { /* the newest put of each key (some repeat) */
		REQUIRE(fw_index_get(&ix, keys[i], klens[i], &got));
		locs[i] = got.loc;
	}
	count = ix.count;
	for (i = 0; i < n; i++) {
		const void *leaf = fw_index_prefetch(&ix, keys[i], klens[i]);

		/* Its leaf holds it: fw_index_peek() there finds the same value. */
		REQUIRE(fw_index_peek(&ix, leaf, keys[i], klens[i], &got));
		REQUIRE_EQ(got.loc, locs[i]);
		fill_key(probe, &plen, i); /* most likely absent */
		fw_index_prefetch(&ix, probe, plen);
		fw_index_prefetch(&ix, probe, 0);
		if (i % 1000 == 0)
			check_finger(&ix);
	}
	REQUIRE_EQ(ix.count, count);
	{
		/* A key not stored: its leaf does not have it. */
		uint8_t gone[16];

		memcpy(gone, keys[0], 16);
		gone[15] ^= 0x5a;
		if (!fw_index_get(&ix, gone, 16, &got))
			REQUIRE(!fw_index_peek(&ix, fw_index_prefetch(&ix, gone, 16), gone, 16,
					       &got));
	}
	check_tree(&ix);
	check_finger(&ix);
	for (i = 0; i < n; i++) {
		REQUIRE(fw_index_get(&ix, keys[i], klens[i], &got));
		REQUIRE_EQ(got.loc, locs[i]);
	}
	fw_index_fini(&ix);
}
END_TEST

/*
 * Keys prefetched in order, each then looked up (the firmware's pattern under
 * sequential keys): the lookups take the leaves prefetch found, so the
 * prefetches must move the finger themselves or every one of them descends
 * from the root.  After the first key of each leaf, none may descend.
 */
START_TEST(sequential_prefetch_moves_the_finger)
{
	struct fw_index ix;
	struct fw_idx_val v = { 1, 2, 3 }, got;
	uint8_t key[16] = { 0 };
	uint32_t i, n = 20000, moved = 0;
	const void *last = NULL;

	REQUIRE_EQ(fw_index_init(&ix), 0);
	for (i = 0; i < n; i++) {
		key[14] = (uint8_t)(i >> 8);
		key[15] = (uint8_t)i;
		v.loc = i;
		REQUIRE_EQ(fw_index_put(&ix, key, 16, &v, NULL), 0);
	}
	REQUIRE(ix.height >= 2);
	for (i = 0; i < n; i++) {
		const void *leaf;

		key[14] = (uint8_t)(i >> 8);
		key[15] = (uint8_t)i;
		leaf = fw_index_prefetch(&ix, key, 16);
		/* Where the key left the finger's leaf, the finger followed it. */
		REQUIRE(ix.finger.leaf == leaf);
		moved += leaf != last;
		last = leaf;
		REQUIRE(fw_index_get(&ix, key, 16, &got));
		REQUIRE_EQ(got.loc, i);
	}
	REQUIRE_EQ(moved, ix.leaves); /* every leaf visited once, in order */
	fw_index_fini(&ix);
}
END_TEST

/*
 * One leaf (the root) through every state of its slots: filled to capacity
 * out of order (hashed, probe runs that wrap past the last slot), emptied
 * and refilled in random order (deletes that move keys back into the gap),
 * sorted by a scan, then taking a key out of order again (back to hashed).
 */
START_TEST(hashed_leaf_fill_drain_sort)
{
	static uint8_t keys[LEAF_CAP][16];
	struct fw_index ix;
	struct fw_idx_val v = { 1, 2, 3 }, got;
	struct fw_index_iter it;
	const uint8_t *k;
	uint8_t kl, prev[16];
	uint32_t i, j, round, hashed_full = 0;
	bool live[LEAF_CAP] = { false };

	rng = 5;
	REQUIRE_EQ(fw_index_init(&ix), 0);
	for (i = 0; i < LEAF_CAP; i++) {
		uint64_t a = next_rand() | 1, b = next_rand();

		memcpy(keys[i], &a, 8);
		memcpy(keys[i] + 8, &b, 8);
	}
	for (round = 0; round < 20; round++) {
		for (i = 0; i < 4 * LEAF_CAP; i++) {
			j = (uint32_t)(next_rand() % LEAF_CAP);
			if (live[j]) {
				REQUIRE_EQ(fw_index_del(&ix, keys[j], 16, &got), 0);
				REQUIRE_EQ(got.loc, j);
			} else {
				v.loc = j;
				REQUIRE_EQ(fw_index_put(&ix, keys[j], 16, &v, NULL), 0);
			}
			live[j] = !live[j];
			REQUIRE_EQ(ix.height, 1); /* never more than a leaf's worth */
			check_tree(&ix);
		}
		for (j = 0; j < LEAF_CAP; j++) { /* full: every slot taken */
			if (!live[j]) {
				v.loc = j;
				REQUIRE_EQ(fw_index_put(&ix, keys[j], 16, &v, NULL), 0);
				live[j] = true;
			}
		}
		check_tree(&ix);
		{
			const struct leaf *l = ix.root;

			REQUIRE_EQ(l->h.n, LEAF_CAP);
			if (!l->h.sorted)
				hashed_full++; /* every slot taken: probe runs cross the end */
		}
		for (j = 0; j < LEAF_CAP; j++) {
			REQUIRE(fw_index_get(&ix, keys[j], 16, &got));
			REQUIRE_EQ(got.loc, j);
		}
		/* A scan sorts the leaf; lookups, deletes and puts still work after. */
		fw_index_seek(&ix, NULL, 0, &it);
		for (i = 0; fw_index_next(&it, &k, &kl, NULL); i++) {
			REQUIRE(i == 0 || memcmp(prev, k, 16) < 0);
			memcpy(prev, k, 16);
		}
		REQUIRE_EQ(i, LEAF_CAP);
		REQUIRE(((const struct leaf *)ix.root)->h.sorted);
		j = (uint32_t)(next_rand() % LEAF_CAP);
		REQUIRE_EQ(fw_index_del(&ix, keys[j], 16, NULL), 0);
		live[j] = false;
		check_tree(&ix);
	}
	REQUIRE(hashed_full >= 10);
	fw_index_fini(&ix);
}
END_TEST

/* Locations up to 48 bits and value lengths up to 24 bits round-trip; wider fail. */
START_TEST(value_fields_round_trip_and_range)
{
	struct fw_index ix;
	struct fw_idx_val v = { (1ull << 48) - 1, (1u << 24) - 1, 0xdeadbeef }, got;

	REQUIRE_EQ(fw_index_init(&ix), 0);
	REQUIRE_EQ(fw_index_put(&ix, (const uint8_t *)"k", 1, &v, NULL), 0);
	REQUIRE(fw_index_get(&ix, (const uint8_t *)"k", 1, &got));
	REQUIRE_EQ(got.loc, v.loc);
	REQUIRE_EQ(got.vlen, v.vlen);
	REQUIRE_EQ(got.crc, v.crc);
	v.loc = 0x123456789abcull;
	v.vlen = 0x10203;
	v.crc = 1;
	REQUIRE_EQ(fw_index_update(&ix, (const uint8_t *)"k", 1, &v), 0);
	REQUIRE(fw_index_get(&ix, (const uint8_t *)"k", 1, &got));
	REQUIRE_EQ(got.loc, v.loc);
	REQUIRE_EQ(got.vlen, v.vlen);
	REQUIRE_EQ(got.crc, v.crc);
	v.loc = 1ull << 48;
	REQUIRE_EQ(fw_index_put(&ix, (const uint8_t *)"j", 1, &v, NULL), -ERANGE);
	REQUIRE_EQ(fw_index_update(&ix, (const uint8_t *)"k", 1, &v), -ERANGE);
	v.loc = 0;
	v.vlen = 1u << 24;
	REQUIRE_EQ(fw_index_put(&ix, (const uint8_t *)"j", 1, &v, NULL), -ERANGE);
	REQUIRE_EQ(ix.count, 1);
	fw_index_fini(&ix);
}
END_TEST

/*
 * Nodes from 2 MiB regions: the memory reported is the regions held; nodes
 * freed by merges are used again before a new region is mapped; a region the
 * host refuses fails the split cleanly (-ENOMEM, the tree as it was).
 */
START_TEST(pool_reuses_freed_nodes_and_survives_a_refused_region)
{
	struct fw_index ix;
	struct fw_idx_val v = { 7, 8, 9 }, got;
	uint8_t key[16];
	unsigned long peak;
	uint32_t i, n = 0;
	int rc = 0;

	REQUIRE_EQ(init_ix(&ix, 1), 0);
	memset(key, 'k', sizeof(key));
	for (i = 0; i < 200000; i++) {
		uint64_t x = (uint64_t)i * 0x9e3779b97f4a7c15ull;

		memcpy(key + 8, &x, 8);
		REQUIRE_EQ(fw_index_put(&ix, key, 16, &v, NULL), 0);
	}
	REQUIRE(maps >= 3);
	REQUIRE_EQ(fw_index_mem(&ix), maps * (2u << 20));
	REQUIRE((ix.leaves + ix.inners) * 4096 <= fw_index_mem(&ix));
	REQUIRE((ix.leaves + ix.inners) * 4096 > fw_index_mem(&ix) - (2u << 20));
	peak = maps;
	for (i = 0; i < 150000; i++) { /* merges free most nodes */
		uint64_t x = (uint64_t)i * 0x9e3779b97f4a7c15ull;

		memcpy(key + 8, &x, 8);
		REQUIRE_EQ(fw_index_del(&ix, key, 16, NULL), 0);
	}
	for (i = 0; i < 150000; i++) { /* and the refill takes them back */
		uint64_t x = (uint64_t)i * 0x9e3779b97f4a7c15ull;

		memcpy(key + 8, &x, 8);
		REQUIRE_EQ(fw_index_put(&ix, key, 16, &v, NULL), 0);
	}
	check_tree(&ix);
	REQUIRE(maps <= peak + 1);
	/* No more regions: inserts go on until a split needs one. */
	map_limit = maps;
	for (i = 200000; i < 2000000 && !rc; i++) {
		uint64_t x = (uint64_t)i * 0x9e3779b97f4a7c15ull;

		memcpy(key + 8, &x, 8);
		rc = fw_index_put(&ix, key, 16, &v, NULL);
		n += !rc;
	}
	REQUIRE_EQ(rc, -ENOMEM);
	REQUIRE(!fw_index_get(&ix, key, 16, &got));
	REQUIRE_EQ(ix.count, 200000 + n);
	check_tree(&ix);
	fw_index_fini(&ix);
	REQUIRE_EQ(maps, unmaps);
}
END_TEST

static Suite *index_suite(void)
{
	Suite *s = suite_create("firmware/index");
	TCase *tc = tcase_create("index");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, random_ops_match_reference);
	tcase_add_test(tc, model_check_prefetch_ahead);
	tcase_add_test(tc, model_check_burst_prefetch);
	tcase_add_test(tc, sequential_prefetch_moves_the_finger);
	tcase_add_test(tc, sequential_inserts_fill_leaves);
	tcase_add_test(tc, out_of_memory_is_reported);
	tcase_add_loop_test(tc, model_check_random_ops, 0, 2);
	tcase_add_loop_test(tc, model_check_sequential_and_drain, 0, 2);
	tcase_add_loop_test(tc, alloc_failure_at_every_split_allocation, 0, 2);
	tcase_add_test(tc, pool_reuses_freed_nodes_and_survives_a_refused_region);
	tcase_add_test(tc, value_fields_round_trip_and_range);
	tcase_add_test(tc, inner_search_matches_linear_scan);
	tcase_add_test(tc, hashed_leaf_fill_drain_sort);
	tcase_add_test(tc, prefetch_changes_nothing);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(index_suite)
