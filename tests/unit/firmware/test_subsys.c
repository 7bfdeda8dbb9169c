// SPDX-License-Identifier: MIT
/*
 * Recovery of a device from its catalog (firmware/subsys.c and the value-log
 * layout loader in vlog.c): a damaged layout table or catalog record is
 * refused at start-up with a log line that says what is wrong, never a crash,
 * never an empty device, never a device that comes up and fails every write.
 */
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "fakehost.c"
#include "firmware/vlog.h"

static struct fh_env env;
static struct fw_subsys *sub;
static struct fh_host host;
static struct fw_config cfg;

/* The layout blob: a 32-byte header (see vlog.c), then the superblock table. */
#define LAYOUT_HDR 32
#define LAYOUT_CUR 16

static struct fw_sb *layout_sb(uint32_t i)
{
	return (struct fw_sb *)(env.blob + LAYOUT_HDR + i * sizeof(struct fw_sb));
}

static void start(void)
{
	ck_assert_int_eq(fw_subsys_create(&cfg, &env.hal, &sub), 0);
	fh_host_init(&host, &env, sub);
	ck_assert_uint_eq(fh_enable(&host, 32) & (KVC_CSTS_RDY | KVC_CSTS_CFS), KVC_CSTS_RDY);
	ck_assert_uint_eq(fh_create_ioq(&host, 1, 64), 0);
}

/* Clean shutdown: the catalog holds every key and the layout. */
static void stop(void)
{
	fh_host_fini(&host);
	fw_subsys_destroy(sub);
	sub = NULL;
}

static void setup(void)
{
	fh_small_config(&cfg);
	fh_env_init(&env, &cfg, true);
	start();
}

static void teardown(void)
{
	if (sub)
		stop();
	fh_env_fini(&env);
}

/* 50 KiB values (52 KiB apart, 4 KiB aligned) over 256 KiB superblocks: the fifth record straddles into
 * superblock 1, so recovery follows superblock 0's next pointer. */
static void store_straddling(void)
{
	static uint8_t v[50 * 1024];
	uint64_t mark = host.brk;
	char key[8];
	int i;

	for (i = 0; i < 6; i++) {
		memset(v, 'a' + i, sizeof(v));
		snprintf(key, sizeof(key), "big%d", i);
		ck_assert_uint_eq(fh_store(&host, 1, key, v, sizeof(v), 0), 0);
		host.brk = mark;
	}
	stop();
	ck_assert_uint_eq(layout_sb(0)->state, FW_SB_FULL);
	ck_assert_uint_eq(layout_sb(0)->next, 1);
}

/* Restart must fail with @rc and log a line containing @what. */
static void refused(int rc, const char *what)
{
	struct fw_subsys *s = NULL;

	env.last_log[0] = 0;
	ck_assert_int_eq(fw_subsys_create(&cfg, &env.hal, &s), rc);
	ck_assert_ptr_null(s);
	ck_assert_msg(strstr(env.last_log, what), "log '%s' lacks '%s'", env.last_log, what);
}

/* Defect 6: recovery followed a garbage next pointer (SIGSEGV in account()). */
START_TEST(corrupt_layout_next_pointer_is_refused)
{
	store_straddling();
	layout_sb(0)->next = 0x7ffffff0u;
	refused(-EUCLEAN, "next superblock out of range");
}
END_TEST

START_TEST(layout_cycle_is_refused)
{
	uint32_t cur;

	store_straddling();
	cur = kvc_get_le32(env.blob + LAYOUT_CUR);
	ck_assert_uint_eq(cur, 1);
	/* 0 -> 1 -> 0, and superblock 2 pretends to be the open one. */
	layout_sb(1)->state = FW_SB_FULL;
	layout_sb(1)->next = 0;
	layout_sb(2)->state = FW_SB_OPEN;
	kvc_put_le32(env.blob + LAYOUT_CUR, 2);
	refused(-EUCLEAN, "cycle");
}
END_TEST

START_TEST(layout_fields_out_of_range_are_refused)
{
	uint8_t saved[1 << 16];
	size_t len;

	store_straddling();
	len = env.blob_len;
	memcpy(saved, env.blob, len);

	layout_sb(0)->first_rec = 1ull << 40;
	refused(-EUCLEAN, "first record offset");
	memcpy(env.blob, saved, len);
	layout_sb(1)->straddle_loc = 1ull << 50;
	refused(-EUCLEAN, "straddling record");
	memcpy(env.blob, saved, len);
	layout_sb(5)->next = 3; /* a free superblock with a successor */
	refused(-EUCLEAN, "successor");
	memcpy(env.blob, saved, len);
	layout_sb(5)->state = FW_SB_OPEN; /* two open superblocks */
	refused(-EUCLEAN, "open superblock");
	memcpy(env.blob, saved, len);
	kvc_put_le32(env.blob, 0x12345678); /* magic */
	refused(-EUCLEAN, "bad magic");
	memcpy(env.blob, saved, len);
	kvc_put_le32(env.blob + LAYOUT_CUR, 99);
	refused(-EUCLEAN, "frontier out of range");
	/* The untouched layout still loads, every value intact. */
	memcpy(env.blob, saved, len);
	start();
	{
		static uint8_t got[50 * 1024];
		uint32_t vlen;

		ck_assert_uint_eq(fh_retrieve(&host, 1, "big4", got, sizeof(got), &vlen), 0);
		ck_assert_uint_eq(vlen, sizeof(got));
		ck_assert_uint_eq(got[0], 'e');
		ck_assert_uint_eq(got[sizeof(got) - 1], 'e');
	}
}
END_TEST

/* Defect 11: an invalid superblock state came up, then failed every write. */
START_TEST(invalid_superblock_state_is_refused)
{
	store_straddling();
	layout_sb(3)->state = 7;
	refused(-EUCLEAN, "invalid state");
}
END_TEST

/* Defect 7: keys without a layout came up as an empty log (then Unrecovered). */
START_TEST(missing_layout_with_keys_is_refused)
{
	store_straddling();
	env.blob_len = 0;
	env.pending_blob_len = 0;
	refused(-EUCLEAN, "value-log layout is missing");
}
END_TEST

/* A new device (no layout, no keys) still starts. */
START_TEST(new_device_starts_empty)
{
	stop();
	memset(env.meta, 0, sizeof(env.meta));
	memset(env.pending, 0, sizeof(env.pending));
	env.blob_len = env.pending_blob_len = 0;
	start();
	ck_assert_uint_eq(fh_simple(&host, 1, KVC_KV_EXIST, "big0"),
			  KVC_ST_GENERIC_DNR(KVC_SC_KV_KEY_NOT_EXIST));
}
END_TEST

static struct fh_meta_rec *meta_rec(const char *key)
{
	int i;

	for (i = 0; i < FH_MAX_META; i++) {
		if (env.meta[i].live && env.meta[i].klen == strlen(key) &&
		    !memcmp(env.meta[i].key, key, env.meta[i].klen))
			return &env.meta[i];
	}
	ck_abort_msg("no catalog record for %s", key);
	return NULL;
}

/* Defect 11: a damaged record was blamed on "another geometry". */
START_TEST(record_outside_written_log_is_refused)
{
	struct fh_meta_rec *r;

	store_straddling();
	r = meta_rec("big2");
	kvc_put_le64(r->rec, 6ull * 256 * 1024); /* superblock 6 is free */
	refused(-EUCLEAN, "outside the written value log");
	kvc_put_le64(r->rec, 1ull << 60);
	refused(-EUCLEAN, "outside the written value log");
	kvc_put_le64(r->rec, 256 * 1024 + 200 * 1024); /* past the frontier */
	refused(-EUCLEAN, "outside the written value log");
	kvc_put_le64(r->rec, 0);
	kvc_put_le32(r->rec + 8, 1u << 30);
	refused(-EUCLEAN, "larger than device.max_value");
}
END_TEST

START_TEST(layout_from_another_geometry_is_named)
{
	store_straddling();
	cfg.geo.blocks_per_plane = 16;
	refused(-EXDEV, "another NAND geometry");
}
END_TEST

static Suite *subsys_suite(void)
{
	Suite *s = suite_create("firmware/subsys");
	TCase *tc = tcase_create("recovery");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, corrupt_layout_next_pointer_is_refused);
	tcase_add_test(tc, layout_cycle_is_refused);
	tcase_add_test(tc, layout_fields_out_of_range_are_refused);
	tcase_add_test(tc, invalid_superblock_state_is_refused);
	tcase_add_test(tc, missing_layout_with_keys_is_refused);
	tcase_add_test(tc, new_device_starts_empty);
	tcase_add_test(tc, record_outside_written_log_is_refused);
	tcase_add_test(tc, layout_from_another_geometry_is_named);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(subsys_suite)
