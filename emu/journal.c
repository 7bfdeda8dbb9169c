// SPDX-License-Identifier: MIT
/* The catalog's journal: batch format, appending, listing and scanning; see journal.h. */
#include "journal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmdset/le.h"
#include "firmware/crc.h"

#define FILE_MAGIC 0x4a4b564eu	/* "NVKJ" */
#define BATCH_MAGIC 0x424a564eu /* "NVJB" */
#define FORMAT 1
#define HDR 16	  /* file header */
#define BHDR 20	  /* batch header: magic, payload length, number, its own CRC */
#define ENT_HDR 7 /* op, key length, record length */
#define PREFIX "journal."

void emu_journal_init(struct emu_journal *j)
{
	memset(j, 0, sizeof(*j));
	j->fd = -1;
	j->seq = 1;
	j->batch = 1;
}

void emu_journal_fini(struct emu_journal *j)
{
	int fd = emu_journal_detach(j);

	if (fd >= 0)
		close(fd);
	free(j->buf);
	j->buf = NULL;
	j->len = j->cap = 0;
}

void emu_journal_path(char *out, size_t len, const char *dir, uint64_t seq)
{
	snprintf(out, len, "%s/" PREFIX "%016" PRIx64, dir, seq);
}

static int reserve(struct emu_journal *j, size_t more)
{
	size_t ncap = j->cap ? j->cap : 4096;
	uint8_t *b;

	if (j->len + more <= j->cap)
		return 0;
	while (ncap < j->len + more)
		ncap *= 2;
	b = realloc(j->buf, ncap);
	if (!b)
		return -ENOMEM;
	j->buf = b;
	j->cap = ncap;
	return 0;
}

int emu_journal_add(struct emu_journal *j, enum emu_jop op, const void *key, size_t klen,
		    const void *rec, size_t rlen)
{
	uint8_t *p;

	if (klen > UINT16_MAX || rlen > UINT32_MAX / 2 ||
	    reserve(j, ENT_HDR + klen + rlen + (j->len ? 0 : BHDR))) {
		j->broken = true;
		return klen > UINT16_MAX || rlen > UINT32_MAX / 2 ? -EINVAL : -ENOMEM;
	}
	if (!j->len)
		j->len = BHDR; /* the batch header, filled in by write */
	p = j->buf + j->len;
	p[0] = (uint8_t)op;
	kvc_put_le16(p + 1, (uint16_t)klen);
	kvc_put_le32(p + 3, (uint32_t)rlen);
	memcpy(p + ENT_HDR, key, klen);
	if (rlen)
		memcpy(p + ENT_HDR + klen, rec, rlen);
	j->len += ENT_HDR + klen + rlen;
	j->entries++;
	return 0;
}

void emu_journal_discard(struct emu_journal *j)
{
	j->len = 0;
	j->entries = 0;
	j->broken = false;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int create(struct emu_journal *j, const char *dir)
{
	uint8_t h[HDR];
	char path[4200];
	int rc;

	emu_journal_path(path, sizeof(path), dir, j->seq);
	j->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
	if (j->fd < 0)
		return -errno;
	kvc_put_le32(h, FILE_MAGIC);
	kvc_put_le32(h + 4, FORMAT);
	kvc_put_le64(h + 8, j->seq);
	rc = write_all(j->fd, h, sizeof(h));
	if (rc) {
		close(j->fd);
		j->fd = -1;
		unlink(path);
		return rc;
	}
	j->size = HDR;
	j->written += HDR;
	return 0;
}

int emu_journal_write(struct emu_journal *j, const char *dir)
{
	int rc;

	if (j->broken) {
		emu_journal_discard(j);
		return -ENOMEM;
	}
	if (!j->len)
		return 0;
	rc = reserve(j, 4);
	if (!rc && j->fd < 0)
		rc = create(j, dir);
	if (rc) {
		emu_journal_discard(j);
		return rc;
	}
	kvc_put_le32(j->buf, BATCH_MAGIC);
	kvc_put_le32(j->buf + 4, (uint32_t)(j->len - BHDR));
	kvc_put_le64(j->buf + 8, j->batch);
	kvc_put_le32(j->buf + 16, fw_crc32c(0, j->buf, 16));
	kvc_put_le32(j->buf + j->len, fw_crc32c(0, j->buf, j->len));
	rc = write_all(j->fd, j->buf, j->len + 4);
	if (rc && ftruncate(j->fd, (off_t)j->size)) {
		/* A torn batch inside the journal would read as damage once
		 * another followed it: take no more. */
		close(j->fd);
		j->fd = -1;
		j->broken = true;
		return -EIO;
	}
	if (!rc) {
		j->written += j->len + 4;
		j->size += j->len + 4;
		j->batch++;
	}
	emu_journal_discard(j);
	return rc;
}

int emu_journal_detach(struct emu_journal *j)
{
	int fd = j->fd;

	if (fd < 0)
		return -1;
	j->fd = -1;
	j->seq++;
	j->size = 0;
	return fd;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int emu_journal_list(const char *dir, uint64_t **seqs, size_t *n)
{
	DIR *d = opendir(dir);
	uint64_t *v = NULL, *nv;
	size_t cnt = 0, cap = 0;
	struct dirent *e;

	*seqs = NULL;
	*n = 0;
	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		const char *s = e->d_name + strlen(PREFIX);
		char *end;
		uint64_t seq;

		if (strncmp(e->d_name, PREFIX, strlen(PREFIX)) || strlen(s) != 16)
			continue;
		errno = 0;
		seq = strtoull(s, &end, 16);
		if (*end || errno || !seq)
			continue;
		if (cnt == cap) {
			cap = cap ? cap * 2 : 8;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				free(v);
				closedir(d);
				return -ENOMEM;
			}
			v = nv;
		}
		v[cnt++] = seq;
	}
	closedir(d);
	if (cnt)
		qsort(v, cnt, sizeof(*v), cmp_u64);
	*seqs = v;
	*n = cnt;
	return 0;
}

/*
 * Map the whole of @path read-only.  A fold reads a journal once, in random
 * order after sorting: mapping the page cache's pages spares reading 64 MiB
 * into fresh memory, which cost a fold about a fifth of its time (page
 * faults, zeroing, the copy).  The pages are read in here, where a read
 * error is an error return, not a SIGBUS at the first touch.
 */
static int map_file(const char *path, struct emu_journal_bytes *b)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;
	struct stat st;
	void *p;

	b->p = NULL;
	b->len = 0;
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		rc = -errno;
	} else if (st.st_size > 0) {
		p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (p == MAP_FAILED) {
			rc = -errno;
		} else if (madvise(p, (size_t)st.st_size, MADV_POPULATE_READ) && errno != EINVAL) {
			rc = errno == EFAULT ? -EIO : -errno; /* EINVAL: a kernel before 5.14 */
			munmap(p, (size_t)st.st_size);
		} else {
			b->p = p;
			b->len = (size_t)st.st_size;
		}
	}
	close(fd);
	return rc;
}

void emu_journal_release(struct emu_journal_bytes *b)
{
	if (b->p)
		munmap((void *)b->p, b->len);
	b->p = NULL;
	b->len = 0;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	while (n && !*p) {
		p++;
		n--;
	}
	return !n;
}

/* The entries of one batch's payload, which passed its checksum. */
static const char *walk_entries(const uint8_t *p, size_t n,
				int (*fn)(void *, enum emu_jop, const void *, size_t, const void *,
					  size_t),
				void *arg, int *rc)
{
	while (n) {
		size_t klen, rlen;

		if (n < ENT_HDR)
			return "an entry crosses the end of its batch";
		klen = kvc_get_le16(p + 1);
		rlen = kvc_get_le32(p + 3);
		if (p[0] < EMU_JOP_PUT || p[0] > EMU_JOP_BLOB)
			return "an entry has an unknown operation";
		if (klen + rlen > n - ENT_HDR)
			return "an entry crosses the end of its batch";
		*rc = fn(arg, (enum emu_jop)p[0], p + ENT_HDR, klen, p + ENT_HDR + klen, rlen);
		if (*rc)
			return NULL;
		p += ENT_HDR + klen + rlen;
		n -= ENT_HDR + klen + rlen;
	}
	return NULL;
}

int emu_journal_scan(const char *dir, uint64_t seq, bool last,
		     int (*fn)(void *arg, enum emu_jop op, const void *key, size_t klen,
			       const void *rec, size_t rlen),
		     void *arg, bool *torn, struct emu_journal_bytes *keep, char *err,
		     size_t errlen)
{
	struct emu_journal_bytes b;
	const char *why = NULL;
	uint64_t batch = 0;
	char path[4200];
	const uint8_t *d;
	size_t len, off;
	int rc;

	*torn = false;
	if (keep)
		*keep = (struct emu_journal_bytes){ NULL, 0 };
	emu_journal_path(path, sizeof(path), dir, seq);
	rc = map_file(path, &b);
	d = b.p;
	len = b.len;
	if (rc) {
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	if (len < HDR) {
		/* Created, then killed before its header was whole. */
		*torn = last;
		why = last ? NULL : "shorter than its header";
		off = 0;
		goto out;
	}
	if (kvc_get_le32(d) != FILE_MAGIC || kvc_get_le32(d + 4) != FORMAT ||
	    kvc_get_le64(d + 8) != seq) {
		why = "its header is not that of this journal";
		off = 0;
		goto out;
	}
	for (off = HDR; off < len && !rc;) {
		size_t rest = len - off, plen = 0, end;
		bool ok;

		if (rest < BHDR || all_zero(d + off, rest)) {
			/* Cut short at the end: the batch being written when the
			 * process died, never acknowledged. */
			*torn = last;
			why = last ? NULL : "ends inside a batch";
			break;
		}
		if (kvc_get_le32(d + off) != BATCH_MAGIC ||
		    kvc_get_le32(d + off + 16) != fw_crc32c(0, d + off, 16)) {
			why = "a batch header is damaged";
			break;
		}
		plen = kvc_get_le32(d + off + 4);
		if (off > HDR && kvc_get_le64(d + off + 8) != batch + 1) {
			why = "a batch is missing before this one";
			break;
		}
		batch = kvc_get_le64(d + off + 8);
		end = off + BHDR + plen + 4;
		ok = end <= len && kvc_get_le32(d + end - 4) == fw_crc32c(0, d + off, BHDR + plen);
		if (!ok && end >= len) { /* the last batch, cut short */
			*torn = last;
			why = last ? NULL : "ends inside a batch";
			break;
		}
		if (!ok) {
			why = "a batch fails its checksum";
			break;
		}
		why = walk_entries(d + off + BHDR, plen, fn, arg, &rc);
		if (why)
			break;
		off = end;
	}
out:
	if (why) {
		snprintf(err, errlen, "%s: damaged: %s (byte %zu)", path, why, off);
		rc = -EUCLEAN;
	}
	if (keep && !rc)
		*keep = b;
	else
		emu_journal_release(&b);
	return rc;
}
