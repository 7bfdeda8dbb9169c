/* SPDX-License-Identifier: MIT */
/*
 * The firmware's hardware abstraction layer.  The device model never calls
 * the OS: host memory, the BAR, interrupts, the clock, NAND media and the
 * persistent metadata catalog reach it through this table, filled in by the
 * environment that hosts it (nvkv-emu, or a fake in the unit tests).
 *
 * Every callback receives @ctx.  Unless stated, callbacks are invoked from the
 * single firmware thread only.
 */
#ifndef FW_HAL_H
#define FW_HAL_H

#include <stddef.h>
#include <stdint.h>

struct fw_hal {
	void *ctx;

	/* Clock in nanoseconds, monotonic.  The timing model reads time only here. */
	uint64_t (*now_ns)(void *ctx);

	/*
	 * NAND media, addressed by physical page number (ppn) and block number.
	 * read copies @len bytes at offset @off of a page (the timing model
	 * charges the whole page read); program writes one whole page.
	 * stage writes @len bytes of a page that is still open in the write
	 * buffer so that it survives a crash of the hosting process; it is not a
	 * NAND operation and is not counted.  Return 0 or -errno (-EIO: media
	 * error, reported to the host as a media status).
	 */
	int (*nand_read)(void *ctx, uint64_t ppn, uint32_t off, uint32_t len, void *buf);
	int (*nand_program)(void *ctx, uint64_t ppn, const void *buf);
	int (*nand_stage)(void *ctx, uint64_t ppn, const void *buf, size_t len);
	int (*nand_erase)(void *ctx, uint64_t block);
	/*
	 * Optional: @len bytes at @off of page @ppn will be read soon; bring
	 * them towards the CPU (a cache hint, no read, no fault injection, no
	 * error).  NULL: no hint.
	 */
	void (*nand_prefetch)(void *ctx, uint64_t ppn, uint32_t off, uint32_t len);
	/*
	 * Optional: block @block (numbered as for nand_erase) will be
	 * programmed soon, page by page from its first.  A hint, called when a
	 * superblock opens for the one expected to follow it: a host that keeps
	 * NAND in memory can take the block's memory now, off the command path.
	 * NULL: no hint.
	 */
	void (*nand_expect)(void *ctx, uint64_t block);

	/*
	 * Optional, both or neither: @len bytes of zeroed memory aligned to
	 * @len (a power of two, 2 MiB for the key index's nodes), which the
	 * host may back with huge pages; NULL when there is none.  unmap gives
	 * back what map returned.  NULL hooks: the firmware's own allocator.
	 */
	void *(*mem_map)(void *ctx, size_t len);
	void (*mem_unmap)(void *ctx, void *p, size_t len);

	/*
	 * Persistent catalog (key -> index record), optional: all NULL for an
	 * in-memory device.  put/del are buffered until commit, which makes every
	 * change since the previous commit durable at once (group commit).
	 * iterate calls @fn for every stored record, in any order, at start-up.
	 * All return 0 or -errno; -ENOSPC means the catalog is full.  After a
	 * failed put, del or set_blob the batch is unusable, as an LMDB
	 * transaction is: the next commit must fail and discard every change
	 * since the previous commit.  A failed commit may discard them or keep
	 * them pending.  Either way the firmware rolls its index back to the
	 * last commit, queues the old state again and commits (batch.c).
	 */
	int (*meta_put)(void *ctx, const void *key, size_t klen, const void *rec, size_t rlen);
	int (*meta_del)(void *ctx, const void *key, size_t klen);
	int (*meta_commit)(void *ctx, int sync);
	int (*meta_iterate)(void *ctx,
			    int (*fn)(void *arg, const void *key, size_t klen, const void *rec,
				      size_t rlen),
			    void *arg);
	/* Small named blobs of device state (e.g. the value-log layout). */
	int (*meta_set_blob)(void *ctx, const char *name, const void *data, size_t len);
	int (*meta_get_blob)(void *ctx, const char *name, void *data, size_t len);

	/* Log line from the device model (rate-limited by the caller). */
	void (*log)(void *ctx, int level, const char *msg);
};

/* Per-controller host interface: memory the device reaches by DMA, and the
 * interrupt line.  One per attached host. */
struct fw_host_if {
	void *ctx;
	/* Copy between host memory at @addr and @buf.  -EFAULT if any byte of
	 * [addr, addr + len) is outside host memory. */
	int (*dma_read)(void *ctx, uint64_t addr, void *buf, size_t len);
	int (*dma_write)(void *ctx, uint64_t addr, const void *buf, size_t len);
	/* Optional: host memory at @addr will be written soon (a cache hint
	 * with write intent; ignored outside host memory).  NULL: none. */
	void (*dma_prefetch)(void *ctx, uint64_t addr, size_t len);
	/* Raise MSI-X vector @vector. */
	void (*irq_raise)(void *ctx, uint16_t vector);
	/*
	 * The BAR: registers at offset 0, doorbells from 0x1000.  The host
	 * writes it concurrently; the firmware reads it with atomic loads.
	 */
	volatile uint32_t *bar;
	size_t bar_size;
	/*
	 * Fabrics transports only (NVMe/TCP); NULL on the PCIe transport, where
	 * the SGL forms that need them (Data Block or Segment with sub type
	 * Offset, Transport SGL Data Block) are SGL DESCRIPTOR TYPE INVALID.
	 * Each names the command by @sqid and @cid; the firmware calls them
	 * only while that command is being executed or is deferred.
	 * capsule_data: the command's in-capsule data; sets *@data (valid until
	 * the command completes) and *@len (0 when the capsule carried none).
	 * xport_read / xport_write: move @len bytes at byte @off of the
	 * command's data stream through the transport's own data transfers
	 * (H2CData after R2T, C2HData).  All return 0 or -errno.
	 */
	int (*capsule_data)(void *ctx, uint16_t sqid, uint16_t cid, const void **data,
			    uint32_t *len);
	int (*xport_read)(void *ctx, uint16_t sqid, uint16_t cid, uint64_t off, void *buf,
			  size_t len);
	int (*xport_write)(void *ctx, uint16_t sqid, uint16_t cid, uint64_t off, const void *buf,
			   size_t len);
	/*
	 * Fabric controllers only (fw_fabric_connect): the completion of a
	 * command of queue @qid leaves through the transport (a CapsuleResp)
	 * instead of a CQ in host memory; @cqe is complete (SQHD, SQID, CID,
	 * status; the phase bit is 0).  irq_raise is not used; dma_read and
	 * dma_write must answer -EFAULT (a fabric host has no memory the
	 * device reaches: address-form SGL descriptors and PRPs fail with a
	 * data transfer status); @bar is a register array of fw_bar_size() bytes owned by
	 * the transport, which only Property Get/Set touch.  @ioccsz is the
	 * I/O queues' command capsule size in 16-byte units (Identify).
	 */
	void (*post_cqe)(void *ctx, uint16_t qid, const void *cqe);
	uint32_t ioccsz;
};

enum fw_log_level {
	FW_LOG_ERR = 3,
	FW_LOG_WARN = 4,
	FW_LOG_INFO = 6,
	FW_LOG_DEBUG = 7,
};

#endif /* FW_HAL_H */
