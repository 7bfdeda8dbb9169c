/* SPDX-License-Identifier: MIT */
/*
 * Persistent catalog of the emulator in LMDB: the key index ("index":
 * key -> 16-byte record) and named blobs of device state ("blobs").  Changes
 * accumulate in one write transaction and become durable together at commit
 * (group commit).  Commits do not fsync (they survive a crash of the
 * emulator process); a sync commit (Flush, shutdown) also survives power loss.
 */
#ifndef EMU_META_H
#define EMU_META_H

#include <lmdb.h>
#include <stddef.h>
#include <stdint.h>

struct emu_meta {
	MDB_env *env;
	MDB_dbi idx;
	MDB_dbi blobs;
	MDB_txn *wtxn;
	int lock_fd;
	uint64_t commits;
};

int emu_meta_open(struct emu_meta *m, const char *dir, uint64_t map_mb, char *err, size_t errlen);
void emu_meta_close(struct emu_meta *m);

int emu_meta_put(void *ctx, const void *key, size_t klen, const void *rec, size_t rlen);
int emu_meta_del(void *ctx, const void *key, size_t klen);
int emu_meta_commit(void *ctx, int sync);
int emu_meta_iterate(void *ctx, int (*fn)(void *, const void *, size_t, const void *, size_t),
		     void *arg);
int emu_meta_set_blob(void *ctx, const char *name, const void *data, size_t len);
int emu_meta_get_blob(void *ctx, const char *name, void *data, size_t len);

#endif /* EMU_META_H */
