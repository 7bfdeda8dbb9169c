// SPDX-License-Identifier: MIT
/*
 * NVMe/TCP target: the send side of a connection.  PDUs (with their header
 * and data digests when negotiated) are queued in the connection's output
 * buffer under its own lock, from whichever thread completed the command, and
 * sent without blocking by the thread that owns the connection; a host that
 * does not read what it is sent stops being read (OUT_HIGH).  Also the two
 * PDUs every other module sends: the CapsuleResp and the C2HTermReq of a
 * fatal protocol error.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "cmdset/tcp.h"
#include "firmware/crc.h"
#include "log.h"
#include "tcp_internal.h"

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

/* Queue one PDU: header (@hlen bytes, common header filled here), its digest
 * when negotiated, then @dlen data bytes and their digest.  Under the
 * firmware lock, from any thread; the bytes count as sent (fabric_bytes). */
void emu_tcp_send_pdu(struct emu_tcp_conn *c, void *hdr, uint8_t hlen, const void *data,
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
		emu_tcp_conn_kill(c, "out of memory for output");
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

size_t emu_tcp_backlog(struct emu_tcp_conn *c)
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

int emu_tcp_flush_out(struct emu_tcp_conn *c)
{
	bool err = false;
	int work;

	pthread_mutex_lock(&c->olock);
	work = flush_locked(c, &err);
	pthread_mutex_unlock(&c->olock);
	if (err) { /* conn_kill needs the firmware lock */
		fw_lock(c->t);
		emu_tcp_conn_kill(c, "send failed");
		fw_unlock(c->t);
	}
	return work;
}

/* A fatal protocol error: C2HTermReq (no digests), then the connection goes. */
void emu_tcp_fatal(struct emu_tcp_conn *c, uint16_t fes, uint32_t fei, const char *why)
{
	struct kvc_tcp_term tr;
	bool err = false;

	if (is_dead(c))
		return;
	memset(&tr, 0, sizeof(tr));
	tr.ch.pdu_type = KVC_TCP_C2H_TERM;
	kvc_put_le16(&tr.fes, fes);
	kvc_put_le32((uint8_t *)&tr + 10, fei);
	emu_tcp_send_pdu(c, &tr, sizeof(tr), NULL, 0, false);
	emu_log(1, "tcp %s: protocol error: %s (FES %u, FEI %u); closing", c->name, why, fes, fei);
	pthread_mutex_lock(&c->olock); /* one try: a host that does not read loses it */
	flush_locked(c, &err);
	pthread_mutex_unlock(&c->olock);
	emu_tcp_conn_kill(c, NULL);
}

void emu_tcp_send_rsp(struct emu_tcp_conn *c, const void *cqe)
{
	struct kvc_tcp_rsp r;

	memset(&r, 0, sizeof(r));
	r.ch.pdu_type = KVC_TCP_CAPSULE_RESP;
	memcpy(&r.cqe, cqe, sizeof(r.cqe));
	emu_tcp_send_pdu(c, &r, sizeof(r), NULL, 0, true);
}

void emu_tcp_reply_status(struct emu_tcp_conn *c, uint16_t cid, uint16_t qid, uint16_t st,
			  uint32_t dw0)
{
	struct kvc_cqe cqe;

	kvc_cqe_fill(&cqe, dw0, 0, 0, qid, cid, st, false);
	emu_tcp_send_rsp(c, &cqe);
}
