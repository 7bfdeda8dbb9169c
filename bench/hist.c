// SPDX-License-Identifier: MIT
/* Latency histograms of nvkv-bench, printed as db_bench prints them. */
#include <math.h>

#include "hist.h"

void bench_hist_add(struct bench_hist *h, uint64_t ns)
{
	if (!h->n || ns < h->min)
		h->min = ns;
	if (ns > h->max)
		h->max = ns;
	h->n++;
	h->sum += ns;
	h->sumsq += (double)ns * (double)ns;
	h->b[kvc_lat_bucket(ns)]++;
}

void bench_hist_merge(struct bench_hist *a, const struct bench_hist *b)
{
	int i;

	if (!b->n)
		return;
	if (!a->n || b->min < a->min)
		a->min = b->min;
	if (b->max > a->max)
		a->max = b->max;
	a->n += b->n;
	a->sum += b->sum;
	a->sumsq += b->sumsq;
	for (i = 0; i < KVC_LAT_BUCKETS; i++)
		a->b[i] += b->b[i];
}

/* Percentile in microseconds, interpolated inside its bucket (as db_bench). */
double bench_hist_pct(const struct bench_hist *h, double p)
{
	double want = h->n * p / 100.0, acc = 0;
	int i;

	for (i = 0; i < KVC_LAT_BUCKETS; i++) {
		double lo = (double)kvc_lat_bucket_lo((unsigned int)i);
		double hi = i + 1 < KVC_LAT_BUCKETS ? (double)kvc_lat_bucket_lo((unsigned int)i + 1)
						    : lo;

		if (acc + h->b[i] >= want && h->b[i]) {
			double r = lo + (hi - lo) * (want - acc) / h->b[i];

			if (r < h->min)
				r = (double)h->min;
			if (r > h->max)
				r = (double)h->max;
			return r / 1000.0;
		}
		acc += h->b[i];
	}
	return h->max / 1000.0;
}

/*
 * A percentile for the text block, which prints Max as whole microseconds
 * (db_bench's format, truncated as db_bench's integer samples are): never
 * above the Max printed next to it.
 */
static double text_pct(const struct bench_hist *h, double p)
{
	double v = bench_hist_pct(h, p), max = (double)(h->max / 1000);

	return v > max ? max : v;
}

/* db_bench's histogram block. */
void bench_hist_print(FILE *f, const struct bench_hist *h)
{
	double avg = h->n ? (double)h->sum / h->n : 0, cum = 0;
	double var = h->n ? h->sumsq / h->n - avg * avg : 0;
	int i;

	fprintf(f, "Count: %llu Average: %.4f  StdDev: %.2f\n", (unsigned long long)h->n,
		avg / 1000, sqrt(var > 0 ? var : 0) / 1000);
	fprintf(f, "Min: %llu  Median: %.4f  Max: %llu\n", (unsigned long long)(h->min / 1000),
		text_pct(h, 50), (unsigned long long)(h->max / 1000));
	fprintf(f, "Percentiles: P50: %.2f P75: %.2f P99: %.2f P99.9: %.2f P99.99: %.2f\n",
		text_pct(h, 50), text_pct(h, 75), text_pct(h, 99), text_pct(h, 99.9),
		text_pct(h, 99.99));
	fprintf(f, "------------------------------------------------------\n");
	for (i = 0; i < KVC_LAT_BUCKETS; i++) {
		double pct;
		int marks;

		if (!h->b[i])
			continue;
		pct = 100.0 * h->b[i] / h->n;
		cum += pct;
		marks = (int)(20 * pct / 100 + 0.5);
		fprintf(f, "%c %7.3f, %7.3f ] %8llu %7.3f%% %7.3f%% ", i == 0 ? '[' : '(',
			kvc_lat_bucket_lo((unsigned int)i) / 1000.0,
			(i + 1 < KVC_LAT_BUCKETS ? kvc_lat_bucket_lo((unsigned int)i + 1) : 0) /
				1000.0,
			(unsigned long long)h->b[i], pct, cum);
		while (marks-- > 0)
			fputc('#', f);
		fputc('\n', f);
	}
}

void bench_hist_json(FILE *f, const struct bench_hist *h)
{
	int i, first = 1;

	fprintf(f,
		"{\"count\":%llu,\"avg_us\":%.4f,\"min_us\":%.3f,\"max_us\":%.3f,"
		"\"p50\":%.3f,\"p75\":%.3f,\"p99\":%.3f,\"p999\":%.3f,\"p9999\":%.3f,\"buckets\":[",
		(unsigned long long)h->n, h->n ? (double)h->sum / h->n / 1000 : 0, h->min / 1000.0,
		h->max / 1000.0, bench_hist_pct(h, 50), bench_hist_pct(h, 75),
		bench_hist_pct(h, 99), bench_hist_pct(h, 99.9), bench_hist_pct(h, 99.99));
	for (i = 0; i < KVC_LAT_BUCKETS; i++) {
		if (!h->b[i])
			continue;
		fprintf(f, "%s[%.3f,%llu]", first ? "" : ",",
			kvc_lat_bucket_lo((unsigned int)i) / 1000.0, (unsigned long long)h->b[i]);
		first = 0;
	}
	fprintf(f, "]}");
}
