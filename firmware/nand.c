// SPDX-License-Identifier: MIT
/* NAND geometry, timing profiles and busy timelines; see nand.h. */
#include "nand.h"

#include <errno.h>
#include <string.h>

#include "alloc.h"

int fw_nand_profile(struct fw_nand_timing *t, const char *name)
{
	uint32_t mbps = t->chan_mbps ? t->chan_mbps : 400;

	memset(t, 0, sizeof(*t));
	t->chan_mbps = mbps;
	if (!strcmp(name, "flat")) {
		t->profile = FW_NAND_FLAT;
		t->read_ns[0] = t->read_ns[1] = t->read_ns[2] = 40000;
		t->prog_ns[0] = t->prog_ns[1] = t->prog_ns[2] = 200000;
		t->erase_ns = 2000000;
		return 0;
	}
	if (!strcmp(name, "tlc")) {
		/* LSB and MSB figures from published TLC datasheets; CSB between. */
		t->profile = FW_NAND_TLC;
		t->read_ns[0] = 56500;
		t->read_ns[1] = 81000;
		t->read_ns[2] = 106000;
		t->prog_ns[0] = 820000;
		t->prog_ns[1] = 2250000;
		t->prog_ns[2] = 5734000;
		t->erase_ns = 3000000;
		return 0;
	}
	return -EINVAL;
}

const char *fw_nand_geo_valid(const struct fw_nand_geo *g)
{
	if (g->channels < 1 || g->channels > 64)
		return "nand.channels must be 1..64";
	if (g->ways < 1 || g->ways > 64)
		return "nand.ways must be 1..64";
	if (g->planes < 1 || g->planes > 8)
		return "nand.planes must be 1..8";
	if (g->blocks_per_plane < 4 || g->blocks_per_plane > 65536)
		return "nand.blocks must be 4..65536";
	if (g->pages_per_block < 1 || g->pages_per_block > 4096)
		return "nand.pages must be 1..4096";
	if (g->page_size < 4096 || g->page_size > 65536 || g->page_size % 4096)
		return "nand.page_size must be a multiple of 4096, 4096..65536";
	return NULL;
}

int fw_nand_init(struct fw_nand *n, const struct fw_nand_geo *g, const struct fw_nand_timing *t)
{
	memset(n, 0, sizeof(*n));
	if (fw_nand_geo_valid(g))
		return -EINVAL;
	n->geo = *g;
	n->tm = *t;
	n->ndies = g->channels * g->ways;
	n->blocks_per_die = g->planes * g->blocks_per_plane;
	n->die_free = fw_calloc(n->ndies, sizeof(*n->die_free));
	n->chan_free = fw_calloc(g->channels, sizeof(*n->chan_free));
	if (!n->die_free || !n->chan_free) {
		fw_nand_fini(n);
		return -ENOMEM;
	}
	return 0;
}

void fw_nand_fini(struct fw_nand *n)
{
	fw_free(n->die_free);
	fw_free(n->chan_free);
	n->die_free = NULL;
	n->chan_free = NULL;
}

static unsigned int page_type(const struct fw_nand *n, uint64_t ppn)
{
	return n->tm.profile == FW_NAND_TLC ? (unsigned int)(ppn % n->geo.pages_per_block % 3) : 0;
}

static uint64_t xfer_ns(const struct fw_nand *n, uint32_t bytes)
{
	return (uint64_t)bytes * 1000 / n->tm.chan_mbps;
}

static uint64_t max64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

uint64_t fw_nand_read(struct fw_nand *n, uint64_t ppn, uint32_t bytes, uint64_t now)
{
	uint32_t die = fw_nand_ppn_die(n, ppn), ch = die % n->geo.channels;
	uint64_t sensed = max64(now, n->die_free[die]) + n->tm.read_ns[page_type(n, ppn)];
	uint64_t start = max64(sensed, n->chan_free[ch]);
	uint64_t end = start + xfer_ns(n, bytes);

	/* The die holds the data in its register until the channel moved it. */
	n->die_free[die] = end;
	n->chan_free[ch] = end;
	n->st.reads++;
	n->st.read_bytes += bytes;
	return end;
}

uint64_t fw_nand_program(struct fw_nand *n, uint64_t ppn, uint64_t now)
{
	uint32_t die = fw_nand_ppn_die(n, ppn), ch = die % n->geo.channels;
	uint64_t start = max64(max64(now, n->chan_free[ch]), n->die_free[die]);
	uint64_t loaded = start + xfer_ns(n, n->geo.page_size);

	n->chan_free[ch] = loaded;
	n->die_free[die] = loaded + n->tm.prog_ns[page_type(n, ppn)];
	n->st.programs++;
	return n->die_free[die];
}

uint64_t fw_nand_erase(struct fw_nand *n, uint32_t die, uint64_t now)
{
	n->die_free[die] = max64(now, n->die_free[die]) + n->tm.erase_ns;
	n->st.erases++;
	return n->die_free[die];
}
