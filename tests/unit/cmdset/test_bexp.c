// SPDX-License-Identifier: MIT
/* ByteExpress format: golden command and chunks, split/reassemble. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "cmdset/cmdset.h"

START_TEST(golden_command_and_chunks)
{
	struct kvc_kv_cmd c = { 0 };
	struct kvc_sqe sqe;
	uint8_t v[100], want[64], slot[64];
	unsigned int i;

	for (i = 0; i < 100; i++)
		v[i] = (uint8_t)(200 - i);
	c.cid = 0x0102;
	c.nsid = 3;
	c.klen = 9;
	memcpy(c.key, "ninebytes", 9);
	c.size = 100;
	c.opts = KVC_STORE_MUST_EXIST;
	c.prp1 = 0xdead000; /* ignored: the value never travels by PRP */

	memset(want, 0, 64);
	want[0] = 0xc8;
	want[2] = 0x02;
	want[3] = 0x01;
	want[4] = 3;
	memcpy(want + 8, "ninebyte", 8);
	want[40] = 100;
	want[44] = 9;
	want[45] = 0x01;
	want[56] = 's';
	ck_assert_int_eq(kvc_bx_encode(&sqe, &c), 0);
	ck_assert_mem_eq(&sqe, want, 64);
	ck_assert_uint_eq(kvc_opc_dir(sqe.opc), KVC_DIR_NONE);

	ck_assert_uint_eq(kvc_bx_chunks(100), 2);
	kvc_bx_fill_chunk(slot, v, 100, 0);
	ck_assert_mem_eq(slot, v, 64);
	memset(slot, 0xaa, 64);
	kvc_bx_fill_chunk(slot, v, 100, 1);
	ck_assert_mem_eq(slot, v + 64, 36);
	for (i = 36; i < 64; i++)
		ck_assert_uint_eq(slot[i], 0);
}
END_TEST

START_TEST(chunk_counts)
{
	ck_assert_uint_eq(kvc_bx_chunks(0), 0);
	ck_assert_uint_eq(kvc_bx_chunks(1), 1);
	ck_assert_uint_eq(kvc_bx_chunks(64), 1);
	ck_assert_uint_eq(kvc_bx_chunks(65), 2);
	ck_assert_uint_eq(kvc_bx_chunks(4096), 64);
	ck_assert_uint_eq(kvc_bx_chunks(4097), 65);
}
END_TEST

static void roundtrip(uint32_t size)
{
	uint8_t *v = malloc(size + 1), *out = malloc(size + 1);
	uint32_t n = kvc_bx_chunks(size), i, got = 0;
	uint8_t *ring = malloc((size_t)(n + 1) * 64);
	struct kvc_kv_cmd c = { 0 }, d;

	for (i = 0; i < size; i++)
		v[i] = (uint8_t)(i ^ 0x5a);
	c.klen = 4;
	memcpy(c.key, "key!", 4);
	c.size = size;
	ck_assert_int_eq(kvc_bx_encode((struct kvc_sqe *)ring, &c), 0);
	for (i = 0; i < n; i++)
		kvc_bx_fill_chunk(ring + 64 * (i + 1), v, size, i);
	/* Device side: the command decodes like a KV Store. */
	ck_assert_int_eq(kvc_kv_decode((struct kvc_sqe *)ring, &d), 0);
	ck_assert_uint_eq(d.size, size);
	for (i = 0; i < kvc_bx_chunks(d.size); i++)
		got += kvc_bx_take_chunk(ring + 64 * (i + 1), out, d.size, i);
	ck_assert_uint_eq(got, size);
	if (size)
		ck_assert_mem_eq(out, v, size);
	free(v);
	free(out);
	free(ring);
}

START_TEST(roundtrip_small)
{
	roundtrip((uint32_t)_i);
}
END_TEST

START_TEST(roundtrip_large)
{
	roundtrip(4095);
	roundtrip(4096);
	roundtrip(4097);
	roundtrip(65536);
}
END_TEST

START_TEST(bad_key)
{
	struct kvc_kv_cmd c = { 0 };
	struct kvc_sqe sqe;

	c.klen = 0;
	ck_assert_int_eq(kvc_bx_encode(&sqe, &c), -EINVAL);
	c.klen = 17;
	ck_assert_int_eq(kvc_bx_encode(&sqe, &c), -EINVAL);
}
END_TEST

static Suite *bexp_suite(void)
{
	Suite *s = suite_create("cmdset/bexp");
	TCase *tc = tcase_create("bexp");

	tcase_add_test(tc, golden_command_and_chunks);
	tcase_add_test(tc, chunk_counts);
	tcase_add_loop_test(tc, roundtrip_small, 0, 301);
	tcase_add_test(tc, roundtrip_large);
	tcase_add_test(tc, bad_key);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(bexp_suite)
