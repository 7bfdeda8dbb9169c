// SPDX-License-Identifier: MIT
/*
 * NVMe/TCP target: the life of a connection and of an association (one
 * fabric controller and its connections).  Making a connection, finding a
 * command by its identifier in the connection's slots, killing a connection
 * (an admin queue's death ends its whole association) and freeing both once
 * no thread can be using them.  Locking rules: tcp_internal.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "tcp_internal.h"

/* A command is put in slot cid % nslots when that is free (always, for a
 * host numbering its commands below the queue size, as ours does): then
 * finding it, or knowing it is not there, takes one look.  Only while some
 * command sits elsewhere (@displaced) does a miss scan the slots. */
struct tcmd *emu_tcp_slot_of(struct emu_tcp_conn *c, uint16_t cid)
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

void emu_tcp_slot_free(struct tcmd *m)
{
	if (m->used && m->displaced)
		m->c->displaced--;
	free(m->in);
	free(m->out);
	memset(m, 0, sizeof(*m));
}

/* The association ends: its connections close; emu_tcp_reap_assocs() frees it (the
 * firmware may be in the middle of completing one of its commands). */
void emu_tcp_assoc_kill(struct tassoc *a)
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
			emu_tcp_conn_kill(c, NULL);
		}
	}
}

/*
 * Under the firmware lock: detach it, then mark it dead; the owning thread
 * closes and frees it (reap_conns; events of this round may still name it).
 * Marking it dead is the last access: from then on the owner may free it.
 */
void emu_tcp_conn_kill(struct emu_tcp_conn *c, const char *why)
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
			emu_tcp_assoc_kill(a);
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
		emu_tcp_slot_free(&c->slots[i]);
	free(c->slots);
	free(c->pbuf);
	free(c->out);
	pthread_mutex_destroy(&c->olock);
	__atomic_fetch_sub(&c->t->nconns, 1, __ATOMIC_RELAXED);
	free(c);
}

/* Free the associations whose admin connection went; firmware lock held. */
void emu_tcp_reap_assocs(struct emu_tcp *t)
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
void emu_tcp_reap_conns(struct emu_tcp_conn **pp, bool all)
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
struct emu_tcp_conn *emu_tcp_conn_new(struct emu_tcp *t, int fd, struct tthread *th)
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

struct emu_tcp_conn *emu_tcp_fake_conn(struct emu_tcp *t)
{
	struct emu_tcp_conn *c = emu_tcp_conn_new(t, -1, NULL);

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
