// SPDX-License-Identifier: MIT
/*
 * The subsystem: configuration, construction of the NAND model, the split of
 * its superblocks between the value log (KV namespace) and the block FTL (NVM
 * namespace), index, value log and FTL, recovery of both from the persistent
 * catalog, and durability points (group commit, Flush, shutdown).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "fw_internal.h"

void fw_config_default(struct fw_config *c)
{
	memset(c, 0, sizeof(*c));
	c->geo = (struct fw_nand_geo){ .channels = 4,
				       .ways = 8,
				       .planes = 1,
				       .blocks_per_plane = 64,
				       .pages_per_block = 128,
				       .page_size = 16384 };
	fw_nand_profile(&c->nand, "flat");
	c->pcie =
		(struct kvc_pcie_link){ .gen = 3, .lanes = 4, .mps = 256, .mrrs = 512, .rcb = 64 };
	c->max_ioq = 16;
	c->mqes = 1024;
	c->arb_burst = 8;
	c->max_value = 2u << 20;
	c->op_percent = 10;
	c->gc_reserve = 2;
	c->gc_slice_us = 100;
	c->gc_policy = FW_GC_YIELD;
	c->fw_overhead_ns = 1500;
	c->cost = (struct fw_cost){ .cores = 1 };
	c->blk_percent = 50;
	c->blk_op_percent = 10;
	c->lba_size = 4096;
	c->timing = FW_TIMING_OFF;
	c->dma_gran = FW_DMA_PAGE;
	c->vwc = false;
	c->backfill = true;
	snprintf(c->serial, sizeof(c->serial), "NVKV0001");
	snprintf(c->model, sizeof(c->model), "nvkv KV-SSD emulator");
}

static uint32_t all_sbs(const struct fw_config *c)
{
	return c->geo.planes * c->geo.blocks_per_plane;
}

/* Superblocks of the block FTL: the last blk_percent of the array. */
static uint32_t blk_sbs(const struct fw_config *c)
{
	return (uint32_t)((uint64_t)all_sbs(c) * c->blk_percent / 100);
}

static uint32_t kv_sbs(const struct fw_config *c)
{
	return all_sbs(c) - blk_sbs(c);
}

/* The FTL needs two free superblocks for its GC (ftl.h). */
static uint32_t blk_reserve(const struct fw_config *c)
{
	return c->gc_reserve > 2 ? c->gc_reserve : 2;
}

static uint64_t raw_log_bytes(const struct fw_config *c, uint64_t *sb_bytes)
{
	uint64_t sb =
		(uint64_t)c->geo.channels * c->geo.ways * c->geo.pages_per_block * c->geo.page_size;
	uint64_t nsb = kv_sbs(c);

	*sb_bytes = sb;
	return nsb > c->gc_reserve + 1 ? (nsb - c->gc_reserve - 1) * sb : 0;
}

/* Capacity offered to hosts: the log minus the reserve, minus over-provisioning. */
static uint64_t usable_capacity(const struct fw_config *c)
{
	uint64_t sb, raw = raw_log_bytes(c, &sb);

	return raw / 100 * (100 - c->op_percent);
}

/* The namespace split: each namespace present has room for data and GC. */
static const char *split_check(const struct fw_config *c)
{
	if (c->blk_percent > 100)
		return "namespaces.block_percent must be 0..100";
	if (c->blk_op_percent < 1 || c->blk_op_percent > 90)
		return "namespaces.block_op_percent must be 1..90";
	if (c->lba_size != 512 && c->lba_size != 4096)
		return "namespaces.lba_size must be 512 or 4096";
	if (blk_sbs(c) && blk_sbs(c) < blk_reserve(c) + 2)
		return "namespaces.block_percent leaves the block namespace fewer than "
		       "max(device.gc_reserve, 2) + 2 superblocks (nand.blocks x planes)";
	if (blk_sbs(c) && (uint64_t)blk_sbs(c) * c->geo.channels * c->geo.ways *
					  c->geo.pages_per_block *
					  (c->geo.page_size / FW_FTL_UNIT) >=
				  FW_FTL_LOST)
		return "the block namespace has more than 2^32 - 2 4 KiB units";
	return NULL;
}

const char *fw_config_check(const struct fw_config *c)
{
	const char *msg = fw_nand_geo_valid(&c->geo);

	if (msg)
		return msg;
	msg = kvc_pcie_link_valid_KEEP(&c->pcie);
	if (msg)
		return msg;
	if (!c->nand.chan_mbps || !c->nand.read_ns[0] || !c->nand.prog_ns[0] || !c->nand.erase_ns)
		return "nand timing (read_us, program_us, erase_us, channel_mbps) must be non-zero";
	if (c->max_ioq < 1 || c->max_ioq > FW_MAX_IOQ)
		return "queues.count must be 1..64";
	if (c->mqes < 2 || c->mqes > FW_MAX_QSIZE)
		return "queues.depth must be 2..4096";
	if (c->arb_burst < 1 || c->arb_burst > 128 || (c->arb_burst & (c->arb_burst - 1)))
		return "queues.burst must be a power of two, 1..128";
	if (c->max_value < 1 || c->max_value >= FW_MAX_VALUE_LIMIT)
		return "device.max_value must be 1 .. 16 MiB - 1";
	if (c->op_percent > 90)
		return "device.op_percent must be 0..90";
	if (c->cost.cores < 1 || c->cost.cores > FW_MAX_CORES)
		return "device.fw_cores must be 1..64";
	if (c->gc_slice_us < 1 || c->gc_slice_us > 1000000)
		return "device.gc_slice_us must be 1..1000000";
	if (c->gc_policy != FW_GC_YIELD && c->gc_policy != FW_GC_FIFO)
		return "device.gc_policy must be yield or fifo";
	msg = split_check(c);
	if (msg)
		return msg;
	if (c->gc_reserve < 1 || (kv_sbs(c) && kv_sbs(c) < c->gc_reserve + 3))
		return "device.gc_reserve must be >= 1 and leave 2 superblocks (nand.blocks x "
		       "planes) for data";
	if (!kv_sbs(c))
		return c->capacity || c->max_keys
			       ? "device.capacity and device.max_keys need a KV namespace "
				 "(namespaces.block_percent < 100)"
			       : NULL;
	if (usable_capacity(c) == 0)
		return "nand geometry leaves no usable capacity";
	if (c->capacity > usable_capacity(c))
		return "device.capacity exceeds what the nand geometry offers after "
		       "over-provisioning";
	return NULL;
}

/* Log why the catalog is refused; return -EUCLEAN (damaged store). */
static int bad_catalog(struct fw_subsys *s, const char *what, const void *key, size_t klen)
{
	char msg[160];
	size_t i, n = 0;

	n += (size_t)snprintf(msg, sizeof(msg), "catalog: %s", what);
	if (key) {
		n += (size_t)snprintf(msg + n, sizeof(msg) - n, " (key ");
		for (i = 0; i < klen && i < FW_KEY_MAX && n < sizeof(msg); i++)
			n += (size_t)snprintf(msg + n, sizeof(msg) - n, "%02x",
					      ((const uint8_t *)key)[i]);
		if (n < sizeof(msg))
			snprintf(msg + n, sizeof(msg) - n, ")");
	}
	if (s->hal->log)
		s->hal->log(s->hal->ctx, FW_LOG_ERR, msg);
	return -EUCLEAN;
}

static int load_record(void *arg, const void *key, size_t klen, const void *rec, size_t rlen)
{
	struct fw_subsys *s = arg;
	struct fw_idx_val iv;
	int rc;

	if (klen < 1 || klen > FW_KEY_MAX)
		return bad_catalog(s, "record with an invalid key length", key, 0);
	if (rlen != 16)
		return bad_catalog(s, "record of the wrong size", key, klen);
	iv.loc = kvc_get_le64(rec);
	iv.vlen = kvc_get_le32((const uint8_t *)rec + 8);
	iv.crc = kvc_get_le32((const uint8_t *)rec + 12);
	if (iv.vlen > s->cfg.max_value)
		return bad_catalog(s, "record with a value larger than device.max_value", key,
				   klen);
	if (!fw_vlog_holds(&s->vlog, iv.loc, fw_rec_len((uint8_t)klen, iv.vlen)))
		return bad_catalog(s, "record points outside the written value log", key, klen);
	rc = fw_index_put(&s->index, key, (uint8_t)klen, &iv, NULL);
	if (rc < 0)
		return rc;
	fw_vlog_live(&s->vlog, iv.loc, (uint8_t)klen, iv.vlen);
	return 0;
}

static int count_record(void *arg, const void *key, size_t klen, const void *rec, size_t rlen)
{
	(void)key;
	(void)klen;
	(void)rec;
	(void)rlen;
	++*(uint64_t *)arg;
	return 0;
}

/* No value-log layout: a new device, unless the catalog holds keys. */
static int recover_new(struct fw_subsys *s)
{
	uint64_t n = 0;
	int rc = s->hal->meta_iterate(s->hal->ctx, count_record, &n);

	if (rc)
		return rc;
	return n ? bad_catalog(s, "the value-log layout is missing but keys are stored", NULL, 0)
		 : 0;
}

/* A layout made with another split or geometry: not damage, another device. */
static int other_device(struct fw_subsys *s, const char *what)
{
	char msg[320];

	snprintf(msg, sizeof(msg),
		 "catalog: %s was made with another NAND geometry (channels, ways, planes, "
		 "blocks or page size) or namespace split (namespaces.block_percent, "
		 "namespaces.block_op_percent)",
		 what);
	if (s->hal->log)
		s->hal->log(s->hal->ctx, FW_LOG_ERR, msg);
	return -EXDEV;
}

/* Is blob @name stored (whatever its size)? */
static int blob_stored(struct fw_subsys *s, const char *name, bool *stored)
{
	uint8_t probe;
	int rc = s->hal->meta_get_blob(s->hal->ctx, name, &probe, 0);

	*stored = rc != -ENOENT;
	return rc == -ENOENT || rc == -EINVAL || !rc ? 0 : rc;
}

/* The value-log layout; *fresh when there is none (a new device). */
static int recover_vlog(struct fw_subsys *s, bool *fresh)
{
	size_t len = fw_vlog_state_size(&s->vlog);
	uint8_t *buf = fw_malloc(len);
	int rc;

	*fresh = false;
	if (!buf)
		return -ENOMEM;
	rc = s->hal->meta_get_blob(s->hal->ctx, FW_VLOG_BLOB, buf, len);
	if (rc == -ENOENT) {
		fw_free(buf);
		*fresh = true;
		return recover_new(s);
	}
	if (rc == -EINVAL) /* wrong size */
		rc = -EXDEV;
	if (!rc)
		rc = fw_vlog_state_load(&s->vlog, buf, len);
	fw_free(buf);
	if (rc == -EINVAL || rc == -EXDEV)
		return other_device(s, "the value-log layout");
	return rc;
}

/* The block FTL's map and layout; *fresh when there is none. */
static int recover_ftl(struct fw_subsys *s, bool *fresh)
{
	int rc = fw_ftl_load(&s->ftl);

	*fresh = rc == -ENOENT;
	if (rc == -EXDEV)
		return other_device(s, "the block namespace's layout");
	return *fresh ? 0 : rc;
}

/* A namespace this configuration does not have must not have left state. */
static int recover_absent(struct fw_subsys *s)
{
	uint64_t n = 0;
	bool stored;
	int rc;

	if (!fw_has_kv(s)) {
		rc = blob_stored(s, FW_VLOG_BLOB, &stored);
		if (!rc && !stored)
			rc = s->hal->meta_iterate(s->hal->ctx, count_record, &n);
		if (rc)
			return rc;
		if (stored || n)
			return other_device(s, "the KV namespace (this configuration has none)");
	}
	if (!fw_has_blk(s)) {
		rc = blob_stored(s, FW_FTL_BLOB, &stored);
		if (rc)
			return rc;
		if (stored)
			return other_device(s, "the block namespace (this configuration has none)");
	}
	return 0;
}

static int recover(struct fw_subsys *s)
{
	bool kv_fresh = false, blk_fresh = false;
	int rc = recover_absent(s);

	if (!rc && fw_has_kv(s))
		rc = recover_vlog(s, &kv_fresh);
	if (!rc && fw_has_blk(s))
		rc = recover_ftl(s, &blk_fresh);
	if (rc)
		return rc;
	/* Both layouts are written by every commit, the first one included. */
	if (fw_has_kv(s) && fw_has_blk(s) && kv_fresh != blk_fresh)
		return bad_catalog(s,
				   kv_fresh ? "the value-log layout is missing but the block "
					      "namespace's is stored"
					    : "the block namespace's layout is missing but the "
					      "value-log layout is stored",
				   NULL, 0);
	if (fw_has_kv(s) && !kv_fresh)
		rc = s->hal->meta_iterate(s->hal->ctx, load_record, s);
	/* A new device with a block namespace commits both layouts now, so a
	 * missing one is damage from then on. */
	if (!rc && fw_has_blk(s) && blk_fresh)
		rc = fw_batch_commit(s, true);
	return rc;
}

static int persist_cb(void *arg)
{
	return fw_batch_commit(arg, false);
}

/* GC moved a live record: the index and the catalog follow it, in the same
 * batch as host changes, so the commit GC makes before erasing the victim
 * carries the new locations. */
static int moved_cb(void *arg, const uint8_t *key, uint8_t klen, const struct fw_idx_val *old,
		    const struct fw_idx_val *cur)
{
	struct fw_subsys *s = arg;
	int rc = fw_batch_reserve(s);

	if (!rc)
		rc = fw_index_update(&s->index, key, klen, cur);
	if (rc) { /* the copy is garbage; GC keeps its victim */
		fw_vlog_dead(&s->vlog, cur->loc, klen, cur->vlen);
		return rc;
	}
	fw_vlog_dead(&s->vlog, old->loc, klen, old->vlen);
	return fw_batch_put(s, key, klen, old, cur);
}

static int ftl_persist_cb(void *arg)
{
	return fw_batch_commit(arg, false);
}

/* The value log on the first superblocks, the block FTL on the rest. */
static int init_media(struct fw_subsys *s)
{
	const struct fw_config *c = &s->cfg;
	uint32_t kv = kv_sbs(c), blk = blk_sbs(c);
	int rc;

	if (kv) {
		rc = fw_vlog_init_range(&s->vlog, &s->nand, s->hal, &s->index, c->gc_reserve, 0,
					kv);
		if (rc)
			return rc;
		s->vlog.persist = persist_cb;
		s->vlog.moved = moved_cb;
		s->vlog.persist_arg = s;
		s->kv_nsid = 1;
	}
	if (blk) {
		rc = fw_ftl_init(&s->ftl, &s->nand, s->hal, kv, blk, blk_reserve(c),
				 c->blk_op_percent);
		if (rc)
			return rc;
		s->ftl.persist = ftl_persist_cb;
		s->ftl.persist_arg = s;
		s->blk_nsid = kv ? 2 : 1;
	}
	return 0;
}

static void fini_media(struct fw_subsys *s)
{
	if (fw_has_kv(s))
		fw_vlog_fini(&s->vlog);
	if (fw_has_blk(s))
		fw_ftl_fini(&s->ftl);
}

static int create_namespaces(struct fw_subsys *s)
{
	int rc = 0;

	if (fw_has_kv(s))
		rc = fw_kvns_create(s, s->kv_nsid, &s->ns[s->kv_nsid]);
	if (!rc && fw_has_blk(s))
		rc = fw_blkns_create(s, s->blk_nsid, &s->ns[s->blk_nsid]);
	return rc;
}

static void destroy_namespaces(struct fw_subsys *s)
{
	uint32_t i;

	for (i = 1; i <= FW_MAX_NS; i++) {
		if (s->ns[i])
			s->ns[i]->ops->destroy(s->ns[i]);
		s->ns[i] = NULL;
	}
}

int fw_subsys_create(const struct fw_config *c, const struct fw_hal *hal, struct fw_subsys **out)
{
	struct fw_subsys *s;
	size_t xlen;
	int rc;

	*out = NULL;
	if (fw_config_check(c))
		return -EINVAL;
	s = fw_calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->cfg = *c;
	s->hal = hal;
	s->persistent = hal->meta_put && hal->meta_commit && hal->meta_iterate &&
			hal->meta_set_blob && hal->meta_get_blob;
	fw_pcie_init(&s->pcie, &c->pcie);
	xlen = (size_t)c->max_value + FW_MEM_PAGE;
	if (xlen < FW_LOG_MAX)
		xlen = FW_LOG_MAX;
	s->xbuf = fw_malloc(xlen);
	rc = s->xbuf ? fw_nand_init(&s->nand, &c->geo, &c->nand) : -ENOMEM;
	if (rc)
		goto out_free;
	fw_nand_set_gc(&s->nand, c->gc_policy, (uint64_t)c->gc_slice_us * 1000);
	rc = fw_index_init_mem(&s->index, hal->mem_map, hal->mem_unmap, hal->ctx);
	if (rc)
		goto out_nand;
	rc = init_media(s);
	if (rc)
		goto out_media;
	s->blob = fw_malloc(fw_vlog_state_size(&s->vlog));
	if (!s->blob) {
		rc = -ENOMEM;
		goto out_media;
	}
	fw_batch_init(s);
	s->capacity = fw_has_kv(s) ? (c->capacity ? c->capacity : usable_capacity(c)) : 0;
	s->start_ns = hal->now_ns(hal->ctx);
	if (s->persistent) {
		rc = recover(s);
		if (rc)
			goto out_batch;
	}
	rc = create_namespaces(s);
	if (rc)
		goto out_ns;
	*out = s;
	return 0;

out_ns:
	destroy_namespaces(s);
out_batch:
	fw_batch_fini(s);
	fw_free(s->blob);
out_media:
	fini_media(s);
	fw_index_fini(&s->index);
out_nand:
	fw_nand_fini(&s->nand);
out_free:
	fw_free(s->xbuf);
	fw_free(s);
	return rc;
}

uint64_t fw_subsys_capacity(const struct fw_subsys *s)
{
	return s->capacity;
}

uint32_t fw_subsys_kv_nsid(const struct fw_subsys *s)
{
	return s->kv_nsid;
}

uint32_t fw_subsys_blk_nsid(const struct fw_subsys *s)
{
	return s->blk_nsid;
}

int fw_subsys_flush(struct fw_subsys *s)
{
	return fw_batch_commit(s, true);
}

void fw_subsys_destroy(struct fw_subsys *s)
{
	if (!s)
		return;
	while (s->ctrls)
		fw_ctrl_destroy(s->ctrls);
	fw_subsys_flush(s); /* a failure is logged and rolled back: the catalog stays consistent */
	destroy_namespaces(s);
	fw_batch_fini(s);
	fini_media(s);
	fw_index_fini(&s->index);
	fw_nand_fini(&s->nand);
	fw_free(s->blob);
	fw_free(s->xbuf);
	fw_free(s);
}
