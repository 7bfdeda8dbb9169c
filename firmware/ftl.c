// SPDX-License-Identifier: MIT
/* Page-mapped FTL of the block namespace: map, frontier, GC, persistence; see ftl.h. */
#include "ftl.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "cmdset/le.h"

/* Attempts at a page program, a staging write or a GC read before it counts as a media error. */
#define FTL_MEDIA_TRIES 3
/* Pages skipped after program failures before a page's units are given up. */
#define FTL_PAGE_SKIPS 4
#define FTL_NONE UINT32_MAX

static uint64_t max64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static void ftl_log(struct fw_ftl *f, int level, const char *msg)
{
	if (f->hal->log)
		f->hal->log(f->hal->ctx, level, msg);
}

/* Physical page of stream page @k of superblock @sb (relative to first_sb). */
static uint64_t page_ppn(const struct fw_ftl *f, uint32_t sb, uint32_t k)
{
	uint32_t die = k % f->nand->ndies;

	return fw_nand_ppn(f->nand, die, f->first_sb + sb, k / f->nand->ndies);
}

static uint64_t slot_ppn(const struct fw_ftl *f, uint32_t slot)
{
	return page_ppn(f, slot / f->sb_slots, slot % f->sb_slots / f->slots);
}

static void mark_dirty(struct fw_ftl *f, uint64_t unit)
{
	uint8_t *d = &f->dirty[unit / FW_FTL_CHUNK];

	f->ndirty += !*d;
	*d = 1;
}

static uint64_t exported_units(const struct fw_ftl *f)
{
	uint64_t raw = (uint64_t)(f->nsb - f->reserve - 1) * f->sb_slots;

	return raw / 100 * (100 - f->op_percent) + raw % 100 * (100 - f->op_percent) / 100;
}

/* The free superblock the next one to open will be: the least worn. */
static uint32_t least_worn_free(const struct fw_ftl *f)
{
	uint32_t i, best = FTL_NONE;

	for (i = 0; i < f->nsb; i++) {
		if (f->sb[i].state != FW_FTL_FREE)
			continue;
		if (best == FTL_NONE || f->sb[i].erases < f->sb[best].erases)
			best = i;
	}
	return best;
}

/* The HAL hears which superblock should follow the open one (a hint). */
static void expect_next_sb(const struct fw_ftl *f)
{
	uint32_t next = least_worn_free(f);

	if (next != FTL_NONE)
		fw_nand_expect_sb(f->nand, f->hal, f->first_sb + next);
}

int fw_ftl_init(struct fw_ftl *f, struct fw_nand *nand, const struct fw_hal *hal, uint32_t first_sb,
		uint32_t nsb, uint32_t reserve, uint32_t op_percent)
{
	uint64_t total;
	uint32_t i;

	memset(f, 0, sizeof(*f));
	f->nand = nand;
	f->hal = hal;
	f->first_sb = first_sb;
	f->nsb = nsb;
	f->page_size = nand->geo.page_size;
	f->slots = f->page_size / FW_FTL_UNIT;
	f->sb_pages = nand->ndies * nand->geo.pages_per_block;
	f->reserve = reserve;
	f->op_percent = op_percent;
	total = (uint64_t)nsb * f->sb_pages * f->slots;
	if (first_sb > nand->blocks_per_die || nsb > nand->blocks_per_die - first_sb ||
	    reserve < 2 || nsb < reserve + 2 || op_percent > 90 || total >= FW_FTL_LOST)
		return -EINVAL;
	f->sb_slots = f->sb_pages * f->slots;
	f->nunits = exported_units(f);
	f->nchunks = (uint32_t)((f->nunits + FW_FTL_CHUNK - 1) / FW_FTL_CHUNK);
	f->wb_ns = 2ull * nand->tm.prog_ns[2];
	f->l2p = fw_malloc((size_t)f->nchunks * FW_FTL_CHUNK * sizeof(*f->l2p));
	f->p2l = fw_malloc((size_t)total * sizeof(*f->p2l));
	f->sb = fw_calloc(nsb, sizeof(*f->sb));
	f->page = fw_calloc(1, f->page_size);
	f->scratch = fw_malloc(FW_FTL_UNIT);
	f->dirty = fw_calloc(f->nchunks ? f->nchunks : 1, 1);
	if (!f->l2p || !f->p2l || !f->sb || !f->page || !f->scratch || !f->dirty) {
		fw_ftl_fini(f);
		return -ENOMEM;
	}
	memset(f->l2p, 0xff, (size_t)f->nchunks * FW_FTL_CHUNK * sizeof(*f->l2p));
	memset(f->p2l, 0xff, (size_t)total * sizeof(*f->p2l));
	for (i = 0; i < nsb; i++)
		f->sb[i].state = FW_FTL_FREE;
	f->sb[0].state = FW_FTL_OPEN;
	f->free_count = nsb - 1;
	return 0;
}

void fw_ftl_fini(struct fw_ftl *f)
{
	fw_free(f->l2p);
	fw_free(f->p2l);
	fw_free(f->sb);
	fw_free(f->page);
	fw_free(f->scratch);
	fw_free(f->dirty);
	f->l2p = f->p2l = NULL;
	f->sb = NULL;
	f->page = f->scratch = f->dirty = NULL;
}

bool fw_ftl_mapped(const struct fw_ftl *f, uint64_t unit)
{
	return unit < f->nunits && f->l2p[unit] != FW_FTL_UNMAPPED;
}

/* @unit no longer lives at its slot. */
static void unmap(struct fw_ftl *f, uint64_t unit)
{
	uint32_t slot = f->l2p[unit];

	if (slot == FW_FTL_UNMAPPED)
		return;
	if (slot != FW_FTL_LOST) {
		f->p2l[slot] = FTL_NONE;
		f->sb[slot / f->sb_slots].valid--;
		f->used--;
	}
	f->l2p[unit] = FW_FTL_UNMAPPED;
	mark_dirty(f, unit);
}

static void map(struct fw_ftl *f, uint64_t unit, uint32_t slot)
{
	unmap(f, unit);
	f->l2p[unit] = slot;
	f->p2l[slot] = (uint32_t)unit;
	f->sb[slot / f->sb_slots].valid++;
	f->used++;
	mark_dirty(f, unit);
}

static int open_next_sb(struct fw_ftl *f)
{
	uint32_t best = least_worn_free(f);

	if (best == FTL_NONE)
		return -ENOSPC;
	f->sb[f->cur].state = FW_FTL_FULL;
	f->sb[best].state = FW_FTL_OPEN;
	f->sb[best].valid = 0;
	f->free_count--;
	f->cur = best;
	f->off = 0;
	f->layout_dirty = true;
	expect_next_sb(f);
	return 0;
}

/* Move the units of the open page (slots [@first, @first + slots)) to the
 * page the frontier is at now: a program failure skips the failed page. */
static void remap_page(struct fw_ftl *f, uint32_t first)
{
	uint32_t i, to = f->cur * f->sb_slots + f->off;

	for (i = 0; i < f->slots; i++) {
		uint32_t unit = f->p2l[first + i];

		if (unit != FTL_NONE)
			map(f, unit, to + i);
	}
}

/* The open page's units are gone with it: they read as media errors. */
static void lose_page(struct fw_ftl *f, uint32_t first)
{
	uint32_t i;

	for (i = 0; i < f->slots; i++) {
		uint32_t unit = f->p2l[first + i];

		if (unit == FTL_NONE)
			continue;
		unmap(f, unit);
		f->l2p[unit] = FW_FTL_LOST;
		f->st.lost_units++;
	}
	ftl_log(f, FW_LOG_ERR, "ftl: a page could not be programmed; its units are lost");
}

static int try_program(struct fw_ftl *f, uint64_t ppn)
{
	int rc = -EIO, tries;

	for (tries = 0; tries < FTL_MEDIA_TRIES && rc; tries++)
		rc = f->hal->nand_program(f->hal->ctx, ppn, f->page);
	return rc;
}

/*
 * The open page (the one just completed; the frontier is past it) goes to
 * NAND.  A page that keeps failing is skipped and its units move to the next
 * page, up to FTL_PAGE_SKIPS times.
 */
static int program_page(struct fw_ftl *f, uint64_t now, uint64_t *ready)
{
	uint32_t first = f->cur * f->sb_slots + f->off - f->slots, skips;
	uint64_t ppn = slot_ppn(f, first);
	int rc = 0;

	for (skips = 0;; skips++) {
		uint64_t end = f->in_gc ? fw_nand_gc_program(f->nand, ppn, now)
					: fw_nand_program(f->nand, ppn, now);

		/* The write buffer absorbs wb_ns of the program; never below 0. */
		*ready = max64(*ready, end > f->wb_ns ? end - f->wb_ns : 0);
		f->st.programs++;
		if (!try_program(f, ppn))
			break;
		f->st.media_errors++;
		f->st.program_errors++;
		ftl_log(f, FW_LOG_ERR, "ftl: page program failed after retries; page skipped");
		rc = f->off == f->sb_slots ? open_next_sb(f) : 0;
		if (skips == FTL_PAGE_SKIPS || rc) {
			lose_page(f, first);
			rc = -EIO;
			break;
		}
		remap_page(f, first);
		first = f->cur * f->sb_slots + f->off;
		f->off += f->slots;
		ppn = slot_ppn(f, first);
	}
	/* No clearing of the buffer: place() fills every slot of it before the
	 * next program, and reads and staging see only the slots filled. */
	return rc;
}

/*
 * Append @unit's 4 KiB at the frontier.  A superblock that fills opens the
 * next one at once when there is one; otherwise (only when GC has used the
 * last free superblock) the next append opens it, after GC erased a victim.
 */
static int place(struct fw_ftl *f, uint64_t unit, const void *data, uint64_t now, uint64_t *ready)
{
	uint32_t slot;
	int rc = 0;

	if (!f->expected) {
		/* Not at start: a block namespace may never be written, and
		 * its memory would be taken for nothing. */
		f->expected = true;
		fw_nand_expect_sb(f->nand, f->hal, f->first_sb + f->cur);
		expect_next_sb(f);
	}
	if (f->off == f->sb_slots) {
		rc = open_next_sb(f);
		if (rc)
			return rc;
	}
	slot = f->cur * f->sb_slots + f->off;
	memcpy(f->page + (size_t)(f->off % f->slots) * FW_FTL_UNIT, data, FW_FTL_UNIT);
	map(f, unit, slot);
	f->off++;
	f->layout_dirty = true;
	if (f->off % f->slots == 0)
		rc = program_page(f, now, ready);
	if (f->off == f->sb_slots && f->free_count) {
		int orc = open_next_sb(f);

		rc = rc ? rc : orc;
	}
	return rc;
}

static uint64_t space_left(const struct fw_ftl *f)
{
	return (uint64_t)(f->sb_slots - f->off) + (uint64_t)f->free_count * f->sb_slots;
}

static int ensure_space(struct fw_ftl *f, uint64_t now)
{
	/* With two superblocks' room kept, any victim's units fit (it has
	 * fewer than a superblock's worth) and GC always gains room. */
	uint64_t need = 1 + (uint64_t)f->reserve * f->sb_slots;
	int rc;

	if (f->in_gc)
		return space_left(f) >= 1 ? 0 : -ENOSPC;
	while (space_left(f) < need) {
		uint64_t before = space_left(f), retired = f->st.retired;

		rc = fw_ftl_gc(f, now);
		if (rc)
			return rc;
		if (space_left(f) <= before && f->st.retired == retired)
			return -ENOSPC;
	}
	return 0;
}

/* Is @slot in the open page, still in the write buffer? */
static bool in_buffer(const struct fw_ftl *f, uint32_t slot)
{
	uint32_t base = f->cur * f->sb_slots + f->off - f->off % f->slots;

	return slot >= base && slot < f->cur * f->sb_slots + f->off;
}

static int read_slot(struct fw_ftl *f, uint32_t slot, uint32_t off, uint32_t len, void *buf,
		     uint64_t now, uint64_t *done)
{
	uint32_t in_page = slot % f->slots * FW_FTL_UNIT + off;
	uint64_t ppn;

	if (in_buffer(f, slot)) {
		memcpy(buf, f->page + in_page, len);
		return 0;
	}
	ppn = slot_ppn(f, slot);
	*done = max64(*done, f->in_gc ? fw_nand_gc_read(f->nand, ppn, len, now)
				      : fw_nand_read(f->nand, ppn, len, now));
	f->st.nand_reads++;
	f->st.nand_read_bytes += len;
	if (f->hal->nand_read(f->hal->ctx, ppn, in_page, len, buf)) {
		f->st.media_errors++;
		return -EIO;
	}
	return 0;
}

int fw_ftl_read(struct fw_ftl *f, uint64_t unit, uint32_t off, uint32_t len, void *buf,
		uint64_t now, uint64_t *done)
{
	uint32_t slot;

	*done = now;
	if (unit >= f->nunits || off > FW_FTL_UNIT || len > FW_FTL_UNIT - off)
		return -EINVAL;
	f->st.host_reads++;
	slot = f->l2p[unit];
	if (slot == FW_FTL_UNMAPPED) {
		memset(buf, 0, len);
		return 0;
	}
	if (slot == FW_FTL_LOST)
		return -EIO;
	return read_slot(f, slot, off, len, buf, now, done);
}

int fw_ftl_write(struct fw_ftl *f, uint64_t unit, uint32_t off, uint32_t len, const void *buf,
		 uint64_t now, uint64_t *ready)
{
	const void *data = buf;
	uint64_t t = now;
	int rc;

	*ready = now;
	if (unit >= f->nunits || off > FW_FTL_UNIT || len > FW_FTL_UNIT - off)
		return -EINVAL;
	/* First: GC uses the scratch buffer, and may move the unit. */
	rc = ensure_space(f, now);
	if (rc)
		return rc;
	if (len < FW_FTL_UNIT) {
		uint32_t slot = f->l2p[unit];

		if (slot == FW_FTL_LOST)
			memset(f->scratch, 0, FW_FTL_UNIT); /* the rest of it is lost anyway */
		else if (slot == FW_FTL_UNMAPPED)
			memset(f->scratch, 0, FW_FTL_UNIT);
		else if (read_slot(f, slot, 0, FW_FTL_UNIT, f->scratch, now, &t))
			return -EIO;
		memcpy(f->scratch + off, buf, len);
		data = f->scratch;
		f->st.rmw++;
	}
	f->st.host_writes++;
	rc = place(f, unit, data, t, ready);
	*ready = max64(*ready, t);
	return rc;
}

int fw_ftl_trim(struct fw_ftl *f, uint64_t unit)
{
	if (unit >= f->nunits)
		return -EINVAL;
	if (f->l2p[unit] != FW_FTL_UNMAPPED)
		f->st.trims++;
	unmap(f, unit);
	return 0;
}

/* ---- garbage collection ------------------------------------------------ */

static uint32_t pick_victim(const struct fw_ftl *f)
{
	uint32_t i, best = FTL_NONE;

	for (i = 0; i < f->nsb; i++) {
		if (f->sb[i].state != FW_FTL_FULL)
			continue;
		if (best == FTL_NONE || f->sb[i].valid < f->sb[best].valid)
			best = i;
	}
	if (best != FTL_NONE && f->sb[best].valid >= f->sb_slots)
		return FTL_NONE;
	return best;
}

/* Read a live unit of the victim, with retries; one that cannot be read is
 * lost (it would read as a media error anyway) rather than pin the victim. */
static int move_unit(struct fw_ftl *f, uint32_t slot, uint64_t now)
{
	uint32_t unit = f->p2l[slot];
	uint64_t done = now, ready;
	int rc = -EIO, tries;

	for (tries = 0; tries < FTL_MEDIA_TRIES && rc; tries++)
		rc = read_slot(f, slot, 0, FW_FTL_UNIT, f->scratch, now, &done);
	if (rc) {
		unmap(f, unit);
		f->l2p[unit] = FW_FTL_LOST;
		f->st.lost_units++;
		ftl_log(f, FW_LOG_ERR, "ftl: gc could not read a live unit; it is lost");
		return 0;
	}
	rc = ensure_space(f, done);
	if (!rc)
		rc = place(f, unit, f->scratch, done, &ready);
	if (!rc)
		f->st.gc_moves++;
	return rc;
}

static void erase_victim(struct fw_ftl *f, uint32_t v, uint64_t now)
{
	uint32_t d, bad = 0;

	for (d = 0; d < f->nand->ndies; d++) {
		if (f->hal->nand_erase(f->hal->ctx,
				       (uint64_t)d * f->nand->blocks_per_die + f->first_sb + v))
			bad++;
		fw_nand_gc_erase(f->nand, d, now);
	}
	f->st.erases += f->nand->ndies;
	f->sb[v].erases++;
	f->layout_dirty = true;
	if (bad) {
		f->sb[v].state = FW_FTL_RETIRED;
		f->st.erase_errors += bad;
		f->st.media_errors += bad;
		f->st.retired++;
		ftl_log(f, FW_LOG_ERR, "ftl: gc: block erase failed; superblock retired");
		return;
	}
	f->sb[v].state = FW_FTL_FREE;
	f->free_count++;
}

uint32_t fw_ftl_retired(const struct fw_ftl *f)
{
	uint32_t i, n = 0;

	for (i = 0; i < f->nsb; i++)
		n += f->sb[i].state == FW_FTL_RETIRED;
	return n;
}

int fw_ftl_gc(struct fw_ftl *f, uint64_t now)
{
	uint32_t v = pick_victim(f), s, end;
	uint64_t perr = f->st.program_errors;
	bool freed = false;
	int rc = 0;

	if (v == FTL_NONE)
		return -ENOSPC;
	if (fw_nand_gc_pass_begin(f->nand, f->first_sb, f->reserve, now))
		f->st.gc_urgent++;
	f->in_gc = true;
	end = (v + 1) * f->sb_slots;
	for (s = v * f->sb_slots; s < end && !rc; s++)
		if (f->p2l[s] != FTL_NONE)
			rc = move_unit(f, s, now);
	f->in_gc = false;
	/* A skipped page moved its units on: they are safe, but say so. */
	if (f->st.program_errors != perr)
		ftl_log(f, FW_LOG_WARN, "ftl: gc met program failures");
	if (rc)
		goto out;
	if (f->sb[v].valid) {
		ftl_log(f, FW_LOG_ERR, "ftl: gc: units left in victim; not erasing it");
		rc = -EIO;
		goto out;
	}
	if (f->persist) {
		rc = f->persist(f->persist_arg);
		if (rc)
			goto out;
	}
	erase_victim(f, v, now);
	f->st.gc_runs++;
	freed = true;
out:
	fw_nand_gc_pass_end(f->nand, freed);
	return rc;
}

/* ---- persistence ------------------------------------------------------- */

/*
 * Layout blob "ftl", little-endian: u32 magic, u32 version, u32 first_sb,
 * u32 nsb, u32 dies, u32 pages per block, u32 page size, u32 chunk entries,
 * u64 exported units, u32 cur, u32 off; then per superblock u32 erases,
 * u8 state, 3 bytes zero.
 */
#define LAYOUT_MAGIC 0x4654564eu /* "NVTF" */
#define LAYOUT_VERSION 1
#define LAYOUT_HDR 48
#define LAYOUT_SB 8

static size_t layout_size(const struct fw_ftl *f)
{
	return LAYOUT_HDR + (size_t)f->nsb * LAYOUT_SB;
}

static void layout_save(const struct fw_ftl *f, uint8_t *b)
{
	uint32_t i;

	memset(b, 0, layout_size(f));
	kvc_put_le32(b, LAYOUT_MAGIC);
	kvc_put_le32(b + 4, LAYOUT_VERSION);
	kvc_put_le32(b + 8, f->first_sb);
	kvc_put_le32(b + 12, f->nsb);
	kvc_put_le32(b + 16, f->nand->ndies);
	kvc_put_le32(b + 20, f->nand->geo.pages_per_block);
	kvc_put_le32(b + 24, f->page_size);
	kvc_put_le32(b + 28, FW_FTL_CHUNK);
	kvc_put_le64(b + 32, f->nunits);
	kvc_put_le32(b + 40, f->cur);
	kvc_put_le32(b + 44, f->off);
	for (i = 0; i < f->nsb; i++) {
		kvc_put_le32(b + LAYOUT_HDR + i * LAYOUT_SB, f->sb[i].erases);
		b[LAYOUT_HDR + i * LAYOUT_SB + 4] = f->sb[i].state;
	}
}

static void chunk_name(char *name, size_t len, uint32_t n)
{
	snprintf(name, len, "l2p.%u", n);
}

int fw_ftl_stage(struct fw_ftl *f)
{
	uint32_t filled = f->off % f->slots;
	int rc = -EIO, tries;

	if (!filled || !f->hal->nand_stage)
		return 0;
	for (tries = 0; tries < FTL_MEDIA_TRIES && rc; tries++)
		rc = f->hal->nand_stage(f->hal->ctx, page_ppn(f, f->cur, f->off / f->slots),
					f->page, (size_t)filled * FW_FTL_UNIT);
	if (rc)
		f->st.media_errors++;
	return rc;
}

int fw_ftl_save(struct fw_ftl *f)
{
	uint8_t buf[FW_FTL_CHUNK * 4], *lay;
	char name[24];
	uint32_t c, i, left;
	int rc;

	if (!fw_ftl_dirty(f))
		return 0;
	for (c = 0, left = f->ndirty; c < f->nchunks && left; c++) {
		if (!f->dirty[c])
			continue;
		left--;
		for (i = 0; i < FW_FTL_CHUNK; i++)
			kvc_put_le32(buf + 4 * i, f->l2p[(size_t)c * FW_FTL_CHUNK + i]);
		chunk_name(name, sizeof(name), c);
		rc = f->hal->meta_set_blob(f->hal->ctx, name, buf, sizeof(buf));
		if (rc)
			return rc;
		f->st.chunks_saved++;
	}
	lay = fw_malloc(layout_size(f));
	if (!lay)
		return -ENOMEM;
	layout_save(f, lay);
	rc = f->hal->meta_set_blob(f->hal->ctx, FW_FTL_BLOB, lay, layout_size(f));
	fw_free(lay);
	return rc;
}

void fw_ftl_committed(struct fw_ftl *f)
{
	if (f->ndirty)
		memset(f->dirty, 0, f->nchunks);
	f->ndirty = 0;
	f->layout_dirty = false;
}

/* Every catalog commit asks: a count, not a scan of the chunk flags (2048
 * of them for the default 2 GiB block namespace, twice per commit). */
bool fw_ftl_dirty(const struct fw_ftl *f)
{
	return f->layout_dirty || f->ndirty;
}

/* Log why the stored FTL state is refused; the catalog holding it is damaged. */
static int bad_state(struct fw_ftl *f, const char *what, uint64_t where, uint64_t v)
{
	char msg[160];

	snprintf(msg, sizeof(msg), "catalog: the block FTL state is damaged: %s (%llu, value %llu)",
		 what, (unsigned long long)where, (unsigned long long)v);
	ftl_log(f, FW_LOG_ERR, msg);
	return -EUCLEAN;
}

/* The header names this FTL's range and geometry: else another split or device. */
static int check_header(struct fw_ftl *f, const uint8_t *b)
{
	if (kvc_get_le32(b) != LAYOUT_MAGIC)
		return bad_state(f, "bad layout magic", 0, kvc_get_le32(b));
	if (kvc_get_le32(b + 4) != LAYOUT_VERSION)
		return bad_state(f, "unknown layout version", 0, kvc_get_le32(b + 4));
	if (kvc_get_le32(b + 8) != f->first_sb || kvc_get_le32(b + 12) != f->nsb ||
	    kvc_get_le32(b + 16) != f->nand->ndies ||
	    kvc_get_le32(b + 20) != f->nand->geo.pages_per_block ||
	    kvc_get_le32(b + 24) != f->page_size || kvc_get_le32(b + 28) != FW_FTL_CHUNK ||
	    kvc_get_le64(b + 32) != f->nunits)
		return -EXDEV;
	return 0;
}

static int load_layout(struct fw_ftl *f, const uint8_t *b)
{
	uint32_t i, open = 0, cur = kvc_get_le32(b + 40), off = kvc_get_le32(b + 44);
	int rc = check_header(f, b);

	if (rc)
		return rc;
	if (cur >= f->nsb || off > f->sb_slots)
		return bad_state(f, "frontier out of range", cur, off);
	f->free_count = 0;
	for (i = 0; i < f->nsb; i++) {
		const uint8_t *e = b + LAYOUT_HDR + i * LAYOUT_SB;

		if (e[4] > FW_FTL_RETIRED || e[5] || e[6] || e[7])
			return bad_state(f, "invalid superblock state", i, e[4]);
		f->sb[i].erases = kvc_get_le32(e);
		f->sb[i].state = e[4];
		f->sb[i].valid = 0;
		open += e[4] == FW_FTL_OPEN;
		f->free_count += e[4] == FW_FTL_FREE;
	}
	if (open != 1 || f->sb[cur].state != FW_FTL_OPEN)
		return bad_state(f, "the frontier is not the one open superblock", cur, open);
	f->cur = cur;
	f->off = off;
	return 0;
}

/* One stored map entry: a slot written before the commit, used once. */
static int load_entry(struct fw_ftl *f, uint64_t unit, uint32_t slot)
{
	uint32_t sb = slot / f->sb_slots;

	if (unit >= f->nunits && slot != FW_FTL_UNMAPPED)
		return bad_state(f, "a unit past the namespace's end is mapped", unit, slot);
	if (slot == FW_FTL_UNMAPPED || slot == FW_FTL_LOST) {
		f->l2p[unit] = slot;
		return 0;
	}
	if (slot >= f->nsb * f->sb_slots)
		return bad_state(f, "unit mapped outside the range", unit, slot);
	if (f->sb[sb].state == FW_FTL_FREE || f->sb[sb].state == FW_FTL_RETIRED ||
	    (sb == f->cur && slot % f->sb_slots >= f->off))
		return bad_state(f, "unit mapped to a slot never written", unit, slot);
	if (f->p2l[slot] != FTL_NONE)
		return bad_state(f, "two units mapped to one slot", unit, slot);
	f->l2p[unit] = slot;
	f->p2l[slot] = (uint32_t)unit;
	f->sb[sb].valid++;
	f->used++;
	return 0;
}

static int load_chunk(struct fw_ftl *f, uint32_t c, uint8_t *buf)
{
	char name[24];
	uint32_t i;
	int rc;

	chunk_name(name, sizeof(name), c);
	rc = f->hal->meta_get_blob(f->hal->ctx, name, buf, FW_FTL_CHUNK * 4);
	if (rc == -ENOENT)
		return bad_state(f, "a map chunk is missing", c, 0);
	if (rc == -EINVAL)
		return bad_state(f, "a map chunk has the wrong size", c, 0);
	if (rc)
		return rc;
	for (i = 0; i < FW_FTL_CHUNK && !rc; i++)
		rc = load_entry(f, (uint64_t)c * FW_FTL_CHUNK + i, kvc_get_le32(buf + 4 * i));
	return rc;
}

/* The open page's slots written before the commit come back from staging. */
static int reload_open_page(struct fw_ftl *f)
{
	uint32_t filled = f->off % f->slots;

	memset(f->page, 0, f->page_size);
	if (!filled)
		return 0;
	if (f->hal->nand_read(f->hal->ctx, page_ppn(f, f->cur, f->off / f->slots), 0,
			      filled * FW_FTL_UNIT, f->page)) {
		f->st.media_errors++;
		return -EIO;
	}
	return 0;
}

static void reset_maps(struct fw_ftl *f)
{
	uint64_t total = (uint64_t)f->nsb * f->sb_slots;

	memset(f->l2p, 0xff, (size_t)f->nchunks * FW_FTL_CHUNK * sizeof(*f->l2p));
	memset(f->p2l, 0xff, (size_t)total * sizeof(*f->p2l));
	f->used = 0;
}

int fw_ftl_load(struct fw_ftl *f)
{
	size_t len = layout_size(f);
	uint8_t *b = fw_malloc(len > FW_FTL_CHUNK * 4 ? len : FW_FTL_CHUNK * 4);
	uint32_t c;
	int rc;

	if (!b)
		return -ENOMEM;
	rc = f->hal->meta_get_blob(f->hal->ctx, FW_FTL_BLOB, b, len);
	if (rc == -ENOENT) {
		memset(f->dirty, 1, f->nchunks);
		f->ndirty = f->nchunks;
		f->layout_dirty = true;
		goto out;
	}
	if (rc == -EINVAL) /* another size: another range or geometry */
		rc = -EXDEV;
	if (!rc)
		rc = load_layout(f, b);
	reset_maps(f);
	for (c = 0; !rc && c < f->nchunks; c++)
		rc = load_chunk(f, c, b);
	if (!rc)
		rc = reload_open_page(f);
	if (!rc)
		fw_ftl_committed(f);
out:
	fw_free(b);
	return rc;
}
