// SPDX-License-Identifier: MIT
/*
 * The emulator's LMDB catalog (emu/meta.c) on a real data.mdb: sealed records
 * round trip, the clean-shutdown checksum, and every kind of damage it must
 * refuse with -EUCLEAN and a message naming data.mdb: a record failing its
 * checksum, a catalog of the old format, a lost database, LMDB meta pages that
 * disagree, a file changed since its clean shutdown, a truncated file.  The
 * journal: what a crash leaves is folded in at open (a batch cut short at its
 * end dropped, damage inside refused), the checkpoint thread folds full ones.
 */
#include <dirent.h>
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
#include "emu/record.h"
#include "firmware/crc.h"

static char dir[64], file[96], sum[96];
static struct emu_meta m;
static char err[512];

static void setup(void)
{
	/* A unique directory: a failed test leaves its own behind (its teardown
	 * does not run), which a later test of the same pid must not trip over. */
	snprintf(dir, sizeof(dir), "/tmp/nvkv-meta-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/data.mdb", dir);
	snprintf(sum, sizeof(sum), "%s/data.mdb.sum", dir);
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

/* What kill -9 leaves: no close, no checksum, the journal as written; the
 * lock goes with the process. */
static void crash(void)
{
	ck_assert(!m.ck.running);
	emu_journal_fini(&m.j);
	close(m.lock_fd);
	mdb_env_close(m.env);
	pthread_cond_destroy(&m.ck.cv);
	pthread_mutex_destroy(&m.ck.mu);
}

static void put_keys(int from, int to)
{
	uint8_t rec[16];
	char key[16];
	int i;

	memset(rec, 0xa5, sizeof(rec));
	for (i = from; i < to; i++) {
		snprintf(key, sizeof(key), "k%04d", i);
		ck_assert_int_eq(emu_meta_put(&m, key, strlen(key), rec, sizeof(rec)), 0);
	}
}

/* A catalog with @n records and a blob in data.mdb, closed cleanly (or,
 * after one more commit, not). */
static void make_catalog(int n, bool clean)
{
	ck_assert_int_eq(emu_meta_open(&m, dir, 16, err, sizeof(err)), 0);
	ck_assert(m.empty);
	put_keys(0, n);
	ck_assert_int_eq(emu_meta_set_blob(&m, "vlog", "layout", 6), 0);
	ck_assert_int_eq(emu_meta_commit(&m, 1), 0);
	emu_meta_close(&m);
	ck_assert_int_eq(access(sum, F_OK), 0);
	if (clean)
		return;
	ck_assert_int_eq(emu_meta_open(&m, dir, 16, err, sizeof(err)), 0);
	ck_assert_int_eq(emu_meta_set_blob(&m, "vlog", "layout", 6), 0);
	ck_assert_int_eq(emu_meta_commit(&m, 0), 0);
	crash();
}

static int journals(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)))
		n += !strncmp(e->d_name, "journal.", 8);
	closedir(d);
	return n;
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
	/* The first commit that changes the store removes the checksum: a crash
	 * from here on leaves none. */
	ck_assert_int_eq(emu_meta_del(&m, "k0001", 5), 0);
	ck_assert_int_eq(access(sum, F_OK), 0);
	ck_assert_int_eq(emu_meta_commit(&m, 0), 0);
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

static void poke_file(const char *path, off_t off, uint8_t x)
{
	int fd = open(path, O_RDWR);
	uint8_t b;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, &b, 1, off), 1);
	b ^= x;
	ck_assert_int_eq(pwrite(fd, &b, 1, off), 1);
	close(fd);
}

/* A bit flip in data.mdb. */
static void poke(off_t off, uint8_t x)
{
	poke_file(file, off, x);
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

static int find_cb(void *arg, const void *k, size_t kl, const void *r, size_t rl)
{
	const char *want = arg;

	(void)r;
	(void)rl;
	return kl == strlen(want) && !memcmp(k, want, kl) ? 1 : 0;
}

static bool has_key(const char *key)
{
	return emu_meta_iterate(&m, find_cb, (void *)key) == 1;
}

static void journal_file(char *out, size_t len, uint64_t seq)
{
	emu_journal_path(out, len, dir, seq);
}

/* Puts, a delete and a blob, each commit acknowledged but never folded:
 * the open after the crash folds them and deletes the journal. */
START_TEST(crash_leaves_a_journal_that_the_open_folds_in)
{
	uint8_t blob[6];
	int n = 0;

	ck_assert_int_eq(emu_meta_open(&m, dir, 16, err, sizeof(err)), 0);
	put_keys(0, 20);
	ck_assert_int_eq(emu_meta_commit(&m, 0), 0);
	ck_assert_int_eq(emu_meta_del(&m, "k0005", 5), 0);
	ck_assert_int_eq(emu_meta_set_blob(&m, "vlog", "state2", 6), 0);
	ck_assert_int_eq(emu_meta_commit(&m, 0), 0);
	ck_assert_int_eq(journals(), 1);
	crash();
	ck_assert_int_eq(emu_meta_open(&m, dir, 16, err, sizeof(err)), 0);
	ck_assert_int_eq(journals(), 0);
	ck_assert(!m.empty);
	ck_assert_int_eq(emu_meta_iterate(&m, count_cb, &n), 0);
	ck_assert_int_eq(n, 19);
	ck_assert(!has_key("k0005"));
	ck_assert(has_key("k0019"));
	ck_assert_int_eq(emu_meta_get_blob(&m, "vlog", blob, sizeof(blob)), 0);
	ck_assert_mem_eq(blob, "state2", 6);
	/* The next journal continues the numbering. */
	ck_assert_uint_eq(m.j.seq, 2);
	emu_meta_close(&m);
}
END_TEST

/* Keys k0000-k0002 and k0003-k0005 in two unsynced commits, then a crash;
 * @path is the journal holding them. */
static void two_batches_then_crash(char *path, size_t len)
{
	ck_assert_int_eq(emu_meta_open(&m, dir, 16, err, sizeof(err)), 0);
	put_keys(0, 3);
	ck_assert_int_eq(emu_meta_commit(&m, 0), 0);
	put_keys(3, 6);
	ck_assert_int_eq(emu_meta_commit(&m, 0), 0);
	crash();
	journal_file(path, len, 1);
}

/* A batch cut short by the crash was never acknowledged: dropped, the ones
 * before it kept. */
START_TEST(batch_cut_short_at_the_end_is_dropped)
{
	char path[256];
	struct stat st;

	two_batches_then_crash(path, sizeof(path));
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(truncate(path, st.st_size - 3), 0);
	ck_assert_int_eq(emu_meta_open(&m, dir, 16, err, sizeof(err)), 0);
	ck_assert(has_key("k0002"));
	ck_assert(!has_key("k0003"));
	ck_assert(!has_key("k0005"));
	emu_meta_close(&m);
}
END_TEST

/* The newest journal empty, or cut inside its 16-byte header: created by the
 * commit the crash interrupted, nothing in it acknowledged; dropped, the
 * journal before it folded in. */
START_TEST(newest_journal_cut_inside_its_header_is_dropped)
{
	char path[256], next[256];
	uint8_t hdr[16];
	int fd;

	two_batches_then_crash(path, sizeof(path));
	fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(read(fd, hdr, sizeof(hdr)), (int)sizeof(hdr));
	close(fd);
	journal_file(next, sizeof(next), 2);
	fd = open(next, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, hdr, (size_t)_i), _i); /* 0 to 9 bytes */
	close(fd);
	ck_assert_int_eq(emu_meta_open(&m, dir, 16, err, sizeof(err)), 0);
	ck_assert(has_key("k0000"));
	ck_assert(has_key("k0005"));
	ck_assert_int_eq(journals(), 0);
	emu_meta_close(&m);
}
END_TEST

static void journal_refused(const char *what)
{
	ck_assert_int_eq(emu_meta_open(&m, dir, 16, err, sizeof(err)), -EUCLEAN);
	ck_assert_msg(strstr(err, "journal") && strstr(err, what), "message '%s' lacks '%s'", err,
		      what);
}

/* Damage before the last batch is not a crash's doing: refused, not dropped
 * (dropping would lose acknowledged changes silently). */
START_TEST(damaged_batch_inside_a_journal_is_refused)
{
	char path[256];

	two_batches_then_crash(path, sizeof(path));
	poke_file(path, 16 + 20 + 9, 0x04); /* the first batch's first key */
	journal_refused("checksum");
	poke_file(path, 16 + 20 + 9, 0x04);
	poke_file(path, 16 + 4, 0x01); /* its payload length */
	journal_refused("header");
}
END_TEST

/* A journal between the last folded one and a newer one is gone; a journal
 * under another number than its header says. */
START_TEST(missing_journal_is_refused)
{
	char from[256], to[256];

	ck_assert_int_eq(emu_meta_open(&m, dir, 16, err, sizeof(err)), 0);
	put_keys(0, 3);
	ck_assert_int_eq(emu_meta_commit(&m, 0), 0);
	crash();
	journal_file(from, sizeof(from), 1);
	journal_file(to, sizeof(to), 2);
	ck_assert_int_eq(rename(from, to), 0);
	journal_refused("journal.0000000000000001 is missing");
	/* Back in its place, but naming journal 2 in its header. */
	poke_file(to, 8, 0x03); /* 1 -> 2 */
	ck_assert_int_eq(rename(to, from), 0);
	journal_refused("header");
}
END_TEST

/* Journals past journal_max are folded by the checkpoint thread while
 * commits go on; a clean close folds the rest and leaves none. */
START_TEST(checkpoint_thread_folds_full_journals)
{
	uint64_t folds = 0;
	int i, n = 0;

	ck_assert_int_eq(emu_meta_open(&m, dir, 16, err, sizeof(err)), 0);
	m.journal_max = 1; /* every commit's journal is full */
	for (i = 0; i < 200; i++) {
		put_keys(i, i + 1);
		ck_assert_int_eq(emu_meta_commit(&m, 0), 0);
	}
	for (i = 0; i < 1000 && !folds; i++) {
		pthread_mutex_lock(&m.ck.mu);
		folds = m.ck.folds;
		pthread_mutex_unlock(&m.ck.mu);
		if (!folds)
			usleep(10000);
	}
	ck_assert_uint_ge(folds, 1);
	ck_assert(m.ck.running);
	ck_assert_int_eq(emu_meta_commit(&m, 1), 0);
	emu_meta_close(&m);
	ck_assert_int_eq(journals(), 0);
	ck_assert_int_eq(access(sum, F_OK), 0);
	ck_assert_int_eq(emu_meta_open(&m, dir, 16, err, sizeof(err)), 0);
	ck_assert(m.verified);
	ck_assert_int_eq(emu_meta_iterate(&m, count_cb, &n), 0);
	ck_assert_int_eq(n, 200);
	emu_meta_close(&m);
}
END_TEST

/* LMDB refuses an empty key at fold time; the put refuses it now, and the
 * batch it was in fails as a whole. */
START_TEST(refused_put_fails_its_batch)
{
	uint8_t rec[16] = { 0 };

	ck_assert_int_eq(emu_meta_open(&m, dir, 16, err, sizeof(err)), 0);
	put_keys(0, 2);
	ck_assert_int_eq(emu_meta_put(&m, "", 0, rec, sizeof(rec)), -EINVAL);
	ck_assert_int_ne(emu_meta_commit(&m, 0), 0);
	put_keys(2, 3);
	ck_assert_int_eq(emu_meta_commit(&m, 1), 0);
	emu_meta_close(&m);
	ck_assert_int_eq(emu_meta_open(&m, dir, 16, err, sizeof(err)), 0);
	ck_assert(!has_key("k0000"));
	ck_assert(has_key("k0002"));
	emu_meta_close(&m);
}
END_TEST

/* A journal longer than data.mdb has room for would fail its fold after the
 * batches in it were acknowledged; the commit that would overfill the map is
 * refused instead (-ENOSPC, as LMDB refused a full map), and everything
 * acknowledged before it is there after a close and an open.  With
 * @journal_max small the checkpoint thread folds as the commits go on;
 * with it large, only when the map is nearly full. */
static void fill_until_refused(uint64_t journal_max)
{
	uint8_t rec[16];
	char key[16];
	int i, b, acked = 0, rc = 0, n = 0;

	memset(rec, 0xa5, sizeof(rec));
	ck_assert_int_eq(emu_meta_open(&m, dir, 16, err, sizeof(err)), 0);
	m.journal_max = journal_max;
	for (b = 0; b < 1000 && !rc; b++) {
		for (i = 0; i < 1000; i++) {
			snprintf(key, sizeof(key), "k%07d", b * 1000 + i);
			ck_assert_int_eq(emu_meta_put(&m, key, strlen(key), rec, sizeof(rec)), 0);
		}
		rc = emu_meta_commit(&m, 0);
		acked += rc ? 0 : 1000;
	}
	ck_assert_int_eq(rc, -ENOSPC);
	/* The map is used, not only estimated: near full, the journals are
	 * folded and measured (the estimate alone stops near 120 000 keys). */
	ck_assert_int_ge(acked, 300000);
	ck_assert_uint_gt(m.ck.lmdb_used, 14u << 20);
	ck_assert_int_eq(emu_meta_commit(&m, 1), 0);
	ck_assert_int_eq(m.ck.err, 0);
	emu_meta_close(&m);
	ck_assert_int_eq(journals(), 0);
	ck_assert_int_eq(emu_meta_open(&m, dir, 16, err, sizeof(err)), 0);
	ck_assert(m.verified);
	ck_assert_int_eq(emu_meta_iterate(&m, count_cb, &n), 0);
	ck_assert_int_eq(n, acked);
	/* Deleting makes room again. */
	for (i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "k%07d", i);
		ck_assert_int_eq(emu_meta_del(&m, key, strlen(key)), 0);
	}
	ck_assert_int_eq(emu_meta_commit(&m, 1), 0);
	emu_meta_close(&m);
}

START_TEST(commit_that_would_overfill_the_map_is_refused)
{
	fill_until_refused((uint64_t)EMU_META_JOURNAL_MB << 20);
}
END_TEST

START_TEST(map_room_is_kept_while_the_checkpoint_thread_folds)
{
	fill_until_refused(256 << 10);
}
END_TEST

/* The reference for the fold: per key, its last value (-1: deleted or never
 * stored) and that record's length.  Keys of 4-40 bytes, many sharing their
 * first 16 bytes, many changed several times in one journal; with
 * model_pfx, every key starts with the same 10 bytes (the fold's sort then
 * finds its first varying byte in the second half of a key's first 16). */
#define MODEL_KEYS 3000
#define MODEL_PFX 10
static int model[MODEL_KEYS];
static size_t model_len[MODEL_KEYS];
static size_t model_pfx;

static size_t model_key(int k, uint8_t *key)
{
	size_t len = 4 + (size_t)(k * 7919) % 37;

	memset(key, 'q', model_pfx);
	key += model_pfx;
	memset(key, 'p', 16);
	if (len <= 16 || k % 3) {
		snprintf((char *)key, 17, "....%012x", (unsigned)(k * 2654435761u));
		key[0] = (uint8_t)(k >> 24); /* unique in its first 4 bytes */
		key[1] = (uint8_t)(k >> 16);
		key[2] = (uint8_t)(k >> 8);
		key[3] = (uint8_t)k;
	} else if (len < 20) {
		len = 20; /* the shared 16-byte prefix, unique in the next 4 */
	}
	snprintf((char *)key + 16, 25, "%04d%020d", k, k);
	return model_pfx + len;
}

/* A record: the key's number, the operation that stored it, then 0, 20 or
 * 40 bytes that follow from both (records of up to 16 bytes and longer). */
static size_t model_rec(int k, int op, uint8_t *rec)
{
	size_t len = 8 + 20 * (size_t)(op % 3), i;

	memcpy(rec, &k, 4);
	memcpy(rec + 4, &op, 4);
	for (i = 8; i < len; i++)
		rec[i] = (uint8_t)(k * 31 + op * 7 + (int)i);
	return len;
}

static int model_cb(void *arg, const void *k, size_t kl, const void *r, size_t rl)
{
	int *seen = arg, num, op;
	uint8_t key[64], rec[48];

	ck_assert_uint_ge(rl, 8);
	memcpy(&num, r, 4);
	memcpy(&op, (const uint8_t *)r + 4, 4);
	ck_assert_int_ge(num, 0);
	ck_assert_int_lt(num, MODEL_KEYS);
	ck_assert_uint_eq(model_key(num, key), kl);
	ck_assert(!memcmp(key, k, kl));
	ck_assert_int_eq(op, model[num]);
	ck_assert_uint_eq(model_rec(num, op, rec), rl);
	ck_assert(!memcmp(rec, r, rl));
	seen[num]++;
	return 0;
}

/* A blob's contents after change @i: 6 to 1806 bytes. */
static size_t model_blob(int i, uint8_t *b)
{
	size_t len = 6 + (size_t)(i % 7) * 300, j;

	for (j = 0; j < len; j++)
		b[j] = (uint8_t)(i + (int)j * 13);
	return len;
}

/* Random puts and deletes, and blobs changed at every commit, over journals
 * folded by the checkpoint thread and at close: the catalog holds exactly
 * each key's last change, the last blob of each name. */
START_TEST(folds_keep_each_keys_last_change)
{
	static int seen[MODEL_KEYS];
	static uint8_t blob[2][1806], got[1806];
	uint8_t key[64], rec[48];
	size_t blen[2] = { 0, 0 };
	unsigned r = 12345;
	int i, k, live = 0, n = 0;

	model_pfx = _i ? MODEL_PFX : 0;
	for (k = 0; k < MODEL_KEYS; k++)
		model[k] = -1;
	ck_assert_int_eq(emu_meta_open(&m, dir, 16, err, sizeof(err)), 0);
	m.journal_max = 64 << 10;
	for (i = 0; i < 200000; i++) {
		size_t len;

		r = r * 1103515245u + 12345u;
		k = (int)((r >> 8) % MODEL_KEYS);
		len = model_key(k, key);
		if ((r >> 4) % 5 == 0) {
			ck_assert_int_eq(emu_meta_del(&m, key, len), 0);
			model[k] = -1;
		} else {
			model_len[k] = model_rec(k, i, rec);
			ck_assert_int_eq(emu_meta_put(&m, key, len, rec, model_len[k]), 0);
			model[k] = i;
		}
		if (i % 500 == 499) {
			int b = i % 1500 == 499; /* "vlog" every commit, "ftl" every third */

			blen[b] = model_blob(i, blob[b]);
			ck_assert_int_eq(
				emu_meta_set_blob(&m, b ? "ftl" : "vlog", blob[b], blen[b]), 0);
			ck_assert_int_eq(emu_meta_commit(&m, 0), 0);
		}
	}
	ck_assert_int_eq(emu_meta_commit(&m, 1), 0);
	ck_assert_uint_ge(m.ck.folds, 1);
	emu_meta_close(&m);
	ck_assert_int_eq(emu_meta_open(&m, dir, 16, err, sizeof(err)), 0);
	memset(seen, 0, sizeof(seen));
	ck_assert_int_eq(emu_meta_iterate(&m, model_cb, seen), 0);
	for (k = 0; k < MODEL_KEYS; k++) {
		ck_assert_int_eq(seen[k], model[k] >= 0);
		live += model[k] >= 0;
		n += seen[k];
	}
	ck_assert_int_eq(n, live);
	ck_assert_int_gt(live, MODEL_KEYS / 2);
	for (k = 0; k < 2; k++) {
		ck_assert_uint_gt(blen[k], 0);
		ck_assert_int_eq(emu_meta_get_blob(&m, k ? "ftl" : "vlog", got, blen[k]), 0);
		ck_assert_mem_eq(got, blob[k], blen[k]);
	}
	emu_meta_close(&m);
}
END_TEST

/* LMDB's default order: bytes over the shorter length, then length. */
static int lmdb_order(const uint8_t *a, size_t la, const uint8_t *b, size_t lb)
{
	int d = memcmp(a, b, la < lb ? la : lb);

	if (d)
		return d < 0 ? -1 : 1;
	return la < lb ? -1 : la > lb;
}

/* emu_key_cmp() orders as LMDB itself does, keys of 0-40 bytes from a
 * three-letter alphabet (long shared prefixes, bytes above 0x7f). */
START_TEST(key_order_is_lmdbs_own)
{
	static const uint8_t abc[3] = { 0x00, 0x61, 0xf0 };
	uint8_t a[40], b[40];
	unsigned r = 99, i, j, diff = 0;

	for (i = 0; i < 200000; i++) {
		MDB_val va = { 0, a }, vb = { 0, b };
		int want, got;

		r = r * 1103515245u + 12345u;
		va.mv_size = (r >> 8) % 41;
		vb.mv_size = i % 7 ? va.mv_size + (r >> 20) % 3 - 1 : (r >> 12) % 41;
		if (vb.mv_size > 40)
			vb.mv_size = 40;
		for (j = 0; j < 40; j++) {
			r = r * 1103515245u + 12345u;
			a[j] = abc[(r >> 16) % 3];
			b[j] = j < 30 && (r >> 8) % 8 ? a[j] : abc[(r >> 20) % 3];
		}
		want = lmdb_order(a, va.mv_size, b, vb.mv_size);
		got = emu_key_cmp(&va, &vb);
		ck_assert_int_eq(got < 0 ? -1 : got > 0, want);
		ck_assert_int_eq(emu_key_cmp(&va, &va), 0);
		diff += want != 0 && va.mv_size == vb.mv_size;
	}
	ck_assert_uint_gt(diff, 1000);
}
END_TEST

/* A catalog folded under emu_key_cmp() reads under LMDB's own order: a
 * reader without it (an older nvkv-emu, mdb_dump) walks its index in
 * order and finds every key with a plain lookup. */
START_TEST(catalog_reads_under_lmdbs_default_order)
{
	uint8_t key[48], rec[8] = { 0 }, last[512];
	size_t last_len = 0;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_cursor *cur;
	MDB_val k, v;
	int i, n = 0;

	ck_assert_int_eq(emu_meta_open(&m, dir, 16, err, sizeof(err)), 0);
	m.journal_max = 64 << 10;
	for (i = 0; i < MODEL_KEYS; i++) {
		ck_assert_int_eq(emu_meta_put(&m, key, model_key(i, key), rec, sizeof(rec)), 0);
		if (i % 300 == 299)
			ck_assert_int_eq(emu_meta_commit(&m, 0), 0);
	}
	ck_assert_int_eq(emu_meta_commit(&m, 1), 0);
	ck_assert_uint_ge(m.ck.folds, 1);
	emu_meta_close(&m);
	ck_assert_int_eq(mdb_env_create(&env), 0);
	ck_assert_int_eq(mdb_env_set_maxdbs(env, 4), 0);
	ck_assert_int_eq(mdb_env_open(env, dir, MDB_RDONLY, 0644), 0);
	ck_assert_int_eq(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	ck_assert_int_eq(mdb_dbi_open(txn, "index", 0, &dbi), 0);
	ck_assert_int_eq(mdb_cursor_open(txn, dbi, &cur), 0);
	while (!mdb_cursor_get(cur, &k, &v, n ? MDB_NEXT : MDB_FIRST)) {
		MDB_val again;

		ck_assert_uint_le(k.mv_size, sizeof(last));
		if (n)
			ck_assert_int_lt(lmdb_order(last, last_len, k.mv_data, k.mv_size), 0);
		memcpy(last, k.mv_data, k.mv_size);
		last_len = k.mv_size;
		ck_assert_int_eq(mdb_get(txn, dbi, &k, &again), 0);
		n++;
	}
	ck_assert_int_eq(n, MODEL_KEYS);
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	mdb_env_close(env);
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
	tcase_add_test(tc, crash_leaves_a_journal_that_the_open_folds_in);
	tcase_add_test(tc, batch_cut_short_at_the_end_is_dropped);
	tcase_add_loop_test(tc, newest_journal_cut_inside_its_header_is_dropped, 0, 10);
	tcase_add_test(tc, damaged_batch_inside_a_journal_is_refused);
	tcase_add_test(tc, missing_journal_is_refused);
	tcase_add_test(tc, checkpoint_thread_folds_full_journals);
	tcase_add_test(tc, refused_put_fails_its_batch);
	tcase_add_test(tc, commit_that_would_overfill_the_map_is_refused);
	tcase_add_test(tc, map_room_is_kept_while_the_checkpoint_thread_folds);
	tcase_add_loop_test(tc, folds_keep_each_keys_last_change, 0, 2);
	tcase_add_test(tc, key_order_is_lmdbs_own);
	tcase_add_test(tc, catalog_reads_under_lmdbs_default_order);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(meta_suite)
