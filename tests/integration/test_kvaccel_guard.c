// SPDX-License-Identifier: MIT
/*
 * kvaccel's device guard against nvkv-emu --timing realtime with a 4 MiB KV
 * namespace: puts of 4 KiB values during a forced stall fill the device; the
 * guard must stop redirecting before the device refuses a Store (Capacity
 * Exceeded), the remaining puts go to RocksDB and succeed, and every key
 * reads its newest value.  Overwrites that RocksDB takes from the device
 * (and then rollback) make room: the guard lets go at the detector's next
 * poll and writes are redirected again.
 */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check_main.h"
#include "emu_proc.c"
#include "kva_tsan.c"
#include "kvaccel/kvaccel.h"

#define CAPACITY (4u << 20)
#define NKEYS 1600 /* 4 KiB each: 6.4 MiB, more than the namespace */
#define VLEN 4096

static struct emu_proc emu;
static char dbdir[96];

static int key_of(int k, char *buf)
{
	return snprintf(buf, 16, "g%05d", k);
}

static void val_of(int k, int ver, unsigned char *buf)
{
	int i;

	for (i = 0; i < VLEN; i++)
		buf[i] = (unsigned char)(k * 7 + ver * 131 + i);
}

static void put_ver(struct kva *db, int k, int ver)
{
	static unsigned char val[VLEN];
	char key[16];
	int kl = key_of(k, key);

	val_of(k, ver, val);
	ck_assert_int_eq(kva_put(db, key, (size_t)kl, val, VLEN), 0);
}

static void verify(struct kva *db, const int *ver)
{
	static unsigned char want[VLEN];
	char key[16];
	int k;

	for (k = 0; k < NKEYS; k++) {
		int kl = key_of(k, key);
		void *v = NULL;
		size_t vl = 0;

		ck_assert_int_eq(kva_get(db, key, (size_t)kl, &v, &vl), 0);
		val_of(k, ver[k], want);
		ck_assert_msg(vl == VLEN && !memcmp(v, want, VLEN), "%s: not version %d", key,
			      ver[k]);
		free(v);
	}
}

static bool wait_guard(struct kva *db, bool held)
{
	struct timespec ts = { 0, 5000000 };
	struct kva_stats st;
	int i;

	for (i = 0; i < 1000; i++) {
		kva_stats(db, &st);
		if (st.guarded == held)
			return true;
		nanosleep(&ts, NULL);
	}
	return false;
}

/*
 * A fresh database in dbdir (@cmd: the command that removes it) on a fresh
 * realtime emulator of CAPACITY bytes; kvaccel with its detector polling
 * every @interval_ms, no rollback, the guard on space only (a loaded
 * machine's Store times vary).
 */
static struct kva *start_guarded(struct kva_opts *o, unsigned int interval_ms, char *cmd,
				 size_t cmdlen)
{
	struct kva *db = NULL;
	char why[256], cap[32];

	snprintf(dbdir, sizeof(dbdir), "/tmp/kvaccel-guard-db-%d", (int)getpid());
	snprintf(cmd, cmdlen, "rm -rf %s", dbdir);
	ck_assert_int_eq(system(cmd), 0);
	snprintf(cap, sizeof(cap), "%u", CAPACITY);
	ck_assert_int_eq(emu_start(&emu, "--timing", "realtime", "--capacity", cap, NULL), 0);
	kva_opts_default(o);
	o->db_path = dbdir;
	o->device = emu.sock;
	o->interval_ms = interval_ms;
	o->rollback = KVA_ROLLBACK_OFF;
	o->guard.lat_high_us = 0;
	ck_assert_msg(kva_open(o, &db, why, sizeof(why)) == 0, "kva_open: %s", why);
	return db;
}

START_TEST(test_guard_device_full)
{
	static int ver[NKEYS];
	struct kva_stats st, st2;
	struct kva_opts o;
	struct kva *db = NULL;
	char why[256], cmd[160];
	int k;

	db = start_guarded(&o, 5, cmd, sizeof(cmd));

	kva_force(db, KVA_FORCE_STALL);
	for (k = 0; k < NKEYS; k++) {
		ver[k] = 1;
		put_ver(db, k, 1);
	}
	kva_stats(db, &st);
	printf("guard: %llu puts on the device, %llu sent to RocksDB by the guard, %llu refused "
	       "by the device, guard held %.3f s\n",
	       (unsigned long long)st.puts_device, (unsigned long long)st.guard_puts,
	       (unsigned long long)st.device_fallbacks, st.guard_ns / 1e9);
	ck_assert_msg(st.device_fallbacks == 0, "%llu Stores refused: the guard came too late",
		      (unsigned long long)st.device_fallbacks);
	ck_assert(st.guarded);
	ck_assert_uint_eq(st.guard_periods, 1);
	ck_assert_uint_gt(st.puts_device, CAPACITY / 2 / VLEN);
	ck_assert_uint_gt(st.guard_puts, NKEYS - CAPACITY / VLEN);
	ck_assert_uint_eq(st.puts_device + st.puts_rocksdb, NKEYS);
	ck_assert_uint_eq(st.puts_device + st.guard_puts, NKEYS);
	ck_assert_uint_gt(st.guard_ns, 0);
	verify(db, ver);

	/* Overwrites of keys on the device while it holds: RocksDB takes them
	 * and their device copies go, which makes room: the guard lets go at a
	 * poll and the rest are redirected again. */
	for (k = 0; k < NKEYS / 4; k++) {
		ver[k] = 2;
		put_ver(db, k, 2);
		if (k == NKEYS / 8)
			ck_assert(wait_guard(db, false));
	}
	kva_stats(db, &st2);
	ck_assert_uint_gt(st2.puts_device, st.puts_device);
	ck_assert_uint_eq(st2.device_fallbacks, 0);
	ck_assert_uint_eq(st2.puts_device + st2.puts_rocksdb, NKEYS + NKEYS / 4);
	verify(db, ver);

	/* Room again (rollback): the guard lets go, stalled writes go to the
	 * device again. */
	ck_assert_int_eq(kva_rollback(db), 0);
	ck_assert(wait_guard(db, false));
	for (k = 0; k < 16; k++) {
		ver[k] = 3;
		put_ver(db, k, 3);
	}
	kva_stats(db, &st);
	ck_assert_uint_eq(st.puts_device, st2.puts_device + 16);
	ck_assert_uint_eq(st.guard_puts, st2.guard_puts);
	ck_assert_uint_eq(st.device_fallbacks, 0);
	verify(db, ver);
	kva_close(db);

	/* Reopened: the same newest values. */
	ck_assert_msg(kva_open(&o, &db, why, sizeof(why)) == 0, "kva_open: %s", why);
	verify(db, ver);
	kva_close(db);
	emu_stop(&emu, SIGTERM);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/*
 * The same fill with the detector thread polling only once, at start: the
 * writers must notice the space running out themselves.  Their own count of
 * redirected bytes is half of what the device uses for 4 KiB values (two
 * allocation units per record), so counting alone let the device fill up
 * and refuse Stores whenever the detector's poll came late (a loaded
 * machine).
 */
START_TEST(test_guard_without_detector_polls_regression)
{
	struct kva_stats st;
	struct kva_opts o;
	struct kva *db = NULL;
	char cmd[160];
	int k;

	db = start_guarded(&o, 600000, cmd, sizeof(cmd));
	kva_force(db, KVA_FORCE_STALL);
	for (k = 0; k < NKEYS; k++)
		put_ver(db, k, 1);
	kva_stats(db, &st);
	printf("no detector polls: %llu puts on the device, %llu sent to RocksDB by the guard, "
	       "%llu refused by the device\n",
	       (unsigned long long)st.puts_device, (unsigned long long)st.guard_puts,
	       (unsigned long long)st.device_fallbacks);
	ck_assert_msg(st.device_fallbacks == 0, "%llu Stores refused: the guard came too late",
		      (unsigned long long)st.device_fallbacks);
	ck_assert(st.guarded);
	ck_assert_uint_gt(st.puts_device, CAPACITY / 2 / VLEN);
	ck_assert_uint_eq(st.puts_device + st.guard_puts, NKEYS);
	kva_close(db);
	emu_stop(&emu, SIGTERM);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

static Suite *guard_suite(void)
{
	Suite *s = suite_create("kvaccel_guard");
	TCase *tc = tcase_create("device_full");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_guard_device_full);
	tcase_add_test(tc, test_guard_without_detector_polls_regression);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(guard_suite)
