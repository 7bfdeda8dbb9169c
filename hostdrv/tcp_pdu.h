/* SPDX-License-Identifier: MIT */
/*
 * The NVMe/TCP initiator's wire formats, free of sockets so unit tests can
 * check them byte by byte: CRC32C digests, ICReq/ICResp, CapsuleCmd and
 * H2CData headers, parsing of what a controller sends (CapsuleResp,
 * C2HData, R2T, C2HTermReq), Fabrics Connect and Property Get/Set commands,
 * the data-pointer rewriting of a local SQE, and the device string.
 */
#ifndef NVKV_TCP_PDU_H
#define NVKV_TCP_PDU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmdset/queue.h"

#define TCP_DEFAULT_NQN "nqn.2026-11.io.nvkv:NVKV0001"
#define TCP_DEFAULT_KATO_MS 10000u

/* CRC32C (Castagnoli) of @n bytes, as NVMe/TCP digests carry it. */
uint32_t tcp_crc32c(const void *p, size_t n);

static inline size_t tcp_capsule_hdr_len(bool hd)
{
	return 72 + (hd ? 4 : 0);
}

static inline size_t tcp_capsule_len(bool hd, bool dd, uint32_t dlen)
{
	return tcp_capsule_hdr_len(hd) + dlen + (dlen && dd ? 4 : 0);
}

static inline size_t tcp_data_hdr_len(bool hd)
{
	return 24 + (hd ? 4 : 0);
}

static inline size_t tcp_data_len(bool hd, bool dd, uint32_t n)
{
	return tcp_data_hdr_len(hd) + n + (dd ? 4 : 0);
}

/* ICReq (128 bytes): PFV 0, HPDA 0, MAXR2T 0, the digests asked for. */
void tcp_put_icreq(uint8_t *p, bool hd, bool dd);
/* Check an ICResp; the digests granted and MAXH2CDATA.  0 or -EPROTO. */
int tcp_parse_icresp(const uint8_t *p, uint32_t plen, bool *hd, bool *dd, uint32_t *maxh2c);
/* CapsuleCmd header (+ header digest) for @sqe followed by @dlen bytes of data
 * (the caller writes them, then the data digest). */
void tcp_put_capsule_hdr(uint8_t *p, const struct kvc_sqe *sqe, bool hd, bool dd, uint32_t dlen);
/* H2CData header (+ header digest). */
void tcp_put_h2c_hdr(uint8_t *p, bool hd, bool dd, uint16_t cccid, uint16_t ttag, uint32_t off,
		     uint32_t n, bool last);

struct tcp_r2t_info {
	uint16_t cccid, ttag;
	uint32_t offset, length;
};

/* A PDU from a controller, checked. */
struct tcp_pdu_view {
	uint8_t type;
	struct kvc_cqe cqe; /* CapsuleResp (copied: PDUs are not aligned) */
	uint16_t cccid;	    /* C2HData */
	uint32_t offset, dlen;
	const uint8_t *data;
	bool last, success;
	struct tcp_r2t_info r2t; /* R2T */
	uint16_t fes;		 /* C2HTermReq */
};

/* Parse a whole PDU of @plen bytes; 0, or -EPROTO for anything malformed,
 * -EBADMSG for a digest mismatch. */
int tcp_parse_c2h(const uint8_t *p, uint32_t plen, bool hd, bool dd, struct tcp_pdu_view *v);

/* DPTR := one SGL descriptor (address 0) of @type/@sub and @len bytes; PSDT 01b. */
void tcp_set_dptr(struct kvc_sqe *s, uint8_t type, uint8_t sub, uint32_t len);
/*
 * Where a local SQE's data lives: an SGL Data Block (address form) gives a
 * contiguous buffer, PRPs give PRP1/PRP2 with @hint bytes (PRP1 0: none).
 * Returns 0 or an NVMe status.
 */
int tcp_map_dptr(const struct kvc_sqe *s, uint32_t hint, bool *sgl, uint64_t *addr, uint64_t *prp2,
		 uint32_t *len);

/* Fabrics commands (NVMe over Fabrics 1.1, 3.3-3.5). */
void tcp_connect_sqe(struct kvc_sqe *s, uint16_t qid, uint16_t sqsize, uint32_t kato_ms);
void tcp_connect_data(uint8_t d[1024], const uint8_t hostid[16], uint16_t cntlid,
		      const char *subnqn, const char *hostnqn);
void tcp_prop_get_sqe(struct kvc_sqe *s, uint32_t off, bool wide);
void tcp_prop_set_sqe(struct kvc_sqe *s, uint32_t off, bool wide, uint64_t val);

struct tcp_spec {
	char host[256];
	char port[16];
	char nqn[224];
	bool hdgst, ddgst;
	uint32_t kato_ms;
};

/* "tcp://HOST:PORT[/NQN][?hdgst&ddgst&kato=MS]"; [V6ADDR] for IPv6.  0 or -EINVAL. */
int tcp_parse_spec(const char *spec, struct tcp_spec *out);

#endif /* NVKV_TCP_PDU_H */
