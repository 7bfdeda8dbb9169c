/* SPDX-License-Identifier: MIT */
/*
 * NVMe controller registers (NVMe Base Specification 2.0, section 3.1,
 * "Controller Properties"): offsets in the BAR, field positions, and the
 * doorbell layout.  Registers are little-endian 32- or 64-bit values.
 */
#ifndef KVC_REGS_H
#define KVC_REGS_H

#include <stdint.h>

/* Register offsets in BAR0. */
enum kvc_reg {
	KVC_REG_CAP = 0x00,   /* 64-bit: controller capabilities */
	KVC_REG_VS = 0x08,    /* version */
	KVC_REG_INTMS = 0x0c, /* interrupt mask set */
	KVC_REG_INTMC = 0x10, /* interrupt mask clear */
	KVC_REG_CC = 0x14,    /* controller configuration */
	KVC_REG_CSTS = 0x1c,  /* controller status */
	KVC_REG_NSSR = 0x20,  /* NVM subsystem reset */
	KVC_REG_AQA = 0x24,   /* admin queue attributes */
	KVC_REG_ASQ = 0x28,   /* 64-bit: admin SQ base address */
	KVC_REG_ACQ = 0x30,   /* 64-bit: admin CQ base address */
	KVC_REG_DBS = 0x1000, /* first doorbell */
};

/* CAP */
#define KVC_CAP_MQES(cap) ((uint32_t)((cap)&0xffff)) /* max queue entries, 0's based */
#define KVC_CAP_CQR (1ull << 16)		     /* contiguous queues required */
#define KVC_CAP_TO_SHIFT 24			     /* ready timeout, 500 ms units */
#define KVC_CAP_TO(cap) ((uint32_t)(((cap) >> 24) & 0xff))
#define KVC_CAP_DSTRD_SHIFT 32 /* doorbell stride: 4 << DSTRD bytes */
#define KVC_CAP_DSTRD(cap) ((uint32_t)(((cap) >> 32) & 0xf))
#define KVC_CAP_CSS_SHIFT 37 /* command sets supported, 8 bits */
#define KVC_CAP_CSS_NVM (1ull << 37)
#define KVC_CAP_CSS_IOCS (1ull << 43) /* "one or more I/O command sets" (CSS bit 6) */
#define KVC_CAP_CSS_NOIO (1ull << 44)
#define KVC_CAP_MPSMIN_SHIFT 48 /* 2^(12 + MPSMIN) bytes */
#define KVC_CAP_MPSMAX_SHIFT 52

/* VS: major 31:16, minor 15:8, tertiary 7:0 */
#define KVC_VS(mjr, mnr, ter) ((uint32_t)(((mjr) << 16) | ((mnr) << 8) | (ter)))

/* CC */
#define KVC_CC_EN (1u << 0)
#define KVC_CC_CSS_SHIFT 4
#define KVC_CC_CSS_MASK (7u << 4)
#define KVC_CC_CSS_NVM 0u   /* NVM command set only */
#define KVC_CC_CSS_ALL 6u   /* all supported I/O command sets */
#define KVC_CC_CSS_ADMIN 7u /* admin only */
#define KVC_CC_MPS_SHIFT 7  /* 2^(12 + MPS) */
#define KVC_CC_MPS_MASK (0xfu << 7)
#define KVC_CC_AMS_SHIFT 11
#define KVC_CC_SHN_SHIFT 14
#define KVC_CC_SHN_MASK (3u << 14)
#define KVC_CC_SHN_NORMAL (1u << 14)
#define KVC_CC_SHN_ABRUPT (2u << 14)
#define KVC_CC_IOSQES_SHIFT 16 /* 2^n bytes; 6 for 64 */
#define KVC_CC_IOCQES_SHIFT 20 /* 2^n bytes; 4 for 16 */

/* CSTS */
#define KVC_CSTS_RDY (1u << 0)
#define KVC_CSTS_CFS (1u << 1) /* controller fatal status */
#define KVC_CSTS_SHST_SHIFT 2
#define KVC_CSTS_SHST_MASK (3u << 2)
#define KVC_CSTS_SHST_NORMAL (0u << 2)
#define KVC_CSTS_SHST_OCCURRING (1u << 2)
#define KVC_CSTS_SHST_COMPLETE (2u << 2)

/* AQA: admin SQ size 11:0, admin CQ size 27:16, both 0's based */
#define KVC_AQA_ASQS(aqa) ((aqa)&0xfff)
#define KVC_AQA_ACQS(aqa) (((aqa) >> 16) & 0xfff)
#define KVC_AQA(sq, cq) ((uint32_t)((((cq)-1) << 16) | ((sq)-1)))

/* Size of the register block before the doorbells. */
#define KVC_REGS_SIZE 0x1000

/* Doorbell offsets: SQ y tail at 0x1000 + (2y) * stride, CQ y head at (2y + 1). */
static inline uint32_t kvc_sq_tail_db(uint16_t qid, uint32_t dstrd)
{
	return KVC_REG_DBS + (2u * qid) * (4u << dstrd);
}

static inline uint32_t kvc_cq_head_db(uint16_t qid, uint32_t dstrd)
{
	return KVC_REG_DBS + (2u * qid + 1) * (4u << dstrd);
}

#endif /* KVC_REGS_H */
