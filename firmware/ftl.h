/* SPDX-License-Identifier: MIT */
/*
 * Page-mapped FTL of the block namespace.  It owns a contiguous range of
 * superblocks [first_sb, first_sb + nsb) of the NAND array the value log
 * shares (superblock b = block b of every die, as in vlog.h); the two never
 * touch each other's blocks but compete for the same dies and channels.
 *
 * The logical unit is 4 KiB (FW_FTL_UNIT); LBA formats sit on top and a
 * write of part of a unit is a read-modify-write of it.  The L2P map gives
 * each unit a physical slot: (superblock relative to first_sb, page of its
 * stream, 4 KiB slot in the page), or unmapped (reads zeros).  Units are
 * appended at one write frontier whose pages stripe over the dies like the
 * value log's stream (page k of a superblock is on die k % dies), so
 * consecutive pages program in parallel.  A reverse map (slot -> unit) and a
 * valid-unit count per superblock drive greedy garbage collection: when the
 * free superblocks fall to the reserve, the full one with the fewest valid
 * units is the victim, its units are rewritten at the frontier, the map is
 * made durable (persist callback) and only then are its blocks erased.
 * GC's reads, programs and erases go on the NAND model's GC timelines as the
 * value log's do (nand.h, vlog.h): with policy FW_GC_YIELD host I/O waits at
 * most a GC slice for them, and a pass begun while @reserve of this FTL's
 * passes are still pending in model time is urgent (st.gc_urgent).
 * Over-provisioning: a percentage of the range (after the reserve and the
 * open superblock) is never exported.
 *
 * Media errors: a page program is retried, then the page is skipped and its
 * units are written to the next one; a page that still cannot be written
 * leaves its units lost (they read as -EIO until rewritten).  A block that
 * fails to erase retires its superblock.  A read error is -EIO.
 *
 * Persistence (catalog blobs, committed by the caller with the KV batch):
 * the map in chunks of FW_FTL_CHUNK units, "l2p.<n>" (u32 little-endian
 * entries), only the chunks changed since the last commit written again; the
 * layout "ftl" (range, geometry, frontier, per-superblock state and erase
 * count).  The reverse map and the valid counts are rebuilt from the map at
 * start-up.  A write that was not committed may be lost by a crash (it is
 * durable after the next commit), a committed one never is.
 */
#ifndef FW_FTL_H
#define FW_FTL_H

#include <stdbool.h>
#include <stdint.h>

#include "hal.h"
#include "nand.h"

#define FW_FTL_UNIT 4096u
#define FW_FTL_CHUNK 256u /* map entries per catalog blob (1 KiB) */
#define FW_FTL_BLOB "ftl"
#define FW_FTL_UNMAPPED UINT32_MAX
#define FW_FTL_LOST (UINT32_MAX - 1) /* its page failed to program: reads fail */

enum fw_ftl_sb_state {
	FW_FTL_FREE,
	FW_FTL_OPEN,
	FW_FTL_FULL,
	FW_FTL_RETIRED, /* an erase failed: never written again */
};

struct fw_ftl_sb {
	uint32_t valid; /* mapped units in it (rebuilt from the map) */
	uint32_t erases;
	uint8_t state;
};

struct fw_ftl_stats {
	uint64_t host_writes; /* units written by hosts */
	uint64_t rmw;	      /* of them, partial units merged with the old data */
	uint64_t host_reads;  /* units read by hosts (unmapped ones included) */
	uint64_t trims;	      /* mapped units deallocated */
	uint64_t gc_runs;
	uint64_t gc_urgent;	  /* passes that could not yield to host I/O (nand.h) */
	uint64_t gc_moves;	  /* units relocated */
	uint64_t programs;	  /* pages programmed (GC included) */
	uint64_t nand_reads;	  /* page reads (GC included) */
	uint64_t nand_read_bytes; /* bytes those moved over channels */
	uint64_t erases;	  /* block erases */
	uint64_t media_errors;
	uint64_t program_errors; /* pages skipped after failing to program */
	uint64_t lost_units;	 /* units lost with a page that could not be written */
	uint64_t erase_errors;
	uint64_t retired; /* superblocks retired after an erase failure */
	uint64_t chunks_saved;
};

struct fw_ftl {
	struct fw_nand *nand;
	const struct fw_hal *hal;
	uint32_t first_sb, nsb;
	uint32_t page_size;
	uint32_t slots;	     /* units per page */
	uint32_t sb_pages;   /* pages per superblock: dies x pages per block */
	uint32_t sb_slots;   /* units per superblock */
	uint32_t reserve;    /* free superblocks kept for GC */
	uint32_t op_percent; /* over-provisioning */
	uint64_t nunits;     /* exported logical units */
	uint32_t *l2p;	     /* unit -> slot */
	uint32_t *p2l;	     /* slot -> unit, FW_FTL_UNMAPPED when none */
	struct fw_ftl_sb *sb;
	uint32_t free_count;
	uint32_t cur;	  /* open superblock */
	uint32_t off;	  /* next slot of its stream; sb_slots: full, the next is not open yet */
	uint8_t *page;	  /* contents of the open page */
	uint8_t *scratch; /* one unit: GC and read-modify-write */
	bool in_gc;
	uint64_t wb_ns;	 /* write-buffer slack per die before a write waits */
	uint64_t used;	 /* mapped units */
	uint8_t *dirty;	 /* map chunks changed since the last commit, one byte each */
	uint32_t ndirty; /* how many of them are set */
	uint32_t nchunks;
	bool layout_dirty;
	bool expected; /* the HAL was told the first superblocks (at the first write) */
	/* Make the map durable (commit the catalog); GC calls it before
	 * erasing a victim.  May be NULL (a device without a catalog). */
	int (*persist)(void *arg);
	void *persist_arg;
	struct fw_ftl_stats st;
};

/**
 * fw_ftl_init() - an FTL over superblocks [@first_sb, @first_sb + @nsb).
 * @reserve: free superblocks kept for GC (>= 2: then a victim's units
 *           always fit, and each GC pass gains room).
 * @op_percent: share of the rest not exported, 0..90.
 *
 * Return: 0; -EINVAL when the range leaves the array, is smaller than
 * @reserve + 2 or holds more than 2^32 - 2 slots, or @op_percent is out of
 * range; -ENOMEM.
 */
int fw_ftl_init(struct fw_ftl *f, struct fw_nand *nand, const struct fw_hal *hal, uint32_t first_sb,
		uint32_t nsb, uint32_t reserve, uint32_t op_percent);
void fw_ftl_fini(struct fw_ftl *f);

/* Logical units offered (the namespace's capacity / 4 KiB). */
static inline uint64_t fw_ftl_units(const struct fw_ftl *f)
{
	return f->nunits;
}

/**
 * fw_ftl_write() - write @len bytes at byte @off of unit @unit.
 * @buf: @len bytes; @off + @len <= FW_FTL_UNIT.  A partial unit is merged
 *       with its old contents (zeros when unmapped).
 * @now: model time of the write.
 * @ready: receives when the write buffer accepted it (>= @now).
 *
 * Return: 0; -EINVAL for a unit or range out of bounds; -ENOSPC when GC
 * cannot make room (cannot happen below the exported capacity unless
 * superblocks were retired); -EIO when the old contents of a partial unit
 * cannot be read or the unit's page could not be programmed (the unit is
 * then lost).
 */
int fw_ftl_write(struct fw_ftl *f, uint64_t unit, uint32_t off, uint32_t len, const void *buf,
		 uint64_t now, uint64_t *ready);

/**
 * fw_ftl_read() - read @len bytes at byte @off of unit @unit into @buf.
 * @done: receives when the data left the NAND (@now for unmapped units and
 *        units still in the write buffer).
 *
 * Return: 0 (an unmapped unit reads zeros); -EINVAL out of bounds; -EIO on
 * a media error or a unit lost to one.
 */
int fw_ftl_read(struct fw_ftl *f, uint64_t unit, uint32_t off, uint32_t len, void *buf,
		uint64_t now, uint64_t *done);

/* Unmap @unit (deallocate): it reads zeros until written.  0 or -EINVAL. */
int fw_ftl_trim(struct fw_ftl *f, uint64_t unit);

/* Is @unit mapped (written and not deallocated)? */
bool fw_ftl_mapped(const struct fw_ftl *f, uint64_t unit);

/* Superblocks retired (erase failures), from the layout: survives restarts. */
uint32_t fw_ftl_retired(const struct fw_ftl *f);

/* Run one garbage collection pass now.  0, -ENOSPC (no victim), -EIO. */
int fw_ftl_gc(struct fw_ftl *f, uint64_t now);

/*
 * Persistence, at every catalog commit: fw_ftl_stage() writes the open
 * page's filled slots to media so they survive a crash of the hosting
 * process (0 or -EIO); fw_ftl_save() puts the changed map chunks and the
 * layout into the catalog's open transaction (0 or the HAL's -errno); the
 * caller commits and then calls fw_ftl_committed().  After a failed save or
 * commit the chunks stay dirty and go into the next one.
 */
int fw_ftl_stage(struct fw_ftl *f);
int fw_ftl_save(struct fw_ftl *f);
void fw_ftl_committed(struct fw_ftl *f);
/* Has anything changed since the last commit? */
bool fw_ftl_dirty(const struct fw_ftl *f);

/**
 * fw_ftl_load() - restore the map and layout from the catalog.
 *
 * Return: 0; -ENOENT when there is no layout (a new FTL: every chunk is
 * marked dirty so the next commit writes the whole map); -EXDEV when the
 * layout was made for another range or NAND geometry; -EUCLEAN when the
 * layout or a map chunk is damaged or inconsistent (logged); -EIO when the
 * open page cannot be read back; other -errno from the catalog.
 */
int fw_ftl_load(struct fw_ftl *f);

#endif /* FW_FTL_H */
