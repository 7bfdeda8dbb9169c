// SPDX-License-Identifier: MIT
/*
 * NVMe/TCP target: running the fabric controllers and ending what timed out.
 * An event thread polls the controllers that have a queue on it; a
 * controller whose Keep Alive expired is torn down with all its connections
 * by the thread that owns its admin connection; connections that never
 * connected and discovery controllers without Keep Alive are swept.
 */
#include "log.h"
#include "tcp_internal.h"

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
int emu_tcp_poll_assocs(struct emu_tcp *t, struct tthread *th, bool *busy)
{
	struct tassoc *a;
	int work = 0;

	for (a = t->assocs; a; a = a->next) {
		if (a->dying || !assoc_on(a, th))
			continue;
		if (fw_ctrl_expired(a->ctrl) && kato_judge(a, th)) {
			emu_log(1, "tcp: controller %u: Keep Alive timeout, tearing it down",
				fw_ctrl_cntlid(a->ctrl));
			emu_tcp_assoc_kill(a);
			work++;
			continue;
		}
		work += fw_ctrl_poll(a->ctrl);
		if (fw_ctrl_busy(a->ctrl))
			*busy = true;
	}
	emu_tcp_reap_assocs(t);
	return work;
}

/* Connections that never connected, discovery controllers without Keep
 * Alive.  Firmware lock held. */
void emu_tcp_sweep(struct emu_tcp *t, struct emu_tcp_conn *list, uint64_t now)
{
	struct emu_tcp_conn *c;

	for (c = list; c; c = c->next)
		if (!is_dead(c) && !c->as && !c->disc && c->fd >= 0 &&
		    now - c->born > (uint64_t)t->o.ic_ms * 1000000)
			emu_tcp_conn_kill(c, "not connected in time");
		else if (!is_dead(c) && c->disc && c->disc_kato &&
			 now - c->disc_ka > (uint64_t)c->disc_kato * 1000000)
			emu_tcp_conn_kill(c, "discovery controller: Keep Alive timeout");
}

int emu_tcp_poll(struct emu_tcp *t, bool *busy)
{
	struct emu_tcp_conn *c;
	int work;

	fw_lock(t);
	work = emu_tcp_poll_assocs(t, NULL, busy);
	fw_unlock(t);
	for (c = t->fakes; c; c = c->next)
		if (!is_dead(c))
			work += emu_tcp_flush_out(c);
	return work;
}
