/* SPDX-License-Identifier: MIT */
/*
 * NVMe/TCP transport PDUs (NVMe over TCP Transport Specification 1.0,
 * section 3.6).  Every PDU starts with the 8-byte common header; the
 * PDU-specific header follows.  The target comes later; the layouts are fixed
 * here so both sides share them.
 */
#ifndef KVC_TCP_H
#define KVC_TCP_H

#include <stdint.h>
#include "queue.h"

enum kvc_tcp_pdu_type {
	KVC_TCP_ICREQ = 0x00,
	KVC_TCP_ICRESP = 0x01,
	KVC_TCP_H2C_TERM = 0x02,
	KVC_TCP_C2H_TERM = 0x03,
	KVC_TCP_CAPSULE_CMD = 0x04,
	KVC_TCP_CAPSULE_RESP = 0x05,
	KVC_TCP_H2C_DATA = 0x06,
	KVC_TCP_C2H_DATA = 0x07,
	KVC_TCP_R2T = 0x09,
};

/* Common header flags. */
#define KVC_TCP_F_HDGSTF 0x01	    /* header digest present */
#define KVC_TCP_F_DDGSTF 0x02	    /* data digest present */
#define KVC_TCP_F_DATA_LAST 0x04    /* H2CData/C2HData: last PDU of the transfer */
#define KVC_TCP_F_DATA_SUCCESS 0x08 /* C2HData: command completed, no CapsuleResp */

struct kvc_tcp_ch {
	uint8_t pdu_type; /* 0 */
	uint8_t flags;	  /* 1 */
	uint8_t hlen;	  /* 2: header length */
	uint8_t pdo;	  /* 3: data offset */
	uint32_t plen;	  /* 4-7: total PDU length */
};
_Static_assert(sizeof(struct kvc_tcp_ch) == 8, "tcp common header");

struct kvc_tcp_icreq {
	struct kvc_tcp_ch ch;
	uint16_t pfv;	 /* 8-9: PDU format version, 0 */
	uint8_t hpda;	 /* 10: host PDU data alignment */
	uint8_t dgst;	 /* 11: bit 0 HDGST_ENABLE, bit 1 DDGST_ENABLE */
	uint32_t maxr2t; /* 12-15: max outstanding R2T, 0's based */
	uint8_t rsvd16[112];
};
_Static_assert(sizeof(struct kvc_tcp_icreq) == 128, "ICReq");

struct kvc_tcp_icresp {
	struct kvc_tcp_ch ch;
	uint16_t pfv;	  /* 8-9 */
	uint8_t cpda;	  /* 10: controller PDU data alignment */
	uint8_t dgst;	  /* 11 */
	uint32_t maxdata; /* 12-15: max H2C data per PDU */
	uint8_t rsvd16[112];
};
_Static_assert(sizeof(struct kvc_tcp_icresp) == 128, "ICResp");

struct kvc_tcp_cmd {
	struct kvc_tcp_ch ch;
	struct kvc_sqe sqe; /* 8-71; in-capsule data may follow */
};
_Static_assert(sizeof(struct kvc_tcp_cmd) == 72, "CapsuleCmd header");

struct kvc_tcp_rsp {
	struct kvc_tcp_ch ch;
	struct kvc_cqe cqe; /* 8-23 */
};
_Static_assert(sizeof(struct kvc_tcp_rsp) == 24, "CapsuleResp");

/* H2CData and C2HData share a layout. */
struct kvc_tcp_data {
	struct kvc_tcp_ch ch;
	uint16_t cccid; /* 8-9: command capsule CID */
	uint16_t ttag;	/* 10-11: transfer tag (H2C) */
	uint32_t datao; /* 12-15: data offset */
	uint32_t datal; /* 16-19: data length */
	uint8_t rsvd20[4];
};
_Static_assert(sizeof(struct kvc_tcp_data) == 24, "H2CData/C2HData");

struct kvc_tcp_r2t {
	struct kvc_tcp_ch ch;
	uint16_t cccid; /* 8-9 */
	uint16_t ttag;	/* 10-11 */
	uint32_t r2to;	/* 12-15: requested offset */
	uint32_t r2tl;	/* 16-19: requested length */
	uint8_t rsvd20[4];
};
_Static_assert(sizeof(struct kvc_tcp_r2t) == 24, "R2T");

struct kvc_tcp_term {
	struct kvc_tcp_ch ch;
	uint16_t fes; /* 8-9: fatal error status */
	uint32_t fei; /* 10-13: fatal error information, unaligned */
	uint8_t rsvd14[10];
} __attribute__((packed));
_Static_assert(sizeof(struct kvc_tcp_term) == 24, "H2C/C2HTermReq");

/* Fatal error status values for TermReq. */
enum kvc_tcp_fes {
	KVC_TCP_FES_INVALID_HEADER = 0x01,
	KVC_TCP_FES_PDU_SEQ_ERROR = 0x02,
	KVC_TCP_FES_HDGST_ERROR = 0x03,
	KVC_TCP_FES_DATA_OUT_OF_RANGE = 0x04,
	KVC_TCP_FES_R2T_LIMIT = 0x05,
	KVC_TCP_FES_DATA_LIMIT = 0x06,
	KVC_TCP_FES_UNSUPPORTED_PARAM = 0x07,
};

#endif /* KVC_TCP_H */
