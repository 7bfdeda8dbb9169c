/* SPDX-License-Identifier: MIT */
/*
 * Inside nvkv-bench: what the runner (run.c) and the report writer
 * (report.c) share about a benchmark run.
 */
#ifndef BENCH_RUNNER_H
#define BENCH_RUNNER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "bench.h"
#include "engine.h"
#include "hist.h"
#include "hostdrv/nvkv.h"
#include "series.h"
#include "trace.h"

enum op_kind { K_READ, K_WRITE, K_DELETE, K_SEEK, K_NUM };

enum workload {
	W_FILLSEQ,
	W_FILLRANDOM,
	W_OVERWRITE,
	W_READRANDOM,
	W_READSEQ,
	W_READWHILEWRITING,
	W_SEEKRANDOM,
	W_DELETERANDOM,
	W_MIXGRAPH,
	W_B,
	W_C,
	W_D,
	W_M,
	W_REPLAY,
	W_READRANDOMWRITERANDOM,
	W_UPDATERANDOM,
	W_MULTIREADRANDOM,
};

struct workload_def {
	const char *name;
	enum workload w;
	bool reads;	/* --reads operations per thread (else --num) */
	bool finds;	/* the result line says how many lookups found their key */
	bool own_sizes; /* value sizes come from the workload, not --value_size */
};

struct run {
	const struct bench_cfg *c;
	struct bench_engine *e;
	const struct workload_def *def;
	enum nvkv_xfer xfer;
	uint64_t ops_per_worker;
	unsigned int first_thread; /* db_bench's thread count before this run, + 1 */
	unsigned int nworkers;
	uint32_t max_value;
	atomic_ullong done;
	atomic_bool readers_done;
	atomic_uint finished; /* workers that returned */
	uint64_t deadline;
	struct bench_trace_reader *replay; /* the trace being replayed */
	struct bench_trace_writer *record; /* where operations are recorded */
	uint64_t replay_skipped;	   /* merges and unsupported records */
	int interrupted;		   /* the signal that ended this benchmark, or 0 */
	char replay_err[256];
	struct bench_series series; /* --report_interval_seconds */
};

struct result {
	uint64_t ops, found, bytes, errors;
	double seconds, thread_seconds;
	struct bench_hist h[K_NUM];
	struct kvc_stats_log before, after;
	bool have_dev;
	int err;
	char msg[192]; /* db_bench's message: one reader's, e.g. "(F of N found)" */
};

/* The transfer method of a run, "none" for engines without methods. */
const char *bench_xfer_label(const struct run *r);
/* The signal (SIGINT, SIGTERM) that interrupted the run, or 0. */
int bench_interrupted(void);

#define BENCH_LABEL_MAX 256
/* What a run's Stores really travelled by, e.g. "byteexpress (prp for 10 of
 * 10: value > 3968 B: ...)"; just the method when it carried them all. */
const char *bench_xfer_describe(const struct run *r, const struct result *res, char *buf,
				size_t len);
/* db_bench's result line (+ histograms), then ours. */
void bench_report_print(const struct run *r, const struct result *res);
/* One run as a JSON object of the "runs" array (@first: no comma before). */
void bench_report_json(FILE *f, const struct run *r, const struct result *res, bool first);
/* The report's opening: tool, config, and the "runs" array opened. */
/* The JSON's head: tool, clock ("virtual time" or "real time"), config. */
void bench_report_json_config(FILE *f, const struct bench_cfg *c, bool virtual_time,
			      const char *backend);

#endif /* BENCH_RUNNER_H */
