/* SPDX-License-Identifier: MIT */
/*
 * libnvkv: a host driver for NVMe Key-Value SSDs.
 *
 * Open a device by its device string -- today the unix socket of an nvkv-emu
 * (the shared-memory transport, driven by a user-space NVMe driver); the
 * io_uring passthrough backend for /dev/ngXnY slots in behind the same API --
 * then store, retrieve, delete, test and list keys, synchronously or through
 * per-thread asynchronous queues, with a choice of value-transfer method per
 * device or per request:
 *
 *   prp            value in a host buffer named by PRP entries (the baseline)
 *   bandslim       value piggybacked in vendor command fields (C0h/C4h)
 *   adaptive       bandslim up to a threshold (default 127 B), PRP above it;
 *                  values > 4 KiB: PRP for whole pages + tail piggybacked
 *   adaptive-cost  the method with the fewest modeled PCIe bytes on the
 *                  device's link (parameters read from the device)
 *   byteexpress    value in 64-byte chunks after the command in the SQ (C8h)
 *   sgl            value in a host buffer named by one SGL Data Block of its
 *                  exact length (PSDT 01b); with sgl as the device's method,
 *                  Retrieve and List buffers are named by one too
 *
 * Return values: 0 for success; a negative errno when the call failed on the
 * host or the transport (-EINVAL bad argument, -ENODEV device gone, -ETIMEDOUT
 * no answer in time, -EAGAIN queue full, -ENOMEM, -ENXIO a KV call on a
 * device without a KV namespace, ...); a positive value when
 * the device answered with an NVMe status: (SCT << 8) | SC, e.g.
 * NVKV_KEY_NOT_EXIST (0x87).  nvkv_strerror() names both kinds.
 *
 * Threads: a struct nvkv_dev may be used from many threads; the synchronous
 * calls share one queue under a lock.  For parallelism give each thread its
 * own struct nvkv_queue (nvkv_queue_open()): queues share no lock on the hot
 * path.  A queue must be used by one thread at a time.
 */
#ifndef NVKV_H
#define NVKV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NVKV_MAX_KEY 16

/* Device answers worth naming (SCT 0, generic). */
#define NVKV_CAPACITY_EXCEEDED 0x81
#define NVKV_INVALID_VALUE_SIZE 0x85
#define NVKV_INVALID_KEY_SIZE 0x86
#define NVKV_KEY_NOT_EXIST 0x87
#define NVKV_UNRECOVERED 0x88
#define NVKV_KEY_EXISTS 0x89

enum nvkv_xfer {
	NVKV_XFER_DEFAULT = 0, /* per request: use the device's method */
	NVKV_XFER_PRP,
	NVKV_XFER_BANDSLIM,
	NVKV_XFER_ADAPTIVE,
	NVKV_XFER_ADAPTIVE_COST,
	NVKV_XFER_BYTEEXPRESS,
	NVKV_XFER_SGL,
	NVKV_XFER_NUM,
};

/* Store flags (combine with an enum nvkv_xfer via NVKV_F_XFER()). */
#define NVKV_STORE_MUST_EXIST 0x100u
#define NVKV_STORE_MUST_NOT_EXIST 0x200u
#define NVKV_F_XFER(m) ((unsigned int)(m)&0xffu)
/* Refuse (-EOPNOTSUPP) instead of sending by PRP when the fixed method asked
 * for (prp, bandslim, byteexpress, sgl) cannot carry this value; see
 * nvkv_xfer_check().  No effect on the adaptive policies. */
#define NVKV_F_XFER_STRICT 0x400u

struct nvkv_opts {
	enum nvkv_xfer xfer;	     /* device default method (adaptive) */
	uint32_t adaptive_threshold; /* largest value piggybacked by adaptive (127) */
	uint32_t queues;	     /* I/O queue pairs to ask for (8) */
	uint32_t queue_depth;	     /* entries per I/O queue (256) */
	size_t host_mem;	     /* bytes of DMA-able host memory (64 MiB) */
	uint32_t timeout_ms;	     /* a command unanswered this long fails (10000) */
	bool interrupts;	     /* completion queues raise MSI-X (true) */
	const char *name;	     /* host name shown in the emulator's log */
};

/* Fill @o with the defaults shown above. */
void nvkv_opts_default(struct nvkv_opts *o);

struct nvkv_dev;
struct nvkv_queue;

/**
 * nvkv_open() - attach to a device.
 * @device: path of an nvkv-emu unix socket (e.g. /tmp/nvkv.sock); or "sim"
 *          for a simulated device run inside this process on a virtual clock
 *          (empty at every open, not persistent), "sim:FILE.ini" for one
 *          configured by an nvkv-emu INI file (docs/emulator-config.md, plus
 *          the [sim] section of docs/host.md); "tcp://HOST:PORT[/NQN]" for an
 *          NVMe/TCP target; "/dev/ngXnY", "nvmeX" or a subsystem NQN (each
 *          with an optional "?sqpoll") for the kernel's NVMe driver through
 *          io_uring passthrough (docs/host.md).
 * @opts: options, or NULL for the defaults.
 * @out: receives the device handle.
 *
 * Brings the controller up (reset, admin queue, Identify, Number of Queues)
 * with a timeout, so a device that never becomes ready fails cleanly.
 * Return: 0; -EINVAL @device or @out NULL, or bad options; -ENAMETOOLONG
 * @device longer than a socket path; -ENOENT/-ECONNREFUSED no emulator at
 * @device; -EPROTO it is not an nvkv device; the emulator's reason when it
 * refused this host (-EBUSY too many hosts, -EINVAL host memory rejected,
 * -ENOMEM, -EPROTO; the emulator logs why); -ETIMEDOUT no answer or the
 * controller never became ready; -EIO it reported a fatal status (CSTS.CFS);
 * -ENODEV the emulator went away; -ENOMEM; an NVMe status if it refused a
 * bring-up command.  For "sim:FILE.ini": -ENOENT the file cannot be read,
 * -EINVAL a bad key or value in it (the reason goes to stderr).  For the
 * kernel's devices: -EACCES/-EPERM not root (passthrough needs
 * CAP_SYS_ADMIN), -ENOENT no such node, -ENODEV no controller with that NQN,
 * -ENXIO the controller has no KV namespace, -ENOTTY not an NVMe char device.
 */
int nvkv_open(const char *device, const struct nvkv_opts *opts, struct nvkv_dev **out);

/* Shut the controller down (CC.SHN) and detach.  @d may be NULL. */
void nvkv_close(struct nvkv_dev *d);

struct nvkv_info {
	char backend[16]; /* "shm", "tcp", "uring" (kernel), "sim" (in-process) */
	char serial[21], model[41], firmware[9];
	uint8_t csi;	      /* 1: Key Value */
	uint32_t max_key;     /* bytes */
	uint32_t max_value;   /* bytes */
	uint32_t max_keys;    /* 0: no limit */
	uint64_t capacity;    /* bytes */
	uint64_t utilization; /* bytes in use */
	uint32_t queues;      /* I/O queue pairs granted */
	uint32_t queue_depth; /* entries per queue (device maximum) */
	uint32_t pcie_gen, pcie_lanes, pcie_mps, pcie_mrrs, pcie_rcb;
	bool dma_page;		/* PRP DMA moves whole 4 KiB pages */
	bool realtime;		/* device completes at modeled times */
	uint32_t bandslim_head; /* inline bytes of a BandSlim head (short key) */
	uint32_t bandslim_xfer; /* inline bytes per BandSlim transfer command */
	bool byteexpress;	/* SQ-appended payloads possible on this backend */
	bool sgl;		/* byte-aligned SGL Data Blocks accepted (Identify SGLS) */
};

/**
 * nvkv_identify() - what the device and the transport offer.
 * @info: filled in (capacity and utilization read from the device now, the
 *        rest as found at nvkv_open()).
 * Thread-safe, also across devices: nothing is shared between calls.
 * Return: 0; -ENODEV / -ETIMEDOUT; an NVMe status if the device refused the
 * Identify command (@info then holds what nvkv_open() found).
 */
int nvkv_identify(struct nvkv_dev *d, struct nvkv_info *info);

/**
 * nvkv_store() - store a value.
 * @key: 1..16 bytes.  @val: @vlen bytes (NULL allowed when @vlen is 0).
 * @flags: NVKV_STORE_MUST_EXIST or NVKV_STORE_MUST_NOT_EXIST, plus
 *         NVKV_F_XFER(method) to override the device's method, and
 *         NVKV_F_XFER_STRICT to refuse rather than fall back to PRP.
 * A fixed method falls back to PRP when it cannot carry the value (a
 * ByteExpress or BandSlim Store whose slots do not fit one queue, ByteExpress
 * on a backend without SQ access); nvkv_host_stats() counts the method used.
 * Return: 0; NVKV_KEY_NOT_EXIST / NVKV_KEY_EXISTS for the options;
 * NVKV_CAPACITY_EXCEEDED; another NVMe status on a device failure (e.g.
 * Write Fault); -EINVAL for a bad key length, NULL pointers, both options, an
 * unknown method or unknown flag bits; -EMSGSIZE for @vlen above the device's
 * max_value (checked on the host: NVKV_INVALID_VALUE_SIZE does not come back
 * from here); -EOPNOTSUPP with NVKV_F_XFER_STRICT when the method would
 * fall back; -ENODEV / -ETIMEDOUT on transport failure.
 */
int nvkv_store(struct nvkv_dev *d, const void *key, size_t klen, const void *val, size_t vlen,
	       unsigned int flags);

/**
 * nvkv_retrieve() - read a value.
 * @buf: receives min(@buflen, value size) bytes; may be NULL if @buflen is 0
 *       (a size query).
 * @vlen: receives the full value size (may be NULL).
 * Return: 0 (also when @buf was too small: compare *@vlen with @buflen);
 * NVKV_KEY_NOT_EXIST; NVKV_UNRECOVERED (the stored value failed its checksum
 * or could not be read); -EINVAL for a bad key length, a NULL key, or @buf
 * NULL with @buflen above 0; -ENODEV / -ETIMEDOUT.
 */
int nvkv_retrieve(struct nvkv_dev *d, const void *key, size_t klen, void *buf, size_t buflen,
		  size_t *vlen);

/* Delete a key.  Return: 0 (also for a missing key, unless the Key Value
 * Configuration has EDNEK set: nvkv_kv_config_set()), NVKV_KEY_NOT_EXIST (a
 * missing key with EDNEK set), -EINVAL (key), -ENODEV / -ETIMEDOUT. */
int nvkv_delete(struct nvkv_dev *d, const void *key, size_t klen);

/* Whether a key exists.  Return: 0 it does, NVKV_KEY_NOT_EXIST, -EINVAL (key),
 * -ENODEV / -ETIMEDOUT. */
int nvkv_exist(struct nvkv_dev *d, const void *key, size_t klen);

/* Make every completed write durable (NVMe Flush).  Return: 0; an NVMe status
 * (e.g. Write Fault) when the device could not persist; -ENODEV / -ETIMEDOUT. */
int nvkv_flush(struct nvkv_dev *d);

struct nvkv_iter;

/**
 * nvkv_iter_open() - iterate keys in sorted byte order from @start.
 * @start: first key to return if present (NULL / @slen 0: from the first key).
 * Issues List commands as needed while iterating; the first one here.
 * Return: 0; -EINVAL (@d or @out NULL, @slen above 16, @start NULL with @slen);
 * -ENOMEM; from the first List: an NVMe status, -EBADMSG (malformed List
 * data), -ENODEV / -ETIMEDOUT.
 */
int nvkv_iter_open(struct nvkv_dev *d, const void *start, size_t slen, struct nvkv_iter **out);

/**
 * nvkv_iter_open_limit() - as nvkv_iter_open(), asking each List for at most
 * @batch keys (0: as many as 64 KiB hold).  A scan of a few keys then moves
 * a few bytes instead of a full List buffer.
 */
int nvkv_iter_open_limit(struct nvkv_dev *d, const void *start, size_t slen, unsigned int batch,
			 struct nvkv_iter **out);

/**
 * nvkv_iter_next() - next key.
 * @key: set to the key bytes, valid until the next call on @it.
 * Return: 1 with a key, 0 at the end; -EBADMSG malformed List data; an NVMe
 * status, -ENODEV / -ETIMEDOUT from a List command.
 */
int nvkv_iter_next(struct nvkv_iter *it, const void **key, size_t *klen);
void nvkv_iter_close(struct nvkv_iter *it);

/* ---- asynchronous queues ---------------------------------------------------- */

/**
 * typedef nvkv_cb - completion callback.
 * @arg: the caller's argument.
 * @status: as the synchronous calls return.
 * @dw0: Retrieve: full value size; List: keys returned; else 0.
 * Called from nvkv_queue_poll()/nvkv_queue_wait() on the queue's thread.
 */
typedef void (*nvkv_cb)(void *arg, int status, uint32_t dw0);

/**
 * nvkv_queue_open() - a private I/O queue pair for the calling thread.
 * Return: 0; -EBUSY when every queue the device granted is taken (the first
 * is the synchronous calls'); -ENOMEM (also: host memory exhausted); an NVMe
 * status, -ENODEV / -ETIMEDOUT if creating the queue on the device failed.
 */
int nvkv_queue_open(struct nvkv_dev *d, struct nvkv_queue **out);
/* Wait for outstanding commands (bounded by the timeout), then release. */
void nvkv_queue_close(struct nvkv_queue *q);

/*
 * Submission: the command is placed in the submission queue but the doorbell
 * is rung only by nvkv_queue_kick(), nvkv_queue_poll() or nvkv_queue_wait(),
 * so a batch of submissions costs one doorbell.  Buffers (@val, @buf) must
 * stay valid until the callback ran; @key is copied.
 * Return: 0; -EAGAIN when the queue is full (poll, then retry); -EINVAL (as
 * the synchronous call); -EMSGSIZE (Store above max_value); -EOPNOTSUPP
 * (NVKV_F_XFER_STRICT and the method would fall back); -ENODEV /
 * -ETIMEDOUT once the queue has failed (device gone, a command timed out).
 * The command's own outcome comes to the callback, as the synchronous calls
 * return it.
 */
int nvkv_submit_store(struct nvkv_queue *q, const void *key, size_t klen, const void *val,
		      size_t vlen, unsigned int flags, nvkv_cb cb, void *arg);
int nvkv_submit_retrieve(struct nvkv_queue *q, const void *key, size_t klen, void *buf,
			 size_t buflen, nvkv_cb cb, void *arg);
int nvkv_submit_delete(struct nvkv_queue *q, const void *key, size_t klen, nvkv_cb cb, void *arg);
int nvkv_submit_exist(struct nvkv_queue *q, const void *key, size_t klen, nvkv_cb cb, void *arg);

/* Ring the doorbell for everything submitted since the last ring. */
void nvkv_queue_kick(struct nvkv_queue *q);

/**
 * nvkv_queue_poll() - ring, then reap completions without waiting.
 * Return: completions reaped (callbacks run), or -ENODEV / -ETIMEDOUT when
 * the device died or a command passed its timeout (its callback got the
 * same error).
 */
int nvkv_queue_poll(struct nvkv_queue *q);

/**
 * nvkv_queue_wait() - poll until @min completions were reaped or nothing is
 * outstanding; spins briefly, then sleeps on the completion interrupt.
 * Return: completions reaped, or a negative errno as nvkv_queue_poll().
 */
int nvkv_queue_wait(struct nvkv_queue *q, unsigned int min);

/* Commands submitted and not yet completed. */
unsigned int nvkv_queue_inflight(const struct nvkv_queue *q);

/* ---- namespaces ---------------------------------------------------------------- */

/*
 * A device may hold several namespaces, each of one I/O command set: the KV
 * namespace (today NSID 1) and an NVM (block) namespace (NSID 2 when both
 * exist).  libnvkv enumerates them at nvkv_open() -- Identify CNS 02h (active
 * NSID list), then per NSID CNS 03h (its CSI descriptor; none means NVM) and
 * the command set's Identify Namespace (NVM: CNS 00h; KV: CNS 05h, CSI 01h) --
 * and never assumes an NSID: find them with nvkv_ns_list() / nvkv_ns_first().
 */
#define NVKV_CSI_NVM 0x00 /* NVM (block) command set */
#define NVKV_CSI_KV 0x01  /* Key Value command set */

struct nvkv_ns_info {
	uint32_t nsid;
	uint8_t csi;	       /* NVKV_CSI_NVM, NVKV_CSI_KV, or another set (listed only) */
	uint8_t lbaf;	       /* NVM: LBA format in use (FLBAS bits 3:0 and 6:5) */
	uint8_t nlbaf;	       /* NVM: number of LBA formats (NLBAF + 1) */
	uint32_t lba_size;     /* NVM: bytes per logical block; else 0 */
	uint64_t blocks;       /* NVM: NSZE, logical blocks; else 0 */
	uint64_t size;	       /* bytes: NVM NSZE x lba_size; KV NSZE (bytes already) */
	uint64_t capacity;     /* bytes: NVM NCAP x lba_size; KV NSZE */
	uint64_t used;	       /* bytes: NVM NUSE x lba_size; KV NUSE */
	uint32_t max_transfer; /* NVM: most data bytes one Read/Write moves here
				* (MDTS, libnvkv's per-queue buffers, 65536
				* blocks); KV: the largest value */
};

/**
 * nvkv_ns_list() - enumerate the device's active namespaces now.
 * @ns: receives up to @max entries in NSID order (may be NULL when @max is 0).
 * @count: receives the number of active namespaces (may exceed @max).
 * Sends the Identify commands again (sizes and utilization are current) and
 * refreshes what the block calls use.  Thread-safe.
 * Return: 0; -EINVAL (@d or @count NULL, @ns NULL with @max); -ENOMEM;
 * -EBADMSG a malformed descriptor list; an NVMe status if the device refused
 * an Identify; -ENODEV / -ETIMEDOUT.
 */
int nvkv_ns_list(struct nvkv_dev *d, struct nvkv_ns_info *ns, unsigned int max,
		 unsigned int *count);

/**
 * nvkv_ns_get() - a namespace as last enumerated (at nvkv_open() or by
 * nvkv_ns_list()); sends nothing.  Thread-safe.
 * Return: 0; -EINVAL (@d or @ns NULL); -ENXIO no active namespace @nsid.
 */
int nvkv_ns_get(struct nvkv_dev *d, uint32_t nsid, struct nvkv_ns_info *ns);

/* Every namespace of the device, for nvkv_format(). */
#define NVKV_NSID_ALL 0xffffffffu

/**
 * nvkv_format() - Format NVM (admin opcode 80h): erase namespace @nsid.
 * @nsid: an active namespace, or NVKV_NSID_ALL for every one.
 * A KV namespace loses every key; a block namespace reads zeros everywhere.
 * Each keeps its format (LBA size; the KV namespace has one).  The device
 * makes the erase durable before it answers: after success nothing erased
 * comes back, not even after a crash of the device.  Every host attached
 * sees the namespace empty; commands in flight on it meanwhile (this or
 * another host's) complete before or after the erase, so quiesce them
 * first.  Then enumerates the namespaces again (their utilization).
 * Thread-safe.
 * Return: 0; -EINVAL (@d NULL, @nsid 0); -ENXIO (no active namespace
 * @nsid, as last enumerated); the device's NVMe status (e.g. INVALID FORMAT,
 * INTERNAL when its catalog failed: then nothing was erased); -ENODEV /
 * -ETIMEDOUT.
 */
int nvkv_format(struct nvkv_dev *d, uint32_t nsid);

/**
 * nvkv_ns_first() - the lowest active NSID of command set @csi, or 0 if the
 * device has none (as last enumerated; sends nothing).  Thread-safe.
 */
uint32_t nvkv_ns_first(struct nvkv_dev *d, uint8_t csi);

/* ---- NVM (block) command set ------------------------------------------------------ */

/*
 * Block I/O on an NVM namespace.  The NSID is chosen per call (one device, or
 * one queue, serves every namespace; keep it in your own handle if you like).
 * @slba is the first logical block, @nlb the number of blocks (1..65536,
 * a count: the 0's based wire value is made here).  Data moves through the
 * same DMA-able host memory as KV values (copied into the queue's buffer,
 * PRP lists above two pages); @buf is @nlb x lba_size bytes.
 *
 * Return: 0; the device's NVMe status, e.g. 0x80 LBA OUT OF RANGE (blocks
 * past the namespace's end are not checked here: the device answers),
 * 0x0b Invalid Namespace, 0x281 Unrecovered Read Error, 0x280 Write Fault;
 * -EINVAL (@d or @buf NULL, @nlb 0 or above 65536, unknown flag bits, more
 * than 256 DSM ranges or none); -ENXIO @nsid is not an active NVM namespace
 * of the device (as last enumerated); -EMSGSIZE more data than max_transfer;
 * -ENODEV / -ETIMEDOUT.
 */
#define NVKV_BLK_MAX_NLB 65536u
#define NVKV_BLK_FUA 0x1u  /* Read, Write, Write Zeroes: Force Unit Access */
#define NVKV_BLK_DEAC 0x2u /* Write Zeroes: also deallocate the blocks */

/* Dataset Management attributes (CDW11) and one range (a count, 1's based). */
#define NVKV_DSM_IDR 0x1u /* integral dataset for read */
#define NVKV_DSM_IDW 0x2u /* integral dataset for write */
#define NVKV_DSM_AD 0x4u  /* deallocate: the blocks read as zeros afterwards */
#define NVKV_DSM_MAX_RANGES 256u
struct nvkv_dsm_range {
	uint64_t slba;
	uint32_t nlb;	/* logical blocks (0 is allowed by the spec: an empty range) */
	uint32_t cattr; /* context attributes, usually 0 */
};

int nvkv_blk_read(struct nvkv_dev *d, uint32_t nsid, uint64_t slba, uint32_t nlb, void *buf,
		  unsigned int flags);
int nvkv_blk_write(struct nvkv_dev *d, uint32_t nsid, uint64_t slba, uint32_t nlb, const void *buf,
		   unsigned int flags);
int nvkv_blk_write_zeroes(struct nvkv_dev *d, uint32_t nsid, uint64_t slba, uint32_t nlb,
			  unsigned int flags);
/* Dataset Management with attributes @attrs (NVKV_DSM_*) over @nr ranges (1..256). */
int nvkv_blk_dsm(struct nvkv_dev *d, uint32_t nsid, unsigned int attrs,
		 const struct nvkv_dsm_range *r, unsigned int nr);
/* nvkv_blk_dsm() with NVKV_DSM_AD. */
int nvkv_blk_deallocate(struct nvkv_dev *d, uint32_t nsid, const struct nvkv_dsm_range *r,
			unsigned int nr);
/* Flush @nsid (an active namespace of any command set, or 0xffffffff: all). */
int nvkv_blk_flush(struct nvkv_dev *d, uint32_t nsid);

/*
 * Asynchronous forms, on a queue from nvkv_queue_open(), as the KV
 * submissions: rung by kick/poll/wait, the outcome comes to @cb (dw0 0).
 * @buf of a read must stay valid until the callback ran (the data is copied
 * there on completion); the data of a write and the DSM ranges are copied at
 * submission.  Return as the synchronous calls, plus -EAGAIN when the queue
 * or its DMA buffer is full (poll, then retry).
 */
int nvkv_submit_blk_read(struct nvkv_queue *q, uint32_t nsid, uint64_t slba, uint32_t nlb,
			 void *buf, unsigned int flags, nvkv_cb cb, void *arg);
int nvkv_submit_blk_write(struct nvkv_queue *q, uint32_t nsid, uint64_t slba, uint32_t nlb,
			  const void *buf, unsigned int flags, nvkv_cb cb, void *arg);
int nvkv_submit_blk_write_zeroes(struct nvkv_queue *q, uint32_t nsid, uint64_t slba, uint32_t nlb,
				 unsigned int flags, nvkv_cb cb, void *arg);
int nvkv_submit_blk_dsm(struct nvkv_queue *q, uint32_t nsid, unsigned int attrs,
			const struct nvkv_dsm_range *r, unsigned int nr, nvkv_cb cb, void *arg);
int nvkv_submit_blk_flush(struct nvkv_queue *q, uint32_t nsid, nvkv_cb cb, void *arg);

/* ---- statistics and errors ------------------------------------------------------ */

struct nvkv_host_stats {
	uint64_t cmds[NVKV_XFER_NUM]; /* Stores per method actually used */
	uint64_t sqes[NVKV_XFER_NUM]; /* SQ slots consumed per method */
	uint64_t key_bytes;
	uint64_t value_bytes_out; /* stored */
	uint64_t value_bytes_in;  /* retrieved */
	uint64_t retrieves, deletes, exists, lists, flushes;
	uint64_t errors; /* calls that did not return 0 */
	/* NVM namespaces */
	uint64_t blk_reads, blk_writes, blk_write_zeroes, blk_dsms, blk_flushes;
	uint64_t blk_bytes_read, blk_bytes_written;
};

/* Sum of the host-side counters of all queues. */
void nvkv_host_stats(struct nvkv_dev *d, struct nvkv_host_stats *st);

/**
 * nvkv_device_stats() - read the device's statistics log (log page C0h).
 * @log: receives struct kvc_stats_log (cmdset/stats.h); @len its size.
 * Return: 0; -EINVAL (@log NULL, @len below 8, not a multiple of 4 or above
 * 64 KiB); an NVMe status; -ENODEV / -ETIMEDOUT.
 */
int nvkv_device_stats(struct nvkv_dev *d, void *log, size_t len);

/**
 * nvkv_ns_stats() - the statistics log (C0h) of one namespace: Get Log Page
 * with NSID @nsid (0 or 0xffffffff: the whole device, as nvkv_device_stats()).
 * A device whose log predates per-namespace statistics answers with the
 * device's log: check its nsid field (cmdset/stats.h) before reading it as
 * the namespace's.
 * Return: as nvkv_device_stats().
 */
int nvkv_ns_stats(struct nvkv_dev *d, uint32_t nsid, void *log, size_t len);

/* Name of a method ("prp", "bandslim", ...), or NULL when out of range. */
/**
 * nvkv_set_feature() - Set Features (admin opcode 09h).
 * @fid: feature identifier (CDW10 7:0).
 * @nsid: namespace, for namespace-specific features (0 otherwise).
 * @value: CDW11, the feature's value.
 * @save: set SV: the device also saves the value across power cycles.
 * @dw0: receives CQE DW0 (may be NULL).
 * Return: 0; -EINVAL (@d NULL); the device's NVMe status (e.g. FEATURE
 * IDENTIFIER NOT SAVEABLE, INVALID FIELD for an unknown @fid); -ENODEV /
 * -ETIMEDOUT.  Features with a data buffer are not supported here.
 */
int nvkv_set_feature(struct nvkv_dev *d, uint8_t fid, uint32_t nsid, uint32_t value, bool save,
		     uint32_t *dw0);

/**
 * nvkv_get_feature() - Get Features (admin opcode 0Ah).
 * @sel: 0 current, 1 default, 2 saved value, 3 supported capabilities
 *       (bit 0 saveable, bit 1 namespace specific, bit 2 changeable).
 * @value: receives CQE DW0.
 * Return: 0; -EINVAL (@d or @value NULL, @sel above 3); an NVMe status;
 * -ENODEV / -ETIMEDOUT.
 */
int nvkv_get_feature(struct nvkv_dev *d, uint8_t fid, uint32_t nsid, unsigned int sel,
		     uint32_t *value);

/* Key Value Configuration feature (FID 20h), per namespace.  EDNEK, Error on
 * Delete of Non-Existent Key: clear (the default), nvkv_delete() of a missing
 * key returns 0; set, it returns NVKV_KEY_NOT_EXIST. */
#define NVKV_FEAT_KV_CONFIG 0x20
#define NVKV_KV_CONFIG_EDNEK 0x1u

/**
 * nvkv_kv_config_set() / nvkv_kv_config_get() - the Key Value Configuration
 * of the namespace the KV calls use.  The setting belongs to the namespace:
 * every host attached to the device sees it.  It lasts until the device is
 * powered off (the emulator restarts), unless @save also saves it; the saved
 * value is the one a restarted device starts with.
 * @config: NVKV_KV_CONFIG_EDNEK or 0.  @sel: as nvkv_get_feature().
 * Return: 0; -EINVAL (@config has other bits, @sel above 3, NULL pointers);
 * an NVMe status; -ENODEV / -ETIMEDOUT.
 */
int nvkv_kv_config_set(struct nvkv_dev *d, uint32_t config, bool save);
int nvkv_kv_config_get(struct nvkv_dev *d, unsigned int sel, uint32_t *config);

const char *nvkv_xfer_name(enum nvkv_xfer m);
/**
 * nvkv_xfer_check() - which method a Store would travel by, and why.
 * @m: the method asked for; NVKV_XFER_DEFAULT: the device's method.
 * @klen, @vlen: key and value sizes of the Store.
 * @used: receives NVKV_XFER_PRP, _BANDSLIM, _BYTEEXPRESS or _SGL.
 * @why: receives (up to @whylen bytes, NUL-terminated) why *@used is not @m,
 *       e.g. "value > 3968 B: its 64 B chunks do not fit a 64-entry queue",
 *       or "" when it is; may be NULL when @whylen is 0.
 * Sends nothing; the answer holds for every queue of @d (they share a size).
 * Thread-safe.
 * Return: 0; -EINVAL (@d or @used NULL, @klen not 1..16, @m out of range).
 */
int nvkv_xfer_check(struct nvkv_dev *d, enum nvkv_xfer m, size_t klen, size_t vlen,
		    enum nvkv_xfer *used, char *why, size_t whylen);
/* Parse a method name; -EINVAL if unknown. */
int nvkv_xfer_parse(const char *name, enum nvkv_xfer *m);

/**
 * nvkv_strerror() - describe a return value.
 * Return: "Success", strerror(-rc) for negative values, or the NVMe status
 * name with its code, e.g. "KEY DOES NOT EXIST (0x87)".  Static storage for
 * status codes, valid until the next call in the same thread.
 */
const char *nvkv_strerror(int rc);

/**
 * nvkv_admin_raw() / nvkv_io_raw() - send any 64-byte command (passthrough).
 * @sqe: the command; the command id and, for PRP data, the data pointer are
 *       set by the driver.
 * @data: buffer of @len bytes moved in the direction of the opcode's bits
 *        1:0 (NULL/0 for none); for I/O commands on queue 1 of the sync path.
 * @dw0: receives CQE DW0 (may be NULL).
 * Return: 0; -EINVAL (@sqe NULL, @data NULL with @len, @len above
 * max_value + 4 KiB); the device's NVMe status (malformed commands come back
 * with one); -ENODEV / -ETIMEDOUT.  A ByteExpress head (opcode C8h) owns the ceil(size / 64)
 * SQ slots after it (docs/wire-formats.md): sent here with a size above 0 it
 * makes its queue wait for chunks that never come, and the call times out.
 */
int nvkv_admin_raw(struct nvkv_dev *d, void *sqe, void *data, size_t len, uint32_t *dw0);
int nvkv_io_raw(struct nvkv_dev *d, void *sqe, void *data, size_t len, uint32_t *dw0);

/**
 * nvkv_clock_ns() - the device's clock, in nanoseconds.
 *
 * A simulated device ("sim") runs on a virtual clock that moves only as the
 * model says (firmware, PCIe and NAND times); host CPU time costs no virtual
 * time.  Time every operation of a benchmark with this clock so that its
 * figures are the device's, reproducible on any machine.  Other devices
 * return CLOCK_MONOTONIC.  Thread-safe.
 */
uint64_t nvkv_clock_ns(struct nvkv_dev *d);

/* Whether nvkv_clock_ns() is a virtual (modeled) clock. */
bool nvkv_clock_virtual(const struct nvkv_dev *d);

/**
 * nvkv_clock_sleep() - let @ns nanoseconds of the device's clock pass.
 * On a simulated device the virtual clock moves on (the device completes
 * what falls due meanwhile); otherwise the calling thread sleeps.
 */
void nvkv_clock_sleep(struct nvkv_dev *d, uint64_t ns);

#ifdef __cplusplus
}
#endif

#endif /* NVKV_H */
