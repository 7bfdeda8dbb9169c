/* SPDX-License-Identifier: MIT */
/*
 * nvkv-bench's per-interval series (db_bench's --report_interval_seconds and
 * --report_file): operations and P99 latency per interval for every engine,
 * and, for engines that sample themselves (kvaccel), writes redirected,
 * pairs rolled back, the stall state, device time and PCIe bytes per
 * interval.  Workers count into lock-free counters; the runner's monitor
 * loop closes an interval every N seconds of the run's clock.
 */
#ifndef BENCH_SERIES_H
#define BENCH_SERIES_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cmdset/stats.h"
#include "engine.h"

/* One interval: the counters are this interval's. */
struct bench_ivl {
	uint64_t secs; /* since the benchmark started, rounded to seconds (db_bench) */
	double len;    /* seconds this interval covered */
	uint64_t ops;
	double p99_us;	/* of the operations completed in it (0: none) */
	double stalled; /* fraction of the monitor's polls that found the engine stalled */
	bool sampled;	/* @s holds the engine's figures */
	struct bench_sample s;
};

struct bench_series {
	uint64_t every_ns; /* 0: off */
	uint64_t t0, last; /* start of the benchmark and of the open interval */
	atomic_ullong ops;
	atomic_ullong lat[KVC_LAT_BUCKETS];
	struct bench_engine *e;
	bool sampling;		/* the engine samples; prev holds its last figures */
	uint64_t polls, stalls; /* of the open interval */
	struct bench_sample prev;
	struct bench_ivl *rows;
	size_t n, cap;
	int err; /* -ENOMEM: rows were lost */
};

/* Start a series of @every_s-second intervals at @t0 (0: the series is off). */
void bench_series_start(struct bench_series *s, struct bench_engine *e, int64_t every_s,
			uint64_t t0);
/* Workers: @n operations counted (as the result counts them), one latency. */
static inline void bench_series_ops(struct bench_series *s, uint64_t n)
{
	if (s->every_ns)
		atomic_fetch_add_explicit(&s->ops, n, memory_order_relaxed);
}

static inline void bench_series_lat(struct bench_series *s, uint64_t ns)
{
	if (s->every_ns)
		atomic_fetch_add_explicit(&s->lat[kvc_lat_bucket(ns)], 1, memory_order_relaxed);
}

/* The monitor, every 20 ms: poll the engine's stall state; close every
 * interval that ended by @now. */
void bench_series_tick(struct bench_series *s, uint64_t now);
/* After the workers: the rest since the last interval, folded into the last
 * row when it rounds to the same second, so the rows sum to every op. */
void bench_series_finish(struct bench_series *s, uint64_t now);
void bench_series_free(struct bench_series *s);

/* db_bench's report file: "secs_elapsed,interval_qps", one row per interval
 * (operations in it, as db_bench writes them).  0 or -errno. */
int bench_series_csv(const struct bench_series *s, const char *path);
/* ,"series":{...} for the run's JSON object: column arrays. */
void bench_series_json(FILE *f, const struct bench_series *s);

#endif /* BENCH_SERIES_H */
