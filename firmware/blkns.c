// SPDX-License-Identifier: MIT
/*
 * NVM (block) namespace, CSI 00h, over the subsystem's page-mapped FTL
 * (ftl.h): Read, Write (FUA), Flush, Write Zeroes (DEAC), Dataset Management
 * (deallocate), and its Identify answers.  LBA formats 512 B and 4 KiB sit on
 * the FTL's 4 KiB units; a 512 B write is a read-modify-write of its unit.
 * Durability is the KV namespace's contract: a block write joins the catalog
 * batch, so with the write cache off it is durable before its completion
 * (group commit), with the cache on after Flush, and FUA commits at once.
 * Every range is checked before anything changes: a refused command leaves
 * the namespace as it was.
 */
#include <errno.h>
#include <string.h>

#include "alloc.h"
#include "fw_internal.h"

#define WZ_DEAC (1u << 25) /* Write Zeroes CDW12: deallocate */
#define DSM_AD (1u << 2)   /* Dataset Management CDW11: attribute deallocate */
#define DSM_RANGE 16	   /* bytes of one range: CA u32, NLB u32, SLBA u64 */
#define DLFEAT_ZEROES 0x01 /* deallocated blocks read as zeroes */
#define DLFEAT_WZ_DEAC 0x08
#define NSFEAT_OPTPERF 0x10 /* NPWG, NPWA, NPDG, NPDA, NOWS are valid */

struct blkns {
	uint32_t shift;	   /* log2 of the LBA size: 9 or 12 */
	uint64_t nlba;	   /* namespace size in logical blocks */
	uint32_t max_xfer; /* MDTS in bytes */
	uint8_t *buf;	   /* max_xfer bytes */
	uint64_t bytes_in, bytes_out;
};

static struct blkns *priv(const struct fw_cmd *cmd)
{
	return cmd->ns->priv;
}

/* Data by SGL or PRP: the statistics count the method. */
static uint8_t method(const struct fw_cmd *cmd)
{
	return cmd->sqe.flags & KVC_SQE_PSDT_MASK ? KVC_XM_SGL : KVC_XM_PRP;
}

static uint64_t max64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static uint32_t dw(const struct fw_cmd *cmd, unsigned int i)
{
	return kvc_sqe_dw(&cmd->sqe, i);
}

/* LBAs [@slba, @slba + @nlb) inside the namespace (no overflow). */
static bool in_range(const struct blkns *b, uint64_t slba, uint64_t nlb)
{
	return slba < b->nlba && nlb <= b->nlba - slba;
}

/*
 * Walk the 4 KiB units under byte range [@pos, @pos + @len) of the
 * namespace: each step gives the unit, the offset in it and the length.
 */
struct span {
	uint64_t pos, end;
	uint64_t unit;
	uint32_t off, len;
};

static bool span_next(struct span *sp)
{
	if (sp->pos >= sp->end)
		return false;
	sp->unit = sp->pos / FW_FTL_UNIT;
	sp->off = (uint32_t)(sp->pos % FW_FTL_UNIT);
	sp->len = FW_FTL_UNIT - sp->off;
	if (sp->len > sp->end - sp->pos)
		sp->len = (uint32_t)(sp->end - sp->pos);
	sp->pos += sp->len;
	return true;
}

static struct span span_of(const struct blkns *b, uint64_t slba, uint64_t nlb)
{
	struct span sp = { slba << b->shift, (slba + nlb) << b->shift, 0, 0, 0 };

	return sp;
}

/* The batch was rolled back while the command ran (catalog or media
 * failure, maybe inside GC): the command fails with it. */
static bool batch_failed(const struct fw_subsys *s, uint64_t failures)
{
	return s->batch.failures != failures;
}

static uint16_t write_status(const struct fw_subsys *s, uint64_t failures, int rc)
{
	if (batch_failed(s, failures))
		return s->batch.fail_st;
	if (rc == -ENOSPC)
		return FW_ST(KVC_SC_CAPACITY_EXCEEDED);
	return KVC_ST_MEDIA_DNR(KVC_SC_WRITE_FAULT);
}

/* The namespace changed: it joins the catalog batch; FUA makes it durable now. */
static uint16_t written(struct fw_cmd *cmd, bool fua)
{
	struct fw_subsys *s = cmd->ns->s;

	if (!s->persistent)
		return 0;
	s->dirty = true;
	cmd->logged = true;
	if (fua && fw_batch_commit(s, true))
		return s->batch.fail_st;
	return 0;
}

/* Write @nlb blocks at @slba from @src, or zeros when @src is NULL. */
static uint16_t put_blocks(struct fw_cmd *cmd, uint64_t slba, uint64_t nlb, const uint8_t *src)
{
	static const uint8_t zeros[FW_FTL_UNIT];
	struct fw_subsys *s = cmd->ns->s;
	struct span sp = span_of(priv(cmd), slba, nlb);
	uint64_t failures = s->batch.failures, ready, done = cmd->done;
	int rc = 0;

	while (!rc && span_next(&sp)) {
		rc = fw_ftl_write(&s->ftl, sp.unit, sp.off, sp.len, src ? src : zeros, cmd->done,
				  &ready);
		done = max64(done, ready);
		if (src)
			src += sp.len;
	}
	cmd->done = done;
	if (rc || batch_failed(s, failures))
		return write_status(s, failures, rc);
	return 0;
}

static uint16_t blk_write(struct fw_cmd *cmd)
{
	struct blkns *b = priv(cmd);
	uint64_t slba = kvc_nvm_slba(dw(cmd, 10), dw(cmd, 11)), nlb = KVC_NVM_NLB(dw(cmd, 12));
	uint32_t len;
	uint16_t st;

	cmd->method = method(cmd);
	if (!in_range(b, slba, nlb))
		return FW_ST(KVC_SC_LBA_OUT_OF_RANGE);
	if (nlb << b->shift > b->max_xfer)
		return FW_ST(KVC_SC_INVALID_FIELD);
	if ((dw(cmd, 12) >> 20) & 0xf)
		return FW_ST(KVC_SC_INVALID_FIELD); /* DTYPE: no directives */
	len = (uint32_t)(nlb << b->shift);
	st = fw_cmd_data_in(cmd, b->buf, len);
	if (st)
		return st;
	st = put_blocks(cmd, slba, nlb, b->buf);
	if (st)
		return st;
	b->bytes_in += len;
	cmd->ns->s->st.blk_in += len;
	cmd->value_bytes = len;
	return written(cmd, dw(cmd, 12) & KVC_NVM_FUA);
}

static uint16_t blk_read(struct fw_cmd *cmd)
{
	struct blkns *b = priv(cmd);
	struct fw_subsys *s = cmd->ns->s;
	uint64_t slba = kvc_nvm_slba(dw(cmd, 10), dw(cmd, 11)), nlb = KVC_NVM_NLB(dw(cmd, 12));
	uint64_t done = cmd->done, t;
	struct span sp;
	uint8_t *d = b->buf;
	uint32_t len;
	uint16_t st;

	cmd->method = method(cmd);
	if (!in_range(b, slba, nlb))
		return FW_ST(KVC_SC_LBA_OUT_OF_RANGE);
	if (nlb << b->shift > b->max_xfer)
		return FW_ST(KVC_SC_INVALID_FIELD);
	len = (uint32_t)(nlb << b->shift);
	sp = span_of(b, slba, nlb);
	while (span_next(&sp)) {
		if (fw_ftl_read(&s->ftl, sp.unit, sp.off, sp.len, d, cmd->done, &t))
			return KVC_ST_MEDIA_DNR(KVC_SC_UNRECOVERED_READ);
		done = max64(done, t);
		d += sp.len;
	}
	cmd->done = done;
	st = fw_cmd_data_out(cmd, b->buf, len, len);
	if (!st) {
		b->bytes_out += len;
		s->st.blk_out += len;
	}
	return st;
}

static uint16_t blk_flush(struct fw_cmd *cmd)
{
	return fw_batch_flush_status(cmd->ns->s);
}

/* Deallocate [@slba, @slba + @nlb): whole units are unmapped, the blocks of
 * a unit only partly covered (512 B format) are written with zeros, so every
 * deallocated block reads zeros as DLFEAT promises. */
static uint16_t deallocate(struct fw_cmd *cmd, uint64_t slba, uint64_t nlb)
{
	struct fw_subsys *s = cmd->ns->s;
	struct span sp = span_of(priv(cmd), slba, nlb);
	uint16_t st;

	while (span_next(&sp)) {
		if (sp.len == FW_FTL_UNIT) {
			if (fw_ftl_trim(&s->ftl, sp.unit))
				return FW_ST(KVC_SC_INTERNAL); /* in range: checked before */
			continue;
		}
		if (!fw_ftl_mapped(&s->ftl, sp.unit))
			continue; /* reads zeros already */
		st = put_blocks(cmd, (sp.unit * FW_FTL_UNIT + sp.off) >> priv(cmd)->shift,
				sp.len >> priv(cmd)->shift, NULL);
		if (st)
			return st;
	}
	return 0;
}

static uint16_t blk_write_zeroes(struct fw_cmd *cmd)
{
	struct blkns *b = priv(cmd);
	uint64_t slba = kvc_nvm_slba(dw(cmd, 10), dw(cmd, 11)), nlb = KVC_NVM_NLB(dw(cmd, 12));
	uint16_t st;

	if (!in_range(b, slba, nlb))
		return FW_ST(KVC_SC_LBA_OUT_OF_RANGE);
	if ((dw(cmd, 12) >> 20) & 0xf)
		return FW_ST(KVC_SC_INVALID_FIELD);
	st = dw(cmd, 12) & WZ_DEAC ? deallocate(cmd, slba, nlb) : put_blocks(cmd, slba, nlb, NULL);
	return st ? st : written(cmd, dw(cmd, 12) & KVC_NVM_FUA);
}

static uint16_t blk_dsm(struct fw_cmd *cmd)
{
	struct blkns *b = priv(cmd);
	uint32_t nr = (dw(cmd, 10) & 0xff) + 1, i;
	uint8_t r[256 * DSM_RANGE];
	uint16_t st;

	st = fw_cmd_data_in(cmd, r, nr * DSM_RANGE);
	if (st)
		return st;
	if (!(dw(cmd, 11) & DSM_AD))
		return 0; /* integral read/write hints: nothing to do */
	for (i = 0; i < nr; i++)
		if (!in_range(b, kvc_get_le64(r + i * DSM_RANGE + 8),
			      kvc_get_le32(r + i * DSM_RANGE + 4)))
			return FW_ST(KVC_SC_LBA_OUT_OF_RANGE);
	for (i = 0; i < nr; i++) {
		st = deallocate(cmd, kvc_get_le64(r + i * DSM_RANGE + 8),
				kvc_get_le32(r + i * DSM_RANGE + 4));
		if (st)
			return st;
	}
	return written(cmd, false);
}

/* ---- Identify, statistics and the command table --------------------------- */

static void blk_identify_ns(const struct fw_ns *ns, void *buf)
{
	const struct blkns *b = ns->priv;
	const struct fw_ftl *f = &ns->s->ftl;
	struct kvc_id_ns_nvm *id = buf;
	uint32_t per_unit = FW_FTL_UNIT >> b->shift, per_page = f->page_size >> b->shift;

	kvc_put_le64(&id->nsze, b->nlba);
	kvc_put_le64(&id->ncap, b->nlba);
	kvc_put_le64(&id->nuse, f->used * per_unit);
	id->nsfeat = NSFEAT_OPTPERF;
	id->nlbaf = 1; /* two formats, 0's based */
	id->flbas = b->shift == 12 ? 1 : 0;
	id->nmic = 0x01;
	id->dlfeat = DLFEAT_ZEROES | DLFEAT_WZ_DEAC;
	/* Optimal I/O: whole 4 KiB units (no read-modify-write), whole pages.
	 * No NOIOB: crossing a unit costs nothing, and Linux would split every
	 * I/O at it (it becomes the disk's chunk size). */
	kvc_put_le16(&id->npwg, (uint16_t)(per_unit - 1));
	kvc_put_le16(&id->npwa, (uint16_t)(per_unit - 1));
	kvc_put_le16(&id->npdg, (uint16_t)(per_unit - 1));
	kvc_put_le16(&id->npda, (uint16_t)(per_unit - 1));
	kvc_put_le16(&id->nows, (uint16_t)(per_page - 1));
	id->lbaf[0] = (struct kvc_lbaf){ .ms = 0, .lbads = 9, .rp = 2 };  /* good: RMW */
	id->lbaf[1] = (struct kvc_lbaf){ .ms = 0, .lbads = 12, .rp = 0 }; /* best */
}

/* NVM Command Set specific Identify Namespace (CNS 05h, CSI 00h): no
 * protection information, no storage tags, no extended formats: all zero. */
static void blk_identify_csi(const struct fw_ns *ns, void *buf)
{
	(void)ns;
	memset(buf, 0, KVC_IDENTIFY_SIZE);
}

static uint64_t blk_capacity(const struct fw_ns *ns)
{
	const struct blkns *b = ns->priv;

	return b->nlba << b->shift;
}

static uint16_t blk_ns_flush(struct fw_ns *ns)
{
	return fw_batch_flush_status(ns->s);
}

static void blk_stats(const struct fw_ns *ns, struct kvc_stats_log *l)
{
	const struct blkns *b = ns->priv;
	const struct fw_ftl_stats *fs = &ns->s->ftl.st;

	l->used_bytes = ns->s->ftl.used * FW_FTL_UNIT;
	l->capacity = b->nlba << b->shift;
	l->value_bytes_in = b->bytes_in;
	l->value_bytes_out = b->bytes_out;
	l->host_bytes_written = b->bytes_in;
	l->nand_reads = fs->nand_reads;
	l->nand_programs = fs->programs;
	l->nand_erases = fs->erases;
	l->nand_read_bytes = fs->nand_read_bytes;
	l->flash_bytes_written = fs->programs * ns->s->ftl.page_size;
	l->gc_runs = fs->gc_runs;
	l->gc_moves = fs->gc_moves;
	l->gc_bytes = fs->gc_moves * FW_FTL_UNIT;
	l->gc_urgent = fs->gc_urgent;
	l->media_errors = fs->media_errors;
}

static void blk_destroy(struct fw_ns *ns)
{
	struct blkns *b = ns->priv;

	fw_free(b->buf);
	fw_free(b);
	fw_free(ns);
}

#define SUP KVC_EFFECTS_CSUPP
#define CHG (KVC_EFFECTS_CSUPP | KVC_EFFECTS_LBCC)
static const struct fw_cmd_desc blk_cmds[] = {
	{ KVC_NVM_FLUSH, KVC_OP_FLUSH, CHG, blk_flush },
	{ KVC_NVM_WRITE, KVC_OP_WRITE, CHG, blk_write },
	{ KVC_NVM_READ, KVC_OP_READ, SUP, blk_read },
	{ KVC_NVM_WRITE_ZEROES, KVC_OP_WRITE_ZEROES, CHG, blk_write_zeroes },
	{ KVC_NVM_DSM, KVC_OP_DSM, CHG, blk_dsm },
};

/*
 * Format NVM: every unit is unmapped, so every block reads zeros (DLFEAT);
 * the map's changed chunks go into the commit the admin handler makes.  The
 * format index must be the current one: the LBA size is the device's
 * configuration (device.lba_size), not changed by a Format.
 */
static uint16_t blk_format(struct fw_ns *ns, uint32_t lbaf)
{
	const struct blkns *b = ns->priv;
	struct fw_ftl *f = &ns->s->ftl;
	uint64_t u, n = fw_ftl_units(f);

	if (lbaf != FW_FORMAT_CURRENT && lbaf != (b->shift == 12 ? 1u : 0u))
		return KVC_ST_CMD_DNR(KVC_SC_INVALID_FORMAT);
	for (u = 0; u < n; u++)
		if (fw_ftl_mapped(f, u) && fw_ftl_trim(f, u))
			return FW_ST(KVC_SC_INTERNAL);
	return 0;
}

static const struct fw_ns_ops blk_ops = {
	.csi = KVC_CSI_NVM,
	.cmds = blk_cmds,
	.ncmds = sizeof(blk_cmds) / sizeof(blk_cmds[0]),
	.identify_ns = blk_identify_ns,
	.identify_csi = blk_identify_csi,
	.capacity = blk_capacity,
	.flush = blk_ns_flush,
	.stats = blk_stats,
	.format = blk_format,
	.destroy = blk_destroy,
};

int fw_blkns_create(struct fw_subsys *s, uint32_t nsid, struct fw_ns **out)
{
	struct fw_ns *ns = fw_calloc(1, sizeof(*ns));
	struct blkns *b = fw_calloc(1, sizeof(*b));

	*out = NULL;
	if (b) {
		b->max_xfer = fw_mdts_bytes(&s->cfg);
		b->buf = fw_malloc(b->max_xfer);
	}
	if (!ns || !b || !b->buf) {
		if (b)
			fw_free(b->buf);
		fw_free(b);
		fw_free(ns);
		return -ENOMEM;
	}
	b->shift = s->cfg.lba_size == 512 ? 9 : 12;
	b->nlba = fw_ftl_units(&s->ftl) << (12 - b->shift);
	ns->nsid = nsid;
	ns->ops = &blk_ops;
	ns->s = s;
	ns->priv = b;
	*out = ns;
	return 0;
}
