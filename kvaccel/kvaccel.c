// SPDX-License-Identifier: MIT
/*
 * kvaccel's controller, rollback manager, merged iterator and background
 * (detector + rollback) thread.  Operations on one key are serialized by a
 * striped mutex; the metadata set has its own lock.  The ordering rules that
 * keep "a key on the device has its newest version there" true at every
 * instant of the durable state: a redirected write is one device Store; a
 * RocksDB write (put or delete) of a key on the device is written to RocksDB
 * with its WAL synced *before* the device copy is deleted; rollback writes its
 * batch to RocksDB (WAL synced) before deleting the batch from the device.
 * Rollback and merged scans read (and rollback deletes) many pairs at a time:
 * they keep up to a batch of commands in flight on queues of their own
 * (libnvkv's asynchronous API), not one synchronous round trip per pair.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <rocksdb/c.h>

#include "cmdset/admin.h"
#include "hostdrv/nvkv.h"
#include "kvaccel/kvaccel_internal.h"

#define STRIPES 256
#define PF_MAX 64  /* a scan's Retrieves in flight at most */
#define PF_FIRST 4 /* ... in its first window, doubled per window */
#define VSLOT_MIN 4096
#define REC_HDR 12  /* a device record's header: the device's used bytes count it */
#define LAT_SHIFT 3 /* the guard's Store time average: each put weighs 1/8 */

/* A value read into a reusable buffer by a pipelined Retrieve. */
struct kva_vslot {
	void *buf;
	size_t cap;
	size_t len; /* the value's full size (may exceed cap until read again) */
	int status; /* 0, -ENOENT, another -errno */
	bool done;
};

struct rb_key {
	uint8_t len; /* 0: skip */
	uint8_t key[KVA_MAX_KEY];
};

/* A scan's prefetch ring and the queue its Retrieves go on (NULL: none was
 * granted, the synchronous calls); kept in the store's pool between scans. */
struct kva_pf {
	struct kva_pf *next; /* in the pool */
	struct nvkv_queue *q;
	struct rb_key key[PF_MAX];
	struct kva_vslot val[PF_MAX];
};

struct kva {
	rocksdb_t *rdb;
	rocksdb_options_t *ropts;
	rocksdb_writeoptions_t *wo_fast, *wo_fast_sync, *wo_wait, *wo_wait_sync;
	rocksdb_readoptions_t *ro;
	struct nvkv_dev *dev;
	uint32_t dev_max_value;
	struct kva_opts o;

	pthread_mutex_t stripe[STRIPES];
	pthread_mutex_t meta_lock;
	struct kva_meta meta;
	pthread_mutex_t rb_lock; /* one rollback batch at a time */
	uint8_t rb_cursor[KVA_MAX_KEY];
	size_t rb_cursor_len;
	struct nvkv_queue *rb_q;   /* rollback's (under rb_lock); NULL: synchronous */
	struct kva_vslot *rb_vals; /* rollback_batch value buffers */
	uint32_t rb_n;
	pthread_mutex_t pf_lock;
	struct kva_pf *pf_free; /* prefetch rings of closed scans */

	atomic_bool stalled;
	atomic_int force;
	atomic_uint_fast64_t last_write_ns;
	atomic_uint_fast64_t gen; /* bumped when pairs move from the device to RocksDB */

	/* The device guard: its state, the Store time average and the device's
	 * space (Identify, polled; used also counted up by each redirect, and
	 * dev_since counts what was redirected since the last poll). */
	pthread_mutex_t guard_lock; /* transitions */
	atomic_bool guard_held;
	uint64_t guard_since_ns; /* under guard_lock */
	atomic_uint_fast64_t lat_ns, dev_cap, dev_used, dev_max_keys, dev_since;
	atomic_bool dev_polling; /* one space poll at a time */

	pthread_t thr;
	bool thr_started;
	pthread_mutex_t thr_lock;
	pthread_cond_t thr_cond;
	bool stop;

	atomic_uint_fast64_t st_stall_periods, st_puts_rocksdb, st_puts_device,
		st_redirect_incomplete, st_device_fallbacks, st_bytes_redirected, st_gets_device,
		st_gets_rocksdb, st_rolled_back, st_rollback_bytes, st_rollback_ns, st_redirect_ns,
		st_deletes_device, st_guard_periods, st_guard_puts, st_guard_ns;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

__attribute__((format(printf, 3, 4))) static void why_set(char *why, size_t len, const char *fmt,
							  ...)
{
	va_list ap;

	if (!why || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
}

/* A device answer as an errno: statuses are positive in libnvkv. */
static int dev_errno(int rc)
{
	if (rc <= 0)
		return rc;
	if (rc == NVKV_KEY_NOT_EXIST)
		return -ENOENT;
	if (rc == NVKV_CAPACITY_EXCEEDED)
		return -ENOSPC;
	return -EIO;
}

/* RocksDB's error string as -EIO, or whether it was Incomplete (a stall). */
static int rdb_status(char *err, bool *incomplete)
{
	if (incomplete)
		*incomplete = false;
	if (!err)
		return 0;
	if (incomplete && strcasestr(err, "incomplete"))
		*incomplete = true;
	rocksdb_free(err);
	return -EIO;
}

void kva_opts_default(struct kva_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->interval_ms = 100;
	o->th.l0_high = o->th.l0_low = KVA_TH_AUTO;
	o->th.mem_high = o->th.mem_low = KVA_TH_AUTO;
	o->th.pending_high = o->th.pending_low = KVA_TH_AUTO;
	o->th.stall_on_delay = true;
	o->per_write_signal = true;
	o->rollback = KVA_ROLLBACK_EAGER;
	o->lazy_idle_ms = 500;
	o->rollback_batch = 64;
	o->rollback_pause_ms = 1;
	o->guard.lat_high_us = 2000;
	o->guard.lat_low_us = 1000;
	o->guard.free_low_pct = 10;
	o->guard.free_high_pct = 20;
}

int kva_rollback_parse(const char *name, enum kva_rollback *r)
{
	static const char *const names[] = { "eager", "lazy", "off" };
	int i;

	for (i = 0; i < 3; i++)
		if (name && !strcmp(name, names[i])) {
			*r = (enum kva_rollback)i;
			return 0;
		}
	return -EINVAL;
}

static pthread_mutex_t *stripe_of(struct kva *db, const void *key, size_t klen)
{
	const uint8_t *p = key;
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < klen; i++)
		h = (h ^ p[i]) * 16777619u;
	return &db->stripe[h % STRIPES];
}

static bool meta_has(struct kva *db, const void *key, size_t klen)
{
	bool r;

	pthread_mutex_lock(&db->meta_lock);
	r = kva_meta_has(&db->meta, key, klen);
	pthread_mutex_unlock(&db->meta_lock);
	return r;
}

static int meta_add(struct kva *db, const void *key, size_t klen)
{
	int r;

	pthread_mutex_lock(&db->meta_lock);
	r = kva_meta_add(&db->meta, key, klen);
	pthread_mutex_unlock(&db->meta_lock);
	return r;
}

static void meta_del(struct kva *db, const void *key, size_t klen)
{
	pthread_mutex_lock(&db->meta_lock);
	kva_meta_del(&db->meta, key, klen);
	pthread_mutex_unlock(&db->meta_lock);
}

static size_t meta_count(struct kva *db)
{
	size_t n;

	pthread_mutex_lock(&db->meta_lock);
	n = db->meta.n;
	pthread_mutex_unlock(&db->meta_lock);
	return n;
}

static bool is_stalled(struct kva *db)
{
	int f = atomic_load(&db->force);

	if (f == KVA_FORCE_STALL)
		return true;
	if (f == KVA_FORCE_NORMAL)
		return false;
	return atomic_load(&db->stalled);
}

/*
 * A redirected record may take several times its bytes on the device (a
 * value log rounds records up to its allocation units, and keeps a header per
 * record): the local count of used space is only a lower bound.
 */
#define DEV_SPACE_RATIO_MAX 4

/* Capacity and use from Identify; one caller at a time, the others go on. */
static void dev_space_poll(struct kva *db)
{
	struct nvkv_info info;

	if (atomic_exchange(&db->dev_polling, true))
		return;
	atomic_store(&db->dev_since, 0);
	if (!nvkv_identify(db->dev, &info)) {
		atomic_store(&db->dev_cap, info.capacity);
		atomic_store(&db->dev_used, info.utilization);
		atomic_store(&db->dev_max_keys, info.max_keys);
	}
	atomic_store(&db->dev_polling, false);
}

/*
 * Could the @since bytes redirected since the last poll, at DEV_SPACE_RATIO_MAX
 * times their size, already have used up what was left above free_low_pct?
 * Then the writer polls itself rather than wait for the detector thread: the
 * device could otherwise fill up and refuse Stores between two polls.
 */
static bool dev_space_unsure(struct kva *db, uint64_t since)
{
	uint64_t cap = atomic_load(&db->dev_cap), used = atomic_load(&db->dev_used);
	uint64_t low = kva_pct_of(cap, db->o.guard.free_low_pct);

	if (!cap || !db->o.guard.free_low_pct)
		return false;
	return used + low >= cap || since * (DEV_SPACE_RATIO_MAX - 1) >= cap - used - low;
}

static void guard_inputs(struct kva *db, struct kva_guard_in *in)
{
	in->lat_ns = atomic_load(&db->lat_ns);
	in->capacity = atomic_load(&db->dev_cap);
	in->used = atomic_load(&db->dev_used);
	in->max_keys = atomic_load(&db->dev_max_keys);
	in->keys = in->max_keys ? meta_count(db) : 0;
}

/*
 * Re-decide the guard.  Writers only make it hold (@may_release false): it is
 * let go by the detector thread, after a poll of the device's space.
 */
static void guard_update(struct kva *db, bool may_release)
{
	struct kva_guard_in in;
	bool held, next;

	guard_inputs(db, &in);
	held = atomic_load(&db->guard_held);
	next = kva_guard(&db->o.guard, held, &in);
	if (next == held || (!next && !may_release))
		return; /* the common case: no lock */
	pthread_mutex_lock(&db->guard_lock);
	held = atomic_load(&db->guard_held);
	next = kva_guard(&db->o.guard, held, &in);
	if (next && !held) {
		db->guard_since_ns = now_ns();
		atomic_fetch_add(&db->st_guard_periods, 1);
		atomic_store(&db->guard_held, true);
	} else if (!next && held && may_release) {
		atomic_fetch_add(&db->st_guard_ns, now_ns() - db->guard_since_ns);
		atomic_store(&db->guard_held, false);
	}
	pthread_mutex_unlock(&db->guard_lock);
}

/* One redirected Store's time into the average (lost updates between racing
 * writers only blur it). */
static void lat_sample(struct kva *db, uint64_t ns)
{
	uint64_t avg = atomic_load(&db->lat_ns);

	if (ns >= avg)
		avg += (ns - avg) >> LAT_SHIFT;
	else
		avg -= (avg - ns) >> LAT_SHIFT;
	atomic_store(&db->lat_ns, avg);
}

/* Delete the device copy: a missing key (with or without EDNEK) is gone too. */
static int dev_delete(struct kva *db, const void *key, size_t klen)
{
	int rc = nvkv_delete(db->dev, key, klen);

	return rc == NVKV_KEY_NOT_EXIST ? 0 : dev_errno(rc);
}

/*
 * Store on the device and record it; on failure nothing changed.  An empty
 * value is a tombstone (a delete redirected during a stall): puts of empty
 * values are never redirected, so an empty value on the device always means
 * "deleted", hiding RocksDB's version until rollback deletes it there too.
 */
static int redirect(struct kva *db, const void *key, size_t klen, const void *val, size_t vlen,
		    bool on_dev)
{
	uint64_t t0 = now_ns(), ns, bytes = REC_HDR + klen + vlen;
	int rc = dev_errno(nvkv_store(db->dev, key, klen, val, vlen, 0));

	if (rc == -ENOSPC) {
		/* Full now, whatever the last poll said: hold until one shows room. */
		atomic_store(&db->dev_used, atomic_load(&db->dev_cap));
		guard_update(db, false);
	}
	if (rc)
		return rc;
	ns = now_ns() - t0;
	atomic_fetch_add(&db->st_redirect_ns, ns);
	lat_sample(db, ns);
	atomic_fetch_add(&db->dev_used, bytes);
	if (dev_space_unsure(db, atomic_fetch_add(&db->dev_since, bytes) + bytes))
		dev_space_poll(db);
	guard_update(db, false);
	if (!on_dev && meta_add(db, key, klen)) {
		/* Unrecorded, it would hide nothing: take it back. */
		dev_delete(db, key, klen);
		return -ENOMEM;
	}
	atomic_fetch_add(vlen ? &db->st_puts_device : &db->st_deletes_device, 1);
	atomic_fetch_add(&db->st_bytes_redirected, klen + vlen);
	return 0;
}

/* Redirect unless the guard holds (then the caller writes RocksDB and waits
 * as it must); a refused redirect counts as a fallback. */
static int try_redirect(struct kva *db, const void *key, size_t klen, const void *val, size_t vlen,
			bool on_dev)
{
	int rc;

	if (atomic_load(&db->guard_held)) {
		atomic_fetch_add(&db->st_guard_puts, 1);
		return -EBUSY;
	}
	rc = redirect(db, key, klen, val, vlen, on_dev);
	if (rc)
		atomic_fetch_add(&db->st_device_fallbacks, 1);
	return rc;
}

/* After RocksDB took the newest version of a key that was on the device. */
static int drop_device_copy(struct kva *db, const void *key, size_t klen)
{
	int rc;

	atomic_fetch_add(&db->gen, 1); /* iterators: RocksDB changed under them */
	rc = dev_delete(db, key, klen);
	if (!rc)
		meta_del(db, key, klen);
	return rc;
}

int kva_put(struct kva *db, const void *key, size_t klen, const void *val, size_t vlen)
{
	bool redirectable, on_dev, incomplete = false;
	pthread_mutex_t *s;
	char *err = NULL;
	int rc;

	if (!db || !key || !klen || (!val && vlen))
		return -EINVAL;
	/* Empty values stay off the device: there, empty is a tombstone. */
	redirectable = klen <= KVA_MAX_KEY && vlen && vlen <= db->dev_max_value;
	s = stripe_of(db, key, klen);
	pthread_mutex_lock(s);
	atomic_store(&db->last_write_ns, now_ns());
	on_dev = meta_has(db, key, klen);
	if (redirectable && is_stalled(db)) {
		if (!try_redirect(db, key, klen, val, vlen, on_dev))
			goto out_ok;
	} else if (redirectable && db->o.per_write_signal) {
		rocksdb_put(db->rdb, on_dev ? db->wo_fast_sync : db->wo_fast, key, klen, val, vlen,
			    &err);
		rc = rdb_status(err, &incomplete);
		err = NULL;
		if (!rc)
			goto out_rocksdb;
		if (incomplete && !try_redirect(db, key, klen, val, vlen, on_dev)) {
			atomic_fetch_add(&db->st_redirect_incomplete, 1);
			goto out_ok;
		}
	}
	/* RocksDB, waiting out its slowdown or stop if it must. */
	rocksdb_put(db->rdb, on_dev ? db->wo_wait_sync : db->wo_wait, key, klen, val, vlen, &err);
	rc = rdb_status(err, NULL);
	if (rc)
		goto out;
out_rocksdb:
	atomic_fetch_add(&db->st_puts_rocksdb, 1);
	if (on_dev) {
		rc = drop_device_copy(db, key, klen);
		if (rc)
			goto out;
	}
out_ok:
	rc = 0;
out:
	pthread_mutex_unlock(s);
	return rc;
}

/* Read a device value into a malloc()ed buffer. */
static int dev_get(struct kva *db, const void *key, size_t klen, void **val, size_t *vlen)
{
	size_t cap = 4096, len = 0;
	void *buf = NULL, *nb;
	int rc;

	for (;;) {
		nb = realloc(buf, cap ? cap : 1);
		if (!nb) {
			free(buf);
			return -ENOMEM;
		}
		buf = nb;
		rc = nvkv_retrieve(db->dev, key, klen, buf, cap, &len);
		if (rc) {
			free(buf);
			return dev_errno(rc);
		}
		if (len <= cap)
			break;
		cap = len;
	}
	*val = buf;
	*vlen = len;
	return 0;
}

static int rdb_get(struct kva *db, const void *key, size_t klen, void **val, size_t *vlen)
{
	char *err = NULL, *v;
	size_t len = 0;
	int rc;

	v = rocksdb_get(db->rdb, db->ro, key, klen, &len, &err);
	rc = rdb_status(err, NULL);
	if (rc)
		return rc;
	if (!v)
		return -ENOENT;
	*val = malloc(len ? len : 1);
	if (!*val) {
		rocksdb_free(v);
		return -ENOMEM;
	}
	memcpy(*val, v, len);
	rocksdb_free(v);
	*vlen = len;
	return 0;
}

int kva_get(struct kva *db, const void *key, size_t klen, void **val, size_t *vlen)
{
	pthread_mutex_t *s;
	int rc;

	if (!db || !key || !klen || !val || !vlen)
		return -EINVAL;
	s = stripe_of(db, key, klen);
	pthread_mutex_lock(s);
	if (meta_has(db, key, klen)) {
		rc = dev_get(db, key, klen, val, vlen);
		if (!rc && !*vlen) { /* a tombstone: deleted, whatever RocksDB holds */
			free(*val);
			*val = NULL;
			rc = -ENOENT;
			atomic_fetch_add(&db->st_gets_device, 1);
			goto out;
		}
		if (rc != -ENOENT) {
			atomic_fetch_add(&db->st_gets_device, 1);
			goto out;
		}
	}
	atomic_fetch_add(&db->st_gets_rocksdb, 1);
	rc = rdb_get(db, key, klen, val, vlen);
out:
	pthread_mutex_unlock(s);
	return rc;
}

int kva_delete(struct kva *db, const void *key, size_t klen)
{
	bool redirectable, on_dev, incomplete = false;
	pthread_mutex_t *s;
	char *err = NULL;
	int rc;

	if (!db || !key || !klen)
		return -EINVAL;
	redirectable = klen <= KVA_MAX_KEY;
	s = stripe_of(db, key, klen);
	pthread_mutex_lock(s);
	atomic_store(&db->last_write_ns, now_ns());
	on_dev = meta_has(db, key, klen);
	/* During a stall the delete is a tombstone on the device, as a put. */
	if (redirectable && is_stalled(db)) {
		if (!try_redirect(db, key, klen, NULL, 0, on_dev))
			goto out_ok;
	} else if (redirectable && db->o.per_write_signal) {
		rocksdb_delete(db->rdb, on_dev ? db->wo_fast_sync : db->wo_fast, key, klen, &err);
		rc = rdb_status(err, &incomplete);
		err = NULL;
		if (!rc)
			goto out_rocksdb;
		if (incomplete && !try_redirect(db, key, klen, NULL, 0, on_dev)) {
			atomic_fetch_add(&db->st_redirect_incomplete, 1);
			goto out_ok;
		}
	}
	rocksdb_delete(db->rdb, on_dev ? db->wo_wait_sync : db->wo_wait, key, klen, &err);
	rc = rdb_status(err, NULL);
	if (rc)
		goto out;
out_rocksdb:
	if (on_dev) {
		rc = drop_device_copy(db, key, klen);
		if (rc)
			goto out;
	}
out_ok:
	rc = 0;
out:
	pthread_mutex_unlock(s);
	return rc;
}

int kva_flush(struct kva *db)
{
	char *err = NULL;
	int rc;

	if (!db)
		return -EINVAL;
	rocksdb_flush_wal(db->rdb, 1, &err);
	rc = rdb_status(err, NULL);
	if (rc)
		return rc;
	return dev_errno(nvkv_flush(db->dev));
}

/* ---- pipelined Retrieves and Deletes ------------------------------------------------- */

static int vslot_reserve(struct kva_vslot *v, size_t len)
{
	void *nb;

	if (len < VSLOT_MIN)
		len = VSLOT_MIN;
	if (v->buf && len <= v->cap)
		return 0;
	nb = realloc(v->buf, len);
	if (!nb)
		return -ENOMEM;
	v->buf = nb;
	v->cap = len;
	return 0;
}

static void vslot_done(void *arg, int status, uint32_t dw0)
{
	struct kva_vslot *v = arg;

	v->status = status;
	v->len = dw0;
	v->done = true;
}

/* Wait until nothing is in flight on @q: 0, or the queue's failure. */
static int q_drain(struct nvkv_queue *q)
{
	int rc;

	while (nvkv_queue_inflight(q)) {
		rc = nvkv_queue_wait(q, nvkv_queue_inflight(q));
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Submit one Retrieve or Delete, reaping a completion while the queue is full. */
static int q_submit(struct nvkv_queue *q, const struct rb_key *k, struct kva_vslot *v, bool del)
{
	int rc;

	for (;;) {
		rc = del ? nvkv_submit_delete(q, k->key, k->len, vslot_done, v)
			 : nvkv_submit_retrieve(q, k->key, k->len, v->buf, v->cap, vslot_done, v);
		if (rc != -EAGAIN)
			return rc;
		rc = nvkv_queue_wait(q, 1);
		if (rc < 0)
			return rc;
	}
}

/* One round: a command per slot not done, all in flight on @q at once (one
 * synchronous call each without a queue).  Return: 0 or a transport error,
 * with nothing left in flight that could still write a slot. */
static int dev_round(struct kva *db, struct nvkv_queue *q, const struct rb_key *k,
		     struct kva_vslot *v, uint32_t n, bool del)
{
	uint32_t i;
	int rc = 0, rc2;

	for (i = 0; i < n && !rc; i++) {
		if (v[i].done)
			continue;
		if (q) {
			rc = q_submit(q, &k[i], &v[i], del);
			continue;
		}
		v[i].status = del ? nvkv_delete(db->dev, k[i].key, k[i].len)
				  : nvkv_retrieve(db->dev, k[i].key, k[i].len, v[i].buf, v[i].cap,
						  &v[i].len);
		v[i].done = true;
	}
	rc2 = q ? q_drain(q) : 0;
	return rc ? rc : rc2;
}

/*
 * Retrieve (or Delete, @del) the keys @k[0..n) (len 0: skipped) with up to a
 * queue's depth in flight.  Each slot's status afterwards: 0 (a Retrieve's
 * value in buf, its size in len; a Delete done, also of a missing key),
 * -ENOENT (Retrieve: no such key) or another -errno.  Values larger than a
 * slot's buffer are read again into a larger one.  Return: 0, or a transport
 * or allocation error (then the slots' statuses mean nothing).
 */
static int dev_many(struct kva *db, struct nvkv_queue *q, const struct rb_key *k,
		    struct kva_vslot *v, uint32_t n, bool del)
{
	bool again;
	uint32_t i;
	int rc;

	for (i = 0; i < n; i++) {
		v[i].done = !k[i].len;
		v[i].status = 0;
		v[i].len = 0;
		if (!del && k[i].len && (rc = vslot_reserve(&v[i], 0)))
			return rc;
	}
	do {
		rc = dev_round(db, q, k, v, n, del);
		if (rc)
			return rc;
		again = false;
		for (i = 0; i < n && !del; i++) {
			if (!k[i].len || v[i].status || v[i].len <= v[i].cap)
				continue;
			rc = vslot_reserve(&v[i], v[i].len);
			if (rc)
				return rc;
			v[i].done = false;
			again = true;
		}
	} while (again);
	for (i = 0; i < n; i++) {
		if (del && v[i].status == NVKV_KEY_NOT_EXIST)
			v[i].status = 0; /* gone either way */
		v[i].status = dev_errno(v[i].status);
	}
	return 0;
}

/* ---- rollback ------------------------------------------------------------------ */

static int cmp_ptr(const void *a, const void *b)
{
	const pthread_mutex_t *x = *(pthread_mutex_t *const *)a, *y = *(pthread_mutex_t *const *)b;

	return x < y ? -1 : x > y;
}

/*
 * One batch: up to rollback_batch keys after the cursor, their stripes locked
 * in address order, values Retrieved into one RocksDB write batch written with
 * its WAL synced, then Deleted from the device.  @wait: wait out a RocksDB
 * stall (kva_rollback()) rather than give up (-EAGAIN).  Return: pairs moved
 * (0: nothing left after the cursor; the cursor is reset), or an error.
 */
static int rollback_batch(struct kva *db, bool wait)
{
	uint32_t nb = db->rb_n;
	struct rb_key *keys = kva_calloc(nb, sizeof(*keys));
	pthread_mutex_t **locks = kva_calloc(nb, sizeof(*locks));
	rocksdb_writebatch_t *wb = NULL;
	struct nvkv_iter *it = NULL;
	uint64_t t0 = now_ns(), bytes = 0;
	uint32_t n = 0, nl = 0, i, moved = 0;
	struct rb_key last;
	bool incomplete;
	char *err = NULL;
	int rc;

	if (!keys || !locks) {
		rc = -ENOMEM;
		goto out_free;
	}
	rc = nvkv_iter_open_limit(db->dev, db->rb_cursor_len ? db->rb_cursor : NULL,
				  db->rb_cursor_len, nb + 1, &it);
	if (rc) {
		rc = dev_errno(rc);
		goto out_free;
	}
	while (n < nb) {
		const void *k;
		size_t kl;

		rc = nvkv_iter_next(it, &k, &kl);
		if (rc < 0 || rc > 1) {
			rc = dev_errno(rc);
			goto out_iter;
		}
		if (!rc)
			break;
		if (kl == db->rb_cursor_len && !memcmp(k, db->rb_cursor, kl))
			continue;
		if (!kl || kl > KVA_MAX_KEY)
			continue;
		keys[n].len = (uint8_t)kl;
		memcpy(keys[n].key, k, kl);
		n++;
	}
	nvkv_iter_close(it);
	it = NULL;
	if (n)
		last = keys[n - 1];
	if (!n) {
		db->rb_cursor_len = 0;
		rc = 0;
		goto out_free;
	}
	for (i = 0; i < n; i++)
		locks[i] = stripe_of(db, keys[i].key, keys[i].len);
	qsort(locks, n, sizeof(*locks), cmp_ptr);
	for (i = 0; i < n; i++)
		if (!nl || locks[nl - 1] != locks[i])
			locks[nl++] = locks[i];
	for (i = 0; i < nl; i++)
		pthread_mutex_lock(locks[i]);

	wb = rocksdb_writebatch_create();
	if (!wb) {
		rc = -ENOMEM;
		goto out_unlock;
	}
	for (i = 0; i < n; i++)
		if (!meta_has(db, keys[i].key, keys[i].len))
			keys[i].len = 0; /* not ours (or gone meanwhile): leave it */
	rc = dev_many(db, db->rb_q, keys, db->rb_vals, n, false);
	if (rc)
		goto out_wb;
	for (i = 0; i < n; i++) {
		struct kva_vslot *v = &db->rb_vals[i];

		if (!keys[i].len)
			continue;
		if (v->status == -ENOENT) {
			meta_del(db, keys[i].key, keys[i].len);
			keys[i].len = 0;
			continue;
		}
		rc = v->status;
		if (rc)
			goto out_wb;
		if (v->len) /* else a tombstone: the delete reaches RocksDB */
			rocksdb_writebatch_put(wb, (const char *)keys[i].key, keys[i].len, v->buf,
					       v->len);
		else
			rocksdb_writebatch_delete(wb, (const char *)keys[i].key, keys[i].len);
		bytes += keys[i].len + v->len;
	}
	rocksdb_write(db->rdb, wait ? db->wo_wait_sync : db->wo_fast_sync, wb, &err);
	rc = rdb_status(err, &incomplete);
	if (rc) {
		if (incomplete)
			rc = -EAGAIN;
		goto out_wb;
	}
	/* RocksDB has them (WAL synced): only now leave the device.  A pair
	 * whose Delete failed (or whose outcome a failed queue hides) stays in
	 * the metadata: on the device it has the same, newest, value; gone from
	 * there, reads find it in RocksDB. */
	atomic_fetch_add(&db->gen, 1);
	if (!dev_many(db, db->rb_q, keys, db->rb_vals, n, true))
		for (i = 0; i < n; i++) {
			if (!keys[i].len || db->rb_vals[i].status)
				continue;
			meta_del(db, keys[i].key, keys[i].len);
			moved++;
		}
	db->rb_cursor_len = last.len;
	memcpy(db->rb_cursor, last.key, last.len);
	atomic_fetch_add(&db->st_rolled_back, moved);
	atomic_fetch_add(&db->st_rollback_bytes, bytes);
	rc = (int)n;
out_wb:
	rocksdb_writebatch_destroy(wb);
out_unlock:
	for (i = nl; i-- > 0;)
		pthread_mutex_unlock(locks[i]);
	atomic_fetch_add(&db->st_rollback_ns, now_ns() - t0);
out_iter:
	if (it)
		nvkv_iter_close(it);
out_free:
	kva_free(locks);
	kva_free(keys);
	return rc;
}

int kva_rollback(struct kva *db)
{
	int rc = 0, rounds = 0;

	if (!db)
		return -EINVAL;
	pthread_mutex_lock(&db->rb_lock);
	db->rb_cursor_len = 0;
	while (meta_count(db)) {
		rc = rollback_batch(db, true);
		if (rc < 0)
			break;
		if (!rc && ++rounds > 2) {
			/* Listed twice and found nothing: the set names keys the
			 * device does not have. */
			rc = -EIO;
			break;
		}
		rc = 0;
	}
	pthread_mutex_unlock(&db->rb_lock);
	return rc;
}

/* ---- detector + rollback thread ---------------------------------------------------- */

static void thr_sleep(struct kva *db, uint32_t ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&db->thr_lock);
	if (!db->stop)
		pthread_cond_timedwait(&db->thr_cond, &db->thr_lock, &ts);
	pthread_mutex_unlock(&db->thr_lock);
}

static bool thr_stopping(struct kva *db)
{
	bool s;

	pthread_mutex_lock(&db->thr_lock);
	s = db->stop;
	pthread_mutex_unlock(&db->thr_lock);
	return s;
}

/*
 * The detector's device poll: capacity and use from Identify, then the
 * guard.  While it holds nothing measures the Store time, so the average
 * halves: redirection is tried again after a back-off.
 */
static void guard_poll(struct kva *db)
{
	if (atomic_load(&db->guard_held))
		atomic_store(&db->lat_ns, atomic_load(&db->lat_ns) / 2);
	dev_space_poll(db);
	guard_update(db, true);
}

/* The guard holds for want of space (not only for slowness). */
static bool short_of_space(struct kva *db)
{
	struct kva_guard_in in;
	struct kva_guard_th t = db->o.guard;

	if (!atomic_load(&db->guard_held))
		return false;
	guard_inputs(db, &in);
	in.lat_ns = 0;
	t.lat_high_us = 0;
	return kva_guard(&t, true, &in);
}

static void *background(void *arg)
{
	struct kva *db = arg;
	uint64_t next_poll = 0;
	bool below_low = false, space = false;

	while (!thr_stopping(db)) {
		uint64_t now = now_ns();
		int f = atomic_load(&db->force);
		bool want;

		if (now >= next_poll) {
			struct kva_props p;
			bool was = atomic_load(&db->stalled), st = was;

			next_poll = now + (uint64_t)db->o.interval_ms * 1000000ull;
			if (!db->o.props(db->o.props_arg, &p)) {
				st = kva_detect(&db->o.th, was, &p);
				below_low = !kva_detect(&db->o.th, true, &p);
			}
			if (st && !was)
				atomic_fetch_add(&db->st_stall_periods, 1);
			atomic_store(&db->stalled, st);
			guard_poll(db);
			space = short_of_space(db);
		}
		if (f == KVA_FORCE_NORMAL)
			below_low = true;
		want = db->o.rollback != KVA_ROLLBACK_OFF && !is_stalled(db) && below_low &&
		       meta_count(db);
		if (want && db->o.rollback == KVA_ROLLBACK_LAZY)
			want = now - atomic_load(&db->last_write_ns) >=
			       (uint64_t)db->o.lazy_idle_ms * 1000000ull;
		/* Short of space: whatever RocksDB takes without waiting. */
		if (space && db->o.rollback != KVA_ROLLBACK_OFF && meta_count(db))
			want = true;
		if (want) {
			int rc;

			pthread_mutex_lock(&db->rb_lock);
			rc = rollback_batch(db, false);
			pthread_mutex_unlock(&db->rb_lock);
			if (rc > 0) {
				thr_sleep(db, db->o.rollback_pause_ms);
				continue;
			}
			/* RocksDB stalls: a batch read now would be given up again. */
			if (rc == -EAGAIN && space) {
				thr_sleep(db, db->o.interval_ms);
				continue;
			}
		}
		thr_sleep(db, db->o.interval_ms < 10 ? db->o.interval_ms : 10);
	}
	return NULL;
}

/* ---- open / close ---------------------------------------------------------------------- */

static void derive(struct kva *db)
{
	struct kva_thresholds *t = &db->o.th;
	uint64_t stop = (uint64_t)rocksdb_options_get_level0_stop_writes_trigger(db->ropts);
	uint64_t mem = (uint64_t)rocksdb_options_get_write_buffer_size(db->ropts) *
		       (uint64_t)rocksdb_options_get_max_write_buffer_number(db->ropts);
	uint64_t soft = rocksdb_options_get_soft_pending_compaction_bytes_limit(db->ropts);
	uint64_t hard = rocksdb_options_get_hard_pending_compaction_bytes_limit(db->ropts);

	if (t->l0_high == KVA_TH_AUTO)
		t->l0_high = stop > 2 ? stop - 2 : 1;
	if (t->l0_low == KVA_TH_AUTO)
		t->l0_low = stop > 10 ? stop - 10 : 0;
	if (t->mem_high == KVA_TH_AUTO)
		t->mem_high = mem / 10 * 9;
	if (t->mem_low == KVA_TH_AUTO)
		t->mem_low = mem / 2;
	if (t->pending_high == KVA_TH_AUTO)
		t->pending_high = hard > (2u << 20) ? hard - (2u << 20) : hard;
	if (t->pending_low == KVA_TH_AUTO)
		t->pending_low = soft / 2;
}

static void vslots_free(struct kva_vslot *v, uint32_t n)
{
	uint32_t i;

	for (i = 0; v && i < n; i++)
		free(v[i].buf);
}

static void pf_destroy(struct kva_pf *pf)
{
	if (pf->q)
		nvkv_queue_close(pf->q);
	vslots_free(pf->val, PF_MAX);
	kva_free(pf);
}

static void kva_free_all(struct kva *db)
{
	struct kva_pf *pf;
	int i;

	while ((pf = db->pf_free)) {
		db->pf_free = pf->next;
		pf_destroy(pf);
	}
	if (db->rb_q)
		nvkv_queue_close(db->rb_q);
	vslots_free(db->rb_vals, db->rb_n);
	kva_free(db->rb_vals);
	if (db->dev)
		nvkv_close(db->dev);
	if (db->rdb)
		rocksdb_close(db->rdb);
	if (db->ropts)
		rocksdb_options_destroy(db->ropts);
	if (db->wo_fast)
		rocksdb_writeoptions_destroy(db->wo_fast);
	if (db->wo_fast_sync)
		rocksdb_writeoptions_destroy(db->wo_fast_sync);
	if (db->wo_wait)
		rocksdb_writeoptions_destroy(db->wo_wait);
	if (db->wo_wait_sync)
		rocksdb_writeoptions_destroy(db->wo_wait_sync);
	if (db->ro)
		rocksdb_readoptions_destroy(db->ro);
	if (db->meta.slots)
		kva_meta_destroy(&db->meta);
	for (i = 0; i < STRIPES; i++)
		pthread_mutex_destroy(&db->stripe[i]);
	pthread_mutex_destroy(&db->meta_lock);
	pthread_mutex_destroy(&db->rb_lock);
	pthread_mutex_destroy(&db->pf_lock);
	pthread_mutex_destroy(&db->guard_lock);
	pthread_mutex_destroy(&db->thr_lock);
	pthread_cond_destroy(&db->thr_cond);
	kva_free(db);
}

/* The device's keys: the pairs whose newest version is there. */
static int load_meta(struct kva *db, char *why, size_t whylen)
{
	struct nvkv_iter *it = NULL;
	const void *k;
	size_t kl;
	int rc;

	rc = nvkv_iter_open(db->dev, NULL, 0, &it);
	while (!rc) {
		rc = nvkv_iter_next(it, &k, &kl);
		if (rc != 1)
			break;
		rc = kva_meta_add(&db->meta, k, kl);
	}
	if (it)
		nvkv_iter_close(it);
	if (rc == -ENXIO) { /* libnvkv's answer for a device without one */
		why_set(why, whylen, "device %s: no Key Value namespace (CSI 01h)", db->o.device);
		return -EPROTONOSUPPORT;
	}
	if (rc) {
		why_set(why, whylen, "%s: listing the KV namespace: %s", db->o.device,
			nvkv_strerror(rc));
		return rc > 0 ? dev_errno(rc) : rc;
	}
	return 0;
}

static bool th_ok(const struct kva_thresholds *t)
{
	return !(t->l0_low > t->l0_high || t->mem_low > t->mem_high ||
		 t->pending_low > t->pending_high);
}

/* A check that is on (its start bound not 0) needs its end bound looser. */
static bool guard_ok(const struct kva_guard_th *g)
{
	return !(g->lat_high_us && g->lat_low_us > g->lat_high_us) &&
	       !(g->free_low_pct && g->free_low_pct > g->free_high_pct) && g->free_high_pct <= 100;
}

int kva_open(const struct kva_opts *o, struct kva **out, char *why, size_t whylen)
{
	struct nvkv_info info;
	struct kva *db;
	char *err = NULL;
	int rc, i;

	why_set(why, whylen, "%s", "");
	if (!o || !out || !o->db_path || !o->device) {
		why_set(why, whylen, "options, db_path and device are required");
		return -EINVAL;
	}
	*out = NULL;
	db = kva_calloc(1, sizeof(*db));
	if (!db)
		return -ENOMEM;
	db->o = *o;
	if (!db->o.props) {
		db->o.props = kva_rocksdb_props;
	}
	for (i = 0; i < STRIPES; i++)
		pthread_mutex_init(&db->stripe[i], NULL);
	pthread_mutex_init(&db->meta_lock, NULL);
	pthread_mutex_init(&db->rb_lock, NULL);
	pthread_mutex_init(&db->pf_lock, NULL);
	pthread_mutex_init(&db->guard_lock, NULL);
	pthread_mutex_init(&db->thr_lock, NULL);
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&db->thr_cond, &ca);
		pthread_condattr_destroy(&ca);
	}
	rc = -ENOMEM;
	db->ropts = o->rocksdb_options ? rocksdb_options_create_copy(o->rocksdb_options)
				       : rocksdb_options_create();
	db->wo_fast = rocksdb_writeoptions_create();
	db->wo_fast_sync = rocksdb_writeoptions_create();
	db->wo_wait = rocksdb_writeoptions_create();
	db->wo_wait_sync = rocksdb_writeoptions_create();
	db->ro = rocksdb_readoptions_create();
	if (!db->ropts || !db->wo_fast || !db->wo_fast_sync || !db->wo_wait || !db->wo_wait_sync ||
	    !db->ro || kva_meta_init(&db->meta))
		goto out_free;
	rocksdb_writeoptions_set_no_slowdown(db->wo_fast, 1);
	rocksdb_writeoptions_set_no_slowdown(db->wo_fast_sync, 1);
	rocksdb_writeoptions_set_sync(db->wo_fast_sync, 1);
	rocksdb_writeoptions_set_sync(db->wo_wait_sync, 1);
	rocksdb_options_set_create_if_missing(db->ropts, 1);
	derive(db);
	if (!th_ok(&db->o.th) || !guard_ok(&db->o.guard)) {
		why_set(why, whylen, "a low threshold is above its high threshold");
		rc = -EINVAL;
		goto out_free;
	}

	db->rdb = rocksdb_open(db->ropts, o->db_path, &err);
	if (err) {
		why_set(why, whylen, "RocksDB at %s: %s", o->db_path, err);
		rocksdb_free(err);
		db->rdb = NULL;
		rc = -EIO;
		goto out_free;
	}
	if (!o->props)
		db->o.props_arg = db->rdb;

	rc = nvkv_open(o->device, NULL, &db->dev);
	if (rc) {
		why_set(why, whylen, "device %s: %s", o->device, nvkv_strerror(rc));
		db->dev = NULL;
		rc = dev_errno(rc);
		goto out_free;
	}
	rc = nvkv_identify(db->dev, &info);
	if (rc || info.csi != KVC_CSI_KV) {
		why_set(why, whylen, "device %s: %s", o->device,
			rc ? nvkv_strerror(rc) : "no Key Value namespace (CSI 01h)");
		rc = rc ? dev_errno(rc) : -EPROTONOSUPPORT;
		goto out_free;
	}
	db->dev_max_value = info.max_value;
	atomic_store(&db->dev_cap, info.capacity);
	atomic_store(&db->dev_used, info.utilization);
	atomic_store(&db->dev_max_keys, info.max_keys);
	rc = load_meta(db, why, whylen);
	if (rc)
		goto out_free;
	db->rb_n = db->o.rollback_batch ? db->o.rollback_batch : 64;
	db->rb_vals = kva_calloc(db->rb_n, sizeof(*db->rb_vals));
	if (!db->rb_vals) {
		rc = -ENOMEM;
		goto out_free;
	}
	/* Without a queue of its own (none left), rollback goes one pair at a time. */
	if (nvkv_queue_open(db->dev, &db->rb_q))
		db->rb_q = NULL;
	atomic_store(&db->last_write_ns, now_ns());
	rc = -pthread_create(&db->thr, NULL, background, db);
	if (rc)
		goto out_free;
	db->thr_started = true;
	*out = db;
	return 0;

out_free:
	kva_free_all(db);
	return rc;
}

void kva_close(struct kva *db)
{
	if (!db)
		return;
	if (db->thr_started) {
		pthread_mutex_lock(&db->thr_lock);
		db->stop = true;
		pthread_cond_broadcast(&db->thr_cond);
		pthread_mutex_unlock(&db->thr_lock);
		pthread_join(db->thr, NULL);
	}
	kva_free_all(db);
}

void kva_force(struct kva *db, enum kva_force f)
{
	if (db)
		atomic_store(&db->force, (int)f);
}

void kva_stats(struct kva *db, struct kva_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->stalled = is_stalled(db);
	st->stall_periods = atomic_load(&db->st_stall_periods);
	st->puts_rocksdb = atomic_load(&db->st_puts_rocksdb);
	st->puts_device = atomic_load(&db->st_puts_device);
	st->redirect_incomplete = atomic_load(&db->st_redirect_incomplete);
	st->device_fallbacks = atomic_load(&db->st_device_fallbacks);
	st->bytes_redirected = atomic_load(&db->st_bytes_redirected);
	st->gets_device = atomic_load(&db->st_gets_device);
	st->gets_rocksdb = atomic_load(&db->st_gets_rocksdb);
	st->rolled_back = atomic_load(&db->st_rolled_back);
	st->rollback_bytes = atomic_load(&db->st_rollback_bytes);
	st->rollback_ns = atomic_load(&db->st_rollback_ns);
	st->redirect_ns = atomic_load(&db->st_redirect_ns);
	st->deletes_device = atomic_load(&db->st_deletes_device);
	st->guard_periods = atomic_load(&db->st_guard_periods);
	st->guard_puts = atomic_load(&db->st_guard_puts);
	st->device_lat_ns = atomic_load(&db->lat_ns);
	pthread_mutex_lock(&db->guard_lock);
	st->guarded = atomic_load(&db->guard_held);
	st->guard_ns =
		atomic_load(&db->st_guard_ns) + (st->guarded ? now_ns() - db->guard_since_ns : 0);
	pthread_mutex_unlock(&db->guard_lock);
	pthread_mutex_lock(&db->meta_lock);
	st->meta_keys = db->meta.n;
	st->meta_bytes = kva_meta_bytes(&db->meta);
	st->meta_bytes_per_key = (double)st->meta_bytes / (double)(db->meta.cap / 2);
	pthread_mutex_unlock(&db->meta_lock);
}

int kva_device_stats(struct kva *db, void *log, size_t len)
{
	if (!db || !log)
		return -EINVAL;
	return nvkv_device_stats(db->dev, log, len);
}

/* ---- merged iterator ---------------------------------------------------------------- */

struct kva_iter {
	struct kva *db;
	rocksdb_iterator_t *ri;
	struct nvkv_iter *di;
	uint64_t gen;
	uint8_t start[KVA_MAX_KEY + 1]; /* a start longer than 16 bytes, cut at 17 */
	bool long_start;
	uint8_t dkey[KVA_MAX_KEY];
	size_t dlen;
	bool dhave, dend;
	/* The device's next keys with their values read ahead: pf->key[pf_next
	 * .. pf_n), the window doubling from PF_FIRST to PF_MAX. */
	struct kva_pf *pf;
	uint32_t pf_n, pf_next, pf_window;
	bool list_end;
	char *kbuf, *vbuf; /* kbuf: the last key returned */
	size_t kcap, vcap, last_len;
	bool have_last;
	char *sbuf; /* the start key */
	size_t slen;
	void *vdev; /* RocksDB's value of a device key being returned (malloc()ed) */
};

/* A prefetch ring from the store's pool, or a new one with its own queue. */
static struct kva_pf *pf_get(struct kva *db)
{
	struct kva_pf *pf;

	pthread_mutex_lock(&db->pf_lock);
	pf = db->pf_free;
	if (pf)
		db->pf_free = pf->next;
	pthread_mutex_unlock(&db->pf_lock);
	if (pf)
		return pf;
	pf = kva_calloc(1, sizeof(*pf));
	if (pf && nvkv_queue_open(db->dev, &pf->q))
		pf->q = NULL; /* none left: synchronous Retrieves */
	return pf;
}

static void pf_put(struct kva *db, struct kva_pf *pf)
{
	pthread_mutex_lock(&db->pf_lock);
	pf->next = db->pf_free;
	db->pf_free = pf;
	pthread_mutex_unlock(&db->pf_lock);
}

static int keycmp(const void *a, size_t al, const void *b, size_t bl)
{
	int c = memcmp(a, b, al < bl ? al : bl);

	if (c)
		return c;
	return al < bl ? -1 : al > bl;
}

static int keep(char **buf, size_t *cap, const void *p, size_t len)
{
	if (len > *cap) {
		char *nb = realloc(*buf, len);

		if (!nb)
			return -ENOMEM;
		*buf = nb;
		*cap = len;
	}
	if (len)
		memcpy(*buf, p, len);
	return 0;
}

int kva_iter_open(struct kva *db, const void *start, size_t slen, struct kva_iter **out)
{
	struct kva_iter *it;
	int rc;

	if (!db || !out || (!start && slen))
		return -EINVAL;
	it = kva_calloc(1, sizeof(*it));
	if (!it)
		return -ENOMEM;
	it->db = db;
	it->gen = atomic_load(&db->gen);
	it->pf = pf_get(db);
	it->pf_window = PF_FIRST;
	it->ri = rocksdb_create_iterator(db->rdb, db->ro);
	if (!it->pf || !it->ri) {
		kva_iter_close(it);
		return -ENOMEM;
	}
	if (slen) {
		rc = keep(&it->sbuf, &it->slen, start, slen);
		if (rc) {
			kva_iter_close(it);
			return rc;
		}
		rocksdb_iter_seek(it->ri, start, slen);
	} else {
		rocksdb_iter_seek_to_first(it->ri);
	}
	/* Device keys are at most 16 bytes: a longer start begins at its first
	 * 16 and the keys below @start are skipped by the merge. */
	rc = nvkv_iter_open(db->dev, start, slen > KVA_MAX_KEY ? KVA_MAX_KEY : slen, &it->di);
	if (rc) {
		it->di = NULL;
		kva_iter_close(it);
		return dev_errno(rc);
	}
	if (slen > KVA_MAX_KEY) {
		/* keys below @start are filtered with the first 16 bytes + 1 */
		memcpy(it->start, start, KVA_MAX_KEY + 1);
		it->long_start = true;
	}
	*out = it;
	return 0;
}

static int refresh(struct kva_iter *it)
{
	struct kva *db = it->db;

	it->gen = atomic_load(&db->gen);
	rocksdb_iter_destroy(it->ri);
	it->ri = rocksdb_create_iterator(db->rdb, db->ro);
	if (!it->ri)
		return -ENOMEM;
	if (it->have_last) {
		const char *k;
		size_t kl;

		rocksdb_iter_seek(it->ri, it->kbuf, it->last_len);
		if (rocksdb_iter_valid(it->ri)) {
			k = rocksdb_iter_key(it->ri, &kl);
			if (!keycmp(k, kl, it->kbuf, it->last_len))
				rocksdb_iter_next(it->ri);
		}
	} else if (it->slen) {
		rocksdb_iter_seek(it->ri, it->sbuf, it->slen);
	} else {
		rocksdb_iter_seek_to_first(it->ri);
	}
	return 0;
}

/* The device's next keys (a window of them) from its List, their values
 * Retrieved with the window in flight at once. */
static int pf_fill(struct kva_iter *it)
{
	struct kva_pf *pf = it->pf;
	const void *k;
	size_t kl;
	uint32_t n = 0;
	int rc;

	while (n < it->pf_window) {
		rc = nvkv_iter_next(it->di, &k, &kl);
		if (rc < 0 || rc > 1)
			return dev_errno(rc);
		if (!rc) {
			it->list_end = true;
			break;
		}
		if (!kl || kl > KVA_MAX_KEY ||
		    (it->long_start && keycmp(k, kl, it->start, KVA_MAX_KEY + 1) < 0))
			continue;
		pf->key[n].len = (uint8_t)kl;
		memcpy(pf->key[n].key, k, kl);
		n++;
	}
	it->pf_n = n;
	it->pf_next = 0;
	if (it->pf_window < PF_MAX)
		it->pf_window *= 2;
	return dev_many(it->db, pf->q, pf->key, pf->val, n, false);
}

/* The device's next key into dkey (dhave), or dend after its last. */
static int pf_take(struct kva_iter *it)
{
	const struct rb_key *k;
	int rc;

	while (it->pf_next == it->pf_n) {
		if (it->list_end) {
			it->dend = true;
			return 0;
		}
		rc = pf_fill(it);
		if (rc)
			return rc;
	}
	k = &it->pf->key[it->pf_next];
	memcpy(it->dkey, k->key, k->len);
	it->dlen = k->len;
	it->dhave = true;
	return 0;
}

int kva_iter_next(struct kva_iter *it, const void **key, size_t *klen, const void **val,
		  size_t *vlen)
{
	struct kva *db = it->db;
	const char *rk, *rv;
	size_t rkl = 0, rvl = 0;
	int rc;

	free(it->vdev);
	it->vdev = NULL;
	for (;;) {
		bool rhave;
		int c;

		if (!it->dhave && !it->dend) {
			rc = pf_take(it);
			if (rc)
				return rc;
			continue;
		}
		if (atomic_load(&db->gen) != it->gen) {
			/* Pairs moved into RocksDB after this iterator's snapshot
			 * (and may be gone from the device's List already): a fresh
			 * one, just after the last key returned. */
			rc = refresh(it);
			if (rc)
				return rc;
			continue;
		}
		rhave = rocksdb_iter_valid(it->ri);
		if (rhave)
			rk = rocksdb_iter_key(it->ri, &rkl);
		if (!rhave && !it->dhave) {
			char *err = NULL;

			rocksdb_iter_get_error(it->ri, &err);
			return rdb_status(err, NULL);
		}
		c = !rhave ? 1 : !it->dhave ? -1 : keycmp(rk, rkl, it->dkey, it->dlen);
		if (c >= 0) {
			/* The device's key: its newest version, read since the
			 * scan began, if it was still there. */
			struct kva_vslot *pv = &it->pf->val[it->pf_next++];
			void *v = pv->buf;
			size_t vl = pv->len;

			it->dhave = false;
			if (c == 0)
				rocksdb_iter_next(it->ri);
			rc = pv->status;
			if (!rc && !vl) { /* a tombstone hides RocksDB's version too */
				rc = -ENOENT;
			} else if (rc == -ENOENT) { /* rolled back or overwritten meanwhile */
				rc = rdb_get(db, it->dkey, it->dlen, &v, &vl);
				if (!rc)
					it->vdev = v;
			}
			if (rc && rc != -ENOENT)
				return rc;
			/* Passed, returned or not: a refresh seeks after it, or RocksDB's
			 * iterator would come back to a key the device hid. */
			if (keep(&it->kbuf, &it->kcap, it->dkey, it->dlen))
				return -ENOMEM;
			it->have_last = true;
			it->last_len = it->dlen;
			if (rc == -ENOENT)
				continue;
			*key = it->kbuf;
			*klen = it->dlen;
			*val = v;
			*vlen = vl;
			return 1;
		}
		rv = rocksdb_iter_value(it->ri, &rvl);
		if (keep(&it->kbuf, &it->kcap, rk, rkl) || keep(&it->vbuf, &it->vcap, rv, rvl))
			return -ENOMEM;
		rocksdb_iter_next(it->ri);
		it->have_last = true;
		it->last_len = rkl;
		*key = it->kbuf;
		*klen = rkl;
		*val = it->vbuf;
		*vlen = rvl;
		return 1;
	}
}

void kva_iter_close(struct kva_iter *it)
{
	if (!it)
		return;
	if (it->ri)
		rocksdb_iter_destroy(it->ri);
	if (it->di)
		nvkv_iter_close(it->di);
	if (it->pf)
		pf_put(it->db, it->pf);
	free(it->kbuf);
	free(it->vbuf);
	free(it->vdev);
	free(it->sbuf);
	kva_free(it);
}
