/* SPDX-License-Identifier: MIT */
/*
 * NVM (block) command set I/O commands used by the hybrid block + KV device:
 * Flush, Write, Read, Write Zeroes, Dataset Management (NVM Command Set
 * Specification 1.0, section 3).
 */
#ifndef KVC_NVM_H
#define KVC_NVM_H

#include <stdint.h>

enum kvc_nvm_opc {
	KVC_NVM_FLUSH = 0x00,
	KVC_NVM_WRITE = 0x01,
	KVC_NVM_READ = 0x02,
	KVC_NVM_WRITE_ZEROES = 0x08,
	KVC_NVM_DSM = 0x09, /* Dataset Management */
};

/* Read/Write: CDW10-11 starting LBA (64-bit), CDW12 NLB 15:0 (0's based),
 * PRINFO 29:26, FUA 30, LR 31. */
#define KVC_NVM_NLB(cdw12) ((uint32_t)((cdw12)&0xffff) + 1)
#define KVC_NVM_FUA (1u << 30)
#define KVC_NVM_LR (1u << 31)

static inline uint64_t kvc_nvm_slba(uint32_t cdw10, uint32_t cdw11)
{
	return ((uint64_t)cdw11 << 32) | cdw10;
}

#endif /* KVC_NVM_H */
