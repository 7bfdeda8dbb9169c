/* SPDX-License-Identifier: MIT */
/*
 * Latency histograms of nvkv-bench: nanosecond samples in the device
 * statistics' log-linear buckets (cmdset/stats.h), with db_bench's text block
 * and a JSON form.
 */
#ifndef BENCH_HIST_H
#define BENCH_HIST_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "cmdset/stats.h"

/* The monotonic clock latency samples are taken with, in ns. */
static inline uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct bench_hist {
	uint64_t n, sum, min, max; /* ns */
	double sumsq;
	uint64_t b[KVC_LAT_BUCKETS];
};

void bench_hist_add(struct bench_hist *h, uint64_t ns);
void bench_hist_merge(struct bench_hist *a, const struct bench_hist *b);
/* Percentile @p (0..100) in microseconds, interpolated inside its bucket and
 * clamped to [min, max], as db_bench does. */
double bench_hist_pct(const struct bench_hist *h, double p);
/* db_bench's block: count, average, stddev, percentiles, bucket table. */
void bench_hist_print(FILE *f, const struct bench_hist *h);
/* {"count", "avg_us", "min_us", "max_us", "p50".."p9999", "buckets"}. */
void bench_hist_json(FILE *f, const struct bench_hist *h);

#endif /* BENCH_HIST_H */
