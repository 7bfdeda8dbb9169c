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

static Suite *nand_suite(void)
{
	Suite *s = suite_create("firmware/nand");
	TCase *tc = tcase_create("nand");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, program_then_read_waits_for_die);
	tcase_add_test(tc, dies_work_in_parallel_channels_serialize);
	tcase_add_test(tc, erase_and_tlc_profile);
	tcase_add_test(tc, geometry_validation);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(nand_suite)
