// SPDX-License-Identifier: MIT
/* Block FTL: read after write, overwrite, partial units, trim, GC under
 * pressure against a shadow copy, recovery from the catalog after a crash,
 * the superblock split with the value log, media faults, damaged state. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "fakehost.c"
#include "firmware/crc.h"
#include "firmware/ftl.h"
#include "firmware/vlog.h"

#define NSB 8	  /* fh_small_config: 8 blocks per die, 4 dies */
#define SPLIT 3	  /* the value log owns [0, 3), the FTL [3, 8) */
#define MAXU 2048 /* shadow size */

static struct fh_env env;
static struct fw_config cfg;
static struct fw_nand nand;
static struct fw_ftl ftl;
/* Shadow: version written last per unit (0 = never / trimmed) and the
 * version the last commit made durable. */
static uint32_t ver[MAXU], committed[MAXU];
static uint8_t buf[FW_FTL_UNIT], want[FW_FTL_UNIT];

/* Commit the catalog the way the subsystem does: save, commit, mark clean. */
static int commit_cb(void *arg)
{
	struct fw_ftl *f = arg;
	int rc = fw_ftl_stage(f);

	if (!rc)
		rc = fw_ftl_save(f);
	if (!rc)
		rc = env.hal.meta_commit(env.hal.ctx, 0);
	if (!rc) {
		fw_ftl_committed(f);
		memcpy(committed, ver, sizeof(ver));
	}
	return rc;
}

static void setup_geo(uint32_t page_size, bool persistent)
{
	fh_small_config(&cfg);
	cfg.geo.page_size = page_size;
	fh_env_init(&env, &cfg, persistent);
	ck_assert_int_eq(fw_nand_init(&nand, &cfg.geo, &cfg.nand), 0);
	memset(ver, 0, sizeof(ver));
	memset(committed, 0, sizeof(committed));
}

static void open_ftl(uint32_t op)
{
	ck_assert_int_eq(fw_ftl_init(&ftl, &nand, &env.hal, SPLIT, NSB - SPLIT, 2, op), 0);
	ck_assert_uint_le(fw_ftl_units(&ftl), MAXU);
	if (env.hal.meta_commit) {
		ftl.persist = commit_cb;
		ftl.persist_arg = &ftl;
	}
}

static void teardown(void)
{
	fw_ftl_fini(&ftl);
	fw_nand_fini(&nand);
	fh_env_fini(&env);
}

/* The contents of version @v of unit @u: every 4-byte word names both. */
static void pattern(uint8_t *p, uint64_t u, uint32_t v)
{
	uint32_t i;

	if (!v) {
		memset(p, 0, FW_FTL_UNIT);
		return;
	}
	for (i = 0; i < FW_FTL_UNIT; i += 4)
		kvc_put_le32(p + i, (uint32_t)u * 2654435761u ^ v * 40503u ^ i);
}

static void wr(uint64_t u, uint32_t v)
{
	uint64_t ready;

	pattern(buf, u, v);
	ck_assert_int_eq(fw_ftl_write(&ftl, u, 0, FW_FTL_UNIT, buf, 0, &ready), 0);
	ver[u] = v;
}

static void check_unit(uint64_t u, uint32_t v)
{
	uint64_t done;

	pattern(want, u, v);
	ck_assert_int_eq(fw_ftl_read(&ftl, u, 0, FW_FTL_UNIT, buf, 0, &done), 0);
	ck_assert_msg(!memcmp(buf, want, FW_FTL_UNIT), "unit %llu is not version %u",
		      (unsigned long long)u, v);
}

static void check_all(const uint32_t *v)
{
	uint64_t u;

	for (u = 0; u < fw_ftl_units(&ftl); u++)
		check_unit(u, v[u]);
}

/* Page sizes 4 KiB (one unit per page) and 16 KiB (four: an open page). */
static const uint32_t page_sizes[] = { 4096, 16384 };

START_TEST(read_after_write_overwrite_and_partial_units)
{
	uint64_t ready, done, u;
	uint8_t sector[512];

	setup_geo(page_sizes[_i], false);
	open_ftl(10);
	for (u = 0; u < 40; u++)
		wr(u, 1);
	for (u = 0; u < 40; u += 3)
		wr(u, 2);
	check_all(ver);
	ck_assert(!fw_ftl_mapped(&ftl, 40));
	/* A 512-byte write merges with the unit's old contents ... */
	memset(sector, 0xa5, sizeof(sector));
	ck_assert_int_eq(fw_ftl_write(&ftl, 5, 1024, 512, sector, 0, &ready), 0);
	pattern(want, 5, ver[5]);
	memset(want + 1024, 0xa5, 512);
	ck_assert_int_eq(fw_ftl_read(&ftl, 5, 0, FW_FTL_UNIT, buf, 0, &done), 0);
	ck_assert_mem_eq(buf, want, FW_FTL_UNIT);
	ck_assert_int_eq(fw_ftl_read(&ftl, 5, 1024, 512, buf, 0, &done), 0);
	ck_assert_mem_eq(buf, sector, 512);
	/* ... or with zeros when it was never written. */
	ck_assert_int_eq(fw_ftl_write(&ftl, 60, 3584, 512, sector, 0, &ready), 0);
	memset(want, 0, sizeof(want));
	memset(want + 3584, 0xa5, 512);
	ck_assert_int_eq(fw_ftl_read(&ftl, 60, 0, FW_FTL_UNIT, buf, 0, &done), 0);
	ck_assert_mem_eq(buf, want, FW_FTL_UNIT);
	ck_assert_uint_eq(ftl.st.rmw, 2);
	ck_assert_uint_eq(ftl.used, 41);
	/* Bounds. */
	ck_assert_int_eq(fw_ftl_write(&ftl, fw_ftl_units(&ftl), 0, 4096, buf, 0, &ready), -EINVAL);
	ck_assert_int_eq(fw_ftl_read(&ftl, 0, 4095, 2, buf, 0, &done), -EINVAL);
	ck_assert_int_eq(fw_ftl_trim(&ftl, fw_ftl_units(&ftl)), -EINVAL);
	teardown();
}
END_TEST

START_TEST(trim_reads_zeros)
{
	uint64_t u;

	setup_geo(page_sizes[_i], false);
	open_ftl(10);
	for (u = 0; u < 20; u++)
		wr(u, 7);
	for (u = 0; u < 20; u += 2) {
		ck_assert_int_eq(fw_ftl_trim(&ftl, u), 0);
		ver[u] = 0;
	}
	ck_assert_uint_eq(ftl.used, 10);
	ck_assert_uint_eq(ftl.st.trims, 10);
	ck_assert(!fw_ftl_mapped(&ftl, 0));
	ck_assert(fw_ftl_mapped(&ftl, 1));
	check_all(ver);
	/* Trimming an unmapped unit is no change. */
	ck_assert_int_eq(fw_ftl_trim(&ftl, 0), 0);
	ck_assert_uint_eq(ftl.st.trims, 10);
	teardown();
}
END_TEST

/* Random overwrites of the whole device, five times over, with trims: GC
 * runs many times and every unit reads what the shadow says. */
START_TEST(gc_under_pressure_keeps_every_byte)
{
	uint64_t n, u, units;
	uint32_t v = 1;

	setup_geo(page_sizes[_i], true);
	open_ftl(15);
	units = fw_ftl_units(&ftl);
	srand(11);
	for (u = 0; u < units; u++)
		wr(u, v++);
	for (n = 0; n < 5 * units; n++) {
		u = (uint64_t)rand() % units;
		if (rand() % 16 == 0) {
			ck_assert_int_eq(fw_ftl_trim(&ftl, u), 0);
			ver[u] = 0;
		} else {
			wr(u, v++);
		}
	}
	ck_assert_uint_ge(ftl.st.gc_runs, 10);
	ck_assert_uint_gt(ftl.st.gc_moves, 0);
	/* Model time never advances: passes stay pending, so GC turns urgent. */
	ck_assert_uint_gt(ftl.st.gc_urgent, 0);
	check_all(ver);
	/* GC commits before each erase: the catalog keeps up. */
	ck_assert_uint_ge(env.commits, ftl.st.gc_runs);
	teardown();
}
END_TEST

/* Recreate the FTL from the fake catalog after a crash: every unit reads
 * what the last commit made durable, GC commits included; the device then
 * goes on (frontier, free superblocks and valid counts are right). */
START_TEST(recovery_after_crash_keeps_committed_units)
{
	uint64_t n, u, units, used, gc_runs = 0;
	uint32_t v = 1, round;

	setup_geo(page_sizes[_i], true);
	open_ftl(15);
	units = fw_ftl_units(&ftl);
	srand(5);
	for (round = 0; round < 3; round++) {
		for (n = 0; n < 2 * units; n++) {
			u = (uint64_t)rand() % units;
			if (rand() % 20 == 0) {
				ck_assert_int_eq(fw_ftl_trim(&ftl, u), 0);
				ver[u] = 0;
			} else {
				wr(u, v++);
			}
			if (rand() % 97 == 0)
				ck_assert_int_eq(commit_cb(&ftl), 0);
		}
		/* A few uncommitted writes, then kill -9. */
		for (n = 0; n < 7; n++)
			wr((uint64_t)rand() % units, v++);
		gc_runs += ftl.st.gc_runs;
		fh_env_crash(&env);
		fw_ftl_fini(&ftl);
		open_ftl(15);
		ck_assert_int_eq(fw_ftl_load(&ftl), 0);
		memcpy(ver, committed, sizeof(ver));
		check_all(committed);
		for (used = 0, u = 0; u < units; u++)
			used += committed[u] != 0;
		ck_assert_uint_eq(ftl.used, used);
	}
	ck_assert_uint_ge(gc_runs, 3);
	teardown();
}
END_TEST

/* A new FTL commits its whole map once; later commits write only the
 * chunks that changed. */
START_TEST(only_dirty_chunks_are_saved)
{
	setup_geo(16384, true);
	open_ftl(15);
	ck_assert_int_eq(fw_ftl_load(&ftl), -ENOENT);
	ck_assert(fw_ftl_dirty(&ftl));
	ck_assert_uint_gt(ftl.nchunks, 1);
	ck_assert_int_eq(commit_cb(&ftl), 0);
	ck_assert_uint_eq(ftl.st.chunks_saved, ftl.nchunks);
	ck_assert(!fw_ftl_dirty(&ftl));
	ck_assert_int_eq(commit_cb(&ftl), 0);
	ck_assert_uint_eq(ftl.st.chunks_saved, ftl.nchunks);
	wr(3, 1);
	wr(FW_FTL_CHUNK + 1, 1);
	ck_assert_int_eq(commit_cb(&ftl), 0);
	ck_assert_uint_eq(ftl.st.chunks_saved, ftl.nchunks + 2);
	ck_assert_ptr_nonnull(fh_blob_find(&env, "l2p.0"));
	ck_assert_ptr_nonnull(fh_blob_find(&env, "l2p.1"));
	ck_assert_ptr_nonnull(fh_blob_find(&env, FW_FTL_BLOB));
	/* Chunks are counted once however often they change, and the save
	 * reaches the last one (the count ends its scan). */
	wr(3, 2);
	wr(4, 1);
	wr(3, 3);
	wr(ftl.nunits - 1, 1);
	ck_assert_uint_eq(ftl.ndirty, 2);
	ck_assert(fw_ftl_dirty(&ftl));
	ck_assert_int_eq(commit_cb(&ftl), 0);
	ck_assert_uint_eq(ftl.st.chunks_saved, ftl.nchunks + 4);
	ck_assert_uint_eq(ftl.ndirty, 0);
	ck_assert(!fw_ftl_dirty(&ftl));
	teardown();
}
END_TEST

/* Blocks that belong to superblocks outside [first, first + n) were not touched. */
static void assert_touched_only(uint32_t first, uint32_t n)
{
	uint64_t b, nblocks = env.media_pages / env.pages_per_block;
	uint32_t sb;

	for (b = 0; b < nblocks; b++) {
		sb = (uint32_t)(b % nand.blocks_per_die);
		if (sb < first || sb >= first + n)
			ck_assert_msg(env.blk_writes[b] == 0, "block %llu (superblock %u) touched",
				      (unsigned long long)b, sb);
	}
}

static void kv_put(struct fw_vlog *vl, struct fw_index *ix, int k, uint32_t v, uint64_t now,
		   uint64_t *ready)
{
	static uint8_t val[3000];
	struct fw_idx_val iv, old;
	char key[12];
	uint8_t klen;

	klen = (uint8_t)snprintf(key, sizeof(key), "k%d", k);
	memset(val, (int)v, sizeof(val));
	iv.vlen = sizeof(val);
	iv.crc = fw_crc32c(fw_crc32c(0, key, klen), val, sizeof(val));
	ck_assert_int_eq(fw_vlog_append(vl, (const uint8_t *)key, klen, val, sizeof(val), iv.crc,
					false, now, &iv.loc, ready),
			 0);
	if (fw_index_put(ix, (const uint8_t *)key, klen, &iv, &old) == 1)
		fw_vlog_dead(vl, old.loc, klen, old.vlen);
}

static void kv_check(struct fw_vlog *vl, struct fw_index *ix, int k, uint32_t v)
{
	static uint8_t val[3000], exp[3000];
	struct fw_idx_val iv;
	uint64_t done;
	char key[12];
	uint8_t klen;

	klen = (uint8_t)snprintf(key, sizeof(key), "k%d", k);
	memset(exp, (int)v, sizeof(exp));
	ck_assert(fw_index_get(ix, (const uint8_t *)key, klen, &iv));
	ck_assert_int_eq(fw_vlog_read(vl, (const uint8_t *)key, klen, &iv, val, 0, &done), 0);
	ck_assert_mem_eq(val, exp, sizeof(exp));
}

/* The value log and the FTL, both under GC pressure on one array, stay in
 * their own superblocks, and neither's data is hurt by the other. */
START_TEST(capacity_split_is_honoured)
{
	struct fw_index ix;
	struct fw_vlog vl;
	uint64_t n, u, units, ready;
	uint32_t v = 1, kv[40] = { 0 };
	int k;

	setup_geo(page_sizes[_i], false);
	ck_assert_int_eq(fw_index_init(&ix), 0);
	ck_assert_int_eq(fw_vlog_init_range(&vl, &nand, &env.hal, &ix, 1, 0, NSB + 1), -EINVAL);
	ck_assert_int_eq(fw_vlog_init_range(&vl, &nand, &env.hal, &ix, 1, 0, SPLIT), 0);
	open_ftl(15);
	units = fw_ftl_units(&ftl);
	srand(2);
	for (n = 0; n < 800; n++) {
		k = rand() % 40;
		kv[k] = v;
		kv_put(&vl, &ix, k, v++, 0, &ready);
	}
	ck_assert_uint_gt(vl.st.gc_runs, 0);
	assert_touched_only(0, SPLIT);
	memset(env.blk_writes, 0, env.media_pages / env.pages_per_block * 4);
	for (n = 0; n < 4 * units; n++)
		wr((uint64_t)rand() % units, v++);
	ck_assert_uint_gt(ftl.st.gc_runs, 0);
	assert_touched_only(SPLIT, NSB - SPLIT);
	for (k = 0; k < 40; k++)
		if (kv[k])
			kv_check(&vl, &ix, k, kv[k]);
	for (u = 0; u < units; u++)
		check_unit(u, ver[u]);
	/* Exported capacity: what the range gives after reserve and OP. */
	ck_assert_uint_eq(units, (uint64_t)(NSB - SPLIT - 2 - 1) * ftl.sb_slots * 85 / 100);
	fw_vlog_fini(&vl);
	fw_index_fini(&ix);
	teardown();
}
END_TEST

/* A block write and a NAND read on the same die wait for each other. */
START_TEST(ftl_and_vlog_share_die_timelines)
{
	uint64_t ready, done, t0 = 1000000000ull;

	setup_geo(4096, false);
	open_ftl(15);
	/* Stream page 0 of the open superblock is on die 0. */
	pattern(buf, 0, 1);
	ck_assert_int_eq(fw_ftl_write(&ftl, 0, 0, FW_FTL_UNIT, buf, t0, &ready), 0);
	ck_assert_uint_ge(nand.die_free[0], t0 + cfg.nand.prog_ns[0]);
	/* A read of another range's page on die 0 waits for the program. */
	done = fw_nand_read(&nand, fw_nand_ppn(&nand, 0, 0, 0), 4096, t0);
	ck_assert_uint_ge(done, t0 + cfg.nand.prog_ns[0] + cfg.nand.read_ns[0]);
	/* And the FTL's read of its unit waits behind that read. */
	ck_assert_int_eq(fw_ftl_read(&ftl, 0, 0, FW_FTL_UNIT, buf, t0, &done), 0);
	ck_assert_uint_ge(done, t0 + cfg.nand.prog_ns[0] + 2 * cfg.nand.read_ns[0]);
	teardown();
}
END_TEST

/* Program failures: transient ones are retried, a page that keeps failing
 * is skipped and its units land on the next page; nothing is lost. */
static uint64_t bad_ppn = UINT64_MAX;
static int bad_left;

static int program_bad_page(void *ctx, uint64_t ppn, const void *data)
{
	if (ppn == bad_ppn && bad_left > 0) {
		bad_left--;
		return -EIO;
	}
	return f_program(ctx, ppn, data);
}

START_TEST(program_failure_skips_the_page)
{
	uint64_t u;

	setup_geo(page_sizes[_i], false);
	env.hal.nand_program = program_bad_page;
	open_ftl(15);
	/* Stream page 1 of the first superblock: die 1, page 0. */
	bad_ppn = fw_nand_ppn(&nand, 1, SPLIT, 0);
	bad_left = 3;
	for (u = 0; u < 12; u++)
		wr(u, 3);
	ck_assert_int_eq(bad_left, 0);
	ck_assert_uint_eq(ftl.st.program_errors, 1);
	ck_assert_uint_eq(ftl.st.lost_units, 0);
	check_all(ver);
	/* A transient failure is only retried (stream page 14 or 5: written
	 * by this second round). */
	bad_ppn = _i ? fw_nand_ppn(&nand, 1, SPLIT, 1) : fw_nand_ppn(&nand, 2, SPLIT, 3);
	bad_left = 1;
	for (u = 12; u < 24; u++)
		wr(u, 3);
	ck_assert_int_eq(bad_left, 0);
	ck_assert_uint_eq(ftl.st.program_errors, 1);
	check_all(ver);
	bad_ppn = UINT64_MAX;
	teardown();
}
END_TEST

/* Every program failing: units are lost (read as media errors), not
 * silently zero or stale, and the write reports -EIO. */
START_TEST(persistent_program_failure_loses_units_loudly)
{
	uint64_t ready, done;
	uint32_t u;
	int rc = 0;

	setup_geo(4096, false);
	open_ftl(15);
	fh_fault_arm(&env, FH_NAND_PROGRAM, 1, true);
	pattern(buf, 0, 1);
	for (u = 0; u < 4 && !rc; u++)
		rc = fw_ftl_write(&ftl, u, 0, FW_FTL_UNIT, buf, 0, &ready);
	ck_assert_int_eq(rc, -EIO);
	ck_assert_uint_ge(ftl.st.lost_units, 1);
	ck_assert_int_eq(fw_ftl_read(&ftl, 0, 0, FW_FTL_UNIT, buf, 0, &done), -EIO);
	ck_assert(strstr(env.last_log, "lost") != NULL);
	fh_fault_clear(&env);
	/* Rewriting a lost unit makes it good again. */
	wr(0, 2);
	check_unit(0, 2);
	teardown();
}
END_TEST

/* Read errors reach the caller; a block that fails to erase retires its
 * superblock and GC goes on without it. */
START_TEST(read_error_and_erase_failure)
{
	uint64_t n, u, units, done;

	setup_geo(4096, false);
	open_ftl(40); /* room left when a superblock retires */
	units = fw_ftl_units(&ftl);
	for (u = 0; u < units; u++)
		wr(u, 1);
	fh_fault_arm(&env, FH_NAND_READ, 1, false);
	ck_assert_int_eq(fw_ftl_read(&ftl, 0, 0, FW_FTL_UNIT, buf, 0, &done), -EIO);
	ck_assert_uint_eq(ftl.st.media_errors, 1);
	check_unit(0, 1);
	fh_fault_arm(&env, FH_NAND_ERASE, 1, false);
	srand(4);
	for (n = 0; n < 3 * units; n++)
		wr((uint64_t)rand() % units, (uint32_t)n + 2);
	ck_assert_uint_eq(ftl.st.retired, 1);
	ck_assert_uint_eq(ftl.st.erase_errors, 1);
	ck_assert_uint_gt(ftl.st.gc_runs, 2);
	check_all(ver);
	teardown();
}
END_TEST

/* Damaged or foreign stored state is refused: -EUCLEAN with a log line,
 * -EXDEV for another split. */
START_TEST(damaged_state_is_refused)
{
	struct fh_blob *b, saved_chunk, saved_lay;
	uint64_t u;

	setup_geo(4096, true);
	open_ftl(15);
	for (u = 0; u < 30; u++)
		wr(u, 1);
	ck_assert_int_eq(commit_cb(&ftl), 0);
	fw_ftl_fini(&ftl);
	saved_chunk = *fh_blob_find(&env, "l2p.0");
	saved_lay = *fh_blob_find(&env, FW_FTL_BLOB);

	/* Two units on one slot. */
	b = fh_blob_find(&env, "l2p.0");
	memcpy(b->data + 4, b->data, 4);
	open_ftl(15);
	env.log_lines = 0;
	ck_assert_int_eq(fw_ftl_load(&ftl), -EUCLEAN);
	ck_assert_uint_eq(env.log_lines, 1);
	ck_assert(strstr(env.last_log, "two units mapped to one slot") != NULL);
	fw_ftl_fini(&ftl);
	*b = saved_chunk;

	/* A unit mapped past the frontier. */
	kvc_put_le32(b->data + 8, 200);
	open_ftl(15);
	ck_assert_int_eq(fw_ftl_load(&ftl), -EUCLEAN);
	fw_ftl_fini(&ftl);
	*b = saved_chunk;

	/* A chunk of the wrong size, a missing chunk. */
	b->len = 100;
	open_ftl(15);
	ck_assert_int_eq(fw_ftl_load(&ftl), -EUCLEAN);
	fw_ftl_fini(&ftl);
	b->len = 0;
	open_ftl(15);
	ck_assert_int_eq(fw_ftl_load(&ftl), -EUCLEAN);
	ck_assert(strstr(env.last_log, "missing") != NULL);
	fw_ftl_fini(&ftl);
	*b = saved_chunk;

	/* Layout: magic, frontier, state. */
	b = fh_blob_find(&env, FW_FTL_BLOB);
	b->data[0] ^= 1;
	open_ftl(15);
	ck_assert_int_eq(fw_ftl_load(&ftl), -EUCLEAN);
	fw_ftl_fini(&ftl);
	*b = saved_lay;
	kvc_put_le32(b->data + 40, 77);
	open_ftl(15);
	ck_assert_int_eq(fw_ftl_load(&ftl), -EUCLEAN);
	fw_ftl_fini(&ftl);
	*b = saved_lay;
	b->data[48 + 8 * 2 + 4] = FW_FTL_OPEN;
	open_ftl(15);
	ck_assert_int_eq(fw_ftl_load(&ftl), -EUCLEAN);
	fw_ftl_fini(&ftl);
	*b = saved_lay;

	/* Another split or over-provisioning: not damage, another device. */
	ck_assert_int_eq(fw_ftl_init(&ftl, &nand, &env.hal, SPLIT - 1, NSB - SPLIT, 2, 15), 0);
	ck_assert_int_eq(fw_ftl_load(&ftl), -EXDEV);
	fw_ftl_fini(&ftl);
	open_ftl(20);
	ck_assert_int_eq(fw_ftl_load(&ftl), -EXDEV);
	fw_ftl_fini(&ftl);

	/* Restored: loads. */
	open_ftl(15);
	ck_assert_int_eq(fw_ftl_load(&ftl), 0);
	for (u = 0; u < 30; u++)
		check_unit(u, 1);
	teardown();
}
END_TEST

/* A failed commit leaves the chunks dirty: the next commit carries them. */
START_TEST(failed_commit_keeps_chunks_dirty)
{
	setup_geo(4096, true);
	open_ftl(15);
	ck_assert_int_eq(commit_cb(&ftl), 0);
	wr(1, 5);
	fh_fault_arm(&env, FH_META_COMMIT, 1, false);
	ck_assert_int_ne(commit_cb(&ftl), 0);
	ck_assert(fw_ftl_dirty(&ftl));
	ck_assert_int_eq(commit_cb(&ftl), 0);
	fh_env_crash(&env);
	fw_ftl_fini(&ftl);
	open_ftl(15);
	ck_assert_int_eq(fw_ftl_load(&ftl), 0);
	check_unit(1, 5);
	teardown();
}
END_TEST

/* Regression: as in the value log, the write-buffer slack was subtracted from
 * a program's end in unsigned arithmetic: at a clock below 2 x tPROG the
 * ready time of a write wrapped to ~2^64. */
START_TEST(ready_time_at_clock_zero_regression)
{
	uint64_t ready, most = 0, u;

	setup_geo(4096, false);
	open_ftl(10);
	for (u = 0; u < 16; u++) { /* several pages programmed at time 0 */
		pattern(buf, u, 1);
		ck_assert_int_eq(fw_ftl_write(&ftl, u, 0, FW_FTL_UNIT, buf, 0, &ready), 0);
		if (ready > most)
			most = ready;
	}
	ck_assert_uint_gt(ftl.st.programs, 0);
	ck_assert_uint_lt(most, 1000000000ull);
	teardown();
}
END_TEST

/* When every host operation queued on the NAND is done (GC's may not be). */
static uint64_t host_idle(void)
{
	uint64_t t = 0;
	uint32_t i;

	for (i = 0; i < nand.ndies; i++)
		t = t > nand.die_free[i] ? t : nand.die_free[i];
	for (i = 0; i < nand.geo.channels; i++)
		t = t > nand.chan_free[i] ? t : nand.chan_free[i];
	return t;
}

/*
 * Random overwrites spaced 300 us apart (each after the host work before it),
 * and at every GC pass a read of another unit at the instant of the write
 * that started it.  Returns the longest of those reads beyond their own
 * time (sense + transfer); checks every unit's contents at the end.
 */
static uint64_t read_wait_during_gc(enum fw_gc_policy policy)
{
	uint64_t ready, done, t, u, units, runs, worst = 0;
	uint32_t v = 2, k;

	setup_geo(4096, false);
	open_ftl(15);
	fw_nand_set_gc(&nand, policy, (uint64_t)cfg.gc_slice_us * 1000);
	units = fw_ftl_units(&ftl);
	for (u = 0; u < units; u++)
		wr(u, 1);
	t = host_idle() > fw_nand_gc_done(&nand) ? host_idle() : fw_nand_gc_done(&nand);
	srand(5);
	for (k = 0; k < 6 * units; k++) {
		u = (uint64_t)rand() % units;
		t = (t > host_idle() ? t : host_idle()) + 300000;
		runs = ftl.st.gc_runs;
		pattern(buf, u, v);
		ck_assert_int_eq(fw_ftl_write(&ftl, u, 0, FW_FTL_UNIT, buf, t, &ready), 0);
		ver[u] = v++;
		if (ftl.st.gc_runs == runs)
			continue;
		ck_assert_int_eq(fw_ftl_read(&ftl, (u + 1) % units, 0, FW_FTL_UNIT, buf, t, &done),
				 0);
		done -= t + cfg.nand.read_ns[0] + FW_FTL_UNIT * 1000ull / cfg.nand.chan_mbps;
		worst = done > worst ? done : worst;
	}
	ck_assert_uint_ge(ftl.st.gc_runs, 10);
	ck_assert_uint_gt(nand.st.gc_programs, 0);
	check_all(ver);
	return worst;
}

/*
 * The block FTL names its superblocks to come (nand_expect) only from its
 * first write on (a block namespace may never be written): then the open
 * one and the next, and the following one each time a superblock opens,
 * block by block from the last die down, in its own range.
 */
START_TEST(superblocks_to_come_are_named_from_the_first_write)
{
	unsigned int i, nd;
	uint64_t u = 0;

	setup_geo(4096, false);
	open_ftl(10);
	nd = nand.ndies;
	ck_assert_uint_eq(env.nexpect, 0);
	wr(u++, 1);
	ck_assert_uint_eq(env.nexpect, 2 * nd);
	while (ftl.cur == 0) {
		wr(u++, 1);
		ck_assert_uint_eq(env.nexpect, ftl.cur ? 3 * nd : 2 * nd);
	}
	for (i = 0; i < 3 * nd; i++) {
		ck_assert_uint_eq(env.expected[i] / nand.blocks_per_die, nd - 1 - i % nd);
		ck_assert_uint_eq(env.expected[i] % nand.blocks_per_die, SPLIT + i / nd);
	}
	check_unit(0, 1);
	teardown();
}
END_TEST

/* Block FTL GC on the GC timelines (as the value log's): a host read that
 * arrives while a GC pass works waits at most a slice on its die and one on
 * its channel, behind at most the one program the triggering write queued;
 * under the fifo policy it waits for GC's work (so the bound can fail). */
START_TEST(gc_yields_to_host_reads)
{
	uint64_t prog, slice, yield, fifo;

	yield = read_wait_during_gc(FW_GC_YIELD);
	slice = (uint64_t)cfg.gc_slice_us * 1000;
	prog = cfg.nand.prog_ns[0] + FW_FTL_UNIT * 1000ull / cfg.nand.chan_mbps;
	ck_assert_uint_eq(ftl.st.gc_urgent, 0); /* spaced writes: GC keeps up */
	ck_assert_uint_gt(nand.st.gc_waits, 0);
	teardown();
	fifo = read_wait_during_gc(FW_GC_FIFO);
	teardown();
	printf("read wait during GC: yield %llu ns, fifo %llu ns\n", (unsigned long long)yield,
	       (unsigned long long)fifo);
	ck_assert_uint_le(yield, 2 * slice + prog);
	ck_assert_uint_gt(fifo, 2 * slice + prog);
}
END_TEST

static Suite *ftl_suite(void)
{
	Suite *s = suite_create("firmware/ftl");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, read_after_write_overwrite_and_partial_units, 0, 2);
	tcase_add_test(tc, superblocks_to_come_are_named_from_the_first_write);
	tcase_add_loop_test(tc, trim_reads_zeros, 0, 2);
	tcase_add_loop_test(tc, gc_under_pressure_keeps_every_byte, 0, 2);
	tcase_add_loop_test(tc, recovery_after_crash_keeps_committed_units, 0, 2);
	tcase_add_test(tc, only_dirty_chunks_are_saved);
	tcase_add_test(tc, ready_time_at_clock_zero_regression);
	tcase_add_test(tc, gc_yields_to_host_reads);
	tcase_add_loop_test(tc, capacity_split_is_honoured, 0, 2);
	tcase_add_test(tc, ftl_and_vlog_share_die_timelines);
	tcase_add_loop_test(tc, program_failure_skips_the_page, 0, 2);
	tcase_add_test(tc, persistent_program_failure_loses_units_loudly);
	tcase_add_test(tc, read_error_and_erase_failure);
	tcase_add_test(tc, damaged_state_is_refused);
	tcase_add_test(tc, failed_commit_keeps_chunks_dirty);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(ftl_suite)
