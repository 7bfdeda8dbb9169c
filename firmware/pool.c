// SPDX-License-Identifier: MIT
/* Fixed-size objects from host-mapped regions (pool.h). */
#include "pool.h"

#include <string.h>

#include "alloc.h"

void fw_pool_init(struct fw_pool *p, size_t obj, size_t region, void *(*map)(void *ctx, size_t len),
		  void (*unmap)(void *ctx, void *p, size_t len), void *ctx)
{
	memset(p, 0, sizeof(*p));
	p->obj = obj;
	p->region = region - region % obj;
	p->map = map && unmap && p->region ? map : NULL;
	p->unmap = p->map ? unmap : NULL;
	p->ctx = ctx;
}

/* Room for one more region in the list, then the region itself. */
static int add_region(struct fw_pool *p)
{
	void *r;

	if (p->nregions == p->cap) {
		size_t ncap = p->cap ? p->cap * 2 : 16;
		void **n = fw_realloc(p->regions, ncap * sizeof(*n));

		if (!n)
			return -1;
		p->regions = n;
		p->cap = ncap;
	}
	r = p->map(p->ctx, p->region);
	if (!r)
		return -1;
	p->regions[p->nregions++] = r;
	p->bump = r; /* fresh mappings read zeros */
	p->left = p->region;
	return 0;
}

void *fw_pool_get(struct fw_pool *p)
{
	void *o;

	if (!p->map) {
		o = fw_calloc(1, p->obj);
		p->objects += o != NULL;
		return o;
	}
	if (fw_alloc_refused())
		return NULL;
	if (p->free) {
		o = p->free;
		memcpy(&p->free, o, sizeof(void *));
		memset(o, 0, p->obj);
	} else {
		if (p->left < p->obj && add_region(p))
			return NULL;
		o = p->bump;
		p->bump += p->obj;
		p->left -= p->obj;
	}
	p->objects++;
	return o;
}

void fw_pool_put(struct fw_pool *p, void *o)
{
	if (!o)
		return;
	p->objects--;
	if (!p->map) {
		fw_free(o);
		return;
	}
	memcpy(o, &p->free, sizeof(void *));
	p->free = o;
}

void fw_pool_fini(struct fw_pool *p)
{
	size_t i;

	for (i = 0; i < p->nregions; i++)
		p->unmap(p->ctx, p->regions[i], p->region);
	fw_free(p->regions);
	p->regions = NULL;
	p->nregions = p->cap = 0;
	p->bump = NULL;
	p->left = 0;
	p->free = NULL;
	p->objects = 0;
}

size_t fw_pool_bytes(const struct fw_pool *p)
{
	return p->map ? p->nregions * p->region : (size_t)p->objects * p->obj;
}
