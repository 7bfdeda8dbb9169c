/* SPDX-License-Identifier: MIT */
/*
 * The catalog's checkpoint (meta.h): a journal is folded into data.mdb in one
 * LMDB transaction, its changes sorted by key and the last change of a key
 * winning, with the journal's number recorded under JOURNAL_KEY; data.mdb
 * is synced, then the journal deleted.  While the device runs a thread does
 * it for every journal handed over (struct emu_meta_ckpt); the open and a
 * clean close call emu_ckpt_fold() themselves.  Internal to meta.c.
 */
#ifndef EMU_CKPT_H
#define EMU_CKPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "meta.h"

#define JOURNAL_KEY "nvkv.journal" /* the last journal folded in */

/* Fold journal @seq (@last: the newest, whose last batch may be torn) into
 * data.mdb, then delete it; 0 or -errno with the reason in @err. */
int emu_ckpt_fold(struct emu_meta *m, uint64_t seq, bool last, char *err, size_t errlen);
/* Bytes of data.mdb's pages in use. */
uint64_t emu_ckpt_lmdb_used(struct emu_meta *m);
/* Hand the journal being written to the thread when it is past journal_max
 * (any journal, @force), unless the thread is still folding one. */
void emu_ckpt_hand_over(struct emu_meta *m, bool force);
/* Stop the thread (it finishes the fold it is in). */
void emu_ckpt_stop(struct emu_meta *m);
/* Sync the journals not folded yet, and the directory naming them. */
int emu_ckpt_sync(struct emu_meta *m);
/* Map room for the open batch: 0, -ENOSPC, or the error of a failed fold. */
int emu_ckpt_room(struct emu_meta *m);
/* emu_ckpt_room() after waiting for everything written to be folded. */
int emu_ckpt_make_room(struct emu_meta *m);

#endif /* EMU_CKPT_H */
