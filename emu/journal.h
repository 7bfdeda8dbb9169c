/* SPDX-License-Identifier: MIT */
/*
 * The catalog's journal (<store>/journal.<seq>, 16 hex digits): the changes
 * of each commit appended as one checksummed batch, so a commit costs one
 * write() of the changed records instead of an LMDB transaction rewriting a
 * B-tree page per random key.  meta.c folds full journals into data.mdb in
 * the background (a checkpoint) and deletes them; at open it folds whatever
 * journals a crash left.  This file is the format and its file I/O only.
 *
 * File: a 16-byte header (magic "NVKJ", format, the file's sequence number),
 * then batches.  Batch: magic "NVJB", payload length, batch number (all
 * little-endian, 16 bytes), the payload, then CRC-32C of header and payload.
 * Payload: entries of op (1 byte), key length (2), record length (4), key,
 * record.  A batch is written with one write(); one the process was killed in
 * the middle of is the last thing in the newest journal and was never
 * acknowledged, so a scan stops there.  Anything else that fails its checks is
 * damage.
 */
#ifndef EMU_JOURNAL_H
#define EMU_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum emu_jop {
	EMU_JOP_PUT = 1, /* index record */
	EMU_JOP_DEL = 2, /* index record */
	EMU_JOP_BLOB = 3,
};

struct emu_journal {
	int fd;		  /* the journal being appended to; -1 until the first commit */
	uint64_t seq;	  /* its sequence number */
	uint64_t size;	  /* its length: the end of its last whole batch */
	uint64_t batch;	  /* number of the next batch */
	uint64_t written; /* bytes written to journals since the open, headers too */
	uint8_t *buf;	  /* the batch being built (header room first) */
	size_t len, cap;
	uint32_t entries;
	bool broken; /* an entry could not be added: the batch must fail */
};

void emu_journal_init(struct emu_journal *j);
void emu_journal_fini(struct emu_journal *j);

/* Add a change to the batch being built.  -ENOMEM leaves the batch broken. */
int emu_journal_add(struct emu_journal *j, enum emu_jop op, const void *key, size_t klen,
		    const void *rec, size_t rlen);

/* Drop the batch being built (its changes are not written). */
void emu_journal_discard(struct emu_journal *j);

/*
 * Write the batch being built to the journal (creating journal.<seq> in @dir
 * first if none is open) and clear it.  A write that fails is cut off again,
 * so the journal ends at its last whole batch; -EIO if even that fails
 * (the journal cannot take more batches).  -ENOMEM if the batch is broken.
 */
int emu_journal_write(struct emu_journal *j, const char *dir);

/* Stop appending to the open journal and return its descriptor (the caller
 * closes it), -1 if none is open; the next write starts journal seq + 1. */
int emu_journal_detach(struct emu_journal *j);

/* The file name of journal @seq in @dir. */
void emu_journal_path(char *out, size_t len, const char *dir, uint64_t seq);

/*
 * The sequence numbers of the journals in @dir, ascending, in a malloc'd
 * array (*n of them; NULL when none).  0 or -errno.
 */
int emu_journal_list(const char *dir, uint64_t **seqs, size_t *n);

/* A journal's bytes, mapped read-only (no copy: the page cache's own pages). */
struct emu_journal_bytes {
	const uint8_t *p; /* NULL for an empty file */
	size_t len;
};

/* Unmap @b (nothing when empty); @b is empty after. */
void emu_journal_release(struct emu_journal_bytes *b);

/*
 * Read journal @seq of @dir and call @fn for each entry of each whole batch,
 * in order.  @last: it is the newest journal, whose final batch may have
 * been cut short by a crash (then *torn is set and the scan ends before it).
 * @keep: NULL, or receives the file's bytes, which the pointers passed to
 * @fn point into, for the caller to emu_journal_release() (empty after a
 * failure).  The file must not shrink while mapped: a journal is only ever
 * appended to, and only the open one, which is never scanned.
 * Return: 0; @fn's nonzero return; -EUCLEAN with a message naming the file
 * and the byte offset in @err; another -errno.
 */
int emu_journal_scan(const char *dir, uint64_t seq, bool last,
		     int (*fn)(void *arg, enum emu_jop op, const void *key, size_t klen,
			       const void *rec, size_t rlen),
		     void *arg, bool *torn, struct emu_journal_bytes *keep, char *err,
		     size_t errlen);

#endif /* EMU_JOURNAL_H */
