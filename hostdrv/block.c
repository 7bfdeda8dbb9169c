// SPDX-License-Identifier: MIT
/*
 * libnvkv's NVM (block) command set API: Read, Write (FUA), Write Zeroes,
 * Dataset Management and Flush on a namespace chosen per call, synchronous on
 * the shared sync queue and asynchronous on per-thread queues, as the KV
 * calls.  Arguments are checked here against the namespace as last
 * enumerated (ns.c); commands travel through udrv.c with their data in the
 * queue's DMA buffer.  Blocks past the namespace's end are the device's to
 * refuse, so its status comes back unchanged.
 */
#include <errno.h>
#include <string.h>

#include "nvkv_internal.h"

void nvkv_dsm_encode(uint8_t *buf, const struct nvkv_dsm_range *r, unsigned int nr)
{
	unsigned int i;

	for (i = 0; i < nr; i++, buf += 16) {
		kvc_put_le32(buf, r[i].cattr);
		kvc_put_le32(buf + 4, r[i].nlb);
		kvc_put_le64(buf + 8, r[i].slba);
	}
}

/* A command to @nsid with CDW10-11 = SLBA and CDW12 = NLB (0's based) | @dw12. */
static void rw_sqe(struct kvc_sqe *sqe, uint8_t opc, uint32_t nsid, uint64_t slba, uint32_t nlb,
		   uint32_t dw12)
{
	memset(sqe, 0, sizeof(*sqe));
	sqe->opc = opc;
	kvc_sqe_set_nsid(sqe, nsid);
	kvc_sqe_set_dw(sqe, 10, (uint32_t)slba);
	kvc_sqe_set_dw(sqe, 11, (uint32_t)(slba >> 32));
	kvc_sqe_set_dw(sqe, 12, (nlb - 1) | dw12);
}

/* The NVM namespace @nsid and the bytes of @nlb of its blocks, or why not. */
static int check_rw(struct nvkv_dev *d, uint32_t nsid, uint32_t nlb, const void *buf,
		    unsigned int flags, unsigned int allowed, uint32_t *bytes)
{
	const struct nvkv_ns_info *ns;
	uint64_t len;

	if (!d || nlb < 1 || nlb > NVKV_BLK_MAX_NLB || (flags & ~allowed))
		return -EINVAL;
	ns = nvkv_ns_lookup(d, nsid);
	if (!ns || ns->csi != NVKV_CSI_NVM || !ns->lba_size)
		return -ENXIO;
	if (!bytes)
		return 0;
	if (!buf)
		return -EINVAL;
	len = (uint64_t)nlb * ns->lba_size;
	if (len > ns->max_transfer)
		return -EMSGSIZE;
	*bytes = (uint32_t)len;
	return 0;
}

static uint32_t fua(unsigned int flags)
{
	return flags & NVKV_BLK_FUA ? KVC_NVM_FUA : 0;
}

/* ---- building: each returns 0 with the command, or a negative errno -------------------- */

static int build_read(struct nvkv_dev *d, struct kvc_sqe *sqe, uint32_t nsid, uint64_t slba,
		      uint32_t nlb, const void *buf, unsigned int flags, uint32_t *bytes)
{
	int rc = check_rw(d, nsid, nlb, buf, flags, NVKV_BLK_FUA, bytes);

	if (!rc)
		rw_sqe(sqe, KVC_NVM_READ, nsid, slba, nlb, fua(flags));
	return rc;
}

static int build_write(struct nvkv_dev *d, struct kvc_sqe *sqe, uint32_t nsid, uint64_t slba,
		       uint32_t nlb, const void *buf, unsigned int flags, uint32_t *bytes)
{
	int rc = check_rw(d, nsid, nlb, buf, flags, NVKV_BLK_FUA, bytes);

	if (!rc)
		rw_sqe(sqe, KVC_NVM_WRITE, nsid, slba, nlb, fua(flags));
	return rc;
}

static int build_write_zeroes(struct nvkv_dev *d, struct kvc_sqe *sqe, uint32_t nsid, uint64_t slba,
			      uint32_t nlb, unsigned int flags)
{
	int rc = check_rw(d, nsid, nlb, NULL, flags, NVKV_BLK_FUA | NVKV_BLK_DEAC, NULL);

	if (!rc)
		rw_sqe(sqe, KVC_NVM_WRITE_ZEROES, nsid, slba, nlb,
		       fua(flags) | (flags & NVKV_BLK_DEAC ? NVKV_NVM_DEAC : 0));
	return rc;
}

/* DSM: CDW10 NR (0's based) 7:0, CDW11 attributes; @wire receives the ranges. */
static int build_dsm(struct nvkv_dev *d, struct kvc_sqe *sqe, uint32_t nsid, unsigned int attrs,
		     const struct nvkv_dsm_range *r, unsigned int nr, uint8_t *wire)
{
	const struct nvkv_ns_info *ns;

	if (!d || !r || nr < 1 || nr > NVKV_DSM_MAX_RANGES ||
	    (attrs & ~(NVKV_DSM_IDR | NVKV_DSM_IDW | NVKV_DSM_AD)))
		return -EINVAL;
	ns = nvkv_ns_lookup(d, nsid);
	if (!ns || ns->csi != NVKV_CSI_NVM)
		return -ENXIO;
	memset(sqe, 0, sizeof(*sqe));
	sqe->opc = KVC_NVM_DSM;
	kvc_sqe_set_nsid(sqe, nsid);
	kvc_sqe_set_dw(sqe, 10, nr - 1);
	kvc_sqe_set_dw(sqe, 11, attrs);
	nvkv_dsm_encode(wire, r, nr);
	return 0;
}

static int build_flush(struct nvkv_dev *d, struct kvc_sqe *sqe, uint32_t nsid)
{
	if (!d)
		return -EINVAL;
	if (nsid != 0xffffffffu && !nvkv_ns_lookup(d, nsid))
		return -ENXIO;
	memset(sqe, 0, sizeof(*sqe));
	sqe->opc = KVC_NVM_FLUSH;
	kvc_sqe_set_nsid(sqe, nsid);
	return 0;
}

/* ---- synchronous ----------------------------------------------------------------------- */

static int sync_cmd(struct nvkv_dev *d, enum nvkv_op op, const struct kvc_sqe *sqe, const void *out,
		    void *in, size_t len)
{
	int rc;

	pthread_mutex_lock(&d->lock);
	rc = nvkv_udrv_exec_cmd(d->sync, op, sqe, out, in, len, (uint32_t)len);
	pthread_mutex_unlock(&d->lock);
	return rc;
}

int nvkv_blk_read(struct nvkv_dev *d, uint32_t nsid, uint64_t slba, uint32_t nlb, void *buf,
		  unsigned int flags)
{
	struct kvc_sqe sqe;
	uint32_t bytes;
	int rc = build_read(d, &sqe, nsid, slba, nlb, buf, flags, &bytes);

	return rc ?: sync_cmd(d, NVKV_OP_BLK_READ, &sqe, NULL, buf, bytes);
}

int nvkv_blk_write(struct nvkv_dev *d, uint32_t nsid, uint64_t slba, uint32_t nlb, const void *buf,
		   unsigned int flags)
{
	struct kvc_sqe sqe;
	uint32_t bytes;
	int rc = build_write(d, &sqe, nsid, slba, nlb, buf, flags, &bytes);

	return rc ?: sync_cmd(d, NVKV_OP_BLK_WRITE, &sqe, buf, NULL, bytes);
}

int nvkv_blk_write_zeroes(struct nvkv_dev *d, uint32_t nsid, uint64_t slba, uint32_t nlb,
			  unsigned int flags)
{
	struct kvc_sqe sqe;
	int rc = build_write_zeroes(d, &sqe, nsid, slba, nlb, flags);

	return rc ?: sync_cmd(d, NVKV_OP_BLK_WRITE_ZEROES, &sqe, NULL, NULL, 0);
}

int nvkv_blk_dsm(struct nvkv_dev *d, uint32_t nsid, unsigned int attrs,
		 const struct nvkv_dsm_range *r, unsigned int nr)
{
	uint8_t wire[NVKV_DSM_MAX_RANGES * 16];
	struct kvc_sqe sqe;
	int rc = build_dsm(d, &sqe, nsid, attrs, r, nr, wire);

	return rc ?: sync_cmd(d, NVKV_OP_BLK_DSM, &sqe, wire, NULL, (size_t)nr * 16);
}

int nvkv_blk_deallocate(struct nvkv_dev *d, uint32_t nsid, const struct nvkv_dsm_range *r,
			unsigned int nr)
{
	return nvkv_blk_dsm(d, nsid, NVKV_DSM_AD, r, nr);
}

int nvkv_blk_flush(struct nvkv_dev *d, uint32_t nsid)
{
	struct kvc_sqe sqe;
	int rc = build_flush(d, &sqe, nsid);

	return rc ?: sync_cmd(d, NVKV_OP_BLK_FLUSH, &sqe, NULL, NULL, 0);
}

/* ---- asynchronous ------------------------------------------------------------------------ */

int nvkv_submit_blk_read(struct nvkv_queue *q, uint32_t nsid, uint64_t slba, uint32_t nlb,
			 void *buf, unsigned int flags, nvkv_cb cb, void *arg)
{
	struct kvc_sqe sqe;
	uint32_t bytes;
	int rc = q ? build_read(q->d, &sqe, nsid, slba, nlb, buf, flags, &bytes) : -EINVAL;

	return rc
		       ?: nvkv_udrv_submit_cmd(q, NVKV_OP_BLK_READ, &sqe, NULL, buf, bytes, bytes,
					       cb, arg);
}

int nvkv_submit_blk_write(struct nvkv_queue *q, uint32_t nsid, uint64_t slba, uint32_t nlb,
			  const void *buf, unsigned int flags, nvkv_cb cb, void *arg)
{
	struct kvc_sqe sqe;
	uint32_t bytes;
	int rc = q ? build_write(q->d, &sqe, nsid, slba, nlb, buf, flags, &bytes) : -EINVAL;

	return rc
		       ?: nvkv_udrv_submit_cmd(q, NVKV_OP_BLK_WRITE, &sqe, buf, NULL, bytes, bytes,
					       cb, arg);
}

int nvkv_submit_blk_write_zeroes(struct nvkv_queue *q, uint32_t nsid, uint64_t slba, uint32_t nlb,
				 unsigned int flags, nvkv_cb cb, void *arg)
{
	struct kvc_sqe sqe;
	int rc = q ? build_write_zeroes(q->d, &sqe, nsid, slba, nlb, flags) : -EINVAL;

	return rc
		       ?: nvkv_udrv_submit_cmd(q, NVKV_OP_BLK_WRITE_ZEROES, &sqe, NULL, NULL, 0, 0,
					       cb, arg);
}

int nvkv_submit_blk_dsm(struct nvkv_queue *q, uint32_t nsid, unsigned int attrs,
			const struct nvkv_dsm_range *r, unsigned int nr, nvkv_cb cb, void *arg)
{
	uint8_t wire[NVKV_DSM_MAX_RANGES * 16];
	struct kvc_sqe sqe;
	int rc = q ? build_dsm(q->d, &sqe, nsid, attrs, r, nr, wire) : -EINVAL;

	return rc
		       ?: nvkv_udrv_submit_cmd(q, NVKV_OP_BLK_DSM, &sqe, wire, NULL,
					       (size_t)nr * 16, 0, cb, arg);
}

int nvkv_submit_blk_flush(struct nvkv_queue *q, uint32_t nsid, nvkv_cb cb, void *arg)
{
	struct kvc_sqe sqe;
	int rc = q ? build_flush(q->d, &sqe, nsid) : -EINVAL;

	return rc ?: nvkv_udrv_submit_cmd(q, NVKV_OP_BLK_FLUSH, &sqe, NULL, NULL, 0, 0, cb, arg);
}
