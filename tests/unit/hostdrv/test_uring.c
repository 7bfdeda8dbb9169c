// SPDX-License-Identifier: MIT
/*
 * The io_uring passthrough backend without an NVMe device: device strings,
 * the NVME_URING_CMD_IO command built from a driver SQE (field by field
 * against struct nvme_uring_cmd of <linux/nvme_ioctl.h>: CDW4-9 never
 * reach it, the NSID is the char device's), the admin commands answered
 * locally, and one doorbell -> ring -> local CQE round trip on a real ring
 * whose command fails with an errno (a file that is no NVMe device), which
 * must come back as that -errno, not as an NVMe status.  The passthrough
 * itself is exercised in the QEMU guest (tests/guest/test_guest_uring.sh).
 */
#include <errno.h>

#include "check_main.h"
#include "hostdrv/uring.c"

START_TEST(device_strings)
{
	struct ur_spec s;

	ck_assert(nvkv_uring_spec("/dev/ng0n1"));
	ck_assert(nvkv_uring_spec("ng3n2"));
	ck_assert(nvkv_uring_spec("nvme0"));
	ck_assert(nvkv_uring_spec("/dev/nvme1"));
	ck_assert(nvkv_uring_spec("nqn.2026-11.io.nvkv:NVKV0001"));
	ck_assert(!nvkv_uring_spec("/tmp/nvkv.sock"));
	ck_assert(!nvkv_uring_spec("sim"));
	ck_assert(!nvkv_uring_spec("tcp://127.0.0.1:4420"));
	ck_assert(!nvkv_uring_spec("/dev/nvkv"));

	ck_assert_int_eq(parse_spec("/dev/ng12n3", &s), 0);
	ck_assert_str_eq(s.ctrl, "nvme12");
	ck_assert_str_eq(s.node, "/dev/ng12n3");
	ck_assert(!s.sqpoll);
	ck_assert_int_eq(parse_spec("ng0n1?sqpoll", &s), 0);
	ck_assert_str_eq(s.ctrl, "nvme0");
	ck_assert_str_eq(s.node, "/dev/ng0n1");
	ck_assert(s.sqpoll);
	ck_assert_int_eq(parse_spec("nvme2", &s), 0);
	ck_assert_str_eq(s.ctrl, "nvme2");
	ck_assert_str_eq(s.node, "");
	ck_assert_int_eq(parse_spec("/dev/ng0n1?iopoll", &s), -EINVAL);
	ck_assert_int_eq(parse_spec("/dev/ng0nX", &s), -EINVAL);
	ck_assert_int_eq(parse_spec("/dev/ngn1", &s), -EINVAL);
	ck_assert_int_eq(parse_spec("nvme0n1", &s), -EINVAL);
}
END_TEST

START_TEST(uring_cmd_fields)
{
	struct nvkv_uring t = { .ns_fd = 7, .nsid = 2 };
	struct io_uring_sqe e[2]; /* SQE128: the command runs into the second half */
	const struct nvme_uring_cmd *c = (const void *)e[0].cmd;
	struct kvc_sqe s;
	uint8_t buf[16];
	unsigned int i;

	memset(&s, 0, sizeof(s));
	s.opc = 0xc0;
	kvc_sqe_set_cid(&s, 0x1234);
	kvc_sqe_set_nsid(&s, 1);
	for (i = 2; i < 16; i++)
		kvc_sqe_set_dw(&s, i, 0x01010101u * i);
	memset(e, 0xee, sizeof(e));
	prep_cmd(&t, e, &s, buf, sizeof(buf));
	ck_assert_uint_eq(e[0].opcode, IORING_OP_URING_CMD);
	ck_assert_int_eq(e[0].fd, 7);
	ck_assert_uint_eq(e[0].cmd_op, NVME_URING_CMD_IO);
	ck_assert_uint_eq(e[0].user_data, 0x1234);
	ck_assert_uint_eq(c->opcode, 0xc0);
	ck_assert_uint_eq(c->flags, 0);
	ck_assert_uint_eq(c->nsid, 2); /* the char device's, not the SQE's */
	ck_assert_uint_eq(c->cdw2, 0x02020202u);
	ck_assert_uint_eq(c->cdw3, 0x03030303u);
	ck_assert_uint_eq(c->cdw10, 0x0a0a0a0au);
	ck_assert_uint_eq(c->cdw11, 0x0b0b0b0bu);
	ck_assert_uint_eq(c->cdw12, 0x0c0c0c0cu);
	ck_assert_uint_eq(c->cdw13, 0x0d0d0d0du);
	ck_assert_uint_eq(c->cdw14, 0x0e0e0e0eu);
	ck_assert_uint_eq(c->cdw15, 0x0f0f0f0fu);
	/* CDW4-9 (MPTR, DPTR) have no field: the buffer goes by address and length. */
	ck_assert_uint_eq(c->metadata, 0);
	ck_assert_uint_eq(c->metadata_len, 0);
	ck_assert_uint_eq(c->addr, (uint64_t)(uintptr_t)buf);
	ck_assert_uint_eq(c->data_len, sizeof(buf));
	ck_assert_uint_eq(c->timeout_ms, 0);
	prep_cmd(&t, e, &s, NULL, 100);
	ck_assert_uint_eq(c->addr, 0);
	ck_assert_uint_eq(c->data_len, 0);
}
END_TEST

START_TEST(admin_answered_here)
{
	struct nvkv_uring t;
	struct kvc_sqe s;
	uint32_t dw0;
	uint16_t st;

	memset(&t, 0, sizeof(t));
	memset(&s, 0, sizeof(s));
	s.opc = KVC_ADM_SET_FEATURES;
	kvc_sqe_set_dw(&s, 10, KVC_FEAT_NUM_QUEUES);
	kvc_sqe_set_dw(&s, 11, 7 | 7 << 16);
	ck_assert(admin_local(&t, &s, &st, &dw0));
	ck_assert_uint_eq(st, 0);
	ck_assert_uint_eq(dw0, 7 | 7 << 16);
	kvc_sqe_set_dw(&s, 11, 500 | 500 << 16);
	ck_assert(admin_local(&t, &s, &st, &dw0));
	ck_assert_uint_eq(dw0, (NVKV_MAX_QID - 2) | (NVKV_MAX_QID - 2) << 16);
	s.opc = KVC_ADM_IDENTIFY; /* the device's to answer */
	ck_assert(!admin_local(&t, &s, &st, &dw0));
	s.opc = KVC_ADM_CREATE_SQ;
	kvc_sqe_set_dw(&s, 10, 0);
	ck_assert(admin_local(&t, &s, &st, &dw0));
	ck_assert_uint_eq(st, KVC_STATUS(1, 0x01)); /* queue 0 is the admin queue */
}
END_TEST

/*
 * BandSlim sequences (a head followed by transfers) are found as units: the
 * kernel must get each alone, in order; lone heads and other commands are
 * single.  The SQ wraps around.
 */
START_TEST(sequences_are_grouped)
{
	static const uint8_t opc[8] = {
		KVC_BS_XFER, KVC_KV_STORE, KVC_BS_STORE,     KVC_BS_XFER,
		KVC_BS_XFER, KVC_BS_STORE, KVC_BS_STORE_PRP, KVC_KV_RETRIEVE
	};
	struct nvkv_uring t;
	struct ur_q q = { .size = 8, .sq_addr = 0 };
	struct kvc_sqe sq[8];
	unsigned int i;

	memset(&t, 0, sizeof(t));
	memset(sq, 0, sizeof(sq));
	for (i = 0; i < 8; i++)
		sq[i].opc = opc[i];
	t.t.mem = (uint8_t *)sq;
	ck_assert(!in_sequence(&t, &q, 1, 0));	       /* a KV Store */
	ck_assert(in_sequence(&t, &q, 2, 0));	       /* head with transfers */
	ck_assert_uint_eq(group_len(&t, &q, 2, 0), 3); /* head + 2 transfers */
	ck_assert(!in_sequence(&t, &q, 5, 0));	       /* a head alone (value inline) */
	ck_assert_uint_eq(group_len(&t, &q, 5, 0), 1);
	ck_assert_uint_eq(group_len(&t, &q, 2, 4), 2); /* the doorbell cuts it (tail 4) */
	/* Wrapping: a head in slot 6 whose transfer is slot 0. */
	sq[6].opc = KVC_BS_STORE_PRP;
	sq[7].opc = KVC_BS_XFER;
	ck_assert(in_sequence(&t, &q, 6, 2));
	ck_assert_uint_eq(group_len(&t, &q, 6, 2), 3); /* slots 6, 7, 0 */
	ck_assert(has_bandslim(&t, &q, 2));
	q.sq_head = 1;
	ck_assert(!has_bandslim(&t, &q, 2));
}
END_TEST

/*
 * Regression (adaptive_sgl_store_went_without_data): on a fabric udrv names a
 * Store's value with an SGL Data Block (adaptive's choice, xfer.c) and gives
 * no length hint; the ring command must still carry the buffer with the
 * descriptor's length, else the kernel sends no data and the device answers
 * Data SGL Length Invalid.  The SQE bytes are written by hand (PSDT 01b in
 * FUSE/PSDT byte 1, Data Block: address at byte 24, length at 32, type 0 in
 * byte 39's high nibble).
 */
START_TEST(sgl_data_block_sizes_the_buffer)
{
	static const uint32_t sizes[] = { 0, 1, 35, 4095, 4096, 4097, 65536 };
	struct kvc_sqe s;
	uint8_t *b = (uint8_t *)&s;
	unsigned int i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		memset(&s, 0, sizeof(s));
		b[0] = 0x01; /* Store */
		b[1] = 0x40;
		b[25] = 0x30;		   /* address 0x3000 */
		b[32] = (uint8_t)sizes[i]; /* length, little-endian */
		b[33] = (uint8_t)(sizes[i] >> 8);
		b[34] = (uint8_t)(sizes[i] >> 16);
		ck_assert_uint_eq(sqe_data_len(&s, 0), sizes[i]);
		ck_assert_uint_eq(sqe_data_len(&s, 77), sizes[i]); /* the SGL wins over a hint */
	}
	b[25] = 0; /* no address: no data, whatever the length says */
	ck_assert_uint_eq(sqe_data_len(&s, 0), 0);
	b[25] = 0x30;
	b[39] = 0x30; /* a Segment descriptor, not data */
	ck_assert_uint_eq(sqe_data_len(&s, 0), 0);
	b[1] = 0; /* PRP entries: the driver's hint */
	ck_assert_uint_eq(sqe_data_len(&s, 77), 77);
	ck_assert_uint_eq(sqe_data_len(&s, 0), 0);
}
END_TEST

/*
 * A whole I/O queue on a real ring: the SQ doorbell submits, the CQ is
 * filled when the driver looks (cq_enter), and a command the kernel refuses
 * with an errno completes with the placeholder status plus that errno.
 */
START_TEST(ring_round_trip_errno)
{
	struct nvkv_uring *t = calloc(1, sizeof(*t));
	struct kvc_sqe *sq;
	struct kvc_cqe *cq;
	struct kvc_sqe s;
	uint16_t st;
	int i;

	ck_assert_ptr_nonnull(t);
	t->t.ops = &ur_ops;
	t->ctrl_fd = -1;
	char name[] = "/tmp/nvkv-test-uring-XXXXXX";

	/* A regular file: no uring_cmd handler, the kernel answers -EOPNOTSUPP. */
	t->ns_fd = mkstemp(name);
	unlink(name);
	t->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	pthread_rwlock_init(&t->qlock, NULL);
	pthread_mutex_init(&t->seq_lock, NULL);
	t->max_inflight = 8;
	t->t.mem_size = 4 * NVKV_PAGE;
	t->t.mem = mmap(NULL, t->t.mem_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			-1, 0);
	ck_assert(t->ns_fd >= 0 && t->efd >= 0 && t->t.mem);
	memset(t->t.mem, 0, t->t.mem_size);
	snprintf(t->path, sizeof(t->path), "/tmp"); /* ur_dead(): the node still exists */
	t->cq[1].addr = NVKV_PAGE;
	t->cq[1].size = 8;
	st = create_sq(t, 1, 8, 2 * NVKV_PAGE);
	if (st == KVC_STATUS(0, 0x06)) {
		/* io_uring disabled (seccomp, kernel.io_uring_disabled): say so, fail. */
		ck_abort_msg("io_uring_queue_init failed: this test needs io_uring");
	}
	ck_assert_uint_eq(st, 0);
	sq = (struct kvc_sqe *)(t->t.mem + 2 * NVKV_PAGE);
	cq = (struct kvc_cqe *)(t->t.mem + NVKV_PAGE);
	memset(&s, 0, sizeof(s));
	s.opc = KVC_KV_EXIST;
	kvc_sqe_set_cid(&s, 3);
	sq[0] = s;
	kvc_sqe_set_cid(&s, 5);
	sq[1] = s;
	ur_reg_write(&t->t, kvc_sq_tail_db(1, 0), 2);
	for (i = 0; i < 2000 && (kvc_get_le16(&cq[1].status) & 1) == 0; i++) {
		ur_irq_sleep(&t->t, 1);
		ur_cq_enter(&t->t);
	}
	for (i = 0; i < 2; i++) {
		uint16_t cid = kvc_cqe_cid(&cq[i]);
		int e;

		ck_assert_uint_eq(kvc_get_le16(&cq[i].status) & 1, 1); /* phase */
		ck_assert(cid == 3 || cid == 5);
		ck_assert_uint_eq(KVC_STATUS_CODE(kvc_cqe_status(&cq[i])), UR_ERR_STATUS);
		e = ur_cqe_errno(&t->t, 1, cid);
		ck_assert_int_eq(e, -EOPNOTSUPP);
		ck_assert_int_eq(ur_cqe_errno(&t->t, 1, cid), 0); /* taken once */
		ck_assert_uint_eq(kvc_get_le16(&cq[i].sqhd), 2);
	}
	ck_assert_uint_eq(kvc_get_le16(&cq[2].status) & 1, 0);
	ck_assert(!ur_dead(&t->t));
	ck_assert_uint_eq(delete_sq(t, 1), 0);
	ck_assert_uint_eq(delete_sq(t, 1), KVC_STATUS(1, 0x01));
	ur_close(&t->t);
}
END_TEST

static Suite *uring_suite(void)
{
	Suite *s = suite_create("hostdrv/uring");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, device_strings);
	tcase_add_test(tc, uring_cmd_fields);
	tcase_add_test(tc, admin_answered_here);
	tcase_add_test(tc, sequences_are_grouped);
	tcase_add_test(tc, sgl_data_block_sizes_the_buffer);
	tcase_add_test(tc, ring_round_trip_errno);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(uring_suite)
