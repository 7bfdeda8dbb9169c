// SPDX-License-Identifier: MIT
/*
 * nvkv-bench: db_bench-style workloads against a KV device.  db_bench's flag
 * names and output formats where db_bench has the concept, so scripts
 * written for db_bench parse the results; then nvkv's own lines: PCIe bytes
 * and TLPs per operation, traffic amplification, NAND page programs and
 * write amplification, for each transfer method compared.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "engine.h"
#include "gen.h"
#include "hostdrv/nvkv.h"

/* ---- flags ------------------------------------------------------------------ */

struct bench_cfg cfg;

enum flag_type { F_STR, F_I64, F_DBL, F_BOOL };

struct flag {
	const char *name;
	enum flag_type type;
	void *ptr;
	const char *help;
	/* RocksDB tuning: the kv engine reports it as not applicable; TUNE_NOWHERE:
	 * accepted for db_bench's scripts, applied by no engine (both say so) */
	int tuning;
};

enum { TUNE_ROCKSDB = 1, TUNE_NOWHERE = 2 };

#define S(n, h)                             \
	{                                   \
#n, F_STR, &cfg.n, h, false \
	}
#define I(n, h)                             \
	{                                   \
#n, F_I64, &cfg.n, h, false \
	}
#define D(n, h)                             \
	{                                   \
#n, F_DBL, &cfg.n, h, false \
	}
#define B(n, h)                              \
	{                                    \
#n, F_BOOL, &cfg.n, h, false \
	}

#define T(n, t, h)                             \
	{                                      \
#n, t, &cfg.n, h, TUNE_ROCKSDB \
	}
#define TN(n, t, h)                            \
	{                                      \
#n, t, &cfg.n, h, TUNE_NOWHERE \
	}

static const struct flag flags[] = {
	S(benchmarks, "comma list run in order: fillseq fillrandom overwrite readrandom readseq "
		      "readwhilewriting seekrandom deleterandom readrandomwriterandom "
		      "updaterandom multireadrandom mixgraph wB wC wD wM replay"),
	I(num, "keys (fills: operations per thread)"),
	I(reads, "read operations per thread; -1: --num"),
	I(key_size, "key bytes, 1..16 on a KV device"),
	I(value_size, "value bytes (fixed distribution)"),
	S(value_size_distribution_type, "fixed, uniform or normal"),
	I(value_size_min, "smallest value for uniform/normal"),
	I(value_size_max, "largest value for uniform/normal"),
	I(threads, "worker threads, each with its own queue"),
	I(duration, "seconds per benchmark; 0: run --num/--reads operations"),
	I(seed, "random seed (same seed, same operations); 0: from the clock, printed"),
	I(seek_nexts, "values read after each seek"),
	I(readwritepercent, "readrandomwriterandom: reads of every 100 operations"),
	I(batch_size, "multireadrandom: keys per MultiGet (1..1024)"),
	I(multiread_stride, "multireadrandom: 0 random keys, else consecutive keys this far apart"),
	B(multiread_batched, "multireadrandom: RocksDB's batched MultiGet (kv: always one batch "
			     "of Retrieves)"),
	B(histogram, "print latency histograms"),
	B(statistics, "print the device statistics after each benchmark"),
	I(benchmark_write_rate_limit, "bytes/s of puts per thread; 0: unlimited"),
	D(key_dist_a, "mixgraph power-law key hotness a"),
	D(key_dist_b, "mixgraph power-law key hotness b"),
	D(keyrange_dist_a, "mixgraph key-range hotness a (a e^(bx) + c e^(dx))"),
	D(keyrange_dist_b, "... b"),
	D(keyrange_dist_c, "... c"),
	D(keyrange_dist_d, "... d"),
	I(keyrange_num, "mixgraph key ranges"),
	D(value_theta, "mixgraph value size Pareto theta"),
	D(value_k, "... k"),
	D(value_sigma, "... sigma"),
	D(iter_theta, "mixgraph scan length Pareto theta"),
	D(iter_k, "... k"),
	D(iter_sigma, "... sigma"),
	D(mix_get_ratio, "mixgraph share of gets"),
	D(mix_put_ratio, "mixgraph share of puts"),
	D(mix_seek_ratio, "mixgraph share of seeks"),
	I(mix_max_value_size, "mixgraph largest value (wraps)"),
	I(mix_max_scan_len, "mixgraph longest scan"),
	B(sine_mix_rate, "vary mixgraph's rate as sine_a sin(sine_b t + sine_c) + sine_d ops/s"),
	D(sine_a, "sine amplitude"),
	D(sine_b, "sine frequency (rad/s)"),
	D(sine_c, "sine phase"),
	D(sine_d, "sine offset"),
	I(sine_mix_rate_interval_milliseconds, "how often the sine rate is recomputed"),
	S(device, "device string (nvkv-emu socket)"),
	S(engine, "engine: kv (the device) or rocksdb (Debian's RocksDB in --db, a baseline)"),
	S(db, "--engine=rocksdb: database directory (emptied first unless --use_existing_db)"),
	B(use_existing_db, "keep what the store holds (else: kv formats the KV namespace, "
			   "rocksdb empties --db)"),
	S(xfer, "transfer method, or a comma list to compare: prp bandslim adaptive "
		"adaptive-cost byteexpress sgl"),
	B(xfer_strict, "a Store the --xfer method cannot carry fails (Operation not supported) "
		       "instead of going by prp"),
	{ "strict_xfer", F_BOOL, &cfg.xfer_strict, "same as --xfer_strict", false },
	I(qd, "asynchronous queue depth per thread"),
	S(json, "write every figure of the run to this file"),
	B(progress, "progress on stderr for long runs"),
	I(report_interval_seconds, "a row of ops (and P99, engine figures: --json) every N "
				   "seconds; 0: none"),
	S(report_file, "the rows as db_bench writes them (secs_elapsed,interval_qps)"),
	S(trace_file, "replay: the RocksDB trace to replay; other benchmarks: record their "
		      "operations here"),
	D(trace_replay_fast_forward, "replay this many times faster than recorded (0: no "
				     "pauses)"),
	/* db_bench's RocksDB tuning: --engine=rocksdb applies them, kv reports them. */
	T(compression_type, F_STR, "rocksdb: none snappy zlib bzip2 lz4 lz4hc xpress zstd"),
	T(cache_size, F_I64, "rocksdb: block cache bytes"),
	T(bloom_bits, F_I64, "rocksdb: bloom filter bits per key"),
	T(block_size, F_I64, "rocksdb: block bytes"),
	T(write_buffer_size, F_I64, "rocksdb: memtable bytes"),
	T(max_write_buffer_number, F_I64, "rocksdb: memtables"),
	T(target_file_size_base, F_I64, "rocksdb: SST file bytes at L1"),
	T(max_bytes_for_level_base, F_I64, "rocksdb: L1 bytes"),
	T(open_files, F_I64, "rocksdb: max open files"),
	T(max_background_jobs, F_I64, "rocksdb: flush + compaction threads"),
	T(level0_file_num_compaction_trigger, F_I64, "rocksdb: L0 files that start compaction"),
	T(level0_slowdown_writes_trigger, F_I64, "rocksdb: L0 files that slow writes"),
	T(level0_stop_writes_trigger, F_I64, "rocksdb: L0 files that stop writes"),
	T(stats_interval_seconds, F_I64, "rocksdb: statistics dump period (s)"),
	T(sync, F_BOOL, "rocksdb: sync every write"),
	T(disable_wal, F_BOOL, "rocksdb: no write-ahead log"),
	T(use_direct_reads, F_BOOL, "rocksdb: O_DIRECT reads"),
	T(use_direct_io_for_flush_and_compaction, F_BOOL, "rocksdb: O_DIRECT flush/compaction"),
	T(soft_pending_compaction_bytes_limit, F_I64, "rocksdb: pending bytes that slow writes"),
	T(hard_pending_compaction_bytes_limit, F_I64, "rocksdb: pending bytes that stop writes"),
	T(max_background_compactions, F_I64, "rocksdb: compaction threads"),
	T(max_background_flushes, F_I64, "rocksdb: flush threads"),
	T(disable_slowdown, F_BOOL,
	  "rocksdb: no slowdown (stalls allowed): L0 slowdown trigger "
	  "= stop trigger, no soft pending limit"),
	T(bytes_per_sync, F_I64, "rocksdb: sync SST files every this many bytes"),
	T(wal_bytes_per_sync, F_I64, "rocksdb: sync the WAL every this many bytes"),
	T(cache_index_and_filter_blocks, F_BOOL, "rocksdb: index and filter blocks in the cache"),
	T(pin_l0_filter_and_index_blocks_in_cache, F_BOOL, "rocksdb: ... pinned for L0"),
	T(compaction_style, F_I64, "rocksdb: 0 level, 1 universal, 2 FIFO"),
	T(delete_obsolete_files_period_micros, F_I64, "rocksdb: obsolete file deletion period"),
	T(disable_auto_compactions, F_BOOL, "rocksdb: no automatic compactions"),
	T(level_compaction_dynamic_level_bytes, F_BOOL, "rocksdb: dynamic level sizes"),
	T(max_bytes_for_level_multiplier, F_DBL, "rocksdb: level size multiplier"),
	T(num_levels, F_I64, "rocksdb: LSM levels"),
	T(subcompactions, F_I64, "rocksdb: max subcompactions"),
	T(verify_checksum, F_BOOL, "rocksdb: verify checksums on reads"),
	T(wal_dir, F_STR, "rocksdb: WAL directory (default: --db)"),
	T(allow_concurrent_memtable_write, F_BOOL, "rocksdb: concurrent memtable writes"),
	T(enable_pipelined_write, F_BOOL, "rocksdb: pipelined writes"),
	T(max_total_wal_size, F_I64, "rocksdb: WAL bytes that force a flush (0: auto)"),
	T(mmap_read, F_BOOL, "rocksdb: mmap SST files for reads"),
	T(mmap_write, F_BOOL, "rocksdb: mmap for writes"),
	T(min_write_buffer_number_to_merge, F_I64, "rocksdb: memtables merged in a flush"),
	T(compression_max_dict_bytes, F_I64, "rocksdb: compression dictionary bytes"),
	T(enable_blob_files, F_BOOL, "rocksdb: values in blob files (BlobDB)"),
	T(min_blob_size, F_I64, "rocksdb: smallest value put in a blob file"),
	T(compression_ratio, F_DBL,
	  "rocksdb: the header's FileSize estimate (values are random here)"),
	TN(cache_numshardbits, F_I64, "accepted, not applied (db_bench: cache shards)"),
	TN(cache_high_pri_pool_ratio, F_DBL, "accepted, not applied"),
	TN(memtablerep, F_STR, "accepted, not applied (RocksDB's skip list)"),
	TN(min_level_to_compress, F_I64, "accepted, not applied"),
	TN(stats_per_interval, F_I64, "accepted, not applied"),
	TN(compaction_measure_io_stats, F_BOOL, "accepted, not applied"),
	TN(merge_operator, F_STR, "accepted, not applied (no merges are issued)"),
	TN(undefok, F_STR, "accepted, not applied (db_bench's gflags)"),
	/* --engine=kvaccel: RocksDB (--db, the flags above) + the device (--device). */
	S(rollback, "kvaccel: rollback policy eager, lazy or off"),
	I(kva_interval_ms, "kvaccel: detector period (ms)"),
	I(kva_l0_high, "kvaccel: L0 files that start a stall (0: stop trigger - 2)"),
	I(kva_l0_low, "kvaccel: L0 files that end it (0: stop trigger - 10)"),
	I(kva_pending_high,
	  "kvaccel: pending compaction bytes that start a stall (0: hard - 2 MiB)"),
	I(kva_pending_low, "kvaccel: ... that end it (0: soft / 2)"),
	I(kva_lazy_idle_ms, "kvaccel: lazy rollback after writes idle this long (ms)"),
	I(kva_rollback_batch, "kvaccel: pairs per rollback batch"),
	I(kva_rollback_pause_ms, "kvaccel: pause between rollback batches (ms)"),
	B(kva_no_write_signal, "kvaccel: no per-write signal (the paper's detector only)"),
	I(kva_guard_lat_us,
	  "kvaccel: device Store time average that stops redirection (us, 0: off)"),
	I(kva_guard_lat_low_us, "kvaccel: ... that lets it resume (us)"),
	I(kva_guard_free_pct, "kvaccel: device space free that stops redirection (%, 0: off)"),
	I(kva_guard_free_high_pct, "kvaccel: ... that lets it resume (%)"),
};

#define NFLAGS (sizeof(flags) / sizeof(flags[0]))

static bool given[NFLAGS];

bool bench_tuning_given(const char *name)
{
	size_t i;

	for (i = 0; i < NFLAGS; i++)
		if (flags[i].tuning && !strcmp(flags[i].name, name))
			return given[i];
	return false;
}

/* Name the given flags of class @mask once on stderr, then @why. */
static void name_flags(int mask, const char *why)
{
	const char *sep = "";
	size_t i;
	int n = 0;

	for (i = 0; i < NFLAGS; i++) {
		if (!(flags[i].tuning & mask) || !given[i])
			continue;
		if (!n++)
			fprintf(stderr, "nvkv-bench: ");
		fprintf(stderr, "%s--%s", sep, flags[i].name);
		sep = ", ";
	}
	if (n)
		fprintf(stderr, ": %s\n", why);
}

/* The kv engine has no use for RocksDB tuning, and some db_bench flags no
 * engine here applies: say so once, run anyway. */
static void report_tuning(void)
{
	if (!strcmp(cfg.engine, "kv")) {
		name_flags(TUNE_ROCKSDB | TUNE_NOWHERE,
			   "RocksDB tuning, not applicable to the kv engine (ignored)");
		return;
	}
	name_flags(TUNE_NOWHERE, "accepted for db_bench's scripts, not applied (ignored)");
}

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: nvkv-bench --device SOCK --benchmarks=LIST [--flag=value ...]\n"
		   "       nvkv-bench --engine=rocksdb --db DIR --benchmarks=LIST [...]\n\n"
		   "db_bench-style workloads on an NVMe KV device (or on RocksDB, the host\n"
		   "baseline).  Flags (db_bench names):\n");
	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		char def[64];

		switch (flags[i].type) {
		case F_STR:
			snprintf(def, sizeof(def), "%s", *(char **)flags[i].ptr);
			break;
		case F_I64:
			snprintf(def, sizeof(def), "%lld", (long long)*(int64_t *)flags[i].ptr);
			break;
		case F_DBL:
			snprintf(def, sizeof(def), "%g", *(double *)flags[i].ptr);
			break;
		case F_BOOL:
			snprintf(def, sizeof(def), "%d", *(bool *)flags[i].ptr);
			break;
		}
		fprintf(f, "  --%-38s %s [%s]\n", flags[i].name, flags[i].help, def);
	}
}

static int set_flag(const struct flag *fl, const char *v)
{
	char *end;

	switch (fl->type) {
	case F_STR:
		*(char **)fl->ptr = strdup(v);
		return 0;
	case F_I64:
		*(int64_t *)fl->ptr = strtoll(v, &end, 0);
		return *v && !*end ? 0 : -EINVAL;
	case F_DBL:
		*(double *)fl->ptr = strtod(v, &end);
		return *v && !*end ? 0 : -EINVAL;
	case F_BOOL:
		if (!strcmp(v, "1") || !strcmp(v, "true"))
			*(bool *)fl->ptr = true;
		else if (!strcmp(v, "0") || !strcmp(v, "false"))
			*(bool *)fl->ptr = false;
		else
			return -EINVAL;
		return 0;
	}
	return -EINVAL;
}

static void defaults(void)
{
	struct bench_mix_params m;

	memset(&cfg, 0, sizeof(cfg));
	bench_mix_defaults(&m, 1000000);
	cfg.benchmarks = "fillrandom,readrandom";
	cfg.num = 1000000;
	cfg.reads = -1;
	cfg.key_size = 16;
	cfg.value_size = 100;
	cfg.value_size_distribution_type = "fixed";
	cfg.value_size_min = 100;
	cfg.value_size_max = 102400;
	cfg.threads = 1;
	cfg.seed = 0;
	cfg.seek_nexts = 0;
	cfg.readwritepercent = 90;
	cfg.batch_size = 1;
	cfg.key_dist_a = m.key_dist_a;
	cfg.key_dist_b = m.key_dist_b;
	cfg.keyrange_dist_a = m.keyrange_dist_a;
	cfg.keyrange_dist_b = m.keyrange_dist_b;
	cfg.keyrange_dist_c = m.keyrange_dist_c;
	cfg.keyrange_dist_d = m.keyrange_dist_d;
	cfg.keyrange_num = m.keyrange_num;
	cfg.value_k = m.value_k;
	cfg.value_sigma = m.value_sigma;
	cfg.iter_k = m.iter_k;
	cfg.iter_sigma = m.iter_sigma;
	cfg.mix_get_ratio = m.get_ratio;
	cfg.mix_put_ratio = m.put_ratio;
	cfg.mix_seek_ratio = m.seek_ratio;
	cfg.mix_max_value_size = m.max_value_size;
	cfg.mix_max_scan_len = m.max_scan_len;
	cfg.sine_mix_rate_interval_milliseconds = 10000;
	cfg.device = "/tmp/nvkv.sock";
	cfg.engine = "kv";
	cfg.db = "/tmp/nvkv-bench-rocksdb";
	cfg.xfer = "adaptive";
	cfg.qd = 32;
	cfg.json = "";
	cfg.progress = true;
	cfg.report_file = "report.csv";
	cfg.trace_file = "";
	cfg.trace_replay_fast_forward = 1.0;
	cfg.compression_type = "snappy";
	cfg.cache_size = 8 << 20;
	cfg.bloom_bits = -1;
	cfg.block_size = 4096;
	cfg.write_buffer_size = 64 << 20;
	cfg.max_write_buffer_number = 2;
	cfg.target_file_size_base = 64 << 20;
	cfg.max_bytes_for_level_base = 256 << 20;
	cfg.open_files = -1;
	cfg.max_background_jobs = 2;
	cfg.level0_file_num_compaction_trigger = 4;
	cfg.level0_slowdown_writes_trigger = 20;
	cfg.level0_stop_writes_trigger = 36;
	cfg.stats_interval_seconds = 0;
	cfg.delete_obsolete_files_period_micros = 21600000000ll;
	cfg.compaction_style = 0;
	cfg.max_bytes_for_level_multiplier = 10;
	cfg.num_levels = 7;
	cfg.subcompactions = 1;
	cfg.verify_checksum = true;
	cfg.wal_dir = "";
	cfg.allow_concurrent_memtable_write = true;
	cfg.min_write_buffer_number_to_merge = 1;
	cfg.compression_ratio = 0.5;
	cfg.cache_numshardbits = 6;
	cfg.cache_high_pri_pool_ratio = 0.0;
	cfg.memtablerep = "skip_list";
	cfg.merge_operator = "";
	cfg.undefok = "";
	cfg.rollback = "eager";
	cfg.kva_interval_ms = 100;
	cfg.kva_lazy_idle_ms = 500;
	cfg.kva_rollback_batch = 64;
	cfg.kva_rollback_pause_ms = 1;
	cfg.kva_guard_lat_us = 2000;
	cfg.kva_guard_lat_low_us = 1000;
	cfg.kva_guard_free_pct = 10;
	cfg.kva_guard_free_high_pct = 20;
}

static int parse_args(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *eq, *val;
		char name[96];
		size_t n, k;

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			exit(0);
		}
		if (strncmp(a, "--", 2) && strncmp(a, "-", 1))
			return bench_fail("unexpected argument '%s' (see --help)", a);
		a += a[1] == '-' ? 2 : 1;
		eq = strchr(a, '=');
		n = eq ? (size_t)(eq - a) : strlen(a);
		if (n >= sizeof(name))
			return bench_fail("unknown flag '%s'", argv[i]);
		memcpy(name, a, n);
		name[n] = 0;
		for (k = 0; k < n; k++) /* --xfer-strict is --xfer_strict */
			if (name[k] == '-')
				name[k] = '_';
		for (k = 0; k < sizeof(flags) / sizeof(flags[0]); k++)
			if (!strcmp(flags[k].name, name))
				break;
		if (k == sizeof(flags) / sizeof(flags[0]))
			return bench_fail("unknown flag '--%s' (see --help)", name);
		if (eq)
			val = eq + 1;
		else if (flags[k].type == F_BOOL)
			val = "1";
		else if (i + 1 < argc)
			val = argv[++i];
		else
			return bench_fail("--%s needs a value", name);
		/* Given again: the copy the last one made goes (defaults are literals). */
		if (flags[k].type == F_STR && given[k])
			free(*(char **)flags[k].ptr);
		if (set_flag(&flags[k], val))
			return bench_fail("--%s: bad value '%s'", name, val);
		given[k] = true;
	}
	return 0;
}

static int check_cfg(void)
{
	enum nvkv_xfer m;
	char *list, *tok, *save;

	if (cfg.num < 1)
		return bench_fail("--num must be >= 1");
	if (cfg.key_size < 1 || cfg.key_size > 16)
		return bench_fail("--key_size must be 1..16 on a KV device (got %lld)",
				  (long long)cfg.key_size);
	if (cfg.value_size < 0 || cfg.value_size > (2 << 20))
		return bench_fail("--value_size must be 0..2097152");
	if (cfg.threads < 1 || cfg.threads > 32)
		return bench_fail("--threads must be 1..32");
	if (cfg.qd < 1 || cfg.qd > 1000)
		return bench_fail("--qd must be 1..1000");
	if (cfg.readwritepercent < 0 || cfg.readwritepercent > 100)
		return bench_fail("--readwritepercent must be 0..100");
	if (cfg.batch_size < 1 || cfg.batch_size > 1024)
		return bench_fail("--batch_size must be 1..1024");
	if (cfg.multiread_stride < 0)
		return bench_fail("--multiread_stride must be >= 0");
	if (strcmp(cfg.value_size_distribution_type, "fixed") &&
	    strcmp(cfg.value_size_distribution_type, "uniform") &&
	    strcmp(cfg.value_size_distribution_type, "normal"))
		return bench_fail(
			"--value_size_distribution_type must be fixed, uniform or normal");
	if (cfg.value_size_min < 0 || cfg.value_size_max < cfg.value_size_min ||
	    cfg.value_size_max > (2 << 20))
		return bench_fail("need 0 <= --value_size_min <= --value_size_max <= 2097152");
	if (!bench_engine_find(cfg.engine))
		return bench_fail("unknown --engine '%s' (available: kv, rocksdb, kvaccel)",
				  cfg.engine);
	list = strdup(cfg.xfer);
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (nvkv_xfer_parse(tok, &m)) {
			int rc = bench_fail("unknown transfer method '%s' in --xfer", tok);

			free(list);
			return rc;
		}
	}
	free(list);
	if (cfg.trace_replay_fast_forward < 0)
		return bench_fail("--trace_replay_fast_forward must be >= 0");
	if (!strstr(" none snappy zlib bzip2 lz4 lz4hc xpress zstd ", cfg.compression_type) ||
	    !*cfg.compression_type || strchr(cfg.compression_type, ' '))
		return bench_fail(
			"--compression_type must be none, snappy, zlib, bzip2, lz4, lz4hc, "
			"xpress or zstd");
	if (cfg.compaction_style < 0 || cfg.compaction_style > 2)
		return bench_fail(
			"--compaction_style must be 0 (level), 1 (universal) or 2 (FIFO)");
	if (cfg.compression_ratio <= 0 || cfg.compression_ratio > 1)
		return bench_fail("--compression_ratio must be in (0, 1]");
	if (cfg.reads < 0)
		cfg.reads = cfg.num;
	if (!cfg.seed) { /* db_bench: 0 is a seed from the clock, printed to repeat the run */
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		cfg.seed = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
		printf("Set seed to %llu because --seed was 0\n", (unsigned long long)cfg.seed);
	}
	report_tuning();
	return 0;
}

int main(int argc, char **argv)
{
	int rc;

	defaults();
	rc = parse_args(argc, argv);
	if (!rc)
		rc = check_cfg();
	if (rc)
		return rc;
	return bench_run(&cfg);
}
