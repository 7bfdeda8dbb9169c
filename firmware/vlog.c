// SPDX-License-Identifier: MIT
/* Value log, space accounting and garbage collection; see vlog.h (the
 * persistent layout is vlog_state.c). */
#include "vlog.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "cmdset/le.h"
#include "crc.h"

/* Attempts at a page program or staging write before it counts as a media error. */
#define VLOG_MEDIA_TRIES 3

static uint64_t max64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static uint64_t align_up(uint64_t v)
{
	return (v + FW_ALIGN - 1) / FW_ALIGN * FW_ALIGN;
}

void fw_vlog_log(struct fw_vlog *vl, int level, const char *msg)
{
	if (vl->hal->log)
		vl->hal->log(vl->hal->ctx, level, msg);
}

uint64_t fw_vlog_ppn(const struct fw_vlog *vl, uint32_t sb, uint64_t off)
{
	uint64_t k = fw_div_q(&vl->page_div, off);
	uint32_t die = (uint32_t)fw_div_r(&vl->die_div, k);

	return fw_nand_ppn(vl->nand, die, vl->first_sb + sb, (uint32_t)fw_div_q(&vl->die_div, k));
}

static void reset_sb(struct fw_sb *s)
{
	s->valid = 0;
	s->first_rec = FW_OFF_NONE;
	s->straddle_loc = FW_OFF_NONE;
	s->next = FW_SB_NONE;
}

/* The free superblock the next one to open will be: the least worn. */
static uint32_t least_worn_free(const struct fw_vlog *vl)
{
	uint32_t i, best = FW_SB_NONE;

	for (i = 0; i < vl->nsb; i++) {
		if (vl->sb[i].state != FW_SB_FREE)
			continue;
		if (best == FW_SB_NONE || vl->sb[i].erases < vl->sb[best].erases)
			best = i;
	}
	return best;
}

/* The HAL hears which superblock should follow the open one (a hint: GC may
 * free a less worn one before then). */
static void expect_next_sb(const struct fw_vlog *vl)
{
	uint32_t next = least_worn_free(vl);

	if (next != FW_SB_NONE)
		fw_nand_expect_sb(vl->nand, vl->hal, vl->first_sb + next);
}

int fw_vlog_init(struct fw_vlog *vl, struct fw_nand *nand, const struct fw_hal *hal,
		 struct fw_index *index, uint32_t reserve)
{
	return fw_vlog_init_range(vl, nand, hal, index, reserve, 0, nand->blocks_per_die);
}

int fw_vlog_init_range(struct fw_vlog *vl, struct fw_nand *nand, const struct fw_hal *hal,
		       struct fw_index *index, uint32_t reserve, uint32_t first_sb, uint32_t nsb)
{
	uint32_t i;

	memset(vl, 0, sizeof(*vl));
	vl->nand = nand;
	vl->hal = hal;
	vl->index = index;
	vl->first_sb = first_sb;
	vl->nsb = nsb;
	vl->page_size = nand->geo.page_size;
	vl->sb_bytes = (uint64_t)nand->ndies * nand->geo.pages_per_block * vl->page_size;
	fw_div_init(&vl->page_div, vl->page_size);
	fw_div_init(&vl->sb_div, vl->sb_bytes);
	fw_div_init(&vl->die_div, nand->ndies);
	vl->reserve = reserve;
	if (first_sb > nand->blocks_per_die || nsb > nand->blocks_per_die - first_sb ||
	    vl->nsb < reserve + 2)
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
	fw_nand_expect_sb(nand, hal, first_sb);
	expect_next_sb(vl);
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

/*
 * A position in the value log: superblock and offset in its stream.  A record
 * is contiguous inside a superblock and continues at offset 0 of its
 * successor in write order (sb[].next), which is not the next address; the
 * successor names it as its straddle_loc.  Every walk over a record's bytes
 * crosses superblock ends through spot_skip() and nowhere else.
 */
struct spot {
	uint32_t sb;
	uint64_t o;
};

/* Where @loc is; superblock FW_SB_NONE when past the last one. */
static struct spot spot_at(const struct fw_vlog *vl, uint64_t loc)
{
	struct spot p = { FW_SB_NONE, fw_div_r(&vl->sb_div, loc) };
	uint64_t sb = fw_div_q(&vl->sb_div, loc);

	if (sb < vl->nsb)
		p.sb = (uint32_t)sb;
	return p;
}

/* How many of @len bytes at @p lie in @p's superblock. */
static uint64_t spot_piece(const struct fw_vlog *vl, const struct spot *p, uint64_t len)
{
	return len < vl->sb_bytes - p->o ? len : vl->sb_bytes - p->o;
}

/*
 * Move @p, inside the record starting at @rec, forward by @n bytes (at most
 * spot_piece()).  At the superblock's end the record goes on in the successor
 * only if that one names @rec as its straddling record; otherwise the
 * successor was erased and reused since (the record is dead) or there is
 * none: @p->sb becomes FW_SB_NONE.
 */
static void spot_skip(const struct fw_vlog *vl, struct spot *p, uint64_t rec, uint64_t n)
{
	uint32_t next;

	p->o += n;
	if (p->o < vl->sb_bytes)
		return;
	next = vl->sb[p->sb].next;
	if (next != FW_SB_NONE && vl->sb[next].straddle_loc != rec)
		next = FW_SB_NONE;
	p->sb = next;
	p->o = 0;
}

/* Walk the @len bytes of a record at @loc, superblock by superblock. */
static void account(struct fw_vlog *vl, uint64_t loc, uint64_t len, bool add)
{
	struct spot p = spot_at(vl, loc);

	if (add) {
		vl->used += len;
	} else {
		vl->used -= len;
		if (!vl->in_gc)
			vl->dead_bytes += len;
	}
	while (len && p.sb != FW_SB_NONE) {
		uint64_t n = spot_piece(vl, &p, len);

		if (add)
			vl->sb[p.sb].valid += n;
		else
			vl->sb[p.sb].valid -= n;
		len -= n;
		spot_skip(vl, &p, loc, n);
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

bool fw_vlog_holds(const struct fw_vlog *vl, uint64_t loc, uint64_t len)
{
	struct spot p = spot_at(vl, loc);

	while (len) {
		uint64_t n;

		if (p.sb == FW_SB_NONE)
			return false; /* the chain ends, or goes on with another record */
		n = spot_piece(vl, &p, len);
		if (vl->sb[p.sb].state == FW_SB_FREE || vl->sb[p.sb].state == FW_SB_RETIRED ||
		    (p.sb == vl->cur && p.o + n > vl->off))
			return false;
		len -= n;
		spot_skip(vl, &p, loc, n);
	}
	return true;
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
	uint64_t ppn = fw_vlog_ppn(vl, vl->cur, vl->page_off);
	int rc = -EIO, tries;

	for (tries = 0; tries < VLOG_MEDIA_TRIES && rc; tries++)
		rc = vl->hal->nand_program(vl->hal->ctx, ppn, vl->page);
	if (rc) {
		vl->st.media_errors++;
		vl->st.program_errors++;
		fw_vlog_log(vl, FW_LOG_ERR, "vlog: page program failed after retries");
	}
	{
		/* The write buffer absorbs wb_ns of the program; never below 0. */
		uint64_t end = vl->in_gc ? fw_nand_gc_program(vl->nand, ppn, now)
					 : fw_nand_program(vl->nand, ppn, now);

		*ready = max64(*ready, end > vl->wb_ns ? end - vl->wb_ns : 0);
	}
	close_page_gaps(vl);
	vl->page_off += vl->page_size;
	memset(vl->page, 0, vl->page_size);
	return rc;
}

static int open_next_sb(struct fw_vlog *vl)
{
	uint32_t best = least_worn_free(vl);

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
	expect_next_sb(vl);
	return 0;
}

/*
 * Append @len bytes (NULL: zeros) of the record starting at @rec_loc, which
 * has @tail more bytes after these.  A superblock opened while the record
 * has bytes left -- in this piece or a later one -- names it as its
 * straddling record, the only way GC and reads find where it goes on.
 */
static int write_bytes(struct fw_vlog *vl, const void *src, uint64_t len, uint64_t tail,
		       uint64_t rec_loc, uint64_t now, uint64_t *ready)
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
			if (len || tail)
				vl->sb[vl->cur].straddle_loc = rec_loc;
		}
	}
	return err;
}

static uint64_t space_left(const struct fw_vlog *vl)
{
	return (vl->sb_bytes - vl->off) + (uint64_t)vl->free_count * vl->sb_bytes;
}

/* GC passes one append may run; more means GC cannot keep up: the log is full. */
#define GC_PASSES_MAX 16

static int ensure_space(struct fw_vlog *vl, uint64_t need, uint64_t now)
{
	unsigned int passes = 0;

	/* A byte more: a record ending at its superblock's end opens the next
	 * one at once, and no layout has the frontier at a superblock's end. */
	need++;
	if (!vl->in_gc)
		need += (uint64_t)vl->reserve * vl->sb_bytes;
	if (space_left(vl) >= need)
		return 0;
	if (vl->in_gc)
		return -ENOSPC;
	/* Futile last time, and too little died since for a pass to gain a page. */
	if (vl->gc_futile && vl->dead_bytes - vl->gc_futile_dead < vl->page_size)
		return -ENOSPC;
	while (space_left(vl) < need) {
		uint64_t before = space_left(vl), retired = vl->st.retired;

		if (passes++ == GC_PASSES_MAX || fw_vlog_gc(vl, now))
			return -ENOSPC;
		/*
		 * Relocating 4 KiB-aligned records can cost nearly as much log as
		 * the victim gave back: a pass that gains less than a page means
		 * the log is full of live records, and collecting on (a few bytes
		 * a pass) held the Store, and every command behind it, for
		 * minutes.  A victim retired by an erase failure gave nothing:
		 * try the next one (each retires a superblock for good).
		 */
		if (space_left(vl) < before + vl->page_size && vl->st.retired == retired)
			goto futile;
	}
	vl->gc_futile = false;
	return 0;
futile:
	vl->gc_futile = true;
	vl->gc_futile_dead = vl->dead_bytes;
	return -ENOSPC;
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
	return write_bytes(vl, NULL, to - vl->off, 0, FW_OFF_NONE, now, ready);
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
	err = write_bytes(vl, hdr, FW_REC_HDR, klen + vlen, rec, now, ready);
	rc = write_bytes(vl, key, klen, vlen, rec, now, ready);
	err = err ? err : rc;
	rc = write_bytes(vl, val, vlen, 0, rec, now, ready);
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

/*
 * GC reads a victim page once, whole, into one of its two page buffers (a
 * record crossing a page boundary keeps both pages there).  Return when the
 * page is in the buffer.
 */
static uint64_t gc_read_page(struct fw_vlog *vl, uint64_t ppn, uint64_t now)
{
	unsigned int b;

	for (b = 0; b < 2; b++) {
		if (vl->gc_buf[b].ppn == ppn)
			return vl->gc_buf[b].done;
	}
	b = vl->gc_buf_next;
	vl->gc_buf_next ^= 1;
	vl->gc_buf[b].ppn = ppn;
	vl->gc_buf[b].done = fw_nand_gc_read(vl->nand, ppn, vl->page_size, now);
	return vl->gc_buf[b].done;
}

/* A piece of a record to read, into its own buffer. */
struct span {
	void *buf;
	uint64_t len;
};

/* Charge the NAND model for @bytes of page @ppn (none: ppn UINT64_MAX). */
static void charge_read(struct fw_vlog *vl, uint64_t ppn, uint32_t bytes, uint64_t now,
			uint64_t *done)
{
	if (ppn == UINT64_MAX)
		return;
	if (!vl->in_gc)
		*done = max64(*done, fw_nand_read(vl->nand, ppn, bytes, now));
	else
		*done = max64(*done, gc_read_page(vl, ppn, now));
}

/*
 * Read the @n spans of the record starting at @rec, one after the other from
 * @p on; @p moves past them.  Each page is sensed once (one read charged to
 * the NAND model with all the bytes the spans take from it), however many
 * spans it holds: a small record's header, key and value are one page read.
 * Return: 0, -EIO on a media error, -ESTALE when the record does not go on
 * for the spans' bytes (its superblock's successor is another record's now,
 * or there is none).
 */
static int read_spans(struct fw_vlog *vl, struct spot *p, uint64_t rec, const struct span *sp,
		      unsigned int n, uint64_t now, uint64_t *done)
{
	uint64_t sensed = UINT64_MAX; /* the page being read, not charged yet */
	uint32_t sensed_bytes = 0;
	unsigned int i;
	int rc = 0;

	for (i = 0; i < n && !rc; i++) {
		uint8_t *d = sp[i].buf;
		uint64_t len = sp[i].len;

		while (len) {
			uint64_t in_page = fw_div_r(&vl->page_div, p->o), pstart = p->o - in_page;
			uint64_t m = vl->page_size - in_page, ppn;

			if (p->sb == FW_SB_NONE) {
				rc = -ESTALE;
				break;
			}
			if (m > len)
				m = len;
			if (p->sb == vl->cur && pstart == vl->page_off) {
				if (d)
					memcpy(d, vl->page + in_page, m);
			} else {
				ppn = fw_vlog_ppn(vl, p->sb, pstart);
				if (d && vl->hal->nand_read(vl->hal->ctx, ppn, (uint32_t)in_page,
							    (uint32_t)m, d)) {
					vl->st.media_errors++;
					rc = -EIO;
					break;
				}
				if (ppn != sensed) {
					charge_read(vl, sensed, sensed_bytes, now, done);
					sensed = ppn;
					sensed_bytes = 0;
				}
				sensed_bytes += (uint32_t)m;
			}
			if (d)
				d += m;
			len -= m;
			spot_skip(vl, p, rec, m);
		}
	}
	/* The pages read before a failure were sensed all the same. */
	charge_read(vl, sensed, sensed_bytes, now, done);
	return rc;
}

/* One span: @len bytes into @buf. */
static int read_bytes(struct fw_vlog *vl, struct spot *p, uint64_t rec, void *buf, uint64_t len,
		      uint64_t now, uint64_t *done)
{
	struct span sp = { buf, len };

	return read_spans(vl, p, rec, &sp, 1, now, done);
}

/*
 * Read the record @iv names into @buf (the value) and check it against the
 * index.  Return: 0; -EBADMSG when header, key or checksum do not match (@buf
 * holds the value bytes as stored); -ESTALE when the record's bytes do not
 * all exist any more; -EIO on a media error.
 */
static int read_record(struct fw_vlog *vl, const uint8_t *key, uint8_t klen,
		       const struct fw_idx_val *iv, void *buf, uint64_t now, uint64_t *done)
{
	struct spot p = spot_at(vl, iv->loc);
	/* The header and key are sensed (charged to the NAND model, as the
	 * controller reads the whole record) but not copied or compared: the
	 * index's CRC covers the key and the value, so bytes that are not
	 * this key's record (a damaged location, a reused block) fail it all
	 * the same, and a Retrieve touches one cache line fewer about half
	 * the time. */
	struct span sp[2] = { { NULL, FW_REC_HDR + klen }, { buf, iv->vlen } };
	int rc;

	rc = read_spans(vl, &p, iv->loc, sp, 2, now, done);
	if (rc)
		return rc;
	if (fw_crc32c(fw_crc32c(0, key, klen), buf, iv->vlen) != iv->crc) {
		vl->st.crc_errors++;
		return -EBADMSG;
	}
	return 0;
}

void fw_vlog_prefetch(const struct fw_vlog *vl, const struct fw_idx_val *iv, uint8_t klen)
{
	struct spot p = spot_at(vl, iv->loc);
	uint64_t in_page, pstart, len = fw_rec_len(klen, iv->vlen), head = FW_REC_HDR + klen;

	if (!vl->hal->nand_prefetch || p.sb == FW_SB_NONE)
		return;
	if (head < vl->sb_bytes - p.o) { /* the value is what read_record() copies */
		p.o += head;
		len = iv->vlen;
	}
	in_page = fw_div_r(&vl->page_div, p.o);
	pstart = p.o - in_page;
	if (len > vl->page_size - in_page)
		len = vl->page_size - in_page;
	if (p.sb == vl->cur && pstart == vl->page_off)
		return; /* in the write buffer, read a moment ago */
	vl->hal->nand_prefetch(vl->hal->ctx, fw_vlog_ppn(vl, p.sb, pstart), (uint32_t)in_page,
			       (uint32_t)len);
}

int fw_vlog_read(struct fw_vlog *vl, const uint8_t *key, uint8_t klen, const struct fw_idx_val *iv,
		 void *buf, uint64_t now, uint64_t *done)
{
	int rc;

	*done = now;
	rc = read_record(vl, key, klen, iv, buf, now, done);
	if (rc == -ESTALE) {
		vl->st.crc_errors++;
		return -EBADMSG;
	}
	return rc;
}

int fw_vlog_stage(struct fw_vlog *vl)
{
	uint64_t filled = vl->off - vl->page_off;
	int rc = -EIO, tries;

	if (!filled || !vl->hal->nand_stage)
		return 0;
	/* Staging rewrites the same bytes: a transient failure is worth a retry. */
	for (tries = 0; tries < VLOG_MEDIA_TRIES && rc; tries++)
		rc = vl->hal->nand_stage(vl->hal->ctx, fw_vlog_ppn(vl, vl->cur, vl->page_off),
					 vl->page, filled);
	return rc;
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
	struct spot p = spot_at(vl, loc);
	uint64_t done = now, nloc, ready;
	uint8_t klen;
	int rc;

	/* -ESTALE: the record runs into a superblock erased since, so it was dead. */
	rc = read_bytes(vl, &p, loc, hk, FW_REC_HDR, now, &done);
	if (rc)
		return rc == -ESTALE ? 0 : rc;
	klen = hk[2];
	if (kvc_get_le16(hk) != FW_REC_MAGIC || klen == 0 || klen > FW_KEY_MAX)
		return 0;
	rc = read_bytes(vl, &p, loc, hk + FW_REC_HDR, klen, now, &done);
	if (rc)
		return rc == -ESTALE ? 0 : rc;
	if (!fw_index_get(vl->index, hk + FW_REC_HDR, klen, &iv) || iv.loc != loc)
		return 0; /* garbage */
	rc = grow_scratch(vl, iv.vlen + 1);
	if (rc)
		return rc;
	rc = read_record(vl, hk + FW_REC_HDR, klen, &iv, vl->scratch, now, &done);
	if (rc == -EBADMSG) {
		/* Damaged for good: keeping the victim for it would lose the block
		 * at every pass.  Moved as stored, under the index's checksum, the
		 * key keeps reading as unrecovered. */
		vl->st.media_errors++;
		fw_vlog_log(vl, FW_LOG_ERR,
			    "gc: a live record fails its checksum; moved as stored");
	} else if (rc) {
		return rc; /* keep the block: never erase what we could not move */
	}
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
		struct spot p = spot_at(vl, loc);

		rc = read_bytes(vl, &p, loc, hdr, FW_REC_HDR, now, &done);
		if (rc == -ESTALE)
			break; /* the last record, dead: its successor was erased */
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

/*
 * Victim @v goes: the superblocks the record crossing out of it straddles
 * into must stop naming that record (dead, moved by this GC), or GC of one of
 * them would read it from @v's next contents.  @v's successor link may be
 * stale already (that superblock was erased first): then its straddling
 * record is not one from @v.
 */
static void forget_straddler(struct fw_vlog *vl, uint32_t v)
{
	uint32_t s = vl->sb[v].next;
	uint64_t rec;

	if (s == FW_SB_NONE)
		return;
	rec = vl->sb[s].straddle_loc;
	if (rec == FW_OFF_NONE || (rec / vl->sb_bytes != v && rec != vl->sb[v].straddle_loc))
		return;
	for (; s != FW_SB_NONE && vl->sb[s].straddle_loc == rec; s = vl->sb[s].next)
		vl->sb[s].straddle_loc = FW_OFF_NONE;
}

/* Erase victim @v on every die; a block that fails to erase retires the
 * superblock for good (its data is dead already, the catalog says so). */
static void erase_victim(struct fw_vlog *vl, uint32_t v, uint64_t now)
{
	uint32_t d, bad = 0;

	forget_straddler(vl, v);
	for (d = 0; d < vl->nand->ndies; d++) {
		if (vl->hal->nand_erase(vl->hal->ctx,
					(uint64_t)d * vl->nand->blocks_per_die + vl->first_sb + v))
			bad++;
		fw_nand_gc_erase(vl->nand, d, now);
	}
	reset_sb(&vl->sb[v]);
	vl->sb[v].erases++;
	if (bad) {
		vl->sb[v].state = FW_SB_RETIRED;
		vl->st.erase_errors += bad;
		vl->st.media_errors += bad;
		vl->st.retired++;
		fw_vlog_log(vl, FW_LOG_ERR, "gc: block erase failed; superblock retired");
		return;
	}
	vl->sb[v].state = FW_SB_FREE;
	vl->free_count++;
}

uint64_t fw_vlog_written(const struct fw_vlog *vl)
{
	uint64_t n = 0;
	uint32_t i;

	for (i = 0; i < vl->nsb; i++)
		n += vl->sb[i].state == FW_SB_FULL;
	return n * vl->sb_bytes + vl->off;
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
	bool freed = false;
	int rc;

	if (v == FW_SB_NONE)
		return -ENOSPC;
	if (fw_nand_gc_pass_begin(vl->nand, vl->first_sb, vl->reserve, now))
		vl->st.gc_urgent++;
	vl->in_gc = true;
	vl->gc_buf[0].ppn = vl->gc_buf[1].ppn = UINT64_MAX;
	rc = scan_and_move(vl, v, now);
	vl->in_gc = false;
	/* A page that failed to program may hold moved records even when each
	 * append looked fine (an alignment pad programmed it): keep the victim. */
	if (!rc && vl->st.program_errors != perr)
		rc = -EIO;
	if (rc)
		goto out;
	if (vl->sb[v].valid != 0) {
		fw_vlog_log(vl, FW_LOG_ERR, "gc: live bytes left in victim; not erasing it");
		rc = -EIO;
		goto out;
	}
	if (vl->persist) {
		rc = vl->persist(vl->persist_arg);
		if (rc)
			goto out;
	}
	erase_victim(vl, v, now);
	vl->st.gc_runs++;
	freed = true;
out:
	fw_nand_gc_pass_end(vl->nand, freed);
	return rc;
}
