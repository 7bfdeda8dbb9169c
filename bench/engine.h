/* SPDX-License-Identifier: MIT */
/*
 * nvkv-bench engines: what a benchmark runs against.  Each worker thread gets
 * its own context; operations are submitted asynchronously (up to the
 * engine's queue depth) and complete through a callback from poll()/wait().
 * "kv" drives a KV device through libnvkv; "rocksdb" runs the same workload on
 * Debian's RocksDB as a host-side baseline; a host LSM and KVAccel can
 * implement the same table.
 */
#ifndef BENCH_ENGINE_H
#define BENCH_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cmdset/stats.h"

/* status: 0, or the engine's error (libnvkv: -errno / NVMe status). */
/* put()'s @xfer: a method, | this to refuse rather than fall back. */
#define BENCH_XFER_STRICT 0x100u

typedef void (*bench_cb)(void *arg, int status, uint32_t vlen);

struct bench_engine;

/* An engine's own counters, cumulative since it opened, for the per-interval
 * series (--report_interval_seconds; bench/series.h). */
struct bench_sample {
	uint64_t redirected;  /* writes sent to the device instead of the host LSM */
	uint64_t rolled_back; /* pairs moved back */
	uint64_t redirect_ns; /* device time of the redirected writes */
	uint64_t pcie_bytes;  /* the device's PCIe bytes, both directions */
};

struct bench_engine_ops {
	const char *name;
	bool target_is_db; /* opens --db (a directory), not --device */
	bool xfer_methods; /* put() honours --xfer: one pass per method */
	/* @target: device string or directory.  @qd: async depth per thread.
	 * @fresh: start from an empty store where the engine can (--db).
	 * @why on failure. */
	int (*open)(struct bench_engine *e, const char *target, unsigned int threads,
		    unsigned int qd, bool fresh, char *why, size_t whylen);
	void (*close)(struct bench_engine *e);
	int (*thread_open)(struct bench_engine *e, void **ctx);
	void (*thread_close)(void *ctx);
	/* Asynchronous; -EAGAIN when the context is full (poll, then retry). */
	int (*put)(void *ctx, const void *k, size_t kl, const void *v, size_t vl, unsigned int xfer,
		   bench_cb cb, void *arg);
	int (*get)(void *ctx, const void *k, size_t kl, void *buf, size_t bl, bench_cb cb,
		   void *arg);
	int (*del)(void *ctx, const void *k, size_t kl, bench_cb cb, void *arg);
	/* Synchronous: position at the first key >= @k, read it and @n more
	 * values; *@found: keys read, *@bytes: key + value bytes. */
	int (*seek)(void *ctx, const void *k, size_t kl, unsigned int n, unsigned int *found,
		    uint64_t *bytes);
	/* Optional: @n lookups as one call (db_bench's MultiGet), keys @kl bytes
	 * each at @keys, value i into @bufs[i] (@bl bytes), completing through
	 * @cb(@args[i]); the context holds max(qd, --batch_size) completions.
	 * NULL: the runner submits @n get()s and waits for them all. */
	int (*multiget)(void *ctx, unsigned int n, const uint8_t *keys, size_t kl,
			void *const *bufs, size_t bl, bench_cb cb, void *const *args);
	int (*poll)(void *ctx);			  /* completions reaped, or < 0 */
	int (*wait)(void *ctx, unsigned int min); /* ... waiting for @min */
	unsigned int (*inflight)(void *ctx);
	/* Device statistics, when the engine has a device; else NULL. */
	int (*device_stats)(struct bench_engine *e, struct kvc_stats_log *l);
	const char *(*strerror)(int rc);
	/* Why method @xfer does not carry a @vl-byte value itself ("" when it
	 * does), in @why; NULL for engines without methods. */
	void (*xfer_why)(struct bench_engine *e, unsigned int xfer, size_t kl, size_t vl, char *why,
			 size_t len);
	/*
	 * The clock every figure is timed with, ns: the device's (virtual on a
	 * simulated device).  NULL: CLOCK_MONOTONIC.  clock_virtual says which;
	 * sleep_ns lets that much of the clock pass (NULL: the thread sleeps).
	 */
	uint64_t (*clock_ns)(struct bench_engine *e);
	bool (*clock_virtual)(struct bench_engine *e);
	void (*sleep_ns)(struct bench_engine *e, uint64_t ns);
	/* The engine's own figures (since it opened): a text line, or JSON
	 * members each starting with ','.  NULL: none. */
	void (*report)(struct bench_engine *e, FILE *f, bool json);
	/* The device's libnvkv backend ("shm", "tcp", "uring", "sim"); NULL: none. */
	const char *(*backend)(struct bench_engine *e);
	/* Fill @s; 0 or -errno.  NULL: no figures beyond ops and latency.
	 * Called from the runner's monitor thread while workers run. */
	int (*sample)(struct bench_engine *e, struct bench_sample *s);
	/* Whether the engine's writes are stalled now (RocksDB stops or
	 * delays them; kvaccel's detector says so).  Polled by the monitor
	 * every 20 ms; NULL: never. */
	bool (*stalled)(struct bench_engine *e);
};

struct bench_cfg;

struct bench_engine {
	const struct bench_engine_ops *ops;
	void *priv;
	const struct bench_cfg *cfg; /* the run's flags (RocksDB tuning) */
};

extern const struct bench_engine_ops bench_engine_kv;
extern const struct bench_engine_ops bench_engine_rocksdb;
extern const struct bench_engine_ops bench_engine_kvaccel;

/* Apply the run's RocksDB flags to @opts (a rocksdb_options_t *) and @wo (a
 * rocksdb_writeoptions_t *, may be NULL), as --engine=rocksdb does. */
void bench_rocksdb_tune(void *opts, void *wo, const struct bench_cfg *c);

/* The engine called @name, or NULL. */
const struct bench_engine_ops *bench_engine_find(const char *name);

#endif /* BENCH_ENGINE_H */
