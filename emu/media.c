// SPDX-License-Identifier: MIT
/* NAND media backing; see media.h. */
#include "media.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "thread.h"

static size_t bitmap_words(uint64_t bits)
{
	return (size_t)((bits + 63) / 64);
}

static bool bit_test(const uint64_t *map, uint64_t i)
{
	return map[i / 64] >> (i % 64) & 1;
}

static void bit_set(uint64_t *map, uint64_t i)
{
	map[i / 64] |= 1ull << (i % 64);
}

static void bit_clear(uint64_t *map, uint64_t i)
{
	map[i / 64] &= ~(1ull << (i % 64));
}

/* The populated map is shared with the helper thread. */
static bool populated(const struct emu_media *m, uint64_t c)
{
	return __atomic_load_n(&m->populated[c / 64], __ATOMIC_ACQUIRE) >> (c % 64) & 1;
}

static void set_populated(struct emu_media *m, uint64_t c)
{
	__atomic_fetch_or(&m->populated[c / 64], 1ull << (c % 64), __ATOMIC_RELEASE);
}

/*
 * The mapping starts on a 2 MiB boundary (not every kernel aligns a large
 * anonymous mapping), so a block of 2 MiB (the default geometry) is one
 * transparent huge page rather than the halves of two.
 */
#define MEDIA_ALIGN ((size_t)2 << 20)

static int open_memory(struct emu_media *m, char *err, size_t errlen)
{
	uint64_t blocks = m->pages / m->pages_per_block;
	uint8_t *p = mmap(NULL, m->size + MEDIA_ALIGN, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	size_t head;

	if (p == MAP_FAILED) {
		snprintf(err, errlen, "cannot reserve %zu bytes of NAND memory: %s", m->size,
			 strerror(errno));
		return -ENOMEM;
	}
	head = (MEDIA_ALIGN - (uintptr_t)p % MEDIA_ALIGN) % MEDIA_ALIGN;
	if (head)
		munmap(p, head);
	munmap(p + head + m->size, MEDIA_ALIGN - head);
	m->base = p + head;
	/*
	 * Blocks are written whole and their memory is kept after an erase, so
	 * huge pages waste nothing and halve the kernel's cost of supplying the
	 * memory (measured: 1 GiB populated in 0.13 s instead of 0.26 s).  Only
	 * a hint: without transparent huge pages nothing changes.
	 */
	(void)madvise(m->base, m->size, MADV_HUGEPAGE);
	m->block_bytes = (size_t)m->pages_per_block * m->page_size;
	m->blocks = blocks;
	m->erased = calloc(bitmap_words(m->pages), sizeof(*m->erased));
	m->populated = calloc(bitmap_words(blocks), sizeof(*m->populated));
	m->written = calloc(bitmap_words(blocks), sizeof(*m->written));
	if (!m->erased || !m->populated || !m->written) {
		snprintf(err, errlen, "out of memory for the NAND page state");
		emu_media_close(m);
		return -ENOMEM;
	}
	return 0;
}

int emu_media_open(struct emu_media *m, const char *dir, const struct fw_nand_geo *g, char *err,
		   size_t errlen)
{
	char path[4200];
	struct stat st;

	memset(m, 0, sizeof(*m));
	m->fd = -1;
	m->page_size = g->page_size;
	m->pages_per_block = g->pages_per_block;
	m->pages = (uint64_t)g->channels * g->ways * g->planes * g->blocks_per_plane *
		   g->pages_per_block;
	m->size = (size_t)(m->pages * g->page_size);
	if (!dir || !*dir)
		return open_memory(m, err, errlen);
	snprintf(path, sizeof(path), "%s/nand.img", dir);
	m->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (m->fd < 0 || fstat(m->fd, &st)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (st.st_size == 0 && ftruncate(m->fd, (off_t)m->size)) {
		snprintf(err, errlen, "%s: cannot size to %zu bytes: %s", path, m->size,
			 strerror(errno));
		goto fail;
	}
	if (st.st_size != 0 && (size_t)st.st_size != m->size) {
		snprintf(err, errlen,
			 "%s: %lld bytes, but this NAND geometry needs %zu: the image is "
			 "truncated or extended, or the store was made with another geometry",
			 path, (long long)st.st_size, m->size);
		close(m->fd);
		m->fd = -1;
		return -EUCLEAN;
	}
	m->base = mmap(NULL, m->size, PROT_READ | PROT_WRITE, MAP_SHARED, m->fd, 0);
	if (m->base == MAP_FAILED) {
		snprintf(err, errlen, "%s: mmap: %s", path, strerror(errno));
		m->base = NULL;
		goto fail;
	}
	return 0;
fail:
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
	return -EIO;
}

/* Take block @c's memory in one call; false when the kernel refused. */
static bool take_block(struct emu_media *m, uint64_t c)
{
	return !madvise(m->base + c * m->block_bytes, m->block_bytes, MADV_POPULATE_WRITE);
}

int emu_media_prefault(struct emu_media *m)
{
	uint64_t c;

	if (m->fd >= 0)
		return 0;
	/* One call: the kernel takes the pages in bulk, as take_block() does per block. */
	if (madvise(m->base, m->size, MADV_POPULATE_WRITE))
		return -errno;
	for (c = 0; c < m->blocks; c++)
		set_populated(m, c);
	m->populations += m->blocks;
	return 0;
}

/* ---- taking blocks ahead ------------------------------------------------------------------ */

/* Blocks asked for and not yet taken: two superblocks of 512 dies. */
#define AHEAD_RING 1024

struct emu_media_ahead {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t th;
	bool stop;
	uint64_t ring[AHEAD_RING]; /* blocks asked for, oldest first */
	unsigned int head, n;
	struct emu_media_ahead_stats st;
	uint64_t *asked; /* a bit per block: asked for (the writing thread's alone) */
};

static void *ahead_main(void *arg)
{
	struct emu_media *m = arg;
	struct emu_media_ahead *a = m->ahead;
	struct sched_param idle = { 0 };

	/* Idle time only: on a busy machine the writes take their blocks
	 * themselves rather than lose a core's share to this thread. */
	(void)pthread_setschedparam(pthread_self(), SCHED_IDLE, &idle);
	pthread_mutex_lock(&a->mu);
	for (;;) {
		uint64_t c, t;
		bool took = false;

		while (!a->stop && !a->n)
			pthread_cond_wait(&a->cv, &a->mu);
		if (a->stop)
			break;
		c = a->ring[a->head];
		a->head = (a->head + 1) % AHEAD_RING;
		a->n--;
		pthread_mutex_unlock(&a->mu);
		t = emu_thread_cpu_ns();
		if (!populated(m, c)) {
			took = take_block(m, c);
			set_populated(m, c);
		}
		t = emu_thread_cpu_ns() - t;
		pthread_mutex_lock(&a->mu);
		a->st.blocks += took;
		a->st.cpu_ns += t;
	}
	pthread_mutex_unlock(&a->mu);
	return NULL;
}

/* The helper, started by the first hint; NULL without one (no memory, no
 * thread): then every block is taken on the spot. */
static struct emu_media_ahead *ahead_start(struct emu_media *m)
{
	struct emu_media_ahead *a = calloc(1, sizeof(*a));

	m->no_ahead = true; /* until it runs */
	if (!a)
		return NULL;
	a->asked = calloc(bitmap_words(m->blocks), sizeof(*a->asked));
	if (!a->asked) {
		free(a);
		return NULL;
	}
	pthread_mutex_init(&a->mu, NULL);
	pthread_cond_init(&a->cv, NULL);
	m->ahead = a;
	if (!emu_thread_start_quiet(&a->th, ahead_main, m)) {
		pthread_cond_destroy(&a->cv);
		pthread_mutex_destroy(&a->mu);
		free(a->asked);
		free(a);
		m->ahead = NULL;
	}
	m->no_ahead = !m->ahead;
	return m->ahead;
}

void emu_media_expect(struct emu_media *m, uint64_t block)
{
	struct emu_media_ahead *a;

	if (m->fd >= 0 || block >= m->blocks || populated(m, block) ||
	    (!m->ahead && (m->no_ahead || !ahead_start(m))))
		return;
	a = m->ahead;
	if (bit_test(a->asked, block))
		return;
	pthread_mutex_lock(&a->mu);
	if (a->n < AHEAD_RING) { /* full: a hint dropped, the block taken on the spot */
		a->ring[(a->head + a->n) % AHEAD_RING] = block;
		a->n++;
		bit_set(a->asked, block);
		pthread_cond_signal(&a->cv);
	}
	pthread_mutex_unlock(&a->mu);
}

struct emu_media_ahead_stats emu_media_ahead_stats(const struct emu_media *m)
{
	struct emu_media_ahead *a = m->ahead;
	struct emu_media_ahead_stats st = { 0, 0 };

	if (a) {
		pthread_mutex_lock(&a->mu);
		st = a->st;
		pthread_mutex_unlock(&a->mu);
	}
	return st;
}

uint64_t emu_media_unwritten_bytes(const struct emu_media *m)
{
	uint64_t i, n = 0;

	if (m->fd >= 0)
		return 0;
	for (i = 0; i < bitmap_words(m->blocks); i++)
		n += (uint64_t)__builtin_popcountll(
			__atomic_load_n(&m->populated[i], __ATOMIC_ACQUIRE) & ~m->written[i]);
	return n * m->block_bytes;
}

static void ahead_stop(struct emu_media *m)
{
	struct emu_media_ahead *a = m->ahead;

	if (!a)
		return;
	pthread_mutex_lock(&a->mu);
	a->stop = true;
	pthread_cond_signal(&a->cv);
	pthread_mutex_unlock(&a->mu);
	pthread_join(a->th, NULL);
	pthread_cond_destroy(&a->cv);
	pthread_mutex_destroy(&a->mu);
	free(a->asked);
	free(a);
	m->ahead = NULL;
}

void emu_media_close(struct emu_media *m)
{
	ahead_stop(m);
	if (m->base)
		munmap(m->base, m->size);
	if (m->fd >= 0)
		close(m->fd);
	free(m->erased);
	free(m->populated);
	free(m->written);
	m->erased = m->populated = m->written = NULL;
	m->base = NULL;
	m->fd = -1;
}

int emu_media_sync(struct emu_media *m)
{
	if (m->fd < 0)
		return 0;
	return fdatasync(m->fd) ? -errno : 0;
}

/* Test-only fault injection (emu.fault_media_*): 0 = write normally. */
static ssize_t injected(struct emu_media *m, size_t len)
{
	uint64_t n = ++m->writes;

	if (m->fault.enospc_from && n >= m->fault.enospc_from)
		return -ENOSPC;
	if (m->fault.short_write_at && n == m->fault.short_write_at)
		return (ssize_t)(len / 2);
	return 0;
}

/*
 * Write media bytes.  The file is written with pwrite, never through the
 * mapping: a store to a hole of a sparse file that the file system cannot
 * back (full) is a SIGBUS there, but -ENOSPC here.  The mapping (shared with
 * the page cache) still serves reads.
 */
static int media_pwrite(struct emu_media *m, uint64_t off, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t w = pwrite(m->fd, p, len, (off_t)off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -ENOSPC;
		p += w;
		off += (uint64_t)w;
		len -= (size_t)w;
	}
	return 0;
}

/*
 * The first write into block @c since the device opened: its memory comes
 * from the kernel in one call (a third less kernel time per page than a
 * fault per 4 KiB page; failing, on an old kernel, costs nothing: the copy
 * faults as before), unless the helper took it already.  The helper never
 * writes the memory, so both taking it at once is only work done twice.
 */
static void first_write(struct emu_media *m, uint64_t c)
{
	uint64_t t;

	bit_set(m->written, c);
	if (populated(m, c))
		return;
	t = emu_thread_cpu_ns();
	if (take_block(m, c))
		m->populations++;
	set_populated(m, c);
	m->populate_cpu_ns += emu_thread_cpu_ns() - t;
}

/*
 * In memory: @len bytes at @off, from the start of a page.  A page erased
 * since its last write gets zeros after them (a staging, a short write), as
 * a punched-out page of the file would show.
 */
static void memory_write(struct emu_media *m, uint64_t off, const void *buf, size_t len)
{
	uint64_t ppn = off / m->page_size, c = ppn / m->pages_per_block;

	if (!bit_test(m->written, c))
		first_write(m, c);
	memcpy(m->base + off, buf, len);
	if (bit_test(m->erased, ppn)) {
		memset(m->base + off + len, 0, m->page_size - len);
		bit_clear(m->erased, ppn);
	}
}

static int media_write(struct emu_media *m, uint64_t off, const void *buf, size_t len)
{
	ssize_t n = injected(m, len);
	int rc;

	if (n < 0)
		return (int)n;
	if (n > 0) {
		/* A short write, then the file system is full (as a real one does). */
		len = (size_t)n;
	}
	if (m->fd < 0) {
		memory_write(m, off, buf, len);
		return n > 0 ? -ENOSPC : 0;
	}
	rc = media_pwrite(m, off, buf, len);
	if (rc)
		return rc;
	return n > 0 ? -ENOSPC : 0;
}

int emu_media_read(void *ctx, uint64_t ppn, uint32_t off, uint32_t len, void *buf)
{
	struct emu_media *m = ctx;

	if (ppn >= m->pages || off > m->page_size || len > m->page_size - off)
		return -EINVAL;
	if (m->erased && bit_test(m->erased, ppn))
		memset(buf, 0, len);
	else
		memcpy(buf, m->base + ppn * m->page_size + off, len);
	return 0;
}

bool emu_have_prefetchw;

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

__attribute__((constructor)) static void probe_prefetchw(void)
{
	unsigned int a, b, c, d;

	emu_have_prefetchw = __get_cpuid(0x80000001u, &a, &b, &c, &d) && (c & (1u << 8));
}
#endif

void emu_media_prefetch(void *ctx, uint64_t ppn, uint32_t off, uint32_t len)
{
	struct emu_media *m = ctx;

	if (ppn >= m->pages || off > m->page_size || len > m->page_size - off)
		return;
	/* A large value streams: the CPU's own prefetch follows its start. */
	emu_prefetch_lines(m->base + ppn * m->page_size + off, len < 512 ? len : 512, false);
}

int emu_media_program(void *ctx, uint64_t ppn, const void *buf)
{
	struct emu_media *m = ctx;

	if (ppn >= m->pages)
		return -EINVAL;
	return media_write(m, ppn * m->page_size, buf, m->page_size);
}

int emu_media_stage(void *ctx, uint64_t ppn, const void *buf, size_t len)
{
	struct emu_media *m = ctx;

	if (ppn >= m->pages || len > m->page_size)
		return -EINVAL;
	return media_write(m, ppn * m->page_size, buf, len);
}

/*
 * Erase by writing zeros, where the file system cannot punch holes: erased
 * pages read back as zeros either way.  Not a program: not counted in
 * m->writes, not subject to the injected write faults.
 */
static int media_zero(struct emu_media *m, uint64_t off, size_t len)
{
	static const uint8_t zeros[4096];
	int rc;

	while (len) {
		size_t n = len < sizeof(zeros) ? len : sizeof(zeros);

		rc = media_pwrite(m, off, zeros, n);
		if (rc)
			return rc;
		off += n;
		len -= n;
	}
	return 0;
}

int emu_media_erase(void *ctx, uint64_t block)
{
	struct emu_media *m = ctx;
	size_t bytes = (size_t)m->pages_per_block * m->page_size;
	size_t off = (size_t)block * bytes;

	if (off + bytes > m->size)
		return -EINVAL;
	if (m->fd < 0) {
		/* Keep the memory (see media.h): the pages read zeros from now on. */
		for (uint64_t p = 0; p < m->pages_per_block; p++)
			bit_set(m->erased, block * m->pages_per_block + p);
		return 0;
	}
	if (!m->no_punch) {
		int rc = 0;

		if (m->fault.punch_unsupported)
			rc = -EOPNOTSUPP;
		else if (fallocate(m->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off,
				   (off_t)bytes))
			rc = -errno;
		if (rc != -EOPNOTSUPP)
			return rc;
		/* No hole punching on this file system: zeros from now on. */
		m->no_punch = true;
	}
	return media_zero(m, off, bytes);
}
