// SPDX-License-Identifier: MIT
/*
 * KV namespace through the controller: every command and status, value and
 * key boundaries, PRP errors, BandSlim and ByteExpress sequences, capacity.
 */
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "fakehost.c"
#include "firmware/vlog.h"

static struct fh_env env;
static struct fw_subsys *sub;
static struct fh_host host;
static struct fw_config cfg;

static void start(void)
{
	ck_assert_int_eq(fw_subsys_create(&cfg, &env.hal, &sub), 0);
	fh_host_init(&host, &env, sub);
	ck_assert_uint_eq(fh_enable(&host, 32) & (KVC_CSTS_RDY | KVC_CSTS_CFS), KVC_CSTS_RDY);
	ck_assert_uint_eq(fh_create_ioq(&host, 1, 64), 0);
}

static void setup(void)
{
	fh_small_config(&cfg);
	fh_env_init(&env, &cfg, false);
	start();
}

static void teardown(void)
{
	fh_host_fini(&host);
	fw_subsys_destroy(sub);
	fh_env_fini(&env);
}

static void fill(uint8_t *v, uint32_t n, uint32_t seed)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		v[i] = (uint8_t)(i * 131 + seed * 7 + 3);
}

#define ST(sc) KVC_ST_GENERIC_DNR(sc)

static void check_value(const char *key, const uint8_t *want, uint32_t len)
{
	uint8_t *got = malloc(len + 1);
	uint64_t mark = host.brk;
	uint32_t vlen = 0;

	ck_assert_uint_eq(fh_retrieve(&host, 1, key, got, len, &vlen), 0);
	ck_assert_uint_eq(vlen, len);
	if (len)
		ck_assert_mem_eq(got, want, len);
	host.brk = mark;
	free(got);
}

/* Value sizes 0, 1, 35, 36, 37, 4095, 4096, 4097, max; max + 1 rejected. */
START_TEST(store_retrieve_sizes)
{
	static const uint32_t sizes[] = { 0, 1, 35, 36, 37, 4095, 4096, 4097, 64 * 1024 };
	uint8_t *v = malloc(64 * 1024 + 1);
	unsigned int i;
	char key[16];

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint64_t mark = host.brk;

		snprintf(key, sizeof(key), "size-%u", sizes[i]);
		fill(v, sizes[i], i);
		ck_assert_uint_eq(fh_store(&host, 1, key, v, sizes[i], 0), 0);
		check_value(key, v, sizes[i]);
		host.brk = mark;
	}
	ck_assert_uint_eq(fh_store(&host, 1, "too-big", v, 64 * 1024 + 1, 0),
			  ST(KVC_SC_KV_INVALID_VALUE_SIZE));
	ck_assert_uint_eq(fh_simple(&host, 1, KVC_KV_EXIST, "too-big"),
			  ST(KVC_SC_KV_KEY_NOT_EXIST));
	free(v);
}
END_TEST

static uint16_t raw_klen(uint8_t opc, uint8_t klen)
{
	struct kvc_sqe sqe;

	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = opc;
	kvc_sqe_set_nsid(&sqe, 1);
	memcpy(kvc_sqe_bytes(&sqe) + 8, "abcdefgh", 8);
	kvc_sqe_bytes(&sqe)[44] = klen;
	return fh_exec(&host, 1, &sqe, NULL);
}

START_TEST(key_length_boundaries)
{
	static const uint8_t ops[] = { KVC_KV_STORE, KVC_KV_RETRIEVE, KVC_KV_DELETE,
				       KVC_KV_EXIST, KVC_BX_STORE,    KVC_BS_STORE };
	unsigned int i;

	for (i = 0; i < sizeof(ops); i++) {
		ck_assert_uint_eq(raw_klen(ops[i], 0), ST(KVC_SC_KV_INVALID_KEY_SIZE));
		ck_assert_uint_eq(raw_klen(ops[i], 17), ST(KVC_SC_KV_INVALID_KEY_SIZE));
		ck_assert_uint_eq(raw_klen(ops[i], 255), ST(KVC_SC_KV_INVALID_KEY_SIZE));
	}
	ck_assert_uint_eq(raw_klen(KVC_KV_LIST, 17), ST(KVC_SC_KV_INVALID_KEY_SIZE));
	/* 1, 8, 9 and 16 byte keys work and are distinct. */
	ck_assert_uint_eq(fh_store(&host, 1, "a", "1", 1, 0), 0);
	ck_assert_uint_eq(fh_store(&host, 1, "abcdefgh", "8", 1, 0), 0);
	ck_assert_uint_eq(fh_store(&host, 1, "abcdefghi", "9", 1, 0), 0);
	ck_assert_uint_eq(fh_store(&host, 1, "abcdefghijklmnop", "G", 1, 0), 0);
	check_value("a", (const uint8_t *)"1", 1);
	check_value("abcdefgh", (const uint8_t *)"8", 1);
	check_value("abcdefghi", (const uint8_t *)"9", 1);
	check_value("abcdefghijklmnop", (const uint8_t *)"G", 1);
}
END_TEST

START_TEST(store_options)
{
	ck_assert_uint_eq(fh_store(&host, 1, "k", "x", 1, KVC_STORE_MUST_EXIST),
			  ST(KVC_SC_KV_KEY_NOT_EXIST));
	ck_assert_uint_eq(fh_store(&host, 1, "k", "x", 1, KVC_STORE_MUST_NOT_EXIST), 0);
	ck_assert_uint_eq(fh_store(&host, 1, "k", "y", 1, KVC_STORE_MUST_NOT_EXIST),
			  ST(KVC_SC_KV_KEY_EXISTS));
	check_value("k", (const uint8_t *)"x", 1);
	ck_assert_uint_eq(fh_store(&host, 1, "k", "zz", 2, KVC_STORE_MUST_EXIST), 0);
	check_value("k", (const uint8_t *)"zz", 2);
	ck_assert_uint_eq(
		fh_store(&host, 1, "k", "q", 1, KVC_STORE_MUST_EXIST | KVC_STORE_MUST_NOT_EXIST),
		ST(KVC_SC_INVALID_FIELD));
	ck_assert_uint_eq(fh_store(&host, 1, "k", "c", 1, KVC_STORE_COMPRESS_HINT), 0);
	check_value("k", (const uint8_t *)"c", 1);
}
END_TEST

START_TEST(missing_keys_and_delete)
{
	ck_assert_uint_eq(fh_retrieve(&host, 1, "nope", NULL, 16, NULL),
			  ST(KVC_SC_KV_KEY_NOT_EXIST));
	/* Key Value Configuration EDNEK is clear by default: deleting a missing
	 * key succeeds (test_kvconfig.c covers EDNEK set). */
	ck_assert_uint_eq(fh_simple(&host, 1, KVC_KV_DELETE, "nope"), 0);
	ck_assert_uint_eq(fh_simple(&host, 1, KVC_KV_EXIST, "nope"), ST(KVC_SC_KV_KEY_NOT_EXIST));
	ck_assert_uint_eq(fh_store(&host, 1, "yes", "v", 1, 0), 0);
	ck_assert_uint_eq(fh_simple(&host, 1, KVC_KV_EXIST, "yes"), 0);
	ck_assert_uint_eq(fh_simple(&host, 1, KVC_KV_DELETE, "yes"), 0);
	ck_assert_uint_eq(fh_simple(&host, 1, KVC_KV_EXIST, "yes"), ST(KVC_SC_KV_KEY_NOT_EXIST));
	ck_assert_uint_eq(fh_simple(&host, 1, KVC_KV_DELETE, "yes"), 0);
	ck_assert_uint_eq(fh_simple(&host, 1, KVC_KV_EXIST, "yes"), ST(KVC_SC_KV_KEY_NOT_EXIST));
}
END_TEST

START_TEST(retrieve_short_buffer_and_size_query)
{
	uint8_t v[100], got[100];
	uint32_t vlen = 0;

	fill(v, sizeof(v), 9);
	ck_assert_uint_eq(fh_store(&host, 1, "long", v, 100, 0), 0);
	memset(got, 0, sizeof(got));
	ck_assert_uint_eq(fh_retrieve(&host, 1, "long", got, 10, &vlen), 0);
	ck_assert_uint_eq(vlen, 100);
	ck_assert_mem_eq(got, v, 10);
	vlen = 0;
	ck_assert_uint_eq(fh_retrieve(&host, 1, "long", NULL, 0, &vlen), 0);
	ck_assert_uint_eq(vlen, 100);
}
END_TEST

static uint16_t list(const char *start, uint32_t buflen, uint8_t *out, uint32_t *count)
{
	struct kvc_kv_cmd c = { .opc = KVC_KV_LIST, .nsid = 1 };
	struct kvc_sqe sqe;
	uint64_t buf = fh_alloc(&host, buflen ? buflen : 1, 4096);
	uint16_t st;

	c.klen = (uint8_t)strlen(start);
	memcpy(c.key, start, c.klen);
	c.size = buflen;
	c.prp1 = buf;
	c.prp2 = buflen > 4096 ? buf + 4096 : 0;
	ck_assert_int_eq(kvc_kv_encode(&sqe, &c), 0);
	st = fh_exec(&host, 1, &sqe, count);
	if (!st)
		memcpy(out, host.mem + buf, buflen);
	return st;
}

START_TEST(list_sorted)
{
	static const char *keys[] = { "b", "a", "ab", "a\x01", "zz", "m", "aa" };
	static const char *sorted[] = { "a", "a\x01", "aa", "ab", "b", "m", "zz" };
	uint8_t out[256];
	struct kvc_list_reader r;
	const uint8_t *k;
	uint32_t count, i;
	uint8_t kl;

	for (i = 0; i < 7; i++)
		ck_assert_uint_eq(fh_store(&host, 1, keys[i], "v", 1, 0), 0);
	ck_assert_uint_eq(list("", sizeof(out), out, &count), 0);
	ck_assert_uint_eq(count, 7);
	ck_assert_int_eq(kvc_list_reader_init(&r, out, sizeof(out)), 0);
	for (i = 0; i < 7; i++) {
		ck_assert_int_eq(kvc_list_reader_next(&r, &k, &kl), 1);
		ck_assert_uint_eq(kl, strlen(sorted[i]));
		ck_assert_mem_eq(k, sorted[i], kl);
	}
	ck_assert_int_eq(kvc_list_reader_next(&r, &k, &kl), 0);
	/* From "ab": ab, b, m, zz.  A buffer for 2 entries stops after 2. */
	ck_assert_uint_eq(list("ab", sizeof(out), out, &count), 0);
	ck_assert_uint_eq(count, 4);
	ck_assert_uint_eq(list("ab", 4 + 4 + 4, out, &count), 0);
	ck_assert_uint_eq(count, 2);
	ck_assert_uint_eq(kvc_get_le32(out), 2);
	/* Past the last key: nothing, success. */
	ck_assert_uint_eq(list("zzz", sizeof(out), out, &count), 0);
	ck_assert_uint_eq(count, 0);
	/* Buffers too small for the header or for one entry. */
	ck_assert_uint_eq(list("", 3, out, &count), ST(KVC_SC_INVALID_FIELD));
	ck_assert_uint_eq(list("", 7, out, &count), ST(KVC_SC_INVALID_FIELD));
}
END_TEST

START_TEST(invalid_opcode_and_namespace)
{
	struct kvc_sqe sqe;

	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = 0x7c;
	kvc_sqe_set_nsid(&sqe, 1);
	ck_assert_uint_eq(fh_exec(&host, 1, &sqe, NULL), ST(KVC_SC_INVALID_OPCODE));
	sqe.opc = KVC_KV_EXIST;
	kvc_sqe_bytes(&sqe)[44] = 1;
	kvc_sqe_set_nsid(&sqe, 2);
	ck_assert_uint_eq(fh_exec(&host, 1, &sqe, NULL), ST(KVC_SC_INVALID_NS));
	kvc_sqe_set_nsid(&sqe, 0);
	ck_assert_uint_eq(fh_exec(&host, 1, &sqe, NULL), ST(KVC_SC_INVALID_NS));
	/* Admin opcode on an I/O queue, I/O opcode on the admin queue. */
	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = 0x7d;
	ck_assert_uint_eq(fh_exec(&host, 0, &sqe, NULL), ST(KVC_SC_INVALID_OPCODE));
}
END_TEST

static uint16_t store_prp(uint64_t prp1, uint64_t prp2, uint32_t len)
{
	struct kvc_kv_cmd c = { .opc = KVC_KV_STORE, .nsid = 1, .klen = 3 };
	struct kvc_sqe sqe;

	memcpy(c.key, "prp", 3);
	c.size = len;
	c.prp1 = prp1;
	c.prp2 = prp2;
	ck_assert_int_eq(kvc_kv_encode(&sqe, &c), 0);
	return fh_exec(&host, 1, &sqe, NULL);
}

START_TEST(prp_errors)
{
	uint64_t buf = fh_alloc(&host, 4 * 4096, 4096), list = fh_alloc(&host, 4096, 4096);

	ck_assert_uint_eq(store_prp(buf + 2, 0, 16), ST(KVC_SC_INVALID_PRP_OFFSET));
	ck_assert_uint_eq(store_prp(FH_MEM_SIZE + 4096, 0, 16), ST(KVC_SC_DATA_XFER_ERROR));
	ck_assert_uint_eq(store_prp(FH_MEM_SIZE - 8, FH_MEM_SIZE, 16), ST(KVC_SC_DATA_XFER_ERROR));
	/* Second page not page aligned. */
	ck_assert_uint_eq(store_prp(buf, buf + 4096 + 8, 8000), ST(KVC_SC_INVALID_PRP_OFFSET));
	/* PRP list entry not page aligned, and a list pointing into garbage. */
	kvc_put_le64(host.mem + list, buf + 4096);
	kvc_put_le64(host.mem + list + 8, buf + 2 * 4096 + 100);
	ck_assert_uint_eq(store_prp(buf, list, 3 * 4096), ST(KVC_SC_INVALID_PRP_OFFSET));
	kvc_put_le64(host.mem + list + 8, 0x4000000000ull);
	ck_assert_uint_eq(store_prp(buf, list, 3 * 4096), ST(KVC_SC_DATA_XFER_ERROR));
	ck_assert_uint_eq(store_prp(buf, FH_MEM_SIZE + 0x1000, 3 * 4096),
			  ST(KVC_SC_DATA_XFER_ERROR));
	ck_assert_uint_eq(store_prp(buf, list + 4, 3 * 4096), ST(KVC_SC_INVALID_PRP_OFFSET));
	/* None of these stored anything. */
	ck_assert_uint_eq(fh_simple(&host, 1, KVC_KV_EXIST, "prp"), ST(KVC_SC_KV_KEY_NOT_EXIST));
	/* A good list works, with PRP1 at an offset. */
	kvc_put_le64(host.mem + list + 8, buf + 3 * 4096);
	memset(host.mem + buf, 0x5a, 4 * 4096);
	ck_assert_uint_eq(store_prp(buf + 512, list, 3 * 4096), 0);
}
END_TEST

/* ---- SGL data pointers -------------------------------------------------------- */

/* KV command @opc with PSDT @psdt and SGL1 = (@addr, @len, @type), CDW10 @size. */
static uint16_t kv_sgl(uint8_t opc, const char *key, uint32_t size, uint8_t psdt, uint64_t addr,
		       uint32_t len, uint8_t type, uint32_t *dw0)
{
	struct kvc_kv_cmd c = { .opc = opc, .nsid = 1, .size = size };
	struct kvc_sgl_desc s = { .addr = addr, .len = len, .type = type };
	struct kvc_sqe sqe;

	c.klen = (uint8_t)strlen(key);
	memcpy(c.key, key, c.klen);
	ck_assert_int_eq(kvc_kv_encode(&sqe, &c), 0);
	sqe.flags = (uint8_t)(psdt << KVC_SQE_PSDT_SHIFT);
	kvc_sgl_put(kvc_sqe_bytes(&sqe) + KVC_SQE_OFF_PRP1, &s);
	return fh_exec(&host, 1, &sqe, dw0);
}

static uint64_t data_bytes(int dir)
{
	struct kvc_stats_log l;

	fw_ctrl_poll(host.ctrl);
	fw_subsys_stats(sub, &l);
	return l.pcie_bytes[KVC_PK_DATA][dir];
}

/* Store, Retrieve and List with PSDT 01b and 10b, byte-exact, at the
 * boundary sizes; the link carries the exact bytes where PRP with page DMA
 * carries whole pages; the statistics log counts the SGL Stores. */
START_TEST(kv_commands_with_sgl)
{
	static const uint32_t sizes[] = { 1, 35, 4095, 4096, 4097, 20003 };
	struct kvc_stats_log l;
	uint8_t *v = malloc(20003);
	uint64_t mark, before;
	unsigned int i;
	uint32_t dw0;

	/* Page-unit PRP DMA, as the KV-SSD prototypes: a 100 B PRP Store moves
	 * a whole page (16 CplD of 256 B), an SGL Store its 100 bytes. */
	teardown();
	fh_small_config(&cfg);
	cfg.dma_gran = FW_DMA_PAGE;
	fh_env_init(&env, &cfg, false);
	start();
	mark = host.brk;
	fill(v, 100, 1);
	before = data_bytes(KVC_PCIE_DOWN);
	ck_assert_uint_eq(fh_store(&host, 1, "p", v, 100, 0), 0);
	ck_assert_uint_eq(data_bytes(KVC_PCIE_DOWN) - before, 16 * 276);
	before = data_bytes(KVC_PCIE_DOWN);
	ck_assert_uint_eq(kv_sgl(KVC_KV_STORE, "q", 100, 1, fh_alloc(&host, 100, 4096), 100,
				 KVC_SGL_DATA_BLOCK, NULL),
			  0);
	ck_assert_uint_eq(data_bytes(KVC_PCIE_DOWN) - before, 20 + 100);
	ck_assert_uint_eq(fh_simple(&host, 1, KVC_KV_DELETE, "p"), 0);
	ck_assert_uint_eq(fh_simple(&host, 1, KVC_KV_DELETE, "q"), 0);
	host.brk = mark;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint32_t n = sizes[i];
		uint64_t src = fh_alloc(&host, n, 1) + 1, dst = fh_alloc(&host, n + 2, 8) + 3;
		char key[8];

		snprintf(key, sizeof(key), "s%u", i);
		fill(v, n, i);
		memcpy(host.mem + src, v, n);
		before = data_bytes(KVC_PCIE_DOWN);
		ck_assert_uint_eq(
			kv_sgl(KVC_KV_STORE, key, n, i % 2 + 1, src, n, KVC_SGL_DATA_BLOCK, NULL),
			0);
		/* Byte-granular: the n bytes at their address, not whole pages. */
		ck_assert_uint_eq(data_bytes(KVC_PCIE_DOWN) - before,
				  kvc_pcie_mrd(&cfg.pcie, src, n).bytes[KVC_PCIE_DOWN]);
		check_value(key, v, n);
		memset(host.mem + dst - 3, 0xee, n + 5);
		ck_assert_uint_eq(
			kv_sgl(KVC_KV_RETRIEVE, key, n, 1, dst, n, KVC_SGL_DATA_BLOCK, &dw0), 0);
		ck_assert_uint_eq(dw0, n);
		ck_assert_mem_eq(host.mem + dst, v, n);
		ck_assert_uint_eq(host.mem[dst - 1], 0xee);
		ck_assert_uint_eq(host.mem[dst + n], 0xee);
		host.brk = mark;
	}
	fw_subsys_stats(sub, &l);
	ck_assert_uint_eq(l.m_stores[KVC_XM_SGL], 1 + sizeof(sizes) / sizeof(sizes[0]));
	/* List into a byte-aligned buffer. */
	{
		uint64_t dst = fh_alloc(&host, 64, 1) + 1;

		ck_assert_uint_eq(
			kv_sgl(KVC_KV_LIST, "s", 64, 1, dst, 64, KVC_SGL_DATA_BLOCK, &dw0), 0);
		ck_assert_uint_eq(dw0, sizeof(sizes) / sizeof(sizes[0]));
		ck_assert_uint_eq(kvc_get_le32(host.mem + dst), dw0);
		ck_assert_uint_eq(kvc_get_le16(host.mem + dst + 4), 2);
		ck_assert_mem_eq(host.mem + dst + 6, "s0", 2);
	}
	free(v);
}
END_TEST

/*
 * The statistics log's log_bytes says where a page-aligned value log's space
 * went: 20 PRP Stores of 100 B with page DMA take a 4 KiB slot each, which
 * used_bytes (live record bytes) does not show; deleting them empties
 * used_bytes, not the log, until GC.
 */
START_TEST(stats_log_bytes_show_alignment_and_dead_records)
{
	struct kvc_stats_log l;
	uint8_t v[100];
	char key[4];
	int i;

	teardown();
	fh_small_config(&cfg);
	cfg.dma_gran = FW_DMA_PAGE;
	fh_env_init(&env, &cfg, false);
	start();
	fill(v, sizeof(v), 3);
	for (i = 0; i < 20; i++) {
		snprintf(key, sizeof(key), "k%02d", i);
		ck_assert_uint_eq(fh_store(&host, 1, key, v, sizeof(v), 0), 0);
	}
	fw_subsys_stats(sub, &l);
	ck_assert_uint_eq(l.used_bytes, 20 * fw_rec_len(3, 100));
	ck_assert_uint_ge(l.log_bytes, 19 * 4096 + fw_rec_len(3, 100));
	ck_assert_uint_le(l.log_bytes, 20 * 4096);
	for (i = 0; i < 20; i++) {
		snprintf(key, sizeof(key), "k%02d", i);
		ck_assert_uint_eq(fh_simple(&host, 1, KVC_KV_DELETE, key), 0);
	}
	fw_subsys_stats(sub, &l);
	ck_assert_uint_eq(l.used_bytes, 0);
	ck_assert_uint_ge(l.log_bytes, 19 * 4096 + fw_rec_len(3, 100));
}
END_TEST

/* SGL faults through the controller: each is its status with DNR, in the
 * error log, and stores nothing; PSDT 11b is refused at dispatch. */
START_TEST(sgl_errors)
{
	uint64_t buf = fh_alloc(&host, 4096, 4096), seg = fh_alloc(&host, 4096, 4096);
	struct kvc_sgl_desc loop = { .addr = seg, .len = 16, .type = KVC_SGL_SEGMENT };

	memset(host.mem + buf, 0x11, 4096);
	ck_assert_uint_eq(kv_sgl(KVC_KV_STORE, "e", 100, 1, buf, 99, KVC_SGL_DATA_BLOCK, NULL),
			  ST(KVC_SC_DATA_SGL_LEN));
	ck_assert_uint_eq(kv_sgl(KVC_KV_STORE, "e", 100, 1, buf, 100, KVC_SGL_BIT_BUCKET, NULL),
			  ST(KVC_SC_SGL_DESC_TYPE));
	ck_assert_uint_eq(
		kv_sgl(KVC_KV_STORE, "e", 100, 1, buf, 100, KVC_SGL_TRANSPORT_DATA_BLOCK, NULL),
		ST(KVC_SC_SGL_DESC_TYPE));
	ck_assert_uint_eq(
		kv_sgl(KVC_KV_STORE, "e", 100, 1, seg + 4, 16, KVC_SGL_LAST_SEGMENT, NULL),
		ST(KVC_SC_INVALID_SGL_SEG));
	kvc_sgl_put(host.mem + seg, &loop);
	ck_assert_uint_eq(kv_sgl(KVC_KV_STORE, "e", 100, 1, seg, 16, KVC_SGL_SEGMENT, NULL),
			  ST(KVC_SC_INVALID_NUM_SGL));
	ck_assert_uint_eq(
		kv_sgl(KVC_KV_STORE, "e", 100, 1, FH_MEM_SIZE - 50, 100, KVC_SGL_DATA_BLOCK, NULL),
		ST(KVC_SC_DATA_XFER_ERROR));
	ck_assert_uint_eq(kv_sgl(KVC_KV_STORE, "e", 100, 3, buf, 100, KVC_SGL_DATA_BLOCK, NULL),
			  ST(KVC_SC_INVALID_FIELD));
	ck_assert_uint_eq(fh_simple(&host, 1, KVC_KV_EXIST, "e"), ST(KVC_SC_KV_KEY_NOT_EXIST));
	ck_assert_uint_ge(env.log_lines, 1);
	/* A Retrieve into a buffer with a Bit Bucket in the middle. */
	{
		uint8_t v[300];
		struct kvc_sgl_desc d[3] = {
			{ .addr = buf, .len = 100, .type = KVC_SGL_DATA_BLOCK },
			{ .len = 50, .type = KVC_SGL_BIT_BUCKET },
			{ .addr = buf + 1000, .len = 150, .type = KVC_SGL_DATA_BLOCK },
		};
		uint32_t dw0;

		fill(v, sizeof(v), 9);
		ck_assert_uint_eq(fh_store(&host, 1, "bb", v, sizeof(v), 0), 0);
		memset(host.mem + buf, 0, 2000);
		kvc_sgl_put(host.mem + seg, &d[0]);
		kvc_sgl_put(host.mem + seg + 16, &d[1]);
		kvc_sgl_put(host.mem + seg + 32, &d[2]);
		ck_assert_uint_eq(
			kv_sgl(KVC_KV_RETRIEVE, "bb", 300, 1, seg, 48, KVC_SGL_LAST_SEGMENT, &dw0),
			0);
		ck_assert_uint_eq(dw0, 300);
		ck_assert_mem_eq(host.mem + buf, v, 100);
		ck_assert_mem_eq(host.mem + buf + 1000, v + 150, 150);
		ck_assert_uint_eq(host.mem[buf + 100], 0);
	}
}
END_TEST

/* Identify Controller SGLS says what the mapper accepts (over the shm PCIe
 * transport: no fabric forms). */
START_TEST(identify_sgls)
{
	uint64_t buf = fh_alloc(&host, 4096, 4096);
	struct kvc_sqe sqe;

	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = KVC_ADM_IDENTIFY;
	kvc_sqe_set_dw(&sqe, 10, KVC_CNS_CTRL);
	kvc_sqe_set_prp(&sqe, buf, 0);
	ck_assert_uint_eq(fh_exec(&host, 0, &sqe, NULL), 0);
	/* Bits 1:0 01b, 16 Bit Bucket, 18 longer SGLs, 19 MPTR SGL. */
	ck_assert_uint_eq(kvc_get_le32(host.mem + buf + 536), 0x000d0001);
}
END_TEST

/* ---- BandSlim ---------------------------------------------------------------- */

static uint16_t bs_send(const char *key, const uint8_t *v, uint32_t len, uint8_t opc, uint8_t opts,
			uint16_t tag)
{
	struct kvc_bs_store s = { .opc = opc, .opts = opts, .nsid = 1, .tag = tag, .size = len };
	uint32_t n, i;
	uint16_t last = 0;

	s.klen = (uint8_t)strlen(key);
	memcpy(s.key, key, s.klen);
	if (opc == KVC_BS_STORE_PRP) {
		uint64_t buf = fh_alloc(&host, len + 1, 4096);

		memcpy(host.mem + buf, v, len);
		s.prp1 = buf;
		s.prp2 = len > 8192 ? 0 : buf + 4096; /* tests keep the PRP part <= 2 pages */
	}
	n = kvc_bs_cmd_count(&s);
	for (i = 0; i < n; i++) {
		struct kvc_sqe sqe;
		uint32_t dw0;
		uint16_t st;

		ck_assert_int_eq(kvc_bs_encode(&sqe, &s, i, v, 0), 0);
		st = fh_exec(&host, 1, &sqe, &dw0);
		if (i + 1 < n) {
			ck_assert_uint_eq(st, 0);
			ck_assert_uint_lt(dw0, len);
		}
		last = st;
	}
	return last;
}

START_TEST(bandslim_sizes)
{
	uint8_t v[8192];
	char key[16];
	uint32_t size = (uint32_t)_i;
	uint64_t mark = host.brk;

	snprintf(key, sizeof(key), "bs%u", size);
	fill(v, size, size);
	ck_assert_uint_eq(bs_send(key, v, size, KVC_BS_STORE, 0, 7), 0);
	check_value(key, v, size);
	fill(v, size, size + 1);
	ck_assert_uint_eq(bs_send(key, v, size, KVC_BS_STORE, KVC_BS_OPT_NARROW, 8), 0);
	check_value(key, v, size);
	host.brk = mark;
}
END_TEST

START_TEST(bandslim_prp_hybrid)
{
	static const uint32_t sizes[] = { 4096, 4097, 4096 + 100, 8191 };
	uint8_t v[8192];
	unsigned int i;

	for (i = 0; i < 4; i++) {
		fill(v, sizes[i], i + 40);
		ck_assert_uint_eq(bs_send("hyb", v, sizes[i], KVC_BS_STORE_PRP, 0, 3), 0);
		check_value("hyb", v, sizes[i]);
	}
}
END_TEST

/* Whether the Error Information log holds @status for command @cid of @sqid. */
static bool error_logged(uint16_t sqid, uint16_t cid, uint16_t status)
{
	uint64_t buf = fh_alloc(&host, 4096, 4096);
	const struct kvc_error_log_entry *e = (const void *)(host.mem + buf);
	struct kvc_sqe sqe;
	unsigned int i;

	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = KVC_ADM_GET_LOG_PAGE;
	kvc_sqe_set_dw(&sqe, 10, 1023u << 16 | KVC_LOG_ERROR);
	kvc_sqe_set_prp(&sqe, buf, 0);
	ck_assert_uint_eq(fh_exec(&host, 0, &sqe, NULL), 0);
	for (i = 0; i < 4096 / sizeof(*e); i++)
		if (kvc_get_le64(&e[i].error_count) && kvc_get_le16(&e[i].sqid) == sqid &&
		    kvc_get_le16(&e[i].cid) == cid && kvc_get_le16(&e[i].status) >> 1 == status)
			return true;
	return false;
}

START_TEST(bandslim_bad_sequences)
{
	struct kvc_bs_store s = {
		.opc = KVC_BS_STORE, .nsid = 1, .tag = 5, .size = 200, .klen = 2
	};
	uint8_t v[200];
	struct kvc_sqe sqe;
	uint16_t head_cid;

	fill(v, 200, 1);
	memcpy(s.key, "bq", 2);
	/* A transfer with no head. */
	ck_assert_int_eq(kvc_bs_encode(&sqe, &s, 1, v, 0), 0);
	ck_assert_uint_eq(fh_exec(&host, 1, &sqe, NULL), ST(KVC_SC_CMD_SEQ_ERROR));
	/* Head, then a transfer with the wrong tag. */
	ck_assert_int_eq(kvc_bs_encode(&sqe, &s, 0, v, 0), 0);
	ck_assert_uint_eq(fh_exec(&host, 1, &sqe, NULL), 0);
	head_cid = kvc_sqe_cid(&sqe);
	s.tag = 6;
	ck_assert_int_eq(kvc_bs_encode(&sqe, &s, 1, v, 0), 0);
	ck_assert_uint_eq(fh_exec(&host, 1, &sqe, NULL), ST(KVC_SC_CMD_SEQ_ERROR));
	/* A new head abandons the open sequence; the new one completes.  The
	 * abandoned head (already completed) is reported in the error log. */
	ck_assert(!error_logged(1, head_cid, ST(KVC_SC_CMD_SEQ_ERROR)));
	ck_assert_uint_eq(bs_send("bq", v, 200, KVC_BS_STORE, 0, 9), 0);
	check_value("bq", v, 200);
	ck_assert(error_logged(1, head_cid, ST(KVC_SC_CMD_SEQ_ERROR)));
	/* Head that never gets its transfers: the key is not stored. */
	s.tag = 10;
	memcpy(s.key, "orphan", 6);
	s.klen = 6;
	ck_assert_int_eq(kvc_bs_encode(&sqe, &s, 0, v, 0), 0);
	ck_assert_uint_eq(fh_exec(&host, 1, &sqe, NULL), 0);
	ck_assert_uint_eq(fh_simple(&host, 1, KVC_KV_EXIST, "orphan"), ST(KVC_SC_KV_KEY_NOT_EXIST));
	/* Value size above the maximum. */
	s.size = 64 * 1024 + 1;
	ck_assert_int_eq(kvc_bs_encode(&sqe, &s, 0, v, 0), 0);
	ck_assert_uint_eq(fh_exec(&host, 1, &sqe, NULL), ST(KVC_SC_KV_INVALID_VALUE_SIZE));
	/* Options are honoured at the end of the sequence. */
	ck_assert_uint_eq(bs_send("bq", v, 100, KVC_BS_STORE, KVC_STORE_MUST_NOT_EXIST, 11),
			  ST(KVC_SC_KV_KEY_EXISTS));
	check_value("bq", v, 200);
}
END_TEST

/* ---- ByteExpress -------------------------------------------------------------- */

static uint16_t bx_send(const char *key, const uint8_t *v, uint32_t len, uint32_t ring_chunks)
{
	struct kvc_kv_cmd c = { .nsid = 1, .size = len };
	struct kvc_sqe sqe;
	struct kvc_cqe cqe;
	uint32_t i, n = kvc_bx_chunks(len), tail0;
	uint8_t slot[64];
	uint16_t cid;

	c.klen = (uint8_t)strlen(key);
	memcpy(c.key, key, c.klen);
	ck_assert_int_eq(kvc_bx_encode(&sqe, &c), 0);
	cid = fh_put(&host, 1, &sqe, true);
	tail0 = host.q[1].sqt;
	for (i = 0; i < n; i++) {
		kvc_bx_fill_chunk(slot, v, len, i);
		fh_put_raw(&host, 1, slot);
	}
	if (ring_chunks < n) /* expose only part of the chunks */
		host.q[1].sqt = (tail0 + ring_chunks) % host.q[1].size;
	fh_ring(&host, 1);
	ck_assert(fh_reap(&host, 1, &cqe, 1000));
	ck_assert_uint_eq(kvc_cqe_cid(&cqe), cid);
	if (ring_chunks >= n)
		ck_assert_uint_eq(kvc_get_le16(&cqe.sqhd), host.q[1].sqt);
	return kvc_cqe_status(&cqe);
}

START_TEST(byteexpress_sizes_and_wrap)
{
	uint8_t v[2048];
	uint32_t sizes[] = { 0, 1, 63, 64, 65, 127, 128, 1000, 2048 };
	unsigned int i, rep;
	char key[16];

	/* Repeated so the chunks wrap around the 64-entry ring several times. */
	for (rep = 0; rep < 4; rep++) {
		for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			snprintf(key, sizeof(key), "bx%u", sizes[i]);
			fill(v, sizes[i], i + rep);
			ck_assert_uint_eq(bx_send(key, v, sizes[i], UINT32_MAX), 0);
			check_value(key, v, sizes[i]);
		}
	}
}
END_TEST

/*
 * Chunk @i shaped like a command against "victim": even chunks a Delete, odd
 * ones a PRP Store of "EVIL".  Run as commands, both would succeed.
 */
static void evil_chunk(uint8_t *slot, uint32_t i)
{
	struct kvc_kv_cmd c = { .nsid = 1, .klen = 6, .key = "victim", .cid = 0x7000 };
	struct kvc_sqe sqe;

	c.cid = (uint16_t)(c.cid + i);
	c.opc = i % 2 ? KVC_KV_STORE : KVC_KV_DELETE;
	if (i % 2) {
		c.size = 4;
		c.prp1 = fh_alloc(&host, 4, 4096);
		memcpy(host.mem + c.prp1, "EVIL", 4);
	}
	ck_assert_int_eq(kvc_kv_encode(&sqe, &c), 0);
	memcpy(slot, &sqe, sizeof(sqe));
}

/* Queue @head and @n command-shaped chunks on SQ @qid without ringing. */
static uint16_t put_evil_frame(uint16_t qid, struct kvc_sqe *head, uint32_t n)
{
	uint16_t cid = fh_put(&host, qid, head, true);
	uint8_t slot[64];
	uint32_t i;

	for (i = 0; i < n; i++) {
		evil_chunk(slot, i);
		fh_put_raw(&host, qid, slot);
	}
	return cid;
}

/* The one CQE of the head; its SQ head points past the chunks, no other CQE. */
static uint16_t reap_head(uint16_t qid, uint16_t cid)
{
	struct kvc_cqe cqe;

	ck_assert(fh_reap(&host, qid, &cqe, 1000));
	ck_assert_uint_eq(kvc_cqe_cid(&cqe), cid);
	ck_assert_uint_eq(kvc_get_le16(&cqe.sqhd), host.q[qid].sqt);
	ck_assert_msg(!fh_reap(&host, qid, &cqe, 20), "a chunk ran as command %#x",
		      kvc_cqe_cid(&cqe));
	return kvc_cqe_status(&cqe);
}

/* Ring @head with @n command-shaped chunks on SQ 1; the head's status. */
static uint16_t send_evil_frame(struct kvc_sqe *head, uint32_t n)
{
	uint16_t cid = put_evil_frame(1, head, n);

	fh_ring(&host, 1);
	return reap_head(1, cid);
}

static void victim_intact(uint16_t qid)
{
	uint64_t mark = host.brk;
	uint32_t vlen = 0;
	uint8_t got[8];

	ck_assert_uint_eq(fh_retrieve(&host, qid, "victim", got, sizeof(got), &vlen), 0);
	ck_assert_uint_eq(vlen, 4);
	ck_assert_mem_eq(got, "good", 4);
	host.brk = mark;
}

/* A ByteExpress head of @size bytes for "bx", then patched by the caller. */
static void bx_head(struct kvc_sqe *sqe, uint32_t size)
{
	struct kvc_kv_cmd c = { .nsid = 1, .klen = 2, .key = "bx" };

	ck_assert_int_eq(kvc_bx_encode(sqe, &c), 0);
	kvc_sqe_set_dw(sqe, 10, size);
}

/* Regression: a head refused before its chunks were consumed left them in the
 * SQ, where they ran as commands (a Delete deleted another key, a Store
 * overwrote it).  Every rejection cause, the chunks shaped like commands. */
START_TEST(byteexpress_rejected_head_consumes_chunks_regression)
{
	static const uint8_t bad_klen[] = { 0, 17, 255 };
	static const uint32_t bad_nsid[] = { 0, 2, 0xffffffffu };
	/* Above the maximum (64 KiB), above what the 64-entry ring holds, and a
	 * size whose chunk count overflows 32 bits: each frame is the 62 slots
	 * the ring can hold behind the head. */
	static const uint32_t bad_size[] = { 64 * 1024 + 1, 63 * 64, 0xffffffffu, 0xffffffc1u };
	struct kvc_sqe sqe;
	unsigned int i;

	ck_assert_uint_eq(fh_store(&host, 1, "victim", "good", 4, 0), 0);
	for (i = 0; i < sizeof(bad_klen); i++) {
		bx_head(&sqe, 128);
		kvc_sqe_bytes(&sqe)[44] = bad_klen[i];
		ck_assert_uint_eq(send_evil_frame(&sqe, 2), ST(KVC_SC_KV_INVALID_KEY_SIZE));
		victim_intact(1);
	}
	for (i = 0; i < sizeof(bad_nsid) / sizeof(bad_nsid[0]); i++) {
		bx_head(&sqe, 128);
		kvc_sqe_set_nsid(&sqe, bad_nsid[i]);
		ck_assert_uint_eq(send_evil_frame(&sqe, 2), ST(KVC_SC_INVALID_NS));
		victim_intact(1);
	}
	for (i = 0; i < sizeof(bad_size) / sizeof(bad_size[0]); i++) {
		bx_head(&sqe, bad_size[i]);
		ck_assert_uint_eq(send_evil_frame(&sqe, 62), ST(KVC_SC_KV_INVALID_VALUE_SIZE));
		victim_intact(1);
	}
	ck_assert_uint_eq(fh_simple(&host, 1, KVC_KV_EXIST, "bx"), ST(KVC_SC_KV_KEY_NOT_EXIST));
	ck_assert_uint_eq(fh_store(&host, 1, "after", "ok", 2, 0), 0);
	check_value("after", (const uint8_t *)"ok", 2);
}
END_TEST

/* Regression: with a tail doorbell covering only the head, the head failed
 * and its chunks, rung later, ran as commands.  The device now waits for the
 * whole frame (other queues keep running) and never runs a chunk. */
START_TEST(byteexpress_chunks_past_tail_wait_regression)
{
	uint8_t want[128];
	struct kvc_sqe sqe;
	struct kvc_cqe cqe;
	uint32_t tail0, i;
	uint16_t cid;

	ck_assert_uint_eq(fh_create_ioq(&host, 2, 16), 0);
	ck_assert_uint_eq(fh_store(&host, 2, "victim", "good", 4, 0), 0);
	/* A valid head: only the head, then one chunk, then both are rung. */
	bx_head(&sqe, sizeof(want));
	tail0 = host.q[1].sqt;
	cid = put_evil_frame(1, &sqe, 2);
	for (i = 0; i < 2; i++)
		memcpy(want + 64 * i,
		       host.mem + host.q[1].sq + 64ull * ((tail0 + 1 + i) % host.q[1].size), 64);
	for (i = 0; i < 2; i++) {
		host.bar[kvc_sq_tail_db(1, 0) / 4] = (tail0 + 1 + i) % host.q[1].size;
		ck_assert(!fh_reap(&host, 1, &cqe, 50));
		victim_intact(2); /* other queues are served meanwhile */
	}
	fh_ring(&host, 1);
	ck_assert_uint_eq(reap_head(1, cid), 0);
	check_value("bx", want, sizeof(want));
	victim_intact(2);
	/* A refused head (key length 0) waits for its chunks the same way. */
	bx_head(&sqe, sizeof(want));
	kvc_sqe_bytes(&sqe)[44] = 0;
	tail0 = host.q[1].sqt;
	cid = put_evil_frame(1, &sqe, 2);
	host.bar[kvc_sq_tail_db(1, 0) / 4] = (tail0 + 1) % host.q[1].size;
	ck_assert(!fh_reap(&host, 1, &cqe, 50));
	fh_ring(&host, 1);
	ck_assert_uint_eq(reap_head(1, cid), ST(KVC_SC_KV_INVALID_KEY_SIZE));
	victim_intact(2);
	victim_intact(1);
}
END_TEST

/* Regression: after a ByteExpress command consumed its chunks the rest of the
 * fetch burst was thrown away and fetched again, O(n^2) SQE traffic.  Eight
 * commands with one chunk each, rung together: 16 slots fetched once, as two
 * 512-byte read requests and four 256-byte completions. */
START_TEST(byteexpress_burst_fetched_once_regression)
{
	struct kvc_stats_log a, b;
	struct kvc_cqe cqe;
	uint8_t slot[64];
	struct kvc_sqe arb;
	char key[8];
	int i;

	/* No arbitration burst limit, so the 16 slots can be one fetch. */
	memset(&arb, 0, sizeof(arb));
	arb.opc = KVC_ADM_SET_FEATURES;
	kvc_sqe_set_dw(&arb, 10, KVC_FEAT_ARBITRATION);
	kvc_sqe_set_dw(&arb, 11, 7);
	ck_assert_uint_eq(fh_exec(&host, 0, &arb, NULL), 0);
	fw_subsys_stats(sub, &a);
	for (i = 0; i < 8; i++) {
		struct kvc_kv_cmd c = { .nsid = 1, .size = 8, .klen = 2 };
		struct kvc_sqe sqe;

		snprintf(key, sizeof(key), "b%d", i);
		memcpy(c.key, key, 2);
		ck_assert_int_eq(kvc_bx_encode(&sqe, &c), 0);
		fh_put(&host, 1, &sqe, true);
		kvc_bx_fill_chunk(slot, (const uint8_t *)"8 bytes!", 8, 0);
		fh_put_raw(&host, 1, slot);
	}
	fh_ring(&host, 1);
	for (i = 0; i < 8; i++) {
		ck_assert(fh_reap(&host, 1, &cqe, 100));
		ck_assert_uint_eq(kvc_cqe_status(&cqe), 0);
	}
	fw_subsys_stats(sub, &b);
	ck_assert_uint_eq(b.pcie_bytes[KVC_PK_SQE][1] - a.pcie_bytes[KVC_PK_SQE][1], 4 * 276);
	ck_assert_uint_eq(b.pcie_tlps[KVC_PK_SQE][0] - a.pcie_tlps[KVC_PK_SQE][0], 2);
	check_value("b7", (const uint8_t *)"8 bytes!", 8);
}
END_TEST

/* ---- capacity ---------------------------------------------------------------------- */

START_TEST(capacity_full)
{
	uint8_t v[4000];
	char key[16];
	int i;
	uint16_t st = 0;

	teardown();
	fh_small_config(&cfg);
	cfg.capacity = 64 * 1024;
	fh_env_init(&env, &cfg, false);
	start();
	fill(v, sizeof(v), 3);
	for (i = 0; i < 100 && !st; i++) {
		uint64_t mark = host.brk;

		snprintf(key, sizeof(key), "c%d", i);
		st = fh_store(&host, 1, key, v, sizeof(v), 0);
		host.brk = mark;
	}
	ck_assert_uint_eq(st, ST(KVC_SC_CAPACITY_EXCEEDED));
	ck_assert_int_ge(i, 15);
	/* Deleting makes room again; everything stored before is intact. */
	ck_assert_uint_eq(fh_simple(&host, 1, KVC_KV_DELETE, "c0"), 0);
	ck_assert_uint_eq(fh_store(&host, 1, "again", v, sizeof(v), 0), 0);
	check_value("c1", v, sizeof(v));
}
END_TEST

START_TEST(max_keys)
{
	teardown();
	fh_small_config(&cfg);
	cfg.max_keys = 3;
	fh_env_init(&env, &cfg, false);
	start();
	ck_assert_uint_eq(fh_store(&host, 1, "1", "a", 1, 0), 0);
	ck_assert_uint_eq(fh_store(&host, 1, "2", "a", 1, 0), 0);
	ck_assert_uint_eq(fh_store(&host, 1, "3", "a", 1, 0), 0);
	ck_assert_uint_eq(fh_store(&host, 1, "4", "a", 1, 0), ST(KVC_SC_CAPACITY_EXCEEDED));
	ck_assert_uint_eq(fh_store(&host, 1, "3", "overwrite", 9, 0), 0); /* not a new key */
}
END_TEST

START_TEST(media_errors)
{
	uint8_t v[3000];

	fill(v, sizeof(v), 1);
	ck_assert_uint_eq(fh_store(&host, 1, "r", v, sizeof(v), 0), 0);
	ck_assert_uint_eq(fh_store(&host, 1, "s", v, sizeof(v), 0), 0); /* programs page 0 */
	env.fail_read_after = 0;
	ck_assert_uint_eq(fh_retrieve(&host, 1, "r", NULL, sizeof(v), NULL),
			  ST(KVC_SC_KV_UNRECOVERED));
	env.fail_read_after = -1;
	check_value("r", v, sizeof(v));
	/* Corrupt the programmed page: the checksum catches it. */
	env.media[100] ^= 0xff;
	ck_assert_uint_eq(fh_retrieve(&host, 1, "r", NULL, sizeof(v), NULL),
			  ST(KVC_SC_KV_UNRECOVERED));
}
END_TEST

static Suite *kvns_suite(void)
{
	Suite *s = suite_create("firmware/kvns");
	TCase *tc = tcase_create("kv");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, store_retrieve_sizes);
	tcase_add_test(tc, key_length_boundaries);
	tcase_add_test(tc, store_options);
	tcase_add_test(tc, missing_keys_and_delete);
	tcase_add_test(tc, retrieve_short_buffer_and_size_query);
	tcase_add_test(tc, list_sorted);
	tcase_add_test(tc, invalid_opcode_and_namespace);
	tcase_add_test(tc, prp_errors);
	tcase_add_test(tc, kv_commands_with_sgl);
	tcase_add_test(tc, stats_log_bytes_show_alignment_and_dead_records);
	tcase_add_test(tc, sgl_errors);
	tcase_add_test(tc, identify_sgls);
	tcase_add_loop_test(tc, bandslim_sizes, 0, 301);
	tcase_add_test(tc, bandslim_prp_hybrid);
	tcase_add_test(tc, bandslim_bad_sequences);
	tcase_add_test(tc, byteexpress_sizes_and_wrap);
	tcase_add_test(tc, byteexpress_rejected_head_consumes_chunks_regression);
	tcase_add_test(tc, byteexpress_chunks_past_tail_wait_regression);
	tcase_add_test(tc, byteexpress_burst_fetched_once_regression);
	tcase_add_test(tc, capacity_full);
	tcase_add_test(tc, max_keys);
	tcase_add_test(tc, media_errors);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(kvns_suite)
