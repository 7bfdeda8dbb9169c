// SPDX-License-Identifier: MIT
/*
 * The firmware's memory regions (emu/regions.c): aligned to their size,
 * usable whole, taken ahead by the helper thread once the first request
 * has started it, from one reserved address range, a request of another
 * size served on the spot, and the helper stopped with the regions it held
 * given back.
 */
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "check_main.h"
#include "emu/regions.h"
#include "idle_threads.h"

#define REGION (2u << 20)

static void nap_ms(long ms)
{
	struct timespec ts = { 0, ms * 1000000L };

	nanosleep(&ts, NULL);
}

static void check_region(void *p, size_t len, uint8_t fill)
{
	uint8_t *b = p;

	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq((uintptr_t)p % len, 0);
	memset(b, fill, len); /* faults if any of it is not mapped */
	ck_assert_uint_eq(b[0], fill);
	ck_assert_uint_eq(b[len - 1], fill);
}

START_TEST(regions_are_aligned_and_taken_ahead)
{
	struct emu_regions r;
	struct emu_regions_stats st;
	void *held[8], *odd;
	int i, n = 0;

	emu_regions_init(&r);
	held[n] = emu_regions_get(&r, REGION); /* starts the helper */
	check_region(held[n++], REGION, 0x11);
	st = emu_regions_stats(&r);
	ck_assert_uint_eq(st.spot + st.ahead, 1);
	/* The helper takes the next ones; within seconds a request finds one. */
	for (i = 0; i < 500 && emu_regions_stats(&r).ahead == 0; i++) {
		nap_ms(10);
		if (n < 8) {
			held[n] = emu_regions_get(&r, REGION);
			check_region(held[n], REGION, (uint8_t)(0x20 + n));
			n++;
		}
	}
	st = emu_regions_stats(&r);
	ck_assert_uint_ge(st.ahead, 1);
	ck_assert_int_eq(idle_threads(), 1); /* the helper: idle time only */
	ck_assert_uint_gt(st.ahead_cpu_ns, 0);
	ck_assert_uint_eq(st.spot + st.ahead, (uint64_t)n);
	/* Another size: on the spot, aligned to itself. */
	odd = emu_regions_get(&r, 4u << 20);
	check_region(odd, 4u << 20, 0x5a);
	ck_assert_uint_eq(emu_regions_stats(&r).spot, st.spot + 1);
	/* Every region distinct: each still holds its own fill.  Those of the
	 * first request's size come from the range reserved for them (taking
	 * one maps nothing); the other size does not. */
	ck_assert_ptr_nonnull(r.arena);
	for (i = 0; i < n; i++) {
		uint8_t *b = held[i];

		ck_assert_uint_eq(b[REGION / 2], i ? (uint8_t)(0x20 + i) : 0x11);
		ck_assert(b >= r.arena && b + REGION <= r.arena + r.arena_used);
	}
	ck_assert((uint8_t *)odd + (4u << 20) <= r.arena ||
		  (uint8_t *)odd >= r.arena + r.arena_len);
	for (i = 0; i < n; i++)
		emu_regions_put(held[i], REGION);
	emu_regions_put(odd, 4u << 20);
	emu_regions_fini(&r); /* joins the helper, unmaps what it held */
}
END_TEST

/* A device that never asks for a region has no helper, and stops at once. */
START_TEST(no_request_no_helper)
{
	struct emu_regions r;

	emu_regions_init(&r);
	ck_assert(!r.started);
	emu_regions_fini(&r);
}
END_TEST

static Suite *regions_suite(void)
{
	Suite *s = suite_create("emu/regions");
	TCase *tc = tcase_create("regions");

	tcase_add_test(tc, regions_are_aligned_and_taken_ahead);
	tcase_add_test(tc, no_request_no_helper);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(regions_suite)
