// SPDX-License-Identifier: MIT
/* NAND geometry, timing profiles and busy timelines; see nand.h. */
#include "nand.h"

#include <errno.h>
#include <string.h>

#include "alloc.h"
#include "hal.h"

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
	fw_div_init(&n->die_pages, (uint64_t)g->pages_per_block * n->blocks_per_die);
	fw_div_init(&n->chans, g->channels);
	fw_div_init(&n->block_pages, g->pages_per_block);
	n->die_free = fw_calloc(n->ndies, sizeof(*n->die_free));
	n->chan_free = fw_calloc(g->channels, sizeof(*n->chan_free));
	n->gc_die = fw_calloc(n->ndies, sizeof(*n->gc_die));
	n->gc_chan = fw_calloc(g->channels, sizeof(*n->gc_chan));
	n->gc_policy = FW_GC_YIELD;
	n->gc_slice_ns = 100000;
	if (!n->die_free || !n->chan_free || !n->gc_die || !n->gc_chan) {
		fw_nand_fini(n);
		return -ENOMEM;
	}
	return 0;
}

void fw_nand_fini(struct fw_nand *n)
{
	fw_free(n->die_free);
	fw_free(n->chan_free);
	fw_free(n->gc_die);
	fw_free(n->gc_chan);
	n->die_free = NULL;
	n->chan_free = NULL;
	n->gc_die = NULL;
	n->gc_chan = NULL;
}

void fw_nand_set_gc(struct fw_nand *n, enum fw_gc_policy policy, uint64_t slice_ns)
{
	n->gc_policy = policy;
	n->gc_slice_ns = slice_ns ? slice_ns : 1;
}

static unsigned int page_type(const struct fw_nand *n, uint64_t ppn)
{
	return n->tm.profile == FW_NAND_TLC ? (unsigned int)(fw_div_r(&n->block_pages, ppn) % 3)
					    : 0;
}

static uint64_t xfer_ns(const struct fw_nand *n, uint32_t bytes)
{
	uint64_t b = (uint64_t)bytes * 1000;

	/* A 32-bit division when it fits (any page-sized transfer): same quotient. */
	return b >> 32 ? b / n->tm.chan_mbps : (uint32_t)b / n->tm.chan_mbps;
}

static uint64_t max64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/*
 * When host work wanting resource @g at @t may start: at once unless GC holds
 * it then, otherwise at the end of GC's current slice (slices count from
 * when GC got the resource), or when GC's work ends if that is sooner.
 */
static uint64_t after_slice(struct fw_nand *n, const struct fw_nand_gct *g, uint64_t t)
{
	uint64_t end;

	if (n->gc_policy != FW_GC_YIELD || t < g->from || t >= g->free)
		return t;
	end = g->from + (t - g->from + n->gc_slice_ns - 1) / n->gc_slice_ns * n->gc_slice_ns;
	return end < g->free ? end : g->free;
}

/* Host work held resource @g over [@s, @e): GC's work there resumes at @e. */
static void push_gc(struct fw_nand_gct *g, uint64_t s, uint64_t e)
{
	if (g->free <= s || e <= g->from)
		return;
	g->free += e - max64(s, g->from);
	g->from = e;
}

static void count_wait(struct fw_nand *n, uint64_t want, uint64_t got)
{
	if (got > want) {
		n->st.gc_waits++;
		n->st.gc_wait_ns += got - want;
	}
}

/* GC takes resource @g no earlier than @t (host work on it ends at @busy). */
static uint64_t gc_take(struct fw_nand_gct *g, uint64_t t, uint64_t busy)
{
	uint64_t s = max64(max64(t, busy), g->free);

	if (s > g->free)
		g->from = s; /* GC was idle here: its first slice starts now */
	return s;
}

static bool gc_own_timelines(const struct fw_nand *n)
{
	return n->gc_policy == FW_GC_YIELD;
}

uint64_t fw_nand_read(struct fw_nand *n, uint64_t ppn, uint32_t bytes, uint64_t now)
{
	uint32_t die = fw_nand_ppn_die(n, ppn), ch = (uint32_t)fw_div_r(&n->chans, die);
	uint64_t want = max64(now, n->die_free[die]);
	uint64_t dstart = after_slice(n, &n->gc_die[die], want);
	uint64_t sensed = dstart + n->tm.read_ns[page_type(n, ppn)];
	uint64_t cwant = max64(sensed, n->chan_free[ch]);
	uint64_t start = after_slice(n, &n->gc_chan[ch], cwant);
	uint64_t end = start + xfer_ns(n, bytes);

	count_wait(n, want, dstart);
	count_wait(n, cwant, start);
	/* The die holds the data in its register until the channel moved it. */
	n->die_free[die] = end;
	n->chan_free[ch] = end;
	push_gc(&n->gc_die[die], dstart, end);
	push_gc(&n->gc_chan[ch], start, end);
	n->st.reads++;
	n->st.read_bytes += bytes;
	return end;
}

uint64_t fw_nand_program(struct fw_nand *n, uint64_t ppn, uint64_t now)
{
	uint32_t die = fw_nand_ppn_die(n, ppn), ch = (uint32_t)fw_div_r(&n->chans, die);
	uint64_t want = max64(max64(now, n->chan_free[ch]), n->die_free[die]);
	uint64_t start =
		max64(after_slice(n, &n->gc_die[die], want), after_slice(n, &n->gc_chan[ch], want));
	uint64_t loaded = start + xfer_ns(n, n->geo.page_size);

	count_wait(n, want, start);
	n->chan_free[ch] = loaded;
	n->die_free[die] = loaded + n->tm.prog_ns[page_type(n, ppn)];
	push_gc(&n->gc_chan[ch], start, loaded);
	push_gc(&n->gc_die[die], start, n->die_free[die]);
	n->st.programs++;
	return n->die_free[die];
}

void fw_nand_expect_sb(const struct fw_nand *n, const struct fw_hal *hal, uint32_t block)
{
	uint32_t d;

	if (!hal->nand_expect || block >= n->blocks_per_die)
		return;
	for (d = n->ndies; d-- > 0;)
		hal->nand_expect(hal->ctx, (uint64_t)d * n->blocks_per_die + block);
}

uint64_t fw_nand_erase(struct fw_nand *n, uint32_t die, uint64_t now)
{
	uint64_t want = max64(now, n->die_free[die]);
	uint64_t start = after_slice(n, &n->gc_die[die], want);

	count_wait(n, want, start);
	n->die_free[die] = start + n->tm.erase_ns;
	push_gc(&n->gc_die[die], start, n->die_free[die]);
	n->st.erases++;
	return n->die_free[die];
}

uint64_t fw_nand_gc_read(struct fw_nand *n, uint64_t ppn, uint32_t bytes, uint64_t now)
{
	uint32_t die = fw_nand_ppn_die(n, ppn), ch = (uint32_t)fw_div_r(&n->chans, die);
	uint64_t sensed, start, end;

	n->st.gc_reads++;
	if (!gc_own_timelines(n))
		return fw_nand_read(n, ppn, bytes, now);
	sensed = gc_take(&n->gc_die[die], now, n->die_free[die]) + n->tm.read_ns[page_type(n, ppn)];
	start = gc_take(&n->gc_chan[ch], sensed, n->chan_free[ch]);
	end = start + xfer_ns(n, bytes);
	n->gc_die[die].free = end;
	n->gc_chan[ch].free = end;
	n->st.reads++;
	n->st.read_bytes += bytes;
	return end;
}

uint64_t fw_nand_gc_program(struct fw_nand *n, uint64_t ppn, uint64_t now)
{
	uint32_t die = fw_nand_ppn_die(n, ppn), ch = (uint32_t)fw_div_r(&n->chans, die);
	uint64_t start, loaded;

	n->st.gc_programs++;
	if (!gc_own_timelines(n))
		return fw_nand_program(n, ppn, now);
	start = max64(gc_take(&n->gc_die[die], now, n->die_free[die]),
		      gc_take(&n->gc_chan[ch], now, n->chan_free[ch]));
	loaded = start + xfer_ns(n, n->geo.page_size);
	n->gc_chan[ch].free = loaded;
	n->gc_die[die].free = loaded + n->tm.prog_ns[page_type(n, ppn)];
	n->st.programs++;
	return n->gc_die[die].free;
}

uint64_t fw_nand_gc_erase(struct fw_nand *n, uint32_t die, uint64_t now)
{
	n->st.gc_erases++;
	if (!gc_own_timelines(n))
		return fw_nand_erase(n, die, now);
	n->gc_die[die].free = gc_take(&n->gc_die[die], now, n->die_free[die]) + n->tm.erase_ns;
	n->st.erases++;
	return n->gc_die[die].free;
}

uint64_t fw_nand_gc_done(const struct fw_nand *n)
{
	uint64_t t = 0;
	uint32_t i;

	for (i = 0; i < n->ndies; i++)
		t = max64(t, n->gc_die[i].free);
	for (i = 0; i < n->geo.channels; i++)
		t = max64(t, n->gc_chan[i].free);
	return t;
}

/*
 * How many of @owner's passes still have GC work pending at @now; into
 * *@clear, when the oldest of them have finished and fewer than @reserve
 * are left (GC works in pass order, so the @reserve-th newest of @owner's
 * ends where the newer passes' work begins; without it in memory, when all
 * pending work is done).
 */
static uint32_t gc_pending_passes(const struct fw_nand *n, uint32_t owner, uint32_t reserve,
				  uint64_t now, uint64_t *clear)
{
	uint64_t done = fw_nand_gc_done(n), pending, newer = 0;
	uint32_t m, mine = 0;

	*clear = done;
	if (done <= now)
		return 0;
	pending = done - now;
	for (m = 0; m < FW_GC_PASSES && m < n->gc_npass; m++) {
		uint32_t i = (n->gc_npass - 1 - m) % FW_GC_PASSES;

		if (newer >= pending)
			return mine;
		if (n->gc_pass[i].owner == owner && ++mine == reserve)
			*clear = done - newer;
		newer += n->gc_pass[i].span;
	}
	/* Pending work older than the passes remembered: assume the worst. */
	return newer >= pending ? mine : UINT32_MAX;
}

/*
 * GC work before @t becomes host work: host operations on a die or channel
 * start no earlier than GC's work there up to @t.  GC's work after @t stays
 * on its timelines and yields as before (a host operation at @t waits at
 * most for the end of GC's slice then).  Counted in st.gc_urgent.
 */
static void gc_promote_until(struct fw_nand *n, uint64_t t)
{
	uint32_t i;

	for (i = 0; i < n->ndies; i++) {
		struct fw_nand_gct *g = &n->gc_die[i];

		n->die_free[i] = max64(n->die_free[i], g->free < t ? g->free : t);
		if (g->free <= t)
			g->from = g->free = 0;
	}
	for (i = 0; i < n->geo.channels; i++) {
		struct fw_nand_gct *g = &n->gc_chan[i];

		n->chan_free[i] = max64(n->chan_free[i], g->free < t ? g->free : t);
		if (g->free <= t)
			g->from = g->free = 0;
	}
	n->st.gc_urgent++;
}

bool fw_nand_gc_pass_begin(struct fw_nand *n, uint32_t owner, uint32_t reserve, uint64_t now)
{
	uint64_t clear;
	bool urgent = gc_pending_passes(n, owner, reserve, now, &clear) >= reserve;

	n->gc_pass_owner = owner;
	n->gc_pass_urgent = urgent && n->gc_policy == FW_GC_YIELD;
	if (n->gc_pass_urgent)
		gc_promote_until(n, clear);
	n->gc_pass_before = max64(fw_nand_gc_done(n), now);
	return n->gc_pass_urgent;
}

void fw_nand_gc_pass_end(struct fw_nand *n, bool freed)
{
	if (freed) {
		uint32_t i = n->gc_npass++ % FW_GC_PASSES;

		n->gc_pass[i].owner = n->gc_pass_owner;
		n->gc_pass[i].span =
			max64(fw_nand_gc_done(n), n->gc_pass_before) - n->gc_pass_before;
	}
	n->gc_pass_urgent = false;
}
