/* SPDX-License-Identifier: MIT */
/*
 * Test harness for the firmware: a fake HAL (clock, RAM NAND with fault
 * injection, in-memory catalog with commit semantics) and a minimal NVMe host
 * that brings a controller up and submits commands by writing SQEs and
 * doorbells exactly as a driver would, calling fw_ctrl_poll() in between.
 * Included by the firmware test programs.
 */
#ifndef TEST_FAKEHOST_H
#define TEST_FAKEHOST_H

#include <stdbool.h>
#include <stdint.h>

#include "cmdset/cmdset.h"
#include "firmware/fw.h"

#define FH_MEM_SIZE (8u << 20)
#define FH_MAX_META 4096
#define FH_MAX_BLOBS 32	 /* named blobs besides "vlog" */
#define FH_BLOB_MAX 8192 /* bytes of one of them */
#define FH_MAX_EXPECT 256

/* A named catalog blob other than "vlog" (which keeps blob/blob_len). */
struct fh_blob {
	char name[24];
	uint32_t len; /* 0: absent */
	uint8_t data[FH_BLOB_MAX];
};

struct fh_meta_rec {
	uint8_t key[16];
	uint8_t klen;
	uint8_t rec[16];
	bool live;
};

/*
 * Fault injection, SQLite style: every operation of a kind is numbered from 1
 * (fh_env.ops[kind]); a fault armed at N makes operation N fail (transient)
 * or every operation from N on (persistent).  Catalog faults behave as LMDB
 * does: after a failed put/del/blob write the transaction is dead, the next
 * commit fails and every change since the previous commit is discarded.
 */
enum fh_fault_kind {
	FH_NAND_READ,	 /* -EIO, nothing read */
	FH_NAND_PROGRAM, /* -EIO, the page is not written */
	FH_NAND_ERASE,	 /* -EIO, the block keeps its data */
	FH_META_WRITE,	 /* put/del/set_blob: -EIO */
	FH_META_FULL,	 /* put/del/set_blob: -ENOSPC (map full) */
	FH_META_COMMIT,	 /* commit: -EIO, the batch is discarded */
	FH_FAULT_KINDS
};

struct fh_fault {
	uint64_t at; /* 0: disarmed */
	bool persistent;
};

struct fh_env {
	uint64_t now;
	bool auto_clock; /* advance 100 ns on every clock read */
	/* NAND */
	uint8_t *media;
	uint64_t media_pages;
	uint32_t page_size;
	uint32_t pages_per_block;
	long fail_read_after; /* -1: never; 0: every read fails */
	uint64_t programs, reads, erases, stages;
	struct fh_fault fault[FH_FAULT_KINDS];
	uint64_t ops[FH_FAULT_KINDS];	   /* operations seen, faulty ones included */
	uint64_t injected[FH_FAULT_KINDS]; /* failures injected */
	bool txn_dead;			   /* a catalog write failed: commit must fail */
	bool frozen; /* the host process is dead: media and catalog writes fail, change nothing */
	int meta_hi; /* catalog slots ever used */
	/* catalog: committed and pending copies */
	struct fh_meta_rec meta[FH_MAX_META], pending[FH_MAX_META];
	uint8_t blob[1 << 16], pending_blob[1 << 16]; /* "vlog" */
	size_t blob_len, pending_blob_len;
	struct fh_blob blobs[FH_MAX_BLOBS], pending_blobs[FH_MAX_BLOBS];
	/* NAND operations (program, stage, erase) per physical block, NULL
	 * until fh_env_init(): which superblocks a component touched. */
	uint32_t *blk_writes;
	/* nand_expect hints, in order (the first FH_MAX_EXPECT; nexpect counts all). */
	uint64_t expected[FH_MAX_EXPECT];
	unsigned int nexpect;
	uint64_t commits;
	struct fw_hal hal;
	char last_log[256];
	unsigned int log_lines;
};

struct fh_host {
	struct fh_env *env;
	uint8_t *mem; /* host memory; address = offset */
	uint64_t brk; /* bump allocator */
	uint32_t *bar;
	struct fw_host_if hif;
	struct fw_ctrl *ctrl;
	uint64_t irqs;
	/* queues: [0] admin */
	struct {
		uint64_t sq, cq;
		uint32_t size, sqt, cqh;
		bool phase;
	} q[8];
	uint16_t next_cid;
};

void fh_env_init(struct fh_env *e, const struct fw_config *cfg, bool persistent);
void fh_env_fini(struct fh_env *e);
/* The committed blob @name (NULL when absent), to inspect or damage. */
struct fh_blob *fh_blob_find(struct fh_env *e, const char *name);
/* Simulate a crash: pending (uncommitted) catalog changes vanish. */
void fh_env_crash(struct fh_env *e);
/* Arm fault @kind at operation @at (counted from now, 1 = the next one). */
void fh_fault_arm(struct fh_env *e, enum fh_fault_kind kind, uint64_t at, bool persistent);
/* Disarm every fault and restart the operation counts. */
void fh_fault_clear(struct fh_env *e);

/* Small geometry for tests: 2 ch x 2 ways, 8 blocks x 16 pages of 4 KiB,
 * KV namespace only (blk_percent 0). */
void fh_small_config(struct fw_config *c);

void fh_host_init(struct fh_host *h, struct fh_env *e, struct fw_subsys *s);
void fh_host_fini(struct fh_host *h);
/* A subsystem from @cfg with host @h on it: admin queue of 32 entries enabled,
 * I/O queue 1 of 64 created. */
void fh_dev_start(struct fh_env *e, const struct fw_config *cfg, struct fw_subsys **s,
		  struct fh_host *h);
/* Tear down what fh_dev_start() made (a shutdown: the firmware flushes). */
void fh_dev_stop(struct fw_subsys **s, struct fh_host *h);
/* kill -9 and restart: nothing uncommitted reaches the catalog, no flush at
 * the end (the dead process's failed flush logs are not counted). */
void fh_dev_crash_restart(struct fh_env *e, const struct fw_config *cfg, struct fw_subsys **s,
			  struct fh_host *h);
uint64_t fh_alloc(struct fh_host *h, uint64_t len, uint64_t align);
/* Enable the controller; returns CSTS. */
uint32_t fh_enable(struct fh_host *h, uint32_t qsize);
/* Set Features NoQ + create I/O queue pair @qid of @size entries. */
int fh_create_ioq(struct fh_host *h, uint16_t qid, uint32_t size);
/* Place @sqe in queue @qid (cid assigned if @assign_cid), without ringing. */
uint16_t fh_put(struct fh_host *h, uint16_t qid, struct kvc_sqe *sqe, bool assign_cid);
/* Put raw 64-byte slots (ByteExpress chunks). */
void fh_put_raw(struct fh_host *h, uint16_t qid, const void *slot);
void fh_ring(struct fh_host *h, uint16_t qid);
/* Poll until a CQE arrives on @qid (max @polls); returns false on timeout. */
bool fh_reap(struct fh_host *h, uint16_t qid, struct kvc_cqe *out, unsigned int polls);
/* Submit one command and wait: returns its status; DW0 in *dw0 if not NULL. */
uint16_t fh_exec(struct fh_host *h, uint16_t qid, struct kvc_sqe *sqe, uint32_t *dw0);
/* KV helpers on queue @qid. */
uint16_t fh_store(struct fh_host *h, uint16_t qid, const char *key, const void *val, uint32_t len,
		  uint8_t opts);
uint16_t fh_retrieve(struct fh_host *h, uint16_t qid, const char *key, void *buf, uint32_t buflen,
		     uint32_t *vlen);
uint16_t fh_simple(struct fh_host *h, uint16_t qid, uint8_t opc, const char *key);

#endif /* TEST_FAKEHOST_H */
