// SPDX-License-Identifier: MIT
/*
 * B+tree index.  Leaves hold sorted 32-byte entries and are chained for
 * ordered scans; inner nodes hold separator keys.  Deletion removes entries
 * without rebalancing (an emptied leaf stays linked and is reused by later
 * inserts into its key range), which keeps deletes cheap and iteration
 * correct.
 */
#include "index.h"

#include <errno.h>
#include <string.h>

#include "alloc.h"

#define NODE_SIZE 4096
#define MAX_HEIGHT 24

/* A key in comparable form: big-endian halves, then the length. */
struct ckey {
	uint64_t hi, lo;
	uint8_t len;
};

struct entry {
	uint8_t key[FW_KEY_MAX]; /* zero padded */
	uint64_t loc;
	uint32_t klen_vlen; /* klen << 24 | vlen */
	uint32_t crc;
};
_Static_assert(sizeof(struct entry) == 32, "index entry is 32 bytes");

struct node_hdr {
	uint16_t n;
	uint8_t leaf;
};

#define LEAF_CAP ((NODE_SIZE - 16) / sizeof(struct entry))
struct leaf {
	struct node_hdr h;
	struct leaf *next;
	struct entry e[LEAF_CAP];
};

struct sep {
	uint8_t key[FW_KEY_MAX];
	uint8_t klen;
};

#define INNER_CAP ((NODE_SIZE - 16) / (sizeof(struct sep) + sizeof(void *)) - 1)
struct inner {
	struct node_hdr h;
	struct sep s[INNER_CAP]; /* s[i] separates child[i] and child[i + 1] */
	void *child[INNER_CAP + 1];
};

static uint64_t load_be64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return __builtin_bswap64(v);
}

static struct ckey make_ckey(const uint8_t *key, uint8_t klen)
{
	uint8_t pad[FW_KEY_MAX] = { 0 };
	struct ckey k;

	if (klen) /* key may be NULL for "from the first key" */
		memcpy(pad, key, klen);
	k.hi = load_be64(pad);
	k.lo = load_be64(pad + 8);
	k.len = klen;
	return k;
}

/* <0, 0, >0 as @k is below, equal to, above the stored key @b (padded). */
static int cmp(const struct ckey *k, const uint8_t *b, uint8_t blen)
{
	uint64_t hi = load_be64(b), lo;

	if (k->hi != hi)
		return k->hi < hi ? -1 : 1;
	lo = load_be64(b + 8);
	if (k->lo != lo)
		return k->lo < lo ? -1 : 1;
	return (int)k->len - (int)blen;
}

static uint8_t e_klen(const struct entry *e)
{
	return (uint8_t)(e->klen_vlen >> 24);
}

static void e_get(const struct entry *e, struct fw_idx_val *v)
{
	v->loc = e->loc;
	v->vlen = e->klen_vlen & 0xffffff;
	v->crc = e->crc;
}

static void e_set(struct entry *e, const uint8_t *key, uint8_t klen, const struct fw_idx_val *v)
{
	memset(e->key, 0, sizeof(e->key));
	memcpy(e->key, key, klen);
	e->loc = v->loc;
	e->klen_vlen = (uint32_t)klen << 24 | (v->vlen & 0xffffff);
	e->crc = v->crc;
}

/*
 * First entry >= key.  With random keys the leaf is rarely in cache and each
 * probe is a miss; prefetching both possible next probes overlaps them.
 */
static uint32_t leaf_lower(const struct leaf *l, const struct ckey *k)
{
	uint32_t lo = 0, hi = l->h.n;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		__builtin_prefetch(&l->e[(lo + mid) / 2]);
		__builtin_prefetch(&l->e[(mid + 1 + hi) / 2]);
		if (cmp(k, l->e[mid].key, e_klen(&l->e[mid])) > 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Child index for @k: first separator > k. */
static uint32_t inner_child(const struct inner *in, const struct ckey *k)
{
	uint32_t lo = 0, hi = in->h.n;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		__builtin_prefetch(&in->s[(lo + mid) / 2]);
		__builtin_prefetch(&in->s[(mid + 1 + hi) / 2]);
		if (cmp(k, in->s[mid].key, in->s[mid].klen) >= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct leaf *new_leaf(struct fw_index *ix)
{
	struct leaf *l = fw_calloc(1, sizeof(*l));

	if (l) {
		l->h.leaf = 1;
		ix->leaves++;
	}
	return l;
}

static struct inner *new_inner(struct fw_index *ix)
{
	struct inner *in = fw_calloc(1, sizeof(*in));

	if (in)
		ix->inners++;
	return in;
}

int fw_index_init(struct fw_index *ix)
{
	memset(ix, 0, sizeof(*ix));
	ix->root = new_leaf(ix);
	ix->height = 1;
	return ix->root ? 0 : -ENOMEM;
}

static void free_node(void *n, uint32_t height)
{
	if (height > 1) {
		struct inner *in = n;
		uint32_t i;

		for (i = 0; i <= in->h.n; i++)
			free_node(in->child[i], height - 1);
	}
	fw_free(n);
}

void fw_index_fini(struct fw_index *ix)
{
	if (ix->root)
		free_node(ix->root, ix->height);
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
	b[0] = load_be64(s->key);
	b[1] = load_be64(s->key + 8);
	*blen = s->klen;
}

static bool in_finger(const struct fw_index_finger *f, const struct ckey *k)
{
	return f->leaf && (!f->has_lo || cmp_bound(k, f->lo, f->lo_len) >= 0) &&
	       (!f->has_hi || cmp_bound(k, f->hi, f->hi_len) < 0);
}

/*
 * Descend to the leaf for @k, recording the path when asked.  Without a path
 * the finger (last leaf and its bounds) answers sequential access without a
 * descent; every descent refreshes it.
 */
static struct leaf *find_leaf(struct fw_index *ix, const struct ckey *k, struct inner **path,
			      uint32_t *slots)
{
	struct fw_index_finger *f = &ix->finger;
	void *n = ix->root;
	uint32_t d;

	if (!path && in_finger(f, k))
		return f->leaf;
	f->has_lo = f->has_hi = false;
	for (d = 0; d + 1 < ix->height; d++) {
		struct inner *in = n;
		uint32_t c = inner_child(in, k);

		if (path) {
			path[d] = in;
			slots[d] = c;
		}
		if (c > 0) {
			set_bound(f->lo, &f->lo_len, &in->s[c - 1]);
			f->has_lo = true;
		}
		if (c < in->h.n) {
			set_bound(f->hi, &f->hi_len, &in->s[c]);
			f->has_hi = true;
		}
		n = in->child[c];
	}
	f->leaf = n;
	return n;
}

static struct entry *lookup(struct fw_index *ix, const uint8_t *key, uint8_t klen)
{
	struct ckey k = make_ckey(key, klen);
	struct leaf *l = find_leaf(ix, &k, NULL, NULL);
	uint32_t pos = leaf_lower(l, &k);

	if (pos < l->h.n && cmp(&k, l->e[pos].key, e_klen(&l->e[pos])) == 0)
		return &l->e[pos];
	return NULL;
}

bool fw_index_get(struct fw_index *ix, const uint8_t *key, uint8_t klen, struct fw_idx_val *out)
{
	struct entry *e = lookup(ix, key, klen);

	if (!e)
		return false;
	e_get(e, out);
	return true;
}

int fw_index_update(struct fw_index *ix, const uint8_t *key, uint8_t klen,
		    const struct fw_idx_val *val)
{
	struct entry *e = lookup(ix, key, klen);

	if (!e)
		return -ENOENT;
	e_set(e, key, klen, val);
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
}

/*
 * The nodes one leaf split needs, allocated before the tree is touched so that
 * an allocation failure leaves it exactly as it was: the new leaf, one inner
 * node per full ancestor that must split, and a new root when they all are.
 */
struct split_nodes {
	struct leaf *leaf;
	struct inner *inner[MAX_HEIGHT];
	uint32_t n_inner, used;
};

static void split_release(struct fw_index *ix, struct split_nodes *sn)
{
	while (sn->n_inner > 0) {
		fw_free(sn->inner[--sn->n_inner]);
		ix->inners--;
	}
	if (sn->leaf) {
		fw_free(sn->leaf);
		ix->leaves--;
	}
}

static int split_reserve(struct fw_index *ix, struct inner **path, uint32_t depth,
			 struct split_nodes *sn)
{
	uint32_t need = 0;

	while (depth > 0 && path[depth - 1]->h.n == INNER_CAP) {
		need++;
		depth--;
	}
	if (depth == 0)
		need++; /* the root splits too (or is the leaf): a new root above it */
	memset(sn, 0, sizeof(*sn));
	sn->leaf = new_leaf(ix);
	if (!sn->leaf)
		return -ENOMEM;
	while (sn->n_inner < need) {
		sn->inner[sn->n_inner] = new_inner(ix);
		if (!sn->inner[sn->n_inner]) {
			split_release(ix, sn);
			return -ENOMEM;
		}
		sn->n_inner++;
	}
	return 0;
}

static struct inner *split_take(struct split_nodes *sn)
{
	return sn->inner[sn->used++];
}

/* Split full @in around its middle into @r; the middle separator goes up in *@up. */
static void inner_split(struct inner *in, struct inner *r, struct sep *up)
{
	uint32_t mid = in->h.n / 2;

	*up = in->s[mid];
	r->h.n = (uint16_t)(in->h.n - mid - 1);
	memcpy(r->s, &in->s[mid + 1], r->h.n * sizeof(r->s[0]));
	memcpy(r->child, &in->child[mid + 1], (r->h.n + 1u) * sizeof(r->child[0]));
	in->h.n = (uint16_t)mid;
}

/*
 * Propagate a new right sibling @right with separator @s up the @path, taking
 * the inner nodes split_reserve() set aside for exactly this walk.
 */
static void grow_parents(struct fw_index *ix, struct inner **path, uint32_t *slots, uint32_t depth,
			 struct sep s, void *right, struct split_nodes *sn)
{
	struct inner *root;

	while (depth > 0) {
		struct inner *in = path[depth - 1];
		uint32_t slot = slots[depth - 1];
		struct inner *r;
		struct sep up;

		if (in->h.n < INNER_CAP) {
			inner_insert(in, slot, &s, right);
			return;
		}
		r = split_take(sn);
		inner_split(in, r, &up);
		if (slot <= in->h.n)
			inner_insert(in, slot, &s, right);
		else
			inner_insert(r, slot - in->h.n - 1, &s, right);
		s = up;
		right = r;
		depth--;
	}
	root = split_take(sn);
	root->h.n = 1;
	root->s[0] = s;
	root->child[0] = ix->root;
	root->child[1] = right;
	ix->root = root;
	ix->height++;
}

/* Split full leaf @l, insert @ne at @pos; all or nothing (-ENOMEM, tree unchanged). */
static int leaf_split_insert(struct fw_index *ix, struct leaf *l, uint32_t pos,
			     const struct entry *ne, struct inner **path, uint32_t *slots)
{
	/* Appending at the right end (sequential keys): keep the left leaf full. */
	uint32_t keep = (pos == l->h.n && !l->next) ? l->h.n : l->h.n / 2;
	struct split_nodes sn;
	struct leaf *r;
	struct sep s;
	int rc;

	rc = split_reserve(ix, path, ix->height - 1, &sn);
	if (rc)
		return rc;
	r = sn.leaf;
	r->h.n = (uint16_t)(l->h.n - keep);
	memcpy(r->e, &l->e[keep], r->h.n * sizeof(r->e[0]));
	l->h.n = (uint16_t)keep;
	r->next = l->next;
	l->next = r;
	if (pos <= keep && !(pos == keep && keep == LEAF_CAP)) {
		memmove(&l->e[pos + 1], &l->e[pos], (l->h.n - pos) * sizeof(l->e[0]));
		l->e[pos] = *ne;
		l->h.n++;
	} else {
		pos -= keep;
		memmove(&r->e[pos + 1], &r->e[pos], (r->h.n - pos) * sizeof(r->e[0]));
		r->e[pos] = *ne;
		r->h.n++;
	}
	memcpy(s.key, r->e[0].key, FW_KEY_MAX);
	s.klen = e_klen(&r->e[0]);
	grow_parents(ix, path, slots, ix->height - 1, s, r, &sn);
	return 0;
}

int fw_index_put(struct fw_index *ix, const uint8_t *key, uint8_t klen,
		 const struct fw_idx_val *val, struct fw_idx_val *old)
{
	struct inner *path[MAX_HEIGHT];
	uint32_t slots[MAX_HEIGHT];
	struct ckey k = make_ckey(key, klen);
	struct leaf *l = find_leaf(ix, &k, NULL, NULL);
	uint32_t pos = leaf_lower(l, &k);
	struct entry ne;
	int rc;

	if (pos < l->h.n && cmp(&k, l->e[pos].key, e_klen(&l->e[pos])) == 0) {
		if (old)
			e_get(&l->e[pos], old);
		e_set(&l->e[pos], key, klen, val);
		return 1;
	}
	e_set(&ne, key, klen, val);
	if (l->h.n < LEAF_CAP) {
		memmove(&l->e[pos + 1], &l->e[pos], (l->h.n - pos) * sizeof(l->e[0]));
		l->e[pos] = ne;
		l->h.n++;
	} else {
		if (ix->height >= MAX_HEIGHT)
			return -ENOMEM;
		l = find_leaf(ix, &k, path, slots); /* again, for the path */
		ix->finger.leaf = NULL;		    /* separators are about to change */
		rc = leaf_split_insert(ix, l, pos, &ne, path, slots);
		if (rc)
			return rc;
	}
	ix->count++;
	return 0;
}

int fw_index_del(struct fw_index *ix, const uint8_t *key, uint8_t klen, struct fw_idx_val *old)
{
	struct ckey k = make_ckey(key, klen);
	struct leaf *l = find_leaf(ix, &k, NULL, NULL);
	uint32_t pos = leaf_lower(l, &k);

	if (pos >= l->h.n || cmp(&k, l->e[pos].key, e_klen(&l->e[pos])) != 0)
		return -ENOENT;
	if (old)
		e_get(&l->e[pos], old);
	memmove(&l->e[pos], &l->e[pos + 1], (l->h.n - pos - 1) * sizeof(l->e[0]));
	l->h.n--;
	ix->count--;
	return 0;
}

void fw_index_seek(struct fw_index *ix, const uint8_t *key, uint8_t klen, struct fw_index_iter *it)
{
	struct ckey k = make_ckey(key, klen);
	struct leaf *l = find_leaf(ix, &k, NULL, NULL);

	it->leaf = l;
	it->pos = leaf_lower(l, &k);
}

bool fw_index_next(struct fw_index_iter *it, const uint8_t **key, uint8_t *klen,
		   struct fw_idx_val *val)
{
	struct leaf *l = it->leaf;

	while (l && it->pos >= l->h.n) {
		l = l->next;
		it->pos = 0;
	}
	it->leaf = l;
	if (!l)
		return false;
	*key = l->e[it->pos].key;
	*klen = e_klen(&l->e[it->pos]);
	if (val)
		e_get(&l->e[it->pos], val);
	it->pos++;
	return true;
}

size_t fw_index_mem(const struct fw_index *ix)
{
	return ix->leaves * sizeof(struct leaf) + ix->inners * sizeof(struct inner);
}
