// SPDX-License-Identifier: MIT
/*
 * Value-transfer policy: which commands carry a Store.  Fixed methods map
 * directly to a command form; "adaptive" follows the BandSlim prototype
 * (piggyback up to a threshold, PRP above it, and for values over 4 KiB whole
 * pages by PRP with the tail piggybacked); "adaptive-cost" models the PCIe
 * bytes of every form the device and backend allow and picks the cheapest
 * (PRP, BandSlim, ByteExpress; SGL is a fixed choice only).  "sgl" names the
 * value's buffer with one SGL Data Block of its exact length.
 * On a fabric (NVMe/TCP) a command capsule carries its data itself: one
 * capsule with the value in it (or one R2T round above the in-capsule size)
 * costs less on the wire, and in modeled PCIe bytes, than a BandSlim chain
 * of 64-byte commands each with its own capsule and response.  There
 * "adaptive" sends every value as one command whose data the transport
 * carries (SGL when the device takes byte-aligned SGLs, else PRP: the
 * initiator turns either into the fabric's data block), and "adaptive-cost"
 * counts SGL among its candidates.
 * A form that cannot fit in the queue falls back to PRP (or, asked to be
 * strict, is refused); nvkv_xfer_why() says why.
 */
#include <stdio.h>

#include "nvkv_internal.h"

static struct nvkv_plan prp_plan(uint32_t vlen)
{
	struct nvkv_plan p = { NVKV_XFER_PRP, KVC_KV_STORE, 1, 1, vlen };

	return p;
}

/* BandSlim form @opc, if its commands fit in one queue's worth of slots. */
static bool bs_plan(const struct nvkv_xfer_ctx *x, uint8_t opc, uint8_t klen, uint32_t vlen,
		    struct nvkv_plan *p)
{
	struct kvc_bs_store s = { .opc = opc, .klen = klen, .size = vlen };
	uint32_t n;

	if (x->narrow)
		s.opts = KVC_BS_OPT_NARROW;
	n = kvc_bs_cmd_count(&s);
	if (n > x->qsize - 1)
		return false;
	p->method = NVKV_XFER_BANDSLIM;
	p->opc = opc;
	p->slots = p->cmds = n;
	p->prp_len = kvc_bs_prp_len(opc, vlen);
	return true;
}

static bool bx_plan(const struct nvkv_xfer_ctx *x, uint32_t vlen, struct nvkv_plan *p)
{
	uint32_t chunks = kvc_bx_chunks(vlen);

	/* The device refuses more chunks than size - 2 (cmdset/bexp.h). */
	if (!x->byteexpress || chunks > x->qsize - 2)
		return false;
	p->method = NVKV_XFER_BYTEEXPRESS;
	p->opc = KVC_BX_STORE;
	p->slots = 1 + chunks;
	p->cmds = 1;
	p->prp_len = 0;
	return true;
}

static bool sgl_plan(const struct nvkv_xfer_ctx *x, uint32_t vlen, struct nvkv_plan *p)
{
	if (!x->sgl)
		return false;
	*p = (struct nvkv_plan){ NVKV_XFER_SGL, KVC_KV_STORE, 1, 1, vlen };
	return true;
}

static struct nvkv_plan adaptive(const struct nvkv_xfer_ctx *x, uint8_t klen, uint32_t vlen)
{
	struct nvkv_plan p;

	if (x->fabric)
		return sgl_plan(x, vlen, &p) ? p : prp_plan(vlen);
	if (vlen <= x->threshold && bs_plan(x, KVC_BS_STORE, klen, vlen, &p))
		return p;
	if (vlen > NVKV_PAGE && vlen % NVKV_PAGE && bs_plan(x, KVC_BS_STORE_PRP, klen, vlen, &p))
		return p;
	return prp_plan(vlen);
}

static struct nvkv_plan cheapest(const struct nvkv_xfer_ctx *x, uint8_t klen, uint32_t vlen)
{
	struct nvkv_plan best = prp_plan(vlen), c;
	uint64_t best_cost = nvkv_xfer_cost(x, &best, klen, vlen), cost;
	unsigned int i;

	for (i = 0; i < 4; i++) {
		bool ok =
			i == 0	 ? bs_plan(x, KVC_BS_STORE, klen, vlen, &c)
			: i == 1 ? vlen >= NVKV_PAGE && bs_plan(x, KVC_BS_STORE_PRP, klen, vlen, &c)
			: i == 2 ? bx_plan(x, vlen, &c)
				 : x->fabric && sgl_plan(x, vlen, &c);

		if (!ok)
			continue;
		cost = nvkv_xfer_cost(x, &c, klen, vlen);
		if (cost < best_cost || (cost == best_cost && c.slots < best.slots)) {
			best = c;
			best_cost = cost;
		}
	}
	return best;
}

struct nvkv_plan nvkv_xfer_plan(const struct nvkv_xfer_ctx *x, enum nvkv_xfer m, uint8_t klen,
				uint32_t vlen)
{
	struct nvkv_plan p;

	switch (m) {
	case NVKV_XFER_PRP:
		return prp_plan(vlen);
	case NVKV_XFER_BANDSLIM:
		if (bs_plan(x, KVC_BS_STORE, klen, vlen, &p) ||
		    (vlen > NVKV_PAGE && bs_plan(x, KVC_BS_STORE_PRP, klen, vlen, &p)))
			return p;
		return prp_plan(vlen);
	case NVKV_XFER_BYTEEXPRESS:
		return bx_plan(x, vlen, &p) ? p : prp_plan(vlen);
	case NVKV_XFER_SGL:
		return sgl_plan(x, vlen, &p) ? p : prp_plan(vlen);
	case NVKV_XFER_ADAPTIVE_COST:
		return cheapest(x, klen, vlen);
	case NVKV_XFER_ADAPTIVE:
	default:
		return adaptive(x, klen, vlen);
	}
}

/* The largest value in [0, @hi] that @m sends by itself (plans are monotonic
 * in the value size below 4 KiB, where only queue room limits them). */
static uint32_t largest_fit(const struct nvkv_xfer_ctx *x, enum nvkv_xfer m, uint8_t klen,
			    uint32_t hi)
{
	uint32_t lo = 0;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo + 1) / 2;

		if (nvkv_xfer_plan(x, m, klen, mid).method == m)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

const char *nvkv_xfer_why(const struct nvkv_xfer_ctx *x, enum nvkv_xfer m, uint8_t klen,
			  uint32_t vlen, char *buf, size_t len)
{
	struct nvkv_plan p = nvkv_xfer_plan(x, m, klen, vlen);

	*buf = 0;
	if (p.method == m)
		return buf;
	switch (m) {
	case NVKV_XFER_BYTEEXPRESS:
		if (!x->byteexpress)
			snprintf(buf, len, "the backend cannot append payloads to the SQ");
		else
			snprintf(buf, len,
				 "value > %u B: its 64 B chunks do not fit a %u-entry queue",
				 largest_fit(x, m, klen, vlen), x->qsize);
		return buf;
	case NVKV_XFER_SGL:
		snprintf(buf, len, "the device does not accept byte-aligned SGL data blocks");
		return buf;
	case NVKV_XFER_BANDSLIM:
		snprintf(buf, len,
			 "value > %u B: its transfer commands do not fit a %u-entry queue",
			 largest_fit(x, m, klen, vlen < NVKV_PAGE ? vlen : NVKV_PAGE), x->qsize);
		return buf;
	default: /* the adaptive policies choose per value by design */
		snprintf(buf, len, "chosen by the %s policy",
			 m == NVKV_XFER_ADAPTIVE_COST ? "adaptive-cost" : "adaptive");
		return buf;
	}
}

/*
 * The link traffic of one Store sent alone, as the device's model counts it
 * (DESIGN.md section 5): SQ doorbell, fetch of its SQ slots in one burst,
 * PRP list and data reads (an SGL Data Block in the SQE: no list, and the
 * exact bytes whatever the device's PRP granularity), one CQE (and an
 * interrupt) per command, CQ doorbell.
 */
uint64_t nvkv_xfer_cost(const struct nvkv_xfer_ctx *x, const struct nvkv_plan *p, uint8_t klen,
			uint32_t vlen)
{
	const struct kvc_pcie_link *l = x->link;
	struct kvc_pcie_cost c = kvc_pcie_host_mwr(l, 4);
	uint32_t i;

	(void)klen;
	(void)vlen;
	kvc_pcie_cost_add(&c, kvc_pcie_host_mwr(l, 4));
	kvc_pcie_cost_add(&c, kvc_pcie_mrd(l, 0, (uint64_t)p->slots * KVC_SQE_SIZE));
	if (p->method == NVKV_XFER_SGL) {
		if (p->prp_len)
			kvc_pcie_cost_add(&c, kvc_pcie_mrd(l, 0, p->prp_len));
	} else if (p->prp_len) {
		uint32_t pages = (p->prp_len + NVKV_PAGE - 1) / NVKV_PAGE;

		if (pages > 2)
			kvc_pcie_cost_add(&c, kvc_pcie_mrd(l, 0, (uint64_t)(pages - 1) * 8));
		kvc_pcie_cost_add(
			&c,
			kvc_pcie_mrd(l, 0, x->dma_page ? (uint64_t)pages * NVKV_PAGE : p->prp_len));
	}
	for (i = 0; i < p->cmds; i++) {
		kvc_pcie_cost_add(&c, kvc_pcie_mwr(l, 0, KVC_CQE_SIZE));
		if (x->interrupts)
			kvc_pcie_cost_add(&c, kvc_pcie_mwr(l, 0, 4));
	}
	return kvc_pcie_cost_bytes(c);
}
