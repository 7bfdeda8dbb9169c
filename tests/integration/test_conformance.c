// SPDX-License-Identifier: MIT
/*
 * Conformance of the device's admin answers, read by somebody else: Identify
 * (CNS 00h, 01h, 02h, 03h, 05h, 06h, 08h), the Commands Supported and Effects
 * log for CSI 00h and 01h, the SMART and the Error Information logs are
 * fetched from a running nvkv-emu through libnvkv's admin passthrough and
 * decoded with Debian's libnvme type definitions (<nvme/types.h>), not with
 * cmdset/.  Structures libnvme does not define (the Key Value command set's
 * Identify Namespace, CNS 05h CSI 01h) are decoded at the byte offsets of the
 * KV Command Set Specification's figure.  Only libnvme's headers are used;
 * the library itself is not linked.  A second device with both namespaces
 * (512 B blocks) checks the NVM Identify Namespace as struct nvme_id_ns, the
 * lists and descriptors of two command sets, ONCS and the CSI 00h effects log.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <nvme/types.h>

#include "check_main.h"
#include "emu_proc.c"
#include "hostdrv/nvkv.h"

#define SERIAL "CONF-7"
#define MODEL "nvkv conformance"
#define MAX_VALUE 8192u
#define MAX_KEYS 100u
#define KV_NSID 1u

/* Status as libnvkv returns it: SCT 10:8, SC 7:0 (base spec "Status Field"). */
#define ST(sct, sc) (((sct) << 8) | (sc))
#define ST_INVALID_OPCODE ST(0, NVME_SC_INVALID_OPCODE)
#define ST_INVALID_FIELD ST(0, NVME_SC_INVALID_FIELD)
#define ST_INVALID_NS ST(0, NVME_SC_INVALID_NS)

static struct emu_proc emu;
static struct nvkv_dev *dev;
static uint8_t buf[NVME_IDENTIFY_DATA_SIZE];

static struct nvkv_dev *attach(const char *name)
{
	struct nvkv_opts o;
	struct nvkv_dev *d = NULL;

	nvkv_opts_default(&o);
	o.queues = 1;
	o.queue_depth = 16;
	o.timeout_ms = 3000;
	o.name = name;
	ck_assert_int_eq(nvkv_open(emu.sock, &o, &d), 0);
	return d;
}

static void setup(void)
{
	char mv[16], mk[16];

	snprintf(mv, sizeof(mv), "%u", MAX_VALUE);
	snprintf(mk, sizeof(mk), "%u", MAX_KEYS);
	ck_assert_int_eq(emu_start(&emu, "--serial", SERIAL, "--model", MODEL, "--max-value", mv,
				   "--max-keys", mk, "--vwc", "true", "--capacity", "4M",
				   "--namespaces-block-percent", "0", NULL),
			 0);
	dev = attach("conformance");
}

static void teardown(void)
{
	nvkv_close(dev);
	dev = NULL;
	emu_stop(&emu, SIGTERM);
}

/*
 * One admin command, built from the base specification's common command
 * format: CDW0 opcode, CDW1 NSID, CDW10..15 command specific.  libnvkv fills
 * in the command id and the data pointer.
 */
static int admin(struct nvkv_dev *d, uint8_t opc, uint32_t nsid, const uint32_t cdw[6], void *data,
		 size_t len, uint32_t *dw0)
{
	uint32_t sqe[16];
	int i;

	memset(sqe, 0, sizeof(sqe));
	sqe[0] = htole32(opc);
	sqe[1] = htole32(nsid);
	for (i = 0; i < 6; i++)
		sqe[10 + i] = htole32(cdw ? cdw[i] : 0);
	return nvkv_admin_raw(d, sqe, data, len, dw0);
}

static int identify(uint8_t cns, uint32_t nsid, uint8_t csi)
{
	uint32_t cdw[6] = { cns, (uint32_t)csi << 24 };

	memset(buf, 0xa5, sizeof(buf)); /* what the device does not write shows */
	return admin(dev, nvme_admin_identify, nsid, cdw, buf, sizeof(buf), NULL);
}

/* Get Log Page: NUMD 0's based in dwords (NUMDL 31:16 of CDW10, NUMDU 15:0 of
 * CDW11), offset in CDW12/13, CSI in CDW14 31:24. */
static int get_log(uint8_t lid, uint32_t nsid, uint8_t csi, uint64_t off, void *out, size_t len)
{
	uint32_t numd = (uint32_t)(len / 4 - 1);
	uint32_t cdw[6] = { lid | (numd & 0xffff) << 16, numd >> 16, (uint32_t)off,
			    (uint32_t)(off >> 32), (uint32_t)csi << 24 };

	memset(out, 0xa5, len);
	return admin(dev, nvme_admin_get_log_page, nsid, cdw, out, len, NULL);
}

static bool all(const void *p, size_t n, uint8_t v)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != v)
			return false;
	return true;
}

static uint64_t le128_low(const uint8_t v[16])
{
	uint64_t x;

	ck_assert(all(v + 8, 8, 0)); /* the figures we use fit in 64 bits */
	memcpy(&x, v, 8);
	return le64toh(x);
}

/* An ASCII string field: printable, left-justified, padded with spaces
 * (base spec: SN, MN and FR are "ASCII string", no NUL). */
static void ck_ascii_field(const char *f, size_t n, const char *want)
{
	size_t l = strlen(want), i;

	ck_assert_uint_le(l, n);
	ck_assert_msg(!memcmp(f, want, l), "field '%.*s' != '%s'", (int)n, f, want);
	for (i = l; i < n; i++)
		ck_assert_msg(f[i] == ' ', "byte %zu of '%.*s' is %#x, not a space", i, (int)n, f,
			      (unsigned char)f[i]);
	for (i = 0; i < n; i++)
		ck_assert(f[i] >= 0x20 && f[i] <= 0x7e);
}

/* ---- Identify Controller (CNS 01h) ------------------------------------------ */

START_TEST(identify_controller)
{
	struct nvme_id_ctrl id, id2;
	struct nvkv_dev *d2;
	uint32_t mps = 4096; /* CAP.MPSMIN is 0: 4 KiB (libnvkv programs CC.MPS 0) */
	const char *nqn;

	_Static_assert(sizeof(id) == NVME_IDENTIFY_DATA_SIZE, "libnvme's layout");
	ck_assert_int_eq(identify(NVME_IDENTIFY_CNS_CTRL, 0, 0), 0);
	memcpy(&id, buf, sizeof(id));

	ck_assert_uint_eq(le16toh(id.vid), 0x1b36);
	ck_assert_uint_eq(le16toh(id.ssvid), 0x1af4);
	ck_ascii_field(id.sn, sizeof(id.sn), SERIAL);
	ck_ascii_field(id.mn, sizeof(id.mn), MODEL);
	ck_ascii_field(id.fr, sizeof(id.fr), "nvkv0.1");
	/* MDTS: 2^MDTS units of the minimum page size hold the largest value
	 * (plus a PRP offset into its first page), and not one less. */
	ck_assert_uint_gt(id.mdts, 0);
	ck_assert_uint_ge((uint64_t)mps << id.mdts, MAX_VALUE + mps);
	ck_assert_uint_lt((uint64_t)mps << (id.mdts - 1), MAX_VALUE + mps);
	ck_assert_uint_eq(le32toh(id.ver), 0x00020000); /* 2.0.0: MJR 31:16, MNR 15:8 */
	ck_assert_uint_eq(id.cntrltype, NVME_CTRL_CNTRLTYPE_IO);
	ck_assert_uint_eq(id.cmic, NVME_CTRL_CMIC_MULTI_CTRL);
	ck_assert(all(id.fguid, sizeof(id.fguid), 0));
	ck_assert_uint_eq(le32toh(id.oaes), 0);
	ck_assert_uint_eq(le32toh(id.ctratt), 0);
	ck_assert_uint_eq(id.rab, 6);
	ck_assert(all(id.rsvd102, sizeof(id.rsvd102), 0));
	ck_assert(all(id.rsvd134, sizeof(id.rsvd134), 0));

	/* Of the optional admin commands only Format NVM (no security, firmware,
	 * namespace management, self-test, directives, NVMe-MI, virtualization,
	 * doorbell buffer, LBA status): cross-checked against the effects log
	 * below. */
	ck_assert_uint_eq(le16toh(id.oacs), NVME_CTRL_OACS_FORMAT);
	ck_assert_uint_eq(id.acl, 3);
	ck_assert_uint_eq(id.aerl, 3);
	ck_assert_uint_eq(id.frmw, 0);
	ck_assert_uint_eq(id.lpa, NVME_CTRL_LPA_CMD_EFFECTS | NVME_CTRL_LPA_EXTENDED);
	ck_assert_uint_eq(id.elpe, 63); /* 64 entries, 0's based */
	ck_assert_uint_eq(id.npss, 0);	/* one power state, 0's based */
	ck_assert_uint_eq(le16toh(id.psd[0].mp), 2500);
	ck_assert(all(&id.psd[1], sizeof(id.psd) - sizeof(id.psd[0]), 0));
	/* Thresholds in Kelvin; the warning one below the critical one. */
	ck_assert_uint_eq(le16toh(id.wctemp), 343);
	ck_assert_uint_eq(le16toh(id.cctemp), 373);
	ck_assert_uint_eq(le16toh(id.kas), 0);

	/* SQES/CQES: required 3:0 and maximum 7:4, log2 of the entry size. */
	ck_assert_uint_eq(id.sqes & NVME_CTRL_SQES_MIN, 6);
	ck_assert_uint_eq((id.sqes & NVME_CTRL_SQES_MAX) >> 4, 6);
	ck_assert_uint_eq(id.cqes & NVME_CTRL_CQES_MIN, 4);
	ck_assert_uint_eq((id.cqes & NVME_CTRL_CQES_MAX) >> 4, 4);
	ck_assert_uint_eq(le32toh(id.nn), 1);
	/* Save and Select: the Key Value Configuration feature is saveable. */
	ck_assert_uint_eq(le16toh(id.oncs), NVME_CTRL_ONCS_SAVE_FEATURES);
	ck_assert_uint_eq(id.vwc & NVME_CTRL_VWC_PRESENT, 1); /* --vwc true */
	ck_assert_uint_eq(le32toh(id.sgls), 1 | NVME_CTRL_SGLS_BIT_BUCKET |
						    NVME_CTRL_SGLS_OVERSIZE |
						    NVME_CTRL_SGLS_MPTR_SGL);
	ck_assert_uint_eq(le16toh(id.fuses), 0);
	ck_assert_uint_eq(le16toh(id.awun), 0);
	ck_assert_uint_eq(le16toh(id.awupf), 0);

	/* SUBNQN: NUL terminated, "nqn.yyyy-mm.<reverse domain>:<name>". */
	ck_assert_ptr_nonnull(memchr(id.subnqn, 0, sizeof(id.subnqn)));
	nqn = id.subnqn;
	ck_assert_msg(!strncmp(nqn, "nqn.", 4) && nqn[8] == '-' && nqn[11] == '.', "subnqn '%s'",
		      nqn);
	ck_assert_str_eq(strchr(nqn, ':') + 1, SERIAL);
	ck_assert(all(id.subnqn + strlen(nqn), sizeof(id.subnqn) - strlen(nqn), 0));
	/* Fabrics fields are reserved on PCIe. */
	ck_assert_uint_eq(le32toh(id.ioccsz), 0);
	ck_assert_uint_eq(le32toh(id.iorcsz), 0);
	ck_assert(!memcmp(id.vs, "NVKV", 4)); /* our vendor area, docs/wire-formats.md */

	/* A second host gets a second controller of the same subsystem. */
	d2 = attach("conformance-2");
	memset(buf, 0, sizeof(buf));
	ck_assert_int_eq(admin(d2, nvme_admin_identify, 0,
			       (const uint32_t[6]){ NVME_IDENTIFY_CNS_CTRL }, buf, sizeof(buf),
			       NULL),
			 0);
	memcpy(&id2, buf, sizeof(id2));
	nvkv_close(d2);
	ck_assert_uint_ne(le16toh(id.cntlid), le16toh(id2.cntlid));
	ck_assert_str_eq(id.subnqn, id2.subnqn);
	ck_assert(!memcmp(id.sn, id2.sn, sizeof(id.sn)));
}
END_TEST

/* ---- namespace structures ----------------------------------------------------- */

/* The Namespace Identification Descriptor list of @nsid: NGUID into @nguid,
 * the command set identifier returned. */
static uint8_t ns_descriptors(uint32_t nsid, uint8_t nguid[16])
{
	unsigned int off = 0, ncsi = 0, nnguid = 0;
	int csi = -1;

	ck_assert_int_eq(identify(NVME_IDENTIFY_CNS_NS_DESC_LIST, nsid, 0), 0);
	while (off + sizeof(struct nvme_ns_id_desc) <= sizeof(buf)) {
		/* Descriptors are packed: after the 1-byte CSI one the next
		 * starts at an odd offset.  Read the header by copy. */
		struct nvme_ns_id_desc hdr, *d = &hdr;
		const uint8_t *nid = buf + off + sizeof(hdr);

		memcpy(&hdr, buf + off, sizeof(hdr));
		if (d->nidt == 0)
			break; /* end of the list */
		ck_assert_uint_eq(le16toh(d->rsvd), 0);
		switch (d->nidt) {
		case NVME_NIDT_EUI64:
			ck_assert_uint_eq(d->nidl, NVME_NIDT_EUI64_LEN);
			break;
		case NVME_NIDT_NGUID:
			ck_assert_uint_eq(d->nidl, NVME_NIDT_NGUID_LEN);
			ck_assert(!all(nid, 16, 0));
			memcpy(nguid, nid, 16);
			nnguid++;
			break;
		case NVME_NIDT_UUID:
			ck_assert_uint_eq(d->nidl, NVME_NIDT_UUID_LEN);
			break;
		case NVME_NIDT_CSI:
			ck_assert_uint_eq(d->nidl, NVME_NIDT_CSI_LEN);
			csi = nid[0];
			ncsi++;
			break;
		default:
			ck_abort_msg("descriptor type %u at %u", d->nidt, off);
		}
		off += sizeof(*d) + d->nidl;
	}
	ck_assert_uint_eq(ncsi, 1);
	ck_assert_uint_le(nnguid, 1);
	/* Past the list the data is zero, not left over. */
	ck_assert(all(buf + off, sizeof(buf) - off, 0));
	return (uint8_t)csi;
}

START_TEST(active_namespace_list)
{
	const uint32_t *l = (const void *)buf;

	ck_assert_int_eq(identify(NVME_IDENTIFY_CNS_NS_ACTIVE_LIST, 0, 0), 0);
	ck_assert_uint_eq(le32toh(l[0]), KV_NSID);
	ck_assert(all(buf + 4, sizeof(buf) - 4, 0));
	/* Only NSIDs greater than the one given are listed. */
	ck_assert_int_eq(identify(NVME_IDENTIFY_CNS_NS_ACTIVE_LIST, KV_NSID, 0), 0);
	ck_assert(all(buf, sizeof(buf), 0));
	ck_assert_int_eq(identify(NVME_IDENTIFY_CNS_NS_ACTIVE_LIST, 0xfffffffe, 0), ST_INVALID_NS);
	ck_assert_int_eq(identify(NVME_IDENTIFY_CNS_NS_ACTIVE_LIST, NVME_NSID_ALL, 0),
			 ST_INVALID_NS);
	/* The KV-specific list (CNS 07h, CSI 01h) holds the same namespace. */
	ck_assert_int_eq(identify(NVME_IDENTIFY_CNS_CSI_NS_ACTIVE_LIST, 0, NVME_CSI_KV), 0);
	ck_assert_uint_eq(le32toh(l[0]), KV_NSID);
	ck_assert(all(buf + 4, sizeof(buf) - 4, 0));
	ck_assert_int_eq(identify(NVME_IDENTIFY_CNS_CSI_NS_ACTIVE_LIST, 0, NVME_CSI_NVM), 0);
	ck_assert(all(buf, sizeof(buf), 0));
}
END_TEST

/* KV Command Set Specification, Figure "I/O Command Set specific Identify
 * Namespace data structure" (1.0c Figure 39), and its KV Format data
 * structure: byte offsets. */
enum {
	KV_NSZE = 0,
	KV_NUSE = 16,
	KV_NSFEAT = 24,
	KV_NKVF = 25,
	KV_NMIC = 26,
	KV_RESCAP = 27,
	KV_FPI = 28,
	KV_NOVG = 32,
	KV_ANAGRPID = 36,
	KV_NSATTR = 43,
	KV_NVMSETID = 44,
	KV_ENDGID = 46,
	KV_NGUID = 48,
	KV_EUI64 = 64,
	KV_KVF0 = 72, /* 16 formats of 16 bytes */
	KVF_KVKML = 0,
	KVF_KVFA = 3,
	KVF_KVVML = 4,
	KVF_KVMNK = 8,
	KV_VS = 3840,
};

static uint64_t get64(unsigned int off)
{
	uint64_t v;

	memcpy(&v, buf + off, 8);
	return le64toh(v);
}

static uint32_t get32(unsigned int off)
{
	uint32_t v;

	memcpy(&v, buf + off, 4);
	return le32toh(v);
}

static uint16_t get16(unsigned int off)
{
	uint16_t v;

	memcpy(&v, buf + off, 2);
	return le16toh(v);
}

/* A KV command (KV spec, "Common Command Format"): key bytes 0-7 in CDW2-3,
 * 8-15 in CDW14-15, value or buffer size in CDW10, key length in CDW11 7:0. */
static void kv_sqe(uint32_t sqe[16], uint8_t opc, const char *key, size_t klen, uint32_t size)
{
	uint8_t *b = (uint8_t *)sqe;

	memset(sqe, 0, 64);
	b[0] = opc;
	sqe[1] = htole32(KV_NSID);
	memcpy(b + 8, key, klen < 8 ? klen : 8);
	if (klen > 8)
		memcpy(b + 56, key + 8, klen - 8);
	sqe[10] = htole32(size);
	sqe[11] = htole32((uint32_t)klen);
}

START_TEST(kv_namespace)
{
	uint32_t sqe[16];
	struct nvme_id_independent_id_ns ind;
	uint8_t nguid[16], val[MAX_VALUE + 1], key[4];
	uint64_t nsze, nuse;
	unsigned int i;
	uint8_t nmic;

	memset(nguid, 0, sizeof(nguid));
	ck_assert_uint_eq(ns_descriptors(KV_NSID, nguid), NVME_CSI_KV);

	ck_assert_int_eq(identify(NVME_IDENTIFY_CNS_CSI_NS, KV_NSID, NVME_CSI_KV), 0);
	nsze = get64(KV_NSZE);
	nuse = get64(KV_NUSE);
	ck_assert_uint_eq(nsze, 4u << 20); /* --capacity, in bytes */
	ck_assert_uint_eq(nuse, 0);
	ck_assert(all(buf + 8, 8, 0)); /* bytes 15:8 reserved */
	ck_assert_uint_eq(buf[KV_NSFEAT], 0);
	ck_assert_uint_eq(buf[KV_NKVF], 0); /* one KV format, 0's based */
	nmic = buf[KV_NMIC];
	ck_assert_uint_eq(nmic, 1); /* may be attached to two or more controllers */
	ck_assert_uint_eq(buf[KV_RESCAP], 0);
	ck_assert_uint_eq(buf[KV_FPI], 0);
	ck_assert(all(buf + 29, 3, 0));
	ck_assert_uint_eq(get32(KV_NOVG), 64);
	ck_assert_uint_eq(get32(KV_ANAGRPID), 0);
	ck_assert(all(buf + 40, 3, 0));
	ck_assert_uint_eq(buf[KV_NSATTR], 0);
	ck_assert_uint_eq(get16(KV_NVMSETID), 0);
	ck_assert_uint_eq(get16(KV_ENDGID), 0);
	/* Base 5.17.2.3: the NGUID descriptor is a copy of the structure's NGUID. */
	ck_assert(!memcmp(buf + KV_NGUID, nguid, 16));
	ck_assert(all(buf + KV_EUI64, 8, 0));
	/* KV Format 0 is the namespace's; 1..15 unused. */
	ck_assert_uint_eq(get16(KV_KVF0 + KVF_KVKML), 16);
	ck_assert_uint_eq(buf[KV_KVF0 + 2], 0);
	ck_assert_uint_eq(buf[KV_KVF0 + KVF_KVFA], 0); /* relative performance: best */
	ck_assert_uint_eq(get32(KV_KVF0 + KVF_KVVML), MAX_VALUE);
	ck_assert_uint_eq(get32(KV_KVF0 + KVF_KVMNK), MAX_KEYS);
	ck_assert(all(buf + KV_KVF0 + 12, 4, 0));
	ck_assert(all(buf + KV_KVF0 + 16, 15 * 16, 0));
	ck_assert(all(buf + 328, KV_VS - 328, 0));

	/* The limits it reports are the limits it enforces. */
	memset(val, 7, sizeof(val));
	ck_assert_int_eq(nvkv_store(dev, "max", 3, val, MAX_VALUE, 0), 0);
	/* libnvkv refuses the larger one itself: send it raw. */
	kv_sqe(sqe, 0x01, "max", 3, MAX_VALUE + 1);
	ck_assert_int_eq(nvkv_io_raw(dev, sqe, val, MAX_VALUE + 1, NULL),
			 ST(0, NVKV_INVALID_VALUE_SIZE));
	for (i = 1; i < MAX_KEYS; i++) {
		key[0] = 'k';
		key[1] = (uint8_t)i;
		ck_assert_int_eq(nvkv_store(dev, key, 2, "v", 1, 0), 0);
	}
	ck_assert_int_eq(nvkv_store(dev, "one-more", 8, "v", 1, 0), NVKV_CAPACITY_EXCEEDED);
	ck_assert_int_eq(identify(NVME_IDENTIFY_CNS_CSI_NS, KV_NSID, NVME_CSI_KV), 0);
	ck_assert_uint_gt(get64(KV_NUSE), MAX_VALUE + (MAX_KEYS - 1) * 3);
	ck_assert_uint_le(get64(KV_NUSE), nsze);

	/* The command set independent structure (CNS 08h) agrees. */
	ck_assert_int_eq(identify(NVME_IDENTIFY_CNS_CSI_INDEPENDENT_ID_NS, KV_NSID, 0), 0);
	memcpy(&ind, buf, sizeof(ind));
	ck_assert_uint_eq(ind.nstat & 1, 1); /* namespace ready */
	ck_assert_uint_eq(ind.nmic, nmic);
	ck_assert_uint_eq(ind.nsfeat, 0);
	ck_assert_uint_eq(ind.rescap, 0);
	ck_assert_uint_eq(ind.fpi, 0);
	ck_assert_uint_eq(le32toh(ind.anagrpid), 0);
	ck_assert_uint_eq(ind.nsattr, 0);
	ck_assert_uint_eq(le16toh(ind.nvmsetid), 0);
	ck_assert_uint_eq(le16toh(ind.endgid), 0);
	ck_assert(all(ind.rsvd15, sizeof(ind.rsvd15), 0));

	/* The KV I/O command set specific Identify Controller (CNS 06h): all
	 * reserved in the revision we implement (docs/wire-formats.md). */
	ck_assert_int_eq(identify(NVME_IDENTIFY_CNS_CSI_CTRL, 0, NVME_CSI_KV), 0);
	ck_assert(all(buf, sizeof(buf), 0));

	/* CNS 00h is the NVM command set's structure: a KV namespace has none
	 * (Base 5.17, status 2Ch Invalid I/O Command Set). */
	ck_assert_int_eq(identify(NVME_IDENTIFY_CNS_NS, KV_NSID, 0), ST(0, NVME_SC_INVALID_IOCS));

	/* Namespaces that do not exist. */
	ck_assert_int_eq(identify(NVME_IDENTIFY_CNS_CSI_NS, 2, NVME_CSI_KV), ST_INVALID_NS);
	ck_assert_int_eq(identify(NVME_IDENTIFY_CNS_CSI_NS, 0, NVME_CSI_KV), ST_INVALID_NS);
	ck_assert_int_ne(identify(NVME_IDENTIFY_CNS_NS_DESC_LIST, 2, 0), 0);
	ck_assert_int_ne(identify(NVME_IDENTIFY_CNS_CSI_INDEPENDENT_ID_NS, 2, 0), 0);
	/* An Identify the device does not know. */
	ck_assert_int_eq(identify(0x55, 0, 0), ST_INVALID_FIELD);
}
END_TEST

/* ---- logs --------------------------------------------------------------------- */

/* Opcodes of the KV command set (KV spec, "Opcodes for Key Value Commands"),
 * and nvkv's vendor Stores (docs/wire-formats.md), with whether they change
 * stored data (LBCC). */
static const struct {
	uint8_t opc;
	bool lbcc;
} kv_cmds[] = {
	{ 0x00, true },	 /* Flush */
	{ 0x01, true },	 /* Store */
	{ 0x02, false }, /* Retrieve */
	{ 0x06, false }, /* List */
	{ 0x10, true },	 /* Delete */
	{ 0x14, false }, /* Exist */
	{ 0xc0, true },	 /* BandSlim Store */
	{ 0xc1, true },	 /* BandSlim Store with PRP */
	{ 0xc4, true },	 /* BandSlim transfer */
	{ 0xc8, true },	 /* ByteExpress Store */
};

/* Mandatory admin commands (base spec, "Admin Command Set"), plus Keep Alive and Format NVM. */
static const uint8_t admin_cmds[] = {
	nvme_admin_delete_sq,	nvme_admin_create_sq,	 nvme_admin_get_log_page,
	nvme_admin_delete_cq,	nvme_admin_create_cq,	 nvme_admin_identify,
	nvme_admin_abort_cmd,	nvme_admin_set_features, nvme_admin_get_features,
	nvme_admin_async_event, nvme_admin_keep_alive,	 nvme_admin_format_nvm,
};

static uint32_t kv_effects(uint8_t opc)
{
	unsigned int i;

	for (i = 0; i < sizeof(kv_cmds) / sizeof(kv_cmds[0]); i++)
		if (kv_cmds[i].opc == opc)
			return NVME_CMD_EFFECTS_CSUPP |
			       (kv_cmds[i].lbcc ? NVME_CMD_EFFECTS_LBCC : 0);
	return 0;
}

START_TEST(effects_logs)
{
	static struct nvme_cmd_effects_log nvm, kv, part;
	uint32_t e, cdw[6] = { 0 };
	unsigned int i, j;
	bool want;

	ck_assert_int_eq(get_log(NVME_LOG_LID_CMD_EFFECTS, 0, NVME_CSI_NVM, 0, &nvm, sizeof(nvm)),
			 0);
	ck_assert_int_eq(get_log(NVME_LOG_LID_CMD_EFFECTS, 0, NVME_CSI_KV, 0, &kv, sizeof(kv)), 0);
	/* Admin commands do not depend on the I/O command set. */
	ck_assert(!memcmp(nvm.acs, kv.acs, sizeof(kv.acs)));
	for (i = 0; i < 256; i++) {
		e = le32toh(kv.acs[i]);
		want = false;
		for (j = 0; j < sizeof(admin_cmds); j++)
			want |= admin_cmds[j] == i;
		ck_assert_msg(!!(e & NVME_CMD_EFFECTS_CSUPP) == want, "admin %02xh: %#x", i, e);
		/* Only Set Features may change what the controller can do; Format
		 * changes the content and the capacity in use of namespaces. */
		ck_assert_uint_eq(e & ~NVME_CMD_EFFECTS_CSUPP,
				  i == nvme_admin_set_features ? NVME_CMD_EFFECTS_CCC
				  : i == nvme_admin_format_nvm
					  ? NVME_CMD_EFFECTS_LBCC | NVME_CMD_EFFECTS_NCC
					  : 0);
	}
	for (i = 0; i < 256; i++) {
		ck_assert_msg(le32toh(kv.iocs[i]) == kv_effects((uint8_t)i), "KV %02xh: %#x", i,
			      le32toh(kv.iocs[i]));
		ck_assert_uint_eq(le32toh(nvm.iocs[i]), 0); /* no NVM namespace */
	}
	ck_assert(all(kv.rsvd, sizeof(kv.rsvd), 0));

	/* LPA bit 2: a slice at an offset reads as the same bytes. */
	ck_assert_int_eq(get_log(NVME_LOG_LID_CMD_EFFECTS, 0, NVME_CSI_KV, 1024, &part, 1024), 0);
	ck_assert(!memcmp(&part, kv.iocs, 1024));

	/* What the log calls unsupported is refused as Invalid Opcode. */
	for (i = 0; i < 0x80; i++) {
		uint32_t sqe[16] = { htole32(i), htole32(KV_NSID) };

		if (le32toh(kv.iocs[i]) & NVME_CMD_EFFECTS_CSUPP)
			continue;
		ck_assert_msg(nvkv_io_raw(dev, sqe, NULL, 0, NULL) == ST_INVALID_OPCODE,
			      "I/O opcode %02xh", i);
	}
	for (i = 0; i < 0x80; i++) {
		if (le32toh(kv.acs[i]) & NVME_CMD_EFFECTS_CSUPP)
			continue;
		ck_assert_msg(admin(dev, (uint8_t)i, 0, cdw, NULL, 0, NULL) == ST_INVALID_OPCODE,
			      "admin opcode %02xh", i);
	}
}
END_TEST

START_TEST(smart_and_error_logs)
{
	static struct nvme_smart_log sm, sm2;
	static struct nvme_error_log_page el[64];
	uint16_t temp, sf;
	uint64_t errors;
	uint8_t val[1000];
	unsigned int i;

	ck_assert_int_eq(get_log(NVME_LOG_LID_SMART, NVME_NSID_ALL, 0, 0, &sm, sizeof(sm)), 0);
	ck_assert_uint_eq(sm.critical_warning, 0);
	temp = (uint16_t)(sm.temperature[0] | sm.temperature[1] << 8);
	ck_assert_uint_gt(temp, 273);
	ck_assert_uint_lt(temp, 343); /* below WCTEMP */
	ck_assert_uint_le(sm.avail_spare, 100);
	ck_assert_uint_ge(sm.avail_spare, sm.spare_thresh); /* warning bit 0 clear */
	ck_assert_uint_le(sm.percent_used, 255);
	ck_assert_uint_ge(le128_low(sm.power_cycles), 1);
	ck_assert(all(sm.rsvd7, sizeof(sm.rsvd7), 0));

	/* Host write commands and data units (thousands of 512 bytes, rounded up). */
	memset(val, 1, sizeof(val));
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(nvkv_store(dev, "w", 1, val, sizeof(val), 0), 0);
	ck_assert_int_eq(get_log(NVME_LOG_LID_SMART, NVME_NSID_ALL, 0, 0, &sm2, sizeof(sm2)), 0);
	ck_assert_uint_eq(le128_low(sm2.host_writes) - le128_low(sm.host_writes), 3);
	ck_assert_uint_eq(le128_low(sm2.data_units_written), 1);

	/* Provoke one error: the newest log entry describes it. */
	ck_assert_int_eq(identify(0x55, 0, 0), ST_INVALID_FIELD);
	ck_assert_int_eq(get_log(NVME_LOG_LID_SMART, NVME_NSID_ALL, 0, 0, &sm2, sizeof(sm2)), 0);
	errors = le128_low(sm2.num_err_log_entries);
	ck_assert_uint_ge(errors, 1);
	ck_assert_int_eq(get_log(NVME_LOG_LID_ERROR, NVME_NSID_ALL, 0, 0, el, sizeof(el)), 0);
	ck_assert_uint_eq(le64toh(el[0].error_count), errors);
	ck_assert_uint_eq(le16toh(el[0].sqid), 0);
	sf = le16toh(el[0].status_field) >> 1; /* 15:1 status, 0 phase tag */
	ck_assert_uint_eq(sf & 0xff, NVME_SC_INVALID_FIELD);
	ck_assert_uint_eq((sf >> 8) & 7, 0);
	ck_assert_uint_eq(sf & 0x4000, 0x4000); /* DNR */
	ck_assert_uint_eq(le16toh(el[0].parm_error_location), 0xffff);
	ck_assert_uint_eq(le32toh(el[0].nsid), 0);
	ck_assert_uint_eq(le64toh(el[0].lba), 0);
	/* Newest first, then older ones, then empty entries. */
	for (i = 1; i < 64 && le64toh(el[i].error_count); i++)
		ck_assert_uint_eq(le64toh(el[i].error_count), errors - i);
	for (; i < 64; i++)
		ck_assert(all(&el[i], sizeof(el[i]), 0));
}
END_TEST

/* ---- features ------------------------------------------------------------------ */

/* Set/Get Features: CDW10 FID 7:0, SEL 10:8 (Get), SV 31 (Set); value in CDW11
 * and in DW0 of Get's completion. */
static int feature(bool set, uint8_t fid, uint32_t nsid, uint32_t sel_or_sv, uint32_t value,
		   uint32_t *dw0)
{
	uint32_t cdw[6] = { fid | (set ? sel_or_sv << 31 : sel_or_sv << 8), value };

	return admin(dev, set ? nvme_admin_set_features : nvme_admin_get_features, nsid, cdw, NULL,
		     0, dw0);
}

/* The Key Value Configuration feature (20h; libnvme 1.3 has no name for it)
 * and what the controller's own features answer to SEL and SV. */
START_TEST(features)
{
	uint32_t v = 0;

	ck_assert_int_eq(feature(false, 0x20, KV_NSID, NVME_GET_FEATURES_SEL_SUPPORTED, 0, &v), 0);
	ck_assert_uint_eq(v, 0x6); /* per namespace, changeable; in memory: not saveable */
	ck_assert_int_eq(feature(false, 0x20, KV_NSID, NVME_GET_FEATURES_SEL_CURRENT, 0, &v), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(nvkv_delete(dev, "absent", 6), 0); /* EDNEK clear */
	ck_assert_int_eq(feature(true, 0x20, KV_NSID, 0, 1, NULL), 0);
	ck_assert_int_eq(feature(false, 0x20, KV_NSID, NVME_GET_FEATURES_SEL_CURRENT, 0, &v), 0);
	ck_assert_uint_eq(v, 1);
	ck_assert_int_eq(feature(false, 0x20, KV_NSID, NVME_GET_FEATURES_SEL_DEFAULT, 0, &v), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(nvkv_delete(dev, "absent", 6), ST(0, NVKV_KEY_NOT_EXIST));
	ck_assert_int_eq(feature(true, 0x20, KV_NSID, 1, 1, NULL),
			 ST(1, NVME_SC_FEATURE_NOT_SAVEABLE));
	ck_assert_int_eq(feature(false, 0x20, 0, 0, 0, &v), ST_INVALID_NS);
	ck_assert_int_eq(feature(true, 0x20, KV_NSID, 0, 0, NULL), 0);

	/* A controller feature: changeable, not saveable, saved = default. */
	ck_assert_int_eq(feature(false, NVME_FEAT_FID_VOLATILE_WC, 0,
				 NVME_GET_FEATURES_SEL_SUPPORTED, 0, &v),
			 0);
	ck_assert_uint_eq(v, 0x4);
	ck_assert_int_eq(feature(true, NVME_FEAT_FID_VOLATILE_WC, 0, 0, 0, NULL), 0);
	ck_assert_int_eq(
		feature(false, NVME_FEAT_FID_VOLATILE_WC, 0, NVME_GET_FEATURES_SEL_SAVED, 0, &v),
		0);
	ck_assert_uint_eq(v, 1); /* --vwc true */
	ck_assert_int_eq(
		feature(false, NVME_FEAT_FID_VOLATILE_WC, 0, NVME_GET_FEATURES_SEL_CURRENT, 0, &v),
		0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(feature(true, NVME_FEAT_FID_VOLATILE_WC, 0, 1, 1, NULL),
			 ST(1, NVME_SC_FEATURE_NOT_SAVEABLE));
	ck_assert_int_eq(feature(false, NVME_FEAT_FID_VOLATILE_WC, 0, 4, 0, &v), ST_INVALID_FIELD);
}
END_TEST

/* ---- a device with both namespaces: the NVM one decoded as libnvme's ------- */

#define BLK_NSID 2u

static void setup_both(void)
{
	ck_assert_int_eq(emu_start(&emu, "--serial", SERIAL, "--model", MODEL, "--vwc", "true",
				   "--namespaces-lba-size", "512", NULL),
			 0);
	dev = attach("conformance-both");
}

START_TEST(two_namespaces)
{
	const struct nvme_id_ctrl *ic = (const void *)buf;
	const struct nvme_id_ns *ns = (const void *)buf;
	const uint32_t *l = (const void *)buf;
	struct nvme_cmd_effects_log nvm;
	uint8_t nguid1[16], nguid2[16];
	uint64_t nsze;
	uint16_t oncs;
	unsigned int i;

	ck_assert_int_eq(identify(NVME_IDENTIFY_CNS_CTRL, 0, 0), 0);
	ck_assert_uint_eq(le32toh(ic->nn), BLK_NSID);
	oncs = le16toh(ic->oncs);
	/* Write Zeroes and Dataset Management with a block namespace, and Save /
	 * Select as on a KV-only device (the KV namespace's feature is saveable). */
	ck_assert_uint_eq(oncs, NVME_CTRL_ONCS_DSM | NVME_CTRL_ONCS_WRITE_ZEROES |
					NVME_CTRL_ONCS_SAVE_FEATURES);

	/* Active lists: both, then per command set. */
	ck_assert_int_eq(identify(NVME_IDENTIFY_CNS_NS_ACTIVE_LIST, 0, 0), 0);
	ck_assert_uint_eq(le32toh(l[0]), KV_NSID);
	ck_assert_uint_eq(le32toh(l[1]), BLK_NSID);
	ck_assert(all(buf + 8, sizeof(buf) - 8, 0));
	ck_assert_int_eq(identify(NVME_IDENTIFY_CNS_CSI_NS_ACTIVE_LIST, 0, NVME_CSI_NVM), 0);
	ck_assert_uint_eq(le32toh(l[0]), BLK_NSID);
	ck_assert(all(buf + 4, sizeof(buf) - 4, 0));

	/* CNS 00h of the block namespace: the NVM Identify Namespace. */
	ck_assert_int_eq(identify(NVME_IDENTIFY_CNS_NS, BLK_NSID, 0), 0);
	nsze = le64toh(ns->nsze);
	ck_assert_uint_gt(nsze, 0);
	ck_assert_uint_eq(le64toh(ns->ncap), nsze); /* not thin provisioned */
	ck_assert_uint_le(le64toh(ns->nuse), nsze);
	ck_assert_uint_eq(ns->nlbaf, 1); /* two formats, 0's based */
	ck_assert_uint_eq(ns->flbas & 0xf, 0);
	ck_assert_uint_eq(ns->lbaf[0].ds, 9);
	ck_assert_uint_eq(le16toh(ns->lbaf[0].ms), 0);
	ck_assert_uint_eq(ns->lbaf[1].ds, 12);
	ck_assert_uint_eq(le16toh(ns->lbaf[1].ms), 0);
	for (i = 2; i < 64; i++)
		ck_assert_uint_eq(ns->lbaf[i].ds, 0);
	/* Deallocated blocks read as zeros; Write Zeroes may deallocate. */
	ck_assert_uint_eq(ns->dlfeat & NVME_NS_DLFEAT_RB, NVME_NS_DLFEAT_RB_ALL_0S);
	ck_assert(ns->dlfeat & NVME_NS_DLFEAT_WRITE_ZEROES);
	ck_assert_uint_eq(ns->nmic & 1, 1); /* shared by the controllers */
	/* NSFEAT bit 4: NPWG..NOWS are valid; in 512 B blocks, a 4 KiB unit is 8. */
	ck_assert(ns->nsfeat & NVME_NS_FEAT_IO_OPT);
	ck_assert_uint_eq(le16toh(ns->npwg), 7);
	ck_assert_uint_eq(le16toh(ns->npwa), 7);
	/* No I/O boundary: Linux would split every I/O at it. */
	ck_assert_uint_eq(le16toh(ns->noiob), 0);
	ck_assert_uint_eq(ns->dps, 0);	 /* no protection information */
	ck_assert_uint_eq(ns->mc, 0);	 /* no metadata */
	ck_assert_uint_eq(ns->nacwu, 0); /* atomic write unit: AWUN applies */

	/* Its descriptor list names the NVM command set; the KV one the KV set. */
	ck_assert_uint_eq(ns_descriptors(BLK_NSID, nguid2), NVME_CSI_NVM);
	ck_assert_uint_eq(ns_descriptors(KV_NSID, nguid1), NVME_CSI_KV);
	ck_assert(memcmp(nguid1, nguid2, 16) != 0);

	/* CNS 05h for CSI 00h: defined, all zero (no PI, no extended formats);
	 * the KV structure is not the block namespace's. */
	ck_assert_int_eq(identify(NVME_IDENTIFY_CNS_CSI_NS, BLK_NSID, NVME_CSI_NVM), 0);
	ck_assert(all(buf, sizeof(buf), 0));
	ck_assert_int_eq(identify(NVME_IDENTIFY_CNS_CSI_NS, BLK_NSID, NVME_CSI_KV),
			 ST_INVALID_FIELD);
	ck_assert_int_eq(identify(NVME_IDENTIFY_CNS_NS, KV_NSID, 0), ST(0, 0x2c));

	/* The effects log for CSI 00h lists the NVM commands, and only those. */
	ck_assert_int_eq(get_log(NVME_LOG_LID_CMD_EFFECTS, 0, NVME_CSI_NVM, 0, &nvm, sizeof(nvm)),
			 0);
	for (i = 0; i < 256; i++) {
		uint32_t e = le32toh(nvm.iocs[i]), want = 0;

		switch (i) {
		case nvme_cmd_flush:
		case nvme_cmd_write:
		case nvme_cmd_write_zeroes:
		case nvme_cmd_dsm:
			want = NVME_CMD_EFFECTS_CSUPP | NVME_CMD_EFFECTS_LBCC;
			break;
		case nvme_cmd_read:
			want = NVME_CMD_EFFECTS_CSUPP;
			break;
		}
		ck_assert_msg(e == want, "NVM %02xh: %#x, want %#x", i, e, want);
	}
}
END_TEST

static Suite *conformance_suite(void)
{
	Suite *s = suite_create("conformance");
	TCase *tc = tcase_create("libnvme");
	TCase *both = tcase_create("two_namespaces");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, identify_controller);
	tcase_add_test(tc, active_namespace_list);
	tcase_add_test(tc, kv_namespace);
	tcase_add_test(tc, effects_logs);
	tcase_add_test(tc, smart_and_error_logs);
	tcase_add_test(tc, features);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(both, setup_both, teardown);
	tcase_set_timeout(both, 30);
	tcase_add_test(both, two_namespaces);
	suite_add_tcase(s, both);
	return s;
}

TEST_MAIN(conformance_suite)
