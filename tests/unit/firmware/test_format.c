// SPDX-License-Identifier: MIT
/*
 * Format NVM (admin 80h): on the KV namespace every key goes, on the block
 * namespace every block reads zeros, on NSID FFFFFFFFh both; what the host
 * writes afterwards stays.  An acknowledged Format survives a crash (nothing
 * old reappears after kill -9 and a restart, with the write cache on or
 * off, the old data flushed or not); one whose commit fails is rolled back whole and says so.  The fields
 * we do not support (SES 2, metadata, protection information, another LBA
 * format) are refused and erase nothing; Identify Controller and the effects
 * log announce the command.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "fakehost.c"

static struct fh_env env;
static struct fw_subsys *sub;
static struct fh_host host;
static struct fw_config cfg;

#define KV 1	  /* NSID of the KV namespace */
#define BLK 2	  /* ... of the block namespace */
#define NKEYS 300 /* more than one index leaf (131 entries) */
#define ST(sc) KVC_ST_GENERIC_DNR(sc)
#define CST(sc) KVC_ST_CMD_DNR(sc)

static void start(void)
{
	fh_dev_start(&env, &cfg, &sub, &host);
}

static void stop(void)
{
	fh_dev_stop(&sub, &host);
}

static void crash_restart(void)
{
	fh_dev_crash_restart(&env, &cfg, &sub, &host);
}

/* Both namespaces, 4 KiB blocks. */
static void setup(bool persistent, bool vwc)
{
	fh_small_config(&cfg);
	cfg.vwc = vwc; /* the write cache present and enabled */
	cfg.geo.blocks_per_plane = 64;
	cfg.blk_percent = 50;
	cfg.lba_size = 4096;
	fh_env_init(&env, &cfg, persistent);
	start();
}

static void setup_persistent(void)
{
	setup(true, false);
}

static void setup_write_cache(void)
{
	setup(true, true);
}

static void setup_memory(void)
{
	setup(false, false);
}

static void teardown(void)
{
	if (sub)
		stop();
	fh_env_fini(&env);
}

static uint16_t format(uint32_t nsid, uint32_t cdw10)
{
	struct kvc_sqe sqe;

	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = KVC_ADM_FORMAT_NVM;
	kvc_sqe_set_nsid(&sqe, nsid);
	kvc_sqe_set_dw(&sqe, 10, cdw10);
	return fh_exec(&host, 0, &sqe, NULL);
}

static void key_of(char *k, unsigned int i, unsigned int gen)
{
	snprintf(k, 16, "g%u-key%05u", gen, i);
}

static void store_keys(unsigned int gen)
{
	char k[16];
	unsigned int i;

	for (i = 0; i < NKEYS; i++) {
		key_of(k, i, gen);
		ck_assert_uint_eq(fh_store(&host, 1, k, k, (uint32_t)strlen(k), 0), 0);
	}
}

/* How many of generation @gen's keys the device returns, checking values. */
static unsigned int keys_found(unsigned int gen)
{
	char k[16], v[32];
	unsigned int i, n = 0;
	uint32_t vlen;
	uint16_t st;

	for (i = 0; i < NKEYS; i++) {
		key_of(k, i, gen);
		st = fh_retrieve(&host, 1, k, v, sizeof(v), &vlen);
		if (st == ST(KVC_SC_KV_KEY_NOT_EXIST))
			continue;
		ck_assert_uint_eq(st, 0);
		ck_assert_uint_eq(vlen, strlen(k));
		ck_assert(!memcmp(v, k, vlen));
		n++;
	}
	return n;
}

/* Keys a List from the start returns (DW0). */
static uint32_t list_count(void)
{
	uint64_t brk = host.brk, buf = fh_alloc(&host, 4096, 4096);
	struct kvc_sqe sqe;
	uint32_t dw0 = 0;

	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = KVC_KV_LIST;
	kvc_sqe_set_nsid(&sqe, KV);
	kvc_sqe_set_dw(&sqe, 10, 4096);
	kvc_sqe_set_prp(&sqe, buf, 0);
	ck_assert_uint_eq(fh_exec(&host, 1, &sqe, &dw0), 0);
	host.brk = brk;
	return dw0;
}

static uint16_t flush(uint32_t nsid)
{
	struct kvc_sqe sqe;

	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = KVC_NVM_FLUSH;
	kvc_sqe_set_nsid(&sqe, nsid);
	return fh_exec(&host, 1, &sqe, NULL);
}

static uint16_t blk_rw(uint8_t opc, uint64_t slba, void *data)
{
	uint64_t brk = host.brk, buf = fh_alloc(&host, 4096, 4096);
	struct kvc_sqe sqe;
	uint16_t st;

	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = opc;
	kvc_sqe_set_nsid(&sqe, BLK);
	kvc_sqe_set_dw(&sqe, 10, (uint32_t)slba);
	kvc_sqe_set_prp(&sqe, buf, 0);
	if (opc == KVC_NVM_WRITE)
		memcpy(host.mem + buf, data, 4096);
	st = fh_exec(&host, 1, &sqe, NULL);
	if (!st && opc == KVC_NVM_READ)
		memcpy(data, host.mem + buf, 4096);
	host.brk = brk;
	return st;
}

#define NBLOCKS 64

static void write_blocks(uint8_t v)
{
	uint8_t b[4096];
	uint64_t i;

	for (i = 0; i < NBLOCKS; i++) {
		memset(b, v + (int)i, sizeof(b));
		ck_assert_uint_eq(blk_rw(KVC_NVM_WRITE, i, b), 0);
	}
}

/* Blocks 0..NBLOCKS-1 that do not read as zeros. */
static unsigned int blocks_nonzero(void)
{
	static const uint8_t zero[4096];
	uint8_t b[4096];
	unsigned int n = 0;
	uint64_t i;

	for (i = 0; i < NBLOCKS; i++) {
		ck_assert_uint_eq(blk_rw(KVC_NVM_READ, i, b), 0);
		n += memcmp(b, zero, sizeof(b)) != 0;
	}
	return n;
}

START_TEST(kv_format_erases_every_key)
{
	char k[16];

	store_keys(1);
	ck_assert_uint_eq(keys_found(1), NKEYS);
	ck_assert_uint_eq(format(KV, 0), 0);
	ck_assert_uint_eq(keys_found(1), 0);
	ck_assert_uint_eq(list_count(), 0);
	key_of(k, 7, 1);
	ck_assert_uint_eq(fh_simple(&host, 1, KVC_KV_EXIST, k), ST(KVC_SC_KV_KEY_NOT_EXIST));
	/* The device works on: new keys, and the old names again. */
	store_keys(2);
	ck_assert_uint_eq(keys_found(2), NKEYS);
	ck_assert_uint_eq(fh_store(&host, 1, k, k, (uint32_t)strlen(k), KVC_STORE_MUST_NOT_EXIST),
			  0);
	ck_assert_uint_gt(list_count(), 0); /* as many as fit 4 KiB */
	/* Formatting an empty namespace is fine too. */
	ck_assert_uint_eq(format(KV, 0), 0);
	ck_assert_uint_eq(format(KV, 0), 0);
	ck_assert_uint_eq(list_count(), 0);
}
END_TEST

START_TEST(blk_format_reads_zeros)
{
	uint8_t b[4096];

	write_blocks(1);
	store_keys(1);
	ck_assert_uint_eq(blocks_nonzero(), NBLOCKS);
	ck_assert_uint_eq(format(BLK, 1), 0); /* LBAF 1: 4 KiB, the current one */
	ck_assert_uint_eq(blocks_nonzero(), 0);
	ck_assert_uint_eq(keys_found(1), NKEYS); /* the KV namespace keeps its keys */
	memset(b, 0x5a, sizeof(b));
	ck_assert_uint_eq(blk_rw(KVC_NVM_WRITE, 3, b), 0);
	memset(b, 0, sizeof(b));
	ck_assert_uint_eq(blk_rw(KVC_NVM_READ, 3, b), 0);
	ck_assert_uint_eq(b[0], 0x5a);
	ck_assert_uint_eq(b[4095], 0x5a);
	ck_assert_uint_eq(blocks_nonzero(), 1);
}
END_TEST

START_TEST(format_all_namespaces)
{
	write_blocks(1);
	store_keys(1);
	/* The broadcast NSID formats each namespace in its current format (KV
	 * index 0, the block namespace's 4 KiB index 1): LBAF is not looked at.
	 * SES 1, user data erase, is what every Format here does. */
	ck_assert_uint_eq(format(KVC_NSID_ALL, 1u << 9 | 5), 0);
	ck_assert_uint_eq(keys_found(1), 0);
	ck_assert_uint_eq(blocks_nonzero(), 0);
}
END_TEST

START_TEST(refused_formats_erase_nothing)
{
	write_blocks(1);
	store_keys(1);
	ck_assert_uint_eq(format(0, 0), ST(KVC_SC_INVALID_NS));
	ck_assert_uint_eq(format(7, 0), ST(KVC_SC_INVALID_NS));
	ck_assert_uint_eq(format(KV, 2u << 9), ST(KVC_SC_INVALID_FIELD)); /* crypto erase */
	ck_assert_uint_eq(format(KV, 7u << 9), ST(KVC_SC_INVALID_FIELD));
	ck_assert_uint_eq(format(KV, 1u << 4), CST(KVC_SC_INVALID_FORMAT));  /* MSET */
	ck_assert_uint_eq(format(KV, 1u << 5), CST(KVC_SC_INVALID_FORMAT));  /* PI type 1 */
	ck_assert_uint_eq(format(KV, 1u << 8), CST(KVC_SC_INVALID_FORMAT));  /* PIL */
	ck_assert_uint_eq(format(KV, 1), CST(KVC_SC_INVALID_FORMAT));	     /* one KV format */
	ck_assert_uint_eq(format(KV, 1u << 12), CST(KVC_SC_INVALID_FORMAT)); /* LBAFU */
	ck_assert_uint_eq(format(BLK, 0), CST(KVC_SC_INVALID_FORMAT)); /* 512 B: not ours now */
	ck_assert_uint_eq(format(BLK, 2), CST(KVC_SC_INVALID_FORMAT)); /* no such index */
	ck_assert_uint_eq(format(KVC_NSID_ALL, 2u << 9), ST(KVC_SC_INVALID_FIELD));
	ck_assert_uint_eq(keys_found(1), NKEYS);
	ck_assert_uint_eq(blocks_nonzero(), NBLOCKS);
}
END_TEST

/* An acknowledged Format is durable: after kill -9 nothing old comes back,
 * whether the old data was flushed or still in the write cache, and what was
 * written after the Format and flushed is there. */
static void format_then_crash(bool flush_first)
{
	uint8_t b[4096];

	write_blocks(1);
	store_keys(1);
	if (flush_first) {
		ck_assert_uint_eq(flush(KV), 0);
		ck_assert_uint_eq(flush(BLK), 0);
	}
	ck_assert_uint_eq(format(KV, 0), 0);
	ck_assert_uint_eq(format(BLK, 1), 0);
	crash_restart();
	ck_assert_uint_eq(keys_found(1), 0);
	ck_assert_uint_eq(list_count(), 0);
	ck_assert_uint_eq(blocks_nonzero(), 0);
	/* Written after the Format, flushed: kept. */
	store_keys(2);
	memset(b, 0x33, sizeof(b));
	ck_assert_uint_eq(blk_rw(KVC_NVM_WRITE, 9, b), 0);
	ck_assert_uint_eq(flush(KV), 0);
	crash_restart();
	ck_assert_uint_eq(keys_found(2), NKEYS);
	ck_assert_uint_eq(keys_found(1), 0);
	ck_assert_uint_eq(blocks_nonzero(), 1);
}

START_TEST(format_survives_crash_flushed)
{
	format_then_crash(true);
}
END_TEST

START_TEST(format_survives_crash_unflushed)
{
	format_then_crash(false);
}
END_TEST

/* The catalog fails the Format's commit: the device says so (no success),
 * the batch is rolled back whole, and the keys are all there, before and
 * after a crash. */
START_TEST(format_commit_failure_rolls_back)
{
	store_keys(1);
	ck_assert_uint_eq(flush(KV), 0);
	fh_fault_arm(&env, FH_META_COMMIT, 1, false);
	ck_assert_uint_ne(format(KV, 0), 0);
	fh_fault_clear(&env);
	ck_assert_uint_eq(keys_found(1), NKEYS);
	ck_assert_uint_eq(list_count() > 0, 1);
	crash_restart();
	ck_assert_uint_eq(keys_found(1), NKEYS);
	/* And a Format after it works. */
	ck_assert_uint_eq(format(KV, 0), 0);
	crash_restart();
	ck_assert_uint_eq(keys_found(1), 0);
}
END_TEST

/* Identify Controller OACS bit 1 and the effects log's admin entry 80h. */
START_TEST(format_announced)
{
	uint64_t brk = host.brk, buf = fh_alloc(&host, 4096, 4096);
	struct kvc_id_ctrl *id;
	struct kvc_effects_log *l;
	struct kvc_sqe sqe;

	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = KVC_ADM_IDENTIFY;
	kvc_sqe_set_dw(&sqe, 10, KVC_CNS_CTRL);
	kvc_sqe_set_prp(&sqe, buf, 0);
	ck_assert_uint_eq(fh_exec(&host, 0, &sqe, NULL), 0);
	id = (struct kvc_id_ctrl *)(host.mem + buf);
	ck_assert_uint_eq(kvc_get_le16(&id->oacs) & KVC_OACS_FORMAT, KVC_OACS_FORMAT);
	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = KVC_ADM_GET_LOG_PAGE;
	kvc_sqe_set_dw(&sqe, 10, KVC_LOG_CMD_EFFECTS | ((4096u / 4 - 1) << 16));
	kvc_sqe_set_prp(&sqe, buf, 0);
	ck_assert_uint_eq(fh_exec(&host, 0, &sqe, NULL), 0);
	l = (struct kvc_effects_log *)(host.mem + buf);
	ck_assert_uint_eq(kvc_get_le32(&l->acs[KVC_ADM_FORMAT_NVM]) & KVC_EFFECTS_CSUPP,
			  KVC_EFFECTS_CSUPP);
	host.brk = brk;
}
END_TEST

static Suite *format_suite(void)
{
	Suite *s = suite_create("firmware/format");
	TCase *mem = tcase_create("memory"), *per = tcase_create("persistent");
	TCase *vwc = tcase_create("write cache");

	tcase_add_checked_fixture(mem, setup_memory, teardown);
	tcase_add_test(mem, kv_format_erases_every_key);
	tcase_add_test(mem, blk_format_reads_zeros);
	tcase_add_test(mem, format_all_namespaces);
	tcase_add_test(mem, refused_formats_erase_nothing);
	tcase_add_test(mem, format_announced);
	suite_add_tcase(s, mem);
	tcase_add_checked_fixture(per, setup_persistent, teardown);
	tcase_add_test(per, kv_format_erases_every_key);
	tcase_add_test(per, blk_format_reads_zeros);
	tcase_add_test(per, format_all_namespaces);
	tcase_add_test(per, refused_formats_erase_nothing);
	tcase_add_test(per, format_survives_crash_flushed);
	tcase_add_test(per, format_survives_crash_unflushed);
	tcase_add_test(per, format_commit_failure_rolls_back);
	suite_add_tcase(s, per);
	tcase_add_checked_fixture(vwc, setup_write_cache, teardown);
	tcase_add_test(vwc, format_survives_crash_flushed);
	tcase_add_test(vwc, format_survives_crash_unflushed);
	tcase_add_test(vwc, format_commit_failure_rolls_back);
	suite_add_tcase(s, vwc);
	return s;
}

TEST_MAIN(format_suite)
