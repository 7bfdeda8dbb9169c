/* SPDX-License-Identifier: MIT */
/*
 * NVMe admin command set: opcodes, command dword fields, Identify data
 * structures, log pages and feature identifiers (NVMe Base Specification 2.0,
 * sections 5.x; I/O-command-set-specific Identify structures from the NVM and
 * Key Value Command Set Specifications 1.0).  All data structures are the
 * exact wire layout, little-endian; sizes are asserted.
 */
#ifndef KVC_ADMIN_H
#define KVC_ADMIN_H

#include <stdint.h>

/* Admin opcodes (Base spec, Figure "Opcodes for Admin Commands"). */
enum kvc_admin_opc {
	KVC_ADM_DELETE_SQ = 0x00,
	KVC_ADM_CREATE_SQ = 0x01,
	KVC_ADM_GET_LOG_PAGE = 0x02,
	KVC_ADM_DELETE_CQ = 0x04,
	KVC_ADM_CREATE_CQ = 0x05,
	KVC_ADM_IDENTIFY = 0x06,
	KVC_ADM_ABORT = 0x08,
	KVC_ADM_SET_FEATURES = 0x09,
	KVC_ADM_GET_FEATURES = 0x0a,
	KVC_ADM_ASYNC_EVENT = 0x0c,
	KVC_ADM_KEEP_ALIVE = 0x18,
	KVC_ADM_FABRICS = 0x7f,
	KVC_ADM_FORMAT_NVM = 0x80,
};

/*
 * Format NVM (80h), CDW10 (Base spec, "Format NVM - Command Dword 10"):
 * LBAF 3:0 (the format index, low bits), MSET 4, PI 7:5, PIL 8, SES 11:9
 * (0 no secure erase, 1 user data erase, 2 cryptographic erase), LBAFU 13:12
 * (the index's high bits).  NSID FFFFFFFFh formats every namespace.
 */
#define KVC_FMT_LBAF(cdw10) (((cdw10)&0xfu) | (((cdw10) >> 8) & 0x30u))
#define KVC_FMT_MSET(cdw10) (((cdw10) >> 4) & 0x1u)
#define KVC_FMT_PI(cdw10) (((cdw10) >> 5) & 0x7u)
#define KVC_FMT_PIL(cdw10) (((cdw10) >> 8) & 0x1u)
#define KVC_FMT_SES(cdw10) (((cdw10) >> 9) & 0x7u)
#define KVC_FMT_SES_USER_DATA 1u

/* Command set identifiers (CSI). */
enum kvc_csi {
	KVC_CSI_NVM = 0x00,
	KVC_CSI_KV = 0x01,
	KVC_CSI_ZNS = 0x02,
};

#define KVC_NSID_ALL 0xffffffffu /* broadcast NSID */

/* Identify: CDW10 CNS 7:0, CNTID 31:16; CDW11 CNSSID 15:0, CSI 31:24. */
enum kvc_cns {
	KVC_CNS_NS = 0x00,	       /* Identify Namespace (NVM) */
	KVC_CNS_CTRL = 0x01,	       /* Identify Controller */
	KVC_CNS_ACTIVE_NS_LIST = 0x02, /* Active Namespace ID list */
	KVC_CNS_NS_DESC_LIST = 0x03,   /* Namespace Identification Descriptor list */
	KVC_CNS_CSI_NS = 0x05,	       /* I/O command set specific Identify Namespace */
	KVC_CNS_CSI_CTRL = 0x06,       /* I/O command set specific Identify Controller */
	KVC_CNS_CSI_ACTIVE_NS_LIST = 0x07,
	KVC_CNS_CSI_INDEP_NS = 0x08, /* I/O command set independent Identify Namespace */
	KVC_CNS_CS_PROFILE = 0x1c,   /* I/O Command Set data structure */
};
#define KVC_IDENTIFY_SIZE 4096
#define KVC_IDENTIFY_CNS(cdw10) ((uint8_t)((cdw10)&0xff))
#define KVC_IDENTIFY_CSI(cdw11) ((uint8_t)((cdw11) >> 24))

/* Create I/O CQ: CDW10 QID 15:0, QSIZE 31:16 (0's based); CDW11 PC 0, IEN 1, IV 31:16. */
#define KVC_CREATE_CQ_PC (1u << 0)
#define KVC_CREATE_CQ_IEN (1u << 1)
/* Create I/O SQ: CDW10 as above; CDW11 PC 0, QPRIO 2:1, CQID 31:16. */
#define KVC_CREATE_SQ_PC (1u << 0)
#define KVC_QID(cdw10) ((uint16_t)((cdw10)&0xffff))
#define KVC_QSIZE(cdw10) ((uint32_t)((cdw10) >> 16) + 1)
#define KVC_CREATE_SQ_CQID(cdw11) ((uint16_t)((cdw11) >> 16))
#define KVC_CREATE_CQ_IV(cdw11) ((uint16_t)((cdw11) >> 16))

/* Abort: CDW10 SQID 15:0, CID 31:16. */

/* Get Log Page: CDW10 LID 7:0, LSP 14:8, RAE 15, NUMDL 31:16; CDW11 NUMDU 15:0;
 * CDW12/13 offset; CDW14 UUID index 6:0, OT 23, CSI 31:24. */
enum kvc_log_id {
	KVC_LOG_ERROR = 0x01,
	KVC_LOG_SMART = 0x02,
	KVC_LOG_FW_SLOT = 0x03,
	KVC_LOG_CMD_EFFECTS = 0x05,
	KVC_LOG_NVKV_STATS = 0xc0, /* vendor: device statistics, see firmware/stats.h */
};
#define KVC_LOG_LID(cdw10) ((uint8_t)((cdw10)&0xff))
#define KVC_LOG_RAE (1u << 15)
#define KVC_LOG_CSI(cdw14) ((uint8_t)((cdw14) >> 24))
/* Number of dwords to return, 0's based, from NUMDL and NUMDU. */
static inline uint64_t kvc_log_numd(uint32_t cdw10, uint32_t cdw11)
{
	return (((uint64_t)(cdw11 & 0xffff) << 16) | (cdw10 >> 16)) + 1;
}

/* Features: CDW10 FID 7:0, SEL 10:8 (Get), SV 31 (Set). */
enum kvc_feature_id {
	KVC_FEAT_ARBITRATION = 0x01,
	KVC_FEAT_POWER_MGMT = 0x02,
	KVC_FEAT_TEMP_THRESH = 0x04,
	KVC_FEAT_ERROR_RECOVERY = 0x05,
	KVC_FEAT_VOLATILE_WC = 0x06,
	KVC_FEAT_NUM_QUEUES = 0x07,
	KVC_FEAT_INT_COALESCING = 0x08,
	KVC_FEAT_INT_VECTOR_CONFIG = 0x09,
	KVC_FEAT_WRITE_ATOMICITY = 0x0a,
	KVC_FEAT_ASYNC_EVENT_CONFIG = 0x0b,
	KVC_FEAT_TIMESTAMP = 0x0e,
	KVC_FEAT_KEEP_ALIVE = 0x0f,
	KVC_FEAT_IOCS_PROFILE = 0x19,
	KVC_FEAT_KV_CONFIG = 0x20, /* Key Value Configuration (KV spec), per namespace */
};
#define KVC_FEAT_FID(cdw10) ((uint8_t)((cdw10)&0xff))
#define KVC_FEAT_SEL(cdw10) ((uint8_t)(((cdw10) >> 8) & 7))
#define KVC_FEAT_SV (1u << 31)
/* Get Features SEL: which value is returned. */
enum kvc_feat_sel {
	KVC_SEL_CURRENT = 0,
	KVC_SEL_DEFAULT = 1,
	KVC_SEL_SAVED = 2,
	KVC_SEL_SUPPORTED = 3, /* DW0: the KVC_FEAT_CAP_* bits */
};
#define KVC_FEAT_CAP_SAVEABLE (1u << 0)
#define KVC_FEAT_CAP_NS_SPECIFIC (1u << 1)
#define KVC_FEAT_CAP_CHANGEABLE (1u << 2)
/* Key Value Configuration, CDW11 of Set Features and DW0 of Get Features:
 * bit 0 EDNEK, Error on Delete of Non-Existent Key (default 0: such a
 * Delete succeeds; 1: it fails with Key Does Not Exist). */
#define KVC_KV_CONFIG_EDNEK (1u << 0)
/* Arbitration: AB 2:0 (burst = 2^AB, 7 = no limit), LPW 15:8, MPW 23:16, HPW 31:24. */
/* Number of Queues: NSQR 15:0, NCQR 31:16, both 0's based; same layout in DW0. */
/* Interrupt Coalescing: THR 7:0 (0's based), TIME 15:8 (100 us units). */

/* Asynchronous events: completion DW0 type 2:0, info 15:8, log page 23:16. */
enum kvc_aer_type {
	KVC_AER_TYPE_ERROR = 0,
	KVC_AER_TYPE_SMART = 1,
	KVC_AER_TYPE_NOTICE = 2,
	KVC_AER_TYPE_IO_CMD_SET = 6,
	KVC_AER_TYPE_VENDOR = 7,
};
enum kvc_aer_error_info {
	KVC_AER_ERR_INVALID_DB = 0x00,	     /* write to invalid doorbell register */
	KVC_AER_ERR_INVALID_DB_VALUE = 0x01, /* invalid doorbell write value */
	KVC_AER_ERR_DIAG_FAILURE = 0x02,
	KVC_AER_ERR_PERSISTENT_INTERNAL = 0x03,
	KVC_AER_ERR_TRANSIENT_INTERNAL = 0x04,
};
#define KVC_AER_DW0(type, info, lid) \
	((uint32_t)(((lid)&0xff) << 16 | ((info)&0xff) << 8 | ((type)&7)))

/* Power state descriptor (32 bytes). */
struct kvc_psd {
	uint16_t mp; /* 0-1: maximum power, centiwatts */
	uint8_t rsvd2;
	uint8_t flags;	/* 3: MXPS 0, NOPS 1 */
	uint32_t enlat; /* 4-7 */
	uint32_t exlat; /* 8-11 */
	uint8_t rrt, rrl, rwt, rwl;
	uint16_t idlp;
	uint8_t ips;
	uint8_t rsvd19;
	uint16_t actp;
	uint8_t apw_aps;
	uint8_t rsvd23[9];
};
_Static_assert(sizeof(struct kvc_psd) == 32, "power state descriptor");

/* Identify Controller data structure, CNS 01h (Base spec Figure 275). */
struct kvc_id_ctrl {
	uint16_t vid;	    /* 0-1: PCI vendor ID */
	uint16_t ssvid;	    /* 2-3 */
	char sn[20];	    /* 4-23: serial number, ASCII, space padded */
	char mn[40];	    /* 24-63: model number */
	char fr[8];	    /* 64-71: firmware revision */
	uint8_t rab;	    /* 72: recommended arbitration burst */
	uint8_t ieee[3];    /* 73-75 */
	uint8_t cmic;	    /* 76 */
	uint8_t mdts;	    /* 77: max data transfer size, 2^n min pages, 0 = none */
	uint16_t cntlid;    /* 78-79 */
	uint32_t ver;	    /* 80-83 */
	uint32_t rtd3r;	    /* 84-87 */
	uint32_t rtd3e;	    /* 88-91 */
	uint32_t oaes;	    /* 92-95 */
	uint32_t ctratt;    /* 96-99 */
	uint16_t rrls;	    /* 100-101 */
	uint8_t rsvd102[9]; /* 102-110 */
	uint8_t cntrltype;  /* 111: 1 = I/O controller */
	uint8_t fguid[16];  /* 112-127 */
	uint16_t crdt[3];   /* 128-133 */
	uint8_t rsvd134[122];
	uint16_t oacs;	      /* 256-257 */
	uint8_t acl;	      /* 258: abort command limit, 0's based */
	uint8_t aerl;	      /* 259: async event request limit, 0's based */
	uint8_t frmw;	      /* 260 */
	uint8_t lpa;	      /* 261: log page attributes */
	uint8_t elpe;	      /* 262: error log page entries, 0's based */
	uint8_t npss;	      /* 263 */
	uint8_t avscc;	      /* 264 */
	uint8_t apsta;	      /* 265 */
	uint16_t wctemp;      /* 266-267 */
	uint16_t cctemp;      /* 268-269 */
	uint16_t mtfa;	      /* 270-271 */
	uint32_t hmpre;	      /* 272-275 */
	uint32_t hmmin;	      /* 276-279 */
	uint8_t tnvmcap[16];  /* 280-295 */
	uint8_t unvmcap[16];  /* 296-311 */
	uint32_t rpmbs;	      /* 312-315 */
	uint16_t edstt;	      /* 316-317 */
	uint8_t dsto;	      /* 318 */
	uint8_t fwug;	      /* 319 */
	uint16_t kas;	      /* 320-321 */
	uint16_t hctma;	      /* 322-323 */
	uint16_t mntmt;	      /* 324-325 */
	uint16_t mxtmt;	      /* 326-327 */
	uint32_t sanicap;     /* 328-331 */
	uint32_t hmminds;     /* 332-335 */
	uint16_t hmmaxd;      /* 336-337 */
	uint16_t nsetidmax;   /* 338-339 */
	uint16_t endgidmax;   /* 340-341 */
	uint8_t anatt;	      /* 342 */
	uint8_t anacap;	      /* 343 */
	uint32_t anagrpmax;   /* 344-347 */
	uint32_t nanagrpid;   /* 348-351 */
	uint32_t pels;	      /* 352-355 */
	uint8_t rsvd356[156]; /* 356-511 */
	uint8_t sqes;	      /* 512: required 3:0, max 7:4, log2 bytes */
	uint8_t cqes;	      /* 513 */
	uint16_t maxcmd;      /* 514-515 */
	uint32_t nn;	      /* 516-519: number of namespaces */
	uint16_t oncs;	      /* 520-521: optional NVM command support */
	uint16_t fuses;	      /* 522-523 */
	uint8_t fna;	      /* 524 */
	uint8_t vwc;	      /* 525: volatile write cache, bit 0 present */
	uint16_t awun;	      /* 526-527 */
	uint16_t awupf;	      /* 528-529 */
	uint8_t icsvscc;      /* 530 */
	uint8_t nwpc;	      /* 531 */
	uint16_t acwu;	      /* 532-533 */
	uint16_t rsvd534;
	uint32_t sgls;	      /* 536-539 */
	uint32_t mnan;	      /* 540-543 */
	uint8_t rsvd544[224]; /* 544-767 */
	char subnqn[256];     /* 768-1023 */
	uint8_t rsvd1024[768];
	uint32_t ioccsz; /* 1792-1795: fabrics */
	uint32_t iorcsz; /* 1796-1799 */
	uint16_t icdoff; /* 1800-1801 */
	uint8_t fcatt;	 /* 1802 */
	uint8_t msdbd;	 /* 1803 */
	uint16_t ofcs;	 /* 1804-1805 */
	uint8_t rsvd1806[242];
	struct kvc_psd psd[32]; /* 2048-3071 */
	uint8_t vs[1024];	/* 3072-4095 */
};
_Static_assert(sizeof(struct kvc_id_ctrl) == KVC_IDENTIFY_SIZE, "identify controller");
_Static_assert(__builtin_offsetof(struct kvc_id_ctrl, oacs) == 256, "oacs offset");
_Static_assert(__builtin_offsetof(struct kvc_id_ctrl, sqes) == 512, "sqes offset");
_Static_assert(__builtin_offsetof(struct kvc_id_ctrl, subnqn) == 768, "subnqn offset");
_Static_assert(__builtin_offsetof(struct kvc_id_ctrl, psd) == 2048, "psd offset");

/*
 * nvkv's vendor-specific area of Identify Controller (bytes 3072..4095): what
 * a host needs to choose value-transfer methods -- the modeled link, DMA
 * granularity and the vendor commands the device accepts.
 */
struct kvc_id_nvkv {
	char magic[4];	    /* 0-3: "NVKV" */
	uint16_t version;   /* 4-5: 1 */
	uint8_t pcie_gen;   /* 6 */
	uint8_t pcie_lanes; /* 7 */
	uint16_t pcie_mps;  /* 8-9 */
	uint16_t pcie_mrrs; /* 10-11 */
	uint16_t pcie_rcb;  /* 12-13 */
	uint8_t dma_page;   /* 14: 1 = PRP DMA moves whole 4 KiB pages */
	uint8_t xfer_caps;  /* 15: KVC_NVKV_XFER_* */
	uint8_t timing;	    /* 16: 0 off, 1 realtime */
	uint8_t rsvd17[3];
	uint32_t fw_overhead_ns; /* 20-23 */
	uint8_t rsvd24[1000];
};
_Static_assert(sizeof(struct kvc_id_nvkv) == 1024, "nvkv identify vendor area");
#define KVC_NVKV_XFER_BANDSLIM 0x01	/* C0h, C4h */
#define KVC_NVKV_XFER_BANDSLIM_PRP 0x02 /* C1h */
#define KVC_NVKV_XFER_BYTEEXPRESS 0x04	/* C8h */

/* OACS / LPA / CTRATT / ONCS bits we use. */
#define KVC_ONCS_SAVE_SELECT (1u << 4) /* Set Features SV and Get Features SEL */
#define KVC_LPA_CMD_EFFECTS (1u << 1)
#define KVC_LPA_EXT_DATA (1u << 2)
#define KVC_CTRATT_TBKAS (1u << 6)  /* Traffic Based Keep Alive (base 2.0, Identify CTRATT) */
#define KVC_CTRATT_ELBAS (1u << 15) /* extended LBA formats (unused) */
#define KVC_OAES_NS_ATTR (1u << 8)
#define KVC_ONCS_DSM (1u << 2) /* Dataset Management */
/* OACS (Identify Controller bytes 257:256): Format NVM supported. */
#define KVC_OACS_FORMAT (1u << 1)
#define KVC_ONCS_WRITE_ZEROES (1u << 3)

/* LBA format (4 bytes): MS 15:0, LBADS 23:16, RP 25:24. */
struct kvc_lbaf {
	uint16_t ms;
	uint8_t lbads;
	uint8_t rp;
};
_Static_assert(sizeof(struct kvc_lbaf) == 4, "lba format");

/* Identify Namespace, NVM command set, CNS 00h (NVM spec Figure 97). */
struct kvc_id_ns_nvm {
	uint64_t nsze;			       /* 0-7: size in logical blocks */
	uint64_t ncap;			       /* 8-15 */
	uint64_t nuse;			       /* 16-23 */
	uint8_t nsfeat;			       /* 24 */
	uint8_t nlbaf;			       /* 25: 0's based */
	uint8_t flbas;			       /* 26 */
	uint8_t mc;			       /* 27 */
	uint8_t dpc;			       /* 28 */
	uint8_t dps;			       /* 29 */
	uint8_t nmic;			       /* 30 */
	uint8_t rescap;			       /* 31 */
	uint8_t fpi;			       /* 32 */
	uint8_t dlfeat;			       /* 33 */
	uint16_t nawun;			       /* 34-35 */
	uint16_t nawupf;		       /* 36-37 */
	uint16_t nacwu;			       /* 38-39 */
	uint16_t nabsn;			       /* 40-41 */
	uint16_t nabo;			       /* 42-43 */
	uint16_t nabspf;		       /* 44-45 */
	uint16_t noiob;			       /* 46-47 */
	uint8_t nvmcap[16];		       /* 48-63 */
	uint16_t npwg, npwa, npdg, npda, nows; /* 64-73 */
	uint8_t rsvd74[18];
	uint32_t anagrpid; /* 92-95 */
	uint8_t rsvd96[3];
	uint8_t nsattr;		  /* 99 */
	uint16_t nvmsetid;	  /* 100-101 */
	uint16_t endgid;	  /* 102-103 */
	uint8_t nguid[16];	  /* 104-119 */
	uint8_t eui64[8];	  /* 120-127 */
	struct kvc_lbaf lbaf[64]; /* 128-383 */
	uint8_t vs[3712];	  /* 384-4095 */
};
_Static_assert(sizeof(struct kvc_id_ns_nvm) == KVC_IDENTIFY_SIZE, "identify ns nvm");
_Static_assert(__builtin_offsetof(struct kvc_id_ns_nvm, lbaf) == 128, "lbaf offset");

/* KV format descriptor (16 bytes, KV spec Figure "KV Format Data Structure"). */
struct kvc_kv_format {
	uint16_t kvkml; /* 0-1: maximum key length, bytes */
	uint8_t rsvd2;
	uint8_t kvfa;	/* 3: additional format options, RP 7:6 */
	uint32_t kvvml; /* 4-7: maximum value length, bytes */
	uint32_t kvmnk; /* 8-11: maximum number of keys, 0 = no limit */
	uint32_t rsvd12;
};
_Static_assert(sizeof(struct kvc_kv_format) == 16, "kv format");

/* Identify Namespace, Key Value command set, CNS 05h with CSI 01h. */
struct kvc_id_ns_kv {
	uint64_t nsze; /* 0-7: namespace size, bytes */
	uint8_t rsvd8[8];
	uint64_t nuse;	/* 16-23: namespace utilization, bytes */
	uint8_t nsfeat; /* 24 */
	uint8_t nkvf;	/* 25: number of KV formats, 0's based */
	uint8_t nmic;	/* 26 */
	uint8_t rescap; /* 27 */
	uint8_t fpi;	/* 28 */
	uint8_t rsvd29[3];
	uint32_t novg;	   /* 32-35: optimal value granularity, bytes */
	uint32_t anagrpid; /* 36-39 */
	uint8_t rsvd40[3];
	uint8_t nsattr;		      /* 43 */
	uint16_t nvmsetid;	      /* 44-45 */
	uint16_t endgid;	      /* 46-47 */
	uint8_t nguid[16];	      /* 48-63 */
	uint8_t eui64[8];	      /* 64-71 */
	struct kvc_kv_format kvf[16]; /* 72-327 */
	uint8_t rsvd328[3512];
	uint8_t vs[256]; /* 3840-4095 */
};
_Static_assert(sizeof(struct kvc_id_ns_kv) == KVC_IDENTIFY_SIZE, "identify ns kv");
_Static_assert(__builtin_offsetof(struct kvc_id_ns_kv, novg) == 32, "novg offset");
_Static_assert(__builtin_offsetof(struct kvc_id_ns_kv, kvf) == 72, "kvf offset");

/* I/O Command Set specific Identify Controller for KV (CNS 06h, CSI 01h):
 * the KV specification defines no fields; the structure is all reserved. */
struct kvc_id_ctrl_kv {
	uint8_t rsvd0[4096];
};
_Static_assert(sizeof(struct kvc_id_ctrl_kv) == KVC_IDENTIFY_SIZE, "identify ctrl kv");

/* I/O Command Set Independent Identify Namespace, CNS 08h. */
struct kvc_id_ns_indep {
	uint8_t nsfeat;	   /* 0 */
	uint8_t nmic;	   /* 1 */
	uint8_t rescap;	   /* 2 */
	uint8_t fpi;	   /* 3 */
	uint32_t anagrpid; /* 4-7 */
	uint8_t nsattr;	   /* 8 */
	uint8_t rsvd9;
	uint16_t nvmsetid; /* 10-11 */
	uint16_t endgid;   /* 12-13 */
	uint8_t nstat;	   /* 14: bit 0 namespace ready */
	uint8_t rsvd15[4081];
};
_Static_assert(sizeof(struct kvc_id_ns_indep) == KVC_IDENTIFY_SIZE, "identify ns indep");
_Static_assert(__builtin_offsetof(struct kvc_id_ns_indep, nstat) == 14, "nstat offset");
#define KVC_NSTAT_READY 0x01

/* Namespace Identification Descriptor (CNS 03h): header then NIDL bytes. */
struct kvc_ns_desc_hdr {
	uint8_t nidt; /* type */
	uint8_t nidl; /* length of the identifier that follows */
	uint16_t rsvd2;
};
_Static_assert(sizeof(struct kvc_ns_desc_hdr) == 4, "ns descriptor header");
enum kvc_nidt {
	KVC_NIDT_EUI64 = 1, /* 8 bytes */
	KVC_NIDT_NGUID = 2, /* 16 bytes */
	KVC_NIDT_UUID = 3,  /* 16 bytes */
	KVC_NIDT_CSI = 4,   /* 1 byte */
};

/* I/O Command Set data structure (CNS 1Ch): 512 command set vectors, each a
 * bitmap of CSIs (bit n = CSI n). */
struct kvc_iocs_profile {
	uint64_t vector[512];
};
_Static_assert(sizeof(struct kvc_iocs_profile) == KVC_IDENTIFY_SIZE, "iocs profile");

/* Commands Supported and Effects log (LID 05h), per CSI. */
struct kvc_effects_log {
	uint32_t acs[256];  /* 0-1023: admin commands */
	uint32_t iocs[256]; /* 1024-2047: I/O commands of the selected CSI */
	uint8_t rsvd2048[2048];
};
_Static_assert(sizeof(struct kvc_effects_log) == 4096, "effects log");
#define KVC_EFFECTS_CSUPP (1u << 0) /* command supported */
#define KVC_EFFECTS_LBCC (1u << 1)  /* logical block content change */
#define KVC_EFFECTS_NCC (1u << 2)   /* namespace capability change */
#define KVC_EFFECTS_NIC (1u << 3)   /* namespace inventory change */
#define KVC_EFFECTS_CCC (1u << 4)   /* controller capability change */
#define KVC_EFFECTS_CSE_SHIFT 16    /* command submission and execution, 18:16 */

/* Error Information log entry (LID 01h), 64 bytes. */
struct kvc_error_log_entry {
	uint64_t error_count; /* 0-7 */
	uint16_t sqid;	      /* 8-9 */
	uint16_t cid;	      /* 10-11 */
	uint16_t status;      /* 12-13: status field, phase in bit 0 */
	uint16_t param_loc;   /* 14-15 */
	uint64_t lba;	      /* 16-23 */
	uint32_t nsid;	      /* 24-27 */
	uint8_t vs;	      /* 28 */
	uint8_t trtype;	      /* 29 */
	uint16_t rsvd30;
	uint64_t csi_info;    /* 32-39 */
	uint16_t trtype_info; /* 40-41 */
	uint8_t rsvd42[22];
};
_Static_assert(sizeof(struct kvc_error_log_entry) == 64, "error log entry");

/* SMART critical warning bits (byte 0). */
#define KVC_SMART_CW_SPARE 0x01	      /* available spare below threshold */
#define KVC_SMART_CW_RELIABILITY 0x04 /* reliability degraded by media errors */
#define KVC_SMART_CW_READ_ONLY 0x08   /* media placed in read-only mode */

/* SMART / Health Information log (LID 02h), 512 bytes. */
struct kvc_smart_log {
	uint8_t critical_warning; /* 0 */
	uint16_t temperature;	  /* 1-2: Kelvin, unaligned on the wire */
	uint8_t avail_spare;	  /* 3 */
	uint8_t spare_thresh;	  /* 4 */
	uint8_t percent_used;	  /* 5 */
	uint8_t endgrp_warning;	  /* 6 */
	uint8_t rsvd7[25];
	uint8_t data_units_read[16];	 /* 32-47: thousands of 512-byte units */
	uint8_t data_units_written[16];	 /* 48-63 */
	uint8_t host_reads[16];		 /* 64-79 */
	uint8_t host_writes[16];	 /* 80-95 */
	uint8_t ctrl_busy_time[16];	 /* 96-111 */
	uint8_t power_cycles[16];	 /* 112-127 */
	uint8_t power_on_hours[16];	 /* 128-143 */
	uint8_t unsafe_shutdowns[16];	 /* 144-159 */
	uint8_t media_errors[16];	 /* 160-175 */
	uint8_t num_err_log_entries[16]; /* 176-191 */
	uint8_t rsvd192[320];
} __attribute__((packed));
_Static_assert(sizeof(struct kvc_smart_log) == 512, "smart log");

#endif /* KVC_ADMIN_H */
