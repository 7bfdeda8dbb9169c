/* SPDX-License-Identifier: MIT */
/*
 * kvaccel's private declarations: the allocation wrapper, the metadata
 * manager's key set (meta.c) and the store's state shared by kvaccel.c
 * (controller, rollback, iterator) and detect.c (detector thread).
 */
#ifndef KVACCEL_INTERNAL_H
#define KVACCEL_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kvaccel/kvaccel.h"

/* Every allocation of the component (tests may wrap these). */
void *kva_calloc(size_t n, size_t size);
void kva_free(void *p);

#define KVA_MAX_KEY 16

/*
 * The metadata manager: the set of keys (1..16 bytes) whose newest version is
 * on the device.  Open addressing, linear probing, backward-shift deletion.
 * Not locked: the caller serializes (struct kva's meta_lock).
 */
struct kva_meta_ent {
	uint8_t len; /* 0: empty slot */
	uint8_t key[KVA_MAX_KEY];
};

struct kva_meta {
	struct kva_meta_ent *slots;
	size_t cap; /* power of two */
	size_t n;
};

int kva_meta_init(struct kva_meta *m);
void kva_meta_destroy(struct kva_meta *m);
bool kva_meta_has(const struct kva_meta *m, const void *key, size_t klen);
/* 0 (also when present), -ENOMEM. */
int kva_meta_add(struct kva_meta *m, const void *key, size_t klen);
/* Whether it was there. */
bool kva_meta_del(struct kva_meta *m, const void *key, size_t klen);
size_t kva_meta_bytes(const struct kva_meta *m);

/* Reads the properties from RocksDB (the default kva_props_fn). */
int kva_rocksdb_props(void *db, struct kva_props *p);

/* @pct percent of @total, without overflow (the guard's space bounds). */
uint64_t kva_pct_of(uint64_t total, uint32_t pct);

#endif /* KVACCEL_INTERNAL_H */
