// SPDX-License-Identifier: MIT
/* LMDB catalog: open, damage checks, close, the HAL callbacks; see meta.h. */
#include "meta.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmdset/le.h"
#include "firmware/crc.h"
#include "ckpt.h"
#include "log.h"
#include "record.h"

#define FORMAT_KEY "nvkv.catalog"
#define FORMAT_MAGIC 0x434b564eu /* "NVKC" */
/* Time allowed for the walk before it counts as looping: a minute, plus one
 * second per 4 MiB of catalog (a walk reads about 50 MiB/s on a slow disk). */
#define WALK_SECONDS(used) (60 + (unsigned int)((used) >> 22))

/*
 * LMDB 0.9's meta page (mdb.c: a 16-byte page header, then MDB_meta), read by
 * us before liblmdb maps the file: liblmdb trusts it.  Two meta pages, at
 * offsets 0 and psize; each commit writes the one of its transaction's parity.
 */
#define LM_MAGIC 0xbeefc0deu
#define LM_VERSION 1
#define LM_P_META 0x08
#define LM_P_INVALID UINT64_MAX
#define LM_OFF_FLAGS 10
#define LM_OFF_MAGIC 16
#define LM_OFF_VERSION 20
#define LM_OFF_PSIZE 40 /* mm_dbs[FREE_DBI].md_pad */
#define LM_OFF_FREE_ROOT 80
#define LM_OFF_MAIN_ROOT 128
#define LM_OFF_LAST_PG 136
#define LM_OFF_TXNID 144
#define LM_META_LEN 152

struct lm_meta {
	uint32_t psize;
	uint64_t free_root, main_root, last_pg, txnid;
};

static void hex(char *out, size_t len, const void *p, size_t n)
{
	size_t i;

	*out = 0;
	for (i = 0; i < n && 2 * i + 3 <= len; i++)
		snprintf(out + 2 * i, 3, "%02x", ((const uint8_t *)p)[i]);
}

/* ---- LMDB's meta pages, checked before liblmdb reads the file ---------------------- */

static int read_meta(int fd, off_t off, struct lm_meta *mm)
{
	uint8_t b[LM_META_LEN];

	if (pread(fd, b, sizeof(b), off) != (ssize_t)sizeof(b))
		return -1;
	if (!(kvc_get_le16(b + LM_OFF_FLAGS) & LM_P_META) ||
	    kvc_get_le32(b + LM_OFF_MAGIC) != LM_MAGIC ||
	    kvc_get_le32(b + LM_OFF_VERSION) != LM_VERSION)
		return -1;
	mm->psize = kvc_get_le32(b + LM_OFF_PSIZE);
	mm->free_root = kvc_get_le64(b + LM_OFF_FREE_ROOT);
	mm->main_root = kvc_get_le64(b + LM_OFF_MAIN_ROOT);
	mm->last_pg = kvc_get_le64(b + LM_OFF_LAST_PG);
	mm->txnid = kvc_get_le64(b + LM_OFF_TXNID);
	return 0;
}

static bool root_ok(uint64_t root, const struct lm_meta *mm)
{
	return root == LM_P_INVALID || (root >= 2 && root <= mm->last_pg);
}

static bool meta_ok(const struct lm_meta *mm)
{
	/* A meta page no transaction wrote yet describes an empty file. */
	if (mm->txnid == 0)
		return mm->free_root == LM_P_INVALID && mm->main_root == LM_P_INVALID;
	return mm->last_pg >= 2 && mm->last_pg < (1ull << 40) && root_ok(mm->free_root, mm) &&
	       root_ok(mm->main_root, mm);
}

/*
 * Both meta pages valid, of consecutive transactions (a bit flip in a
 * transaction id would silently roll the catalog back to an older commit), and
 * the file long enough for the pages the newer one uses.  @used receives
 * the bytes of data.mdb in use.
 */
static int check_metas(struct emu_meta *m, int fd, uint64_t *used, char *err, size_t errlen)
{
	struct lm_meta a, b;
	const struct lm_meta *cur;
	struct stat st;

	if (fstat(fd, &st) || read_meta(fd, 0, &a)) {
		snprintf(err, errlen, "%s: meta page 0 is damaged (or this is not an LMDB file)",
			 m->file);
		return -EUCLEAN;
	}
	if (a.psize < 512 || a.psize > 65536 || (a.psize & (a.psize - 1)) ||
	    read_meta(fd, a.psize, &b) || b.psize != a.psize) {
		snprintf(err, errlen, "%s: meta page 1 is damaged or missing", m->file);
		return -EUCLEAN;
	}
	if (!meta_ok(&a) || !meta_ok(&b) ||
	    (a.txnid + 1 != b.txnid && b.txnid + 1 != a.txnid && (a.txnid || b.txnid))) {
		snprintf(err, errlen,
			 "%s: the LMDB meta pages are damaged (transactions %llu and %llu, "
			 "last pages %llu and %llu)",
			 m->file, (unsigned long long)a.txnid, (unsigned long long)b.txnid,
			 (unsigned long long)a.last_pg, (unsigned long long)b.last_pg);
		return -EUCLEAN;
	}
	cur = a.txnid > b.txnid ? &a : &b;
	*used = (cur->last_pg + 1) * cur->psize;
	if ((uint64_t)st.st_size < *used) {
		snprintf(err, errlen, "%s: truncated: %lld bytes, but the catalog uses %llu",
			 m->file, (long long)st.st_size, (unsigned long long)*used);
		return -EUCLEAN;
	}
	return 0;
}

/* ---- the clean-shutdown checksum (data.mdb.sum) -------------------------------------- */

static int crc_file(int fd, uint64_t len, uint32_t *crc)
{
	static uint8_t buf[1 << 20];
	uint64_t off = 0;

	*crc = 0;
	while (off < len) {
		size_t n = len - off < sizeof(buf) ? (size_t)(len - off) : sizeof(buf);
		ssize_t got = pread(fd, buf, n, (off_t)off);

		if (got <= 0)
			return got < 0 ? -errno : -EUCLEAN;
		*crc = fw_crc32c(*crc, buf, (size_t)got);
		off += (uint64_t)got;
	}
	return 0;
}

/* 1: the sum matches; 0: there is no sum; -EUCLEAN: it does not match. */
static int check_sum(struct emu_meta *m, int fd, uint64_t used, char *err, size_t errlen)
{
	unsigned long long s_used;
	unsigned int s_crc, ver;
	uint32_t crc;
	FILE *f = fopen(m->sum, "re");
	int n, rc;

	if (!f)
		return errno == ENOENT ? 0 : -errno;
	n = fscanf(f, "nvkv-catalog-sum %u %llu %x", &ver, &s_used, &s_crc);
	fclose(f);
	m->sum_on_disk = true;
	rc = n == 3 && ver == 1 && s_used == used ? crc_file(fd, used, &crc) : -EUCLEAN;
	if (rc == -EUCLEAN || (!rc && crc != s_crc)) {
		snprintf(err, errlen,
			 "%s: damaged: it no longer matches the checksum its last clean shutdown "
			 "wrote to %s",
			 m->file, m->sum);
		return -EUCLEAN;
	}
	return rc ? rc : 1;
}

static void write_sum(struct emu_meta *m, uint64_t used)
{
	char tmp[sizeof(m->sum) + 8];
	uint32_t crc;
	int fd = open(m->file, O_RDONLY | O_CLOEXEC);
	FILE *f;

	if (fd < 0)
		return;
	if (crc_file(fd, used, &crc)) {
		close(fd);
		return;
	}
	close(fd);
	snprintf(tmp, sizeof(tmp), "%s.tmp", m->sum);
	f = fopen(tmp, "we");
	if (!f)
		return;
	fprintf(f, "nvkv-catalog-sum 1 %llu %08x\n", (unsigned long long)used, crc);
	if (fflush(f) || fsync(fileno(f)) || fclose(f) || rename(tmp, m->sum)) {
		emu_log(1, "%s: cannot write the clean-shutdown checksum", m->sum);
		unlink(tmp);
	}
}

/* ---- the tree walk, in a child process ------------------------------------------------- */

/* Every page of the free list names a page inside the file. */
static const char *check_free_entry(const MDB_val *v, uint64_t last_pg)
{
	const uint64_t *ids = v->mv_data;
	uint64_t i, n;

	if (v->mv_size < sizeof(*ids) || v->mv_size % sizeof(*ids))
		return "free-list entry of a bad size";
	n = ids[0];
	if (n != v->mv_size / sizeof(*ids) - 1)
		return "free-list entry with a bad count";
	for (i = 1; i <= n; i++) {
		if (ids[i] < 2 || ids[i] > last_pg)
			return "free-list entry naming a page outside the file";
	}
	return NULL;
}

/* The pages of the file in use, as mapped: a key or value outside them comes
 * from a damaged node header. */
struct span {
	const uint8_t *base;
	uint64_t len;
	uint64_t last_pg;
};

static bool in_span(const struct span *sp, const MDB_val *v)
{
	const uint8_t *p = v->mv_data;

	return p >= sp->base && (uint64_t)(p - sp->base) <= sp->len &&
	       v->mv_size <= sp->len - (uint64_t)(p - sp->base);
}

/* Where liblmdb mapped @file (its API does not say): from /proc/self/maps. */
static int find_map(const char *file, struct span *sp)
{
	unsigned long start, end, off, ino;
	unsigned int maj, min;
	char line[512];
	struct stat st;
	FILE *f;
	int rc = -ENOENT;

	if (stat(file, &st))
		return -errno;
	f = fopen("/proc/self/maps", "re");
	if (!f)
		return -errno;
	while (rc && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx %*s %lx %x:%x %lu", &start, &end, &off, &maj, &min,
			   &ino) == 6 &&
		    off == 0 && ino == st.st_ino && makedev(maj, min) == st.st_dev) {
			sp->base = (const uint8_t *)start;
			sp->len = end - start;
			rc = 0;
		}
	}
	fclose(f);
	return rc;
}

/* Keys in order and inside the file, each found again by a lookup from the
 * root (which checks the branch pages), values inside the file, as many
 * entries as the tree's header says; with @sealed, every record's checksum. */
static const char *walk_tree(MDB_txn *txn, MDB_dbi dbi, const struct span *sp, bool sealed)
{
	static uint8_t prev[512];
	MDB_val k, v, pk = { 0, prev }, got;
	const char *why = NULL;
	MDB_cursor *cur;
	uint64_t n = 0;
	MDB_stat st;
	int r;

	if (mdb_stat(txn, dbi, &st) || mdb_cursor_open(txn, dbi, &cur))
		return "cannot open a tree";
	for (r = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !r;
	     r = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		size_t rlen;

		if (!in_span(sp, &k) || !in_span(sp, &v))
			why = "a key or value outside the file (damaged node)";
		else if (n && mdb_cmp(txn, dbi, &pk, &k) >= 0)
			why = "keys out of order";
		else if (dbi == 0)
			why = check_free_entry(&v, sp->last_pg);
		else if (mdb_get(txn, dbi, &k, &got) || got.mv_data != v.mv_data)
			why = "a key its tree cannot find (damaged branch page)";
		else if (sealed && emu_rec_unseal(k.mv_data, k.mv_size, &v, &rlen))
			why = "a record fails its checksum or is of another format";
		if (!why && k.mv_size > sizeof(prev))
			why = "a key longer than LMDB allows";
		if (why)
			break;
		memcpy(prev, k.mv_data, k.mv_size);
		pk.mv_size = k.mv_size;
		n++;
	}
	if (!why && r != MDB_NOTFOUND)
		why = mdb_strerror(r);
	if (!why && n != st.ms_entries)
		why = "fewer or more entries than its header counts";
	mdb_cursor_close(cur);
	return why;
}

static const char *walk_catalog(const char *dir, const char *file, uint64_t map_mb)
{
	static const char *const names[] = { "index", "blobs" };
	MDB_val fk = { strlen(FORMAT_KEY), FORMAT_KEY }, fv;
	const char *why = NULL;
	bool sealed = false;
	MDB_envinfo info;
	struct span sp;
	MDB_stat st;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	size_t i;

	if (mdb_env_create(&env) || mdb_env_set_maxdbs(env, 4) ||
	    mdb_env_set_mapsize(env, (size_t)map_mb << 20) ||
	    mdb_env_open(env, dir, MDB_RDONLY | MDB_NOLOCK, 0644) || mdb_env_info(env, &info) ||
	    mdb_env_stat(env, &st) || mdb_txn_begin(env, NULL, MDB_RDONLY, &txn))
		return "LMDB cannot open it";
	if (find_map(file, &sp))
		return "its mapping cannot be found";
	sp.last_pg = info.me_last_pgno;
	if (sp.len > ((uint64_t)info.me_last_pgno + 1) * st.ms_psize)
		sp.len = ((uint64_t)info.me_last_pgno + 1) * st.ms_psize;
	why = walk_tree(txn, 0, &sp, false);
	if (!why && !mdb_dbi_open(txn, NULL, 0, &dbi))
		why = walk_tree(txn, dbi, &sp, false);
	/* Records are checked when the catalog says it is of our format; an older
	 * one is reported as such by the open. */
	if (!mdb_dbi_open(txn, "blobs", 0, &dbi))
		sealed = !mdb_get(txn, dbi, &fk, &fv) && in_span(&sp, &fv);
	for (i = 0; !why && i < sizeof(names) / sizeof(names[0]); i++) {
		if (!mdb_dbi_open(txn, names[i], 0, &dbi))
			why = walk_tree(txn, dbi, &sp, sealed);
	}
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return why;
}

/*
 * liblmdb trusts its pages: a damaged one can make it read wild memory.  Walk
 * every tree in a child first; a crash there is a refusal here.
 */
static int check_in_child(struct emu_meta *m, const char *dir, uint64_t map_mb, uint64_t used,
			  char *err, size_t errlen)
{
	char msg[256] = "";
	size_t got = 0;
	ssize_t n;
	int p[2], status;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid == 0) {
		const char *why;

		close(p[0]);
		alarm(WALK_SECONDS(used));
		why = walk_catalog(dir, m->file, map_mb);
		if (why && write(p[1], why, strlen(why)) < 0)
			_exit(4);
		_exit(why ? 3 : 0);
	}
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		return -errno;
	}
	while ((n = read(p[0], msg + got, sizeof(msg) - 1 - got)) > 0)
		got += (size_t)n;
	msg[got] = 0;
	close(p[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 3)
		snprintf(err, errlen, "%s: damaged: %s", m->file, msg);
	else if (WIFSIGNALED(status))
		snprintf(err, errlen, "%s: damaged: reading it crashed liblmdb (signal %d%s)",
			 m->file, WTERMSIG(status),
			 WTERMSIG(status) == SIGALRM ? ", it looped" : "");
	else
		snprintf(err, errlen, "%s: damaged: reading it crashed liblmdb (exit %d)", m->file,
			 WEXITSTATUS(status));
	return -EUCLEAN;
}

/* ---- records ----------------------------------------------------------------------------- */

/* A key or value liblmdb returned from outside its own mapping (a damaged node
 * that the check at open did not see): refuse it rather than read it. */
static bool outside(const struct emu_meta *m, const MDB_val *k, const MDB_val *v)
{
	struct span sp = { m->map, m->map_len, 0 };

	return m->map_len && ((k && !in_span(&sp, k)) || !in_span(&sp, v));
}

static int damaged(struct emu_meta *m, const void *key, size_t klen, const char *why)
{
	char k[2 * 16 + 1];

	hex(k, sizeof(k), key, klen);
	emu_log(0, "%s: damaged: the record of key %s%s %s", m->file, k, klen > 16 ? "..." : "",
		why);
	return -EUCLEAN;
}

/* The store is about to change: its clean-shutdown checksum goes first. */
static int touch(struct emu_meta *m)
{
	if (m->sum_on_disk) {
		if (unlink(m->sum) && errno != ENOENT)
			return -errno;
		m->sum_on_disk = false;
	}
	return 0;
}

/*
 * Every journal in the store, oldest first, into data.mdb: what a crash left
 * (at open) or what the device wrote since the last checkpoint (at a clean
 * close).  Journals already folded are deleted; a gap is damage.
 */
static int fold_all(struct emu_meta *m, char *err, size_t errlen)
{
	uint64_t *seqs, ckpt = 0, next;
	char path[4200];
	uint8_t num[8];
	size_t n, i;
	int rc = emu_meta_get_blob(m, JOURNAL_KEY, num, sizeof(num));

	if (!rc)
		ckpt = kvc_get_le64(num);
	else if (rc != -ENOENT) {
		snprintf(err, errlen, "%s: damaged: its journal record is unreadable", m->file);
		return -EUCLEAN;
	}
	rc = emu_journal_list(m->dir, &seqs, &n);
	if (rc) {
		snprintf(err, errlen, "%s: %s", m->dir, strerror(-rc));
		return rc;
	}
	next = ckpt + 1;
	for (i = 0; i < n && !rc; i++) {
		emu_journal_path(path, sizeof(path), m->dir, seqs[i]);
		if (seqs[i] <= ckpt) {
			/* folded, then a crash before its deletion */
			unlink(path);
			continue;
		}
		if (seqs[i] != next) {
			snprintf(err, errlen,
				 "%s: damaged: journal.%016llx is missing (data.mdb holds the "
				 "journals up to %llu), %s follows",
				 m->file, (unsigned long long)next, (unsigned long long)ckpt, path);
			rc = -EUCLEAN;
			break;
		}
		rc = touch(m);
		if (!rc)
			rc = emu_ckpt_fold(m, seqs[i], i + 1 == n, err, errlen);
		next++;
	}
	free(seqs);
	m->j.seq = next;
	return rc;
}

/* ---- open and close ---------------------------------------------------------------------- */

/* A new catalog: both databases and the format record. */
static int create_catalog(struct emu_meta *m)
{
	uint8_t fmt[8];
	MDB_txn *txn;
	int rc = touch(m);

	if (!rc)
		rc = emu_lmdb_errno(mdb_txn_begin(m->env, NULL, 0, &txn));
	if (rc)
		return rc;
	rc = emu_lmdb_errno(mdb_dbi_open(txn, "index", MDB_CREATE, &m->idx));
	if (!rc)
		rc = emu_lmdb_errno(mdb_set_compare(txn, m->idx, emu_key_cmp));
	if (!rc)
		rc = emu_lmdb_errno(mdb_dbi_open(txn, "blobs", MDB_CREATE, &m->blobs));
	kvc_put_le32(fmt, FORMAT_MAGIC);
	kvc_put_le32(fmt + 4, EMU_META_FORMAT);
	if (!rc)
		rc = emu_rec_put(txn, m->blobs, FORMAT_KEY, strlen(FORMAT_KEY), fmt, sizeof(fmt));
	if (rc)
		mdb_txn_abort(txn);
	else
		rc = emu_lmdb_errno(mdb_txn_commit(txn));
	return rc;
}

/* No keys and no device state: the format record and the journal number only. */
static int find_empty(struct emu_meta *m)
{
	MDB_val k = { strlen(JOURNAL_KEY), JOURNAL_KEY }, v;
	MDB_stat si, sb;
	MDB_txn *txn;
	int rc = emu_lmdb_errno(mdb_txn_begin(m->env, NULL, MDB_RDONLY, &txn)), r;

	if (rc)
		return rc;
	rc = emu_lmdb_errno(mdb_stat(txn, m->idx, &si));
	if (!rc)
		rc = emu_lmdb_errno(mdb_stat(txn, m->blobs, &sb));
	r = mdb_get(txn, m->blobs, &k, &v);
	if (!rc)
		m->empty = si.ms_entries == 0 && sb.ms_entries == 1u + (r == 0);
	mdb_txn_abort(txn);
	return rc;
}

/* An existing catalog: its databases must be there, its format ours. */
static int open_catalog(struct emu_meta *m, MDB_txn *txn, char *err, size_t errlen)
{
	MDB_val k = { strlen(FORMAT_KEY), FORMAT_KEY }, v;
	const char *why;
	size_t len;
	int rc;

	if (mdb_dbi_open(txn, "index", 0, &m->idx) || mdb_dbi_open(txn, "blobs", 0, &m->blobs)) {
		snprintf(err, errlen,
			 "%s: damaged: the catalog has lost its 'index' or 'blobs' "
			 "database",
			 m->file);
		return -EUCLEAN;
	}
	rc = emu_lmdb_errno(mdb_set_compare(txn, m->idx, emu_key_cmp));
	if (rc)
		return rc;
	rc = mdb_get(txn, m->blobs, &k, &v);
	if (rc == MDB_NOTFOUND) {
		snprintf(err, errlen,
			 "%s: a catalog of format 0 (made by an older nvkv-emu, or its format "
			 "record is lost); this nvkv-emu reads format %d",
			 m->file, EMU_META_FORMAT);
		return -EUCLEAN;
	}
	if (rc)
		return emu_lmdb_errno(rc);
	why = emu_rec_unseal(FORMAT_KEY, strlen(FORMAT_KEY), &v, &len);
	if (!why && (len != 8 || kvc_get_le32(v.mv_data) != FORMAT_MAGIC))
		why = "is not a format record";
	if (why) {
		snprintf(err, errlen, "%s: damaged: the format record %s", m->file, why);
		return -EUCLEAN;
	}
	if (kvc_get_le32((const uint8_t *)v.mv_data + 4) != EMU_META_FORMAT) {
		snprintf(err, errlen, "%s: a catalog of format %u; this nvkv-emu reads format %d",
			 m->file, kvc_get_le32((const uint8_t *)v.mv_data + 4), EMU_META_FORMAT);
		return -EUCLEAN;
	}
	return 0;
}

/* Before liblmdb maps an existing data.mdb: meta pages, then the clean-shutdown
 * checksum, or without one the walk in a child. */
static int check_file(struct emu_meta *m, const char *dir, uint64_t map_mb, char *err,
		      size_t errlen)
{
	int fd = open(m->file, O_RDONLY | O_CLOEXEC);
	uint64_t used;
	int rc;

	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", m->file, strerror(errno));
		return -errno;
	}
	rc = check_metas(m, fd, &used, err, errlen);
	if (!rc)
		rc = check_sum(m, fd, used, err, errlen);
	close(fd);
	if (rc == 1) {
		m->verified = true;
		return 0;
	}
	if (rc)
		return rc;
	emu_log(2,
		"%s: no clean-shutdown checksum (the last run did not end cleanly): checking "
		"every page",
		m->file);
	return check_in_child(m, dir, map_mb, used, err, errlen);
}

static int lock_store(struct emu_meta *m, const char *dir, char *err, size_t errlen)
{
	char path[4200];

	/* One emulator per store: the catalog and NAND image must not be shared. */
	snprintf(path, sizeof(path), "%s/nvkv.lock", dir);
	m->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (m->lock_fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	if (flock(m->lock_fd, LOCK_EX | LOCK_NB)) {
		snprintf(err, errlen, "%s is in use by another nvkv-emu", dir);
		close(m->lock_fd);
		m->lock_fd = -1;
		return -EBUSY;
	}
	return 0;
}

int emu_meta_open(struct emu_meta *m, const char *dir, uint64_t map_mb, char *err, size_t errlen)
{
	struct span sp;
	MDB_dbi main;
	MDB_stat st;
	MDB_txn *txn;
	struct stat fs;
	bool existing;
	int rc;

	memset(m, 0, sizeof(*m));
	*err = 0;
	emu_journal_init(&m->j);
	m->old_fd = -1;
	m->journal_max = (uint64_t)EMU_META_JOURNAL_MB << 20;
	pthread_mutex_init(&m->ck.mu, NULL);
	pthread_cond_init(&m->ck.cv, NULL);
	snprintf(m->dir, sizeof(m->dir), "%s", dir);
	snprintf(m->file, sizeof(m->file), "%s/data.mdb", dir);
	snprintf(m->sum, sizeof(m->sum), "%s/data.mdb.sum", dir);
	rc = lock_store(m, dir, err, errlen);
	if (rc)
		return rc;
	existing = !stat(m->file, &fs) && fs.st_size > 0;
	rc = existing ? check_file(m, dir, map_mb, err, errlen) : 0;
	if (rc)
		goto fail;
	rc = mdb_env_create(&m->env);
	if (!rc)
		rc = mdb_env_set_maxdbs(m->env, 4);
	if (!rc)
		rc = mdb_env_set_mapsize(m->env, (size_t)map_mb << 20);
	if (!rc)
		/* Not MDB_WRITEMAP: writing through the map is a SIGBUS on a full file
		 * system, pwrite (LMDB's default) is an error it returns. */
		rc = mdb_env_open(m->env, dir, MDB_NOSYNC | MDB_NOMETASYNC, 0644);
	/* Opening named databases changes nothing on disk when they exist. */
	if (!rc)
		rc = mdb_txn_begin(m->env, NULL, 0, &txn);
	if (rc)
		goto fail_lmdb;
	if (!find_map(m->file, &sp)) {
		m->map = sp.base;
		m->map_len = sp.len;
	}
	rc = mdb_dbi_open(txn, NULL, 0, &main);
	if (!rc)
		rc = mdb_stat(txn, main, &st);
	if (rc) {
		mdb_txn_abort(txn);
		goto fail_lmdb;
	}
	if (st.ms_entries == 0) { /* never used: a new catalog */
		mdb_txn_abort(txn);
		rc = create_catalog(m);
	} else {
		rc = open_catalog(m, txn, err, errlen);
		if (rc)
			mdb_txn_abort(txn);
		else
			rc = emu_lmdb_errno(mdb_txn_commit(txn));
	}
	/* What a crash left in journals, then whether anything is stored. */
	if (!rc)
		rc = fold_all(m, err, errlen);
	if (!rc)
		rc = find_empty(m);
	m->map_bytes = map_mb << 20;
	m->ck.lmdb_used = emu_ckpt_lmdb_used(m);
	if (!rc)
		return 0;
	goto fail;
fail_lmdb:
	snprintf(err, errlen, "%s: LMDB: %s", m->file, mdb_strerror(rc));
	rc = emu_lmdb_errno(rc);
fail:
	if (!*err)
		snprintf(err, errlen, "%s: %s", m->file, strerror(-rc));
	emu_meta_close(m);
	return rc;
}

void emu_meta_close(struct emu_meta *m)
{
	uint64_t used = 0;
	char err[512];

	emu_ckpt_stop(m);
	emu_journal_fini(&m->j); /* drops changes never committed */
	if (m->old_fd >= 0)
		close(m->old_fd);
	m->old_fd = -1;
	/* A clean close leaves everything in data.mdb, which its checksum covers. */
	if (m->env && m->synced && !m->ck.err && fold_all(m, err, sizeof(err))) {
		emu_log(0, "%s", err);
		m->synced = false;
	}
	if (m->env && m->synced)
		used = emu_ckpt_lmdb_used(m);
	if (m->env)
		mdb_env_close(m->env);
	m->env = NULL;
	if (used)
		write_sum(m, used);
	m->synced = false;
	if (m->lock_fd > 0)
		close(m->lock_fd);
	m->lock_fd = -1;
	pthread_cond_destroy(&m->ck.cv);
	pthread_mutex_destroy(&m->ck.mu);
}

/* ---- HAL callbacks --------------------------------------------------------------------- */

/* What LMDB would refuse at fold time is refused now, as LMDB refused it at put. */
static int add(struct emu_meta *m, enum emu_jop op, const void *key, size_t klen, const void *rec,
	       size_t rlen)
{
	if (!klen || klen > (size_t)mdb_env_get_maxkeysize(m->env)) {
		m->j.broken = true;
		return -EINVAL;
	}
	return emu_journal_add(&m->j, op, key, klen, rec, rlen);
}

int emu_meta_put(void *ctx, const void *key, size_t klen, const void *rec, size_t rlen)
{
	return add(ctx, EMU_JOP_PUT, key, klen, rec, rlen);
}

int emu_meta_del(void *ctx, const void *key, size_t klen)
{
	return add(ctx, EMU_JOP_DEL, key, klen, NULL, 0);
}

int emu_meta_commit(void *ctx, int sync)
{
	struct emu_meta *m = ctx;
	bool had = m->j.fd >= 0;
	int rc = emu_ckpt_room(m);

	if (rc == -ENOSPC)
		rc = emu_ckpt_make_room(m);
	if (!rc && (m->j.len || m->j.broken)) {
		m->synced = false;
		rc = touch(m);
		if (!rc)
			rc = emu_journal_write(&m->j, m->dir);
		m->commits++;
	}
	emu_journal_discard(&m->j);
	if (!had && m->j.fd >= 0)
		m->dir_dirty = true;
	if (!rc && sync)
		rc = emu_ckpt_sync(m);
	if (!rc)
		emu_ckpt_hand_over(m, false);
	m->synced = !rc && sync;
	return rc;
}

/* A read transaction (the device thread never holds a write transaction). */
static int rtxn(struct emu_meta *m, MDB_txn **txn)
{
	return emu_lmdb_errno(mdb_txn_begin(m->env, NULL, MDB_RDONLY, txn));
}

int emu_meta_iterate(void *ctx, int (*fn)(void *, const void *, size_t, const void *, size_t),
		     void *arg)
{
	struct emu_meta *m = ctx;
	const char *why;
	MDB_cursor *cur;
	MDB_txn *txn;
	MDB_val k, v;
	size_t rlen;
	int rc = rtxn(m, &txn), r;

	if (rc)
		return rc;
	rc = emu_lmdb_errno(mdb_cursor_open(txn, m->idx, &cur));
	if (rc)
		goto out;
	for (r = mdb_cursor_get(cur, &k, &v, MDB_FIRST); r == 0;
	     r = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		why = outside(m, &k, &v) ? "lies outside the file"
					 : emu_rec_unseal(k.mv_data, k.mv_size, &v, &rlen);
		rc = why ? damaged(m, k.mv_data, k.mv_size, why)
			 : fn(arg, k.mv_data, k.mv_size, v.mv_data, rlen);
		if (rc)
			break;
	}
	if (!rc && r != MDB_NOTFOUND)
		rc = emu_lmdb_errno(r);
	mdb_cursor_close(cur);
out:
	mdb_txn_abort(txn);
	return rc;
}

int emu_meta_set_blob(void *ctx, const char *name, const void *data, size_t len)
{
	return add(ctx, EMU_JOP_BLOB, name, strlen(name), data, len);
}

int emu_meta_get_blob(void *ctx, const char *name, void *data, size_t len)
{
	struct emu_meta *m = ctx;
	MDB_val k = { strlen(name), (void *)name }, v;
	const char *why;
	MDB_txn *txn;
	size_t rlen = 0;
	int rc = rtxn(m, &txn);

	if (rc)
		return rc;
	rc = emu_lmdb_errno(mdb_get(txn, m->blobs, &k, &v));
	why = rc		     ? NULL
	      : outside(m, NULL, &v) ? "lies outside the file"
				     : emu_rec_unseal(name, k.mv_size, &v, &rlen);
	if (why) {
		emu_log(0, "%s: damaged: the blob '%s' %s", m->file, name, why);
		rc = -EUCLEAN;
	}
	if (!rc && rlen != len)
		rc = -EINVAL;
	if (!rc)
		memcpy(data, v.mv_data, len);
	mdb_txn_abort(txn);
	return rc;
}
