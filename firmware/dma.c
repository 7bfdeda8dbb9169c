// SPDX-License-Identifier: MIT
/* DMA engine, PRP and SGL walkers; see dma.h. */
#include "dma.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "cmdset/le.h"
#include "cmdset/sgl.h"
#include "cmdset/status.h"

static void charge(struct fw_dma *d, enum fw_pcie_kind kind, struct kvc_pcie_cost c)
{
	fw_pcie_add(d->pcie, kind, c);
	if (d->acc)
		kvc_pcie_cost_add(d->acc, c);
}

int fw_dma_read(struct fw_dma *d, enum fw_pcie_kind kind, uint64_t addr, void *buf, uint32_t len)
{
	int rc = d->hif->dma_read(d->hif->ctx, addr, buf, len);

	if (rc == 0)
		charge(d, kind, kvc_pcie_mrd(&d->pcie->cfg, addr, len));
	return rc;
}

int fw_dma_write(struct fw_dma *d, enum fw_pcie_kind kind, uint64_t addr, const void *buf,
		 uint32_t len)
{
	int rc = d->hif->dma_write(d->hif->ctx, addr, buf, len);

	if (rc == 0)
		charge(d, kind, kvc_pcie_mwr(&d->pcie->cfg, addr, len));
	return rc;
}

/* One contiguous piece of the host buffer. */
struct seg_op {
	struct fw_dma *d;
	uint8_t *buf;
	bool to_host;
	uint32_t done;
	uint32_t want;	  /* bytes to move; the PRPs may describe more */
	uint32_t entries; /* PRP entries that moved bytes */
	struct kvc_pcie_cost cost;
};

static uint16_t do_segment(struct seg_op *op, uint64_t addr, uint32_t len)
{
	struct fw_dma *d = op->d;
	uint64_t caddr = addr, clen;
	int rc;

	if (len > op->want - op->done)
		len = op->want - op->done;
	if (len == 0)
		return 0;
	op->entries++;
	clen = len;

	if (op->to_host)
		rc = d->hif->dma_write(d->hif->ctx, addr, op->buf + op->done, len);
	else
		rc = d->hif->dma_read(d->hif->ctx, addr, op->buf + op->done, len);
	if (rc)
		return KVC_ST_GENERIC_DNR(KVC_SC_DATA_XFER_ERROR);
	if (d->gran == FW_DMA_PAGE) {
		caddr = addr / FW_MEM_PAGE * FW_MEM_PAGE;
		clen = (addr + len + FW_MEM_PAGE - 1) / FW_MEM_PAGE * FW_MEM_PAGE - caddr;
	}
	if (op->to_host)
		kvc_pcie_mwr_add(&d->pcie->cfg, caddr, clen, &op->cost);
	else
		kvc_pcie_mrd_add(&d->pcie->cfg, caddr, clen, &op->cost);
	op->done += len;
	return 0;
}

#define ST_PRP_OFFSET KVC_ST_GENERIC_DNR(KVC_SC_INVALID_PRP_OFFSET)
#define ST_XFER KVC_ST_GENERIC_DNR(KVC_SC_DATA_XFER_ERROR)

/* Walk a PRP list starting at @list for @left bytes of whole pages. */
static uint16_t walk_list(struct seg_op *op, uint64_t list, uint32_t left)
{
	uint64_t entries[FW_MEM_PAGE / 8];
	uint16_t st;

	if (list & 7)
		return ST_PRP_OFFSET;
	while (left && op->done < op->want) {
		/* Entries that fit before the end of this list page. */
		uint32_t slots = (uint32_t)((FW_MEM_PAGE - list % FW_MEM_PAGE) / 8);
		uint32_t need = (left + FW_MEM_PAGE - 1) / FW_MEM_PAGE;
		uint32_t take = need <= slots ? need : slots - 1; /* last slot chains */
		uint32_t fetch = need <= slots ? need : slots;
		uint32_t i;

		if (fetch == 0 || fw_dma_read(op->d, FW_PK_PRP_LIST, list, entries, fetch * 8))
			return ST_XFER;
		for (i = 0; i < take && op->done < op->want; i++) {
			uint64_t e;
			uint32_t n = left < FW_MEM_PAGE ? left : FW_MEM_PAGE;

			e = kvc_get_le64(&entries[i]);
			if (e % FW_MEM_PAGE)
				return ST_PRP_OFFSET;
			st = do_segment(op, e, n);
			if (st)
				return st;
			left -= n;
		}
		/* Only a list that needs more slots than this page has chains on. */
		if (need > slots && op->done < op->want) {
			list = kvc_get_le64(&entries[slots - 1]);
			if (list % FW_MEM_PAGE)
				return ST_PRP_OFFSET;
		}
	}
	return 0;
}

static uint16_t walk_prp(struct seg_op *op, uint64_t prp1, uint64_t prp2, uint32_t len)
{
	uint32_t first, left;
	uint16_t st;

	if (prp1 & 3)
		return ST_PRP_OFFSET;
	if (len == 0)
		return 0;
	first = FW_MEM_PAGE - (uint32_t)(prp1 % FW_MEM_PAGE);
	if (first > len)
		first = len;
	st = do_segment(op, prp1, first);
	if (st || first == len || op->done == op->want)
		return st;
	left = len - first;
	if (left <= FW_MEM_PAGE) {
		if (prp2 % FW_MEM_PAGE)
			return ST_PRP_OFFSET;
		return do_segment(op, prp2, left);
	}
	return walk_list(op, prp2, left);
}

static uint16_t dma_prp(struct fw_dma *d, uint64_t prp1, uint64_t prp2, uint8_t *buf, uint32_t len,
			uint32_t want, bool to_host)
{
	struct seg_op op = { .d = d, .buf = buf, .to_host = to_host, .want = want };
	uint16_t st = walk_prp(&op, prp1, prp2, len);

	charge(d, FW_PK_DATA, op.cost);
	d->data_ns = fw_pcie_time_ns(d->pcie, op.cost);
	d->data_entries = op.entries;
	d->data_sgl = false;
	return st;
}

uint16_t fw_dma_read_prp(struct fw_dma *d, uint64_t prp1, uint64_t prp2, void *buf, uint32_t len)
{
	return dma_prp(d, prp1, prp2, buf, len, len, false);
}

uint16_t fw_dma_write_prp(struct fw_dma *d, uint64_t prp1, uint64_t prp2, const void *buf,
			  uint32_t buflen, uint32_t len)
{
	return dma_prp(d, prp1, prp2, (uint8_t *)buf, buflen, len, true);
}

#define ST_SGL_TYPE KVC_ST_GENERIC_DNR(KVC_SC_SGL_DESC_TYPE)
#define ST_SGL_SEG KVC_ST_GENERIC_DNR(KVC_SC_INVALID_SGL_SEG)
#define ST_SGL_NUM KVC_ST_GENERIC_DNR(KVC_SC_INVALID_NUM_SGL)
#define ST_SGL_LEN KVC_ST_GENERIC_DNR(KVC_SC_DATA_SGL_LEN)
#define ST_SGL_OFFSET KVC_ST_GENERIC_DNR(KVC_SC_INVALID_SGL_OFFSET)
#define ST_INVALID_FIELD KVC_ST_GENERIC_DNR(KVC_SC_INVALID_FIELD)

/* Segment descriptors fetched per read (one 4 KiB page of them). */
#define SGL_CHUNK (FW_MEM_PAGE / KVC_SGL_DESC_SIZE)

/* One SGL transfer: bytes [0, want) of the command's data stream. */
struct sgl_op {
	struct fw_dma *d;
	const struct fw_dptr *p;
	uint8_t *buf;
	bool to_host;
	uint32_t pos; /* next byte of the stream (moved or discarded before it) */
	uint32_t want;
	uint32_t ndesc;
	bool icd_known;
	const uint8_t *icd; /* in-capsule data, once asked for */
	uint32_t icd_len;
	struct kvc_pcie_cost cost;
};

static bool has_capsule(const struct fw_host_if *hif)
{
	return hif->capsule_data != NULL;
}

static bool has_xport(const struct fw_host_if *hif)
{
	return hif->xport_read && hif->xport_write;
}

uint32_t fw_dma_sgls(const struct fw_host_if *hif)
{
	uint32_t v =
		KVC_SGLS_SUPPORTED | KVC_SGLS_BIT_BUCKET | KVC_SGLS_OVERSIZE | KVC_SGLS_MPTR_SGL;

	if (has_capsule(hif))
		v |= KVC_SGLS_OFFSET;
	if (has_xport(hif))
		v |= KVC_SGLS_TRANSPORT;
	return v;
}

void fw_dma_prefetch_out(const struct fw_dma *d, const struct kvc_sqe *sqe, uint32_t len)
{
	uint64_t prp1 = kvc_sqe_prp1(sqe), room = FW_MEM_PAGE - prp1 % FW_MEM_PAGE;

	if (!d->hif->dma_prefetch || (sqe->flags & KVC_SQE_PSDT_MASK) || !len)
		return;
	if (len > room)
		len = (uint32_t)room;
	d->hif->dma_prefetch(d->hif->ctx, prp1, len < 512 ? len : 512);
}

void fw_dptr_from_sqe(struct fw_dptr *p, const struct kvc_sqe *sqe, uint16_t sqid)
{
	p->psdt = (uint8_t)((sqe->flags & KVC_SQE_PSDT_MASK) >> KVC_SQE_PSDT_SHIFT);
	memcpy(p->raw, kvc_sqe_cbytes(sqe) + KVC_SQE_OFF_PRP1, sizeof(p->raw));
	p->sqid = sqid;
	p->cid = kvc_get_le16(kvc_sqe_cbytes(sqe) + KVC_SQE_OFF_CID);
}

/* The command's in-capsule data; NULL when the transport has none. */
static const uint8_t *capsule(struct sgl_op *op)
{
	const struct fw_host_if *hif = op->d->hif;
	const void *data = NULL;
	uint32_t len = 0;

	if (!op->icd_known) {
		op->icd_known = true;
		if (has_capsule(hif) &&
		    hif->capsule_data(hif->ctx, op->p->sqid, op->p->cid, &data, &len) == 0 &&
		    data) {
			op->icd = data;
			op->icd_len = len;
		}
	}
	return op->icd;
}

/* Check that [off, off + len) lies in the in-capsule data. */
static uint16_t capsule_range(struct sgl_op *op, uint64_t off, uint64_t len)
{
	if (!capsule(op))
		return ST_SGL_TYPE;
	if (off > op->icd_len)
		return ST_SGL_OFFSET;
	if (len > op->icd_len - off)
		return ST_SGL_LEN;
	return 0;
}

static void charge_bytes(struct sgl_op *op, uint64_t addr, uint32_t n)
{
	const struct kvc_pcie_link *l = &op->d->pcie->cfg;

	if (op->to_host)
		kvc_pcie_mwr_add(l, addr, n, &op->cost);
	else
		kvc_pcie_mrd_add(l, addr, n, &op->cost);
}

/* Move @n bytes of the stream between the device buffer and host memory. */
static uint16_t move_mem(struct sgl_op *op, uint64_t addr, uint32_t n)
{
	const struct fw_host_if *hif = op->d->hif;
	int rc;

	if (op->to_host)
		rc = hif->dma_write(hif->ctx, addr, op->buf + op->pos, n);
	else
		rc = hif->dma_read(hif->ctx, addr, op->buf + op->pos, n);
	if (rc)
		return ST_XFER;
	charge_bytes(op, addr, n);
	return 0;
}

/* In-capsule data carries host-to-device bytes only. */
static uint16_t move_capsule(struct sgl_op *op, uint64_t off, uint32_t dlen, uint32_t n)
{
	uint16_t st;

	if (op->to_host)
		return ST_SGL_TYPE;
	st = capsule_range(op, off, dlen);
	if (st)
		return st;
	memcpy(op->buf + op->pos, op->icd + off, n);
	charge_bytes(op, off, n);
	return 0;
}

static uint16_t move_xport(struct sgl_op *op, uint32_t n)
{
	const struct fw_host_if *hif = op->d->hif;
	const struct fw_dptr *p = op->p;
	int rc;

	if (op->to_host)
		rc = hif->xport_write(hif->ctx, p->sqid, p->cid, op->pos, op->buf + op->pos, n);
	else
		rc = hif->xport_read(hif->ctx, p->sqid, p->cid, op->pos, op->buf + op->pos, n);
	if (rc)
		return ST_XFER;
	charge_bytes(op, op->pos, n);
	return 0;
}

/* A descriptor that names data (not a segment): move or discard its bytes. */
static uint16_t sgl_data(struct sgl_op *op, const struct kvc_sgl_desc *s)
{
	uint32_t n = op->want - op->pos;
	uint16_t st;

	if (n > s->len)
		n = s->len;
	switch (s->type) {
	case KVC_SGL_DATA_BLOCK:
		if (s->subtype == KVC_SGL_SUB_ADDRESS)
			st = n ? move_mem(op, s->addr, n) : 0;
		else if (s->subtype == KVC_SGL_SUB_OFFSET)
			st = move_capsule(op, s->addr, s->len, n);
		else
			st = ST_SGL_TYPE;
		break;
	case KVC_SGL_BIT_BUCKET:
		st = op->to_host && s->subtype == KVC_SGL_SUB_ADDRESS ? 0 : ST_SGL_TYPE;
		break;
	case KVC_SGL_TRANSPORT_DATA_BLOCK:
		if (s->subtype != KVC_SGL_SUB_TRANSPORT || !has_xport(op->d->hif))
			st = ST_SGL_TYPE;
		else
			st = n ? move_xport(op, n) : 0;
		break;
	default: /* Keyed Data Block, reserved, vendor specific */
		st = ST_SGL_TYPE;
		break;
	}
	if (st == 0)
		op->pos += n;
	return st;
}

static bool is_segment(const struct kvc_sgl_desc *s)
{
	return s->type == KVC_SGL_SEGMENT || s->type == KVC_SGL_LAST_SEGMENT;
}

static uint16_t check_segment(struct sgl_op *op, const struct kvc_sgl_desc *seg)
{
	if (seg->len == 0 || seg->len % KVC_SGL_DESC_SIZE)
		return ST_SGL_SEG;
	if (seg->subtype == KVC_SGL_SUB_ADDRESS)
		return seg->addr & 7 ? ST_SGL_SEG : 0;
	if (seg->subtype == KVC_SGL_SUB_OFFSET)
		return capsule_range(op, seg->addr, seg->len);
	return ST_SGL_TYPE;
}

/* Fetch descriptors [first, first + n) of the segment @seg names. */
static uint16_t fetch(struct sgl_op *op, const struct kvc_sgl_desc *seg, uint32_t first, uint32_t n,
		      uint8_t *raw)
{
	uint64_t addr = seg->addr + (uint64_t)first * KVC_SGL_DESC_SIZE;
	uint32_t bytes = n * KVC_SGL_DESC_SIZE;

	if (seg->subtype == KVC_SGL_SUB_OFFSET) {
		memcpy(raw, op->icd + addr, bytes);
		charge(op->d, FW_PK_PRP_LIST, kvc_pcie_mrd(&op->d->pcie->cfg, addr, bytes));
		return 0;
	}
	return fw_dma_read(op->d, FW_PK_PRP_LIST, addr, raw, bytes) ? ST_XFER : 0;
}

/*
 * Walk the segment @seg names.  Returns a status; *@next receives the
 * Segment descriptor that ends it, if any (*@more true).
 */
static uint16_t walk_segment(struct sgl_op *op, const struct kvc_sgl_desc *seg,
			     struct kvc_sgl_desc *next, bool *more)
{
	uint8_t raw[SGL_CHUNK * KVC_SGL_DESC_SIZE];
	uint32_t n = seg->len / KVC_SGL_DESC_SIZE, i = 0, j;
	uint16_t st = check_segment(op, seg);

	*more = false;
	while (st == 0 && i < n && op->pos < op->want) {
		uint32_t take = n - i < SGL_CHUNK ? n - i : SGL_CHUNK;

		st = fetch(op, seg, i, take, raw);
		for (j = 0; st == 0 && j < take && op->pos < op->want; j++, i++) {
			struct kvc_sgl_desc s = kvc_sgl_get(raw + j * KVC_SGL_DESC_SIZE);

			if (++op->ndesc > FW_SGL_MAX_DESCS)
				return ST_SGL_NUM;
			if (!is_segment(&s)) {
				st = sgl_data(op, &s);
				continue;
			}
			/* Only the last descriptor of a segment that is not the last
			 * segment may point to another segment. */
			if (i != n - 1 || seg->type == KVC_SGL_LAST_SEGMENT)
				return ST_SGL_SEG;
			*next = s;
			*more = true;
		}
	}
	return st;
}

static uint16_t walk_sgl(struct sgl_op *op)
{
	struct kvc_sgl_desc s = kvc_sgl_get(op->p->raw);
	uint16_t st;
	bool more = is_segment(&s);

	op->ndesc = 1;
	if (!more) {
		st = sgl_data(op, &s);
		return st ? st : op->pos < op->want ? ST_SGL_LEN : 0;
	}
	while (more && op->pos < op->want) {
		struct kvc_sgl_desc seg = s;

		st = walk_segment(op, &seg, &s, &more);
		if (st)
			return st;
	}
	return op->pos < op->want ? ST_SGL_LEN : 0;
}

static uint16_t dma_sgl(struct fw_dma *d, const struct fw_dptr *p, uint8_t *buf, uint32_t len,
			bool to_host)
{
	struct sgl_op op = { .d = d, .p = p, .buf = buf, .to_host = to_host, .want = len };
	uint16_t st = walk_sgl(&op);

	charge(d, FW_PK_DATA, op.cost);
	d->data_ns = fw_pcie_time_ns(d->pcie, op.cost);
	d->data_entries = op.ndesc;
	d->data_sgl = true;
	return st;
}

static bool psdt_sgl(const struct fw_dptr *p)
{
	return p->psdt == KVC_PSDT_SGL_MBUF || p->psdt == KVC_PSDT_SGL_MSGL;
}

uint16_t fw_dma_read_dptr(struct fw_dma *d, const struct fw_dptr *p, void *buf, uint32_t len)
{
	if (p->psdt == KVC_PSDT_PRP)
		return fw_dma_read_prp(d, kvc_get_le64(p->raw), kvc_get_le64(p->raw + 8), buf, len);
	if (psdt_sgl(p))
		return dma_sgl(d, p, buf, len, false);
	return ST_INVALID_FIELD;
}

uint16_t fw_dma_write_dptr(struct fw_dma *d, const struct fw_dptr *p, const void *buf,
			   uint32_t buflen, uint32_t len)
{
	if (p->psdt == KVC_PSDT_PRP)
		return fw_dma_write_prp(d, kvc_get_le64(p->raw), kvc_get_le64(p->raw + 8), buf,
					buflen, len);
	if (psdt_sgl(p))
		return dma_sgl(d, p, (uint8_t *)buf, len, true);
	return ST_INVALID_FIELD;
}
