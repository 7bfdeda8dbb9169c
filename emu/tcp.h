/* SPDX-License-Identifier: MIT */
/*
 * NVMe/TCP target of nvkv-emu: a listening socket and its connections on an
 * epoll instance of their own (the server adds its descriptor to the main
 * loop), each admin connection a fabric controller of the same subsystem the
 * shared-memory hosts use.  Connections are spread over event-loop threads
 * (--tcp-threads), each connection pinned to one; the firmware is entered
 * under one lock shared with the shared-memory server, never across a
 * socket call; sockets are non-blocking, so a slow, stalled or dead host
 * never blocks another.
 */
#ifndef EMU_TCP_H
#define EMU_TCP_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firmware/fw.h"

struct emu_tcp;
struct emu_tcp_conn;

struct emu_tcp_opts {
	uint32_t ioccsz;	  /* I/O command capsule size, 16-byte units (>= 4) */
	uint32_t maxh2c;	  /* MAXH2CDATA: bytes per H2CData PDU (>= 4096, multiple of 4) */
	uint32_t max_xfer;	  /* largest data transfer of one command */
	uint32_t ic_ms;		  /* a connection must be connected within this time */
	bool allow_digests;	  /* honour HDGST/DDGST requests (else refuse them) */
	unsigned int threads;	  /* event-loop threads (>= 1) */
	pthread_mutex_t *fw_lock; /* held around every firmware call; NULL: the target's own */
};

/**
 * emu_tcp_create() - a target for subsystem @s, without a socket yet.
 * Return: the target, or NULL (no memory).
 */
struct emu_tcp *emu_tcp_create(struct fw_subsys *s, const struct emu_tcp_opts *o);

/**
 * emu_tcp_listen() - listen on "[ADDR:]PORT" (IPv4; 127.0.0.1 when no
 * address is given) and start the event-loop threads, which from then on
 * enter the firmware under @fw_lock of the options: whoever else calls the
 * firmware (the shared-memory server) must hold it too.
 * Return: 0, or -errno (emu_tcp_destroy() cleans up).
 */
int emu_tcp_listen(struct emu_tcp *t, const char *addrport);

/* The port actually bound (useful with port 0). */
uint16_t emu_tcp_port(const struct emu_tcp *t);

/**
 * emu_tcp_poll() - for a target without threads (the fuzz harness): run the
 * fabric controllers once, tear down those whose Keep Alive expired, drop
 * what the fake connections were sent.  Takes the firmware lock.
 * @busy: set when a controller wants to be polled again soon.
 * Return: units of work done.
 */
int emu_tcp_poll(struct emu_tcp *t, bool *busy);

/* Stop the threads, close every connection and controller; free @t.  The
 * caller must not hold the firmware lock. */
void emu_tcp_destroy(struct emu_tcp *t);

/* For the fuzz harness and tests: a connection without a socket (what the
 * target sends is counted and dropped), and bytes received on it.
 * emu_tcp_feed returns 0, or -EPIPE once the connection has been closed. */
struct emu_tcp_conn *emu_tcp_fake_conn(struct emu_tcp *t);
int emu_tcp_feed(struct emu_tcp *t, struct emu_tcp_conn *c, const void *buf, size_t len);

#endif /* EMU_TCP_H */
