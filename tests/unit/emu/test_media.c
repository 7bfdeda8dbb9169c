// SPDX-License-Identifier: MIT
/*
 * The emulator's NAND media file (emu/media.c): an erase punches the block
 * out of nand.img, and where the file system cannot punch holes (forced here
 * with the test-only fault switch) it overwrites the block with zeros instead
 * of failing, so the firmware does not retire a superblock on every erase.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_main.h"
#include "emu/media.h"

static const struct fw_nand_geo geo = {
	.channels = 1,
	.ways = 1,
	.planes = 1,
	.blocks_per_plane = 4,
	.pages_per_block = 4,
	.page_size = 4096,
};

static char dir[64];
static struct emu_media m;
static char err[512];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/nvkv-media-%d", (int)getpid());
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	ck_assert_msg(emu_media_open(&m, dir, &geo, err, sizeof(err)) == 0, "open: %s", err);
	ck_assert_int_ge(m.fd, 0);
}

static void teardown(void)
{
	char cmd[96];

	emu_media_close(&m);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* Program every page of @block with @fill and check it reads back. */
static void program_block(uint64_t block, int fill)
{
	uint8_t page[4096], got[4096];

	memset(page, fill, sizeof(page));
	for (uint64_t p = 0; p < geo.pages_per_block; p++) {
		uint64_t ppn = block * geo.pages_per_block + p;

		ck_assert_int_eq(emu_media_program(&m, ppn, page), 0);
		ck_assert_int_eq(emu_media_read(&m, ppn, 0, sizeof(got), got), 0);
		ck_assert(!memcmp(got, page, sizeof(got)));
	}
}

/* Every byte of @block reads as @fill. */
static void check_block(uint64_t block, int fill)
{
	uint8_t got[4096];

	for (uint64_t p = 0; p < geo.pages_per_block; p++) {
		ck_assert_int_eq(
			emu_media_read(&m, block * geo.pages_per_block + p, 0, sizeof(got), got),
			0);
		for (size_t i = 0; i < sizeof(got); i++)
			ck_assert_msg(got[i] == fill, "block %llu page %llu byte %zu: %#x",
				      (unsigned long long)block, (unsigned long long)p, i, got[i]);
	}
}

START_TEST(erase_punches_the_block_out)
{
	program_block(1, 0xa5);
	program_block(2, 0x5a);
	ck_assert_int_eq(emu_media_erase(&m, 1), 0);
	ck_assert(!m.no_punch);
	check_block(1, 0);
	check_block(2, 0x5a);
}
END_TEST

/*
 * Regression (code review): without hole punching the erase returned
 * -EOPNOTSUPP, which the firmware counts as an erase failure (a retired
 * superblock per GC erase).  It writes zeros instead, and remembers.
 */
START_TEST(erase_without_hole_punching_writes_zeros)
{
	uint64_t writes;

	program_block(1, 0xa5);
	program_block(2, 0x5a);
	m.fault.punch_unsupported = true;
	writes = m.writes;
	ck_assert_int_eq(emu_media_erase(&m, 1), 0);
	ck_assert(m.no_punch);
	ck_assert_uint_eq(m.writes, writes); /* zeroing is not a program */
	check_block(1, 0);
	check_block(2, 0x5a);
	/* Remembered: the next erase goes straight to zeros, also without the switch. */
	m.fault.punch_unsupported = false;
	program_block(1, 0x3c);
	ck_assert_int_eq(emu_media_erase(&m, 1), 0);
	ck_assert(m.no_punch);
	check_block(1, 0);
	ck_assert_int_eq(emu_media_erase(&m, 2), 0);
	check_block(2, 0);
	ck_assert_int_eq(emu_media_erase(&m, geo.blocks_per_plane), -EINVAL);
}
END_TEST

static Suite *media_suite(void)
{
	Suite *s = suite_create("emu/media");
	TCase *tc = tcase_create("erase");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, erase_punches_the_block_out);
	tcase_add_test(tc, erase_without_hole_punching_writes_zeros);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(media_suite)
