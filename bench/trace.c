// SPDX-License-Identifier: MIT
/* RocksDB trace reader and writer; see trace.h for the format. */
#include "trace.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmdset/le.h"

#define MAGIC "feedcafedeadbeef"
#define HDR 13 /* ts 8 + type 1 + length 4 */

enum {
	T_BEGIN = 1,
	T_END = 2,
	T_WRITE = 3,
	T_GET = 4,
	T_SEEK = 5,
	T_SEEK_PREV = 6,
	T_MULTIGET = 13
};

static int bad(struct bench_trace_reader *r, char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int bad(struct bench_trace_reader *r, char *err, size_t errlen, const char *fmt, ...)
{
	char msg[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "corrupt trace at byte offset %zu: %s", r->rec_off, msg);
	return -EBADMSG;
}

/* varint32: 7 bits a byte, low first; false when truncated or too long. */
static bool get_varint32(const uint8_t **p, const uint8_t *end, uint32_t *v)
{
	uint32_t x = 0;
	int shift;

	for (shift = 0; shift <= 28 && *p < end; shift += 7) {
		uint8_t b = *(*p)++;

		x |= (uint32_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = x;
			return true;
		}
	}
	return false;
}

static bool get_slice(const uint8_t **p, const uint8_t *end, const uint8_t **s, size_t *n)
{
	uint32_t len;

	if (!get_varint32(p, end, &len) || len > (size_t)(end - *p))
		return false;
	*s = *p;
	*n = len;
	*p += len;
	return true;
}

static bool get_fixed32(const uint8_t **p, const uint8_t *end, uint32_t *v)
{
	if (end - *p < 4)
		return false;
	*v = kvc_get_le32(*p);
	*p += 4;
	return true;
}

/*
 * Decode every record once, counting operations by kind, so a damaged trace is
 * refused before anything runs against the device.
 */
static int check_all(struct bench_trace_reader *r, char *err, size_t errlen)
{
	struct bench_trace_op op;
	int rc;

	while ((rc = bench_trace_next(r, &op, err, errlen)) > 0)
		r->count[op.kind]++;
	bench_trace_rewind(r);
	return rc;
}

int bench_trace_open_mem(struct bench_trace_reader *r, const uint8_t *data, size_t len, char *err,
			 size_t errlen)
{
	uint32_t plen;
	const char *v;

	memset(r, 0, sizeof(*r));
	r->data = (uint8_t *)data;
	r->len = len;
	if (len < HDR)
		return bad(r, err, errlen, "file of %zu bytes is shorter than one record", len);
	plen = kvc_get_le32(data + 9);
	if (data[8] != T_BEGIN)
		return bad(r, err, errlen, "first record has type %u, not the header (1)", data[8]);
	if (plen > len - HDR)
		return bad(r, err, errlen, "header payload of %u bytes runs past the end (%zu)",
			   plen, len);
	if (plen < sizeof(MAGIC) - 1 || memcmp(data + HDR, MAGIC, sizeof(MAGIC) - 1))
		return bad(r, err, errlen, "no trace magic: not a RocksDB trace file");
	v = memmem(data + HDR, plen, "Trace Version: ", 15);
	if (!v || (const uint8_t *)v + 18 > data + HDR + plen || v[16] != '.')
		return bad(r, err, errlen, "header without 'Trace Version: M.N'");
	r->version = (v[15] - '0') * 10 + (v[17] - '0');
	r->off = r->first = HDR + plen;
	return check_all(r, err, errlen);
}

void bench_trace_rewind(struct bench_trace_reader *r)
{
	r->off = r->first;
	r->left = 0;
	r->skipped = 0;
}

int bench_trace_open(struct bench_trace_reader *r, const char *path, char *err, size_t errlen)
{
	struct stat st;
	uint8_t *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;
	ssize_t n;

	memset(r, 0, sizeof(*r));
	if (fd < 0 || fstat(fd, &st)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	buf = malloc((size_t)st.st_size + 1);
	n = buf ? read(fd, buf, (size_t)st.st_size) : -1;
	close(fd);
	if (n != st.st_size) {
		snprintf(err, errlen, "%s: cannot read", path);
		free(buf);
		return -EIO;
	}
	rc = bench_trace_open_mem(r, buf, (size_t)st.st_size, err, errlen);
	if (rc) {
		free(buf);
		r->data = NULL;
		return rc;
	}
	r->data = buf; /* owned now: bench_trace_close() frees it */
	return 0;
}

void bench_trace_close(struct bench_trace_reader *r)
{
	free(r->data); /* only bench_trace_open() gives a reader its own buffer */
	r->data = NULL;
}

/* Start decoding a query record: skip the field map's leading fields. */
static int begin_record(struct bench_trace_reader *r, char *err, size_t errlen)
{
	const uint8_t *p = r->p, *end = r->end;
	uint64_t map = 0;
	uint32_t cf, count;
	const uint8_t *s;
	size_t n;

	if (r->version >= 2) {
		if (end - p < 8)
			return bad(r, err, errlen, "payload shorter than its field map");
		map = kvc_get_le64(p);
		p += 8;
	}
	switch (r->type) {
	case T_WRITE:
		if (r->version >= 2 && map != (1u << 1))
			return bad(r, err, errlen, "write record with field map %#llx",
				   (unsigned long long)map);
		if (r->version >= 2 ? !get_slice(&p, end, &s, &n)
				    : (s = p, n = (size_t)(end - p), 0))
			return bad(r, err, errlen, "write batch length past the record");
		if (n < 12)
			return bad(r, err, errlen, "write batch of %zu bytes has no header", n);
		r->left = kvc_get_le32(s + 8);
		r->p = s + 12;
		r->end = s + n;
		return 0;
	case T_GET:
	case T_SEEK:
	case T_SEEK_PREV:
		if (r->version >= 2 && (map & 0x0c) != 0x0c && (map & 0x30) != 0x30)
			return bad(r, err, errlen, "query record with field map %#llx",
				   (unsigned long long)map);
		if (!get_fixed32(&p, end, &cf))
			return bad(r, err, errlen, "truncated column family id");
		r->p = p;
		r->left = 1;
		return 0;
	case T_MULTIGET:
		if (!get_fixed32(&p, end, &count) || !get_slice(&p, end, &s, &n) ||
		    !get_slice(&p, end, &r->mg_keys, &n))
			return bad(r, err, errlen, "truncated multiget record");
		r->mg_keys_end = r->mg_keys + n;
		r->left = count;
		r->p = p;
		return 0;
	default:
		return 0;
	}
}

/* One operation of a write batch. */
static int next_batch_op(struct bench_trace_reader *r, struct bench_trace_op *op, char *err,
			 size_t errlen)
{
	uint8_t tag;
	uint32_t cf;

	if (r->p >= r->end)
		return bad(r, err, errlen, "write batch announces %u more records than it has",
			   r->left);
	tag = *r->p++;
	if (tag == 0x4 || tag == 0x5 || tag == 0x6 || tag == 0x8) {
		if (!get_varint32(&r->p, r->end, &cf))
			return bad(r, err, errlen, "truncated column family in write batch");
		tag = tag == 0x4 ? 0x0 : tag == 0x5 ? 0x1 : tag == 0x6 ? 0x2 : 0x7;
	}
	switch (tag) {
	case 0x1: /* put */
	case 0x2: /* merge */
		op->kind = tag == 0x1 ? BENCH_TR_PUT : BENCH_TR_MERGE;
		if (!get_slice(&r->p, r->end, &op->key, &op->klen) ||
		    !get_slice(&r->p, r->end, &op->val, &op->vlen))
			return bad(r, err, errlen, "truncated put in write batch");
		return 1;
	case 0x0: /* delete */
	case 0x7: /* single delete */
		op->kind = BENCH_TR_DELETE;
		if (!get_slice(&r->p, r->end, &op->key, &op->klen))
			return bad(r, err, errlen, "truncated delete in write batch");
		return 1;
	case 0x3: /* log data: not an operation */
		if (!get_slice(&r->p, r->end, &op->key, &op->klen))
			return bad(r, err, errlen, "truncated log data in write batch");
		return 0;
	case 0xd: /* no-op */
		return 0;
	default:
		return bad(r, err, errlen, "write batch record with unsupported tag %#x", tag);
	}
}

int bench_trace_next(struct bench_trace_reader *r, struct bench_trace_op *op, char *err,
		     size_t errlen)
{
	int rc;

	for (;;) {
		while (r->left) {
			op->ts_us = r->ts;
			switch (r->type) {
			case T_WRITE:
				rc = next_batch_op(r, op, err, errlen);
				r->left--;
				if (rc)
					return rc;
				continue; /* log data / no-op */
			case T_MULTIGET:
				op->kind = BENCH_TR_GET;
				if (!get_slice(&r->mg_keys, r->mg_keys_end, &op->key, &op->klen))
					return bad(r, err, errlen, "truncated multiget key");
				r->left--;
				op->val = NULL;
				op->vlen = 0;
				return 1;
			default:
				op->kind = r->type == T_GET ? BENCH_TR_GET : BENCH_TR_SEEK;
				if (!get_slice(&r->p, r->end, &op->key, &op->klen))
					return bad(r, err, errlen, "truncated key");
				r->left = 0;
				op->val = NULL;
				op->vlen = 0;
				return 1;
			}
		}
		if (r->off == r->len)
			return 0; /* no end record: a trace cut at a record boundary */
		r->rec_off = r->off;
		if (r->len - r->off < HDR)
			return bad(r, err, errlen, "truncated record header (%zu bytes left)",
				   r->len - r->off);
		r->ts = kvc_get_le64(r->data + r->off);
		r->type = r->data[r->off + 8];
		{
			uint32_t plen = kvc_get_le32(r->data + r->off + 9);

			if (plen > r->len - r->off - HDR)
				return bad(r, err, errlen,
					   "payload of %u bytes runs past the end of the file",
					   plen);
			r->p = r->data + r->off + HDR;
			r->end = r->p + plen;
			r->off += HDR + plen;
		}
		if (r->type == T_END)
			return 0;
		if (r->type != T_WRITE && r->type != T_GET && r->type != T_SEEK &&
		    r->type != T_SEEK_PREV && r->type != T_MULTIGET) {
			r->skipped++;
			continue;
		}
		rc = begin_record(r, err, errlen);
		if (rc)
			return rc;
	}
}

/* ---- writer --------------------------------------------------------------------- */

static void put_varint32(uint8_t **p, uint32_t v)
{
	while (v >= 0x80) {
		*(*p)++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*(*p)++ = (uint8_t)v;
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000ull + (uint64_t)ts.tv_nsec / 1000;
}

static void write_record(struct bench_trace_writer *w, uint8_t type, const uint8_t *payload,
			 uint32_t len)
{
	uint8_t hdr[HDR];

	kvc_put_le64(hdr, now_us());
	hdr[8] = type;
	kvc_put_le32(hdr + 9, len);
	if (fwrite(hdr, 1, HDR, w->f) != HDR || fwrite(payload, 1, len, w->f) != len)
		w->err = -EIO;
	w->records++;
}

int bench_trace_create(struct bench_trace_writer *w, const char *path)
{
	static const char hdr[] = MAGIC "\tTrace Version: 0.2\tRocksDB Version: 7.8\t"
					"Format: Timestamp OpType Payload\n";

	memset(w, 0, sizeof(*w));
	w->f = fopen(path, "wb");
	if (!w->f)
		return -errno;
	pthread_mutex_init(&w->lock, NULL);
	write_record(w, T_BEGIN, (const uint8_t *)hdr, sizeof(hdr) - 1);
	return w->err;
}

void bench_trace_record(struct bench_trace_writer *w, enum bench_trace_kind kind, const void *key,
			size_t klen, const void *val, size_t vlen)
{
	uint8_t *buf = malloc(64 + klen + vlen), *p = buf, *batch;

	if (!buf) {
		w->err = -ENOMEM;
		return;
	}
	if (kind == BENCH_TR_PUT || kind == BENCH_TR_DELETE) {
		uint8_t *len_at;
		size_t blen;

		kvc_put_le64(p, 1u << 1); /* field map: WriteBatch data */
		p += 8;
		len_at = p;
		p += 5; /* room for the varint32 batch length; moved below */
		batch = p;
		kvc_put_le64(p, 0);	/* sequence */
		kvc_put_le32(p + 8, 1); /* count */
		p += 12;
		*p++ = kind == BENCH_TR_PUT ? 0x1 : 0x0;
		put_varint32(&p, (uint32_t)klen);
		memcpy(p, key, klen);
		p += klen;
		if (kind == BENCH_TR_PUT) {
			put_varint32(&p, (uint32_t)vlen);
			memcpy(p, val, vlen);
			p += vlen;
		}
		blen = (size_t)(p - batch);
		{
			uint8_t *q = len_at, *e;

			put_varint32(&q, (uint32_t)blen);
			e = q;
			memmove(e, batch, blen);
			p = e + blen;
		}
		pthread_mutex_lock(&w->lock);
		write_record(w, T_WRITE, buf, (uint32_t)(p - buf));
		pthread_mutex_unlock(&w->lock);
		free(buf);
		return;
	}
	kvc_put_le64(p, kind == BENCH_TR_GET ? (1u << 2 | 1u << 3) : (1u << 4 | 1u << 5));
	p += 8;
	kvc_put_le32(p, 0); /* column family */
	p += 4;
	put_varint32(&p, (uint32_t)klen);
	memcpy(p, key, klen);
	p += klen;
	pthread_mutex_lock(&w->lock);
	write_record(w, kind == BENCH_TR_GET ? T_GET : T_SEEK, buf, (uint32_t)(p - buf));
	pthread_mutex_unlock(&w->lock);
	free(buf);
}

int bench_trace_finish(struct bench_trace_writer *w)
{
	int rc;

	if (!w->f)
		return 0;
	write_record(w, T_END, (const uint8_t *)"", 0);
	rc = fclose(w->f) ? -errno : w->err;
	w->f = NULL;
	pthread_mutex_destroy(&w->lock);
	return rc;
}
