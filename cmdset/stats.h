/* SPDX-License-Identifier: MIT */
/*
 * nvkv device statistics: the vendor log page C0h ("nvkv statistics") that
 * Get Log Page returns, read by `nvkv stats` and nvkv-bench.  Every field is a
 * little-endian u64 unless noted; counters start at zero when the device
 * starts.  Layout version 3 (version 2 had no block commands, nsid or csi;
 * version 1 had no SGL method row).
 *
 * Get Log Page NSID 0 or FFFFFFFFh: the whole device: every command, all
 * PCIe and NAND traffic; keys, used_bytes, capacity and the value-log fields
 * describe the KV namespace.  NSID n: namespace n only: its commands, the
 * PCIe traffic attributable to them (m_pcie_*; pcie_* per kind stay zero:
 * doorbells and fetches are shared), the NAND operations of its own FTL, its
 * capacity and use; for a block namespace host_bytes_written counts logical
 * block bytes written and gc_bytes the bytes GC moved.
 */
#ifndef KVC_STATS_H
#define KVC_STATS_H

#include <stdint.h>
#include <stdio.h>

#define KVC_STATS_VERSION 3

/* Command kinds counted separately (index into the per-op arrays). */
enum kvc_stat_op {
	KVC_OP_STORE, /* KV Store 01h, BandSlim and ByteExpress stores completed */
	KVC_OP_RETRIEVE,
	KVC_OP_DELETE,
	KVC_OP_EXIST,
	KVC_OP_LIST,
	KVC_OP_FLUSH,
	KVC_OP_BS_XFER, /* BandSlim transfer commands */
	KVC_OP_ADMIN,
	KVC_OP_OTHER, /* invalid or unsupported opcodes */
	/* NVM (block) namespace commands (version 3) */
	KVC_OP_READ,
	KVC_OP_WRITE,
	KVC_OP_WRITE_ZEROES,
	KVC_OP_DSM, /* Dataset Management */
	KVC_OP_NUM,
};

/* Value-transfer methods of Store commands. */
enum kvc_stat_method {
	KVC_XM_PRP,
	KVC_XM_BANDSLIM,
	KVC_XM_BYTEEXPRESS,
	KVC_XM_SGL,  /* KV Store whose DPTR is an SGL (PSDT 01b/10b) */
	KVC_XM_NONE, /* commands that move no value (Exist, Delete, admin, ...) */
	KVC_XM_NUM,
};

/* PCIe transaction kinds, as firmware/pcie.h. */
enum kvc_stat_pcie {
	KVC_PK_DOORBELL,
	KVC_PK_SQE,
	KVC_PK_PRP_LIST,
	KVC_PK_DATA,
	KVC_PK_CQE,
	KVC_PK_MSIX,
	KVC_PK_NUM,
};

/* Latency histogram: bucket b covers [lo(b), lo(b+1)) ns with 4 buckets per
 * power of two: lo(b) = b < 4 ? b : (4 + b % 4) << (b / 4 - 1). */
#define KVC_LAT_BUCKETS 128

struct kvc_stats_log {
	uint32_t version;		 /* 0 */
	uint32_t size;			 /* 4: bytes of this structure */
	uint64_t model_ns;		 /* 8: modeled clock: latest modeled completion */
	uint64_t uptime_ns;		 /* 16 */
	uint64_t keys;			 /* 24: keys stored */
	uint64_t used_bytes;		 /* 32: live record bytes in the value log */
	uint64_t capacity;		 /* 40: namespace capacity, bytes */
	uint64_t cmds[KVC_OP_NUM];	 /* 48 */
	uint64_t errors[KVC_OP_NUM];	 /* completed with a non-zero status */
	uint64_t lat_sum_ns[KVC_OP_NUM]; /* modeled latency totals */
	uint64_t m_cmds[KVC_XM_NUM];	 /* commands per transfer method */
	uint64_t m_stores[KVC_XM_NUM];	 /* Stores completed per method */
	uint64_t m_value_bytes[KVC_XM_NUM];
	uint64_t m_pcie_bytes[KVC_XM_NUM][2]; /* [up, down] attributable traffic */
	uint64_t m_pcie_tlps[KVC_XM_NUM][2];
	uint64_t key_bytes;		   /* key bytes of completed Stores */
	uint64_t value_bytes_in;	   /* value bytes stored */
	uint64_t value_bytes_out;	   /* value bytes returned by Retrieve */
	uint64_t pcie_tlps[KVC_PK_NUM][2]; /* [kind][up, down] */
	uint64_t pcie_bytes[KVC_PK_NUM][2];
	uint64_t nand_reads;
	uint64_t nand_programs;
	uint64_t nand_erases;
	uint64_t nand_read_bytes;
	uint64_t flash_bytes_written; /* programs x page size */
	uint64_t host_bytes_written;  /* key + value bytes stored by hosts */
	uint64_t rec_bytes;	      /* record bytes appended, GC included */
	uint64_t pad_bytes;	      /* alignment gaps programmed empty */
	uint64_t backfills;
	uint64_t gc_runs;
	uint64_t gc_moves;
	uint64_t gc_bytes;
	uint64_t crc_errors;
	uint64_t media_errors;
	uint64_t aer_events;
	uint64_t index_bytes; /* device RAM used by the key index */
	uint32_t nsid;	      /* the namespace this log describes; 0 = the whole device */
	uint8_t csi;	      /* its command set (00h NVM, 01h KV); 0 for the device */
	uint8_t rsvd_ns[3];
	/* Bytes on a fabric (NVMe/TCP PDUs, every connection) [received,
	 * sent]; 0 on PCIe. */
	uint64_t fabric_bytes[2];
	/* GC scheduling (device-wide): passes that ran urgent (took the NAND
	 * from host I/O), host NAND operations that waited for a GC slice to
	 * end, and their total wait.  Reserved zeros before. */
	uint64_t gc_urgent;
	uint64_t gc_waits;
	uint64_t gc_wait_ns;
	/* Value-log bytes written and not reclaimed yet: the full superblocks
	 * and the open one's written part, dead records and alignment padding
	 * included (what used_bytes leaves out; GC takes it back).  0 for the
	 * block namespace; reserved zero before. */
	uint64_t log_bytes;
	uint64_t lat_hist[KVC_OP_NUM][KVC_LAT_BUCKETS];
};

static inline uint64_t kvc_lat_bucket_lo(unsigned int b)
{
	return b < 4 ? b : (uint64_t)(4 + b % 4) << (b / 4 - 1);
}

static inline unsigned int kvc_lat_bucket(uint64_t ns)
{
	unsigned int msb, b;

	if (ns < 4)
		return (unsigned int)ns;
	msb = 63 - (unsigned int)__builtin_clzll(ns);
	b = (msb - 1) * 4 + (unsigned int)((ns >> (msb - 2)) & 3);
	return b < KVC_LAT_BUCKETS ? b : KVC_LAT_BUCKETS - 1;
}

/* Percentile @p (0..100) of histogram @h in ns (bucket lower bound). */
uint64_t kvc_lat_percentile(const uint64_t h[KVC_LAT_BUCKETS], double p);

const char *kvc_stat_op_name(enum kvc_stat_op op);
const char *kvc_stat_method_name(enum kvc_stat_method m);
const char *kvc_stat_pcie_name(enum kvc_stat_pcie k);

/**
 * kvc_stats_print() - print a statistics log for people or programs.
 * @f: output.
 * @l: the log page (host byte order on little-endian hosts).
 * @json: one JSON object instead of text.
 */
void kvc_stats_print(FILE *f, const struct kvc_stats_log *l, int json);

#endif /* KVC_STATS_H */
