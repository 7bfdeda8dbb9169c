/* SPDX-License-Identifier: MIT */
/*
 * Objects of one size (the index's 4 KiB nodes) carved from large regions
 * the host environment maps (struct fw_hal's mem_map: nvkv-emu backs them
 * with huge pages, so a random walk over the nodes misses the TLB far less
 * often).  Without a mem_map every object is its own fw_calloc().
 *
 * Objects come zeroed.  A freed object is kept for the next fw_pool_get();
 * regions go back only at fw_pool_fini().  Every fw_pool_get() counts as an
 * allocation for the tests' failure injection (alloc.h), whether or not it
 * maps a region.
 */
#ifndef FW_POOL_H
#define FW_POOL_H

#include <stddef.h>
#include <stdint.h>

struct fw_pool {
	void *(*map)(void *ctx, size_t len);
	void (*unmap)(void *ctx, void *p, size_t len);
	void *ctx;
	size_t obj;	/* object size */
	size_t region;	/* region size: a multiple of obj */
	void **regions; /* every region mapped */
	size_t nregions, cap;
	uint8_t *bump;	  /* the last region's objects never handed out */
	size_t left;	  /* bytes from bump to that region's end */
	void *free;	  /* freed objects, linked through their first word */
	uint64_t objects; /* handed out and not freed */
};

/* @map NULL: objects from fw_calloc(). */
void fw_pool_init(struct fw_pool *p, size_t obj, size_t region, void *(*map)(void *ctx, size_t len),
		  void (*unmap)(void *ctx, void *p, size_t len), void *ctx);
void *fw_pool_get(struct fw_pool *p);
void fw_pool_put(struct fw_pool *p, void *o);
/* Gives every region back (objects still in use included); then re-init. */
void fw_pool_fini(struct fw_pool *p);
/* Memory the pool holds: its regions, or its objects without a mem_map. */
size_t fw_pool_bytes(const struct fw_pool *p);
/* Are objects carved from regions (fini frees them all at once)? */
static inline int fw_pool_regions(const struct fw_pool *p)
{
	return p->map != NULL;
}

#endif /* FW_POOL_H */
