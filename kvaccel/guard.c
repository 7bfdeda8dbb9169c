// SPDX-License-Identifier: MIT
/*
 * The device guard's decision: stop redirecting while the device's Stores are
 * slower than the stall they would avoid or its free space runs short, and
 * redirect again only once both have passed the looser release bounds
 * (hysteresis).  The inputs are gathered in kvaccel.c: the moving average of
 * redirected puts' Store time, and capacity/utilization from the device's
 * Identify data, polled by the detector thread.
 */
#include "kvaccel/kvaccel_internal.h"

uint64_t kva_pct_of(uint64_t total, uint32_t pct)
{
	return total / 100 * pct + total % 100 * pct / 100;
}

/* Less than @pct % of @total is free (@total 0: unknown, never short). */
static bool short_of(uint64_t total, uint64_t used, uint32_t pct)
{
	uint64_t free = used >= total ? 0 : total - used;

	return total && pct && free < kva_pct_of(total, pct);
}

bool kva_guard(const struct kva_guard_th *t, bool held, const struct kva_guard_in *in)
{
	uint64_t hi = (uint64_t)t->lat_high_us * 1000, lo = (uint64_t)t->lat_low_us * 1000;

	if ((hi && in->lat_ns >= hi) || short_of(in->capacity, in->used, t->free_low_pct) ||
	    short_of(in->max_keys, in->keys, t->free_low_pct))
		return true;
	if (!held)
		return false;
	/* Let go only once the device is fast again and has room to spare. */
	return (hi && in->lat_ns > lo) ||
	       (t->free_low_pct && (short_of(in->capacity, in->used, t->free_high_pct) ||
				    short_of(in->max_keys, in->keys, t->free_high_pct)));
}
