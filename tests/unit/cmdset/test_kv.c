// SPDX-License-Identifier: MIT
/* KV command set: golden SQE bytes, key packing boundaries, options, List data. */
#include <errno.h>
#include <string.h>

#include "check_main.h"
#include "cmdset/cmdset.h"

/* KV Store, written by hand from the DESIGN.md section 3 table. */
/* clang-format off */
static const uint8_t golden_store[64] = {
	0x01, 0x00, 0x34, 0x12,				/* opc, flags, cid 0x1234 */
	0x01, 0x00, 0x00, 0x00,				/* nsid 1 */
	'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H',		/* key 0-7 */
	0, 0, 0, 0, 0, 0, 0, 0,				/* MPTR */
	0x00, 0x10, 0, 0, 0, 0, 0, 0,			/* PRP1 0x1000 */
	0x00, 0x20, 0, 0, 0, 0, 0, 0,			/* PRP2 0x2000 */
	0x00, 0x01, 0x00, 0x00,				/* value size 256 */
	0x0a, 0x02, 0x00, 0x00,				/* KL 10, options must-not-exist */
	0, 0, 0, 0, 0, 0, 0, 0,				/* CDW12-13 */
	'I', 'J', 0, 0, 0, 0, 0, 0,			/* key 8-15 */
};
/* clang-format on */

static struct kvc_kv_cmd store_cmd(void)
{
	struct kvc_kv_cmd c = { 0 };

	c.opc = KVC_KV_STORE;
	c.cid = 0x1234;
	c.nsid = 1;
	c.klen = 10;
	memcpy(c.key, "ABCDEFGHIJ", 10);
	c.size = 256;
	c.opts = KVC_STORE_MUST_NOT_EXIST;
	c.prp1 = 0x1000;
	c.prp2 = 0x2000;
	return c;
}

START_TEST(store_golden)
{
	struct kvc_kv_cmd c = store_cmd();
	struct kvc_sqe sqe;

	ck_assert_int_eq(kvc_kv_encode(&sqe, &c), 0);
	ck_assert_mem_eq(&sqe, golden_store, 64);
}
END_TEST

START_TEST(decode_golden)
{
	struct kvc_kv_cmd c;
	struct kvc_sqe sqe;

	memcpy(&sqe, golden_store, 64);
	ck_assert_int_eq(kvc_kv_decode(&sqe, &c), 0);
	ck_assert_uint_eq(c.opc, KVC_KV_STORE);
	ck_assert_uint_eq(c.cid, 0x1234);
	ck_assert_uint_eq(c.nsid, 1);
	ck_assert_uint_eq(c.klen, 10);
	ck_assert_mem_eq(c.key, "ABCDEFGHIJ", 10);
	ck_assert_uint_eq(c.size, 256);
	ck_assert_uint_eq(c.opts, KVC_STORE_MUST_NOT_EXIST);
	ck_assert_uint_eq(c.prp1, 0x1000);
	ck_assert_uint_eq(c.prp2, 0x2000);
}
END_TEST

/* Key lengths 0, 1, 8, 9, 16, 17 on every opcode. */
static const uint8_t kv_opcodes[] = { KVC_KV_STORE, KVC_KV_RETRIEVE, KVC_KV_LIST, KVC_KV_DELETE,
				      KVC_KV_EXIST };
static const uint8_t klens[] = { 0, 1, 8, 9, 16, 17 };

START_TEST(key_length_boundaries)
{
	uint8_t opc = kv_opcodes[_i / 6], klen = klens[_i % 6];
	struct kvc_kv_cmd c = { 0 }, d;
	struct kvc_sqe sqe;
	bool valid = klen <= 16 && (klen > 0 || opc == KVC_KV_LIST);
	unsigned int i;
	int rc;

	c.opc = opc;
	c.klen = klen;
	for (i = 0; i < KVC_KV_MAX_KEY; i++)
		c.key[i] = (uint8_t)(0xa0 + i);
	rc = kvc_kv_encode(&sqe, &c);
	if (!valid) {
		ck_assert_int_eq(rc, -EINVAL);
		/* A device seeing this length in an SQE rejects it too. */
		memset(&sqe, 0, sizeof(sqe));
		sqe.opc = opc;
		kvc_sqe_bytes(&sqe)[KVC_KV_OFF_KL] = klen;
		ck_assert_int_eq(kvc_kv_decode(&sqe, &d), -EINVAL);
		return;
	}
	ck_assert_int_eq(rc, 0);
	/* Byte i of the key at SQE byte 8+i, then 56+(i-8); the rest zero. */
	for (i = 0; i < 16; i++) {
		uint8_t want = i < klen ? (uint8_t)(0xa0 + i) : 0;
		unsigned int off = i < 8 ? 8 + i : 56 + i - 8;

		ck_assert_uint_eq(kvc_sqe_bytes(&sqe)[off], want);
	}
	ck_assert_uint_eq(kvc_sqe_bytes(&sqe)[44], klen);
	ck_assert_int_eq(kvc_kv_decode(&sqe, &d), 0);
	ck_assert_uint_eq(d.klen, klen);
	ck_assert_mem_eq(d.key, c.key, klen);
}
END_TEST

START_TEST(option_bits)
{
	static const uint8_t opts[] = { KVC_STORE_MUST_EXIST, KVC_STORE_MUST_NOT_EXIST,
					KVC_STORE_COMPRESS_HINT, KVC_RETRIEVE_RAW, 0xff };
	struct kvc_kv_cmd c = store_cmd(), d;
	struct kvc_sqe sqe;
	unsigned int i;

	for (i = 0; i < sizeof(opts); i++) {
		c.opts = opts[i];
		ck_assert_int_eq(kvc_kv_encode(&sqe, &c), 0);
		ck_assert_uint_eq(kvc_sqe_bytes(&sqe)[45], opts[i]);
		/* Options never leak into KL or the reserved half of CDW11. */
		ck_assert_uint_eq(kvc_sqe_bytes(&sqe)[44], c.klen);
		ck_assert_uint_eq(kvc_sqe_bytes(&sqe)[46], 0);
		ck_assert_uint_eq(kvc_sqe_bytes(&sqe)[47], 0);
		kvc_kv_decode(&sqe, &d);
		ck_assert_uint_eq(d.opts, opts[i]);
	}
}
END_TEST

START_TEST(no_dptr_without_data)
{
	struct kvc_kv_cmd c = store_cmd();
	struct kvc_sqe sqe;
	unsigned int i;

	c.opc = KVC_KV_DELETE;
	ck_assert_int_eq(kvc_kv_encode(&sqe, &c), 0);
	for (i = 24; i < 40; i++)
		ck_assert_uint_eq(kvc_sqe_bytes(&sqe)[i], 0);
	c.opc = 0x05; /* not a KV opcode */
	ck_assert_int_eq(kvc_kv_encode(&sqe, &c), -EINVAL);
}
END_TEST

START_TEST(roundtrip)
{
	struct kvc_kv_cmd c = store_cmd(), d;
	struct kvc_sqe sqe;
	unsigned int k;

	for (k = 0; k < sizeof(kv_opcodes); k++) {
		c.opc = kv_opcodes[k];
		ck_assert_int_eq(kvc_kv_encode(&sqe, &c), 0);
		ck_assert_int_eq(kvc_kv_decode(&sqe, &d), 0);
		ck_assert_uint_eq(d.opc, c.opc);
		ck_assert_uint_eq(d.cid, c.cid);
		ck_assert_uint_eq(d.nsid, c.nsid);
		ck_assert_uint_eq(d.size, c.size);
		ck_assert_uint_eq(d.opts, c.opts);
		ck_assert_mem_eq(d.key, c.key, c.klen);
		if (kvc_opc_dir(c.opc) == KVC_DIR_NONE) {
			ck_assert_uint_eq(d.prp1, 0);
		} else {
			ck_assert_uint_eq(d.prp1, c.prp1);
			ck_assert_uint_eq(d.prp2, c.prp2);
		}
	}
}
END_TEST

/* List data for keys "a", "bcd", "0123456789abcdef", by hand. */
/* clang-format off */
static const uint8_t golden_list[36] = {
	0x03, 0x00, 0x00, 0x00,
	0x01, 0x00, 'a', 0x00,
	0x03, 0x00, 'b', 'c', 'd', 0x00, 0x00, 0x00,
	0x10, 0x00, '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'a', 'b', 'c', 'd',
	'e', 'f', 0x00, 0x00,
};
/* clang-format on */

START_TEST(list_writer_golden)
{
	struct kvc_list_writer w;
	uint8_t buf[64];

	memset(buf, 0xee, sizeof(buf));
	ck_assert_int_eq(kvc_list_writer_init(&w, buf, sizeof(buf)), 0);
	ck_assert_int_eq(kvc_list_writer_add(&w, "a", 1), 0);
	ck_assert_int_eq(kvc_list_writer_add(&w, "bcd", 3), 0);
	ck_assert_int_eq(kvc_list_writer_add(&w, "0123456789abcdef", 16), 0);
	ck_assert_uint_eq(kvc_list_writer_finish(&w), 36);
	ck_assert_mem_eq(buf, golden_list, 36);
	ck_assert_uint_eq(buf[36], 0xee); /* nothing written past the end */
}
END_TEST

START_TEST(list_writer_full)
{
	struct kvc_list_writer w;
	uint8_t buf[16];

	ck_assert_int_eq(kvc_list_writer_init(&w, buf, 15), 0);
	ck_assert_int_eq(kvc_list_writer_add(&w, "a", 1), 0);
	ck_assert_int_eq(kvc_list_writer_add(&w, "bcd", 3), -ENOSPC); /* needs 16 */
	ck_assert_int_eq(kvc_list_writer_add(&w, "", 0), -EINVAL);
	ck_assert_int_eq(kvc_list_writer_add(&w, "01234567890123456", 17), -EINVAL);
	ck_assert_uint_eq(kvc_list_writer_finish(&w), 8);
	ck_assert_uint_eq(kvc_get_le32(buf), 1);
	ck_assert_int_eq(kvc_list_writer_init(&w, buf, 3), -ENOSPC);
	ck_assert_int_eq(kvc_list_writer_add(&w, "a", 1), -ENOSPC);
	ck_assert_uint_eq(kvc_list_writer_finish(&w), 0);
}
END_TEST

START_TEST(list_reader_golden)
{
	struct kvc_list_reader r;
	const uint8_t *k;
	uint8_t kl;

	ck_assert_int_eq(kvc_list_reader_init(&r, golden_list, sizeof(golden_list)), 0);
	ck_assert_int_eq(kvc_list_reader_next(&r, &k, &kl), 1);
	ck_assert_uint_eq(kl, 1);
	ck_assert_mem_eq(k, "a", 1);
	ck_assert_int_eq(kvc_list_reader_next(&r, &k, &kl), 1);
	ck_assert_mem_eq(k, "bcd", 3);
	ck_assert_int_eq(kvc_list_reader_next(&r, &k, &kl), 1);
	ck_assert_uint_eq(kl, 16);
	ck_assert_mem_eq(k, "0123456789abcdef", 16);
	ck_assert_int_eq(kvc_list_reader_next(&r, &k, &kl), 0);
	ck_assert_int_eq(kvc_list_reader_next(&r, &k, &kl), 0);
}
END_TEST

/* Parse a heap copy of exactly @len bytes so ASan sees any overread. */
static int parse_all(const uint8_t *data, uint32_t len, uint32_t *nkeys)
{
	struct kvc_list_reader r;
	uint8_t *copy = malloc(len ? len : 1);
	const uint8_t *k;
	uint8_t kl;
	int rc;

	memcpy(copy, data, len);
	*nkeys = 0;
	rc = kvc_list_reader_init(&r, copy, len);
	while (rc == 0) {
		rc = kvc_list_reader_next(&r, &k, &kl);
		if (rc != 1)
			break;
		(*nkeys)++;
		rc = 0;
	}
	free(copy);
	return rc;
}

START_TEST(list_reader_truncated)
{
	uint32_t len, n;

	/* Every proper prefix of the golden buffer is an error, never a crash. */
	for (len = 0; len < sizeof(golden_list); len++)
		ck_assert_int_eq(parse_all(golden_list, len, &n), -EBADMSG);
	ck_assert_int_eq(parse_all(golden_list, sizeof(golden_list), &n), 0);
	ck_assert_uint_eq(n, 3);
}
END_TEST

START_TEST(list_reader_bad_counts_and_lengths)
{
	uint8_t b[36];
	uint32_t n;

	/* Count far larger than the buffer holds. */
	memcpy(b, golden_list, 36);
	kvc_put_le32(b, 0xffffffffu);
	ck_assert_int_eq(parse_all(b, 36, &n), -EBADMSG);
	ck_assert_uint_eq(n, 3);
	/* Key length 0 and 17. */
	memcpy(b, golden_list, 36);
	kvc_put_le16(b + 4, 0);
	ck_assert_int_eq(parse_all(b, 36, &n), -EBADMSG);
	kvc_put_le16(b + 4, 17);
	ck_assert_int_eq(parse_all(b, 36, &n), -EBADMSG);
	/* Odd padding: the second entry claims 5 bytes but the buffer ends at 4+4+7. */
	memcpy(b, golden_list, 36);
	kvc_put_le32(b, 2);
	kvc_put_le16(b + 8, 5);
	ck_assert_int_eq(parse_all(b, 15, &n), -EBADMSG);
	/* A huge key length near the end of the buffer. */
	memcpy(b, golden_list, 36);
	kvc_put_le16(b + 16, 0xffff);
	ck_assert_int_eq(parse_all(b, 36, &n), -EBADMSG);
	/* Count 0 with trailing bytes: nothing returned. */
	memcpy(b, golden_list, 36);
	kvc_put_le32(b, 0);
	ck_assert_int_eq(parse_all(b, 36, &n), 0);
	ck_assert_uint_eq(n, 0);
}
END_TEST

static Suite *kv_suite(void)
{
	Suite *s = suite_create("cmdset/kv");
	TCase *tc = tcase_create("kv");

	tcase_add_test(tc, store_golden);
	tcase_add_test(tc, decode_golden);
	tcase_add_loop_test(tc, key_length_boundaries, 0, 30);
	tcase_add_test(tc, option_bits);
	tcase_add_test(tc, no_dptr_without_data);
	tcase_add_test(tc, roundtrip);
	tcase_add_test(tc, list_writer_golden);
	tcase_add_test(tc, list_writer_full);
	tcase_add_test(tc, list_reader_golden);
	tcase_add_test(tc, list_reader_truncated);
	tcase_add_test(tc, list_reader_bad_counts_and_lengths);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(kv_suite)
