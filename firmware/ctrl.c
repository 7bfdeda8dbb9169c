// SPDX-License-Identifier: MIT
/*
 * NVMe controller: register state machine (enable, reset, shutdown), queue
 * doorbells, round-robin arbitration with bursts, command fetch, dispatch by
 * queue and namespace, and completion posting with back-pressure when a CQ is
 * full.  Every guest mistake becomes a status, an asynchronous event or a
 * rate-limited log line; nothing the host writes can stop the controller.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "fw_internal.h"

#define MAX_CMDS_PER_POLL 512
#define STRAY_DB_CHECK_EVERY 4096

static uint32_t log2u(uint32_t v)
{
	uint32_t l = 0;

	while (v > 1) {
		v >>= 1;
		l++;
	}
	return l;
}

uint32_t fw_bar_size(const struct fw_config *cfg)
{
	return KVC_REG_DBS + (cfg->max_ioq + 1) * 8;
}

uint64_t fw_ctrl_cap(const struct fw_ctrl *c)
{
	const struct fw_config *cfg = &c->s->cfg;

	return (uint64_t)(cfg->mqes - 1) | KVC_CAP_CQR | (20ull << KVC_CAP_TO_SHIFT) |
	       KVC_CAP_CSS_NVM | KVC_CAP_CSS_IOCS;
}

static void publish_ro_regs(struct fw_ctrl *c)
{
	uint64_t cap = fw_ctrl_cap(c);

	fw_bar_store(c, KVC_REG_CAP, (uint32_t)cap);
	fw_bar_store(c, KVC_REG_CAP + 4, (uint32_t)(cap >> 32));
	fw_bar_store(c, KVC_REG_VS, KVC_VS(2, 0, 0));
	fw_bar_store(c, KVC_REG_CSTS, c->csts);
}

/* ---- reset, enable, shutdown ------------------------------------------------ */

/* Keep only the queued completions of the admin queue (a fabric controller's
 * reset keeps it); returns how many stay. */
static uint32_t keep_admin_cpls(struct fw_ctrl *c)
{
	uint32_t i, n = 0, kept = 0;

	for (i = 0; i < c->fifo_n; i++) {
		struct fw_cpl e = c->fifo[(c->fifo_head + i) & (c->fifo_cap - 1)];

		if (e.sqid == 0)
			c->fifo[(c->fifo_head + n++) & (c->fifo_cap - 1)] = e;
	}
	c->fifo_n = n;
	kept += n;
	for (i = 0, n = 0; i < c->nheap; i++)
		if (c->heap[i].sqid == 0)
			c->heap[n++] = c->heap[i];
	/* Order among the kept ones is preserved; re-heapify by re-sorting is
	 * not needed: a filtered min-heap array is not a heap in general, so
	 * keep the heap only when nothing was removed. */
	if (n != c->nheap) {
		uint32_t j, k;

		for (j = 1; j < n; j++) /* insertion sort: a sorted array is a heap */
			for (k = j; k && (c->heap[k].due < c->heap[k - 1].due ||
					  (c->heap[k].due == c->heap[k - 1].due &&
					   c->heap[k].seq < c->heap[k - 1].seq));
			     k--) {
				struct fw_cpl t = c->heap[k];

				c->heap[k] = c->heap[k - 1];
				c->heap[k - 1] = t;
			}
	}
	c->nheap = n;
	return kept + n;
}

void fw_ctrl_release_ring(struct fw_ctrl *c, uint16_t qid)
{
	if (qid > FW_MAX_IOQ)
		return;
	fw_free(c->ring[qid]);
	c->ring[qid] = NULL;
}

static void drop_queues(struct fw_ctrl *c)
{
	unsigned int i, first = c->fabric && c->sq[0].valid ? 1 : 0;

	for (i = first; i <= FW_MAX_IOQ; i++) {
		fw_sq_release(c, &c->sq[i]);
		memset(&c->sq[i], 0, sizeof(c->sq[i]));
		memset(&c->cq[i], 0, sizeof(c->cq[i]));
		fw_ctrl_release_ring(c, (uint16_t)i);
	}
	fw_pend_drop_all(c); /* no queue left to complete them to */
	if (first) {
		/* The admin queue is the fabric association's: it stays, with
		 * the completions it owes (the command resetting included). */
		c->cq[0].reserved = keep_admin_cpls(c) + 1;
	} else {
		c->nheap = 0;
		c->fifo_n = 0;
	}
	c->naer = 0;
	c->nevents = 0;
	c->nr_ioq = c->s->cfg.max_ioq;
	c->noq_set = false;
}

static void ctrl_reset(struct fw_ctrl *c)
{
	uint32_t off;

	drop_queues(c);
	/* A controller reset returns every doorbell to 0, as on real hardware;
	 * stale tails would replay old slots after the next enable. */
	for (off = KVC_REG_DBS; off < fw_bar_size(&c->s->cfg); off += 4)
		fw_bar_store(c, off, 0);
	c->csts = 0;
	c->wce = c->s->cfg.vwc;
	c->feat_arb = log2u(c->s->cfg.arb_burst);
	c->feat_coal = 0;
	publish_ro_regs(c);
}

static bool queue_base_ok(uint64_t base)
{
	return base && base % FW_MEM_PAGE == 0;
}

static void ctrl_enable(struct fw_ctrl *c, uint32_t cc)
{
	if (c->fabric) { /* the admin queue came with Connect */
		uint32_t css = (cc & KVC_CC_CSS_MASK) >> KVC_CC_CSS_SHIFT;

		if ((css != KVC_CC_CSS_NVM && css != KVC_CC_CSS_ALL && css != KVC_CC_CSS_ADMIN) ||
		    (cc & KVC_CC_MPS_MASK)) {
			fw_ctrl_log(c, FW_LOG_WARN, "enable refused: bad CC %#x", cc);
			c->csts = KVC_CSTS_CFS;
			return;
		}
		c->csts = KVC_CSTS_RDY;
		return;
	}

	uint32_t aqa = fw_bar_load(c, KVC_REG_AQA),
		 css = (cc & KVC_CC_CSS_MASK) >> KVC_CC_CSS_SHIFT;
	uint64_t asq = fw_bar_load64(c, KVC_REG_ASQ), acq = fw_bar_load64(c, KVC_REG_ACQ);
	uint32_t sqs = KVC_AQA_ASQS(aqa) + 1, cqs = KVC_AQA_ACQS(aqa) + 1;

	if (sqs < 2 || cqs < 2 || sqs > c->s->cfg.mqes || cqs > c->s->cfg.mqes ||
	    !queue_base_ok(asq) || !queue_base_ok(acq) ||
	    (css != KVC_CC_CSS_NVM && css != KVC_CC_CSS_ALL && css != KVC_CC_CSS_ADMIN) ||
	    (cc & KVC_CC_MPS_MASK)) {
		fw_ctrl_log(c, FW_LOG_WARN, "enable refused: bad AQA/ASQ/ACQ/CC (cc=%#x aqa=%#x)",
			    cc, aqa);
		c->csts = KVC_CSTS_CFS;
		return;
	}
	c->cq[0] = (struct fw_cq){
		.valid = true, .ien = true, .phase = true, .size = cqs, .base = acq, .nsq = 1
	};
	c->sq[0] = (struct fw_sq){ .valid = true, .cqid = 0, .size = sqs, .base = asq };
	c->csts = KVC_CSTS_RDY;
}

static int apply_cc(struct fw_ctrl *c, uint32_t cc)
{
	uint32_t old = c->cc;

	if (cc == old)
		return 0;
	c->cc = cc;
	if ((old & KVC_CC_EN) && !(cc & KVC_CC_EN)) {
		ctrl_reset(c);
	} else if (!(old & KVC_CC_EN) && (cc & KVC_CC_EN)) {
		ctrl_enable(c, cc);
	}
	if ((cc & KVC_CC_SHN_MASK) && !(old & KVC_CC_SHN_MASK) && (cc & KVC_CC_EN)) {
		c->csts = (c->csts & ~KVC_CSTS_SHST_MASK) | KVC_CSTS_SHST_OCCURRING;
		fw_bar_store(c, KVC_REG_CSTS, c->csts);
		if (fw_batch_flush_status(c->s))
			fw_ctrl_log(c, FW_LOG_ERR,
				    "shutdown: the flush failed or acknowledged writes were lost; "
				    "not everything the host wrote is durable");
		c->csts = (c->csts & ~KVC_CSTS_SHST_MASK) | KVC_CSTS_SHST_COMPLETE;
	}
	fw_bar_store(c, KVC_REG_CSTS, c->csts);
	return 1;
}

static int check_regs(struct fw_ctrl *c)
{
	return apply_cc(c, fw_bar_load(c, KVC_REG_CC));
}

void fw_ctrl_set_cc(struct fw_ctrl *c, uint32_t cc)
{
	fw_bar_store(c, KVC_REG_CC, cc);
	apply_cc(c, cc);
}

/* ---- doorbells ------------------------------------------------------------------ */

static void charge_doorbell(struct fw_ctrl *c)
{
	fw_pcie_add(&c->s->pcie, FW_PK_DOORBELL, c->s->pcie.doorbell);
}

static void bad_doorbell(struct fw_ctrl *c, uint16_t qid, const char *what, uint32_t v)
{
	fw_ctrl_log(c, FW_LOG_WARN, "invalid %s doorbell value %u on queue %u", what, v, qid);
	fw_ctrl_event(c, KVC_AER_TYPE_ERROR, KVC_AER_ERR_INVALID_DB_VALUE, KVC_LOG_ERROR);
}

static void read_sq_doorbell(struct fw_ctrl *c, uint16_t qid)
{
	struct fw_sq *sq = &c->sq[qid];
	uint32_t v = fw_bar_load(c, kvc_sq_tail_db(qid, c->dstrd));

	if (v == sq->db_seen)
		return;
	sq->db_seen = v;
	charge_doorbell(c);
	if (v >= sq->size) {
		bad_doorbell(c, qid, "SQ tail", v);
		return;
	}
	sq->tail = v;
}

/* Entries posted to @cq and not yet consumed by the host. */

static int read_cq_doorbells(struct fw_ctrl *c)
{
	int work = 0;
	uint16_t qid;

	for (qid = 0; qid <= c->nr_ioq; qid++) {
		struct fw_cq *cq = &c->cq[qid];
		uint32_t v, advance;

		if (!cq->valid)
			continue;
		v = fw_bar_load(c, kvc_cq_head_db(qid, c->dstrd));
		if (v == cq->db_seen)
			continue;
		cq->db_seen = v;
		charge_doorbell(c);
		advance = (v + cq->size - cq->head) % cq->size;
		if (v >= cq->size || advance > fw_cq_used(cq)) {
			bad_doorbell(c, qid, "CQ head", v);
			continue;
		}
		cq->head = v;
		work++;
	}
	return work;
}

/* Writes to doorbells of queues that do not exist. */
static void check_stray_doorbells(struct fw_ctrl *c)
{
	uint16_t qid;

	for (qid = 1; qid <= c->s->cfg.max_ioq; qid++) {
		uint32_t sdb = kvc_sq_tail_db(qid, c->dstrd), cdb = kvc_cq_head_db(qid, c->dstrd);

		if (!c->sq[qid].valid && fw_bar_load(c, sdb)) {
			fw_bar_store(c, sdb, 0);
			fw_ctrl_log(c, FW_LOG_WARN, "write to the doorbell of missing SQ %u", qid);
			fw_ctrl_event(c, KVC_AER_TYPE_ERROR, KVC_AER_ERR_INVALID_DB, KVC_LOG_ERROR);
		}
		if (!c->cq[qid].valid && fw_bar_load(c, cdb)) {
			fw_bar_store(c, cdb, 0);
			fw_ctrl_log(c, FW_LOG_WARN, "write to the doorbell of missing CQ %u", qid);
			fw_ctrl_event(c, KVC_AER_TYPE_ERROR, KVC_AER_ERR_INVALID_DB, KVC_LOG_ERROR);
		}
	}
}

/* ---- command execution ------------------------------------------------------------ */

/*
 * The fusing and data-pointer kind of any command, admin or I/O: fused
 * operations are not supported (Identify Controller FUSES = 0), PSDT 11b is
 * reserved, and over PCIe admin commands use PRPs only; on a fabric every
 * command uses SGLs.  SGLs go to the data-pointer mapper
 * (fw_cmd_data_in/out).
 */
static uint16_t check_flags(struct fw_cmd *cmd, bool admin)
{
	uint8_t f = cmd->sqe.flags, psdt = (f & KVC_SQE_PSDT_MASK) >> KVC_SQE_PSDT_SHIFT;

	if (cmd->c->fabric) {
		/* Fabrics: SGLs only (PSDT 01b), and Fabrics commands ignore it. */
		if (!(f & KVC_SQE_FUSE_MASK) && (psdt == 1 || cmd->sqe.opc == KVC_ADM_FABRICS))
			return 0;
	} else if (!(f & KVC_SQE_FUSE_MASK) && psdt != 3 && !(admin && psdt)) {
		return 0;
	}
	fw_ctrl_log(cmd->c, FW_LOG_WARN, "SQ %u CID %u opcode %#x: PSDT %u / FUSE %u unsupported",
		    cmd->sqid, kvc_sqe_cid(&cmd->sqe), cmd->sqe.opc, psdt, f & KVC_SQE_FUSE_MASK);
	return FW_ST(KVC_SC_INVALID_FIELD);
}

static uint16_t exec_admin(struct fw_cmd *cmd)
{
	struct fw_ctrl *c = cmd->c;
	uint16_t st = check_flags(cmd, true);
	uint8_t opc = cmd->sqe.opc;

	cmd->stat_op = KVC_OP_ADMIN;
	if (st || !c->fabric)
		return st ? st : fw_admin_exec(cmd);
	if (opc == KVC_ADM_FABRICS)
		return c->fabric_exec ? c->fabric_exec(cmd) : FW_ST(KVC_SC_INVALID_OPCODE);
	/* Before CC.EN only Fabrics commands; queues come with Connect. */
	if (!(c->csts & KVC_CSTS_RDY))
		return FW_ST(KVC_SC_CMD_SEQ_ERROR);
	if (opc == KVC_ADM_CREATE_SQ || opc == KVC_ADM_DELETE_SQ || opc == KVC_ADM_CREATE_CQ ||
	    opc == KVC_ADM_DELETE_CQ)
		return FW_ST(KVC_SC_INVALID_OPCODE);
	if (opc == KVC_ADM_KEEP_ALIVE)
		c->ka_last = c->now;
	return fw_admin_exec(cmd);
}

/* Flush with NSID FFFFFFFFh: every namespace; the first failure is the answer. */
static uint16_t flush_all(struct fw_cmd *cmd)
{
	struct fw_subsys *s = cmd->c->s;
	uint16_t st = 0, one;
	uint32_t i;

	for (i = 1; i <= FW_MAX_NS; i++) {
		if (!s->ns[i])
			continue;
		one = s->ns[i]->ops->flush(s->ns[i]);
		if (!st)
			st = one;
	}
	return st;
}

/*
 * The row of @ns's opcode table for @opc, NULL when its command set has none:
 * one load instead of a search of the table per command.  The index is made
 * from the table the first time and again if the namespace's ops change.
 */
static const struct fw_cmd_desc *ns_cmd(struct fw_ns *ns, uint8_t opc)
{
	if (ns->row_ops != ns->ops) {
		unsigned int i;

		memset(ns->row, 0, sizeof(ns->row));
		/* The first row of an opcode wins, as a linear search's would
		 * (a table has far fewer than 255 rows). */
		for (i = ns->ops->ncmds; i-- > 0;)
			ns->row[ns->ops->cmds[i].opc] = (uint8_t)(i + 1);
		ns->row_ops = ns->ops;
	}
	return ns->row[opc] ? &ns->ops->cmds[ns->row[opc] - 1] : NULL;
}

static uint16_t exec_io(struct fw_cmd *cmd)
{
	uint32_t nsid = kvc_sqe_nsid(&cmd->sqe);
	struct fw_ns *ns = fw_subsys_ns(cmd->c->s, nsid);
	bool broadcast = nsid == 0xffffffffu && cmd->sqe.opc == KVC_NVM_FLUSH;
	const struct fw_cmd_desc *d = ns ? ns_cmd(ns, cmd->sqe.opc) : NULL;
	uint16_t st;

	cmd->ns = ns;
	cmd->stat_op = d ? d->stat_op : broadcast ? KVC_OP_FLUSH : KVC_OP_OTHER;
	st = check_flags(cmd, false);
	if (st)
		return st;
	if (cmd->c->fabric && cmd->sqe.opc == KVC_ADM_FABRICS)
		return cmd->c->fabric_exec ? cmd->c->fabric_exec(cmd)
					   : FW_ST(KVC_SC_INVALID_OPCODE);
	if (!ns && !broadcast)
		return FW_ST(KVC_SC_INVALID_NS);
	if (((cmd->c->cc & KVC_CC_CSS_MASK) >> KVC_CC_CSS_SHIFT) == KVC_CC_CSS_ADMIN)
		return FW_ST(KVC_SC_INVALID_OPCODE);
	if (broadcast)
		return flush_all(cmd);
	if (!d)
		return FW_ST(KVC_SC_INVALID_OPCODE);
	return d->fn(cmd);
}

/*
 * SQ slots after @sqe that belong to it (ByteExpress chunks), whatever its
 * status: asked of its namespace, or for an NSID that names none, of the
 * first namespace that frames commands, so a bad NSID never runs a chunk.
 */
static uint32_t frame_of(const struct fw_ctrl *c, const struct kvc_sqe *sqe, uint32_t sq_size)
{
	const struct fw_ns *ns = fw_subsys_ns(c->s, kvc_sqe_nsid(sqe));
	uint32_t i;

	for (i = 1; !ns && i <= FW_MAX_NS; i++)
		if (c->s->ns[i] && c->s->ns[i]->ops->frame)
			ns = c->s->ns[i];
	return ns && ns->ops->frame ? ns->ops->frame(sqe, sq_size) : 0;
}

/*
 * A fetch burst's PCIe cost shared out to the commands of the burst: slots
 * [0, j) account for floor(x * j / k) of each counter x of a burst of @k
 * slots, so the parts of all slots add up to the burst exactly.  Commands
 * take their slots in order, so the running floor and its remainder advance
 * by the per-slot quotient and remainder: no division per command.
 */
struct fetch_split {
	uint32_t k;
	uint32_t q[2 * KVC_PCIE_NDIR], r[2 * KVC_PCIE_NDIR];	 /* x / k, x % k */
	uint32_t pre[2 * KVC_PCIE_NDIR], rem[2 * KVC_PCIE_NDIR]; /* slots so far */
};

static void split_init(struct fetch_split *sp, struct kvc_pcie_cost c, uint32_t k)
{
	int d;

	sp->k = k;
	for (d = 0; d < KVC_PCIE_NDIR; d++) {
		sp->q[d] = c.bytes[d] / k;
		sp->r[d] = c.bytes[d] % k;
		sp->q[KVC_PCIE_NDIR + d] = c.tlps[d] / k;
		sp->r[KVC_PCIE_NDIR + d] = c.tlps[d] % k;
	}
	memset(sp->pre, 0, sizeof(sp->pre));
	memset(sp->rem, 0, sizeof(sp->rem));
}

/* The part of the burst that its next @used slots account for. */
static struct kvc_pcie_cost split_take(struct fetch_split *sp, uint32_t used)
{
	struct kvc_pcie_cost c;
	uint32_t before[2 * KVC_PCIE_NDIR], u;
	int x;

	memcpy(before, sp->pre, sizeof(before));
	for (u = 0; u < used; u++) {
		for (x = 0; x < 2 * KVC_PCIE_NDIR; x++) {
			sp->pre[x] += sp->q[x];
			sp->rem[x] += sp->r[x];
			if (sp->rem[x] >= sp->k) {
				sp->rem[x] -= sp->k;
				sp->pre[x]++;
			}
		}
	}
	for (x = 0; x < KVC_PCIE_NDIR; x++) {
		c.bytes[x] = sp->pre[x] - before[x];
		c.tlps[x] = sp->pre[KVC_PCIE_NDIR + x] - before[KVC_PCIE_NDIR + x];
	}
	return c;
}

/* The firmware core that is free first (the lowest numbered among equals). */
static unsigned int pick_core(const struct fw_subsys *s)
{
	unsigned int i, best = 0;

	for (i = 1; i < s->cfg.cost.cores; i++)
		if (s->core_free[i] < s->core_free[best])
			best = i;
	return best;
}

/*
 * A fresh command: every member is set one by one, not a memset of the whole
 * struct and stores over it (a string instruction with its start-up cost, for
 * every command).  A member added to struct fw_cmd must be set here: the size
 * assertion below is there to say so.
 */
static void cmd_init(struct fw_cmd *cmd, struct fw_ctrl *c, struct fw_sq *sq, uint16_t sqid,
		     const struct kvc_sqe *sqe, const struct kvc_sqe *pre, uint32_t npre,
		     uint64_t now, uint64_t start)
{
	_Static_assert(sizeof(void *) != 8 || sizeof(struct fw_cmd) == 192,
		       "cmd_init() sets every member of fw_cmd"); /* LP64 layout */
	cmd->c = c;
	cmd->ns = NULL;
	cmd->sq = sq;
	cmd->sqid = sqid;
	cmd->sqe = *sqe;
	cmd->pre = pre;
	cmd->npre = npre;
	cmd->consumed = 0;
	cmd->consumed_pre = 0;
	cmd->arrival = now;
	cmd->start = start;
	cmd->fw_ns = 0;
	cmd->done = start;
	cmd->dw0 = 0;
	cmd->dw1 = 0;
	cmd->stat_op = 0;
	cmd->method = KVC_XM_NONE;
	cmd->stored = false;
	cmd->logged = false;
	cmd->value_bytes = 0;
	cmd->tok = 0;
	memset(&cmd->cost, 0, sizeof(cmd->cost));
}

/*
 * Execute one fetched command and consume the @frame slots after it (its
 * ByteExpress chunks) whatever its status; returns @frame.
 */
static uint32_t run_command(struct fw_ctrl *c, struct fw_sq *sq, uint16_t sqid,
			    const struct kvc_sqe *sqe, const struct kvc_sqe *pre, uint32_t npre,
			    uint32_t frame, struct fetch_split *fetch)
{
	struct fw_subsys *s = c->s;
	struct fw_cmd cmd;
	uint64_t now = c->now, start;
	struct kvc_pcie_cost share;
	unsigned int core;
	uint16_t st;

	/* The earliest free firmware core takes it; each runs one command at a time. */
	core = pick_core(s);
	start = now > s->core_free[core] ? now : s->core_free[core];
	cmd_init(&cmd, c, sq, sqid, sqe, pre, npre, now, start);
	fw_cmd_charge(&cmd, s->cfg.fw_overhead_ns); /* fetch and decode */
	/*
	 * Timing off: completions do not wait, so the host is not throttled and
	 * can submit faster than the modeled device serves.  Time a command from
	 * when the modeled firmware takes it (a device kept saturated): latency
	 * is its service time, and the model clock measures modeled throughput.
	 * Realtime: the host is paced by completions; time from arrival.
	 */
	if (s->cfg.timing == FW_TIMING_OFF)
		cmd.arrival = start;
	c->dma.acc = &cmd.cost;
	sq->head += 1 + frame; /* frame < the slots below the tail: < 2 * size */
	if (sq->head >= sq->size)
		sq->head -= sq->size;
	cmd.consumed = frame;
	cmd.consumed_pre = frame < npre ? frame : npre;
	c->cq[sq->cqid].reserved++;
	st = sqid == 0 ? exec_admin(&cmd) : exec_io(&cmd);
	c->dma.acc = NULL;
	/* The handler charged its work (fw_cmd_charge) and may have waited. */
	s->core_free[core] = cmd.start + cmd.fw_ns;
	start = cmd.start;
	/* Its slots of the fetch burst: the command, and ByteExpress chunks. */
	share = split_take(fetch, 1 + cmd.consumed_pre);
	if (st == FW_ST_NO_COMPLETION) /* AER: completes later */
		return 0;
	kvc_pcie_cost_add(&cmd.cost, share);
	if (st == FW_ST_PENDING) { /* completes later: fw_pend_complete() */
		fw_cmd_park(&cmd);
		return cmd.consumed;
	}
	/* Charge the CQE write now so the per-command cost includes it. */
	kvc_pcie_cost_add(&cmd.cost, s->pcie.cqe);
	{
		uint64_t link = fw_pcie_time_ns(&s->pcie, cmd.cost);

		/* The link moves its bytes before and after the firmware works. */
		if (cmd.done < start + link + cmd.fw_ns)
			cmd.done = start + link + cmd.fw_ns;
	}
	fw_cmd_complete(&cmd, st);
	return cmd.consumed;
}

#define FETCH_MAX 64
/*
 * Commands of a burst whose lines are requested ahead of the one running:
 * under random keys each point command's index leaf is a cache miss, and
 * requested a few commands early it overlaps their work.
 */
#define PREFETCH_AHEAD 8

/* Ask @sqe's namespace for the lines of @n commands from @sqe on (all of
 * it); hints into @hint.  Anything it cannot name is skipped. */
static void prefetch_cmds(const struct fw_ns *ns, const struct kvc_sqe *sqe, uint32_t n,
			  const void **hint)
{
	uint32_t i;

	if (ns && ns->ops->prefetch) {
		ns->ops->prefetch(ns, sqe, n, hint);
		return;
	}
	for (i = 0; i < n; i++)
		hint[i] = NULL;
}

static void prefetch_cmd(struct fw_ctrl *c, const struct kvc_sqe *sqe)
{
	const void *hint;

	prefetch_cmds(fw_subsys_ns(c->s, kvc_sqe_nsid(sqe)), sqe, 1, &hint);
}

/*
 * The first commands of a burst, before any runs: their index lines for
 * all (a namespace's run of commands together, so their descents overlap),
 * then (the leaves on their way) their data, with the hints the first stage
 * gave, which stay good as long as no command runs in between.
 */
static void prefetch_burst(struct fw_ctrl *c, const struct kvc_sqe *batch, uint32_t k)
{
	const void *hint[PREFETCH_AHEAD];
	struct fw_ns *ns[PREFETCH_AHEAD];
	uint32_t i, j, n = k < PREFETCH_AHEAD ? k : PREFETCH_AHEAD;

	for (i = 0; i < n; i = j) {
		uint32_t nsid = kvc_sqe_nsid(&batch[i]);

		ns[i] = fw_subsys_ns(c->s, nsid);
		for (j = i + 1; j < n && kvc_sqe_nsid(&batch[j]) == nsid; j++)
			ns[j] = ns[i];
		prefetch_cmds(ns[i], &batch[i], j - i, &hint[i]);
	}
	for (i = 0; i < n; i++)
		if (hint[i] && ns[i]->ops->prefetch_data)
			ns[i]->ops->prefetch_data(ns[i], &batch[i], hint[i], &c->dma);
}

/*
 * The CQ slots @k commands fetched now will complete into, with write
 * intent: the host polls those lines, so each is in its core's cache and a
 * CQE write would wait for it (the store buffer stalls the commands after
 * it); requested now, the transfer overlaps the commands' work.  At most
 * CQ_AHEAD slots: the rest complete after the next burst's request.
 */
#define CQ_AHEAD 32
static void prefetch_cq(struct fw_ctrl *c, const struct fw_cq *cq, uint32_t k)
{
	uint32_t at = (cq->tail + cq->reserved) % cq->size, n = k < CQ_AHEAD ? k : CQ_AHEAD;
	uint32_t first = n < cq->size - at ? n : cq->size - at;

	if (c->fabric || !c->hif->dma_prefetch)
		return;
	c->hif->dma_prefetch(c->hif->ctx, cq->base + (uint64_t)at * KVC_CQE_SIZE,
			     (size_t)first * KVC_CQE_SIZE);
	if (n > first)
		c->hif->dma_prefetch(c->hif->ctx, cq->base, (size_t)(n - first) * KVC_CQE_SIZE);
}

static int process_sq(struct fw_ctrl *c, uint16_t qid, uint32_t budget)
{
	struct fw_sq *sq = &c->sq[qid];
	struct fw_cq *cq;
	struct kvc_sqe batch[FETCH_MAX];
	uint32_t n = 0;

	if (!sq->valid)
		return 0;
	cq = &c->cq[sq->cqid];
	c->sq_visits++;
	if (!c->fabric)
		read_sq_doorbell(c, qid);
	if (sq->frame_wait) {
		if (sq->tail == sq->frame_tail)
			return 0;
		sq->frame_wait = false;
	}
	while (n < budget && !(c->csts & KVC_CSTS_CFS)) {
		uint32_t avail = fw_ring_dist(sq->tail, sq->head, sq->size);
		uint32_t used = fw_cq_used(cq) + cq->reserved;
		uint32_t room = cq->size - 1 > used ? cq->size - 1 - used : 0;
		uint32_t k = avail, start = sq->head, i, j, consumed;
		struct kvc_pcie_cost fetch;
		struct fetch_split split;

		if (k > room)
			k = room; /* back-pressure: never fetch what cannot complete */
		if (k > budget - n)
			k = budget - n;
		if (k > sq->size - sq->head)
			k = sq->size - sq->head;
		if (k > FETCH_MAX)
			k = FETCH_MAX;
		if (k == 0)
			break;
		if (fw_cpl_reserve(c, k)) {
			c->cpl_starved = true;
			fw_ctrl_log(c, FW_LOG_ERR, "out of memory for completions: SQ %u waits",
				    qid);
			break;
		}
		if (c->fabric) {
			/* Capsules: the PCIe model still charges the fetch below. */
			memcpy(batch, &c->ring[qid][start], k * KVC_SQE_SIZE);
		} else if (c->hif->dma_read(c->hif->ctx, sq->base + (uint64_t)start * KVC_SQE_SIZE,
					    batch, k * KVC_SQE_SIZE)) {
			fw_ctrl_fatal(c, "submission queue outside host memory");
			break;
		}
		c->now = fw_now(c->s); /* one clock read per burst */
		fetch = kvc_pcie_mrd(&c->s->pcie.cfg, sq->base + (uint64_t)start * KVC_SQE_SIZE,
				     k * KVC_SQE_SIZE);
		fw_pcie_add(&c->s->pcie, FW_PK_SQE, fetch);
		split_init(&split, fetch, k);
		prefetch_cq(c, cq, k);
		if (qid)
			prefetch_burst(c, batch, k);
		for (i = 0; i < k;) {
			uint32_t frame = qid ? frame_of(c, &batch[i], sq->size) : 0;

			if (frame >= fw_ring_dist(sq->tail, sq->head, sq->size)) {
				/* Its chunks are not all below the tail yet: never run
				 * them as commands, wait for the host to ring them. */
				sq->frame_wait = true;
				sq->frame_tail = sq->tail;
				return (int)n;
			}
			/* ByteExpress chunks consumed after a command are skipped. */
			consumed = 1 + (uint32_t)run_command(c, sq, qid, &batch[i], &batch[i + 1],
							     k - i - 1, frame, &split);
			/* The window moves on by as many slots (a chunk is
			 * prefetched as a command: harmless, nothing changes). */
			for (j = i + PREFETCH_AHEAD;
			     qid && j < k && j < i + PREFETCH_AHEAD + consumed; j++)
				prefetch_cmd(c, &batch[j]);
			i += consumed;
			n++;
			if (!sq->valid || (c->csts & KVC_CSTS_CFS))
				return (int)n; /* deleted by its own admin command, or fatal */
		}
	}
	return (int)n;
}

/*
 * Nothing for process_sq() to do on @qid this pass: the doorbell still reads
 * what was last observed, and every entry below the tail has been fetched or
 * waits for ByteExpress chunks the tail has not reached.  process_sq() would
 * change nothing (the PCIe model charges a doorbell only when its value
 * changes), so a poll skips such queues instead of visiting them: with 16
 * queues granted and one in use, the visits were most of the emulator's CPU.
 */
static inline bool sq_quiet(const struct fw_ctrl *c, uint16_t qid)
{
	const struct fw_sq *sq = &c->sq[qid];

	if (!sq->valid)
		return true;
	if (sq->head != sq->tail && !(sq->frame_wait && sq->tail == sq->frame_tail))
		return false;
	return c->fabric || fw_bar_load(c, kvc_sq_tail_db(qid, c->dstrd)) == sq->db_seen;
}

/* No doorbell of @c moved and no SQ holds entries to fetch: a pass finds nothing
 * in its queues.  One look at each granted queue pair, stopping at the first
 * with news. */
static bool queues_quiet(const struct fw_ctrl *c)
{
	uint16_t qid;

	for (qid = 0; qid <= c->nr_ioq; qid++) {
		const struct fw_cq *cq = &c->cq[qid];

		if (!sq_quiet(c, qid))
			return false;
		if (cq->valid && fw_bar_load(c, kvc_cq_head_db(qid, c->dstrd)) != cq->db_seen)
			return false;
	}
	return true;
}

static uint32_t burst_of(const struct fw_ctrl *c)
{
	uint32_t ab = c->feat_arb & 7;

	return ab == 7 ? MAX_CMDS_PER_POLL : 1u << ab;
}

/*
 * Post what the last round completed before the next round runs, so a host
 * reaps and submits again while the device works on: posting only at the
 * end of a poll (up to MAX_CMDS_PER_POLL commands) made host and device
 * take turns, each idle while the other worked.  Not while a group commit
 * is due: with the write cache off a Store's CQE waits for its commit, which
 * stays one per poll.
 */
static int post_round(struct fw_ctrl *c)
{
	struct fw_subsys *s = c->s;

	if (c->fifo_n && !(s->dirty && s->persistent && !c->wce))
		return fw_cpl_post_all(c);
	return 0;
}

/* Commands run, plus the completions posted between rounds in *@posted. */
static int process_io_queues(struct fw_ctrl *c, uint32_t budget, int *posted)
{
	uint32_t burst = burst_of(c), r, work = 0, round;

	if (!c->nr_ioq)
		return 0;
	if (c->rr >= c->nr_ioq) /* NoQ granted fewer queues since it moved */
		c->rr %= c->nr_ioq;
	do {
		uint32_t qid = 1 + c->rr;

		round = 0;
		for (r = 0; r < c->nr_ioq && work + round < budget; r++, qid++) {
			uint32_t left = budget - work - round;

			if (qid > c->nr_ioq)
				qid = 1;
			if (!sq_quiet(c, (uint16_t)qid))
				round += (uint32_t)process_sq(c, (uint16_t)qid,
							      left < burst ? left : burst);
		}
		c->rr = c->rr + 1 < c->nr_ioq ? c->rr + 1 : 0;
		work += round;
		if (round)
			*posted += post_round(c);
	} while (round && work < budget);
	return (int)work;
}

/* A fabric controller: no registers or doorbells to watch; the admin queue
 * runs whether enabled or not (Property Get/Set reach the registers). */
static int poll_fabric(struct fw_ctrl *c)
{
	struct fw_subsys *s = c->s;
	int work = 0, posted = 0;

	c->cpl_starved = false;
	if (c->sq[0].valid)
		work += process_sq(c, 0, MAX_CMDS_PER_POLL);
	if ((c->csts & KVC_CSTS_RDY) && !(c->csts & KVC_CSTS_CFS) &&
	    (c->csts & KVC_CSTS_SHST_MASK) != KVC_CSTS_SHST_COMPLETE) {
		fw_ctrl_deliver_events(c);
		work += process_io_queues(c, MAX_CMDS_PER_POLL, &posted);
		work += posted;
	}
	if (s->dirty && s->persistent && !c->wce)
		fw_batch_commit(s, false);
	work += fw_cpl_post_all(c);
	if (c->feat_kato && !c->ka_expired) {
		uint64_t now = fw_now(s);

		/* TBKAS: commands that arrived since the last poll restart the
		 * timer here, with the clock read this check needs anyway. */
		if (c->ka_traffic) {
			c->ka_traffic = false;
			c->ka_last = now;
		} else if (now - c->ka_last > fw_kato_deadline_ns(c->feat_kato)) {
			c->ka_expired = true;
			fw_ctrl_log(c, FW_LOG_WARN,
				    "controller %u: no command within KATO %u ms and its grace",
				    c->cntlid, c->feat_kato);
		}
	}
	return work;
}

int fw_ctrl_poll(struct fw_ctrl *c)
{
	struct fw_subsys *s = c->s;
	int work, posted = 0;

	if (c->fabric)
		return poll_fabric(c);
	work = check_regs(c);
	c->cpl_starved = false;
	if (!(c->csts & KVC_CSTS_RDY) || (c->csts & KVC_CSTS_CFS) ||
	    (c->csts & KVC_CSTS_SHST_MASK) == KVC_CSTS_SHST_COMPLETE)
		return work;
	if (queues_quiet(c)) {
		/* What process_io_queues() would do when every queue is empty. */
		fw_ctrl_deliver_events(c);
		if (c->nr_ioq)
			c->rr = (c->rr + 1) % c->nr_ioq;
		c->polls_quiet++;
	} else {
		work += read_cq_doorbells(c);
		if (!sq_quiet(c, 0))
			work += process_sq(c, 0, MAX_CMDS_PER_POLL);
		fw_ctrl_deliver_events(c);
		work += process_io_queues(c, MAX_CMDS_PER_POLL, &posted);
		work += posted;
	}
	/*
	 * Group commit: with the write cache off, a Store is durable before its
	 * CQE.  A failed commit has rolled the batch back and turned its queued
	 * completions into errors (batch.c), so what is posted below is true.
	 */
	if (s->dirty && s->persistent && !c->wce)
		fw_batch_commit(s, false);
	work += fw_cpl_post_all(c);
	if (++c->polls % STRAY_DB_CHECK_EVERY == 0)
		check_stray_doorbells(c);
	return work;
}

bool fw_ctrl_busy(const struct fw_ctrl *c)
{
	/* Starved: commands wait in an SQ until memory is back; keep polling. */
	return c->nheap > 0 || c->fifo_n > 0 || c->cpl_starved;
}

int fw_ctrl_create(struct fw_subsys *s, const struct fw_host_if *hif, uint16_t cntlid,
		   struct fw_ctrl **out)
{
	struct fw_ctrl *c;

	*out = NULL;
	if (hif->bar_size < fw_bar_size(&s->cfg))
		return -EINVAL;
	c = fw_calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->s = s;
	c->hif = hif;
	c->cntlid = cntlid;
	c->dma.hif = hif;
	c->dma.pcie = &s->pcie;
	c->dma.gran = s->cfg.dma_gran;
	ctrl_reset(c);
	c->next = s->ctrls;
	s->ctrls = c;
	*out = c;
	return 0;
}

void fw_ctrl_destroy(struct fw_ctrl *c)
{
	struct fw_ctrl **pp;

	if (!c)
		return;
	for (pp = &c->s->ctrls; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	c->fabric = false; /* everything goes, the admin queue too */
	drop_queues(c);
	fw_ctrl_release_ring(c, 0);
	fw_free(c->heap);
	fw_free(c->fifo);
	fw_free(c->pend);
	fw_free(c);
}
