// SPDX-License-Identifier: MIT
/*
 * NVMe base structures: field offsets against the specification tables,
 * register and doorbell arithmetic, CQE status encoding, status and opcode
 * names, NVMe/TCP header layouts.
 */
#include <stddef.h>
#include <string.h>

#include "check_main.h"
#include "cmdset/cmdset.h"

START_TEST(sqe_offsets)
{
	ck_assert_uint_eq(offsetof(struct kvc_sqe, cid), 2);
	ck_assert_uint_eq(offsetof(struct kvc_sqe, nsid), 4);
	ck_assert_uint_eq(offsetof(struct kvc_sqe, mptr), 16);
	ck_assert_uint_eq(offsetof(struct kvc_sqe, prp1), 24);
	ck_assert_uint_eq(offsetof(struct kvc_sqe, prp2), 32);
	ck_assert_uint_eq(offsetof(struct kvc_sqe, cdw10), 40);
	ck_assert_uint_eq(offsetof(struct kvc_sqe, cdw15), 60);
}
END_TEST

START_TEST(sqe_dword_accessors)
{
	struct kvc_sqe s;
	uint8_t want[8] = { 0x78, 0x56, 0x34, 0x12, 0xef, 0xcd, 0xab, 0x89 };

	memset(&s, 0, sizeof(s));
	kvc_sqe_set_dw(&s, 10, 0x12345678);
	kvc_sqe_set_dw(&s, 11, 0x89abcdef);
	ck_assert_mem_eq(kvc_sqe_bytes(&s) + 40, want, 8);
	ck_assert_uint_eq(kvc_sqe_dw(&s, 10), 0x12345678);
	kvc_sqe_set_prp(&s, 0x1122334455667788ull, 0);
	ck_assert_uint_eq(kvc_sqe_bytes(&s)[24], 0x88);
	ck_assert_uint_eq(kvc_sqe_bytes(&s)[31], 0x11);
	ck_assert_uint_eq(kvc_sqe_dw(&s, 6), 0x55667788);
}
END_TEST

START_TEST(cqe_golden)
{
	struct kvc_cqe c;
	/* dw0 5, dw1 0, sqhd 3, sqid 1, cid 0x0a0b; status 87h with DNR, phase 1:
	 * field = DNR(15) | SC 0x87 << 1 | P = 0x8000 | 0x010e | 1 = 0x810f. */
	static const uint8_t want[16] = {
		5, 0, 0, 0, 0, 0, 0, 0, 3, 0, 1, 0, 0x0b, 0x0a, 0x0f, 0x81
	};
	uint16_t st = KVC_ST_GENERIC_DNR(KVC_SC_KV_KEY_NOT_EXIST);

	kvc_cqe_fill(&c, 5, 0, 3, 1, 0x0a0b, st, true);
	ck_assert_mem_eq(&c, want, 16);
	ck_assert_uint_eq(kvc_cqe_status(&c), st);
	ck_assert(kvc_cqe_phase(&c));
	ck_assert_uint_eq(KVC_STATUS_SC(kvc_cqe_status(&c)), 0x87);
	ck_assert_uint_eq(KVC_STATUS_SCT(kvc_cqe_status(&c)), 0);
	ck_assert(kvc_cqe_status(&c) & KVC_STATUS_DNR);
	ck_assert_uint_eq(KVC_STATUS_CODE(st), 0x87);
	/* Command specific invalid queue id: SCT 1, SC 01h -> field 0x0202 without DNR. */
	kvc_cqe_fill(&c, 0, 0, 0, 0, 0, KVC_STATUS(KVC_SCT_CMD_SPECIFIC, KVC_SC_INVALID_QID),
		     false);
	ck_assert_uint_eq(kvc_get_le16(&c.status), 0x0202);
}
END_TEST

/* The little-endian helpers at every alignment: least significant byte
 * first, neighbours untouched, and get() undoes put(). */
START_TEST(le_helpers_any_alignment)
{
	static const uint8_t want[14] = { 0x22, 0x11, 0x66, 0x55, 0x44, 0x33, 0xee,
					  0xdd, 0xcc, 0xbb, 0xaa, 0x99, 0x88, 0x77 };
	uint8_t b[24];
	unsigned int at, i;

	for (at = 0; at < 8; at++) {
		memset(b, 0xee, sizeof(b));
		kvc_put_le16(b + at, 0x1122);
		kvc_put_le32(b + at + 2, 0x33445566u);
		kvc_put_le64(b + at + 6, 0x778899aabbccddeeull);
		for (i = 0; i < sizeof(b); i++)
			ck_assert_uint_eq(b[i], i < at || i >= at + 14 ? 0xee : want[i - at]);
		ck_assert_uint_eq(kvc_get_le16(b + at), 0x1122);
		ck_assert_uint_eq(kvc_get_le32(b + at + 2), 0x33445566u);
		ck_assert_uint_eq(kvc_get_le64(b + at + 6), 0x778899aabbccddeeull);
		/* Big-endian: the first byte most significant. */
		ck_assert_uint_eq(kvc_get_be64(b + at + 6), 0xeeddccbbaa998877ull);
	}
}
END_TEST

START_TEST(registers)
{
	uint64_t cap = 1023 | (20ull << KVC_CAP_TO_SHIFT) | KVC_CAP_CSS_NVM | KVC_CAP_CSS_IOCS;

	ck_assert_uint_eq(KVC_CAP_MQES(cap), 1023);
	ck_assert_uint_eq(KVC_CAP_TO(cap), 20);
	ck_assert(cap & (1ull << 43)); /* CSS bit 6 is CAP bit 43 */
	ck_assert(cap & (1ull << 37));
	ck_assert_uint_eq(KVC_VS(1, 4, 0), 0x00010400);
	ck_assert_uint_eq(KVC_AQA(32, 64), 0x003f001f);
	ck_assert_uint_eq(KVC_AQA_ASQS(KVC_AQA(32, 64)), 31);
	ck_assert_uint_eq(KVC_AQA_ACQS(KVC_AQA(32, 64)), 63);
	ck_assert_uint_eq(KVC_CC_CSS_ALL << KVC_CC_CSS_SHIFT, 0x60);
	/* Doorbells, stride 4 bytes (DSTRD 0) and 16 bytes (DSTRD 2). */
	ck_assert_uint_eq(kvc_sq_tail_db(0, 0), 0x1000);
	ck_assert_uint_eq(kvc_cq_head_db(0, 0), 0x1004);
	ck_assert_uint_eq(kvc_sq_tail_db(3, 0), 0x1018);
	ck_assert_uint_eq(kvc_cq_head_db(3, 0), 0x101c);
	ck_assert_uint_eq(kvc_sq_tail_db(1, 2), 0x1020);
	ck_assert_uint_eq(kvc_cq_head_db(1, 2), 0x1030);
}
END_TEST

START_TEST(identify_offsets)
{
	ck_assert_uint_eq(offsetof(struct kvc_id_ctrl, mn), 24);
	ck_assert_uint_eq(offsetof(struct kvc_id_ctrl, mdts), 77);
	ck_assert_uint_eq(offsetof(struct kvc_id_ctrl, ver), 80);
	ck_assert_uint_eq(offsetof(struct kvc_id_ctrl, ctratt), 96);
	ck_assert_uint_eq(offsetof(struct kvc_id_ctrl, cntrltype), 111);
	ck_assert_uint_eq(offsetof(struct kvc_id_ctrl, acl), 258);
	ck_assert_uint_eq(offsetof(struct kvc_id_ctrl, lpa), 261);
	ck_assert_uint_eq(offsetof(struct kvc_id_ctrl, kas), 320);
	ck_assert_uint_eq(offsetof(struct kvc_id_ctrl, maxcmd), 514);
	ck_assert_uint_eq(offsetof(struct kvc_id_ctrl, nn), 516);
	ck_assert_uint_eq(offsetof(struct kvc_id_ctrl, oncs), 520);
	ck_assert_uint_eq(offsetof(struct kvc_id_ctrl, vwc), 525);
	ck_assert_uint_eq(offsetof(struct kvc_id_ctrl, sgls), 536);
	ck_assert_uint_eq(offsetof(struct kvc_id_ctrl, ioccsz), 1792);
	ck_assert_uint_eq(offsetof(struct kvc_id_ns_kv, nuse), 16);
	ck_assert_uint_eq(offsetof(struct kvc_id_ns_kv, nkvf), 25);
	ck_assert_uint_eq(offsetof(struct kvc_id_ns_kv, eui64), 64);
	ck_assert_uint_eq(offsetof(struct kvc_id_ns_kv, kvf[1]), 88);
	ck_assert_uint_eq(offsetof(struct kvc_kv_format, kvvml), 4);
	ck_assert_uint_eq(offsetof(struct kvc_kv_format, kvmnk), 8);
	ck_assert_uint_eq(offsetof(struct kvc_id_ns_nvm, flbas), 26);
	ck_assert_uint_eq(offsetof(struct kvc_id_ns_nvm, nguid), 104);
	ck_assert_uint_eq(offsetof(struct kvc_id_ns_indep, nstat), 14);
	ck_assert_uint_eq(offsetof(struct kvc_effects_log, iocs), 1024);
	ck_assert_uint_eq(offsetof(struct kvc_smart_log, data_units_read), 32);
	ck_assert_uint_eq(offsetof(struct kvc_smart_log, media_errors), 160);
	ck_assert_uint_eq(offsetof(struct kvc_error_log_entry, nsid), 24);
}
END_TEST

START_TEST(admin_fields)
{
	/* Get Log Page for 4096 bytes: NUMD = 1023 (0's based) in NUMDL. */
	ck_assert_uint_eq(kvc_log_numd(1023u << 16 | KVC_LOG_CMD_EFFECTS, 0), 1024);
	ck_assert_uint_eq(kvc_log_numd(0xffffu << 16, 1), 0x1ffff + 1);
	ck_assert_uint_eq(KVC_LOG_CSI(1u << 24), KVC_CSI_KV);
	ck_assert_uint_eq(KVC_QSIZE(0x03ff0001), 1024);
	ck_assert_uint_eq(KVC_QID(0x03ff0001), 1);
	ck_assert_uint_eq(
		KVC_AER_DW0(KVC_AER_TYPE_ERROR, KVC_AER_ERR_INVALID_DB_VALUE, KVC_LOG_ERROR),
		0x00010100);
}
END_TEST

START_TEST(status_names)
{
	ck_assert_str_eq(kvc_status_str(KVC_ST_GENERIC_DNR(0x87)), "KEY DOES NOT EXIST");
	ck_assert_str_eq(kvc_status_str(KVC_ST_GENERIC(0x89)), "KEY EXISTS");
	ck_assert_str_eq(kvc_status_str(KVC_ST_GENERIC(0x86)), "INVALID KEY SIZE");
	ck_assert_str_eq(kvc_status_str(KVC_ST_GENERIC(0x85)), "INVALID VALUE SIZE");
	ck_assert_str_eq(kvc_status_str(KVC_ST_GENERIC(0x81)), "CAPACITY EXCEEDED");
	ck_assert_str_eq(kvc_status_str(0), "SUCCESS");
	ck_assert_str_eq(kvc_status_str(KVC_ST_GENERIC_DNR(0x2c)), "INVALID I/O COMMAND SET");
	ck_assert_str_eq(kvc_status_str(KVC_ST_CMD_DNR(KVC_SC_INVALID_QID)),
			 "INVALID QUEUE IDENTIFIER");
	ck_assert_str_eq(kvc_status_str(KVC_STATUS(KVC_SCT_VENDOR, 0x42)), "UNKNOWN STATUS");
}
END_TEST

START_TEST(opcode_names)
{
	ck_assert_str_eq(kvc_opcode_str(KVC_SET_KV, 0x01), "store");
	ck_assert_str_eq(kvc_opcode_str(KVC_SET_KV, 0x14), "exist");
	ck_assert_str_eq(kvc_opcode_str(KVC_SET_KV, 0xc4), "bandslim-xfer");
	ck_assert_str_eq(kvc_opcode_str(KVC_SET_ADMIN, 0x06), "identify");
	ck_assert_str_eq(kvc_opcode_str(KVC_SET_NVM, 0x02), "read");
	ck_assert_str_eq(kvc_opcode_str(KVC_SET_KV, 0x7e), "unknown");
}
END_TEST

START_TEST(tcp_headers)
{
	struct kvc_tcp_term t;
	uint8_t *b = (uint8_t *)&t;

	ck_assert_uint_eq(offsetof(struct kvc_tcp_ch, plen), 4);
	ck_assert_uint_eq(offsetof(struct kvc_tcp_icreq, maxr2t), 12);
	ck_assert_uint_eq(offsetof(struct kvc_tcp_icresp, maxdata), 12);
	ck_assert_uint_eq(offsetof(struct kvc_tcp_cmd, sqe), 8);
	ck_assert_uint_eq(offsetof(struct kvc_tcp_rsp, cqe), 8);
	ck_assert_uint_eq(offsetof(struct kvc_tcp_data, datal), 16);
	ck_assert_uint_eq(offsetof(struct kvc_tcp_r2t, r2tl), 16);
	memset(&t, 0, sizeof(t));
	kvc_put_le32(&t.fei, 0x11223344);
	ck_assert_uint_eq(b[10], 0x44);
	ck_assert_uint_eq(b[13], 0x11);
}
END_TEST

static Suite *spec_suite(void)
{
	Suite *s = suite_create("cmdset/spec");
	TCase *tc = tcase_create("spec");

	tcase_add_test(tc, sqe_offsets);
	tcase_add_test(tc, sqe_dword_accessors);
	tcase_add_test(tc, cqe_golden);
	tcase_add_test(tc, le_helpers_any_alignment);
	tcase_add_test(tc, registers);
	tcase_add_test(tc, identify_offsets);
	tcase_add_test(tc, admin_fields);
	tcase_add_test(tc, status_names);
	tcase_add_test(tc, opcode_names);
	tcase_add_test(tc, tcp_headers);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(spec_suite)
