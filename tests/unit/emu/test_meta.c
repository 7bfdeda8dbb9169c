// SPDX-License-Identifier: MIT
/*
 * The emulator's LMDB catalog (emu/meta.c) on a real data.mdb: sealed records
 * round trip, the clean-shutdown checksum, and every kind of damage it must
 * refuse with -EUCLEAN and a message naming data.mdb: a record failing its
 * checksum, a catalog of the old format, a lost database, LMDB meta pages that
 * disagree, a file changed since its clean shutdown, a truncated file.
 */
#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_main.h"
#include "cmdset/le.h"
#include "emu/meta.h"
#include "firmware/crc.h"

static char dir[64], file[96], sum[96];
static struct emu_meta m;
static char err[512];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/nvkv-meta-%d", (int)getpid());
	snprintf(file, sizeof(file), "%s/data.mdb", dir);
	snprintf(sum, sizeof(sum), "%s/data.mdb.sum", dir);
	ck_assert_int_eq(mkdir(dir, 0755), 0);
}

static void teardown(void)
{
	char cmd[96];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static int count_cb(void *arg, const void *k, size_t kl, const void *r, size_t rl)
{
	(void)k;
	ck_assert_uint_eq(rl, 16);
	ck_assert_uint_ge(kl, 1);
	ck_assert_uint_eq(((const uint8_t *)r)[0], 0xa5);
	++*(int *)arg;
	return 0;
}

/* A catalog with @n records and a blob, closed cleanly (or not). */
static void make_catalog(int n, bool clean)
{
	uint8_t rec[16];
	char key[16];
	int i;

	ck_assert_int_eq(emu_meta_open(&m, dir, 16, err, sizeof(err)), 0);
	ck_assert(m.empty);
	memset(rec, 0xa5, sizeof(rec));
	for (i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "k%04d", i);
		ck_assert_int_eq(emu_meta_put(&m, key, strlen(key), rec, sizeof(rec)), 0);
	}
	ck_assert_int_eq(emu_meta_set_blob(&m, "vlog", "layout", 6), 0);
	ck_assert_int_eq(emu_meta_commit(&m, clean), 0);
	if (!clean) {
		/* what kill -9 leaves: no close, no checksum; the lock goes with the process */
		close(m.lock_fd);
		mdb_env_close(m.env);
		return;
	}
	emu_meta_close(&m);
	ck_assert_int_eq(access(sum, F_OK), 0);
}

static void open_refused(const char *what)
{
	ck_assert_int_eq(emu_meta_open(&m, dir, 16, err, sizeof(err)), -EUCLEAN);
	ck_assert_msg(strstr(err, "data.mdb") && strstr(err, what), "message '%s' lacks '%s'", err,
		      what);
}

/* Raw LMDB access to the same file, for damage that needs a valid B-tree. */
static void raw_open(MDB_env **env, MDB_txn **txn)
{
	ck_assert_int_eq(mdb_env_create(env), 0);
	ck_assert_int_eq(mdb_env_set_maxdbs(*env, 4), 0);
	ck_assert_int_eq(mdb_env_set_mapsize(*env, 16u << 20), 0);
	ck_assert_int_eq(mdb_env_open(*env, dir, 0, 0644), 0);
	ck_assert_int_eq(mdb_txn_begin(*env, NULL, 0, txn), 0);
}

static void raw_commit(MDB_env *env, MDB_txn *txn)
{
	ck_assert_int_eq(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	unlink(sum); /* raw edits are not clean shutdowns of ours */
}

/* Write data.mdb.sum for the file as it is now (as a clean close would). */
static void forge_sum(void)
{
	static uint8_t buf[16 << 20];
	uint8_t a[152], b[152];
	uint64_t used;
	int fd = open(file, O_RDONLY);
	FILE *f;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, a, sizeof(a), 0), sizeof(a));
	ck_assert_int_eq(pread(fd, b, sizeof(b), 4096), sizeof(b));
	if (kvc_get_le64(b + 144) > kvc_get_le64(a + 144))
		memcpy(a, b, sizeof(a));
	used = (kvc_get_le64(a + 136) + 1) * 4096;
	ck_assert_uint_le(used, sizeof(buf));
	ck_assert_int_eq(pread(fd, buf, used, 0), (ssize_t)used);
	close(fd);
	f = fopen(sum, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "nvkv-catalog-sum 1 %llu %08x\n", (unsigned long long)used,
		fw_crc32c(0, buf, used));
	fclose(f);
}

START_TEST(records_round_trip_and_clean_close_writes_a_checksum)
{
	uint8_t blob[6];
	int n = 0;

	make_catalog(50, true);
	ck_assert_int_eq(emu_meta_open(&m, dir, 16, err, sizeof(err)), 0);
	ck_assert(m.verified);
	ck_assert(!m.empty);
	ck_assert_int_eq(emu_meta_iterate(&m, count_cb, &n), 0);
	ck_assert_int_eq(n, 50);
	ck_assert_int_eq(emu_meta_get_blob(&m, "vlog", blob, sizeof(blob)), 0);
	ck_assert_mem_eq(blob, "layout", 6);
	ck_assert_int_eq(emu_meta_get_blob(&m, "vlog", blob, 5), -EINVAL);
	ck_assert_int_eq(emu_meta_get_blob(&m, "none", blob, 5), -ENOENT);
	/* The first write removes the checksum: a crash from here on leaves none. */
	ck_assert_int_eq(emu_meta_del(&m, "k0001", 5), 0);
	ck_assert_int_ne(access(sum, F_OK), 0);
	emu_meta_close(&m); /* no synced commit: no checksum */
	ck_assert_int_ne(access(sum, F_OK), 0);
	/* Without a checksum the structure walk runs, and passes. */
	ck_assert_int_eq(emu_meta_open(&m, dir, 16, err, sizeof(err)), 0);
	ck_assert(!m.verified);
	emu_meta_close(&m);
}
END_TEST

START_TEST(record_failing_its_checksum_is_refused)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = { 5, "k0003" }, v;
	uint8_t copy[24];
	int n = 0;

	make_catalog(10, true);
	raw_open(&env, &txn);
	ck_assert_int_eq(mdb_dbi_open(txn, "index", 0, &dbi), 0);
	ck_assert_int_eq(mdb_get(txn, dbi, &k, &v), 0);
	ck_assert_uint_eq(v.mv_size, 24); /* 16 + the 8-byte trailer */
	memcpy(copy, v.mv_data, sizeof(copy));
	copy[9] ^= 0x10; /* one bit of the value length */
	v.mv_data = copy;
	ck_assert_int_eq(mdb_put(txn, dbi, &k, &v, 0), 0);
	raw_commit(env, txn);
	/* The walk at open sees it first. */
	open_refused("checksum");
	/* With a matching clean-shutdown checksum the walk is skipped: iterate
	 * refuses the record itself. */
	forge_sum();
	ck_assert_int_eq(emu_meta_open(&m, dir, 16, err, sizeof(err)), 0);
	ck_assert(m.verified);
	ck_assert_int_eq(emu_meta_iterate(&m, count_cb, &n), -EUCLEAN);
	ck_assert_int_eq(n, 3); /* k0000..k0002 came before it */
	emu_meta_close(&m);
}
END_TEST

START_TEST(old_format_catalog_is_refused)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi idx, blobs;
	uint8_t rec[16] = { 0 };
	MDB_val k = { 4, "key1" }, v = { 16, rec };
	MDB_val bk = { 4, "vlog" }, bv = { 16, rec };

	raw_open(&env, &txn);
	ck_assert_int_eq(mdb_dbi_open(txn, "index", MDB_CREATE, &idx), 0);
	ck_assert_int_eq(mdb_dbi_open(txn, "blobs", MDB_CREATE, &blobs), 0);
	ck_assert_int_eq(mdb_put(txn, idx, &k, &v, 0), 0);
	ck_assert_int_eq(mdb_put(txn, blobs, &bk, &bv, 0), 0);
	raw_commit(env, txn);
	open_refused("format 0");
}
END_TEST

START_TEST(lost_index_database_is_refused)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;

	make_catalog(10, true);
	raw_open(&env, &txn);
	ck_assert_int_eq(mdb_dbi_open(txn, "index", 0, &dbi), 0);
	ck_assert_int_eq(mdb_drop(txn, dbi, 1), 0);
	raw_commit(env, txn);
	open_refused("lost its 'index'");
}
END_TEST

static void poke(off_t off, uint8_t x)
{
	int fd = open(file, O_RDWR);
	uint8_t b;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, &b, 1, off), 1);
	b ^= x;
	ck_assert_int_eq(pwrite(fd, &b, 1, off), 1);
	close(fd);
}

/* A flipped transaction id would roll the catalog back to an older commit. */
START_TEST(meta_pages_that_disagree_are_refused)
{
	make_catalog(10, false);
	poke(4096 + 144 + 5, 0x01); /* meta page 1's txnid, bit 40 */
	open_refused("meta pages");
}
END_TEST

START_TEST(damaged_meta_page_is_refused)
{
	make_catalog(10, false);
	poke(16, 0x01); /* meta page 0's magic */
	open_refused("meta page 0");
}
END_TEST

START_TEST(change_since_clean_shutdown_is_refused)
{
	make_catalog(10, true);
	poke(3 * 4096 + 2000, 0x40); /* somewhere in a data page */
	open_refused("clean shutdown");
}
END_TEST

START_TEST(truncated_catalog_is_refused)
{
	make_catalog(200, false);
	ck_assert_int_eq(truncate(file, 3 * 4096), 0);
	open_refused("truncated");
}
END_TEST

/* A damaged node whose value would point outside the file: the walk in the
 * child refuses it (liblmdb would hand the parent a wild pointer). */
START_TEST(node_pointing_outside_the_file_is_refused)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = { 5, "k0003" }, v;
	uint8_t *page, *p;
	long off;
	int fd;

	make_catalog(10, false);
	raw_open(&env, &txn);
	ck_assert_int_eq(mdb_dbi_open(txn, "index", 0, &dbi), 0);
	ck_assert_int_eq(mdb_get(txn, dbi, &k, &v), 0);
	/* The node header is 8 bytes before the key: u16 lo, u16 hi data size, ... */
	p = (uint8_t *)v.mv_data - 5 - 8;
	page = (uint8_t *)((uintptr_t)p & ~(uintptr_t)4095);
	off = (long)kvc_get_le64(page) * 4096 + (p - page);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	fd = open(file, O_RDWR);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, "\xff\xff\xff\x7f", 4, off), 4);
	close(fd);
	open_refused("damaged");
}
END_TEST

static Suite *meta_suite(void)
{
	Suite *s = suite_create("emu/meta");
	TCase *tc = tcase_create("catalog");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, records_round_trip_and_clean_close_writes_a_checksum);
	tcase_add_test(tc, record_failing_its_checksum_is_refused);
	tcase_add_test(tc, old_format_catalog_is_refused);
	tcase_add_test(tc, lost_index_database_is_refused);
	tcase_add_test(tc, meta_pages_that_disagree_are_refused);
	tcase_add_test(tc, damaged_meta_page_is_refused);
	tcase_add_test(tc, change_since_clean_shutdown_is_refused);
	tcase_add_test(tc, truncated_catalog_is_refused);
	tcase_add_test(tc, node_pointing_outside_the_file_is_refused);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(meta_suite)
