// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the catalog as the firmware reads it back at start-up --
 * the per-key index records (key -> location, length, CRC) and the value-log
 * layout blob -- decoded by one entry point, fw_subsys_create() with a
 * persistent HAL (load_record() and fw_vlog_state_load() in firmware/).
 * emu/meta.c only moves these bytes between LMDB and the firmware, so what it
 * stores is exactly what this target feeds in through the fake HAL's catalog.
 *
 * Each input starts from one real store (built once per process: stores,
 * overwrites and deletes on a small NAND so GC has run, then a clean
 * shutdown) and applies edits: flip or set blob bytes, edit, add or drop index
 * records, change key lengths, truncate or lose the blob.  Invariants: no
 * sanitizer report; recovery either refuses with -errno or comes up; a device
 * that came up serves every recovered key (its value or Unrecovered Error,
 * never a hang), takes new Stores and Deletes, and shuts down cleanly.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdset/cmdset.h"
#include "firmware/fakehost.h"
#include "firmware/fw.h"
#include "fuzzhost.h"

static struct {
	struct fw_config cfg;
	struct fh_env env;
	struct fh_host h;
	bool h_ready;
	/* the base store */
	uint8_t *media;
	struct fh_meta_rec meta[FH_MAX_META];
	uint8_t blob[1 << 16];
	size_t blob_len;
	/* input */
	const uint8_t *p;
	size_t n;
} z;

static uint8_t u8(void)
{
	uint8_t v = 0;

	if (z.n) {
		v = *z.p++;
		z.n--;
	}
	return v;
}

/* Little-endian; one call per statement keeps the byte order defined. */
static uint16_t u16(void)
{
	uint16_t lo = u8();

	return (uint16_t)(lo | u8() << 8);
}

static void config(struct fw_config *c)
{
	fh_small_config(c);
	c->geo.pages_per_block = 4; /* 512 KiB of NAND: GC runs early */
	c->max_value = 16 * 1024;
	c->vwc = true; /* commit at Flush only: the fake catalog copies itself per commit */
}

static void key_of(unsigned int i, char *key)
{
	snprintf(key, 17, "key%u", i);
}

/* The base store: written once, copied into the environment for every input. */
static void build_base(void)
{
	static uint8_t val[6000];
	struct fw_subsys *s;
	unsigned int i, round;
	uint64_t brk;
	char key[17];

	config(&z.cfg);
	fh_env_init(&z.env, &z.cfg, true);
	CHECK(fw_subsys_create(&z.cfg, &z.env.hal, &s) == 0);
	fz_host_attach(&z.h, &z.env, s, &z.h_ready);
	CHECK(fh_enable(&z.h, 16) & KVC_CSTS_RDY);
	CHECK(fh_create_ioq(&z.h, 1, 16) == 0);
	brk = z.h.brk;
	for (round = 0; round < 6; round++) {
		for (i = 0; i < 24; i++) {
			uint32_t len = (i * 997 + round * 131) % sizeof(val);

			memset(val, (int)(i + round), len);
			key_of(i, key);
			CHECK(fh_store(&z.h, 1, key, val, len, 0) == 0);
			z.h.brk = brk; /* reuse host memory: fh_alloc only bumps */
		}
		key_of(round * 3, key);
		CHECK(fh_simple(&z.h, 1, KVC_KV_DELETE, key) == 0);
	}
	fw_ctrl_destroy(z.h.ctrl);
	fw_subsys_destroy(s); /* clean shutdown: flushed */
	z.media = malloc(z.env.media_pages * z.env.page_size);
	CHECK(z.media);
	memcpy(z.media, z.env.media, z.env.media_pages * z.env.page_size);
	memcpy(z.meta, z.env.meta, sizeof(z.meta));
	memcpy(z.blob, z.env.blob, z.env.blob_len);
	z.blob_len = z.env.blob_len;
	CHECK(z.blob_len > 0);
	fh_env_fini(&z.env);
}

static void restore_base(void)
{
	fh_env_init(&z.env, &z.cfg, true);
	memcpy(z.env.media, z.media, z.env.media_pages * z.env.page_size);
	memcpy(z.env.meta, z.meta, sizeof(z.meta));
	memcpy(z.env.pending, z.meta, sizeof(z.meta));
	memcpy(z.env.blob, z.blob, z.blob_len);
	memcpy(z.env.pending_blob, z.blob, z.blob_len);
	z.env.blob_len = z.env.pending_blob_len = z.blob_len;
}

/* The n-th live record (wrapping), or a free slot when there is none. */
static struct fh_meta_rec *live_rec(unsigned int n)
{
	unsigned int i, live = 0;

	for (i = 0; i < FH_MAX_META; i++)
		live += z.env.meta[i].live;
	if (!live)
		return &z.env.meta[n % FH_MAX_META];
	n %= live;
	for (i = 0; i < FH_MAX_META; i++)
		if (z.env.meta[i].live && n-- == 0)
			return &z.env.meta[i];
	return NULL;
}

static void edit(void)
{
	uint8_t op = u8();
	struct fh_meta_rec *r;
	uint16_t off;
	unsigned int i;

	if (!z.env.blob_len && op % 7 < 2)
		op = 2; /* no blob left to edit */
	switch (op % 7) {
	case 0: /* flip blob bits */
		off = (uint16_t)(u16() % z.env.blob_len);
		z.env.blob[off] ^= u8();
		break;
	case 1: /* set 8 blob bytes: counts, offsets, next pointers */
		off = (uint16_t)(u16() % z.env.blob_len);
		for (i = 0; i < 8 && off + i < z.env.blob_len; i++)
			z.env.blob[off + i] = u8();
		break;
	case 2: /* flip record bits */
		r = live_rec(u8());
		off = u8() % 16;
		r->rec[off] ^= u8();
		break;
	case 3: /* set a record's location / length / crc field */
		r = live_rec(u8());
		off = u8() % 4;
		for (i = 0; i < 4; i++)
			r->rec[off * 4 + i] = u8();
		break;
	case 4: /* a new record with an arbitrary key */
		r = &z.env.meta[u16() % FH_MAX_META];
		r->live = true;
		r->klen = u8();
		for (i = 0; i < 16; i++)
			r->key[i] = u8();
		for (i = 0; i < 16; i++)
			r->rec[i] = u8();
		break;
	case 5: /* key length */
		r = live_rec(u8());
		r->klen = u8();
		break;
	default: /* lose or truncate the blob, or drop a record */
		i = u8();
		if (i < 16) /* lose it (0), or cut i bytes off what is left */
			z.env.blob_len = i && i < z.env.blob_len ? z.env.blob_len - i : 0;
		else
			live_rec(i)->live = false;
		break;
	}
}

/* A device that recovered serves what it recovered and keeps working. */
static void exercise(struct fw_subsys *s)
{
	static uint8_t buf[16 * 1024 + 64];
	unsigned int i, tried = 0;
	uint32_t vlen;
	uint64_t brk;
	char key[17];

	fz_host_attach(&z.h, &z.env, s, &z.h_ready);
	CHECK(fh_enable(&z.h, 16) & KVC_CSTS_RDY);
	CHECK(fh_create_ioq(&z.h, 1, 16) == 0);
	brk = z.h.brk; /* fh_alloc only bumps: reuse what follows the queues */
	for (i = 0; i < FH_MAX_META && tried < 32; i++) {
		const struct fh_meta_rec *r = &z.env.meta[i];
		uint16_t st;

		if (!r->live || r->klen < 1 || r->klen > 16 || memchr(r->key, 0, r->klen))
			continue; /* fh_retrieve takes C strings */
		memcpy(key, r->key, r->klen);
		key[r->klen] = 0;
		tried++;
		st = fh_retrieve(&z.h, 1, key, buf, sizeof(buf), &vlen);
		CHECK(st == 0 || KVC_STATUS_CODE(st) == KVC_SC_KV_UNRECOVERED ||
		      KVC_STATUS_CODE(st) == KVC_SC_KV_KEY_NOT_EXIST);
		z.h.brk = brk;
	}
	for (i = 0; i < 6; i++) {
		memset(buf, (int)i, 3000);
		key_of(i % 5, key);
		(void)fh_store(&z.h, 1, key, buf, 3000, 0); /* may be full: any status */
		z.h.brk = brk;
	}
	key_of(1, key);
	(void)fh_simple(&z.h, 1, KVC_KV_DELETE, key);
	fw_ctrl_destroy(z.h.ctrl);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fw_subsys *s;
	int rc;

	if (!z.media)
		build_base();
	if (size > 1024)
		return -1;
	z.p = data;
	z.n = size;
	restore_base();
	while (z.n)
		edit();
	rc = fw_subsys_create(&z.cfg, &z.env.hal, &s);
	if (rc) {
		CHECK(rc < 0 && rc != -ENOMEM);
	} else {
		exercise(s);
		fw_subsys_destroy(s);
	}
	fh_env_fini(&z.env);
	return 0;
}
