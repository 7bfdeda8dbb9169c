/* SPDX-License-Identifier: MIT */
/*
 * Firmware internals shared by the controller (ctrl.c), admin commands
 * (admin.c), the namespaces (kvns.c), command services (cmd.c), the catalog
 * batch (batch.c), statistics (stats.c) and the subsystem (subsys.c).  Not
 * for use outside firmware/ (unit tests aside).
 *
 * Layers, each calling only those below it (no call cycle):
 *   subsys -> ctrl -> admin -> namespaces (kvns) -> batch -> cmd -> stats,
 *   and the leaves: dma, pcie, nand, index, vlog, alloc, crc.
 * Upward calls go through tables: the opcode rows and struct fw_ns_ops.
 */
#ifndef FW_INTERNAL_H
#define FW_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "cmdset/cmdset.h"
#include "ftl.h"
#include "fw.h"
#include "index.h"
#include "vlog.h"

struct fw_cmd;

/* Handler of one opcode: returns the command's status (0 = success). */
typedef uint16_t (*fw_handler)(struct fw_cmd *cmd);

/* One row of a command set's opcode table: dispatch and the effects log
 * both read these tables, so they are the single record of what a command
 * set supports. */
struct fw_cmd_desc {
	uint8_t opc;
	uint8_t stat_op;  /* enum kvc_stat_op */
	uint32_t effects; /* Commands Supported and Effects entry */
	fw_handler fn;
};

struct fw_ns;
struct fw_sq;

/*
 * A namespace kind: its command set, opcode table and how it answers
 * Identify, plus the hooks the controller and the subsystem call.  Optional
 * hooks may be NULL.
 */
#define FW_FORMAT_CURRENT 0xffffffffu /* fw_ns_ops.format(): keep the current format */

struct fw_ns_ops {
	uint8_t csi;
	const struct fw_cmd_desc *cmds;
	unsigned int ncmds;
	/* Identify Namespace, CNS 00h (NVM structure), 4096 bytes; NULL: this
	 * namespace has none (CNS 00h answers INVALID I/O COMMAND SET). */
	void (*identify_ns)(const struct fw_ns *ns, void *buf);
	/* I/O command set specific Identify Namespace (CNS 05h), 4096 bytes. */
	void (*identify_csi)(const struct fw_ns *ns, void *buf);
	/* Capacity in bytes, for the host and the logs. */
	uint64_t (*capacity)(const struct fw_ns *ns);
	/*
	 * Request the cache lines the @n commands from @sqe on, fetched behind
	 * the current one and all of this namespace, will read (no state
	 * changes: they may never run, or run on other state); NULL: none.
	 * Two stages: prefetch() gives each a hint (NULL: none) in @hints that
	 * prefetch_data() (NULL: none) may use while no command has run since,
	 * e.g. the index leaf whose entry names the value to prefetch; @dma
	 * (the controller's) for the host buffer it will write.
	 */
	void (*prefetch)(const struct fw_ns *ns, const struct kvc_sqe *sqe, uint32_t n,
			 const void **hints);
	void (*prefetch_data)(const struct fw_ns *ns, const struct kvc_sqe *sqe, const void *hint,
			      const struct fw_dma *dma);
	/* SQ slots after @sqe that belong to it (ByteExpress chunks). */
	uint32_t (*frame)(const struct kvc_sqe *sqe, uint32_t sq_size);
	/* @sq is deleted or reset: drop what the namespace keeps per SQ. */
	void (*sq_deleted)(struct fw_ns *ns, struct fw_sq *sq);
	/* A deferred command of this namespace was aborted (token @tok). */
	void (*aborted)(struct fw_ns *ns, uint64_t tok);
	/* Flush: make what was completed durable; an NVMe status. */
	uint16_t (*flush)(struct fw_ns *ns);
	/* Fill the namespace's own fields of its statistics log (stats.c fills
	 * the command counters); NULL: none. */
	void (*stats)(const struct fw_ns *ns, struct kvc_stats_log *l);
	/*
	 * Namespace-specific features (Set/Get Features): INVALID FIELD for a
	 * @fid this kind does not have.  @save: also keep it across power
	 * cycles (FEATURE IDENTIFIER NOT SAVEABLE if it cannot).  @sel: enum
	 * kvc_feat_sel; KVC_SEL_SUPPORTED answers the KVC_FEAT_CAP_* bits.
	 */
	uint16_t (*set_feature)(struct fw_ns *ns, uint8_t fid, uint32_t value, bool save);
	uint16_t (*get_feature)(const struct fw_ns *ns, uint8_t fid, uint8_t sel, uint32_t *value);
	/*
	 * Format NVM with format index @lbaf: erase what the namespace holds
	 * (a KV namespace drops every key, a block namespace reads zeros
	 * everywhere) through the catalog batch; the admin handler commits it.
	 * An NVMe status (INVALID FORMAT for an index it does not offer).
	 * FW_FORMAT_CURRENT: the namespace's current format (a broadcast).
	 * NULL: the namespace cannot be formatted (INVALID FIELD).
	 */
	uint16_t (*format)(struct fw_ns *ns, uint32_t lbaf);
	void (*destroy)(struct fw_ns *ns);
};

#define FW_MAX_NS 4

/* A namespace, held by the subsystem at s->ns[nsid]. */
struct fw_ns {
	uint32_t nsid;
	const struct fw_ns_ops *ops;
	struct fw_subsys *s;
	void *priv; /* the namespace kind's state */
	/* Dispatch (ctrl.c): opcode -> 1 + its row of row_ops->cmds, 0 for
	 * none; made from the table when the controller first meets @ops, so
	 * the table stays the one record. */
	const struct fw_ns_ops *row_ops;
	uint8_t row[256];
};

extern const struct fw_cmd_desc fw_admin_cmds[];
extern const unsigned int fw_admin_ncmds;

/* BandSlim reassembly state, one per SQ. */
struct fw_bs_seq {
	bool active;
	struct kvc_bs_store hdr;
	uint32_t got;	   /* value bytes received (PRP part included) */
	uint64_t arrival;  /* of the head */
	uint64_t fw_end;   /* when the firmware finished the sequence's last command */
	uint16_t head_cid; /* for the error log if the sequence is abandoned */
	uint8_t *buf;	   /* max_value bytes, allocated on first use */
};

struct fw_sq {
	bool valid;
	uint16_t cqid;
	uint32_t size;
	uint64_t base;
	uint32_t head;
	uint32_t tail;
	uint32_t db_seen; /* last doorbell value observed */
	/* The command at head waits for its ByteExpress chunks: skip the
	 * queue until the tail moves past frame_tail. */
	bool frame_wait;
	uint32_t frame_tail;
	struct fw_bs_seq bs;
};

struct fw_cq {
	bool valid;
	bool ien;
	bool phase;
	bool irq_due;
	uint16_t iv;
	uint16_t nsq; /* SQs bound to it */
	uint32_t size;
	uint64_t base;
	uint32_t head;
	uint32_t tail;
	uint32_t db_seen;
	uint32_t reserved; /* commands fetched whose CQE is not posted yet */
};

/* A completion waiting to be posted. */
struct fw_cpl {
	uint64_t due;
	uint64_t seq; /* FIFO among equal due times */
	uint32_t dw0;
	uint32_t dw1;
	uint16_t sqid;
	uint16_t cqid;
	uint16_t cid;
	uint16_t status;
	uint8_t stat_op;
	uint64_t batch;	 /* catalog batch its success depends on; 0: none */
	uint64_t err_no; /* Error Count of its error log entry; 0: none */
};

#define FW_MAX_AER 4
#define FW_MAX_EVENTS 16
#define FW_ERR_LOG 64

struct fw_ctrl {
	struct fw_subsys *s;
	const struct fw_host_if *hif;
	uint16_t cntlid;
	struct fw_dma dma;
	uint32_t cc;
	uint32_t csts;
	uint32_t dstrd;
	uint32_t nr_ioq; /* I/O queue pairs granted by Set Features (NoQ) */
	bool noq_set;
	struct fw_sq sq[FW_MAX_IOQ + 1];
	struct fw_cq cq[FW_MAX_IOQ + 1];
	uint32_t rr; /* round-robin position among I/O SQs */
	/* features */
	uint32_t feat_arb;
	uint32_t feat_coal;
	uint32_t feat_aec;
	uint32_t feat_power;
	uint32_t feat_temp;
	uint32_t feat_errrec;
	uint32_t feat_kato;
	uint32_t feat_iocs;
	bool wce; /* volatile write cache enabled */
	/* asynchronous events */
	uint16_t aer_cid[FW_MAX_AER];
	unsigned int naer;
	uint32_t events[FW_MAX_EVENTS];
	unsigned int nevents;
	/* error log, newest at err[(err_count - 1) % FW_ERR_LOG] */
	struct kvc_error_log_entry err[FW_ERR_LOG];
	uint64_t err_count;
	/* completions not yet posted: due now (FIFO ring) or later (min-heap) */
	struct fw_cpl *fifo;
	uint32_t fifo_head, fifo_n, fifo_cap; /* fifo_cap: a power of two */
	struct fw_cpl *heap;
	uint32_t nheap;
	uint32_t heap_cap;
	uint64_t cpl_seq;
	bool cpl_starved; /* no memory to reserve completions: fetching waits */
	bool irq_pending; /* some CQ's irq_due may be set */
	uint64_t now;	  /* clock read once per fetch burst */
	uint64_t polls;
	uint64_t polls_quiet; /* polls that found no doorbell moved and no SQ entry waiting */
	uint64_t sq_visits;   /* SQs process_sq() examined (tests count skipped queues) */
	uint64_t log_window;
	uint32_t log_lines;
	/* deferred commands (cmd.c) */
	struct fw_pend *pend;
	uint32_t npend, pend_cap;
	/* fabric controllers (fabric.c): commands arrive as capsules into a
	 * ring per SQ, completions leave through hif->post_cqe */
	bool fabric;
	/* Fabrics commands (opcode 7Fh) of a connected fabric controller: set
	 * by fabric.c at Connect, so the controller calls up through it. */
	uint16_t (*fabric_exec)(struct fw_cmd *cmd);
	struct kvc_sqe *ring[FW_MAX_IOQ + 1];
	uint8_t hostid[16];
	uint64_t ka_last; /* clock of the last Keep Alive, command (TBKAS) or Connect */
	bool ka_traffic;  /* a command arrived since the last poll: restarts the timer */
	bool ka_expired;
	struct fw_ctrl *next; /* subsystem's list */
};

/* The command being executed. */
struct fw_cmd {
	struct fw_ctrl *c;
	struct fw_ns *ns; /* NULL for admin commands */
	struct fw_sq *sq;
	uint16_t sqid;
	struct kvc_sqe sqe;
	const struct kvc_sqe *pre; /* SQEs fetched after this one in the same burst */
	uint32_t npre;
	uint32_t consumed;     /* extra SQ slots this command used (ByteExpress) */
	uint32_t consumed_pre; /* ... of them fetched in the command\'s own burst */
	uint64_t arrival;      /* model time the command was fetched */
	uint64_t start;	       /* model time a firmware core takes it */
	uint64_t fw_ns;	       /* firmware time it costs (fw_cmd_charge) */
	uint64_t done;	       /* model time the command completes */
	uint32_t dw0;
	uint32_t dw1; /* Property Get of an 8-byte property */
	uint8_t stat_op;
	uint8_t method; /* enum kvc_stat_method */
	bool stored;	/* a Store completed (counted per method) */
	bool logged;	/* it changed the catalog batch (see batch.c) */
	uint32_t value_bytes;
	uint64_t tok;		   /* deferred: its token (fw_cmd_defer) */
	struct kvc_pcie_cost cost; /* traffic attributable to this command */
};

/*
 * The cost model (docs/device.md): @cmd keeps its firmware core @ns longer,
 * and whatever it does next (NAND, completion) happens that much later.
 */
static inline void fw_cmd_charge(struct fw_cmd *cmd, uint64_t ns)
{
	cmd->fw_ns += ns;
	cmd->done += ns;
}

/* The firmware cannot start @cmd before @t (it waits on its core). */
static inline void fw_cmd_not_before(struct fw_cmd *cmd, uint64_t t)
{
	if (t > cmd->start) {
		cmd->done += t - cmd->start;
		cmd->start = t;
	}
}

/* A deferred command waiting for fw_pend_complete(). */
struct fw_pend {
	struct fw_cmd cmd;
};

struct fw_stats {
	uint64_t cmds[KVC_OP_NUM];
	uint64_t errors[KVC_OP_NUM];
	uint64_t lat_sum[KVC_OP_NUM];
	uint64_t lat_hist[KVC_OP_NUM][KVC_LAT_BUCKETS];
	uint64_t m_cmds[KVC_XM_NUM];
	uint64_t m_stores[KVC_XM_NUM];
	uint64_t m_value_bytes[KVC_XM_NUM];
	struct fw_pcie_count m_pcie[KVC_XM_NUM];
	uint64_t key_bytes;
	uint64_t value_in;
	uint64_t value_out;
	uint64_t blk_in;  /* logical-block bytes written (block namespace) */
	uint64_t blk_out; /* ... and read */
	uint64_t aer_events;
	uint64_t model_ns;
	uint64_t fabric_rx; /* bytes a fabric transport received / sent */
	uint64_t fabric_tx;
};

/* One change of the uncommitted catalog batch, to undo it (batch.c). */
struct fw_undo {
	struct fw_idx_val old; /* what the key mapped to before, if had_old */
	struct fw_idx_val cur; /* what it maps to after, if had_cur */
	uint8_t key[FW_KEY_MAX];
	uint8_t klen;
	bool had_old;
	bool had_cur;
};

/*
 * The catalog batch: index changes made since the last successful commit,
 * in order.  A failure anywhere on the write path (catalog put/del/blob,
 * commit, staging, NAND program) rolls the index and the catalog back to the
 * last commit and fails every completion that depended on the batch.
 */
struct fw_batch {
	struct fw_undo *undo;
	uint32_t n, cap;
	uint64_t id;	      /* of the open batch; completions that need it carry it */
	uint64_t failures;    /* batches rolled back */
	uint64_t meta_errors; /* catalog operations that failed */
	uint16_t fail_st;     /* status given to the last failed batch */
	/* A rollback undid changes the write cache had already acknowledged:
	 * the next Flush (or write-cache disable) reports this status. */
	uint16_t lost_st;
};

struct fw_subsys {
	struct fw_config cfg;
	const struct fw_hal *hal;
	struct fw_nand nand;
	struct fw_index index;
	struct fw_vlog vlog; /* superblocks [0, kv_nsb); unused without a KV namespace */
	struct fw_ftl ftl;   /* superblocks [kv_nsb, all); unused without a block namespace */
	uint32_t kv_nsid;    /* 0: no KV namespace */
	uint32_t blk_nsid;   /* 0: no block namespace */
	struct fw_pcie pcie;
	struct fw_stats st;
	struct fw_stats ns_st[FW_MAX_NS + 1]; /* the same, per NSID */
	uint64_t capacity;		      /* namespace capacity, bytes */
	uint64_t start_ns;
	/* Firmware cores: when each is free (the cost model, ctrl.c). */
	uint64_t core_free[FW_MAX_CORES];
	bool persistent;
	bool dirty; /* index changes not yet committed */
	struct fw_batch batch;
	uint8_t *xbuf;			 /* staging buffer: max(max_value + 4 KiB, FW_LOG_MAX) */
	uint8_t *blob;			 /* serialized value-log layout */
	struct fw_ns *ns[FW_MAX_NS + 1]; /* by NSID; [0] unused */
	uint64_t pend_seq;		 /* last deferred-command token */
	struct fw_ctrl *ctrls;
};

static inline struct fw_ns *fw_subsys_ns(const struct fw_subsys *s, uint32_t nsid)
{
	return nsid >= 1 && nsid <= FW_MAX_NS ? s->ns[nsid] : NULL;
}

/* ---- the BAR ---- */

static inline uint32_t fw_bar_load(const struct fw_ctrl *c, uint32_t off)
{
	return __atomic_load_n(&c->hif->bar[off / 4], __ATOMIC_ACQUIRE);
}

static inline void fw_bar_store(struct fw_ctrl *c, uint32_t off, uint32_t v)
{
	__atomic_store_n(&c->hif->bar[off / 4], v, __ATOMIC_RELEASE);
}

static inline uint64_t fw_bar_load64(const struct fw_ctrl *c, uint32_t off)
{
	return fw_bar_load(c, off) | (uint64_t)fw_bar_load(c, off + 4) << 32;
}

/* A deleted queue's doorbell register returns to 0, like the queue's state. */
static inline void fw_ctrl_clear_doorbell(struct fw_ctrl *c, uint16_t qid, bool sq)
{
	fw_bar_store(c, sq ? kvc_sq_tail_db(qid, c->dstrd) : kvc_cq_head_db(qid, c->dstrd), 0);
}

/* batch.c */
/* Stage, save the layout and commit the batch.  On failure the batch is
 * rolled back and s->batch.fail_st says why. */
int fw_batch_commit(struct fw_subsys *s, bool sync);
void fw_batch_init(struct fw_subsys *s);
void fw_batch_fini(struct fw_subsys *s);
/* Room for one more change; -ENOMEM.  Call before changing the index. */
int fw_batch_reserve(struct fw_subsys *s);
/*
 * The index now maps @key to @cur (@old: what it mapped before, NULL if
 * nothing); record the change and queue the catalog put.  On a catalog
 * failure the whole batch, this change included, is rolled back and the
 * error returned.  A reservation must be held.
 */
int fw_batch_put(struct fw_subsys *s, const uint8_t *key, uint8_t klen,
		 const struct fw_idx_val *old, const struct fw_idx_val *cur);
/* The index no longer maps @key (it mapped @old); as fw_batch_put(). */
int fw_batch_del(struct fw_subsys *s, const uint8_t *key, uint8_t klen,
		 const struct fw_idx_val *old);
/* Roll the batch back after @err (-errno) and fail its completions with @st. */
int fw_batch_fail(struct fw_subsys *s, int err, uint16_t st, const char *what);
/* Flush for a command: 0, the failed commit's status, or the status of an
 * earlier rollback that undid writes the write cache had acknowledged (then
 * forgotten: it is reported once). */
uint16_t fw_batch_flush_status(struct fw_subsys *s);
/* Status for a catalog error: map full is Capacity Exceeded, else Internal. */
uint16_t fw_batch_status(int err);

/* cmd.c: services of every handler, below the controller and the namespaces */
void fw_ctrl_log(struct fw_ctrl *c, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Set Controller Fatal Status. */
void fw_ctrl_fatal(struct fw_ctrl *c, const char *why);
void fw_ctrl_event(struct fw_ctrl *c, uint8_t type, uint8_t info, uint8_t lid);
/* Complete outstanding AERs with queued events. */
void fw_ctrl_deliver_events(struct fw_ctrl *c);
/* Add an Error Information log entry (log page 01h). */
void fw_ctrl_record_error(struct fw_ctrl *c, uint16_t sqid, uint16_t cid, uint16_t status,
			  uint32_t nsid);
/* Give every queued success completion of @batch the status @st instead. */
void fw_ctrl_fail_batch(struct fw_ctrl *c, uint64_t batch, uint16_t st);
/* Room for @k more completions besides those owed; -ENOMEM. */
int fw_cpl_reserve(struct fw_ctrl *c, uint32_t k);
/* Queue the completion of @cmd; posted when due and its CQ has room. */
void fw_cmd_complete(struct fw_cmd *cmd, uint16_t status);
/* Post what is due; returns the number posted. */
int fw_cpl_post_all(struct fw_ctrl *c);
/*
 * Slots from ring index @from up to @to in a ring of @size (both < @size):
 * (@to - @from) mod @size without a division, which the command path would
 * otherwise pay for every command.
 */
static inline uint32_t fw_ring_dist(uint32_t to, uint32_t from, uint32_t size)
{
	return to >= from ? to - from : to + size - from;
}

/* Entries posted to @cq and not yet consumed by the host. */
static inline uint32_t fw_cq_used(const struct fw_cq *cq)
{
	return fw_ring_dist(cq->tail, cq->head, cq->size);
}
/* @sq goes away (deleted, reset): its namespaces drop their per-SQ state. */
void fw_sq_release(struct fw_ctrl *c, struct fw_sq *sq);

/* A namespace's NGUID, the same in CNS 03h's descriptor and in the Identify
 * Namespace structures that have the field. */
void fw_ns_nguid(const struct fw_ns *ns, uint8_t nguid[16]);

/* The data-pointer mapper: a handler's data moves only through these. */
uint16_t fw_cmd_data_in(struct fw_cmd *cmd, void *buf, uint32_t len);
uint16_t fw_cmd_data_out(struct fw_cmd *cmd, const void *buf, uint32_t buflen, uint32_t len);

/*
 * Deferred completions.  A handler that cannot finish now takes a token with
 * fw_cmd_defer() (0: no memory, fail the command instead) and returns
 * FW_ST_PENDING; whoever finishes it calls fw_pend_complete().  Deleting the
 * command's SQ completes it with Command Aborted due to SQ Deletion; a
 * controller reset or detach drops it; either way the namespace's aborted
 * hook is told and a later fw_pend_complete() of the token does nothing, so
 * a completion is never lost and never posted twice.
 */
uint64_t fw_cmd_defer(struct fw_cmd *cmd);
/* The controller keeps a command that answered FW_ST_PENDING. */
void fw_cmd_park(struct fw_cmd *cmd);
/* Return: true when the command was still pending (and is now completed). */
bool fw_pend_complete(struct fw_subsys *s, uint64_t tok, uint16_t status, uint32_t dw0);
void fw_pend_abort_sq(struct fw_ctrl *c, uint16_t sqid);
void fw_pend_drop_all(struct fw_ctrl *c);

/* admin.c */
uint16_t fw_admin_exec(struct fw_cmd *cmd);

/* fabric.c: Fabrics commands (opcode 7Fh) on an existing queue, and the
 * controller register access they need (ctrl.c) */
uint16_t fw_fabric_exec(struct fw_cmd *cmd);
/* ctrl.c: free queue @qid's capsule ring (fabric controllers). */
void fw_ctrl_release_ring(struct fw_ctrl *c, uint16_t qid);
uint64_t fw_ctrl_cap(const struct fw_ctrl *c);
/* A register write by Property Set: CC runs the enable/reset/shutdown
 * state machine (the admin queue of a fabric controller survives a reset). */
void fw_ctrl_set_cc(struct fw_ctrl *c, uint32_t cc);

/* stats.c */
void fw_stats_complete(struct fw_subsys *s, const struct fw_cmd *cmd, uint16_t status);
/* The value log's counters (@vs) into a statistics log (device-wide or one namespace's). */
void fw_stats_vlog(struct kvc_stats_log *l, const struct fw_vlog_stats *vs);

/* kvns.c: the Key Value namespace. */
int fw_kvns_create(struct fw_subsys *s, uint32_t nsid, struct fw_ns **out);
/* blkns.c: the NVM (block) namespace over s->ftl. */
int fw_blkns_create(struct fw_subsys *s, uint32_t nsid, struct fw_ns **out);
/* MDTS: log2 of the largest data transfer in 4 KiB pages, room for the
 * largest value plus a page of misalignment. */
static inline uint32_t fw_mdts(const struct fw_config *c)
{
	uint32_t mdts = 0;

	while ((FW_MEM_PAGE << mdts) < c->max_value + FW_MEM_PAGE && mdts < 15)
		mdts++;
	return mdts;
}

static inline uint32_t fw_mdts_bytes(const struct fw_config *c)
{
	return FW_MEM_PAGE << fw_mdts(c);
}

static inline bool fw_has_kv(const struct fw_subsys *s)
{
	return s->kv_nsid != 0;
}

static inline bool fw_has_blk(const struct fw_subsys *s)
{
	return s->blk_nsid != 0;
}

static inline uint64_t fw_now(const struct fw_subsys *s)
{
	return s->hal->now_ns(s->hal->ctx);
}

/*
 * The controller detects a Keep Alive Timeout KATO plus a grace after the timer
 * last restarted: the spec sets KATO as the least time the controller waits and
 * leaves when it detects expiry to the controller.  The grace is KATO itself,
 * capped at FW_KATO_GRACE_MAX_MS: a Linux host sends Keep Alive every KATO / 2
 * and, with TBKAS, skips it after a completion whose command the controller may
 * have received up to KATO earlier, so a live host starved on a loaded machine
 * can leave a gap near 1.5 KATO; the cap bounds how long a dead host's
 * controller lingers (Linux's default KATO of 5 s: torn down after 10 s).
 */
#define FW_KATO_GRACE_MAX_MS 10000u

static inline uint64_t fw_kato_deadline_ns(uint32_t kato_ms)
{
	uint32_t grace = kato_ms < FW_KATO_GRACE_MAX_MS ? kato_ms : FW_KATO_GRACE_MAX_MS;

	return ((uint64_t)kato_ms + grace) * 1000000ull;
}

#define FW_ST(sc) KVC_ST_GENERIC_DNR(sc)
#define FW_VLOG_BLOB "vlog"    /* catalog blob holding the value-log layout */
#define FW_LOG_MAX (64u << 10) /* largest Get Log Page transfer */
/* A handler's answer for commands that complete later: an Asynchronous Event
 * Request (kept by the AER list), or any command parked by fw_cmd_defer(). */
#define FW_ST_NO_COMPLETION 0xffffu
#define FW_ST_PENDING 0xfffeu

#endif /* FW_INTERNAL_H */
