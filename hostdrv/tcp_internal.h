/* SPDX-License-Identifier: MIT */
/*
 * The NVMe/TCP initiator's private declarations, shared by its modules: the
 * transport, queue, connection and command structures, small inline
 * helpers, and the functions one module offers the others.  tcp.c: the
 * transport ops and nvkv_tcp_open(); tcp_queue.c: the local SQ and CQ;
 * tcp_rx.c: the receiver thread; tcp_fabric.c: Fabrics commands and queue
 * connections; tcp_sock.c: sockets and the send buffer; tcp_hmem.c: the host
 * memory behind data pointers; tcp_pdu.c: the wire formats.  Not for use
 * outside hostdrv/tcp*.c.
 */
#ifndef NVKV_TCP_INTERNAL_H
#define NVKV_TCP_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <unistd.h>

#include "cmdset/tcp.h"
#include "nvkv_internal.h"
#include "tcp_pdu.h"

#define INTERNAL_CID 0xf000u  /* command ids of our own Fabrics commands and above */
#define KEEPALIVE_CID 0xfffeu /* answered, never waited for */
#define RX_MAX (8u << 20)     /* largest PDU accepted from a target */

struct tcp_cmd {
	bool busy;
	bool sgl;    /* contiguous buffer at addr, else PRP1/PRP2 */
	uint8_t dir; /* enum kvc_xfer_dir */
	uint8_t opc;
	uint32_t cdw10;
	uint64_t addr, prp2;
	uint32_t len;
};

struct tcp_conn {
	int fd;
	pthread_mutex_t tx; /* senders: submitting threads, the receiver (H2CData, Keep Alive) */
	uint8_t *txb;
	size_t txlen, txcap;
	uint8_t *rx; /* receiver thread only */
	size_t rxlen, rxcap;
	bool hd, dd;
	uint32_t maxh2c;
};

struct tcp_q {
	uint16_t qid;
	uint32_t sq_size, cq_size;
	uint64_t sq_addr, cq_addr;
	uint32_t sq_head; /* SQEs taken from the local SQ */
	uint32_t sq_db;	  /* the last SQ tail doorbell */
	bool hold;	  /* later SQEs wait for hold_cid's data (BandSlim order) */
	uint16_t hold_cid;
	uint32_t cq_tail;
	bool phase;
	pthread_mutex_t cq_lock;
	pthread_mutex_t cmd_lock; /* cmds[]: set by the submitter, used by the receiver */
	struct tcp_cmd *cmds;	  /* [cid], cid < sq_size */
	uint32_t *slot_len;	  /* data length of a PRP command per SQ slot (udrv's hint) */
	struct tcp_conn c;
};

struct nvkv_tcp {
	struct nvkv_transport t;
	struct nvkv_opts o;
	char host[256], port[16], subnqn[224], hostnqn[224];
	uint8_t hostid[16];
	bool want_hd, want_dd;
	uint32_t kato_ms;
	uint16_t cntlid;
	uint64_t cap;
	uint32_t vs;
	struct nvkv_aq_regs aq;
	bool enabled;
	uint32_t io_incapsule; /* in-capsule data bytes on I/O queues (Identify IOCCSZ) */
	struct tcp_q *q[NVKV_MAX_QID + 1];
	struct {
		uint64_t addr;
		uint32_t size;
	} cq[NVKV_MAX_QID + 1];
	/* receiver */
	pthread_t rx_thread;
	bool rx_running;
	int epfd;
	int stop_fd;
	int irq_fd;
	pthread_mutex_t rx_lock; /* held by the receiver while it handles events */
	int waiting;
	bool irq_pending; /* receiver only: CQEs posted since its last wake-up of a waiter */
	int dead;
	uint64_t last_ka;
	/* one synchronous Fabrics command at a time on the admin connection */
	pthread_mutex_t sync_lock;
	pthread_mutex_t sync_mu;
	pthread_cond_t sync_cv;
	uint16_t sync_cid, sync_seq;
	bool sync_done;
	struct kvc_cqe sync_cqe;
};

static inline struct nvkv_tcp *tcp_of(struct nvkv_transport *t)
{
	return (struct nvkv_tcp *)t;
}

static inline int dead_of(struct nvkv_tcp *t)
{
	return __atomic_load_n(&t->dead, __ATOMIC_ACQUIRE);
}

static inline uint64_t now_ms(void)
{
	return nvkv_now_ns() / 1000000u;
}

static inline void set_dead(struct nvkv_tcp *t, int err)
{
	uint64_t one = 1;

	int zero = 0;

	__atomic_compare_exchange_n(&t->dead, &zero, err, false, __ATOMIC_ACQ_REL,
				    __ATOMIC_ACQUIRE);
	if (write(t->irq_fd, &one, sizeof(one)) < 0) {
		/* saturated: waiters wake anyway */
	}
}

/* The transport whose receiver thread this is (NULL on other threads). */
extern __thread struct nvkv_tcp *tcp_rx_self;

/* ---- tcp_sock.c: sockets and the send buffer ---- */

int tcp_conn_open(struct nvkv_tcp *t, struct tcp_conn *c);
void tcp_conn_close(struct tcp_conn *c);
int tcp_send_all(int fd, const uint8_t *p, size_t n, uint32_t timeout_ms);
/* Reserve @n more bytes at the end of the connection's send buffer. */
uint8_t *tcp_tx_put(struct tcp_conn *c, size_t n);
int tcp_tx_flush(struct nvkv_tcp *t, struct tcp_conn *c);
/* One whole PDU from a connection not yet handed to the receiver. */
int tcp_recv_pdu(struct nvkv_tcp *t, struct tcp_conn *c, uint8_t *buf, size_t cap);
uint8_t *tcp_put_capsule(struct tcp_conn *c, const struct kvc_sqe *sqe, uint32_t dlen);
void tcp_seal_capsule(struct tcp_conn *c, uint8_t *data, uint32_t dlen);

/* ---- tcp_hmem.c: host memory behind a command's data pointer ---- */

/* Copy @n bytes at offset @off of a command's buffer to (@to_host) or from @buf. */
int tcp_hcopy(struct nvkv_tcp *t, const struct tcp_cmd *c, uint32_t off, uint8_t *buf, uint32_t n,
	      bool to_host);

/* ---- tcp_fabric.c: Fabrics commands, queue connections ---- */

int tcp_prop_get(struct nvkv_tcp *t, uint32_t off, bool wide, uint64_t *val);
int tcp_prop_set(struct nvkv_tcp *t, uint32_t off, uint32_t val);
/* ICReq/ICResp and Connect of a queue's new connection; returns an NVMe status as > 0. */
int tcp_queue_connect(struct nvkv_tcp *t, struct tcp_q *q);
struct tcp_q *tcp_q_new(uint16_t qid, uint32_t size);
void tcp_q_free(struct tcp_q *q);

/* ---- tcp_queue.c: the local SQ and CQ ---- */

void tcp_post_cqe(struct nvkv_tcp *t, struct tcp_q *q, uint16_t cid, uint32_t dw0, uint32_t dw1,
		  uint16_t status);
/* The command later SQEs waited for has its data sent, or has completed. */
void tcp_release_hold(struct nvkv_tcp *t, struct tcp_q *q, uint16_t cid);
void tcp_sq_doorbell(struct nvkv_tcp *t, struct tcp_q *q, uint32_t tail);

/* ---- tcp_rx.c: the receiver thread ---- */

void *tcp_rx_main(void *arg);

#endif /* NVKV_TCP_INTERNAL_H */
