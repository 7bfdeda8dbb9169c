// SPDX-License-Identifier: MIT
/*
 * libnvkv's namespace enumeration decoders and NVM block API without a
 * device: Identify Namespace (CNS 00h, CNS 05h/KV) and descriptor lists
 * (CNS 03h) decoded from bytes written by hand from the spec tables, the DSM
 * range wire form, the commands a block call places in the submission queue
 * (golden bytes), its data in host memory by PRP, argument checks, and a
 * completion's status and data coming back to the caller.
 */
#include <errno.h>

#include "check_main.h"
#include "hostdrv/block.c"
#include "hostdrv/ns.c"
#include "hostdrv/udrv_ctrl.c"

/* ---- decoders ------------------------------------------------------------------------------ */

static uint8_t id[KVC_IDENTIFY_SIZE];

START_TEST(nvm_identify_namespace_decoded)
{
	struct nvkv_ns_info ns;

	memset(id, 0, sizeof(id));
	id[1] = 0x10;	  /* NSZE (bytes 0-7) = 0x1000 blocks */
	id[8 + 1] = 0x08; /* NCAP (8-15) = 0x800 */
	id[16] = 0x10;	  /* NUSE (16-23) = 0x10 */
	id[25] = 1;	  /* NLBAF, 0's based: two formats */
	id[26] = 0x01;	  /* FLBAS: format 1 */
	id[128 + 2] = 9;  /* LBAF0 (128-131): LBADS 9, 512 B */
	id[132 + 2] = 12; /* LBAF1 (132-135): LBADS 12, 4 KiB */
	memset(&ns, 0xee, sizeof(ns));
	nvkv_ns_decode_nvm(id, &ns);
	ck_assert_uint_eq(ns.csi, NVKV_CSI_NVM);
	ck_assert_uint_eq(ns.lbaf, 1);
	ck_assert_uint_eq(ns.nlbaf, 2);
	ck_assert_uint_eq(ns.lba_size, 4096);
	ck_assert_uint_eq(ns.blocks, 0x1000);
	ck_assert_uint_eq(ns.size, 0x1000ull * 4096);
	ck_assert_uint_eq(ns.capacity, 0x800ull * 4096);
	ck_assert_uint_eq(ns.used, 0x10ull * 4096);

	id[26] = 0x10; /* FLBAS bit 4 is metadata placement, not the index: format 0 */
	nvkv_ns_decode_nvm(id, &ns);
	ck_assert_uint_eq(ns.lbaf, 0);
	ck_assert_uint_eq(ns.lba_size, 512);
	ck_assert_uint_eq(ns.size, 0x1000ull * 512);

	/* FLBAS bits 6:5 are the index's bits 5:4 (NVMe 2.0): 0x20 | 0x01 = format 17. */
	id[25] = 17;
	id[26] = 0x21;
	id[128 + 17 * 4 + 2] = 12;
	nvkv_ns_decode_nvm(id, &ns);
	ck_assert_uint_eq(ns.lbaf, 17);
	ck_assert_uint_eq(ns.lba_size, 4096);

	id[128 + 17 * 4 + 2] = 8; /* LBADS below 9: not a usable format */
	nvkv_ns_decode_nvm(id, &ns);
	ck_assert_uint_eq(ns.lba_size, 0);
	ck_assert_uint_eq(ns.size, 0);
}
END_TEST

START_TEST(kv_identify_namespace_decoded)
{
	struct nvkv_ns_info ns;

	memset(id, 0, sizeof(id));
	id[2] = 0x20;	       /* NSZE (0-7) = 0x200000 bytes */
	id[16 + 1] = 0x30;     /* NUSE (16-23) = 0x3000 bytes */
	id[72] = 16;	       /* KV format 0 (72-87): KVKML (0-1) = 16 */
	id[72 + 4 + 1] = 0x10; /* KVVML (4-7) = 0x1000 */
	memset(&ns, 0xee, sizeof(ns));
	nvkv_ns_decode_kv(id, &ns);
	ck_assert_uint_eq(ns.csi, NVKV_CSI_KV);
	ck_assert_uint_eq(ns.size, 0x200000);
	ck_assert_uint_eq(ns.capacity, 0x200000);
	ck_assert_uint_eq(ns.used, 0x3000);
	ck_assert_uint_eq(ns.lba_size, 0);
	ck_assert_uint_eq(ns.blocks, 0);
	ck_assert_uint_eq(ns.max_transfer, 0x1000);
}
END_TEST

START_TEST(descriptor_list_csi)
{
	uint8_t csi = 0xee;

	/* NGUID (type 2, length 16) then CSI (type 4, length 1), then a zero type. */
	memset(id, 0, sizeof(id));
	id[0] = 2;
	id[1] = 16;
	id[20] = 4;
	id[21] = 1;
	id[24] = 1;
	ck_assert_int_eq(nvkv_ns_desc_csi(id, &csi), 0);
	ck_assert_uint_eq(csi, NVKV_CSI_KV);
	id[24] = 0;
	csi = 0xee;
	ck_assert_int_eq(nvkv_ns_desc_csi(id, &csi), 0);
	ck_assert_uint_eq(csi, NVKV_CSI_NVM);

	/* No CSI descriptor: a controller of the NVM set only. */
	memset(id + 20, 0, 8);
	csi = 0xee;
	ck_assert_int_eq(nvkv_ns_desc_csi(id, &csi), 0);
	ck_assert_uint_eq(csi, NVKV_CSI_NVM);

	/* A CSI descriptor whose length is not 1, one running off the end, length 0. */
	id[20] = 4;
	id[21] = 2;
	ck_assert_int_eq(nvkv_ns_desc_csi(id, &csi), -EBADMSG);
	memset(id, 0, sizeof(id));
	id[0] = 3;
	id[1] = 16;
	id[20] = 2;
	id[21] = 16;
	memset(id + 22, 0xff, sizeof(id) - 22); /* no zero type anywhere after */
	id[4092] = 2;
	id[4093] = 16;
	ck_assert_int_eq(nvkv_ns_desc_csi(id, &csi), -EBADMSG);
	memset(id, 0, sizeof(id));
	id[0] = 2;
	ck_assert_int_eq(nvkv_ns_desc_csi(id, &csi), -EBADMSG);
}
END_TEST

START_TEST(dsm_ranges_golden_bytes)
{
	static const uint8_t want[32] = {
		/* range 0: context attributes, length, SLBA, little-endian */
		0xdd, 0xcc, 0xbb, 0xaa, 0x44, 0x33, 0x22, 0x11, 0x08, 0x07, 0x06, 0x05, 0x04, 0x03,
		0x02, 0x01,
		/* range 1: 1 block at 5 */
		0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00
	};
	struct nvkv_dsm_range r[2] = { { 0x0102030405060708ull, 0x11223344, 0xaabbccdd },
				       { 5, 1, 0 } };
	uint8_t got[33];

	memset(got, 0x5a, sizeof(got));
	nvkv_dsm_encode(got, r, 2);
	ck_assert_mem_eq(got, want, 32);
	ck_assert_uint_eq(got[32], 0x5a); /* nothing past the ranges */
}
END_TEST

/* ---- commands on a queue without a device ------------------------------------------------ */

static struct nvkv_dev dev;
static struct nvkv_queue *q;
static uint32_t bar[4096]; /* registers and doorbells the driver writes; no device reads them */

static uint32_t t_reg_read(struct nvkv_transport *t, uint32_t off)
{
	(void)t;
	return bar[off / 4 % 4096];
}

static void t_reg_write(struct nvkv_transport *t, uint32_t off, uint32_t v)
{
	(void)t;
	bar[off / 4 % 4096] = v;
}

static void t_none(struct nvkv_transport *t)
{
	(void)t;
}

/* A completion the fake device posts only when the host arms its interrupt
 * (the race nvkv_udrv_wait() must count): -1 = none. */
static int arm_posts_slot = -1;
static void post_cqe(uint32_t i, uint16_t status);

static void t_arm(struct nvkv_transport *t)
{
	(void)t;
	if (arm_posts_slot >= 0) {
		post_cqe((uint32_t)arm_posts_slot, 0);
		arm_posts_slot = -1;
	}
}

static bool t_dead(struct nvkv_transport *t)
{
	(void)t;
	return false;
}

static void t_sleep(struct nvkv_transport *t, int timeout_ms)
{
	(void)t;
	(void)timeout_ms;
}

/* Host memory and a register file: no device behind them. */
static const struct nvkv_transport_ops t_ops = { .name = "test",
						 .reg_read = t_reg_read,
						 .reg_write = t_reg_write,
						 .kick = t_none,
						 .dead = t_dead,
						 .irq_arm = t_arm,
						 .irq_disarm = t_none,
						 .irq_sleep = t_sleep };
static struct nvkv_transport tp = { .ops = &t_ops };
static struct nvkv_ns_info nss[3];
static struct nvkv_ns_table tbl = { 3, nss, NULL };

static void setup(void)
{
	memset(&dev, 0, sizeof(dev));
	dev.t = &tp;
	dev.t->mem_size = 16u << 20;
	dev.t->mem = calloc(1, dev.t->mem_size);
	dev.opts.timeout_ms = 1000;
	dev.mem_brk = NVKV_PAGE;
	dev.arena_pages = 256; /* 1 MiB */
	dev.kv_nsid = 1;
	pthread_mutex_init(&dev.lock, NULL);
	nss[0] = (struct nvkv_ns_info){ .nsid = 1, .csi = NVKV_CSI_KV, .size = 1 << 20 };
	nss[1] = (struct nvkv_ns_info){ .nsid = 2,
					.csi = NVKV_CSI_NVM,
					.lba_size = 4096,
					.blocks = 1024,
					.max_transfer = 256 << 10 };
	nss[2] = (struct nvkv_ns_info){ .nsid = 7,
					.csi = NVKV_CSI_NVM,
					.lba_size = 512,
					.blocks = 8192,
					.max_transfer = 1 << 20 };
	dev.ns_table = &tbl;
	ck_assert_int_eq(queue_alloc(&dev, 1, 16, dev.arena_pages + 1 + 16 + 4, &q), 0);
	dev.sync = q;
}

static void teardown(void)
{
	queue_free(q);
	free(dev.t->mem);
}

static const uint8_t *slot(uint32_t i)
{
	return (const uint8_t *)&q->sq[i];
}

static uint8_t *hostmem(uint64_t addr)
{
	return dev.t->mem + addr;
}

struct done {
	int calls, status;
	uint32_t dw0;
};

static void on_done(void *arg, int status, uint32_t dw0)
{
	struct done *d = arg;

	d->calls++;
	d->status = status;
	d->dw0 = dw0;
}

/* The device's answer to the command in SQ slot @i: CQE with @status (queue.h layout). */
static void post_cqe(uint32_t i, uint16_t status)
{
	struct kvc_cqe *c = &q->cq[q->cq_head];

	kvc_cqe_fill(c, 0, 0, (uint16_t)(i + 1), q->qid, kvc_sqe_cid(&q->sq[i]), status, q->phase);
}

START_TEST(write_sqe_golden_and_data_by_prp)
{
	static const uint8_t want[64] = {
		0x01, 0x00, 0,	  0,	/* opcode Write, flags (PSDT 0), cid (not checked) */
		0x02, 0x00, 0x00, 0x00, /* NSID 2 */
		0,    0,    0,	  0,	0, 0, 0, 0, /* CDW2-3 */
		0,    0,    0,	  0,	0, 0, 0, 0, /* MPTR */
		0,    0,    0,	  0,	0, 0, 0, 0, /* PRP1 (checked below) */
		0,    0,    0,	  0,	0, 0, 0, 0, /* PRP2 */
		0x89, 0x67, 0x45, 0x23,		    /* CDW10: SLBA 31:0 */
		0x01, 0x00, 0x00, 0x00,		    /* CDW11: SLBA 63:32 */
		0x01, 0x00, 0x00, 0x40, /* CDW12: NLB 1 (0's based, 2 blocks), FUA bit 30 */
		0,    0,    0,	  0,	0, 0, 0, 0, 0, 0, 0, 0, /* CDW13-15 */
	};
	uint8_t data[8192], got[64];
	struct done dn = { 0 };
	uint64_t prp1, prp2;
	unsigned int i;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 1);
	ck_assert_int_eq(
		nvkv_submit_blk_write(q, 2, 0x123456789ull, 2, data, NVKV_BLK_FUA, on_done, &dn),
		0);
	memcpy(got, slot(0), 64);
	prp1 = kvc_sqe_prp1(&q->sq[0]);
	prp2 = kvc_sqe_prp2(&q->sq[0]);
	memset(got + 2, 0, 2);
	memset(got + 24, 0, 16);
	ck_assert_mem_eq(got, want, 64);
	/* Two pages: PRP1 the first, PRP2 the second (no list). */
	ck_assert_uint_eq(prp1 % NVKV_PAGE, 0);
	ck_assert_uint_ne(prp2, 0);
	ck_assert_mem_eq(hostmem(prp1), data, 4096);
	ck_assert_mem_eq(hostmem(prp2), data + 4096, 4096);
	ck_assert_uint_eq(nvkv_queue_inflight(q), 1);
	post_cqe(0, 0);
	ck_assert_int_eq(nvkv_queue_poll(q), 1);
	ck_assert_int_eq(dn.calls, 1);
	ck_assert_int_eq(dn.status, 0);
	ck_assert_uint_eq(q->st.blk_writes, 1);
	ck_assert_uint_eq(q->st.blk_bytes_written, 8192);
}
END_TEST

START_TEST(large_write_uses_a_prp_list)
{
	uint32_t nlb = 64, i; /* 256 KiB: PRP1 + a list of 63 entries */
	uint8_t *data = malloc(nlb * 4096);
	struct done dn = { 0 };
	uint64_t prp1, list;

	for (i = 0; i < nlb * 4096; i++)
		data[i] = (uint8_t)(i / 4096 + i);
	ck_assert_int_eq(nvkv_submit_blk_write(q, 2, 0, nlb, data, 0, on_done, &dn), 0);
	prp1 = kvc_sqe_prp1(&q->sq[0]);
	list = kvc_sqe_prp2(&q->sq[0]);
	ck_assert_mem_eq(hostmem(prp1), data, 4096);
	for (i = 1; i < nlb; i++) {
		uint64_t page = kvc_get_le64(hostmem(list) + 8 * (i - 1));

		ck_assert_uint_eq(page % NVKV_PAGE, 0);
		ck_assert_mem_eq(hostmem(page), data + (size_t)i * 4096, 4096);
	}
	free(data);
}
END_TEST

/* Regression: a completion reaped by the poll right after arming the
 * interrupt was not counted: nvkv_queue_wait() returned 0 with the command
 * done (seen under ThreadSanitizer, where the spin phase runs out first). */
START_TEST(wait_counts_completions_reaped_when_arming_regression)
{
	uint8_t buf[512];
	struct done dn = { 0 };

	ck_assert_int_eq(nvkv_submit_blk_read(q, 7, 0, 1, buf, 0, on_done, &dn), 0);
	arm_posts_slot = 0; /* nothing during the spin; the CQE appears at arming */
	ck_assert_int_eq(nvkv_queue_wait(q, 1), 1);
	ck_assert_int_eq(dn.calls, 1);
	ck_assert_uint_eq(nvkv_queue_inflight(q), 0);
}
END_TEST

START_TEST(read_returns_data_and_status)
{
	uint8_t buf[1024];
	struct done dn = { 0 };
	uint64_t prp1;

	/* 2 blocks of 512 B on namespace 7: opcode 02h, NLB 1, no FUA. */
	memset(buf, 0, sizeof(buf));
	ck_assert_int_eq(nvkv_submit_blk_read(q, 7, 100, 2, buf, 0, on_done, &dn), 0);
	ck_assert_uint_eq(slot(0)[0], 0x02);
	ck_assert_uint_eq(kvc_sqe_nsid(&q->sq[0]), 7);
	ck_assert_uint_eq(kvc_sqe_dw(&q->sq[0], 10), 100);
	ck_assert_uint_eq(kvc_sqe_dw(&q->sq[0], 11), 0);
	ck_assert_uint_eq(kvc_sqe_dw(&q->sq[0], 12), 1);
	prp1 = kvc_sqe_prp1(&q->sq[0]);
	memset(hostmem(prp1), 0xab, 1024); /* what the device DMAs in */
	post_cqe(0, 0);
	ck_assert_int_eq(nvkv_queue_poll(q), 1);
	ck_assert_int_eq(dn.status, 0);
	ck_assert_uint_eq(buf[0], 0xab);
	ck_assert_uint_eq(buf[1023], 0xab);
	ck_assert_uint_eq(q->st.blk_bytes_read, 1024);

	/* LBA Out of Range with DNR comes back as the status code 0x80, buffer untouched. */
	memset(buf, 0, sizeof(buf));
	ck_assert_int_eq(nvkv_submit_blk_read(q, 7, 8191, 2, buf, 0, on_done, &dn), 0);
	memset(hostmem(kvc_sqe_prp1(&q->sq[1])), 0xcd, 1024);
	post_cqe(1, KVC_ST_GENERIC_DNR(KVC_SC_LBA_OUT_OF_RANGE));
	ck_assert_int_eq(nvkv_queue_poll(q), 1);
	ck_assert_int_eq(dn.calls, 2);
	ck_assert_int_eq(dn.status, 0x80);
	ck_assert_uint_eq(buf[0], 0);
	ck_assert_uint_eq(q->st.errors, 1);
	ck_assert_str_eq(nvkv_strerror(dn.status), "LBA OUT OF RANGE (0x80)");
}
END_TEST

START_TEST(write_zeroes_dsm_flush_sqes)
{
	struct nvkv_dsm_range r[3] = { { 10, 2, 0 }, { 20, 3, 0 }, { 0x100000000ull, 4, 7 } };
	uint8_t wire[48];
	struct done dn = { 0 };

	/* Write Zeroes 08h: 16 blocks, DEAC (bit 25) and FUA (bit 30); no data. */
	ck_assert_int_eq(nvkv_submit_blk_write_zeroes(q, 2, 5, 16, NVKV_BLK_DEAC | NVKV_BLK_FUA,
						      on_done, &dn),
			 0);
	ck_assert_uint_eq(slot(0)[0], 0x08);
	ck_assert_uint_eq(kvc_sqe_dw(&q->sq[0], 10), 5);
	ck_assert_uint_eq(kvc_sqe_dw(&q->sq[0], 12), 0x4200000f);
	ck_assert_uint_eq(kvc_sqe_prp1(&q->sq[0]), 0);

	/* DSM 09h: NR 0's based in CDW10 7:0, AD (bit 2) in CDW11, ranges by PRP. */
	ck_assert_int_eq(nvkv_submit_blk_dsm(q, 2, NVKV_DSM_AD, r, 3, on_done, &dn), 0);
	ck_assert_uint_eq(slot(1)[0], 0x09);
	ck_assert_uint_eq(kvc_sqe_nsid(&q->sq[1]), 2);
	ck_assert_uint_eq(kvc_sqe_dw(&q->sq[1], 10), 2);
	ck_assert_uint_eq(kvc_sqe_dw(&q->sq[1], 11), 4);
	nvkv_dsm_encode(wire, r, 3);
	ck_assert_mem_eq(hostmem(kvc_sqe_prp1(&q->sq[1])), wire, 48);

	/* Flush 00h to the namespace, and to all (FFFFFFFFh). */
	ck_assert_int_eq(nvkv_submit_blk_flush(q, 2, on_done, &dn), 0);
	ck_assert_uint_eq(slot(2)[0], 0x00);
	ck_assert_uint_eq(kvc_sqe_nsid(&q->sq[2]), 2);
	ck_assert_int_eq(nvkv_submit_blk_flush(q, 0xffffffffu, on_done, &dn), 0);
	ck_assert_uint_eq(kvc_sqe_nsid(&q->sq[3]), 0xffffffffu);
	ck_assert_uint_eq(nvkv_queue_inflight(q), 4);
}
END_TEST

START_TEST(block_arguments_checked_before_sending)
{
	uint8_t buf[4096 * 2];
	struct nvkv_dsm_range r[NVKV_DSM_MAX_RANGES + 1];

	memset(r, 0, sizeof(r));
	ck_assert_int_eq(nvkv_submit_blk_read(q, 2, 0, 0, buf, 0, NULL, NULL), -EINVAL);
	ck_assert_int_eq(nvkv_submit_blk_read(q, 7, 0, NVKV_BLK_MAX_NLB + 1, buf, 0, NULL, NULL),
			 -EINVAL);
	ck_assert_int_eq(nvkv_submit_blk_read(q, 2, 0, 1, NULL, 0, NULL, NULL), -EINVAL);
	ck_assert_int_eq(nvkv_submit_blk_read(q, 2, 0, 1, buf, 0x80, NULL, NULL), -EINVAL);
	ck_assert_int_eq(nvkv_submit_blk_write(q, 2, 0, 1, buf, NVKV_BLK_DEAC, NULL, NULL),
			 -EINVAL);
	ck_assert_int_eq(nvkv_submit_blk_read(q, 1, 0, 1, buf, 0, NULL, NULL), -ENXIO); /* KV */
	ck_assert_int_eq(nvkv_submit_blk_write(q, 3, 0, 1, buf, 0, NULL, NULL), -ENXIO);
	ck_assert_int_eq(nvkv_submit_blk_write_zeroes(q, 1, 0, 1, 0, NULL, NULL), -ENXIO);
	ck_assert_int_eq(nvkv_submit_blk_dsm(q, 1, NVKV_DSM_AD, r, 1, NULL, NULL), -ENXIO);
	ck_assert_int_eq(nvkv_submit_blk_flush(q, 3, NULL, NULL), -ENXIO);
	/* 64 blocks of 4 KiB = max_transfer; 65 are one too many. */
	ck_assert_int_eq(nvkv_submit_blk_read(q, 2, 0, 65, buf, 0, NULL, NULL), -EMSGSIZE);
	/* Write Zeroes moves no data: 65536 blocks pass, 65537 do not. */
	ck_assert_int_eq(nvkv_submit_blk_write_zeroes(q, 2, 0, NVKV_BLK_MAX_NLB + 1, 0, NULL, NULL),
			 -EINVAL);
	ck_assert_int_eq(nvkv_submit_blk_dsm(q, 2, NVKV_DSM_AD, r, 0, NULL, NULL), -EINVAL);
	ck_assert_int_eq(
		nvkv_submit_blk_dsm(q, 2, NVKV_DSM_AD, r, NVKV_DSM_MAX_RANGES + 1, NULL, NULL),
		-EINVAL);
	ck_assert_int_eq(nvkv_submit_blk_dsm(q, 2, 0x8, r, 1, NULL, NULL), -EINVAL);
	ck_assert_int_eq(nvkv_submit_blk_dsm(q, 2, NVKV_DSM_AD, NULL, 1, NULL, NULL), -EINVAL);
	ck_assert_int_eq(nvkv_blk_read(NULL, 2, 0, 1, buf, 0), -EINVAL);
	ck_assert_uint_eq(nvkv_queue_inflight(q), 0);
	ck_assert_int_eq(nvkv_submit_blk_write_zeroes(q, 2, 0, NVKV_BLK_MAX_NLB, 0, NULL, NULL), 0);
	ck_assert_uint_eq(kvc_sqe_dw(&q->sq[q->sq_tail - 1], 12), 0xffff);
	ck_assert_int_eq(nvkv_submit_blk_dsm(q, 2, NVKV_DSM_AD, r, NVKV_DSM_MAX_RANGES, NULL, NULL),
			 0);
	ck_assert_uint_eq(kvc_sqe_dw(&q->sq[q->sq_tail - 1], 10), 0xff);
}
END_TEST

START_TEST(max_transfer_is_the_smallest_limit)
{
	dev.arena_pages = 512; /* 2 MiB of queue buffer */
	dev.mdts_bytes = 0;    /* no MDTS */
	ck_assert_uint_eq(max_transfer(&dev, 4096), 2u << 20);
	ck_assert_uint_eq(max_transfer(&dev, 16), 65536u * 16); /* 65536 blocks */
	dev.mdts_bytes = 128 << 10;
	ck_assert_uint_eq(max_transfer(&dev, 4096), 128u << 10);
	dev.mdts_bytes = 8u << 20;
	ck_assert_uint_eq(max_transfer(&dev, 512), 2u << 20);

	/* The buffers: the largest value, or with an NVM namespace min(MDTS, 1 MiB). */
	dev.info.max_value = 4096;
	dev.mdts_bytes = 0;
	size_arena(&dev, nss, 1); /* KV only */
	ck_assert_uint_eq(dev.arena_pages, 1);
	size_arena(&dev, nss, 3);
	ck_assert_uint_eq(dev.arena_pages, 256);
	dev.mdts_bytes = 64 << 10;
	size_arena(&dev, nss, 3);
	ck_assert_uint_eq(dev.arena_pages, 16);
	dev.info.max_value = 2u << 20;
	size_arena(&dev, nss, 3);
	ck_assert_uint_eq(dev.arena_pages, 512);
}
END_TEST

START_TEST(kv_calls_refused_without_a_kv_namespace)
{
	dev.kv_nsid = 0; /* a block-only device */
	ck_assert_int_eq(
		nvkv_udrv_submit(q, NVKV_OP_EXIST, "k", 1, NULL, 0, NULL, 0, 0, NULL, NULL),
		-ENXIO);
	/* Flush still goes, to every namespace. */
	ck_assert_int_eq(
		nvkv_udrv_submit(q, NVKV_OP_FLUSH, NULL, 0, NULL, 0, NULL, 0, 0, NULL, NULL), 0);
	ck_assert_uint_eq(kvc_sqe_nsid(&q->sq[0]), 0xffffffffu);
}
END_TEST

START_TEST(ns_lookup_and_first)
{
	struct nvkv_ns_info ns;

	ck_assert_uint_eq(nvkv_ns_first(&dev, NVKV_CSI_NVM), 2);
	ck_assert_uint_eq(nvkv_ns_first(&dev, NVKV_CSI_KV), 1);
	ck_assert_uint_eq(nvkv_ns_first(&dev, 2), 0);
	ck_assert_int_eq(nvkv_ns_get(&dev, 7, &ns), 0);
	ck_assert_uint_eq(ns.lba_size, 512);
	ck_assert_int_eq(nvkv_ns_get(&dev, 4, &ns), -ENXIO);
	ck_assert_int_eq(nvkv_ns_get(&dev, 7, NULL), -EINVAL);
}
END_TEST

static struct nvkv_ns_table *heap_table(unsigned int n, uint64_t used)
{
	struct nvkv_ns_table *t = calloc(1, sizeof(*t));
	unsigned int i;

	t->n = n;
	t->ns = calloc(n, sizeof(*t->ns));
	for (i = 0; i < n; i++)
		t->ns[i] = (struct nvkv_ns_info){ .nsid = i + 1,
						  .csi = NVKV_CSI_NVM,
						  .lba_size = 4096,
						  .blocks = 100,
						  .size = 409600,
						  .used = used };
	return t;
}

/* Enumerating the same namespaces again refreshes sizes in place instead of
 * chaining a new table each time (a stats loop would grow without bound). */
START_TEST(rescan_of_the_same_namespaces_keeps_one_table)
{
	struct nvkv_ns_table *first = heap_table(2, 0);
	struct nvkv_ns_info ns;
	int i;

	memset(&dev, 0, sizeof(dev));
	pthread_mutex_init(&dev.lock, NULL);
	publish(&dev, first);
	for (i = 1; i <= 100; i++)
		publish(&dev, heap_table(2, (uint64_t)i * 4096));
	ck_assert_ptr_eq(dev.ns_table, first);
	ck_assert_ptr_null(first->older);
	ck_assert_int_eq(nvkv_ns_get(&dev, 2, &ns), 0);
	ck_assert_uint_eq(ns.used, 100 * 4096);
	/* Another set of namespaces (or another format) is a new table. */
	publish(&dev, heap_table(3, 0));
	ck_assert_ptr_ne(dev.ns_table, first);
	ck_assert_ptr_eq(dev.ns_table->older, first);
	ck_assert_uint_eq(nvkv_ns_first(&dev, NVKV_CSI_NVM), 1);
	ck_assert_int_eq(nvkv_ns_get(&dev, 3, &ns), 0);
	nvkv_ns_free(&dev);
	ck_assert_ptr_null(dev.ns_table);
}
END_TEST

static Suite *block_suite(void)
{
	Suite *s = suite_create("hostdrv/block");
	TCase *dec = tcase_create("decode"), *tc = tcase_create("commands");

	tcase_add_test(dec, nvm_identify_namespace_decoded);
	tcase_add_test(dec, kv_identify_namespace_decoded);
	tcase_add_test(dec, descriptor_list_csi);
	tcase_add_test(dec, dsm_ranges_golden_bytes);
	tcase_add_test(dec, rescan_of_the_same_namespaces_keeps_one_table);
	suite_add_tcase(s, dec);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, write_sqe_golden_and_data_by_prp);
	tcase_add_test(tc, large_write_uses_a_prp_list);
	tcase_add_test(tc, read_returns_data_and_status);
	tcase_add_test(tc, wait_counts_completions_reaped_when_arming_regression);
	tcase_add_test(tc, write_zeroes_dsm_flush_sqes);
	tcase_add_test(tc, block_arguments_checked_before_sending);
	tcase_add_test(tc, max_transfer_is_the_smallest_limit);
	tcase_add_test(tc, kv_calls_refused_without_a_kv_namespace);
	tcase_add_test(tc, ns_lookup_and_first);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(block_suite)
