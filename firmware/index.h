/* SPDX-License-Identifier: MIT */
/*
 * The device's key index: an in-memory B+tree from key (1..16 bytes) to the
 * value's location in the value log, its length and checksum.  Keys are
 * ordered by their bytes, a shorter key before a longer one it is a prefix
 * of (memcmp order), which is the order List returns.  Leaves of 4 KiB hold
 * 131 entries of 30 bytes plus a one-byte fingerprint each, placed by key
 * hash until a scan needs them sorted; see index_leaf.h.  Locations must fit 48
 * bits, value lengths 24 bits.
 *
 * Not thread-safe, not even for lookups (they move the finger) or scans
 * (they sort leaves): the firmware thread owns it.
 */
#ifndef FW_INDEX_H
#define FW_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pool.h"

#define FW_KEY_MAX 16

struct fw_idx_val {
	uint64_t loc;  /* value-log address of the record */
	uint32_t vlen; /* value length, bytes (< 16 MiB) */
	uint32_t crc;  /* checksum of key + value */
};

/* The last leaf visited and the key range its parents give it. */
struct fw_index_finger {
	void *leaf;
	uint64_t lo[2], hi[2]; /* comparable key halves of the bounds */
	uint8_t lo_len, hi_len;
	bool has_lo, has_hi; /* false: unbounded on that side */
};

/*
 * A key fw_index_prefetch() found the leaf of lately, while gen (the index's
 * shape: see fw_index.gen) is unchanged: the operation that follows takes
 * the leaf from here instead of descending again.
 */
struct fw_index_recent {
	uint64_t hi, lo; /* the key in comparable form (index.c) */
	void *leaf;
	uint64_t gen; /* 0: empty */
	int16_t slot; /* where a lookup since found it in the leaf; -1: not known */
	uint8_t len;
};

/* Direct-mapped by key hash; more than a burst's commands prefetched ahead
 * so that few of them evict each other. */
#define FW_INDEX_RECENT 64

struct fw_index {
	void *root;
	struct fw_index_finger finger;
	uint64_t gen; /* changes whenever a key may change leaves or a node is freed */
	struct fw_index_recent recent[FW_INDEX_RECENT];
	uint32_t height; /* 1 = root is a leaf */
	uint64_t count;
	uint64_t leaves;
	uint64_t inners;
	struct fw_pool pool; /* the nodes */
};

struct fw_index_iter {
	void *leaf;
	uint32_t pos;
};

int fw_index_init(struct fw_index *ix);
/* The same with its nodes in regions from @map (struct fw_hal's mem_map:
 * huge pages in nvkv-emu); fw_index_init() is this with NULL hooks. */
int fw_index_init_mem(struct fw_index *ix, void *(*map)(void *ctx, size_t len),
		      void (*unmap)(void *ctx, void *p, size_t len), void *ctx);
void fw_index_fini(struct fw_index *ix);

/**
 * fw_index_get() - look a key up.
 * Return: true and *@out filled when present.
 */
bool fw_index_get(struct fw_index *ix, const uint8_t *key, uint8_t klen, struct fw_idx_val *out);

/**
 * fw_index_prefetch() - request the cache lines a later operation on @key
 * will read (the leaf's head and fingerprints, the key's home slot).  The
 * descent reads the inner nodes; its leaf is remembered (fw_index.recent)
 * so that the operation on @key does not descend again if no leaf split
 * or merged in between, and becomes the finger as a lookup's would.  No
 * key or value changes: called for the commands queued behind the current
 * one, their leaves' misses overlap its work instead of following it.
 * Return: the leaf @key belongs in, for fw_index_peek() while the index is
 * not changed.
 */
const void *fw_index_prefetch(struct fw_index *ix, const uint8_t *key, uint8_t klen);

/**
 * fw_index_prefetch_n() - fw_index_prefetch() for @n keys at once, their
 * leaves into @leaves: the descents go a level at a time for all of them,
 * so their cache misses overlap.  The finger ends where the last key's
 * descent went (keys in the finger do not descend).
 */
#define FW_INDEX_PREFETCH_N 16
void fw_index_prefetch_n(struct fw_index *ix, const uint8_t *const *keys, const uint8_t *klens,
			 uint32_t n, const void **leaves);

/**
 * fw_index_peek() - look @key up in @leaf, which fw_index_prefetch() gave
 * for it with no change to the index since.  Where it finds the key is
 * remembered with the leaf: the operation on @key that follows reads its
 * entry without searching the leaf again.  No key, value or finger changes.
 * Return: true and *@out filled when present.
 */
bool fw_index_peek(struct fw_index *ix, const void *leaf, const uint8_t *key, uint8_t klen,
		   struct fw_idx_val *out);

/**
 * fw_index_put() - insert or replace.
 * @old: when the key existed, receives its previous value (may be NULL).
 *
 * All or nothing: on an error the index is unchanged.
 * Return: 0 inserted, 1 replaced, -ENOMEM (a split could not allocate),
 * -ERANGE (@val->loc >= 2^48 or @val->vlen >= 2^24).
 */
int fw_index_put(struct fw_index *ix, const uint8_t *key, uint8_t klen,
		 const struct fw_idx_val *val, struct fw_idx_val *old);

/* Update the value of an existing key in place.  Return 0, -ENOENT or -ERANGE. */
int fw_index_update(struct fw_index *ix, const uint8_t *key, uint8_t klen,
		    const struct fw_idx_val *val);

/**
 * fw_index_del() - remove a key.  A leaf left under a quarter full merges
 * with a sibling (never allocates).
 * Return: 0 (old value in *@old if not NULL) or -ENOENT.
 */
int fw_index_del(struct fw_index *ix, const uint8_t *key, uint8_t klen, struct fw_idx_val *old);

/* Position @it at the first key >= @key (klen 0: the first key).  Sorts the
 * leaves it reaches (here and in fw_index_next()) if they are not yet. */
void fw_index_seek(struct fw_index *ix, const uint8_t *key, uint8_t klen, struct fw_index_iter *it);

/**
 * fw_index_next() - the key at @it, then advance.
 * @key: set to point at the key bytes inside the tree; valid until the next
 *       modification of the index.
 * Return: false at the end.
 */
bool fw_index_next(struct fw_index_iter *it, const uint8_t **key, uint8_t *klen,
		   struct fw_idx_val *val);

/* Bytes of memory the tree's nodes occupy (4 KiB each; with a mem_map, the
 * regions the pool holds, free nodes and the last region's unused tail
 * included). */
size_t fw_index_mem(const struct fw_index *ix);

#endif /* FW_INDEX_H */
