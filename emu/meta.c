// SPDX-License-Identifier: MIT
/* LMDB catalog; see meta.h. */
#include "meta.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

static int lmdb_errno(int rc)
{
	switch (rc) {
	case 0:
		return 0;
	case MDB_NOTFOUND:
		return -ENOENT;
	case MDB_MAP_FULL:
		return -ENOSPC;
	default:
		return rc > 0 ? -rc : -EIO;
	}
}

int emu_meta_open(struct emu_meta *m, const char *dir, uint64_t map_mb, char *err, size_t errlen)
{
	char path[4200];
	MDB_txn *txn;
	int rc;

	memset(m, 0, sizeof(*m));
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
		return -EBUSY;
	}
	rc = mdb_env_create(&m->env);
	if (!rc)
		rc = mdb_env_set_maxdbs(m->env, 4);
	if (!rc)
		rc = mdb_env_set_mapsize(m->env, (size_t)map_mb << 20);
	if (!rc)
		/* Not MDB_WRITEMAP: writing through the map is a SIGBUS on a full file
		 * system, pwrite (LMDB's default) is an error it returns. */
		rc = mdb_env_open(m->env, dir, MDB_NOSYNC | MDB_NOMETASYNC, 0644);
	if (!rc)
		rc = mdb_txn_begin(m->env, NULL, 0, &txn);
	if (!rc) {
		rc = mdb_dbi_open(txn, "index", MDB_CREATE, &m->idx);
		if (!rc)
			rc = mdb_dbi_open(txn, "blobs", MDB_CREATE, &m->blobs);
		rc = rc ? (mdb_txn_abort(txn), rc) : mdb_txn_commit(txn);
	}
	if (rc) {
		snprintf(err, errlen, "%s: LMDB: %s", dir, mdb_strerror(rc));
		emu_meta_close(m);
		return lmdb_errno(rc);
	}
	return 0;
}

void emu_meta_close(struct emu_meta *m)
{
	if (m->wtxn)
		mdb_txn_abort(m->wtxn);
	m->wtxn = NULL;
	if (m->env)
		mdb_env_close(m->env);
	m->env = NULL;
	if (m->lock_fd > 0)
		close(m->lock_fd);
	m->lock_fd = -1;
}

static int wtxn(struct emu_meta *m)
{
	if (m->wtxn)
		return 0;
	return lmdb_errno(mdb_txn_begin(m->env, NULL, 0, &m->wtxn));
}

int emu_meta_put(void *ctx, const void *key, size_t klen, const void *rec, size_t rlen)
{
	struct emu_meta *m = ctx;
	MDB_val k = { klen, (void *)key }, v = { rlen, (void *)rec };
	int rc = wtxn(m);

	return rc ? rc : lmdb_errno(mdb_put(m->wtxn, m->idx, &k, &v, 0));
}

int emu_meta_del(void *ctx, const void *key, size_t klen)
{
	struct emu_meta *m = ctx;
	MDB_val k = { klen, (void *)key };
	int rc = wtxn(m);

	if (rc)
		return rc;
	rc = mdb_del(m->wtxn, m->idx, &k, NULL);
	return rc == MDB_NOTFOUND ? 0 : lmdb_errno(rc);
}

int emu_meta_commit(void *ctx, int sync)
{
	struct emu_meta *m = ctx;
	int rc = 0;

	if (m->wtxn) {
		rc = lmdb_errno(mdb_txn_commit(m->wtxn));
		m->wtxn = NULL;
		m->commits++;
	}
	if (!rc && sync)
		rc = lmdb_errno(mdb_env_sync(m->env, 1));
	return rc;
}

/* A read transaction, or the open write transaction (LMDB allows one per thread). */
static int rtxn(struct emu_meta *m, MDB_txn **txn)
{
	if (m->wtxn) {
		*txn = m->wtxn;
		return 0;
	}
	return lmdb_errno(mdb_txn_begin(m->env, NULL, MDB_RDONLY, txn));
}

static void rdone(struct emu_meta *m, MDB_txn *txn)
{
	if (txn != m->wtxn)
		mdb_txn_abort(txn);
}

int emu_meta_iterate(void *ctx, int (*fn)(void *, const void *, size_t, const void *, size_t),
		     void *arg)
{
	struct emu_meta *m = ctx;
	MDB_cursor *cur;
	MDB_txn *txn;
	MDB_val k, v;
	int rc = rtxn(m, &txn), r;

	if (rc)
		return rc;
	rc = lmdb_errno(mdb_cursor_open(txn, m->idx, &cur));
	if (rc)
		goto out;
	for (r = mdb_cursor_get(cur, &k, &v, MDB_FIRST); r == 0;
	     r = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		rc = fn(arg, k.mv_data, k.mv_size, v.mv_data, v.mv_size);
		if (rc)
			break;
	}
	if (!rc && r != MDB_NOTFOUND)
		rc = lmdb_errno(r);
	mdb_cursor_close(cur);
out:
	rdone(m, txn);
	return rc;
}

int emu_meta_set_blob(void *ctx, const char *name, const void *data, size_t len)
{
	struct emu_meta *m = ctx;
	MDB_val k = { strlen(name), (void *)name }, v = { len, (void *)data };
	int rc = wtxn(m);

	return rc ? rc : lmdb_errno(mdb_put(m->wtxn, m->blobs, &k, &v, 0));
}

int emu_meta_get_blob(void *ctx, const char *name, void *data, size_t len)
{
	struct emu_meta *m = ctx;
	MDB_val k = { strlen(name), (void *)name }, v;
	MDB_txn *txn;
	int rc = rtxn(m, &txn);

	if (rc)
		return rc;
	rc = lmdb_errno(mdb_get(txn, m->blobs, &k, &v));
	if (!rc && v.mv_size != len)
		rc = -EINVAL;
	if (!rc)
		memcpy(data, v.mv_data, len);
	rdone(m, txn);
	return rc;
}
