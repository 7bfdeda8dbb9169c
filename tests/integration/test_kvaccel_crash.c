// SPDX-License-Identifier: MIT
/*
 * kvaccel under kill -9: a child process writes (puts, overwrites, deletes)
 * through kvaccel to an nvkv-emu with --store, reporting each operation before
 * it starts and once it is acknowledged; the parent kills it with SIGKILL
 * during redirection (forced stall) or in the middle of an eager rollback,
 * reopens the store and checks every key: the newest acknowledged value (or
 * the one in flight), no deleted key back, no key shown twice by a scan.
 */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check_main.h"
#include "emu_proc.c"
#include "kvaccel/kvaccel.h"

#define NKEYS 400

struct rec {
	char type; /* 'I' intent, 'A' acknowledged, 'B' rollback running */
	char op;   /* 'P' put, 'D' delete */
	int32_t key;
	int32_t ver;
};

static struct emu_proc emu;
static char dbdir[96], store[96];
static int32_t state[NKEYS]; /* newest acknowledged version, 0 absent */

static size_t val_of(int32_t ver, unsigned char *buf)
{
	size_t len = 50 + (size_t)ver % 900, i;

	for (i = 0; i < len; i++)
		buf[i] = (unsigned char)(ver * 31 + (int32_t)i);
	return len;
}

static int key_of(int32_t k, char *buf)
{
	return snprintf(buf, 16, "c%04d", k);
}

static void send_rec(int fd, char type, char op, int32_t key, int32_t ver)
{
	struct rec r = { type, op, key, ver };

	if (write(fd, &r, sizeof(r)) != sizeof(r))
		_exit(3);
}

static struct kva *open_store(enum kva_rollback rb, char *why, size_t whylen, int *rc)
{
	struct kva_opts o;
	struct kva *db = NULL;

	kva_opts_default(&o);
	o.db_path = dbdir;
	o.device = emu.sock;
	o.rollback = rb;
	o.rollback_batch = 4;
	o.rollback_pause_ms = 2;
	o.interval_ms = 5;
	*rc = kva_open(&o, &db, why, whylen);
	return db;
}

/* The child: random operations until killed. */
__attribute__((noreturn)) static void child(int fd, int mode, int32_t ver, unsigned int seed)
{
	unsigned char val[1024];
	char why[256], key[16];
	struct kva *db;
	bool told = false;
	int rc, n;

	db = open_store(mode ? KVA_ROLLBACK_EAGER : KVA_ROLLBACK_OFF, why, sizeof(why), &rc);
	if (!db) {
		fprintf(stderr, "child: %s\n", why);
		_exit(2);
	}
	kva_force(db, KVA_FORCE_STALL);
	for (n = 0;; n++) {
		int32_t k = (int32_t)(rand_r(&seed) % NKEYS);
		bool del = rand_r(&seed) % 5 == 0;
		int kl = key_of(k, key);

		if (mode && n == 300)
			kva_force(db, KVA_FORCE_NORMAL); /* the rollback starts */
		if (mode && n > 300 && !told) {
			struct kva_stats st;

			kva_stats(db, &st);
			if (st.rolled_back) {
				send_rec(fd, 'B', 0, 0, 0);
				told = true;
			}
		}
		ver++;
		send_rec(fd, 'I', del ? 'D' : 'P', k, ver);
		if (del)
			rc = kva_delete(db, key, (size_t)kl);
		else
			rc = kva_put(db, key, (size_t)kl, val, val_of(ver, val));
		if (rc)
			_exit(4);
		send_rec(fd, 'A', del ? 'D' : 'P', k, ver);
	}
}

static bool matches(const void *v, size_t vl, int32_t ver)
{
	unsigned char want[1024];
	size_t wl = val_of(ver, want);

	return vl == wl && !memcmp(v, want, wl);
}

static void verify(struct kva *db, const struct rec *inflight)
{
	static unsigned char seen[NKEYS];
	struct kva_iter *it;
	const void *k, *v;
	size_t kl, vl;
	char key[16];
	int32_t i;
	int rc;

	for (i = 0; i < NKEYS; i++) {
		int kl2 = key_of(i, key);
		void *val = NULL;
		size_t len = 0;
		bool ok;

		rc = kva_get(db, key, (size_t)kl2, &val, &len);
		ck_assert_msg(rc == 0 || rc == -ENOENT, "%s: rc %d", key, rc);
		ok = rc == 0 ? state[i] && matches(val, len, state[i]) : !state[i];
		if (!ok && inflight && inflight->key == i)
			ok = inflight->op == 'D' ? rc == -ENOENT
						 : rc == 0 && matches(val, len, inflight->ver);
		ck_assert_msg(ok, "%s: %s (acknowledged version %d)", key,
			      rc ? "missing" : "wrong or stale value", state[i]);
		if (inflight && inflight->key == i) /* settle what the store kept */
			state[i] =
				rc ? 0 : (matches(val, len, state[i]) ? state[i] : inflight->ver);
		free(val);
	}
	memset(seen, 0, sizeof(seen));
	ck_assert_int_eq(kva_iter_open(db, NULL, 0, &it), 0);
	while ((rc = kva_iter_next(it, &k, &kl, &v, &vl)) == 1) {
		char name[17] = "";

		memcpy(name, k, kl < 16 ? kl : 16); /* keys are not NUL-terminated */
		i = atoi(name + 1);
		ck_assert(i >= 0 && i < NKEYS);
		ck_assert_msg(!seen[i], "c%04d twice in a scan", i);
		seen[i] = 1;
		ck_assert_msg(state[i] && matches(v, vl, state[i]), "scan: c%04d", i);
	}
	ck_assert_int_eq(rc, 0);
	kva_iter_close(it);
	for (i = 0; i < NKEYS; i++)
		ck_assert_msg(seen[i] == (state[i] != 0), "scan: c%04d missing", i);
}

static void crash_round(int mode, int32_t *ver, unsigned int seed)
{
	struct rec r, inflight = { 0 };
	bool have_inflight = false, rolling = false;
	struct kva_stats st;
	char why[256];
	struct kva *db;
	int fds[2], status, acks = 0, target = 150 + (int)(seed % 200), rc;
	pid_t pid;

	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (!pid) {
		/* A fresh process (RocksDB's thread pools outlive a close: no
		 * fork without exec from a process that used it). */
		char a[4][24];

		close(fds[0]);
		snprintf(a[0], sizeof(a[0]), "%d", fds[1]);
		snprintf(a[1], sizeof(a[1]), "%d", mode);
		snprintf(a[2], sizeof(a[2]), "%d", (int)*ver);
		snprintf(a[3], sizeof(a[3]), "%u", seed);
		execl("/proc/self/exe", "kvaccel-crash-child", a[0], a[1], a[2], a[3], dbdir,
		      emu.sock, (char *)NULL);
		_exit(5);
	}
	close(fds[1]);
	while (read(fds[0], &r, sizeof(r)) == sizeof(r)) {
		if (r.type == 'I') {
			inflight = r;
			have_inflight = true;
			*ver = r.ver;
		} else if (r.type == 'A') {
			state[r.key] = r.op == 'D' ? 0 : r.ver;
			have_inflight = false;
			acks++;
		} else if (r.type == 'B') {
			rolling = true;
			acks = 0;
			target = (int)(seed % 20);
		}
		if ((!mode || rolling) && acks >= target)
			break;
	}
	ck_assert_msg(!mode || rolling, "the child never reached the rollback");
	kill(pid, SIGKILL);
	/* Records written before the kill still count. */
	while (read(fds[0], &r, sizeof(r)) == sizeof(r)) {
		if (r.type == 'I') {
			inflight = r;
			have_inflight = true;
			*ver = r.ver;
		} else if (r.type == 'A') {
			state[r.key] = r.op == 'D' ? 0 : r.ver;
			have_inflight = false;
		}
	}
	close(fds[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "child status %d",
		      status);

	db = open_store(KVA_ROLLBACK_OFF, why, sizeof(why), &rc);
	ck_assert_msg(db, "reopen: %d %s", rc, why);
	kva_stats(db, &st);
	ck_assert_uint_gt(st.meta_keys, 0); /* rebuilt from the device's List */
	verify(db, have_inflight ? &inflight : NULL);
	/* What the crash left (pairs on both paths) settles in a rollback. */
	ck_assert_int_eq(kva_rollback(db), 0);
	verify(db, NULL);
	kva_close(db);
}

START_TEST(test_kill_during_redirect_and_rollback)
{
	int32_t ver = 0;
	unsigned int seed = 20261202u;
	int round;

	snprintf(store, sizeof(store), "/tmp/kvaccel-crash-store-%d", (int)getpid());
	snprintf(dbdir, sizeof(dbdir), "/tmp/kvaccel-crash-db-%d", (int)getpid());
	ck_assert_int_eq(system("true"), 0);
	{
		char cmd[256];

		snprintf(cmd, sizeof(cmd), "rm -rf %s %s", store, dbdir);
		ck_assert_int_eq(system(cmd), 0);
	}
	ck_assert_int_eq(emu_start(&emu, "--store", store, "--nand-blocks", "64", NULL), 0);
	memset(state, 0, sizeof(state));
	for (round = 0; round < 4; round++) {
		crash_round(round % 2, &ver, seed);
		seed = seed * 1103515245u + 12345u;
	}
	emu_stop(&emu, SIGTERM);
	{
		char cmd[256];

		snprintf(cmd, sizeof(cmd), "rm -rf %s %s", store, dbdir);
		ck_assert_int_eq(system(cmd), 0);
	}
}
END_TEST

static Suite *crash_suite(void)
{
	Suite *s = suite_create("kvaccel_crash");
	TCase *tc = tcase_create("kill");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_kill_during_redirect_and_rollback);
	suite_add_tcase(s, tc);
	return s;
}

int main(int argc, char **argv)
{
	SRunner *sr;
	int failed;

	if (argc == 7 && !strcmp(argv[0], "kvaccel-crash-child")) {
		snprintf(dbdir, sizeof(dbdir), "%s", argv[5]);
		snprintf(emu.sock, sizeof(emu.sock), "%s", argv[6]);
		child(atoi(argv[1]), atoi(argv[2]), (int32_t)atoi(argv[3]),
		      (unsigned int)strtoul(argv[4], NULL, 10));
	}
	sr = srunner_create(crash_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
