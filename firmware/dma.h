/* SPDX-License-Identifier: MIT */
/*
 * DMA engine: the only way the firmware touches host memory.  It walks PRP
 * entries and lists (NVMe Base Specification 2.0, 4.3.1), bounds-checks every
 * access through the host interface, and charges every transfer to the PCIe
 * link model.
 *
 * PRP rules enforced (status on violation):
 *  - PRP1 must be dword aligned                      -> PRP OFFSET INVALID
 *  - a second data page named by PRP2 and every list
 *    entry must have offset 0 in its page            -> PRP OFFSET INVALID
 *  - a PRP list pointer must be qword aligned        -> PRP OFFSET INVALID
 *  - any byte outside host memory                    -> DATA TRANSFER ERROR
 * Granularity: FW_DMA_EXACT moves the bytes asked for; FW_DMA_PAGE charges
 * the link with every whole memory page touched, as the page-unit DMA of the
 * KV-SSD prototypes does.
 */
#ifndef FW_DMA_H
#define FW_DMA_H

#include <stdint.h>

#include "hal.h"
#include "pcie.h"

enum fw_dma_gran {
	FW_DMA_EXACT,
	FW_DMA_PAGE,
};

#define FW_MEM_PAGE 4096u

struct fw_dma {
	const struct fw_host_if *hif;
	struct fw_pcie *pcie;
	enum fw_dma_gran gran;
	uint64_t data_ns;	   /* modeled link time of the data moved by the last call */
	struct kvc_pcie_cost *acc; /* also accumulate costs here when not NULL */
};

/**
 * fw_dma_read_prp() - copy @len bytes from the host buffer named by PRPs.
 * @d: engine.
 * @prp1: PRP entry 1.
 * @prp2: PRP entry 2 or list pointer.
 * @buf: destination in device memory.
 * @len: bytes.
 *
 * Return: 0 or an NVMe status (PRP OFFSET INVALID, DATA TRANSFER ERROR).
 */
uint16_t fw_dma_read_prp(struct fw_dma *d, uint64_t prp1, uint64_t prp2, void *buf, uint32_t len);

/*
 * Device to host: the PRPs describe a host buffer of @buflen bytes (which
 * decides whether PRP2 names a page or a list), of which the first @len are
 * written.
 */
uint16_t fw_dma_write_prp(struct fw_dma *d, uint64_t prp1, uint64_t prp2, const void *buf,
			  uint32_t buflen, uint32_t len);

/*
 * A command's data pointer: PSDT (SQE byte 1, bits 7:6) and DPTR (SQE bytes
 * 24..39, two PRP entries or SGL descriptor 1), as the controller read them.
 */
struct fw_dptr {
	uint8_t psdt;
	uint8_t raw[16];
};

/**
 * fw_dma_read_dptr() - copy @len bytes from the host buffer a data pointer
 * describes, whatever its kind (PRP or SGL).
 *
 * Return: 0 or the NVMe status of the first violation (see above).
 */
uint16_t fw_dma_read_dptr(struct fw_dma *d, const struct fw_dptr *p, void *buf, uint32_t len);

/* Device to host, as fw_dma_write_prp(): the buffer is @buflen bytes, the
 * first @len are written. */
uint16_t fw_dma_write_dptr(struct fw_dma *d, const struct fw_dptr *p, const void *buf,
			   uint32_t buflen, uint32_t len);

/* Plain reads/writes of host memory charged under @kind (queues, lists). */
int fw_dma_read(struct fw_dma *d, enum fw_pcie_kind kind, uint64_t addr, void *buf, uint32_t len);
int fw_dma_write(struct fw_dma *d, enum fw_pcie_kind kind, uint64_t addr, const void *buf,
		 uint32_t len);

#endif /* FW_DMA_H */
