// SPDX-License-Identifier: MIT
/* RocksDB trace files: round trip, hand-made records, corrupt traces. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/trace.h"
#include "check_main.h"
#include "cmdset/le.h"

static char path[64];
static char err[256];

static void setup(void)
{
	snprintf(path, sizeof(path), "/tmp/nvkv-trace-%d.trace", (int)getpid());
}

static void teardown(void)
{
	unlink(path);
}

START_TEST(written_trace_reads_back)
{
	struct bench_trace_writer w;
	struct bench_trace_reader r;
	struct bench_trace_op op;

	ck_assert_int_eq(bench_trace_create(&w, path), 0);
	bench_trace_record(&w, BENCH_TR_PUT, "key1", 4, "value-1", 7);
	bench_trace_record(&w, BENCH_TR_GET, "key2", 4, NULL, 0);
	bench_trace_record(&w, BENCH_TR_DELETE, "k3", 2, NULL, 0);
	bench_trace_record(&w, BENCH_TR_SEEK, "k4", 2, NULL, 0);
	bench_trace_record(&w, BENCH_TR_PUT, "empty", 5, "", 0);
	ck_assert_int_eq(bench_trace_finish(&w), 0);

	ck_assert_int_eq(bench_trace_open(&r, path, err, sizeof(err)), 0);
	ck_assert_int_eq(r.version, 2);
	ck_assert_int_eq(bench_trace_next(&r, &op, err, sizeof(err)), 1);
	ck_assert_int_eq(op.kind, BENCH_TR_PUT);
	ck_assert_mem_eq(op.key, "key1", 4);
	ck_assert_uint_eq(op.vlen, 7);
	ck_assert_mem_eq(op.val, "value-1", 7);
	ck_assert_int_eq(bench_trace_next(&r, &op, err, sizeof(err)), 1);
	ck_assert_int_eq(op.kind, BENCH_TR_GET);
	ck_assert_mem_eq(op.key, "key2", 4);
	ck_assert_int_eq(bench_trace_next(&r, &op, err, sizeof(err)), 1);
	ck_assert_int_eq(op.kind, BENCH_TR_DELETE);
	ck_assert_uint_eq(op.klen, 2);
	ck_assert_int_eq(bench_trace_next(&r, &op, err, sizeof(err)), 1);
	ck_assert_int_eq(op.kind, BENCH_TR_SEEK);
	ck_assert_int_eq(bench_trace_next(&r, &op, err, sizeof(err)), 1);
	ck_assert_uint_eq(op.vlen, 0);
	ck_assert_int_eq(bench_trace_next(&r, &op, err, sizeof(err)), 0);
	bench_trace_close(&r);
}
END_TEST

/* A trace assembled by hand from the format: header, a write batch with
 * two puts (one with a column family) and a delete, a MultiGet of two keys,
 * a record type we do not replay, the end. */
static size_t hand_trace(uint8_t *b)
{
	static const char hdr[] = "feedcafedeadbeef\tTrace Version: 0.2\tRocksDB Version: 7.8\t"
				  "Format: Timestamp OpType Payload\n";
	size_t n = 0, p0;

#define REC(type) (kvc_put_le64(b + n, 1000), b[n + 8] = (type), p0 = n + 13, n += 13)
#define END_REC() kvc_put_le32(b + p0 - 4, (uint32_t)(n - p0))
	REC(1);
	memcpy(b + n, hdr, sizeof(hdr) - 1);
	n += sizeof(hdr) - 1;
	END_REC();
	REC(3);
	kvc_put_le64(b + n, 2); /* field map: bit 1 */
	n += 8;
	b[n++] = 12 + 1 + 1 + 1 + 1 + 2 + 1 + 1 + 1 + 2 + 2 + 1 + 1 + 1; /* batch length (< 128) */
	kvc_put_le64(b + n, 77);
	kvc_put_le32(b + n + 8, 3);
	n += 12;
	memcpy(b + n,
	       "\x01\x01"
	       "a"
	       "\x02"
	       "xy",
	       6); /* put a=xy */
	n += 6;
	memcpy(b + n,
	       "\x05\x09\x01"
	       "b"
	       "\x02"
	       "zz",
	       7); /* cf 9 put b=zz */
	n += 7;
	memcpy(b + n,
	       "\x00\x01"
	       "c",
	       3); /* delete c */
	n += 3;
	END_REC();
	REC(13);
	kvc_put_le64(b + n, 0x700); /* bits 8, 9, 10 */
	n += 8;
	kvc_put_le32(b + n, 2);
	n += 4;
	b[n++] = 8; /* cf ids */
	memset(b + n, 0, 8);
	n += 8;
	b[n++] = 6; /* keys */
	memcpy(b + n,
	       "\x02"
	       "k1"
	       "\x02"
	       "k2",
	       6);
	n += 6;
	END_REC();
	REC(99); /* unknown: skipped */
	b[n++] = 0;
	END_REC();
	REC(2);
	END_REC();
	return n;
}

START_TEST(hand_made_records)
{
	uint8_t *b = calloc(1, 1024);
	size_t n = hand_trace(b);
	struct bench_trace_reader r;
	struct bench_trace_op op;

	ck_assert_int_eq(bench_trace_open_mem(&r, b, n, err, sizeof(err)), 0);
	/* Opening checked and counted everything, then rewound. */
	ck_assert_uint_eq(r.count[BENCH_TR_PUT], 2);
	ck_assert_uint_eq(r.count[BENCH_TR_DELETE], 1);
	ck_assert_uint_eq(r.count[BENCH_TR_GET], 2);
	ck_assert_uint_eq(r.count[BENCH_TR_SEEK], 0);
	ck_assert_int_eq(bench_trace_next(&r, &op, err, sizeof(err)), 1);
	ck_assert(op.kind == BENCH_TR_PUT && op.klen == 1 && op.key[0] == 'a' && op.vlen == 2);
	ck_assert_int_eq(bench_trace_next(&r, &op, err, sizeof(err)), 1);
	ck_assert(op.kind == BENCH_TR_PUT && op.key[0] == 'b' && !memcmp(op.val, "zz", 2));
	ck_assert_int_eq(bench_trace_next(&r, &op, err, sizeof(err)), 1);
	ck_assert(op.kind == BENCH_TR_DELETE && op.key[0] == 'c');
	ck_assert_int_eq(bench_trace_next(&r, &op, err, sizeof(err)), 1);
	ck_assert(op.kind == BENCH_TR_GET && !memcmp(op.key, "k1", 2));
	ck_assert_int_eq(bench_trace_next(&r, &op, err, sizeof(err)), 1);
	ck_assert(op.kind == BENCH_TR_GET && !memcmp(op.key, "k2", 2));
	ck_assert_int_eq(bench_trace_next(&r, &op, err, sizeof(err)), 0);
	ck_assert_uint_eq(r.skipped, 1);
	bench_trace_close(&r);
}
END_TEST

/* Parse @b of @n bytes to the end: 0 when clean, else the error. */
static int parse(const uint8_t *src, size_t n)
{
	uint8_t *b = malloc(n ? n : 1);
	struct bench_trace_reader r;
	struct bench_trace_op op;
	int rc;

	memcpy(b, src, n);
	err[0] = 0;
	rc = bench_trace_open_mem(&r, b, n, err, sizeof(err));
	while (!rc && (rc = bench_trace_next(&r, &op, err, sizeof(err))) == 1)
		rc = 0;
	if (rc == 0 || rc == -EBADMSG)
		bench_trace_close(&r);
	else
		free(b);
	return rc;
}

START_TEST(corrupt_traces_are_rejected_with_offsets)
{
	uint8_t *b = calloc(1, 1024), *c = calloc(1, 1024);
	size_t n = hand_trace(b), i;

	ck_assert_int_eq(parse(b, n), 0);
	/* Every truncation inside a record is reported with a byte offset;
	 * cutting exactly between records is a clean (if early) end. */
	for (i = 0; i < n; i++) {
		int rc = parse(b, i);

		if (rc) {
			ck_assert_int_eq(rc, -EBADMSG);
			ck_assert_ptr_nonnull(strstr(err, "byte offset"));
		}
	}
	ck_assert_int_eq(parse(b, 5), -EBADMSG);
	/* Wrong magic, wrong first type. */
	memcpy(c, b, n);
	c[13] = 'X';
	ck_assert_int_eq(parse(c, n), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(err, "magic"));
	memcpy(c, b, n);
	c[8] = 3;
	ck_assert_int_eq(parse(c, n), -EBADMSG);
	/* A batch announcing more records than it holds. */
	memcpy(c, b, n);
	{
		size_t w = 13 + kvc_get_le32(b + 9); /* the write record */

		kvc_put_le32(c + w + 13 + 8 + 1 + 8, 9);
		ck_assert_int_eq(parse(c, n), -EBADMSG);
		ck_assert_ptr_nonnull(strstr(err, "byte offset"));
		/* ... and opening alone refuses it: nothing would have run. */
		{
			uint8_t *d = malloc(n);
			struct bench_trace_reader r;

			memcpy(d, c, n);
			ck_assert_int_eq(bench_trace_open_mem(&r, d, n, err, sizeof(err)),
					 -EBADMSG);
			free(d);
		}
		/* An unsupported write batch tag. */
		memcpy(c, b, n);
		c[w + 13 + 8 + 1 + 12] = 0x42;
		ck_assert_int_eq(parse(c, n), -EBADMSG);
		/* A payload length running past the file. */
		memcpy(c, b, n);
		kvc_put_le32(c + w + 9, 100000);
		ck_assert_int_eq(parse(c, n), -EBADMSG);
		ck_assert_ptr_nonnull(strstr(err, "past the end"));
	}
	free(b);
	free(c);
}
END_TEST

START_TEST(missing_file)
{
	struct bench_trace_reader r;

	ck_assert_int_eq(bench_trace_open(&r, "/nonexistent/trace", err, sizeof(err)), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/trace"));
}
END_TEST

static Suite *trace_suite(void)
{
	Suite *s = suite_create("bench/trace");
	TCase *tc = tcase_create("trace");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, written_trace_reads_back);
	tcase_add_test(tc, hand_made_records);
	tcase_add_test(tc, corrupt_traces_are_rejected_with_offsets);
	tcase_add_test(tc, missing_file);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(trace_suite)
