// SPDX-License-Identifier: MIT
/*
 * Integration-test helper: run nvkv-emu from the same build tree as the
 * test program, on a private socket, and stop or kill it.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct emu_proc {
	pid_t pid;
	char sock[108];
	char bindir[PATH_MAX];
};

/* build/tests/integration/test_x -> build/bin */
static void find_bindir(char *out, size_t len)
{
	char exe[PATH_MAX - 8];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *p;

	exe[n > 0 ? n : 0] = 0;
	p = strstr(exe, "/tests/integration/");
	if (p)
		*p = 0;
	snprintf(out, len, "%s/bin", exe);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* True once a socket bound to @path is listening (flag __SO_ACCEPTCON in
 * /proc/net/unix).  The socket file appears at bind(), before listen(): a
 * client connecting in between is refused. */
static bool sock_listening(const char *path)
{
	char line[512], name[256];
	unsigned int flags;
	bool found = false;
	FILE *f = fopen("/proc/net/unix", "r");

	if (!f)
		return true; /* no procfs: the file's existence must do */
	while (!found && fgets(line, sizeof(line), f))
		found = sscanf(line, "%*s %*s %*s %x %*s %*s %*s %255s", &flags, name) == 2 &&
			(flags & 0x10000) && !strcmp(name, path);
	fclose(f);
	return found;
}

/* Start nvkv-emu with the given extra arguments (NULL terminated). */
static int emu_start(struct emu_proc *e, const char *first, ...)
{
	const char *argv[64];
	char exe[PATH_MAX + 16];
	struct stat st;
	va_list ap;
	int n = 0, i;

	find_bindir(e->bindir, sizeof(e->bindir));
	snprintf(exe, sizeof(exe), "%s/nvkv-emu", e->bindir);
	snprintf(e->sock, sizeof(e->sock), "/tmp/nvkv-test-%d-%ld.sock", (int)getpid(),
		 (long)random());
	argv[n++] = exe;
	argv[n++] = "--socket";
	argv[n++] = e->sock;
	argv[n++] = "--log-level";
	argv[n++] = getenv("NVKV_TEST_VERBOSE") ? "debug" : "err";
	va_start(ap, first);
	for (const char *a = first; a && n < 62; a = va_arg(ap, const char *))
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	e->pid = fork();
	if (e->pid == 0) {
		execv(exe, (char *const *)argv);
		_exit(127);
	}
	if (e->pid < 0)
		return -errno;
	for (i = 0; i < 500; i++) {
		if (stat(e->sock, &st) == 0 && sock_listening(e->sock))
			return 0;
		if (waitpid(e->pid, NULL, WNOHANG) == e->pid) {
			e->pid = 0;
			return -ECHILD;
		}
		sleep_ms(10);
	}
	return -ETIMEDOUT;
}

/* Send @sig and reap; returns the exit status (or 128 + signal). */
__attribute__((unused)) static int emu_stop(struct emu_proc *e, int sig)
{
	int status = 0;

	if (e->pid <= 0)
		return -1;
	kill(e->pid, sig);
	waitpid(e->pid, &status, 0);
	e->pid = 0;
	unlink(e->sock);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* CPU time (user + system) of the emulator so far, in clock ticks. */
__attribute__((unused)) static long emu_cpu_ticks(const struct emu_proc *e)
{
	char path[64], buf[1024], *p;
	unsigned long ut = 0, stm = 0;
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)e->pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	p = strrchr(buf, ')');
	for (i = 0; p && i < 12; i++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p + 1, "%lu %lu", &ut, &stm) != 2)
		return -1;
	return (long)(ut + stm);
}
