// SPDX-License-Identifier: MIT
/*
 * The metadata manager's key set: which keys have their newest version on
 * the device.  A flat open-addressing table of 17-byte entries (length +
 * key), kept at most half full; memory per key is therefore between 34 and
 * 68 bytes, reported through kva_meta_bytes().
 */
#include <errno.h>
#include <string.h>

#include "kvaccel/kvaccel_internal.h"

#define META_MIN_CAP 1024

static uint64_t hash(const void *key, size_t klen)
{
	const uint8_t *p = key;
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	size_t i;

	for (i = 0; i < klen; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h ^ (h >> 29);
}

int kva_meta_init(struct kva_meta *m)
{
	m->cap = META_MIN_CAP;
	m->n = 0;
	m->slots = kva_calloc(m->cap, sizeof(*m->slots));
	return m->slots ? 0 : -ENOMEM;
}

void kva_meta_destroy(struct kva_meta *m)
{
	kva_free(m->slots);
	m->slots = NULL;
	m->cap = m->n = 0;
}

static bool ent_is(const struct kva_meta_ent *e, const void *key, size_t klen)
{
	return e->len == klen && !memcmp(e->key, key, klen);
}

/* The slot holding @key, or the empty slot where it would go. */
static size_t find(const struct kva_meta *m, const void *key, size_t klen)
{
	size_t i = hash(key, klen) & (m->cap - 1);

	while (m->slots[i].len && !ent_is(&m->slots[i], key, klen))
		i = (i + 1) & (m->cap - 1);
	return i;
}

bool kva_meta_has(const struct kva_meta *m, const void *key, size_t klen)
{
	if (!klen || klen > KVA_MAX_KEY)
		return false;
	return m->slots[find(m, key, klen)].len != 0;
}

static int grow(struct kva_meta *m)
{
	struct kva_meta old = *m;
	size_t i;

	m->cap = old.cap * 2;
	m->slots = kva_calloc(m->cap, sizeof(*m->slots));
	if (!m->slots) {
		*m = old;
		return -ENOMEM;
	}
	for (i = 0; i < old.cap; i++)
		if (old.slots[i].len)
			m->slots[find(m, old.slots[i].key, old.slots[i].len)] = old.slots[i];
	kva_free(old.slots);
	return 0;
}

int kva_meta_add(struct kva_meta *m, const void *key, size_t klen)
{
	size_t i;

	if (!klen || klen > KVA_MAX_KEY)
		return -EINVAL;
	if ((m->n + 1) * 2 > m->cap && grow(m))
		return -ENOMEM;
	i = find(m, key, klen);
	if (m->slots[i].len)
		return 0;
	m->slots[i].len = (uint8_t)klen;
	memcpy(m->slots[i].key, key, klen);
	m->n++;
	return 0;
}

bool kva_meta_del(struct kva_meta *m, const void *key, size_t klen)
{
	size_t mask = m->cap - 1, i, j, home;

	if (!klen || klen > KVA_MAX_KEY)
		return false;
	i = find(m, key, klen);
	if (!m->slots[i].len)
		return false;
	/* Backward shift: pull later entries of the run into the hole. */
	for (j = (i + 1) & mask; m->slots[j].len; j = (j + 1) & mask) {
		home = hash(m->slots[j].key, m->slots[j].len) & mask;
		/* Move j into i unless its home lies cyclically in (i, j]. */
		if (i <= j ? (home <= i || home > j) : (home <= i && home > j)) {
			m->slots[i] = m->slots[j];
			i = j;
		}
	}
	m->slots[i].len = 0;
	m->n--;
	return true;
}

size_t kva_meta_bytes(const struct kva_meta *m)
{
	return m->cap * sizeof(*m->slots);
}
