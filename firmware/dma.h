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
 *
 * SGLs (PSDT 01b or 10b; 4.3.2, wire format in cmdset/sgl.h).  What we
 * support is what fw_dma_sgls() advertises in Identify Controller SGLS:
 * byte-aligned, byte-granular Data Blocks, Bit Buckets, Segment and Last
 * Segment chains, SGLs longer than the transfer, MPTR as an SGL (PSDT 10b);
 * on a fabric transport that supplies the fw_host_if callbacks also the
 * Offset sub type (in-capsule data) and the Transport SGL Data Block.
 *  - the SGL describes fewer bytes than the transfer  -> DATA SGL LENGTH INVALID
 *  - it describes more: the device stops at the last byte it needs and never
 *    reads the descriptors after it (SGLS bit 18 set)
 *  - Keyed Data Block, reserved or vendor types, an unknown sub type, an
 *    Offset or Transport form without the transport's callbacks, a Bit
 *    Bucket in a host-to-device transfer (it only discards what the device
 *    sends), an Offset Data Block in a device-to-host transfer (in-capsule
 *    data only carries what the host sends)           -> SGL DESCRIPTOR TYPE INVALID
 *  - a (Last) Segment descriptor whose length is 0 or not a multiple of 16,
 *    whose address is not qword aligned, that is not the last descriptor of
 *    its segment, or that sits in a last segment      -> INVALID SGL SEGMENT DESCRIPTOR
 *  - more than FW_SGL_MAX_DESCS descriptors read for one command (the bound
 *    that ends a chain looping back on itself)        -> INVALID NUMBER OF SGL DESCRIPTORS
 *  - an Offset beyond the in-capsule data             -> SGL OFFSET INVALID
 *    (an Offset inside it whose length runs past its end -> DATA SGL LENGTH INVALID)
 *  - any byte of a segment or data block outside host memory, or a failed
 *    transport transfer                              -> DATA TRANSFER ERROR
 *  - PSDT 11b (reserved)                              -> INVALID FIELD
 * Every status carries DNR.  MPTR is never read: no namespace has metadata.
 * Segment fetches are charged as FW_PK_PRP_LIST reads; data blocks as
 * FW_PK_DATA at their exact byte length whatever the granularity (SGL data
 * blocks are byte-granular; FW_DMA_PAGE only shapes PRP transfers); bytes
 * a Bit Bucket discards are not sent.  In-capsule and transport data are
 * charged as if they had crossed the PCIe link at their offset.
 */
#ifndef FW_DMA_H
#define FW_DMA_H

#include <stdbool.h>
#include <stdint.h>

#include "cmdset/queue.h"
#include "hal.h"
#include "pcie.h"

enum fw_dma_gran {
	FW_DMA_EXACT,
	FW_DMA_PAGE,
};

#define FW_MEM_PAGE 4096u
/* Descriptors read for one command, segment descriptors included. */
#define FW_SGL_MAX_DESCS 65536u

struct fw_dma {
	const struct fw_host_if *hif;
	struct fw_pcie *pcie;
	enum fw_dma_gran gran;
	uint64_t data_ns; /* modeled link time of the data moved by the last call */
	/* The last data transfer's PRP entries used, or SGL descriptors read
	 * (data_sgl), for the firmware cost model. */
	uint32_t data_entries;
	bool data_sgl;
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
	uint16_t sqid, cid; /* the command, for the fabric callbacks of struct fw_host_if */
};

/*
 * The first bytes (at most 512) of the @len the command @sqe will write to
 * the host through a PRP data pointer are about to be written: a cache hint
 * through the host interface's dma_prefetch, when it has one.
 */
void fw_dma_prefetch_out(const struct fw_dma *d, const struct kvc_sqe *sqe, uint32_t len);

/* Read PSDT and DPTR of @sqe (submitted on @sqid) into @p. */
void fw_dptr_from_sqe(struct fw_dptr *p, const struct kvc_sqe *sqe, uint16_t sqid);

/**
 * fw_dma_sgls() - the Identify Controller SGLS value for a controller whose
 * host interface is @hif: what fw_dma_read_dptr()/fw_dma_write_dptr() accept.
 */
uint32_t fw_dma_sgls(const struct fw_host_if *hif);

/**
 * fw_dma_read_dptr() - copy @len bytes from the host buffer a data pointer
 * describes, whatever its kind (PRP or SGL).
 * @d: engine.
 * @p: PSDT and DPTR.
 * @buf: destination in device memory.
 * @len: bytes the command transfers; an SGL must describe at least these.
 *
 * Return: 0 or the NVMe status of the first violation (see above).
 */
uint16_t fw_dma_read_dptr(struct fw_dma *d, const struct fw_dptr *p, void *buf, uint32_t len);

/* Device to host, as fw_dma_write_prp(): the buffer is @buflen bytes, the
 * first @len are written.  @buflen shapes a PRP layout only; an SGL names
 * its own layout and must describe at least @len bytes. */
uint16_t fw_dma_write_dptr(struct fw_dma *d, const struct fw_dptr *p, const void *buf,
			   uint32_t buflen, uint32_t len);

/* Plain reads/writes of host memory charged under @kind (queues, lists). */
int fw_dma_read(struct fw_dma *d, enum fw_pcie_kind kind, uint64_t addr, void *buf, uint32_t len);
int fw_dma_write(struct fw_dma *d, enum fw_pcie_kind kind, uint64_t addr, const void *buf,
		 uint32_t len);

#endif /* FW_DMA_H */
