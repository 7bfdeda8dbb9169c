// SPDX-License-Identifier: MIT
/* Value log, space accounting and garbage collection; see vlog.h. */
#include "vlog.h"

#include <errno.h>
#include <string.h>

#include "alloc.h"
#include "cmdset/le.h"
#include "crc.h"

static uint64_t max64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static uint64_t align_up(uint64_t v)
{
	return (v + FW_ALIGN - 1) / FW_ALIGN * FW_ALIGN;
}

static void vlog_log(struct fw_vlog *vl, int level, const char *msg)
{
	if (vl->hal->log)
		vl->hal->log(vl->hal->ctx, level, msg);
}

/* Physical page holding byte @off of superblock @sb's stream. */
static uint64_t stream_ppn(const struct fw_vlog *vl, uint32_t sb, uint64_t off)
{
	uint64_t k = off / vl->page_size;
	uint32_t die = (uint32_t)(k % vl->nand->ndies);

	return fw_nand_ppn(vl->nand, die, sb, (uint32_t)(k / vl->nand->ndies));
}

static void reset_sb(struct fw_sb *s)
{
	s->valid = 0;
	s->first_rec = FW_OFF_NONE;
	s->straddle_loc = FW_OFF_NONE;
	s->next = FW_SB_NONE;
}

int fw_vlog_init(struct fw_vlog *vl, struct fw_nand *nand, const struct fw_hal *hal,
		 struct fw_index *index, uint32_t reserve)
{
	uint32_t i;

	memset(vl, 0, sizeof(*vl));
	vl->nand = nand;
	vl->hal = hal;
	vl->index = index;
	vl->nsb = nand->blocks_per_die;
	vl->page_size = nand->geo.page_size;
	vl->sb_bytes = (uint64_t)nand->ndies * nand->geo.pages_per_block * vl->page_size;
	vl->reserve = reserve;
	if (vl->nsb < reserve + 2)
		return -EINVAL;
	/* Two queued programs per die before a Store has to wait for NAND. */
	vl->wb_ns = 2ull * nand->tm.prog_ns[2];
	vl->sb = fw_calloc(vl->nsb, sizeof(*vl->sb));
	vl->page = fw_calloc(1, vl->page_size);
	if (!vl->sb || !vl->page) {
		fw_vlog_fini(vl);
		return -ENOMEM;
	}
	for (i = 0; i < vl->nsb; i++)
		reset_sb(&vl->sb[i]);
	vl->sb[0].state = FW_SB_OPEN;
	vl->free_count = vl->nsb - 1;
	return 0;
}

void fw_vlog_fini(struct fw_vlog *vl)
{
	fw_free(vl->sb);
	fw_free(vl->page);
	fw_free(vl->scratch);
	vl->sb = NULL;
	vl->page = NULL;
	vl->scratch = NULL;
}

uint64_t fw_vlog_capacity(const struct fw_vlog *vl)
{
	return (uint64_t)(vl->nsb - vl->reserve - 1) * vl->sb_bytes;
}

/* Walk the @len bytes of a record at @loc, superblock by superblock. */
static void account(struct fw_vlog *vl, uint64_t loc, uint64_t len, bool add)
{
	uint32_t sb = (uint32_t)(loc / vl->sb_bytes);
	uint64_t o = loc % vl->sb_bytes;

	if (add)
		vl->used += len;
	else
		vl->used -= len;
	while (len && sb != FW_SB_NONE) {
		uint64_t n = len < vl->sb_bytes - o ? len : vl->sb_bytes - o;

		if (add)
			vl->sb[sb].valid += n;
		else
			vl->sb[sb].valid -= n;
		len -= n;
		o = 0;
		sb = vl->sb[sb].next;
	}
}

void fw_vlog_dead(struct fw_vlog *vl, uint64_t loc, uint8_t klen, uint32_t vlen)
{
	account(vl, loc, fw_rec_len(klen, vlen), false);
}

void fw_vlog_live(struct fw_vlog *vl, uint64_t loc, uint8_t klen, uint32_t vlen)
{
	account(vl, loc, fw_rec_len(klen, vlen), true);
}

static void close_page_gaps(struct fw_vlog *vl)
{
	uint32_t i;

	for (i = 0; i < vl->ngaps; i++)
		vl->st.pad_bytes += vl->gaps[i].len;
	vl->ngaps = 0;
}

static int program_open_page(struct fw_vlog *vl, uint64_t now, uint64_t *ready)
{
	uint64_t ppn = stream_ppn(vl, vl->cur, vl->page_off);
	int rc = -EIO, tries;

	for (tries = 0; tries < 3 && rc; tries++)
		rc = vl->hal->nand_program(vl->hal->ctx, ppn, vl->page);
	if (rc) {
		vl->st.media_errors++;
		vl->st.program_errors++;
		vlog_log(vl, FW_LOG_ERR, "vlog: page program failed after retries");
	}
	*ready = max64(*ready, fw_nand_program(vl->nand, ppn, now) - vl->wb_ns);
	close_page_gaps(vl);
	vl->page_off += vl->page_size;
	memset(vl->page, 0, vl->page_size);
	return rc;
}

static int open_next_sb(struct fw_vlog *vl)
{
	uint32_t i, best = FW_SB_NONE;

	for (i = 0; i < vl->nsb; i++) {
		if (vl->sb[i].state != FW_SB_FREE)
			continue;
		if (best == FW_SB_NONE || vl->sb[i].erases < vl->sb[best].erases)
			best = i;
	}
	if (best == FW_SB_NONE)
		return -ENOSPC;
	vl->sb[vl->cur].state = FW_SB_FULL;
	vl->sb[vl->cur].next = best;
	reset_sb(&vl->sb[best]);
	vl->sb[best].state = FW_SB_OPEN;
	vl->free_count--;
	vl->cur = best;
	vl->off = 0;
	vl->page_off = 0;
	return 0;
}

/* Append @len bytes (NULL: zeros) of the record starting at @rec_loc. */
static int write_bytes(struct fw_vlog *vl, const void *src, uint64_t len, uint64_t rec_loc,
		       uint64_t now, uint64_t *ready)
{
	const uint8_t *p = src;
	int err = 0, rc;

	while (len) {
		uint64_t in_page = vl->off - vl->page_off;
		uint64_t n = vl->page_size - in_page;

		if (n > len)
			n = len;
		if (p) {
			memcpy(vl->page + in_page, p, n);
			p += n;
		}
		vl->off += n;
		len -= n;
		if (vl->off - vl->page_off == vl->page_size) {
			rc = program_open_page(vl, now, ready);
			err = err ? err : rc;
		}
		if (vl->off == vl->sb_bytes) {
			rc = open_next_sb(vl);
			if (rc)
				return rc;
			if (len)
				vl->sb[vl->cur].straddle_loc = rec_loc;
		}
	}
	return err;
}

static uint64_t space_left(const struct fw_vlog *vl)
{
	return (vl->sb_bytes - vl->off) + (uint64_t)vl->free_count * vl->sb_bytes;
}

static int ensure_space(struct fw_vlog *vl, uint64_t need, uint64_t now)
{
	if (!vl->in_gc)
		need += (uint64_t)vl->reserve * vl->sb_bytes;
	while (space_left(vl) < need) {
		uint64_t before = space_left(vl), retired = vl->st.retired;

		if (vl->in_gc || fw_vlog_gc(vl, now))
			return -ENOSPC;
		/* Relocating 4 KiB-aligned records can cost as much log as the
		 * victim gave back: stop instead of collecting forever.  A victim
		 * retired by an erase failure gave nothing: try the next one
		 * (each retires a superblock for good, so this ends). */
		if (space_left(vl) <= before && vl->st.retired == retired)
			return -ENOSPC;
	}
	return 0;
}

static void put_header(uint8_t *h, uint8_t klen, uint32_t vlen, uint32_t crc, bool aligned)
{
	kvc_put_le16(h, FW_REC_MAGIC);
	h[2] = klen;
	h[3] = aligned ? FW_REC_ALIGNED : 0;
	kvc_put_le32(h + 4, vlen);
	kvc_put_le32(h + 8, crc);
}

/* Place a packed record wholly inside an alignment gap of the open page. */
static bool try_backfill(struct fw_vlog *vl, const uint8_t *hdr, const uint8_t *key, uint8_t klen,
			 const void *val, uint32_t vlen, uint64_t *loc)
{
	uint32_t len = fw_rec_len(klen, vlen), i;
	uint8_t *d;

	for (i = 0; i < vl->ngaps; i++) {
		if (vl->gaps[i].len >= len)
			break;
	}
	if (i == vl->ngaps)
		return false;
	d = vl->page + vl->gaps[i].off;
	memcpy(d, hdr, FW_REC_HDR);
	memcpy(d + FW_REC_HDR, key, klen);
	memcpy(d + FW_REC_HDR + klen, val, vlen);
	*loc = vl->cur * vl->sb_bytes + vl->page_off + vl->gaps[i].off;
	if (vl->page_off + vl->gaps[i].off < vl->sb[vl->cur].first_rec)
		vl->sb[vl->cur].first_rec = vl->page_off + vl->gaps[i].off;
	vl->gaps[i].off += len;
	vl->gaps[i].len -= len;
	vl->st.backfills++;
	return true;
}

/* Skip to the next 4 KiB boundary, remembering the gap for backfilling. */
static int align_frontier(struct fw_vlog *vl, uint64_t now, uint64_t *ready)
{
	uint64_t to = align_up(vl->off);

	if (to == vl->off)
		return 0;
	if (vl->ngaps < sizeof(vl->gaps) / sizeof(vl->gaps[0])) {
		vl->gaps[vl->ngaps].off = (uint32_t)(vl->off - vl->page_off);
		vl->gaps[vl->ngaps].len = (uint32_t)(to - vl->off);
		vl->ngaps++;
	} else {
		vl->st.pad_bytes += to - vl->off;
	}
	return write_bytes(vl, NULL, to - vl->off, FW_OFF_NONE, now, ready);
}

int fw_vlog_append(struct fw_vlog *vl, const uint8_t *key, uint8_t klen, const void *val,
		   uint32_t vlen, uint32_t crc, bool aligned, uint64_t now, uint64_t *loc,
		   uint64_t *ready)
{
	uint32_t len = fw_rec_len(klen, vlen);
	uint8_t hdr[FW_REC_HDR];
	uint64_t rec;
	int rc, err;

	*ready = now;
	rc = ensure_space(vl, len + (aligned ? FW_ALIGN : 0), now);
	if (rc)
		return rc;
	put_header(hdr, klen, vlen, crc, aligned);
	if (!aligned && try_backfill(vl, hdr, key, klen, val, vlen, loc))
		goto placed;
	if (aligned) {
		rc = align_frontier(vl, now, ready);
		if (rc)
			return rc; /* -ENOSPC, or the page it closed failed to program */
	}
	rec = vl->cur * vl->sb_bytes + vl->off;
	if (vl->sb[vl->cur].first_rec == FW_OFF_NONE)
		vl->sb[vl->cur].first_rec = vl->off;
	*loc = rec;
	err = write_bytes(vl, hdr, FW_REC_HDR, rec, now, ready);
	rc = write_bytes(vl, key, klen, rec, now, ready);
	err = err ? err : rc;
	rc = write_bytes(vl, val, vlen, rec, now, ready);
	err = err ? err : rc;
	if (err)
		return err;
placed:
	account(vl, *loc, len, true);
	vl->st.rec_bytes += len;
	if (!vl->in_gc) {
		vl->st.records++;
		vl->st.host_bytes += klen + vlen;
	}
	return 0;
}

/* Read @len bytes at @loc into @buf, charging one NAND read per page. */
static int read_bytes(struct fw_vlog *vl, uint64_t loc, void *buf, uint64_t len, uint64_t now,
		      uint64_t *done)
{
	uint32_t sb = (uint32_t)(loc / vl->sb_bytes);
	uint64_t o = loc % vl->sb_bytes;
	uint8_t *d = buf;

	while (len) {
		uint64_t in_page = o % vl->page_size, pstart = o - in_page;
		uint64_t n = vl->page_size - in_page;

		if (n > len)
			n = len;
		if (sb == vl->cur && pstart == vl->page_off) {
			memcpy(d, vl->page + in_page, n);
		} else {
			uint64_t ppn = stream_ppn(vl, sb, pstart);

			if (vl->hal->nand_read(vl->hal->ctx, ppn, (uint32_t)in_page, (uint32_t)n,
					       d)) {
				vl->st.media_errors++;
				return -EIO;
			}
			*done = max64(*done, fw_nand_read(vl->nand, ppn, (uint32_t)n, now));
		}
		d += n;
		len -= n;
		o += n;
		if (o == vl->sb_bytes) {
			sb = vl->sb[sb].next;
			o = 0;
			if (len && sb == FW_SB_NONE)
				return -EBADMSG;
		}
	}
	return 0;
}

static int read_record(struct fw_vlog *vl, const uint8_t *key, uint8_t klen,
		       const struct fw_idx_val *iv, void *buf, uint64_t now, uint64_t *done)
{
	uint8_t hk[FW_REC_HDR + FW_KEY_MAX];
	uint32_t crc;
	int rc;

	rc = read_bytes(vl, iv->loc, hk, FW_REC_HDR + klen, now, done);
	if (!rc)
		rc = read_bytes(vl, iv->loc + FW_REC_HDR + klen, buf, iv->vlen, now, done);
	if (rc)
		return rc;
	if (kvc_get_le16(hk) != FW_REC_MAGIC || hk[2] != klen || kvc_get_le32(hk + 4) != iv->vlen ||
	    kvc_get_le32(hk + 8) != iv->crc || memcmp(hk + FW_REC_HDR, key, klen))
		goto bad;
	crc = fw_crc32c(fw_crc32c(0, key, klen), buf, iv->vlen);
	if (crc != iv->crc)
		goto bad;
	return 0;
bad:
	vl->st.crc_errors++;
	return -EBADMSG;
}

int fw_vlog_read(struct fw_vlog *vl, const uint8_t *key, uint8_t klen, const struct fw_idx_val *iv,
		 void *buf, uint64_t now, uint64_t *done)
{
	*done = now;
	return read_record(vl, key, klen, iv, buf, now, done);
}

int fw_vlog_stage(struct fw_vlog *vl)
{
	uint64_t filled = vl->off - vl->page_off;

	if (!filled || !vl->hal->nand_stage)
		return 0;
	return vl->hal->nand_stage(vl->hal->ctx, stream_ppn(vl, vl->cur, vl->page_off), vl->page,
				   filled);
}

static int grow_scratch(struct fw_vlog *vl, uint32_t len)
{
	uint8_t *p;

	if (len <= vl->scratch_len)
		return 0;
	p = fw_realloc(vl->scratch, len);
	if (!p)
		return -ENOMEM;
	vl->scratch = p;
	vl->scratch_len = len;
	return 0;
}

/* Move the record at @loc if the index still points at it. */
static int relocate_if_live(struct fw_vlog *vl, uint64_t loc, uint64_t now)
{
	uint8_t hk[FW_REC_HDR + FW_KEY_MAX];
	struct fw_idx_val iv, niv;
	uint64_t done = now, nloc, ready;
	uint8_t klen;
	int rc;

	rc = read_bytes(vl, loc, hk, FW_REC_HDR, now, &done);
	if (rc)
		return rc;
	klen = hk[2];
	if (kvc_get_le16(hk) != FW_REC_MAGIC || klen == 0 || klen > FW_KEY_MAX)
		return 0;
	rc = read_bytes(vl, loc + FW_REC_HDR, hk + FW_REC_HDR, klen, now, &done);
	if (rc)
		return rc;
	if (!fw_index_get(vl->index, hk + FW_REC_HDR, klen, &iv) || iv.loc != loc)
		return 0; /* garbage */
	rc = grow_scratch(vl, iv.vlen + 1);
	if (rc)
		return rc;
	rc = read_record(vl, hk + FW_REC_HDR, klen, &iv, vl->scratch, now, &done);
	if (rc)
		return rc; /* keep the block: never erase what we could not move */
	rc = fw_vlog_append(vl, hk + FW_REC_HDR, klen, vl->scratch, iv.vlen, iv.crc,
			    hk[3] & FW_REC_ALIGNED, done, &nloc, &ready);
	if (rc)
		return rc;
	niv = iv;
	niv.loc = nloc;
	if (vl->moved) {
		/* Persisted with the batch GC commits before erasing the victim. */
		rc = vl->moved(vl->persist_arg, hk + FW_REC_HDR, klen, &iv, &niv);
		if (rc)
			return rc;
	} else {
		fw_vlog_dead(vl, loc, klen, iv.vlen);
		fw_index_update(vl->index, hk + FW_REC_HDR, klen, &niv);
	}
	vl->st.gc_moves++;
	vl->st.gc_bytes += fw_rec_len(klen, iv.vlen);
	return 0;
}

static uint32_t pick_victim(const struct fw_vlog *vl)
{
	uint32_t i, best = FW_SB_NONE;

	for (i = 0; i < vl->nsb; i++) {
		if (vl->sb[i].state != FW_SB_FULL)
			continue;
		if (best == FW_SB_NONE || vl->sb[i].valid < vl->sb[best].valid)
			best = i;
	}
	if (best != FW_SB_NONE && vl->sb[best].valid >= vl->sb_bytes)
		return FW_SB_NONE;
	return best;
}

static int scan_and_move(struct fw_vlog *vl, uint32_t v, uint64_t now)
{
	uint64_t o = vl->sb[v].first_rec, done = now;
	uint8_t hdr[FW_REC_HDR];
	int rc;

	if (vl->sb[v].straddle_loc != FW_OFF_NONE) {
		rc = relocate_if_live(vl, vl->sb[v].straddle_loc, now);
		if (rc)
			return rc;
	}
	while (o != FW_OFF_NONE && o < vl->sb_bytes) {
		uint64_t loc = v * vl->sb_bytes + o;

		rc = read_bytes(vl, loc, hdr, FW_REC_HDR, now, &done);
		if (rc)
			return rc;
		if (kvc_get_le16(hdr) != FW_REC_MAGIC) {
			o = align_up(o + 1); /* alignment gap */
			continue;
		}
		rc = relocate_if_live(vl, loc, now);
		if (rc)
			return rc;
		o += fw_rec_len(hdr[2], kvc_get_le32(hdr + 4));
	}
	return 0;
}

/* Erase victim @v on every die; a block that fails to erase retires the
 * superblock for good (its data is dead already, the catalog says so). */
static void erase_victim(struct fw_vlog *vl, uint32_t v, uint64_t now)
{
	uint32_t d, bad = 0;

	for (d = 0; d < vl->nand->ndies; d++) {
		if (vl->hal->nand_erase(vl->hal->ctx, (uint64_t)d * vl->nand->blocks_per_die + v))
			bad++;
		fw_nand_erase(vl->nand, d, now);
	}
	reset_sb(&vl->sb[v]);
	vl->sb[v].erases++;
	if (bad) {
		vl->sb[v].state = FW_SB_RETIRED;
		vl->st.erase_errors += bad;
		vl->st.media_errors += bad;
		vl->st.retired++;
		vlog_log(vl, FW_LOG_ERR, "gc: block erase failed; superblock retired");
		return;
	}
	vl->sb[v].state = FW_SB_FREE;
	vl->free_count++;
}

uint32_t fw_vlog_retired(const struct fw_vlog *vl)
{
	uint32_t i, n = 0;

	for (i = 0; i < vl->nsb; i++)
		n += vl->sb[i].state == FW_SB_RETIRED;
	return n;
}

int fw_vlog_gc(struct fw_vlog *vl, uint64_t now)
{
	uint32_t v = pick_victim(vl);
	uint64_t perr = vl->st.program_errors;
	int rc;

	if (v == FW_SB_NONE)
		return -ENOSPC;
	vl->in_gc = true;
	rc = scan_and_move(vl, v, now);
	vl->in_gc = false;
	/* A page that failed to program may hold moved records even when each
	 * append looked fine (an alignment pad programmed it): keep the victim. */
	if (!rc && vl->st.program_errors != perr)
		rc = -EIO;
	if (rc)
		return rc;
	if (vl->sb[v].valid != 0) {
		vlog_log(vl, FW_LOG_ERR, "gc: live bytes left in victim; not erasing it");
		return -EIO;
	}
	if (vl->persist) {
		rc = vl->persist(vl->persist_arg);
		if (rc)
			return rc;
	}
	erase_victim(vl, v, now);
	vl->st.gc_runs++;
	return 0;
}

/* Serialized layout: u32 magic, u32 nsb, u64 sb_bytes, u32 cur, u32 rsvd,
 * u64 off, then nsb x struct fw_sb.  Host byte order: it never leaves the
 * machine that wrote it (and the magic catches a foreign file). */
#define STATE_MAGIC 0x4e564c47u
struct state_hdr {
	uint32_t magic;
	uint32_t nsb;
	uint64_t sb_bytes;
	uint32_t cur;
	uint32_t rsvd;
	uint64_t off;
};

size_t fw_vlog_state_size(const struct fw_vlog *vl)
{
	return sizeof(struct state_hdr) + (size_t)vl->nsb * sizeof(struct fw_sb);
}

void fw_vlog_state_save(const struct fw_vlog *vl, void *buf)
{
	struct state_hdr h = { STATE_MAGIC, vl->nsb, vl->sb_bytes, vl->cur, 0, vl->off };

	memcpy(buf, &h, sizeof(h));
	memcpy((uint8_t *)buf + sizeof(h), vl->sb, (size_t)vl->nsb * sizeof(struct fw_sb));
}

int fw_vlog_state_load(struct fw_vlog *vl, const void *buf, size_t len)
{
	struct state_hdr h;
	uint32_t i;

	if (len != fw_vlog_state_size(vl))
		return -EINVAL;
	memcpy(&h, buf, sizeof(h));
	if (h.magic != STATE_MAGIC || h.nsb != vl->nsb || h.sb_bytes != vl->sb_bytes ||
	    h.cur >= vl->nsb || h.off >= vl->sb_bytes)
		return -EINVAL;
	memcpy(vl->sb, (const uint8_t *)buf + sizeof(h), (size_t)vl->nsb * sizeof(struct fw_sb));
	vl->cur = h.cur;
	vl->off = h.off;
	vl->page_off = h.off - h.off % vl->page_size;
	vl->ngaps = 0;
	vl->used = 0;
	vl->free_count = 0;
	for (i = 0; i < vl->nsb; i++) {
		vl->sb[i].valid = 0;
		vl->free_count += vl->sb[i].state == FW_SB_FREE;
	}
	memset(vl->page, 0, vl->page_size);
	if (vl->off > vl->page_off)
		return vl->hal->nand_read(vl->hal->ctx, stream_ppn(vl, vl->cur, vl->page_off), 0,
					  (uint32_t)(vl->off - vl->page_off), vl->page);
	return 0;
}
