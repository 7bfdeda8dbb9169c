/* SPDX-License-Identifier: MIT */
/*
 * Value log: the FTL's data path.  Records (header, key, value) are appended
 * to a log striped over all dies: a superblock is block b of every die, and
 * its byte stream fills page 0 of die 0, page 0 of die 1, ..., then page 1 of
 * every die, so consecutive pages program in parallel.  Superblocks chain in
 * write order; a record may span pages and superblocks.  A location is
 * superblock * superblock bytes + offset; a record continues past its
 * superblock's end at offset 0 of the successor (fw_sb.next), not at the next
 * address, and every superblock a record runs into names it in straddle_loc
 * (also when the boundary falls between header, key and value).  A record
 * whose successor does not name it is cut off: that superblock was erased
 * and reused since, so the record was dead.
 *
 * Placement: PACKED records are byte-packed (piggybacked and ByteExpress
 * values); ALIGNED records start on a 4 KiB boundary of the stream (values
 * moved by page-unit PRP DMA), leaving a gap before them that later packed
 * records backfill while the page is still open.  Gaps are zero; a scan skips
 * from a zero header to the next 4 KiB boundary.
 *
 * Record header (12 bytes, little-endian): u16 magic 0x4b56, u8 key length,
 * u8 flags (bit 0 aligned), u32 value length, u32 CRC-32C of key + value.
 *
 * The log owns a contiguous range of superblocks [first_sb, first_sb + nsb)
 * of the NAND array (all of them unless the device also has a block
 * namespace, whose FTL owns another range).  Superblock numbers in
 * locations and in the layout are relative to first_sb; the layout records
 * the range and is refused when loaded into another one.
 *
 * Garbage collection: when free superblocks fall to the reserve, the full
 * superblock with the fewest live bytes is the victim; every live record that
 * has a byte in it (found by scanning it, plus the record straddling in from
 * its predecessor) is appended again and its index entry moved -- through
 * the moved callback, which puts the new location in the catalog batch --
 * then the batch is committed (persist) and only then the victim's blocks are
 * erased, so no committed catalog entry ever points into an erased block.  A
 * live record that fails its checksum is moved as stored (its key keeps
 * reading as unrecovered; a media error is counted) rather than pinning the
 * victim.  A block that fails to erase retires its superblock.  GC reads each
 * victim page from NAND once per pass, whole, into one of two page buffers.
 *
 * GC's NAND operations go on the NAND model's GC timelines (see nand.h): with
 * policy FW_GC_YIELD they yield dies and channels to host I/O at the end of
 * every GC slice.  A pass whose work is still pending in model time freed a
 * superblock that is not erased yet.  When a pass starts with as many passes
 * pending as the reserve (fw_nand_gc_pass_begin), no free superblock is really
 * erased: the pass is urgent (st.gc_urgent), and the pending work and this
 * pass take the NAND before host I/O.
 */
#ifndef FW_VLOG_H
#define FW_VLOG_H

#include <stdbool.h>
#include <stdint.h>

#include "hal.h"
#include "index.h"
#include "nand.h"

#define FW_REC_HDR 12
#define FW_REC_MAGIC 0x4b56
#define FW_REC_ALIGNED 0x01
#define FW_ALIGN 4096u
#define FW_SB_NONE UINT32_MAX
#define FW_OFF_NONE UINT64_MAX

enum fw_sb_state {
	FW_SB_FREE,
	FW_SB_OPEN,
	FW_SB_FULL,
	FW_SB_RETIRED, /* an erase failed: never written again */
};

/* Persistent per-superblock state (part of the "vlog" blob). */
struct fw_sb {
	uint64_t valid;	       /* live record bytes in this superblock */
	uint64_t first_rec;    /* offset of the first record starting here, or NONE */
	uint64_t straddle_loc; /* record continuing into this superblock, or NONE */
	uint32_t next;	       /* next superblock in write order */
	uint32_t erases;
	uint8_t state;
	uint8_t rsvd[7];
};

struct fw_vlog_stats {
	uint64_t records;    /* records appended by hosts */
	uint64_t host_bytes; /* key + value bytes appended by hosts */
	uint64_t rec_bytes;  /* record bytes appended (headers included, GC too) */
	uint64_t pad_bytes;  /* alignment gaps left unfilled */
	uint64_t backfills;  /* packed records placed in alignment gaps */
	uint64_t gc_runs;
	uint64_t gc_urgent; /* passes that took the NAND from host I/O */
	uint64_t gc_moves;  /* live records relocated */
	uint64_t gc_bytes;
	uint64_t crc_errors;
	uint64_t media_errors;
	uint64_t program_errors; /* pages that failed to program after retries */
	uint64_t erase_errors;
	uint64_t retired; /* superblocks retired after an erase failure */
};

struct fw_vlog {
	struct fw_nand *nand;
	const struct fw_hal *hal;
	struct fw_index *index;
	uint32_t first_sb; /* first superblock of the array the log owns */
	uint32_t nsb;	   /* superblocks it owns */
	uint32_t page_size;
	uint64_t sb_bytes;
	struct fw_div page_div, sb_div, die_div; /* page_size, sb_bytes, nand->ndies */
	uint32_t reserve;			 /* free superblocks kept for GC */
	struct fw_sb *sb;
	uint32_t free_count;
	uint32_t cur;	   /* open superblock */
	uint64_t off;	   /* next byte of its stream */
	uint8_t *page;	   /* contents of the open page */
	uint64_t page_off; /* stream offset of the open page */
	uint32_t ngaps;
	struct {
		uint32_t off; /* within the open page */
		uint32_t len;
	} gaps[16];
	bool in_gc;
	struct {
		uint64_t ppn;  /* page in GC's read buffer (this pass) */
		uint64_t done; /* when it got there */
	} gc_buf[2];
	unsigned int gc_buf_next; /* the buffer the next page read replaces */
	uint64_t wb_ns;		  /* write-buffer slack per die before a Store waits */
	uint64_t used;		  /* live record bytes */
	uint64_t dead_bytes;	  /* record bytes that died outside GC, ever */
	/* GC gave up making room (a pass gave back less than a page): no Store
	 * runs it again until another page's worth of records died since
	 * (gc_futile_dead: dead_bytes then). */
	bool gc_futile;
	uint64_t gc_futile_dead;
	uint8_t *scratch; /* GC record buffer */
	uint32_t scratch_len;
	/* Make the index durable; GC calls it before erasing a victim so no
	 * committed index entry can point into erased blocks.  May be NULL. */
	int (*persist)(void *arg);
	/*
	 * GC copied the live record of @key from @old to @cur: point the index
	 * at @cur, mark @old dead and record the move durably (catalog).  On
	 * failure nothing of the move may remain (@cur is garbage).  NULL: the
	 * log updates the index itself (a log without a catalog).
	 */
	int (*moved)(void *arg, const uint8_t *key, uint8_t klen, const struct fw_idx_val *old,
		     const struct fw_idx_val *cur);
	void *persist_arg; /* of persist and moved */
	struct fw_vlog_stats st;
};

int fw_vlog_init(struct fw_vlog *vl, struct fw_nand *nand, const struct fw_hal *hal,
		 struct fw_index *index, uint32_t reserve);

/**
 * fw_vlog_init_range() - a log over superblocks [@first_sb, @first_sb + @nsb).
 * @reserve: free superblocks kept for GC.
 *
 * fw_vlog_init() is this over the whole array.  The log never reads,
 * programs or erases a block outside its range.
 *
 * Return: 0; -EINVAL when the range leaves the array or is smaller than
 * @reserve + 2; -ENOMEM.
 */
int fw_vlog_init_range(struct fw_vlog *vl, struct fw_nand *nand, const struct fw_hal *hal,
		       struct fw_index *index, uint32_t reserve, uint32_t first_sb, uint32_t nsb);
void fw_vlog_fini(struct fw_vlog *vl);

/* Bytes the log can hold, reserve excluded. */
uint64_t fw_vlog_capacity(const struct fw_vlog *vl);

static inline uint32_t fw_rec_len(uint8_t klen, uint32_t vlen)
{
	return FW_REC_HDR + klen + vlen;
}

/**
 * fw_vlog_append() - write a record.
 * @aligned: start it on a 4 KiB boundary.
 * @now: model time of the write.
 * @loc: receives the record's location.
 * @ready: receives when the write buffer accepted it (>= @now).
 *
 * Return: 0; -ENOSPC when garbage collection cannot make room; -EIO on a
 * media error while programming (the record is not written).
 */
int fw_vlog_append(struct fw_vlog *vl, const uint8_t *key, uint8_t klen, const void *val,
		   uint32_t vlen, uint32_t crc, bool aligned, uint64_t now, uint64_t *loc,
		   uint64_t *ready);

/**
 * fw_vlog_prefetch() - hint that the record @iv names (key length @klen)
 * will be read soon: its first page's bytes are asked of the HAL's
 * nand_prefetch (nothing read, nothing counted, nothing changed).
 */
void fw_vlog_prefetch(const struct fw_vlog *vl, const struct fw_idx_val *iv, uint8_t klen);

/**
 * fw_vlog_read() - read a record's value and verify its checksum.
 * @buf: receives the value, @iv->vlen bytes.
 * @done: receives when the data left the NAND.
 *
 * Return: 0; -EBADMSG when the record does not match the index (checksum,
 * header or key); -EIO on a media error.
 */
int fw_vlog_read(struct fw_vlog *vl, const uint8_t *key, uint8_t klen, const struct fw_idx_val *iv,
		 void *buf, uint64_t now, uint64_t *done);

/* A record became garbage (overwritten or deleted). */
void fw_vlog_dead(struct fw_vlog *vl, uint64_t loc, uint8_t klen, uint32_t vlen);
/* A record is live (recovery: rebuild the accounting from the index). */
void fw_vlog_live(struct fw_vlog *vl, uint64_t loc, uint8_t klen, uint32_t vlen);

/*
 * Recovery: does the written log hold @len bytes at @loc?  False when they
 * reach a free superblock, past the frontier, or off the end of the chain
 * (the catalog record naming them is damaged).
 */
bool fw_vlog_holds(const struct fw_vlog *vl, uint64_t loc, uint64_t len);

/* Write the open page's filled bytes to media so they survive a host crash. */
int fw_vlog_stage(struct fw_vlog *vl);

/*
 * Serialize / restore the layout (range, frontier + superblock table).
 * fw_vlog_state_load() returns 0; -EINVAL for a layout of another size or
 * NAND geometry; -EXDEV for a layout of another superblock range (another
 * namespace split); -EUCLEAN when it is damaged (logged); -EIO when the
 * open page cannot be read back.
 */
size_t fw_vlog_state_size(const struct fw_vlog *vl);
void fw_vlog_state_save(const struct fw_vlog *vl, void *buf);
int fw_vlog_state_load(struct fw_vlog *vl, const void *buf, size_t len);

/* For the value log's own files (vlog.c, vlog_state.c): log @msg through the
 * HAL; the physical page holding byte @off of superblock @sb's stream. */
void fw_vlog_log(struct fw_vlog *vl, int level, const char *msg);
uint64_t fw_vlog_ppn(const struct fw_vlog *vl, uint32_t sb, uint64_t off);

/* Superblocks retired (erase failures), from the layout: survives restarts. */
uint32_t fw_vlog_retired(const struct fw_vlog *vl);

/* Bytes written to the log and not reclaimed yet: full superblocks and the
 * open one up to the frontier (live and dead records, padding). */
uint64_t fw_vlog_written(const struct fw_vlog *vl);

/* Run one garbage collection pass now (tests, and when space runs low). */
int fw_vlog_gc(struct fw_vlog *vl, uint64_t now);

#endif /* FW_VLOG_H */
