// SPDX-License-Identifier: MIT
/* BandSlim piggyback format: golden bytes, capacities, split/reassemble. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "cmdset/cmdset.h"

static uint8_t pattern(uint32_t i)
{
	return (uint8_t)(i * 7 + 1);
}

static void fill_value(uint8_t *v, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		v[i] = pattern(i);
}

static struct kvc_bs_store store(uint8_t opc, const char *key, uint32_t size, uint8_t opts)
{
	struct kvc_bs_store s = { 0 };

	s.opc = opc;
	s.klen = (uint8_t)strlen(key);
	memcpy(s.key, key, s.klen);
	s.size = size;
	s.opts = opts;
	s.nsid = 1;
	s.tag = 0xbeef;
	return s;
}

/* Head and transfer for a 50-byte value, key "k1", written from the table in
 * bandslim.h: value byte i is i + 1. */
START_TEST(golden_full_layout)
{
	uint8_t v[50], want[64];
	struct kvc_bs_store s = store(KVC_BS_STORE, "k1", 50, 0);
	struct kvc_sqe sqe;
	unsigned int i;

	for (i = 0; i < 50; i++)
		v[i] = (uint8_t)(i + 1);
	ck_assert_uint_eq(kvc_bs_cmd_count(&s), 2);

	memset(want, 0, 64);
	want[0] = 0xc0;
	want[2] = 7;
	want[4] = 1;
	want[8] = 'k';
	want[9] = '1';
	for (i = 0; i < 24; i++)
		want[16 + i] = (uint8_t)(1 + i); /* value 0-23 in MPTR+DPTR */
	want[40] = 50;
	want[44] = 2;
	want[46] = 0xef;
	want[47] = 0xbe;
	for (i = 0; i < 8; i++) {
		want[48 + i] = (uint8_t)(25 + i); /* value 24-31 */
		want[56 + i] = (uint8_t)(33 + i); /* value 32-39: key fits in 8 bytes */
	}
	ck_assert_int_eq(kvc_bs_encode(&sqe, &s, 0, v, 7), 0);
	ck_assert_mem_eq(&sqe, want, 64);

	memset(want, 0, 64);
	want[0] = 0xc4;
	want[2] = 8;
	want[4] = 1;
	want[8] = 0xef;
	want[9] = 0xbe;
	for (i = 0; i < 10; i++)
		want[10 + i] = (uint8_t)(41 + i); /* value 40-49 */
	ck_assert_int_eq(kvc_bs_encode(&sqe, &s, 1, v, 8), 0);
	ck_assert_mem_eq(&sqe, want, 64);
	ck_assert_int_eq(kvc_bs_encode(&sqe, &s, 2, v, 9), -EINVAL);
}
END_TEST

START_TEST(golden_long_key_and_narrow)
{
	uint8_t v[20], want[64];
	struct kvc_bs_store s = store(KVC_BS_STORE, "0123456789", 20, KVC_BS_OPT_NARROW);
	struct kvc_sqe sqe;
	unsigned int i;

	for (i = 0; i < 20; i++)
		v[i] = (uint8_t)(i + 1);
	/* Narrow, 10-byte key: the head carries 48-55 only (8 B), the transfer 12. */
	ck_assert_uint_eq(kvc_bs_cmd_count(&s), 2);
	memset(want, 0, 64);
	want[0] = 0xc0;
	want[4] = 1;
	memcpy(want + 8, "01234567", 8);
	want[40] = 20;
	want[44] = 10;
	want[45] = 0x80;
	want[46] = 0xef;
	want[47] = 0xbe;
	for (i = 0; i < 8; i++)
		want[48 + i] = (uint8_t)(1 + i);
	want[56] = '8';
	want[57] = '9';
	ck_assert_int_eq(kvc_bs_encode(&sqe, &s, 0, v, 0), 0);
	ck_assert_mem_eq(&sqe, want, 64);

	memset(want, 0, 64);
	want[0] = 0xc4;
	want[2] = 1;
	want[4] = 1;
	want[8] = 0xef;
	want[9] = 0xbe;
	for (i = 0; i < 6; i++)
		want[10 + i] = (uint8_t)(9 + i); /* value 8-13 in CDW2-3 */
	for (i = 0; i < 6; i++)
		want[40 + i] = (uint8_t)(15 + i); /* value 14-19 from CDW10 on */
	ck_assert_int_eq(kvc_bs_encode(&sqe, &s, 1, v, 1), 0);
	ck_assert_mem_eq(&sqe, want, 64);
}
END_TEST

/* Capacities as documented in bandslim.h, independent of the encoder. */
static uint32_t doc_head_cap(uint8_t opc, uint8_t klen, bool narrow)
{
	if (narrow)
		return klen <= 8 ? 16 : 8;
	if (opc == KVC_BS_STORE_PRP)
		return klen <= 8 ? 24 : 16;
	return klen <= 8 ? 40 : 32;
}

static uint32_t doc_count(uint8_t opc, uint8_t klen, bool narrow, uint32_t size)
{
	uint32_t inl = opc == KVC_BS_STORE_PRP ? size % 4096 : size;
	uint32_t head = doc_head_cap(opc, klen, narrow), x = narrow ? 30 : 54;

	return inl <= head ? 1 : 1 + (inl - head + x - 1) / x;
}

START_TEST(capacities)
{
	ck_assert_uint_eq(kvc_bs_xfer_cap(false), 54);
	ck_assert_uint_eq(kvc_bs_xfer_cap(true), 30);
	for (uint8_t k = 1; k <= 16; k++) {
		for (int n = 0; n < 2; n++) {
			ck_assert_uint_eq(kvc_bs_head_cap(KVC_BS_STORE, k, n),
					  doc_head_cap(KVC_BS_STORE, k, n));
			ck_assert_uint_eq(kvc_bs_head_cap(KVC_BS_STORE_PRP, k, n),
					  doc_head_cap(KVC_BS_STORE_PRP, k, n));
		}
	}
}
END_TEST

/* Device-side reassembly of an encoded sequence. */
static void split_and_reassemble(uint8_t opc, const char *key, uint32_t size, bool narrow)
{
	struct kvc_bs_store s = store(opc, key, size, narrow ? KVC_BS_OPT_NARROW : 0), h;
	uint32_t prp = kvc_bs_prp_len(opc, size), inl = size - prp, ncmd, got, i;
	uint8_t *v = malloc(size + 1), *out = malloc(inl + 1);
	struct kvc_sqe sqe;
	int n;

	fill_value(v, size);
	ncmd = kvc_bs_cmd_count(&s);
	ck_assert_uint_eq(ncmd, doc_count(opc, s.klen, narrow, size));

	ck_assert_int_eq(kvc_bs_encode(&sqe, &s, 0, v, 100), 0);
	n = kvc_bs_decode_head(&sqe, &h, out, inl);
	ck_assert_int_ge(n, 0);
	got = (uint32_t)n;
	ck_assert_uint_eq(h.size, size);
	ck_assert_uint_eq(h.klen, s.klen);
	ck_assert_mem_eq(h.key, s.key, s.klen);
	ck_assert_uint_eq(h.tag, 0xbeef);
	for (i = 1; i < ncmd; i++) {
		ck_assert_int_eq(kvc_bs_encode(&sqe, &s, i, v, (uint16_t)(100 + i)), 0);
		ck_assert_uint_eq(sqe.opc, KVC_BS_XFER);
		ck_assert_uint_eq(kvc_bs_xfer_tag(&sqe), 0xbeef);
		ck_assert_uint_lt(got, inl);
		got += kvc_bs_decode_xfer(&sqe, narrow, out + got, inl - got);
	}
	ck_assert_uint_eq(got, inl);
	if (inl)
		ck_assert_mem_eq(out, v + prp, inl);
	free(v);
	free(out);
}

START_TEST(split_small_sizes)
{
	uint32_t size = (uint32_t)_i;

	split_and_reassemble(KVC_BS_STORE, "abcd", size, false);
	split_and_reassemble(KVC_BS_STORE, "abcd", size, true);
	split_and_reassemble(KVC_BS_STORE, "0123456789abcdef", size, false);
	split_and_reassemble(KVC_BS_STORE, "0123456789abcdef", size, true);
}
END_TEST

START_TEST(split_large_sizes)
{
	static const uint32_t sizes[] = { 1000, 2048, 4095, 4096, 4097, 8191, 65536 + 7 };
	unsigned int i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		split_and_reassemble(KVC_BS_STORE, "k", sizes[i], false);
		split_and_reassemble(KVC_BS_STORE, "0123456789", sizes[i], true);
		split_and_reassemble(KVC_BS_STORE_PRP, "k", sizes[i], false);
		split_and_reassemble(KVC_BS_STORE_PRP, "0123456789abcdef", sizes[i], true);
	}
}
END_TEST

START_TEST(prp_head_fields)
{
	uint8_t v[4106];
	struct kvc_bs_store s = store(KVC_BS_STORE_PRP, "key", 4106, KVC_STORE_MUST_EXIST), h;
	struct kvc_sqe sqe;
	uint8_t tail[10];

	fill_value(v, sizeof(v));
	s.prp1 = 0x5000;
	s.prp2 = 0x7000;
	ck_assert_uint_eq(kvc_bs_prp_len(KVC_BS_STORE_PRP, 4106), 4096);
	ck_assert_uint_eq(kvc_bs_cmd_count(&s), 1);
	ck_assert_int_eq(kvc_bs_encode(&sqe, &s, 0, v, 1), 0);
	ck_assert_uint_eq(kvc_opc_dir(sqe.opc), KVC_DIR_H2D);
	ck_assert_uint_eq(kvc_sqe_prp1(&sqe), 0x5000);
	ck_assert_uint_eq(kvc_sqe_prp2(&sqe), 0x7000);
	ck_assert_int_eq(kvc_bs_decode_head(&sqe, &h, tail, sizeof(tail)), 10);
	ck_assert_mem_eq(tail, v + 4096, 10);
	ck_assert_uint_eq(h.opts, KVC_STORE_MUST_EXIST);
	/* The tail's first 8 bytes sit in MPTR. */
	ck_assert_mem_eq(kvc_sqe_bytes(&sqe) + 16, v + 4096, 8);
}
END_TEST

START_TEST(direction_bits)
{
	ck_assert_uint_eq(kvc_opc_dir(KVC_BS_STORE), KVC_DIR_NONE);
	ck_assert_uint_eq(kvc_opc_dir(KVC_BS_XFER), KVC_DIR_NONE);
	ck_assert_uint_eq(kvc_opc_dir(KVC_BS_STORE_PRP), KVC_DIR_H2D);
	ck_assert_uint_ge(KVC_BS_STORE, 0x80);
}
END_TEST

START_TEST(bad_key_length)
{
	uint8_t v[8] = { 0 }, buf[64];
	struct kvc_bs_store s = store(KVC_BS_STORE, "", 8, 0), h;
	struct kvc_sqe sqe;

	ck_assert_int_eq(kvc_bs_encode(&sqe, &s, 0, v, 0), -EINVAL);
	s.klen = 17;
	ck_assert_int_eq(kvc_bs_encode(&sqe, &s, 0, v, 0), -EINVAL);
	s.klen = 4;
	ck_assert_int_eq(kvc_bs_encode(&sqe, &s, 0, v, 0), 0);
	kvc_sqe_bytes(&sqe)[44] = 17;
	ck_assert_int_eq(kvc_bs_decode_head(&sqe, &h, buf, sizeof(buf)), -EINVAL);
	s.opc = KVC_KV_STORE;
	ck_assert_int_eq(kvc_bs_encode(&sqe, &s, 0, v, 0), -EINVAL);
}
END_TEST

static Suite *bandslim_suite(void)
{
	Suite *s = suite_create("cmdset/bandslim");
	TCase *tc = tcase_create("bandslim");

	tcase_add_test(tc, golden_full_layout);
	tcase_add_test(tc, golden_long_key_and_narrow);
	tcase_add_test(tc, capacities);
	tcase_add_loop_test(tc, split_small_sizes, 0, 301);
	tcase_add_test(tc, split_large_sizes);
	tcase_add_test(tc, prp_head_fields);
	tcase_add_test(tc, direction_bits);
	tcase_add_test(tc, bad_key_length);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(bandslim_suite)
