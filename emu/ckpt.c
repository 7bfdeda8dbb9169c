// SPDX-License-Identifier: MIT
/* Folding catalog journals into data.mdb, and the thread that does it while
 * the device runs; see ckpt.h. */
#include "ckpt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmdset/le.h"
#include "log.h"
#include "record.h"

/* ---- folding journals into data.mdb ------------------------------------------------------ */

/*
 * One change read from a journal; @n orders changes to the same key, @pre
 * is the key's first 16 bytes as big-endian numbers (zero-padded).  A key
 * of up to 16 bytes with a record of up to 16 (every index record) is all
 * here: the record copied, the key in @pre.  Sorted, the changes visit the
 * journal in random order, and reading it there waited for memory (and a
 * page walk) on every change; anything longer is still read from the journal.
 */
#define SHORT 16

struct change {
	uint64_t pre[2];
	union {
		struct {
			const uint8_t *key, *rec;
		} at;		    /* in the journal */
		uint8_t rec[SHORT]; /* a short change's record */
	} u;
	uint32_t rlen, n;
	uint16_t klen;
	uint8_t op;
};

static bool is_short(const struct change *c)
{
	return c->klen <= SHORT && c->rlen <= SHORT;
}

/* Changes of one database: index records (puts and deletes) or blobs. */
struct changes {
	struct change *c;
	size_t n, cap;
};

/*
 * A journal's changes.  While reading them, collect() also notes where the
 * index records' keys first differ (x0, x1) and how often each value of each
 * of their first 8 bytes occurs: the sort's first level then needs no pass of
 * its own to find the byte it sorts on and count it (the array is far larger
 * than the cache, every pass over it costs as much as the reading).
 */
struct fold {
	struct changes idx, blob;
	uint32_t seq;	 /* changes read, in journal order */
	uint64_t x0, x1; /* bits of pre[] where an index record differs from the first */
	uint32_t hist[8][256];
};

static struct change *grow(struct changes *cs)
{
	if (cs->n == cs->cap) {
		size_t ncap = cs->cap ? cs->cap * 2 : 4096;
		struct change *c = realloc(cs->c, ncap * sizeof(*c));

		if (!c)
			return NULL;
		cs->c = c;
		cs->cap = ncap;
	}
	return &cs->c[cs->n++];
}

static int collect(void *arg, enum emu_jop op, const void *key, size_t klen, const void *rec,
		   size_t rlen)
{
	struct fold *f = arg;
	struct change *c;
	size_t i;

	if (f->seq == UINT32_MAX)
		return -E2BIG;
	c = grow(op == EMU_JOP_BLOB ? &f->blob : &f->idx);
	if (!c)
		return -ENOMEM;
	if (klen >= 16) {
		c->pre[0] = kvc_get_be64(key);
		c->pre[1] = kvc_get_be64((const uint8_t *)key + 8);
	} else {
		c->pre[0] = c->pre[1] = 0;
		for (i = 0; i < klen; i++)
			c->pre[i / 8] |= (uint64_t)((const uint8_t *)key)[i] << (56 - 8 * (i % 8));
	}
	c->klen = (uint16_t)klen;
	c->rlen = (uint32_t)rlen;
	if (is_short(c)) {
		if (rlen)
			memcpy(c->u.rec, rec, rlen);
	} else {
		c->u.at.key = key;
		c->u.at.rec = rec;
	}
	c->op = (uint8_t)op;
	c->n = f->seq++;
	if (op != EMU_JOP_BLOB) {
		f->x0 |= c->pre[0] ^ f->idx.c[0].pre[0];
		f->x1 |= c->pre[1] ^ f->idx.c[0].pre[1];
		for (i = 0; i < 8; i++)
			f->hist[i][(uint8_t)(c->pre[0] >> (56 - 8 * i))]++;
	}
	return 0;
}

/* Keys in LMDB's order (shorter first on a common prefix, as
 * memcmp-then-length); a key's changes in journal order. */
static int change_cmp(const void *a, const void *b)
{
	const struct change *x = a, *y = b;
	int r;

	if (x->pre[0] != y->pre[0])
		return x->pre[0] < y->pre[0] ? -1 : 1;
	if (x->pre[1] != y->pre[1])
		return x->pre[1] < y->pre[1] ? -1 : 1;
	r = x->klen > 16 && y->klen > 16 ? memcmp(x->u.at.key + 16, y->u.at.key + 16,
						  (x->klen < y->klen ? x->klen : y->klen) - 16)
					 : 0;
	if (r)
		return r;
	if (x->klen != y->klen)
		return x->klen < y->klen ? -1 : 1;
	return x->n < y->n ? -1 : x->n > y->n;
}

/* The sort key's first 16 bytes are in pre[]: only bytes past them are read
 * from the journal. */
static bool same_key(const struct change *x, const struct change *y)
{
	return x->klen == y->klen && x->pre[0] == y->pre[0] && x->pre[1] == y->pre[1] &&
	       (x->klen <= 16 || !memcmp(x->u.at.key + 16, y->u.at.key + 16, x->klen - 16u));
}

/* Changes ahead whose journal bytes apply() asks for: sorted, they are in
 * random places of a journal far larger than the cache, and reading them one
 * at a time waited for memory on every change. */
#define APPLY_AHEAD 16

static void prefetch_change(const struct change *c)
{
	if (is_short(c))
		return;
	__builtin_prefetch(c->u.at.key);
	__builtin_prefetch(c->u.at.rec + c->rlen - 1);
}

/* The radix sort's digits: the 16 bytes of pre[]. */
#define DIGITS 16

static unsigned digit(const struct change *c, unsigned d)
{
	return (uint8_t)(c->pre[d >> 3] >> (56 - 8 * (d & 7)));
}

/* The first digit where keys differ in the bits @x0 / @x1 of pre[]; DIGITS if in none. */
static unsigned varying_digit(uint64_t x0, uint64_t x1)
{
	if (x0)
		return (unsigned)__builtin_clzll(x0) / 8;
	if (x1)
		return 8 + (unsigned)__builtin_clzll(x1) / 8;
	return DIGITS;
}

static void swap_changes(struct change *a, struct change *b)
{
	struct change t = *a;

	*a = *b;
	*b = t;
}

static void sort_changes(struct change *a, size_t n);

/*
 * Sort @a[0..n) on digit @d, the first that is not the same for all of
 * them, in place (American flag sort), then each bucket on: @cnt holds how
 * many have each value of the digit, or is NULL to count them here.
 */
static void radix_pass(struct change *a, size_t n, unsigned d, const uint32_t *cnt)
{
	size_t count[256], next[256], end[256], i, pos;
	unsigned b, x;

	if (cnt) {
		for (b = 0; b < 256; b++)
			count[b] = cnt[b];
	} else {
		memset(count, 0, sizeof(count));
		for (i = 0; i < n; i++)
			count[digit(&a[i], d)]++;
	}
	for (pos = 0, b = 0; b < 256; b++) {
		next[b] = pos;
		pos += count[b];
		end[b] = pos;
	}
	for (b = 0; b < 256; b++)
		while (next[b] < end[b]) {
			x = digit(&a[next[b]], d);
			if (x == b)
				next[b]++;
			else
				swap_changes(&a[next[b]], &a[next[x]++]);
		}
	for (pos = 0, b = 0; b < 256; pos += count[b++])
		if (count[b] > 1)
			sort_changes(a + pos, count[b]);
}

/*
 * The changes in change_cmp's order, by a byte-wise MSD radix sort on the
 * first digit that varies, found in one pass however long the common prefix
 * (keys such as zero-padded numbers share their first bytes); small buckets
 * and the changes of one 16-byte prefix by comparison (which also puts a
 * key's changes in journal order).  qsort() alone took about 85 % of a fold,
 * its comparisons missing the cache.
 */
static void sort_changes(struct change *a, size_t n)
{
	size_t i, pos;

	if (n > 32) {
		uint64_t x0 = 0, x1 = 0;
		unsigned d;

		for (i = 1; i < n; i++) {
			x0 |= a[i].pre[0] ^ a[0].pre[0];
			x1 |= a[i].pre[1] ^ a[0].pre[1];
		}
		d = varying_digit(x0, x1);
		if (d < DIGITS)
			radix_pass(a, n, d, NULL);
		else
			qsort(a, n, sizeof(*a), change_cmp);
		return;
	}
	for (i = 1; i < n; i++) /* insertion sort: stable, few changes */
		for (pos = i; pos && change_cmp(&a[pos - 1], &a[pos]) > 0; pos--)
			swap_changes(&a[pos - 1], &a[pos]);
}

/* The index records in order, their first level from what collect() noted. */
static void sort_index(struct fold *f)
{
	unsigned d = varying_digit(f->x0, f->x1);

	if (f->idx.n > 32 && d < 8)
		radix_pass(f->idx.c, f->idx.n, d, f->hist[d]);
	else
		sort_changes(f->idx.c, f->idx.n);
}

/* The last change of each key of @cs, sorted, in key order through cursor
 * @mc: neighbouring keys share their leaf page, which LMDB then does not
 * descend to again. */
static int apply(MDB_cursor *mc, const struct changes *cs)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < cs->n && i < APPLY_AHEAD; i++)
		prefetch_change(&cs->c[i]);
	for (i = 0; i < cs->n && !rc; i++) {
		const struct change *c = &cs->c[i];
		const uint8_t *key, *rec;
		uint8_t kb[SHORT];
		MDB_val k, v = { c->rlen + EMU_REC_TRAILER, NULL };

		if (i + APPLY_AHEAD < cs->n)
			prefetch_change(&cs->c[i + APPLY_AHEAD]);
		if (i + 1 < cs->n && same_key(c, c + 1))
			continue; /* a later change of the same key wins */
		if (is_short(c)) {
			kvc_put_be64(kb, c->pre[0]);
			kvc_put_be64(kb + 8, c->pre[1]);
			key = kb;
			rec = c->u.rec;
		} else {
			key = c->u.at.key;
			rec = c->u.at.rec;
		}
		k = (MDB_val){ c->klen, (void *)key };
		if (c->op == EMU_JOP_DEL) {
			rc = mdb_cursor_get(mc, &k, NULL, MDB_SET);
			rc = rc == MDB_NOTFOUND ? 0
			     : rc		? emu_lmdb_errno(rc)
						: emu_lmdb_errno(mdb_cursor_del(mc, 0));
			continue;
		}
		rc = emu_lmdb_errno(mdb_cursor_put(mc, &k, &v, MDB_RESERVE));
		if (!rc) {
			memcpy(v.mv_data, rec, c->rlen);
			emu_rec_seal((uint8_t *)v.mv_data + c->rlen, key, c->klen, rec, c->rlen);
		}
	}
	return rc;
}

/* Index records, then blobs, each database through its own cursor. */
static int apply_all(struct emu_meta *m, MDB_txn *txn, struct fold *f)
{
	MDB_cursor *cur;
	int rc;

	sort_index(f);
	sort_changes(f->blob.c, f->blob.n);
	rc = emu_lmdb_errno(mdb_cursor_open(txn, m->idx, &cur));
	if (rc)
		return rc;
	rc = apply(cur, &f->idx);
	mdb_cursor_close(cur);
	if (rc)
		return rc;
	rc = emu_lmdb_errno(mdb_cursor_open(txn, m->blobs, &cur));
	if (rc)
		return rc;
	rc = apply(cur, &f->blob);
	mdb_cursor_close(cur);
	return rc;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t emu_ckpt_lmdb_used(struct emu_meta *m)
{
	MDB_envinfo info;
	MDB_stat st;

	if (mdb_env_info(m->env, &info) || mdb_env_stat(m->env, &st))
		return 0;
	return ((uint64_t)info.me_last_pgno + 1) * st.ms_psize;
}

int emu_ckpt_fold(struct emu_meta *m, uint64_t seq, bool last, char *err, size_t errlen)
{
	struct fold f = { 0 };
	uint64_t t0 = now_ns(), used;
	struct emu_journal_bytes data;
	char path[4200];
	MDB_txn *txn;
	uint8_t num[8];
	bool torn = false;
	int rc;

	*err = 0;
	emu_journal_path(path, sizeof(path), m->dir, seq);
	rc = emu_journal_scan(m->dir, seq, last, collect, &f, &torn, &data, err, errlen);
	if (!rc)
		rc = emu_lmdb_errno(mdb_txn_begin(m->env, NULL, 0, &txn));
	if (!rc) {
		rc = apply_all(m, txn, &f);
		kvc_put_le64(num, seq);
		if (!rc)
			rc = emu_rec_put(txn, m->blobs, JOURNAL_KEY, strlen(JOURNAL_KEY), num,
					 sizeof(num));
		if (rc)
			mdb_txn_abort(txn);
		else
			rc = emu_lmdb_errno(mdb_txn_commit(txn));
	}
	free(f.idx.c);
	free(f.blob.c);
	emu_journal_release(&data);
	if (!rc)
		rc = emu_lmdb_errno(mdb_env_sync(m->env, 1));
	if (rc) {
		if (!*err)
			snprintf(err, errlen, "%s: folding %s into it: %s%s", m->file, path,
				 strerror(-rc),
				 rc == -ENOSPC ? " (raise emu.lmdb_map_mb, --emu-lmdb-map-mb)"
					       : "");
		return rc;
	}
	if (torn)
		emu_log(1,
			"%s: its last batch was cut short by a crash before it was acknowledged: "
			"dropped",
			path);
	if (unlink(path) && errno != ENOENT)
		emu_log(1, "%s: folded into data.mdb but not deleted: %s", path, strerror(errno));
	t0 = now_ns() - t0;
	used = emu_ckpt_lmdb_used(m);
	emu_log(3, "%s: %u changes folded into data.mdb in %.3f s", path, f.seq, (double)t0 / 1e9);
	pthread_mutex_lock(&m->ck.mu);
	m->ck.folds++;
	m->ck.changes += f.seq;
	m->ck.lmdb_used = used;
	m->ck.ns += t0;
	pthread_mutex_unlock(&m->ck.mu);
	return 0;
}

static void *ckpt_main(void *arg)
{
	struct emu_meta *m = arg;
	struct emu_meta_ckpt *c = &m->ck;
	char err[512];

	pthread_mutex_lock(&c->mu);
	for (;;) {
		uint64_t seq, size;
		int rc;

		while (!c->stop && !c->want)
			pthread_cond_wait(&c->cv, &c->mu);
		if (!c->want)
			break;
		seq = c->want;
		size = c->want_size;
		pthread_mutex_unlock(&c->mu);
		rc = emu_ckpt_fold(m, seq, false, err, sizeof(err));
		if (rc)
			emu_log(0, "catalog checkpoint failed, the device takes no more writes: %s",
				err);
		pthread_mutex_lock(&c->mu);
		if (rc)
			c->err = rc;
		else
			c->done = seq;
		c->bytes += rc ? 0 : size;
		c->want = 0;
		pthread_cond_broadcast(&c->cv); /* emu_ckpt_make_room() may be waiting */
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

void emu_ckpt_stop(struct emu_meta *m)
{
	struct emu_meta_ckpt *c = &m->ck;

	if (!c->running)
		return;
	pthread_mutex_lock(&c->mu);
	c->stop = true;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->thread, NULL);
	c->running = false;
}

/* A journal past journal_max (any journal, @force) goes to the checkpoint
 * thread, unless it is still folding the previous one (then this one grows
 * until it is done). */
void emu_ckpt_hand_over(struct emu_meta *m, bool force)
{
	struct emu_meta_ckpt *c = &m->ck;
	uint64_t size;
	bool busy;

	if (m->j.size < m->journal_max && !(force && m->j.size))
		return;
	pthread_mutex_lock(&c->mu);
	busy = c->want != 0;
	pthread_mutex_unlock(&c->mu);
	if (busy)
		return;
	if (!c->running) {
		if (pthread_create(&c->thread, NULL, ckpt_main, m)) {
			emu_log(1, "%s: no checkpoint thread; the journal keeps growing", m->file);
			return;
		}
		c->running = true;
	}
	if (m->old_fd >= 0)
		close(m->old_fd);
	m->old_seq = m->j.seq;
	size = m->j.size;
	m->old_fd = emu_journal_detach(&m->j);
	pthread_mutex_lock(&c->mu);
	c->want = m->old_seq;
	c->want_size = size;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

/* A sync commit: the journals not yet folded, and the directory naming them. */
int emu_ckpt_sync(struct emu_meta *m)
{
	bool folded;
	int fd;

	if (m->j.fd >= 0 && fdatasync(m->j.fd))
		return -errno;
	if (m->old_fd >= 0) {
		pthread_mutex_lock(&m->ck.mu);
		folded = m->ck.done >= m->old_seq;
		pthread_mutex_unlock(&m->ck.mu);
		if (!folded && fdatasync(m->old_fd))
			return -errno;
	}
	if (!m->dir_dirty)
		return 0;
	fd = open(m->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd)) {
		int e = errno;

		if (fd >= 0)
			close(fd);
		return -e;
	}
	close(fd);
	m->dir_dirty = false;
	return 0;
}

/*
 * Is there map room for what is not folded yet and the batch, generously
 * (half-full pages, copy-on-write)?  data.mdb running full in a fold would
 * refuse changes already acknowledged, so a batch without room is refused
 * at its commit, as LMDB's own "map full" refused it at put.  0, -ENOSPC, or
 * the error of a failed fold (every later commit fails with it).
 */
int emu_ckpt_room(struct emu_meta *m)
{
	uint64_t used, unfolded;
	int rc;

	pthread_mutex_lock(&m->ck.mu);
	rc = m->ck.err;
	used = m->ck.lmdb_used;
	unfolded = m->j.written - m->ck.bytes + m->j.len;
	pthread_mutex_unlock(&m->ck.mu);
	if (!rc && m->j.len && used + 4 * unfolded + (m->map_bytes >> 4) > m->map_bytes)
		rc = -ENOSPC;
	return rc;
}

/* Near a full map the estimate is replaced by what the journals really take:
 * everything written is folded now, the device thread waiting for it. */
static void wait_idle(struct emu_meta_ckpt *c)
{
	pthread_mutex_lock(&c->mu);
	while (c->running && c->want)
		pthread_cond_wait(&c->cv, &c->mu);
	pthread_mutex_unlock(&c->mu);
}

int emu_ckpt_make_room(struct emu_meta *m)
{
	wait_idle(&m->ck); /* the journal handed over before */
	emu_ckpt_hand_over(m, true);
	wait_idle(&m->ck); /* the one being written */
	return emu_ckpt_room(m);
}
