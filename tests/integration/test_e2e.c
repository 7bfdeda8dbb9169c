// SPDX-License-Identifier: MIT
/*
 * End to end: libnvkv -> shared memory -> nvkv-emu -> firmware and back, with
 * a real emulator process per test.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "cmdset/cmdset.h"
#include "emu_proc.c"
#include "hostdrv/nvkv.h"

static struct emu_proc emu;
static struct nvkv_dev *dev;

static struct nvkv_dev *open_dev(void)
{
	struct nvkv_opts o;
	struct nvkv_dev *d = NULL;

	nvkv_opts_default(&o);
	o.queues = 6;
	o.queue_depth = 128;
	o.timeout_ms = 3000;
	ck_assert_int_eq(nvkv_open(emu.sock, &o, &d), 0);
	return d;
}

static void setup(void)
{
	ck_assert_int_eq(emu_start(&emu, NULL), 0);
	dev = open_dev();
}

static void teardown(void)
{
	nvkv_close(dev);
	dev = NULL;
	emu_stop(&emu, SIGTERM);
}

static void fill(uint8_t *v, size_t n, unsigned int seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		v[i] = (uint8_t)(i * 37 + seed * 11 + (i >> 9));
}

/* Every command x every method x the boundary value sizes. */
START_TEST(commands_methods_sizes)
{
	static const size_t sizes[] = { 0,   1,	   35,	 36,   37,    127,
					128, 4095, 4096, 4097, 65536, 2u << 20 };
	uint8_t *v = malloc((2u << 20) + 16), *got = malloc((2u << 20) + 16);
	enum nvkv_xfer m;
	size_t i, vlen;
	char key[17];

	for (m = NVKV_XFER_PRP; m < NVKV_XFER_NUM; m++) {
		for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			snprintf(key, sizeof(key), "%s-%zu", nvkv_xfer_name(m), sizes[i]);
			key[16] = 0;
			fill(v, sizes[i], (unsigned int)(m * 100 + i));
			ck_assert_msg(
				nvkv_store(dev, key, strlen(key), v, sizes[i], NVKV_F_XFER(m)) == 0,
				"store %s", key);
			ck_assert_int_eq(nvkv_exist(dev, key, strlen(key)), 0);
			vlen = 0;
			ck_assert_int_eq(
				nvkv_retrieve(dev, key, strlen(key), got, (2u << 20) + 16, &vlen),
				0);
			ck_assert_uint_eq(vlen, sizes[i]);
			ck_assert_msg(!memcmp(got, v, sizes[i]), "data of %s", key);
			/* must-not-exist on an existing key, must-exist overwrite */
			ck_assert_int_eq(nvkv_store(dev, key, strlen(key), v, 1,
						    NVKV_F_XFER(m) | NVKV_STORE_MUST_NOT_EXIST),
					 NVKV_KEY_EXISTS);
			ck_assert_int_eq(nvkv_store(dev, key, strlen(key), "z", 1,
						    NVKV_F_XFER(m) | NVKV_STORE_MUST_EXIST),
					 0);
			ck_assert_int_eq(nvkv_retrieve(dev, key, strlen(key), got, 16, &vlen), 0);
			ck_assert_uint_eq(vlen, 1);
			ck_assert_uint_eq(got[0], 'z');
			ck_assert_int_eq(nvkv_delete(dev, key, strlen(key)), 0);
			ck_assert_int_eq(nvkv_exist(dev, key, strlen(key)), NVKV_KEY_NOT_EXIST);
			ck_assert_int_eq(nvkv_retrieve(dev, key, strlen(key), got, 16, &vlen),
					 NVKV_KEY_NOT_EXIST);
			/* EDNEK clear (the default): deleting it again succeeds. */
			ck_assert_int_eq(nvkv_delete(dev, key, strlen(key)), 0);
		}
	}
	ck_assert_int_eq(nvkv_flush(dev), 0);
	free(v);
	free(got);
}
END_TEST

static uint64_t method_bytes(struct nvkv_dev *d, enum kvc_stat_method m)
{
	struct kvc_stats_log *l = malloc(sizeof(*l));
	uint64_t b;

	ck_assert_int_eq(nvkv_device_stats(d, l, sizeof(*l)), 0);
	b = l->m_pcie_bytes[m][0] + l->m_pcie_bytes[m][1];
	free(l);
	return b;
}

/*
 * Attributable PCIe bytes per Store, computed by hand from DESIGN.md section
 * 5 (Gen3 x4, MPS 256, MRRS 512, page-granular PRP DMA):
 *  PRP, 4 KiB:  SQE 24+84 + data 8x24 + 16x(20+256) + CQE 24+16   = 4756
 *  PRP, 100 B:  the same whole page                              = 4756
 *  BandSlim, 8 B (one command): SQE 108 + CQE 40                  = 148
 *  BandSlim, 100 B: 3 commands fetched in one burst (MRd 24 +
 *    CplD 20+192 = 236) + 3 CQEs (120)                            = 356
 *  ByteExpress, 100 B: command + 2 chunks in one burst 236 + CQE 40 = 276
 *  PRP, 4097 B: two whole pages: 16x24 + 32x(20+256) + 148          = 9364
 *  SGL, 100 B: one Data Block, exact: 108 + 24 + 20+100 + 40        = 292
 *  SGL, 4097 B: 9 MRd (8x512 + 1) 216 + 16x276 + (20+1) + 148       = 4801
 */
START_TEST(pcie_bytes_match_hand_computation)
{
	static const struct {
		enum nvkv_xfer m;
		enum kvc_stat_method sm;
		size_t len;
		uint64_t want;
	} cases[] = {
		{ NVKV_XFER_PRP, KVC_XM_PRP, 4096, 4756 },
		{ NVKV_XFER_PRP, KVC_XM_PRP, 100, 4756 },
		{ NVKV_XFER_BANDSLIM, KVC_XM_BANDSLIM, 8, 148 },
		{ NVKV_XFER_BANDSLIM, KVC_XM_BANDSLIM, 100, 356 },
		{ NVKV_XFER_BYTEEXPRESS, KVC_XM_BYTEEXPRESS, 100, 276 },
		{ NVKV_XFER_PRP, KVC_XM_PRP, 4097, 9364 },
		{ NVKV_XFER_SGL, KVC_XM_SGL, 100, 292 },
		{ NVKV_XFER_SGL, KVC_XM_SGL, 4097, 4801 },
	};
	uint8_t v[4097];
	unsigned int i;

	memset(v, 7, sizeof(v));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t before = method_bytes(dev, cases[i].sm), after;

		ck_assert_int_eq(
			nvkv_store(dev, "pcie", 4, v, cases[i].len, NVKV_F_XFER(cases[i].m)), 0);
		after = method_bytes(dev, cases[i].sm);
		ck_assert_msg(after - before == cases[i].want, "%s %zu B: %llu bytes, want %llu",
			      nvkv_xfer_name(cases[i].m), cases[i].len,
			      (unsigned long long)(after - before),
			      (unsigned long long)cases[i].want);
	}
}
END_TEST

/* Data bytes on the link so far, [up, down], from one statistics log read. */
static void data_bytes(struct nvkv_dev *d, uint64_t b[2])
{
	struct kvc_stats_log *l = malloc(sizeof(*l));

	ck_assert_int_eq(nvkv_device_stats(d, l, sizeof(*l)), 0);
	b[KVC_PCIE_UP] = l->pcie_bytes[KVC_PK_DATA][KVC_PCIE_UP];
	b[KVC_PCIE_DOWN] = l->pcie_bytes[KVC_PK_DATA][KVC_PCIE_DOWN];
	free(l);
}

/*
 * sgl as the device's method: Store, Retrieve and List buffers are each one
 * SGL Data Block; values come back byte-exact, and the device's link moves
 * the exact bytes (Gen3 x4, MPS 256, MRRS 512) where page-unit PRP DMA
 * moves whole pages.
 */
START_TEST(sgl_store_retrieve_list)
{
	static const struct {
		size_t len;
		uint64_t down, up; /* data bytes of the Store, of the Retrieve */
	} cases[] = {
		/* 1 B: MRd 24 / CplD 21; MWr 25 */
		{ 1, 21, 25 },
		/* 4095 B: 8 MRd / 15 CplD of 256 + one of 255; 16 MWr */
		{ 4095, 15 * 276 + 275, 15 * 280 + 279 },
		/* 4097 B: 9 MRd / 16 CplD + 21; 17 MWr */
		{ 4097, 16 * 276 + 21, 16 * 280 + 25 },
		/* 1 MiB: 2048 MRd / 4096 CplD; 4096 MWr */
		{ 1u << 20, 4096 * 276, 4096 * 280 },
	};
	uint8_t *v = malloc((1u << 20) + 64), *got = malloc((1u << 20) + 64);
	struct nvkv_opts o;
	struct nvkv_dev *d = NULL;
	struct nvkv_info in;
	struct nvkv_iter *it;
	const void *k;
	size_t klen, vlen;
	unsigned int i, n = 0;
	uint64_t log_up, a[2], b[2]; /* log_up: what reading the statistics log itself writes */

	nvkv_opts_default(&o);
	o.xfer = NVKV_XFER_SGL;
	o.timeout_ms = 3000;
	ck_assert_int_eq(nvkv_open(emu.sock, &o, &d), 0);
	ck_assert_int_eq(nvkv_identify(d, &in), 0);
	ck_assert(in.sgl);
	data_bytes(d, a);
	data_bytes(d, b);
	log_up = b[KVC_PCIE_UP] - a[KVC_PCIE_UP];
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char key[16];

		snprintf(key, sizeof(key), "sgl%u", i);
		fill(v, cases[i].len, i + 40);
		data_bytes(d, a);
		ck_assert_int_eq(nvkv_store(d, key, strlen(key), v, cases[i].len, 0), 0);
		data_bytes(d, b);
		ck_assert_uint_eq(b[KVC_PCIE_DOWN] - a[KVC_PCIE_DOWN], cases[i].down);
		/* The Store's data reads: one MRd per 512 B. */
		ck_assert_uint_eq(b[KVC_PCIE_UP] - a[KVC_PCIE_UP] - log_up,
				  (cases[i].len + 511) / 512 * 24);
		memset(got, 0xee, cases[i].len + 64);
		/* A buffer larger than the value: only the value's bytes move. */
		ck_assert_int_eq(nvkv_retrieve(d, key, strlen(key), got, cases[i].len + 64, &vlen),
				 0);
		ck_assert_uint_eq(vlen, cases[i].len);
		ck_assert_msg(!memcmp(got, v, cases[i].len), "data of %s", key);
		data_bytes(d, a);
		ck_assert_uint_eq(a[KVC_PCIE_UP] - b[KVC_PCIE_UP] - log_up, cases[i].up);
	}
	ck_assert_int_eq(nvkv_iter_open(d, "sgl", 3, &it), 0);
	while (nvkv_iter_next(it, &k, &klen) == 1) {
		ck_assert_uint_eq(klen, 4);
		ck_assert_int_eq(memcmp(k, "sgl", 3), 0);
		ck_assert_uint_eq(((const char *)k)[3], '0' + n);
		n++;
	}
	ck_assert_uint_eq(n, sizeof(cases) / sizeof(cases[0]));
	nvkv_iter_close(it);
	nvkv_close(d);
	free(v);
	free(got);
}
END_TEST

/* More keys than one 64 KiB List buffer holds: the iterator continues. */
START_TEST(list_iterates_in_order)
{
	struct nvkv_iter *it;
	const void *k;
	size_t klen;
	char key[16], prev[17] = "";
	int i, n = 0, rc;

	for (i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "L%07d", (i * 7919) % 5000);
		ck_assert_int_eq(nvkv_store(dev, key, strlen(key), "v", 1, 0), 0);
	}
	ck_assert_int_eq(nvkv_iter_open(dev, NULL, 0, &it), 0);
	while ((rc = nvkv_iter_next(it, &k, &klen)) == 1) {
		char cur[17];

		memcpy(cur, k, klen);
		cur[klen] = 0;
		ck_assert_str_lt(prev, cur);
		snprintf(key, sizeof(key), "L%07d", n);
		ck_assert_str_eq(cur, key);
		strcpy(prev, cur);
		n++;
	}
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(n, 5000);
	nvkv_iter_close(it);
	/* From a start key that is not stored: the next one. */
	ck_assert_int_eq(nvkv_iter_open(dev, "L0004990x", 9, &it), 0);
	for (n = 0; nvkv_iter_next(it, &k, &klen) == 1; n++)
		;
	ck_assert_int_eq(n, 9);
	nvkv_iter_close(it);
}
END_TEST

struct worker {
	struct nvkv_dev *d;
	int id, errors, done;
	uint8_t got[64][300];
};

static void count_cb(void *arg, int status, uint32_t dw0)
{
	struct worker *w = arg;

	(void)dw0;
	w->done++;
	if (status)
		w->errors++;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct nvkv_queue *q;
	uint8_t v[300];
	char key[16];
	int i, rc;

	if (nvkv_queue_open(w->d, &q))
		return (void *)1;
	for (i = 0; i < 2000; i++) {
		snprintf(key, sizeof(key), "t%d-%d", w->id, i);
		fill(v, 50 + i % 250, (unsigned int)(w->id * 7 + i));
		while ((rc = nvkv_submit_store(q, key, strlen(key), v, 50 + i % 250,
					       NVKV_F_XFER(1 + (i % 5)), count_cb, w)) == -EAGAIN)
			nvkv_queue_wait(q, 1);
		if (rc)
			w->errors++;
	}
	nvkv_queue_wait(q, nvkv_queue_inflight(q));
	for (i = 0; i < 2000; i += 64) {
		int j;

		for (j = 0; j < 64 && i + j < 2000; j++) {
			snprintf(key, sizeof(key), "t%d-%d", w->id, i + j);
			while (nvkv_submit_retrieve(q, key, strlen(key), w->got[j], 300, count_cb,
						    w) == -EAGAIN)
				nvkv_queue_wait(q, 1);
		}
		nvkv_queue_wait(q, nvkv_queue_inflight(q));
		for (j = 0; j < 64 && i + j < 2000; j++) {
			fill(v, 50 + (i + j) % 250, (unsigned int)(w->id * 7 + i + j));
			if (memcmp(w->got[j], v, 50 + (i + j) % 250))
				w->errors++;
		}
	}
	nvkv_queue_close(q);
	return NULL;
}

START_TEST(async_threads_verify_every_value)
{
	struct worker w[3];
	pthread_t t[3];
	struct nvkv_host_stats hs;
	int i;

	for (i = 0; i < 3; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].d = dev;
		w[i].id = i;
		ck_assert_int_eq(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
	}
	for (i = 0; i < 3; i++) {
		void *ret;

		pthread_join(t[i], &ret);
		ck_assert_ptr_null(ret);
		ck_assert_int_eq(w[i].errors, 0);
		ck_assert_int_eq(w[i].done, 4000);
	}
	nvkv_host_stats(dev, &hs);
	ck_assert_uint_ge(hs.cmds[NVKV_XFER_BYTEEXPRESS], 1000);
	ck_assert_uint_ge(hs.cmds[NVKV_XFER_BANDSLIM], 1000);
	ck_assert_uint_eq(hs.errors, 0);
}
END_TEST

static int raw_io(uint8_t opc, uint32_t nsid, const char *key, uint8_t klen, uint32_t cdw10,
		  void *data, size_t len)
{
	struct kvc_sqe sqe;

	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = opc;
	kvc_sqe_set_nsid(&sqe, nsid);
	if (key)
		memcpy(kvc_sqe_bytes(&sqe) + 8, key, strlen(key) < 8 ? strlen(key) : 8);
	kvc_sqe_bytes(&sqe)[44] = klen;
	kvc_sqe_set_dw(&sqe, 10, cdw10);
	return nvkv_io_raw(dev, &sqe, data, len, NULL);
}

/* Asynchronous Exist and Delete report the device's statuses to the callback. */
static void status_cb(void *arg, int status, uint32_t dw0)
{
	(void)dw0;
	*(int *)arg = status;
}

START_TEST(async_exist_and_delete)
{
	struct nvkv_queue *q;
	int st[4] = { -1, -1, -1, -1 };

	ck_assert_int_eq(nvkv_store(dev, "ax", 2, "v", 1, 0), 0);
	ck_assert_int_eq(nvkv_queue_open(dev, &q), 0);
	ck_assert_int_eq(nvkv_submit_exist(q, "ax", 2, status_cb, &st[0]), 0);
	ck_assert_int_eq(nvkv_submit_exist(q, "nx", 2, status_cb, &st[1]), 0);
	ck_assert_int_eq(nvkv_queue_wait(q, 2), 2);
	ck_assert_int_eq(nvkv_submit_delete(q, "ax", 2, status_cb, &st[2]), 0);
	ck_assert_int_eq(nvkv_queue_wait(q, 1), 1);
	ck_assert_int_eq(nvkv_submit_exist(q, "ax", 2, status_cb, &st[3]), 0);
	ck_assert_int_eq(nvkv_queue_wait(q, 1), 1);
	ck_assert_int_eq(st[0], 0);
	ck_assert_int_eq(st[1], NVKV_KEY_NOT_EXIST);
	ck_assert_int_eq(st[2], 0);
	ck_assert_int_eq(st[3], NVKV_KEY_NOT_EXIST);
	/* Bad arguments are refused before anything is sent. */
	ck_assert_int_eq(nvkv_submit_exist(q, "", 0, status_cb, &st[0]), -EINVAL);
	ck_assert_int_eq(nvkv_submit_exist(q, "0123456789abcdefg", 17, status_cb, &st[0]), -EINVAL);
	ck_assert_uint_eq(nvkv_queue_inflight(q), 0);
	nvkv_queue_close(q);
}
END_TEST

START_TEST(bad_input_through_the_transport)
{
	uint8_t buf[64];

	/* Rejected by the library before anything is sent. */
	ck_assert_int_eq(nvkv_store(dev, "", 0, "v", 1, 0), -EINVAL);
	ck_assert_int_eq(nvkv_store(dev, "0123456789abcdefg", 17, "v", 1, 0), -EINVAL);
	ck_assert_int_eq(nvkv_store(dev, NULL, 3, "v", 1, 0), -EINVAL);
	ck_assert_int_eq(nvkv_store(dev, "k", 1, NULL, 5, 0), -EINVAL);
	ck_assert_int_eq(
		nvkv_store(dev, "k", 1, "v", 1, NVKV_STORE_MUST_EXIST | NVKV_STORE_MUST_NOT_EXIST),
		-EINVAL);
	ck_assert_int_eq(nvkv_store(dev, "k", 1, buf, (2u << 20) + 1, 0), -EMSGSIZE);
	ck_assert_int_eq(nvkv_retrieve(dev, "k", 1, NULL, 10, NULL), -EINVAL);
	/* Answered by the device. */
	ck_assert_int_eq(raw_io(0x7c, 1, "k", 1, 0, NULL, 0), KVC_SC_INVALID_OPCODE);
	ck_assert_int_eq(raw_io(KVC_KV_EXIST, 9, "k", 1, 0, NULL, 0), KVC_SC_INVALID_NS);
	ck_assert_int_eq(raw_io(KVC_KV_EXIST, 1, "k", 0, 0, NULL, 0), NVKV_INVALID_KEY_SIZE);
	ck_assert_int_eq(raw_io(KVC_KV_EXIST, 1, "k", 17, 0, NULL, 0), NVKV_INVALID_KEY_SIZE);
	ck_assert_int_eq(raw_io(KVC_KV_STORE, 1, "k", 1, (2u << 20) + 1, buf, 64),
			 NVKV_INVALID_VALUE_SIZE);
	ck_assert_int_eq(raw_io(KVC_KV_LIST, 1, NULL, 0, 3, buf, 3), KVC_SC_INVALID_FIELD);
	ck_assert_int_eq(raw_io(KVC_BS_XFER, 1, NULL, 0, 0, NULL, 0), KVC_SC_CMD_SEQ_ERROR);
	{
		struct kvc_sqe sqe;

		memset(&sqe, 0, sizeof(sqe));
		sqe.opc = KVC_KV_STORE;
		kvc_sqe_set_nsid(&sqe, 1);
		kvc_sqe_bytes(&sqe)[8] = 'k';
		kvc_sqe_bytes(&sqe)[44] = 1;
		kvc_sqe_set_dw(&sqe, 10, 8);
		kvc_sqe_set_prp(&sqe, 1ull << 40, 0); /* outside host memory */
		ck_assert_int_eq(nvkv_io_raw(dev, &sqe, NULL, 0, NULL), KVC_SC_DATA_XFER_ERROR);
	}
	/* The device and the data are fine afterwards. */
	ck_assert_int_eq(nvkv_store(dev, "ok", 2, "fine", 4, 0), 0);
	ck_assert_int_eq(nvkv_retrieve(dev, "ok", 2, buf, sizeof(buf), NULL), 0);
	ck_assert_mem_eq(buf, "fine", 4);
}
END_TEST

START_TEST(emulator_killed_under_load)
{
	struct nvkv_queue *q;
	struct worker w = { 0 };
	uint64_t t0;
	int rc = 0, i;

	ck_assert_int_eq(nvkv_queue_open(dev, &q), 0);
	for (i = 0; i < 200; i++) {
		char key[16];

		snprintf(key, sizeof(key), "x%d", i);
		nvkv_submit_store(q, key, strlen(key), "value", 5, 0, count_cb, &w);
	}
	nvkv_queue_wait(q, 50);
	emu_stop(&emu, SIGKILL);
	t0 = (uint64_t)time(NULL);
	for (i = 0; i < 100000 && rc >= 0; i++) {
		rc = nvkv_submit_store(q, "y", 1, "v", 1, 0, count_cb, &w);
		if (rc == -EAGAIN)
			rc = 0;
		if (rc >= 0)
			rc = nvkv_queue_wait(q, 1);
	}
	ck_assert_int_eq(rc, -ENODEV);
	ck_assert_uint_le((uint64_t)time(NULL) - t0, 3);
	ck_assert_int_eq(nvkv_store(dev, "z", 1, "v", 1, 0), -ENODEV);
	nvkv_queue_close(q);
}
END_TEST

/* A host process that dies mid-load leaves the device consistent and the
 * other hosts unaffected. */
START_TEST(dead_host_does_not_disturb_others)
{
	pid_t child = fork();
	char key[16];
	int i, status;

	if (child == 0) {
		struct nvkv_dev *d = open_dev();

		for (i = 0;; i++) {
			snprintf(key, sizeof(key), "victim%d", i % 1000);
			nvkv_store(d, key, strlen(key), "doomed", 6, 0);
		}
	}
	ck_assert_int_gt(child, 0);
	for (i = 0; i < 2000; i++) {
		snprintf(key, sizeof(key), "mine%d", i);
		ck_assert_int_eq(nvkv_store(dev, key, strlen(key), key, strlen(key), 0), 0);
		if (i == 500)
			kill(child, SIGKILL);
	}
	waitpid(child, &status, 0);
	ck_assert(WIFSIGNALED(status));
	for (i = 0; i < 2000; i++) {
		uint8_t got[16];
		size_t vlen;

		snprintf(key, sizeof(key), "mine%d", i);
		ck_assert_int_eq(nvkv_retrieve(dev, key, strlen(key), got, sizeof(got), &vlen), 0);
		ck_assert_mem_eq(got, key, vlen);
	}
	/* A new host can attach after the dead one. */
	{
		struct nvkv_dev *d2 = open_dev();

		ck_assert_int_eq(nvkv_exist(d2, "mine0", 5), 0);
		nvkv_close(d2);
	}
}
END_TEST

START_TEST(idle_emulator_uses_no_cpu)
{
	long a, b;

	sleep_ms(300); /* let the device fall asleep */
	a = emu_cpu_ticks(&emu);
	sleep_ms(2000);
	b = emu_cpu_ticks(&emu);
	ck_assert_int_ge(a, 0);
	/* 2 s idle with a host attached: at most 4 % of a core (clock ticks are 10 ms). */
	ck_assert_int_le(b - a, 8);
	ck_assert_int_eq(nvkv_store(dev, "awake", 5, "yes", 3, 0), 0);
}
END_TEST

/* ---- persistence ------------------------------------------------------------------- */

static char store_dir[64];

static void start_persistent(const char *vwc)
{
	ck_assert_int_eq(emu_start(&emu, "--store", store_dir, "--device-vwc", vwc, "--nand-blocks",
				   "16", NULL),
			 0);
	dev = open_dev();
}

static void psetup(void)
{
	char cmd[96];

	/* Only this process's own directory: other test runs may be using theirs. */
	snprintf(store_dir, sizeof(store_dir), "/tmp/nvkv-e2e-store-%d", (int)getpid());
	snprintf(cmd, sizeof(cmd), "rm -rf %s", store_dir);
	if (system(cmd)) {
		/* nothing to clean */
	}
}

static void pteardown(void)
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

static void check_keys(int from, int to, size_t size)
{
	uint8_t *v = malloc(size + 1), *got = malloc(size + 1);
	char key[16];
	size_t vlen;
	int i;

	for (i = from; i < to; i++) {
		snprintf(key, sizeof(key), "p%06d", i);
		fill(v, size, (unsigned int)i);
		ck_assert_msg(nvkv_retrieve(dev, key, strlen(key), got, size, &vlen) == 0,
			      "key %s lost", key);
		ck_assert_uint_eq(vlen, size);
		ck_assert_msg(!memcmp(got, v, size), "key %s corrupt", key);
	}
	free(v);
	free(got);
}

static void store_keys(int from, int to, size_t size, unsigned int flags)
{
	uint8_t *v = malloc(size + 1);
	char key[16];
	int i;

	for (i = from; i < to; i++) {
		snprintf(key, sizeof(key), "p%06d", i);
		fill(v, size, (unsigned int)i);
		ck_assert_int_eq(nvkv_store(dev, key, strlen(key), v, size, flags), 0);
	}
	free(v);
}

START_TEST(clean_restart_keeps_everything)
{
	start_persistent("false");
	store_keys(0, 3000, 200, 0);
	store_keys(100, 200, 200, NVKV_F_XFER(NVKV_XFER_PRP)); /* overwrites */
	ck_assert_int_eq(nvkv_delete(dev, "p000007", 7), 0);
	nvkv_close(dev);
	dev = NULL;
	ck_assert_int_eq(emu_stop(&emu, SIGTERM), 0);
	start_persistent("false");
	check_keys(0, 7, 200);
	check_keys(8, 3000, 200);
	ck_assert_int_eq(nvkv_exist(dev, "p000007", 7), NVKV_KEY_NOT_EXIST);
}
END_TEST

/* Write cache off: every completed Store survives kill -9, bytes intact. */
START_TEST(kill9_keeps_completed_writes)
{
	start_persistent("false");
	store_keys(0, 2500, 333, 0);
	emu_stop(&emu, SIGKILL);
	nvkv_close(dev);
	start_persistent("false");
	check_keys(0, 2500, 333);
}
END_TEST

/* Write cache on: what the last Flush covered survives kill -9. */
START_TEST(kill9_with_cache_keeps_flushed_writes)
{
	start_persistent("true");
	store_keys(0, 1500, 100, 0);
	ck_assert_int_eq(nvkv_flush(dev), 0);
	store_keys(1500, 1600, 100, 0);
	emu_stop(&emu, SIGKILL);
	nvkv_close(dev);
	start_persistent("true");
	check_keys(0, 1500, 100);
}
END_TEST

/* Records moved by GC are persisted (issue 8, defect 1): on a geometry small
 * enough for GC (8 superblocks of 2 x 16 x 4 KiB), cold keys written among
 * overwritten hot ones get moved; after SIGTERM and a restart every key reads
 * back byte-exact, and GC and Stores go on working. */
static void start_small(void)
{
	ck_assert_int_eq(emu_start(&emu, "--store", store_dir, "--device-vwc", "false",
				   "--nand-channels", "1", "--nand-ways", "2", "--nand-blocks", "8",
				   "--nand-pages", "16", "--nand-page-size", "4096",
				   "--namespaces-block-percent", "0", NULL),
			 0);
	dev = open_dev();
}

static uint64_t gc_moves(void)
{
	struct kvc_stats_log *l = malloc(sizeof(*l));
	uint64_t n;

	ck_assert_int_eq(nvkv_device_stats(dev, l, sizeof(*l)), 0);
	n = l->gc_moves;
	free(l);
	return n;
}

START_TEST(gc_moved_records_survive_restart)
{
	int round;

	start_small();
	/* Keys 0..9 hot, 10..69 cold; 1000-byte values in 4 KiB slots (PRP). */
	for (round = 0; round < 40; round++) {
		store_keys(0, 10, 1000, 0);
		if (round < 20)
			store_keys(10 + round * 3, 13 + round * 3, 1000, 0);
	}
	ck_assert_uint_gt(gc_moves(), 0);
	nvkv_close(dev);
	dev = NULL;
	ck_assert_int_eq(emu_stop(&emu, SIGTERM), 0);
	start_small();
	check_keys(0, 70, 1000);
	for (round = 0; round < 40; round++)
		store_keys(0, 10, 1000, 0);
	check_keys(0, 70, 1000);
}
END_TEST

static Suite *e2e_suite(void)
{
	Suite *s = suite_create("integration/e2e");
	TCase *tc = tcase_create("device");
	TCase *tp = tcase_create("persistence");

	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, commands_methods_sizes);
	tcase_add_test(tc, pcie_bytes_match_hand_computation);
	tcase_add_test(tc, sgl_store_retrieve_list);
	tcase_add_test(tc, list_iterates_in_order);
	tcase_add_test(tc, async_threads_verify_every_value);
	tcase_add_test(tc, async_exist_and_delete);
	tcase_add_test(tc, bad_input_through_the_transport);
	tcase_add_test(tc, emulator_killed_under_load);
	tcase_add_test(tc, dead_host_does_not_disturb_others);
	tcase_add_test(tc, idle_emulator_uses_no_cpu);
	suite_add_tcase(s, tc);
	tcase_set_timeout(tp, 120);
	tcase_add_checked_fixture(tp, psetup, pteardown);
	tcase_add_test(tp, clean_restart_keeps_everything);
	tcase_add_test(tp, kill9_keeps_completed_writes);
	tcase_add_test(tp, kill9_with_cache_keeps_flushed_writes);
	tcase_add_test(tp, gc_moved_records_survive_restart);
	suite_add_tcase(s, tp);
	return s;
}

TEST_MAIN(e2e_suite)
