// SPDX-License-Identifier: MIT
/*
 * Media, catalog and memory faults end to end: nvkv-emu with its test-only
 * fault knobs ([fault], emu/config.c), and on a real file system that runs
 * full.  Whatever fails, the emulator answers with a status and stays up, and
 * what was stored before the fault reads back intact.
 *
 * A small NAND geometry (1 x 2 dies, 16 KiB pages) and values of 20000 bytes:
 * every Store fills at least one page, so page programs follow Stores.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "check_main.h"
#include "cmdset/cmdset.h"
#include "emu_proc.c"
#include "hostdrv/nvkv.h"

#define VLEN 20000
#define GEO "--nand-channels", "1", "--nand-ways", "2", "--nand-pages", "16"

static struct emu_proc emu;
static struct nvkv_dev *dev;
static char store_dir[128];
static uint8_t val[VLEN], got[VLEN];

static void value_of(unsigned int i)
{
	for (size_t j = 0; j < VLEN; j++)
		val[j] = (uint8_t)(j * 31 + i * 7 + (j >> 8));
}

static void key_of(unsigned int i, char *key)
{
	snprintf(key, 16, "key-%u", i);
}

static int store(unsigned int i)
{
	char key[16];

	key_of(i, key);
	value_of(i);
	return nvkv_store(dev, key, strlen(key), val, VLEN, NVKV_F_XFER(NVKV_XFER_PRP));
}

static int retrieve(unsigned int i)
{
	char key[16];
	size_t vlen = 0;
	int rc;

	key_of(i, key);
	value_of(i);
	rc = nvkv_retrieve(dev, key, strlen(key), got, VLEN, &vlen);
	if (rc)
		return rc;
	ck_assert_uint_eq(vlen, VLEN);
	ck_assert_msg(!memcmp(got, val, VLEN), "bytes of %s", key);
	return 0;
}

static void open_dev(void)
{
	struct nvkv_opts o;

	nvkv_opts_default(&o);
	o.queues = 1;
	o.queue_depth = 16;
	o.timeout_ms = 5000;
	ck_assert_int_eq(nvkv_open(emu.sock, &o, &dev), 0);
}

#define WRITE_FAULT ((KVC_SCT_MEDIA << 8) | KVC_SC_WRITE_FAULT)

/* What a Store that cannot reach the media may answer. */
static bool media_full_status(int rc)
{
	return rc == NVKV_CAPACITY_EXCEEDED || rc == WRITE_FAULT;
}

static bool emu_alive(void)
{
	int status;

	return emu.pid > 0 && waitpid(emu.pid, &status, WNOHANG) == 0;
}

static void setup(void)
{
	snprintf(store_dir, sizeof(store_dir), "/tmp/nvkv-faults-%d", (int)getpid());
	dev = NULL;
}

static void teardown(void)
{
	char cmd[160];

	nvkv_close(dev);
	dev = NULL;
	if (emu.pid > 0)
		emu_stop(&emu, SIGTERM);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", store_dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* Store until one fails; return how many succeeded, the failure in *rc. */
static unsigned int store_until_failure(unsigned int max, int *rc)
{
	unsigned int i;

	for (i = 0; i < max; i++) {
		*rc = store(i);
		if (*rc)
			break;
	}
	return i;
}

/*
 * A page program that fails for good is a Write Fault for the Store that
 * needed it; the emulator stays up and what lies in pages programmed before
 * the fault reads back.  Programs 1-4 succeed: keys 0-2 end in page 4.
 */
START_TEST(persistent_program_failure_is_a_write_fault)
{
	unsigned int ok, i;
	int rc = 0;

	ck_assert_int_eq(
		emu_start(&emu, "--store", store_dir, GEO, "--fault-nand-program-from", "5", NULL),
		0);
	open_dev();
	ok = store_until_failure(10, &rc);
	ck_assert_msg(rc > 0, "store %u: %d, want an NVMe status", ok, rc);
	ck_assert_int_eq(rc, WRITE_FAULT);
	ck_assert_uint_ge(ok, 3);
	ck_assert(emu_alive());
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(retrieve(i), 0);
}
END_TEST

/* A transient program failure is retried by the firmware: nothing is lost. */
START_TEST(transient_program_failure_is_retried)
{
	unsigned int i;

	ck_assert_int_eq(emu_start(&emu, GEO, "--fault-nand-program-at", "3", NULL), 0);
	open_dev();
	for (i = 0; i < 8; i++)
		ck_assert_int_eq(store(i), 0);
	for (i = 0; i < 8; i++)
		ck_assert_int_eq(retrieve(i), 0);
}
END_TEST

/* A transient read failure fails that Retrieve only (Unrecovered Error). */
START_TEST(transient_read_failure_fails_one_retrieve)
{
	unsigned int i;

	ck_assert_int_eq(emu_start(&emu, GEO, "--fault-nand-read-at", "1", NULL), 0);
	open_dev();
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(store(i), 0);
	ck_assert_int_eq(retrieve(0), NVKV_UNRECOVERED);
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(retrieve(i), 0);
	ck_assert(emu_alive());
}
END_TEST

/*
 * The media file refuses writes (ENOSPC): the Store whose page cannot be
 * written gets Capacity Exceeded; earlier keys read back.
 */
START_TEST(media_enospc_is_a_status)
{
	unsigned int ok;
	int rc = 0;

	ck_assert_int_eq(
		emu_start(&emu, "--store", store_dir, GEO, "--fault-media-enospc-from", "6", NULL),
		0);
	open_dev();
	ok = store_until_failure(20, &rc);
	ck_assert_msg(media_full_status(rc), "store %u: %#x, want 0x81 or 0x280", ok, rc);
	ck_assert_uint_ge(ok, 1);
	ck_assert(emu_alive());
	ck_assert_int_eq(retrieve(0), 0);
}
END_TEST

/* A short media write (half a page, then ENOSPC) is retried whole. */
START_TEST(short_media_write_is_retried)
{
	unsigned int i;

	ck_assert_int_eq(emu_start(&emu, "--store", store_dir, GEO, "--fault-media-short-write-at",
				   "4", NULL),
			 0);
	open_dev();
	for (i = 0; i < 8; i++)
		ck_assert_int_eq(store(i), 0);
	for (i = 0; i < 8; i++)
		ck_assert_int_eq(retrieve(i), 0);
	nvkv_close(dev);
	dev = NULL;
	/* ... and after a restart, from the file. */
	ck_assert_int_eq(emu_stop(&emu, SIGTERM), 0);
	ck_assert_int_eq(emu_start(&emu, "--store", store_dir, GEO, NULL), 0);
	open_dev();
	for (i = 0; i < 8; i++)
		ck_assert_int_eq(retrieve(i), 0);
}
END_TEST

/*
 * A full catalog (LMDB's map full from catalog operation 3 on): every Store
 * whose catalog entry cannot be committed fails with Capacity Exceeded and
 * leaves nothing behind; what was acknowledged before reads back; the
 * emulator stays up.
 */
START_TEST(catalog_full_fails_stores_and_keeps_the_rest)
{
	int rc[6];
	unsigned int i, failed = 0;

	ck_assert_int_eq(
		emu_start(&emu, "--store", store_dir, GEO, "--fault-catalog-full-from", "3", NULL),
		0);
	open_dev();
	for (i = 0; i < 6; i++) {
		rc[i] = store(i);
		ck_assert_msg(rc[i] == 0 || rc[i] == 0x81, "store %u: %#x, want 0 or 0x81", i,
			      rc[i]);
		failed += rc[i] != 0;
	}
	/* From operation 3 on every commit fails: at least the last Stores do. */
	ck_assert_int_eq(rc[5], 0x81);
	ck_assert(emu_alive());
	for (i = 0; i < 6; i++)
		ck_assert_int_eq(retrieve(i), rc[i] ? NVKV_KEY_NOT_EXIST : 0);
	ck_assert_uint_ge(failed, 1);
}
END_TEST

/* Out of memory from the first allocation on: a new host is refused, no crash. */
START_TEST(allocation_failure_refuses_a_host)
{
	struct nvkv_opts o;

	ck_assert_int_eq(emu_start(&emu, GEO, "--fault-alloc-from", "1", NULL), 0);
	nvkv_opts_default(&o);
	o.timeout_ms = 3000;
	ck_assert_int_lt(nvkv_open(emu.sock, &o, &dev), 0);
	dev = NULL;
	ck_assert(emu_alive());
}
END_TEST

/* ---- a real file system that runs full ------------------------------------------- */

static char mnt[64];
static char mount_err[128];

/* Unchecked fixture (parent process): the mount is undone whatever a test does. */
static void mount_small_fs(void)
{
	snprintf(mnt, sizeof(mnt), "/tmp/nvkv-fullfs-%d", (int)getpid());
	mount_err[0] = 0;
	if (mkdir(mnt, 0755) && errno != EEXIST) {
		snprintf(mount_err, sizeof(mount_err), "mkdir %s: %s", mnt, strerror(errno));
		return;
	}
	if (mount("tmpfs", mnt, "tmpfs", 0, "size=3m"))
		snprintf(mount_err, sizeof(mount_err),
			 "cannot mount a 3 MiB tmpfs at %s (this test needs root): %s", mnt,
			 strerror(errno));
}

static void unmount_small_fs(void)
{
	if (!mount_err[0] && umount2(mnt, MNT_DETACH))
		fprintf(stderr, "umount %s: %s\n", mnt, strerror(errno));
	rmdir(mnt);
}

/*
 * Regression (issue 8, defect 5): the NAND image was written through a
 * shared mapping of a sparse file, and a full file system turned the first
 * store to an unbacked page into SIGBUS.  3 MiB of file system under 16 MiB
 * of NAND: Stores must end with a status, the emulator up, earlier keys intact.
 */
START_TEST(full_file_system_is_a_status_not_a_crash)
{
	unsigned int ok, i;
	int rc = 0;

	ck_assert_msg(!mount_err[0], "%s", mount_err);
	snprintf(store_dir, sizeof(store_dir), "%s/store", mnt);
	ck_assert_int_eq(emu_start(&emu, "--store", store_dir, GEO, "--nand-blocks", "32",
				   "--emu-lmdb-map-mb", "16", NULL),
			 0);
	open_dev();
	ok = store_until_failure(400, &rc);
	ck_assert_msg(media_full_status(rc), "store %u: %d, want 0x81 or 0x280 (emulator %s)", ok,
		      rc, emu_alive() ? "up" : "dead");
	ck_assert_uint_ge(ok, 50);
	ck_assert_uint_lt(ok, 190); /* the file system, not the device, ran full */
	for (i = 0; i < 5; i++)
		ck_assert(media_full_status(store(ok + i)));
	ck_assert(emu_alive());
	/* Small values fit the open page: only the catalog needs new room. */
	for (i = 0; i < 400; i++) {
		char key[16];

		snprintf(key, sizeof(key), "small-%u", i);
		rc = nvkv_store(dev, key, strlen(key), "x", 1, 0);
		ck_assert_msg(rc >= 0, "small store %u: %d (emulator %s)", i, rc,
			      emu_alive() ? "up" : "dead");
	}
	ck_assert(emu_alive());
	for (i = 0; i < ok; i += 7)
		ck_assert_int_eq(retrieve(i), 0);
	nvkv_close(dev);
	dev = NULL;
	ck_assert_int_eq(emu_stop(&emu, SIGTERM), 0);
}
END_TEST

static Suite *faults_suite(void)
{
	Suite *s = suite_create("integration/faults");
	TCase *tc = tcase_create("knobs");
	TCase *tf = tcase_create("fullfs");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, persistent_program_failure_is_a_write_fault);
	tcase_add_test(tc, transient_program_failure_is_retried);
	tcase_add_test(tc, transient_read_failure_fails_one_retrieve);
	tcase_add_test(tc, media_enospc_is_a_status);
	tcase_add_test(tc, short_media_write_is_retried);
	tcase_add_test(tc, catalog_full_fails_stores_and_keeps_the_rest);
	tcase_add_test(tc, allocation_failure_refuses_a_host);
	suite_add_tcase(s, tc);
	tcase_set_timeout(tf, 60);
	tcase_add_unchecked_fixture(tf, mount_small_fs, unmount_small_fs);
	tcase_add_checked_fixture(tf, setup, teardown);
	tcase_add_test(tf, full_file_system_is_a_status_not_a_crash);
	suite_add_tcase(s, tf);
	return s;
}

TEST_MAIN(faults_suite)
