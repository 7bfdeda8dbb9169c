/* SPDX-License-Identifier: MIT */
/*
 * The catalog's sealed records (meta.h): every value stored in data.mdb
 * carries an 8-byte trailer, CRC-32C of key, value and the rest of the
 * trailer, then the format version.  Shared by the catalog (meta.c) and the
 * checkpoint that folds journals into it (ckpt.c).
 */
#ifndef EMU_RECORD_H
#define EMU_RECORD_H

#include <lmdb.h>
#include <stddef.h>
#include <stdint.h>

#define EMU_REC_TRAILER 8

/* An LMDB return code as 0 or -errno (damage: -EUCLEAN, map full: -ENOSPC). */
int emu_lmdb_errno(int rc);
/* Write the trailer of @rec (under @key) at @t. */
void emu_rec_seal(uint8_t *t, const void *key, size_t klen, const void *rec, size_t rlen);
/* NULL and the record's length in *@rlen, or why the stored value is refused. */
const char *emu_rec_unseal(const void *key, size_t klen, const MDB_val *v, size_t *rlen);
/*
 * LMDB's own key order (bytes compared over the shorter length, then the
 * shorter key first) for the index database, eight bytes a step instead of
 * a memcmp() call: a fold's puts compare about ten times each, and those
 * calls were most of the checkpoint thread's time after the sort.  Same
 * order, so a catalog written under either reads under the other.
 */
int emu_key_cmp(const MDB_val *a, const MDB_val *b);
/* Put @rec under @key, sealed. */
int emu_rec_put(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen, const void *rec,
		size_t rlen);

#endif /* EMU_RECORD_H */
