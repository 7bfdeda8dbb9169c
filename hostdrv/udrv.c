// SPDX-License-Identifier: MIT
/*
 * The I/O path of libnvkv's user-space NVMe driver: command-id tracking,
 * DMA buffers and PRP lists from each queue's host-memory arena, the
 * commands of every value-transfer method, and completion processing with
 * timeouts and dead-device detection.  Queue set-up and controller bring-up
 * are in udrv_ctrl.c.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nvkv_internal.h"

#define NO_PAGE UINT32_MAX
#define SPIN_NS 50000ull
#define SPIN_CLOCK_EVERY 16 /* empty polls between two clock reads while spinning */

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

uint64_t nvkv_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t nvkv_tp_clock(struct nvkv_transport *t)
{
	return t->ops->clock_ns ? t->ops->clock_ns(t) : nvkv_now_ns();
}

static uint8_t *hmem(struct nvkv_queue *q, uint64_t addr)
{
	return q->d->t->mem + addr;
}

/* ---- host memory ------------------------------------------------------------- */

/* First run of @n free pages in [@from, @to), or NO_PAGE; memchr() skips used pages. */
static uint32_t arena_find(const struct nvkv_queue *q, uint32_t from, uint32_t to, uint32_t n)
{
	uint32_t p = from, k;

	while (p + n <= to) {
		const uint8_t *f = memchr(q->page_used + p, 0, to - p);

		if (!f)
			break;
		p = (uint32_t)(f - q->page_used);
		if (p + n > to)
			break;
		for (k = 1; k < n && !q->page_used[p + k]; k++)
			;
		if (k == n)
			return p;
		p += k + 1; /* page p + k is used */
	}
	return NO_PAGE;
}

/* @n contiguous arena pages: first fit from the hint, then from the start. */
static uint32_t arena_alloc(struct nvkv_queue *q, uint32_t n)
{
	uint32_t first;

	if (n == 0 || n > q->npages)
		return NO_PAGE;
	first = arena_find(q, q->page_hint, q->npages, n);
	if (first == NO_PAGE)
		first = arena_find(q, 0, q->npages, n);
	if (first == NO_PAGE)
		return NO_PAGE;
	memset(q->page_used + first, 1, n);
	q->page_hint = first + n < q->npages ? first + n : 0;
	return first;
}

static void arena_free(struct nvkv_queue *q, uint32_t first, uint32_t n)
{
	if (first != NO_PAGE)
		memset(q->page_used + first, 0, n);
}

static uint64_t page_addr(const struct nvkv_queue *q, uint32_t page)
{
	return q->arena + (uint64_t)page * NVKV_PAGE;
}

/* PRP1/PRP2 for a page-aligned buffer of @len bytes whose list pages follow
 * its data pages. */
static void build_prps(struct nvkv_queue *q, uint32_t first, uint32_t len, uint64_t *prp1,
		       uint64_t *prp2)
{
	uint32_t dp = nvkv_pages_for(len), lp = nvkv_list_pages_for(dp), e, i;
	uint64_t list, data = page_addr(q, first);

	*prp1 = data;
	*prp2 = 0;
	if (dp <= 1)
		return;
	if (!lp) {
		*prp2 = data + NVKV_PAGE;
		return;
	}
	list = page_addr(q, first + dp);
	*prp2 = list;
	for (e = 1, i = 0; e < dp; e++, i++) {
		if (i == NVKV_PAGE / 8 - 1 && e < dp - 1) {
			/* Chain: the last slot points at the next list page. */
			kvc_put_le64(hmem(q, list) + 8 * i, list + NVKV_PAGE);
			list += NVKV_PAGE;
			i = 0;
		}
		kvc_put_le64(hmem(q, list) + 8 * i, data + (uint64_t)e * NVKV_PAGE);
	}
}

/* ---- requests and command ids ------------------------------------------------------ */

static struct nvkv_req *req_get(struct nvkv_queue *q)
{
	struct nvkv_req *r;

	if (q->free_req == NVKV_NO_REQ)
		return NULL;
	r = &q->reqs[q->free_req];
	q->free_req = r->next_free;
	memset(r, 0, sizeof(*r));
	r->in_use = true;
	r->dma_page = NO_PAGE;
	return r;
}

static void req_put(struct nvkv_queue *q, struct nvkv_req *r)
{
	arena_free(q, r->dma_page, r->dma_pages);
	r->in_use = false;
	r->next_free = q->free_req;
	q->free_req = (uint16_t)(r - q->reqs);
}

static uint16_t cid_get(struct nvkv_queue *q, struct nvkv_req *r)
{
	uint16_t cid = q->free_cids[--q->nfree_cids];

	q->cid_req[cid] = (uint16_t)(r - q->reqs);
	q->inflight_cmds++;
	return cid;
}

static void cid_put(struct nvkv_queue *q, uint16_t cid)
{
	q->cid_req[cid] = NVKV_NO_REQ;
	q->free_cids[q->nfree_cids++] = cid;
	q->inflight_cmds--;
}

static uint32_t sq_free(const struct nvkv_queue *q)
{
	return q->size - 1 - (q->sq_tail + q->size - q->sq_head) % q->size;
}

/*
 * Commands are built in their SQ slot, not on the stack and copied there: the
 * copy's wide loads could not take the bytes the encoder had just stored
 * piecemeal, so each waited for every older store to retire, the previous
 * commands' stores into SQ lines the device had just read among them (perf
 * annotate: three quarters of nvkv_udrv_submit, a fifth of the host thread
 * in a fillrandom).  Nothing reads a slot past the tail before the doorbell
 * names it.
 */
static struct kvc_sqe *sq_next(struct nvkv_queue *q)
{
	return &q->sq[q->sq_tail];
}

static void sq_push(struct nvkv_queue *q)
{
	q->sq_tail = (q->sq_tail + 1) % q->size;
}

static struct kvc_sqe *sq_slot(struct nvkv_queue *q)
{
	struct kvc_sqe *s = sq_next(q);

	sq_push(q);
	return s;
}

/* Tell a transport that needs it the bytes behind the next SQE's PRPs. */
static void note_len(struct nvkv_queue *q, uint32_t len)
{
	struct nvkv_transport *t = q->d->t;

	if (t->ops->note_len)
		t->ops->note_len(t, q->qid, q->sq_tail, len);
}

static void put_sqe(struct nvkv_queue *q, const struct kvc_sqe *sqe)
{
	memcpy(sq_slot(q), sqe, sizeof(*sqe));
}

/* ---- building commands ------------------------------------------------------------------ */

struct nvkv_xfer_ctx nvkv_udrv_xfer_ctx(const struct nvkv_queue *q)
{
	const struct nvkv_dev *d = q->d;
	struct nvkv_xfer_ctx x = {
		.link = &d->link,
		.dma_page = d->info.dma_page,
		.interrupts = d->opts.interrupts,
		.byteexpress = d->info.byteexpress,
		.sgl = d->info.sgl,
		.narrow = d->t->fabric, /* DPTR carries the fabric's SGL */
		.fabric = d->t->fabric,
		.qsize = q->size,
		.threshold = d->opts.adaptive_threshold,
	};

	return x;
}

/* @n arena pages for @r's buffer, the first @len bytes copied from @src if any. */
static int take_pages(struct nvkv_queue *q, struct nvkv_req *r, const void *src, size_t len,
		      uint32_t n)
{
	r->dma_page = arena_alloc(q, n);
	if (r->dma_page == NO_PAGE)
		return -EAGAIN;
	r->dma_pages = n;
	if (src)
		memcpy(hmem(q, page_addr(q, r->dma_page)), src, len);
	return 0;
}

/* Allocate and fill the PRP buffer of a request. */
static int attach_buffer(struct nvkv_queue *q, struct nvkv_req *r, const void *src, size_t len,
			 uint64_t *prp1, uint64_t *prp2)
{
	uint32_t dp = nvkv_pages_for(len), n = dp + nvkv_list_pages_for(dp);

	int rc;

	*prp1 = *prp2 = 0;
	if (!len)
		return 0;
	rc = take_pages(q, r, src, len, n);
	if (!rc)
		build_prps(q, r->dma_page, (uint32_t)len, prp1, prp2);
	return rc;
}

/* The request's buffer as one SGL Data Block of @len bytes: contiguous arena
 * pages, no list. */
static int attach_sgl(struct nvkv_queue *q, struct nvkv_req *r, const void *src, size_t len)
{
	uint32_t n = nvkv_pages_for(len);

	r->sgl = true;
	return len ? take_pages(q, r, src, len, n) : 0;
}

/* DPTR of a KV command: PRP entries, or the SGL Data Block of its buffer. */
static void set_dptr(struct nvkv_queue *q, const struct nvkv_req *r, struct kvc_sqe *sqe,
		     uint32_t len, uint64_t prp1, uint64_t prp2)
{
	struct kvc_sgl_desc s = { .len = len, .type = KVC_SGL_DATA_BLOCK };

	if (!r->sgl) {
		kvc_sqe_set_prp(sqe, prp1, prp2);
		note_len(q, prp1 ? len : 0);
		return;
	}
	s.addr = len ? page_addr(q, r->dma_page) : 0;
	sqe->flags = (uint8_t)((sqe->flags & ~KVC_SQE_PSDT_MASK) | KVC_PSDT_SGL_MBUF
									   << KVC_SQE_PSDT_SHIFT);
	kvc_sgl_put(kvc_sqe_bytes(sqe) + KVC_SQE_OFF_PRP1, &s);
}

static void put_kv(struct nvkv_queue *q, struct nvkv_req *r, uint8_t opc, const void *key,
		   size_t klen, uint32_t size, uint8_t opts, uint64_t prp1, uint64_t prp2)
{
	struct kvc_kv_cmd c = {
		.opc = opc, .nsid = q->d->kv_nsid, .klen = (uint8_t)klen, .opts = opts
	};
	struct kvc_sqe *sqe = sq_next(q);

	if (klen)
		memcpy(c.key, key, klen);
	c.size = size;
	c.cid = cid_get(q, r);
	kvc_kv_encode(sqe, &c);
	set_dptr(q, r, sqe, size, prp1, prp2);
	sq_push(q);
}

static int submit_store(struct nvkv_queue *q, struct nvkv_req *r, const void *key, size_t klen,
			const void *val, size_t vlen, unsigned int flags)
{
	enum nvkv_xfer m =
		NVKV_F_XFER(flags) ? (enum nvkv_xfer)NVKV_F_XFER(flags) : q->d->opts.xfer;
	struct nvkv_xfer_ctx x = nvkv_udrv_xfer_ctx(q);
	struct nvkv_plan p = nvkv_xfer_plan(&x, m, (uint8_t)klen, (uint32_t)vlen);
	uint8_t opts = (flags & NVKV_STORE_MUST_EXIST ? KVC_STORE_MUST_EXIST : 0) |
		       (flags & NVKV_STORE_MUST_NOT_EXIST ? KVC_STORE_MUST_NOT_EXIST : 0);
	uint64_t prp1 = 0, prp2 = 0;
	uint32_t i;
	int rc;

	/* Strict: a fixed method that cannot carry this value refuses it. */
	if ((flags & NVKV_F_XFER_STRICT) && p.method != m && m != NVKV_XFER_ADAPTIVE &&
	    m != NVKV_XFER_ADAPTIVE_COST)
		return -EOPNOTSUPP;
	if (sq_free(q) < p.slots || q->nfree_cids < p.cmds)
		return -EAGAIN;
	if (p.method == NVKV_XFER_SGL)
		rc = attach_sgl(q, r, val, p.prp_len);
	else
		rc = attach_buffer(q, r, val, p.prp_len, &prp1, &prp2);
	if (rc)
		return rc;
	r->xfer = (uint8_t)p.method;
	r->pending = (uint16_t)p.cmds;
	q->st.cmds[p.method]++;
	q->st.sqes[p.method] += p.slots;
	if (p.opc == KVC_KV_STORE) {
		put_kv(q, r, KVC_KV_STORE, key, klen, (uint32_t)vlen, opts, prp1, prp2);
	} else if (p.opc == KVC_BX_STORE) {
		struct kvc_kv_cmd c = { .nsid = q->d->kv_nsid,
					.klen = (uint8_t)klen,
					.opts = opts };
		struct kvc_sqe sqe;

		memcpy(c.key, key, klen);
		c.size = (uint32_t)vlen;
		c.cid = cid_get(q, r);
		kvc_bx_encode(&sqe, &c);
		put_sqe(q, &sqe);
		for (i = 0; i < kvc_bx_chunks((uint32_t)vlen); i++)
			kvc_bx_fill_chunk(sq_slot(q), val, (uint32_t)vlen, i);
	} else {
		struct kvc_bs_store s = { .opc = p.opc,
					  .klen = (uint8_t)klen,
					  .opts = opts,
					  .tag = q->bs_tag++,
					  .nsid = q->d->kv_nsid,
					  .size = (uint32_t)vlen,
					  .prp1 = prp1,
					  .prp2 = prp2 };

		if (x.narrow)
			s.opts |= KVC_BS_OPT_NARROW;
		memcpy(s.key, key, klen);
		for (i = 0; i < p.cmds; i++) {
			/* Only the first command names PRP data (none: prp_len 0). */
			note_len(q, i == 0 ? p.prp_len : 0);
			kvc_bs_encode(sq_slot(q), &s, i, val, cid_get(q, r));
		}
	}
	q->st.key_bytes += klen;
	q->st.value_bytes_out += vlen;
	return 0;
}

/* A request slot for a new submission, or why there is none. */
static int req_start(struct nvkv_queue *q, enum nvkv_op op, nvkv_cb cb, void *arg,
		     struct nvkv_req **out)
{
	struct nvkv_req *r;

	if (q->dead)
		return q->dead;
	if (sq_free(q) < 1 || !q->nfree_cids)
		return -EAGAIN;
	r = req_get(q);
	if (!r)
		return -EAGAIN;
	r->cb = cb;
	r->arg = arg;
	r->op = (uint8_t)op;
	r->deadline = 0; /* set by the first expiry check that sees it (no clock read here) */
	*out = r;
	return 0;
}

int nvkv_udrv_submit(struct nvkv_queue *q, enum nvkv_op op, const void *key, size_t klen,
		     const void *val, size_t vlen, void *buf, size_t buflen, unsigned int flags,
		     nvkv_cb cb, void *arg)
{
	static const uint8_t opcs[] = { [NVKV_OP_RETRIEVE] = KVC_KV_RETRIEVE,
					[NVKV_OP_DELETE] = KVC_KV_DELETE,
					[NVKV_OP_EXIST] = KVC_KV_EXIST,
					[NVKV_OP_LIST] = KVC_KV_LIST };
	uint64_t prp1 = 0, prp2 = 0;
	struct nvkv_req *r;
	int rc;

	if (!q->d->kv_nsid && op != NVKV_OP_FLUSH)
		return -ENXIO; /* a block-only device */
	rc = req_start(q, op, cb, arg, &r);
	if (rc)
		return rc;
	if (op == NVKV_OP_STORE) {
		rc = submit_store(q, r, key, klen, val, vlen, flags);
	} else if (op == NVKV_OP_FLUSH) {
		struct kvc_sqe sqe;

		memset(&sqe, 0, sizeof(sqe));
		sqe.opc = KVC_NVM_FLUSH;
		kvc_sqe_set_nsid(&sqe, q->d->kv_nsid ? q->d->kv_nsid : 0xffffffffu);
		kvc_sqe_set_cid(&sqe, cid_get(q, r));
		put_sqe(q, &sqe);
		r->pending = 1;
		rc = 0;
	} else {
		/* With sgl as the device's method, buffers are named by SGLs too. */
		if (q->d->opts.xfer == NVKV_XFER_SGL && q->d->info.sgl)
			rc = attach_sgl(q, r, NULL, buflen);
		else
			rc = attach_buffer(q, r, NULL, buflen, &prp1, &prp2);
		if (!rc) {
			r->user_buf = buf;
			r->user_len = buflen;
			r->pending = 1;
			put_kv(q, r, opcs[op], key, klen, (uint32_t)buflen, 0, prp1, prp2);
		}
	}
	if (rc) {
		req_put(q, r);
		return rc;
	}
	q->inflight_reqs++;
	return 0;
}

int nvkv_udrv_submit_cmd(struct nvkv_queue *q, enum nvkv_op op, const struct kvc_sqe *sqe,
			 const void *out, void *in, size_t len, uint32_t bytes, nvkv_cb cb,
			 void *arg)
{
	struct kvc_sqe s = *sqe;
	uint64_t prp1, prp2;
	struct nvkv_req *r;
	int rc = req_start(q, op, cb, arg, &r);

	if (rc)
		return rc;
	if (len) {
		rc = attach_buffer(q, r, out, len, &prp1, &prp2);
		if (rc) {
			req_put(q, r);
			return rc;
		}
		kvc_sqe_set_prp(&s, prp1, prp2);
		note_len(q, (uint32_t)len);
		if (in) {
			r->user_buf = in;
			r->user_len = len;
		}
	}
	r->blk_bytes = bytes;
	kvc_sqe_set_cid(&s, cid_get(q, r));
	put_sqe(q, &s);
	r->pending = 1;
	q->inflight_reqs++;
	return 0;
}

int nvkv_udrv_submit_raw(struct nvkv_queue *q, const struct kvc_sqe *sqe, void *data, size_t len,
			 bool set_prp, nvkv_cb cb, void *arg)
{
	enum kvc_xfer_dir dir = kvc_opc_dir(sqe->opc);
	bool h2d = dir == KVC_DIR_H2D || dir == KVC_DIR_BIDI;
	bool d2h = dir == KVC_DIR_D2H || dir == KVC_DIR_BIDI;

	if (!set_prp)
		len = 0;
	return nvkv_udrv_submit_cmd(q, NVKV_OP_RAW, sqe, h2d ? data : NULL, d2h ? data : NULL, len,
				    0, cb, arg);
}

/* ---- completions ---------------------------------------------------------------------- */

static void count(struct nvkv_queue *q, const struct nvkv_req *r)
{
	switch (r->op) {
	case NVKV_OP_RETRIEVE:
		q->st.retrieves++;
		if (!r->status)
			q->st.value_bytes_in += r->user_len < r->dw0 ? r->user_len : r->dw0;
		break;
	case NVKV_OP_DELETE:
		q->st.deletes++;
		break;
	case NVKV_OP_EXIST:
		q->st.exists++;
		break;
	case NVKV_OP_LIST:
		q->st.lists++;
		break;
	case NVKV_OP_FLUSH:
		q->st.flushes++;
		break;
	case NVKV_OP_BLK_READ:
		q->st.blk_reads++;
		q->st.blk_bytes_read += r->status ? 0 : r->blk_bytes;
		break;
	case NVKV_OP_BLK_WRITE:
		q->st.blk_writes++;
		q->st.blk_bytes_written += r->status ? 0 : r->blk_bytes;
		break;
	case NVKV_OP_BLK_WRITE_ZEROES:
		q->st.blk_write_zeroes++;
		break;
	case NVKV_OP_BLK_DSM:
		q->st.blk_dsms++;
		break;
	case NVKV_OP_BLK_FLUSH:
		q->st.blk_flushes++;
		break;
	default:
		break;
	}
	if (r->status)
		q->st.errors++;
}

static void finish(struct nvkv_queue *q, struct nvkv_req *r)
{
	if (!r->abandoned) {
		if (!r->status && r->user_buf && r->dma_page != NO_PAGE) {
			size_t n = r->user_len;

			if (r->op == NVKV_OP_RETRIEVE && r->dw0 < n)
				n = r->dw0;
			memcpy(r->user_buf, hmem(q, page_addr(q, r->dma_page)), n);
		}
		count(q, r);
		q->inflight_reqs--;
		if (r->cb)
			r->cb(r->arg, r->status, r->dw0);
	}
	req_put(q, r);
}

static void complete_cmd(struct nvkv_queue *q, const struct kvc_cqe *cqe)
{
	uint16_t cid = kvc_cqe_cid(cqe);
	int st = KVC_STATUS_CODE(kvc_cqe_status(cqe));
	struct nvkv_transport *t = q->d->t;
	struct nvkv_req *r;

	q->sq_head = kvc_get_le16(&cqe->sqhd) % q->size;
	if (cid >= q->size || q->cid_req[cid] == NVKV_NO_REQ)
		return; /* not ours: ignore rather than corrupt a request */
	r = &q->reqs[q->cid_req[cid]];
	cid_put(q, cid);
	if (st && t->ops->cqe_errno) {
		int e = t->ops->cqe_errno(t, q->qid, cid);

		st = e ? e : st;
	}
	if (st && !r->status)
		r->status = st;
	r->dw0 = kvc_cqe_dw0(cqe);
	if (--r->pending == 0)
		finish(q, r);
}

void nvkv_udrv_kick(struct nvkv_queue *q)
{
	if (q->sq_tail == q->rung)
		return;
	q->rung = q->sq_tail;
	nvkv_reg_write(q->d->t, kvc_sq_tail_db(q->qid, 0), q->sq_tail);
	nvkv_tp_kick(q->d->t);
}

/* The device is gone: every outstanding request fails with @err. */
static void fail_all(struct nvkv_queue *q, int err)
{
	uint32_t i;

	q->dead = err;
	for (i = 0; i < q->size; i++) {
		struct nvkv_req *r = &q->reqs[i];

		if (!r->in_use)
			continue;
		r->status = err;
		r->user_buf = NULL;
		finish(q, r);
	}
	for (i = 0; i < q->size; i++)
		if (q->cid_req[i] != NVKV_NO_REQ)
			cid_put(q, (uint16_t)i);
}

static void expire(struct nvkv_queue *q, uint64_t now)
{
	uint32_t i;

	for (i = 0; i < q->size; i++) {
		struct nvkv_req *r = &q->reqs[i];

		if (!r->in_use || r->abandoned)
			continue;
		/* Its timeout counts from the first check that sees it, never
		 * earlier than from its submission: one clock read per check
		 * instead of one per command. */
		if (!r->deadline)
			r->deadline = now + (uint64_t)q->d->opts.timeout_ms * 1000000ull;
		if (now < r->deadline)
			continue;
		/* Its command ids stay reserved: the device may still answer. */
		r->abandoned = true;
		q->inflight_reqs--;
		q->st.errors++;
		if (r->cb)
			r->cb(r->arg, -ETIMEDOUT, 0);
	}
}

int nvkv_udrv_poll(struct nvkv_queue *q)
{
	struct nvkv_transport *t = q->d->t;
	int n = 0;

	if (q->dead)
		return q->dead;
	nvkv_udrv_kick(q);
	if (t->ops->cq_enter)
		t->ops->cq_enter(t);
	for (;;) {
		struct kvc_cqe *c = &q->cq[q->cq_head];
		uint16_t sf = __atomic_load_n(&c->status, __ATOMIC_ACQUIRE);
		struct kvc_cqe cqe;

		if ((kvc_get_le16(&sf) & 1) != q->phase)
			break;
		memcpy(&cqe, c, sizeof(cqe));
		if (++q->cq_head == q->size) {
			q->cq_head = 0;
			q->phase = !q->phase;
		}
		complete_cmd(q, &cqe);
		n++;
	}
	if (t->ops->cq_exit)
		t->ops->cq_exit(t);
	if (n) {
		nvkv_reg_write(q->d->t, kvc_cq_head_db(q->qid, 0), q->cq_head);
		nvkv_tp_kick(q->d->t);
	}
	return n;
}

/* Poll, and on no progress check for a dead device and expired commands. */
static int poll_checked(struct nvkv_queue *q)
{
	int n = nvkv_udrv_poll(q);

	if (n)
		return n;
	if (nvkv_tp_dead(q->d->t)) {
		fail_all(q, -ENODEV);
		return -ENODEV;
	}
	expire(q, nvkv_tp_clock(q->d->t));
	return 0;
}

int nvkv_udrv_wait(struct nvkv_queue *q, unsigned int min)
{
	struct nvkv_transport *t = q->d->t;
	uint64_t spin_until = 0;
	unsigned int done = 0, before, idle = 0;
	int n;

	while (q->inflight_reqs && done < min) {
		before = q->inflight_reqs;
		n = nvkv_udrv_poll(q);
		if (n < 0)
			return n;
		if (n) {
			done += before - q->inflight_reqs;
			idle = 0; /* the spin starts again at the next empty poll */
			continue;
		}
		if (t->ops->advance) {
			/* Simulated: nothing happens unless we let the device run. */
			t->ops->advance(t);
			n = poll_checked(q);
			if (n < 0)
				return n;
			done += before - q->inflight_reqs;
			continue;
		}
		/* A clock read costs as much as a pass: one when the spin starts,
		 * then one every SPIN_CLOCK_EVERY passes. */
		if (idle++ == 0)
			spin_until = nvkv_now_ns() + SPIN_NS;
		if (idle % SPIN_CLOCK_EVERY || nvkv_now_ns() < spin_until) {
			cpu_relax();
			continue;
		}
		n = poll_checked(q);
		if (n < 0)
			return n;
		if (n) {
			done += before - q->inflight_reqs;
			idle = 0;
			continue;
		}
		if (before != q->inflight_reqs) { /* expired */
			done += before - q->inflight_reqs;
			continue;
		}
		t->ops->irq_arm(t);
		n = nvkv_udrv_poll(q); /* completions that raced the arming count too */
		if (n == 0)
			t->ops->irq_sleep(t, 1);
		t->ops->irq_disarm(t);
		if (n < 0)
			return n;
		done += before - q->inflight_reqs;
	}
	return (int)done;
}

struct sync_result {
	bool done;
	int status;
	uint32_t dw0;
};

static void sync_cb(void *arg, int status, uint32_t dw0)
{
	struct sync_result *res = arg;

	res->done = true;
	res->status = status;
	res->dw0 = dw0;
}

static int wait_one(struct nvkv_queue *q, struct sync_result *res, uint32_t *dw0)
{
	while (!res->done) {
		int n = nvkv_udrv_wait(q, 1);

		if (n < 0 && !res->done)
			return n;
	}
	if (dw0)
		*dw0 = res->dw0;
	return res->status;
}

/* A submit said -EAGAIN: wait for one completion to free a slot; -E2BIG with none in flight. */
static int make_room(struct nvkv_queue *q)
{
	int rc;

	if (!q->inflight_reqs)
		return -E2BIG; /* cannot fit even in an empty queue */
	rc = nvkv_udrv_wait(q, 1);
	return rc < 0 ? rc : 0;
}

/* After a synchronous submit that returned @rc: on success, ring the doorbell and wait. */
static int finish_sync(struct nvkv_queue *q, int rc, struct sync_result *res, uint32_t *dw0)
{
	if (rc)
		return rc;
	nvkv_udrv_kick(q);
	return wait_one(q, res, dw0);
}

int nvkv_udrv_exec(struct nvkv_queue *q, enum nvkv_op op, const void *key, size_t klen,
		   const void *val, size_t vlen, void *buf, size_t buflen, unsigned int flags,
		   uint32_t *dw0)
{
	struct sync_result res = { false, 0, 0 };
	int rc;

	while ((rc = nvkv_udrv_submit(q, op, key, klen, val, vlen, buf, buflen, flags, sync_cb,
				      &res)) == -EAGAIN) {
		rc = make_room(q);
		if (rc)
			return rc;
	}
	return finish_sync(q, rc, &res, dw0);
}

int nvkv_udrv_exec_raw(struct nvkv_queue *q, const struct kvc_sqe *sqe, void *data, size_t len,
		       bool set_prp, uint32_t *dw0)
{
	struct sync_result res = { false, 0, 0 };
	int rc = nvkv_udrv_submit_raw(q, sqe, data, len, set_prp, sync_cb, &res);

	return finish_sync(q, rc == -EAGAIN && !q->inflight_reqs ? -E2BIG : rc, &res, dw0);
}

int nvkv_udrv_exec_cmd(struct nvkv_queue *q, enum nvkv_op op, const struct kvc_sqe *sqe,
		       const void *out, void *in, size_t len, uint32_t bytes)
{
	struct sync_result res = { false, 0, 0 };
	int rc;

	while ((rc = nvkv_udrv_submit_cmd(q, op, sqe, out, in, len, bytes, sync_cb, &res)) ==
	       -EAGAIN) {
		rc = make_room(q);
		if (rc)
			return rc;
	}
	return finish_sync(q, rc, &res, NULL);
}
