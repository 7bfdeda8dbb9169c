// SPDX-License-Identifier: MIT
/*
 * Store-file damage: truncation, deletion and bit flips of the catalog
 * (data.mdb) and the NAND image (nand.img) of a real nvkv-emu store.  Each
 * case must either be refused at start-up (exit status 3, a message naming the
 * damaged file) or come up with every key either intact or reported as
 * Unrecovered Error (88h), counted in the device's checksum-error counter;
 * never a crash, never wrong bytes, never a key lost or brought back, never a
 * silent empty device.  The bit-flip loops use fixed seeds.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "cmdset/cmdset.h"
#include "cmdset/le.h"
#include "emu_proc.c"
#include "hostdrv/nvkv.h"

#define NKEYS 120
#define NCRASH 20 /* keys stored after the clean copy, then kill -9 */
/* Seeds per bit-flip loop: 40, or NVKV_SD_SEEDS for a longer run. */
static uint64_t seeds(void)
{
	const char *e = getenv("NVKV_SD_SEEDS");

	return e && atoi(e) > 0 ? (uint64_t)atoi(e) : 40;
}
#define VMAX 2048

/* Per key: 0 never stored or deleted, else the version its value was made from. */
static int version[NKEYS + NCRASH];
static char base[64], clean_dir[96], crash_dir[96], work[96], errlog[128];
static struct emu_proc emu;
static int cases, refused, started, unrecovered;

static const char *const geo[] = { "--nand-channels",
				   "2",
				   "--nand-ways",
				   "2",
				   "--nand-blocks",
				   "8",
				   "--nand-pages",
				   "16",
				   "--nand-page-size",
				   "4K",
				   "--lmdb-map-mb",
				   "16",
				   "--namespaces-block-percent",
				   "0" };

static void rm_mkdir(const char *dir)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf %s && mkdir -p %s", dir, dir);
	ck_assert_msg(system(cmd) == 0, "%s failed", cmd);
}

static void copy_dir(const char *from, const char *to)
{
	char cmd[400];

	snprintf(cmd, sizeof(cmd), "rm -rf %s && cp -a --sparse=always %s %s", to, from, to);
	ck_assert_msg(system(cmd) == 0, "%s failed", cmd);
}

static uint32_t vsize(int k)
{
	return (uint32_t)(k * 37 % VMAX) + 1;
}

static void fill(uint8_t *v, uint32_t n, int k, int ver)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		v[i] = (uint8_t)(i * 131 + (uint32_t)k * 7 + (uint32_t)ver * 29 + 3);
}

static void keyname(char *key, size_t len, int k)
{
	snprintf(key, len, "key%05d", k);
}

/*
 * Start nvkv-emu on @dir with stderr to errlog.  Return 0 when it listens,
 * else its exit status (128 + signal when killed).
 */
static int launch(const char *dir)
{
	const char *argv[40];
	char exe[PATH_MAX + 16];
	struct stat st;
	int n = 0, i, status, fd;
	size_t g;

	find_bindir(emu.bindir, sizeof(emu.bindir));
	snprintf(exe, sizeof(exe), "%s/nvkv-emu", emu.bindir);
	snprintf(emu.sock, sizeof(emu.sock), "/tmp/nvkv-sd-%d.sock", (int)getpid());
	unlink(emu.sock);
	argv[n++] = exe;
	argv[n++] = "--socket";
	argv[n++] = emu.sock;
	argv[n++] = "--store";
	argv[n++] = dir;
	argv[n++] = "--log-level";
	argv[n++] = "warn";
	for (g = 0; g < sizeof(geo) / sizeof(geo[0]); g++)
		argv[n++] = geo[g];
	argv[n] = NULL;
	emu.pid = fork();
	if (emu.pid == 0) {
		fd = open(errlog, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0)
			dup2(fd, 2);
		execv(exe, (char *const *)argv);
		_exit(127);
	}
	ck_assert_int_gt(emu.pid, 0);
	for (i = 0; i < 3000; i++) {
		if (stat(emu.sock, &st) == 0)
			return 0;
		if (waitpid(emu.pid, &status, WNOHANG) == emu.pid) {
			emu.pid = 0;
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		}
		sleep_ms(5);
	}
	ck_abort_msg("nvkv-emu neither listened nor exited");
	return -1;
}

static struct nvkv_dev *attach(void)
{
	struct nvkv_opts o;
	struct nvkv_dev *d = NULL;

	int rc, i;

	nvkv_opts_default(&o);
	o.queues = 1;
	o.timeout_ms = 5000;
	/* The socket appears at bind(), a moment before listen(): retry a refusal. */
	for (i = 0; (rc = nvkv_open(emu.sock, &o, &d)) == -ECONNREFUSED && i < 200; i++)
		sleep_ms(5);
	ck_assert_int_eq(rc, 0);
	return d;
}

static void store(struct nvkv_dev *d, int k, int ver)
{
	static const enum nvkv_xfer m[] = { NVKV_XFER_PRP, NVKV_XFER_BANDSLIM,
					    NVKV_XFER_BYTEEXPRESS };
	uint8_t v[VMAX + 1];
	char key[16];

	keyname(key, sizeof(key), k);
	fill(v, vsize(k), k, ver);
	ck_assert_int_eq(nvkv_store(d, key, strlen(key), v, vsize(k), NVKV_F_XFER(m[k % 3])), 0);
	version[k] = ver;
}

static void stop_emu(int sig, int want)
{
	ck_assert_int_eq(emu_stop(&emu, sig), want);
}

/* The pristine stores: clean shutdown (with data.mdb.sum) and after kill -9. */
static void make_stores(void)
{
	struct nvkv_dev *d;
	char key[16];
	int k;

	snprintf(base, sizeof(base), "/tmp/nvkv-sd-%d", (int)getpid());
	snprintf(clean_dir, sizeof(clean_dir), "%s/clean", base);
	snprintf(crash_dir, sizeof(crash_dir), "%s/crash", base);
	snprintf(work, sizeof(work), "%s/work", base);
	snprintf(errlog, sizeof(errlog), "%s/stderr", base);
	rm_mkdir(base);
	ck_assert_int_eq(launch(clean_dir), 0);
	d = attach();
	for (k = 0; k < NKEYS; k++)
		store(d, k, 1);
	for (k = 0; k < NKEYS; k += 4)
		store(d, k, 2); /* overwrites leave dead records */
	for (k = 1; k < NKEYS; k += 10) {
		keyname(key, sizeof(key), k);
		ck_assert_int_eq(nvkv_delete(d, key, strlen(key)), 0);
		version[k] = 0;
	}
	nvkv_close(d);
	stop_emu(SIGTERM, 0);
	copy_dir(clean_dir, crash_dir);
	ck_assert_int_eq(launch(crash_dir), 0);
	d = attach();
	for (k = NKEYS; k < NKEYS + NCRASH; k++)
		store(d, k, 1);
	stop_emu(SIGKILL, 128 + SIGKILL);
	nvkv_close(d);
}

static void setup(void)
{
	if (!*base)
		make_stores();
}

static void teardown(void)
{
	if (emu.pid > 0)
		emu_stop(&emu, SIGKILL);
}

static void cleanup_all(void)
{
	char cmd[128];

	(void)emu_start; /* emu_proc.c's launcher: ours keeps the exit status and stderr */
	snprintf(cmd, sizeof(cmd), "rm -rf %s", base);
	if (*base && !getenv("NVKV_TEST_KEEP") && system(cmd))
		fprintf(stderr, "cannot remove %s\n", base);
}

static void fresh_copy(const char *from)
{
	copy_dir(from, work);
}

static bool log_has(const char *what)
{
	char buf[8192];
	FILE *f = fopen(errlog, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

	if (f)
		fclose(f);
	buf[n] = 0;
	return strstr(buf, what) != NULL;
}

static void show_log(void)
{
	char cmd[200];

	snprintf(cmd, sizeof(cmd), "sed 's/^/  | /' %s >&2", errlog);
	if (system(cmd)) {
		/* best effort */
	}
}

/*
 * Start on the damaged copy.  Refused: exit 3 naming @file.  Started: every
 * key intact or 88h (at most @max_bad of them), counted by the device; a
 * Store still works; a clean stop.  Returns the number of 88h keys, -1 when
 * refused.
 */
static int verify(const char *file, int nkeys, int max_bad)
{
	struct kvc_stats_log st;
	uint8_t want[VMAX + 1], got[VMAX + 1];
	struct nvkv_dev *d;
	char key[16];
	size_t vlen;
	int rc, k, bad = 0;

	cases += strcmp(file, "-") != 0;
	rc = launch(work);
	if (rc) {
		if (rc != 3 || !log_has(file))
			show_log();
		ck_assert_msg(rc == 3, "case %d: nvkv-emu exited with %d (want 0 or 3)", cases, rc);
		ck_assert_msg(log_has(file), "case %d: the refusal does not name %s", cases, file);
		refused++;
		return -1;
	}
	started++;
	d = attach();
	for (k = 0; k < nkeys; k++) {
		keyname(key, sizeof(key), k);
		rc = nvkv_retrieve(d, key, strlen(key), got, sizeof(got), &vlen);
		if (!version[k]) {
			ck_assert_msg(rc == NVKV_KEY_NOT_EXIST,
				      "case %d: deleted %s came back (%d)", cases, key, rc);
			continue;
		}
		if (rc == NVKV_UNRECOVERED) {
			bad++;
			continue;
		}
		ck_assert_msg(rc == 0, "case %d: %s: %s", cases, key, nvkv_strerror(rc));
		fill(want, vsize(k), k, version[k]);
		ck_assert_msg(vlen == vsize(k) && !memcmp(got, want, vlen),
			      "case %d: %s reads wrong bytes", cases, key);
	}
	ck_assert_int_eq(nvkv_device_stats(d, &st, sizeof(st)), 0);
	ck_assert_msg(st.crc_errors + st.media_errors == (uint64_t)bad,
		      "case %d: %d keys unrecovered, device counted %llu", cases, bad,
		      (unsigned long long)(st.crc_errors + st.media_errors));
	ck_assert_msg(bad <= max_bad, "case %d: %d keys unrecovered for %d flips", cases, bad,
		      max_bad);
	ck_assert_int_eq(nvkv_store(d, "after", 5, "works", 5, 0), 0);
	nvkv_close(d);
	stop_emu(SIGTERM, 0);
	unrecovered += bad;
	return bad;
}

static uint64_t rng;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void flip(const char *path, uint64_t off, int bit)
{
	int fd = open(path, O_RDWR);
	uint8_t b;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, &b, 1, (off_t)off), 1);
	b ^= (uint8_t)(1u << bit);
	ck_assert_int_eq(pwrite(fd, &b, 1, (off_t)off), 1);
	close(fd);
}

/* Bytes of data.mdb in use: (last page + 1) x page size of the newer meta page. */
static uint64_t catalog_used(const char *path)
{
	uint8_t a[152], b[152];
	int fd = open(path, O_RDONLY);
	uint32_t ps;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, a, sizeof(a), 0), sizeof(a));
	ps = kvc_get_le32(a + 40);
	ck_assert_int_eq(pread(fd, b, sizeof(b), ps), sizeof(b));
	close(fd);
	if (kvc_get_le64(b + 144) > kvc_get_le64(a + 144))
		memcpy(a, b, sizeof(a));
	return (kvc_get_le64(a + 136) + 1) * ps;
}

static void path_of(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", work, name);
}

/* ---- deletion and truncation --------------------------------------------------------- */

static void truncate_to(const char *name, off_t size)
{
	char p[160];

	path_of(p, sizeof(p), name);
	ck_assert_int_eq(truncate(p, size), 0);
}

static void remove_file(const char *name)
{
	char p[160];

	path_of(p, sizeof(p), name);
	ck_assert_int_eq(unlink(p), 0);
}

START_TEST(catalog_deleted_is_refused)
{
	fresh_copy(clean_dir);
	remove_file("data.mdb");
	ck_assert_int_eq(verify("data.mdb", NKEYS, 0), -1);
	/* and stays refused: the refusal did not create an empty catalog */
	ck_assert_int_eq(verify("data.mdb", NKEYS, 0), -1);
	fresh_copy(crash_dir);
	remove_file("data.mdb");
	ck_assert_int_eq(verify("data.mdb", NKEYS, 0), -1);
}
END_TEST

START_TEST(catalog_truncated_is_refused)
{
	char p[160];
	uint64_t used;

	fresh_copy(clean_dir);
	truncate_to("data.mdb", 0);
	ck_assert_int_eq(verify("data.mdb", NKEYS, 0), -1);
	fresh_copy(clean_dir);
	path_of(p, sizeof(p), "data.mdb");
	used = catalog_used(p);
	truncate_to("data.mdb", (off_t)used / 2);
	ck_assert_int_eq(verify("data.mdb", NKEYS, 0), -1);
	fresh_copy(crash_dir);
	truncate_to("data.mdb", 4096);
	ck_assert_int_eq(verify("data.mdb", NKEYS, 0), -1);
	fresh_copy(crash_dir);
	path_of(p, sizeof(p), "data.mdb");
	truncate_to("data.mdb", (off_t)catalog_used(p) - 4096);
	ck_assert_int_eq(verify("data.mdb", NKEYS, 0), -1);
}
END_TEST

START_TEST(nand_image_deleted_is_refused)
{
	fresh_copy(clean_dir);
	remove_file("nand.img");
	ck_assert_int_eq(verify("nand.img", NKEYS, 0), -1);
	ck_assert_int_eq(verify("nand.img", NKEYS, 0), -1);
}
END_TEST

START_TEST(nand_image_truncated_is_refused)
{
	fresh_copy(clean_dir);
	truncate_to("nand.img", 0);
	ck_assert_int_eq(verify("nand.img", NKEYS, 0), -1);
	fresh_copy(clean_dir);
	truncate_to("nand.img", 1 << 20); /* the geometry needs 2 MiB */
	ck_assert_int_eq(verify("nand.img", NKEYS, 0), -1);
}
END_TEST

/* The undamaged copies come up whole (the checks refuse nothing sound). */
START_TEST(undamaged_stores_come_up_whole)
{
	fresh_copy(clean_dir);
	ck_assert_int_eq(verify("-", NKEYS, 0), 0);
	fresh_copy(crash_dir);
	ck_assert_int_eq(verify("-", NKEYS + NCRASH, 0), 0);
}
END_TEST

/* ---- bit flips ----------------------------------------------------------------------- */

static int flip_catalog(uint64_t seed)
{
	char p[160];
	uint64_t used;
	int n, i;

	path_of(p, sizeof(p), "data.mdb");
	used = catalog_used(p);
	rng = seed * 0x9e3779b97f4a7c15ull + 1;
	n = 1 + (int)(next_rand() % 4);
	for (i = 0; i < n; i++)
		flip(p, next_rand() % used, (int)(next_rand() % 8));
	return n;
}

/* After a clean shutdown the checksum catches every flip. */
START_TEST(catalog_bit_flips_after_clean_shutdown)
{
	uint64_t s;

	for (s = 0; s < seeds(); s++) {
		fresh_copy(clean_dir);
		flip_catalog(s);
		ck_assert_int_eq(verify("data.mdb", NKEYS, 0), -1);
	}
}
END_TEST

/* After kill -9 there is no checksum: the structure walk and the record
 * checksums must refuse the damage or prove it harmless. */
START_TEST(catalog_bit_flips_after_crash)
{
	int was_refused = refused, was_started = started;
	uint64_t s;

	for (s = 0; s < seeds(); s++) {
		fresh_copy(crash_dir);
		flip_catalog(1000 + s);
		verify("data.mdb", NKEYS + NCRASH, 0);
	}
	printf("catalog flips after a crash: %d refused, %d harmless\n", refused - was_refused,
	       started - was_started);
}
END_TEST

/* Flip bits in the written (non-hole) extents of the NAND image. */
static int flip_nand(uint64_t seed)
{
	struct {
		off_t off, len;
	} ext[256];
	off_t pos = 0, d, h, total = 0, r;
	char p[160];
	int fd, next = 0, n, i, e;

	path_of(p, sizeof(p), "nand.img");
	fd = open(p, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	while (next < 256 && (d = lseek(fd, pos, SEEK_DATA)) >= 0) {
		h = lseek(fd, d, SEEK_HOLE);
		ext[next].off = d;
		ext[next++].len = h - d;
		total += h - d;
		pos = h;
	}
	close(fd);
	ck_assert_int_gt(total, 0);
	rng = seed * 0x9e3779b97f4a7c15ull + 7;
	n = 1 + (int)(next_rand() % 4);
	for (i = 0; i < n; i++) {
		r = (off_t)(next_rand() % (uint64_t)total);
		for (e = 0; r >= ext[e].len; e++)
			r -= ext[e].len;
		flip(p, (uint64_t)(ext[e].off + r), (int)(next_rand() % 8));
	}
	return n;
}

/* Media damage: the device comes up; damaged keys are 88h, the rest intact. */
START_TEST(nand_bit_flips_report_exactly_the_damaged_keys)
{
	int before = unrecovered;
	uint64_t s;
	int n;

	for (s = 0; s < seeds(); s++) {
		fresh_copy(s % 2 ? crash_dir : clean_dir);
		n = flip_nand(2000 + s);
		ck_assert_int_ge(verify("nand.img", s % 2 ? NKEYS + NCRASH : NKEYS, n), 0);
	}
	/* The flips did hit records: some keys must have been reported. */
	ck_assert_int_gt(unrecovered - before, 0);
}
END_TEST

static Suite *storedamage_suite(void)
{
	Suite *s = suite_create("integration/storedamage");
	TCase *tc = tcase_create("damage");

	tcase_set_timeout(tc, 300);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, undamaged_stores_come_up_whole);
	tcase_add_test(tc, catalog_deleted_is_refused);
	tcase_add_test(tc, catalog_truncated_is_refused);
	tcase_add_test(tc, nand_image_deleted_is_refused);
	tcase_add_test(tc, nand_image_truncated_is_refused);
	tcase_add_test(tc, catalog_bit_flips_after_clean_shutdown);
	tcase_add_test(tc, catalog_bit_flips_after_crash);
	tcase_add_test(tc, nand_bit_flips_report_exactly_the_damaged_keys);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(storedamage_suite());
	int failed;

	/* One process: the pristine stores are made once and shared by the cases. */
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	printf("storedamage: %d corruption cases: %d refused at start-up, %d came up (%d keys "
	       "reported unrecovered)\n",
	       cases, refused, started, unrecovered);
	cleanup_all();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
