// SPDX-License-Identifier: MIT
/*
 * NVMe/TCP initiator: one connection's socket.  Opening it (TCP_NODELAY,
 * non-blocking), sending a buffer whole within the I/O timeout, the
 * connection's send buffer that PDUs are built in, reading whole PDUs while
 * the connection is set up (before the receiver thread reads it), and the
 * CapsuleCmd PDU put in the send buffer.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tcp_internal.h"

int tcp_conn_open(struct nvkv_tcp *t, struct tcp_conn *c)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *ai, *a;
	int rc, one = 1;

	c->fd = -1;
	rc = getaddrinfo(t->host, t->port, &hints, &ai);
	if (rc)
		return -EHOSTUNREACH;
	rc = -ECONNREFUSED;
	for (a = ai; a; a = a->ai_next) {
		int fd = socket(a->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0)
			continue;
		if (!connect(fd, a->ai_addr, a->ai_addrlen)) {
			c->fd = fd;
			rc = 0;
			break;
		}
		rc = -errno;
		close(fd);
	}
	freeaddrinfo(ai);
	if (rc)
		return rc;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
	pthread_mutex_init(&c->tx, NULL);
	return 0;
}

void tcp_conn_close(struct tcp_conn *c)
{
	if (c->fd >= 0) {
		close(c->fd);
		pthread_mutex_destroy(&c->tx);
	}
	c->fd = -1;
	free(c->txb);
	free(c->rx);
	c->txb = c->rx = NULL;
	c->txlen = c->txcap = c->rxlen = c->rxcap = 0;
}

int tcp_send_all(int fd, const uint8_t *p, size_t n, uint32_t timeout_ms)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			struct pollfd pf = { .fd = fd, .events = POLLOUT };
			int r = poll(&pf, 1, (int)timeout_ms);

			if (r == 0)
				return -ETIMEDOUT;
			if (r < 0 && errno != EINTR)
				return -errno;
			continue;
		}
		return w < 0 ? -errno : -EPIPE;
	}
	return 0;
}

/* Reserve @n more bytes at the end of the connection's send buffer. */
uint8_t *tcp_tx_put(struct tcp_conn *c, size_t n)
{
	uint8_t *p;

	if (c->txlen + n > c->txcap) {
		size_t cap = c->txcap ? c->txcap : 4096;

		while (cap < c->txlen + n)
			cap *= 2;
		p = realloc(c->txb, cap);
		if (!p)
			return NULL;
		c->txb = p;
		c->txcap = cap;
	}
	p = c->txb + c->txlen;
	c->txlen += n;
	return p;
}

int tcp_tx_flush(struct nvkv_tcp *t, struct tcp_conn *c)
{
	int rc = c->txlen ? tcp_send_all(c->fd, c->txb, c->txlen, t->o.timeout_ms) : 0;

	c->txlen = 0;
	if (rc)
		set_dead(t, -ENODEV);
	return rc;
}

/* Read exactly @n bytes within @timeout_ms (connection set-up only). */
static int recv_exact(int fd, uint8_t *p, size_t n, uint32_t timeout_ms)
{
	uint64_t end = now_ms() + timeout_ms;

	while (n) {
		ssize_t r = recv(fd, p, n, 0);
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		int64_t left;

		if (r > 0) {
			p += r;
			n -= (size_t)r;
			continue;
		}
		if (r == 0)
			return -ECONNRESET;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		left = (int64_t)(end - now_ms());
		if (left <= 0 || poll(&pf, 1, (int)left) == 0)
			return -ETIMEDOUT;
	}
	return 0;
}

/* One whole PDU from a connection not yet handed to the receiver. */
int tcp_recv_pdu(struct nvkv_tcp *t, struct tcp_conn *c, uint8_t *buf, size_t cap)
{
	uint32_t plen;
	int rc = recv_exact(c->fd, buf, 8, t->o.timeout_ms);

	if (rc)
		return rc;
	plen = kvc_get_le32(buf + 4);
	if (plen < 8 || plen > cap)
		return -EPROTO;
	return recv_exact(c->fd, buf + 8, plen - 8, t->o.timeout_ms);
}

/*
 * Append a CapsuleCmd for @sqe (DPTR already rewritten) with @dlen bytes of
 * in-capsule data, gathered by @fill into the capsule; returns where the data
 * goes (NULL on allocation failure).
 */
uint8_t *tcp_put_capsule(struct tcp_conn *c, const struct kvc_sqe *sqe, uint32_t dlen)
{
	size_t hl = tcp_capsule_hdr_len(c->hd), n = tcp_capsule_len(c->hd, c->dd, dlen);
	uint8_t *p = tcp_tx_put(c, n);

	if (!p)
		return NULL;
	tcp_put_capsule_hdr(p, sqe, c->hd, c->dd, dlen);
	return p + hl;
}

void tcp_seal_capsule(struct tcp_conn *c, uint8_t *data, uint32_t dlen)
{
	if (dlen && c->dd)
		kvc_put_le32(data + dlen, tcp_crc32c(data, dlen));
}
