/* SPDX-License-Identifier: MIT */
/*
 * Memory regions for the firmware's own structures (struct fw_hal mem_map:
 * the key index's nodes), aligned to their size and backed by huge pages
 * where the kernel has them (MADV_HUGEPAGE).  The kernel zeroes a region's
 * memory when it is taken, 2 MiB at a time: on the command path the
 * emulator thread waited for it (12 % of its time in an in-memory
 * fillrandom).  A helper thread, started by the first request (a device
 * whose index never grows has none), keeps EMU_REGIONS_AHEAD regions of
 * that request's size taken ahead, in idle time only (SCHED_IDLE); a
 * request it has not kept up with is served on the spot, as before.
 */
#ifndef EMU_REGIONS_H
#define EMU_REGIONS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EMU_REGIONS_AHEAD 2
/*
 * Address space (no memory) reserved at the first request, from which the
 * regions of its size are carved: taking one is then a madvise, not an
 * mmap.  An mmap waits for every madvise and fault of the process under
 * way, and with the NAND's helper thread at idle priority inside one (on a
 * busy machine it may not run for tens of milliseconds) the emulator thread
 * queued behind the mmap (measured: 40 ms stalls in a fillrandom).  Full or
 * not to be had (strict overcommit): each region is mapped on its own.
 */
#define EMU_REGIONS_RESERVE ((size_t)1 << (sizeof(size_t) > 4 ? 36 : 28))

struct emu_regions {
	pthread_mutex_t mu;
	pthread_cond_t cv; /* the helper waits here for room */
	pthread_t th;
	bool started, stop;
	size_t len; /* the size the helper takes (the first request's) */
	void *ready[EMU_REGIONS_AHEAD];
	unsigned int nready;
	/* Under mu.  CPU time the kernel took supplying regions: in the
	 * requesting thread (on the spot), in the helper (ahead). */
	uint64_t spot_cpu_ns, ahead_cpu_ns;
	uint64_t spot, ahead;	      /* regions served each way */
	uint8_t *arena;		      /* the reserved range; NULL: none */
	size_t arena_len, arena_used; /* under mu */
};

void emu_regions_init(struct emu_regions *r);
/* A region of @len bytes (a power of two) aligned to @len; NULL: no memory. */
void *emu_regions_get(struct emu_regions *r, size_t len);
void emu_regions_put(void *p, size_t len);
/* Stop the helper and give back the regions it holds. */
void emu_regions_fini(struct emu_regions *r);
/* A consistent copy of the counters (the helper updates them). */
struct emu_regions_stats {
	uint64_t spot_cpu_ns, ahead_cpu_ns, spot, ahead;
};
struct emu_regions_stats emu_regions_stats(struct emu_regions *r);

#endif /* EMU_REGIONS_H */
