// SPDX-License-Identifier: MIT
/* NAND timelines driven by a fake clock. */
#include "check_main.h"
#include "firmware/nand.h"

static struct fw_nand n;

static void setup(void)
{
	struct fw_nand_geo g = { .channels = 2,
				 .ways = 2,
				 .planes = 1,
				 .blocks_per_plane = 8,
				 .pages_per_block = 6,
				 .page_size = 16384 };
	struct fw_nand_timing t = { .chan_mbps = 400 };

	ck_assert_int_eq(fw_nand_profile(&t, "flat"), 0);
	ck_assert_int_eq(fw_nand_init(&n, &g, &t), 0);
}

static void teardown(void)
{
	fw_nand_fini(&n);
}

START_TEST(program_then_read_waits_for_die)
{
	/* 16 KiB over a 400 MB/s channel: 40960 ns, then tPROG 200 us. */
	uint64_t ppn = fw_nand_ppn(&n, 0, 0, 0);
	uint64_t t = fw_nand_program(&n, ppn, 1000);

	ck_assert_uint_eq(t, 1000 + 40960 + 200000);
	/* A read on the same die waits for the program: tR 40 us + 4 KiB transfer. */
	ck_assert_uint_eq(fw_nand_read(&n, ppn, 4096, 2000), t + 40000 + 10240);
	ck_assert_uint_eq(n.st.programs, 1);
	ck_assert_uint_eq(n.st.reads, 1);
}
END_TEST

START_TEST(dies_work_in_parallel_channels_serialize)
{
	/* Die 1 is on channel 1: independent of die 0. */
	uint64_t a = fw_nand_program(&n, fw_nand_ppn(&n, 0, 0, 0), 0);
	uint64_t b = fw_nand_program(&n, fw_nand_ppn(&n, 1, 0, 0), 0);
	/* Die 2 shares channel 0 with die 0: its transfer waits for die 0's. */
	uint64_t c = fw_nand_program(&n, fw_nand_ppn(&n, 2, 0, 0), 0);

	ck_assert_uint_eq(a, b);
	ck_assert_uint_eq(c, a + 40960);
	ck_assert_uint_eq(fw_nand_ppn_die(&n, fw_nand_ppn(&n, 3, 5, 2)), 3);
}
END_TEST

/* fw_div: a shift and a mask for powers of two, a division otherwise, always
 * the quotient and remainder of / and %; the die of every page of the fixture
 * (6 pages per block: not a power of two) is the two-step floor it replaces. */
START_TEST(divisor_matches_division)
{
	static const uint64_t ds[] = { 1, 2, 3, 6, 48, 1000, 16384, 1ull << 26, 3ull << 30 };
	static const uint64_t xs[] = { 0,	  1,	 5,	47,	    48,
				       16383,	  16384, 99999, 1ull << 33, (1ull << 40) + 12345,
				       UINT64_MAX };
	struct fw_div v;
	uint64_t ppn;
	unsigned int i, j;

	for (i = 0; i < sizeof(ds) / sizeof(ds[0]); i++) {
		fw_div_init(&v, ds[i]);
		ck_assert(v.pow2 == !(ds[i] & (ds[i] - 1)));
		for (j = 0; j < sizeof(xs) / sizeof(xs[0]); j++) {
			ck_assert_uint_eq(fw_div_q(&v, xs[j]), xs[j] / ds[i]);
			ck_assert_uint_eq(fw_div_r(&v, xs[j]), xs[j] % ds[i]);
		}
	}
	for (ppn = 0; ppn < fw_nand_total_pages(&n); ppn++)
		ck_assert_uint_eq(fw_nand_ppn_die(&n, ppn),
				  ppn / n.geo.pages_per_block / n.blocks_per_die);
}
END_TEST

START_TEST(erase_and_tlc_profile)
{
	struct fw_nand_timing t = { .chan_mbps = 400 };

	ck_assert_uint_eq(fw_nand_erase(&n, 0, 0), 2000000);
	ck_assert_uint_eq(fw_nand_erase(&n, 0, 0), 4000000);
	ck_assert_int_eq(fw_nand_profile(&t, "tlc"), 0);
	ck_assert_uint_eq(t.read_ns[0], 56500);
	ck_assert_uint_eq(t.read_ns[2], 106000);
	ck_assert_uint_eq(t.prog_ns[2], 5734000);
	ck_assert_int_ne(fw_nand_profile(&t, "qlc"), 0);
}
END_TEST

START_TEST(geometry_validation)
{
	struct fw_nand_geo g = { .channels = 2,
				 .ways = 2,
				 .planes = 1,
				 .blocks_per_plane = 8,
				 .pages_per_block = 6,
				 .page_size = 16384 };

	ck_assert_ptr_null(fw_nand_geo_valid(&g));
	g.page_size = 5000;
	ck_assert_ptr_nonnull(fw_nand_geo_valid(&g));
	g.page_size = 4096;
	g.channels = 0;
	ck_assert_ptr_nonnull(fw_nand_geo_valid(&g));
}
END_TEST

/* Timings of the fixture: tR 40 us, 4 KiB over the channel 10.24 us. */
#define T_READ 40000
#define T_X4K 10240
#define T_X16K 40960
#define T_PROG 200000
#define T_ERASE 2000000

START_TEST(read_during_gc_program_waits_at_most_one_slice)
{
	const uint64_t slice = 50000;
	uint64_t ppn = fw_nand_ppn(&n, 0, 1, 0), t;

	/* Every arrival time over a GC program on die 0 (channel load, then
	 * tPROG): a host read on that die waits for GC at most one slice. */
	for (t = 0; t < T_X16K + T_PROG; t += 997) {
		uint64_t end, wait;

		fw_nand_fini(&n);
		setup();
		fw_nand_set_gc(&n, FW_GC_YIELD, slice);
		ck_assert_uint_eq(fw_nand_gc_program(&n, fw_nand_ppn(&n, 0, 0, 0), 0),
				  T_X16K + T_PROG);
		end = fw_nand_read(&n, ppn, 4096, t);
		wait = end - t - T_READ - T_X4K;
		ck_assert_uint_le(wait, slice);
		/* The program resumes after the read: GC lost the time the read
		 * held the die (sensing, transfer, and any wait for the channel). */
		if (end - T_READ - T_X4K >= T_X16K + T_PROG) {
			/* the slice ended with the program: it was not held up */
			ck_assert_uint_eq(fw_nand_gc_done(&n), T_X16K + T_PROG);
			continue;
		}
		ck_assert_uint_ge(fw_nand_gc_done(&n), T_X16K + T_PROG + T_READ + T_X4K);
		ck_assert_uint_le(fw_nand_gc_done(&n), T_X16K + T_PROG + T_READ + T_X4K + wait);
	}
	/* A worked case: arriving at 110 us, the read starts at the slice end
	 * (150 us), senses 40 us and moves 4 KiB; GC ends 50.24 us later. */
	fw_nand_fini(&n);
	setup();
	fw_nand_set_gc(&n, FW_GC_YIELD, slice);
	fw_nand_gc_program(&n, fw_nand_ppn(&n, 0, 0, 0), 0);
	ck_assert_uint_eq(fw_nand_read(&n, ppn, 4096, 110000), 150000 + T_READ + T_X4K);
	ck_assert_uint_eq(fw_nand_gc_done(&n), T_X16K + T_PROG + T_READ + T_X4K);
	ck_assert_uint_eq(n.st.gc_waits, 1);
	ck_assert_uint_eq(n.st.gc_wait_ns, 40000);
	ck_assert_uint_eq(n.st.gc_programs, 1);
	ck_assert_uint_eq(n.st.programs, 1);
}
END_TEST

START_TEST(fifo_policy_read_waits_for_the_whole_gc_program)
{
	fw_nand_set_gc(&n, FW_GC_FIFO, 50000);
	fw_nand_gc_program(&n, fw_nand_ppn(&n, 0, 0, 0), 0);
	ck_assert_uint_eq(fw_nand_read(&n, fw_nand_ppn(&n, 0, 1, 0), 4096, 110000),
			  T_X16K + T_PROG + T_READ + T_X4K);
}
END_TEST

START_TEST(gc_waits_for_host_work_queued_before_it)
{
	/* A host program on die 0 first: GC's erase starts when it ends. */
	uint64_t p = fw_nand_program(&n, fw_nand_ppn(&n, 0, 0, 0), 0);

	ck_assert_uint_eq(fw_nand_gc_erase(&n, 0, 0), p + T_ERASE);
	/* Another die is free: its GC erase starts at once. */
	ck_assert_uint_eq(fw_nand_gc_erase(&n, 1, 0), T_ERASE);
	ck_assert_uint_eq(n.st.erases, 2);
	ck_assert_uint_eq(n.st.gc_erases, 2);
}
END_TEST

/*
 * An urgent pass makes host work wait for the oldest pending pass only: with
 * a reserve of 2 and two passes of the owner pending (one erase each on die
 * 0, back to back), a read waits for the older erase, not the newer; the
 * newer pass and the urgent one itself stay GC work that yields.  (It used
 * to turn all pending GC work and the pass into host work: the read waited
 * for both erases, and a read behind the pass's program for all of it.)
 */
START_TEST(urgent_pass_waits_for_the_oldest_pass_only)
{
	uint64_t ppn = fw_nand_ppn(&n, 0, 1, 0), end, start;

	fw_nand_set_gc(&n, FW_GC_YIELD, 100000);
	ck_assert(!fw_nand_gc_pass_begin(&n, 0, 2, 0));
	ck_assert_uint_eq(fw_nand_gc_erase(&n, 0, 0), T_ERASE);
	fw_nand_gc_pass_end(&n, true);
	ck_assert(!fw_nand_gc_pass_begin(&n, 0, 2, 0));
	ck_assert_uint_eq(fw_nand_gc_erase(&n, 0, 0), 2 * T_ERASE);
	fw_nand_gc_pass_end(&n, true);
	/* A third pass with both pending: the reserve is reached. */
	ck_assert(fw_nand_gc_pass_begin(&n, 0, 2, 1000));
	ck_assert_uint_eq(n.st.gc_urgent, 1);
	/* The older erase is host work now, the newer yields. */
	ck_assert_uint_eq(fw_nand_read(&n, ppn, 4096, 1000), T_ERASE + T_READ + T_X4K);
	/* The urgent pass's program queues behind GC's own work, as GC ... */
	end = fw_nand_gc_program(&n, fw_nand_ppn(&n, 0, 2, 0), 0);
	ck_assert_uint_eq(end, 2 * T_ERASE + T_READ + T_X4K + T_X16K + T_PROG);
	fw_nand_gc_pass_end(&n, true);
	/* ... and a read arriving as it starts waits at most a slice. */
	start = end - T_PROG - T_X16K;
	ck_assert_uint_le(fw_nand_read(&n, ppn, 4096, start),
			  start + 100000 + T_READ + T_X4K + T_X16K);
}
END_TEST

START_TEST(gc_completes_all_its_work_under_host_reads)
{
	uint64_t ppn = fw_nand_ppn(&n, 0, 1, 0), held = 0;
	unsigned int k;

	fw_nand_set_gc(&n, FW_GC_YIELD, 100000);
	ck_assert_uint_eq(fw_nand_gc_erase(&n, 0, 0), T_ERASE);
	/* A read on the die every 200 us while GC erases: each waits at most a
	 * slice, and GC's erase still gets done, later by what the reads held. */
	for (k = 0; k < 10; k++) {
		uint64_t at = k * 200000 + 30000, end = fw_nand_read(&n, ppn, 4096, at);

		ck_assert_uint_le(end - at - T_READ - T_X4K, 100000);
		held += T_READ + T_X4K;
	}
	ck_assert_uint_eq(fw_nand_gc_done(&n), T_ERASE + held);
	/* Reads after GC is done do not wait for it. */
	ck_assert_uint_eq(fw_nand_read(&n, ppn, 4096, T_ERASE + held),
			  T_ERASE + held + T_READ + T_X4K);
	ck_assert_uint_eq(n.st.reads, 11);
}
END_TEST

/* GC passes of two owners sharing the NAND (the value log and the block
 * FTL): a pass is urgent when the owner's own passes still pending reach its
 * reserve, not when another owner's are. */
START_TEST(gc_pass_urgency_counts_the_owners_own_pending_passes)
{
	fw_nand_set_gc(&n, FW_GC_YIELD, 100000);
	/* Owner 0: one pass, an erase pending until T_ERASE. */
	ck_assert(!fw_nand_gc_pass_begin(&n, 0, 1, 0));
	fw_nand_gc_erase(&n, 0, 0);
	fw_nand_gc_pass_end(&n, true);
	/* Owner 5 has nothing pending: not urgent, though owner 0 has. */
	ck_assert(!fw_nand_gc_pass_begin(&n, 5, 1, 1000));
	ck_assert_uint_eq(n.st.gc_urgent, 0);
	fw_nand_gc_erase(&n, 1, 1000);
	fw_nand_gc_pass_end(&n, true);
	/* Owner 0 with a reserve of 1 and its pass pending: urgent.  Its erase
	 * (die 0, until T_ERASE) becomes host work; owner 5's, newer, does not. */
	ck_assert(fw_nand_gc_pass_begin(&n, 0, 1, 2000));
	ck_assert_uint_eq(n.st.gc_urgent, 1);
	fw_nand_gc_pass_end(&n, true);
	ck_assert_uint_eq(fw_nand_read(&n, fw_nand_ppn(&n, 0, 1, 0), 4096, 2000),
			  T_ERASE + T_READ + T_X4K);
	/* Owner 5's pass is pending still: urgent with a reserve of 1, not 2. */
	ck_assert(!fw_nand_gc_pass_begin(&n, 5, 2, 2500));
	fw_nand_gc_pass_end(&n, false);
	ck_assert(fw_nand_gc_pass_begin(&n, 5, 1, 2500));
	fw_nand_gc_pass_end(&n, false);
	/* It is host work now: nothing is pending for anyone. */
	ck_assert(!fw_nand_gc_pass_begin(&n, 5, 1, 3000));
	fw_nand_gc_erase(&n, 2, 3000);
	fw_nand_gc_pass_end(&n, true);
	/* Owner 5's erase is pending; owner 0's reserve of 1 is not reached. */
	ck_assert(!fw_nand_gc_pass_begin(&n, 0, 1, 4000));
	fw_nand_gc_pass_end(&n, true);
	ck_assert(fw_nand_gc_pass_begin(&n, 5, 1, 5000));
	fw_nand_gc_pass_end(&n, true);
	/* Once the model time passes the pending work, no pass is pending. */
	ck_assert(!fw_nand_gc_pass_begin(&n, 0, 1, 3000 + 2 * T_ERASE));
	fw_nand_gc_pass_end(&n, true);
}
END_TEST

static Suite *nand_suite(void)
{
	Suite *s = suite_create("firmware/nand");
	TCase *tc = tcase_create("nand");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, program_then_read_waits_for_die);
	tcase_add_test(tc, dies_work_in_parallel_channels_serialize);
	tcase_add_test(tc, divisor_matches_division);
	tcase_add_test(tc, erase_and_tlc_profile);
	tcase_add_test(tc, geometry_validation);
	tcase_add_test(tc, read_during_gc_program_waits_at_most_one_slice);
	tcase_add_test(tc, fifo_policy_read_waits_for_the_whole_gc_program);
	tcase_add_test(tc, gc_waits_for_host_work_queued_before_it);
	tcase_add_test(tc, urgent_pass_waits_for_the_oldest_pass_only);
	tcase_add_test(tc, gc_completes_all_its_work_under_host_reads);
	tcase_add_test(tc, gc_pass_urgency_counts_the_owners_own_pending_passes);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(nand_suite)
