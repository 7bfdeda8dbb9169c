/* SPDX-License-Identifier: MIT */
/*
 * The shared-memory "PCIe" transport between a host driver and nvkv-emu.
 *
 * 1. The host connects to the emulator's unix socket (SOCK_SEQPACKET) and
 *    sends struct kvc_shm_hello with one fd (SCM_RIGHTS): its host memory, a
 *    memfd of hello.mem_size bytes sealed with F_SEAL_SHRINK (others are
 *    refused).  DMA addresses are offsets in it.
 * 2. The emulator answers struct kvc_shm_welcome with three fds: the BAR
 *    (mapped shared, bar_size bytes, sealed against resizing), the device
 *    wake eventfd and the interrupt eventfd.  status != 0 means refused;
 *    message says why.
 * 3. The connection stays open: either side closing it detaches the
 *    controller (the emulator drops it; the host sees the device gone).
 *
 * BAR layout: NVMe registers at 0, doorbells from 0x1000 (stride 4), and at
 * tp_offset the transport page below.  Doorbells are polled by the device; an
 * idle device sleeps on its wake eventfd after setting dev_sleeping, so after
 * writing a doorbell or a register the host issues a full fence, reads
 * dev_sleeping, and if set writes 1 to the wake eventfd.  Likewise the device
 * writes the interrupt eventfd after posting completions when host_waiting
 * is set.  All fields little-endian, accessed with atomics.
 */
#ifndef KVC_SHM_H
#define KVC_SHM_H

#include <stdint.h>

#define KVC_SHM_MAGIC 0x4e564b56u /* "VKVN" in memory order */
#define KVC_SHM_VERSION 1
#define KVC_SHM_MIN_MEM (1u << 20)

struct kvc_shm_hello {
	uint32_t magic;
	uint32_t version;
	uint64_t mem_size; /* bytes of host memory in the fd */
	char name[48];	   /* host name for logs, NUL terminated */
};
_Static_assert(sizeof(struct kvc_shm_hello) == 64, "shm hello");

struct kvc_shm_welcome {
	uint32_t magic;
	uint32_t version;
	int32_t status; /* 0 or -errno */
	uint32_t bar_size;
	uint32_t tp_offset; /* transport page offset in the BAR */
	uint16_t cntlid;
	uint16_t rsvd22;
	char message[104]; /* why a connection was refused */
};
_Static_assert(sizeof(struct kvc_shm_welcome) == 128, "shm welcome");

/* The transport page, at tp_offset in the BAR. */
struct kvc_shm_tp {
	uint32_t dev_sleeping; /* 0: device polling; 1: device waits on its eventfd */
	uint32_t host_waiting; /* 1: host waits on the interrupt eventfd */
	uint64_t heartbeat;    /* incremented by the device while it runs */
	uint64_t irq_count;    /* interrupts raised */
	uint32_t dev_state;    /* KVC_SHM_STATE_* */
	uint32_t rsvd28;
	uint8_t rsvd32[4064];
};
_Static_assert(sizeof(struct kvc_shm_tp) == 4096, "shm transport page");

enum kvc_shm_state {
	KVC_SHM_STATE_RUNNING = 1,
	KVC_SHM_STATE_STOPPING = 2, /* emulator shutting down */
};

#endif /* KVC_SHM_H */
