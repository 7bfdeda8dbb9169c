/* SPDX-License-Identifier: MIT */
/*
 * NAND media of the emulator: one mapping of pages, backed by anonymous
 * memory (in-memory device) or by a sparse file <store>/nand.img.  Erased
 * pages read as zeros, and so do the bytes of a page past what a program or
 * staging wrote into it since its erase.  In the file, erased blocks are
 * punched out (they cost no space) or, on a file system that cannot punch
 * holes, overwritten with zeros; programs and staging write the file with
 * pwrite, so a full file system is -ENOSPC (a status for the host), not a
 * SIGBUS in the mapping.  In memory, an erase keeps the block's memory and
 * only marks its pages erased: the next write of a page zeroes what it does
 * not cover, a read of a marked page gives zeros.  Memory given back to the
 * kernel would cost a page fault per 4 KiB at every later program (more than
 * the rest of a block write on a virtual machine), and a device that erases
 * a block writes it again.  Fresh memory is taken in bulk the first time a
 * block is written (MADV_POPULATE_WRITE), not a fault at a time.
 */
#ifndef EMU_MEDIA_H
#define EMU_MEDIA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firmware/nand.h"

/* PREFETCHW is there (CPUID 80000001h ECX bit 8); read once, by media.c. */
extern bool emu_have_prefetchw;

/*
 * Ask for the cache lines of [@p, @p + @len), to read or (@write) to write.
 * A line another core holds (host memory the host just read) must be taken
 * from it before the write: PREFETCHW starts that early.  GCC emits it for
 * __builtin_prefetch(p, 1) only when built for a CPU that has it, so it is
 * asked for by name where CPUID says it exists.
 */
static inline void emu_prefetch_lines(const void *p, size_t len, bool write)
{
	uintptr_t a = (uintptr_t)p, end = a + len;

	for (a &= ~(uintptr_t)63; a < end; a += 64) {
#if defined(__x86_64__) || defined(__i386__)
		if (write && emu_have_prefetchw) {
			__asm__ volatile("prefetchw %0" : : "m"(*(const char *)a));
			continue;
		}
#endif
		if (write)
			__builtin_prefetch((const void *)a, 1);
		else
			__builtin_prefetch((const void *)a, 0);
	}
}

struct emu_media {
	uint8_t *base;
	size_t size;
	uint32_t page_size;
	uint32_t pages_per_block;
	uint64_t pages;
	int fd;		 /* -1 in memory */
	uint64_t writes; /* programs and stagings so far */
	bool no_punch;	 /* the file system cannot punch holes: erase writes zeros */
	/* In memory only: */
	size_t block_bytes; /* memory is taken from the kernel a block at a time */
	uint64_t blocks;
	uint64_t *erased;     /* a bit per page: erased, its memory not zeroed yet */
	uint64_t *populated;  /* a bit per block: memory taken (or tried) */
	uint64_t *written;    /* a bit per block: written into since open */
	uint64_t populations; /* blocks taken in bulk so far by the writing thread */
	/* CPU time of the writing thread spent taking them: the host kernel
	 * zeroing and mapping memory, not the device's work. */
	uint64_t populate_cpu_ns;
	/* A helper thread that takes blocks ahead of the writes (media.c);
	 * no_ahead: it could not be started, and is not tried again. */
	struct emu_media_ahead *ahead;
	bool no_ahead;
	struct {
		uint64_t enospc_from;	 /* writes from this one on fail: -ENOSPC */
		uint64_t short_write_at; /* this write stores half, then -ENOSPC */
		bool punch_unsupported;	 /* hole punching fails: -EOPNOTSUPP */
	} fault;			 /* test-only fault injection; 0 = off */
};

int emu_media_open(struct emu_media *m, const char *dir, const struct fw_nand_geo *g, char *err,
		   size_t errlen);
/**
 * emu_media_prefault() - take all of an in-memory NAND's memory now.
 * @m: open media.
 *
 * The first write into a block otherwise pays for its memory on the
 * command path (zeroing and mapping it: about half of the emulator's CPU in
 * a fresh-device write benchmark), unless the block was named ahead
 * (emu_media_expect()) and an idle core took it.  Erased blocks keep their
 * memory, so nothing is given back later.  A file-backed media is left
 * alone: its pages are the page cache's.
 *
 * Return: 0, or -errno of MADV_POPULATE_WRITE (-ENOMEM: not enough memory,
 * -EINVAL: a kernel older than 5.14); the media works either way.
 */
int emu_media_prefault(struct emu_media *m);

/*
 * emu_media_expect() - block @block will be written soon (the HAL's
 * nand_expect hint: the firmware names the superblock it will open next).
 *
 * In memory, a helper thread (started by the first hint; it takes no
 * signals and runs in idle time only, SCHED_IDLE) takes the block's memory,
 * so the kernel supplies it on an idle core instead of on the command path.
 * A block the helper has not reached is taken by its first write, as
 * without a hint.  Out of range, file-backed, already taken: nothing.  What
 * the helper did, for the benchmarks:
 */
void emu_media_expect(struct emu_media *m, uint64_t block);
struct emu_media_ahead_stats {
	uint64_t blocks; /* taken by the helper */
	uint64_t cpu_ns; /* its CPU time doing so */
};
struct emu_media_ahead_stats emu_media_ahead_stats(const struct emu_media *m);
/* In memory: bytes of blocks whose memory is taken but not written since
 * the device opened (taken ahead, or by emu_media_prefault()). */
uint64_t emu_media_unwritten_bytes(const struct emu_media *m);
void emu_media_close(struct emu_media *m);
/* Make programmed data durable against power loss (msync). */
int emu_media_sync(struct emu_media *m);

int emu_media_read(void *ctx, uint64_t ppn, uint32_t off, uint32_t len, void *buf);
/* Cache hint for a read of @len bytes at @off of page @ppn (at most 8 lines). */
void emu_media_prefetch(void *ctx, uint64_t ppn, uint32_t off, uint32_t len);
int emu_media_program(void *ctx, uint64_t ppn, const void *buf);
int emu_media_stage(void *ctx, uint64_t ppn, const void *buf, size_t len);
int emu_media_erase(void *ctx, uint64_t block);

#endif /* EMU_MEDIA_H */
