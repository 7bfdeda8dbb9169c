// SPDX-License-Identifier: MIT
/* TLP arithmetic; see pcie.h for the rules. */
#include "pcie.h"

#include <stddef.h>

static int is_pow2(unsigned int v)
{
	return v && !(v & (v - 1));
}

const char *kvc_pcie_link_valid(const struct kvc_pcie_link *cfg)
{
	if (cfg->gen < 1 || cfg->gen > 5)
		return "pcie.gen must be 1..5";
	if (!is_pow2(cfg->lanes) || cfg->lanes > 16)
		return "pcie.lanes must be 1, 2, 4, 8 or 16";
	if (!is_pow2(cfg->mps) || cfg->mps < 128 || cfg->mps > 4096)
		return "pcie.mps must be a power of two, 128..4096";
	if (!is_pow2(cfg->mrrs) || cfg->mrrs < 128 || cfg->mrrs > 4096)
		return "pcie.mrrs must be a power of two, 128..4096";
	if (cfg->rcb != 64 && cfg->rcb != 128)
		return "pcie.rcb must be 64 or 128";
	return NULL;
}

/* Payload bytes per second per lane after line encoding. */
static uint64_t lane_rate(unsigned int gen)
{
	static const uint64_t gts[] = { 0, 2500, 5000, 8000, 16000, 32000 }; /* MT/s */
	uint64_t bits = gts[gen] * 1000000ull;

	if (gen <= 2)
		return bits * 8 / 10 / 8;
	return bits * 128 / 130 / 8;
}

uint64_t kvc_pcie_bytes_per_sec(const struct kvc_pcie_link *l)
{
	return lane_rate(l->gen) * l->lanes;
}

void kvc_pcie_mwr_add(const struct kvc_pcie_link *cfg, uint64_t addr, uint64_t len,
		      struct kvc_pcie_cost *acc)
{
	uint64_t head, tlps;

	if (!len)
		return;
	/* A write TLP may not cross an MPS-aligned boundary of its payload
	 * size: one TLP up to the first boundary, then one per MPS started
	 * (counted, not walked: a 4 KiB page is 16 TLPs of 256 B). */
	head = cfg->mps - addr % cfg->mps;
	tlps = head >= len ? 1 : 1 + (len - head + cfg->mps - 1) / cfg->mps;
	acc->tlps[KVC_PCIE_UP] += (uint32_t)tlps;
	acc->bytes[KVC_PCIE_UP] += (uint32_t)(tlps * KVC_TLP_MWR_HDR + len);
}

struct kvc_pcie_cost kvc_pcie_mwr(const struct kvc_pcie_link *cfg, uint64_t addr, uint64_t len)
{
	struct kvc_pcie_cost c = { { 0, 0 }, { 0, 0 } };

	kvc_pcie_mwr_add(cfg, addr, len, &c);
	return c;
}

struct kvc_pcie_cost kvc_pcie_host_mwr(const struct kvc_pcie_link *cfg, uint64_t len)
{
	struct kvc_pcie_cost c = kvc_pcie_mwr(cfg, 0, len);

	c.tlps[KVC_PCIE_DOWN] = c.tlps[KVC_PCIE_UP];
	c.bytes[KVC_PCIE_DOWN] = c.bytes[KVC_PCIE_UP];
	c.tlps[KVC_PCIE_UP] = 0;
	c.bytes[KVC_PCIE_UP] = 0;
	return c;
}

/* Completions for one read request of @len bytes at @addr. */
static void add_completions(const struct kvc_pcie_link *cfg, uint64_t addr, uint64_t len,
			    struct kvc_pcie_cost *c)
{
	while (len) {
		uint64_t n;

		if (len <= cfg->mps) {
			n = len;
		} else {
			/* Largest chunk <= MPS that ends on an RCB boundary. */
			uint64_t end = (addr + cfg->mps) / cfg->rcb * cfg->rcb;

			n = end > addr ? end - addr : len;
		}
		c->tlps[KVC_PCIE_DOWN]++;
		c->bytes[KVC_PCIE_DOWN] += (uint32_t)(KVC_TLP_CPLD_HDR + n);
		addr += n;
		len -= n;
	}
}

void kvc_pcie_mrd_add(const struct kvc_pcie_link *cfg, uint64_t addr, uint64_t len,
		      struct kvc_pcie_cost *acc)
{
	while (len) {
		/* A read request may not cross a 4 KiB address boundary. */
		uint64_t room = 4096 - (addr % 4096);
		uint64_t n = len < cfg->mrrs ? len : cfg->mrrs;

		if (n > room)
			n = room;
		acc->tlps[KVC_PCIE_UP]++;
		acc->bytes[KVC_PCIE_UP] += KVC_TLP_MRD_HDR;
		add_completions(cfg, addr, n, acc);
		addr += n;
		len -= n;
	}
}

struct kvc_pcie_cost kvc_pcie_mrd(const struct kvc_pcie_link *cfg, uint64_t addr, uint64_t len)
{
	struct kvc_pcie_cost c = { { 0, 0 }, { 0, 0 } };

	kvc_pcie_mrd_add(cfg, addr, len, &c);
	return c;
}
