/* SPDX-License-Identifier: MIT */
/*
 * libnvkv internals: the transport seam and its shared-memory client (shm.c;
 * the simulated device is sim/sim.c), the user-space NVMe driver (udrv.c: I/O path; udrv_ctrl.c: bring-up and
 * queues), transfer-method policy (xfer.c) and the
 * public API on top (api.c).
 */
#ifndef NVKV_INTERNAL_H
#define NVKV_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "cmdset/cmdset.h"
#include "nvkv.h"

/* ---- the transport: how the driver reaches a controller ------------------------------ */

struct nvkv_transport;

/*
 * The admin queue registers (AQA, ASQ, ACQ) of a transport that has no BAR
 * of its own (NVMe/TCP, io_uring passthrough): kept on the host side, where
 * the driver writes them before enabling the controller.
 */
struct nvkv_aq_regs {
	uint32_t aqa;
	uint64_t asq, acq;
};

/* Store @v written at BAR offset @off; false if @off is not one of them. */
static inline bool nvkv_aq_regs_write(struct nvkv_aq_regs *r, uint32_t off, uint32_t v)
{
	uint64_t *q = off == KVC_REG_ASQ || off == KVC_REG_ASQ + 4   ? &r->asq
		      : off == KVC_REG_ACQ || off == KVC_REG_ACQ + 4 ? &r->acq
								     : NULL;

	if (off == KVC_REG_AQA)
		r->aqa = v;
	else if (!q)
		return false;
	else if (off & 4)
		*q = (*q & 0xffffffffull) | (uint64_t)v << 32;
	else
		*q = (*q & ~0xffffffffull) | v;
	return true;
}

/* The value at BAR offset @off into *@v; false if @off is not one of them. */
static inline bool nvkv_aq_regs_read(const struct nvkv_aq_regs *r, uint32_t off, uint32_t *v)
{
	const uint64_t *q = off == KVC_REG_ASQ || off == KVC_REG_ASQ + 4   ? &r->asq
			    : off == KVC_REG_ACQ || off == KVC_REG_ACQ + 4 ? &r->acq
									   : NULL;

	if (off == KVC_REG_AQA)
		*v = r->aqa;
	else if (!q)
		return false;
	else
		*v = (uint32_t)(off & 4 ? *q >> 32 : *q);
	return true;
}

/*
 * A transport gives the driver what a PCIe function gives a real one: the
 * BAR (register reads and writes), host memory the device reaches by DMA
 * (nvkv_transport.mem), a way to wait for completions, and a clock.  shm.c
 * reaches nvkv-emu over shared memory; sim/sim.c runs the firmware in this
 * process on a virtual clock.  Chosen by the device string (nvkv_open()).
 */
struct nvkv_transport_ops {
	const char *name; /* nvkv_info.backend */
	void (*close)(struct nvkv_transport *t);
	uint32_t (*reg_read)(struct nvkv_transport *t, uint32_t off);
	/* Sequentially consistent: kick() relies on it (see shm.c). */
	void (*reg_write)(struct nvkv_transport *t, uint32_t off, uint32_t v);
	/* After a doorbell or register write: let the device see it. */
	void (*kick)(struct nvkv_transport *t);
	/* Whether the device is gone. */
	bool (*dead)(struct nvkv_transport *t);
	/*
	 * Sleeping for completions: arm (tell the device a host waits), check
	 * the completion queue once more, then sleep until an interrupt or
	 * @timeout_ms; disarm afterwards.  Several threads may wait at once.
	 */
	void (*irq_arm)(struct nvkv_transport *t);
	void (*irq_disarm)(struct nvkv_transport *t);
	void (*irq_sleep)(struct nvkv_transport *t, int timeout_ms);
	/*
	 * A device that does not run by itself (simulation): the host found no
	 * completion, so run the device and, when nothing else can happen,
	 * advance its clock to the next modeled event.  NULL for devices that
	 * run on their own; then the driver spins and sleeps instead.
	 */
	void (*advance)(struct nvkv_transport *t);
	/* The device's clock, ns; NULL: CLOCK_MONOTONIC. */
	uint64_t (*clock_ns)(struct nvkv_transport *t);
	/* Let @ns of the device's time pass; NULL: nanosleep(). */
	void (*sleep_ns)(struct nvkv_transport *t, uint64_t ns);
	/*
	 * Around the host's reading of a completion queue (and the data its
	 * completions hand over): a device that runs in the host's own threads
	 * must not write host memory meanwhile.  Nestable; NULL when the device
	 * writes host memory as real DMA does (the phase bit orders it).
	 */
	void (*cq_enter)(struct nvkv_transport *t);
	void (*cq_exit)(struct nvkv_transport *t);
	/*
	 * A fabric learns a PRP buffer's length from nowhere else: the driver
	 * tells the bytes behind the data pointer of the SQE it writes at @slot
	 * of queue @qid (before the doorbell).  NULL when not needed.
	 */
	void (*note_len)(struct nvkv_transport *t, uint16_t qid, uint32_t slot, uint32_t len);
	/*
	 * A transport whose commands can fail with an errno of its own (the
	 * kernel's passthrough): called for a CQE with a non-zero status, the
	 * -errno command @cid of queue @qid failed with (the status was a
	 * placeholder), or 0.  NULL when statuses are all the device's.
	 */
	int (*cqe_errno)(struct nvkv_transport *t, uint16_t qid, uint16_t cid);
};

struct nvkv_transport {
	const struct nvkv_transport_ops *ops;
	uint8_t *mem; /* host memory: DMA address a is mem + a */
	size_t mem_size;
	bool virtual_time; /* clock_ns is modeled time, not the machine's */
	bool fabric;	   /* the device cannot read host memory (no ByteExpress) */
	bool kernel_sq;	   /* the kernel owns the SQ and DPTR: ByteExpress and SGL refused */
};

/* Attach to nvkv-emu listening on the unix socket @path (shm.c). */
int nvkv_shm_open(const char *path, const struct nvkv_opts *o, struct nvkv_transport **out);
/* Attach to an NVMe/TCP target, @spec "tcp://HOST:PORT[/NQN][?...]" (tcp.c). */
int nvkv_tcp_open(const char *spec, const struct nvkv_opts *o, struct nvkv_transport **out);
/* Whether @device names a kernel NVMe char device: "/dev/ngXnY", "nvmeX", an NQN (uring.c). */
bool nvkv_uring_spec(const char *device);
/* The kernel's NVMe driver through io_uring passthrough: @spec "/dev/ngXnY[?sqpoll]" (uring.c). */
int nvkv_uring_open(const char *spec, const struct nvkv_opts *o, struct nvkv_transport **out);
/* Run a simulated device in this process: @spec is "sim" or "sim:FILE.ini" (sim/sim.c). */
int nvkv_sim_open(const char *spec, const struct nvkv_opts *o, struct nvkv_transport **out);

static inline uint32_t nvkv_reg_read(struct nvkv_transport *t, uint32_t off)
{
	return t->ops->reg_read(t, off);
}

static inline void nvkv_reg_write(struct nvkv_transport *t, uint32_t off, uint32_t v)
{
	t->ops->reg_write(t, off, v);
}

static inline void nvkv_tp_kick(struct nvkv_transport *t)
{
	t->ops->kick(t);
}

static inline bool nvkv_tp_dead(struct nvkv_transport *t)
{
	return t->ops->dead(t);
}

/* The device's clock (virtual for a simulated device), ns. */
uint64_t nvkv_tp_clock(struct nvkv_transport *t);

/* ---- udrv.c, udrv_ctrl.c: queues and commands ------------------------------------- */

#define NVKV_PAGE 4096u	       /* host memory page: PRP entries and arena units */
#define NVKV_NO_REQ UINT16_MAX /* no request in a cid slot / end of the free list */

static inline uint32_t nvkv_pages_for(size_t len)
{
	return (uint32_t)((len + NVKV_PAGE - 1) / NVKV_PAGE);
}

/* PRP list pages needed for a buffer of @data_pages pages at offset 0. */
static inline uint32_t nvkv_list_pages_for(uint32_t data_pages)
{
	uint32_t entries = data_pages > 1 ? data_pages - 1 : 0, lp = 0;

	if (entries <= 1)
		return 0; /* PRP2 names the second page directly */
	while (entries > NVKV_PAGE / 8) {
		entries -= NVKV_PAGE / 8 - 1; /* the last slot chains to the next list page */
		lp++;
	}
	return lp + 1;
}

enum nvkv_op {
	NVKV_OP_STORE,
	NVKV_OP_RETRIEVE,
	NVKV_OP_DELETE,
	NVKV_OP_EXIST,
	NVKV_OP_LIST,
	NVKV_OP_FLUSH,
	NVKV_OP_RAW,
	NVKV_OP_BLK_READ,
	NVKV_OP_BLK_WRITE,
	NVKV_OP_BLK_WRITE_ZEROES,
	NVKV_OP_BLK_DSM,
	NVKV_OP_BLK_FLUSH,
};

/* One request of a caller; a BandSlim Store spans several commands. */
struct nvkv_req {
	nvkv_cb cb;
	void *arg;
	int status; /* first error among its commands */
	uint32_t dw0;
	uint16_t pending; /* commands not completed */
	bool in_use;
	bool abandoned; /* timed out: callback done, slot kept until the CQE */
	uint8_t op;
	uint8_t xfer;	/* method used (stores) */
	void *user_buf; /* where to copy data read by the device */
	size_t user_len;
	uint32_t blk_bytes; /* data bytes of a block command (statistics) */
	uint32_t dma_page;  /* first arena page of the data buffer, UINT32_MAX if none */
	uint32_t dma_pages; /* pages including PRP list pages */
	bool sgl;	    /* the buffer is named by one SGL Data Block */
	uint64_t deadline;
	uint16_t next_free;
};

struct nvkv_queue {
	struct nvkv_dev *d;
	uint16_t qid;
	uint32_t size;
	struct kvc_sqe *sq;
	struct kvc_cqe *cq;
	uint64_t sq_addr, cq_addr;
	uint32_t sq_tail, sq_head, cq_head, rung;
	bool phase;
	uint32_t inflight_cmds;
	unsigned int inflight_reqs;
	/* requests and command ids: cid -> request */
	struct nvkv_req *reqs;
	uint16_t *cid_req;
	uint16_t free_req; /* head of the free list, UINT16_MAX when empty */
	uint16_t *free_cids;
	uint32_t nfree_cids;
	/* DMA arena: [arena, arena + npages * 4 KiB) of host memory */
	uint64_t arena;
	uint32_t npages;
	uint8_t *page_used;
	uint32_t page_hint;
	uint16_t bs_tag;
	int dead; /* sticky transport error */
	struct nvkv_host_stats st;
};

#define NVKV_MAX_QID 64

struct nvkv_dev {
	struct nvkv_transport *t;
	struct nvkv_opts opts;
	struct nvkv_info info;
	struct kvc_pcie_link link;
	pthread_mutex_t lock; /* admin queue, queue allocation, sync queue */
	struct nvkv_queue *admin;
	struct nvkv_queue *sync;
	struct nvkv_queue **ioq; /* [qid], NULL when free */
	uint32_t nr_ioq;	 /* granted */
	uint32_t qdepth;
	uint64_t mem_brk;		    /* host memory handed out to queues */
	uint64_t qregion[NVKV_MAX_QID + 1]; /* host memory of each queue id */
	uint64_t qregion_len[NVKV_MAX_QID + 1];
	struct nvkv_host_stats closed_st; /* counters of queues already closed */
	uint32_t kv_nsid;		  /* the KV namespace, 0 if the device has none */
	bool kernel_sq;			  /* t->kernel_sq: ByteExpress and SGL refused */
	uint64_t mdts_bytes;		  /* Identify Controller MDTS in bytes, 0: no limit */
	uint32_t arena_pages;		  /* data pages of each queue's DMA arena (ns.c) */
	/* Namespaces as last enumerated (ns.c); read without the lock. */
	struct nvkv_ns_table *ns_table;
};

/* ---- ns.c: namespace enumeration ------------------------------------------------------ */

/* One enumeration, published whole; older ones are kept until close because
 * block submissions may still read them. */
struct nvkv_ns_table {
	unsigned int n;
	struct nvkv_ns_info *ns;
	struct nvkv_ns_table *older;
};

#define NVKV_NS_LIST_MAX 1024 /* NSIDs in one active-namespace list */

/* Enumerate and publish (caller holds d->lock).  The first scan also takes
 * the KV namespace's formats into d->info and sizes the queues' buffers. */
int nvkv_ns_scan(struct nvkv_dev *d);
void nvkv_ns_free(struct nvkv_dev *d);
/* The namespace @nsid as last enumerated, or NULL. */
const struct nvkv_ns_info *nvkv_ns_lookup(struct nvkv_dev *d, uint32_t nsid);
/* Decoders of the Identify structures (4096 bytes each). */
void nvkv_ns_decode_nvm(const void *id, struct nvkv_ns_info *ns);
void nvkv_ns_decode_kv(const void *id, struct nvkv_ns_info *ns);
/* CSI from a CNS 03h descriptor list: 0 and *csi set (NVM when no CSI
 * descriptor); -EBADMSG when a descriptor runs past the end. */
int nvkv_ns_desc_csi(const void *list, uint8_t *csi);

/* ---- block.c ---------------------------------------------------------------------------- */

/* The 16-byte wire form of @nr DSM ranges into @buf (NVM spec, Dataset
 * Management range: context attributes 0-3, length 4-7, SLBA 8-15). */
void nvkv_dsm_encode(uint8_t *buf, const struct nvkv_dsm_range *r, unsigned int nr);

/* Write Zeroes CDW12: deallocate (NVM Command Set Specification, Write Zeroes). */
#define NVKV_NVM_DEAC (1u << 25)

int nvkv_udrv_start(struct nvkv_dev *d);
void nvkv_udrv_stop(struct nvkv_dev *d);
int nvkv_udrv_queue_create(struct nvkv_dev *d, uint16_t qid, uint32_t size,
			   struct nvkv_queue **out);
void nvkv_udrv_queue_destroy(struct nvkv_dev *d, struct nvkv_queue *q);

/* Build and queue the commands of one request; rung later. */
int nvkv_udrv_submit(struct nvkv_queue *q, enum nvkv_op op, const void *key, size_t klen,
		     const void *val, size_t vlen, void *buf, size_t buflen, unsigned int flags,
		     nvkv_cb cb, void *arg);
/* A raw command with an optional data buffer moved per the opcode's direction. */
int nvkv_udrv_submit_raw(struct nvkv_queue *q, const struct kvc_sqe *sqe, void *data, size_t len,
			 bool set_prp, nvkv_cb cb, void *arg);
void nvkv_udrv_kick(struct nvkv_queue *q);
int nvkv_udrv_poll(struct nvkv_queue *q);
int nvkv_udrv_wait(struct nvkv_queue *q, unsigned int min);
/* Submit, ring and wait for one request; returns its status. */
int nvkv_udrv_exec(struct nvkv_queue *q, enum nvkv_op op, const void *key, size_t klen,
		   const void *val, size_t vlen, void *buf, size_t buflen, unsigned int flags,
		   uint32_t *dw0);
int nvkv_udrv_exec_raw(struct nvkv_queue *q, const struct kvc_sqe *sqe, void *data, size_t len,
		       bool set_prp, uint32_t *dw0);
/* A prepared command of request kind @op (block commands): data by PRP in
 * the opcode's direction, counted under @op; @bytes for the statistics. */
int nvkv_udrv_submit_cmd(struct nvkv_queue *q, enum nvkv_op op, const struct kvc_sqe *sqe,
			 const void *out, void *in, size_t len, uint32_t bytes, nvkv_cb cb,
			 void *arg);
int nvkv_udrv_exec_cmd(struct nvkv_queue *q, enum nvkv_op op, const struct kvc_sqe *sqe,
		       const void *out, void *in, size_t len, uint32_t bytes);

/* ---- xfer.c: value-transfer policy ----------------------------------------------------- */

struct nvkv_xfer_ctx {
	const struct kvc_pcie_link *link;
	bool dma_page;
	bool interrupts;
	bool byteexpress; /* backend can append to the SQ */
	bool sgl;	  /* device accepts byte-aligned SGL Data Blocks */
	bool narrow;	  /* backend passes only CDW2-3, CDW10-15 */
	bool fabric;	  /* commands travel as capsules that carry data (NVMe/TCP) */
	uint32_t qsize;
	uint32_t threshold;
};

/* How a Store travels. */
struct nvkv_plan {
	enum nvkv_xfer method; /* PRP, BANDSLIM, BYTEEXPRESS or SGL as sent */
	uint8_t opc;	       /* 01h, C0h, C1h or C8h */
	uint32_t slots;	       /* SQ slots */
	uint32_t cmds;	       /* commands (completions) */
	uint32_t prp_len;      /* bytes moved by DPTR DMA (PRP, or SGL when method is SGL) */
};

/* Choose how to send a value of @vlen bytes with a key of @klen bytes. */
struct nvkv_plan nvkv_xfer_plan(const struct nvkv_xfer_ctx *x, enum nvkv_xfer m, uint8_t klen,
				uint32_t vlen);
/* Why @m does not send a @vlen-byte value itself, in @buf ("" when it does). */
const char *nvkv_xfer_why(const struct nvkv_xfer_ctx *x, enum nvkv_xfer m, uint8_t klen,
			  uint32_t vlen, char *buf, size_t len);
/* Modeled PCIe bytes of a plan on the context's link. */
uint64_t nvkv_xfer_cost(const struct nvkv_xfer_ctx *x, const struct nvkv_plan *p, uint8_t klen,
			uint32_t vlen);

uint64_t nvkv_now_ns(void);

/* Queue @q's view of the transfer policy's inputs (udrv.c). */
struct nvkv_xfer_ctx nvkv_udrv_xfer_ctx(const struct nvkv_queue *q);

#endif /* NVKV_INTERNAL_H */
