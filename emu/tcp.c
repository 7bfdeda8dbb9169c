// SPDX-License-Identifier: MIT
/*
 * NVMe/TCP target (NVMe over TCP Transport 1.0): ICReq/ICResp, CapsuleCmd
 * with in-capsule data, R2T/H2CData for larger writes (the whole data is
 * collected before the command goes to the firmware, so the firmware never
 * waits for the network), C2HData for reads (what the firmware writes
 * through xport_write is sent before the CapsuleResp), optional CRC32C
 * header and data digests, and C2HTermReq plus closing only that connection
 * on any protocol error.  The first capsule of a connection must be a
 * Fabrics Connect: on the admin queue it creates a fabric controller
 * (firmware/fabric.c) for an association, on an I/O queue it binds the
 * queue pair.  A controller whose Keep Alive expired is torn down with all
 * its connections.  A Connect to the discovery NQN gets a discovery
 * controller served here (Get Log Page 70h lists the subsystem).  The
 * connections are spread over event-loop threads that enter the firmware
 * under one lock (see "Locking" below).  See docs/tcp.md.
 */
#include "tcp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cmdset/cmdset.h"
#include "cmdset/tcp.h"
#include "firmware/crc.h"
#include "log.h"

#define RX_CHUNK (64u << 10)
#define RX_PER_EVENT 4	       /* reads per connection per event: fairness */
#define OUT_HIGH (4u << 20)    /* stop reading a host that does not read its answers */
#define C2H_CHUNK (128u << 10) /* data bytes per C2HData PDU */
#define ADMIN_ICD 8192	       /* in-capsule data on the admin queue (and Connect) */
#define TERM_MAX 152	       /* an H2CTermReq's whole length */
#define MAX_CONNS 1024

enum rx_phase { RX_CH, RX_HDR, RX_DATA };

/* A command of a connection between its capsule and its response. */
struct tcmd {
	bool used;
	bool need_data; /* R2T sent, H2CData expected */
	uint16_t cid;
	struct kvc_sqe sqe;
	uint8_t *in;	  /* in-capsule data, or what H2CData brought */
	uint32_t in_len;  /* bytes in @in */
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
static __thread struct tthread *cur_th;

static void fw_lock(struct emu_tcp *t)
{
	pthread_mutex_lock(t->fw);
}

static void fw_unlock(struct emu_tcp *t)
{
	pthread_mutex_unlock(t->fw);
}

static bool is_dead(const struct emu_tcp_conn *c)
{
	return __atomic_load_n(&c->dead, __ATOMIC_ACQUIRE);
}

static void th_wake(struct tthread *th)
{
	uint64_t one = 1;

	if (th && th != cur_th && write(th->evfd, &one, sizeof(one)) < 0)
		return; /* the counter is full: the thread is woken anyway */
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- send side ---------------------------------------------------------------- */

static int out_room(struct emu_tcp_conn *c, size_t n)
{
	size_t need = c->olen + n, cap = c->ocap ? c->ocap : 4096;
	uint8_t *p;

	if (c->ooff && c->ooff == c->olen)
		c->ooff = c->olen = 0, need = n;
	if (need <= c->ocap)
		return 0;
	if (c->ooff) { /* compact first */
		memmove(c->out, c->out + c->ooff, c->olen - c->ooff);
		c->olen -= c->ooff;
		c->ooff = 0;
		need = c->olen + n;
		if (need <= c->ocap)
			return 0;
	}
	while (cap < need)
		cap *= 2;
	p = realloc(c->out, cap);
	if (!p)
		return -ENOMEM;
	c->out = p;
	c->ocap = cap;
	return 0;
}

static void conn_kill(struct emu_tcp_conn *c, const char *why);

/* Queue one PDU: header (@hlen bytes, common header filled here), its digest
 * when negotiated, then @dlen data bytes and their digest.  Under the
 * firmware lock, from any thread; the bytes count as sent (fabric_bytes). */
static void send_pdu(struct emu_tcp_conn *c, void *hdr, uint8_t hlen, const void *data,
		     uint32_t dlen, bool digests)
{
	struct kvc_tcp_ch *ch = hdr;
	uint32_t hd = digests && c->hdgst ? 4 : 0, dd = digests && c->ddgst && dlen ? 4 : 0;
	uint32_t plen = hlen + hd + dlen + dd, crc;
	bool was_empty;
	uint8_t *p;

	if (is_dead(c))
		return;
	ch->hlen = hlen;
	ch->pdo = dlen ? (uint8_t)(hlen + hd) : 0;
	ch->flags = (uint8_t)((ch->flags & ~(KVC_TCP_F_HDGSTF | KVC_TCP_F_DDGSTF)) |
			      (hd ? KVC_TCP_F_HDGSTF : 0) | (dd ? KVC_TCP_F_DDGSTF : 0));
	kvc_put_le32(&ch->plen, plen);
	pthread_mutex_lock(&c->olock);
	if (out_room(c, plen)) {
		pthread_mutex_unlock(&c->olock);
		conn_kill(c, "out of memory for output");
		return;
	}
	was_empty = c->olen == c->ooff;
	p = c->out + c->olen;
	memcpy(p, hdr, hlen);
	p += hlen;
	if (hd) {
		crc = fw_crc32c(0, hdr, hlen);
		kvc_put_le32(p, crc);
		p += 4;
	}
	if (dlen) {
		memcpy(p, data, dlen);
		p += dlen;
	}
	if (dd) {
		crc = fw_crc32c(0, data, dlen);
		kvc_put_le32(p, crc);
	}
	c->olen += plen;
	pthread_mutex_unlock(&c->olock);
	fw_subsys_fabric_bytes(c->t->s, 0, plen);
	if (was_empty)
		th_wake(c->th); /* another thread completed a command of this queue */
}

/* Under c->olock, on the owning thread. */
static void set_events(struct emu_tcp_conn *c)
{
	size_t backlog = c->olen - c->ooff;
	uint32_t ev = EPOLLRDHUP | (backlog > OUT_HIGH ? 0 : EPOLLIN) | (backlog ? EPOLLOUT : 0);
	struct epoll_event e = { .events = ev, .data.ptr = c };

	if (c->fd < 0 || is_dead(c) || ev == c->ev || !c->th)
		return;
	c->ev = ev;
	epoll_ctl(c->th->epfd, EPOLL_CTL_MOD, c->fd, &e);
}

static size_t backlog(struct emu_tcp_conn *c)
{
	size_t n;

	pthread_mutex_lock(&c->olock);
	n = c->olen - c->ooff;
	pthread_mutex_unlock(&c->olock);
	return n;
}

/* Send what is queued, without blocking: on the owning thread (with or
 * without the firmware lock), or the caller of emu_tcp_poll for fakes.
 * Return: whether anything was sent; *@err set when the socket failed. */
static int flush_locked(struct emu_tcp_conn *c, bool *err)
{
	int work = 0;

	while (!is_dead(c) && c->ooff < c->olen) {
		ssize_t n;

		if (c->fd < 0) { /* fake connection: drop (counted when queued) */
			c->ooff = c->olen;
			break;
		}
		n = send(c->fd, c->out + c->ooff, c->olen - c->ooff, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				*err = true;
			break;
		}
		c->ooff += (size_t)n;
		work = 1;
	}
	if (c->ooff == c->olen)
		c->ooff = c->olen = 0;
	set_events(c);
	return work;
}

static int flush_out(struct emu_tcp_conn *c)
{
	bool err = false;
	int work;

	pthread_mutex_lock(&c->olock);
	work = flush_locked(c, &err);
	pthread_mutex_unlock(&c->olock);
	if (err) { /* conn_kill needs the firmware lock */
		fw_lock(c->t);
		conn_kill(c, "send failed");
		fw_unlock(c->t);
	}
	return work;
}

/* A fatal protocol error: C2HTermReq (no digests), then the connection goes. */
static void fatal(struct emu_tcp_conn *c, uint16_t fes, uint32_t fei, const char *why)
{
	struct kvc_tcp_term tr;
	bool err = false;

	if (is_dead(c))
		return;
	memset(&tr, 0, sizeof(tr));
	tr.ch.pdu_type = KVC_TCP_C2H_TERM;
	kvc_put_le16(&tr.fes, fes);
	kvc_put_le32((uint8_t *)&tr + 10, fei);
	send_pdu(c, &tr, sizeof(tr), NULL, 0, false);
	emu_log(1, "tcp %s: protocol error: %s (FES %u, FEI %u); closing", c->name, why, fes, fei);
	pthread_mutex_lock(&c->olock); /* one try: a host that does not read loses it */
	flush_locked(c, &err);
	pthread_mutex_unlock(&c->olock);
	conn_kill(c, NULL);
}

/* ---- associations and connections --------------------------------------------------- */

/* A command is put in slot cid % nslots when that is free (always, for a
 * host numbering its commands below the queue size, as ours does): then
 * finding it, or knowing it is not there, takes one look.  Only while some
 * command sits elsewhere (@displaced) does a miss scan the slots. */
static struct tcmd *slot_of(struct emu_tcp_conn *c, uint16_t cid)
{
	struct tcmd *m = &c->slots[cid % c->nslots];
	uint32_t i;

	if (m->used && m->cid == cid)
		return m;
	if (!c->displaced)
		return NULL;
	for (i = 0; i < c->nslots; i++)
		if (c->slots[i].used && c->slots[i].cid == cid)
			return &c->slots[i];
	return NULL;
}

static void slot_free(struct tcmd *m)
{
	if (m->used && m->displaced)
		m->c->displaced--;
	free(m->in);
	free(m->out);
	memset(m, 0, sizeof(*m));
}

/* The association ends: its connections close; reap_assocs() frees it (the
 * firmware may be in the middle of completing one of its commands). */
static void assoc_kill(struct tassoc *a)
{
	unsigned int i;

	if (a->dying)
		return;
	a->dying = true;
	for (i = 0; i <= FW_MAX_IOQ; i++) {
		struct emu_tcp_conn *c = a->q[i];

		if (c) {
			a->q[i] = NULL;
			c->as = NULL;
			conn_kill(c, NULL);
		}
	}
}

/*
 * Under the firmware lock: detach it, then mark it dead; the owning thread
 * closes and frees it (reap_conns; events of this round may still name it).
 * Marking it dead is the last access: from then on the owner may free it.
 */
static void conn_kill(struct emu_tcp_conn *c, const char *why)
{
	struct tassoc *a = c->as;
	struct tthread *th = c->th;

	if (c->killed)
		return;
	c->killed = true;
	if (why)
		emu_log(2, "tcp %s: %s; closing", c->name, why);
	c->as = NULL;
	if (a) {
		a->q[c->qid] = NULL;
		if (c->qid == 0) {
			emu_log(2, "tcp %s: controller %u detached", c->name,
				fw_ctrl_cntlid(a->ctrl));
			assoc_kill(a);
		} else {
			fw_fabric_disconnect(a->ctrl, c->qid);
		}
	}
	__atomic_store_n(&c->dead, true, __ATOMIC_RELEASE);
	th_wake(th);
}

static void conn_free(struct emu_tcp_conn *c)
{
	uint32_t i;

	if (c->fd >= 0)
		close(c->fd); /* leaves its epoll set */
	for (i = 0; i < c->nslots; i++)
		slot_free(&c->slots[i]);
	free(c->slots);
	free(c->pbuf);
	free(c->out);
	pthread_mutex_destroy(&c->olock);
	__atomic_fetch_sub(&c->t->nconns, 1, __ATOMIC_RELAXED);
	free(c);
}

/* Free the associations whose admin connection went; firmware lock held. */
static void reap_assocs(struct emu_tcp *t)
{
	struct tassoc **ap = &t->assocs;

	while (*ap) {
		struct tassoc *a = *ap;

		if (a->dying) {
			*ap = a->next;
			fw_ctrl_destroy(a->ctrl); /* pending commands and completions dropped */
			free(a->bar);
			free(a);
		} else {
			ap = &a->next;
		}
	}
}

/* Free the dead connections of @list (all of them with @all), by the thread
 * that owns the list. */
static void reap_conns(struct emu_tcp_conn **pp, bool all)
{
	while (*pp) {
		struct emu_tcp_conn *c = *pp;

		if (is_dead(c) && (!c->fake || all)) {
			*pp = c->next;
			conn_free(c);
		} else {
			pp = &c->next;
		}
	}
}

/* A connection of thread @th (NULL: a fake one); not on any list yet. */
static struct emu_tcp_conn *conn_new(struct emu_tcp *t, int fd, struct tthread *th)
{
	struct emu_tcp_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->t = t;
	c->th = th;
	c->fd = fd;
	c->born = now_ns();
	c->nslots = 1; /* Connect; sized by SQSIZE after it */
	c->slots = calloc(1, sizeof(*c->slots));
	if (!c->slots || pthread_mutex_init(&c->olock, NULL)) {
		free(c->slots);
		free(c);
		return NULL;
	}
	c->hneed = sizeof(struct kvc_tcp_ch);
	__atomic_fetch_add(&t->nconns, 1, __ATOMIC_RELAXED);
	return c;
}

/* ---- the firmware's host interface ----------------------------------------------------- */

static struct tcmd *cmd_of(struct tassoc *a, uint16_t sqid, uint16_t cid)
{
	struct emu_tcp_conn *c = sqid <= FW_MAX_IOQ ? a->q[sqid] : NULL;

	return c && !is_dead(c) ? slot_of(c, cid) : NULL;
}

/* A fabric host has no memory the device reaches. */
static int hif_no_mem(void *ctx, uint64_t addr, void *buf, size_t len)
{
	(void)ctx, (void)addr, (void)buf, (void)len;
	return -EFAULT;
}

static int hif_no_mem_w(void *ctx, uint64_t addr, const void *buf, size_t len)
{
	(void)ctx, (void)addr, (void)buf, (void)len;
	return -EFAULT;
}

static int hif_capsule(void *ctx, uint16_t sqid, uint16_t cid, const void **data, uint32_t *len)
{
	struct tcmd *m = cmd_of(ctx, sqid, cid);

	*data = NULL;
	*len = 0;
	if (m && m->icd) {
		*data = m->in;
		*len = m->in_len;
	}
	return 0;
}

static int hif_xread(void *ctx, uint16_t sqid, uint16_t cid, uint64_t off, void *buf, size_t len)
{
	struct tcmd *m = cmd_of(ctx, sqid, cid);

	if (!m || m->icd || off > m->in_len || len > m->in_len - off)
		return -EIO; /* no such data: the command fails with a transfer error */
	memcpy(buf, m->in + off, len);
	return 0;
}

static int hif_xwrite(void *ctx, uint16_t sqid, uint16_t cid, uint64_t off, const void *buf,
		      size_t len)
{
	struct tassoc *a = ctx;
	struct tcmd *m = cmd_of(a, sqid, cid);
	uint64_t end = off + len;

	if (!m || end > m->xlen || end > a->t->o.max_xfer)
		return -EIO;
	if (end > m->out_cap) {
		uint32_t cap = m->out_cap ? m->out_cap : 4096;
		uint8_t *p;

		while (cap < end)
			cap *= 2;
		p = realloc(m->out, cap);
		if (!p)
			return -ENOMEM;
		m->out = p;
		m->out_cap = cap;
	}
	if (off > m->out_len) /* a gap the firmware skipped: zeros, as a bit bucket */
		memset(m->out + m->out_len, 0, off - m->out_len);
	memcpy(m->out + off, buf, len);
	if (end > m->out_len)
		m->out_len = (uint32_t)end;
	return 0;
}

static void send_rsp(struct emu_tcp_conn *c, const void *cqe)
{
	struct kvc_tcp_rsp r;

	memset(&r, 0, sizeof(r));
	r.ch.pdu_type = KVC_TCP_CAPSULE_RESP;
	memcpy(&r.cqe, cqe, sizeof(r.cqe));
	send_pdu(c, &r, sizeof(r), NULL, 0, true);
}

/* The firmware completed a command: its read data, then its response. */
static void hif_post(void *ctx, uint16_t qid, const void *cqe)
{
	struct tassoc *a = ctx;
	struct emu_tcp_conn *c = qid <= FW_MAX_IOQ ? a->q[qid] : NULL;
	const struct kvc_cqe *e = cqe;
	struct tcmd *m;
	uint32_t off;

	if (!c || is_dead(c))
		return;
	m = slot_of(c, kvc_get_le16(&e->cid));
	for (off = 0; m && off < m->out_len;) {
		struct kvc_tcp_data d;
		uint32_t n = m->out_len - off < C2H_CHUNK ? m->out_len - off : C2H_CHUNK;

		memset(&d, 0, sizeof(d));
		d.ch.pdu_type = KVC_TCP_C2H_DATA;
		d.ch.flags = off + n == m->out_len ? KVC_TCP_F_DATA_LAST : 0;
		kvc_put_le16(&d.cccid, m->cid);
		kvc_put_le32(&d.datao, off);
		kvc_put_le32(&d.datal, n);
		send_pdu(c, &d, sizeof(d), m->out + off, n, true);
		off += n;
	}
	send_rsp(c, cqe);
	if (m)
		slot_free(m);
}

static struct tassoc *assoc_new(struct emu_tcp *t)
{
	struct tassoc *a = calloc(1, sizeof(*a));
	uint32_t size = fw_subsys_bar_size(t->s);

	if (!a)
		return NULL;
	a->bar = calloc(1, size);
	if (!a->bar) {
		free(a);
		return NULL;
	}
	a->t = t;
	a->hif = (struct fw_host_if){ .ctx = a,
				      .bar = a->bar,
				      .bar_size = size,
				      .dma_read = hif_no_mem,
				      .dma_write = hif_no_mem_w,
				      .capsule_data = hif_capsule,
				      .xport_read = hif_xread,
				      .xport_write = hif_xwrite,
				      .post_cqe = hif_post,
				      .ioccsz = t->o.ioccsz };
	return a;
}

/* ---- receive side ------------------------------------------------------------------ */

static void reply_status(struct emu_tcp_conn *c, uint16_t cid, uint16_t qid, uint16_t st,
			 uint32_t dw0)
{
	struct kvc_cqe cqe;

	kvc_cqe_fill(&cqe, dw0, 0, 0, qid, cid, st, false);
	send_rsp(c, &cqe);
}

/* ---- discovery controller ------------------------------------------------------------ */

#define DISC_NQN "nqn.2014-08.org.nvmexpress.discovery"
#define DISC_ENTRY 1024

/* Send @len bytes of @data as the read data of @sqe (up to its SGL length),
 * then the response. */
static void disc_reply(struct emu_tcp_conn *c, const struct kvc_sqe *sqe, const void *data,
		       uint32_t len, uint16_t st, uint32_t dw0, uint32_t dw1)
{
	struct kvc_sgl_desc d = kvc_sgl_get(kvc_sqe_cbytes(sqe) + KVC_SQE_OFF_PRP1);
	uint16_t cid = kvc_sqe_cid(sqe);
	struct kvc_cqe cqe;

	if (!st && len && d.type == KVC_SGL_TRANSPORT_DATA_BLOCK) {
		struct kvc_tcp_data h;

		if (len > d.len)
			len = d.len;
		memset(&h, 0, sizeof(h));
		h.ch.pdu_type = KVC_TCP_C2H_DATA;
		h.ch.flags = KVC_TCP_F_DATA_LAST;
		kvc_put_le16(&h.cccid, cid);
		kvc_put_le32(&h.datal, len);
		if (len)
			send_pdu(c, &h, sizeof(h), data, len, true);
	} else if (!st && len) {
		st = KVC_ST_GENERIC_DNR(KVC_SC_INVALID_FIELD); /* data only by transport SGL */
	}
	kvc_cqe_fill(&cqe, dw0, dw1, 0, 0, cid, st, false);
	send_rsp(c, &cqe);
}

static void disc_identify(struct emu_tcp_conn *c, const struct kvc_sqe *sqe)
{
	struct kvc_id_ctrl *id = calloc(1, sizeof(*id));

	if (!id) {
		disc_reply(c, sqe, NULL, 0, KVC_ST_GENERIC_DNR(KVC_SC_INTERNAL), 0, 0);
		return;
	}
	if ((kvc_sqe_dw(sqe, 10) & 0xff) != 1) {
		disc_reply(c, sqe, NULL, 0, KVC_ST_GENERIC_DNR(KVC_SC_INVALID_FIELD), 0, 0);
		free(id);
		return;
	}
	memset(id->sn, ' ', sizeof(id->sn));
	memset(id->mn, ' ', sizeof(id->mn));
	memcpy(id->mn, "nvkv discovery", 14);
	memset(id->fr, ' ', sizeof(id->fr));
	memcpy(id->fr, "nvkv0.1", 7);
	kvc_put_le16(&id->cntlid, c->disc_cntlid);
	kvc_put_le32(&id->ver, KVC_VS(1, 3, 0));
	id->cntrltype = 2; /* discovery controller */
	id->lpa = 0x04;	   /* extended data for Get Log Page */
	kvc_put_le16(&id->kas, 1);
	kvc_put_le16(&id->maxcmd, 128);
	kvc_put_le32(&id->sgls, KVC_SGLS_SUPPORTED | KVC_SGLS_TRANSPORT | KVC_SGLS_OFFSET);
	kvc_put_le32(&id->ioccsz, 4);
	kvc_put_le32(&id->iorcsz, 1);
	id->msdbd = 1;
	snprintf(id->subnqn, sizeof(id->subnqn), "%s", DISC_NQN);
	disc_reply(c, sqe, id, sizeof(*id), 0, 0, 0);
	free(id);
}

/* Get Log Page 70h: one record, this subsystem on this port. */
static void disc_log(struct emu_tcp_conn *c, const struct kvc_sqe *sqe)
{
	uint32_t dw10 = kvc_sqe_dw(sqe, 10), dw11 = kvc_sqe_dw(sqe, 11);
	uint64_t numd = ((uint64_t)(dw11 & 0xffff) << 16 | dw10 >> 16) + 1;
	uint64_t off = kvc_sqe_dw(sqe, 12) | (uint64_t)kvc_sqe_dw(sqe, 13) << 32;
	uint8_t log[2 * DISC_ENTRY] = { 0 }, *e = log + DISC_ENTRY;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	char addr[INET_ADDRSTRLEN] = "127.0.0.1";

	if ((dw10 & 0xff) != 0x70) {
		disc_reply(c, sqe, NULL, 0, KVC_ST_GENERIC_DNR(KVC_SC_INVALID_FIELD), 0, 0);
		return;
	}
	if (c->fd >= 0 && !getsockname(c->fd, (struct sockaddr *)&sa, &sl))
		inet_ntop(AF_INET, &sa.sin_addr, addr, sizeof(addr));
	kvc_put_le64(log, 1);	     /* generation counter */
	kvc_put_le64(log + 8, 1);    /* records */
	e[0] = 3;		     /* TRTYPE: TCP */
	e[1] = 1;		     /* ADRFAM: IPv4 */
	e[2] = 2;		     /* SUBTYPE: NVM subsystem */
	e[3] = 0;		     /* TREQ: not specified (not required: libnvme 1.3 asks TLS) */
	kvc_put_le16(e + 4, 1);	     /* PORTID */
	kvc_put_le16(e + 6, 0xffff); /* CNTLID: dynamic */
	kvc_put_le16(e + 8, 32);     /* ASQSZ */
	snprintf((char *)e + 32, 32, "%u", c->t->port);
	fw_subsys_nqn(c->t->s, (char *)e + 256, 256); /* SUBNQN */
	snprintf((char *)e + 512, 256, "%s", addr);   /* TRADDR */
	if (off % 4 || off > sizeof(log)) {
		disc_reply(c, sqe, NULL, 0, KVC_ST_GENERIC_DNR(KVC_SC_INVALID_FIELD), 0, 0);
		return;
	}
	{
		uint64_t n = numd * 4, avail = sizeof(log) - off;
		static uint8_t buf[64 << 10];

		if (n > sizeof(buf))
			n = sizeof(buf);
		memset(buf, 0, n);
		memcpy(buf, log + off, avail < n ? avail : n);
		disc_reply(c, sqe, buf, (uint32_t)n, 0, 0, 0);
	}
}

static void disc_exec(struct emu_tcp_conn *c, const struct kvc_sqe *sqe)
{
	const uint8_t *b = kvc_sqe_cbytes(sqe);
	uint16_t inval = KVC_ST_GENERIC_DNR(KVC_SC_INVALID_FIELD);

	if (sqe->opc == KVC_ADM_FABRICS) {
		uint32_t ofst = kvc_get_le32(b + 44), v = kvc_get_le32(b + 48);
		uint64_t r;

		if (b[4] == FW_FCTYPE_PROP_SET) {
			if (ofst != KVC_REG_CC) {
				disc_reply(c, sqe, NULL, 0, inval, 0, 0);
				return;
			}
			c->disc_cc = v;
			c->disc_csts = (v & KVC_CC_EN) ? KVC_CSTS_RDY : 0;
			if (v & KVC_CC_SHN_MASK)
				c->disc_csts |= KVC_CSTS_SHST_COMPLETE;
			disc_reply(c, sqe, NULL, 0, 0, 0, 0);
			return;
		}
		if (b[4] != FW_FCTYPE_PROP_GET) {
			disc_reply(c, sqe, NULL, 0,
				   b[4] == FW_FCTYPE_CONNECT
					   ? KVC_ST_GENERIC_DNR(KVC_SC_CMD_SEQ_ERROR)
					   : KVC_ST_GENERIC_DNR(KVC_SC_INVALID_OPCODE),
				   0, 0);
			return;
		}
		switch (ofst) {
		case KVC_REG_CAP:
			r = 31 | KVC_CAP_CQR | (20ull << KVC_CAP_TO_SHIFT) | KVC_CAP_CSS_NVM;
			break;
		case KVC_REG_VS:
			r = KVC_VS(1, 3, 0);
			break;
		case KVC_REG_CC:
			r = c->disc_cc;
			break;
		case KVC_REG_CSTS:
			r = c->disc_csts;
			break;
		default:
			disc_reply(c, sqe, NULL, 0, inval, 0, 0);
			return;
		}
		disc_reply(c, sqe, NULL, 0, 0, (uint32_t)r, (uint32_t)(r >> 32));
		return;
	}
	if (!(c->disc_csts & KVC_CSTS_RDY)) {
		disc_reply(c, sqe, NULL, 0, KVC_ST_GENERIC_DNR(KVC_SC_CMD_SEQ_ERROR), 0, 0);
		return;
	}
	switch (sqe->opc) {
	case KVC_ADM_IDENTIFY:
		disc_identify(c, sqe);
		break;
	case KVC_ADM_GET_LOG_PAGE:
		disc_log(c, sqe);
		break;
	case KVC_ADM_KEEP_ALIVE:
		c->disc_ka = now_ns();
		disc_reply(c, sqe, NULL, 0, 0, 0, 0);
		break;
	case KVC_ADM_SET_FEATURES:
		if ((kvc_sqe_dw(sqe, 10) & 0xff) == KVC_FEAT_KEEP_ALIVE)
			c->disc_kato = kvc_sqe_dw(sqe, 11);
		disc_reply(c, sqe, NULL, 0, 0, 0, 0);
		break;
	case KVC_ADM_GET_FEATURES:
		disc_reply(c, sqe, NULL, 0, 0,
			   (kvc_sqe_dw(sqe, 10) & 0xff) == KVC_FEAT_KEEP_ALIVE ? c->disc_kato : 0,
			   0);
		break;
	default:
		disc_reply(c, sqe, NULL, 0, KVC_ST_GENERIC_DNR(KVC_SC_INVALID_OPCODE), 0, 0);
		break;
	}
}

static void on_connect(struct emu_tcp_conn *c, const struct kvc_sqe *sqe, const uint8_t *data,
		       uint32_t dlen)
{
	struct emu_tcp *t = c->t;
	const uint8_t *b = kvc_sqe_cbytes(sqe);
	uint16_t qid = kvc_get_le16(b + 42), sqsize = kvc_get_le16(b + 44), st;
	uint16_t cid = kvc_sqe_cid(sqe);
	struct tassoc *a = NULL, *na = NULL;
	struct fw_ctrl *ctrl = NULL;
	struct tcmd *slots = NULL;
	uint32_t dw0 = 0;

	if (sqe->opc == KVC_ADM_FABRICS && b[4] == FW_FCTYPE_CONNECT && qid == 0 && data &&
	    dlen >= FW_CONNECT_DATA && !strncmp((const char *)data + 256, DISC_NQN, 256)) {
		if (sqsize == 0 || sqsize > 127) {
			reply_status(c, cid, qid, KVC_ST_CMD_DNR(0x82), 44);
			return;
		}
		c->disc = true;
		c->disc_cntlid = (uint16_t)(0xf000 + t->disc_ids++ % 0xff0);
		c->disc_kato = kvc_get_le32(b + 48);
		c->disc_ka = now_ns();
		emu_log(3, "tcp %s: discovery controller %u", c->name, c->disc_cntlid);
		reply_status(c, cid, qid, 0, c->disc_cntlid);
		return;
	}
	if (sqe->opc == KVC_ADM_FABRICS && b[4] == FW_FCTYPE_CONNECT && qid == 0) {
		na = assoc_new(t);
		if (!na) {
			conn_kill(c, "out of memory");
			return;
		}
	}
	st = fw_fabric_connect(t->s, na ? &na->hif : NULL, sqe, data, dlen, &ctrl, &dw0);
	if (!st && qid) {
		for (a = t->assocs; a && a->ctrl != ctrl; a = a->next)
			;
		if (!a || a->dying || a->q[qid]) { /* not a controller we serve */
			fw_fabric_disconnect(ctrl, qid);
			st = KVC_ST_GENERIC_DNR(KVC_SC_CMD_SEQ_ERROR);
		}
	}
	if (!st) {
		slots = calloc((uint32_t)sqsize + 1, sizeof(*slots));
		if (!slots) {
			if (qid)
				fw_fabric_disconnect(ctrl, qid);
			st = KVC_ST_GENERIC_DNR(KVC_SC_INTERNAL);
		}
	}
	if (st) {
		if (na) {
			fw_ctrl_destroy(qid ? NULL : ctrl);
			free(na->bar);
			free(na);
		}
		emu_log(2, "tcp %s: Connect of queue %u refused (status %#x, DW0 %#x)", c->name,
			qid, st, dw0);
		reply_status(c, cid, qid, st, dw0);
		return;
	}
	if (na) {
		a = na;
		a->ctrl = ctrl;
		a->next = t->assocs;
		t->assocs = a;
	}
	free(c->slots);
	c->slots = slots;
	c->nslots = (uint32_t)sqsize + 1;
	c->as = a;
	c->qid = qid;
	a->q[qid] = c;
	emu_log(qid ? 3 : 2, "tcp %s: connected %s queue %u of controller %u (sqsize %u)", c->name,
		qid ? "I/O" : "admin", qid, fw_ctrl_cntlid(a->ctrl), sqsize);
	reply_status(c, cid, qid, 0, dw0);
}

/* Hand the command to the firmware. */
static void submit(struct emu_tcp_conn *c, struct tcmd *m)
{
	int rc = fw_ctrl_submit(c->as->ctrl, c->qid, &m->sqe);

	if (rc == -EAGAIN)
		fatal(c, KVC_TCP_FES_PDU_SEQ_ERROR, 0, "more commands than the queue holds");
	else if (rc)
		conn_kill(c, "its queue is gone (controller reset)");
}

static void on_capsule(struct emu_tcp_conn *c)
{
	const struct kvc_tcp_cmd *pdu = (const void *)c->hbuf;
	struct kvc_sqe sqe = pdu->sqe;
	struct kvc_sgl_desc d = kvc_sgl_get(kvc_sqe_cbytes(&sqe) + KVC_SQE_OFF_PRP1);
	uint8_t psdt = (uint8_t)((sqe.flags & KVC_SQE_PSDT_MASK) >> KVC_SQE_PSDT_SHIFT);
	uint16_t cid = kvc_sqe_cid(&sqe);
	struct tcmd *m = NULL;
	uint32_t i;

	if (c->disc) {
		disc_exec(c, &sqe);
		return;
	}
	if (!c->as) {
		on_connect(c, &sqe, c->pbuf, c->dlen);
		return;
	}
	if (slot_of(c, cid)) {
		fatal(c, KVC_TCP_FES_PDU_SEQ_ERROR, 0, "command identifier already in use");
		return;
	}
	if (!c->slots[cid % c->nslots].used)
		m = &c->slots[cid % c->nslots];
	for (i = 0; i < c->nslots && !m; i++)
		if (!c->slots[i].used)
			m = &c->slots[i];
	if (m && m != &c->slots[cid % c->nslots]) {
		m->displaced = true;
		c->displaced++;
	}
	if (!m) {
		fatal(c, KVC_TCP_FES_PDU_SEQ_ERROR, 0, "more commands than the queue holds");
		return;
	}
	m->used = true;
	m->cid = cid;
	m->c = c;
	m->sqe = sqe;
	if (c->dlen) { /* keep the in-capsule data: the receive buffer is reused */
		m->in = c->pbuf;
		m->in_len = c->dlen;
		m->icd = true;
		c->pbuf = NULL;
	}
	if (psdt == 1 && d.type == KVC_SGL_TRANSPORT_DATA_BLOCK) {
		m->xlen = d.len;
		if ((sqe.opc & KVC_DIR_H2D) && d.len && !m->icd && d.len <= c->t->o.max_xfer) {
			struct kvc_tcp_r2t r;

			m->in = malloc(d.len);
			if (!m->in) {
				conn_kill(c, "out of memory for write data");
				return;
			}
			m->need_data = true;
			memset(&r, 0, sizeof(r));
			r.ch.pdu_type = KVC_TCP_R2T;
			kvc_put_le16(&r.cccid, cid);
			kvc_put_le16(&r.ttag, (uint16_t)(m - c->slots));
			kvc_put_le32(&r.r2to, 0);
			kvc_put_le32(&r.r2tl, d.len);
			send_pdu(c, &r, sizeof(r), NULL, 0, true);
			return;
		}
	}
	submit(c, m);
}

static void on_h2c_data(struct emu_tcp_conn *c)
{
	const struct kvc_tcp_data *h = (const void *)c->hbuf;
	uint16_t ttag = kvc_get_le16(&h->ttag), cccid = kvc_get_le16(&h->cccid);
	uint32_t datao = kvc_get_le32(&h->datao), datal = kvc_get_le32(&h->datal);
	struct tcmd *m = ttag < c->nslots ? &c->slots[ttag] : NULL;

	if (!m || !m->used || !m->need_data || m->cid != cccid) {
		fatal(c, KVC_TCP_FES_INVALID_HEADER, 10, "H2CData for an unknown transfer tag");
		return;
	}
	if (datal != c->dlen) {
		fatal(c, KVC_TCP_FES_INVALID_HEADER, 16, "H2CData DATAL differs from its data");
		return;
	}
	if (datao != m->in_len || datal > m->xlen - m->in_len) {
		fatal(c, KVC_TCP_FES_DATA_OUT_OF_RANGE, 12, "H2CData outside the requested range");
		return;
	}
	memcpy(m->in + m->in_len, c->pbuf, datal);
	m->in_len += datal;
	if (m->in_len < m->xlen) {
		if (c->ch.flags & KVC_TCP_F_DATA_LAST)
			fatal(c, KVC_TCP_FES_PDU_SEQ_ERROR, 1, "H2CData LAST before all the data");
		return;
	}
	m->need_data = false;
	submit(c, m);
}

static void on_icreq(struct emu_tcp_conn *c)
{
	const struct kvc_tcp_icreq *q = (const void *)c->hbuf;
	struct kvc_tcp_icresp r;

	if (kvc_get_le16(&q->pfv) != 0) {
		fatal(c, KVC_TCP_FES_INVALID_HEADER, 8, "ICReq PFV not 0");
		return;
	}
	if (q->hpda != 0) { /* C2HData would need padding: not implemented */
		fatal(c, KVC_TCP_FES_UNSUPPORTED_PARAM, 10, "ICReq HPDA other than 0");
		return;
	}
	if ((q->dgst & 3) && !c->t->o.allow_digests) {
		fatal(c, KVC_TCP_FES_UNSUPPORTED_PARAM, 11, "digests asked for but disabled");
		return;
	}
	c->hdgst = q->dgst & 1;
	c->ddgst = (q->dgst >> 1) & 1;
	memset(&r, 0, sizeof(r));
	r.ch.pdu_type = KVC_TCP_ICRESP;
	r.dgst = q->dgst & 3; /* mirror the request */
	r.cpda = 0;
	kvc_put_le32(&r.maxdata, c->t->o.maxh2c);
	send_pdu(c, &r, sizeof(r), NULL, 0, false);
	c->ic_done = true;
}

/* Largest in-capsule data on this connection. */
static uint32_t icd_limit(const struct emu_tcp_conn *c)
{
	uint32_t io = c->t->o.ioccsz * 16 - 64;

	return !c->as || c->qid == 0 ? ADMIN_ICD : io;
}

/* The common header is in: check it, and how much follows. */
static void check_ch(struct emu_tcp_conn *c)
{
	const struct kvc_tcp_ch *ch = (const void *)c->hbuf;
	uint32_t plen = kvc_get_le32(&ch->plen), hd, payload, limit;
	uint8_t want_hlen;

	c->ch = *ch;
	c->ch.plen = plen;
	if (!c->ic_done) {
		if (ch->pdu_type != KVC_TCP_ICREQ) {
			fatal(c, KVC_TCP_FES_PDU_SEQ_ERROR, 0, "first PDU is not an ICReq");
			return;
		}
		if (ch->hlen != 128 || plen != 128) {
			fatal(c, KVC_TCP_FES_INVALID_HEADER, ch->hlen != 128 ? 2 : 4,
			      "ICReq of the wrong length");
			return;
		}
		c->hneed = 128;
		c->pneed = 0;
		return;
	}
	switch (ch->pdu_type) {
	case KVC_TCP_CAPSULE_CMD:
		want_hlen = sizeof(struct kvc_tcp_cmd);
		limit = icd_limit(c);
		break;
	case KVC_TCP_H2C_DATA:
		want_hlen = sizeof(struct kvc_tcp_data);
		limit = c->t->o.maxh2c;
		break;
	case KVC_TCP_H2C_TERM:
		want_hlen = sizeof(struct kvc_tcp_term);
		limit = TERM_MAX - sizeof(struct kvc_tcp_term);
		break;
	case KVC_TCP_ICREQ:
		fatal(c, KVC_TCP_FES_PDU_SEQ_ERROR, 0, "a second ICReq");
		return;
	default:
		fatal(c, KVC_TCP_FES_INVALID_HEADER, 0, "PDU type a host may not send");
		return;
	}
	if (ch->hlen != want_hlen) {
		fatal(c, KVC_TCP_FES_INVALID_HEADER, 2, "header length");
		return;
	}
	hd = ch->pdu_type != KVC_TCP_H2C_TERM && c->hdgst ? 4 : 0;
	if (!!(ch->flags & KVC_TCP_F_HDGSTF) != !!hd) {
		fatal(c, KVC_TCP_FES_INVALID_HEADER, 1, "header digest flag");
		return;
	}
	if (plen < (uint32_t)ch->hlen + hd) {
		fatal(c, KVC_TCP_FES_INVALID_HEADER, 4, "PDU length below its header");
		return;
	}
	payload = plen - ch->hlen - hd;
	c->dlen = payload;
	if (payload && ch->pdu_type != KVC_TCP_H2C_TERM) {
		bool dd = c->ddgst;

		if (ch->pdo != ch->hlen + hd) {
			fatal(c, KVC_TCP_FES_INVALID_HEADER, 3, "data offset");
			return;
		}
		if (!!(ch->flags & KVC_TCP_F_DDGSTF) != dd || (dd && payload <= 4)) {
			fatal(c, KVC_TCP_FES_INVALID_HEADER, 1, "data digest flag");
			return;
		}
		c->dlen = payload - (dd ? 4 : 0);
	} else if (ch->flags & KVC_TCP_F_DDGSTF) {
		fatal(c, KVC_TCP_FES_INVALID_HEADER, 1, "data digest flag without data");
		return;
	} else if (ch->pdu_type == KVC_TCP_H2C_DATA) {
		fatal(c, KVC_TCP_FES_INVALID_HEADER, 4, "H2CData without data");
		return;
	}
	if (c->dlen > limit) {
		fatal(c, KVC_TCP_FES_DATA_LIMIT, 4, "PDU data above the limit");
		return;
	}
	c->hneed = ch->hlen + hd;
	c->pneed = payload;
}

static void on_pdu(struct emu_tcp_conn *c)
{
	if (!c->ic_done) {
		on_icreq(c);
		return;
	}
	switch (c->ch.pdu_type) {
	case KVC_TCP_CAPSULE_CMD:
		on_capsule(c);
		break;
	case KVC_TCP_H2C_DATA:
		on_h2c_data(c);
		break;
	default: /* H2CTermReq */
		conn_kill(c, "the host terminated the connection (H2CTermReq)");
		break;
	}
}

/* Header complete: verify its digest; then the payload or the PDU. */
static void header_done(struct emu_tcp_conn *c)
{
	uint32_t hl = c->ch.hlen;

	if (c->ic_done && c->hneed > hl &&
	    fw_crc32c(0, c->hbuf, hl) != kvc_get_le32(c->hbuf + hl)) {
		fatal(c, KVC_TCP_FES_HDGST_ERROR, 0, "header digest mismatch");
		return;
	}
	if (!c->pneed) {
		on_pdu(c);
		return;
	}
	free(c->pbuf);
	c->pbuf = malloc(c->pneed);
	if (!c->pbuf) {
		conn_kill(c, "out of memory for a PDU");
		return;
	}
	c->pgot = 0;
	c->phase = RX_DATA;
}

static void payload_done(struct emu_tcp_conn *c)
{
	if (c->pneed > c->dlen &&
	    fw_crc32c(0, c->pbuf, c->dlen) != kvc_get_le32(c->pbuf + c->dlen)) {
		/* The spec lets a data digest error fail just the command; a
		 * fatal error is simpler and allowed. */
		fatal(c, KVC_TCP_FES_HDGST_ERROR, 0, "data digest mismatch");
		return;
	}
	on_pdu(c);
}

static void rx_reset(struct emu_tcp_conn *c)
{
	c->phase = RX_CH;
	c->hgot = 0;
	c->hneed = sizeof(struct kvc_tcp_ch);
}

static int rx(struct emu_tcp_conn *c, const uint8_t *p, size_t n)
{
	while (n && !is_dead(c)) {
		size_t k;

		if (c->phase == RX_DATA) {
			k = c->pneed - c->pgot < n ? c->pneed - c->pgot : n;
			memcpy(c->pbuf + c->pgot, p, k);
			c->pgot += (uint32_t)k;
			p += k;
			n -= k;
			if (c->pgot == c->pneed) {
				rx_reset(c);
				payload_done(c);
			}
			continue;
		}
		k = c->hneed - c->hgot < n ? c->hneed - c->hgot : n;
		memcpy(c->hbuf + c->hgot, p, k);
		c->hgot += (uint32_t)k;
		p += k;
		n -= k;
		if (c->hgot < c->hneed)
			continue;
		if (c->phase == RX_CH) { /* the common header: now the whole header */
			check_ch(c);
			c->phase = RX_HDR;
			continue;
		}
		header_done(c); /* the payload follows, or the PDU was handled */
		if (c->phase != RX_DATA)
			rx_reset(c);
	}
	return is_dead(c) ? -EPIPE : 0;
}

int emu_tcp_feed(struct emu_tcp *t, struct emu_tcp_conn *c, const void *buf, size_t len)
{
	int rc = -EPIPE;

	fw_lock(t);
	if (!is_dead(c)) {
		fw_subsys_fabric_bytes(t->s, len, 0);
		rc = rx(c, buf, len);
	}
	fw_unlock(t);
	return rc;
}

struct emu_tcp_conn *emu_tcp_fake_conn(struct emu_tcp *t)
{
	struct emu_tcp_conn *c = conn_new(t, -1, NULL);

	if (c) {
		c->fake = true;
		snprintf(c->name, sizeof(c->name), "fake");
		fw_lock(t);
		c->next = t->fakes;
		t->fakes = c;
		fw_unlock(t);
	}
	return c;
}

/* ---- controllers ----------------------------------------------------------------------- */

/* Whether a queue of @a is a connection of @th (NULL: any). */
static bool assoc_on(const struct tassoc *a, const struct tthread *th)
{
	unsigned int i;

	if (!th)
		return true;
	for (i = 0; i <= FW_MAX_IOQ; i++)
		if (a->q[i] && a->q[i]->th == th)
			return true;
	return false;
}

/*
 * Whether @th acts on @a's Keep Alive expiry: the thread that owns the admin
 * queue's connection (any with NULL, or when the admin queue is gone).  It
 * reads that socket just before it polls, so a Keep Alive waiting there after
 * a stall of the process counts before KATO is judged; another thread polling
 * the same controller first would tear down a live host.
 */
static bool kato_judge(const struct tassoc *a, const struct tthread *th)
{
	return !th || !a->q[0] || a->q[0]->th == th;
}

/* Run the controllers with a queue on @th once (all with NULL), tear down
 * those whose Keep Alive expired.  Firmware lock held. */
static int poll_assocs(struct emu_tcp *t, struct tthread *th, bool *busy)
{
	struct tassoc *a;
	int work = 0;

	for (a = t->assocs; a; a = a->next) {
		if (a->dying || !assoc_on(a, th))
			continue;
		if (fw_ctrl_expired(a->ctrl) && kato_judge(a, th)) {
			emu_log(1, "tcp: controller %u: Keep Alive timeout, tearing it down",
				fw_ctrl_cntlid(a->ctrl));
			assoc_kill(a);
			work++;
			continue;
		}
		work += fw_ctrl_poll(a->ctrl);
		if (fw_ctrl_busy(a->ctrl))
			*busy = true;
	}
	reap_assocs(t);
	return work;
}

/* Connections that never connected, discovery controllers without Keep
 * Alive.  Firmware lock held. */
static void sweep(struct emu_tcp *t, struct emu_tcp_conn *list, uint64_t now)
{
	struct emu_tcp_conn *c;

	for (c = list; c; c = c->next)
		if (!is_dead(c) && !c->as && !c->disc && c->fd >= 0 &&
		    now - c->born > (uint64_t)t->o.ic_ms * 1000000)
			conn_kill(c, "not connected in time");
		else if (!is_dead(c) && c->disc && c->disc_kato &&
			 now - c->disc_ka > (uint64_t)c->disc_kato * 1000000)
			conn_kill(c, "discovery controller: Keep Alive timeout");
}

int emu_tcp_poll(struct emu_tcp *t, bool *busy)
{
	struct emu_tcp_conn *c;
	int work;

	fw_lock(t);
	work = poll_assocs(t, NULL, busy);
	fw_unlock(t);
	for (c = t->fakes; c; c = c->next)
		if (!is_dead(c))
			work += flush_out(c);
	return work;
}

/* ---- event threads ----------------------------------------------------------------- */

/* Read what the host sent and act on it; the socket is read outside the
 * firmware lock, the bytes are parsed (commands submitted) inside it. */
static void conn_read(struct tthread *th, struct emu_tcp_conn *c)
{
	int i;

	for (i = 0; i < RX_PER_EVENT && !is_dead(c); i++) {
		ssize_t n = recv(c->fd, th->rxbuf, sizeof(th->rxbuf), MSG_DONTWAIT);

		if (n <= 0 &&
		    (n == 0 || (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK))) {
			fw_lock(c->t);
			conn_kill(c, n ? "receive failed" : "the host closed the connection");
			fw_unlock(c->t);
			return;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		emu_tcp_feed(c->t, c, th->rxbuf, (size_t)n);
		if (backlog(c) > OUT_HIGH)
			break; /* the host is not reading: stop taking its commands */
		if ((size_t)n < sizeof(th->rxbuf))
			break; /* drained: spare the EAGAIN recv */
	}
}

/* Spread connections over the threads in turn: a host's admin and I/O
 * queues land on different threads. */
static void accept_conns(struct emu_tcp *t)
{
	for (;;) {
		struct sockaddr_in sa;
		socklen_t sl = sizeof(sa);
		int fd = accept4(t->lfd, (struct sockaddr *)&sa, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC),
		    one = 1;
		struct tthread *th = &t->th[t->rr++ % t->nth];
		struct emu_tcp_conn *c = NULL;
		struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP };

		if (fd < 0)
			return;
		if (__atomic_load_n(&t->nconns, __ATOMIC_RELAXED) >= MAX_CONNS ||
		    !(c = conn_new(t, fd, th))) {
			emu_log(1, "tcp: connection refused (%u connections)",
				__atomic_load_n(&t->nconns, __ATOMIC_RELAXED));
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		snprintf(c->name, sizeof(c->name), "%s:%u", inet_ntoa(sa.sin_addr),
			 ntohs(sa.sin_port));
		ev.data.ptr = c;
		c->ev = ev.events;
		/* On the thread's list before its first event can arrive. */
		pthread_mutex_lock(&th->inbox_lock);
		c->next = th->inbox;
		th->inbox = c;
		pthread_mutex_unlock(&th->inbox_lock);
		if (epoll_ctl(th->epfd, EPOLL_CTL_ADD, fd, &ev)) {
			fw_lock(t);
			conn_kill(c, "epoll");
			fw_unlock(t);
		}
		emu_log(3, "tcp %s: accepted (thread %u)", c->name, (unsigned int)(th - t->th));
	}
}

static void take_inbox(struct tthread *th)
{
	struct emu_tcp_conn *c, *next;

	pthread_mutex_lock(&th->inbox_lock);
	c = th->inbox;
	th->inbox = NULL;
	pthread_mutex_unlock(&th->inbox_lock);
	for (; c; c = next) {
		next = c->next;
		c->next = th->conns;
		th->conns = c;
	}
}

static void thread_events(struct tthread *th, const struct epoll_event *ev, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		struct emu_tcp_conn *c = ev[i].data.ptr;

		if (ev[i].data.ptr == &th->t->lfd) {
			accept_conns(th->t);
		} else if (ev[i].data.ptr == &th->evfd) {
			uint64_t v;

			if (read(th->evfd, &v, sizeof(v)) < 0)
				continue; /* already drained */
		} else if (!is_dead(c) &&
			   (ev[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) {
			conn_read(th, c);
		}
	}
}

/*
 * One event loop: read and parse what arrived, run the controllers this
 * thread's connections belong to, send what they completed, free what died.
 * It sleeps in epoll_wait (100 ms at most, for the sweeps) unless a
 * controller has work in flight.
 */
static void *thread_main(void *arg)
{
	struct tthread *th = arg;
	struct emu_tcp *t = th->t;
	struct epoll_event ev[64];
	struct emu_tcp_conn *c;
	bool busy = false;

	cur_th = th;
	while (!__atomic_load_n(&t->stop, __ATOMIC_ACQUIRE)) {
		int n = epoll_wait(th->epfd, ev, 64, busy ? 0 : 100);
		uint64_t now;

		take_inbox(th);
		thread_events(th, ev, n > 0 ? n : 0);
		busy = false;
		now = now_ns();
		fw_lock(t);
		poll_assocs(t, th, &busy);
		if (now - th->last_sweep > 100000000ull) {
			th->last_sweep = now;
			sweep(t, th->conns, now);
		}
		fw_unlock(t);
		for (c = th->conns; c; c = c->next)
			if (!is_dead(c))
				flush_out(c);
		reap_conns(&th->conns, false);
	}
	return NULL;
}

struct emu_tcp *emu_tcp_create(struct fw_subsys *s, const struct emu_tcp_opts *o)
{
	struct emu_tcp *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->s = s;
	t->o = *o;
	if (t->o.ioccsz < 4)
		t->o.ioccsz = 4;
	if (t->o.maxh2c < 4096)
		t->o.maxh2c = 4096;
	t->o.maxh2c &= ~3u;
	if (t->o.threads < 1)
		t->o.threads = 1;
	if (pthread_mutex_init(&t->own_lock, NULL)) {
		free(t);
		return NULL;
	}
	t->fw = o->fw_lock ? o->fw_lock : &t->own_lock;
	t->lfd = -1;
	return t;
}

/* Its descriptors; all threads' are made before any thread runs (the
 * first one hands connections to the others from the start). */
static int thread_init(struct emu_tcp *t, struct tthread *th)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &th->evfd };

	th->t = t;
	th->epfd = epoll_create1(EPOLL_CLOEXEC);
	th->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (th->epfd < 0 || th->evfd < 0)
		return -errno;
	if (epoll_ctl(th->epfd, EPOLL_CTL_ADD, th->evfd, &ev))
		return -errno;
	if (th == t->th) { /* the first thread accepts */
		ev.data.ptr = &t->lfd;
		if (epoll_ctl(th->epfd, EPOLL_CTL_ADD, t->lfd, &ev))
			return -errno;
	}
	return 0;
}

int emu_tcp_listen(struct emu_tcp *t, const char *addrport)
{
	char host[64] = "127.0.0.1";
	const char *colon = strrchr(addrport, ':');
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	unsigned long port;
	char *end;
	unsigned int i;
	int one = 1, rc;

	if (colon) {
		if ((size_t)(colon - addrport) >= sizeof(host))
			return -EINVAL;
		memcpy(host, addrport, (size_t)(colon - addrport));
		host[colon - addrport] = 0;
		addrport = colon + 1;
	}
	port = strtoul(addrport, &end, 10);
	if (!*addrport || *end || port > 65535 || inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return -EINVAL;
	sa.sin_port = htons((uint16_t)port);
	t->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (t->lfd < 0)
		return -errno;
	setsockopt(t->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(t->lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(t->lfd, 64))
		return -errno;
	getsockname(t->lfd, (struct sockaddr *)&sa, &sl);
	t->port = ntohs(sa.sin_port);
	t->th = calloc(t->o.threads, sizeof(*t->th));
	if (!t->th)
		return -ENOMEM;
	for (i = 0; i < t->o.threads; i++) {
		t->th[i].epfd = t->th[i].evfd = -1;
		t->th[i].inbox_lock = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
	}
	t->nth = t->o.threads;
	for (i = 0; i < t->nth; i++) {
		rc = thread_init(t, &t->th[i]);
		if (rc)
			return rc; /* emu_tcp_destroy() cleans up */
	}
	for (i = 0; i < t->nth; i++) {
		if (pthread_create(&t->th[i].tid, NULL, thread_main, &t->th[i]))
			return -EAGAIN; /* emu_tcp_destroy() stops those that run */
		t->th[i].started = true;
	}
	return 0;
}

uint16_t emu_tcp_port(const struct emu_tcp *t)
{
	return t->port;
}

static void kill_list(struct emu_tcp_conn *c)
{
	for (; c; c = c->next)
		conn_kill(c, NULL);
}

void emu_tcp_destroy(struct emu_tcp *t)
{
	unsigned int i;

	if (!t)
		return;
	__atomic_store_n(&t->stop, true, __ATOMIC_RELEASE);
	for (i = 0; i < t->nth; i++)
		if (t->th[i].started) {
			th_wake(&t->th[i]);
			pthread_join(t->th[i].tid, NULL);
		}
	fw_lock(t);
	for (struct tassoc *a = t->assocs; a; a = a->next)
		assoc_kill(a);
	for (i = 0; i < t->nth; i++) {
		take_inbox(&t->th[i]);
		kill_list(t->th[i].conns);
	}
	kill_list(t->fakes);
	reap_assocs(t);
	fw_unlock(t);
	for (i = 0; i < t->nth; i++) {
		reap_conns(&t->th[i].conns, true);
		if (t->th[i].epfd >= 0)
			close(t->th[i].epfd);
		if (t->th[i].evfd >= 0)
			close(t->th[i].evfd);
		pthread_mutex_destroy(&t->th[i].inbox_lock);
	}
	reap_conns(&t->fakes, true);
	free(t->th);
	if (t->lfd >= 0)
		close(t->lfd);
	pthread_mutex_destroy(&t->own_lock);
	free(t);
}
