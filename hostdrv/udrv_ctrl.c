// SPDX-License-Identifier: MIT
/*
 * Controller side of libnvkv's user-space NVMe driver: bring-up as the NVMe
 * specification describes it (with timeouts), Identify, and creation and
 * deletion of queue pairs with their host memory.  The I/O path is udrv.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nvkv_internal.h"

#define ADMIN_DEPTH 32
#define ADMIN_ARENA_PAGES 40 /* Identify, 64 KiB logs, PRP lists */

/* ---- queues ---------------------------------------------------------------------------- */

static int carve(struct nvkv_dev *d, uint64_t len, uint64_t *addr)
{
	len = (len + NVKV_PAGE - 1) / NVKV_PAGE * NVKV_PAGE;
	if (d->mem_brk + len > d->t->mem_size)
		return -ENOMEM;
	*addr = d->mem_brk;
	d->mem_brk += len;
	return 0;
}

static void queue_free(struct nvkv_queue *q)
{
	if (!q)
		return;
	free(q->reqs);
	free(q->cid_req);
	free(q->free_cids);
	free(q->page_used);
	free(q);
}

/* Allocate host-side state and memory of a queue (not yet on the device). */
static int queue_alloc(struct nvkv_dev *d, uint16_t qid, uint32_t size, uint32_t arena_pages,
		       struct nvkv_queue **out)
{
	struct nvkv_queue *q = calloc(1, sizeof(*q));
	uint64_t sq_bytes, cq_bytes, region, base;
	uint32_t i;
	int rc;

	if (!q)
		return -ENOMEM;
	if (qid > NVKV_MAX_QID) {
		free(q);
		return -EINVAL;
	}
	q->d = d;
	q->qid = qid;
	q->size = size;
	q->phase = true;
	q->npages = arena_pages;
	q->reqs = calloc(size, sizeof(*q->reqs));
	q->cid_req = malloc(size * sizeof(*q->cid_req));
	q->free_cids = malloc(size * sizeof(*q->free_cids));
	q->page_used = calloc(arena_pages, 1);
	if (!q->reqs || !q->cid_req || !q->free_cids || !q->page_used) {
		queue_free(q);
		return -ENOMEM;
	}
	/* SQ, CQ and arena, contiguous; a queue id keeps its region for reuse. */
	sq_bytes = ((uint64_t)size * KVC_SQE_SIZE + NVKV_PAGE - 1) / NVKV_PAGE * NVKV_PAGE;
	cq_bytes = ((uint64_t)size * KVC_CQE_SIZE + NVKV_PAGE - 1) / NVKV_PAGE * NVKV_PAGE;
	region = sq_bytes + cq_bytes + (uint64_t)arena_pages * NVKV_PAGE;
	if (d->qregion[qid] && d->qregion_len[qid] >= region) {
		base = d->qregion[qid];
	} else {
		rc = carve(d, region, &base);
		if (rc) {
			queue_free(q);
			return rc;
		}
		d->qregion[qid] = base;
		d->qregion_len[qid] = region;
	}
	q->sq_addr = base;
	q->cq_addr = base + sq_bytes;
	q->arena = base + sq_bytes + cq_bytes;
	q->sq = (struct kvc_sqe *)(d->t->mem + q->sq_addr);
	q->cq = (struct kvc_cqe *)(d->t->mem + q->cq_addr);
	memset(q->cq, 0, (size_t)size * KVC_CQE_SIZE);
	q->free_req = NVKV_NO_REQ;
	for (i = size; i-- > 0;) {
		q->reqs[i].next_free = q->free_req;
		q->free_req = (uint16_t)i;
		q->cid_req[i] = NVKV_NO_REQ;
		q->free_cids[q->nfree_cids++] = (uint16_t)(size - 1 - i);
	}
	*out = q;
	return 0;
}

static int admin_cmd(struct nvkv_dev *d, uint8_t opc, uint32_t nsid, uint32_t cdw10, uint32_t cdw11,
		     uint64_t prp1, void *data, size_t len, uint32_t *dw0)
{
	struct kvc_sqe sqe;

	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = opc;
	kvc_sqe_set_nsid(&sqe, nsid);
	kvc_sqe_set_dw(&sqe, 10, cdw10);
	kvc_sqe_set_dw(&sqe, 11, cdw11);
	kvc_sqe_set_prp(&sqe, prp1, 0);
	return nvkv_udrv_exec_raw(d->admin, &sqe, data, len, data != NULL, dw0);
}

int nvkv_udrv_queue_create(struct nvkv_dev *d, uint16_t qid, uint32_t size, struct nvkv_queue **out)
{
	uint32_t dp = d->arena_pages;
	/* One largest value (or block transfer) with its PRP lists, plus a page per slot. */
	uint32_t arena = dp + nvkv_list_pages_for(dp) + size + 4;
	struct nvkv_queue *q;
	int rc = queue_alloc(d, qid, size, arena, &q);

	if (rc)
		return rc;
	rc = admin_cmd(d, KVC_ADM_CREATE_CQ, 0, (size - 1) << 16 | qid,
		       KVC_CREATE_CQ_PC | (d->opts.interrupts ? KVC_CREATE_CQ_IEN : 0), q->cq_addr,
		       NULL, 0, NULL);
	if (!rc) {
		rc = admin_cmd(d, KVC_ADM_CREATE_SQ, 0, (size - 1) << 16 | qid,
			       (uint32_t)qid << 16 | KVC_CREATE_SQ_PC, q->sq_addr, NULL, 0, NULL);
		if (rc)
			admin_cmd(d, KVC_ADM_DELETE_CQ, 0, qid, 0, 0, NULL, 0, NULL);
	}
	if (rc) {
		/* Host memory of a failed queue is not reused: creation failing is rare. */
		queue_free(q);
		return rc;
	}
	*out = q;
	return 0;
}

void nvkv_udrv_queue_destroy(struct nvkv_dev *d, struct nvkv_queue *q)
{
	if (!q)
		return;
	if (!q->dead && !d->admin->dead) {
		admin_cmd(d, KVC_ADM_DELETE_SQ, 0, q->qid, 0, 0, NULL, 0, NULL);
		admin_cmd(d, KVC_ADM_DELETE_CQ, 0, q->qid, 0, 0, NULL, 0, NULL);
	}
	queue_free(q);
}

/* ---- bring-up ------------------------------------------------------------------------------ */

static int wait_csts(struct nvkv_dev *d, uint32_t mask, uint32_t want, uint64_t timeout_ms)
{
	uint64_t end = nvkv_now_ns() + timeout_ms * 1000000ull;

	for (;;) {
		uint32_t csts = nvkv_reg_read(d->t, KVC_REG_CSTS);

		if ((csts & mask) == want)
			return 0;
		if (csts & KVC_CSTS_CFS)
			return -EIO;
		if (nvkv_tp_dead(d->t))
			return -ENODEV;
		if (nvkv_now_ns() > end)
			return -ETIMEDOUT;
		nvkv_tp_kick(d->t);
		if (d->t->ops->advance)
			d->t->ops->advance(d->t); /* a simulated device runs only when told */
		else
			sched_yield();
	}
}

static void copy_str(char *dst, size_t n, const char *src, size_t srclen)
{
	size_t l = srclen;

	while (l && (src[l - 1] == ' ' || src[l - 1] == 0))
		l--;
	if (l >= n)
		l = n - 1;
	memcpy(dst, src, l);
	dst[l] = 0;
}

static int identify_ctrl(struct nvkv_dev *d, uint32_t mpsmin)
{
	uint8_t buf[KVC_IDENTIFY_SIZE]; /* not static: devices open in parallel */
	const struct kvc_id_ctrl *ic = (const void *)buf;
	const struct kvc_id_nvkv *v = (const void *)ic->vs;
	struct nvkv_info *in = &d->info;
	int rc;

	rc = admin_cmd(d, KVC_ADM_IDENTIFY, 0, KVC_CNS_CTRL, 0, 0, buf, sizeof(buf), NULL);
	if (rc)
		return rc;
	copy_str(in->serial, sizeof(in->serial), ic->sn, sizeof(ic->sn));
	copy_str(in->model, sizeof(in->model), ic->mn, sizeof(ic->mn));
	copy_str(in->firmware, sizeof(in->firmware), ic->fr, sizeof(ic->fr));
	if (memcmp(v->magic, "NVKV", 4))
		return -EPROTO;
	/* MDTS: 2^n units of the minimum memory page size; 0 is no limit. */
	d->mdts_bytes =
		ic->mdts && ic->mdts + mpsmin < 40 ? (uint64_t)NVKV_PAGE << (mpsmin + ic->mdts) : 0;
	d->link.gen = v->pcie_gen;
	d->link.lanes = v->pcie_lanes;
	d->link.mps = kvc_get_le16(&v->pcie_mps);
	d->link.mrrs = kvc_get_le16(&v->pcie_mrrs);
	d->link.rcb = kvc_get_le16(&v->pcie_rcb);
	if (kvc_pcie_link_valid(&d->link))
		return -EPROTO;
	in->pcie_gen = d->link.gen;
	in->pcie_lanes = d->link.lanes;
	in->pcie_mps = d->link.mps;
	in->pcie_mrrs = d->link.mrrs;
	in->pcie_rcb = d->link.rcb;
	in->dma_page = v->dma_page;
	in->realtime = v->timing;
	/* ByteExpress needs the device to read SQ slots: a fabric carries capsules only. */
	in->byteexpress = (v->xfer_caps & KVC_NVKV_XFER_BYTEEXPRESS) && !d->t->fabric;
	/* Our Data Blocks have any length and alignment: 01b only. */
	in->sgl = (kvc_get_le32(&ic->sgls) & 3) == KVC_SGLS_SUPPORTED;
	in->bandslim_head = kvc_bs_head_cap(KVC_BS_STORE, 8, d->t->fabric);
	in->bandslim_xfer = kvc_bs_xfer_cap(d->t->fabric);
	snprintf(in->backend, sizeof(in->backend), "%s", d->t->ops->name);
	return 0;
}

/* Controller, then the namespaces (which give the KV formats and buffer sizes). */
static int identify(struct nvkv_dev *d, uint32_t mpsmin)
{
	int rc = identify_ctrl(d, mpsmin);

	return rc ? rc : nvkv_ns_scan(d);
}

int nvkv_udrv_start(struct nvkv_dev *d)
{
	uint64_t cap = nvkv_reg_read(d->t, KVC_REG_CAP) |
		       (uint64_t)nvkv_reg_read(d->t, KVC_REG_CAP + 4) << 32;
	uint64_t to_ms = KVC_CAP_TO(cap) * 500ull;
	uint32_t mqes = KVC_CAP_MQES(cap) + 1, dw0 = 0, want;
	int rc;

	if (!(cap & KVC_CAP_CSS_IOCS) || mqes < 2)
		return -EPROTO;
	if (to_ms > d->opts.timeout_ms)
		to_ms = d->opts.timeout_ms;
	d->mem_brk = NVKV_PAGE; /* address 0 is never handed out */
	/* Reset, program the admin queue, enable (NVMe Base 2.0, 3.5.1). */
	nvkv_reg_write(d->t, KVC_REG_CC, 0);
	nvkv_tp_kick(d->t);
	rc = wait_csts(d, KVC_CSTS_RDY, 0, to_ms);
	if (rc)
		return rc;
	rc = queue_alloc(d, 0, ADMIN_DEPTH, ADMIN_ARENA_PAGES, &d->admin);
	if (rc)
		return rc;
	nvkv_reg_write(d->t, KVC_REG_AQA, KVC_AQA(ADMIN_DEPTH, ADMIN_DEPTH));
	nvkv_reg_write(d->t, KVC_REG_ASQ, (uint32_t)d->admin->sq_addr);
	nvkv_reg_write(d->t, KVC_REG_ASQ + 4, (uint32_t)(d->admin->sq_addr >> 32));
	nvkv_reg_write(d->t, KVC_REG_ACQ, (uint32_t)d->admin->cq_addr);
	nvkv_reg_write(d->t, KVC_REG_ACQ + 4, (uint32_t)(d->admin->cq_addr >> 32));
	nvkv_reg_write(d->t, KVC_REG_CC,
		       KVC_CC_EN | KVC_CC_CSS_ALL << KVC_CC_CSS_SHIFT | 6u << KVC_CC_IOSQES_SHIFT |
			       4u << KVC_CC_IOCQES_SHIFT);
	nvkv_tp_kick(d->t);
	rc = wait_csts(d, KVC_CSTS_RDY, KVC_CSTS_RDY, to_ms);
	if (rc)
		return rc;
	rc = identify(d, (uint32_t)(cap >> KVC_CAP_MPSMIN_SHIFT) & 0xf);
	if (rc)
		return rc;
	want = d->opts.queues;
	rc = admin_cmd(d, KVC_ADM_SET_FEATURES, 0, KVC_FEAT_NUM_QUEUES,
		       (want - 1) | (want - 1) << 16, 0, NULL, 0, &dw0);
	if (rc)
		return rc;
	d->nr_ioq = ((dw0 & 0xffff) < (dw0 >> 16) ? (dw0 & 0xffff) : (dw0 >> 16)) + 1;
	d->info.queues = d->nr_ioq;
	d->qdepth = d->opts.queue_depth < mqes ? d->opts.queue_depth : mqes;
	d->info.queue_depth = mqes;
	d->ioq = calloc(d->nr_ioq + 1, sizeof(*d->ioq));
	if (!d->ioq)
		return -ENOMEM;
	rc = nvkv_udrv_queue_create(d, 1, d->qdepth, &d->sync);
	if (rc)
		return rc;
	d->ioq[1] = d->sync;
	return 0;
}

void nvkv_udrv_stop(struct nvkv_dev *d)
{
	uint32_t i;

	if (d->ioq) {
		for (i = 1; i <= d->nr_ioq; i++)
			nvkv_udrv_queue_destroy(d, d->ioq[i]);
		free(d->ioq);
		d->ioq = NULL;
	}
	d->sync = NULL;
	if (d->admin && !d->admin->dead && !nvkv_tp_dead(d->t)) {
		uint32_t cc = nvkv_reg_read(d->t, KVC_REG_CC);

		nvkv_reg_write(d->t, KVC_REG_CC, (cc & ~KVC_CC_SHN_MASK) | KVC_CC_SHN_NORMAL);
		nvkv_tp_kick(d->t);
		wait_csts(d, KVC_CSTS_SHST_MASK, KVC_CSTS_SHST_COMPLETE, d->opts.timeout_ms);
	}
	queue_free(d->admin);
	d->admin = NULL;
	nvkv_ns_free(d);
}
