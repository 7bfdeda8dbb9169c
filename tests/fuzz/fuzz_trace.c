// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the RocksDB trace reader of nvkv-bench (bench/trace.c).
 * The input is a whole trace file.  Invariants: no sanitizer report; every
 * key and value handed out lies inside the trace; a trace the reader accepts
 * replays without error, twice, with the operation counts bench_trace_open()
 * announced (replay trusts that check).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/trace.h"

#define CHECK(cond)                                                                          \
	do {                                                                                 \
		if (!(cond)) {                                                               \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, \
				#cond);                                                      \
			abort();                                                             \
		}                                                                            \
	} while (0)

static void inside(const uint8_t *base, size_t len, const uint8_t *p, size_t n)
{
	CHECK(n == 0 || (p >= base && p <= base + len && n <= (size_t)(base + len - p)));
}

static void replay(struct bench_trace_reader *r, const uint8_t *buf, size_t len)
{
	uint64_t count[BENCH_TR_MERGE + 1] = { 0 };
	struct bench_trace_op op;
	char err[256];
	int rc;

	while ((rc = bench_trace_next(r, &op, err, sizeof(err))) == 1) {
		CHECK(op.kind <= BENCH_TR_MERGE);
		inside(buf, len, op.key, op.klen);
		inside(buf, len, op.val, op.vlen);
		count[op.kind]++;
	}
	CHECK(rc == 0);
	CHECK(!memcmp(count, r->count, sizeof(count)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bench_trace_reader r;
	uint8_t *buf = malloc(size ? size : 1);
	char err[256];
	int rc;

	CHECK(buf);
	memcpy(buf, data, size); /* exact size: ASan sees any read past the end */
	rc = bench_trace_open_mem(&r, buf, size, err, sizeof(err));
	if (rc) {
		CHECK(rc == -EBADMSG && err[0]);
	} else {
		replay(&r, buf, size);
		bench_trace_rewind(&r);
		replay(&r, buf, size);
	}
	bench_trace_close(&r); /* frees buf, accepted or not */
	return 0;
}
