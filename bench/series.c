// SPDX-License-Identifier: MIT
/*
 * The per-interval series of nvkv-bench (series.h): db_bench's
 * --report_interval_seconds rows, with each interval's P99 and the engine's
 * own figures, written to --report_file as db_bench writes it and to the
 * JSON as column arrays for plotting.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hist.h"
#include "series.h"

void bench_series_start(struct bench_series *s, struct bench_engine *e, int64_t every_s,
			uint64_t t0)
{
	size_t i;

	s->every_ns = every_s > 0 ? (uint64_t)every_s * 1000000000ull : 0;
	s->t0 = s->last = t0;
	s->e = e;
	atomic_store(&s->ops, 0);
	for (i = 0; i < KVC_LAT_BUCKETS; i++)
		atomic_store(&s->lat[i], 0);
	s->sampling = s->every_ns && e->ops->sample && !e->ops->sample(e, &s->prev);
}

static uint64_t sub(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

/* The counters since the last row; NULL when out of memory (counted). */
static struct bench_ivl *take(struct bench_series *s, uint64_t now)
{
	struct bench_hist h;
	struct bench_ivl *v;
	struct bench_sample cur;
	size_t i;

	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		struct bench_ivl *rows = realloc(s->rows, cap * sizeof(*rows));

		if (!rows) {
			s->err = -ENOMEM;
			return NULL;
		}
		s->rows = rows;
		s->cap = cap;
	}
	v = &s->rows[s->n++];
	memset(v, 0, sizeof(*v));
	memset(&h, 0, sizeof(h));
	v->secs = (now - s->t0 + 500000000ull) / 1000000000ull; /* rounded, as db_bench */
	v->len = (now - s->last) / 1e9;
	v->ops = atomic_exchange(&s->ops, 0);
	v->stalled = s->polls ? (double)s->stalls / (double)s->polls : 0;
	s->polls = s->stalls = 0;
	for (i = 0; i < KVC_LAT_BUCKETS; i++) {
		h.b[i] = atomic_exchange(&s->lat[i], 0);
		h.n += h.b[i];
	}
	h.max = UINT64_MAX; /* bucket bounds only: no clamping */
	v->p99_us = h.n ? bench_hist_pct(&h, 99) : 0;
	if (s->sampling && !s->e->ops->sample(s->e, &cur)) {
		v->sampled = true;
		v->s.redirected = sub(cur.redirected, s->prev.redirected);
		v->s.rolled_back = sub(cur.rolled_back, s->prev.rolled_back);
		v->s.redirect_ns = sub(cur.redirect_ns, s->prev.redirect_ns);
		v->s.pcie_bytes = sub(cur.pcie_bytes, s->prev.pcie_bytes);
		s->prev = cur;
	}
	s->last = now;
	return v;
}

/* Close every interval that ended by @now (a virtual clock may jump several). */
static void close_due(struct bench_series *s, uint64_t now)
{
	while (now >= s->last + s->every_ns && !s->err)
		take(s, s->last + s->every_ns);
}

void bench_series_tick(struct bench_series *s, uint64_t now)
{
	if (s->every_ns && s->e->ops->stalled) {
		s->polls++;
		s->stalls += s->e->ops->stalled(s->e);
	}
	if (s->every_ns)
		close_due(s, now);
}

void bench_series_finish(struct bench_series *s, uint64_t now)
{
	struct bench_ivl *last, *v;
	double p99;

	if (!s->every_ns || s->err)
		return;
	close_due(s, now);
	if (!atomic_load(&s->ops) && s->n)
		return;
	if (!s->n || (now - s->t0 + 500000000ull) / 1000000000ull > s->rows[s->n - 1].secs) {
		take(s, now);
		return;
	}
	/* Less than half a second after the last row: part of it. */
	v = take(s, now);
	if (!v)
		return;
	last = v - 1;
	p99 = v->p99_us > last->p99_us ? v->p99_us : last->p99_us;
	last->len += v->len;
	last->ops += v->ops;
	last->p99_us = p99;
	if (v->sampled) {
		last->s.redirected += v->s.redirected;
		last->s.rolled_back += v->s.rolled_back;
		last->s.redirect_ns += v->s.redirect_ns;
		last->s.pcie_bytes += v->s.pcie_bytes;
	}
	s->n--;
}

void bench_series_free(struct bench_series *s)
{
	free(s->rows);
	s->rows = NULL;
	s->n = s->cap = 0;
}

int bench_series_csv(const struct bench_series *s, const char *path)
{
	FILE *f = fopen(path, "w");
	size_t i;
	int rc = 0;

	if (!f)
		return -errno;
	fprintf(f, "secs_elapsed,interval_qps\n");
	for (i = 0; i < s->n; i++)
		fprintf(f, "%llu,%llu\n", (unsigned long long)s->rows[i].secs,
			(unsigned long long)s->rows[i].ops);
	if (ferror(f))
		rc = -EIO;
	if (fclose(f) && !rc)
		rc = -errno;
	return rc;
}

/* One column: "name":[v0,v1,...] with @fmt applied to each row's value. */
#define COLUMN(f, s, name, fmt, expr)                               \
	do {                                                        \
		size_t i_;                                          \
		fprintf(f, ",\"%s\":[", name);                      \
		for (i_ = 0; i_ < (s)->n; i_++) {                   \
			const struct bench_ivl *v = &(s)->rows[i_]; \
			fprintf(f, "%s" fmt, i_ ? "," : "", expr);  \
		}                                                   \
		fprintf(f, "]");                                    \
	} while (0)

void bench_series_json(FILE *f, const struct bench_series *s)
{
	if (!s->every_ns)
		return;
	fprintf(f, ",\"series\":{\"interval_s\":%.0f,\"complete\":%s", s->every_ns / 1e9,
		s->err ? "false" : "true");
	COLUMN(f, s, "secs", "%llu", (unsigned long long)v->secs);
	COLUMN(f, s, "len_s", "%.3f", v->len);
	COLUMN(f, s, "ops", "%llu", (unsigned long long)v->ops);
	COLUMN(f, s, "ops_per_sec", "%.1f", v->len > 0 ? v->ops / v->len : 0.0);
	COLUMN(f, s, "p99_us", "%.2f", v->p99_us);
	if (s->e->ops->stalled)
		COLUMN(f, s, "stalled", "%.2f", v->stalled);
	if (s->sampling) {
		COLUMN(f, s, "redirected", "%llu", (unsigned long long)v->s.redirected);
		COLUMN(f, s, "rolled_back", "%llu", (unsigned long long)v->s.rolled_back);
		COLUMN(f, s, "device_put_us", "%.2f",
		       v->s.redirected ? v->s.redirect_ns / 1e3 / v->s.redirected : 0.0);
		COLUMN(f, s, "pcie_bytes", "%llu", (unsigned long long)v->s.pcie_bytes);
	}
	fprintf(f, "}");
}
