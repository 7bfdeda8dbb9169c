// SPDX-License-Identifier: MIT
/*
 * NVMe/TCP initiator: the local host memory behind a command's data pointer.
 * The driver names its buffers by PRPs (or one contiguous SGL buffer) in the
 * transport's host memory, as for a PCIe device; this walks them (PRP lists
 * included) to gather a write's bytes into capsules and H2CData, and to
 * scatter C2HData into the buffers.
 */
#include <errno.h>
#include <string.h>

#include "tcp_internal.h"

static uint8_t *hmem(struct nvkv_tcp *t, uint64_t addr, uint32_t n)
{
	if (addr >= t->t.mem_size || n > t->t.mem_size - addr)
		return NULL;
	return t->t.mem + addr;
}

/* Address of byte @off of a PRP-described buffer, and bytes left in its page. */
static uint64_t prp_addr(struct nvkv_tcp *t, const struct tcp_cmd *c, uint32_t off,
			 uint32_t *in_page)
{
	uint32_t first = (uint32_t)(c->addr % NVKV_PAGE), k = (first + off) / NVKV_PAGE;
	uint32_t total = (first + c->len + NVKV_PAGE - 1) / NVKV_PAGE, e, rem;
	uint64_t list, page;
	uint8_t *p;

	*in_page = NVKV_PAGE - (first + off) % NVKV_PAGE;
	if (k == 0)
		return c->addr + off;
	if (total == 2) {
		page = c->prp2;
	} else {
		e = k - 1;
		rem = total - 1;
		list = c->prp2;
		while (e >= NVKV_PAGE / 8 - 1 && rem > NVKV_PAGE / 8) {
			p = hmem(t, list + NVKV_PAGE - 8, 8);
			if (!p)
				return UINT64_MAX;
			list = kvc_get_le64(p);
			e -= NVKV_PAGE / 8 - 1;
			rem -= NVKV_PAGE / 8 - 1;
		}
		p = hmem(t, list + (uint64_t)e * 8, 8);
		if (!p)
			return UINT64_MAX;
		page = kvc_get_le64(p);
	}
	return (page & ~(uint64_t)(NVKV_PAGE - 1)) + (first + off) % NVKV_PAGE;
}

/* Copy @n bytes at offset @off of a command's buffer to (@to_host) or from @buf. */
int tcp_hcopy(struct nvkv_tcp *t, const struct tcp_cmd *c, uint32_t off, uint8_t *buf, uint32_t n,
	      bool to_host)
{
	if (off > c->len || n > c->len - off)
		return -ERANGE;
	while (n) {
		uint32_t chunk = n, in_page;
		uint64_t a;
		uint8_t *h;

		if (c->sgl) {
			a = c->addr + off;
		} else {
			a = prp_addr(t, c, off, &in_page);
			if (chunk > in_page)
				chunk = in_page;
		}
		h = a == UINT64_MAX ? NULL : hmem(t, a, chunk);
		if (!h)
			return -EFAULT;
		if (to_host)
			memcpy(h, buf, chunk);
		else
			memcpy(buf, h, chunk);
		buf += chunk;
		off += chunk;
		n -= chunk;
	}
	return 0;
}
