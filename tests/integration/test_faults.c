// SPDX-License-Identifier: MIT
/*
 * Media faults end to end: nvkv-emu on a real file system that runs full.
 * Whatever fails, the emulator answers with a status and stays up, and what
 * was stored before the fault reads back intact.
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
	ck_assert_msg(rc > 0, "store %u: %d, want an NVMe status (emulator %s)", ok, rc,
		      emu_alive() ? "up" : "dead");
	ck_assert_uint_ge(ok, 50);
	ck_assert_uint_lt(ok, 190); /* the file system, not the device, ran full */
	for (i = 0; i < 5; i++)
		ck_assert_int_gt(store(ok + i), 0);
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
	TCase *tf = tcase_create("fullfs");

	tcase_set_timeout(tf, 60);
	tcase_add_unchecked_fixture(tf, mount_small_fs, unmount_small_fs);
	tcase_add_checked_fixture(tf, setup, teardown);
	tcase_add_test(tf, full_file_system_is_a_status_not_a_crash);
	suite_add_tcase(s, tf);
	return s;
}

TEST_MAIN(faults_suite)
