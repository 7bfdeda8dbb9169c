// SPDX-License-Identifier: MIT
/*
 * Client side of the shared-memory transport (cmdset/shm.h): nvkv-emu maps
 * our host memory and hands us its BAR; doorbells wake it through an eventfd
 * when it sleeps, its interrupts wake us through another.  One of the
 * transports behind struct nvkv_transport_ops.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "nvkv_internal.h"

struct nvkv_shm {
	struct nvkv_transport t; /* t.mem: the memfd's mapping */
	int sock;
	int memfd;
	uint32_t *bar;
	size_t bar_size;
	struct kvc_shm_tp *tp;
	int wake_fd;
	int irq_fd;
	uint16_t cntlid;
	bool huge;     /* host memory from hugetlbfs */
	char why[128]; /* refusal message */
};

static struct nvkv_shm *shm_of(struct nvkv_transport *t)
{
	return (struct nvkv_shm *)t;
}

static int send_hello(int sock, int memfd, size_t size, const char *name)
{
	struct kvc_shm_hello h = { .magic = KVC_SHM_MAGIC, .version = KVC_SHM_VERSION };
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &h, sizeof(h) };
	struct msghdr mh = { .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;

	h.mem_size = size;
	snprintf(h.name, sizeof(h.name), "%s", name ? name : "libnvkv");
	memset(cbuf, 0, sizeof(cbuf));
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &memfd, sizeof(int));
	return sendmsg(sock, &mh, MSG_NOSIGNAL) == sizeof(h) ? 0 : -errno;
}

static int recv_welcome(struct nvkv_shm *t, struct kvc_shm_welcome *w, int fds[3])
{
	char cbuf[CMSG_SPACE(3 * sizeof(int))];
	struct iovec iov = { w, sizeof(*w) };
	struct msghdr mh = { .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	ssize_t n = recvmsg(t->sock, &mh, MSG_CMSG_CLOEXEC);

	fds[0] = fds[1] = fds[2] = -1;
	if (n < 0)
		return errno == EAGAIN ? -ETIMEDOUT : -errno;
	cm = CMSG_FIRSTHDR(&mh);
	if (cm && cm->cmsg_type == SCM_RIGHTS && cm->cmsg_len == CMSG_LEN(3 * sizeof(int)))
		memcpy(fds, CMSG_DATA(cm), 3 * sizeof(int));
	if (n != sizeof(*w) || w->magic != KVC_SHM_MAGIC || w->version != KVC_SHM_VERSION)
		return -EPROTO;
	if (w->status) {
		snprintf(t->why, sizeof(t->why), "%.*s", (int)sizeof(w->message), w->message);
		return w->status < 0 ? w->status : -EPROTO;
	}
	return fds[2] >= 0 ? 0 : -EPROTO;
}

static void shm_disconnect(struct nvkv_shm *t);

#define HUGE_PAGE (2u << 20)

/*
 * Host memory of @size bytes: a memfd sealed against resizing (the emulator
 * maps only memory that cannot shrink under it: SIGBUS), mapped here.  With
 * @huge, from hugetlbfs: the queues and buffers both sides touch sit in a
 * few TLB entries instead of one per 4 KiB.  Fails without a trace (no fd,
 * no mapping) when the machine has no huge pages reserved: mmap reserves
 * them, so a short pool is -ENOMEM here, never a SIGBUS later.
 */
static int map_host_mem(struct nvkv_shm *t, size_t size, bool huge)
{
	int fd = memfd_create("nvkv-host-mem",
			      MFD_CLOEXEC | MFD_ALLOW_SEALING | (huge ? MFD_HUGETLB : 0));
	void *p;
	int rc;

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL))
		goto out_close;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		goto out_close;
	t->memfd = fd;
	t->t.mem = p;
	t->t.mem_size = size;
	t->huge = huge;
	return 0;
out_close:
	rc = -errno;
	close(fd);
	return rc;
}

static int shm_connect(struct nvkv_shm *t, const char *path, size_t mem_size, const char *name,
		       uint32_t timeout_ms)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	struct kvc_shm_welcome w;
	int fds[3], rc;

	memset(t, 0, sizeof(*t));
	t->sock = t->memfd = t->wake_fd = t->irq_fd = -1;
	if (strlen(path) >= sizeof(a.sun_path))
		return -ENAMETOOLONG;
	strcpy(a.sun_path, path);
	t->sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (t->sock < 0)
		return -errno;
	setsockopt(t->sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(t->sock, (struct sockaddr *)&a, sizeof(a)))
		goto fail_errno;
	/* Huge pages where the machine has them, else ordinary ones. */
	rc = -EINVAL;
	if (mem_size % HUGE_PAGE == 0)
		rc = map_host_mem(t, mem_size, true);
	if (rc)
		rc = map_host_mem(t, mem_size, false);
	if (rc)
		goto fail;
	rc = send_hello(t->sock, t->memfd, mem_size, name);
	if (!rc)
		rc = recv_welcome(t, &w, fds);
	if (rc) {
		for (int i = 0; i < 3; i++)
			if (fds[i] >= 0)
				close(fds[i]);
		goto fail;
	}
	t->wake_fd = fds[1];
	t->irq_fd = fds[2];
	t->bar_size = w.bar_size;
	t->cntlid = w.cntlid;
	t->bar = mmap(NULL, t->bar_size, PROT_READ | PROT_WRITE, MAP_SHARED, fds[0], 0);
	close(fds[0]);
	if (t->bar == MAP_FAILED || w.tp_offset + sizeof(struct kvc_shm_tp) > w.bar_size) {
		t->bar = NULL;
		rc = -EPROTO;
		goto fail;
	}
	t->tp = (struct kvc_shm_tp *)((uint8_t *)t->bar + w.tp_offset);
	return 0;
fail_errno:
	rc = -errno;
fail:
	shm_disconnect(t);
	return rc;
}

static void shm_disconnect(struct nvkv_shm *t)
{
	if (t->bar)
		munmap(t->bar, t->bar_size);
	if (t->t.mem)
		munmap(t->t.mem, t->t.mem_size);
	if (t->memfd >= 0)
		close(t->memfd);
	if (t->wake_fd >= 0)
		close(t->wake_fd);
	if (t->irq_fd >= 0)
		close(t->irq_fd);
	if (t->sock >= 0)
		close(t->sock);
	t->bar = NULL;
	t->t.mem = NULL;
	t->memfd = t->wake_fd = t->irq_fd = t->sock = -1;
}

static void shm_close(struct nvkv_transport *tp)
{
	shm_disconnect(shm_of(tp));
	free(tp);
}

static uint32_t shm_reg_read(struct nvkv_transport *tp, uint32_t off)
{
	return __atomic_load_n(&shm_of(tp)->bar[off / 4], __ATOMIC_ACQUIRE);
}

/* Sequentially consistent: shm_kick() relies on it (see there). */
static void shm_reg_write(struct nvkv_transport *tp, uint32_t off, uint32_t v)
{
	__atomic_store_n(&shm_of(tp)->bar[off / 4], v, __ATOMIC_SEQ_CST);
}

static void shm_kick(struct nvkv_transport *tp)
{
	struct nvkv_shm *t = shm_of(tp);
	uint64_t one = 1;

	/* Register and doorbell writes are sequentially consistent stores, so
	 * this load cannot pass them: pairs with the device's "set dev_sleeping,
	 * then poll once more". */
	if (__atomic_load_n(&t->tp->dev_sleeping, __ATOMIC_SEQ_CST) &&
	    write(t->wake_fd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is saturated, the device is being woken anyway. */
	}
}

static bool shm_dead(struct nvkv_transport *tp)
{
	struct nvkv_shm *t = shm_of(tp);
	struct pollfd p = { .fd = t->sock, .events = POLLIN | POLLRDHUP };

	if (__atomic_load_n(&t->tp->dev_state, __ATOMIC_ACQUIRE) != KVC_SHM_STATE_RUNNING)
		return true;
	/* The emulator never sends after the welcome: readable means closed. */
	return poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLRDHUP | POLLHUP | POLLERR));
}

static void shm_irq_arm(struct nvkv_transport *tp)
{
	__atomic_fetch_add(&shm_of(tp)->tp->host_waiting, 1, __ATOMIC_SEQ_CST);
}

static void shm_irq_disarm(struct nvkv_transport *tp)
{
	__atomic_fetch_sub(&shm_of(tp)->tp->host_waiting, 1, __ATOMIC_SEQ_CST);
}

static void shm_irq_sleep(struct nvkv_transport *tp, int timeout_ms)
{
	struct nvkv_shm *t = shm_of(tp);
	struct pollfd p[2] = { { .fd = t->irq_fd, .events = POLLIN },
			       { .fd = t->sock, .events = POLLRDHUP } };
	uint64_t v;

	if (poll(p, 2, timeout_ms) > 0 && (p[0].revents & POLLIN) &&
	    read(t->irq_fd, &v, sizeof(v)) < 0) {
		/* EAGAIN: another waiter took it; the caller re-polls its queue. */
	}
}

static const struct nvkv_transport_ops shm_ops = {
	.name = "shm",
	.close = shm_close,
	.reg_read = shm_reg_read,
	.reg_write = shm_reg_write,
	.kick = shm_kick,
	.dead = shm_dead,
	.irq_arm = shm_irq_arm,
	.irq_disarm = shm_irq_disarm,
	.irq_sleep = shm_irq_sleep,
};

int nvkv_shm_open(const char *path, const struct nvkv_opts *o, struct nvkv_transport **out)
{
	struct nvkv_shm *t = calloc(1, sizeof(*t));
	int rc;

	*out = NULL;
	if (!t)
		return -ENOMEM;
	rc = shm_connect(t, path, o->host_mem, o->name, o->timeout_ms);
	if (rc) {
		free(t);
		return rc;
	}
	t->t.ops = &shm_ops;
	*out = &t->t;
	return 0;
}
