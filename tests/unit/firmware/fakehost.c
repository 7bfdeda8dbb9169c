// SPDX-License-Identifier: MIT
/* Fake HAL and minimal host for firmware tests; see fakehost.h. */
#include "fakehost.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- HAL ---------------------------------------------------------------- */

static uint64_t f_now(void *ctx)
{
	struct fh_env *e = ctx;

	if (e->auto_clock)
		e->now += 100;
	return e->now;
}

/* Count one operation of @kind; true when it must fail. */
static bool fault_hit(struct fh_env *e, enum fh_fault_kind kind)
{
	const struct fh_fault *f = &e->fault[kind];
	uint64_t n;

	if (e->frozen && kind != FH_NAND_READ)
		return true;
	n = ++e->ops[kind];

	if (!f->at || n < f->at || (n > f->at && !f->persistent))
		return false;
	e->injected[kind]++;
	return true;
}

void fh_fault_arm(struct fh_env *e, enum fh_fault_kind kind, uint64_t at, bool persistent)
{
	e->ops[kind] = 0;
	e->fault[kind].at = at;
	e->fault[kind].persistent = persistent;
}

void fh_fault_clear(struct fh_env *e)
{
	memset(e->fault, 0, sizeof(e->fault));
	memset(e->ops, 0, sizeof(e->ops));
}

static int f_read(void *ctx, uint64_t ppn, uint32_t off, uint32_t len, void *buf)
{
	struct fh_env *e = ctx;

	if (ppn >= e->media_pages || off + len > e->page_size)
		return -EINVAL;
	if (e->fail_read_after == 0)
		return -EIO;
	if (e->fail_read_after > 0)
		e->fail_read_after--;
	if (fault_hit(e, FH_NAND_READ))
		return -EIO;
	e->reads++;
	memcpy(buf, e->media + ppn * e->page_size + off, len);
	return 0;
}

static int f_program(void *ctx, uint64_t ppn, const void *buf)
{
	struct fh_env *e = ctx;

	if (ppn >= e->media_pages)
		return -EINVAL;
	if (fault_hit(e, FH_NAND_PROGRAM))
		return -EIO;
	e->programs++;
	e->blk_writes[ppn / e->pages_per_block]++;
	memcpy(e->media + ppn * e->page_size, buf, e->page_size);
	return 0;
}

static int f_stage(void *ctx, uint64_t ppn, const void *buf, size_t len)
{
	struct fh_env *e = ctx;

	if (ppn >= e->media_pages || len > e->page_size)
		return -EINVAL;
	if (e->frozen)
		return -EIO;
	e->stages++;
	e->blk_writes[ppn / e->pages_per_block]++;
	memcpy(e->media + ppn * e->page_size, buf, len);
	return 0;
}

static void f_expect(void *ctx, uint64_t block)
{
	struct fh_env *e = ctx;

	if (e->nexpect < FH_MAX_EXPECT)
		e->expected[e->nexpect] = block;
	e->nexpect++;
}

static int f_erase(void *ctx, uint64_t block)
{
	struct fh_env *e = ctx;

	if ((block + 1) * e->pages_per_block > e->media_pages)
		return -EINVAL;
	if (fault_hit(e, FH_NAND_ERASE))
		return -EIO;
	e->erases++;
	e->blk_writes[block]++;
	/* Erased NAND reads as 0xff: stale data must never come back. */
	memset(e->media + block * e->pages_per_block * e->page_size, 0xff,
	       (size_t)e->pages_per_block * e->page_size);
	return 0;
}

static struct fh_meta_rec *meta_find(struct fh_meta_rec *t, int e_hi, const void *key, size_t klen)
{
	int i;

	for (i = 0; i < e_hi; i++)
		if (t[i].live && t[i].klen == klen && !memcmp(t[i].key, key, klen))
			return &t[i];
	return NULL;
}

/* A catalog write: an injected fault kills the transaction, as in LMDB. */
static int meta_write_fault(struct fh_env *e)
{
	bool io = fault_hit(e, FH_META_WRITE), full = fault_hit(e, FH_META_FULL);

	if (io || full)
		e->txn_dead = true;
	else if (e->txn_dead)
		return -EIO; /* MDB_BAD_TXN */
	return full ? -ENOSPC : io ? -EIO : 0;
}

static int f_meta_put(void *ctx, const void *key, size_t klen, const void *rec, size_t rlen)
{
	struct fh_env *e = ctx;
	struct fh_meta_rec *r = meta_find(e->pending, e->meta_hi, key, klen);
	int i, rc = meta_write_fault(e);

	if (rc)
		return rc;
	if (!r) {
		for (i = 0; i < FH_MAX_META && e->pending[i].live; i++)
			;
		if (i == FH_MAX_META) {
			e->txn_dead = true;
			return -ENOSPC;
		}
		r = &e->pending[i];
		if (i >= e->meta_hi)
			e->meta_hi = i + 1;
	}
	r->live = true;
	r->klen = (uint8_t)klen;
	memcpy(r->key, key, klen);
	memcpy(r->rec, rec, rlen);
	return 0;
}

static int f_meta_del(void *ctx, const void *key, size_t klen)
{
	struct fh_env *e = ctx;
	struct fh_meta_rec *r = meta_find(e->pending, e->meta_hi, key, klen);
	int rc = meta_write_fault(e);

	if (rc)
		return rc;
	if (r)
		r->live = false;
	return 0;
}

static int f_meta_commit(void *ctx, int sync)
{
	struct fh_env *e = ctx;

	(void)sync;
	if (fault_hit(e, FH_META_COMMIT) || e->txn_dead) {
		e->txn_dead = false;
		fh_env_crash(e); /* the transaction is gone: pending = committed */
		return -EIO;
	}
	memcpy(e->meta, e->pending, (size_t)e->meta_hi * sizeof(e->meta[0]));
	memcpy(e->blob, e->pending_blob, e->pending_blob_len);
	e->blob_len = e->pending_blob_len;
	memcpy(e->blobs, e->pending_blobs, sizeof(e->blobs));
	e->commits++;
	return 0;
}

static int f_meta_iterate(void *ctx, int (*fn)(void *, const void *, size_t, const void *, size_t),
			  void *arg)
{
	struct fh_env *e = ctx;
	int i, rc;

	for (i = 0; i < e->meta_hi; i++) {
		if (!e->meta[i].live)
			continue;
		rc = fn(arg, e->meta[i].key, e->meta[i].klen, e->meta[i].rec, 16);
		if (rc)
			return rc;
	}
	return 0;
}

static struct fh_blob *blob_slot(struct fh_blob *t, const char *name, bool create)
{
	int i, free_slot = -1;

	for (i = 0; i < FH_MAX_BLOBS; i++) {
		if (t[i].len && !strcmp(t[i].name, name))
			return &t[i];
		if (!t[i].len && free_slot < 0)
			free_slot = i;
	}
	if (!create || free_slot < 0 || strlen(name) >= sizeof(t[0].name))
		return NULL;
	snprintf(t[free_slot].name, sizeof(t[free_slot].name), "%s", name);
	return &t[free_slot];
}

struct fh_blob *fh_blob_find(struct fh_env *e, const char *name)
{
	return blob_slot(e->blobs, name, false);
}

static int f_set_blob(void *ctx, const char *name, const void *data, size_t len)
{
	struct fh_env *e = ctx;
	struct fh_blob *b;

	int rc = meta_write_fault(e);

	if (rc)
		return rc;
	if (strcmp(name, "vlog")) {
		b = blob_slot(e->pending_blobs, name, true);
		if (!b || !len || len > FH_BLOB_MAX) {
			e->txn_dead = true;
			return -ENOSPC;
		}
		memcpy(b->data, data, len);
		b->len = (uint32_t)len;
		return 0;
	}
	if (len > sizeof(e->pending_blob))
		return -ENOSPC;
	memcpy(e->pending_blob, data, len);
	e->pending_blob_len = len;
	return 0;
}

static int f_get_blob(void *ctx, const char *name, void *data, size_t len)
{
	struct fh_env *e = ctx;
	const struct fh_blob *b;

	if (strcmp(name, "vlog")) {
		b = blob_slot(e->blobs, name, false);
		if (!b)
			return -ENOENT;
		if (len != b->len)
			return -EINVAL;
		memcpy(data, b->data, len);
		return 0;
	}
	if (!e->blob_len)
		return -ENOENT;
	if (len != e->blob_len)
		return -EINVAL;
	memcpy(data, e->blob, len);
	return 0;
}

static void f_log(void *ctx, int level, const char *msg)
{
	struct fh_env *e = ctx;

	(void)level;
	snprintf(e->last_log, sizeof(e->last_log), "%s", msg);
	e->log_lines++;
}

void fh_small_config(struct fw_config *c)
{
	fw_config_default(c);
	c->geo = (struct fw_nand_geo){ .channels = 2,
				       .ways = 2,
				       .planes = 1,
				       .blocks_per_plane = 8,
				       .pages_per_block = 16,
				       .page_size = 4096 };
	c->max_value = 64 * 1024;
	c->max_ioq = 4;
	c->mqes = 256;
	c->blk_percent = 0; /* KV only: tests of the block namespace ask for it */
}

void fh_env_init(struct fh_env *e, const struct fw_config *cfg, bool persistent)
{
	memset(e, 0, sizeof(*e));
	e->page_size = cfg->geo.page_size;
	e->pages_per_block = cfg->geo.pages_per_block;
	e->media_pages = (uint64_t)cfg->geo.channels * cfg->geo.ways * cfg->geo.planes *
			 cfg->geo.blocks_per_plane * cfg->geo.pages_per_block;
	e->media = calloc(e->media_pages, e->page_size);
	ck_assert_ptr_nonnull(e->media);
	e->blk_writes = calloc(e->media_pages / e->pages_per_block, sizeof(*e->blk_writes));
	ck_assert_ptr_nonnull(e->blk_writes);
	e->fail_read_after = -1;
	e->now = 1000000;
	e->hal = (struct fw_hal){ .ctx = e,
				  .now_ns = f_now,
				  .nand_read = f_read,
				  .nand_program = f_program,
				  .nand_stage = f_stage,
				  .nand_erase = f_erase,
				  .nand_expect = f_expect,
				  .log = f_log };
	if (persistent) {
		e->hal.meta_put = f_meta_put;
		e->hal.meta_del = f_meta_del;
		e->hal.meta_commit = f_meta_commit;
		e->hal.meta_iterate = f_meta_iterate;
		e->hal.meta_set_blob = f_set_blob;
		e->hal.meta_get_blob = f_get_blob;
	}
}

void fh_env_fini(struct fh_env *e)
{
	free(e->media);
	free(e->blk_writes);
	e->media = NULL;
	e->blk_writes = NULL;
}

void fh_env_crash(struct fh_env *e)
{
	memcpy(e->pending, e->meta, (size_t)e->meta_hi * sizeof(e->meta[0]));
	memcpy(e->pending_blob, e->blob, e->blob_len);
	e->pending_blob_len = e->blob_len;
	memcpy(e->pending_blobs, e->blobs, sizeof(e->blobs));
}

/* ---- host ------------------------------------------------------------------ */

static int h_dma_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	struct fh_host *h = ctx;

	if (addr > FH_MEM_SIZE || len > FH_MEM_SIZE - addr)
		return -EFAULT;
	memcpy(buf, h->mem + addr, len);
	return 0;
}

static int h_dma_write(void *ctx, uint64_t addr, const void *buf, size_t len)
{
	struct fh_host *h = ctx;

	if (addr > FH_MEM_SIZE || len > FH_MEM_SIZE - addr)
		return -EFAULT;
	memcpy(h->mem + addr, buf, len);
	return 0;
}

static void h_irq(void *ctx, uint16_t vector)
{
	struct fh_host *h = ctx;

	(void)vector;
	h->irqs++;
}

void fh_host_init(struct fh_host *h, struct fh_env *e, struct fw_subsys *s)
{
	memset(h, 0, sizeof(*h));
	h->env = e;
	h->mem = calloc(1, FH_MEM_SIZE);
	h->bar = calloc(1, 0x2000);
	ck_assert_ptr_nonnull(h->mem);
	h->brk = 4096; /* address 0 stays unused */
	h->hif = (struct fw_host_if){ .ctx = h,
				      .dma_read = h_dma_read,
				      .dma_write = h_dma_write,
				      .irq_raise = h_irq,
				      .bar = h->bar,
				      .bar_size = 0x2000 };
	ck_assert_int_eq(fw_ctrl_create(s, &h->hif, 1, &h->ctrl), 0);
}

void fh_host_fini(struct fh_host *h)
{
	fw_ctrl_destroy(h->ctrl);
	free(h->mem);
	free(h->bar);
}

uint64_t fh_alloc(struct fh_host *h, uint64_t len, uint64_t align)
{
	uint64_t a = (h->brk + align - 1) / align * align;

	ck_assert_uint_le(a + len, FH_MEM_SIZE);
	h->brk = a + len;
	memset(h->mem + a, 0, len);
	return a;
}

static void reg_write(struct fh_host *h, uint32_t off, uint32_t v)
{
	h->bar[off / 4] = v;
}

uint32_t fh_enable(struct fh_host *h, uint32_t qsize)
{
	int i;

	h->q[0].sq = fh_alloc(h, (uint64_t)qsize * 64, 4096);
	h->q[0].cq = fh_alloc(h, (uint64_t)qsize * 16, 4096);
	h->q[0].size = qsize;
	h->q[0].phase = true;
	reg_write(h, KVC_REG_AQA, KVC_AQA(qsize, qsize));
	reg_write(h, KVC_REG_ASQ, (uint32_t)h->q[0].sq);
	reg_write(h, KVC_REG_ACQ, (uint32_t)h->q[0].cq);
	reg_write(h, KVC_REG_CC,
		  KVC_CC_EN | KVC_CC_CSS_ALL << KVC_CC_CSS_SHIFT | 6 << KVC_CC_IOSQES_SHIFT |
			  4 << KVC_CC_IOCQES_SHIFT);
	for (i = 0; i < 10 && !(h->bar[KVC_REG_CSTS / 4] & KVC_CSTS_RDY); i++)
		fw_ctrl_poll(h->ctrl);
	return h->bar[KVC_REG_CSTS / 4];
}

uint16_t fh_put(struct fh_host *h, uint16_t qid, struct kvc_sqe *sqe, bool assign_cid)
{
	uint16_t cid = h->next_cid++;

	if (assign_cid)
		kvc_sqe_set_cid(sqe, cid);
	memcpy(h->mem + h->q[qid].sq + (uint64_t)h->q[qid].sqt * 64, sqe, 64);
	h->q[qid].sqt = (h->q[qid].sqt + 1) % h->q[qid].size;
	return kvc_sqe_cid(sqe);
}

void fh_put_raw(struct fh_host *h, uint16_t qid, const void *slot)
{
	memcpy(h->mem + h->q[qid].sq + (uint64_t)h->q[qid].sqt * 64, slot, 64);
	h->q[qid].sqt = (h->q[qid].sqt + 1) % h->q[qid].size;
}

void fh_ring(struct fh_host *h, uint16_t qid)
{
	h->bar[kvc_sq_tail_db(qid, 0) / 4] = h->q[qid].sqt;
}

bool fh_reap(struct fh_host *h, uint16_t qid, struct kvc_cqe *out, unsigned int polls)
{
	unsigned int i;

	for (i = 0; i <= polls; i++) {
		struct kvc_cqe *c = (void *)(h->mem + h->q[qid].cq + (uint64_t)h->q[qid].cqh * 16);

		if (kvc_cqe_phase(c) == h->q[qid].phase) {
			*out = *c;
			if (++h->q[qid].cqh == h->q[qid].size) {
				h->q[qid].cqh = 0;
				h->q[qid].phase = !h->q[qid].phase;
			}
			h->bar[kvc_cq_head_db(qid, 0) / 4] = h->q[qid].cqh;
			return true;
		}
		fw_ctrl_poll(h->ctrl);
	}
	return false;
}

uint16_t fh_exec(struct fh_host *h, uint16_t qid, struct kvc_sqe *sqe, uint32_t *dw0)
{
	struct kvc_cqe cqe;
	uint16_t cid = fh_put(h, qid, sqe, true);

	fh_ring(h, qid);
	ck_assert_msg(fh_reap(h, qid, &cqe, 1000), "no completion for opcode %#x", sqe->opc);
	ck_assert_uint_eq(kvc_cqe_cid(&cqe), cid);
	if (dw0)
		*dw0 = kvc_cqe_dw0(&cqe);
	return kvc_cqe_status(&cqe);
}

int fh_create_ioq(struct fh_host *h, uint16_t qid, uint32_t size)
{
	struct kvc_sqe sqe;
	uint16_t st;

	h->q[qid].sq = fh_alloc(h, (uint64_t)size * 64, 4096);
	h->q[qid].cq = fh_alloc(h, (uint64_t)size * 16, 4096);
	h->q[qid].size = size;
	h->q[qid].phase = true;
	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = KVC_ADM_CREATE_CQ;
	kvc_sqe_set_prp(&sqe, h->q[qid].cq, 0);
	kvc_sqe_set_dw(&sqe, 10, (size - 1) << 16 | qid);
	kvc_sqe_set_dw(&sqe, 11, KVC_CREATE_CQ_PC | KVC_CREATE_CQ_IEN);
	st = fh_exec(h, 0, &sqe, NULL);
	if (st)
		return st;
	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = KVC_ADM_CREATE_SQ;
	kvc_sqe_set_prp(&sqe, h->q[qid].sq, 0);
	kvc_sqe_set_dw(&sqe, 10, (size - 1) << 16 | qid);
	kvc_sqe_set_dw(&sqe, 11, (uint32_t)qid << 16 | KVC_CREATE_SQ_PC);
	return fh_exec(h, 0, &sqe, NULL);
}

static void kv_cmd(struct kvc_kv_cmd *c, uint8_t opc, const char *key)
{
	memset(c, 0, sizeof(*c));
	c->opc = opc;
	c->nsid = 1;
	c->klen = (uint8_t)strlen(key);
	memcpy(c->key, key, c->klen > 16 ? 16 : c->klen);
}

/* Host buffers with PRPs: a list is built when the buffer spans > 2 pages. */
static void set_prps(struct fh_host *h, struct kvc_kv_cmd *c, uint64_t buf, uint32_t len)
{
	uint64_t first = 4096 - buf % 4096, left, list;
	uint32_t i, n;

	c->prp1 = buf;
	c->prp2 = 0;
	if (len <= first)
		return;
	left = len - first;
	if (left <= 4096) {
		c->prp2 = buf + first;
		return;
	}
	n = (uint32_t)((left + 4095) / 4096);
	ck_assert_uint_le(n, 511);
	list = fh_alloc(h, 4096, 4096);
	for (i = 0; i < n; i++)
		kvc_put_le64(h->mem + list + 8 * i, buf + first + 4096ull * i);
	c->prp2 = list;
}

uint16_t fh_store(struct fh_host *h, uint16_t qid, const char *key, const void *val, uint32_t len,
		  uint8_t opts)
{
	struct kvc_kv_cmd c;
	struct kvc_sqe sqe;
	uint64_t buf = fh_alloc(h, len ? len : 1, 4096);

	memcpy(h->mem + buf, val, len);
	kv_cmd(&c, KVC_KV_STORE, key);
	c.size = len;
	c.opts = opts;
	set_prps(h, &c, buf, len);
	ck_assert_int_eq(kvc_kv_encode(&sqe, &c), 0);
	return fh_exec(h, qid, &sqe, NULL);
}

uint16_t fh_retrieve(struct fh_host *h, uint16_t qid, const char *key, void *out, uint32_t buflen,
		     uint32_t *vlen)
{
	struct kvc_kv_cmd c;
	struct kvc_sqe sqe;
	uint64_t buf = fh_alloc(h, buflen ? buflen : 1, 4096);
	uint16_t st;

	kv_cmd(&c, KVC_KV_RETRIEVE, key);
	c.size = buflen;
	set_prps(h, &c, buf, buflen);
	ck_assert_int_eq(kvc_kv_encode(&sqe, &c), 0);
	st = fh_exec(h, qid, &sqe, vlen);
	if (!st && out)
		memcpy(out, h->mem + buf, buflen);
	return st;
}

uint16_t fh_simple(struct fh_host *h, uint16_t qid, uint8_t opc, const char *key)
{
	struct kvc_kv_cmd c;
	struct kvc_sqe sqe;

	kv_cmd(&c, opc, key);
	ck_assert_int_eq(kvc_kv_encode(&sqe, &c), 0);
	return fh_exec(h, qid, &sqe, NULL);
}

void fh_dev_start(struct fh_env *e, const struct fw_config *cfg, struct fw_subsys **s,
		  struct fh_host *h)
{
	ck_assert_int_eq(fw_subsys_create(cfg, &e->hal, s), 0);
	fh_host_init(h, e, *s);
	ck_assert_uint_eq(fh_enable(h, 32) & (KVC_CSTS_RDY | KVC_CSTS_CFS), KVC_CSTS_RDY);
	ck_assert_uint_eq(fh_create_ioq(h, 1, 64), 0);
}

void fh_dev_stop(struct fw_subsys **s, struct fh_host *h)
{
	fh_host_fini(h);
	fw_subsys_destroy(*s);
	*s = NULL;
}

void fh_dev_crash_restart(struct fh_env *e, const struct fw_config *cfg, struct fw_subsys **s,
			  struct fh_host *h)
{
	fh_env_crash(e);
	e->frozen = true;
	fh_dev_stop(s, h);
	e->frozen = false;
	e->txn_dead = false;
	e->log_lines = 0;
	fh_dev_start(e, cfg, s, h);
}
