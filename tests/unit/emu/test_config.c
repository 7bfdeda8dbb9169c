// SPDX-License-Identifier: MIT
/*
 * The configuration table's firmware cost knobs (emu/config.c) and the device
 * profiles shipped in sim/profiles/: each profile loads as nvkv-emu loads a
 * --config file and yields the values docs/device.md documents; the knobs
 * default to the one-core model and refuse values out of range.
 */
#include <stdio.h>
#include <string.h>

#include "check_main.h"
#include "emu/config.h"

static struct emu_config c;
static char err[512];

static void load(const char *path)
{
	emu_config_default(&c);
	ck_assert_msg(emu_config_load(&c, path, err, sizeof(err)) == 0, "%s: %s", path, err);
	ck_assert_msg(emu_config_finish(&c, err, sizeof(err)) == 0, "%s: %s", path, err);
}

START_TEST(defaults_are_the_one_core_model)
{
	struct fw_cost zero = { .cores = 1 };

	emu_config_default(&c);
	ck_assert_int_eq(emu_config_finish(&c, err, sizeof(err)), 0);
	ck_assert_mem_eq(&c.fw.cost, &zero, sizeof(zero));
	ck_assert_uint_eq(c.fw.fw_overhead_ns, 1500);
}
END_TEST

START_TEST(knobs_set_and_range_checked)
{
	emu_config_default(&c);
	ck_assert_int_eq(emu_config_set(&c, "device.fw_cores", "8", err, sizeof(err)), 0);
	ck_assert_int_eq(emu_config_set(&c, "device.fw_bs_xfer_ns", "1234", err, sizeof(err)), 0);
	ck_assert_int_eq(emu_config_set(&c, "device.fw_list_step_ns", "7", err, sizeof(err)), 0);
	ck_assert_uint_eq(c.fw.cost.cores, 8);
	ck_assert_uint_eq(c.fw.cost.bs_xfer_ns, 1234);
	ck_assert_uint_eq(c.fw.cost.list_step_ns, 7);
	ck_assert_int_ne(emu_config_set(&c, "device.fw_cores", "0", err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(err, "device.fw_cores"));
	ck_assert_int_ne(emu_config_set(&c, "device.fw_cores", "65", err, sizeof(err)), 0);
	ck_assert_int_ne(emu_config_set(&c, "device.fw_index_ns", "1000000001", err, sizeof(err)),
			 0);
	ck_assert_uint_eq(c.fw.cost.cores, 8); /* a refused value changes nothing */
}
END_TEST

/* docs/device.md, "Device profiles": the Cosmos+ table. */
START_TEST(cosmos_profile)
{
	load("sim/profiles/cosmos.ini");
	ck_assert_uint_eq(c.fw.timing, FW_TIMING_REALTIME);
	ck_assert_uint_eq(c.fw.dma_gran, FW_DMA_PAGE);
	ck_assert_uint_eq(c.fw.pcie.gen, 2);
	ck_assert_uint_eq(c.fw.pcie.lanes, 8);
	ck_assert_uint_eq(c.fw.geo.channels, 4);
	ck_assert_uint_eq(c.fw.geo.ways, 8);
	ck_assert_uint_eq(c.fw.geo.page_size, 16384);
	ck_assert_uint_eq(c.fw.geo.pages_per_block, 128);
	ck_assert_uint_eq(c.fw.nand.read_ns[0], 40000);
	ck_assert_uint_eq(c.fw.nand.prog_ns[0], 200000);
	ck_assert_uint_eq(c.fw.nand.erase_ns, 2000000);
	ck_assert_uint_eq(c.fw.nand.chan_mbps, 200);
	ck_assert_uint_eq(c.fw.fw_overhead_ns, 2000);
	ck_assert_uint_eq(c.fw.cost.cores, 1);
	ck_assert_uint_eq(c.fw.cost.bs_xfer_ns, 1000);
	ck_assert_uint_eq(c.fw.cost.bx_chunk_ns, 200);
	ck_assert_uint_eq(c.fw.cost.dma_ns, 1000);
	ck_assert_uint_eq(c.fw.cost.prp_entry_ns, 100);
	ck_assert_uint_eq(c.fw.cost.sgl_desc_ns, 300);
	ck_assert_uint_eq(c.fw.cost.index_ns, 2000);
	ck_assert_uint_eq(c.fw.cost.list_step_ns, 200);
}
END_TEST

/* docs/device.md, "Device profiles": the datacenter table. */
START_TEST(datacenter_profile)
{
	load("sim/profiles/datacenter.ini");
	ck_assert_uint_eq(c.fw.timing, FW_TIMING_REALTIME);
	ck_assert_uint_eq(c.fw.dma_gran, FW_DMA_EXACT);
	ck_assert_uint_eq(c.fw.pcie.gen, 4);
	ck_assert_uint_eq(c.fw.pcie.lanes, 4);
	ck_assert_uint_eq(c.fw.geo.channels, 8);
	ck_assert_uint_eq(c.fw.geo.ways, 4);
	ck_assert_uint_eq(c.fw.nand.profile, FW_NAND_TLC);
	ck_assert_uint_eq(c.fw.nand.read_ns[0], 56500);
	ck_assert_uint_eq(c.fw.nand.prog_ns[2], 5734000);
	ck_assert_uint_eq(c.fw.nand.chan_mbps, 1200);
	ck_assert_uint_eq(c.fw.fw_overhead_ns, 300);
	ck_assert_uint_eq(c.fw.cost.cores, 4);
	ck_assert_uint_eq(c.fw.cost.bs_xfer_ns, 150);
	ck_assert_uint_eq(c.fw.cost.bx_chunk_ns, 20);
	ck_assert_uint_eq(c.fw.cost.dma_ns, 100);
	ck_assert_uint_eq(c.fw.cost.prp_entry_ns, 10);
	ck_assert_uint_eq(c.fw.cost.sgl_desc_ns, 20);
	ck_assert_uint_eq(c.fw.cost.index_ns, 400);
	ck_assert_uint_eq(c.fw.cost.list_step_ns, 50);
}
END_TEST

START_TEST(gc_knobs_and_gc_stress_profile)
{
	emu_config_default(&c);
	ck_assert_int_eq(emu_config_finish(&c, err, sizeof(err)), 0);
	ck_assert_int_eq(c.fw.gc_policy, FW_GC_YIELD);
	ck_assert_uint_eq(c.fw.gc_slice_us, 100);
	ck_assert_int_eq(emu_config_set(&c, "device.gc_policy", "fifo", err, sizeof(err)), 0);
	ck_assert_int_eq(c.fw.gc_policy, FW_GC_FIFO);
	ck_assert_int_ne(emu_config_set(&c, "device.gc_policy", "lifo", err, sizeof(err)), 0);
	ck_assert_int_eq(emu_config_set(&c, "device.gc_slice_us", "250", err, sizeof(err)), 0);
	ck_assert_uint_eq(c.fw.gc_slice_us, 250);
	ck_assert_int_ne(emu_config_set(&c, "device.gc_slice_us", "0", err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(err, "device.gc_slice_us"));
	ck_assert_uint_eq(c.fw.gc_slice_us, 250);
	/* docs/device.md, "GC scheduling": 2 x 2 dies, 16 superblocks, 5% OP. */
	load("sim/profiles/gc-stress.ini");
	ck_assert_int_eq(c.fw.gc_policy, FW_GC_YIELD);
	ck_assert_uint_eq(c.fw.gc_slice_us, 100);
	ck_assert_uint_eq(c.fw.op_percent, 5);
	ck_assert_uint_eq(c.fw.blk_percent, 0);
	ck_assert_uint_eq(c.fw.geo.channels * c.fw.geo.ways, 4);
	ck_assert_uint_eq(c.fw.geo.blocks_per_plane, 16);
	ck_assert_uint_eq(c.fw.timing, FW_TIMING_REALTIME);
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("emu/config");
	TCase *tc = tcase_create("config");

	tcase_add_test(tc, defaults_are_the_one_core_model);
	tcase_add_test(tc, knobs_set_and_range_checked);
	tcase_add_test(tc, cosmos_profile);
	tcase_add_test(tc, datacenter_profile);
	tcase_add_test(tc, gc_knobs_and_gc_stress_profile);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(config_suite)
