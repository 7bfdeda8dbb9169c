/* SPDX-License-Identifier: MIT */
/*
 * NVMe/TCP target of nvkv-emu: a listening socket and its connections on an
 * epoll instance of their own (the server adds its descriptor to the main
 * loop), each admin connection a fabric controller of the same subsystem the
 * shared-memory hosts use.  Everything runs on the firmware thread; sockets
 * are non-blocking, so a slow, stalled or dead host never blocks another.
 */
#ifndef EMU_TCP_H
#define EMU_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firmware/fw.h"

struct emu_tcp;
struct emu_tcp_conn;

struct emu_tcp_opts {
	uint32_t ioccsz;    /* I/O command capsule size, 16-byte units (>= 4) */
	uint32_t maxh2c;    /* MAXH2CDATA: bytes per H2CData PDU (>= 4096, multiple of 4) */
	uint32_t max_xfer;  /* largest data transfer of one command */
	uint32_t ic_ms;	    /* a connection must be connected within this time */
	bool allow_digests; /* honour HDGST/DDGST requests (else refuse them) */
};

/**
 * emu_tcp_create() - a target for subsystem @s, without a socket yet.
 * Return: the target, or NULL (no memory).
 */
struct emu_tcp *emu_tcp_create(struct fw_subsys *s, const struct emu_tcp_opts *o);

/**
 * emu_tcp_listen() - listen on "[ADDR:]PORT" (IPv4; 127.0.0.1 when no
 * address is given).
 * Return: the epoll descriptor to watch for input (readable: call
 * emu_tcp_events()), or -errno.
 */
int emu_tcp_listen(struct emu_tcp *t, const char *addrport);

/* The port actually bound (useful with port 0). */
uint16_t emu_tcp_port(const struct emu_tcp *t);

/* Accept, read and write whatever is ready; never blocks. */
void emu_tcp_events(struct emu_tcp *t);

/**
 * emu_tcp_poll() - run the fabric controllers once, tear down those whose
 * Keep Alive expired, send what they completed, drop dead connections.
 * @busy: set when a controller wants to be polled again soon.
 * Return: units of work done.
 */
int emu_tcp_poll(struct emu_tcp *t, bool *busy);

/* Close every connection and controller; free @t. */
void emu_tcp_destroy(struct emu_tcp *t);

/* For the fuzz harness and tests: a connection without a socket (what the
 * target sends is counted and dropped), and bytes received on it.
 * emu_tcp_feed returns 0, or -EPIPE once the connection has been closed. */
struct emu_tcp_conn *emu_tcp_fake_conn(struct emu_tcp *t);
int emu_tcp_feed(struct emu_tcp *t, struct emu_tcp_conn *c, const void *buf, size_t len);

#endif /* EMU_TCP_H */
