// SPDX-License-Identifier: MIT
/* The value log's persistent layout (the catalog's "vlog" blob): saving it,
 * and loading it with every check a damaged catalog must fail; see vlog.h. */
#include "vlog.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Serialized layout: u32 magic, u32 nsb, u64 sb_bytes, u32 cur, u32
 * first_sb, u64 off, then nsb x struct fw_sb.  Host byte order: it never
 * leaves the machine that wrote it (and the magic catches a foreign file).
 * first_sb was a reserved zero before the array could be split, which is
 * what a log over the whole array still writes. */
#define STATE_MAGIC 0x4e564c47u
struct state_hdr {
	uint32_t magic;
	uint32_t nsb;
	uint64_t sb_bytes;
	uint32_t cur;
	uint32_t first_sb;
	uint64_t off;
};

size_t fw_vlog_state_size(const struct fw_vlog *vl)
{
	return sizeof(struct state_hdr) + (size_t)vl->nsb * sizeof(struct fw_sb);
}

void fw_vlog_state_save(const struct fw_vlog *vl, void *buf)
{
	struct state_hdr h = { STATE_MAGIC, vl->nsb, vl->sb_bytes, vl->cur, vl->first_sb, vl->off };

	memcpy(buf, &h, sizeof(h));
	memcpy((uint8_t *)buf + sizeof(h), vl->sb, (size_t)vl->nsb * sizeof(struct fw_sb));
}

/* Log why a stored layout is refused; the catalog holding it is damaged. */
static int bad_layout(struct fw_vlog *vl, const char *what, uint32_t sb, uint64_t v)
{
	char msg[160];

	snprintf(msg, sizeof(msg), "vlog: stored layout is damaged: %s (superblock %u, value %llu)",
		 what, sb, (unsigned long long)v);
	fw_vlog_log(vl, FW_LOG_ERR, msg);
	return -EUCLEAN;
}

/* One superblock's entry: fields in range and consistent with its state. */
static int check_sb(struct fw_vlog *vl, uint32_t i, const struct fw_sb *s)
{
	uint64_t end = (uint64_t)vl->nsb * vl->sb_bytes;

	if (s->state > FW_SB_RETIRED)
		return bad_layout(vl, "invalid state", i, s->state);
	if (s->first_rec != FW_OFF_NONE && s->first_rec >= vl->sb_bytes)
		return bad_layout(vl, "first record offset out of range", i, s->first_rec);
	if (s->straddle_loc != FW_OFF_NONE && s->straddle_loc >= end)
		return bad_layout(vl, "straddling record out of range", i, s->straddle_loc);
	/* It runs in from a predecessor: it cannot start here. */
	if (s->straddle_loc != FW_OFF_NONE && s->straddle_loc / vl->sb_bytes == i)
		return bad_layout(vl, "straddling record starts in its own superblock", i,
				  s->straddle_loc);
	/* Only a full superblock has a successor: open_next_sb() sets it. */
	if (s->state == FW_SB_FULL && (s->next >= vl->nsb || s->next == i))
		return bad_layout(vl, "next superblock out of range", i, s->next);
	if (s->state != FW_SB_FULL && s->next != FW_SB_NONE)
		return bad_layout(vl, "a free or open superblock has a successor", i, s->next);
	/* A retired superblock was reset as a free one is, then never written. */
	if ((s->state == FW_SB_FREE || s->state == FW_SB_RETIRED) &&
	    (s->first_rec != FW_OFF_NONE || s->straddle_loc != FW_OFF_NONE))
		return bad_layout(vl, "a free or retired superblock holds records", i,
				  s->first_rec);
	return 0;
}

/*
 * The whole table: every entry valid, exactly one open superblock (the
 * frontier's), and the write-order chain acyclic.  A successor is always
 * opened after its predecessor, so a legitimate chain never loops.  The walk
 * marks visited entries in @t's valid fields (recomputed after loading).
 */
static int check_table(struct fw_vlog *vl, struct fw_sb *t, uint32_t cur)
{
	uint32_t i, open = 0, sb;
	int rc;

	for (i = 0; i < vl->nsb; i++) {
		rc = check_sb(vl, i, &t[i]);
		if (rc)
			return rc;
		open += t[i].state == FW_SB_OPEN;
		t[i].valid = 0;
	}
	if (open != 1 || t[cur].state != FW_SB_OPEN)
		return bad_layout(vl, "the frontier is not the one open superblock", cur, open);
	for (i = 0; i < vl->nsb; i++) {
		for (sb = i; sb != FW_SB_NONE && !t[sb].valid; sb = t[sb].next)
			t[sb].valid = (uint64_t)i + 1;
		if (sb != FW_SB_NONE && t[sb].valid == (uint64_t)i + 1)
			return bad_layout(vl, "the superblock chain has a cycle", sb, t[sb].next);
	}
	return 0;
}

int fw_vlog_state_load(struct fw_vlog *vl, const void *buf, size_t len)
{
	struct state_hdr h;
	uint32_t i;
	int rc;

	if (len != fw_vlog_state_size(vl))
		return -EINVAL; /* another geometry */
	memcpy(&h, buf, sizeof(h));
	if (h.magic != STATE_MAGIC)
		return bad_layout(vl, "bad magic", 0, h.magic);
	if (h.nsb != vl->nsb || h.sb_bytes != vl->sb_bytes)
		return -EINVAL;
	if (h.first_sb != vl->first_sb)
		return -EXDEV;
	if (h.cur >= vl->nsb || h.off >= vl->sb_bytes)
		return bad_layout(vl, "frontier out of range", h.cur, h.off);
	memcpy(vl->sb, (const uint8_t *)buf + sizeof(h), (size_t)vl->nsb * sizeof(struct fw_sb));
	rc = check_table(vl, vl->sb, h.cur);
	if (rc)
		return rc;
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
		return vl->hal->nand_read(vl->hal->ctx, fw_vlog_ppn(vl, vl->cur, vl->page_off), 0,
					  (uint32_t)(vl->off - vl->page_off), vl->page);
	return 0;
}
