// SPDX-License-Identifier: MIT
/*
 * The subsystem: configuration, construction of the NAND model, index and
 * value log, recovery from the persistent catalog, and durability points
 * (group commit, Flush, shutdown).
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
	c->fw_overhead_ns = 1500;
	c->timing = FW_TIMING_OFF;
	c->dma_gran = FW_DMA_PAGE;
	c->vwc = false;
	c->backfill = true;
	snprintf(c->serial, sizeof(c->serial), "NVKV0001");
	snprintf(c->model, sizeof(c->model), "nvkv KV-SSD emulator");
}

static uint64_t raw_log_bytes(const struct fw_config *c, uint64_t *sb_bytes)
{
	uint64_t sb =
		(uint64_t)c->geo.channels * c->geo.ways * c->geo.pages_per_block * c->geo.page_size;
	uint64_t nsb = (uint64_t)c->geo.planes * c->geo.blocks_per_plane;

	*sb_bytes = sb;
	return nsb > c->gc_reserve + 1 ? (nsb - c->gc_reserve - 1) * sb : 0;
}

/* Capacity offered to hosts: the log minus the reserve, minus over-provisioning. */
static uint64_t usable_capacity(const struct fw_config *c)
{
	uint64_t sb, raw = raw_log_bytes(c, &sb);

	return raw / 100 * (100 - c->op_percent);
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
	if (c->gc_reserve < 1 ||
	    (uint64_t)c->geo.planes * c->geo.blocks_per_plane < c->gc_reserve + 3)
		return "device.gc_reserve must be >= 1 and leave 2 superblocks (nand.blocks x "
		       "planes) for data";
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

static int recover(struct fw_subsys *s)
{
	size_t len = fw_vlog_state_size(&s->vlog);
	uint8_t *buf = fw_malloc(len);
	int rc;

	if (!buf)
		return -ENOMEM;
	rc = s->hal->meta_get_blob(s->hal->ctx, FW_VLOG_BLOB, buf, len);
	if (rc == -ENOENT) {
		fw_free(buf);
		return recover_new(s);
	}
	if (rc == -EINVAL) /* wrong size */
		rc = -EXDEV;
	if (!rc)
		rc = fw_vlog_state_load(&s->vlog, buf, len);
	fw_free(buf);
	if (rc == -EINVAL || rc == -EXDEV) {
		if (s->hal->log)
			s->hal->log(s->hal->ctx, FW_LOG_ERR,
				    "catalog: the value-log layout was made with another NAND "
				    "geometry (channels, ways, planes, blocks or page size)");
		return -EXDEV;
	}
	if (rc)
		return rc;
	return s->hal->meta_iterate(s->hal->ctx, load_record, s);
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
	rc = fw_index_init(&s->index);
	if (rc)
		goto out_nand;
	rc = fw_vlog_init(&s->vlog, &s->nand, hal, &s->index, c->gc_reserve);
	if (rc)
		goto out_index;
	s->blob = fw_malloc(fw_vlog_state_size(&s->vlog));
	if (!s->blob) {
		rc = -ENOMEM;
		goto out_vlog;
	}
	fw_batch_init(s);
	s->vlog.persist = persist_cb;
	s->vlog.moved = moved_cb;
	s->vlog.persist_arg = s;
	s->capacity = c->capacity ? c->capacity : usable_capacity(c);
	s->start_ns = hal->now_ns(hal->ctx);
	if (s->persistent) {
		rc = recover(s);
		if (rc)
			goto out_vlog;
	}
	rc = fw_kvns_create(s, 1, &s->ns[1]);
	if (rc)
		goto out_vlog;
	*out = s;
	return 0;

out_vlog:
	fw_batch_fini(s);
	fw_free(s->blob);
	fw_vlog_fini(&s->vlog);
out_index:
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

int fw_subsys_flush(struct fw_subsys *s)
{
	return fw_batch_commit(s, true);
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

void fw_subsys_destroy(struct fw_subsys *s)
{
	if (!s)
		return;
	while (s->ctrls)
		fw_ctrl_destroy(s->ctrls);
	fw_subsys_flush(s); /* a failure is logged and rolled back: the catalog stays consistent */
	destroy_namespaces(s);
	fw_batch_fini(s);
	fw_vlog_fini(&s->vlog);
	fw_index_fini(&s->index);
	fw_nand_fini(&s->nand);
	fw_free(s->blob);
	fw_free(s->xbuf);
	fw_free(s);
}
