/* SPDX-License-Identifier: MIT */
/*
 * nvkv firmware: the public interface of the device model.
 *
 * A subsystem (struct fw_subsys) is one KV-SSD: its NAND array, FTL and
 * namespaces, each an object with its own command set: the KV namespace is
 * NSID 1; the block (NVM) namespace, on its own share of the superblocks, is
 * NSID 2, or NSID 1 on a device without a KV namespace.  Hosts attach controllers to it (struct fw_ctrl), one per host
 * connection; all controllers share the namespaces.  The hosting
 * environment calls fw_ctrl_poll() for every controller from one thread (the
 * firmware thread): the model is single-threaded by design, so its data
 * structures need no locks.
 */
#ifndef FW_FW_H
#define FW_FW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmdset/stats.h"
#include "dma.h"
#include "hal.h"
#include "nand.h"
#include "pcie.h"

enum fw_timing_mode {
	FW_TIMING_OFF,	    /* complete as fast as the host can go */
	FW_TIMING_REALTIME, /* post a CQE no earlier than its modeled completion */
};

#define FW_MAX_IOQ 64
#define FW_MAX_QSIZE 4096
#define FW_MAX_VALUE_LIMIT (16u << 20) /* index stores value lengths in 24 bits */

#define FW_MAX_CORES 64

/*
 * The firmware cost model: modeled controller time, in ns, of the work a
 * command makes the firmware do besides its fetch and decode
 * (fw_config.fw_overhead_ns), and how many commands the controller works on
 * at once.  A command holds one core for the sum of its costs; the commands
 * of one BandSlim sequence run one after the other whatever the cores
 * (docs/device.md, "Firmware cost model").  All zero and one core: every
 * command costs fw_overhead_ns on one core, the model before these knobs.
 */
struct fw_cost {
	uint32_t cores;	       /* commands worked on at once, 1..FW_MAX_CORES (default 1) */
	uint32_t bs_xfer_ns;   /* per BandSlim transfer command: reassembly */
	uint32_t bx_chunk_ns;  /* per ByteExpress 64-byte chunk taken from the SQ */
	uint32_t dma_ns;       /* per data transfer set up (PRP or SGL) */
	uint32_t prp_entry_ns; /* per PRP entry used (PRP1, PRP2, list entries) */
	uint32_t sgl_desc_ns;  /* per SGL descriptor read */
	uint32_t index_ns;     /* per index lookup, insert or delete */
	uint32_t list_step_ns; /* per key a List returns */
};

struct fw_config {
	struct fw_nand_geo geo;
	struct fw_nand_timing nand;
	struct kvc_pcie_link pcie;
	uint32_t max_ioq;	 /* I/O queue pairs offered, 1..64 (default 16) */
	uint32_t mqes;		 /* max entries per queue, 2..4096 (default 1024) */
	uint32_t arb_burst;	 /* commands fetched per SQ per round (default 8) */
	uint32_t max_value;	 /* bytes (default 2 MiB) */
	uint64_t capacity;	 /* namespace capacity in bytes; 0 = NAND minus OP */
	uint32_t max_keys;	 /* 0 = no limit */
	uint32_t op_percent;	 /* over-provisioning, percent of the log (default 10) */
	uint32_t gc_reserve;	 /* free superblocks kept for GC (default 2) */
	uint32_t fw_overhead_ns; /* modeled firmware time per command (default 1500) */
	struct fw_cost cost;	 /* the rest of the firmware cost model */
	/* How GC shares the NAND with host I/O (nand.h): the policy (default
	 * FW_GC_YIELD) and the longest a host operation waits for GC (100). */
	enum fw_gc_policy gc_policy;
	uint32_t gc_slice_us;
	/* Block (NVM) namespace: percent of the superblocks it gets, the rest
	 * is the value log's (default 50; 0 = KV-only, 100 = block-only). */
	uint32_t blk_percent;
	uint32_t blk_op_percent; /* over-provisioning of the block FTL (default 10) */
	uint32_t lba_size;	 /* 512 or 4096 (default 4096) */
	enum fw_timing_mode timing;
	enum fw_dma_gran dma_gran;
	bool vwc;      /* volatile write cache: durability at Flush */
	bool backfill; /* fill 4 KiB alignment gaps with packed values */
	char serial[21];
	char model[41];
	char nqn[224]; /* subsystem NQN; empty: nqn.2026-11.io.nvkv:<serial> */
};

/* Defaults: Cosmos+-like geometry (4 ch x 8 ways, 16 KiB pages), PCIe Gen3 x4. */
void fw_config_default(struct fw_config *c);

/**
 * fw_config_check() - validate a configuration.
 * Return: NULL when valid, otherwise a static message naming the bad field.
 */
const char *fw_config_check(const struct fw_config *c);

struct fw_subsys;
struct fw_ctrl;

/**
 * fw_subsys_create() - build a device.
 * @c: configuration (copied).
 * @hal: environment callbacks (kept by pointer; must outlive the device).
 * @out: receives the device.
 *
 * With a persistent catalog in @hal the index and value-log layout are
 * recovered from it; the layout and every record are checked first, and the
 * reason for a refusal goes to the HAL log.
 * Return: 0, -EINVAL (bad config), -EXDEV (a stored layout from another
 * geometry or namespace split), -EUCLEAN (the catalog is damaged: bad layout table, a record out
 * of range, keys without a layout), -ENOMEM, or the HAL's error.
 */
int fw_subsys_create(const struct fw_config *c, const struct fw_hal *hal, struct fw_subsys **out);
void fw_subsys_destroy(struct fw_subsys *s);

/* Make everything completed so far durable (what Flush does). */
int fw_subsys_flush(struct fw_subsys *s);

/* Namespace capacity in bytes. */
uint64_t fw_subsys_capacity(const struct fw_subsys *s);

/* Fill the statistics log of the whole device. */
void fw_subsys_stats(struct fw_subsys *s, struct kvc_stats_log *log);

/**
 * fw_subsys_ns_stats() - the statistics log of one namespace.
 * @nsid: 0 or FFFFFFFFh for the whole device (fw_subsys_stats()).
 *
 * Return: 0, or -ENOENT when no namespace has @nsid.
 */
int fw_subsys_ns_stats(struct fw_subsys *s, uint32_t nsid, struct kvc_stats_log *log);

/* NSID of the KV namespace, of the block namespace; 0 when there is none. */
uint32_t fw_subsys_kv_nsid(const struct fw_subsys *s);
uint32_t fw_subsys_blk_nsid(const struct fw_subsys *s);

/**
 * fw_ctrl_create() - attach a controller for one host.
 * @hif: host memory, interrupts and the BAR (kept by pointer).
 * @cntlid: controller id reported in Identify.
 */
int fw_ctrl_create(struct fw_subsys *s, const struct fw_host_if *hif, uint16_t cntlid,
		   struct fw_ctrl **out);

/* Detach: pending commands are dropped, reassembly state freed. */
void fw_ctrl_destroy(struct fw_ctrl *c);

/**
 * fw_ctrl_poll() - run the controller once: register changes, doorbells,
 * command fetch and execution, due completions.
 * Return: units of work done (0: idle).
 */
int fw_ctrl_poll(struct fw_ctrl *c);

/* Whether the controller has completions waiting for their modeled time, or
 * commands waiting in an SQ for memory: poll again soon rather than sleep. */
bool fw_ctrl_busy(const struct fw_ctrl *c);

/* The model time of the earliest completion waiting for its modeled time
 * (timing realtime), or UINT64_MAX when none waits: a discrete-event host
 * advances its clock to it when nothing else can happen. */
uint64_t fw_ctrl_next_due(const struct fw_ctrl *c);

/* ---- fabric controllers (NVMe over Fabrics; fabric.c) ---- */

#define FW_FCTYPE_PROP_SET 0x00
#define FW_FCTYPE_CONNECT 0x01
#define FW_FCTYPE_PROP_GET 0x04
#define FW_CONNECT_DATA 1024 /* bytes of Connect data */
#define FW_CNTLID_MAX 0xfff0 /* controller ids 1..FFEFh */

/**
 * fw_fabric_connect() - execute a Fabrics Connect capsule.
 * @s: the subsystem.
 * @hif: host interface of the association (post_cqe, a register array of
 *	fw_bar_size() bytes); kept by pointer.  Used for the admin queue only.
 * @sqe: the Connect command; @data, @len: its 1024-byte data.
 * @ctrl: receives the controller (new for QID 0, the existing one named by
 *	the data's CNTLID for an I/O queue).
 * @dw0: receives the response's DW0 (CNTLID, or IATTR/IPO on Connect
 *	Invalid Parameters).
 *
 * Checks the record format, QID (I/O: up to the queues granted), SQSIZE
 * (1..MQES), SUBNQN (fw_subsys_nqn), the CNTLID and HOSTID of an I/O queue,
 * and that the controller is enabled before I/O queues connect.  The queue
 * takes SQSIZE + 1 commands; KATO (ms) of the admin Connect is enforced.
 * Return: an NVMe status (0: connected).
 */
uint16_t fw_fabric_connect(struct fw_subsys *s, const struct fw_host_if *hif,
			   const struct kvc_sqe *sqe, const void *data, uint32_t len,
			   struct fw_ctrl **ctrl, uint32_t *dw0);

/**
 * fw_ctrl_submit() - hand a command capsule of queue @qid to a fabric
 * controller; it runs at the next fw_ctrl_poll().  Its data is reached
 * through the host interface's capsule_data / xport_read / xport_write.
 * Return: 0, -ENOENT (no such queue), -EAGAIN (the queue is full: the host
 * has more than SQSIZE + 1 commands outstanding).
 */
int fw_ctrl_submit(struct fw_ctrl *c, uint16_t qid, const struct kvc_sqe *sqe);

/* The transport connection of I/O queue @qid is gone: the queue pair and its
 * commands go (their completions are dropped). */
void fw_fabric_disconnect(struct fw_ctrl *c, uint16_t qid);

/* KATO and the controller's grace passed without a command (Keep Alive or,
 * traffic based, any other): the transport must destroy the controller
 * (fw_ctrl_destroy) and close its connections. */
bool fw_ctrl_expired(const struct fw_ctrl *c);
uint16_t fw_ctrl_cntlid(const struct fw_ctrl *c);

/* The subsystem's NQN (Identify Controller SUBNQN). */
void fw_subsys_nqn(const struct fw_subsys *s, char *buf, size_t len);

/* Bytes of the register array a fabric host interface provides. */
uint32_t fw_subsys_bar_size(const struct fw_subsys *s);

/* MDTS in bytes: the largest data transfer of one command, which a fabric
 * transport must be ready to carry (R2T / C2HData) for every namespace. */
uint32_t fw_subsys_mdts_bytes(const struct fw_subsys *s);

/* Whether a controller of @s has id @id. */
bool fw_subsys_cntlid_used(const struct fw_subsys *s, uint16_t id);

/* The lowest controller id no controller of @s uses; 0 when none is free. */
uint16_t fw_subsys_free_cntlid(const struct fw_subsys *s);

/* Count bytes a fabric transport received / sent (statistics log). */
void fw_subsys_fabric_bytes(struct fw_subsys *s, uint64_t rx, uint64_t tx);

/* Size of the BAR a host interface must provide for @c: registers plus
 * doorbells for the configured number of queues. */
uint32_t fw_bar_size(const struct fw_config *c);

#endif /* FW_FW_H */
