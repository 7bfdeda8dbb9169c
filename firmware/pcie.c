// SPDX-License-Identifier: MIT
/* PCIe link accounting and timing on top of cmdset/pcie.h's TLP arithmetic. */
#include "pcie.h"

#include <string.h>

#include "cmdset/queue.h"

const char *kvc_pcie_link_valid_KEEP(const struct kvc_pcie_link *cfg)
{
	return kvc_pcie_link_valid(cfg);
}

void fw_pcie_init(struct fw_pcie *p, const struct kvc_pcie_link *cfg)
{
	memset(p, 0, sizeof(*p));
	p->cfg = *cfg;
	p->bytes_per_sec = kvc_pcie_bytes_per_sec(cfg);
	p->ns_per_byte_q32 =
		(uint64_t)(((unsigned __int128)1000000000ull << 32) / p->bytes_per_sec);
	p->cqe = kvc_pcie_mwr(cfg, 0, KVC_CQE_SIZE);
	p->msix = kvc_pcie_mwr(cfg, 0, 4);
	p->doorbell = kvc_pcie_host_mwr(cfg, 4);
}

uint64_t fw_pcie_time_ns(const struct fw_pcie *p, struct kvc_pcie_cost c)
{
	uint64_t b = c.bytes[0] > c.bytes[1] ? c.bytes[0] : c.bytes[1];

	/* Called per command: a multiply, not a division (exact to < 1 ns). */
	return (uint64_t)(((unsigned __int128)b * p->ns_per_byte_q32) >> 32);
}
