/* SPDX-License-Identifier: MIT */
/*
 * Persistent catalog of the emulator in LMDB (<store>/data.mdb): the key
 * index ("index": key -> record) and named blobs of device state ("blobs").
 * Changes accumulate in memory and become durable together at commit (group
 * commit), which appends them as one batch to the journal (journal.h).  A
 * journal longer than journal_max is folded into data.mdb by a background
 * thread, in one LMDB transaction that also records the journal's number
 * ("nvkv.journal"), then synced and deleted; the open folds any journal a
 * crash left, and a clean close folds the rest.  Commits do not fsync (they
 * survive a crash of the emulator process); a sync commit (Flush, shutdown)
 * also survives power loss.
 *
 * Damage is found before it is used.  Every stored value carries an 8-byte
 * trailer: CRC-32C of key, value and the rest of the trailer, then the format
 * version (EMU_META_FORMAT); a "nvkv.catalog" blob marks a catalog of this
 * format, so a store made by an older nvkv-emu is recognised.  A clean close
 * writes <store>/data.mdb.sum, the CRC-32C of the used part of data.mdb; the
 * next open checks the file against it.  Without it (the last run did not end
 * cleanly), the open checks LMDB's meta pages itself and walks every tree in
 * a child process, so that a damaged B-tree page that would crash liblmdb
 * crashes the child, not the emulator.  Whatever is found is refused with
 * -EUCLEAN and a log line naming data.mdb.
 */
#ifndef EMU_META_H
#define EMU_META_H

#include <lmdb.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "journal.h"

#define EMU_META_FORMAT 1
#define EMU_META_JOURNAL_MB 64 /* default: a journal this long is folded into data.mdb */

/* The thread that folds full journals into data.mdb (the only LMDB writer
 * while the device runs). */
struct emu_meta_ckpt {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool running;
	bool stop;
	uint64_t want; /* journal to fold; 0: none */
	uint64_t want_size;
	uint64_t done; /* the last journal folded */
	int err;       /* a fold failed: every later commit fails with it */
	/* every fold so far (the thread's, the open's, the close's) */
	uint64_t folds, changes, ns;
	uint64_t bytes;	    /* journal bytes the thread folded */
	uint64_t lmdb_used; /* data.mdb's pages in use after the last fold */
};

struct emu_meta {
	MDB_env *env;
	MDB_dbi idx;
	MDB_dbi blobs;
	int lock_fd;
	uint64_t commits;
	struct emu_journal j;
	uint64_t journal_max; /* bytes: a longer journal is handed to the checkpoint */
	uint64_t map_bytes;   /* LMDB map size: data.mdb can grow to this */
	int old_fd;	      /* the journal being folded, kept open for a sync */
	uint64_t old_seq;
	bool dir_dirty; /* a journal was created since the directory was last synced */
	struct emu_meta_ckpt ck;
	char dir[4096];
	char file[4200];    /* <store>/data.mdb, for messages */
	char sum[4200];	    /* <store>/data.mdb.sum */
	bool sum_on_disk;   /* removed before the first write */
	bool synced;	    /* everything committed and synced: close may write the sum */
	bool empty;	    /* no keys and no device state (a new catalog) */
	bool verified;	    /* the clean-shutdown checksum matched at open */
	const uint8_t *map; /* where liblmdb mapped data.mdb, to bound what it returns */
	uint64_t map_len;
};

/**
 * emu_meta_open() - open (or create) the catalog of a store and check it.
 * @dir: the store directory.
 * @map_mb: LMDB map size.
 * @err: receives a one-line message naming the file on failure.
 *
 * Return: 0; -EBUSY (another emulator has the store); -EUCLEAN (data.mdb is
 * damaged, truncated, or of another format); another -errno from the OS or
 * LMDB.
 */
int emu_meta_open(struct emu_meta *m, const char *dir, uint64_t map_mb, char *err, size_t errlen);

/* Close; after a synced commit with nothing pending, write data.mdb.sum. */
void emu_meta_close(struct emu_meta *m);

/*
 * HAL callbacks (firmware/hal.h).  A stored value that fails its checksum or
 * has another format is reported by iterate and get_blob as -EUCLEAN, with a
 * log line naming the file and the key.
 */
int emu_meta_put(void *ctx, const void *key, size_t klen, const void *rec, size_t rlen);
int emu_meta_del(void *ctx, const void *key, size_t klen);
int emu_meta_commit(void *ctx, int sync);
int emu_meta_iterate(void *ctx, int (*fn)(void *, const void *, size_t, const void *, size_t),
		     void *arg);
int emu_meta_set_blob(void *ctx, const char *name, const void *data, size_t len);
int emu_meta_get_blob(void *ctx, const char *name, void *data, size_t len);

#endif /* EMU_META_H */
