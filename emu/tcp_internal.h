/* SPDX-License-Identifier: MIT */
/*
 * The NVMe/TCP target's private declarations, shared by its modules: the
 * connection, command, association and event-thread structures, their
 * locking rules, small inline helpers, and the functions one module offers
 * the others.  tcp.c: the event threads, the listener, the target's life;
 * tcp_rx.c: the receive state machine; tcp_capsule.c: Connect, capsules,
 * R2T and H2CData; tcp_hif.c: the firmware's host interface and C2HData;
 * tcp_disc.c: the discovery controller; tcp_send.c: the send side;
 * tcp_conn.c: connections and associations; tcp_ctrl.c: polling the
 * controllers, Keep Alive and connect timeouts.  Not for use outside emu/tcp*.c.
 */
#ifndef EMU_TCP_INTERNAL_H
#define EMU_TCP_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "cmdset/cmdset.h"
#include "firmware/fw.h"
#include "tcp.h"

#define RX_CHUNK (64u << 10)
#define OUT_HIGH (4u << 20) /* stop reading a host that does not read its answers */

enum rx_phase { RX_CH, RX_HDR, RX_DATA };

/* A command of a connection between its capsule and its response. */
struct tcmd {
	bool used;
	bool need_data; /* R2T sent, H2CData expected */
	uint16_t cid;
	struct kvc_sqe sqe;
	uint8_t *in;	  /* in-capsule data, or what H2CData brought */
	uint32_t in_len;  /* bytes in @in */
	uint32_t in_cap;  /* bytes allocated at @in for H2CData */
	bool icd;	  /* @in is in-capsule data */
	uint32_t xlen;	  /* data length of a transport SGL */
	uint8_t *out;	  /* what the firmware wrote for C2HData */
	uint32_t out_len; /* high-water mark */
	uint32_t out_cap;
	bool displaced; /* not in slot cid % nslots */
	struct emu_tcp_conn *c;
};

struct tassoc;
struct tthread;

/*
 * Locking.  The firmware lock (emu_tcp_opts.fw_lock, shared with the
 * shared-memory server) covers the firmware, the associations and every
 * connection's command slots, receive state and association links: an event
 * thread parses the bytes it received and runs the controllers under it.
 * Socket I/O happens outside it.  A connection's send buffer has a lock of
 * its own (taken inside the firmware lock when a PDU is queued, alone when
 * it is sent), because a controller polled by one thread may complete a
 * command of a queue whose connection another thread owns.  Only the owning
 * thread closes a connection's socket and frees it; others mark it dead
 * and wake the owner.
 */
struct emu_tcp_conn {
	struct emu_tcp *t;
	struct tthread *th; /* the event thread that owns it; NULL: fake */
	int fd;
	bool fake;   /* no socket (emu_tcp_fake_conn): freed only with the target */
	bool killed; /* conn_kill() has begun (firmware lock) */
	bool dead;   /* atomic, read without the firmware lock: conn_kill() is done */
	bool ic_done;
	bool hdgst, ddgst;
	uint32_t ev; /* epoll events registered */
	uint64_t born;
	struct tassoc *as;
	uint16_t qid;
	/* a discovery controller (served here, not by the firmware) */
	bool disc;
	uint16_t disc_cntlid;
	uint32_t disc_cc, disc_csts, disc_kato;
	uint64_t disc_ka;
	/* receive state */
	enum rx_phase phase;
	uint8_t hbuf[128 + 4] __attribute__((aligned(8))); /* read as PDU structs */
	uint32_t hgot, hneed;
	struct kvc_tcp_ch ch;
	uint8_t *pbuf;
	uint32_t pgot, pneed, dlen; /* payload read, to read, data bytes in it */
	/* send buffer (olock) */
	pthread_mutex_t olock;
	uint8_t *out;
	size_t olen, ooff, ocap;
	/* commands by slot (the R2T transfer tag) */
	struct tcmd *slots;
	uint32_t nslots;
	uint32_t displaced; /* commands not in their home slot (slot_of) */
	char name[64];
	struct emu_tcp_conn *next;
};

/* One controller and its connections (queue 0: the admin connection). */
struct tassoc {
	struct emu_tcp *t;
	struct fw_ctrl *ctrl;
	struct fw_host_if hif;
	uint32_t *bar;
	struct emu_tcp_conn *q[FW_MAX_IOQ + 1];
	bool dying; /* its admin connection is gone: freed by reap_assocs() */
	struct tassoc *next;
};

/* One epoll event loop thread and the connections pinned to it. */
struct tthread {
	struct emu_tcp *t;
	pthread_t tid;
	bool started;
	int epfd, evfd;		    /* evfd: wake-up (a connection killed or given output) */
	pthread_mutex_t inbox_lock; /* new connections from the accepting thread */
	struct emu_tcp_conn *inbox; /* (inbox_lock) */
	struct emu_tcp_conn *conns; /* this thread's only */
	uint64_t last_sweep;
	uint8_t rxbuf[RX_CHUNK];
};

struct emu_tcp {
	struct fw_subsys *s;
	struct emu_tcp_opts o;
	pthread_mutex_t own_lock; /* the firmware lock when the opts give none */
	pthread_mutex_t *fw;
	int lfd;
	uint16_t port;
	struct tthread *th;
	unsigned int nth, rr;
	bool stop;		    /* atomic */
	unsigned int nconns;	    /* atomic */
	struct emu_tcp_conn *fakes; /* socketless connections (firmware lock) */
	struct tassoc *assocs;	    /* (firmware lock) */
	uint16_t disc_ids;
};

/* The event thread running this code; NULL on others (the fuzz harness). */
extern __thread struct tthread *emu_tcp_cur_th;

static inline void fw_lock(struct emu_tcp *t)
{
	pthread_mutex_lock(t->fw);
}

static inline void fw_unlock(struct emu_tcp *t)
{
	pthread_mutex_unlock(t->fw);
}

static inline bool is_dead(const struct emu_tcp_conn *c)
{
	return __atomic_load_n(&c->dead, __ATOMIC_ACQUIRE);
}

static inline void th_wake(struct tthread *th)
{
	uint64_t one = 1;

	if (th && th != emu_tcp_cur_th && write(th->evfd, &one, sizeof(one)) < 0)
		return; /* the counter is full: the thread is woken anyway */
}

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- tcp_conn.c: connections and associations ---- */

/* The command @cid of @c, or NULL. */
struct tcmd *emu_tcp_slot_of(struct emu_tcp_conn *c, uint16_t cid);
void emu_tcp_slot_free(struct tcmd *m);
void emu_tcp_assoc_kill(struct tassoc *a);
void emu_tcp_conn_kill(struct emu_tcp_conn *c, const char *why);
void emu_tcp_reap_assocs(struct emu_tcp *t);
void emu_tcp_reap_conns(struct emu_tcp_conn **pp, bool all);
struct emu_tcp_conn *emu_tcp_conn_new(struct emu_tcp *t, int fd, struct tthread *th);

/* ---- tcp_send.c: the send side ---- */

void emu_tcp_send_pdu(struct emu_tcp_conn *c, void *hdr, uint8_t hlen, const void *data,
		      uint32_t dlen, bool digests);
void emu_tcp_send_rsp(struct emu_tcp_conn *c, const void *cqe);
void emu_tcp_reply_status(struct emu_tcp_conn *c, uint16_t cid, uint16_t qid, uint16_t st,
			  uint32_t dw0);
void emu_tcp_fatal(struct emu_tcp_conn *c, uint16_t fes, uint32_t fei, const char *why);
/* Bytes queued and not sent yet. */
size_t emu_tcp_backlog(struct emu_tcp_conn *c);
/* Send what is queued without blocking; whether anything was sent. */
int emu_tcp_flush_out(struct emu_tcp_conn *c);

/* ---- tcp_hif.c: the firmware's host interface ---- */

/* A new association, its host interface filled in, no controller yet. */
struct tassoc *emu_tcp_assoc_new(struct emu_tcp *t);

/* ---- tcp_disc.c: the discovery controller ---- */

/* A Connect to the discovery NQN: make @c a discovery controller and answer;
 * false for any other capsule (nothing done). */
bool emu_tcp_disc_connect(struct emu_tcp_conn *c, const struct kvc_sqe *sqe, const uint8_t *data,
			  uint32_t dlen);
void emu_tcp_disc_exec(struct emu_tcp_conn *c, const struct kvc_sqe *sqe);

/* ---- tcp_capsule.c: capsules, R2T and H2CData ---- */

void emu_tcp_on_capsule(struct emu_tcp_conn *c);
void emu_tcp_on_h2c_data(struct emu_tcp_conn *c);

/* ---- tcp_ctrl.c: controllers and timeouts ---- */

int emu_tcp_poll_assocs(struct emu_tcp *t, struct tthread *th, bool *busy);
void emu_tcp_sweep(struct emu_tcp *t, struct emu_tcp_conn *list, uint64_t now);

#endif /* EMU_TCP_INTERNAL_H */
