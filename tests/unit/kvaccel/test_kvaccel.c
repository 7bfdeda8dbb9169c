// SPDX-License-Identifier: MIT
/*
 * kvaccel: the metadata set, the detector's rule (thresholds, hysteresis) and
 * its thread on a fake properties source, the controller's routing and
 * newest-version rules on a simulated device, the per-write stall signal on a
 * RocksDB that really stops writes, bad input, and a randomized multi-thread
 * model check against reference maps with stall/unstall transitions and
 * rollbacks under both policies.
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rocksdb/c.h>

#include "check_main.h"
#include "cmdset/stats.h"
#include "kvaccel/kvaccel.h"
#include "kvaccel/kvaccel_internal.h"

static char dbdir[128];

static void rm_rf(const char *dir)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static void setup(void)
{
	snprintf(dbdir, sizeof(dbdir), "/tmp/kvaccel-test-%d-%ld", (int)getpid(), (long)random());
	rm_rf(dbdir);
}

static void teardown(void)
{
	rm_rf(dbdir);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* A fake properties source: the values the test sets. */
static struct kva_props fake;
static pthread_mutex_t fake_lock = PTHREAD_MUTEX_INITIALIZER;

static int fake_props(void *arg, struct kva_props *p)
{
	(void)arg;
	pthread_mutex_lock(&fake_lock);
	*p = fake;
	pthread_mutex_unlock(&fake_lock);
	return 0;
}

static void fake_l0(uint64_t l0)
{
	pthread_mutex_lock(&fake_lock);
	fake.l0_files = l0;
	pthread_mutex_unlock(&fake_lock);
}

static void base_opts(struct kva_opts *o)
{
	kva_opts_default(o);
	o->db_path = dbdir;
	o->device = "sim";
	o->props = fake_props;
	o->interval_ms = 2;
	o->th.l0_high = 34;
	o->th.l0_low = 26;
	memset(&fake, 0, sizeof(fake));
}

static struct kva *open_ok(const struct kva_opts *o)
{
	struct kva *db = NULL;
	char why[256];
	int rc = kva_open(o, &db, why, sizeof(why));

	ck_assert_msg(rc == 0, "kva_open: %d %s", rc, why);
	return db;
}

static void put_s(struct kva *db, const char *k, const char *v)
{
	ck_assert_int_eq(kva_put(db, k, strlen(k), v, strlen(v)), 0);
}

static void expect(struct kva *db, const char *k, const char *v)
{
	void *val = NULL;
	size_t vl = 0;
	int rc = kva_get(db, k, strlen(k), &val, &vl);

	if (!v) {
		ck_assert_msg(rc == -ENOENT, "%s: expected absent, rc %d", k, rc);
		return;
	}
	ck_assert_msg(rc == 0, "%s: rc %d", k, rc);
	ck_assert_msg(vl == strlen(v) && !memcmp(val, v, vl), "%s: got '%.*s' want '%s'", k,
		      (int)vl, (char *)val, v);
	free(val);
}

/* ---- metadata set ------------------------------------------------------------------ */

START_TEST(test_meta_model)
{
	static uint8_t present[20000];
	struct kva_meta m;
	unsigned int seed = 7, i, n = 0;

	ck_assert_int_eq(kva_meta_init(&m), 0);
	memset(present, 0, sizeof(present));
	for (i = 0; i < 200000; i++) {
		unsigned int k = (unsigned int)rand_r(&seed) % 20000;
		char key[16];
		int kl = snprintf(key, sizeof(key), "m%u", k);

		if (rand_r(&seed) % 3) {
			ck_assert_int_eq(kva_meta_add(&m, key, (size_t)kl), 0);
			n += !present[k];
			present[k] = 1;
		} else {
			ck_assert(kva_meta_del(&m, key, (size_t)kl) == present[k]);
			n -= present[k];
			present[k] = 0;
		}
		ck_assert_uint_eq(m.n, n);
	}
	for (i = 0; i < 20000; i++) {
		char key[16];
		int kl = snprintf(key, sizeof(key), "m%u", i);

		ck_assert(kva_meta_has(&m, key, (size_t)kl) == present[i]);
	}
	ck_assert(!kva_meta_has(&m, "", 0));
	ck_assert_int_eq(kva_meta_add(&m, "01234567890123456", 17), -EINVAL);
	ck_assert_uint_le(kva_meta_bytes(&m), (size_t)68 * (n + 1024));
	kva_meta_destroy(&m);
}
END_TEST

/* ---- detector ------------------------------------------------------------------------ */

START_TEST(test_detect_thresholds)
{
	struct kva_thresholds t = { .l0_high = 34,
				    .l0_low = 26,
				    .mem_high = 900,
				    .mem_low = 500,
				    .pending_high = 1000,
				    .pending_low = 100,
				    .stall_on_delay = true };
	struct kva_props p = { 0 };

	ck_assert(!kva_detect(&t, false, &p));
	p.l0_files = 33;
	ck_assert(!kva_detect(&t, false, &p));
	p.l0_files = 34; /* crossing the high threshold */
	ck_assert(kva_detect(&t, false, &p));
	p.l0_files = 30; /* hysteresis: between low and high keeps the state */
	ck_assert(kva_detect(&t, true, &p));
	ck_assert(!kva_detect(&t, false, &p));
	p.l0_files = 26; /* at the low threshold: normal again */
	ck_assert(!kva_detect(&t, true, &p));

	p.l0_files = 0;
	p.memtable_bytes = 900;
	ck_assert(kva_detect(&t, false, &p));
	p.memtable_bytes = 501;
	ck_assert(kva_detect(&t, true, &p));
	p.memtable_bytes = 500;
	ck_assert(!kva_detect(&t, true, &p));

	p.pending_bytes = 1000;
	ck_assert(kva_detect(&t, false, &p));
	p.pending_bytes = 101;
	ck_assert(kva_detect(&t, true, &p));
	p.pending_bytes = 0;
	ck_assert(!kva_detect(&t, true, &p));

	p.write_stopped = 1;
	ck_assert(kva_detect(&t, false, &p));
	p.write_stopped = 0;
	p.delayed_rate = 16 << 20;
	ck_assert(kva_detect(&t, false, &p));
	t.stall_on_delay = false;
	ck_assert(!kva_detect(&t, false, &p));
	/* A threshold of 0 is not checked. */
	t.l0_high = 0;
	p.l0_files = 1000;
	ck_assert(!kva_detect(&t, false, &p));
}
END_TEST

START_TEST(test_guard_decision)
{
	struct kva_guard_th t = {
		.lat_high_us = 2000, .lat_low_us = 1000, .free_low_pct = 10, .free_high_pct = 20
	};
	struct kva_guard_in in = { .lat_ns = 0, .capacity = 1000, .used = 0 };

	ck_assert(!kva_guard(&t, false, &in));
	in.lat_ns = 1999999;
	ck_assert(!kva_guard(&t, false, &in));
	in.lat_ns = 2000000; /* as slow as the bound: hold */
	ck_assert(kva_guard(&t, false, &in));
	in.lat_ns = 1500000; /* between the bounds: keeps the state */
	ck_assert(kva_guard(&t, true, &in));
	ck_assert(!kva_guard(&t, false, &in));
	in.lat_ns = 1000001;
	ck_assert(kva_guard(&t, true, &in));
	in.lat_ns = 1000000; /* at the low bound: let go */
	ck_assert(!kva_guard(&t, true, &in));

	in.lat_ns = 0;
	in.used = 900; /* 10 % free: not short yet */
	ck_assert(!kva_guard(&t, false, &in));
	in.used = 901; /* under 10 % free */
	ck_assert(kva_guard(&t, false, &in));
	in.used = 850; /* 15 % free: still held, not started */
	ck_assert(kva_guard(&t, true, &in));
	ck_assert(!kva_guard(&t, false, &in));
	in.used = 801;
	ck_assert(kva_guard(&t, true, &in));
	in.used = 800; /* 20 % free: let go */
	ck_assert(!kva_guard(&t, true, &in));
	in.used = 2000; /* more used than capacity (the host's count ran ahead) */
	ck_assert(kva_guard(&t, false, &in));
	/* Space and speed both count: fast but full holds, roomy but slow too. */
	in.used = 0;
	in.lat_ns = 1500000;
	ck_assert(kva_guard(&t, true, &in));
	in.lat_ns = 0;

	/* Key slots as space: under 10 % of max_keys left. */
	in.max_keys = 100;
	in.keys = 91;
	ck_assert(kva_guard(&t, false, &in));
	in.keys = 85;
	ck_assert(kva_guard(&t, true, &in));
	in.keys = 80;
	ck_assert(!kva_guard(&t, true, &in));

	/* Unknown capacity, no key limit, 0 bounds: not checked. */
	in = (struct kva_guard_in){ .lat_ns = 1000000000, .capacity = 0, .used = 5 };
	t.lat_high_us = 0;
	ck_assert(!kva_guard(&t, false, &in));
	ck_assert(!kva_guard(&t, true, &in));
	in.capacity = 1000;
	in.used = 1000;
	t.free_low_pct = 0;
	ck_assert(!kva_guard(&t, false, &in));
	ck_assert(!kva_guard(&t, true, &in));
	/* A capacity large enough that pct * capacity would overflow. */
	t.free_low_pct = 10;
	in.capacity = UINT64_MAX;
	in.used = UINT64_MAX / 10 * 9;
	ck_assert(!kva_guard(&t, false, &in));
	in.used = UINT64_MAX / 10 * 9 + UINT64_MAX / 100;
	ck_assert(kva_guard(&t, false, &in));
}
END_TEST

#define FILL_LEN 4096

/* Key @prefix%03d holds @len bytes of 'a' + @i % 26 (the filled-value tests). */
static void put_filled(struct kva *db, const char *prefix, int i, size_t len)
{
	char key[16], val[FILL_LEN];

	ck_assert_uint_le(len, sizeof(val));
	snprintf(key, sizeof(key), "%s%03d", prefix, i);
	memset(val, 'a' + i % 26, len);
	ck_assert_int_eq(kva_put(db, key, strlen(key), val, len), 0);
}

/* Keys @prefix000 .. @n - 1 read back as put_filled() wrote them. */
static void check_filled(struct kva *db, const char *prefix, int n, size_t len)
{
	char key[16];
	int i;

	for (i = 0; i < n; i++) {
		void *v;
		size_t vl;

		snprintf(key, sizeof(key), "%s%03d", prefix, i);
		ck_assert_int_eq(kva_get(db, key, strlen(key), &v, &vl), 0);
		ck_assert_uint_eq(vl, len);
		ck_assert_int_eq(((char *)v)[100], 'a' + i % 26);
		free(v);
	}
}

static bool wait_state(struct kva *db, bool stalled)
{
	struct kva_stats st;
	int i;

	for (i = 0; i < 500; i++) {
		kva_stats(db, &st);
		if (st.stalled == stalled)
			return true;
		sleep_ms(2);
	}
	return false;
}

START_TEST(test_detect_thread)
{
	struct kva_opts o;
	struct kva_stats st;
	struct kva *db;

	base_opts(&o);
	o.rollback = KVA_ROLLBACK_OFF;
	db = open_ok(&o);
	ck_assert(wait_state(db, false));
	fake_l0(34);
	ck_assert(wait_state(db, true));
	put_s(db, "a", "1"); /* while stalled: to the device */
	fake_l0(30);	     /* between the thresholds: still stalled */
	sleep_ms(20);
	kva_stats(db, &st);
	ck_assert(st.stalled);
	fake_l0(26);
	ck_assert(wait_state(db, false));
	fake_l0(40);
	ck_assert(wait_state(db, true));
	fake_l0(0);
	ck_assert(wait_state(db, false));
	kva_stats(db, &st);
	ck_assert_uint_eq(st.stall_periods, 2);
	ck_assert_uint_eq(st.puts_device, 1);
	ck_assert_uint_eq(st.meta_keys, 1);
	ck_assert(st.meta_bytes_per_key > 0);
	kva_close(db);
}
END_TEST

/* ---- controller ---------------------------------------------------------------------- */

START_TEST(test_newest_version)
{
	struct kva_opts o;
	struct kva_stats st;
	struct kva *db;

	base_opts(&o);
	o.rollback = KVA_ROLLBACK_OFF;
	db = open_ok(&o);
	put_s(db, "a", "rocks-a");
	put_s(db, "b", "rocks-b");
	put_s(db, "c", "rocks-c");
	kva_force(db, KVA_FORCE_STALL);
	put_s(db, "a", "dev-a");
	put_s(db, "b", "dev-b");
	put_s(db, "d", "dev-d");
	put_s(db, "e", "dev-e");
	kva_stats(db, &st);
	ck_assert_uint_eq(st.puts_device, 4);
	ck_assert_uint_eq(st.meta_keys, 4);
	expect(db, "a", "dev-a");
	/* a delete hides both versions (during the stall: a device tombstone) */
	ck_assert_int_eq(kva_delete(db, "b", 1), 0);
	expect(db, "b", NULL);
	kva_force(db, KVA_FORCE_NORMAL);
	/* a later RocksDB put of a redirected key wins */
	put_s(db, "a", "rocks-a2");
	expect(db, "a", "rocks-a2");
	expect(db, "c", "rocks-c");
	expect(db, "d", "dev-d");
	kva_stats(db, &st);
	ck_assert_uint_eq(st.meta_keys, 3); /* b (tombstone), d, e */
	ck_assert_int_eq(kva_delete(db, "zz", 2), 0);
	ck_assert_int_eq(kva_put(db, NULL, 1, "x", 1), -EINVAL);
	ck_assert_int_eq(kva_put(db, "x", 0, "x", 1), -EINVAL);
	/* a key too long for the device goes to RocksDB even in a stall */
	kva_force(db, KVA_FORCE_STALL);
	put_s(db, "a-key-longer-than-16", "long");
	expect(db, "a-key-longer-than-16", "long");
	kva_stats(db, &st);
	ck_assert_uint_eq(st.meta_keys, 3);
	ck_assert_int_eq(kva_rollback(db), 0);
	kva_stats(db, &st);
	ck_assert_uint_eq(st.meta_keys, 0);
	ck_assert_uint_eq(st.rolled_back, 3);
	expect(db, "d", "dev-d");
	expect(db, "e", "dev-e");
	expect(db, "b", NULL);
	kva_close(db);
}
END_TEST

static void scan_expect(struct kva *db, const char *start, const char *const *want)
{
	struct kva_iter *it;
	const void *k, *v;
	size_t kl, vl;
	int i = 0, rc;

	ck_assert_int_eq(kva_iter_open(db, start, start ? strlen(start) : 0, &it), 0);
	while ((rc = kva_iter_next(it, &k, &kl, &v, &vl)) == 1) {
		ck_assert_msg(want[i], "extra key %.*s", (int)kl, (const char *)k);
		ck_assert_msg(kl == strlen(want[i]) && !memcmp(k, want[i], kl),
			      "key %d: %.*s != %s", i, (int)kl, (const char *)k, want[i]);
		ck_assert(vl == strlen(want[i + 1]) && (!vl || !memcmp(v, want[i + 1], vl)));
		i += 2;
	}
	ck_assert_int_eq(rc, 0);
	ck_assert_msg(!want[i], "missing %s", want[i]);
	kva_iter_close(it);
}

START_TEST(test_scan_merge)
{
	static const char *const all[] = { "a", "dev-a",   "b", "rocks-b", "c", "dev-c",
					   "d", "rocks-d", "e", "dev-e",   NULL };
	static const char *const from_c[] = { "c", "dev-c", "d", "rocks-d", "e", "dev-e", NULL };
	struct kva_opts o;
	struct kva *db;

	base_opts(&o);
	o.rollback = KVA_ROLLBACK_OFF;
	db = open_ok(&o);
	put_s(db, "a", "rocks-a");
	put_s(db, "b", "rocks-b");
	put_s(db, "d", "rocks-d");
	put_s(db, "x", "rocks-x");
	kva_force(db, KVA_FORCE_STALL);
	put_s(db, "a", "dev-a");
	put_s(db, "c", "dev-c");
	put_s(db, "e", "dev-e");
	ck_assert_int_eq(kva_delete(db, "x", 1), 0);
	scan_expect(db, NULL, all);
	scan_expect(db, "bz", from_c);
	ck_assert_int_eq(kva_rollback(db), 0);
	scan_expect(db, NULL, all);
	kva_close(db);
}
END_TEST

START_TEST(test_reopen_rebuilds_metadata)
{
	struct kva_opts o;
	struct kva_stats st;
	struct kva *db;
	char path[160];
	FILE *f;

	/* A persistent device is an emulator (integration test); here a second
	 * open of the same simulated device is not possible, so check the
	 * rebuild through a device string the sim keeps: none.  Instead: the
	 * rebuild path lists an empty device and finds nothing. */
	base_opts(&o);
	db = open_ok(&o);
	kva_stats(db, &st);
	ck_assert_uint_eq(st.meta_keys, 0);
	kva_close(db);
	/* RocksDB directory unusable: a file in its place. */
	rm_rf(dbdir);
	f = fopen(dbdir, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	{
		char why[256] = "";
		struct kva *bad = NULL;

		ck_assert_int_eq(kva_open(&o, &bad, why, sizeof(why)), -EIO);
		ck_assert_ptr_null(bad);
		ck_assert_msg(strstr(why, "RocksDB at ") && strstr(why, dbdir), "why: %s", why);
	}
	unlink(dbdir);
	snprintf(path, sizeof(path), "%s-nodev", dbdir);
	{
		char why[256] = "";
		struct kva *bad = NULL;
		struct kva_opts good;
		int rc;

		o.device = path; /* no emulator there */
		rc = kva_open(&o, &bad, why, sizeof(why));
		ck_assert_int_lt(rc, 0);
		ck_assert_ptr_null(bad);
		ck_assert_msg(strstr(why, "device ") && strstr(why, path), "why: %s", why);
		o.device = NULL;
		ck_assert_int_eq(kva_open(&o, &bad, why, sizeof(why)), -EINVAL);
		o.device = "sim";
		good = o;
		o.th.l0_low = 40;
		ck_assert_int_eq(kva_open(&o, &bad, why, sizeof(why)), -EINVAL);
		/* Guard bounds that cannot hold with hysteresis. */
		o = good;
		o.guard.lat_low_us = o.guard.lat_high_us + 1;
		ck_assert_int_eq(kva_open(&o, &bad, why, sizeof(why)), -EINVAL);
		o = good;
		o.guard.free_low_pct = o.guard.free_high_pct + 1;
		ck_assert_int_eq(kva_open(&o, &bad, why, sizeof(why)), -EINVAL);
		o = good;
		o.guard.free_high_pct = 101;
		ck_assert_int_eq(kva_open(&o, &bad, why, sizeof(why)), -EINVAL);
		ck_assert_ptr_null(bad);
	}
	rm_rf(dbdir);
}
END_TEST

/* A device with room for a few pairs: redirected writes it refuses go to RocksDB. */
START_TEST(test_device_full_falls_back)
{
	char ini[160];
	struct kva_opts o;
	struct kva_stats st;
	struct kva *db;
	FILE *f;
	int i;

	snprintf(ini, sizeof(ini), "%s.ini", dbdir);
	f = fopen(ini, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "[device]\ncapacity = 65536\n");
	fclose(f);
	{
		char dev[200];

		snprintf(dev, sizeof(dev), "sim:%s", ini);
		base_opts(&o);
		o.device = dev;
		o.rollback = KVA_ROLLBACK_OFF;
		/* The refusal path itself: the guard would stop short of it
		 * (tests/integration/test_kvaccel_guard). */
		o.guard.free_low_pct = 0;
		db = open_ok(&o);
	}
	kva_force(db, KVA_FORCE_STALL);
	for (i = 0; i < 64; i++)
		put_filled(db, "full", i, FILL_LEN);
	kva_stats(db, &st);
	ck_assert_uint_gt(st.puts_device, 0);
	ck_assert_uint_gt(st.device_fallbacks, 0);
	ck_assert_uint_eq(st.puts_device + st.puts_rocksdb, 64);
	check_filled(db, "full", 64, FILL_LEN);
	kva_close(db);
	unlink(ini);
}
END_TEST

/*
 * The guard on Store time, wired: with a bound of 1 us every redirected Store
 * is too slow, so after the first few the guard sends writes to RocksDB; with
 * nothing redirected the average decays at the detector's polls and the
 * guard lets go.  Every put succeeds and reads back.
 */
START_TEST(test_guard_slow_device)
{
	struct kva_opts o;
	struct kva_stats st;
	struct kva *db;
	int i;

	base_opts(&o);
	o.rollback = KVA_ROLLBACK_OFF;
	o.guard.lat_high_us = 1;
	o.guard.lat_low_us = 0;
	db = open_ok(&o);
	kva_force(db, KVA_FORCE_STALL);
	for (i = 0; i < 200; i++)
		put_filled(db, "slow", i, FILL_LEN);
	kva_stats(db, &st);
	ck_assert_uint_gt(st.puts_device, 0);
	ck_assert_uint_gt(st.guard_puts, 0);
	ck_assert_uint_ge(st.guard_periods, 1);
	ck_assert_uint_eq(st.device_fallbacks, 0);
	ck_assert_uint_eq(st.puts_device + st.guard_puts, 200);
	ck_assert_uint_eq(st.puts_device + st.puts_rocksdb, 200);
	for (i = 0; i < 500; i++) {
		kva_stats(db, &st);
		if (!st.guarded)
			break;
		sleep_ms(2);
	}
	ck_assert_msg(!st.guarded, "the guard still holds: average %llu ns",
		      (unsigned long long)st.device_lat_ns);
	ck_assert_uint_gt(st.guard_ns, 0);
	check_filled(db, "slow", 200, FILL_LEN);
	kva_close(db);
}
END_TEST

/*
 * Short of space during a stall (the detector's, RocksDB itself takes writes):
 * lazy rollback runs although the stall goes on and writes keep coming, and
 * the guard lets go once it has made room.
 */
START_TEST(test_guard_rollback_in_stall)
{
	char ini[160], dev[200], key[16], val[4096];
	struct kva_opts o;
	struct kva_stats st;
	struct kva *db;
	FILE *f;
	int i;

	snprintf(ini, sizeof(ini), "%s-g.ini", dbdir);
	f = fopen(ini, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "[device]\ncapacity = 262144\n");
	fclose(f);
	snprintf(dev, sizeof(dev), "sim:%s", ini);
	base_opts(&o);
	o.device = dev;
	o.rollback = KVA_ROLLBACK_LAZY;
	o.lazy_idle_ms = 60000; /* never idle long enough in this test */
	o.guard.lat_high_us = 0;
	db = open_ok(&o);
	fake_l0(40);
	ck_assert(wait_state(db, true));
	for (i = 0; i < 60; i++)
		put_filled(db, "room", i, sizeof(val));
	for (i = 0; i < 500; i++) {
		kva_stats(db, &st);
		if (st.rolled_back && !st.guarded)
			break;
		snprintf(key, sizeof(key), "room%03d", i % 60);
		memset(val, 'a' + i % 60 % 26, sizeof(val));
		ck_assert_int_eq(kva_put(db, key, strlen(key), val, sizeof(val)), 0);
		sleep_ms(2);
	}
	ck_assert(st.stalled);
	ck_assert_uint_ge(st.guard_periods, 1);
	ck_assert_uint_gt(st.rolled_back, 0);
	ck_assert_msg(!st.guarded, "the guard still holds after %llu pairs rolled back",
		      (unsigned long long)st.rolled_back);
	ck_assert_uint_eq(st.device_fallbacks, 0);
	check_filled(db, "room", 60, sizeof(val));
	kva_close(db);
	unlink(ini);
}
END_TEST

/* A device whose capacity is all block namespace: kva_open() says so. */
START_TEST(test_no_kv_namespace)
{
	char ini[160], dev[200], why[256] = "";
	struct kva *db = NULL;
	struct kva_opts o;
	FILE *f;

	snprintf(ini, sizeof(ini), "%s-blk.ini", dbdir);
	f = fopen(ini, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "[namespaces]\nblock_percent = 100\n");
	fclose(f);
	snprintf(dev, sizeof(dev), "sim:%s", ini);
	base_opts(&o);
	o.device = dev;
	ck_assert_int_eq(kva_open(&o, &db, why, sizeof(why)), -EPROTONOSUPPORT);
	ck_assert_ptr_null(db);
	ck_assert_msg(strstr(why, "no Key Value namespace") && strstr(why, dev), "why: %s", why);
	unlink(ini);
	rm_rf(dbdir);
}
END_TEST

/* The figures the benchmark's per-second series reads: device time of the
 * redirected puts and the device's own statistics log. */
START_TEST(test_redirect_time_and_device_stats)
{
	struct kvc_stats_log *l = calloc(1, sizeof(*l));
	struct kva_stats st;
	struct kva_opts o;
	struct kva *db;

	ck_assert_ptr_nonnull(l);
	base_opts(&o);
	o.rollback = KVA_ROLLBACK_OFF;
	db = open_ok(&o);
	kva_stats(db, &st);
	ck_assert_uint_eq(st.redirect_ns, 0);
	kva_force(db, KVA_FORCE_STALL);
	put_s(db, "dev1", "0123456789");
	put_s(db, "dev2", "abcdefghij");
	kva_stats(db, &st);
	ck_assert_uint_eq(st.puts_device, 2);
	ck_assert_uint_gt(st.redirect_ns, 0);
	ck_assert_int_eq(kva_device_stats(db, l, sizeof(*l)), 0);
	ck_assert_uint_ge(l->value_bytes_in, 20);
	ck_assert_int_eq(kva_device_stats(db, NULL, sizeof(*l)), -EINVAL);
	kva_close(db);
	free(l);
}
END_TEST

/*
 * Deletes during a stall are device tombstones: they hide RocksDB's version
 * from gets and scans, and rollback deletes the key from
 * RocksDB; an empty value is never redirected (it would read as a tombstone).
 */
START_TEST(test_delete_tombstone)
{
	static const char *const after[] = { "k1", "v1", "k3", "dev-k3", "k5", "", NULL };
	struct kva_opts o;
	struct kva_stats st;
	struct kva *db;

	base_opts(&o);
	o.rollback = KVA_ROLLBACK_OFF;
	db = open_ok(&o);
	put_s(db, "k1", "v1");
	put_s(db, "k2", "v2");
	put_s(db, "k4", "v4");
	kva_force(db, KVA_FORCE_STALL);
	ck_assert_int_eq(kva_delete(db, "k2", 2), 0); /* in RocksDB only */
	put_s(db, "k3", "dev-k3");
	put_s(db, "k4", "dev-k4");
	ck_assert_int_eq(kva_delete(db, "k4", 2), 0);	  /* on the device too */
	ck_assert_int_eq(kva_delete(db, "k9", 2), 0);	  /* nowhere */
	ck_assert_int_eq(kva_put(db, "k5", 2, "", 0), 0); /* empty: RocksDB */
	kva_stats(db, &st);
	ck_assert_uint_eq(st.deletes_device, 3);
	ck_assert_uint_eq(st.puts_device, 2);
	ck_assert_uint_eq(st.puts_rocksdb, 4);
	expect(db, "k2", NULL);
	expect(db, "k4", NULL);
	expect(db, "k9", NULL);
	expect(db, "k5", "");
	scan_expect(db, NULL, after);
	scan_expect(db, "k2", after + 2);
	kva_stats(db, &st);
	ck_assert_uint_eq(st.meta_keys, 4); /* k2, k3, k4, k9 */
	/* (reopening lists them again: the crash test, over nvkv-emu --store) */
	/* a put after the tombstone wins (device and RocksDB paths) */
	put_s(db, "k9", "dev-k9");
	expect(db, "k9", "dev-k9");
	ck_assert_int_eq(kva_delete(db, "k9", 2), 0);
	kva_force(db, KVA_FORCE_NORMAL);
	ck_assert_int_eq(kva_rollback(db), 0);
	kva_stats(db, &st);
	ck_assert_uint_eq(st.meta_keys, 0);
	/* RocksDB alone now: its old k2 and k4 are gone */
	expect(db, "k2", NULL);
	expect(db, "k4", NULL);
	expect(db, "k3", "dev-k3");
	scan_expect(db, NULL, after);
	kva_close(db);
}
END_TEST

/*
 * A merged scan that refreshes RocksDB's iterator (another thread moved a
 * pair: gen bumped) right after it passed a key the device hides: the refresh
 * must seek after that key, not after the last key returned, or RocksDB's old
 * version comes back.  Odd keys are tombstones on the device over old RocksDB
 * values; a writer bumps gen as fast as it can while scans run.
 */
static atomic_bool hide_stop;

static void *gen_bumper(void *arg)
{
	struct kva *db = arg;

	while (!atomic_load(&hide_stop)) {
		kva_force(db, KVA_FORCE_STALL);
		ck_assert_int_eq(kva_put(db, "zz", 2, "dev", 3), 0);
		kva_force(db, KVA_FORCE_NORMAL);
		ck_assert_int_eq(kva_put(db, "zz", 2, "rocks", 5), 0); /* drops the device copy */
	}
	return NULL;
}

START_TEST(test_scan_refresh_after_hidden_key)
{
	struct kva_opts o;
	struct kva *db;
	pthread_t t;
	char key[16];
	int i, scan;

	base_opts(&o);
	o.rollback = KVA_ROLLBACK_OFF;
	db = open_ok(&o);
	for (i = 0; i < 400; i++) {
		snprintf(key, sizeof(key), "h%04d", i);
		put_s(db, key, "old");
	}
	kva_force(db, KVA_FORCE_STALL);
	for (i = 1; i < 400; i += 2) {
		snprintf(key, sizeof(key), "h%04d", i);
		ck_assert_int_eq(kva_delete(db, key, strlen(key)), 0);
	}
	kva_force(db, KVA_FORCE_NORMAL);
	atomic_store(&hide_stop, false);
	ck_assert_int_eq(pthread_create(&t, NULL, gen_bumper, db), 0);
	for (scan = 0; scan < 40; scan++) {
		struct kva_iter *it;
		const void *k, *v;
		size_t kl, vl;
		int rc, n = 0;

		ck_assert_int_eq(kva_iter_open(db, "h", 1, &it), 0);
		while ((rc = kva_iter_next(it, &k, &kl, &v, &vl)) == 1) {
			const char *kp = k;

			if (kl != 5 || kp[0] != 'h')
				continue;
			ck_assert_msg(kp[4] % 2 == 0, "scan %d: deleted %.5s shows", scan, kp);
			n++;
		}
		ck_assert_int_eq(rc, 0);
		kva_iter_close(it);
		ck_assert_int_eq(n, 200);
	}
	atomic_store(&hide_stop, true);
	pthread_join(t, NULL);
	kva_close(db);
}
END_TEST

/*
 * The per-write signal: a RocksDB that stops writes for good (no compaction,
 * L0 stop trigger 2) and a detector that never sees it (all-zero properties).  Without
 * redirection the puts would wait forever (the test's timeout).
 */
START_TEST(test_per_write_signal)
{
	rocksdb_options_t *ro = rocksdb_options_create();
	char key[16], val[1024];
	struct kva_opts o;
	struct kva_stats st;
	struct kva *db;
	int i, deleted[2000], ndel = 0;

	rocksdb_options_set_write_buffer_size(ro, 64 << 10);
	rocksdb_options_set_max_write_buffer_number(ro, 2);
	rocksdb_options_set_disable_auto_compactions(ro, 1);
	rocksdb_options_set_level0_slowdown_writes_trigger(ro, 1);
	rocksdb_options_set_level0_stop_writes_trigger(ro, 2);
	kva_opts_default(&o);
	o.db_path = dbdir;
	o.device = "sim";
	o.rocksdb_options = ro;
	o.props = fake_props;
	memset(&fake, 0, sizeof(fake));
	o.rollback = KVA_ROLLBACK_OFF;
	db = open_ok(&o);
	rocksdb_options_destroy(ro);
	memset(val, 'v', sizeof(val));
	for (i = 0; i < 2000; i++) {
		uint64_t before;

		snprintf(key, sizeof(key), "w%05d", i);
		val[0] = (char)i;
		kva_stats(db, &st);
		before = st.redirect_incomplete;
		ck_assert_int_eq(kva_put(db, key, strlen(key), val, sizeof(val)), 0);
		kva_stats(db, &st);
		/* Right after RocksDB refused a put, a delete it would stop too:
		 * a tombstone instead of a wait (until one was). */
		if (st.redirect_incomplete > before && !st.deletes_device && i % 2 == 0) {
			ck_assert_int_eq(kva_delete(db, key, strlen(key)), 0);
			deleted[ndel++] = i;
		}
	}
	kva_stats(db, &st);
	ck_assert_uint_eq(st.deletes_device, 1);
	for (i = 0; i < ndel; i++) {
		snprintf(key, sizeof(key), "w%05d", deleted[i]);
		expect(db, key, NULL);
	}
	ck_assert_uint_gt(st.redirect_incomplete, 1);
	ck_assert_uint_eq(st.puts_device + st.deletes_device, st.redirect_incomplete);
	ck_assert_uint_eq(st.puts_device + st.puts_rocksdb, 2000);
	for (i = 1; i < 2000; i += 96) { /* odd: never deleted */
		void *v;
		size_t vl;

		snprintf(key, sizeof(key), "w%05d", i);
		ck_assert_int_eq(kva_get(db, key, strlen(key), &v, &vl), 0);
		ck_assert_int_eq(((char *)v)[0], (char)i);
		free(v);
	}
	kva_close(db);
}
END_TEST

/* ---- model check ----------------------------------------------------------------------- */

#define MC_THREADS 4
#define MC_KEYS 300 /* per thread */
#define MC_MAXV 600

struct mc_ref {
	int len; /* -1: absent */
	unsigned char val[MC_MAXV];
};

struct mc_thread {
	int id;
	struct kva *db;
	struct mc_ref ref[MC_KEYS];
	unsigned int seed;
	long ops, scans;
};

static atomic_int mc_phase; /* 0 write, 1 read only, 2 stop */

static int mc_key(int tid, int k, char *buf)
{
	return snprintf(buf, 16, "k%04d.%d", k, tid);
}

static void mc_check_get(struct mc_thread *t, int k)
{
	char key[16];
	int kl = mc_key(t->id, k, key);
	void *v = NULL;
	size_t vl = 0;
	int rc = kva_get(t->db, key, (size_t)kl, &v, &vl);

	if (t->ref[k].len < 0) {
		ck_assert_msg(rc == -ENOENT, "%s: deleted but rc %d", key, rc);
		return;
	}
	ck_assert_msg(rc == 0, "%s: rc %d", key, rc);
	ck_assert_msg((int)vl == t->ref[k].len && (!vl || !memcmp(v, t->ref[k].val, vl)),
		      "%s: stale or wrong value (len %zu want %d)", key, vl, t->ref[k].len);
	free(v);
}

/* Scan from a random key: this thread's keys show once, newest value. */
static void mc_check_scan(struct mc_thread *t)
{
	static __thread unsigned char seen[MC_KEYS];
	int from = (int)(rand_r(&t->seed) % MC_KEYS), k;
	char start[16], mine[8];
	struct kva_iter *it;
	const void *key, *val;
	size_t kl, vl;
	int rc, ml;

	memset(seen, 0, sizeof(seen));
	ml = snprintf(mine, sizeof(mine), ".%d", t->id);
	snprintf(start, sizeof(start), "k%04d", from);
	ck_assert_int_eq(kva_iter_open(t->db, start, strlen(start), &it), 0);
	while ((rc = kva_iter_next(it, &key, &kl, &val, &vl)) == 1) {
		const char *kp = key;

		if (kl < (size_t)ml + 5 || memcmp(kp + kl - (size_t)ml, mine, (size_t)ml) ||
		    kp[kl - (size_t)ml - 1] < '0')
			continue;
		k = (int)strtol(kp + 1, NULL, 10); /* stops at the '.' inside the key */
		ck_assert(k >= from && k < MC_KEYS);
		ck_assert_msg(!seen[k], "scan: k%04d.%d twice", k, t->id);
		seen[k] = 1;
		ck_assert_msg(t->ref[k].len >= 0, "scan: deleted k%04d.%d shows", k, t->id);
		/* An empty value may come back as NULL: compare bytes only when there are some. */
		ck_assert_msg((int)vl == t->ref[k].len && (!vl || !memcmp(val, t->ref[k].val, vl)),
			      "scan: k%04d.%d stale", k, t->id);
	}
	ck_assert_int_eq(rc, 0);
	kva_iter_close(it);
	for (k = from; k < MC_KEYS; k++)
		ck_assert_msg(seen[k] == (t->ref[k].len >= 0), "scan: k%04d.%d missing", k, t->id);
	t->scans++;
}

static void *mc_worker(void *arg)
{
	struct mc_thread *t = arg;
	int phase;

	while ((phase = atomic_load(&mc_phase)) != 2) {
		int k = (int)(rand_r(&t->seed) % MC_KEYS), op = (int)(rand_r(&t->seed) % 100);
		char key[16];
		int kl = mc_key(t->id, k, key);

		if (phase == 1 || op < 35) {
			if (op % 20 == 0)
				mc_check_scan(t);
			else
				mc_check_get(t, k);
		} else if (op < 85) {
			struct mc_ref *r = &t->ref[k];
			int i;

			r->len = (int)(rand_r(&t->seed) % MC_MAXV);
			for (i = 0; i < r->len; i++)
				r->val[i] = (unsigned char)rand_r(&t->seed);
			ck_assert_int_eq(kva_put(t->db, key, (size_t)kl, r->val, (size_t)r->len),
					 0);
		} else {
			ck_assert_int_eq(kva_delete(t->db, key, (size_t)kl), 0);
			t->ref[k].len = -1;
		}
		t->ops++;
	}
	return NULL;
}

static void model_check(enum kva_rollback policy)
{
	static struct mc_thread th[MC_THREADS];
	pthread_t tid[MC_THREADS];
	struct kva_opts o;
	struct kva_stats st;
	struct kva *db;
	int i, k, round;

	base_opts(&o);
	o.rollback = policy;
	o.lazy_idle_ms = 15;
	o.rollback_batch = 16;
	o.rollback_pause_ms = 0;
	db = open_ok(&o);
	atomic_store(&mc_phase, 0);
	for (i = 0; i < MC_THREADS; i++) {
		th[i].id = i;
		th[i].db = db;
		th[i].seed = 1000u + (unsigned int)i + (unsigned int)policy * 77u;
		th[i].ops = th[i].scans = 0;
		for (k = 0; k < MC_KEYS; k++)
			th[i].ref[k].len = -1;
		ck_assert_int_eq(pthread_create(&tid[i], NULL, mc_worker, &th[i]), 0);
	}
	/* Stall (the detector's fake L0 above high), normal, quiet (reads only:
	 * lazy rollback's idle window), with forced states in between. */
	for (round = 0; round < 8; round++) {
		uint64_t before;

		fake_l0(40);
		ck_assert(wait_state(db, true)); /* the detector saw it (a loaded machine) */
		sleep_ms(40);
		fake_l0(round % 2 ? 30 : 0); /* 30: hysteresis keeps the stall */
		sleep_ms(40);
		kva_stats(db, &st);
		before = st.rolled_back;
		atomic_store(&mc_phase, 1);
		for (i = 0; i < 30; i++) { /* until a rollback ran, or 300 ms */
			sleep_ms(10);
			kva_stats(db, &st);
			if (i >= 5 && (st.rolled_back > before || !st.meta_keys))
				break;
		}
		atomic_store(&mc_phase, 0);
		kva_force(db, KVA_FORCE_STALL);
		sleep_ms(20);
		kva_force(db, KVA_FORCE_NONE);
		fake_l0(0);
		ck_assert(wait_state(db, false));
	}
	atomic_store(&mc_phase, 2);
	for (i = 0; i < MC_THREADS; i++)
		pthread_join(tid[i], NULL);
	kva_stats(db, &st);
	ck_assert_uint_gt(st.puts_device, 100);
	ck_assert_uint_gt(st.rolled_back, 50);
	ck_assert_uint_ge(st.stall_periods, 8);
	for (i = 0; i < MC_THREADS; i++) {
		ck_assert_int_gt(th[i].scans, 5);
		for (k = 0; k < MC_KEYS; k++)
			mc_check_get(&th[i], k);
	}
	ck_assert_int_eq(kva_rollback(db), 0);
	kva_stats(db, &st);
	ck_assert_uint_eq(st.meta_keys, 0);
	for (i = 0; i < MC_THREADS; i++) {
		for (k = 0; k < MC_KEYS; k++)
			mc_check_get(&th[i], k);
		mc_check_scan(&th[i]);
	}
	kva_close(db);
}

START_TEST(test_model_eager)
{
	model_check(KVA_ROLLBACK_EAGER);
}
END_TEST

START_TEST(test_model_lazy)
{
	model_check(KVA_ROLLBACK_LAZY);
}
END_TEST

static Suite *kvaccel_suite(void)
{
	Suite *s = suite_create("kvaccel");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_meta_model);
	tcase_add_test(tc, test_detect_thresholds);
	tcase_add_test(tc, test_guard_decision);
	tcase_add_test(tc, test_detect_thread);
	tcase_add_test(tc, test_newest_version);
	tcase_add_test(tc, test_scan_merge);
	tcase_add_test(tc, test_reopen_rebuilds_metadata);
	tcase_add_test(tc, test_device_full_falls_back);
	tcase_add_test(tc, test_guard_slow_device);
	tcase_add_test(tc, test_guard_rollback_in_stall);
	tcase_add_test(tc, test_per_write_signal);
	tcase_add_test(tc, test_no_kv_namespace);
	tcase_add_test(tc, test_delete_tombstone);
	tcase_add_test(tc, test_scan_refresh_after_hidden_key);
	tcase_add_test(tc, test_redirect_time_and_device_stats);
	tcase_add_test(tc, test_model_eager);
	tcase_add_test(tc, test_model_lazy);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(kvaccel_suite)
