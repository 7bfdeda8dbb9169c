// SPDX-License-Identifier: MIT
/* DMA engine and PRP walker; see dma.h. */
#include "dma.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "cmdset/le.h"
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
	uint32_t want; /* bytes to move; the PRPs may describe more */
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
	kvc_pcie_cost_add(&op->cost, op->to_host ? kvc_pcie_mwr(&d->pcie->cfg, caddr, clen)
						 : kvc_pcie_mrd(&d->pcie->cfg, caddr, clen));
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

/* PRP data pointers only for now: anything else is an unsupported field. */
static bool dptr_prp(const struct fw_dptr *p, uint64_t *prp1, uint64_t *prp2)
{
	if (p->psdt != KVC_PSDT_PRP)
		return false;
	*prp1 = kvc_get_le64(p->raw);
	*prp2 = kvc_get_le64(p->raw + 8);
	return true;
}

uint16_t fw_dma_read_dptr(struct fw_dma *d, const struct fw_dptr *p, void *buf, uint32_t len)
{
	uint64_t prp1, prp2;

	if (!dptr_prp(p, &prp1, &prp2))
		return KVC_ST_GENERIC_DNR(KVC_SC_INVALID_FIELD);
	return fw_dma_read_prp(d, prp1, prp2, buf, len);
}

uint16_t fw_dma_write_dptr(struct fw_dma *d, const struct fw_dptr *p, const void *buf,
			   uint32_t buflen, uint32_t len)
{
	uint64_t prp1, prp2;

	if (!dptr_prp(p, &prp1, &prp2))
		return KVC_ST_GENERIC_DNR(KVC_SC_INVALID_FIELD);
	return fw_dma_write_prp(d, prp1, prp2, buf, buflen, len);
}
