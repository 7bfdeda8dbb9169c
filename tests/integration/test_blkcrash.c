// SPDX-License-Identifier: MIT
/*
 * The block namespace through nvkv-emu (libnvkv passthrough -> shared memory
 * -> emulator with a store): acknowledged block writes, deallocations and KV
 * Stores survive kill -9 (write cache off), flushed ones with the cache on,
 * and a store is refused under another namespace split.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "cmdset/cmdset.h"
#include "emu_proc.c"
#include "hostdrv/nvkv.h"

#define BLK 2
#define BS 4096u
#define NB 2048 /* blocks the test uses (8 MiB) */

static struct emu_proc emu;
static struct nvkv_dev *dev;
static char store_dir[64];
static uint32_t ver[NB]; /* version per block, 0 = zeros */

static void start(const char *vwc, const char *split)
{
	struct nvkv_opts o;

	ck_assert_int_eq(emu_start(&emu, "--store", store_dir, "--device-vwc", vwc, "--nand-blocks",
				   "16", "--namespaces-block-percent", split, NULL),
			 0);
	nvkv_opts_default(&o);
	o.timeout_ms = 3000;
	ck_assert_int_eq(nvkv_open(emu.sock, &o, &dev), 0);
}

static void kill9(void)
{
	emu_stop(&emu, SIGKILL);
	nvkv_close(dev);
	dev = NULL;
}

static void setup(void)
{
	char cmd[96];

	snprintf(store_dir, sizeof(store_dir), "/tmp/nvkv-blkcrash-%d", (int)getpid());
	snprintf(cmd, sizeof(cmd), "rm -rf %s", store_dir);
	if (system(cmd)) {
		/* nothing to clean */
	}
	memset(ver, 0, sizeof(ver));
}

static void teardown(void)
{
	char cmd[96];

	nvkv_close(dev);
	dev = NULL;
	if (emu.pid > 0)
		emu_stop(&emu, SIGTERM);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", store_dir);
	if (system(cmd)) {
		/* best effort */
	}
}

static void pattern(uint8_t *p, uint32_t b, uint32_t v)
{
	uint32_t i;

	if (!v) {
		memset(p, 0, BS);
		return;
	}
	for (i = 0; i < BS; i += 4)
		kvc_put_le32(p + i, b * 2654435761u ^ v * 40503u ^ i);
}

static void rw(uint8_t opc, uint32_t slba, uint32_t nlb, void *data, uint32_t flags)
{
	struct kvc_sqe sqe;
	int rc;

	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = opc;
	kvc_sqe_set_nsid(&sqe, BLK);
	kvc_sqe_set_dw(&sqe, 10, slba);
	kvc_sqe_set_dw(&sqe, 12, (nlb - 1) | flags);
	rc = nvkv_io_raw(dev, &sqe, data, (size_t)nlb * BS, NULL);
	ck_assert_msg(rc == 0, "opcode %#x at %u: %s", opc, slba, nvkv_strerror(rc));
}

static void write_blocks(uint32_t slba, uint32_t nlb, uint32_t v, uint32_t flags)
{
	uint8_t *buf = malloc((size_t)nlb * BS);
	uint32_t i;

	for (i = 0; i < nlb; i++) {
		pattern(buf + (size_t)i * BS, slba + i, v);
		ver[slba + i] = v;
	}
	rw(KVC_NVM_WRITE, slba, nlb, buf, flags);
	free(buf);
}

static void trim(uint32_t slba, uint32_t nlb)
{
	uint8_t range[16] = { 0 };
	struct kvc_sqe sqe;

	kvc_put_le32(range + 4, nlb);
	kvc_put_le64(range + 8, slba);
	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = KVC_NVM_DSM;
	kvc_sqe_set_nsid(&sqe, BLK);
	kvc_sqe_set_dw(&sqe, 11, 1u << 2);
	ck_assert_int_eq(nvkv_io_raw(dev, &sqe, range, sizeof(range), NULL), 0);
	memset(ver + slba, 0, nlb * sizeof(ver[0]));
}

/* Every block reads version @want[b], or for @alt (may be NULL) that one. */
static void check(const uint32_t *want, const uint32_t *alt)
{
	uint8_t *buf = malloc(64 * BS), exp[BS];
	uint32_t b, i;

	for (b = 0; b < NB; b += 64) {
		rw(KVC_NVM_READ, b, 64, buf, 0);
		for (i = 0; i < 64; i++) {
			pattern(exp, b + i, want[b + i]);
			if (!memcmp(buf + (size_t)i * BS, exp, BS))
				continue;
			ck_assert_msg(alt != NULL, "block %u is not version %u", b + i,
				      want[b + i]);
			pattern(exp, b + i, alt[b + i]);
			ck_assert_msg(!memcmp(buf + (size_t)i * BS, exp, BS),
				      "block %u is neither version %u nor %u", b + i, want[b + i],
				      alt[b + i]);
		}
	}
	free(buf);
}

static void kv_put(int k, uint32_t v)
{
	char key[16], val[100];

	snprintf(key, sizeof(key), "kv%d", k);
	memset(val, (int)(v & 0xff), sizeof(val));
	ck_assert_int_eq(nvkv_store(dev, key, strlen(key), val, sizeof(val), 0), 0);
}

static void kv_check(int k, uint32_t v)
{
	char key[16], val[100], got[100];
	size_t vlen;

	snprintf(key, sizeof(key), "kv%d", k);
	memset(val, (int)(v & 0xff), sizeof(val));
	ck_assert_int_eq(nvkv_retrieve(dev, key, strlen(key), got, sizeof(got), &vlen), 0);
	ck_assert_mem_eq(got, val, sizeof(val));
}

/* Write cache off: everything acknowledged before kill -9 is there after. */
START_TEST(kill9_keeps_acknowledged_blocks_and_keys)
{
	uint32_t v = 1, kv[64] = { 0 }, n;
	int k;

	start("false", "50");
	srand(31);
	for (n = 0; n < 1500; n++) {
		uint32_t b = (uint32_t)rand() % (NB - 8);

		if (n % 4 == 0) {
			k = rand() % 64;
			kv_put(k, v);
			kv[k] = v++;
		} else if (n % 29 == 0) {
			trim(b, 1 + (uint32_t)rand() % 8);
		} else {
			write_blocks(b, 1 + (uint32_t)rand() % 8, v++, 0);
		}
	}
	kill9();
	start("false", "50");
	check(ver, NULL);
	for (k = 0; k < 64; k++)
		if (kv[k])
			kv_check(k, kv[k]);
	/* And the device goes on. */
	write_blocks(0, 8, v++, 0);
	check(ver, NULL);
}
END_TEST

/* Write cache on: what Flush or FUA covered survives; later blocks read
 * either their flushed version or the one written after. */
START_TEST(kill9_with_cache_keeps_flushed_blocks)
{
	static uint32_t flushed[NB];
	uint32_t v = 1, n;

	start("true", "50");
	for (n = 0; n < NB; n += 16)
		write_blocks(n, 16, v++, 0);
	ck_assert_int_eq(nvkv_flush(dev), 0);
	memcpy(flushed, ver, sizeof(ver));
	write_blocks(100, 4, v++, KVC_NVM_FUA);
	flushed[100] = flushed[101] = flushed[102] = flushed[103] = v - 1;
	for (n = 0; n < 200; n++)
		write_blocks((uint32_t)rand() % NB, 1, v++, 0);
	kill9();
	start("true", "50");
	check(flushed, ver);
}
END_TEST

/* A store is refused under another split: exit status 3, nothing changed. */
START_TEST(another_split_is_refused)
{
	start("false", "50");
	write_blocks(7, 1, 9, 0);
	nvkv_close(dev);
	dev = NULL;
	ck_assert_int_eq(emu_stop(&emu, SIGTERM), 0);
	ck_assert_int_ne(emu_start(&emu, "--store", store_dir, "--nand-blocks", "16",
				   "--namespaces-block-percent", "25", NULL),
			 0);
	start("false", "50");
	check(ver, NULL);
}
END_TEST

static Suite *blkcrash_suite(void)
{
	Suite *s = suite_create("integration/blkcrash");
	TCase *tc = tcase_create("crash");

	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, kill9_keeps_acknowledged_blocks_and_keys);
	tcase_add_test(tc, kill9_with_cache_keeps_flushed_blocks);
	tcase_add_test(tc, another_split_is_refused);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(blkcrash_suite)
