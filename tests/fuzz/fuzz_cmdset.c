// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the host-side and device-side decoders of cmdset/ -- List
 * return data, the KV SQE, the BandSlim head and transfer commands, ByteExpress
 * chunks -- and what a host derives from Identify (the vendor area's PCIe link,
 * checked and then fed to the TLP cost model), the statistics log page, and
 * the status and opcode name tables.  The first input byte picks the decoder,
 * the rest is its input.  Beyond "no sanitizer report", every decoder that has
 * an encoder is checked for a round trip: what decodes cleanly re-encodes to
 * the same fields, and what the encoder produces decodes to what went in.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdset/cmdset.h"

#define CHECK(cond)                                                                          \
	do {                                                                                 \
		if (!(cond)) {                                                               \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, \
				#cond);                                                      \
			abort();                                                             \
		}                                                                            \
	} while (0)

/* A bounded little-endian reader over the fuzz input. */
struct in {
	const uint8_t *p;
	size_t n;
};

static uint8_t u8(struct in *in)
{
	uint8_t v = 0;

	if (in->n) {
		v = *in->p++;
		in->n--;
	}
	return v;
}

/* Little-endian; one call per statement keeps the byte order defined. */
static uint32_t u32(struct in *in)
{
	uint32_t v = u8(in);

	v |= (uint32_t)u8(in) << 8;
	v |= (uint32_t)u8(in) << 16;
	return v | (uint32_t)u8(in) << 24;
}

static void take(struct in *in, void *dst, size_t len)
{
	size_t n = len < in->n ? len : in->n;

	memset(dst, 0, len);
	memcpy(dst, in->p, n);
	in->p += n;
	in->n -= n;
}

/* List data: parse; a clean parse re-encodes to the same bytes (padding zero). */
static void list_data(const uint8_t *d, size_t n)
{
	struct kvc_list_reader r;
	struct kvc_list_writer w;
	uint32_t len = n > 1u << 20 ? 1u << 20 : (uint32_t)n, seen = 0;
	uint8_t *copy = malloc(len ? len : 1), *out = malloc(len ? len : 1);
	const uint8_t *key;
	uint8_t klen;
	int rc;

	CHECK(copy && out);
	memcpy(copy, d, len); /* exact size: ASan sees any read past the end */
	if (kvc_list_reader_init(&r, copy, len)) {
		CHECK(len < KVC_LIST_HDR_SIZE);
		goto out;
	}
	CHECK(kvc_list_writer_init(&w, out, len) == 0);
	while ((rc = kvc_list_reader_next(&r, &key, &klen)) == 1) {
		CHECK(klen >= 1 && klen <= KVC_KV_MAX_KEY);
		CHECK(key >= copy + KVC_LIST_HDR_SIZE + 2 && key + klen <= copy + len);
		CHECK(kvc_list_writer_add(&w, key, klen) == 0);
		seen++;
	}
	CHECK(rc == 0 || rc == -EBADMSG);
	CHECK(seen <= r.lr_count);
	if (rc == 0) {
		CHECK(seen == r.lr_count);
		CHECK(kvc_list_writer_finish(&w) == r.lr_off);
		/* Entries match the input except for padding the writer zeroes. */
		CHECK(!memcmp(out, copy, KVC_LIST_HDR_SIZE));
	}
out:
	free(copy);
	free(out);
}

/* KV SQE: decode, re-encode, decode again: same fields. */
static void kv_sqe(struct in *in)
{
	struct kvc_kv_cmd a, b;
	struct kvc_sqe sqe, re;

	take(in, &sqe, sizeof(sqe));
	if (kvc_kv_decode(&sqe, &a)) {
		CHECK(!kvc_kv_key_valid(a.opc, a.klen));
		return;
	}
	CHECK(a.klen <= KVC_KV_MAX_KEY);
	if (kvc_kv_encode(&re, &a))
		return; /* not a KV opcode: the device answers Invalid Opcode */
	CHECK(kvc_kv_decode(&re, &b) == 0);
	CHECK(a.opc == b.opc && a.klen == b.klen && a.opts == b.opts && a.cid == b.cid &&
	      a.nsid == b.nsid && a.size == b.size && !memcmp(a.key, b.key, a.klen));
}

/* BandSlim: arbitrary head and transfers through the firmware's reassembly
 * bounds, then an encoded sequence decodes to the value that went in. */
static void bandslim(struct in *in)
{
	enum { MAXV = 3 * KVC_BS_PAGE + 200 };
	static uint8_t val[MAXV], got[MAXV];
	struct kvc_bs_store s, h;
	struct kvc_sqe sqe;
	uint32_t i, cnt, off, prp, cap = u32(in) % (MAXV + 1);
	int n;

	take(in, &sqe, sizeof(sqe));
	n = kvc_bs_decode_head(&sqe, &h, got, cap);
	if (n >= 0) {
		CHECK((uint32_t)n <= cap &&
		      (uint32_t)n <= kvc_bs_head_cap(h.opc, h.klen, h.opts & KVC_BS_OPT_NARROW));
		CHECK(kvc_bs_decode_xfer(&sqe, h.opts & KVC_BS_OPT_NARROW, got,
					 cap - (uint32_t)n) <=
		      kvc_bs_xfer_cap(h.opts & KVC_BS_OPT_NARROW));
	}

	memset(&s, 0, sizeof(s));
	s.opc = u8(in) & 1 ? KVC_BS_STORE_PRP : KVC_BS_STORE;
	s.klen = (uint8_t)(1 + u8(in) % KVC_KV_MAX_KEY);
	s.opts = u8(in) & (KVC_BS_OPT_NARROW | 7);
	s.tag = (uint16_t)u32(in);
	s.size = u32(in) % (MAXV + 1);
	take(in, s.key, s.klen);
	for (i = 0; i < s.size; i++)
		val[i] = (uint8_t)(i * 131 + s.tag);
	cnt = kvc_bs_cmd_count(&s);
	prp = kvc_bs_prp_len(s.opc, s.size);
	CHECK(cnt >= 1 && prp <= s.size);
	memset(got, 0xa5, sizeof(got));
	for (i = 0, off = prp; i < cnt; i++) {
		CHECK(kvc_bs_encode(&sqe, &s, i, val, (uint16_t)i) == 0);
		if (i == 0) {
			n = kvc_bs_decode_head(&sqe, &h, got + prp, s.size - prp);
			CHECK(n >= 0 && h.size == s.size && h.klen == s.klen && h.tag == s.tag &&
			      h.opts == s.opts && !memcmp(h.key, s.key, s.klen));
			off += (uint32_t)n;
		} else {
			CHECK(sqe.opc == KVC_BS_XFER && kvc_bs_xfer_tag(&sqe) == s.tag);
			off += kvc_bs_decode_xfer(&sqe, s.opts & KVC_BS_OPT_NARROW, got + off,
						  s.size - off);
		}
	}
	CHECK(off == s.size);
	CHECK(!memcmp(got + prp, val + prp, s.size - prp));
	CHECK(kvc_bs_encode(&sqe, &s, cnt, val, 0) == -EINVAL);
}

/* ByteExpress: arbitrary chunk index and size within a value buffer; fill and
 * take are inverse. */
static void bexp(struct in *in)
{
	enum { MAXV = 64 * 70 };
	static uint8_t val[MAXV], got[MAXV];
	uint8_t slot[KVC_BX_CHUNK];
	struct kvc_kv_cmd c, d;
	struct kvc_sqe sqe;
	uint32_t size = u32(in) % (MAXV + 1), i, total = 0;

	take(in, &c, sizeof(c));
	c.klen %= KVC_KV_MAX_KEY + 2;
	if (kvc_bx_encode(&sqe, &c)) {
		CHECK(c.klen == 0 || c.klen > KVC_KV_MAX_KEY);
	} else {
		CHECK(sqe.opc == KVC_BX_STORE && kvc_kv_decode(&sqe, &d) == 0 && d.size == c.size &&
		      d.klen == c.klen);
	}
	take(in, val, size);
	for (i = 0; i < kvc_bx_chunks(size); i++) {
		kvc_bx_fill_chunk(slot, val, size, i);
		total += kvc_bx_take_chunk(slot, got, size, i);
	}
	CHECK(total == size && !memcmp(got, val, size));
}

/* What a host takes from Identify: the vendor area's link goes to the TLP
 * model only when kvc_pcie_link_valid() accepts it, as udrv_ctrl.c does. */
static void identify(struct in *in)
{
	static struct kvc_id_ctrl ic;
	static struct kvc_id_ns_kv ns;
	const struct kvc_id_nvkv *v = (const void *)ic.vs;
	struct kvc_pcie_link l;
	struct kvc_pcie_cost c;
	uint64_t addr, len;

	take(in, &ic.vs, sizeof(ic.vs) < 64 ? sizeof(ic.vs) : 64);
	take(in, &ns, 128);
	addr = (uint64_t)u32(in) << 32;
	addr |= u32(in);
	len = u32(in) % (256u << 10); /* the cost model walks TLPs: keep it quick */
	l.gen = v->pcie_gen;
	l.lanes = v->pcie_lanes;
	l.mps = kvc_get_le16(&v->pcie_mps);
	l.mrrs = kvc_get_le16(&v->pcie_mrrs);
	l.rcb = kvc_get_le16(&v->pcie_rcb);
	(void)kvc_get_le16(&ns.kvf[0].kvkml);
	(void)kvc_get_le32(&ns.kvf[0].kvvml);
	if (kvc_pcie_link_valid(&l))
		return;
	CHECK(kvc_pcie_bytes_per_sec(&l) > 0);
	c = kvc_pcie_mwr(&l, addr, len);
	CHECK(c.bytes[KVC_PCIE_UP] >= len && (len == 0 || c.tlps[KVC_PCIE_UP] >= 1));
	c = kvc_pcie_mrd(&l, addr, len);
	CHECK(c.bytes[KVC_PCIE_DOWN] >= len);
	c = kvc_pcie_host_mwr(&l, len);
	CHECK(c.bytes[KVC_PCIE_DOWN] >= len);
}

/* The statistics log page as the CLI prints it, and the name tables. */
static void stats(struct in *in)
{
	static struct kvc_stats_log log;
	FILE *f = fopen("/dev/null", "w");
	unsigned int i, set;

	CHECK(f);
	take(in, &log, sizeof(log));
	kvc_stats_print(f, &log, (int)(u8(in) & 1));
	fclose(f);
	for (i = 0; i < KVC_OP_NUM; i++)
		(void)kvc_lat_percentile(log.lat_hist[i], (double)(u8(in) % 101));
	CHECK(kvc_status_str((uint16_t)u32(in)) != NULL);
	set = u8(in) % 3;
	CHECK(kvc_opcode_str((enum kvc_cmd_set)set, u8(in)) != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data + (size > 0), size - (size > 0) };

	if (!size)
		return 0;
	switch (data[0] % 6) {
	case 0:
		list_data(in.p, in.n);
		break;
	case 1:
		kv_sqe(&in);
		break;
	case 2:
		bandslim(&in);
		break;
	case 3:
		bexp(&in);
		break;
	case 4:
		identify(&in);
		break;
	default:
		stats(&in);
		break;
	}
	return 0;
}
