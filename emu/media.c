// SPDX-License-Identifier: MIT
/* NAND media backing; see media.h. */
#include "media.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

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
	if (!dir || !*dir) {
		m->base = mmap(NULL, m->size, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (m->base == MAP_FAILED) {
			snprintf(err, errlen, "cannot reserve %zu bytes of NAND memory: %s",
				 m->size, strerror(errno));
			m->base = NULL;
			return -ENOMEM;
		}
		return 0;
	}
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

void emu_media_close(struct emu_media *m)
{
	if (m->base)
		munmap(m->base, m->size);
	if (m->fd >= 0)
		close(m->fd);
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
		memcpy(m->base + off, buf, len);
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
	memcpy(buf, m->base + ppn * m->page_size + off, len);
	return 0;
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
	if (m->fd < 0)
		return madvise(m->base + off, bytes, MADV_DONTNEED) ? -errno : 0;
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
