// SPDX-License-Identifier: MIT
/* The NVM (block) namespace beside the KV namespace, through the controller:
 * dispatch per namespace, Identify, read/write in both LBA formats, FUA,
 * deallocate, Write Zeroes, range and MDTS checks, GC of both namespaces,
 * crash recovery, the capacity split, per-namespace statistics. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "fakehost.c"
#include "firmware/fw_internal.h"

static struct fh_env env;
static struct fw_subsys *sub;
static struct fh_host host;
static struct fw_config cfg;

#define ST(sc) KVC_ST_GENERIC_DNR(sc)
#define BLK 2	  /* NSID of the block namespace */
#define MAXB 4096 /* shadow: logical blocks */

static uint32_t lba; /* LBA size */
static uint64_t nlba;
static uint32_t shadow[MAXB]; /* version of each block, 0 = zeros */

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

/* 2 x 2 dies, 16 superblocks of 16 pages of 4 KiB: 8 for each namespace. */
static void setup_lba(uint32_t lba_size, bool persistent)
{
	fh_small_config(&cfg);
	cfg.geo.blocks_per_plane = 16;
	cfg.blk_percent = 50;
	cfg.lba_size = lba_size;
	fh_env_init(&env, &cfg, persistent);
	start();
	lba = lba_size;
	nlba = sub->ns[BLK]->ops->capacity(sub->ns[BLK]) / lba;
	ck_assert_uint_le(nlba, MAXB);
	memset(shadow, 0, sizeof(shadow));
}

static void teardown(void)
{
	if (sub)
		stop();
	fh_env_fini(&env);
}

/* ---- block commands ------------------------------------------------------ */

static void set_dptr(struct kvc_sqe *sqe, uint64_t buf, uint32_t len)
{
	uint64_t first = 4096 - buf % 4096, left, list;
	uint32_t i, n;

	kvc_sqe_set_prp(sqe, buf, 0);
	if (len <= first)
		return;
	left = len - first;
	if (left <= 4096) {
		kvc_sqe_set_prp(sqe, buf, buf + first);
		return;
	}
	n = (uint32_t)((left + 4095) / 4096);
	list = fh_alloc(&host, 4096, 4096);
	for (i = 0; i < n; i++)
		kvc_put_le64(host.mem + list + 8 * i, buf + first + 4096ull * i);
	kvc_sqe_set_prp(sqe, buf, list);
}

static void rw_sqe(struct kvc_sqe *sqe, uint8_t opc, uint32_t nsid, uint64_t slba, uint32_t nlb,
		   uint32_t cdw12_flags)
{
	memset(sqe, 0, sizeof(*sqe));
	sqe->opc = opc;
	kvc_sqe_set_nsid(sqe, nsid);
	kvc_sqe_set_dw(sqe, 10, (uint32_t)slba);
	kvc_sqe_set_dw(sqe, 11, (uint32_t)(slba >> 32));
	kvc_sqe_set_dw(sqe, 12, ((nlb - 1) & 0xffff) | cdw12_flags);
}

/* Host memory is a bump allocator: give it back after each command. */
static uint16_t exec_with(struct kvc_sqe *sqe, void *data, uint32_t len, bool in, void *out)
{
	uint64_t brk = host.brk, buf = fh_alloc(&host, len ? len : 1, 4096);
	uint16_t st;

	if (in)
		memcpy(host.mem + buf, data, len);
	set_dptr(sqe, buf, len);
	st = fh_exec(&host, 1, sqe, NULL);
	if (!st && out)
		memcpy(out, host.mem + buf, len);
	host.brk = brk;
	return st;
}

static uint16_t blk_write(uint64_t slba, uint32_t nlb, const void *data, uint32_t flags)
{
	struct kvc_sqe sqe;

	rw_sqe(&sqe, KVC_NVM_WRITE, BLK, slba, nlb, flags);
	return exec_with(&sqe, (void *)data, nlb * lba, true, NULL);
}

static uint16_t blk_read(uint64_t slba, uint32_t nlb, void *out)
{
	struct kvc_sqe sqe;

	rw_sqe(&sqe, KVC_NVM_READ, BLK, slba, nlb, 0);
	return exec_with(&sqe, NULL, nlb * lba, false, out);
}

static uint16_t write_zeroes(uint64_t slba, uint32_t nlb, uint32_t flags)
{
	struct kvc_sqe sqe;

	rw_sqe(&sqe, KVC_NVM_WRITE_ZEROES, BLK, slba, nlb, flags);
	return fh_exec(&host, 1, &sqe, NULL);
}

/* Dataset Management, deallocate @n ranges (slba, nlb). */
static uint16_t deallocate(const uint64_t (*r)[2], uint32_t n, uint32_t attrs)
{
	uint8_t ranges[256 * 16];
	struct kvc_sqe sqe;
	uint32_t i;

	memset(ranges, 0, sizeof(ranges));
	for (i = 0; i < n; i++) {
		kvc_put_le32(ranges + 16 * i + 4, (uint32_t)r[i][1]);
		kvc_put_le64(ranges + 16 * i + 8, r[i][0]);
	}
	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = KVC_NVM_DSM;
	kvc_sqe_set_nsid(&sqe, BLK);
	kvc_sqe_set_dw(&sqe, 10, n - 1);
	kvc_sqe_set_dw(&sqe, 11, attrs);
	return exec_with(&sqe, ranges, n * 16, true, NULL);
}

static uint16_t flush(uint32_t nsid)
{
	struct kvc_sqe sqe;

	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = KVC_NVM_FLUSH;
	kvc_sqe_set_nsid(&sqe, nsid);
	return fh_exec(&host, 1, &sqe, NULL);
}

/* Block @b, version @v: every word names both (0: zeros). */
static void fill(uint8_t *p, uint64_t b, uint32_t v)
{
	uint32_t i;

	if (!v) {
		memset(p, 0, lba);
		return;
	}
	for (i = 0; i < lba; i += 4)
		kvc_put_le32(p + i, (uint32_t)b * 2654435761u ^ v * 97u ^ i);
}

static void write_range(uint64_t slba, uint32_t nlb, uint32_t v, uint32_t flags)
{
	uint8_t *buf = malloc((size_t)nlb * lba);
	uint32_t i;

	for (i = 0; i < nlb; i++) {
		fill(buf + (size_t)i * lba, slba + i, v);
		shadow[slba + i] = v;
	}
	ck_assert_uint_eq(blk_write(slba, nlb, buf, flags), 0);
	free(buf);
}

static void check_range(uint64_t slba, uint32_t nlb)
{
	uint8_t *buf = malloc((size_t)nlb * lba), *want = malloc(lba);
	uint32_t i;

	ck_assert_uint_eq(blk_read(slba, nlb, buf), 0);
	for (i = 0; i < nlb; i++) {
		fill(want, slba + i, shadow[slba + i]);
		ck_assert_msg(!memcmp(buf + (size_t)i * lba, want, lba),
			      "block %llu is not version %u", (unsigned long long)(slba + i),
			      shadow[slba + i]);
	}
	free(buf);
	free(want);
}

static void check_all(void)
{
	uint64_t b;

	for (b = 0; b < nlba; b += 32) /* 32 x 4 KiB: the MDTS of these tests */
		check_range(b, (uint32_t)(nlba - b < 32 ? nlba - b : 32));
}

static const uint32_t formats[] = { 4096, 512 };

/* ---- tests ------------------------------------------------------------------- */

/* A KV opcode sent to the block namespace is Invalid Opcode, and a block
 * opcode sent to the KV namespace; each namespace runs its own table. */
START_TEST(dispatch_per_namespace)
{
	static const uint8_t kv_only[] = { KVC_KV_LIST, KVC_KV_DELETE, KVC_KV_EXIST, KVC_BS_STORE,
					   KVC_BX_STORE };
	static const uint8_t blk_only[] = { KVC_NVM_WRITE_ZEROES, KVC_NVM_DSM };
	struct kvc_sqe sqe;
	unsigned int i;

	setup_lba(4096, false);
	for (i = 0; i < sizeof(kv_only); i++) {
		rw_sqe(&sqe, kv_only[i], BLK, 0, 1, 0);
		ck_assert_uint_eq(fh_exec(&host, 1, &sqe, NULL), ST(KVC_SC_INVALID_OPCODE));
	}
	for (i = 0; i < sizeof(blk_only); i++) {
		rw_sqe(&sqe, blk_only[i], 1, 0, 1, 0);
		ck_assert_uint_eq(fh_exec(&host, 1, &sqe, NULL), ST(KVC_SC_INVALID_OPCODE));
	}
	/* Opcodes both sets have go to the right handler. */
	ck_assert_uint_eq(fh_store(&host, 1, "key", "value", 5, 0), 0);
	write_range(0, 1, 1, 0);
	check_range(0, 1);
	ck_assert_uint_eq(sub->index.count, 1);
	ck_assert_uint_eq(sub->ftl.used, 1);
	rw_sqe(&sqe, KVC_NVM_READ, 3, 0, 1, 0);
	ck_assert_uint_eq(fh_exec(&host, 1, &sqe, NULL), ST(KVC_SC_INVALID_NS));
	teardown();
}
END_TEST

static uint16_t identify(uint8_t cns, uint8_t csi, uint32_t nsid, void *out)
{
	struct kvc_sqe sqe;
	uint64_t brk = host.brk, buf = fh_alloc(&host, 4096, 4096);
	uint16_t st;

	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = KVC_ADM_IDENTIFY;
	kvc_sqe_set_nsid(&sqe, nsid);
	kvc_sqe_set_prp(&sqe, buf, 0);
	kvc_sqe_set_dw(&sqe, 10, cns);
	kvc_sqe_set_dw(&sqe, 11, (uint32_t)csi << 24);
	st = fh_exec(&host, 0, &sqe, NULL);
	memcpy(out, host.mem + buf, 4096);
	host.brk = brk;
	return st;
}

/* Identify answers, checked byte by byte against the NVM command set
 * specification's tables (offsets written here, not taken from our structs). */
START_TEST(identify_block_namespace)
{
	uint8_t b[4096], z[4096];

	setup_lba(formats[_i], false);
	memset(z, 0, sizeof(z));
	write_range(3, 2, 1, 0);
	ck_assert_uint_eq(identify(KVC_CNS_NS, 0, BLK, b), 0);
	ck_assert_uint_eq(kvc_get_le64(b + 0), nlba);  /* NSZE */
	ck_assert_uint_eq(kvc_get_le64(b + 8), nlba);  /* NCAP */
	ck_assert_uint_ge(kvc_get_le64(b + 16), 2);    /* NUSE */
	ck_assert_uint_eq(b[25], 1);		       /* NLBAF: two formats */
	ck_assert_uint_eq(b[26], lba == 4096 ? 1 : 0); /* FLBAS */
	ck_assert_uint_eq(b[30], 1);		       /* NMIC */
	ck_assert_uint_eq(b[33] & 7, 1);	       /* DLFEAT: deallocated reads zeros */
	ck_assert_uint_eq(b[33] & 8, 8);	       /* Write Zeroes may deallocate */
	ck_assert_uint_eq(b[128 + 2], 9);	       /* LBAF0: 512 B */
	ck_assert_uint_eq(b[132 + 2], 12);	       /* LBAF1: 4 KiB */
	ck_assert_uint_eq(kvc_get_le16(b + 128), 0);   /* no metadata */
	ck_assert_uint_eq(nlba * lba, fw_ftl_units(&sub->ftl) * 4096);
	/* CNS 05h for CSI 0: all zero; for CSI 1 on this namespace: refused. */
	ck_assert_uint_eq(identify(KVC_CNS_CSI_NS, KVC_CSI_NVM, BLK, b), 0);
	ck_assert_mem_eq(b, z, sizeof(z));
	ck_assert_uint_eq(identify(KVC_CNS_CSI_NS, KVC_CSI_KV, BLK, b), ST(KVC_SC_INVALID_FIELD));
	ck_assert_uint_eq(identify(KVC_CNS_CSI_NS, KVC_CSI_NVM, 1, b), ST(KVC_SC_INVALID_FIELD));
	/* CNS 03h: a CSI descriptor (type 04h, length 1) with 00h. */
	ck_assert_uint_eq(identify(KVC_CNS_NS_DESC_LIST, 0, BLK, b), 0);
	ck_assert_uint_eq(b[20], 0x04);
	ck_assert_uint_eq(b[21], 1);
	ck_assert_uint_eq(b[24], KVC_CSI_NVM);
	/* CNS 08h: ready. */
	ck_assert_uint_eq(identify(KVC_CNS_CSI_INDEP_NS, 0, BLK, b), 0);
	ck_assert_uint_eq(b[14] & 1, 1);
	/* Active namespaces 1 and 2; of CSI 0 only 2. */
	ck_assert_uint_eq(identify(KVC_CNS_ACTIVE_NS_LIST, 0, 0, b), 0);
	ck_assert_uint_eq(kvc_get_le32(b), 1);
	ck_assert_uint_eq(kvc_get_le32(b + 4), 2);
	ck_assert_uint_eq(kvc_get_le32(b + 8), 0);
	ck_assert_uint_eq(identify(KVC_CNS_CSI_ACTIVE_NS_LIST, KVC_CSI_NVM, 0, b), 0);
	ck_assert_uint_eq(kvc_get_le32(b), 2);
	ck_assert_uint_eq(kvc_get_le32(b + 4), 0);
	/* Identify Controller: NN 2, ONCS Dataset Management + Write Zeroes. */
	ck_assert_uint_eq(identify(KVC_CNS_CTRL, 0, 0, b), 0);
	ck_assert_uint_eq(kvc_get_le32(b + 516), 2);
	ck_assert_uint_eq(kvc_get_le16(b + 520) & 0x0c, 0x0c);
	teardown();
}
END_TEST

static uint16_t get_log(uint8_t lid, uint32_t nsid, uint8_t csi, void *out, uint32_t len)
{
	struct kvc_sqe sqe;
	uint64_t brk = host.brk, buf = fh_alloc(&host, len, 4096);
	uint32_t numd = len / 4 - 1;
	uint16_t st;

	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = KVC_ADM_GET_LOG_PAGE;
	kvc_sqe_set_nsid(&sqe, nsid);
	set_dptr(&sqe, buf, len);
	kvc_sqe_set_dw(&sqe, 10, (numd & 0xffff) << 16 | lid);
	kvc_sqe_set_dw(&sqe, 11, numd >> 16);
	kvc_sqe_set_dw(&sqe, 14, (uint32_t)csi << 24);
	st = fh_exec(&host, 0, &sqe, NULL);
	memcpy(out, host.mem + buf, len);
	host.brk = brk;
	return st;
}

/* The effects log of CSI 0 lists the block opcodes and nothing of KV's. */
/* NOIOB is 0 in both formats: Linux makes it the disk's chunk size and never
 * lets a command cross it, so 8 (4 KiB in the 512 B format) cut every I/O
 * into 4 KiB commands (chunk_sectors 8: a 16 MiB direct write took 4096
 * commands).  Crossing a 4 KiB unit costs nothing here: NPWG/NPWA say that
 * writes should cover whole units, which is what the FTL prefers. */
START_TEST(no_io_boundary_to_split_host_io_regression)
{
	uint8_t b[4096];
	uint16_t per_unit;

	setup_lba(formats[_i], false);
	per_unit = (uint16_t)(4096 / lba);
	ck_assert_uint_eq(identify(KVC_CNS_NS, 0, BLK, b), 0);
	ck_assert_uint_eq(kvc_get_le16(b + 46), 0);		/* NOIOB */
	ck_assert_uint_eq(b[24] & 0x10, 0x10);			/* NSFEAT: NPWG.. valid */
	ck_assert_uint_eq(kvc_get_le16(b + 64), per_unit - 1u); /* NPWG */
	ck_assert_uint_eq(kvc_get_le16(b + 66), per_unit - 1u); /* NPWA */
}
END_TEST

START_TEST(effects_log_for_csi_0)
{
	uint8_t log[4096];

	setup_lba(4096, false);
	ck_assert_uint_eq(get_log(KVC_LOG_CMD_EFFECTS, 0, KVC_CSI_NVM, log, sizeof(log)), 0);
	/* I/O command entries from byte 1024, 4 bytes each; bit 0 CSUPP, bit 1 LBCC. */
	ck_assert_uint_eq(kvc_get_le32(log + 1024 + 4 * 0x00), 3);
	ck_assert_uint_eq(kvc_get_le32(log + 1024 + 4 * 0x01), 3);
	ck_assert_uint_eq(kvc_get_le32(log + 1024 + 4 * 0x02), 1);
	ck_assert_uint_eq(kvc_get_le32(log + 1024 + 4 * 0x08), 3);
	ck_assert_uint_eq(kvc_get_le32(log + 1024 + 4 * 0x09), 3);
	ck_assert_uint_eq(kvc_get_le32(log + 1024 + 4 * KVC_KV_EXIST), 0);
	ck_assert_uint_eq(kvc_get_le32(log + 1024 + 4 * KVC_BS_STORE), 0);
	ck_assert_uint_eq(get_log(KVC_LOG_CMD_EFFECTS, 0, KVC_CSI_KV, log, sizeof(log)), 0);
	ck_assert_uint_eq(kvc_get_le32(log + 1024 + 4 * 0x08), 0);
	ck_assert_uint_eq(kvc_get_le32(log + 1024 + 4 * KVC_KV_EXIST), 1);
	teardown();
}
END_TEST

/* Read after write, overwrite, unaligned and multi-unit transfers. */
START_TEST(read_after_write_both_formats)
{
	uint64_t b;

	setup_lba(formats[_i], false);
	check_range(0, 16); /* never written: zeros */
	write_range(0, 1, 1, 0);
	write_range(5, 3, 2, 0);
	write_range(17, 30, 3, 0);
	write_range(nlba - 9, 9, 4, 0);
	check_range(0, 32);
	check_range(32, 32);
	check_range(nlba - 20, 20);
	/* Overwrites, some of them of part of a 4 KiB unit (512 B format). */
	write_range(6, 1, 5, 0);
	write_range(16, 3, 6, 0);
	write_range(30, 20, 7, 0);
	check_all();
	for (b = 0; b < 200; b++)
		write_range((b * 7) % (nlba - 4), 1 + (uint32_t)b % 4, 8 + (uint32_t)b, 0);
	check_all();
	if (lba == 512)
		ck_assert_uint_gt(sub->ftl.st.rmw, 0);
	else
		ck_assert_uint_eq(sub->ftl.st.rmw, 0);
	teardown();
}
END_TEST

/* Deallocated blocks read zeros; Write Zeroes zeros, with and without DEAC;
 * a unit only partly deallocated (512 B format) keeps its other blocks. */
START_TEST(deallocate_and_write_zeroes_read_zeros)
{
	const uint64_t r[3][2] = { { 2, 5 }, { 40, 16 }, { 100, 1 } };
	uint64_t used;
	uint32_t i;

	setup_lba(formats[_i], false);
	for (i = 0; i < 4; i++)
		write_range(32 * i, 32, 1, 0);
	used = sub->ftl.used;
	ck_assert_uint_eq(deallocate(r, 3, 1u << 2), 0);
	for (i = 0; i < 3; i++)
		memset(shadow + r[i][0], 0, r[i][1] * sizeof(shadow[0]));
	check_range(0, 32);
	check_range(32, 32);
	check_range(64, 32);
	check_range(96, 32);
	ck_assert_uint_lt(sub->ftl.used, used);
	/* Without AD the ranges are hints: nothing changes. */
	write_range(40, 4, 2, 0);
	ck_assert_uint_eq(deallocate(r, 3, 0x3), 0);
	check_range(0, 32);
	check_range(32, 32);
	check_range(64, 32);
	check_range(96, 32);
	/* Write Zeroes, plain and deallocating. */
	ck_assert_uint_eq(write_zeroes(60, 10, 0), 0);
	memset(shadow + 60, 0, 10 * sizeof(shadow[0]));
	ck_assert_uint_eq(write_zeroes(80, 17, 1u << 25), 0);
	memset(shadow + 80, 0, 17 * sizeof(shadow[0]));
	check_range(0, 32);
	check_range(32, 32);
	check_range(64, 32);
	check_range(96, 32);
	used = sub->ftl.used;
	ck_assert_uint_eq(write_zeroes(0, 8, 1u << 25), 0);
	memset(shadow, 0, 8 * sizeof(shadow[0]));
	ck_assert_uint_lt(sub->ftl.used, used);
	check_range(0, 32);
	check_range(32, 32);
	check_range(64, 32);
	check_range(96, 32);
	teardown();
}
END_TEST

/* LBA Out of Range, MDTS, DTYPE; nothing changes when a command is refused. */
START_TEST(range_and_transfer_size_checks)
{
	static const uint8_t zeros[4 * 4096];
	uint32_t mdts, over;
	struct kvc_sqe sqe;
	uint64_t used;

	setup_lba(formats[_i], false);
	mdts = fw_mdts_bytes(&cfg);
	over = mdts / lba + 1;
	write_range(0, 4, 1, 0);
	used = sub->ftl.used;
	ck_assert_uint_eq(blk_read(nlba - 1, 1, NULL), 0);
	ck_assert_uint_eq(blk_read(nlba, 1, NULL), ST(KVC_SC_LBA_OUT_OF_RANGE));
	ck_assert_uint_eq(blk_read(nlba - 1, 2, NULL), ST(KVC_SC_LBA_OUT_OF_RANGE));
	ck_assert_uint_eq(blk_write(nlba - 3, 4, zeros, 0), ST(KVC_SC_LBA_OUT_OF_RANGE));
	/* An SLBA whose end wraps around 2^64. */
	rw_sqe(&sqe, KVC_NVM_READ, BLK, UINT64_MAX - 1, 4, 0);
	ck_assert_uint_eq(fh_exec(&host, 1, &sqe, NULL), ST(KVC_SC_LBA_OUT_OF_RANGE));
	ck_assert_uint_eq(write_zeroes(nlba - 1, 2, 0), ST(KVC_SC_LBA_OUT_OF_RANGE));
	/* Larger than MDTS (when NLB can express it). */
	if (over <= 65536) {
		rw_sqe(&sqe, KVC_NVM_READ, BLK, 0, over, 0);
		ck_assert_uint_eq(fh_exec(&host, 1, &sqe, NULL), ST(KVC_SC_INVALID_FIELD));
		rw_sqe(&sqe, KVC_NVM_WRITE, BLK, 0, over, 0);
		ck_assert_uint_eq(fh_exec(&host, 1, &sqe, NULL), ST(KVC_SC_INVALID_FIELD));
	}
	/* Exactly MDTS is fine. */
	if (mdts / lba <= nlba) {
		rw_sqe(&sqe, KVC_NVM_READ, BLK, 0, mdts / lba, 0);
		ck_assert_uint_eq(exec_with(&sqe, NULL, mdts, false, NULL), 0);
	}
	/* A directive type on a write: none supported. */
	rw_sqe(&sqe, KVC_NVM_WRITE, BLK, 0, 1, 1u << 20);
	ck_assert_uint_eq(exec_with(&sqe, (void *)zeros, lba, true, NULL),
			  ST(KVC_SC_INVALID_FIELD));
	/* One bad range refuses the whole deallocation. */
	{
		const uint64_t mixed[2][2] = { { 0, 2 }, { nlba, 1 } };

		ck_assert_uint_eq(deallocate(mixed, 2, 1u << 2), ST(KVC_SC_LBA_OUT_OF_RANGE));
	}
	ck_assert_uint_eq(sub->ftl.used, used);
	check_range(0, 8);
	teardown();
}
END_TEST

/* Write cache on: a write is durable after Flush, or at once with FUA; a
 * crash loses only what neither covered. */
START_TEST(fua_is_durable_with_the_write_cache_on)
{
	setup_lba(formats[_i], true);
	teardown();
	cfg.vwc = true;
	fh_env_init(&env, &cfg, true);
	start();
	write_range(0, 8, 1, 0);
	ck_assert_uint_eq(flush(BLK), 0);
	write_range(10, 4, 3, KVC_NVM_FUA); /* durable */
	write_range(0, 4, 2, 0);	    /* cached: lost */
	write_range(20, 2, 4, 0);	    /* cached: lost */
	crash_restart();
	shadow[0] = shadow[1] = shadow[2] = shadow[3] = 1;
	shadow[20] = shadow[21] = 0;
	check_range(0, 32);
	teardown();
}
END_TEST

/* Write cache off: every acknowledged write, trim and KV Store survives a
 * kill -9, GC and its commits included; writes go on afterwards. */
START_TEST(crash_keeps_acknowledged_data_of_both_namespaces)
{
	char key[16], val[64], got[64];
	uint32_t v = 1, kv[32] = { 0 }, round, n, vlen;
	uint64_t b;

	setup_lba(formats[_i], true);
	srand(17);
	for (round = 0; round < 3; round++) {
		for (n = 0; n < 300; n++) {
			b = (uint64_t)rand() % (nlba - 8);
			if (n % 3 == 0) {
				int k = rand() % 32;

				snprintf(key, sizeof(key), "k%d", k);
				memset(val, (int)v, sizeof(val));
				ck_assert_uint_eq(fh_store(&host, 1, key, val, sizeof(val), 0), 0);
				kv[k] = v++;
			} else if (n % 17 == 0) {
				const uint64_t r[1][2] = { { b, 3 } };

				ck_assert_uint_eq(deallocate(r, 1, 1u << 2), 0);
				memset(shadow + b, 0, 3 * sizeof(shadow[0]));
			} else {
				write_range(b, 1 + (uint32_t)rand() % 8, v++, 0);
			}
		}
		crash_restart();
		check_all();
		for (n = 0; n < 32; n++) {
			if (!kv[n])
				continue;
			snprintf(key, sizeof(key), "k%u", n);
			memset(val, (int)kv[n], sizeof(val));
			ck_assert_uint_eq(fh_retrieve(&host, 1, key, got, sizeof(got), &vlen), 0);
			ck_assert_mem_eq(got, val, sizeof(val));
		}
	}
	ck_assert_uint_gt(sub->ftl.used, 0); /* the map came back, not an empty one */
	teardown();
}
END_TEST

/* Both namespaces overwritten many times over their capacity: GC runs in
 * both and every byte reads back. */
START_TEST(gc_in_both_namespaces_keeps_every_byte)
{
	static uint8_t val[3000], got[3000];
	uint32_t v = 1, kv[48] = { 0 }, n, vlen, k;
	uint64_t blk_gc = 0, kv_gc = 0;
	char key[16];

	setup_lba(formats[_i], true);
	srand(23);
	for (n = 0; n < 3000; n++) {
		if (n % 2) {
			k = (uint32_t)rand() % 48;
			snprintf(key, sizeof(key), "g%u", k);
			memset(val, (int)v, sizeof(val));
			ck_assert_uint_eq(fh_store(&host, 1, key, val, sizeof(val), 0), 0);
			kv[k] = v++;
		} else {
			write_range((uint64_t)rand() % (nlba - 16), 1 + (uint32_t)rand() % 16, v++,
				    0);
		}
	}
	blk_gc = sub->ftl.st.gc_runs;
	kv_gc = sub->vlog.st.gc_runs;
	ck_assert_uint_ge(blk_gc, 5);
	ck_assert_uint_ge(kv_gc, 5);
	check_all();
	for (k = 0; k < 48; k++) {
		if (!kv[k])
			continue;
		snprintf(key, sizeof(key), "g%u", k);
		memset(val, (int)kv[k], sizeof(val));
		ck_assert_uint_eq(fh_retrieve(&host, 1, key, got, sizeof(got), &vlen), 0);
		ck_assert_mem_eq(got, val, sizeof(val));
	}
	teardown();
}
END_TEST

/* A full block namespace does not take KV capacity, and neither namespace
 * writes a block of the other's superblocks. */
START_TEST(capacity_split_is_honoured)
{
	static uint8_t val[4000];
	uint64_t b, nblocks, kv_cap, stored = 0;
	uint32_t sb, kv_sbs = 8, k; /* 16 superblocks, half each */
	char key[16];
	uint16_t st = 0;

	setup_lba(4096, true);
	kv_cap = fw_subsys_capacity(sub);
	memset(env.blk_writes, 0, env.media_pages / env.pages_per_block * 4);
	for (b = 0; b < nlba; b += 32)
		write_range(b, (uint32_t)(nlba - b < 32 ? nlba - b : 32), 1, 0);
	for (b = 0; b < nlba; b += 32)
		write_range(b, (uint32_t)(nlba - b < 32 ? nlba - b : 32), 2, 0);
	nblocks = env.media_pages / env.pages_per_block;
	for (b = 0; b < nblocks; b++) {
		sb = (uint32_t)(b % sub->nand.blocks_per_die);
		if (sb < kv_sbs)
			ck_assert_msg(env.blk_writes[b] == 0, "block write touched KV block %llu",
				      (unsigned long long)b);
	}
	/* The KV namespace still takes what its capacity promises. */
	ck_assert_uint_eq(fw_subsys_capacity(sub), kv_cap);
	memset(env.blk_writes, 0, nblocks * 4);
	for (k = 0; !st; k++) {
		snprintf(key, sizeof(key), "c%u", k);
		st = fh_store(&host, 1, key, val, sizeof(val), 0);
		if (!st)
			stored += sizeof(val) + strlen(key) + 12;
	}
	ck_assert_uint_eq(st, ST(KVC_SC_CAPACITY_EXCEEDED));
	ck_assert_uint_ge(stored + sizeof(val) + 32, kv_cap);
	for (b = 0; b < nblocks; b++) {
		sb = (uint32_t)(b % sub->nand.blocks_per_die);
		if (sb >= kv_sbs)
			ck_assert_msg(env.blk_writes[b] == 0, "KV store touched block %llu",
				      (unsigned long long)b);
	}
	check_all();
	teardown();
}
END_TEST

/* The statistics log per namespace: NSID 2 counts block commands, its own
 * NAND programs and capacity; NSID 1 the KV side; NSID 0 the device. */
START_TEST(statistics_per_namespace)
{
	struct kvc_stats_log *l = malloc(sizeof(*l));
	uint32_t len = (uint32_t)(sizeof(*l) + 3) / 4 * 4;

	setup_lba(4096, false);
	write_range(0, 32, 1, 0);
	write_range(32, 32, 1, 0);
	check_range(0, 8);
	ck_assert_uint_eq(fh_store(&host, 1, "a", "b", 1, 0), 0);
	ck_assert_uint_eq(get_log(KVC_LOG_NVKV_STATS, BLK, 0, l, len), 0);
	ck_assert_uint_eq(l->version, KVC_STATS_VERSION);
	ck_assert_uint_eq(l->nsid, BLK);
	ck_assert_uint_eq(l->csi, KVC_CSI_NVM);
	ck_assert_uint_eq(l->cmds[KVC_OP_WRITE], 2);
	ck_assert_uint_eq(l->cmds[KVC_OP_READ], 1);
	ck_assert_uint_eq(l->cmds[KVC_OP_STORE], 0);
	ck_assert_uint_eq(l->value_bytes_in, 64 * 4096);
	ck_assert_uint_eq(l->value_bytes_out, 8 * 4096);
	ck_assert_uint_eq(l->nand_programs, 64);
	ck_assert_uint_eq(l->used_bytes, 64 * 4096);
	ck_assert_uint_eq(l->capacity, nlba * 4096);
	ck_assert_uint_gt(l->m_pcie_bytes[KVC_XM_PRP][0] + l->m_pcie_bytes[KVC_XM_PRP][1],
			  64 * 4096);
	ck_assert_uint_eq(get_log(KVC_LOG_NVKV_STATS, 1, 0, l, len), 0);
	ck_assert_uint_eq(l->nsid, 1);
	ck_assert_uint_eq(l->csi, KVC_CSI_KV);
	ck_assert_uint_eq(l->cmds[KVC_OP_STORE], 1);
	ck_assert_uint_eq(l->cmds[KVC_OP_WRITE], 0);
	ck_assert_uint_eq(l->keys, 1);
	ck_assert_uint_eq(l->nand_programs, sub->nand.st.programs - 64);
	ck_assert_uint_eq(get_log(KVC_LOG_NVKV_STATS, 0, 0, l, len), 0);
	ck_assert_uint_eq(l->nsid, 0);
	ck_assert_uint_eq(l->cmds[KVC_OP_WRITE], 2);
	ck_assert_uint_eq(l->cmds[KVC_OP_STORE], 1);
	ck_assert_uint_eq(l->nand_programs, sub->nand.st.programs);
	ck_assert_uint_eq(get_log(KVC_LOG_NVKV_STATS, 3, 0, l, len), ST(KVC_SC_INVALID_NS));
	/* SMART counts block commands and bytes too (offsets: NVMe Base 2.0
	 * Figure 207: data units read 32, written 48, host reads 64, writes 80). */
	{
		uint8_t sm[512];

		ck_assert_uint_eq(get_log(KVC_LOG_SMART, 0xffffffffu, 0, sm, sizeof(sm)), 0);
		ck_assert_uint_eq(kvc_get_le64(sm + 32), (8 * 4096 + 1 + 511999) / 512000);
		ck_assert_uint_eq(kvc_get_le64(sm + 48), (64 * 4096 + 1 + 511999) / 512000);
		ck_assert_uint_eq(kvc_get_le64(sm + 64), 1);
		ck_assert_uint_eq(kvc_get_le64(sm + 80), 3);
	}
	free(l);
	teardown();
}
END_TEST

/* Stored state that does not match the configuration or itself is refused. */
START_TEST(recovery_refuses_foreign_or_damaged_state)
{
	struct fh_blob saved;

	setup_lba(4096, true);
	write_range(0, 8, 1, 0);
	ck_assert_uint_eq(fh_store(&host, 1, "k", "v", 1, 0), 0);
	stop();
	/* Another split: both layouts have another size. */
	cfg.blk_percent = 25;
	ck_assert_int_eq(fw_subsys_create(&cfg, &env.hal, &sub), -EXDEV);
	/* KV-only or block-only configurations see the other's state. */
	cfg.blk_percent = 0;
	ck_assert_int_eq(fw_subsys_create(&cfg, &env.hal, &sub), -EXDEV);
	cfg.blk_percent = 100;
	ck_assert_int_eq(fw_subsys_create(&cfg, &env.hal, &sub), -EXDEV);
	ck_assert(strstr(env.last_log, "KV namespace") != NULL);
	cfg.blk_percent = 50;
	/* The block layout lost while the value log's is there: damage. */
	saved = *fh_blob_find(&env, FW_FTL_BLOB);
	fh_blob_find(&env, FW_FTL_BLOB)->len = 0;
	fh_env_crash(&env);
	ck_assert_int_eq(fw_subsys_create(&cfg, &env.hal, &sub), -EUCLEAN);
	ck_assert(strstr(env.last_log, "block namespace's layout is missing") != NULL);
	*blob_slot(env.blobs, FW_FTL_BLOB, true) = saved;
	fh_env_crash(&env);
	start();
	check_range(0, 8);
	teardown();
}
END_TEST

/* Media errors: a block that cannot be read is UNRECOVERED READ ERROR, a
 * write whose page cannot be programmed WRITE FAULT; the rest is intact. */
START_TEST(media_errors_become_media_statuses)
{
	uint8_t buf[4096];
	uint32_t i;

	setup_lba(4096, false);
	write_range(0, 16, 1, 0);
	fh_fault_arm(&env, FH_NAND_READ, 1, true);
	ck_assert_uint_eq(blk_read(3, 1, buf), KVC_ST_MEDIA_DNR(KVC_SC_UNRECOVERED_READ));
	fh_fault_clear(&env);
	check_range(0, 16);
	fh_fault_arm(&env, FH_NAND_PROGRAM, 1, true);
	memset(buf, 7, sizeof(buf));
	for (i = 0; i < 8; i++)
		if (blk_write(100 + i, 1, buf, 0))
			break;
	ck_assert_uint_lt(i, 8);
	fh_fault_clear(&env);
	ck_assert_uint_eq(blk_read(100 + i, 1, buf), KVC_ST_MEDIA_DNR(KVC_SC_UNRECOVERED_READ));
	ck_assert_uint_gt(sub->ftl.st.lost_units, 0);
	check_range(0, 16);
	teardown();
}
END_TEST

/* Block data described by an SGL data block (PSDT 01b): the same mapper as
 * the KV namespace, counted as the sgl method. */
START_TEST(read_write_by_sgl)
{
	struct kvc_sgl_desc d = { .len = 2 * 4096, .type = KVC_SGL_DATA_BLOCK };
	struct kvc_stats_log *l = malloc(sizeof(*l));
	struct kvc_sqe sqe;
	uint64_t brk, buf;
	uint32_t i;

	setup_lba(4096, false);
	brk = host.brk;
	buf = fh_alloc(&host, 2 * 4096, 4096);
	for (i = 0; i < 2; i++) {
		fill(host.mem + buf + i * 4096, 10 + i, 5);
		shadow[10 + i] = 5;
	}
	d.addr = buf;
	rw_sqe(&sqe, KVC_NVM_WRITE, BLK, 10, 2, 0);
	sqe.flags = (uint8_t)(1 << KVC_SQE_PSDT_SHIFT);
	kvc_sgl_put(kvc_sqe_bytes(&sqe) + KVC_SQE_OFF_PRP1, &d);
	ck_assert_uint_eq(fh_exec(&host, 1, &sqe, NULL), 0);
	memset(host.mem + buf, 0, 2 * 4096);
	rw_sqe(&sqe, KVC_NVM_READ, BLK, 10, 2, 0);
	sqe.flags = (uint8_t)(1 << KVC_SQE_PSDT_SHIFT);
	kvc_sgl_put(kvc_sqe_bytes(&sqe) + KVC_SQE_OFF_PRP1, &d);
	ck_assert_uint_eq(fh_exec(&host, 1, &sqe, NULL), 0);
	host.brk = brk;
	check_range(8, 8);
	ck_assert_int_eq(fw_subsys_ns_stats(sub, BLK, l), 0);
	ck_assert_uint_eq(l->m_cmds[KVC_XM_SGL], 2);
	free(l);
	teardown();
}
END_TEST

/* A block-only device: the block namespace is NSID 1, there is no KV one. */
START_TEST(block_only_device)
{
	struct kvc_sqe sqe;
	uint8_t b[4096];

	fh_small_config(&cfg);
	cfg.blk_percent = 100;
	fh_env_init(&env, &cfg, true);
	ck_assert_int_eq(fw_subsys_create(&cfg, &env.hal, &sub), 0);
	fh_host_init(&host, &env, sub);
	ck_assert_uint_eq(fh_enable(&host, 32) & (KVC_CSTS_RDY | KVC_CSTS_CFS), KVC_CSTS_RDY);
	ck_assert_uint_eq(fh_create_ioq(&host, 1, 64), 0);
	ck_assert_uint_eq(fw_subsys_blk_nsid(sub), 1);
	ck_assert_uint_eq(fw_subsys_kv_nsid(sub), 0);
	ck_assert_uint_eq(identify(KVC_CNS_CTRL, 0, 0, b), 0);
	ck_assert_uint_eq(kvc_get_le32(b + 516), 1);
	lba = 4096;
	nlba = sub->ns[1]->ops->capacity(sub->ns[1]) / lba;
	rw_sqe(&sqe, KVC_KV_EXIST, 1, 0, 1, 0);
	ck_assert_uint_eq(fh_exec(&host, 1, &sqe, NULL), ST(KVC_SC_INVALID_OPCODE));
	memset(b, 0x5a, sizeof(b));
	rw_sqe(&sqe, KVC_NVM_WRITE, 1, nlba - 1, 1, 0);
	ck_assert_uint_eq(exec_with(&sqe, b, 4096, true, NULL), 0);
	crash_restart();
	memset(b, 0, sizeof(b));
	rw_sqe(&sqe, KVC_NVM_READ, 1, nlba - 1, 1, 0);
	ck_assert_uint_eq(exec_with(&sqe, NULL, 4096, false, b), 0);
	ck_assert_uint_eq(b[0], 0x5a);
	ck_assert_uint_eq(b[4095], 0x5a);
	teardown();
}
END_TEST

static Suite *blkns_suite(void)
{
	Suite *s = suite_create("firmware/blkns");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, dispatch_per_namespace);
	tcase_add_loop_test(tc, identify_block_namespace, 0, 2);
	tcase_add_loop_test(tc, no_io_boundary_to_split_host_io_regression, 0, 2);
	tcase_add_test(tc, effects_log_for_csi_0);
	tcase_add_loop_test(tc, read_after_write_both_formats, 0, 2);
	tcase_add_loop_test(tc, deallocate_and_write_zeroes_read_zeros, 0, 2);
	tcase_add_loop_test(tc, range_and_transfer_size_checks, 0, 2);
	tcase_add_loop_test(tc, fua_is_durable_with_the_write_cache_on, 0, 2);
	tcase_add_loop_test(tc, crash_keeps_acknowledged_data_of_both_namespaces, 0, 2);
	tcase_add_loop_test(tc, gc_in_both_namespaces_keeps_every_byte, 0, 2);
	tcase_add_test(tc, capacity_split_is_honoured);
	tcase_add_test(tc, statistics_per_namespace);
	tcase_add_test(tc, recovery_refuses_foreign_or_damaged_state);
	tcase_add_test(tc, media_errors_become_media_statuses);
	tcase_add_test(tc, read_write_by_sgl);
	tcase_add_test(tc, block_only_device);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(blkns_suite)
