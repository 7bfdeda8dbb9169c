// SPDX-License-Identifier: MIT
/*
 * B+tree index built for random keys.  Its leaves (index_leaf.h) are hashed
 * for point operations and sorted when a scan reaches them.  Inner nodes
 * hold sorted separators searched in two branch-free levels (see struct
 * inner).  A leaf whose deletes leave it under a quarter full is merged with
 * a sibling under the same parent.  A split allocates every node it may need
 * before it changes anything, so -ENOMEM leaves the tree as it was.
 */
#include "index.h"

#include <errno.h>
#include <string.h>

#include "alloc.h"
#include "cmdset/le.h"
#include "index_leaf.h"

#define MAX_HEIGHT 24

/* Merge a leaf with a sibling when it falls below this many entries. */
#define LEAF_LOW (LEAF_CAP / 4)

struct sep {
	uint8_t key[FW_KEY_MAX];
	uint8_t klen;
};

/*
 * Inner nodes are searched on win[], one 64-bit half of each separator in
 * comparable form: the first half, or the second when every separator of the
 * node shares the first (pfx; keys with a common prefix, e.g. zero-padded
 * numbers).  The search is two-level and branch-free, so a descent touches
 * three lines of a node instead of a binary search's chain of dependent
 * probes: sum[j], the last half of block j of eight (two lines), counted
 * against the key picks the block; the block's eight halves (one line)
 * counted against the key pick the child, whose pointer line is prefetched
 * as soon as the block is known.  Slots past n hold UINT64_MAX, which no key
 * half counts as below.  Only halves equal to the key's look at the full
 * separator.
 */
#define INNER_CAP 119
#define WIN_SLOTS 120 /* INNER_CAP rounded up to a block */
#define SUM_SLOTS 16  /* WIN_SLOTS / 8, rounded up to two lines */
struct inner {
	struct node_hdr h; /* h.sorted: win[] holds second halves, all first halves == pfx */
	uint64_t pfx;
	uint64_t sum[SUM_SLOTS];
	uint64_t win[WIN_SLOTS];
	struct sep s[INNER_CAP]; /* s[i] separates child[i] and child[i + 1] */
	void *child[INNER_CAP + 1];
};
_Static_assert(WIN_SLOTS % 8 == 0 && WIN_SLOTS >= INNER_CAP && SUM_SLOTS * 8 >= WIN_SLOTS,
	       "search blocks cover the separators");
_Static_assert(SUM_SLOTS % 4 == 0, "the block summary is counted four at a time");
_Static_assert(sizeof(struct inner) <= NODE_SIZE, "an inner node fits its node");

/* Child index for @k: first separator > k. */
static uint32_t inner_child(const struct inner *in, const struct ckey *k)
{
	uint32_t n = in->h.n, b, i, p, c0 = 0, c1 = 0, c2 = 0, c3 = 0;
	uint64_t kw = k->hi;

	if (in->h.sorted) {
		if (k->hi != in->pfx)
			return k->hi < in->pfx ? 0 : n;
		kw = k->lo;
	}
	/* Four independent counts: no chain of sixteen dependent adds. */
	for (i = 0; i < SUM_SLOTS; i += 4) {
		c0 += in->sum[i] < kw;
		c1 += in->sum[i + 1] < kw;
		c2 += in->sum[i + 2] < kw;
		c3 += in->sum[i + 3] < kw;
	}
	b = c0 + c1 + c2 + c3;
	if (b * 8 >= n)
		return n;
	__builtin_prefetch(&in->child[b * 8 + 4]);
	for (p = b * 8, i = 0; i < 8; i++)
		p += in->win[b * 8 + i] < kw;
	/* p: first half >= kw.  Equal halves: the full separators decide. */
	while (p < n && in->win[p] == kw && cmp(k, in->s[p].key, in->s[p].klen) >= 0)
		p++;
	return p;
}

/* Rebuild @in's search halves and block summary after its separators changed. */
static void inner_reindex(struct inner *in)
{
	uint32_t i, n = in->h.n, off;

	in->h.sorted = n > 0 && kvc_get_be64(in->s[0].key) == kvc_get_be64(in->s[n - 1].key);
	in->pfx = n ? kvc_get_be64(in->s[0].key) : 0;
	off = in->h.sorted ? 8 : 0;
	for (i = 0; i < WIN_SLOTS; i++)
		in->win[i] = i < n ? kvc_get_be64(in->s[i].key + off) : UINT64_MAX;
	for (i = 0; i < SUM_SLOTS; i++)
		in->sum[i] = i * 8 + 7 < n ? in->win[i * 8 + 7] : UINT64_MAX;
}

static void *new_node(struct fw_index *ix)
{
	return fw_pool_get(&ix->pool);
}

/* Nodes in regions of 2 MiB: one huge page each where the host gives them. */
#define NODE_REGION (2u << 20)

int fw_index_init_mem(struct fw_index *ix, void *(*map)(void *ctx, size_t len),
		      void (*unmap)(void *ctx, void *p, size_t len), void *ctx)
{
	struct leaf *l;

	memset(ix, 0, sizeof(*ix));
	fw_pool_init(&ix->pool, NODE_SIZE, NODE_REGION, map, unmap, ctx);
	l = new_node(ix);
	if (!l)
		return -ENOMEM;
	l->h.leaf = 1;
	l->h.sorted = 1;
	ix->root = l;
	ix->leaves = 1;
	ix->height = 1;
	ix->gen = 1;
	return 0;
}

/* Leaves split, merge or go: every finger and recent leaf is void from here. */
static void reshaped(struct fw_index *ix)
{
	ix->finger.leaf = NULL;
	ix->gen++;
}

static struct fw_index_recent *recent_slot(struct fw_index *ix, uint64_t h)
{
	return &ix->recent[(h >> 8) % FW_INDEX_RECENT];
}

int fw_index_init(struct fw_index *ix)
{
	return fw_index_init_mem(ix, NULL, NULL, NULL);
}

static void free_node(struct fw_pool *p, void *n, uint32_t height)
{
	if (height > 1) {
		struct inner *in = n;
		uint32_t i;

		for (i = 0; i <= in->h.n; i++)
			free_node(p, in->child[i], height - 1);
	}
	fw_pool_put(p, n);
}

void fw_index_fini(struct fw_index *ix)
{
	if (ix->root && !fw_pool_regions(&ix->pool))
		free_node(&ix->pool, ix->root, ix->height);
	fw_pool_fini(&ix->pool); /* with regions: every node at once */
	memset(ix, 0, sizeof(*ix));
}

/* Compare @k with a bound stored in comparable halves. */
static int cmp_bound(const struct ckey *k, const uint64_t b[2], uint8_t blen)
{
	if (k->hi != b[0])
		return k->hi < b[0] ? -1 : 1;
	if (k->lo != b[1])
		return k->lo < b[1] ? -1 : 1;
	return (int)k->len - (int)blen;
}

static void set_bound(uint64_t b[2], uint8_t *blen, const struct sep *s)
{
	b[0] = kvc_get_be64(s->key);
	b[1] = kvc_get_be64(s->key + 8);
	*blen = s->klen;
}

/* The finger on @leaf, whose parents bound it by @lo and @hi (NULL: none). */
static void set_finger(struct fw_index_finger *f, void *leaf, const struct sep *lo,
		       const struct sep *hi)
{
	f->has_lo = lo != NULL;
	if (lo)
		set_bound(f->lo, &f->lo_len, lo);
	f->has_hi = hi != NULL;
	if (hi)
		set_bound(f->hi, &f->hi_len, hi);
	f->leaf = leaf;
}

static bool in_finger(const struct fw_index_finger *f, const struct ckey *k)
{
	return f->leaf && (!f->has_lo || cmp_bound(k, f->lo, f->lo_len) >= 0) &&
	       (!f->has_hi || cmp_bound(k, f->hi, f->hi_len) < 0);
}

/*
 * Request the lines of leaf @n an operation reads: its head and fingerprints
 * and, for a point operation, the entry at the key's @home slot (-1: none),
 * which in a hashed leaf is usually the one wanted: its miss overlaps the
 * fingerprints' instead of following it.
 */
/*
 * Always inlined: it has no effect GCC can see, so as a call it may be
 * deleted (GCC 12 at -O2 left no prefetch of a leaf in fw_index_get()).
 */
static inline __attribute__((always_inline)) void prefetch_leaf(const struct leaf *n, int home)
{
	__builtin_prefetch(n);
	__builtin_prefetch((const char *)n + 64);
	__builtin_prefetch((const char *)n + 128);
	if (home >= 0) {
		const char *e = (const char *)&n->e[home];

		__builtin_prefetch(e);
		__builtin_prefetch(e + sizeof(struct entry) - 1);
	}
}

/*
 * Descend to the leaf for @k, recording the path when asked.  Without a path
 * the finger (last leaf and its bounds) answers sequential access without a
 * descent; every descent refreshes it.
 */
static struct leaf *find_leaf(struct fw_index *ix, const struct ckey *k, struct inner **path,
			      uint32_t *slots, int home)
{
	struct fw_index_finger *f = &ix->finger;
	const struct sep *lo = NULL, *hi = NULL; /* the tightest bounds on the way down */
	void *n = ix->root;
	uint32_t d;

	if (!path && in_finger(f, k))
		return f->leaf;
	for (d = 0; d + 1 < ix->height; d++) {
		struct inner *in = n;
		uint32_t c = inner_child(in, k);

		if (path) {
			path[d] = in;
			slots[d] = c;
		}
		if (c > 0)
			lo = &in->s[c - 1];
		if (c < in->h.n)
			hi = &in->s[c];
		n = in->child[c];
	}
	prefetch_leaf(n, home);
	/* Copied once, below, while the leaf's lines are on their way. */
	set_finger(f, n, lo, hi);
	return n;
}

/*
 * The leaf for @k, with the lines of its home slot requested too: in a hashed
 * leaf the entry is usually there, so its miss overlaps the fingerprints'.
 */
/* @r holds @k's leaf (fw_index_prefetch() requested its lines). */
static bool recent_hit(const struct fw_index *ix, const struct fw_index_recent *r,
		       const struct ckey *k)
{
	return r->gen == ix->gen && r->hi == k->hi && r->lo == k->lo && r->len == k->len;
}

static struct leaf *find_leaf_for(struct fw_index *ix, const struct ckey *k, uint64_t h)
{
	const struct fw_index_recent *r = recent_slot(ix, h);

	if (recent_hit(ix, r, k))
		return r->leaf;
	return find_leaf(ix, k, NULL, NULL, (int)hash_home(h));
}

/* Slot @i (-1: none) of leaf @l is in use and holds @k: keys are unique in a
 * leaf, so then it is @k's entry wherever inserts, deletes or a sort moved
 * the others since @i was found. */
static bool slot_holds(const struct leaf *l, int i, const struct ckey *k)
{
	const struct entry *e;

	if (i < 0 || (l->h.sorted ? (uint32_t)i >= l->h.n : !l->fp[i]))
		return false;
	e = &l->e[i];
	return e->klen == k->len && kvc_get_be64(e->key) == k->hi &&
	       kvc_get_be64(e->key + 8) == k->lo;
}

/*
 * @k's leaf into *@lp and its slot, or -1 when absent.  A key remembered in
 * recent[] is found without a descent, and where fw_index_peek() or an
 * earlier lookup found it without a search; a slot found is remembered.
 */
static int find_entry(struct fw_index *ix, const struct ckey *k, uint64_t h, struct leaf **lp)
{
	struct fw_index_recent *r = recent_slot(ix, h);
	struct leaf *l;
	int i;

	if (!recent_hit(ix, r, k)) {
		*lp = find_leaf(ix, k, NULL, NULL, (int)hash_home(h));
		return leaf_find(*lp, k, h);
	}
	l = *lp = r->leaf;
	if (slot_holds(l, r->slot, k))
		return r->slot;
	i = leaf_find(l, k, h);
	r->slot = (int16_t)i;
	return i;
}

static struct entry *lookup(struct fw_index *ix, const uint8_t *key, uint8_t klen)
{
	struct ckey k = make_ckey(key, klen);
	struct leaf *l;
	int i = find_entry(ix, &k, key_hash(&k), &l);

	return i < 0 ? NULL : &l->e[i];
}

const void *fw_index_prefetch(struct fw_index *ix, const uint8_t *key, uint8_t klen)
{
	const void *leaf;

	fw_index_prefetch_n(ix, &key, &klen, 1, &leaf);
	return leaf;
}

/* The lines inner_child() reads first: the head and the block summary. */
static inline __attribute__((always_inline)) void prefetch_inner(const struct inner *in)
{
	__builtin_prefetch(in);
	__builtin_prefetch((const char *)in + 64);
	__builtin_prefetch((const char *)in + 128);
}

void fw_index_prefetch_n(struct fw_index *ix, const uint8_t *const *keys, const uint8_t *klens,
			 uint32_t n, const void **leaves)
{
	struct ckey k[FW_INDEX_PREFETCH_N];
	const struct sep *lo[FW_INDEX_PREFETCH_N], *hi[FW_INDEX_PREFETCH_N];
	void *node[FW_INDEX_PREFETCH_N];
	uint64_t h[FW_INDEX_PREFETCH_N];
	struct fw_index_finger *f = &ix->finger;
	uint32_t j, d, last;

	for (; n > FW_INDEX_PREFETCH_N; n -= FW_INDEX_PREFETCH_N) {
		fw_index_prefetch_n(ix, keys, klens, FW_INDEX_PREFETCH_N, leaves);
		keys += FW_INDEX_PREFETCH_N;
		klens += FW_INDEX_PREFETCH_N;
		leaves += FW_INDEX_PREFETCH_N;
	}
	last = n;
	for (j = 0; j < n; j++) {
		k[j] = make_ckey(keys[j], klens[j]);
		h[j] = key_hash(&k[j]);
		lo[j] = hi[j] = NULL;
		/* Sequential access: the finger's leaf, no descent. */
		node[j] = in_finger(f, &k[j]) ? NULL : ix->root;
	}
	/* A level of every key's descent at a time: the keys' misses overlap
	 * instead of each descent stalling on its own, one after the other. */
	for (d = 0; d + 1 < ix->height; d++)
		for (j = 0; j < n; j++) {
			struct inner *in = node[j];
			uint32_t c;

			if (!in)
				continue;
			c = inner_child(in, &k[j]);
			if (c > 0)
				lo[j] = &in->s[c - 1];
			if (c < in->h.n)
				hi[j] = &in->s[c];
			node[j] = in->child[c];
			if (d + 2 < ix->height)
				prefetch_inner(node[j]);
			else
				prefetch_leaf(node[j], (int)hash_home(h[j]));
		}
	for (j = 0; j < n; j++) {
		struct leaf *l = node[j];

		if (!l) {
			l = f->leaf;
			prefetch_leaf(l, (int)hash_home(h[j]));
		} else {
			last = j;
		}
		*recent_slot(ix, h[j]) = (struct fw_index_recent){ .hi = k[j].hi,
								   .lo = k[j].lo,
								   .len = k[j].len,
								   .leaf = l,
								   .gen = ix->gen,
								   .slot = -1 };
		leaves[j] = l;
	}
	/* The finger goes where the last descent went, as a lookup's would. */
	if (last < n)
		set_finger(f, node[last], lo[last], hi[last]);
}

bool fw_index_peek(struct fw_index *ix, const void *leaf, const uint8_t *key, uint8_t klen,
		   struct fw_idx_val *out)
{
	const struct leaf *l = leaf;
	struct ckey k = make_ckey(key, klen);
	uint64_t h = key_hash(&k);
	struct fw_index_recent *r = recent_slot(ix, h);
	int i = leaf_find(l, &k, h);

	if (recent_hit(ix, r, &k) && r->leaf == leaf)
		r->slot = (int16_t)i;
	if (i < 0)
		return false;
	e_get(&l->e[i], out);
	return true;
}

bool fw_index_get(struct fw_index *ix, const uint8_t *key, uint8_t klen, struct fw_idx_val *out)
{
	struct entry *e = lookup(ix, key, klen);

	if (!e)
		return false;
	e_get(e, out);
	return true;
}

static bool val_fits(const struct fw_idx_val *v)
{
	return v->loc < (1ull << LOC_BITS) && v->vlen < (1u << VLEN_BITS);
}

int fw_index_update(struct fw_index *ix, const uint8_t *key, uint8_t klen,
		    const struct fw_idx_val *val)
{
	struct entry *e;

	if (!val_fits(val))
		return -ERANGE;
	e = lookup(ix, key, klen);
	if (!e)
		return -ENOENT;
	e_set_val(e, val);
	return 0;
}

/* Insert (sep, right) after child @slot of @in, which has room. */
static void inner_insert(struct inner *in, uint32_t slot, const struct sep *s, void *right)
{
	memmove(&in->s[slot + 1], &in->s[slot], (in->h.n - slot) * sizeof(in->s[0]));
	memmove(&in->child[slot + 2], &in->child[slot + 1],
		(in->h.n - slot) * sizeof(in->child[0]));
	in->s[slot] = *s;
	in->child[slot + 1] = right;
	in->h.n++;
	inner_reindex(in);
}

/* Split full @in into @r around its middle; the middle separator goes up in *@up. */
static void inner_split(struct inner *in, struct inner *r, struct sep *up)
{
	uint32_t mid = in->h.n / 2;

	*up = in->s[mid];
	r->h.n = (uint16_t)(in->h.n - mid - 1);
	memcpy(r->s, &in->s[mid + 1], r->h.n * sizeof(r->s[0]));
	memcpy(r->child, &in->child[mid + 1], (r->h.n + 1u) * sizeof(r->child[0]));
	in->h.n = (uint16_t)mid;
	inner_reindex(in);
	inner_reindex(r);
}

/*
 * Nodes a leaf split below @path needs: the new leaf, one inner node per full
 * ancestor from the bottom, and a new root when every ancestor is full.
 */
static uint32_t split_needs(const struct fw_index *ix, struct inner **path)
{
	uint32_t need = 1, d = ix->height - 1;

	while (d > 0 && path[d - 1]->h.n >= INNER_CAP) {
		need++;
		d--;
	}
	return d == 0 ? need + 1 : need;
}

/* Propagate a new right sibling @right with separator @s up the @path. */
static void grow_parents(struct fw_index *ix, struct inner **path, uint32_t *slots, struct sep s,
			 void *right, void **spare)
{
	uint32_t depth = ix->height - 1;

	while (depth > 0) {
		struct inner *in = path[depth - 1];
		uint32_t slot = slots[depth - 1];
		struct inner *r;
		struct sep up;

		if (in->h.n < INNER_CAP) {
			inner_insert(in, slot, &s, right);
			return;
		}
		r = *spare++;
		inner_split(in, r, &up);
		ix->inners++;
		if (slot <= in->h.n)
			inner_insert(in, slot, &s, right);
		else
			inner_insert(r, slot - in->h.n - 1, &s, right);
		s = up;
		right = r;
		depth--;
	}
	/* New root. */
	{
		struct inner *root = *spare;

		root->h.n = 1;
		root->s[0] = s;
		root->child[0] = ix->root;
		root->child[1] = right;
		inner_reindex(root);
		ix->root = root;
		ix->height++;
		ix->inners++;
	}
}

static int split_insert(struct fw_index *ix, const struct ckey *k, const struct entry *ne,
			uint8_t nfp)
{
	struct inner *path[MAX_HEIGHT];
	uint32_t slots[MAX_HEIGHT], need, i;
	void *spare[MAX_HEIGHT + 1];
	struct leaf *l;
	struct sep s;

	if (ix->height >= MAX_HEIGHT)
		return -ENOMEM;
	l = find_leaf(ix, k, path, slots, -1);
	need = split_needs(ix, path);
	for (i = 0; i < need; i++) {
		spare[i] = new_node(ix);
		if (!spare[i]) {
			while (i--)
				fw_pool_put(&ix->pool, spare[i]);
			return -ENOMEM;
		}
	}
	reshaped(ix); /* separators are about to change */
	fw_leaf_split(l, spare[0], ne, nfp, k, s.key, &s.klen);
	ix->leaves++;
	grow_parents(ix, path, slots, s, spare[0], spare + 1);
	return 0;
}

int fw_index_put(struct fw_index *ix, const uint8_t *key, uint8_t klen,
		 const struct fw_idx_val *val, struct fw_idx_val *old)
{
	struct ckey k = make_ckey(key, klen);
	uint64_t h = key_hash(&k);
	const struct fw_index_recent *r;
	struct leaf *l;
	struct entry ne;
	int i, rc, gap = -1;

	if (!val_fits(val))
		return -ERANGE;
	l = find_leaf_for(ix, &k, h);
	r = recent_slot(ix, h);
	if (recent_hit(ix, r, &k) && slot_holds(l, r->slot, &k))
		i = r->slot; /* an overwrite whose key a lookup just found */
	else
		i = l->h.sorted ? leaf_find(l, &k, h) : leaf_probe(l, &k, h, &gap);
	if (i >= 0) {
		if (old)
			e_get(&l->e[i], old);
		e_set_val(&l->e[i], val);
		return 1;
	}
	e_set(&ne, key, klen, val);
	if (l->h.n < LEAF_CAP) {
		uint32_t n = l->h.n;

		if (!l->h.sorted) {
			leaf_place_at(l, (uint32_t)gap, &ne, h); /* the probe found the slot */
		} else if (!n || cmp(&k, l->e[n - 1].key, l->e[n - 1].klen) > 0) {
			l->e[n] = ne; /* in order: the leaf stays sorted */
			l->fp[n] = hash_fp(h);
			l->h.n++;
		} else {
			fw_leaf_to_hashed(l);
			fw_leaf_place(l, &ne, h);
		}
	} else {
		rc = split_insert(ix, &k, &ne, hash_fp(h));
		if (rc)
			return rc;
	}
	ix->count++;
	return 0;
}

/* Remove child @slot + 1 and separator @slot from @in. */
static void inner_remove(struct inner *in, uint32_t slot)
{
	memmove(&in->s[slot], &in->s[slot + 1], (in->h.n - slot - 1) * sizeof(in->s[0]));
	memmove(&in->child[slot + 1], &in->child[slot + 2],
		(in->h.n - slot - 1) * sizeof(in->child[0]));
	in->h.n--;
	inner_reindex(in);
}

/*
 * Leaf @l under parent @in at child @slot has few entries: fold it into its
 * left sibling, or its right sibling into it, when the two fit in 3/4 of a
 * leaf.  Frees nothing it cannot; never allocates.
 */
static void leaf_merge(struct fw_index *ix, struct inner *in, uint32_t slot)
{
	struct leaf *a, *b;
	uint32_t at;

	if (slot > 0)
		at = slot - 1;
	else if (slot < in->h.n)
		at = slot;
	else
		return; /* an only child */
	a = in->child[at];
	b = in->child[at + 1];
	if (a->h.n + b->h.n > LEAF_CAP * 3 / 4)
		return;
	fw_leaf_merge(a, b);
	inner_remove(in, at);
	fw_pool_put(&ix->pool, b);
	ix->leaves--;
	reshaped(ix);
}

/*
 * After a leaf merge, walk up the @path: an inner node under a quarter full is
 * merged with a sibling under the same parent (the parent's separator comes
 * down between them) when the two fit in 3/4 of a node.  Never allocates.
 */
static void inner_merge_up(struct fw_index *ix, struct inner **path, uint32_t *slots)
{
	uint32_t d;

	for (d = ix->height - 2; d > 0; d--) {
		struct inner *up = path[d - 1], *a, *b;
		uint32_t slot = slots[d - 1], at;

		if (path[d]->h.n >= INNER_CAP / 4)
			return;
		if (slot > 0)
			at = slot - 1;
		else if (slot < up->h.n)
			at = slot;
		else
			return;
		a = up->child[at];
		b = up->child[at + 1];
		if (a->h.n + b->h.n + 1u > INNER_CAP * 3 / 4)
			return;
		a->s[a->h.n] = up->s[at];
		memcpy(&a->s[a->h.n + 1], b->s, b->h.n * sizeof(b->s[0]));
		memcpy(&a->child[a->h.n + 1], b->child, (b->h.n + 1u) * sizeof(b->child[0]));
		a->h.n = (uint16_t)(a->h.n + b->h.n + 1);
		inner_reindex(a);
		inner_remove(up, at);
		fw_pool_put(&ix->pool, b);
		ix->inners--;
		reshaped(ix);
	}
}

/* A root with one child hands the root to it. */
static void shrink_root(struct fw_index *ix)
{
	while (ix->height > 1 && ((struct inner *)ix->root)->h.n == 0) {
		struct inner *old = ix->root;

		ix->root = old->child[0];
		ix->height--;
		ix->inners--;
		fw_pool_put(&ix->pool, old);
		reshaped(ix);
	}
}

int fw_index_del(struct fw_index *ix, const uint8_t *key, uint8_t klen, struct fw_idx_val *old)
{
	struct ckey k = make_ckey(key, klen);
	uint64_t h = key_hash(&k);
	struct leaf *l = find_leaf_for(ix, &k, h);
	int i = leaf_find(l, &k, h);
	uint32_t n;

	if (i < 0)
		return -ENOENT;
	if (old)
		e_get(&l->e[i], old);
	n = l->h.n - 1;
	if (l->h.sorted) {
		memmove(&l->e[i], &l->e[i + 1], (n - (uint32_t)i) * sizeof(l->e[0]));
		memmove(&l->fp[i], &l->fp[i + 1], n - (uint32_t)i);
		l->h.n = (uint16_t)n;
	} else {
		fw_leaf_remove(l, (uint32_t)i);
	}
	ix->count--;
	if (n < LEAF_LOW && ix->height > 1) {
		struct inner *path[MAX_HEIGHT];
		uint32_t slots[MAX_HEIGHT];

		find_leaf(ix, &k, path, slots, -1);
		leaf_merge(ix, path[ix->height - 2], slots[ix->height - 2]);
		inner_merge_up(ix, path, slots);
		shrink_root(ix);
	}
	return 0;
}

void fw_index_seek(struct fw_index *ix, const uint8_t *key, uint8_t klen, struct fw_index_iter *it)
{
	struct ckey k = make_ckey(key, klen);
	struct leaf *l = find_leaf(ix, &k, NULL, NULL, -1);

	fw_leaf_sort(l);
	it->leaf = l;
	it->pos = fw_leaf_lower(l, &k);
}

bool fw_index_next(struct fw_index_iter *it, const uint8_t **key, uint8_t *klen,
		   struct fw_idx_val *val)
{
	struct leaf *l = it->leaf;

	while (l && it->pos >= l->h.n) {
		l = l->next;
		it->pos = 0;
		if (l)
			fw_leaf_sort(l);
	}
	it->leaf = l;
	if (!l)
		return false;
	*key = l->e[it->pos].key;
	*klen = l->e[it->pos].klen;
	if (val)
		e_get(&l->e[it->pos], val);
	it->pos++;
	return true;
}

size_t fw_index_mem(const struct fw_index *ix)
{
	return fw_pool_bytes(&ix->pool);
}
