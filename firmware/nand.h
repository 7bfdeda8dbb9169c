/* SPDX-License-Identifier: MIT */
/*
 * NAND array model: geometry, timing profiles, and per-die / per-channel busy
 * timelines that decide when an operation can start and when it ends.  The
 * model is a pure function of its state and the time it is given: it never
 * reads a clock itself, so tests drive it with any time they like.
 *
 * Dies are numbered so that consecutive dies sit on different channels:
 * die d is on channel d % channels, way d / channels.  Planes add capacity
 * (blocks per die = planes x blocks per plane); multi-plane operations are not
 * modeled.
 *
 * Garbage collection has timelines of its own (policy FW_GC_YIELD): its
 * reads, programs and erases queue behind host work on the die and channel,
 * and host work that arrives while GC holds a die or channel waits only for
 * the end of the current GC slice (gc_slice_ns, counted from when GC got the
 * resource; program and erase suspend make any GC operation divisible), then
 * runs, and pushes the rest of GC's work back by the time it held the
 * resource.  So a host read waits at most one slice for GC, and GC gets the
 * time host work leaves.  An urgent pass (fw_nand_gc_pass_begin()) makes the
 * oldest pending GC work host work (host I/O queues behind it).  Policy
 * FW_GC_FIFO is the old model: GC operations are host operations, first come
 * first served.
 */
#ifndef FW_NAND_H
#define FW_NAND_H

#include <stdbool.h>
#include <stdint.h>

struct fw_nand_geo {
	uint32_t channels;
	uint32_t ways;	 /* dies per channel */
	uint32_t planes; /* per die */
	uint32_t blocks_per_plane;
	uint32_t pages_per_block;
	uint32_t page_size; /* bytes, multiple of 4096 */
};

enum fw_nand_profile {
	FW_NAND_FLAT, /* one read/program time for every page */
	FW_NAND_TLC,  /* LSB/CSB/MSB pages with different times */
};

struct fw_nand_timing {
	enum fw_nand_profile profile;
	uint32_t read_ns[3]; /* FLAT uses [0]; TLC: LSB, CSB, MSB */
	uint32_t prog_ns[3];
	uint32_t erase_ns;
	uint32_t chan_mbps; /* channel transfer rate, MB/s (10^6 bytes) */
};

enum fw_gc_policy {
	FW_GC_YIELD, /* GC yields dies and channels to host I/O at slice ends */
	FW_GC_FIFO,  /* GC operations queue with host ones (the old model) */
};

struct fw_nand_stats {
	uint64_t reads;	     /* page reads (GC included) */
	uint64_t programs;   /* page programs (GC included) */
	uint64_t erases;     /* block erases (GC included) */
	uint64_t read_bytes; /* bytes moved over channels by reads */
	uint64_t gc_reads;   /* of which garbage collection's */
	uint64_t gc_programs;
	uint64_t gc_erases;
	uint64_t gc_waits;   /* host operations that waited for a GC slice to end */
	uint64_t gc_wait_ns; /* their total wait */
	uint64_t gc_urgent;  /* urgent passes: pending GC work made host work */
};

#define FW_GC_PASSES 32 /* GC passes the model remembers (fw_nand_gc_pass_begin) */

/* One resource's GC timeline: GC holds it from @from to @free. */
struct fw_nand_gct {
	uint64_t from;
	uint64_t free;
};

/*
 * A divisor fixed at init: a shift and a mask when it is a power of two (as
 * in every default geometry), a division otherwise.  The NAND and value-log
 * address arithmetic runs several times per command; a 64-bit division costs
 * tens of cycles, a shift one.
 */
struct fw_div {
	uint64_t d;
	uint8_t shift;
	bool pow2;
};

static inline void fw_div_init(struct fw_div *v, uint64_t d)
{
	v->d = d;
	v->pow2 = d && !(d & (d - 1));
	v->shift = v->pow2 ? (uint8_t)__builtin_ctzll(d) : 0;
}

/* @x / the divisor */
static inline uint64_t fw_div_q(const struct fw_div *v, uint64_t x)
{
	return v->pow2 ? x >> v->shift : x / v->d;
}

/* @x % the divisor */
static inline uint64_t fw_div_r(const struct fw_div *v, uint64_t x)
{
	return v->pow2 ? x & (v->d - 1) : x % v->d;
}

struct fw_nand {
	struct fw_nand_geo geo;
	struct fw_nand_timing tm;
	uint32_t ndies;
	uint32_t blocks_per_die;
	struct fw_div die_pages;    /* pages per die: ppn -> die */
	struct fw_div chans;	    /* channels: die -> channel */
	struct fw_div block_pages;  /* pages per block: ppn -> page in block */
	uint64_t *die_free;	    /* time each die becomes idle */
	uint64_t *chan_free;	    /* time each channel becomes idle */
	struct fw_nand_gct *gc_die; /* GC timelines (FW_GC_YIELD) */
	struct fw_nand_gct *gc_chan;
	enum fw_gc_policy gc_policy;
	uint64_t gc_slice_ns; /* longest a host operation waits for GC */
	/* The last passes' GC timeline time, whoever ran them (ring). */
	struct {
		uint64_t span;
		uint32_t owner;
	} gc_pass[FW_GC_PASSES];
	uint32_t gc_npass;	 /* passes recorded (ring index) */
	uint32_t gc_pass_owner;	 /* the pass under way */
	uint64_t gc_pass_before; /* when its work could start */
	bool gc_pass_urgent;
	struct fw_nand_stats st;
};

struct fw_hal;
/*
 * Pass the blocks of superblock @block (that block of every die) to the
 * HAL's nand_expect hint, from the last die down: the writes begin at die 0,
 * so a host taking the blocks as they are named, while the superblock is
 * already being written, meets the writes halfway instead of racing them
 * for the same block.
 */
void fw_nand_expect_sb(const struct fw_nand *n, const struct fw_hal *hal, uint32_t block);

/* Fill @t with a named profile: "flat" or "tlc".  Return 0 or -EINVAL. */
int fw_nand_profile(struct fw_nand_timing *t, const char *name);

/* NULL when valid, otherwise a message naming the bad field. */
const char *fw_nand_geo_valid(const struct fw_nand_geo *g);

int fw_nand_init(struct fw_nand *n, const struct fw_nand_geo *g, const struct fw_nand_timing *t);
void fw_nand_fini(struct fw_nand *n);

static inline uint64_t fw_nand_total_pages(const struct fw_nand *n)
{
	return (uint64_t)n->ndies * n->blocks_per_die * n->geo.pages_per_block;
}

/* Physical page number of (die, block within die, page within block). */
static inline uint64_t fw_nand_ppn(const struct fw_nand *n, uint32_t die, uint32_t block,
				   uint32_t page)
{
	return ((uint64_t)die * n->blocks_per_die + block) * n->geo.pages_per_block + page;
}

static inline uint32_t fw_nand_ppn_die(const struct fw_nand *n, uint64_t ppn)
{
	/* = ppn / pages_per_block / blocks_per_die, floors of floors being one floor */
	return (uint32_t)fw_div_q(&n->die_pages, ppn);
}

/*
 * Timeline operations: each schedules the operation no earlier than @now and
 * returns the time it completes.  @bytes is what crosses the channel.
 */
uint64_t fw_nand_read(struct fw_nand *n, uint64_t ppn, uint32_t bytes, uint64_t now);
uint64_t fw_nand_program(struct fw_nand *n, uint64_t ppn, uint64_t now);
uint64_t fw_nand_erase(struct fw_nand *n, uint32_t die, uint64_t now);

/**
 * fw_nand_set_gc() - how garbage collection shares the NAND with host I/O.
 * @policy: FW_GC_YIELD or FW_GC_FIFO.
 * @slice_ns: with FW_GC_YIELD, the longest a host operation waits for GC
 *	      (at least 1).
 */
void fw_nand_set_gc(struct fw_nand *n, enum fw_gc_policy policy, uint64_t slice_ns);

/*
 * Garbage collection's operations: as the host ones, on the GC timelines
 * (FW_GC_YIELD, not urgent) or the host ones.  The time returned is when the
 * operation would complete if no host work came; host work arriving later
 * may push it back.
 */
uint64_t fw_nand_gc_read(struct fw_nand *n, uint64_t ppn, uint32_t bytes, uint64_t now);
uint64_t fw_nand_gc_program(struct fw_nand *n, uint64_t ppn, uint64_t now);
uint64_t fw_nand_gc_erase(struct fw_nand *n, uint32_t die, uint64_t now);

/* When the GC work queued so far ends (0 if none was ever queued). */
uint64_t fw_nand_gc_done(const struct fw_nand *n);

/**
 * fw_nand_gc_pass_begin() - a GC pass starts at @now; must it be urgent?
 * @owner: the caller's tag (its first superblock), so the passes of the value
 *	   log and of the block FTL, which share the NAND, are told apart.
 * @reserve: free superblocks @owner keeps for GC.
 *
 * Each finished pass freed a superblock that is erased only when its work on
 * the GC timelines is done in model time.  GC work runs in pass order, so the
 * work still pending at @now is the newest passes' (any owner's); the passes
 * of @owner among them freed superblocks that are not really erased yet.
 * When there are @reserve of them (or more than the model remembers), no
 * free superblock of @owner is really erased: the pass is urgent.  Host work
 * then waits for the oldest pending passes, until fewer than @reserve of
 * @owner's are left (their GC work becomes host work), as a drive out of
 * erased blocks makes writes wait for the next erase; the newer passes and
 * this one stay background work that yields.  Counted in st.gc_urgent.
 * Pair with fw_nand_gc_pass_end().
 *
 * Return: true when the pass is urgent.
 */
bool fw_nand_gc_pass_begin(struct fw_nand *n, uint32_t owner, uint32_t reserve, uint64_t now);

/**
 * fw_nand_gc_pass_end() - the pass begun last is over.
 * @freed: it freed a superblock: its GC timeline time is remembered (none
 *	   when it was urgent: its work was host work).
 *
 * Ends the urgency the pass began with.
 */
void fw_nand_gc_pass_end(struct fw_nand *n, bool freed);

#endif /* FW_NAND_H */
