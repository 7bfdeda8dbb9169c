// SPDX-License-Identifier: MIT
/* nvkv-bench histograms: counts, merge, percentiles, db_bench's block. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/hist.h"
#include "check_main.h"

START_TEST(add_and_merge)
{
	struct bench_hist a, b;
	uint64_t i;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	for (i = 1; i <= 100; i++)
		bench_hist_add(i <= 50 ? &a : &b, i * 1000); /* 1..100 us */
	ck_assert_uint_eq(a.n, 50);
	ck_assert_uint_eq(a.max, 50000);
	bench_hist_merge(&a, &b);
	ck_assert_uint_eq(a.n, 100);
	ck_assert_uint_eq(a.min, 1000);
	ck_assert_uint_eq(a.max, 100000);
	ck_assert_uint_eq(a.sum, 5050 * 1000);
	/* Merging an empty histogram changes nothing, min included. */
	memset(&b, 0, sizeof(b));
	bench_hist_merge(&a, &b);
	ck_assert_uint_eq(a.min, 1000);
	ck_assert_uint_eq(a.n, 100);
}
END_TEST

START_TEST(percentiles_interpolate_and_clamp)
{
	struct bench_hist h;
	uint64_t i;
	double p50, p99;

	memset(&h, 0, sizeof(h));
	for (i = 1; i <= 1000; i++)
		bench_hist_add(&h, i * 100); /* 0.1 .. 100 us, uniform */
	p50 = bench_hist_pct(&h, 50);
	p99 = bench_hist_pct(&h, 99);
	/* Buckets are 4 per power of two: within about 19% of the true value. */
	ck_assert(p50 > 50 * 0.81 && p50 < 50 * 1.19);
	ck_assert(p99 > 99 * 0.81 && p99 <= 100);
	ck_assert(bench_hist_pct(&h, 100) <= 100.0);
	ck_assert(bench_hist_pct(&h, 0) >= 0.1);
	/* One sample: every percentile is that sample. */
	memset(&h, 0, sizeof(h));
	bench_hist_add(&h, 7000);
	ck_assert(bench_hist_pct(&h, 50) == 7.0 && bench_hist_pct(&h, 99.99) == 7.0);
}
END_TEST

START_TEST(db_bench_block)
{
	struct bench_hist h;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	memset(&h, 0, sizeof(h));
	bench_hist_add(&h, 2000);
	bench_hist_add(&h, 4000);
	bench_hist_print(f, &h);
	bench_hist_json(f, &h);
	fclose(f);
	ck_assert_ptr_nonnull(strstr(buf, "Count: 2 Average: 3.0000  StdDev: 1.00\n"));
	ck_assert_ptr_nonnull(strstr(buf, "Min: 2  Median: "));
	ck_assert_ptr_nonnull(strstr(buf, "Percentiles: P50: "));
	ck_assert_ptr_nonnull(strstr(buf, "{\"count\":2,\"avg_us\":3.0000,\"min_us\":2.000,"));
	free(buf);
}
END_TEST

/* The block prints Max in whole microseconds: no percentile printed above it. */
START_TEST(printed_percentiles_never_above_printed_max)
{
	struct bench_hist h;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	unsigned long long max;
	double med, p[5];
	const char *l;
	int i;

	memset(&h, 0, sizeof(h));
	for (i = 0; i < 10; i++)
		bench_hist_add(&h, 7800); /* 7.8 us: Max prints as 7 */
	bench_hist_add(&h, 2000);
	bench_hist_print(f, &h);
	fclose(f);
	l = strstr(buf, "Min: ");
	ck_assert_ptr_nonnull(l);
	ck_assert_int_eq(sscanf(l, "Min: %*u  Median: %lf  Max: %llu", &med, &max), 2);
	ck_assert_uint_eq(max, 7);
	ck_assert(med <= 7.0);
	l = strstr(buf, "Percentiles: ");
	ck_assert_ptr_nonnull(l);
	ck_assert_int_eq(sscanf(l, "Percentiles: P50: %lf P75: %lf P99: %lf P99.9: %lf P99.99: %lf",
				&p[0], &p[1], &p[2], &p[3], &p[4]),
			 5);
	for (i = 0; i < 5; i++)
		ck_assert_msg(p[i] <= (double)max, "P%d %.2f above Max %llu", i, p[i], max);
	free(buf);
}
END_TEST

/* Regression: with every sample under 1 us (a fast simulated device) Max prints
 * as 0, and the percentiles were printed unclamped (P50 0.50 beside Max 0). */
START_TEST(sub_microsecond_max_regression)
{
	struct bench_hist h;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	unsigned long long max;
	double med, p[5];
	const char *l;
	int i;

	memset(&h, 0, sizeof(h));
	for (i = 0; i < 10; i++)
		bench_hist_add(&h, 300 + 60 * (uint64_t)i); /* 0.30 .. 0.84 us */
	bench_hist_print(f, &h);
	fclose(f);
	l = strstr(buf, "Min: ");
	ck_assert_ptr_nonnull(l);
	ck_assert_int_eq(sscanf(l, "Min: %*u  Median: %lf  Max: %llu", &med, &max), 2);
	ck_assert_uint_eq(max, 0);
	ck_assert_msg(med <= 0.0, "Median %.4f above Max 0", med);
	l = strstr(buf, "Percentiles: ");
	ck_assert_ptr_nonnull(l);
	ck_assert_int_eq(sscanf(l, "Percentiles: P50: %lf P75: %lf P99: %lf P99.9: %lf P99.99: %lf",
				&p[0], &p[1], &p[2], &p[3], &p[4]),
			 5);
	for (i = 0; i < 5; i++)
		ck_assert_msg(p[i] <= 0.0, "P%d %.2f above Max 0", i, p[i]);
	free(buf);
}
END_TEST

static Suite *hist_suite(void)
{
	Suite *s = suite_create("bench/hist");
	TCase *tc = tcase_create("hist");

	tcase_add_test(tc, add_and_merge);
	tcase_add_test(tc, percentiles_interpolate_and_clamp);
	tcase_add_test(tc, db_bench_block);
	tcase_add_test(tc, printed_percentiles_never_above_printed_max);
	tcase_add_test(tc, sub_microsecond_max_regression);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(hist_suite)
