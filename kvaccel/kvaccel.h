/* SPDX-License-Identifier: MIT */
/*
 * kvaccel: RocksDB whose writes go to a KV-SSD while RocksDB stalls (KVAccel,
 * IPDPS'25, with a per-write stall signal added).
 *
 * A store is a RocksDB database (the Main-LSM: Debian's librocksdb) plus the
 * KV namespace of an nvkv device (the Dev path: any libnvkv device string).
 * A detector polls RocksDB's stall properties; while it says "stall", and for
 * any single write RocksDB would delay or stop (a Put with no_slowdown that
 * fails with Incomplete), the write goes to the device instead.  A metadata
 * manager remembers which keys have their newest version on the device; a
 * rollback manager moves them back into RocksDB (eagerly, as soon as the
 * pressure falls below the low thresholds, or lazily, once writes have been
 * idle for a while) by range scan: the device's sorted List + Retrieve in
 * batches, one RocksDB write batch with its WAL synced, then device Deletes.
 *
 * The invariant everything keeps, also across crashes: **a key present on the
 * device has its newest version there.**  Writes that go to RocksDB for a key
 * on the device write RocksDB first (WAL synced) and delete the device copy
 * before they return; reads look at the device first for keys the metadata
 * holds; reopening lists the KV namespace to rebuild the metadata.  So the
 * device's KV namespace must belong to one kvaccel store only.
 *
 * Return values: 0 or a negative errno (-EINVAL bad argument, -ENOENT key not
 * found, -EIO a RocksDB error, -ENODEV device gone, ...); kva_open() explains
 * failures in its @why buffer.
 *
 * Threads: every call may be made from any number of threads at once, except
 * kva_close().  An iterator is used by one thread at a time.
 */
#ifndef KVACCEL_H
#define KVACCEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct kva;
struct kva_iter;

enum kva_rollback {
	KVA_ROLLBACK_EAGER = 0, /* as soon as pressure is below the low thresholds */
	KVA_ROLLBACK_LAZY,	/* ... and writes have been idle for lazy_idle_ms */
	KVA_ROLLBACK_OFF,	/* only through kva_rollback() */
};

/* What the detector reads: RocksDB's properties of the same names. */
struct kva_props {
	uint64_t l0_files;	 /* rocksdb.num-files-at-level0 */
	uint64_t memtable_bytes; /* rocksdb.cur-size-all-mem-tables */
	uint64_t pending_bytes;	 /* rocksdb.estimate-pending-compaction-bytes */
	uint64_t write_stopped;	 /* rocksdb.is-write-stopped */
	uint64_t delayed_rate;	 /* rocksdb.actual-delayed-write-rate (0: no delay) */
};

/*
 * Stall thresholds.  "stall" starts when any *_high is reached (or writes are
 * stopped, or delayed when stall_on_delay); it ends only when every value is
 * at or below its *_low and writes are neither stopped nor delayed
 * (hysteresis).  A threshold of 0 is not checked; KVA_TH_AUTO (the default)
 * is derived at kva_open() from the RocksDB options as shown.
 */
#define KVA_TH_AUTO UINT64_MAX
struct kva_thresholds {
	uint64_t l0_high, l0_low;   /* level0_stop_writes_trigger - 2, - 10 (36: 34, 26) */
	uint64_t mem_high, mem_low; /* 90% / 50% of write_buffer_size * max_write_buffer_number */
	uint64_t pending_high, pending_low; /* hard limit - 2 MiB, soft limit / 2 */
	bool stall_on_delay;		    /* a delayed write rate counts as stall (true) */
};

/*
 * The device guard: redirection stops (writes go to RocksDB and wait there as
 * plain RocksDB's would) while the device is slower than the stall it would
 * avoid or short of space, and resumes when that passes (hysteresis).  It
 * holds when the moving average of redirected puts' device Store time reaches
 * lat_high_us, or the device's free space (capacity - utilization from
 * Identify, polled by the detector every interval and counted down by each
 * redirected pair in between) falls below free_low_pct of its capacity (or
 * its free key slots below free_low_pct of max_keys); it lets go only when
 * the average is at or below lat_low_us and free_high_pct is free.  Nothing
 * measures the device while it holds, so the average halves every detector
 * interval: redirection is tried again after a back-off.  While it holds for
 * space, rollback runs even during a stall (as far as RocksDB takes it
 * without waiting) and lazy rollback does not wait for idle writes.  0
 * disables a check.
 */
struct kva_guard_th {
	uint32_t lat_high_us, lat_low_us;     /* 2000, 1000: RocksDB's delayed P99 is ~2.5 ms */
	uint32_t free_low_pct, free_high_pct; /* 10, 20 */
};

/* What the guard reads. */
struct kva_guard_in {
	uint64_t lat_ns;	 /* moving average of device Store time (1/8 weight) */
	uint64_t capacity, used; /* bytes (capacity 0: unknown, not checked) */
	uint64_t max_keys, keys; /* max_keys 0: no limit */
};

/* A source of properties other than RocksDB's (tests): 0 or -errno. */
typedef int (*kva_props_fn)(void *arg, struct kva_props *p);

struct kva_opts {
	/* RocksDB options; NULL: defaults with create_if_missing.  Copied: the
	 * caller keeps ownership.  (rocksdb_options_t from <rocksdb/c.h>.) */
	void *rocksdb_options;
	const char *db_path;  /* RocksDB directory (created if missing) */
	const char *device;   /* libnvkv device string: socket, "sim", "sim:FILE.ini" */
	uint32_t interval_ms; /* detector period (100) */
	struct kva_thresholds th;
	bool per_write_signal; /* no_slowdown Puts, redirected on Incomplete (true) */
	enum kva_rollback rollback;
	uint32_t lazy_idle_ms;	    /* lazy: writes idle this long (500) */
	uint32_t rollback_batch;    /* pairs per List / write batch (64) */
	uint32_t rollback_pause_ms; /* sleep between batches: the throttle (1) */
	struct kva_guard_th guard;  /* device guard (defaults shown there) */
	kva_props_fn props;	    /* NULL: RocksDB's properties */
	void *props_arg;
};

/* Fill @o with the defaults shown above (db_path and device NULL). */
void kva_opts_default(struct kva_opts *o);

/**
 * kva_open() - open the RocksDB database and the device's KV namespace.
 * @o: options (db_path and device required).
 * @out: receives the store.
 * @why: receives a one-line reason on failure (may be NULL with @whylen 0).
 *
 * Lists the device's keys to rebuild the metadata (keys whose newest version
 * is on the device), then starts the detector and rollback threads.
 * Return: 0; -EINVAL (missing fields, thresholds with low above high);
 * -EIO RocksDB could not open the directory (@why has RocksDB's message);
 * -EPROTONOSUPPORT the device has no KV namespace; nvkv_open()'s errors
 * (negative errno) for the device; -ENOMEM.
 */
int kva_open(const struct kva_opts *o, struct kva **out, char *why, size_t whylen);

/* Stop the threads and close both stores.  Redirected pairs stay on the
 * device (durable) and are found again by the next kva_open().  NULL ok. */
void kva_close(struct kva *db);

/**
 * kva_put() - store a pair; never waits on RocksDB's slowdown or stop while
 * the device takes the write.
 * Keys of 1..16 bytes can be redirected; longer keys, empty values (an empty
 * value on the device is a tombstone: kva_delete()) and values larger than
 * the device takes always go to RocksDB.  When the device refuses a
 * redirected write (full, error), or the device guard holds (struct
 * kva_guard_th), it goes to RocksDB, waiting if it must.
 * Return: 0; -EINVAL (@key NULL or @klen 0, @val NULL with @vlen); -EIO
 * (RocksDB error); -ENODEV and others from the device for a key whose older
 * version on the device could not be deleted.
 */
int kva_put(struct kva *db, const void *key, size_t klen, const void *val, size_t vlen);

/**
 * kva_get() - read the newest value.
 * @val: receives a malloc()ed copy (free() it); @vlen its size.
 * Return: 0; -ENOENT no such key; -EINVAL; -EIO; a device error.
 */
int kva_get(struct kva *db, const void *key, size_t klen, void **val, size_t *vlen);

/**
 * kva_delete() - delete a key from both paths; never waits on RocksDB's
 * slowdown or stop while the device takes the write.
 *
 * Normally RocksDB deletes it (WAL synced when the device holds a version,
 * which is then deleted there).  During a stall, or when RocksDB would delay
 * the delete (the per-write signal), a tombstone (an empty value) is stored on
 * the device instead: it hides RocksDB's version from gets and scans, and
 * rollback turns it into a RocksDB delete.  So empty values are never
 * redirected (kva_put() sends them to RocksDB).  Deleting a missing key
 * succeeds.  Return: 0, -EINVAL, -EIO, device errors.
 */
int kva_delete(struct kva *db, const void *key, size_t klen);

/* Make every acknowledged write durable: RocksDB's WAL synced, device Flush. */
int kva_flush(struct kva *db);

/**
 * kva_iter_open() - iterate pairs in byte order from @start (NULL: the first).
 * Merges RocksDB's iterator with the device's sorted List; a key on both
 * shows once with the device's (newest) value.  Not a snapshot: pairs written
 * meanwhile by other threads may or may not show (the device's values are
 * read ahead, up to 64 keys, so a key written meanwhile may show with the
 * value it had when it was read); pairs not written meanwhile show once, with
 * their newest value, even when rollback moves them.  Holds one of the
 * store's I/O queues while open (none left: synchronous reads).
 * Return: 0, -EINVAL, -ENOMEM, device errors.
 */
int kva_iter_open(struct kva *db, const void *start, size_t slen, struct kva_iter **out);
/* Next pair: 1 with @key/@val set (valid until the next call on @it), 0 at
 * the end, or a negative errno. */
int kva_iter_next(struct kva_iter *it, const void **key, size_t *klen, const void **val,
		  size_t *vlen);
void kva_iter_close(struct kva_iter *it);

/* Move every pair on the device back into RocksDB now (waits while RocksDB
 * stalls only as long as a write would).  Return: 0 or an error. */
int kva_rollback(struct kva *db);

enum kva_force {
	KVA_FORCE_NONE = 0, /* the detector decides */
	KVA_FORCE_STALL,    /* every write goes to the device, unless the guard holds */
	KVA_FORCE_NORMAL,   /* the detector says "normal" (rollback may run) */
};
/* Override the detector (tests, experiments). */
void kva_force(struct kva *db, enum kva_force f);

struct kva_stats {
	bool stalled;		/* the detector's current state */
	uint64_t stall_periods; /* normal -> stall transitions */
	uint64_t puts_rocksdb, puts_device;
	uint64_t deletes_device;      /* deletes stored as device tombstones */
	uint64_t redirect_incomplete; /* of puts_device: per-write signal */
	uint64_t device_fallbacks;    /* redirected writes the device refused */
	uint64_t bytes_redirected;    /* key + value bytes stored on the device */
	uint64_t gets_device, gets_rocksdb;
	uint64_t rolled_back; /* pairs moved back */
	uint64_t rollback_bytes;
	uint64_t rollback_ns;	   /* time spent in rollback batches */
	uint64_t redirect_ns;	   /* device Store time of the puts_device */
	uint64_t meta_keys;	   /* keys whose newest version is on the device */
	uint64_t meta_bytes;	   /* metadata memory */
	double meta_bytes_per_key; /* metadata memory / capacity in keys */
	bool guarded;		   /* the device guard holds now */
	uint64_t guard_periods;	   /* times it started to hold */
	uint64_t guard_puts;	   /* puts and deletes it sent to RocksDB instead */
	uint64_t guard_ns;	   /* time it held (the current period included) */
	uint64_t device_lat_ns;	   /* the guard's average device Store time */
};
void kva_stats(struct kva *db, struct kva_stats *st);

/**
 * kva_device_stats() - the device's statistics log (PCIe traffic, NAND, ...).
 * @log: receives struct kvc_stats_log (cmdset/stats.h); @len its size.
 *
 * One Get Log Page command on the store's device, as nvkv_device_stats();
 * safe while other threads use the store.
 * Return: 0, -EINVAL, or nvkv_device_stats()'s errors and statuses.
 */
int kva_device_stats(struct kva *db, void *log, size_t len);

/* Parse "eager", "lazy", "off". -EINVAL if unknown. */
int kva_rollback_parse(const char *name, enum kva_rollback *r);

/**
 * kva_detect() - the detector's decision, a pure function (unit tests).
 * @stalled: the current state.  Return: the next state.
 */
bool kva_detect(const struct kva_thresholds *t, bool stalled, const struct kva_props *p);

/**
 * kva_guard() - the device guard's decision, a pure function (unit tests).
 * @held: the current state.  Return: the next state.
 */
bool kva_guard(const struct kva_guard_th *t, bool held, const struct kva_guard_in *in);

#ifdef __cplusplus
}
#endif

#endif /* KVACCEL_H */
