// SPDX-License-Identifier: MIT
/*
 * libnvkv's block API against a running nvkv-emu with an NVM namespace
 * beside the KV namespace: enumeration (no NSID assumed), write/read round
 * trips in both LBA formats, FUA, Flush, Write Zeroes, deallocate reading
 * zeros, blocks past the end answered with the device's exact status, the
 * asynchronous forms, and the KV-only and block-only splits.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "emu_proc.c"
#include "hostdrv/nvkv.h"

/* The emulator's knobs for the namespace split and the LBA format. */
#define BLK_PERCENT "--namespaces-block-percent"
#define LBA_SIZE "--namespaces-lba-size"

static struct emu_proc emu;
static struct nvkv_dev *d;
static struct nvkv_ns_info blk;

static void open_dev(void)
{
	struct nvkv_opts o;

	nvkv_opts_default(&o);
	o.queues = 2;
	o.queue_depth = 64;
	o.timeout_ms = 5000;
	o.name = "test_block";
	ck_assert_int_eq(nvkv_open(emu.sock, &o, &d), 0);
}

/* An emulator with the extra arguments given (NULL-terminated, at most 4). */
static void start(const char *a, const char *b, const char *c, const char *e)
{
	ck_assert_int_eq(emu_start(&emu, a, b, c, e, NULL), 0);
	open_dev();
}

static void start_both(const char *lba)
{
	uint32_t nsid;

	start(LBA_SIZE, lba, NULL, NULL);
	nsid = nvkv_ns_first(d, NVKV_CSI_NVM);
	ck_assert_uint_ne(nsid, 0);
	ck_assert_int_eq(nvkv_ns_get(d, nsid, &blk), 0);
}

static void stop(void)
{
	nvkv_close(d);
	d = NULL;
	emu_stop(&emu, SIGTERM);
}

static void fill(uint8_t *b, size_t n, uint32_t seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		b[i] = (uint8_t)(seed * 131 + i * 7 + (i >> 9));
}

static bool all_zero(const uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

START_TEST(enumerate_both_namespaces)
{
	struct nvkv_ns_info ns[4];
	unsigned int n = 0, i, kv = 0, nvm = 0;

	start_both("4096");
	ck_assert_int_eq(nvkv_ns_list(d, ns, 4, &n), 0);
	ck_assert_uint_eq(n, 2);
	for (i = 0; i < n; i++) {
		if (ns[i].csi == NVKV_CSI_KV) {
			kv++;
			ck_assert_uint_eq(ns[i].nsid, nvkv_ns_first(d, NVKV_CSI_KV));
			ck_assert_uint_gt(ns[i].size, 0);
			ck_assert_uint_eq(ns[i].lba_size, 0);
		} else {
			nvm++;
			ck_assert_uint_eq(ns[i].csi, NVKV_CSI_NVM);
			ck_assert_uint_eq(ns[i].lba_size, 4096);
			ck_assert_uint_gt(ns[i].blocks, 0);
			ck_assert_uint_eq(ns[i].size, ns[i].blocks * 4096);
			ck_assert_uint_ge(ns[i].max_transfer, 128u << 10);
			ck_assert_uint_eq(ns[i].max_transfer % 4096, 0);
		}
	}
	ck_assert_uint_eq(kv, 1);
	ck_assert_uint_eq(nvm, 1);
	/* Ascending NSIDs, as the active list gives them. */
	ck_assert_uint_lt(ns[0].nsid, ns[1].nsid);
	stop();
}
END_TEST

/* Write, read back, overwrite part, read again; FUA and Flush on the way. */
static void round_trip(void)
{
	uint32_t lba = blk.lba_size, nlb = 8192 / lba + 3;
	uint8_t *w = malloc((size_t)nlb * lba), *r = malloc((size_t)nlb * lba);
	uint64_t slba = blk.blocks / 2 + 1;

	fill(w, (size_t)nlb * lba, 1);
	ck_assert_int_eq(nvkv_blk_write(d, blk.nsid, slba, nlb, w, 0), 0);
	memset(r, 0xee, (size_t)nlb * lba);
	ck_assert_int_eq(nvkv_blk_read(d, blk.nsid, slba, nlb, r, 0), 0);
	ck_assert_mem_eq(r, w, (size_t)nlb * lba);
	fill(w + lba, lba, 2); /* overwrite block slba + 1 with FUA */
	ck_assert_int_eq(nvkv_blk_write(d, blk.nsid, slba + 1, 1, w + lba, NVKV_BLK_FUA), 0);
	ck_assert_int_eq(nvkv_blk_flush(d, blk.nsid), 0);
	ck_assert_int_eq(nvkv_blk_read(d, blk.nsid, slba, nlb, r, NVKV_BLK_FUA), 0);
	ck_assert_mem_eq(r, w, (size_t)nlb * lba);
	/* The last block of the namespace, and a never-written one reading zeros. */
	ck_assert_int_eq(nvkv_blk_write(d, blk.nsid, blk.blocks - 1, 1, w, 0), 0);
	ck_assert_int_eq(nvkv_blk_read(d, blk.nsid, blk.blocks - 1, 1, r, 0), 0);
	ck_assert_mem_eq(r, w, lba);
	ck_assert_int_eq(nvkv_blk_read(d, blk.nsid, 3, 1, r, 0), 0);
	ck_assert(all_zero(r, lba));
	free(w);
	free(r);
}

START_TEST(round_trip_4k)
{
	start_both("4096");
	ck_assert_uint_eq(blk.lba_size, 4096);
	round_trip();
	stop();
}
END_TEST

START_TEST(round_trip_512)
{
	start_both("512");
	ck_assert_uint_eq(blk.lba_size, 512);
	round_trip();
	stop();
}
END_TEST

START_TEST(write_zeroes_and_deallocate_read_zeros)
{
	uint8_t w[16 * 4096], r[16 * 4096];
	struct nvkv_dsm_range rg[2] = { { 106, 2, 0 }, { 112, 1, 0 } };

	start_both("4096");
	fill(w, sizeof(w), 3);
	ck_assert_int_eq(nvkv_blk_write(d, blk.nsid, 100, 16, w, 0), 0);
	/* Write Zeroes blocks 101..102, with DEAC 104. */
	ck_assert_int_eq(nvkv_blk_write_zeroes(d, blk.nsid, 101, 2, 0), 0);
	ck_assert_int_eq(nvkv_blk_write_zeroes(d, blk.nsid, 104, 1, NVKV_BLK_DEAC), 0);
	/* Deallocate 106..107 and 112. */
	ck_assert_int_eq(nvkv_blk_deallocate(d, blk.nsid, rg, 2), 0);
	ck_assert_int_eq(nvkv_blk_read(d, blk.nsid, 100, 16, r, 0), 0);
	ck_assert_mem_eq(r, w, 4096);
	ck_assert(all_zero(r + 1 * 4096, 2 * 4096));
	ck_assert_mem_eq(r + 3 * 4096, w + 3 * 4096, 4096);
	ck_assert(all_zero(r + 4 * 4096, 4096));
	ck_assert_mem_eq(r + 5 * 4096, w + 5 * 4096, 4096);
	ck_assert(all_zero(r + 6 * 4096, 2 * 4096));
	ck_assert_mem_eq(r + 8 * 4096, w + 8 * 4096, 4 * 4096);
	ck_assert(all_zero(r + 12 * 4096, 4096));
	ck_assert_mem_eq(r + 13 * 4096, w + 13 * 4096, 3 * 4096);
	stop();
}
END_TEST

START_TEST(out_of_range_is_the_exact_status)
{
	uint8_t b[2 * 4096];
	struct nvkv_dsm_range rg = { 0, 1, 0 };

	start_both("4096");
	memset(b, 1, sizeof(b));
	/* The last block plus one, and one block past the end. */
	ck_assert_int_eq(nvkv_blk_read(d, blk.nsid, blk.blocks - 1, 2, b, 0), 0x80);
	ck_assert_int_eq(nvkv_blk_write(d, blk.nsid, blk.blocks, 1, b, 0), 0x80);
	ck_assert_int_eq(nvkv_blk_write_zeroes(d, blk.nsid, blk.blocks - 1, 2, 0), 0x80);
	ck_assert_int_eq(nvkv_blk_write(d, blk.nsid, UINT64_MAX, 1, b, 0), 0x80);
	rg.slba = blk.blocks;
	ck_assert_int_eq(nvkv_blk_deallocate(d, blk.nsid, &rg, 1), 0x80);
	ck_assert_str_eq(nvkv_strerror(0x80), "LBA OUT OF RANGE (0x80)");
	/* The namespace still works afterwards. */
	ck_assert_int_eq(nvkv_blk_write(d, blk.nsid, blk.blocks - 2, 2, b, 0), 0);
	/* Host-side refusals: KV namespace, too large. */
	ck_assert_int_eq(nvkv_blk_read(d, nvkv_ns_first(d, NVKV_CSI_KV), 0, 1, b, 0), -ENXIO);
	ck_assert_int_eq(nvkv_blk_read(d, blk.nsid, 0, blk.max_transfer / 4096 + 1, b, 0),
			 -EMSGSIZE);
	stop();
}
END_TEST

struct io {
	uint8_t buf[4096];
	int status, done;
};

static void on_io(void *arg, int status, uint32_t dw0)
{
	struct io *io = arg;

	(void)dw0;
	io->status = status;
	io->done++;
}

static void drain(struct nvkv_queue *q)
{
	while (nvkv_queue_inflight(q))
		ck_assert_int_ge(nvkv_queue_wait(q, nvkv_queue_inflight(q)), 0);
}

/* Submit, retrying after a reap while the queue is full. */
#define SUBMIT(q, call)                                             \
	do {                                                        \
		int rc_;                                            \
		while ((rc_ = (call)) == -EAGAIN)                   \
			ck_assert_int_ge(nvkv_queue_wait(q, 1), 0); \
		ck_assert_int_eq(rc_, 0);                           \
	} while (0)

START_TEST(async_round_trip)
{
	enum { N = 200 };
	static struct io w[N], r[N], bad, fl;
	struct nvkv_host_stats st;
	struct nvkv_queue *q;
	int i;

	start_both("4096");
	ck_assert_int_eq(nvkv_queue_open(d, &q), 0);
	for (i = 0; i < N; i++) {
		fill(w[i].buf, 4096, (uint32_t)i + 10);
		SUBMIT(q, nvkv_submit_blk_write(q, blk.nsid, (uint64_t)i * 7 % 997, 1, w[i].buf,
						i % 5 ? 0 : NVKV_BLK_FUA, on_io, &w[i]));
	}
	drain(q);
	SUBMIT(q, nvkv_submit_blk_flush(q, blk.nsid, on_io, &fl));
	for (i = 0; i < N; i++)
		SUBMIT(q, nvkv_submit_blk_read(q, blk.nsid, (uint64_t)i * 7 % 997, 1, r[i].buf, 0,
					       on_io, &r[i]));
	SUBMIT(q, nvkv_submit_blk_read(q, blk.nsid, blk.blocks, 1, bad.buf, 0, on_io, &bad));
	drain(q);
	for (i = 0; i < N; i++) {
		ck_assert_int_eq(w[i].done, 1);
		ck_assert_int_eq(w[i].status, 0);
		ck_assert_int_eq(r[i].done, 1);
		ck_assert_int_eq(r[i].status, 0);
		ck_assert_mem_eq(r[i].buf, w[i].buf, 4096);
	}
	ck_assert_int_eq(fl.done, 1);
	ck_assert_int_eq(fl.status, 0);
	ck_assert_int_eq(bad.done, 1);
	ck_assert_int_eq(bad.status, 0x80);
	nvkv_queue_close(q);
	nvkv_host_stats(d, &st);
	ck_assert_uint_eq(st.blk_writes, N);
	ck_assert_uint_eq(st.blk_reads, N + 1);
	ck_assert_uint_eq(st.blk_bytes_read, N * 4096);
	ck_assert_uint_eq(st.blk_flushes, 1);
	stop();
}
END_TEST

START_TEST(kv_only_and_block_only)
{
	struct nvkv_ns_info ns[4];
	struct nvkv_info in;
	unsigned int n = 0;
	uint8_t b[4096];

	start(BLK_PERCENT, "0", NULL, NULL);
	ck_assert_int_eq(nvkv_ns_list(d, ns, 4, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(ns[0].csi, NVKV_CSI_KV);
	ck_assert_uint_eq(nvkv_ns_first(d, NVKV_CSI_NVM), 0);
	ck_assert_int_eq(nvkv_blk_read(d, ns[0].nsid, 0, 1, b, 0), -ENXIO);
	ck_assert_int_eq(nvkv_store(d, "k", 1, "v", 1, 0), 0);
	stop();

	start(BLK_PERCENT, "100", NULL, NULL);
	ck_assert_int_eq(nvkv_ns_list(d, ns, 4, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(ns[0].csi, NVKV_CSI_NVM);
	ck_assert_uint_eq(nvkv_ns_first(d, NVKV_CSI_KV), 0);
	ck_assert_int_eq(nvkv_store(d, "k", 1, "v", 1, 0), -ENXIO);
	ck_assert_int_eq(nvkv_identify(d, &in), 0);
	ck_assert_uint_eq(in.csi, NVKV_CSI_NVM);
	fill(b, sizeof(b), 9);
	ck_assert_int_eq(nvkv_blk_write(d, ns[0].nsid, 5, 1, b, 0), 0);
	memset(b, 0, sizeof(b));
	ck_assert_int_eq(nvkv_blk_read(d, ns[0].nsid, 5, 1, b, 0), 0);
	ck_assert_uint_eq(b[1], (uint8_t)(9 * 131 + 7));
	ck_assert_int_eq(nvkv_flush(d), 0); /* to every namespace */
	stop();
}
END_TEST

static Suite *block_suite(void)
{
	Suite *s = suite_create("integration/block");
	TCase *tc = tcase_create("block");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, enumerate_both_namespaces);
	tcase_add_test(tc, round_trip_4k);
	tcase_add_test(tc, round_trip_512);
	tcase_add_test(tc, write_zeroes_and_deallocate_read_zeros);
	tcase_add_test(tc, out_of_range_is_the_exact_status);
	tcase_add_test(tc, async_round_trip);
	tcase_add_test(tc, kv_only_and_block_only);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(block_suite)
