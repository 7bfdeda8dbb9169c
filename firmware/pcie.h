/* SPDX-License-Identifier: MIT */
/*
 * PCIe link model: every transaction between host and device counted as TLPs
 * and bytes per direction, and the time the bytes take on the link.
 *
 * TLP sizes with 64-bit addressing: memory write (MWr) 24 B header + payload;
 * memory read request (MRd) 24 B; completion with data (CplD) 20 B + payload.
 * Writes split at Max Payload Size (MPS).  Reads request at most Max Read
 * Request Size (MRRS) bytes; completions carry at most MPS and every
 * completion but the last of a request ends on a Read Completion Boundary
 * (RCB).  Encoding: 8b/10b for Gen1/2, 128b/130b for Gen3 and later.
 */
#ifndef FW_PCIE_H
#define FW_PCIE_H

#include <stdint.h>

#define FW_TLP_MWR_HDR 24
#define FW_TLP_MRD_HDR 24
#define FW_TLP_CPLD_HDR 20

/* Direction of a TLP on the link. */
enum fw_pcie_dir {
	FW_PCIE_UP,   /* device -> host (upstream) */
	FW_PCIE_DOWN, /* host -> device (downstream) */
	FW_PCIE_NDIR,
};

/* What a transaction was for; each has its own counters. */
enum fw_pcie_kind {
	FW_PK_DOORBELL, /* SQ tail / CQ head doorbell writes */
	FW_PK_SQE,	/* command fetch (and ByteExpress chunks) */
	FW_PK_PRP_LIST, /* PRP list fetch */
	FW_PK_DATA,	/* value / buffer data */
	FW_PK_CQE,	/* completion entries */
	FW_PK_MSIX,	/* interrupts */
	FW_PK_NKIND,
};

struct fw_pcie_cfg {
	unsigned int gen;   /* 1..5 */
	unsigned int lanes; /* 1, 2, 4, 8, 16 */
	unsigned int mps;   /* max payload size, bytes */
	unsigned int mrrs;  /* max read request size, bytes */
	unsigned int rcb;   /* read completion boundary, 64 or 128 */
};

struct fw_pcie_count {
	uint64_t tlps[FW_PCIE_NDIR];
	uint64_t bytes[FW_PCIE_NDIR];
};

/* Cost of one transaction. */
struct fw_pcie_cost {
	uint32_t tlps[FW_PCIE_NDIR];
	uint32_t bytes[FW_PCIE_NDIR];
};

struct fw_pcie {
	struct fw_pcie_cfg cfg;
	uint64_t bytes_per_sec;	  /* per direction, after encoding */
	uint64_t ns_per_byte_q32; /* 2^32 * 1e9 / bytes_per_sec */
	struct fw_pcie_count kind[FW_PK_NKIND];
};

/**
 * fw_pcie_cfg_valid() - check link parameters.
 * Return: NULL when valid, otherwise a static message naming the bad field.
 */
const char *fw_pcie_cfg_valid(const struct fw_pcie_cfg *cfg);

void fw_pcie_init(struct fw_pcie *p, const struct fw_pcie_cfg *cfg);

/* Cost of the device writing @len bytes to host memory at @addr (MWr). */
struct fw_pcie_cost fw_pcie_mwr_cost(const struct fw_pcie_cfg *cfg, uint64_t addr, uint64_t len);
/* Cost of the device reading @len bytes of host memory at @addr (MRd + CplD). */
struct fw_pcie_cost fw_pcie_mrd_cost(const struct fw_pcie_cfg *cfg, uint64_t addr, uint64_t len);
/* A host write to the BAR (doorbell): MWr downstream. */
struct fw_pcie_cost fw_pcie_host_mwr_cost(const struct fw_pcie_cfg *cfg, uint64_t len);

/* Account @c under @kind. */
static inline void fw_pcie_add(struct fw_pcie *p, enum fw_pcie_kind kind, struct fw_pcie_cost c)
{
	p->kind[kind].tlps[FW_PCIE_UP] += c.tlps[FW_PCIE_UP];
	p->kind[kind].tlps[FW_PCIE_DOWN] += c.tlps[FW_PCIE_DOWN];
	p->kind[kind].bytes[FW_PCIE_UP] += c.bytes[FW_PCIE_UP];
	p->kind[kind].bytes[FW_PCIE_DOWN] += c.bytes[FW_PCIE_DOWN];
}

static inline void fw_pcie_cost_add(struct fw_pcie_cost *a, struct fw_pcie_cost b)
{
	a->tlps[0] += b.tlps[0];
	a->tlps[1] += b.tlps[1];
	a->bytes[0] += b.bytes[0];
	a->bytes[1] += b.bytes[1];
}

/* Link time in ns for the busier direction of @c. */
uint64_t fw_pcie_time_ns(const struct fw_pcie *p, struct fw_pcie_cost c);

/* Totals over all kinds. */
struct fw_pcie_count fw_pcie_total(const struct fw_pcie *p);

#endif /* FW_PCIE_H */
