// SPDX-License-Identifier: MIT
/* PCIe TLP accounting and link timing; see pcie.h for the rules. */
#include "pcie.h"

#include <stddef.h>
#include <string.h>

static int is_pow2(unsigned int v)
{
	return v && !(v & (v - 1));
}

const char *fw_pcie_cfg_valid(const struct fw_pcie_cfg *cfg)
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

void fw_pcie_init(struct fw_pcie *p, const struct fw_pcie_cfg *cfg)
{
	memset(p, 0, sizeof(*p));
	p->cfg = *cfg;
	p->bytes_per_sec = lane_rate(cfg->gen) * cfg->lanes;
	p->ns_per_byte_q32 =
		(uint64_t)(((unsigned __int128)1000000000ull << 32) / p->bytes_per_sec);
}

struct fw_pcie_cost fw_pcie_mwr_cost(const struct fw_pcie_cfg *cfg, uint64_t addr, uint64_t len)
{
	struct fw_pcie_cost c = { { 0, 0 }, { 0, 0 } };

	/* A write TLP may not cross an MPS-aligned boundary of its payload size. */
	while (len) {
		uint64_t room = cfg->mps - (addr % cfg->mps);
		uint64_t n = len < room ? len : room;

		c.tlps[FW_PCIE_UP]++;
		c.bytes[FW_PCIE_UP] += (uint32_t)(FW_TLP_MWR_HDR + n);
		addr += n;
		len -= n;
	}
	return c;
}

struct fw_pcie_cost fw_pcie_host_mwr_cost(const struct fw_pcie_cfg *cfg, uint64_t len)
{
	struct fw_pcie_cost c = fw_pcie_mwr_cost(cfg, 0, len);

	c.tlps[FW_PCIE_DOWN] = c.tlps[FW_PCIE_UP];
	c.bytes[FW_PCIE_DOWN] = c.bytes[FW_PCIE_UP];
	c.tlps[FW_PCIE_UP] = 0;
	c.bytes[FW_PCIE_UP] = 0;
	return c;
}

/* Completions for one read request of @len bytes at @addr. */
static void add_completions(const struct fw_pcie_cfg *cfg, uint64_t addr, uint64_t len,
			    struct fw_pcie_cost *c)
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
		c->tlps[FW_PCIE_DOWN]++;
		c->bytes[FW_PCIE_DOWN] += (uint32_t)(FW_TLP_CPLD_HDR + n);
		addr += n;
		len -= n;
	}
}

struct fw_pcie_cost fw_pcie_mrd_cost(const struct fw_pcie_cfg *cfg, uint64_t addr, uint64_t len)
{
	struct fw_pcie_cost c = { { 0, 0 }, { 0, 0 } };

	while (len) {
		/* A read request may not cross a 4 KiB address boundary. */
		uint64_t room = 4096 - (addr % 4096);
		uint64_t n = len < cfg->mrrs ? len : cfg->mrrs;

		if (n > room)
			n = room;
		c.tlps[FW_PCIE_UP]++;
		c.bytes[FW_PCIE_UP] += FW_TLP_MRD_HDR;
		add_completions(cfg, addr, n, &c);
		addr += n;
		len -= n;
	}
	return c;
}

uint64_t fw_pcie_time_ns(const struct fw_pcie *p, struct fw_pcie_cost c)
{
	uint64_t b = c.bytes[0] > c.bytes[1] ? c.bytes[0] : c.bytes[1];

	/* Called per command: a multiply, not a division (exact to < 1 ns). */
	return (uint64_t)(((unsigned __int128)b * p->ns_per_byte_q32) >> 32);
}

struct fw_pcie_count fw_pcie_total(const struct fw_pcie *p)
{
	struct fw_pcie_count t;
	int k, d;

	memset(&t, 0, sizeof(t));
	for (k = 0; k < FW_PK_NKIND; k++) {
		for (d = 0; d < FW_PCIE_NDIR; d++) {
			t.tlps[d] += p->kind[k].tlps[d];
			t.bytes[d] += p->kind[k].bytes[d];
		}
	}
	return t;
}
