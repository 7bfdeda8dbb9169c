/* SPDX-License-Identifier: MIT */
/* nvkv-bench: configuration (db_bench flag names) and the runner. */
#ifndef BENCH_BENCH_H
#define BENCH_BENCH_H

#include <stdbool.h>
#include <stdint.h>

struct bench_cfg {
	char *benchmarks;
	int64_t num, reads, key_size, value_size;
	char *value_size_distribution_type;
	int64_t value_size_min, value_size_max;
	int64_t threads, duration, seed, seek_nexts;
	bool histogram, statistics;
	int64_t benchmark_write_rate_limit;
	double key_dist_a, key_dist_b;
	double keyrange_dist_a, keyrange_dist_b, keyrange_dist_c, keyrange_dist_d;
	int64_t keyrange_num;
	double value_theta, value_k, value_sigma;
	double iter_theta, iter_k, iter_sigma;
	double mix_get_ratio, mix_put_ratio, mix_seek_ratio;
	int64_t mix_max_value_size, mix_max_scan_len;
	bool sine_mix_rate;
	double sine_a, sine_b, sine_c, sine_d;
	int64_t sine_mix_rate_interval_milliseconds;
	char *device, *engine, *xfer;
	bool xfer_strict;     /* refuse Stores --xfer cannot carry (else they go by PRP) */
	char *db;	      /* --engine=rocksdb: the database directory */
	bool use_existing_db; /* ... keep what it holds */
	int64_t qd;
	int64_t readwritepercent; /* readrandomwriterandom: reads of every 100 ops */
	int64_t batch_size;	  /* multireadrandom: keys per MultiGet */
	int64_t multiread_stride; /* ... 0: random keys, else key, key + stride, ... */
	bool multiread_batched;	  /* ... RocksDB's batched MultiGet (accepted) */
	char *json;
	bool progress;
	int64_t report_interval_seconds; /* db_bench: a throughput row every N s (0: none) */
	char *report_file;		 /* ... written here (CSV) */
	char *trace_file;
	double trace_replay_fast_forward;
	/* RocksDB tuning db_bench scripts pass: applied by --engine=rocksdb when
	 * given (bench_tuning_given()), reported as not applicable by kv. */
	char *compression_type;
	int64_t cache_size, bloom_bits, block_size, write_buffer_size, max_write_buffer_number;
	int64_t target_file_size_base, max_bytes_for_level_base, open_files, max_background_jobs;
	int64_t level0_file_num_compaction_trigger, level0_slowdown_writes_trigger;
	int64_t level0_stop_writes_trigger, stats_interval_seconds;
	bool sync, disable_wal, use_direct_reads, use_direct_io_for_flush_and_compaction;
	int64_t soft_pending_compaction_bytes_limit, hard_pending_compaction_bytes_limit;
	int64_t max_background_compactions, max_background_flushes;
	bool disable_slowdown; /* slowdown trigger = stop trigger, no soft limit */
	int64_t bytes_per_sync, wal_bytes_per_sync, compaction_style, num_levels, subcompactions;
	int64_t delete_obsolete_files_period_micros, max_total_wal_size;
	int64_t min_write_buffer_number_to_merge, compression_max_dict_bytes, min_blob_size;
	double max_bytes_for_level_multiplier, compression_ratio;
	char *wal_dir;
	bool cache_index_and_filter_blocks, pin_l0_filter_and_index_blocks_in_cache;
	bool disable_auto_compactions, level_compaction_dynamic_level_bytes, verify_checksum;
	bool allow_concurrent_memtable_write, enable_pipelined_write, mmap_read, mmap_write;
	bool enable_blob_files;
	/* db_bench flags scripts pass that nvkv-bench accepts and applies nowhere */
	int64_t cache_numshardbits, stats_per_interval, min_level_to_compress;
	double cache_high_pri_pool_ratio;
	char *memtablerep, *merge_operator, *undefok;
	bool compaction_measure_io_stats;
	/* --engine=kvaccel (docs/kvaccel.md) */
	char *rollback;
	int64_t kva_interval_ms, kva_l0_high, kva_l0_low, kva_pending_high, kva_pending_low;
	int64_t kva_lazy_idle_ms, kva_rollback_batch, kva_rollback_pause_ms;
	bool kva_no_write_signal;
	int64_t kva_guard_lat_us, kva_guard_lat_low_us, kva_guard_free_pct, kva_guard_free_high_pct;
};

/* Whether RocksDB tuning flag @name (e.g. "cache_size") was on the command line. */
bool bench_tuning_given(const char *name);

/* Print "nvkv-bench: <message>" to stderr; returns 2 (usage error). */
int bench_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Run every benchmark for every transfer method; returns the exit status. */
int bench_run(const struct bench_cfg *c);

#endif /* BENCH_BENCH_H */
