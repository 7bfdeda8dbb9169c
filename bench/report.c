// SPDX-License-Identifier: MIT
/*
 * nvkv-bench output: db_bench's result line and histogram blocks, then the
 * device's PCIe/NAND line for the run; the JSON report; error lines (bench_fail).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "runner.h"

static const char *const kind_names[K_NUM] = { "read", "write", "delete", "seek" };

/* The transfer method of a run, "none" for engines without methods. */
const char *bench_xfer_label(const struct run *r)
{
	return r->e->ops->xfer_methods ? nvkv_xfer_name(r->xfer) : "none";
}

static const struct {
	enum nvkv_xfer x;
	enum kvc_stat_method m;
} methods[] = { { NVKV_XFER_PRP, KVC_XM_PRP },
		{ NVKV_XFER_BANDSLIM, KVC_XM_BANDSLIM },
		{ NVKV_XFER_BYTEEXPRESS, KVC_XM_BYTEEXPRESS },
		{ NVKV_XFER_SGL, KVC_XM_SGL } };

#define NMETHODS (sizeof(methods) / sizeof(methods[0]))

/* Stores the device completed by each method during the run. */
static uint64_t stores_by(const struct result *res, enum kvc_stat_method m)
{
	return res->after.m_stores[m] - res->before.m_stores[m];
}

/* The largest value the run may write: the one to ask why it fell back. */
static size_t largest_value(const struct run *r)
{
	const struct bench_cfg *c = r->c;

	if (r->def->own_sizes)
		return r->max_value;
	return strcmp(c->value_size_distribution_type, "fixed") ? (size_t)c->value_size_max
								: (size_t)c->value_size;
}

/*
 * The method label of a run: the method asked for, and when the device
 * stored values by another one (a fixed method that could not carry them, or
 * an adaptive policy), which and how many, e.g.
 * "byteexpress (prp for 1000 of 1000: value > 3968 B: ...)".
 */
const char *bench_xfer_describe(const struct run *r, const struct result *res, char *buf,
				size_t len)
{
	uint64_t total = 0, own = 0;
	bool adaptive = r->xfer == NVKV_XFER_ADAPTIVE || r->xfer == NVKV_XFER_ADAPTIVE_COST;
	const char *sep = " (";
	size_t i, l;

	snprintf(buf, len, "%s", bench_xfer_label(r));
	if (!r->e->ops->xfer_methods || !res->have_dev)
		return buf;
	for (i = 0; i < NMETHODS; i++) {
		total += stores_by(res, methods[i].m);
		if (methods[i].x == r->xfer)
			own = stores_by(res, methods[i].m);
	}
	if (!total || own == total)
		return buf;
	for (i = 0; i < NMETHODS; i++) {
		uint64_t n = stores_by(res, methods[i].m);

		if (!n || methods[i].x == r->xfer)
			continue;
		l = strlen(buf);
		snprintf(buf + l, len - l, "%s%s for %llu", sep, nvkv_xfer_name(methods[i].x),
			 (unsigned long long)n);
		sep = ", ";
	}
	l = strlen(buf);
	snprintf(buf + l, len - l, " of %llu", (unsigned long long)total);
	if (!adaptive && r->e->ops->xfer_why) {
		char why[160];

		r->e->ops->xfer_why(r->e, r->xfer, (size_t)r->c->key_size, largest_value(r), why,
				    sizeof(why));
		l = strlen(buf);
		if (*why)
			snprintf(buf + l, len - l, ": %s", why);
	}
	l = strlen(buf);
	snprintf(buf + l, len - l, ")");
	return buf;
}

static uint64_t pcie_sum(const struct kvc_stats_log *l, int dir)
{
	uint64_t s = 0;
	int k;

	for (k = 0; k < KVC_PK_NUM; k++)
		s += l->pcie_bytes[k][dir];
	return s;
}

static uint64_t tlp_sum(const struct kvc_stats_log *l)
{
	uint64_t s = 0;
	int k;

	for (k = 0; k < KVC_PK_NUM; k++)
		s += l->pcie_tlps[k][0] + l->pcie_tlps[k][1];
	return s;
}

struct dev_delta {
	double up, down, tlps, amp, programs, waf, model_ops;
	uint64_t nprog, host, flash;
};

static struct dev_delta delta(const struct result *res)
{
	const struct kvc_stats_log *a = &res->before, *b = &res->after;
	struct dev_delta d;
	uint64_t host = (b->key_bytes - a->key_bytes) + (b->value_bytes_in - a->value_bytes_in) +
			(b->value_bytes_out - a->value_bytes_out);
	double ops = res->ops ? (double)res->ops : 1;

	d.up = (pcie_sum(b, 0) - pcie_sum(a, 0)) / ops;
	d.down = (pcie_sum(b, 1) - pcie_sum(a, 1)) / ops;
	d.tlps = (tlp_sum(b) - tlp_sum(a)) / ops;
	d.amp = host ? (d.up + d.down) * ops / (double)host : 0;
	d.nprog = b->nand_programs - a->nand_programs;
	d.programs = d.nprog / ops;
	d.host = b->host_bytes_written - a->host_bytes_written;
	d.flash = b->flash_bytes_written - a->flash_bytes_written;
	d.waf = d.host ? (double)d.flash / (double)d.host : 0;
	/* Operations per second of the device's modeled clock. */
	d.model_ops =
		b->model_ns > a->model_ns ? ops * 1e9 / (double)(b->model_ns - a->model_ns) : 0;
	return d;
}

/* Mean submission-to-completion latency of the run's operations, in us. */
static double op_latency_us(const struct result *res)
{
	uint64_t n = 0, sum = 0;
	int k;

	for (k = 0; k < K_NUM; k++) {
		n += res->h[k].n;
		sum += res->h[k].sum;
	}
	return n ? (double)sum / (double)n / 1000 : 0;
}

/*
 * db_bench's micros/op is thread time / operations: with one synchronous
 * thread, the latency of an operation.  At a queue depth above 1 it is the
 * inverse of a thread's throughput instead; say so and give the latency.
 */
static void qd_line(const struct run *r, const struct result *res)
{
	if (r->c->qd <= 1 || !res->ops)
		return;
	printf("QD %lld %s: micros/op is thread time / operations (%.3f); per-op latency "
	       "%.3f micros/op (submission to completion, average)\n",
	       (long long)r->c->qd, r->def->name, res->thread_seconds * 1e6 / res->ops,
	       op_latency_us(res));
}

/* A run a submission error ended early (e.g. --xfer_strict refused a Store). */
static void stopped_line(const struct run *r, const struct result *res, const char *label)
{
	char why[160] = "";

	if (res->err == -EOPNOTSUPP && r->e->ops->xfer_why)
		r->e->ops->xfer_why(r->e, r->xfer, (size_t)r->c->key_size, largest_value(r), why,
				    sizeof(why));
	printf("nvkv %s [%s]: stopped after %llu operations: %s%s%s%s\n", r->def->name, label,
	       (unsigned long long)res->ops, r->e->ops->strerror(res->err),
	       *why ? " (--xfer_strict: " : "", why, *why ? ")" : "");
}

void bench_report_print(const struct run *r, const struct result *res)
{
	char extra[256] = "", label[BENCH_LABEL_MAX];
	double ops_sec = res->seconds > 0 ? res->ops / res->seconds : 0;
	int k;

	bench_xfer_describe(r, res, label, sizeof(label));
	/* db_bench's readrandomwriterandom adds no bytes: no MB/s (JSON: bytes) */
	if (res->bytes && r->def->w != W_READRANDOMWRITERANDOM)
		snprintf(extra, sizeof(extra), "%6.1f MB/s",
			 res->bytes / 1048576.0 / (res->seconds > 0 ? res->seconds : 1));
	if (*res->msg) {
		size_t l = strlen(extra);

		snprintf(extra + l, sizeof(extra) - l, "%s%s", l ? " " : "", res->msg);
	}
	/* db_bench's result line, exactly. */
	printf("%-12s : %11.3f micros/op %ld ops/sec %.3f seconds %llu operations;%s%s\n",
	       r->def->name, res->ops ? res->thread_seconds * 1e6 / res->ops : 0, (long)ops_sec,
	       res->seconds, (unsigned long long)res->ops, *extra ? " " : "", extra);
	qd_line(r, res);
	if (r->c->histogram) {
		for (k = 0; k < K_NUM; k++) {
			if (!res->h[k].n)
				continue;
			printf("Microseconds per %s:\n", kind_names[k]);
			bench_hist_print(stdout, &res->h[k]);
		}
	}
	if (res->have_dev) {
		struct dev_delta d = delta(res);

		printf("nvkv %s [%s]: PCIe %.1f bytes/op (up %.1f, down %.1f), %.2f TLPs/op, "
		       "traffic amplification %.2f; NAND %llu page programs (%.4f/op), "
		       "write amplification %.2f; modeled %.0f ops/s\n",
		       r->def->name, label, d.up + d.down, d.up, d.down, d.tlps, d.amp,
		       (unsigned long long)d.nprog, d.programs, d.waf, d.model_ops);
		if (r->c->statistics)
			kvc_stats_print(stdout, &res->after, 0);
	}
	if (r->e->ops->report)
		r->e->ops->report(r->e, stdout, false);
	if (r->def->w == W_REPLAY && r->replay_skipped)
		printf("nvkv %s [%s]: %llu trace operations not replayable (merges, values over "
		       "the device maximum)\n",
		       r->def->name, label, (unsigned long long)r->replay_skipped);
	if (res->errors)
		printf("nvkv %s [%s]: %llu operations failed (first: %s)\n", r->def->name, label,
		       (unsigned long long)res->errors, r->e->ops->strerror(res->err));
	else if (res->err)
		stopped_line(r, res, label);
	if (r->interrupted)
		printf("nvkv %s [%s]: interrupted (signal %d): partial results of %llu "
		       "operations\n",
		       r->def->name, label, r->interrupted, (unsigned long long)res->ops);
	fflush(stdout);
}

/*
 * Modeled latency percentiles per command kind over this benchmark's commands
 * only (the difference of the device's histograms), as docs/bench.md defines
 * them: the lower bound of the bucket holding the percentile.
 */
static void json_model_percentiles(FILE *f, const struct kvc_stats_log *a,
				   const struct kvc_stats_log *b)
{
	static const double ps[] = { 50, 99, 99.9 };
	static const char *const pn[] = { "p50", "p99", "p999" };
	uint64_t h[KVC_LAT_BUCKETS];
	const char *sep = "";
	unsigned int op, i;

	fprintf(f, ",\"model_latency_percentiles_us\":{");
	for (op = 0; op < KVC_OP_NUM; op++) {
		if (b->cmds[op] == a->cmds[op])
			continue;
		for (i = 0; i < KVC_LAT_BUCKETS; i++)
			h[i] = b->lat_hist[op][i] - a->lat_hist[op][i];
		fprintf(f, "%s\"%s\":{", sep, kvc_stat_op_name((enum kvc_stat_op)op));
		for (i = 0; i < 3; i++)
			fprintf(f, "%s\"%s\":%.3f", i ? "," : "", pn[i],
				kvc_lat_percentile(h, ps[i]) / 1000.0);
		fprintf(f, "}");
		sep = ",";
	}
	fprintf(f, "}");
}

/*
 * Mean modeled latency per command kind during the run (device clock: arrival
 * to completion; a BandSlim Store spans its whole command sequence).
 */
static void json_model_latency(FILE *f, const struct kvc_stats_log *a,
			       const struct kvc_stats_log *b)
{
	const char *sep = "";
	int op;

	fprintf(f, ",\"model_latency_us\":{");
	for (op = 0; op < KVC_OP_NUM; op++) {
		uint64_t n = b->cmds[op] - a->cmds[op];

		if (!n)
			continue;
		fprintf(f, "%s\"%s\":%.4f", sep, kvc_stat_op_name((enum kvc_stat_op)op),
			(double)(b->lat_sum_ns[op] - a->lat_sum_ns[op]) / (double)n / 1000);
		sep = ",";
	}
	fprintf(f, "}");
	json_model_percentiles(f, a, b);
}

/* Stores per method the device completed during the run, and the label. */
static void json_methods(FILE *f, const struct run *r, const struct result *res)
{
	char label[BENCH_LABEL_MAX];
	size_t i;

	fprintf(f, ",\"xfer_label\":\"%s\"", bench_xfer_describe(r, res, label, sizeof(label)));
	if (!res->have_dev)
		return;
	fprintf(f, ",\"xfer_used\":{");
	for (i = 0; i < NMETHODS; i++)
		fprintf(f, "%s\"%s\":%llu", i ? "," : "", nvkv_xfer_name(methods[i].x),
			(unsigned long long)stores_by(res, methods[i].m));
	fprintf(f, "}");
}

void bench_report_json(FILE *f, const struct run *r, const struct result *res, bool first)
{
	int k, fk = 1;

	fprintf(f,
		"%s{\"benchmark\":\"%s\",\"xfer\":\"%s\",\"ops\":%llu,\"seconds\":%.6f,"
		"\"micros_per_op\":%.6f,\"ops_per_sec\":%.1f,\"bytes\":%llu,\"found\":%llu,"
		"\"errors\":%llu,\"latency_us_per_op\":%.4f,\"latency\":{",
		first ? "" : ",", r->def->name, bench_xfer_label(r), (unsigned long long)res->ops,
		res->seconds, res->ops ? res->thread_seconds * 1e6 / res->ops : 0,
		res->seconds > 0 ? res->ops / res->seconds : 0, (unsigned long long)res->bytes,
		(unsigned long long)res->found, (unsigned long long)res->errors,
		op_latency_us(res));
	for (k = 0; k < K_NUM; k++) {
		if (!res->h[k].n)
			continue;
		fprintf(f, "%s\"%s\":", fk ? "" : ",", kind_names[k]);
		bench_hist_json(f, &res->h[k]);
		fk = 0;
	}
	fprintf(f, "}");
	if (r->interrupted)
		fprintf(f, ",\"interrupted\":true");
	json_methods(f, r, res);
	if (res->have_dev) {
		struct dev_delta d = delta(res);

		fprintf(f,
			",\"pcie_bytes_per_op\":%.3f,\"pcie_up_per_op\":%.3f,"
			"\"pcie_down_per_op\":%.3f,\"tlps_per_op\":%.4f,"
			"\"traffic_amplification\":%.4f,\"nand_programs\":%llu,"
			"\"nand_programs_per_op\":%.6f,\"write_amplification\":%.4f,"
			"\"model_ops_per_sec\":%.1f,\"device_before\":",
			d.up + d.down, d.up, d.down, d.tlps, d.amp, (unsigned long long)d.nprog,
			d.programs, d.waf, d.model_ops);
		kvc_stats_print(f, &res->before, 1);
		fprintf(f, ",\"device_after\":");
		kvc_stats_print(f, &res->after, 1);
		json_model_latency(f, &res->before, &res->after);
	}
	bench_series_json(f, &r->series);
	if (r->e->ops->report)
		r->e->ops->report(r->e, f, true);
	fprintf(f, "}\n");
}

void bench_report_json_config(FILE *f, const struct bench_cfg *c, bool virtual_time,
			      const char *backend)
{
	fprintf(f, "{\"tool\":\"nvkv-bench\",\"clock\":\"%s\",\"backend\":\"%s\",",
		virtual_time ? "virtual time" : "real time", backend);
	fprintf(f,
		"\"config\":{\"benchmarks\":\"%s\",\"num\":%lld,"
		"\"reads\":%lld,\"key_size\":%lld,\"value_size\":%lld,"
		"\"value_size_distribution_type\":\"%s\",\"value_size_min\":%lld,"
		"\"value_size_max\":%lld,\"threads\":%lld,\"duration\":%lld,\"seed\":%lld,"
		"\"seek_nexts\":%lld,\"device\":\"%s\",\"engine\":\"%s\",\"xfer\":\"%s\","
		"\"qd\":%lld,\"mix_get_ratio\":%g,\"mix_put_ratio\":%g,\"mix_seek_ratio\":%g,"
		"\"mix_max_value_size\":%lld},\"runs\":[\n",
		c->benchmarks, (long long)c->num, (long long)c->reads, (long long)c->key_size,
		(long long)c->value_size, c->value_size_distribution_type,
		(long long)c->value_size_min, (long long)c->value_size_max, (long long)c->threads,
		(long long)c->duration, (long long)c->seed, (long long)c->seek_nexts, c->device,
		c->engine, c->xfer, (long long)c->qd, c->mix_get_ratio, c->mix_put_ratio,
		c->mix_seek_ratio, (long long)c->mix_max_value_size);
}

int bench_fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "nvkv-bench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 2;
}
