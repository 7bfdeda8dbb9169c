// SPDX-License-Identifier: MIT
/*
 * Key Value namespace (CSI 01h): the command handlers and the device side of
 * the value-transfer methods.  Every Store, whatever carried its value,
 * ends in store_value(); options, key and size checks happen before any
 * state changes, so a failed command leaves the namespace as it was.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "crc.h"
#include "fw_internal.h"

/* A Key Value namespace: the index and value log are the subsystem's; what
 * is the namespace's own is its Key Value Configuration feature (FID 20h). */
struct kv_ns {
	struct fw_ns ns;
	uint32_t config; /* current value: KVC_KV_CONFIG_* bits */
	uint32_t saved;	 /* saved value, the default until one is saved */
};

#define KV_CONFIG_DEFAULT 0u /* EDNEK clear: Delete of a missing key succeeds */

static const struct kv_ns *kv_of(const struct fw_ns *ns)
{
	return (const struct kv_ns *)ns;
}

static struct fw_subsys *subsys(struct fw_cmd *cmd)
{
	return cmd->c->s;
}

static uint64_t max64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* The firmware cost model's charge for @n index operations (lookups, inserts, deletes). */
static void charge_index(struct fw_cmd *cmd, uint32_t n)
{
	fw_cmd_charge(cmd, (uint64_t)n * subsys(cmd)->cfg.cost.index_ns);
}

/* The batch was rolled back while @cmd ran (a catalog, staging or program
 * failure, maybe inside GC): the command fails with the batch. */
static bool batch_failed(const struct fw_subsys *s, uint64_t failures)
{
	return s->batch.failures != failures;
}

static uint16_t store_value(struct fw_cmd *cmd, const uint8_t *key, uint8_t klen, uint8_t opts,
			    const uint8_t *val, uint32_t vlen, bool aligned)
{
	struct fw_subsys *s = subsys(cmd);
	struct fw_idx_val old, iv;
	uint64_t need = fw_rec_len(klen, vlen), freed = 0, ready;
	uint64_t failures = s->batch.failures, perr = s->vlog.st.program_errors;
	bool exists;
	int rc;

	if ((opts & KVC_STORE_MUST_EXIST) && (opts & KVC_STORE_MUST_NOT_EXIST))
		return FW_ST(KVC_SC_INVALID_FIELD);
	exists = fw_index_get(&s->index, key, klen, &old);
	charge_index(cmd, 1);
	if ((opts & KVC_STORE_MUST_EXIST) && !exists)
		return FW_ST(KVC_SC_KV_KEY_NOT_EXIST);
	if ((opts & KVC_STORE_MUST_NOT_EXIST) && exists)
		return FW_ST(KVC_SC_KV_KEY_EXISTS);
	if (!exists && s->cfg.max_keys && s->index.count >= s->cfg.max_keys)
		return FW_ST(KVC_SC_CAPACITY_EXCEEDED);
	if (exists)
		freed = fw_rec_len(klen, old.vlen);
	if (s->vlog.used - freed + need > s->capacity)
		return FW_ST(KVC_SC_CAPACITY_EXCEEDED);
	iv.vlen = vlen;
	iv.crc = fw_crc32c(fw_crc32c(0, key, klen), val, vlen);
	rc = fw_vlog_append(&s->vlog, key, klen, val, vlen, iv.crc, aligned, cmd->done, &iv.loc,
			    &ready);
	if (batch_failed(s, failures)) {
		/* Rolled back inside GC, which then fails the append. */
		if (!rc)
			fw_vlog_dead(&s->vlog, iv.loc, klen, vlen);
		return s->batch.fail_st;
	}
	if (s->vlog.st.program_errors != perr) {
		/* A page of the open batch is lost: so is the batch. */
		if (!rc)
			fw_vlog_dead(&s->vlog, iv.loc, klen, vlen);
		fw_batch_fail(s, -EIO, KVC_ST_MEDIA_DNR(KVC_SC_WRITE_FAULT), "page program");
		return s->batch.fail_st;
	}
	if (rc == -ENOSPC)
		return FW_ST(KVC_SC_CAPACITY_EXCEEDED);
	if (rc)
		return KVC_ST_MEDIA_DNR(KVC_SC_WRITE_FAULT);
	/* fw_index_get() above found @old: refresh it, GC may have moved it. */
	rc = fw_batch_reserve(s);
	if (!rc) {
		rc = fw_index_put(&s->index, key, klen, &iv, &old);
		charge_index(cmd, 1);
	}
	if (rc < 0) {
		fw_vlog_dead(&s->vlog, iv.loc, klen, vlen);
		return batch_failed(s, failures) ? s->batch.fail_st : FW_ST(KVC_SC_INTERNAL);
	}
	if (rc == 1)
		fw_vlog_dead(&s->vlog, old.loc, klen, old.vlen);
	if (fw_batch_put(s, key, klen, rc == 1 ? &old : NULL, &iv))
		return s->batch.fail_st; /* rolled back, this Store included */
	cmd->logged = true;
	s->st.key_bytes += klen;
	s->st.value_in += vlen;
	cmd->done = max64(cmd->done, ready);
	cmd->stored = true;
	cmd->value_bytes = vlen;
	cmd->stat_op = KVC_OP_STORE;
	return 0;
}

static uint16_t decode(struct fw_cmd *cmd, struct kvc_kv_cmd *kc)
{
	return kvc_kv_decode(&cmd->sqe, kc) ? FW_ST(KVC_SC_KV_INVALID_KEY_SIZE) : 0;
}

/* ---- standard KV commands ------------------------------------------------------ */

static uint16_t kv_store(struct fw_cmd *cmd)
{
	struct fw_subsys *s = subsys(cmd);
	struct kvc_kv_cmd kc;
	uint16_t st = decode(cmd, &kc);

	/* SGL data blocks are byte-granular: the value arrives as its exact
	 * bytes and is packed, as a piggybacked one is. */
	bool sgl = cmd->sqe.flags & KVC_SQE_PSDT_MASK;

	cmd->method = sgl ? KVC_XM_SGL : KVC_XM_PRP;
	if (st)
		return st;
	if (kc.size > s->cfg.max_value)
		return FW_ST(KVC_SC_KV_INVALID_VALUE_SIZE);
	st = fw_cmd_data_in(cmd, s->xbuf, kc.size);
	if (st)
		return st;
	return store_value(cmd, kc.key, kc.klen, kc.opts, s->xbuf, kc.size,
			   !sgl && s->cfg.dma_gran == FW_DMA_PAGE);
}

static uint16_t kv_retrieve(struct fw_cmd *cmd)
{
	struct fw_subsys *s = subsys(cmd);
	struct kvc_kv_cmd kc;
	struct fw_idx_val iv;
	uint64_t nand_done;
	uint16_t st = decode(cmd, &kc);
	uint32_t n;

	if (st)
		return st;
	charge_index(cmd, 1);
	if (!fw_index_get(&s->index, kc.key, kc.klen, &iv))
		return FW_ST(KVC_SC_KV_KEY_NOT_EXIST);
	cmd->dw0 = iv.vlen;
	if (kc.size == 0)
		return 0; /* size query */
	if (fw_vlog_read(&s->vlog, kc.key, kc.klen, &iv, s->xbuf, cmd->done, &nand_done))
		return FW_ST(KVC_SC_KV_UNRECOVERED);
	n = kc.size < iv.vlen ? kc.size : iv.vlen;
	st = fw_cmd_data_out(cmd, s->xbuf, kc.size, n);
	if (st)
		return st;
	cmd->done = max64(cmd->done, nand_done + cmd->c->dma.data_ns);
	cmd->value_bytes = n;
	s->st.value_out += n;
	return 0;
}

static uint16_t kv_delete(struct fw_cmd *cmd)
{
	struct fw_subsys *s = subsys(cmd);
	struct kvc_kv_cmd kc;
	struct fw_idx_val old;
	uint64_t failures = s->batch.failures;
	uint16_t st = decode(cmd, &kc);

	if (st)
		return st;
	if (fw_batch_reserve(s))
		return batch_failed(s, failures) ? s->batch.fail_st : FW_ST(KVC_SC_INTERNAL);
	charge_index(cmd, 1);
	/* Key Value Configuration: only with EDNEK is a missing key an error. */
	if (fw_index_del(&s->index, kc.key, kc.klen, &old))
		return kv_of(cmd->ns)->config & KVC_KV_CONFIG_EDNEK ? FW_ST(KVC_SC_KV_KEY_NOT_EXIST)
								    : 0;
	fw_vlog_dead(&s->vlog, old.loc, kc.klen, old.vlen);
	if (fw_batch_del(s, kc.key, kc.klen, &old))
		return s->batch.fail_st; /* rolled back: the key is back */
	cmd->logged = true;
	return 0;
}

static uint16_t kv_exist(struct fw_cmd *cmd)
{
	struct fw_subsys *s = subsys(cmd);
	struct kvc_kv_cmd kc;
	struct fw_idx_val iv;
	uint16_t st = decode(cmd, &kc);

	if (st)
		return st;
	charge_index(cmd, 1);
	return fw_index_get(&s->index, kc.key, kc.klen, &iv) ? 0 : FW_ST(KVC_SC_KV_KEY_NOT_EXIST);
}

static uint16_t kv_list(struct fw_cmd *cmd)
{
	struct fw_subsys *s = subsys(cmd);
	uint32_t cap = s->cfg.max_value + FW_MEM_PAGE, used;
	struct kvc_list_writer w;
	struct fw_index_iter it;
	struct kvc_kv_cmd kc;
	const uint8_t *key;
	uint8_t klen;
	uint16_t st = decode(cmd, &kc);
	bool more = false;

	if (st)
		return st;
	if (kc.size < KVC_LIST_HDR_SIZE)
		return FW_ST(KVC_SC_INVALID_FIELD);
	if (cap > kc.size)
		cap = kc.size;
	kvc_list_writer_init(&w, s->xbuf, cap);
	charge_index(cmd, 1);
	fw_index_seek(&s->index, kc.key, kc.klen, &it);
	while (fw_index_next(&it, &key, &klen, NULL)) {
		if (kvc_list_writer_add(&w, key, klen)) {
			more = true;
			break;
		}
	}
	if (more && w.lw_count == 0)
		return FW_ST(KVC_SC_INVALID_FIELD); /* buffer too small for one entry */
	used = kvc_list_writer_finish(&w);
	fw_cmd_charge(cmd, (uint64_t)w.lw_count * s->cfg.cost.list_step_ns);
	st = fw_cmd_data_out(cmd, s->xbuf, kc.size, used);
	if (st)
		return st;
	cmd->dw0 = w.lw_count;
	return 0;
}

static uint16_t kv_flush(struct fw_cmd *cmd)
{
	/* A failed commit rolled the batch back, or an earlier rollback undid
	 * writes the cache had acknowledged: say why (catalog or media). */
	return fw_batch_flush_status(subsys(cmd));
}

/* ---- BandSlim ------------------------------------------------------------------------ */

static void kv_sq_deleted(struct fw_ns *ns, struct fw_sq *sq)
{
	(void)ns;
	sq->bs.active = false;
	fw_free(sq->bs.buf); /* a queue created later in this slot starts afresh */
	sq->bs.buf = NULL;
}

static uint16_t bs_finish(struct fw_cmd *cmd, struct fw_bs_seq *bs)
{
	struct fw_subsys *s = subsys(cmd);

	bs->active = false;
	cmd->arrival = bs->arrival; /* latency of the Store spans the sequence */
	cmd->stat_op = KVC_OP_STORE;
	return store_value(cmd, bs->hdr.key, bs->hdr.klen, bs->hdr.opts & 0x7f, bs->buf,
			   bs->hdr.size,
			   bs->hdr.opc == KVC_BS_STORE_PRP && s->cfg.dma_gran == FW_DMA_PAGE);
}

static uint16_t bs_head(struct fw_cmd *cmd)
{
	struct fw_subsys *s = subsys(cmd);
	struct fw_bs_seq *bs = &cmd->sq->bs;
	uint32_t prp;
	uint16_t st;
	int n;

	cmd->method = KVC_XM_BANDSLIM;
	cmd->stat_op = KVC_OP_BS_XFER;
	if (bs->active) {
		/* The old head has completed already: the error log is where the
		 * host learns its Store never happened. */
		fw_ctrl_log(cmd->c, FW_LOG_WARN, "BandSlim: head on SQ %u abandons tag %u",
			    cmd->sqid, bs->hdr.tag);
		fw_ctrl_record_error(cmd->c, cmd->sqid, bs->head_cid, FW_ST(KVC_SC_CMD_SEQ_ERROR),
				     bs->hdr.nsid);
	}
	bs->active = false;
	if (!bs->buf) {
		bs->buf = fw_malloc(s->cfg.max_value + FW_MEM_PAGE);
		if (!bs->buf)
			return FW_ST(KVC_SC_INTERNAL);
	}
	/* Decode into a scratch first: the size is not validated yet. */
	n = kvc_bs_decode_head(&cmd->sqe, &bs->hdr, bs->buf, 0);
	if (n < 0)
		return FW_ST(KVC_SC_KV_INVALID_KEY_SIZE);
	if (bs->hdr.size > s->cfg.max_value)
		return FW_ST(KVC_SC_KV_INVALID_VALUE_SIZE);
	prp = kvc_bs_prp_len(bs->hdr.opc, bs->hdr.size);
	if (prp) {
		st = fw_cmd_data_in(cmd, bs->buf, prp); /* the head's DPTR */
		if (st)
			return st;
	}
	n = kvc_bs_decode_head(&cmd->sqe, &bs->hdr, bs->buf + prp, bs->hdr.size - prp);
	bs->got = prp + (uint32_t)n;
	bs->arrival = cmd->arrival;
	bs->head_cid = kvc_sqe_cid(&cmd->sqe);
	if (bs->got == bs->hdr.size)
		return bs_finish(cmd, bs);
	bs->active = true;
	cmd->dw0 = bs->got;
	return 0;
}

static uint16_t bs_next(struct fw_cmd *cmd)
{
	struct fw_bs_seq *bs = &cmd->sq->bs;

	cmd->method = KVC_XM_BANDSLIM;
	cmd->stat_op = KVC_OP_BS_XFER;
	if (!bs->active || kvc_bs_xfer_tag(&cmd->sqe) != bs->hdr.tag)
		return FW_ST(KVC_SC_CMD_SEQ_ERROR);
	fw_cmd_charge(cmd, subsys(cmd)->cfg.cost.bs_xfer_ns); /* reassembly */
	bs->got += kvc_bs_decode_xfer(&cmd->sqe, bs->hdr.opts & KVC_BS_OPT_NARROW,
				      bs->buf + bs->got, bs->hdr.size - bs->got);
	if (bs->got == bs->hdr.size)
		return bs_finish(cmd, bs);
	cmd->dw0 = bs->got;
	return 0;
}

/*
 * The commands of a BandSlim sequence are reassembled in order: whatever the
 * cores, the firmware takes one only after it has finished the previous one
 * of the same SQ (the serialization the papers blame for BandSlim's cost on
 * larger values).
 */
static uint16_t bs_serialized(struct fw_cmd *cmd, uint16_t (*fn)(struct fw_cmd *cmd))
{
	struct fw_bs_seq *bs = &cmd->sq->bs;
	uint16_t st;

	fw_cmd_not_before(cmd, bs->fw_end);
	st = fn(cmd);
	bs->fw_end = cmd->start + cmd->fw_ns;
	return st;
}

static uint16_t bs_store(struct fw_cmd *cmd)
{
	return bs_serialized(cmd, bs_head);
}

static uint16_t bs_xfer(struct fw_cmd *cmd)
{
	return bs_serialized(cmd, bs_next);
}

/* ---- ByteExpress ------------------------------------------------------------------------ */

/* Copy @n SQ slots starting at ring index @slot into @dst, wrapping. */
static int read_slots(struct fw_cmd *cmd, uint32_t slot, uint32_t n, uint8_t *dst)
{
	struct fw_sq *sq = cmd->sq;

	while (n) {
		uint32_t k = sq->size - slot < n ? sq->size - slot : n;

		if (fw_dma_read(&cmd->c->dma, FW_PK_SQE, sq->base + (uint64_t)slot * KVC_SQE_SIZE,
				dst, k * KVC_SQE_SIZE))
			return -EFAULT;
		dst += (size_t)k * KVC_SQE_SIZE;
		n -= k;
		slot = (slot + k) % sq->size;
	}
	return 0;
}

static uint32_t kv_frame(const struct kvc_sqe *sqe, uint32_t sq_size)
{
	uint64_t chunks;

	if (sqe->opc != KVC_BX_STORE)
		return 0;
	/* 64-bit: a size near 4 GiB must not round up to 0 chunks. */
	chunks = ((uint64_t)kvc_sqe_dw(sqe, 10) + KVC_BX_CHUNK - 1) / KVC_BX_CHUNK;
	return chunks < sq_size - 2 ? (uint32_t)chunks : sq_size - 2;
}

static uint16_t bx_store(struct fw_cmd *cmd)
{
	struct fw_subsys *s = subsys(cmd);
	struct fw_sq *sq = cmd->sq;
	struct kvc_kv_cmd kc;
	uint32_t chunks, first, pre;
	uint16_t st = decode(cmd, &kc);

	cmd->method = KVC_XM_BYTEEXPRESS;
	if (st)
		return st;
	/* The controller has consumed the frame (kv_frame) already. */
	if (kc.size > s->cfg.max_value || kvc_bx_chunks(kc.size) > cmd->consumed)
		return FW_ST(KVC_SC_KV_INVALID_VALUE_SIZE);
	chunks = kvc_bx_chunks(kc.size);
	fw_cmd_charge(cmd, (uint64_t)chunks * s->cfg.cost.bx_chunk_ns);
	first = (sq->head + sq->size - chunks) % sq->size;
	/* Chunk i is value bytes [64 i, 64 i + 64): slots map straight onto the buffer. */
	pre = chunks < cmd->npre ? chunks : cmd->npre;
	memcpy(s->xbuf, cmd->pre, (size_t)pre * KVC_SQE_SIZE);
	if (chunks > pre && read_slots(cmd, (first + pre) % sq->size, chunks - pre,
				       s->xbuf + (size_t)pre * KVC_SQE_SIZE))
		return FW_ST(KVC_SC_DATA_XFER_ERROR);
	return store_value(cmd, kc.key, kc.klen, kc.opts, s->xbuf, kc.size, false);
}

/* ---- Identify and the command table --------------------------------------------------- */

static void kv_identify(const struct fw_ns *ns, void *buf)
{
	const struct fw_subsys *s = ns->s;
	struct kvc_id_ns_kv *id = buf;

	kvc_put_le64(&id->nsze, s->capacity);
	kvc_put_le64(&id->nuse, s->vlog.used);
	id->nkvf = 0; /* one format */
	id->nmic = 0x01;
	kvc_put_le32(&id->novg, KVC_BX_CHUNK);
	fw_ns_nguid(ns, id->nguid); /* CNS 03h's NGUID descriptor is a copy of it */
	kvc_put_le16(&id->kvf[0].kvkml, KVC_KV_MAX_KEY);
	kvc_put_le32(&id->kvf[0].kvvml, s->cfg.max_value);
	kvc_put_le32(&id->kvf[0].kvmnk, s->cfg.max_keys);
}

static uint64_t kv_capacity(const struct fw_ns *ns)
{
	return ns->s->capacity;
}

static uint16_t kv_ns_flush(struct fw_ns *ns)
{
	return fw_batch_flush_status(ns->s);
}

/* The value log's own figures; its NAND operations are the array's minus
 * the block FTL's (the two share the NAND model's counters). */
static void kv_stats(const struct fw_ns *ns, struct kvc_stats_log *l)
{
	const struct fw_subsys *s = ns->s;
	const struct fw_vlog_stats *vs = &s->vlog.st;
	const struct fw_ftl_stats *fs = &s->ftl.st;
	bool blk = fw_has_blk(s);

	l->keys = s->index.count;
	l->used_bytes = s->vlog.used;
	l->log_bytes = fw_vlog_written(&s->vlog);
	l->capacity = s->capacity;
	l->key_bytes = s->st.key_bytes; /* only this namespace counts these */
	l->value_bytes_in = s->st.value_in;
	l->value_bytes_out = s->st.value_out;
	l->nand_reads = s->nand.st.reads - (blk ? fs->nand_reads : 0);
	l->nand_programs = s->nand.st.programs - (blk ? fs->programs : 0);
	l->nand_erases = s->nand.st.erases - (blk ? fs->erases : 0);
	l->nand_read_bytes = s->nand.st.read_bytes - (blk ? fs->nand_read_bytes : 0);
	l->flash_bytes_written = l->nand_programs * s->nand.geo.page_size;
	fw_stats_vlog(l, vs);
	l->index_bytes = fw_index_mem(&s->index);
}

static void kv_destroy(struct fw_ns *ns)
{
	fw_free(ns);
}

/* ---- Key Value Configuration feature (FID 20h) ------------------------------------------ */

/* The saved value lives in a small catalog blob of its own, per namespace. */
static void config_blob_name(uint32_t nsid, char name[16])
{
	snprintf(name, 16, "kvcfg.%u", nsid);
}

static uint16_t save_config(struct kv_ns *kv, uint32_t v)
{
	struct fw_subsys *s = kv->ns.s;
	uint8_t rec[4];
	char name[16];
	int rc;

	config_blob_name(kv->ns.nsid, name);
	kvc_put_le32(rec, v);
	rc = s->hal->meta_set_blob(s->hal->ctx, name, rec, sizeof(rec));
	if (rc) {
		/* The catalog transaction is dead: so is the open batch. */
		s->batch.meta_errors++;
		fw_batch_fail(s, rc, fw_batch_status(rc), "saving the Key Value Configuration");
		return fw_batch_status(rc);
	}
	/* Saved means durable: commit now, with whatever the batch holds. */
	return fw_batch_commit(s, true) ? s->batch.fail_st : 0;
}

static uint16_t kv_set_feature(struct fw_ns *ns, uint8_t fid, uint32_t value, bool save)
{
	struct kv_ns *kv = (struct kv_ns *)ns;
	uint32_t v = value & KVC_KV_CONFIG_EDNEK; /* CDW11 31:1 reserved */
	uint16_t st;

	if (fid != KVC_FEAT_KV_CONFIG)
		return FW_ST(KVC_SC_INVALID_FIELD);
	if (save && !ns->s->persistent) /* nothing outlives a power cycle */
		return KVC_ST_CMD_DNR(KVC_SC_FEATURE_NOT_SAVEABLE);
	if (save) {
		st = save_config(kv, v);
		if (st)
			return st; /* neither value changes */
		kv->saved = v;
	}
	kv->config = v;
	return 0;
}

static uint16_t kv_get_feature(const struct fw_ns *ns, uint8_t fid, uint8_t sel, uint32_t *value)
{
	const struct kv_ns *kv = kv_of(ns);

	if (fid != KVC_FEAT_KV_CONFIG)
		return FW_ST(KVC_SC_INVALID_FIELD);
	switch (sel) {
	case KVC_SEL_CURRENT:
		*value = kv->config;
		return 0;
	case KVC_SEL_DEFAULT:
		*value = KV_CONFIG_DEFAULT;
		return 0;
	case KVC_SEL_SAVED: /* the default while nothing is saved, or not saveable */
		*value = kv->saved;
		return 0;
	case KVC_SEL_SUPPORTED:
		*value = KVC_FEAT_CAP_NS_SPECIFIC | KVC_FEAT_CAP_CHANGEABLE |
			 (ns->s->persistent ? KVC_FEAT_CAP_SAVEABLE : 0);
		return 0;
	default:
		return FW_ST(KVC_SC_INVALID_FIELD);
	}
}

/* At power-on the current value is the saved one. */
static int load_config(struct kv_ns *kv)
{
	const struct fw_hal *hal = kv->ns.s->hal;
	uint8_t rec[4];
	char name[16];
	int rc;

	kv->saved = KV_CONFIG_DEFAULT;
	if (kv->ns.s->persistent) {
		config_blob_name(kv->ns.nsid, name);
		rc = hal->meta_get_blob(hal->ctx, name, rec, sizeof(rec));
		if (rc == 0)
			kv->saved = kvc_get_le32(rec);
		if (rc == -EINVAL || (!rc && (kv->saved & ~KVC_KV_CONFIG_EDNEK))) {
			if (hal->log)
				hal->log(hal->ctx, FW_LOG_ERR,
					 "catalog: the saved Key Value Configuration is damaged");
			return -EUCLEAN;
		}
		if (rc && rc != -ENOENT)
			return rc;
	}
	kv->config = kv->saved;
	return 0;
}

#define SUP KVC_EFFECTS_CSUPP
#define CHG (KVC_EFFECTS_CSUPP | KVC_EFFECTS_LBCC)
static const struct fw_cmd_desc kv_cmds[] = {
	{ KVC_NVM_FLUSH, KVC_OP_FLUSH, CHG, kv_flush },
	{ KVC_KV_STORE, KVC_OP_STORE, CHG, kv_store },
	{ KVC_KV_RETRIEVE, KVC_OP_RETRIEVE, SUP, kv_retrieve },
	{ KVC_KV_LIST, KVC_OP_LIST, SUP, kv_list },
	{ KVC_KV_DELETE, KVC_OP_DELETE, CHG, kv_delete },
	{ KVC_KV_EXIST, KVC_OP_EXIST, SUP, kv_exist },
	{ KVC_BS_STORE, KVC_OP_STORE, CHG, bs_store },
	{ KVC_BS_STORE_PRP, KVC_OP_STORE, CHG, bs_store },
	{ KVC_BS_XFER, KVC_OP_BS_XFER, CHG, bs_xfer },
	{ KVC_BX_STORE, KVC_OP_STORE, CHG, bx_store },
};

/* ---- Format NVM ------------------------------------------------------------------------ */

#define FORMAT_GRAB 64 /* keys taken from the index per pass */

/* Delete @n keys as Deletes do: the index, the log's live bytes, the batch
 * (undo log and catalog deletes).  0, or the status of a failed batch. */
static uint16_t drop_keys(struct fw_subsys *s, uint8_t (*keys)[FW_KEY_MAX], const uint8_t *klen,
			  unsigned int n)
{
	uint64_t failures = s->batch.failures;
	struct fw_idx_val old;
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (fw_batch_reserve(s))
			return batch_failed(s, failures) ? s->batch.fail_st
							 : FW_ST(KVC_SC_INTERNAL);
		if (fw_index_del(&s->index, keys[i], klen[i], &old))
			continue; /* cannot happen: the firmware thread owns the index */
		fw_vlog_dead(&s->vlog, old.loc, klen[i], old.vlen);
		if (fw_batch_del(s, keys[i], klen[i], &old))
			return s->batch.fail_st;
	}
	return 0;
}

/*
 * Format NVM: every key goes.  The value log keeps its records as dead
 * bytes, which garbage collection reclaims as it reclaims overwritten ones;
 * the catalog loses every key in the batch, which the admin handler commits
 * (a batch grown past its limit commits early: a Format cut by a crash may
 * have erased part, one acknowledged has erased all).  One KV format.
 */
static uint16_t kv_format(struct fw_ns *ns, uint32_t lbaf)
{
	struct fw_subsys *s = ns->s;
	uint8_t keys[FORMAT_GRAB][FW_KEY_MAX], klen[FORMAT_GRAB], first = 0;
	struct fw_index_iter it;
	const uint8_t *key;
	unsigned int n;
	uint16_t st;

	if (lbaf != 0 && lbaf != FW_FORMAT_CURRENT)
		return KVC_ST_CMD_DNR(KVC_SC_INVALID_FORMAT);
	do {
		/* Keys point into leaves that deleting merges: copy a few first. */
		fw_index_seek(&s->index, &first, 0, &it);
		for (n = 0; n < FORMAT_GRAB && fw_index_next(&it, &key, &klen[n], NULL); n++)
			memcpy(keys[n], key, klen[n]);
		st = drop_keys(s, keys, klen, n);
	} while (!st && n);
	return st;
}

/* The index lines point commands will read, requested while the ones
 * before them run; a hint is the key's leaf.  A BandSlim head names its
 * key where a Store does: the Store it begins runs when its last transfer
 * arrives, a command or a few later.  The keys' descents go together
 * (fw_index_prefetch_n()). */
static void kv_prefetch(const struct fw_ns *ns, const struct kvc_sqe *sqe, uint32_t n,
			const void **hints)
{
	uint8_t key[FW_INDEX_PREFETCH_N][KVC_KV_MAX_KEY], klen[FW_INDEX_PREFETCH_N];
	const uint8_t *kp[FW_INDEX_PREFETCH_N];
	const void *leaf[FW_INDEX_PREFETCH_N];
	uint32_t at[FW_INDEX_PREFETCH_N], i, m = 0, j;

	for (i = 0; i < n; i++) {
		hints[i] = NULL;
		switch (sqe[i].opc) {
		case KVC_KV_STORE:
		case KVC_KV_RETRIEVE:
		case KVC_KV_EXIST:
		case KVC_KV_DELETE:
		case KVC_BS_STORE:
		case KVC_BS_STORE_PRP:
			klen[m] = kvc_kv_key_unpack(&sqe[i], key[m]);
			if (klen[m] >= 1 && klen[m] <= FW_KEY_MAX) {
				kp[m] = key[m];
				at[m++] = i;
			}
			break;
		default:
			break;
		}
		if (m == FW_INDEX_PREFETCH_N || (i + 1 == n && m)) {
			fw_index_prefetch_n(&ns->s->index, kp, klen, m, leaf);
			for (j = 0; j < m; j++)
				hints[at[j]] = leaf[j];
			m = 0;
		}
	}
}

/* A Retrieve's record too: its entry is in the leaf kv_prefetch() found
 * (requested a moment ago), its bytes in NAND media memory; and the host
 * buffer the value goes to. */
static void kv_prefetch_data(const struct fw_ns *ns, const struct kvc_sqe *sqe, const void *leaf,
			     const struct fw_dma *dma)
{
	uint8_t key[KVC_KV_MAX_KEY], klen;
	struct fw_idx_val iv;
	uint32_t size;

	if (!leaf || sqe->opc != KVC_KV_RETRIEVE)
		return;
	/* The fields it needs, not a whole decode: the command's own follows. */
	klen = kvc_kv_key_unpack(sqe, key);
	size = kvc_get_le32(kvc_sqe_cbytes(sqe) + KVC_KV_OFF_SIZE);
	if (klen >= 1 && klen <= FW_KEY_MAX && size &&
	    fw_index_peek(&ns->s->index, leaf, key, klen, &iv)) {
		fw_vlog_prefetch(&ns->s->vlog, &iv, klen);
		fw_dma_prefetch_out(dma, sqe, size < iv.vlen ? size : iv.vlen);
	}
}

static const struct fw_ns_ops kv_ops = {
	.csi = KVC_CSI_KV,
	.cmds = kv_cmds,
	.ncmds = sizeof(kv_cmds) / sizeof(kv_cmds[0]),
	.identify_csi = kv_identify,
	.capacity = kv_capacity,
	.prefetch = kv_prefetch,
	.prefetch_data = kv_prefetch_data,
	.frame = kv_frame,
	.sq_deleted = kv_sq_deleted,
	.flush = kv_ns_flush,
	.stats = kv_stats,
	.set_feature = kv_set_feature,
	.get_feature = kv_get_feature,
	.format = kv_format,
	.destroy = kv_destroy,
};

int fw_kvns_create(struct fw_subsys *s, uint32_t nsid, struct fw_ns **out)
{
	struct kv_ns *kv = fw_calloc(1, sizeof(*kv));
	int rc;

	*out = NULL;
	if (!kv)
		return -ENOMEM;
	kv->ns.nsid = nsid;
	kv->ns.ops = &kv_ops;
	kv->ns.s = s;
	kv->ns.priv = kv;
	rc = load_config(kv);
	if (rc) {
		fw_free(kv);
		return rc;
	}
	*out = &kv->ns;
	return 0;
}
