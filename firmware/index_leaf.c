// SPDX-License-Identifier: MIT
/*
 * The index's leaves: what changes a leaf's layout (sorting it for a scan,
 * hashing it again, splitting, merging, removing from a probe run).  The
 * point operations' probes are inline in index_leaf.h.
 */
#include "index_leaf.h"

#include <string.h>

/* First entry >= key in a sorted leaf. */
uint32_t fw_leaf_lower(const struct leaf *l, const struct ckey *k)
{
	uint32_t lo = 0, hi = l->h.n;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if (cmp(k, l->e[mid].key, l->e[mid].klen) > 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Rewrite @l as a sorted leaf from @e / @fp in the order of @sk[0..n). */
static void leaf_pack(struct leaf *l, const struct skey *sk, uint32_t n, const struct entry *e,
		      const uint8_t *fp)
{
	uint32_t i;

	for (i = 0; i < n; i++) {
		l->e[i] = e[sk[i].i];
		l->fp[i] = fp[sk[i].i];
	}
	l->h.n = (uint16_t)n;
	l->h.sorted = 1;
}

/* Put @e (hash @h, known absent) in the first free slot from its home in hashed leaf @l. */
void fw_leaf_place(struct leaf *l, const struct entry *e, uint64_t h)
{
	uint32_t i = hash_home(h);
	uint64_t empty;

	while (!(empty = zero_bytes(fp_window(l, i))))
		i = slot_add(i, 8);
	leaf_place_at(l, slot_add(i, (uint32_t)__builtin_ctzll(empty) / 8), e, h);
}

/* Rewrite @l as a hashed leaf holding @e[@sk[i].i] for i < @n. */
static void leaf_rehash(struct leaf *l, const struct skey *sk, uint32_t n, const struct entry *e)
{
	uint32_t i;

	memset(l->fp, 0, sizeof(l->fp));
	l->h.n = 0;
	l->h.sorted = 0;
	for (i = 0; i < n; i++)
		fw_leaf_place(l, &e[sk[i].i], key_hash(&sk[i].k));
}

/* Append the live entries of @l to @e / @fp / @sk from @at; returns the new count. */
static uint32_t leaf_gather(const struct leaf *l, struct entry *e, uint8_t *fp, struct skey *sk,
			    uint32_t at)
{
	uint32_t i;

	for (i = 0; i < (l->h.sorted ? l->h.n : LEAF_CAP); i++) {
		if (!l->h.sorted && !l->fp[i])
			continue;
		e[at] = l->e[i];
		fp[at] = l->fp[i];
		sk[at].k = e_ckey(&l->e[i]);
		sk[at].i = at;
		at++;
	}
	return at;
}

/* Remove slot @i of hashed leaf @l, moving later keys of the probe run back into the gap. */
void fw_leaf_remove(struct leaf *l, uint32_t i)
{
	uint32_t j = i;

	fp_set(l, i, 0);
	for (;;) {
		struct ckey k;
		uint32_t home;

		j = slot_add(j, 1);
		if (!l->fp[j])
			break;
		k = e_ckey(&l->e[j]);
		home = hash_home(key_hash(&k));
		/* The gap lies on the way from @j's home to @j: fill it. */
		if ((j + LEAF_CAP - home) % LEAF_CAP >= (j + LEAF_CAP - i) % LEAF_CAP) {
			l->e[i] = l->e[j];
			fp_set(l, i, l->fp[j]);
			fp_set(l, j, 0);
			i = j;
		}
	}
	l->h.n--;
}

/* A sorted leaf takes a key out of order: it becomes hashed. */
void fw_leaf_to_hashed(struct leaf *l)
{
	struct skey sk[LEAF_CAP];
	struct entry e[LEAF_CAP];
	uint8_t fp[LEAF_CAP];
	uint32_t n = leaf_gather(l, e, fp, sk, 0);

	leaf_rehash(l, sk, n, e);
}

static void swap_skey(struct skey *a, struct skey *b)
{
	struct skey t = *a;

	*a = *b;
	*b = t;
}

/* Partition @a[lo..hi] around its middle element; returns where that lands. */
static uint32_t partition(struct skey *a, uint32_t lo, uint32_t hi)
{
	uint32_t i, st;

	swap_skey(&a[lo + (hi - lo) / 2], &a[hi]); /* the pivot waits at hi */
	for (i = st = lo; i < hi; i++)
		if (cmp_ckey(&a[i].k, &a[hi].k) < 0)
			swap_skey(&a[i], &a[st++]);
	swap_skey(&a[st], &a[hi]);
	return st;
}

/* Rearrange @a[0..n) so that a[k] is the k-th smallest, smaller keys before it. */
static void select_kth(struct skey *a, uint32_t n, uint32_t k)
{
	uint32_t lo = 0, hi = n - 1;

	while (lo < hi) {
		uint32_t st = partition(a, lo, hi);

		if (k == st)
			return;
		if (k < st)
			hi = st - 1;
		else
			lo = st + 1;
	}
}

static void insertion_sort(struct skey *a, uint32_t n)
{
	uint32_t i, j;

	for (i = 1; i < n; i++) {
		struct skey t = a[i];

		for (j = i; j > 0 && cmp_ckey(&t.k, &a[j - 1].k) < 0; j--)
			a[j] = a[j - 1];
		a[j] = t;
	}
}

/* Quicksort (no comparator calls, unlike qsort()), recursing into the smaller part. */
static void sort_skeys(struct skey *a, uint32_t n)
{
	while (n > 12) {
		uint32_t st = partition(a, 0, n - 1);

		if (st < n - st - 1) {
			sort_skeys(a, st);
			a += st + 1;
			n -= st + 1;
		} else {
			sort_skeys(a + st + 1, n - st - 1);
			n = st;
		}
	}
	insertion_sort(a, n);
}

void fw_leaf_sort(struct leaf *l)
{
	struct skey sk[LEAF_CAP];
	struct entry e[LEAF_CAP];
	uint8_t fp[LEAF_CAP];
	uint32_t n;

	if (l->h.sorted)
		return;
	n = leaf_gather(l, e, fp, sk, 0);
	sort_skeys(sk, n);
	leaf_pack(l, sk, n, e, fp);
}

/*
 * Split full leaf @l into @l and @r (a fresh node), adding @ne (fingerprint
 * @nfp, key @k).  Appending past the last key of the rightmost sorted leaf
 * (sequential keys) keeps @l full; otherwise the median divides the entries.
 * @r's smallest key, the separator between the two, goes to @sep / @sep_len.
 */
void fw_leaf_split(struct leaf *l, struct leaf *r, const struct entry *ne, uint8_t nfp,
		   const struct ckey *k, uint8_t sep[FW_KEY_MAX], uint8_t *sep_len)
{
	struct skey sk[LEAF_CAP + 1];
	struct entry e[LEAF_CAP + 1];
	uint8_t fp[LEAF_CAP + 1];
	uint32_t n = l->h.n, half = (n + 1) / 2;
	const struct entry *first;

	r->h.leaf = 1;
	r->next = l->next;
	l->next = r;
	if (l->h.sorted && !r->next && cmp(k, l->e[n - 1].key, l->e[n - 1].klen) > 0) {
		r->e[0] = *ne;
		r->fp[0] = nfp;
		r->h.n = 1;
		r->h.sorted = 1;
		first = &r->e[0];
	} else {
		n = leaf_gather(l, e, fp, sk, 0);
		e[n] = *ne;
		fp[n] = nfp;
		sk[n].k = *k;
		sk[n].i = n;
		select_kth(sk, n + 1, half);
		leaf_rehash(l, sk, half, e);
		leaf_rehash(r, sk + half, n + 1 - half, e);
		first = &e[sk[half].i]; /* after the selection, the smallest key of @r */
	}
	memcpy(sep, first->key, FW_KEY_MAX);
	*sep_len = first->klen;
}

void fw_leaf_merge(struct leaf *a, struct leaf *b)
{
	if (a->h.sorted && b->h.sorted) { /* every key of b is above a's */
		memcpy(&a->e[a->h.n], b->e, b->h.n * sizeof(b->e[0]));
		memcpy(&a->fp[a->h.n], b->fp, b->h.n);
		a->h.n = (uint16_t)(a->h.n + b->h.n);
	} else {
		struct skey sk[LEAF_CAP];
		struct entry e[LEAF_CAP];
		uint8_t fp[LEAF_CAP];
		uint32_t n = leaf_gather(a, e, fp, sk, 0);

		n = leaf_gather(b, e, fp, sk, n);
		leaf_rehash(a, sk, n, e);
	}
	a->next = b->next;
}
