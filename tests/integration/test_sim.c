// SPDX-License-Identifier: MIT
/*
 * The simulated device ("sim", "sim:FILE.ini") through libnvkv's public API:
 * the data path works as on nvkv-emu, profiles are read (and bad ones
 * refused), the virtual clock moves only by modeled time, and a hand-computed
 * two-command scenario comes out to the nanosecond.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "hostdrv/nvkv.h"

static char profile[64], profile_dev[80];

/* Write @text to a fresh temporary profile (path in profile[]); return its device string. */
static const char *write_profile(const char *text)
{
	FILE *f;
	int fd;

	snprintf(profile, sizeof(profile), "/tmp/nvkv-test-sim-XXXXXX");
	fd = mkstemp(profile);
	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	snprintf(profile_dev, sizeof(profile_dev), "sim:%s", profile);
	return profile_dev;
}

static int open_sim(const char *spec, struct nvkv_dev **d)
{
	struct nvkv_opts o;

	nvkv_opts_default(&o);
	o.queues = 4; /* the sync queue and one per thread of two_threads */
	o.queue_depth = 16;
	o.name = "test_sim";
	return nvkv_open(spec, &o, d);
}

START_TEST(data_path)
{
	static const char big[] = "a value of more than one PRP page follows";
	struct nvkv_dev *d;
	struct nvkv_info in;
	const void *k;
	struct nvkv_iter *it;
	uint8_t *v = malloc(9000), *r = malloc(9000);
	size_t vlen = 0, kl;
	int n = 0;

	ck_assert_int_eq(open_sim("sim", &d), 0);
	ck_assert(nvkv_clock_virtual(d));
	ck_assert_int_eq(nvkv_identify(d, &in), 0);
	ck_assert_str_eq(in.backend, "sim");
	ck_assert(in.realtime);
	memset(v, 'x', 9000);
	memcpy(v, big, sizeof(big));
	ck_assert_int_eq(nvkv_store(d, "k1", 2, "hello", 5, 0), 0);
	ck_assert_int_eq(nvkv_store(d, "k2", 2, v, 9000, NVKV_F_XFER(NVKV_XFER_PRP)), 0);
	ck_assert_int_eq(nvkv_store(d, "k3", 2, v, 100, NVKV_F_XFER(NVKV_XFER_BANDSLIM)), 0);
	ck_assert_int_eq(nvkv_store(d, "k4", 2, v, 300, NVKV_F_XFER(NVKV_XFER_BYTEEXPRESS)), 0);
	ck_assert_int_eq(nvkv_retrieve(d, "k1", 2, r, 9000, &vlen), 0);
	ck_assert_uint_eq(vlen, 5);
	ck_assert_mem_eq(r, "hello", 5);
	ck_assert_int_eq(nvkv_retrieve(d, "k2", 2, r, 9000, &vlen), 0);
	ck_assert_uint_eq(vlen, 9000);
	ck_assert_mem_eq(r, v, 9000);
	ck_assert_int_eq(nvkv_retrieve(d, "k4", 2, r, 9000, &vlen), 0);
	ck_assert_uint_eq(vlen, 300);
	ck_assert_mem_eq(r, v, 300);
	ck_assert_int_eq(nvkv_exist(d, "k3", 2), 0);
	ck_assert_int_eq(nvkv_delete(d, "k3", 2), 0);
	ck_assert_int_eq(nvkv_exist(d, "k3", 2), NVKV_KEY_NOT_EXIST);
	ck_assert_int_eq(nvkv_iter_open(d, NULL, 0, &it), 0);
	while (nvkv_iter_next(it, &k, &kl) == 1)
		n++;
	nvkv_iter_close(it);
	ck_assert_int_eq(n, 3);
	nvkv_close(d);
	/* Not persistent: the next open starts empty. */
	ck_assert_int_eq(open_sim("sim", &d), 0);
	ck_assert_int_eq(nvkv_exist(d, "k1", 2), NVKV_KEY_NOT_EXIST);
	nvkv_close(d);
	free(v);
	free(r);
}
END_TEST

START_TEST(profiles)
{
	struct nvkv_dev *d = NULL;
	struct nvkv_info in;

	ck_assert_int_eq(open_sim("sim:/nonexistent/profile.ini", &d), -ENOENT);
	ck_assert_int_eq(open_sim(write_profile("[pcie]\ngen = 9\n"), &d), -EINVAL);
	unlink(profile);
	ck_assert_int_eq(open_sim(write_profile("[sim]\nno_such_knob = 1\n"), &d), -EINVAL);
	unlink(profile);
	ck_assert_int_eq(open_sim(write_profile("[pcie]\ngen = 2\nlanes = 8\n"), &d), 0);
	ck_assert_int_eq(nvkv_identify(d, &in), 0);
	ck_assert_uint_eq(in.pcie_gen, 2);
	ck_assert_uint_eq(in.pcie_lanes, 8);
	nvkv_close(d);
	unlink(profile);
	ck_assert_int_eq(open_sim("sim", &d), 0);
	ck_assert_int_eq(nvkv_identify(d, &in), 0);
	ck_assert_uint_eq(in.pcie_gen, 3); /* the emulator's defaults */
	nvkv_close(d);
}
END_TEST

/* Host CPU time is not virtual time; sleeping moves the clock by exactly that much. */
START_TEST(virtual_clock)
{
	struct nvkv_dev *d;
	uint64_t t0, t1;

	ck_assert_int_eq(open_sim("sim", &d), 0);
	t0 = nvkv_clock_ns(d);
	usleep(20000);
	ck_assert_uint_eq(nvkv_clock_ns(d), t0);
	nvkv_clock_sleep(d, 123456789);
	t1 = nvkv_clock_ns(d);
	ck_assert_uint_eq(t1 - t0, 123456789);
	nvkv_close(d);
}
END_TEST

/*
 * Two commands with known costs, by hand from the model's rules
 * (docs/device.md "NAND, FTL and timing", cmdset/pcie.h, firmware/ctrl.c
 * run_command(), firmware/nand.c):
 *
 * Profile: fw_overhead 10 us; PCIe Gen1 x1 = 2.5 GT/s x 8/10 / 8 = 250 MB/s,
 * exactly 4 ns per byte, MPS 256, MRRS 512; NAND one die, 4 KiB pages,
 * tR 50 us, tPROG 500 us, channel 100 MB/s = 10 ns per byte; PRP DMA exact.
 * Key "k" (1 byte), value 4083 bytes: the record (12-byte header + key +
 * value) is exactly one 4096-byte page.  Host buffers are page aligned.
 *
 * Store at T0 (PRP).  Link bytes per direction, the larger one counts:
 *   down: SQE fetch CplD 20 + 64 = 84; value read: 8 MRd of <= 512 B, each
 *         answered by two CplD (MPS 256): 16 x 20 + 4083 = 4403; total 4487.
 *   up:   fetch MRd 24 + 8 data MRd x 24 = 192 + CQE MWr 24 + 16 = 40; 256.
 *   link = 4487 x 4 = 17948 ns; done = T0 + link + fw = T0 + 27948.
 *   The page is full: it is programmed from T0 + fw = T0 + 10000: channel
 *   busy 4096 x 10 = 40960 ns (to T0 + 50960), die busy until
 *   T0 + 50960 + 500000 = T0 + 550960.  The Store waits only for the write
 *   buffer (slack 2 x tPROG), so its latency is 27948 ns.
 * Retrieve at T1 = T0 + 27948, buffer 4083 bytes.  The firmware core takes
 * it at T1, its NAND work starts at T1 + fw = T0 + 37948:
 *   one page read (header, key and value: 4096 B): die free at
 *     T0 + 550960, + tR 50000, + 4096 x 10 = 40960 -> T0 + 641920;
 *   data to host: 16 MWr (15 x 256 + 243), 16 x 24 + 4083 = 4467 B,
 *     4467 x 4 = 17868 ns -> T0 + 659788;
 *   link check: up 24 + 4467 + 40 = 4531 B -> T1 + 18124 + fw, earlier.
 *   Latency = T0 + 659788 - T1 = 631840 ns (it was 681840 while the record
 *   was read as two page reads, header and key, then the value).
 */
START_TEST(hand_computed)
{
	static const char prof[] = "[device]\nfw_overhead_ns = 10000\ndma = exact\n"
				   "max_value = 65536\n"
				   "[nand]\nchannels = 1\nways = 1\nblocks = 16\npages = 16\n"
				   "page_size = 4096\nread_us = 50\nprogram_us = 500\n"
				   "channel_mbps = 100\n"
				   "[pcie]\ngen = 1\nlanes = 1\nmps = 256\nmrrs = 512\n";
	static uint8_t v[4083], r[4083];
	struct nvkv_dev *d;
	uint64_t t0, t1, t2;
	size_t vlen;

	memset(v, 0x5a, sizeof(v));
	ck_assert_int_eq(open_sim(write_profile(prof), &d), 0);
	unlink(profile);
	t0 = nvkv_clock_ns(d);
	ck_assert_int_eq(nvkv_store(d, "k", 1, v, sizeof(v), NVKV_F_XFER(NVKV_XFER_PRP)), 0);
	t1 = nvkv_clock_ns(d);
	ck_assert_int_eq(nvkv_retrieve(d, "k", 1, r, sizeof(r), &vlen), 0);
	t2 = nvkv_clock_ns(d);
	ck_assert_uint_eq(vlen, sizeof(v));
	ck_assert_mem_eq(r, v, sizeof(v));
	ck_assert_uint_eq(t1 - t0, 27948);
	ck_assert_uint_eq(t2 - t1, 631840);
	nvkv_close(d);
}
END_TEST

/* With [sim] host_overhead_ns the same Store costs that much more. */
START_TEST(host_overhead)
{
	struct nvkv_dev *d;
	uint64_t base, more, t0;

	ck_assert_int_eq(open_sim("sim", &d), 0);
	t0 = nvkv_clock_ns(d);
	ck_assert_int_eq(nvkv_store(d, "a", 1, "x", 1, 0), 0);
	base = nvkv_clock_ns(d) - t0;
	nvkv_close(d);
	ck_assert_int_eq(open_sim(write_profile("[sim]\nhost_overhead_ns = 700\n"), &d), 0);
	unlink(profile);
	t0 = nvkv_clock_ns(d);
	ck_assert_int_eq(nvkv_store(d, "a", 1, "x", 1, 0), 0);
	more = nvkv_clock_ns(d) - t0;
	nvkv_close(d);
	ck_assert_uint_eq(more, base + 700);
}
END_TEST

/*
 * Two host threads, each on its own queue, share one simulated device: the
 * firmware run by one thread's wait posts the other's completions.  Under
 * ThreadSanitizer (make tsan-test) this caught the host reading its CQ while
 * the firmware, in the other thread, wrote it (sim_cq_enter()).
 */
struct worker_arg {
	struct nvkv_dev *d;
	uint8_t id;
	int done, errors;
};

static void count_cb(void *arg, int status, uint32_t dw0)
{
	struct worker_arg *w = arg;

	(void)dw0;
	w->done++;
	w->errors += status != 0;
}

static void *worker(void *arg)
{
	struct worker_arg *w = arg;
	struct nvkv_queue *q;
	uint8_t key[2] = { w->id, 0 }, val[64];
	int i;

	if (nvkv_queue_open(w->d, &q)) {
		w->errors = -1;
		return NULL;
	}
	memset(val, w->id, sizeof(val));
	for (i = 0; i < 200; i++) {
		key[1] = (uint8_t)i;
		while (nvkv_submit_store(q, key, 2, val, sizeof(val), 0, count_cb, w) == -EAGAIN)
			nvkv_queue_wait(q, 1);
	}
	while (nvkv_queue_inflight(q))
		nvkv_queue_wait(q, 1);
	nvkv_queue_close(q);
	return NULL;
}

START_TEST(two_threads)
{
	struct worker_arg w[2] = { { .id = 1 }, { .id = 2 } };
	struct nvkv_dev *d;
	pthread_t t[2];
	uint8_t key[2], val[64];
	size_t vlen;
	int i;

	ck_assert_int_eq(open_sim("sim", &d), 0);
	for (i = 0; i < 2; i++) {
		w[i].d = d;
		ck_assert_int_eq(pthread_create(&t[i], NULL, worker, &w[i]), 0);
	}
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(w[i].done, 200);
		ck_assert_int_eq(w[i].errors, 0);
	}
	key[0] = 2;
	key[1] = 199;
	ck_assert_int_eq(nvkv_retrieve(d, key, 2, val, sizeof(val), &vlen), 0);
	ck_assert_uint_eq(vlen, 64);
	ck_assert_uint_eq(val[63], 2);
	nvkv_close(d);
}
END_TEST

static Suite *sim_suite(void)
{
	Suite *s = suite_create("sim");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, data_path);
	tcase_add_test(tc, profiles);
	tcase_add_test(tc, virtual_clock);
	tcase_add_test(tc, hand_computed);
	tcase_add_test(tc, host_overhead);
	tcase_add_test(tc, two_threads);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(sim_suite)
