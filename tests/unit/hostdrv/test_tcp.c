// SPDX-License-Identifier: MIT
/*
 * The NVMe/TCP initiator's wire formats against bytes written by hand from
 * the specification's tables (NVMe/TCP 1.0 3.6, NVMe-oF 1.1 Connect and
 * Property Get/Set, Base 2.0 SGL descriptors), and its PRP walk over local
 * host memory.  The exchanges with a real target are tests/integration.
 */
#include <errno.h>

#include "check_main.h"
#include "hostdrv/tcp.c"

static struct kvc_sqe blank_sqe(uint8_t opc, uint16_t cid)
{
	struct kvc_sqe s;

	memset(&s, 0, sizeof(s));
	s.opc = opc;
	kvc_sqe_set_cid(&s, cid);
	return s;
}

START_TEST(crc32c_check_value)
{
	/* The CRC-32C catalogue's check value, and RFC 3720 B.4's 32 zero bytes. */
	uint8_t z[32] = { 0 };

	ck_assert_uint_eq(tcp_crc32c("123456789", 9), 0xe3069283u);
	ck_assert_uint_eq(tcp_crc32c(z, sizeof(z)), 0x8a9136aau);
}
END_TEST

START_TEST(icreq_bytes)
{
	uint8_t p[128], want[128] = { 0x00, 0x00, 0x80, 0x00, 0x80, 0, 0, 0, 0, 0, 0x00, 0x03 };

	memset(p, 0xee, sizeof(p));
	tcp_put_icreq(p, true, true);
	ck_assert_mem_eq(p, want, 128);
	tcp_put_icreq(p, false, false);
	ck_assert_uint_eq(p[11], 0);
}
END_TEST

START_TEST(icresp_checks)
{
	uint8_t p[128] = { 0x01, 0x00, 0x80, 0x00, 0x80, 0, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00, 0x02 };
	bool hd, dd;
	uint32_t m;

	ck_assert_int_eq(tcp_parse_icresp(p, 128, &hd, &dd, &m), 0);
	ck_assert(hd && !dd);
	ck_assert_uint_eq(m, 0x20000);
	ck_assert_int_eq(tcp_parse_icresp(p, 127, &hd, &dd, &m), -EPROTO);
	p[10] = 1; /* CPDA: padding we do not do */
	ck_assert_int_eq(tcp_parse_icresp(p, 128, &hd, &dd, &m), -EPROTO);
	p[10] = 0;
	p[12] = 2; /* MAXH2CDATA not a multiple of 4 */
	ck_assert_int_eq(tcp_parse_icresp(p, 128, &hd, &dd, &m), -EPROTO);
	p[12] = 0;
	p[0] = 0x05;
	ck_assert_int_eq(tcp_parse_icresp(p, 128, &hd, &dd, &m), -EPROTO);
}
END_TEST

START_TEST(capsule_headers)
{
	struct kvc_sqe s = blank_sqe(0x01, 0x1234);
	uint8_t p[200];
	static const uint8_t no_data[8] = { 0x04, 0x00, 0x48, 0x00, 0x48, 0, 0, 0 };
	static const uint8_t data64[8] = { 0x04, 0x00, 0x48, 0x48, 0x88, 0, 0, 0 };
	static const uint8_t dig16[8] = { 0x04, 0x03, 0x48, 0x4c, 0x60, 0, 0, 0 };

	tcp_put_capsule_hdr(p, &s, false, false, 0);
	ck_assert_mem_eq(p, no_data, 8);
	ck_assert_uint_eq(p[8], 0x01);
	ck_assert_uint_eq(p[10], 0x34);
	ck_assert_uint_eq(p[11], 0x12);
	tcp_put_capsule_hdr(p, &s, false, true, 64); /* DDGST only with data */
	ck_assert_uint_eq(p[1], 0x02);
	tcp_put_capsule_hdr(p, &s, false, false, 64);
	ck_assert_mem_eq(p, data64, 8);
	tcp_put_capsule_hdr(p, &s, true, true, 16);
	ck_assert_mem_eq(p, dig16, 8);
	ck_assert_uint_eq(kvc_get_le32(p + 72), tcp_crc32c(p, 72));
	ck_assert_uint_eq(tcp_capsule_len(true, true, 16), 96);
	ck_assert_uint_eq(tcp_capsule_len(true, true, 0), 76);
}
END_TEST

START_TEST(h2c_header)
{
	uint8_t p[28];
	static const uint8_t want[24] = { 0x06, 0x04, 0x18, 0x18, 0x18, 0x10, 0,
					  0,	0x07, 0x00, 0x09, 0x00, 0x00, 0x10,
					  0,	0,    0x00, 0x10, 0,	0 };

	tcp_put_h2c_hdr(p, false, false, 7, 9, 4096, 4096, true);
	ck_assert_mem_eq(p, want, 24);
	tcp_put_h2c_hdr(p, true, true, 7, 9, 4096, 4096, false);
	ck_assert_uint_eq(p[1], 0x03);
	ck_assert_uint_eq(p[3], 28);
	ck_assert_uint_eq(kvc_get_le32(p + 4), 28 + 4096 + 4);
	ck_assert_uint_eq(kvc_get_le32(p + 24), tcp_crc32c(p, 24));
}
END_TEST

START_TEST(parse_response_r2t_data)
{
	uint8_t rsp[28] = { 0x05, 0x00, 0x18, 0x00, 0x18, 0, 0, 0, 0x78, 0x56, 0x34, 0x12 };
	uint8_t r2t[24] = { 0x09, 0x00, 0x18, 0x00, 0x18, 0, 0,	   0,	 0x05, 0x00,
			    0x01, 0x00, 0x00, 0x00, 0,	  0, 0x00, 0x00, 0x01, 0x00 };
	uint8_t dat[24 + 5 + 4] = { 0x07, 0x0c, 0x18, 0x18, 24 + 5, 0, 0, 0, 0x03, 0,
				    0,	  0,	0x10, 0,    0,	    0, 5, 0, 0,	   0 };
	struct tcp_pdu_view v;

	rsp[8 + 12] = 0x21; /* cid 21h */
	ck_assert_int_eq(tcp_parse_c2h(rsp, 24, false, false, &v), 0);
	ck_assert_uint_eq(v.type, KVC_TCP_CAPSULE_RESP);
	ck_assert_uint_eq(kvc_cqe_dw0(&v.cqe), 0x12345678);
	ck_assert_uint_eq(kvc_cqe_cid(&v.cqe), 0x21);
	/* PDUs follow each other unaligned in a receive buffer (UBSan: regression). */
	{
		uint8_t odd[25];

		memcpy(odd + 1, rsp, 24);
		ck_assert_int_eq(tcp_parse_c2h(odd + 1, 24, false, false, &v), 0);
		ck_assert_uint_eq(kvc_cqe_dw0(&v.cqe), 0x12345678);
	}
	rsp[2] = 0x10; /* HLEN other than 24 */
	ck_assert_int_eq(tcp_parse_c2h(rsp, 24, false, false, &v), -EPROTO);
	rsp[2] = 0x18;
	/* Header digest: present and right, then wrong. */
	rsp[1] = KVC_TCP_F_HDGSTF;
	rsp[4] = 28;
	kvc_put_le32(rsp + 24, tcp_crc32c(rsp, 24));
	ck_assert_int_eq(tcp_parse_c2h(rsp, 28, true, false, &v), 0);
	ck_assert_int_eq(tcp_parse_c2h(rsp, 28, false, false, &v), -EPROTO);
	rsp[27] ^= 1;
	ck_assert_int_eq(tcp_parse_c2h(rsp, 28, true, false, &v), -EBADMSG);

	ck_assert_int_eq(tcp_parse_c2h(r2t, 24, false, false, &v), 0);
	ck_assert_uint_eq(v.r2t.cccid, 5);
	ck_assert_uint_eq(v.r2t.ttag, 1);
	ck_assert_uint_eq(v.r2t.offset, 0);
	ck_assert_uint_eq(v.r2t.length, 0x10000);

	memcpy(dat + 24, "hello", 5);
	ck_assert_int_eq(tcp_parse_c2h(dat, 29, false, false, &v), 0);
	ck_assert_uint_eq(v.cccid, 3);
	ck_assert_uint_eq(v.offset, 16);
	ck_assert_uint_eq(v.dlen, 5);
	ck_assert(v.last && v.success);
	ck_assert_mem_eq(v.data, "hello", 5);
	dat[16] = 6; /* DATAL beyond the PDU */
	ck_assert_int_eq(tcp_parse_c2h(dat, 29, false, false, &v), -EPROTO);
	dat[16] = 5;
	dat[1] = KVC_TCP_F_DATA_SUCCESS; /* SUCCESS without LAST */
	ck_assert_int_eq(tcp_parse_c2h(dat, 29, false, false, &v), -EPROTO);
	/* Data digest. */
	dat[1] = KVC_TCP_F_DATA_LAST | KVC_TCP_F_DDGSTF;
	dat[4] = 33;
	kvc_put_le32(dat + 29, tcp_crc32c("hello", 5));
	ck_assert_int_eq(tcp_parse_c2h(dat, 33, false, true, &v), 0);
	dat[25] ^= 1;
	ck_assert_int_eq(tcp_parse_c2h(dat, 33, false, true, &v), -EBADMSG);
	/* PLEN in the header must be the PDU's. */
	ck_assert_int_eq(tcp_parse_c2h(dat, 32, false, true, &v), -EPROTO);
	/* A type a controller does not send. */
	r2t[0] = KVC_TCP_H2C_DATA;
	ck_assert_int_eq(tcp_parse_c2h(r2t, 24, false, false, &v), -EPROTO);
}
END_TEST

START_TEST(dptr_rewrite)
{
	struct kvc_sqe s = blank_sqe(0x02, 1);
	const uint8_t *b = kvc_sqe_cbytes(&s);
	uint64_t addr, prp2;
	uint32_t len;
	bool sgl;

	/* PRPs with the driver's length. */
	kvc_sqe_set_prp(&s, 0x5000, 0x6000);
	ck_assert_int_eq(tcp_map_dptr(&s, 5000, &sgl, &addr, &prp2, &len), 0);
	ck_assert(!sgl);
	ck_assert_uint_eq(addr, 0x5000);
	ck_assert_uint_eq(prp2, 0x6000);
	ck_assert_uint_eq(len, 5000);
	ck_assert_int_eq(tcp_map_dptr(&s, 0, &sgl, &addr, &prp2, &len), KVC_STATUS(0, 0x02));
	kvc_sqe_set_prp(&s, 0, 0);
	ck_assert_int_eq(tcp_map_dptr(&s, 0, &sgl, &addr, &prp2, &len), 0);
	ck_assert_uint_eq(len, 0);

	/* Transport SGL Data Block: 5Ah in byte 15, PSDT 01b. */
	s.flags = 0x03; /* FUSE bits kept as they were */
	tcp_set_dptr(&s, KVC_SGL_TRANSPORT_DATA_BLOCK, KVC_SGL_SUB_TRANSPORT, 0x1234);
	ck_assert_uint_eq(s.flags, 0x43);
	ck_assert_uint_eq(kvc_get_le64(b + 24), 0);
	ck_assert_uint_eq(kvc_get_le32(b + 32), 0x1234);
	ck_assert_uint_eq(b[39], 0x5a);
	/* In-capsule: Data Block, sub type Offset = 01h. */
	tcp_set_dptr(&s, KVC_SGL_DATA_BLOCK, KVC_SGL_SUB_OFFSET, 64);
	ck_assert_uint_eq(b[39], 0x01);
	ck_assert_uint_eq(kvc_get_le32(b + 32), 64);

	/* The driver's own SGL (address form) names a contiguous buffer. */
	s.flags = 0x40;
	kvc_sgl_put(kvc_sqe_bytes(&s) + 24,
		    &(struct kvc_sgl_desc){ .addr = 0x9000, .len = 77, .type = 0 });
	ck_assert_int_eq(tcp_map_dptr(&s, 0, &sgl, &addr, &prp2, &len), 0);
	ck_assert(sgl);
	ck_assert_uint_eq(addr, 0x9000);
	ck_assert_uint_eq(len, 77);
	kvc_sqe_bytes(&s)[39] = KVC_SGL_SEGMENT << 4;
	ck_assert_int_eq(tcp_map_dptr(&s, 0, &sgl, &addr, &prp2, &len), KVC_STATUS(0, 0x11));
	s.flags = 0x80; /* PSDT 10b */
	ck_assert_int_eq(tcp_map_dptr(&s, 0, &sgl, &addr, &prp2, &len), KVC_STATUS(0, 0x02));
}
END_TEST

START_TEST(fabrics_commands)
{
	struct kvc_sqe s;
	const uint8_t *b = kvc_sqe_cbytes(&s);
	uint8_t d[1024], id[16];

	tcp_connect_sqe(&s, 3, 63, 5000);
	ck_assert_uint_eq(b[0], 0x7f);
	ck_assert_uint_eq(b[1], 0x40);
	ck_assert_uint_eq(b[4], 0x01);
	ck_assert_uint_eq(b[39], 0x01);		       /* in-capsule */
	ck_assert_uint_eq(kvc_get_le32(b + 32), 1024); /* its length */
	ck_assert_uint_eq(kvc_get_le16(b + 42), 3);    /* QID */
	ck_assert_uint_eq(kvc_get_le16(b + 44), 63);   /* SQSIZE */
	ck_assert_uint_eq(kvc_get_le32(b + 48), 5000); /* KATO */
	memset(id, 0xab, sizeof(id));
	tcp_connect_data(d, id, 0xffff, "nqn.sub", "nqn.host");
	ck_assert_mem_eq(d, id, 16);
	ck_assert_uint_eq(kvc_get_le16(d + 16), 0xffff);
	ck_assert_str_eq((char *)d + 256, "nqn.sub");
	ck_assert_str_eq((char *)d + 512, "nqn.host");
	ck_assert_uint_eq(d[511], 0);

	tcp_prop_get_sqe(&s, KVC_REG_CAP, true);
	ck_assert_uint_eq(b[4], 0x04);
	ck_assert_uint_eq(b[40], 1);
	ck_assert_uint_eq(kvc_get_le32(b + 44), 0);
	ck_assert_uint_eq(b[39], 0x5a);
	tcp_prop_set_sqe(&s, KVC_REG_CC, false, 0x460001);
	ck_assert_uint_eq(b[4], 0x00);
	ck_assert_uint_eq(b[40], 0);
	ck_assert_uint_eq(kvc_get_le32(b + 44), 0x14);
	ck_assert_uint_eq(kvc_get_le64(b + 48), 0x460001);
}
END_TEST

START_TEST(device_strings)
{
	struct tcp_spec sp;

	ck_assert_int_eq(tcp_parse_spec("tcp://127.0.0.1:4420", &sp), 0);
	ck_assert_str_eq(sp.host, "127.0.0.1");
	ck_assert_str_eq(sp.port, "4420");
	ck_assert_str_eq(sp.nqn, TCP_DEFAULT_NQN);
	ck_assert(!sp.hdgst && !sp.ddgst);
	ck_assert_uint_eq(sp.kato_ms, TCP_DEFAULT_KATO_MS);
	ck_assert_int_eq(tcp_parse_spec("tcp://h:1/nqn.x:y?hdgst&ddgst&kato=300", &sp), 0);
	ck_assert_str_eq(sp.nqn, "nqn.x:y");
	ck_assert(sp.hdgst && sp.ddgst);
	ck_assert_uint_eq(sp.kato_ms, 300);
	ck_assert_int_eq(tcp_parse_spec("tcp://[::1]:4420/", &sp), 0);
	ck_assert_str_eq(sp.host, "::1");
	ck_assert_str_eq(sp.nqn, TCP_DEFAULT_NQN);
	ck_assert_int_eq(tcp_parse_spec("tcp://h", &sp), -EINVAL);
	ck_assert_int_eq(tcp_parse_spec("tcp://h:", &sp), -EINVAL);
	ck_assert_int_eq(tcp_parse_spec("tcp://h:0", &sp), -EINVAL);
	ck_assert_int_eq(tcp_parse_spec("tcp://h:70000", &sp), -EINVAL);
	ck_assert_int_eq(tcp_parse_spec("tcp://h:44x", &sp), -EINVAL);
	ck_assert_int_eq(tcp_parse_spec("tcp://:44", &sp), -EINVAL);
	ck_assert_int_eq(tcp_parse_spec("tcp://h:44?bogus", &sp), -EINVAL);
	ck_assert_int_eq(tcp_parse_spec("tcp://h:44?kato=x", &sp), -EINVAL);
	ck_assert_int_eq(tcp_parse_spec("shm://h:44", &sp), -EINVAL);
}
END_TEST

/* PRP1 mid-page, PRP2 a list that chains to a second list page. */
START_TEST(prp_walk)
{
	static struct nvkv_tcp t;
	const uint32_t pages = 600; /* > 512 list entries: one chain */
	struct tcp_cmd c = { .addr = 0x1000 + 100, .prp2 = 0x1000 * 700 };
	uint8_t *src = malloc(pages * NVKV_PAGE), *back = malloc(pages * NVKV_PAGE);
	uint64_t list = c.prp2, next = 0x1000 * 701;
	uint32_t i, e = 0;

	t.t.mem_size = 0x1000 * 1400;
	t.t.mem = calloc(1, t.t.mem_size);
	c.len = pages * NVKV_PAGE - 100 - 50;
	/* Data pages 1.. in reverse order from page 1389 down, to catch a linear walk. */
	for (i = 1; i < pages; i++) {
		if (e == 511 && pages - i > 1) {
			kvc_put_le64(t.t.mem + list + e * 8, next);
			list = next;
			e = 0;
		}
		kvc_put_le64(t.t.mem + list + e * 8, 0x1000ull * (1390 - i));
		e++;
	}
	for (i = 0; i < c.len; i++)
		src[i] = (uint8_t)(i * 7 + i / 4096);
	ck_assert_int_eq(tcp_hcopy(&t, &c, 0, src, c.len, true), 0);
	ck_assert_mem_eq(t.t.mem + c.addr, src, 4096 - 100);
	ck_assert_mem_eq(t.t.mem + 0x1000 * 1389, src + 4096 - 100, 4096);
	ck_assert_mem_eq(t.t.mem + 0x1000 * (1390 - 599), src + 4096 - 100 + 598 * 4096, 4096 - 50);
	ck_assert_int_eq(tcp_hcopy(&t, &c, 0, back, c.len, false), 0);
	ck_assert_mem_eq(back, src, c.len);
	/* An offset inside the chained list page. */
	ck_assert_int_eq(tcp_hcopy(&t, &c, 4096 * 550, back, 4096, false), 0);
	ck_assert_mem_eq(back, src + 4096 * 550, 4096);
	/* Past the buffer, and a list entry outside host memory. */
	ck_assert_int_eq(tcp_hcopy(&t, &c, c.len - 1, back, 2, false), -ERANGE);
	kvc_put_le64(t.t.mem + c.prp2, 0x1000ull * 5000);
	ck_assert_int_eq(tcp_hcopy(&t, &c, 4096, back, 10, false), -EFAULT);
	/* Two pages: PRP2 is the second page itself. */
	c.len = 4096;
	c.prp2 = 0x3000;
	memset(t.t.mem + 0x3000, 0x5a, 200);
	ck_assert_int_eq(tcp_hcopy(&t, &c, 4096 - 100, back, 100, false), 0);
	ck_assert_uint_eq(back[0], 0x5a);
	ck_assert_uint_eq(back[99], 0x5a);
	free(t.t.mem);
	free(src);
	free(back);
}
END_TEST

static Suite *tcp_suite(void)
{
	Suite *s = suite_create("hostdrv/tcp");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, crc32c_check_value);
	tcase_add_test(tc, icreq_bytes);
	tcase_add_test(tc, icresp_checks);
	tcase_add_test(tc, capsule_headers);
	tcase_add_test(tc, h2c_header);
	tcase_add_test(tc, parse_response_r2t_data);
	tcase_add_test(tc, dptr_rewrite);
	tcase_add_test(tc, fabrics_commands);
	tcase_add_test(tc, device_strings);
	tcase_add_test(tc, prp_walk);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(tcp_suite)
