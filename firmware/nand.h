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
 */
#ifndef FW_NAND_H
#define FW_NAND_H

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

struct fw_nand_stats {
	uint64_t reads;	     /* page reads */
	uint64_t programs;   /* page programs */
	uint64_t erases;     /* block erases */
	uint64_t read_bytes; /* bytes moved over channels by reads */
};

struct fw_nand {
	struct fw_nand_geo geo;
	struct fw_nand_timing tm;
	uint32_t ndies;
	uint32_t blocks_per_die;
	uint64_t *die_free;  /* time each die becomes idle */
	uint64_t *chan_free; /* time each channel becomes idle */
	struct fw_nand_stats st;
};

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
	return (uint32_t)(ppn / n->geo.pages_per_block / n->blocks_per_die);
}

/*
 * Timeline operations: each schedules the operation no earlier than @now and
 * returns the time it completes.  @bytes is what crosses the channel.
 */
uint64_t fw_nand_read(struct fw_nand *n, uint64_t ppn, uint32_t bytes, uint64_t now);
uint64_t fw_nand_program(struct fw_nand *n, uint64_t ppn, uint64_t now);
uint64_t fw_nand_erase(struct fw_nand *n, uint32_t die, uint64_t now);

#endif /* FW_NAND_H */
