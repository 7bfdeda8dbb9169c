/* SPDX-License-Identifier: MIT */
/*
 * The index's leaves (private to index.c and index_leaf.c; the tests reach
 * in).  A leaf keeps its 30-byte entries next to an array of one-byte key
 * fingerprints, in one of two layouts.  Hashed (the usual one under random
 * keys): each entry sits in its key's home slot, computed from the key's
 * hash, or the first free slot after it (linear probing, fingerprint 0 marks
 * a free slot; past its first slots the probe reads eight fingerprints a
 * word, and one probe gives an insert both the answer and the free slot), so
 * a point operation requests the home slot's lines together with the leaf's
 * first lines and usually finds its entry there, one dependent cache miss
 * instead of two; a delete moves the later keys of its probe run back into
 * the gap.  Sorted (packed in key order): what a scan or seek needs; a leaf
 * is sorted the first time a scan reaches it (a flag remembers it), stays
 * sorted while keys arrive in ascending order (sequential keys never hash),
 * and is rehashed when a key arrives out of order.  A full leaf is split
 * around its median (selection, not sorting) into two hashed leaves.
 *
 * The point operations' helpers are inline here (they are the index's hot
 * path); what changes a leaf's layout is in index_leaf.c.
 */
#ifndef FW_INDEX_LEAF_H
#define FW_INDEX_LEAF_H

#include <stdint.h>
#include <string.h>

#include "cmdset/le.h"
#include "index.h"

#define NODE_SIZE 4096
#define LOC_BITS 48
#define VLEN_BITS 24

/* A key in comparable form: big-endian halves, then the length. */
struct ckey {
	uint64_t hi, lo;
	uint8_t len;
};

/* Packed, little-endian value fields: loc 48 bits, vlen 24, crc 32. */
struct entry {
	uint8_t key[FW_KEY_MAX]; /* zero padded */
	uint8_t klen;
	uint8_t val[13];
};
_Static_assert(sizeof(struct entry) == 30, "index entry is 30 bytes");

struct node_hdr {
	uint16_t n;
	uint8_t leaf;
	uint8_t sorted; /* leaf: entries in key order */
};

#define LEAF_HDR 16
#define LEAF_CAP ((NODE_SIZE - LEAF_HDR - 16) / (sizeof(struct entry) + 1))
/* A hashed leaf's probe reads eight fingerprints at once from any slot: the
 * first FP_MIRROR ones are repeated after the last, so a window that runs
 * past the end reads the wrapped slots without a branch. */
#define FP_MIRROR 7
/* Slots a hashed leaf's probe tries one at a time before it reads windows. */
#define PROBE_FIRST 4
#define FP_WORDS ((LEAF_CAP + FP_MIRROR + 7) / 8)
struct leaf {
	struct node_hdr h;
	struct leaf *next;
	uint8_t fp[FP_WORDS * 8]; /* fingerprint of e[i]; see below for the free slots */
	struct entry e[LEAF_CAP];
};
_Static_assert(sizeof(struct leaf) <= NODE_SIZE, "a leaf fits its node");
_Static_assert(LEAF_CAP == 131, "leaf capacity unchanged by the probe window's mirror");

/* Sort keys (with their position in the leaf) by key. */
struct skey {
	struct ckey k;
	uint32_t i;
};

static inline struct ckey make_ckey(const uint8_t *key, uint8_t klen)
{
	uint8_t pad[FW_KEY_MAX] = { 0 };
	struct ckey k;

	if (klen == FW_KEY_MAX) { /* the common case, without a call to memcpy() */
		k.hi = kvc_get_be64(key);
		k.lo = kvc_get_be64(key + 8);
		k.len = klen;
		return k;
	}
	if (klen) /* key may be NULL for "from the first key" */
		memcpy(pad, key, klen);
	k.hi = kvc_get_be64(pad);
	k.lo = kvc_get_be64(pad + 8);
	k.len = klen;
	return k;
}

static inline uint64_t key_hash(const struct ckey *k)
{
	uint64_t h = (k->hi ^ k->len) * 0x9e3779b97f4a7c15ull;

	return (h ^ k->lo) * 0xc2b2ae3d27d4eb4full;
}

/* The fingerprint: the hash's top byte, never 0 (0 marks a free slot of a hashed leaf). */
static inline uint8_t hash_fp(uint64_t h)
{
	uint8_t f = (uint8_t)(h >> 56);

	return f ? f : 1;
}

/* The home slot of a hashed leaf: other bits of the hash than the fingerprint's. */
static inline uint32_t hash_home(uint64_t h)
{
	return (uint32_t)(((h >> 16) & 0xffffffffu) * LEAF_CAP >> 32);
}

/* <0, 0, >0 as @k is below, equal to, above the stored key @b (padded). */
static inline int cmp(const struct ckey *k, const uint8_t *b, uint8_t blen)
{
	uint64_t hi = kvc_get_be64(b), lo;

	if (k->hi != hi)
		return k->hi < hi ? -1 : 1;
	lo = kvc_get_be64(b + 8);
	if (k->lo != lo)
		return k->lo < lo ? -1 : 1;
	return (int)k->len - (int)blen;
}

static inline int cmp_ckey(const struct ckey *a, const struct ckey *b)
{
	if (a->hi != b->hi)
		return a->hi < b->hi ? -1 : 1;
	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	return (int)a->len - (int)b->len;
}

static inline struct ckey e_ckey(const struct entry *e)
{
	struct ckey k = { kvc_get_be64(e->key), kvc_get_be64(e->key + 8), e->klen };

	return k;
}

static inline void e_get(const struct entry *e, struct fw_idx_val *v)
{
	uint64_t a = kvc_get_le64(e->val);	    /* loc | vlen low 16 bits */
	uint64_t b = kvc_get_le64(e->val + 5) >> 8; /* vlen (24) | crc (32) */

	v->loc = a & ((1ull << LOC_BITS) - 1);
	v->vlen = (uint32_t)(b & ((1u << VLEN_BITS) - 1));
	v->crc = (uint32_t)(b >> VLEN_BITS);
}

static inline void e_set_val(struct entry *e, const struct fw_idx_val *v)
{
	uint64_t a = v->loc | (uint64_t)v->vlen << LOC_BITS;
	uint32_t c = v->crc;

	memcpy(e->val, &a, 8); /* loc, then vlen bits 0..15 */
	e->val[8] = (uint8_t)(v->vlen >> 16);
	memcpy(e->val + 9, &c, 4);
}

static inline void e_set(struct entry *e, const uint8_t *key, uint8_t klen,
			 const struct fw_idx_val *v)
{
	if (klen == FW_KEY_MAX) {
		memcpy(e->key, key, FW_KEY_MAX); /* a fixed-size copy: two moves, no call */
	} else {
		memset(e->key, 0, sizeof(e->key));
		memcpy(e->key, key, klen);
	}
	e->klen = klen;
	e_set_val(e, v);
}

/* High bit set exactly in the bytes of @x that are zero (no false positives). */
static inline uint64_t zero_bytes(uint64_t x)
{
	const uint64_t high = 0x8080808080808080ull;

	return ~(((x & ~high) + ~high) | x | ~high);
}

/* The eight fingerprints from slot @i of a hashed leaf on, wrapping past the last slot. */
static inline uint64_t fp_window(const struct leaf *l, uint32_t i)
{
	return kvc_get_le64(&l->fp[i]);
}

/* Set the fingerprint of slot @i of a hashed leaf, and its mirror. */
static inline void fp_set(struct leaf *l, uint32_t i, uint8_t f)
{
	l->fp[i] = f;
	if (i < FP_MIRROR)
		l->fp[LEAF_CAP + i] = f;
}

/* Slot @i + @d, wrapped. */
static inline uint32_t slot_add(uint32_t i, uint32_t d)
{
	i += d;
	return i >= LEAF_CAP ? i - LEAF_CAP : i;
}

/*
 * Position of @k (hash @h) in hashed leaf @l, or -1; then *@gap is the
 * first free slot from the key's home on (where it goes), or -1 if the leaf
 * is full.  Linear probing, eight slots a step: the window's fingerprints
 * matching the key's are candidates, a free slot ends the probe (the key
 * would have been placed there), and only candidates before it count.
 */
static inline int leaf_probe(const struct leaf *l, const struct ckey *k, uint64_t h, int *gap)
{
	uint64_t pat = hash_fp(h) * 0x0101010101010101ull;
	uint32_t i = hash_home(h), steps;

	/*
	 * Most hits sit in the first slots of the run, tried one by one first:
	 * there an entry's address does not wait for the fingerprints, so on a
	 * predicted hit the CPU loads both at once.
	 */
	for (steps = 0; steps < PROBE_FIRST; steps++) {
		uint8_t f = l->fp[i];

		if (!f) {
			*gap = (int)i;
			return -1;
		}
		if (f == hash_fp(h) && cmp(k, l->e[i].key, l->e[i].klen) == 0)
			return (int)i;
		i = slot_add(i, 1);
	}
	for (; steps < LEAF_CAP; steps += 8) {
		uint64_t x = fp_window(l, i), empty = zero_bytes(x), match = zero_bytes(x ^ pat);

		/* Only the candidates before the first free slot count. */
		if (empty)
			match &= (empty & -empty) - 1;
		while (match) {
			uint32_t j = slot_add(i, (uint32_t)__builtin_ctzll(match) / 8);

			match &= match - 1;
			if (cmp(k, l->e[j].key, l->e[j].klen) == 0)
				return (int)j;
		}
		if (empty) {
			*gap = (int)slot_add(i, (uint32_t)__builtin_ctzll(empty) / 8);
			return -1;
		}
		i = slot_add(i, 8);
	}
	*gap = -1;
	return -1;
}

/*
 * Position of @k (hash @h) in leaf @l, or -1.  A hashed leaf is probed from
 * the key's home slot to the first free one; a sorted leaf's fingerprints are
 * matched eight a word.
 */
static inline int leaf_find(const struct leaf *l, const struct ckey *k, uint64_t h)
{
	uint64_t pat = hash_fp(h) * 0x0101010101010101ull;
	uint32_t w, n = l->h.n;
	int gap;

	if (!l->h.sorted)
		return leaf_probe(l, k, h, &gap);
	for (w = 0; w * 8 < n; w++) {
		uint64_t z = zero_bytes(kvc_get_le64(&l->fp[w * 8]) ^ pat);

		while (z) {
			uint32_t i = w * 8 + (uint32_t)__builtin_ctzll(z) / 8;

			z &= z - 1;
			if (i < n && cmp(k, l->e[i].key, l->e[i].klen) == 0)
				return (int)i;
		}
	}
	return -1;
}

/* Put @e (hash @h) in free slot @i of hashed leaf @l. */
static inline void leaf_place_at(struct leaf *l, uint32_t i, const struct entry *e, uint64_t h)
{
	l->e[i] = *e;
	fp_set(l, i, hash_fp(h));
	l->h.n++;
}

/* First entry >= @k in sorted leaf @l. */
uint32_t fw_leaf_lower(const struct leaf *l, const struct ckey *k);
/* Put @e (hash @h, known absent) in the first free slot from its home in hashed leaf @l. */
void fw_leaf_place(struct leaf *l, const struct entry *e, uint64_t h);
/* Remove slot @i of hashed leaf @l. */
void fw_leaf_remove(struct leaf *l, uint32_t i);
/* Make sorted leaf @l hashed (it takes a key out of order). */
void fw_leaf_to_hashed(struct leaf *l);
/* Sort @l in key order, if it is not. */
void fw_leaf_sort(struct leaf *l);
/*
 * Split full leaf @l into @l and @r (a zeroed node that becomes its right
 * sibling), adding @ne (fingerprint @nfp, key @k); @r's smallest key goes to
 * @sep / @sep_len.
 */
void fw_leaf_split(struct leaf *l, struct leaf *r, const struct entry *ne, uint8_t nfp,
		   const struct ckey *k, uint8_t sep[FW_KEY_MAX], uint8_t *sep_len);
/* Move every entry of @b (@a's right sibling) into @a, which has room, and unlink @b. */
void fw_leaf_merge(struct leaf *a, struct leaf *b);

#endif
