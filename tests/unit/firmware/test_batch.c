// SPDX-License-Identifier: MIT
/*
 * The durability contract through the fake HAL: records moved by GC survive a
 * restart; catalog, commit and media failures become statuses, error-log
 * entries and SMART counts, roll the batch back and leave the device up; and
 * a SQLite-style sweep injects every fault kind at every N-th operation of a
 * GC-heavy workload, checking after each run (and after a crash and restart
 * on the same media and catalog) that every acknowledged write reads back
 * with its newest value and nothing else changed.
 */
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "fakehost.c"
#include "firmware/alloc.h"
#include "firmware/fw_internal.h"

static struct fh_env env;
static struct fw_subsys *sub;
static struct fh_host host;
static struct fw_config cfg;

#define ST(sc) KVC_ST_GENERIC_DNR(sc)
#define ST_FULL ST(KVC_SC_CAPACITY_EXCEEDED)
#define ST_INTERNAL ST(KVC_SC_INTERNAL)
#define ST_UNREC ST(KVC_SC_KV_UNRECOVERED)
#define ST_NOKEY ST(KVC_SC_KV_KEY_NOT_EXIST)
#define ST_WFAULT KVC_ST_MEDIA_DNR(KVC_SC_WRITE_FAULT)

static void start(void)
{
	fh_dev_start(&env, &cfg, &sub, &host);
}

static void stop(void)
{
	fh_dev_stop(&sub, &host);
}

static void crash_restart(void)
{
	fh_dev_crash_restart(&env, &cfg, &sub, &host);
}

/* Small enough that a few hundred KiB of overwrites make GC run: 2 x 2 dies,
 * 8 superblocks of 4 x 8 pages of 4 KiB (128 KiB each). */
static void setup(void)
{
	fh_small_config(&cfg);
	cfg.geo.pages_per_block = 8;
	cfg.max_value = 16384;
	fh_env_init(&env, &cfg, true);
	start();
}

static void teardown(void)
{
	if (sub)
		stop();
	fh_env_fini(&env);
}

/* ---- a model of what the host was told ----------------------------------------- */

#define NKEYS 40

static uint32_t ver[NKEYS];  /* 0: absent */
static uint64_t failed_cmds; /* commands the faults made fail */

static void key_name(char *key, int k)
{
	snprintf(key, 16, "k%02d", k % 100);
}

static uint32_t val_len(int k, uint32_t v)
{
	return 64 + (uint32_t)((k * 977 + v * 1307) % 6000);
}

static void val_fill(uint8_t *buf, int k, uint32_t v, uint32_t len)
{
	uint32_t i, x = (uint32_t)k * 2654435761u ^ v * 40503u;

	for (i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (uint8_t)(x >> 16);
	}
}

static uint16_t store_ver(int k, uint32_t v)
{
	static uint8_t buf[8192];
	uint64_t mark = host.brk;
	char key[16];
	uint16_t st;

	key_name(key, k);
	val_fill(buf, k, v, val_len(k, v));
	st = fh_store(&host, 1, key, buf, val_len(k, v), 0);
	host.brk = mark;
	return st;
}

/* Read key @k; true if it holds what the model says.  *@st gets the status. */
static bool key_ok(int k, uint16_t *st)
{
	static uint8_t got[8192], want[8192];
	uint64_t mark = host.brk;
	uint32_t vlen = 0;
	char key[16];
	bool ok;

	key_name(key, k);
	*st = fh_retrieve(&host, 1, key, got, sizeof(got), &vlen);
	host.brk = mark;
	if (!ver[k])
		return *st == ST_NOKEY;
	if (*st)
		return false;
	val_fill(want, k, ver[k], val_len(k, ver[k]));
	ok = vlen == val_len(k, ver[k]) && !memcmp(got, want, vlen);
	return ok;
}

static void check_all(const char *when)
{
	uint16_t st;
	int k;

	for (k = 0; k < NKEYS; k++)
		ck_assert_msg(key_ok(k, &st), "%s: key %d (version %u) wrong, status %#x (%s)",
			      when, k, ver[k], st, env.last_log);
}

static struct kvc_smart_log smart(void)
{
	struct kvc_smart_log l;
	struct kvc_sqe sqe;
	uint64_t buf = fh_alloc(&host, 4096, 4096);

	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = KVC_ADM_GET_LOG_PAGE;
	kvc_sqe_set_nsid(&sqe, 0xffffffffu);
	kvc_sqe_set_dw(&sqe, 10, (sizeof(l) / 4 - 1) << 16 | KVC_LOG_SMART);
	kvc_sqe_set_prp(&sqe, buf, 0);
	ck_assert_uint_eq(fh_exec(&host, 0, &sqe, NULL), 0);
	memcpy(&l, host.mem + buf, sizeof(l));
	return l;
}

/* Newest Error Information log entry: its status (without the phase bit). */
static uint16_t last_error_status(uint64_t *count)
{
	struct kvc_error_log_entry e;
	struct kvc_sqe sqe;
	uint64_t buf = fh_alloc(&host, 4096, 4096);

	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = KVC_ADM_GET_LOG_PAGE;
	kvc_sqe_set_dw(&sqe, 10, (sizeof(e) / 4 - 1) << 16 | KVC_LOG_ERROR);
	kvc_sqe_set_prp(&sqe, buf, 0);
	ck_assert_uint_eq(fh_exec(&host, 0, &sqe, NULL), 0);
	memcpy(&e, host.mem + buf, sizeof(e));
	*count = kvc_get_le64(&e.error_count);
	return kvc_get_le16(&e.status) >> 1;
}

/* ---- defect 1: records moved by GC are persisted ---------------------------------- */

/* Cold keys written once, then hot keys overwritten until GC has moved the
 * cold records; a clean restart, then a crash restart, must read them all. */
START_TEST(gc_moved_records_survive_restart_regression)
{
	struct kvc_stats_log st;
	int i, k;

	memset(ver, 0, sizeof(ver));
	/* Hot keys 0..7 overwritten; cold keys 8.. written once among them, so
	 * they sit in superblocks that are mostly garbage and GC moves them. */
	for (i = 0; i < 600; i++) {
		k = i % 8;
		ck_assert_uint_eq(store_ver(k, ++ver[k]), 0);
		k = 8 + i / 8;
		if (i % 8 == 0 && k < NKEYS)
			ck_assert_uint_eq(store_ver(k, ver[k] = 1), 0);
	}
	fw_subsys_stats(sub, &st);
	ck_assert_uint_ge(st.gc_runs, 3);
	ck_assert_uint_ge(st.gc_moves, NKEYS - 8); /* every cold record moved at least once */
	check_all("before restart");
	stop();
	start();
	check_all("after a clean restart");
	/* GC keeps working on the recovered layout, with no stale index entry. */
	for (i = 0; i < 300; i++) {
		k = i % 8;
		ck_assert_uint_eq(store_ver(k, ++ver[k]), 0);
	}
	crash_restart();
	check_all("after a crash restart");
	ck_assert_msg(env.log_lines == 0, "log: %s", env.last_log); /* no "live bytes left" */
}
END_TEST

/* ---- defect 3: failures become statuses --------------------------------------------- */

START_TEST(catalog_full_fails_the_store_and_keeps_the_old_value)
{
	struct kvc_smart_log before, after;
	uint64_t n0, n1;

	memset(ver, 0, sizeof(ver));
	ck_assert_uint_eq(store_ver(0, ver[0] = 1), 0);
	before = smart();
	last_error_status(&n0);
	fh_fault_arm(&env, FH_META_FULL, 1, true);
	ck_assert_uint_eq(store_ver(0, 2), ST_FULL); /* overwrite */
	ck_assert_uint_eq(store_ver(1, 1), ST_FULL); /* new key */
	ck_assert_uint_eq(fh_simple(&host, 1, KVC_KV_DELETE, "k00"), ST_FULL);
	ck_assert_uint_eq(last_error_status(&n1), ST_FULL);
	ck_assert_uint_eq(n1, n0 + 3);
	after = smart();
	ck_assert_uint_gt(kvc_get_le64(after.media_errors), kvc_get_le64(before.media_errors));
	ck_assert_uint_ge(kvc_get_le64(after.num_err_log_entries), 3);
	check_all("catalog full"); /* the device is up; k00 has version 1, k01 absent */
	fh_fault_clear(&env);
	crash_restart();
	check_all("after restart");
	ck_assert_uint_eq(store_ver(1, ver[1] = 1), 0);
	crash_restart();
	check_all("after the catalog has room again");
}
END_TEST

START_TEST(catalog_write_error_is_internal_error)
{
	memset(ver, 0, sizeof(ver));
	ck_assert_uint_eq(store_ver(3, ver[3] = 1), 0);
	fh_fault_arm(&env, FH_META_WRITE, 1, false);
	ck_assert_uint_eq(store_ver(3, 2), ST_INTERNAL);
	ck_assert_uint_eq(store_ver(4, ver[4] = 1), 0); /* transient: the next one works */
	check_all("after a catalog write error");
	crash_restart();
	check_all("after restart");
}
END_TEST

/* Three Stores under one doorbell form one batch: a failed group commit
 * fails all three CQEs, and none of the values is visible or durable. */
START_TEST(failed_group_commit_fails_every_cqe_of_the_batch)
{
	static uint8_t buf[8192];
	struct kvc_kv_cmd c;
	struct kvc_sqe sqe;
	struct kvc_cqe cqe;
	char key[16];
	int k, n;

	memset(ver, 0, sizeof(ver));
	for (k = 0; k < 3; k++)
		ck_assert_uint_eq(store_ver(k, ver[k] = 1), 0);
	fh_fault_arm(&env, FH_META_COMMIT, 1, false);
	for (k = 0; k < 3; k++) {
		uint64_t b = fh_alloc(&host, 8192, 4096);

		key_name(key, k);
		val_fill(buf, k, 2, val_len(k, 2));
		memcpy(host.mem + b, buf, val_len(k, 2));
		memset(&c, 0, sizeof(c));
		c.opc = KVC_KV_STORE;
		c.nsid = 1;
		c.klen = 3;
		memcpy(c.key, key, 3);
		c.size = val_len(k, 2);
		c.prp1 = b;
		c.prp2 = b + 4096;
		ck_assert_int_eq(kvc_kv_encode(&sqe, &c), 0);
		fh_put(&host, 1, &sqe, true);
	}
	fh_ring(&host, 1);
	for (n = 0; n < 3; n++) {
		ck_assert(fh_reap(&host, 1, &cqe, 10));
		ck_assert_uint_eq(kvc_cqe_status(&cqe), ST_INTERNAL);
	}
	ck_assert_uint_eq(env.injected[FH_META_COMMIT], 1);
	check_all("after the failed commit");
	ck_assert_uint_eq(store_ver(5, ver[5] = 1), 0); /* the device is up */
	crash_restart();
	check_all("after restart");
}
END_TEST

static uint16_t flush(void)
{
	struct kvc_sqe sqe;

	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = KVC_NVM_FLUSH;
	kvc_sqe_set_nsid(&sqe, 1);
	return fh_exec(&host, 1, &sqe, NULL);
}

/* Write cache on: a Flush whose commit fails reports it, and the device
 * returns to the last successful Flush, as a power loss would. */
START_TEST(failed_flush_with_write_cache_returns_to_the_last_flush)
{
	teardown();
	cfg.vwc = true; /* the write cache is present and enabled */
	fh_env_init(&env, &cfg, true);
	start();
	memset(ver, 0, sizeof(ver));
	ck_assert_uint_eq(store_ver(0, ver[0] = 1), 0);
	ck_assert_uint_eq(flush(), 0);
	ck_assert_uint_eq(store_ver(0, 2), 0); /* acknowledged, not durable */
	ck_assert_uint_eq(store_ver(1, 1), 0);
	fh_fault_arm(&env, FH_META_COMMIT, 1, false);
	ck_assert_uint_eq(flush(), ST_INTERNAL);
	check_all("after the failed flush"); /* k00 version 1, k01 absent */
	ck_assert_uint_eq(store_ver(2, ver[2] = 1), 0);
	ck_assert_uint_eq(flush(), 0);
	crash_restart();
	check_all("after restart");
}
END_TEST

/* Write cache on: a rollback outside a Flush (here a failed catalog write of
 * another Store) undoes writes the cache had acknowledged; the next Flush must
 * say so instead of succeeding, and only once. */
START_TEST(rollback_of_cached_writes_fails_the_next_flush_regression)
{
	teardown();
	cfg.vwc = true;
	fh_env_init(&env, &cfg, true);
	start();
	memset(ver, 0, sizeof(ver));
	ck_assert_uint_eq(store_ver(0, ver[0] = 1), 0);
	ck_assert_uint_eq(flush(), 0);
	ck_assert_uint_eq(store_ver(0, 2), 0); /* acknowledged by the cache */
	fh_fault_arm(&env, FH_META_WRITE, 1, false);
	ck_assert_uint_eq(store_ver(1, 1), ST_INTERNAL); /* rolls back k00 version 2 too */
	ck_assert_uint_eq(flush(), ST_INTERNAL);
	check_all("after the rollback"); /* k00 version 1 */
	ck_assert_uint_eq(flush(), 0);	 /* reported once */
	ck_assert_uint_eq(store_ver(2, ver[2] = 1), 0);
	ck_assert_uint_eq(flush(), 0);
	crash_restart();
	check_all("after restart");
}
END_TEST

START_TEST(program_failure_is_write_fault)
{
	struct kvc_smart_log l;
	int i;

	memset(ver, 0, sizeof(ver));
	ck_assert_uint_eq(store_ver(0, ver[0] = 1), 0);
	fh_fault_arm(&env, FH_NAND_PROGRAM, 1, true);
	/* The first Store that fills a page fails, and so does every later one. */
	for (i = 0; i < 20; i++) {
		uint16_t st = store_ver(0, 2 + (uint32_t)i);

		if (st) {
			ck_assert_uint_eq(st, ST_WFAULT);
			break;
		}
		ver[0] = 2 + (uint32_t)i;
	}
	ck_assert_int_lt(i, 20);
	l = smart();
	ck_assert_uint_gt(kvc_get_le64(l.media_errors), 0);
	check_all("after a program failure");
	fh_fault_clear(&env);
	crash_restart();
	check_all("after restart");
}
END_TEST

/* No catalog (an in-memory device): no rollback, but the status is true and
 * the device stays up. */
START_TEST(program_failure_without_catalog)
{
	int i;

	teardown();
	fh_small_config(&cfg);
	fh_env_init(&env, &cfg, false);
	start();
	memset(ver, 0, sizeof(ver));
	fh_fault_arm(&env, FH_NAND_PROGRAM, 1, true);
	for (i = 0; i < 20; i++) {
		uint16_t st = store_ver(1, 1 + (uint32_t)i);

		if (st) {
			ck_assert_uint_eq(st, ST_WFAULT);
			break;
		}
	}
	ck_assert_int_lt(i, 20);
	ck_assert_uint_eq(fh_simple(&host, 1, KVC_KV_EXIST, "k01"), 0);
	ck_assert_uint_eq(fh_simple(&host, 1, KVC_KV_EXIST, "k02"), ST_NOKEY);
}
END_TEST

/* An erase failure retires the superblock; GC goes on with the others. */
START_TEST(erase_failure_retires_the_block)
{
	struct kvc_stats_log st;
	struct kvc_smart_log l;
	int i, k;

	memset(ver, 0, sizeof(ver));
	for (k = 0; k < 8; k++)
		ck_assert_uint_eq(store_ver(k, ver[k] = 1), 0);
	fh_fault_arm(&env, FH_NAND_ERASE, 1, false);
	for (i = 0; i < 600; i++) {
		k = i % 8;
		ck_assert_uint_eq(store_ver(k, ++ver[k]), 0);
	}
	ck_assert_uint_eq(env.injected[FH_NAND_ERASE], 1);
	ck_assert_uint_eq(sub->vlog.st.retired, 1);
	fw_subsys_stats(sub, &st);
	ck_assert_uint_ge(st.gc_runs, 3);
	l = smart();
	ck_assert(l.critical_warning & KVC_SMART_CW_RELIABILITY);
	check_all("after an erase failure");
	crash_restart();
	/* The retired superblock stays retired: it is in the layout. */
	ck_assert_uint_eq(fw_vlog_retired(&sub->vlog), 1);
	l = smart();
	ck_assert(l.critical_warning & KVC_SMART_CW_RELIABILITY);
	check_all("after restart");
	for (i = 0; i < 300; i++) {
		k = i % 8;
		ck_assert_uint_eq(store_ver(k, ++ver[k]), 0);
	}
	ck_assert_uint_eq(fw_vlog_retired(&sub->vlog), 1);
	check_all("after more GC");
}
END_TEST

/* ---- the fault sweep ------------------------------------------------------------------ */

/* A GC-heavy workload: stores, overwrites, deletes and reads, deterministic.
 * Every status must be success or the error the injected fault explains;
 * the model follows what the host was told. */
static void workload(bool faults)
{
	uint32_t x = 12345;
	struct kvc_sqe sqe;
	int i, k;

	/* EDNEK on: a Delete tells whether the key was there, which the model
	 * checks (with the default a missing key's Delete succeeds). */
	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = KVC_ADM_SET_FEATURES;
	kvc_sqe_set_nsid(&sqe, 1);
	kvc_sqe_set_dw(&sqe, 10, KVC_FEAT_KV_CONFIG);
	kvc_sqe_set_dw(&sqe, 11, KVC_KV_CONFIG_EDNEK);
	ck_assert_uint_eq(fh_exec(&host, 0, &sqe, NULL), 0);
	memset(ver, 0, sizeof(ver));
	for (i = 0; i < 420; i++) {
		uint32_t r;
		uint16_t st;

		x = x * 1103515245u + 12345u;
		r = (x >> 8) % 100;
		k = (int)((x >> 20) % NKEYS);
		if (r < 75) {
			st = store_ver(k, ver[k] + 1);
			failed_cmds += st != 0;
			if (!st)
				ver[k]++;
			else
				ck_assert_msg(faults && (st == ST_FULL || st == ST_INTERNAL ||
							 st == ST_WFAULT),
					      "store status %#x", st);
		} else if (r < 88) {
			char key[16];

			key_name(key, k);
			st = fh_simple(&host, 1, KVC_KV_DELETE, key);
			failed_cmds += st != 0 && st != ST_NOKEY;
			if (!st)
				ck_assert_uint_ne(ver[k], 0);
			if (!st)
				ver[k] = 0;
			else if (st == ST_NOKEY)
				ck_assert_uint_eq(ver[k], 0);
			else
				ck_assert_msg(faults && (st == ST_FULL || st == ST_INTERNAL ||
							 st == ST_WFAULT),
					      "delete status %#x", st);
		} else {
			ck_assert_msg(key_ok(k, &st) || (faults && st == ST_UNREC),
				      "read of key %d: status %#x", k, st);
			failed_cmds += st == ST_UNREC;
		}
	}
}

struct sweep_kind {
	enum fh_fault_kind kind;
	const char *name;
};

static const struct sweep_kind kinds[] = {
	{ FH_NAND_READ, "nand read" },	      { FH_NAND_PROGRAM, "nand program" },
	{ FH_NAND_ERASE, "nand erase" },      { FH_META_WRITE, "catalog write" },
	{ FH_META_FULL, "catalog map full" }, { FH_META_COMMIT, "catalog commit" },
};

#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

/* Points per kind and mode; the step is ops / SWEEP_POINTS, at least 1. */
#define SWEEP_POINTS 60

static uint64_t sweep_runs, sweep_injected;

static void sweep(bool persistent)
{
	uint64_t count[FH_FAULT_KINDS], n, step;
	char what[96];
	unsigned int i;

	/* Count each kind's operations in a clean run. */
	fh_fault_clear(&env);
	workload(false);
	check_all("clean run");
	failed_cmds = 0;
	memcpy(count, env.ops, sizeof(count));
	ck_assert_uint_gt(sub->vlog.st.gc_runs, 2);

	for (i = 0; i < NKINDS; i++) {
		enum fh_fault_kind kind = kinds[i].kind;

		ck_assert_msg(count[kind] > 0, "workload never does a %s", kinds[i].name);
		uint64_t runs = 0, inj = 0, failed = failed_cmds;

		step = count[kind] / SWEEP_POINTS ? count[kind] / SWEEP_POINTS : 1;
		for (n = 1; n <= count[kind]; n += step) {
			teardown();
			setup();
			fh_fault_arm(&env, kind, n, persistent);
			workload(true);
			inj += env.injected[kind];
			fh_fault_clear(&env);
			snprintf(what, sizeof(what), "%s fault at %llu%s", kinds[i].name,
				 (unsigned long long)n, persistent ? " and after" : "");
			check_all(what);
			crash_restart();
			strcat(what, ", after restart");
			check_all(what);
			runs++;
		}
		printf("  %-16s %s: %4llu ops, step %3llu, %3llu runs, %6llu faults, %5llu failed "
		       "commands\n",
		       kinds[i].name, persistent ? "persistent" : "transient ",
		       (unsigned long long)count[kind], (unsigned long long)step,
		       (unsigned long long)runs, (unsigned long long)inj,
		       (unsigned long long)(failed_cmds - failed));
		sweep_runs += runs;
		sweep_injected += inj;
	}
}

/*
 * Out of memory at every point of the workload: allocation N (counted from the
 * end of start-up) fails once.  A command that needed it fails with a status,
 * nothing acknowledged is lost, before and after a crash restart.
 */
START_TEST(allocation_failure_sweep)
{
	unsigned long before, count, n, step, runs = 0, failed = 0;
	char what[64];

	before = fw_alloc_calls();
	workload(false);
	count = fw_alloc_calls() - before;
	check_all("clean run");
	ck_assert_uint_gt(count, 0);
	step = count / SWEEP_POINTS ? count / SWEEP_POINTS : 1;
	for (n = 1; n <= count; n += step) {
		teardown();
		setup();
		failed_cmds = 0;
		fw_alloc_fail_once(n);
		workload(true);
		fw_alloc_fail_once(0);
		failed += failed_cmds;
		snprintf(what, sizeof(what), "allocation %lu failed", n);
		check_all(what);
		crash_restart();
		strcat(what, ", after restart");
		check_all(what);
		runs++;
	}
	printf("  allocation       transient : %4lu allocations, step %3lu, %3lu runs, %5lu failed "
	       "commands\n",
	       count, step, runs, failed);
}
END_TEST

/*
 * Out of memory during recovery: allocation N of a restart fails once.  The
 * restart fails cleanly (-ENOMEM, nothing leaked, nothing written) and the
 * next one brings back every acknowledged key.
 */
START_TEST(allocation_failure_during_recovery)
{
	unsigned long before, count, n, refused = 0;
	struct fw_subsys *s2;
	int rc;

	workload(false);
	stop();
	before = fw_alloc_calls();
	start();
	count = fw_alloc_calls() - before;
	check_all("clean restart");
	stop();
	ck_assert_uint_gt(count, 0);
	for (n = 1; n <= count; n++) {
		fw_alloc_fail_once(n);
		rc = fw_subsys_create(&cfg, &env.hal, &s2);
		fw_alloc_fail_once(0);
		if (rc == 0) { /* the failed allocation was one recovery can do without */
			fw_subsys_destroy(s2);
			continue;
		}
		ck_assert_int_eq(rc, -ENOMEM);
		refused++;
	}
	start();
	check_all("after the failed restarts");
	printf("  recovery: %lu allocations, %lu restarts refused with -ENOMEM\n", count, refused);
	ck_assert_uint_gt(refused, 0);
}
END_TEST

START_TEST(fault_sweep_transient)
{
	sweep(false);
	printf("fault sweep (transient): %llu runs, %llu faults injected, %llu commands failed\n",
	       (unsigned long long)sweep_runs, (unsigned long long)sweep_injected,
	       (unsigned long long)failed_cmds);
}
END_TEST

START_TEST(fault_sweep_persistent)
{
	sweep(true);
	printf("fault sweep (persistent): %llu runs, %llu faults injected, %llu commands failed\n",
	       (unsigned long long)sweep_runs, (unsigned long long)sweep_injected,
	       (unsigned long long)failed_cmds);
}
END_TEST

static Suite *batch_suite(void)
{
	Suite *s = suite_create("firmware/batch");
	TCase *tc = tcase_create("durability");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, gc_moved_records_survive_restart_regression);
	tcase_add_test(tc, catalog_full_fails_the_store_and_keeps_the_old_value);
	tcase_add_test(tc, catalog_write_error_is_internal_error);
	tcase_add_test(tc, failed_group_commit_fails_every_cqe_of_the_batch);
	tcase_add_test(tc, failed_flush_with_write_cache_returns_to_the_last_flush);
	tcase_add_test(tc, rollback_of_cached_writes_fails_the_next_flush_regression);
	tcase_add_test(tc, program_failure_is_write_fault);
	tcase_add_test(tc, program_failure_without_catalog);
	tcase_add_test(tc, erase_failure_retires_the_block);
	tcase_add_test(tc, fault_sweep_transient);
	tcase_add_test(tc, allocation_failure_sweep);
	tcase_add_test(tc, allocation_failure_during_recovery);
	tcase_add_test(tc, fault_sweep_persistent);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(batch_suite)
