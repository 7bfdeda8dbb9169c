// SPDX-License-Identifier: MIT
/*
 * Golden bytes of the device's Identify answers and of its Commands Supported
 * and Effects log: every byte of each 4096-byte structure is compared with an
 * expected image written from the specification's figures (byte offsets of
 * NVMe Base Specification 2.0 "Identify Controller Data Structure", "I/O
 * Command Set Independent Identify Namespace", "Namespace Identification
 * Descriptor", "Commands Supported and Effects"; Key Value Command Set
 * Specification 1.0c "Identify Namespace data structure" and "KV Format data
 * structure"), not from cmdset/admin.h's structures.  nvkv's vendor area of
 * Identify Controller is compared with docs/wire-formats.md's table.
 */
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "fakehost.c"

static struct fh_env env;
static struct fw_subsys *sub;
static struct fh_host host;
static struct fw_config cfg;
static uint8_t want[4096];

static void setup(void)
{
	fh_small_config(&cfg);
	strcpy(cfg.serial, "SN-1");
	strcpy(cfg.model, "Model M");
	cfg.max_value = 64 * 1024;
	cfg.capacity = 1u << 20;
	cfg.max_keys = 7;
	cfg.vwc = true;
	fh_env_init(&env, &cfg, false);
	ck_assert_int_eq(fw_subsys_create(&cfg, &env.hal, &sub), 0);
	fh_host_init(&host, &env, sub);
	ck_assert_uint_eq(fh_enable(&host, 32) & 1, 1);
	ck_assert_uint_eq(fh_create_ioq(&host, 1, 64), 0);
	memset(want, 0, sizeof(want));
}

static void teardown(void)
{
	fh_host_fini(&host);
	fw_subsys_destroy(sub);
	fh_env_fini(&env);
}

/* Admin command with CDW10, CDW11, CDW14 into a fresh page filled with 0xA5,
 * so that a byte the device leaves alone cannot pass for a zero. */
static const uint8_t *admin(uint8_t opc, uint32_t nsid, uint32_t cdw10, uint32_t cdw11,
			    uint32_t cdw14, uint16_t *st)
{
	uint64_t buf = fh_alloc(&host, 4096, 4096);
	struct kvc_sqe sqe;

	memset(host.mem + buf, 0xa5, 4096);
	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = opc;
	kvc_sqe_set_nsid(&sqe, nsid);
	kvc_sqe_set_dw(&sqe, 10, cdw10);
	kvc_sqe_set_dw(&sqe, 11, cdw11);
	kvc_sqe_set_dw(&sqe, 14, cdw14);
	kvc_sqe_set_prp(&sqe, buf, 0);
	*st = fh_exec(&host, 0, &sqe, NULL);
	return host.mem + buf;
}

static const uint8_t *identify(uint8_t cns, uint32_t nsid, uint8_t csi)
{
	uint16_t st;
	const uint8_t *p = admin(0x06, nsid, cns, (uint32_t)csi << 24, 0, &st);

	ck_assert_uint_eq(st, 0);
	return p;
}

static void put(unsigned int off, const void *bytes, size_t n)
{
	memcpy(want + off, bytes, n);
}

#define PUT(off, ...) \
	put(off, (const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ }))

static void pad(unsigned int off, const char *s, size_t n)
{
	memset(want + off, ' ', n);
	memcpy(want + off, s, strlen(s));
}

/* Compare, naming the first differing byte. */
static void ck_golden(const uint8_t *got, size_t from, size_t to)
{
	size_t i;

	for (i = from; i < to; i++)
		ck_assert_msg(got[i] == want[i], "byte %zu: got %#04x, want %#04x", i, got[i],
			      want[i]);
}

START_TEST(identify_controller_bytes)
{
	const uint8_t *got = identify(0x01, 0, 0);

	PUT(0, 0x36, 0x1b);		  /* VID */
	PUT(2, 0xf4, 0x1a);		  /* SSVID */
	pad(4, "SN-1", 20);		  /* SN, ASCII, space padded */
	pad(24, "Model M", 40);		  /* MN */
	pad(64, "nvkv0.1", 8);		  /* FR */
	PUT(72, 6);			  /* RAB */
	PUT(76, 0x02);			  /* CMIC: may have two or more controllers */
	PUT(77, 5);			  /* MDTS: 4 KiB << 5 >= 64 KiB + 4 KiB */
	PUT(78, 1, 0);			  /* CNTLID */
	PUT(80, 0x00, 0x00, 0x02, 0x00);  /* VER 2.0.0 */
	PUT(111, 1);			  /* CNTRLTYPE: I/O controller */
	PUT(256, 0x02);			  /* OACS: Format NVM */
	PUT(258, 3);			  /* ACL */
	PUT(259, 3);			  /* AERL */
	PUT(261, 0x06);			  /* LPA: effects log, extended data */
	PUT(262, 63);			  /* ELPE */
	PUT(266, 0x57, 0x01);		  /* WCTEMP 343 K */
	PUT(268, 0x75, 0x01);		  /* CCTEMP 373 K */
	PUT(512, 0x66);			  /* SQES */
	PUT(513, 0x44);			  /* CQES */
	PUT(514, 0x00, 0x01);		  /* MAXCMD 256 */
	PUT(516, 1, 0, 0, 0);		  /* NN */
	PUT(520, 0x10, 0x00);		  /* ONCS: Save and Select in Set/Get Features */
	PUT(525, 0x01);			  /* VWC present */
	PUT(536, 0x01, 0x00, 0x0d, 0x00); /* SGLS: SGLs, Bit Bucket, oversize SGL, MPTR SGL */
	put(768, "nqn.2026-11.io.nvkv:SN-1", 24); /* SUBNQN, NUL padded */
	PUT(2048, 0xc4, 0x09);			  /* PSD0 MP 25.00 W */
	/* Vendor area (docs/wire-formats.md, "Identify Controller vendor area"). */
	put(3072, "NVKV", 4);
	PUT(3076, 1, 0);	     /* version */
	PUT(3078, 3, 4);	     /* PCIe Gen3 x4 */
	PUT(3080, 0x00, 0x01);	     /* MPS 256 */
	PUT(3082, 0x00, 0x02);	     /* MRRS 512 */
	PUT(3084, 0x40, 0x00);	     /* RCB 64 */
	PUT(3086, 1);		     /* DMA in whole pages */
	PUT(3087, 0x07);	     /* BandSlim, BandSlim+PRP, ByteExpress */
	PUT(3088, 0);		     /* timing off */
	PUT(3092, 0xdc, 0x05, 0, 0); /* firmware overhead 1500 ns */
	ck_golden(got, 0, 4096);
}
END_TEST

/* NGUID as the descriptor list reports it (CNS 03h: NIDT 2, NIDL 16). */
static void nguid_of_ns(uint8_t nguid[16])
{
	const uint8_t *d = identify(0x03, 1, 0);

	ck_assert_uint_eq(d[0], 2);
	ck_assert_uint_eq(d[1], 16);
	memcpy(nguid, d + 4, 16);
}

START_TEST(ns_descriptor_list_bytes)
{
	uint8_t nguid[16];
	const uint8_t *got;

	nguid_of_ns(nguid);
	got = identify(0x03, 1, 0);
	PUT(0, 2, 16, 0, 0); /* NIDT NGUID, NIDL 16 */
	put(4, nguid, 16);
	PUT(20, 4, 1, 0, 0); /* NIDT CSI, NIDL 1 */
	PUT(24, 0x01);	     /* Key Value */
	ck_golden(got, 0, 4096);
	ck_assert(memcmp(nguid, (uint8_t[16]){ 0 }, 16)); /* not all zero */
}
END_TEST

START_TEST(kv_identify_namespace_bytes)
{
	uint8_t nguid[16];
	const uint8_t *got;

	nguid_of_ns(nguid);
	got = identify(0x05, 1, 0x01);
	PUT(0, 0x00, 0x00, 0x10, 0x00, 0, 0, 0, 0); /* NSZE 1 MiB, in bytes */
	/* 8-15 reserved; NUSE (16-23) 0: nothing stored */
	PUT(25, 0);			 /* NKVF: one format, 0's based */
	PUT(26, 0x01);			 /* NMIC: shareable */
	PUT(32, 64, 0, 0, 0);		 /* NOVG */
	put(48, nguid, 16);		 /* NGUID: the descriptor's */
	PUT(72, 16, 0);			 /* KVF0 KVKML */
	PUT(76, 0x00, 0x00, 0x01, 0x00); /* KVF0 KVVML 64 KiB */
	PUT(80, 7, 0, 0, 0);		 /* KVF0 KVMNK */
	ck_golden(got, 0, 4096);
}
END_TEST

START_TEST(other_identify_bytes)
{
	const uint8_t *got;

	got = identify(0x08, 1, 0); /* I/O command set independent namespace */
	PUT(1, 0x01);		    /* NMIC */
	PUT(14, 0x01);		    /* NSTAT: ready */
	ck_golden(got, 0, 4096);

	memset(want, 0, sizeof(want));
	got = identify(0x02, 0, 0); /* active namespace list */
	PUT(0, 1, 0, 0, 0);
	ck_golden(got, 0, 4096);

	memset(want, 0, sizeof(want));
	got = identify(0x06, 0, 0x01); /* KV specific controller: all reserved */
	ck_golden(got, 0, 4096);
}
END_TEST

START_TEST(effects_log_bytes)
{
	static const uint8_t adm[] = { 0x00, 0x01, 0x02, 0x04, 0x05, 0x06, 0x08, 0x0a, 0x0c, 0x18 };
	uint16_t st;
	const uint8_t *got;
	unsigned int i;

	/* NUMDL 1023: 4096 bytes; CSI 01h in CDW14 31:24. */
	got = admin(0x02, 0, 1023u << 16 | 0x05, 0, 0x01u << 24, &st);
	ck_assert_uint_eq(st, 0);
	for (i = 0; i < sizeof(adm); i++)
		PUT(4 * adm[i], 0x01); /* CSUPP */
	PUT(4 * 0x09, 0x11);	       /* Set Features: CSUPP, CCC */
	PUT(4 * 0x80, 0x07);	       /* Format NVM: CSUPP, LBCC, NCC */
	PUT(1024 + 4 * 0x00, 0x03);    /* Flush: CSUPP, LBCC */
	PUT(1024 + 4 * 0x01, 0x03);    /* Store */
	PUT(1024 + 4 * 0x02, 0x01);    /* Retrieve */
	PUT(1024 + 4 * 0x06, 0x01);    /* List */
	PUT(1024 + 4 * 0x10, 0x03);    /* Delete */
	PUT(1024 + 4 * 0x14, 0x01);    /* Exist */
	PUT(1024 + 4 * 0xc0, 0x03);    /* BandSlim Store */
	PUT(1024 + 4 * 0xc1, 0x03);    /* BandSlim Store with PRP */
	PUT(1024 + 4 * 0xc4, 0x03);    /* BandSlim transfer */
	PUT(1024 + 4 * 0xc8, 0x03);    /* ByteExpress Store */
	ck_golden(got, 0, 4096);
}
END_TEST

/* Base 5.17: an Identify data structure the namespace's command set does not
 * have is refused with INVALID I/O COMMAND SET; CNS 00h is the NVM command
 * set's Identify Namespace, which a KV namespace does not have.  A zeroed
 * answer would read as an inactive namespace (NCAP 0). */
START_TEST(nvm_identify_namespace_of_kv_is_invalid_iocs_regression)
{
	uint16_t st;
	const uint8_t *got = admin(0x06, 1, 0x00, 0, 0, &st);

	ck_assert_uint_eq(st, KVC_ST_GENERIC_DNR(0x2c));
	ck_assert_uint_eq(got[0], 0xa5); /* nothing transferred */
	admin(0x06, 2, 0x00, 0, 0, &st); /* a namespace that does not exist */
	ck_assert_uint_eq(st, KVC_ST_GENERIC_DNR(0x0b));
}
END_TEST

/* Identify with a CNS nobody defines, on the admin queue: returns the CQE. */
static struct kvc_cqe bad_identify(uint16_t *cid)
{
	uint64_t buf = fh_alloc(&host, 4096, 4096);
	struct kvc_sqe sqe;
	struct kvc_cqe cqe;

	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = 0x06;
	kvc_sqe_set_dw(&sqe, 10, 0x55);
	kvc_sqe_set_prp(&sqe, buf, 0);
	*cid = fh_put(&host, 0, &sqe, true);
	fh_ring(&host, 0);
	ck_assert(fh_reap(&host, 0, &cqe, 100));
	return cqe;
}

/*
 * Error Information log entry (Base 5.16.1.2): bytes 13:12 are the CQE's
 * Status Field in bits 15:1 and, in bit 0, the Phase Tag the completion was
 * posted with -- 1 on the admin queue's first pass, 0 on the second.  It was
 * always 0.
 */
START_TEST(error_log_entry_bytes_and_phase_tag_regression)
{
	uint16_t cid, st;
	struct kvc_cqe cqe;
	const uint8_t *got;
	unsigned int i, n = 0;

	for (i = 0; i < 2; i++) {
		cqe = bad_identify(&cid);
		ck_assert_uint_eq(kvc_cqe_status(&cqe), KVC_ST_GENERIC_DNR(0x02));
		got = admin(0x02, KVC_NSID_ALL, 1023u << 16 | 0x01, 0, 0, &st);
		ck_assert_uint_eq(st, 0);
		memset(want, 0, sizeof(want));
		PUT(0, (uint8_t)++n);			    /* Error Count */
		PUT(8, 0, 0);				    /* SQID: admin */
		PUT(10, (uint8_t)cid, (uint8_t)(cid >> 8)); /* CID */
		/* Status 4002h (DNR, Invalid Field) << 1 | phase tag. */
		PUT(12, (uint8_t)(0x04 | kvc_cqe_phase(&cqe)), 0x80);
		PUT(14, 0xff, 0xff); /* Parameter Error Location: not reported */
		ck_golden(got, 0, 64);
		ck_assert_uint_eq(got[12] & 1, i == 0 ? 1 : 0);
		/* Wrap the 32-entry admin queue: the next completion has phase 0. */
		while (i == 0 && host.q[0].phase)
			identify(0x01, 0, 0);
	}
}
END_TEST

static Suite *identify_suite(void)
{
	Suite *s = suite_create("identify");
	TCase *tc = tcase_create("golden");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, identify_controller_bytes);
	tcase_add_test(tc, ns_descriptor_list_bytes);
	tcase_add_test(tc, kv_identify_namespace_bytes);
	tcase_add_test(tc, other_identify_bytes);
	tcase_add_test(tc, effects_log_bytes);
	tcase_add_test(tc, nvm_identify_namespace_of_kv_is_invalid_iocs_regression);
	tcase_add_test(tc, error_log_entry_bytes_and_phase_tag_regression);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(identify_suite)
