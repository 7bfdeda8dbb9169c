// SPDX-License-Identifier: MIT
/*
 * Hostile hosts against a real nvkv-emu: a host that shrinks the memory it
 * shared or the BAR it was handed, and connections that never say hello.
 * Whatever one host does may hurt only itself: another host attached to the
 * same emulator keeps working.  The hostile host speaks the transport
 * (cmdset/shm.h) directly, as libnvkv would not misbehave.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "check_main.h"
#include "cmdset/cmdset.h"
#include "emu_proc.c"
#include "hostdrv/nvkv.h"

#define MEM_SIZE (1u << 20)

static struct emu_proc emu;

struct raw_host {
	int sock, memfd;
	int fds[3]; /* BAR, wake eventfd, interrupt eventfd */
	struct kvc_shm_welcome w;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int raw_socket(int flags)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | flags, 0);

	ck_assert_int_ge(s, 0);
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", emu.sock);
	if (connect(s, (struct sockaddr *)&a, sizeof(a))) {
		close(s);
		return -errno;
	}
	return s;
}

/* Connect and say hello with a memfd sealed with @seals. */
static void raw_hello(struct raw_host *h, unsigned int seals)
{
	struct kvc_shm_hello hello = { .magic = KVC_SHM_MAGIC, .version = KVC_SHM_VERSION };
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &hello, sizeof(hello) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf };
	struct timeval tv = { 5, 0 };
	struct cmsghdr *cm;

	memset(h, 0, sizeof(*h));
	h->fds[0] = h->fds[1] = h->fds[2] = -1;
	h->sock = raw_socket(0);
	ck_assert_int_ge(h->sock, 0);
	setsockopt(h->sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	h->memfd = memfd_create("hostile", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	ck_assert_int_ge(h->memfd, 0);
	ck_assert_int_eq(ftruncate(h->memfd, MEM_SIZE), 0);
	if (seals)
		ck_assert_int_eq(fcntl(h->memfd, F_ADD_SEALS, seals), 0);
	hello.mem_size = MEM_SIZE;
	strcpy(hello.name, "hostile");
	memset(cbuf, 0, sizeof(cbuf));
	mh.msg_controllen = CMSG_SPACE(sizeof(int));
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &h->memfd, sizeof(int));
	ck_assert_int_eq(sendmsg(h->sock, &mh, MSG_NOSIGNAL), sizeof(hello));
}

/* Read the emulator's answer to raw_hello() (and its fds when accepted). */
static void raw_welcome(struct raw_host *h)
{
	char cbuf[CMSG_SPACE(3 * sizeof(int))];
	struct iovec iov = { &h->w, sizeof(h->w) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf };
	struct cmsghdr *cm;

	memset(cbuf, 0, sizeof(cbuf));
	mh.msg_controllen = sizeof(cbuf);
	ck_assert_int_eq(recvmsg(h->sock, &mh, MSG_CMSG_CLOEXEC), sizeof(h->w));
	cm = CMSG_FIRSTHDR(&mh);
	if (cm && cm->cmsg_type == SCM_RIGHTS && cm->cmsg_len == CMSG_LEN(3 * sizeof(int)))
		memcpy(h->fds, CMSG_DATA(cm), 3 * sizeof(int));
	ck_assert_uint_eq(h->w.magic, KVC_SHM_MAGIC);
}

/* Connect and say hello with a memfd sealed with @seals; read the welcome. */
static void raw_attach(struct raw_host *h, unsigned int seals)
{
	raw_hello(h, seals);
	raw_welcome(h);
}

static void raw_detach(struct raw_host *h)
{
	for (int i = 0; i < 3; i++)
		if (h->fds[i] >= 0)
			close(h->fds[i]);
	close(h->memfd);
	close(h->sock);
}

static void raw_kick(struct raw_host *h)
{
	uint64_t one = 1;

	ck_assert_int_eq(write(h->fds[1], &one, sizeof(one)), sizeof(one));
}

/* The emulator process is still running. */
static bool emu_alive(void)
{
	int status;

	return emu.pid > 0 && waitpid(emu.pid, &status, WNOHANG) == 0;
}

static struct nvkv_dev *open_dev(void)
{
	struct nvkv_opts o;
	struct nvkv_dev *d = NULL;

	nvkv_opts_default(&o);
	o.queues = 2;
	o.queue_depth = 32;
	o.timeout_ms = 3000;
	ck_assert_int_eq(nvkv_open(emu.sock, &o, &d), 0);
	return d;
}

/* A well-behaved host round-trips a few keys. */
static void check_good_host(struct nvkv_dev *d, const char *tag)
{
	char key[16], val[32], got[32];
	size_t vlen;

	for (int i = 0; i < 20; i++) {
		snprintf(key, sizeof(key), "%s%d", tag, i);
		snprintf(val, sizeof(val), "value %s %d", tag, i);
		ck_assert_int_eq(nvkv_store(d, key, strlen(key), val, strlen(val), 0), 0);
		ck_assert_int_eq(nvkv_retrieve(d, key, strlen(key), got, sizeof(got), &vlen), 0);
		ck_assert_uint_eq(vlen, strlen(val));
		ck_assert(!memcmp(got, val, vlen));
	}
}

static void setup(void)
{
	ck_assert_int_eq(emu_start(&emu, "--emu-idle-spin-us", "0", NULL), 0);
}

static void teardown(void)
{
	emu_stop(&emu, SIGTERM);
}

/* Regression (issue 8, defect 4): unsealed host memory could shrink under the mapping. */
START_TEST(unsealed_host_memory_is_refused)
{
	struct raw_host h;

	raw_attach(&h, 0);
	ck_assert_int_ne(h.w.status, 0);
	ck_assert_msg(strstr(h.w.message, "F_SEAL_SHRINK"), "message: %s", h.w.message);
	raw_detach(&h);
	raw_attach(&h, F_SEAL_SHRINK);
	ck_assert_msg(h.w.status == 0, "sealed memory refused: %s", h.w.message);
	raw_detach(&h);
	ck_assert(emu_alive());
}
END_TEST

/*
 * Regression (issue 8, defect 4): a host that shrinks its memory, then has
 * the device fetch a command from it, killed the emulator with SIGBUS.  The
 * memory is now sealed against shrinking, as libnvkv seals it, so the host
 * can only punch holes in it: those pages read back as zeros, and the device
 * fetching a zeroed command must hurt only this host.
 */
START_TEST(host_shrinking_its_memory_hurts_only_itself)
{
	struct nvkv_dev *good = open_dev(), *other;
	volatile uint32_t *bar;
	volatile uint8_t *mem;
	struct raw_host h;
	int rc, err;

	check_good_host(good, "a");
	raw_attach(&h, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
	ck_assert_msg(h.w.status == 0, "sealed memory refused: %s", h.w.message);
	ck_assert_int_ge(h.fds[0], 0);
	/* Bring the controller up with its admin queues in the memfd. */
	bar = mmap(NULL, h.w.bar_size, PROT_READ | PROT_WRITE, MAP_SHARED, h.fds[0], 0);
	ck_assert(bar != MAP_FAILED);
	mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, h.memfd, 0);
	ck_assert(mem != MAP_FAILED);
	memset((void *)mem, 0xa5, MEM_SIZE);
	bar[KVC_REG_AQA / 4] = KVC_AQA(16, 16);
	bar[KVC_REG_ASQ / 4] = 4096;
	bar[KVC_REG_ACQ / 4] = 64 * 1024;
	bar[KVC_REG_CC / 4] = KVC_CC_EN | KVC_CC_CSS_ALL << KVC_CC_CSS_SHIFT |
			      6u << KVC_CC_IOSQES_SHIFT | 4u << KVC_CC_IOCQES_SHIFT;
	raw_kick(&h);
	for (int i = 0; i < 200 && !(bar[KVC_REG_CSTS / 4] & KVC_CSTS_RDY); i++)
		sleep_ms(5);
	ck_assert(bar[KVC_REG_CSTS / 4] & KVC_CSTS_RDY);
	/* The seal holds: the memory cannot shrink under the device's mapping. */
	rc = ftruncate(h.memfd, 0);
	err = errno;
	ck_assert_int_ne(rc, 0);
	ck_assert_int_eq(err, EPERM);
	/* What the seal allows: punching out every page, queues included. */
	ck_assert_int_eq(
		fallocate(h.memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, MEM_SIZE), 0);
	for (size_t off = 0; off < MEM_SIZE; off += 4096)
		ck_assert_uint_eq(mem[off], 0);
	bar[KVC_REG_DBS / 4] = 1; /* admin SQ tail: the device reads the (zeroed) SQE */
	raw_kick(&h);
	sleep_ms(300);
	ck_assert_msg(emu_alive(), "the emulator died");
	check_good_host(good, "b");
	/* A second well-behaved host can still attach and work. */
	other = open_dev();
	check_good_host(other, "d");
	nvkv_close(other);
	munmap((void *)mem, MEM_SIZE);
	munmap((void *)bar, h.w.bar_size);
	raw_detach(&h);
	nvkv_close(good);
}
END_TEST

/* Regression (issue 8, defect 4): shrinking the BAR memfd killed the emulator. */
START_TEST(host_shrinking_the_bar_hurts_only_itself)
{
	struct nvkv_dev *good = open_dev();
	struct raw_host h;
	int rc, err;

	raw_attach(&h, F_SEAL_SHRINK | F_SEAL_GROW);
	ck_assert_msg(h.w.status == 0, "refused: %s", h.w.message);
	ck_assert_int_ge(h.fds[0], 0);
	rc = ftruncate(h.fds[0], 0);
	err = errno;
	raw_kick(&h);
	sleep_ms(300); /* idle rounds write the transport page's heartbeat */
	ck_assert_msg(emu_alive(), "the emulator died");
	ck_assert_int_ne(rc, 0);
	ck_assert_int_eq(err, EPERM);
	check_good_host(good, "c");
	raw_detach(&h);
	nvkv_close(good);
}
END_TEST

/*
 * Regression (issue 8, defect 9): the accept path waited up to 2 s for each
 * connection's hello, so idle connections locked every other host out.
 */
START_TEST(idle_connections_do_not_lock_hosts_out)
{
	enum { IDLE = 50 };
	int idle[IDLE], nidle = 0, closed = 0;
	struct nvkv_dev *good;
	uint64_t t0, open_ms;

	for (int i = 0; i < IDLE; i++) {
		int s = raw_socket(SOCK_NONBLOCK);

		if (s >= 0)
			idle[nidle++] = s;
	}
	ck_assert_int_ge(nidle, 16);
	t0 = now_ms();
	good = open_dev();
	open_ms = now_ms() - t0;
	if (getenv("NVKV_TEST_VERBOSE"))
		fprintf(stderr, "attach behind %d idle connections: %llu ms\n", nidle,
			(unsigned long long)open_ms);
	ck_assert_msg(open_ms < 1000, "attach took %llu ms behind %d idle connections",
		      (unsigned long long)open_ms, nidle);
	check_good_host(good, "d");
	/* Every idle connection is answered and closed within the handshake time. */
	t0 = now_ms();
	while (closed < nidle && now_ms() - t0 < 4000) {
		struct pollfd p[IDLE];

		for (int i = 0; i < nidle; i++)
			p[i] = (struct pollfd){ .fd = idle[i], .events = POLLRDHUP };
		poll(p, (nfds_t)nidle, 100);
		closed = 0;
		for (int i = 0; i < nidle; i++)
			closed += !!(p[i].revents & (POLLRDHUP | POLLHUP));
	}
	ck_assert_msg(closed == nidle, "%d of %d idle connections still open after %llu ms",
		      nidle - closed, nidle, (unsigned long long)(now_ms() - t0));
	for (int i = 0; i < nidle; i++)
		close(idle[i]);
	check_good_host(good, "e");
	nvkv_close(good);
}
END_TEST

/*
 * A host whose hello is already waiting when a burst of idle connections
 * fills the pending list is attached, not dropped as the oldest pending
 * connection: the emulator is stopped while 15 idle connections, the host
 * and 16 more idle ones connect, so one accept pass meets them all.
 */
START_TEST(hello_behind_a_burst_of_idle_connections_attaches_regression)
{
	enum { BEFORE = 15, AFTER = 16 };
	int idle[BEFORE + AFTER], n = 0;
	struct raw_host h;

	ck_assert_int_eq(kill(emu.pid, SIGSTOP), 0);
	for (int i = 0; i < BEFORE; i++)
		idle[n++] = raw_socket(SOCK_NONBLOCK);
	raw_hello(&h, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
	for (int i = 0; i < AFTER; i++)
		idle[n++] = raw_socket(SOCK_NONBLOCK);
	ck_assert_int_eq(kill(emu.pid, SIGCONT), 0);
	for (int i = 0; i < n; i++)
		ck_assert_int_ge(idle[i], 0);
	raw_welcome(&h);
	ck_assert_msg(h.w.status == 0, "refused: %s", h.w.message);
	ck_assert_int_ge(h.fds[0], 0);
	for (int i = 0; i < n; i++)
		close(idle[i]);
	raw_detach(&h);
	ck_assert(emu_alive());
}
END_TEST

static int emu_open_fds(void)
{
	char path[64];
	struct dirent *d;
	DIR *dir;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)emu.pid);
	dir = opendir(path);
	ck_assert_ptr_nonnull(dir);
	while ((d = readdir(dir)))
		n += d->d_name[0] != '.';
	closedir(dir);
	return n;
}

/* A malformed hello that carries an fd: refused, and the fd is not kept. */
START_TEST(malformed_hello_leaks_no_fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))], junk[10] = "not hello", reply[256];
	struct iovec iov = { junk, sizeof(junk) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf };
	struct timeval tv = { 5, 0 };
	struct cmsghdr *cm;
	int before, after, fd = memfd_create("junk", MFD_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	sleep_ms(100);
	before = emu_open_fds();
	for (int i = 0; i < 40; i++) {
		int s = raw_socket(0);

		ck_assert_int_ge(s, 0);
		setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		memset(cbuf, 0, sizeof(cbuf));
		mh.msg_controllen = sizeof(cbuf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
		ck_assert_int_eq(sendmsg(s, &mh, MSG_NOSIGNAL), sizeof(junk));
		ck_assert_int_gt(recv(s, reply, sizeof(reply), 0), 0); /* the refusal */
		close(s);
	}
	sleep_ms(100);
	after = emu_open_fds();
	ck_assert_msg(after <= before + 2, "emulator fds: %d before, %d after 40 bad hellos",
		      before, after);
	close(fd);
	ck_assert(emu_alive());
}
END_TEST

static Suite *hostile_suite(void)
{
	Suite *s = suite_create("integration/hostile");
	TCase *tc = tcase_create("hosts");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, unsealed_host_memory_is_refused);
	tcase_add_test(tc, host_shrinking_its_memory_hurts_only_itself);
	tcase_add_test(tc, host_shrinking_the_bar_hurts_only_itself);
	tcase_add_test(tc, idle_connections_do_not_lock_hosts_out);
	tcase_add_test(tc, hello_behind_a_burst_of_idle_connections_attaches_regression);
	tcase_add_test(tc, malformed_hello_leaks_no_fd);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(hostile_suite)
