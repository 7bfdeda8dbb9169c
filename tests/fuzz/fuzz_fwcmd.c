// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the firmware command path, driven through the fake HAL of
 * the unit tests (tests/unit/firmware/fakehost.[ch]) exactly as a host drives
 * it -- SQ slots, doorbells, CQ entries -- with fw_ctrl_poll() in between.
 *
 * The input is a small program: a configuration byte, then operations, each
 * an opcode byte and its operands: raw 64-byte SQEs (admin or I/O), KV
 * commands built from operands (valid opcodes and NSIDs, keys from a small
 * dictionary, PRP buffers, sometimes bad fields) so that coverage goes deep,
 * BandSlim head + transfer sequences (whole, cut short, or with a wrong tag),
 * ByteExpress heads + chunks, I/O queue create and delete, tail doorbells,
 * doorbell writes with arbitrary values, CC writes, controller reset, polls,
 * and bursts of large Stores that fill the log so that GC runs.
 *
 * Checked after every poll and at the end, besides "no sanitizer report":
 *   - every CQE on the harness's queues has a sane status field (SCT generic,
 *     command specific or media; CRD 0; M 0; no success with DNR) and a
 *     correct phase (the device never fills the CQ: at most size - 1 new
 *     entries between two head doorbells);
 *   - while the host has behaved (no raw admin SQE, no arbitrary doorbell or
 *     CC value), each CQE names an SQ bound to its CQ, an SQ head inside the
 *     window of submitted slots, and the CID of a command submitted on that
 *     SQ and not yet completed (each command completes at most once); after
 *     the final drain every command the harness built has completed (unless
 *     raw SQEs, which may swallow the slots after them as ByteExpress chunks,
 *     were submitted);
 *   - a canary key stored and flushed before the program is intact (a second
 *     controller retrieves its exact bytes) unless the input contains the
 *     canary key's bytes, i.e. could legitimately have overwritten or deleted
 *     it.  The biased generator never produces it.
 *
 * ByteExpress chunks carry CIDs from a reserved range (0xfc00-0xffff).  A CQE
 * with such a CID means a chunk ran as a command (issue 8 defect 2: a rejected
 * head left its chunks in the SQ): a failure.
 * NVKV_FUZZ_TRACE=1 prints every CQE the harness reaps (to read a crash input).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdset/cmdset.h"
#include "firmware/fw.h"
#include "firmware/fakehost.h"
#include "fuzzhost.h"

#define NQ 5 /* admin + max_ioq (4) I/O queues */
#define ADMIN_QSIZE 16
#define MAX_QSIZE 64
#define QMEM 0x100000ull /* queue rings: SQ at QMEM + q * 0x10000, CQ 0x8000 after */
#define DATA 0x200000ull /* data buffers: 256 pages */
#define DATA_PAGES 256
#define CHUNK_CID 0xfc00u /* CIDs of ByteExpress chunks */
#define MAX_OUT 1024	  /* commands tracked per SQ */

static const char canary_key[] = "~canary~~canary~";
#define CANARY_LEN 300

/* A submitted command the model expects a completion for. */
struct out {
	uint16_t cid;
	bool must; /* built by the harness: must complete by the end */
};

struct mq {
	bool valid;    /* as far as the host knows */
	bool sq_gone;  /* SQ deleted, CQ still there */
	uint16_t cqid; /* for an SQ */
	uint32_t hd;   /* SQ head reported by the last CQE */
	uint32_t rung; /* last tail written to the doorbell */
	uint32_t nout;
	struct out out[MAX_OUT];
};

struct fz {
	struct fh_env env;
	struct fh_host h;
	struct fw_subsys *s;
	struct fw_config cfg;
	struct mq q[NQ];
	const uint8_t *data, *p;
	size_t n;
	bool chaos;	   /* the host broke the rules: relax CID and head checks */
	bool raw_sqe;	   /* slots the model cannot classify were submitted */
	bool chunk_ran;	   /* a ByteExpress chunk completed as a command */
	bool trace;	   /* NVKV_FUZZ_TRACE=1: print every CQE */
	uint16_t next_cid; /* below CHUNK_CID */
	bool waiting;	   /* admin_sync(): the CQE of wait_cid not seen yet */
	uint16_t wait_cid, wait_status;
	uint16_t next_chunk;
};

static struct fz fz; /* large: keep it off the stack */

/* ---- input --------------------------------------------------------------------- */

static uint8_t u8(void)
{
	uint8_t v = 0;

	if (fz.n) {
		v = *fz.p++;
		fz.n--;
	}
	return v;
}

/* Little-endian; one call per statement keeps the byte order defined. */
static uint16_t u16(void)
{
	uint16_t lo = u8();

	return (uint16_t)(lo | u8() << 8);
}

static uint32_t u32(void)
{
	uint32_t lo = u16();

	return lo | (uint32_t)u16() << 16;
}

static void take(void *dst, size_t len)
{
	size_t k = len < fz.n ? len : fz.n;

	memset(dst, 0, len);
	memcpy(dst, fz.p, k);
	fz.p += k;
	fz.n -= k;
}

/* ---- queues and the completion model ------------------------------------------------- */

static uint64_t sq_base(unsigned int q)
{
	return QMEM + q * 0x10000ull;
}

static uint64_t cq_base(unsigned int q)
{
	return sq_base(q) + 0x8000;
}

static uint16_t new_cid(void)
{
	uint16_t cid = fz.next_cid;

	fz.next_cid = (uint16_t)((fz.next_cid + 1) % CHUNK_CID);
	return cid;
}

/* Slots the host may still write in SQ @q without overrunning the device. */
static uint32_t sq_room(unsigned int q)
{
	uint32_t size = fz.h.q[q].size, used = (fz.h.q[q].sqt + size - fz.q[q].hd) % size;

	return size - 1 - used;
}

/* Whether @q exists and has room for @slots more entries. */
static bool can_put(unsigned int q, uint32_t slots)
{
	return q < NQ && fz.q[q].valid && sq_room(q) >= slots;
}

static void track(unsigned int q, uint16_t cid, bool must)
{
	struct mq *m = &fz.q[q];

	if (m->nout == MAX_OUT) {
		memmove(&m->out[0], &m->out[1], (MAX_OUT - 1) * sizeof(m->out[0]));
		m->nout--;
		m->out[0].must = false;
	}
	m->out[m->nout++] = (struct out){ cid, must };
}

static void put(unsigned int q, struct kvc_sqe *sqe, bool must)
{
	fh_put(&fz.h, (uint16_t)q, sqe, false);
	track(q, kvc_sqe_cid(sqe), must);
}

static void ring(unsigned int q)
{
	fh_ring(&fz.h, (uint16_t)q);
	fz.q[q].rung = fz.h.q[q].sqt;
}

static void forget_must(unsigned int q)
{
	uint32_t i;

	for (i = 0; i < fz.q[q].nout; i++)
		fz.q[q].out[i].must = false;
}

static void status_sane(uint16_t st)
{
	uint8_t sct = KVC_STATUS_SCT(st);

	CHECK(sct == KVC_SCT_GENERIC || sct == KVC_SCT_CMD_SPECIFIC || sct == KVC_SCT_MEDIA);
	CHECK(KVC_STATUS_CRD(st) == 0 && !(st & KVC_STATUS_MORE));
	CHECK(KVC_STATUS_CODE(st) != 0 || !(st & KVC_STATUS_DNR));
}

/* Match a CQE of CQ @cq against the SQs bound to it. */
static void match(unsigned int cq, const struct kvc_cqe *c)
{
	uint16_t sqid = kvc_get_le16(&c->sqid), sqhd = kvc_get_le16(&c->sqhd);
	uint16_t cid = kvc_cqe_cid(c);
	struct mq *m;
	uint32_t i, size;

	/* After a raw SQE or a head announcing more chunks than were sent, the
	 * device legitimately takes later slots as chunks and the chunks of a
	 * later frame may then run as commands. */
	if (cid >= CHUNK_CID && !fz.chaos && !fz.raw_sqe) {
		fz.chunk_ran = true;
		fprintf(stderr, "a ByteExpress chunk completed as a command (cid %#x)\n", cid);
		abort();
	}
	if (fz.chaos)
		return;
	CHECK(sqid < NQ);
	m = &fz.q[sqid];
	CHECK(m->valid || m->sq_gone);
	CHECK(m->cqid == cq);
	if (m->valid) {
		size = fz.h.q[sqid].size;
		CHECK(sqhd < size);
		CHECK((sqhd + size - m->hd) % size <= (m->rung + size - m->hd) % size);
		m->hd = sqhd;
	}
	if (cid >= CHUNK_CID)
		return;
	for (i = 0; i < m->nout; i++)
		if (m->out[i].cid == cid)
			break;
	CHECK(i < m->nout); /* a submitted command, completed once */
	memmove(&m->out[i], &m->out[i + 1], (m->nout - i - 1) * sizeof(m->out[0]));
	m->nout--;
}

/* Consume every new CQE of @q, then tell the device (one head doorbell). */
static void reap(unsigned int q)
{
	struct fh_host *h = &fz.h;
	uint32_t got = 0;

	if (!fz.q[q].valid && !fz.q[q].sq_gone)
		return;
	for (;;) {
		struct kvc_cqe *c = (void *)(h->mem + h->q[q].cq + (uint64_t)h->q[q].cqh * 16);

		if (kvc_cqe_phase(c) != h->q[q].phase)
			break;
		if (fz.trace)
			fprintf(stderr, "cqe: cq %u sq %u cid %#x sqhd %u status %#x dw0 %u\n", q,
				kvc_get_le16(&c->sqid), kvc_cqe_cid(c), kvc_get_le16(&c->sqhd),
				kvc_cqe_status(c), kvc_cqe_dw0(c));
		status_sane(kvc_cqe_status(c));
		if (q == 0 && fz.waiting && kvc_cqe_cid(c) == fz.wait_cid) {
			fz.waiting = false;
			fz.wait_status = kvc_cqe_status(c);
		}
		match(q, c);
		got++;
		if (!fz.chaos)
			CHECK(got < h->q[q].size); /* the device never fills the CQ */
		else if (got >= h->q[q].size)
			break;
		if (++h->q[q].cqh == h->q[q].size) {
			h->q[q].cqh = 0;
			h->q[q].phase = !h->q[q].phase;
		}
	}
	if (got)
		h->bar[kvc_cq_head_db((uint16_t)q, 0) / 4] = h->q[q].cqh;
}

static void poll(unsigned int times)
{
	unsigned int i, q;

	for (i = 0; i < times; i++)
		fw_ctrl_poll(fz.h.ctrl);
	for (q = 0; q < NQ; q++)
		reap(q);
}

/* Submit on the admin queue and poll until it completes; its status, or
 * 0xffff when it does not complete. */
static uint16_t admin_sync(struct kvc_sqe *sqe)
{
	int i;

	if (!can_put(0, 1))
		return 0xffff;
	fz.wait_cid = new_cid();
	fz.waiting = true;
	kvc_sqe_set_cid(sqe, fz.wait_cid);
	put(0, sqe, true);
	ring(0);
	for (i = 0; i < 8 && fz.waiting; i++)
		poll(1); /* reap() takes the status when the CQE shows up */
	if (fz.waiting) {
		fz.waiting = false;
		return 0xffff;
	}
	return fz.wait_status;
}

static void reset_model(void)
{
	unsigned int q;

	for (q = 0; q < NQ; q++)
		memset(&fz.q[q], 0, sizeof(fz.q[q]));
}

static void enable(void)
{
	struct fh_host *h = &fz.h;
	int i;

	reset_model();
	memset(h->mem + sq_base(0), 0, ADMIN_QSIZE * KVC_SQE_SIZE);
	memset(h->mem + cq_base(0), 0, ADMIN_QSIZE * KVC_CQE_SIZE);
	h->q[0].sq = sq_base(0);
	h->q[0].cq = cq_base(0);
	h->q[0].size = ADMIN_QSIZE;
	h->q[0].sqt = h->q[0].cqh = 0;
	h->q[0].phase = true;
	h->bar[KVC_REG_AQA / 4] = KVC_AQA(ADMIN_QSIZE, ADMIN_QSIZE);
	h->bar[KVC_REG_ASQ / 4] = (uint32_t)sq_base(0);
	h->bar[KVC_REG_ASQ / 4 + 1] = 0;
	h->bar[KVC_REG_ACQ / 4] = (uint32_t)cq_base(0);
	h->bar[KVC_REG_ACQ / 4 + 1] = 0;
	h->bar[KVC_REG_CC / 4] = KVC_CC_EN | KVC_CC_CSS_ALL << KVC_CC_CSS_SHIFT |
				 6 << KVC_CC_IOSQES_SHIFT | 4 << KVC_CC_IOCQES_SHIFT;
	for (i = 0; i < 4 && !(h->bar[KVC_REG_CSTS / 4] & KVC_CSTS_RDY); i++)
		fw_ctrl_poll(h->ctrl);
	if (h->bar[KVC_REG_CSTS / 4] & KVC_CSTS_RDY)
		fz.q[0].valid = true;
}

static void create_pair(unsigned int q, uint32_t size);

static void reset(void)
{
	struct fh_host *h = &fz.h;

	h->bar[KVC_REG_CC / 4] = 0;
	fw_ctrl_poll(h->ctrl);
	reset_model();
	enable();
	create_pair(1, 32);
	create_pair(2, 32);
}

/* Create I/O queue pair @q (CQ @q, SQ @q bound to it) of @size entries. */
static void create_pair(unsigned int q, uint32_t size)
{
	struct fh_host *h = &fz.h;
	struct kvc_sqe sqe;

	if (fz.q[q].valid || fz.q[q].sq_gone)
		return;
	memset(h->mem + sq_base(q), 0, MAX_QSIZE * KVC_SQE_SIZE);
	memset(h->mem + cq_base(q), 0, MAX_QSIZE * KVC_CQE_SIZE);
	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = KVC_ADM_CREATE_CQ;
	kvc_sqe_set_prp(&sqe, cq_base(q), 0);
	kvc_sqe_set_dw(&sqe, 10, (size - 1) << 16 | q);
	kvc_sqe_set_dw(&sqe, 11, KVC_CREATE_CQ_PC | KVC_CREATE_CQ_IEN);
	if (admin_sync(&sqe))
		return;
	h->q[q].sq = sq_base(q);
	h->q[q].cq = cq_base(q);
	h->q[q].size = size;
	h->q[q].sqt = h->q[q].cqh = 0;
	h->q[q].phase = true;
	fz.q[q] = (struct mq){ .sq_gone = true, .cqid = (uint16_t)q };
	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = KVC_ADM_CREATE_SQ;
	kvc_sqe_set_prp(&sqe, sq_base(q), 0);
	kvc_sqe_set_dw(&sqe, 10, (size - 1) << 16 | q);
	kvc_sqe_set_dw(&sqe, 11, (uint32_t)q << 16 | KVC_CREATE_SQ_PC);
	if (admin_sync(&sqe))
		return; /* a CQ without its SQ: still reaped */
	fz.q[q].valid = true;
	fz.q[q].sq_gone = false;
}

static void delete_pair(unsigned int q)
{
	struct kvc_sqe sqe;

	if (!fz.q[q].valid && !fz.q[q].sq_gone)
		return;
	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = KVC_ADM_DELETE_SQ;
	kvc_sqe_set_dw(&sqe, 10, q);
	if (fz.q[q].valid && admin_sync(&sqe) == 0) {
		fz.q[q].valid = false;
		fz.q[q].sq_gone = true;
		forget_must(q); /* unfetched commands are dropped */
	}
	if (!fz.q[q].sq_gone)
		return;
	poll(2); /* fetched commands complete before the CQ goes */
	sqe.opc = KVC_ADM_DELETE_CQ;
	if (admin_sync(&sqe) == 0)
		memset(&fz.q[q], 0, sizeof(fz.q[q]));
}

/* ---- operations ------------------------------------------------------------------ */

/* An I/O queue the host knows, or NQ when there is none. */
static unsigned int pick_ioq(uint8_t sel)
{
	unsigned int i, q;

	for (i = 0; i < NQ - 1; i++) {
		q = 1 + (sel + i) % (NQ - 1);
		if (fz.q[q].valid)
			return q;
	}
	return NQ;
}

static void dict_key(uint8_t sel, uint8_t *key, uint8_t *klen)
{
	uint8_t i;

	*klen = (uint8_t)(1 + sel % KVC_KV_MAX_KEY);
	for (i = 0; i < *klen; i++)
		key[i] = (uint8_t)('A' + (sel / 16 + i) % 8);
}

static void fill_value(uint8_t *dst, uint32_t len, uint8_t seed)
{
	uint32_t i;

	for (i = 0; i < len; i++)
		dst[i] = (uint8_t)(seed + i * 7);
}

static void op_raw(bool admin)
{
	struct kvc_sqe sqe;
	unsigned int q = admin ? 0 : pick_ioq(u8());

	take(&sqe, sizeof(sqe));
	if (!can_put(q, 1))
		return;
	/* Arbitrary bytes, but not a CID of the chunk range: a CQE there must mean
	 * that a ByteExpress chunk ran as a command. */
	kvc_sqe_set_cid(&sqe, (uint16_t)(kvc_sqe_cid(&sqe) & 0x7fff));
	if (q == 0)
		fz.chaos = true; /* may delete or re-create the harness's queues */
	fz.raw_sqe = true;
	put(q, &sqe, false);
}

/* A KV command with valid opcode and NSID (mostly), a dictionary key and a
 * buffer in host memory; flags in the first operand break one field. */
static void op_kv(void)
{
	static const uint8_t opcs[] = { KVC_KV_STORE,  KVC_KV_RETRIEVE, KVC_KV_LIST,
					KVC_KV_DELETE, KVC_KV_EXIST,	KVC_NVM_FLUSH };
	uint8_t f = u8(), sel = u8(), page = u8(), q = (uint8_t)pick_ioq(u8());
	uint32_t len = u16() % 8192;
	uint64_t buf = DATA + (uint64_t)(page % (DATA_PAGES - 2)) * 4096;
	struct kvc_kv_cmd c;
	struct kvc_sqe sqe;

	memset(&c, 0, sizeof(c));
	c.opc = opcs[f % sizeof(opcs)];
	c.nsid = f & 0x40 ? u32() : 1;
	dict_key(sel, c.key, &c.klen);
	if (f & 0x80)
		c.klen = u8() % 20; /* invalid lengths too */
	c.opts = f & 0x20 ? u8() : 0;
	c.size = len;
	c.prp1 = buf + (f & 0x10 ? u16() % 4096 : 0);
	c.prp2 = buf + 4096;
	if (f & 0x08) {
		c.prp1 = (uint64_t)u32() << 12;
		c.prp1 |= u16();
		c.prp2 = (uint64_t)u32() << 12;
	}
	if (c.opc == KVC_KV_STORE)
		fill_value(fz.h.mem + buf, len, sel);
	if (!can_put(q, 1))
		return;
	memset(&sqe, 0, sizeof(sqe));
	if (c.opc == KVC_NVM_FLUSH) {
		sqe.opc = KVC_NVM_FLUSH;
		kvc_sqe_set_nsid(&sqe, f & 0x40 ? 0xffffffffu : 1);
	} else if (kvc_kv_encode(&sqe, &c)) { /* a key length the encoder refuses */
		uint8_t bad = c.klen;

		c.klen = 1;
		CHECK(kvc_kv_encode(&sqe, &c) == 0);
		kvc_sqe_bytes(&sqe)[KVC_KV_OFF_KL] = bad;
	}
	kvc_sqe_set_cid(&sqe, new_cid());
	put(q, &sqe, true);
}

static void op_bandslim(void)
{
	static uint8_t val[KVC_BS_PAGE + 1024];
	uint8_t f = u8(), sel = u8(), q = (uint8_t)pick_ioq(u8());
	struct kvc_bs_store s;
	struct kvc_sqe sqe;
	uint32_t i, cnt, send;

	memset(&s, 0, sizeof(s));
	s.opc = f & 1 ? KVC_BS_STORE_PRP : KVC_BS_STORE;
	s.opts = (uint8_t)((f & 2 ? KVC_BS_OPT_NARROW : 0) | (f >> 5 & 3));
	s.tag = u16();
	s.nsid = f & 4 ? 2 : 1;
	s.size = u16() % (s.opc == KVC_BS_STORE_PRP ? sizeof(val) : 1200);
	dict_key(sel, s.key, &s.klen);
	s.prp1 = DATA;
	s.prp2 = DATA + 4096;
	fill_value(val, s.size, sel);
	memcpy(fz.h.mem + DATA, val, s.size < KVC_BS_PAGE ? s.size : KVC_BS_PAGE);
	cnt = kvc_bs_cmd_count(&s);
	send = f & 8 ? 1 + u8() % cnt : cnt; /* cut short */
	if (!can_put(q, send))
		return;
	for (i = 0; i < send; i++) {
		CHECK(kvc_bs_encode(&sqe, &s, i, val, new_cid()) == 0);
		if (i && (f & 16) && i == send - 1)
			kvc_put_le16(kvc_sqe_bytes(&sqe) + KVC_BS_OFF_XFER_TAG,
				     (uint16_t)(s.tag + 1));
		put(q, &sqe, true);
	}
}

static void op_bexp(void)
{
	uint8_t f = u8(), sel = u8(), q = (uint8_t)pick_ioq(u8());
	uint32_t size = u16() % 3000, chunks, send, i;
	struct kvc_kv_cmd c;
	struct kvc_sqe sqe;
	uint8_t slot[KVC_BX_CHUNK];

	memset(&c, 0, sizeof(c));
	c.nsid = f & 4 ? 2 : 1;
	c.size = size;
	c.opts = f >> 5 & 3;
	dict_key(sel, c.key, &c.klen);
	kvc_bx_encode(&sqe, &c);
	if (f & 8)
		kvc_sqe_bytes(&sqe)[KVC_KV_OFF_KL] = (uint8_t)(f & 1 ? 0 : 17);
	chunks = kvc_bx_chunks(size);
	send = f & 16 ? u8() % (chunks + 1) : chunks; /* fewer chunks than announced */
	if (!can_put(q, 1 + send))
		return;
	if (send < chunks)
		fz.raw_sqe = true; /* the device takes later commands as its chunks */
	kvc_sqe_set_cid(&sqe, new_cid());
	put(q, &sqe, true);
	for (i = 0; i < send; i++) {
		take(slot, sizeof(slot)); /* chunk bytes from the input: shaped like commands */
		kvc_put_le16(slot + 2, (uint16_t)(CHUNK_CID | (fz.next_chunk++ & 0x3ff)));
		fh_put_raw(&fz.h, q, slot);
	}
	if (f & 2)
		ring(q); /* head and chunks under one doorbell */
}

/* Up to 32 Stores of 1-8 KiB to consecutive dictionary keys: few input
 * bytes that fill the log, so that GC runs (and moves the canary). */
static void op_burst(void)
{
	uint8_t n = (uint8_t)(1 + u8() % 32), sel = u8();
	uint32_t len = 1024 + u16() % 7168;
	unsigned int q = pick_ioq(u8()), i;
	struct kvc_kv_cmd c;
	struct kvc_sqe sqe;

	for (i = 0; i < n && q < NQ; i++) {
		uint64_t buf = DATA + (uint64_t)((sel + i) % 120) * 2 * 4096;

		memset(&c, 0, sizeof(c));
		c.opc = KVC_KV_STORE;
		c.nsid = 1;
		dict_key((uint8_t)(sel + i), c.key, &c.klen);
		c.size = len;
		c.prp1 = buf;
		c.prp2 = buf + 4096;
		fill_value(fz.h.mem + buf, len, (uint8_t)(sel + i));
		CHECK(kvc_kv_encode(&sqe, &c) == 0);
		kvc_sqe_set_cid(&sqe, new_cid());
		if (!can_put(q, 1)) {
			ring(q);
			poll(2);
			if (!can_put(q, 1))
				return;
		}
		put(q, &sqe, true);
	}
	if (q < NQ) {
		ring(q);
		poll(2);
	}
}

/* Admin commands the host is allowed to send, with a buffer. */
static void op_admin(void)
{
	static const uint8_t opcs[] = { KVC_ADM_IDENTIFY,     KVC_ADM_GET_LOG_PAGE,
					KVC_ADM_SET_FEATURES, KVC_ADM_GET_FEATURES,
					KVC_ADM_ABORT,	      KVC_ADM_ASYNC_EVENT,
					KVC_ADM_KEEP_ALIVE };
	uint8_t f = u8();
	struct kvc_sqe sqe;
	uint32_t i;

	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = opcs[f % sizeof(opcs)];
	kvc_sqe_set_nsid(&sqe, f & 0x80 ? u32() : 1);
	kvc_sqe_set_prp(&sqe, DATA + 16 * 4096, DATA + 17 * 4096);
	for (i = 10; i < 16; i++)
		kvc_sqe_set_dw(&sqe, i, i < 12 || (f & 0x40) ? u32() : 0);
	if (sqe.opc == KVC_ADM_GET_LOG_PAGE) /* at most 64 KiB: the data area has room */
		kvc_sqe_set_dw(&sqe, 10, kvc_sqe_dw(&sqe, 10) & 0x0fffffffu);
	if (sqe.opc == KVC_ADM_SET_FEATURES && (kvc_sqe_dw(&sqe, 10) & 0xff) == KVC_FEAT_NUM_QUEUES)
		return; /* would change the number of queues under the model */
	if (!can_put(0, 1))
		return;
	kvc_sqe_set_cid(&sqe, new_cid());
	put(0, &sqe, sqe.opc != KVC_ADM_ASYNC_EVENT);
}

static void op_doorbell_raw(void)
{
	uint8_t sel = u8();
	uint32_t v = u8() & 1 ? u32() : u8();
	uint16_t qid = (uint16_t)(sel / 2 % (NQ + 1));
	uint32_t off = sel & 1 ? kvc_cq_head_db(qid, 0) : kvc_sq_tail_db(qid, 0);

	fz.chaos = true;
	fz.h.bar[off / 4] = v;
}

static void op_cc_raw(void)
{
	fz.chaos = true;
	fz.h.bar[KVC_REG_CC / 4] = u32();
}

static void run(void)
{
	while (fz.n) {
		uint8_t op = u8();

		if (fz.trace)
			fprintf(stderr, "op %u at byte %zu%s; csts %#x; last log: %s\n", op % 15,
				(size_t)(fz.p - fz.data) - 1, fz.chaos ? " (chaos)" : "",
				fz.h.bar[KVC_REG_CSTS / 4], fz.env.last_log);

		switch (op % 15) {
		case 0:
			op_raw(false);
			break;
		case 1:
			op_raw(true);
			break;
		case 2:
		case 3:
			op_kv();
			break;
		case 4:
			op_bandslim();
			break;
		case 5:
			op_bexp();
			break;
		case 6: {
			unsigned int q = pick_ioq(u8());

			if (q < NQ)
				ring(q);
			break;
		}
		case 7:
			ring(0);
			break;
		case 8:
			poll(1 + u8() % 4);
			break;
		case 9:
			op_admin();
			break;
		case 10: {
			uint8_t q = (uint8_t)(1 + u8() % (NQ - 1));

			if (u8() & 1)
				delete_pair(q);
			else
				create_pair(q, 2 + u8() % (MAX_QSIZE - 1));
			break;
		}
		case 11:
			op_doorbell_raw();
			break;
		case 12:
			op_cc_raw();
			break;
		case 13:
			reset();
			break;
		default:
			op_burst();
			break;
		}
	}
}

/* Ring everything, poll until quiet; without raw slots every harness command
 * must have completed. */
static void drain(void)
{
	unsigned int q, i;

	for (q = 0; q < NQ; q++)
		if (fz.q[q].valid)
			ring(q);
	for (i = 0; i < 64; i++) {
		int work = fw_ctrl_poll(fz.h.ctrl);

		for (q = 0; q < NQ; q++)
			reap(q);
		if (!work && !fw_ctrl_busy(fz.h.ctrl))
			break;
	}
	if (fz.chaos || fz.raw_sqe || fz.chunk_ran)
		return;
	for (q = 0; q < NQ; q++)
		for (i = 0; i < fz.q[q].nout; i++)
			if (fz.q[q].out[i].must) {
				fprintf(stderr, "command cid %u on SQ %u never completed\n",
					fz.q[q].out[i].cid, q);
				abort();
			}
}

/* ---- canary ------------------------------------------------------------------------ */

static void canary_value(uint8_t *v)
{
	unsigned int i;

	for (i = 0; i < CANARY_LEN; i++)
		v[i] = (uint8_t)(i * 13 + 5);
}

static void canary_store(void)
{
	uint8_t v[CANARY_LEN];

	canary_value(v);
	CHECK(fh_store(&fz.h, 1, canary_key, v, CANARY_LEN, 0) == 0);
	CHECK(fw_subsys_flush(fz.s) == 0);
}

/* A second controller on the same subsystem reads the canary back. */
static void canary_check(void)
{
	static struct fh_host h2;
	static bool h2_ready;
	uint8_t want[CANARY_LEN], got[CANARY_LEN + 64];
	uint32_t vlen = 0;
	uint16_t st;

	canary_value(want);
	fz_host_attach(&h2, &fz.env, fz.s, &h2_ready);
	CHECK(fh_enable(&h2, 8) & KVC_CSTS_RDY);
	CHECK(fh_create_ioq(&h2, 1, 8) == 0);
	memset(got, 0, sizeof(got));
	st = fh_retrieve(&h2, 1, canary_key, got, sizeof(got), &vlen);
	if (st || vlen != CANARY_LEN || memcmp(got, want, CANARY_LEN))
		fprintf(stderr,
			"canary: status %#x, %u bytes, %s; NAND programs %llu erases %llu; "
			"device log: %s\n",
			st, vlen, memcmp(got, want, CANARY_LEN) ? "wrong bytes" : "right bytes",
			(unsigned long long)fz.env.programs, (unsigned long long)fz.env.erases,
			fz.env.last_log);
	CHECK(st == 0);
	CHECK(vlen == CANARY_LEN && !memcmp(got, want, CANARY_LEN));
	fw_ctrl_destroy(h2.ctrl);
}

/* ---- entry --------------------------------------------------------------------------- */

static void setup(uint8_t conf)
{
	static bool h_ready;

	fh_small_config(&fz.cfg);
	fz.cfg.geo.pages_per_block = 4; /* 512 KiB of NAND: GC runs early */
	fz.cfg.max_value = 16 * 1024;
	fz.cfg.vwc = conf & 1;
	fz.cfg.dma_gran = conf & 2 ? FW_DMA_PAGE : FW_DMA_EXACT;
	fz.cfg.backfill = conf & 4;
	fz.cfg.arb_burst = 1u << (conf >> 3 & 3);
	CHECK(fw_config_check(&fz.cfg) == NULL);
	fh_env_init(&fz.env, &fz.cfg, true);
	CHECK(fw_subsys_create(&fz.cfg, &fz.env.hal, &fz.s) == 0);
	fz_host_attach(&fz.h, &fz.env, fz.s, &h_ready);
	enable();
	CHECK(fz.q[0].valid);
	create_pair(1, 32);
	create_pair(2, 32);
	CHECK(fz.q[1].valid && fz.q[2].valid);
}

static void teardown(void)
{
	fw_ctrl_destroy(fz.h.ctrl);
	fw_subsys_destroy(fz.s);
	fh_env_fini(&fz.env);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bool canary_at_risk = memmem(data, size, canary_key, 8) != NULL;
	const char *e;

	if (size > 8192)
		return -1; /* keep programs short: speed over length */
	memset(&fz.q, 0, sizeof(fz.q));
	fz.chaos = fz.raw_sqe = fz.chunk_ran = fz.waiting = false;
	e = getenv("NVKV_FUZZ_TRACE");
	fz.trace = e && *e == '1';
	fz.next_cid = 0;
	fz.next_chunk = 0;
	fz.data = fz.p = data;
	fz.n = size;
	setup(u8());
	{
		/* The canary goes through the harness's own queue 1, before the program. */
		struct fh_host *h = &fz.h;
		uint16_t save = h->next_cid;

		h->next_cid = 0xf000; /* outside the harness's CIDs, below the chunk range */
		canary_store();
		h->next_cid = save;
		fz.q[1].hd = h->q[1].sqt;
		fz.q[1].rung = h->q[1].sqt;
	}
	run();
	drain();
	if (!canary_at_risk)
		canary_check();
	teardown();
	return 0;
}
