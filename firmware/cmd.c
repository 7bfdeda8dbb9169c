// SPDX-License-Identifier: MIT
/*
 * What every command handler and the controller use: the rate-limited log,
 * the error log, asynchronous events, the completion queues of a controller
 * (due now: a FIFO; due later: a min-heap) and their posting, deferred
 * completions, and the data-pointer mapper.  This module calls nothing above
 * it (controller, admin, namespaces, subsystem), which is what keeps the
 * firmware's call graph free of cycles.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "fw_internal.h"

#define LOG_LINES_PER_SEC 20

/* The subsystem's NQN (Identify SUBNQN, the NQN fabric hosts connect to). */
void fw_subsys_nqn(const struct fw_subsys *s, char *buf, size_t len)
{
	if (s->cfg.nqn[0])
		snprintf(buf, len, "%s", s->cfg.nqn);
	else
		snprintf(buf, len, "nqn.2026-11.io.nvkv:%s", s->cfg.serial);
}

void fw_ctrl_fatal(struct fw_ctrl *c, const char *why)
{
	fw_ctrl_log(c, FW_LOG_ERR, "controller fatal status: %s", why);
	c->csts |= KVC_CSTS_CFS;
	fw_bar_store(c, KVC_REG_CSTS, c->csts);
}

/* ---- logging --------------------------------------------------------------- */

void fw_ctrl_log(struct fw_ctrl *c, int level, const char *fmt, ...)
{
	const struct fw_hal *hal = c->s->hal;
	uint64_t now = fw_now(c->s);
	char msg[256];
	va_list ap;

	if (!hal->log)
		return;
	if (now - c->log_window > 1000000000ull) {
		c->log_window = now;
		c->log_lines = 0;
	}
	if (++c->log_lines > LOG_LINES_PER_SEC)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	hal->log(hal->ctx, level, msg);
}

/* ---- completion heap ------------------------------------------------------- */

static void heap_swap(struct fw_cpl *a, struct fw_cpl *b)
{
	struct fw_cpl t = *a;

	*a = *b;
	*b = t;
}

static bool before(const struct fw_cpl *a, const struct fw_cpl *b)
{
	return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static int heap_reserve(struct fw_ctrl *c, uint32_t need)
{
	uint32_t ncap = c->heap_cap ? c->heap_cap : 256;
	struct fw_cpl *n;

	if (need <= c->heap_cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	n = fw_realloc(c->heap, ncap * sizeof(*n));
	if (!n)
		return -ENOMEM;
	c->heap = n;
	c->heap_cap = ncap;
	return 0;
}

static int heap_push(struct fw_ctrl *c, const struct fw_cpl *e)
{
	uint32_t i;

	if (heap_reserve(c, c->nheap + 1))
		return -ENOMEM;
	i = c->nheap++;
	c->heap[i] = *e;
	c->heap[i].seq = c->cpl_seq++;
	while (i && before(&c->heap[i], &c->heap[(i - 1) / 2])) {
		heap_swap(&c->heap[(i - 1) / 2], &c->heap[i]);
		i = (i - 1) / 2;
	}
	return 0;
}

static void heap_pop(struct fw_ctrl *c)
{
	uint32_t i = 0;

	c->heap[0] = c->heap[--c->nheap];
	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < c->nheap && before(&c->heap[l], &c->heap[m]))
			m = l;
		if (r < c->nheap && before(&c->heap[r], &c->heap[m]))
			m = r;
		if (m == i)
			break;
		heap_swap(&c->heap[m], &c->heap[i]);
		i = m;
	}
}

static int fifo_reserve(struct fw_ctrl *c, uint32_t need)
{
	uint32_t ncap = c->fifo_cap ? c->fifo_cap : 1024, i;
	struct fw_cpl *n;

	if (need <= c->fifo_cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	n = fw_malloc(ncap * sizeof(*n));
	if (!n)
		return -ENOMEM;
	for (i = 0; i < c->fifo_n; i++)
		n[i] = c->fifo[(c->fifo_head + i) & (c->fifo_cap - 1)];
	fw_free(c->fifo);
	c->fifo = n;
	c->fifo_cap = ncap;
	c->fifo_head = 0;
	return 0;
}

static int fifo_push(struct fw_ctrl *c, const struct fw_cpl *e)
{
	if (fifo_reserve(c, c->fifo_n + 1))
		return -ENOMEM;
	c->fifo[(c->fifo_head + c->fifo_n++) & (c->fifo_cap - 1)] = *e;
	return 0;
}

static bool realtime(const struct fw_ctrl *c)
{
	return c->s->cfg.timing == FW_TIMING_REALTIME;
}

/*
 * Room for the completions of @k more fetched commands besides those owed
 * already (queued, and outstanding AERs), taken before the commands are
 * fetched so that complete() never needs memory: out of memory, commands
 * wait in their SQ instead of losing their completion.
 */
int fw_cpl_reserve(struct fw_ctrl *c, uint32_t k)
{
	uint32_t need = c->nheap + c->fifo_n + c->naer + c->npend + k;

	return realtime(c) ? heap_reserve(c, need) : fifo_reserve(c, need);
}

void fw_ctrl_record_error(struct fw_ctrl *c, uint16_t sqid, uint16_t cid, uint16_t status,
			  uint32_t nsid)
{
	struct kvc_error_log_entry *e = &c->err[c->err_count % FW_ERR_LOG];

	memset(e, 0, sizeof(*e));
	c->err_count++;
	kvc_put_le64(&e->error_count, c->err_count);
	kvc_put_le16(&e->sqid, sqid);
	kvc_put_le16(&e->cid, cid);
	kvc_put_le16(&e->status, (uint16_t)(status << 1));
	kvc_put_le16(&e->param_loc, 0xffff);
	kvc_put_le32(&e->nsid, nsid);
}

/* Queue the completion of @cmd; it is posted when due and the CQ has room. */
void fw_cmd_complete(struct fw_cmd *cmd, uint16_t status)
{
	struct fw_ctrl *c = cmd->c;
	struct fw_subsys *s = c->s;
	struct fw_cpl e;

	e.due = realtime(c) ? cmd->done : 0;
	e.dw0 = cmd->dw0;
	e.dw1 = cmd->dw1;
	e.sqid = cmd->sqid;
	e.cqid = cmd->sq->cqid;
	e.cid = kvc_sqe_cid(&cmd->sqe);
	e.status = status;
	e.stat_op = cmd->stat_op;
	/* Write cache off: success means durable, which the batch's commit
	 * decides before this is posted (fw_ctrl_poll). */
	e.batch = cmd->logged && !status && !c->wce && s->persistent ? s->batch.id : 0;
	e.err_no = 0;
	if (status) {
		fw_ctrl_record_error(c, cmd->sqid, e.cid, status, kvc_sqe_nsid(&cmd->sqe));
		e.err_no = c->err_count;
	}
	fw_stats_complete(s, cmd, status);
	/* Cannot fail: cpl_reserve() made room before the command was fetched. */
	if (realtime(c) ? heap_push(c, &e) : fifo_push(c, &e))
		fw_ctrl_log(c, FW_LOG_ERR, "BUG: no room reserved for a completion");
}

static void fail_cpl(struct fw_ctrl *c, struct fw_cpl *e, uint64_t batch, uint16_t st)
{
	if (e->batch != batch || e->status)
		return;
	e->status = st;
	e->batch = 0;
	c->s->st.errors[e->stat_op]++;
	fw_ctrl_record_error(c, e->sqid, e->cid, st, 1);
	e->err_no = c->err_count;
}

/* The error log entry of a completion gets the Phase Tag it is posted with
 * (bit 0 of its Status Field), unless newer errors have overwritten it. */
static void error_phase(struct fw_ctrl *c, const struct fw_cpl *e, bool phase)
{
	struct kvc_error_log_entry *x;

	if (!e->err_no || c->err_count - e->err_no >= FW_ERR_LOG)
		return;
	x = &c->err[(e->err_no - 1) % FW_ERR_LOG];
	kvc_put_le16(&x->status, (uint16_t)((kvc_get_le16(&x->status) & ~1u) | phase));
}

void fw_ctrl_fail_batch(struct fw_ctrl *c, uint64_t batch, uint16_t st)
{
	uint32_t i;

	for (i = 0; i < c->fifo_n; i++)
		fail_cpl(c, &c->fifo[(c->fifo_head + i) & (c->fifo_cap - 1)], batch, st);
	for (i = 0; i < c->nheap; i++)
		fail_cpl(c, &c->heap[i], batch, st);
}

/* ---- asynchronous events ----------------------------------------------------- */

static void complete_aer(struct fw_ctrl *c, uint32_t dw0)
{
	struct fw_cmd cmd;

	memset(&cmd, 0, sizeof(cmd));
	cmd.c = c;
	cmd.sq = &c->sq[0];
	cmd.sqid = 0;
	kvc_sqe_set_cid(&cmd.sqe, c->aer_cid[0]);
	cmd.sqe.opc = KVC_ADM_ASYNC_EVENT;
	cmd.dw0 = dw0;
	cmd.stat_op = KVC_OP_ADMIN;
	cmd.method = KVC_XM_NONE;
	memmove(&c->aer_cid[0], &c->aer_cid[1], (FW_MAX_AER - 1) * sizeof(c->aer_cid[0]));
	c->naer--;
	fw_cmd_complete(&cmd, 0); /* its CQ slot was reserved when the request was fetched */
}

void fw_ctrl_event(struct fw_ctrl *c, uint8_t type, uint8_t info, uint8_t lid)
{
	uint32_t dw0 = KVC_AER_DW0(type, info, lid);

	c->s->st.aer_events++;
	if (c->naer) {
		complete_aer(c, dw0);
		return;
	}
	if (c->nevents < FW_MAX_EVENTS)
		c->events[c->nevents++] = dw0;
}

/* Complete outstanding AERs with queued events (after a new request). */
void fw_ctrl_deliver_events(struct fw_ctrl *c)
{
	while (c->naer && c->nevents) {
		uint32_t dw0 = c->events[0];

		memmove(&c->events[0], &c->events[1], (c->nevents - 1) * sizeof(c->events[0]));
		c->nevents--;
		complete_aer(c, dw0);
	}
}

static void raise_interrupts(struct fw_ctrl *c)
{
	uint16_t qid;

	/* Most polls post nothing: no look at every CQ then. */
	if (!c->irq_pending)
		return;
	c->irq_pending = false;
	for (qid = 0; qid <= c->nr_ioq; qid++) {
		struct fw_cq *cq = &c->cq[qid];

		if (!cq->irq_due)
			continue;
		cq->irq_due = false;
		if (!cq->ien)
			continue;
		if (c->fabric) { /* no interrupt on a fabric; the model charges one */
			fw_pcie_add(&c->s->pcie, FW_PK_MSIX, c->s->pcie.msix);
			continue;
		}
		c->hif->irq_raise(c->hif->ctx, cq->iv);
		fw_pcie_add(&c->s->pcie, FW_PK_MSIX, c->s->pcie.msix);
	}
}

/* Post one completion; false when its CQ is full (it stays queued). */
static bool post_one(struct fw_ctrl *c, const struct fw_cpl *e)
{
	struct fw_cq *cq = &c->cq[e->cqid];
	struct kvc_cqe cqe;
	uint16_t sqhd;

	if (!cq->valid)
		return true; /* its queue was deleted: drop it */
	if (c->fabric) {
		/* The transport carries it; the PCIe model still charges the
		 * CQE write it would have cost ... */
		sqhd = c->sq[e->sqid].valid ? (uint16_t)c->sq[e->sqid].head : 0;
		kvc_cqe_fill(&cqe, e->dw0, e->dw1, sqhd, e->sqid, e->cid, e->status, false);
		fw_pcie_add(&c->s->pcie, FW_PK_CQE, c->s->pcie.cqe);
		/* ... and the CQ head doorbell a host rings per completion. */
		fw_pcie_add(&c->s->pcie, FW_PK_DOORBELL, c->s->pcie.doorbell);
		c->hif->post_cqe(c->hif->ctx, e->sqid, &cqe);
		cq->reserved--;
		cq->irq_due = true;
		c->irq_pending = true;
		return true;
	}
	if (fw_cq_used(cq) == cq->size - 1)
		return false; /* full: wait for the host to consume */
	sqhd = c->sq[e->sqid].valid ? (uint16_t)c->sq[e->sqid].head : 0;
	kvc_cqe_fill(&cqe, e->dw0, e->dw1, sqhd, e->sqid, e->cid, e->status, cq->phase);
	error_phase(c, e, cq->phase);
	/* One write per CQE, as before (a host may be polling this very entry);
	 * a CQ is page aligned, so its 16-byte entries never cross an MPS
	 * boundary and each is the one TLP fw_pcie computed at init. */
	if (c->hif->dma_write(c->hif->ctx, cq->base + (uint64_t)cq->tail * KVC_CQE_SIZE, &cqe,
			      KVC_CQE_SIZE)) {
		fw_ctrl_fatal(c, "completion queue outside host memory");
		return false;
	}
	fw_pcie_add(&c->s->pcie, FW_PK_CQE, c->s->pcie.cqe);
	if (++cq->tail == cq->size) {
		cq->tail = 0;
		cq->phase = !cq->phase;
	}
	cq->reserved--;
	cq->irq_due = true;
	c->irq_pending = true;
	return true;
}

int fw_cpl_post_all(struct fw_ctrl *c)
{
	int posted = 0;

	while (c->fifo_n && !(c->csts & KVC_CSTS_CFS)) {
		if (!post_one(c, &c->fifo[c->fifo_head]))
			break;
		c->fifo_head = (c->fifo_head + 1) & (c->fifo_cap - 1);
		c->fifo_n--;
		posted++;
	}
	if (c->nheap) {
		uint64_t now = fw_now(c->s);

		while (c->nheap && c->heap[0].due <= now && post_one(c, &c->heap[0])) {
			heap_pop(c);
			posted++;
		}
	}
	raise_interrupts(c);
	return posted;
}

void fw_sq_release(struct fw_ctrl *c, struct fw_sq *sq)
{
	uint32_t i;

	for (i = 1; i <= FW_MAX_NS; i++) {
		struct fw_ns *ns = c->s->ns[i];

		if (ns && ns->ops->sq_deleted)
			ns->ops->sq_deleted(ns, sq);
	}
}

uint64_t fw_ctrl_next_due(const struct fw_ctrl *c)
{
	if (c->fifo_n)
		return 0;
	return c->nheap ? c->heap[0].due : UINT64_MAX;
}

/* ---- data pointer ------------------------------------------------------------------ */

static void dptr_of(struct fw_cmd *cmd, struct fw_dptr *p)
{
	fw_dptr_from_sqe(p, &cmd->sqe, cmd->sqid);
	cmd->c->dma.data_entries = 0;
}

/*
 * The firmware's part of a transfer (the cost model): setting it up, and
 * each PRP entry or SGL descriptor it walked.  A host's bad data pointer is
 * a status (the error log has it) and a line.
 */
static uint16_t dptr_result(struct fw_cmd *cmd, const struct fw_dptr *p, uint16_t st)
{
	const struct fw_cost *k = &cmd->c->s->cfg.cost;
	const struct fw_dma *d = &cmd->c->dma;

	fw_cmd_charge(cmd, k->dma_ns + (uint64_t)d->data_entries *
					       (d->data_sgl ? k->sgl_desc_ns : k->prp_entry_ns));
	if (st)
		fw_ctrl_log(cmd->c, FW_LOG_WARN,
			    "SQ %u CID %u opcode %#x: %s data pointer: status %#x", cmd->sqid,
			    p->cid, cmd->sqe.opc, p->psdt ? "SGL" : "PRP", st);
	return st;
}

uint16_t fw_cmd_data_in(struct fw_cmd *cmd, void *buf, uint32_t len)
{
	struct fw_dptr p;

	dptr_of(cmd, &p);
	return dptr_result(cmd, &p, fw_dma_read_dptr(&cmd->c->dma, &p, buf, len));
}

uint16_t fw_cmd_data_out(struct fw_cmd *cmd, const void *buf, uint32_t buflen, uint32_t len)
{
	struct fw_dptr p;

	dptr_of(cmd, &p);
	return dptr_result(cmd, &p, fw_dma_write_dptr(&cmd->c->dma, &p, buf, buflen, len));
}

/* ---- deferred completions -------------------------------------------------------- */

uint64_t fw_cmd_defer(struct fw_cmd *cmd)
{
	struct fw_ctrl *c = cmd->c;

	if (c->npend == c->pend_cap) {
		uint32_t ncap = c->pend_cap ? c->pend_cap * 2 : 16;
		struct fw_pend *n = fw_realloc(c->pend, ncap * sizeof(*n));

		if (!n)
			return 0;
		c->pend = n;
		c->pend_cap = ncap;
	}
	/* The completion queued later needs room too: reserve it now, so that
	 * finishing the command never needs memory. */
	if (fw_cpl_reserve(c, 1))
		return 0;
	cmd->tok = ++c->s->pend_seq;
	return cmd->tok;
}

void fw_cmd_park(struct fw_cmd *cmd)
{
	struct fw_ctrl *c = cmd->c;
	struct fw_pend *p = &c->pend[c->npend++];

	p->cmd = *cmd;
	p->cmd.pre = NULL; /* the fetch burst is gone once the command is parked */
	p->cmd.npre = 0;
}

/* Take pending command @i out of the table into @out. */
static void unpark(struct fw_ctrl *c, uint32_t i, struct fw_cmd *out)
{
	*out = c->pend[i].cmd;
	c->pend[i] = c->pend[--c->npend];
}

static void finish(struct fw_cmd *cmd, uint16_t st)
{
	struct fw_subsys *s = cmd->c->s;

	kvc_pcie_cost_add(&cmd->cost, s->pcie.cqe);
	fw_cmd_complete(cmd, st);
}

bool fw_pend_complete(struct fw_subsys *s, uint64_t tok, uint16_t status, uint32_t dw0)
{
	struct fw_ctrl *c;
	uint32_t i;

	for (c = s->ctrls; c; c = c->next) {
		for (i = 0; i < c->npend; i++) {
			struct fw_cmd cmd;
			uint64_t now;

			if (c->pend[i].cmd.tok != tok)
				continue;
			unpark(c, i, &cmd);
			now = fw_now(s);
			cmd.dw0 = dw0;
			if (cmd.done < now && s->cfg.timing == FW_TIMING_REALTIME)
				cmd.done = now;
			finish(&cmd, status);
			return true;
		}
	}
	return false; /* aborted meanwhile (queue deleted, reset): nothing to post */
}

static void abort_one(struct fw_ctrl *c, uint32_t i, bool post)
{
	struct fw_cmd cmd;

	unpark(c, i, &cmd);
	if (cmd.ns && cmd.ns->ops->aborted)
		cmd.ns->ops->aborted(cmd.ns, cmd.tok);
	if (!post)
		return;
	cmd.done = c->now > cmd.arrival ? c->now : cmd.arrival;
	finish(&cmd, KVC_ST_GENERIC(KVC_SC_ABORTED_SQ_DELETION));
}

void fw_pend_abort_sq(struct fw_ctrl *c, uint16_t sqid)
{
	uint32_t i = 0;

	while (i < c->npend) {
		if (c->pend[i].cmd.sqid == sqid)
			abort_one(c, i, true); /* its CQ still exists: CQs go after their SQs */
		else
			i++;
	}
}

void fw_pend_drop_all(struct fw_ctrl *c)
{
	while (c->npend)
		abort_one(c, 0, false);
}

/* ---- namespace identifiers ------------------------------------------------- */

/* A namespace's NGUID: stable per serial number and NSID (NSID 1 keeps the
 * value devices had before there were several namespaces). */
void fw_ns_nguid(const struct fw_ns *ns, uint8_t nguid[16])
{
	const struct fw_subsys *s = ns->s;
	uint32_t nsid = ns->nsid, h = 2166136261u;
	const char *p;
	int i;

	for (p = s->cfg.serial; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	memcpy(nguid, "nvkv", 4);
	for (i = 0; i < 12; i++)
		nguid[4 + i] =
			(uint8_t)(h >> (8 * (i % 4))) ^ (uint8_t)i ^ (uint8_t)((nsid - 1) * 0x3b);
}
