/* SPDX-License-Identifier: MIT */
/*
 * PCIe link model: every transaction between host and device counted as TLPs
 * and bytes per direction, and the time the bytes take on the link.
 *
 * The TLP arithmetic itself is cmdset/pcie.h (the host's cost policy uses it
 * too); this adds per-kind counters and link time.
 */
#ifndef FW_PCIE_H
#define FW_PCIE_H

#include <stdint.h>

#include "cmdset/pcie.h"

/* What a transaction was for; each has its own counters (= enum kvc_stat_pcie). */
enum fw_pcie_kind {
	FW_PK_DOORBELL, /* SQ tail / CQ head doorbell writes */
	FW_PK_SQE,	/* command fetch (and ByteExpress chunks) */
	FW_PK_PRP_LIST, /* PRP list fetch */
	FW_PK_DATA,	/* value / buffer data */
	FW_PK_CQE,	/* completion entries */
	FW_PK_MSIX,	/* interrupts */
	FW_PK_NKIND,
};

struct fw_pcie_count {
	uint64_t tlps[KVC_PCIE_NDIR];
	uint64_t bytes[KVC_PCIE_NDIR];
};

struct fw_pcie {
	struct kvc_pcie_link cfg;
	uint64_t bytes_per_sec;	  /* per direction, after encoding */
	uint64_t ns_per_byte_q32; /* 2^32 * 1e9 / bytes_per_sec */
	/* Fixed-size transactions of every command, computed once from cfg. */
	struct kvc_pcie_cost cqe;      /* device MWr of one 16-byte CQE */
	struct kvc_pcie_cost msix;     /* device MWr of one MSI-X message (4 B) */
	struct kvc_pcie_cost doorbell; /* host MWr of one 4-byte doorbell */
	struct fw_pcie_count kind[FW_PK_NKIND];
};

/**
 * kvc_pcie_link_valid_KEEP() - check link parameters.
 * Return: NULL when valid, otherwise a static message naming the bad field.
 */
const char *kvc_pcie_link_valid_KEEP(const struct kvc_pcie_link *cfg);

void fw_pcie_init(struct fw_pcie *p, const struct kvc_pcie_link *cfg);

/* Account @c under @kind. */
static inline void fw_pcie_add(struct fw_pcie *p, enum fw_pcie_kind kind, struct kvc_pcie_cost c)
{
	p->kind[kind].tlps[KVC_PCIE_UP] += c.tlps[KVC_PCIE_UP];
	p->kind[kind].tlps[KVC_PCIE_DOWN] += c.tlps[KVC_PCIE_DOWN];
	p->kind[kind].bytes[KVC_PCIE_UP] += c.bytes[KVC_PCIE_UP];
	p->kind[kind].bytes[KVC_PCIE_DOWN] += c.bytes[KVC_PCIE_DOWN];
}

/* Link time in ns for the busier direction of @c. */
uint64_t fw_pcie_time_ns(const struct fw_pcie *p, struct kvc_pcie_cost c);

#endif /* FW_PCIE_H */
