/* SPDX-License-Identifier: MIT */
/*
 * RocksDB trace files (what db_bench --trace_file writes, format 0.2): read
 * for replay, and written by any nvkv-bench run given --trace_file.
 *
 * Record: fixed64 timestamp (us) | u8 type | fixed32 payload length |
 * payload, little-endian.  Types: 1 begin (payload: "feedcafedeadbeef\t
 * Trace Version: 0.2\tRocksDB Version: ...\t..."), 2 end, 3 write, 4 get,
 * 5 iterator seek, 6 seek-for-prev, 13 multiget.  Query payloads start with a
 * fixed64 map of the fields present, then the fields in bit order:
 * 1 WriteBatch data (varint32-prefixed), 2 Get CF id (fixed32), 3 Get key,
 * 4 iterator CF id, 5 iterator key, 6/7 iterator bounds, 8 MultiGet count
 * (fixed32), 9 CF ids and 10 keys (each a varint32-prefixed block).
 * WriteBatch: fixed64 sequence, fixed32 count, then records tagged 0x1 put,
 * 0x0 delete, 0x7 single delete, 0x5/0x4/0x8 the same with a varint32 CF id,
 * 0x2/0x6 merge, 0x3 log data, 0xd no-op; lengths are varint32.
 */
#ifndef BENCH_TRACE_H
#define BENCH_TRACE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum bench_trace_kind {
	BENCH_TR_PUT,
	BENCH_TR_DELETE,
	BENCH_TR_GET,
	BENCH_TR_SEEK,
	BENCH_TR_MERGE, /* counted, not replayed: a KV device has no merge */
};

struct bench_trace_op {
	enum bench_trace_kind kind;
	uint64_t ts_us;
	const uint8_t *key; /* points into the trace; valid while it is open */
	size_t klen;
	const uint8_t *val;
	size_t vlen;
};

struct bench_trace_reader {
	uint8_t *data;
	size_t len;
	size_t off;	/* next record */
	size_t rec_off; /* record being decoded, for messages */
	int version;	/* 0.2 -> 2 */
	/* a record that expands to several operations */
	uint8_t type;
	uint64_t ts;
	const uint8_t *p, *end; /* remaining payload */
	uint32_t left;		/* operations left in the record */
	const uint8_t *mg_keys, *mg_keys_end;
	uint64_t skipped;		    /* records of types we do not replay */
	size_t first;			    /* first record after the header */
	uint64_t count[BENCH_TR_MERGE + 1]; /* operations in the trace, by kind */
};

/* Start over from the first record. */
void bench_trace_rewind(struct bench_trace_reader *r);

/**
 * bench_trace_open() - read a trace file and check all of it (header and every
 * record), filling @r->count.
 * Return: 0, or -errno with a message in @err (byte offsets for corruption).
 */
int bench_trace_open(struct bench_trace_reader *r, const char *path, char *err, size_t errlen);
/* Parse a trace already in memory; @data becomes the reader's: it must come
 * from malloc() (bench_trace_close() frees it). */
int bench_trace_open_mem(struct bench_trace_reader *r, const uint8_t *data, size_t len, char *err,
			 size_t errlen);
/* Return: 1 with an operation, 0 at the end, -EBADMSG (message in @err). */
int bench_trace_next(struct bench_trace_reader *r, struct bench_trace_op *op, char *err,
		     size_t errlen);
void bench_trace_close(struct bench_trace_reader *r);

struct bench_trace_writer {
	FILE *f;
	pthread_mutex_t lock;
	uint64_t records;
	int err;
};

int bench_trace_create(struct bench_trace_writer *w, const char *path);
/* Thread-safe. */
void bench_trace_record(struct bench_trace_writer *w, enum bench_trace_kind kind, const void *key,
			size_t klen, const void *val, size_t vlen);
/* Write the end record and close; returns 0 or -errno. */
int bench_trace_finish(struct bench_trace_writer *w);

#endif /* BENCH_TRACE_H */
