/* SPDX-License-Identifier: MIT */
/*
 * PCIe transaction-layer arithmetic shared by the device's link model and the
 * host's cost-based transfer policy: how many TLPs and bytes a transfer puts
 * on the link.  With 64-bit addressing a memory write (MWr) carries a 24-byte
 * header plus payload, a memory read request (MRd) is 24 bytes, a completion
 * with data (CplD) 20 bytes plus payload.  Writes split at Max Payload Size
 * (MPS); reads request at most Max Read Request Size (MRRS) and never cross a
 * 4 KiB boundary; completions carry at most MPS and end on a Read Completion
 * Boundary (RCB) unless they are the last of their request.
 */
#ifndef KVC_PCIE_H
#define KVC_PCIE_H

#include <stdint.h>

#define KVC_TLP_MWR_HDR 24
#define KVC_TLP_MRD_HDR 24
#define KVC_TLP_CPLD_HDR 20

enum kvc_pcie_dir {
	KVC_PCIE_UP,   /* device -> host */
	KVC_PCIE_DOWN, /* host -> device */
	KVC_PCIE_NDIR,
};

struct kvc_pcie_link {
	unsigned int gen;   /* 1..5 */
	unsigned int lanes; /* 1, 2, 4, 8, 16 */
	unsigned int mps;   /* bytes */
	unsigned int mrrs;  /* bytes */
	unsigned int rcb;   /* 64 or 128 */
};

struct kvc_pcie_cost {
	uint32_t tlps[KVC_PCIE_NDIR];
	uint32_t bytes[KVC_PCIE_NDIR];
};

/* NULL when valid, otherwise a message naming the bad field. */
const char *kvc_pcie_link_valid(const struct kvc_pcie_link *l);
/* Device writes @len bytes of host memory at @addr. */
struct kvc_pcie_cost kvc_pcie_mwr(const struct kvc_pcie_link *l, uint64_t addr, uint64_t len);
/* Device reads @len bytes of host memory at @addr. */
struct kvc_pcie_cost kvc_pcie_mrd(const struct kvc_pcie_link *l, uint64_t addr, uint64_t len);
/*
 * The same, added to *@acc.  Per command, these: a cost returned by value
 * comes back in two registers, and adding it to another, GCC 12 stored both
 * and reloaded them as one 16-byte vector, which waits for the stores to
 * retire (a store-forwarding stall).
 */
void kvc_pcie_mwr_add(const struct kvc_pcie_link *l, uint64_t addr, uint64_t len,
		      struct kvc_pcie_cost *acc);
void kvc_pcie_mrd_add(const struct kvc_pcie_link *l, uint64_t addr, uint64_t len,
		      struct kvc_pcie_cost *acc);
/* Host writes @len bytes to the device (a doorbell). */
struct kvc_pcie_cost kvc_pcie_host_mwr(const struct kvc_pcie_link *l, uint64_t len);
/* Payload bytes per second per direction after line encoding. */
uint64_t kvc_pcie_bytes_per_sec(const struct kvc_pcie_link *l);

static inline void kvc_pcie_cost_add(struct kvc_pcie_cost *a, struct kvc_pcie_cost b)
{
	a->tlps[0] += b.tlps[0];
	a->tlps[1] += b.tlps[1];
	a->bytes[0] += b.bytes[0];
	a->bytes[1] += b.bytes[1];
}

static inline uint64_t kvc_pcie_cost_bytes(struct kvc_pcie_cost c)
{
	return (uint64_t)c.bytes[0] + c.bytes[1];
}

#endif /* KVC_PCIE_H */
