// SPDX-License-Identifier: MIT
/* Helpers for the statistics log page: names and histogram percentiles. */
#include "stats.h"

uint64_t kvc_lat_percentile(const uint64_t h[KVC_LAT_BUCKETS], double p)
{
	uint64_t total = 0, acc = 0, want;
	unsigned int b;

	for (b = 0; b < KVC_LAT_BUCKETS; b++)
		total += h[b];
	if (!total)
		return 0;
	want = (uint64_t)(p / 100.0 * (double)total + 0.5);
	if (want == 0)
		want = 1;
	for (b = 0; b < KVC_LAT_BUCKETS; b++) {
		acc += h[b];
		if (acc >= want)
			return kvc_lat_bucket_lo(b);
	}
	return kvc_lat_bucket_lo(KVC_LAT_BUCKETS - 1);
}

const char *kvc_stat_op_name(enum kvc_stat_op op)
{
	static const char *const names[KVC_OP_NUM] = {
		"store", "retrieve", "delete", "exist", "list",		"flush", "bandslim-xfer",
		"admin", "other",    "read",   "write", "write-zeroes", "dsm"
	};

	return (unsigned int)op < KVC_OP_NUM ? names[op] : "?";
}

const char *kvc_stat_method_name(enum kvc_stat_method m)
{
	static const char *const names[KVC_XM_NUM] = { "prp", "bandslim", "byteexpress", "sgl",
						       "none" };

	return (unsigned int)m < KVC_XM_NUM ? names[m] : "?";
}

const char *kvc_stat_pcie_name(enum kvc_stat_pcie k)
{
	static const char *const names[KVC_PK_NUM] = { "doorbell", "sqe", "prp-list",
						       "data",	   "cqe", "msix" };

	return (unsigned int)k < KVC_PK_NUM ? names[k] : "?";
}

static double ratio(uint64_t a, uint64_t b)
{
	return b ? (double)a / (double)b : 0.0;
}

static uint64_t pcie_total(const struct kvc_stats_log *l)
{
	uint64_t t = 0;
	int k;

	for (k = 0; k < KVC_PK_NUM; k++)
		t += l->pcie_bytes[k][0] + l->pcie_bytes[k][1];
	return t;
}

static void print_text(FILE *f, const struct kvc_stats_log *l)
{
	uint64_t host = l->key_bytes + l->value_bytes_in + l->value_bytes_out;
	int i;

	fprintf(f, "keys %llu, used %llu of %llu bytes, model clock %.3f s, uptime %.3f s\n",
		(unsigned long long)l->keys, (unsigned long long)l->used_bytes,
		(unsigned long long)l->capacity, l->model_ns / 1e9, l->uptime_ns / 1e9);
	if (l->log_bytes)
		fprintf(f,
			"value log: %llu bytes written and not reclaimed (live records %llu, "
			"the rest dead records and alignment padding until GC)\n",
			(unsigned long long)l->log_bytes, (unsigned long long)l->used_bytes);
	fprintf(f, "%-14s %12s %10s %12s %12s %12s\n", "command", "count", "errors", "mean us",
		"p50 us", "p99 us");
	for (i = 0; i < KVC_OP_NUM; i++) {
		if (!l->cmds[i])
			continue;
		fprintf(f, "%-14s %12llu %10llu %12.2f %12.2f %12.2f\n",
			kvc_stat_op_name((enum kvc_stat_op)i), (unsigned long long)l->cmds[i],
			(unsigned long long)l->errors[i], ratio(l->lat_sum_ns[i], l->cmds[i]) / 1e3,
			kvc_lat_percentile(l->lat_hist[i], 50) / 1e3,
			kvc_lat_percentile(l->lat_hist[i], 99) / 1e3);
	}
	fprintf(f, "%-14s %12s %12s %14s %14s\n", "method", "commands", "stores", "value bytes",
		"pcie bytes");
	for (i = 0; i < KVC_XM_NUM; i++) {
		if (!l->m_cmds[i])
			continue;
		fprintf(f, "%-14s %12llu %12llu %14llu %14llu\n",
			kvc_stat_method_name((enum kvc_stat_method)i),
			(unsigned long long)l->m_cmds[i], (unsigned long long)l->m_stores[i],
			(unsigned long long)l->m_value_bytes[i],
			(unsigned long long)(l->m_pcie_bytes[i][0] + l->m_pcie_bytes[i][1]));
	}
	fprintf(f, "%-14s %12s %14s %12s %14s\n", "pcie", "TLPs up", "bytes up", "TLPs down",
		"bytes down");
	for (i = 0; i < KVC_PK_NUM; i++)
		fprintf(f, "%-14s %12llu %14llu %12llu %14llu\n",
			kvc_stat_pcie_name((enum kvc_stat_pcie)i),
			(unsigned long long)l->pcie_tlps[i][0],
			(unsigned long long)l->pcie_bytes[i][0],
			(unsigned long long)l->pcie_tlps[i][1],
			(unsigned long long)l->pcie_bytes[i][1]);
	fprintf(f,
		"pcie total %llu bytes, traffic amplification %.2f (pcie bytes / key+value "
		"bytes)\n",
		(unsigned long long)pcie_total(l), ratio(pcie_total(l), host));
	fprintf(f,
		"nand: %llu reads, %llu programs, %llu erases; %llu bytes programmed for %llu host "
		"bytes: write amplification %.2f\n",
		(unsigned long long)l->nand_reads, (unsigned long long)l->nand_programs,
		(unsigned long long)l->nand_erases, (unsigned long long)l->flash_bytes_written,
		(unsigned long long)l->host_bytes_written,
		ratio(l->flash_bytes_written, l->host_bytes_written));
	fprintf(f,
		"value log: %llu record bytes, %llu pad bytes, %llu backfills; gc %llu runs, %llu "
		"moves, %llu bytes; %llu checksum errors, %llu media errors, %llu async events\n",
		(unsigned long long)l->rec_bytes, (unsigned long long)l->pad_bytes,
		(unsigned long long)l->backfills, (unsigned long long)l->gc_runs,
		(unsigned long long)l->gc_moves, (unsigned long long)l->gc_bytes,
		(unsigned long long)l->crc_errors, (unsigned long long)l->media_errors,
		(unsigned long long)l->aer_events);
	if (l->gc_urgent || l->gc_waits)
		fprintf(f,
			"gc scheduling: %llu urgent passes; %llu host NAND operations waited for a "
			"GC slice, %.1f us on average\n",
			(unsigned long long)l->gc_urgent, (unsigned long long)l->gc_waits,
			l->gc_waits ? (double)l->gc_wait_ns / l->gc_waits / 1000 : 0.0);
	if (l->fabric_bytes[0] || l->fabric_bytes[1])
		fprintf(f, "fabric: %llu bytes received, %llu bytes sent\n",
			(unsigned long long)l->fabric_bytes[0],
			(unsigned long long)l->fabric_bytes[1]);
}

static void json_u64s(FILE *f, const char *name, const uint64_t *v, int n,
		      const char *(*label)(int))
{
	int i;

	fprintf(f, "\"%s\":{", name);
	for (i = 0; i < n; i++)
		fprintf(f, "%s\"%s\":%llu", i ? "," : "", label(i), (unsigned long long)v[i]);
	fprintf(f, "}");
}

static const char *op_label(int i)
{
	return kvc_stat_op_name((enum kvc_stat_op)i);
}

static const char *m_label(int i)
{
	return kvc_stat_method_name((enum kvc_stat_method)i);
}

static void print_json(FILE *f, const struct kvc_stats_log *l)
{
	uint64_t host = l->key_bytes + l->value_bytes_in + l->value_bytes_out;
	int i, b, first;

	fprintf(f,
		"{\"version\":%u,\"model_ns\":%llu,\"uptime_ns\":%llu,\"keys\":%llu,"
		"\"used_bytes\":%llu,\"capacity\":%llu,",
		l->version, (unsigned long long)l->model_ns, (unsigned long long)l->uptime_ns,
		(unsigned long long)l->keys, (unsigned long long)l->used_bytes,
		(unsigned long long)l->capacity);
	json_u64s(f, "cmds", l->cmds, KVC_OP_NUM, op_label);
	fputc(',', f);
	json_u64s(f, "errors", l->errors, KVC_OP_NUM, op_label);
	fputc(',', f);
	json_u64s(f, "lat_sum_ns", l->lat_sum_ns, KVC_OP_NUM, op_label);
	fputc(',', f);
	json_u64s(f, "method_cmds", l->m_cmds, KVC_XM_NUM, m_label);
	fputc(',', f);
	json_u64s(f, "method_stores", l->m_stores, KVC_XM_NUM, m_label);
	fputc(',', f);
	json_u64s(f, "method_value_bytes", l->m_value_bytes, KVC_XM_NUM, m_label);
	fprintf(f, ",\"method_pcie_bytes\":{");
	for (i = 0; i < KVC_XM_NUM; i++)
		fprintf(f, "%s\"%s\":{\"up\":%llu,\"down\":%llu}", i ? "," : "", m_label(i),
			(unsigned long long)l->m_pcie_bytes[i][0],
			(unsigned long long)l->m_pcie_bytes[i][1]);
	fprintf(f, "},\"pcie\":{");
	for (i = 0; i < KVC_PK_NUM; i++)
		fprintf(f,
			"%s\"%s\":{\"tlps_up\":%llu,\"bytes_up\":%llu,\"tlps_down\":%llu,"
			"\"bytes_down\":%llu}",
			i ? "," : "", kvc_stat_pcie_name((enum kvc_stat_pcie)i),
			(unsigned long long)l->pcie_tlps[i][0],
			(unsigned long long)l->pcie_bytes[i][0],
			(unsigned long long)l->pcie_tlps[i][1],
			(unsigned long long)l->pcie_bytes[i][1]);
	fprintf(f, "},\"pcie_total_bytes\":%llu,\"traffic_amplification\":%.6f,",
		(unsigned long long)pcie_total(l), ratio(pcie_total(l), host));
	fprintf(f,
		"\"key_bytes\":%llu,\"value_bytes_in\":%llu,\"value_bytes_out\":%llu,"
		"\"nand_reads\":%llu,\"nand_programs\":%llu,\"nand_erases\":%llu,"
		"\"nand_read_bytes\":%llu,\"flash_bytes_written\":%llu,"
		"\"host_bytes_written\":%llu,\"write_amplification\":%.6f,\"rec_bytes\":%llu,"
		"\"pad_bytes\":%llu,\"backfills\":%llu,\"gc_runs\":%llu,\"gc_moves\":%llu,"
		"\"gc_bytes\":%llu,\"crc_errors\":%llu,\"media_errors\":%llu,"
		"\"aer_events\":%llu,\"index_bytes\":%llu,\"fabric_bytes\":[%llu,%llu],"
		"\"gc_urgent\":%llu,\"gc_waits\":%llu,\"gc_wait_ns\":%llu,\"log_bytes\":%llu,",
		(unsigned long long)l->key_bytes, (unsigned long long)l->value_bytes_in,
		(unsigned long long)l->value_bytes_out, (unsigned long long)l->nand_reads,
		(unsigned long long)l->nand_programs, (unsigned long long)l->nand_erases,
		(unsigned long long)l->nand_read_bytes, (unsigned long long)l->flash_bytes_written,
		(unsigned long long)l->host_bytes_written,
		ratio(l->flash_bytes_written, l->host_bytes_written),
		(unsigned long long)l->rec_bytes, (unsigned long long)l->pad_bytes,
		(unsigned long long)l->backfills, (unsigned long long)l->gc_runs,
		(unsigned long long)l->gc_moves, (unsigned long long)l->gc_bytes,
		(unsigned long long)l->crc_errors, (unsigned long long)l->media_errors,
		(unsigned long long)l->aer_events, (unsigned long long)l->index_bytes,
		(unsigned long long)l->fabric_bytes[0], (unsigned long long)l->fabric_bytes[1],
		(unsigned long long)l->gc_urgent, (unsigned long long)l->gc_waits,
		(unsigned long long)l->gc_wait_ns, (unsigned long long)l->log_bytes);
	fprintf(f, "\"latency_ns\":{");
	for (i = 0; i < KVC_OP_NUM; i++) {
		fprintf(f,
			"%s\"%s\":{\"p50\":%llu,\"p90\":%llu,\"p99\":%llu,\"p999\":%llu,"
			"\"hist\":[",
			i ? "," : "", op_label(i),
			(unsigned long long)kvc_lat_percentile(l->lat_hist[i], 50),
			(unsigned long long)kvc_lat_percentile(l->lat_hist[i], 90),
			(unsigned long long)kvc_lat_percentile(l->lat_hist[i], 99),
			(unsigned long long)kvc_lat_percentile(l->lat_hist[i], 99.9));
		/* Sparse: [bucket lower bound ns, count] pairs. */
		for (b = 0, first = 1; b < KVC_LAT_BUCKETS; b++) {
			if (!l->lat_hist[i][b])
				continue;
			fprintf(f, "%s[%llu,%llu]", first ? "" : ",",
				(unsigned long long)kvc_lat_bucket_lo((unsigned int)b),
				(unsigned long long)l->lat_hist[i][b]);
			first = 0;
		}
		fprintf(f, "]}");
	}
	fprintf(f, "}}\n");
}

void kvc_stats_print(FILE *f, const struct kvc_stats_log *l, int json)
{
	if (json)
		print_json(f, l);
	else
		print_text(f, l);
}
