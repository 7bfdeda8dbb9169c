// SPDX-License-Identifier: MIT
/*
 * nvkv connect / disconnect: attach the kernel's NVMe/TCP initiator to a
 * target through libnvme's fabrics API (what `nvme connect` does), then name
 * the char devices it created, each with its NSID and command set, so that
 * the KV namespace's /dev/ngXnY can be handed to any nvkv tool (io_uring
 * passthrough, hostdrv/uring.c); disconnect detaches by controller or NQN.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <nvme/fabrics.h>
#include <nvme/ioctl.h>
#include <nvme/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "hostdrv/cli/cli.h"
#include "hostdrv/tcp_pdu.h"

const char cli_connect_usage[] =
	"usage: nvkv connect tcp://HOST:PORT[/NQN] [--ctrl-loss-tmo S]\n"
	"Attaches the kernel's NVMe/TCP initiator (libnvme's nvmf_add_ctrl, as `nvme connect`)\n"
	"and prints the controller and its char devices: /dev/ngXnY NSID command-set.\n"
	"The Key Value namespace's /dev/ngXnY is a DEVICE for nvkv, nvkv-bench, nvkv-perf.\n"
	"--ctrl-loss-tmo S: give up reconnecting after S seconds (libnvme's default 600).\n"
	"Needs root; the nvme-tcp module must be loaded.\n";
const char cli_disconnect_usage[] = "usage: nvkv disconnect nvmeX|NQN\n"
				    "Detaches the kernel from that controller (or every "
				    "controller of subsystem NQN).\n";

/* The command set of namespace @nsid from its descriptor list; -1 when unknown. */
static int ns_csi(int ctrl_fd, uint32_t nsid)
{
	uint8_t buf[NVME_IDENTIFY_DATA_SIZE] __attribute__((aligned(8)));
	size_t off = 0;

	if (nvme_identify_ns_descs(ctrl_fd, nsid, (struct nvme_ns_id_desc *)buf))
		return -1;
	while (off + 4 <= sizeof(buf) && buf[off]) {
		uint8_t type = buf[off], len = buf[off + 1];

		if (type == NVME_NIDT_CSI && len == 1)
			return buf[off + 4];
		off += 4u + len;
	}
	return 0; /* no CSI descriptor: NVM */
}

/* The ngXnY entries of controller @name in sysfs. */
static unsigned int count_ng(const char *name)
{
	char path[300];
	struct dirent *e;
	unsigned int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/sys/class/nvme/%s", name);
	d = opendir(path);
	if (!d)
		return 0;
	while ((e = readdir(d)))
		n += !strncmp(e->d_name, "ng", 2);
	closedir(d);
	return n;
}

/* Namespaces appear after the kernel's scan work: wait until their number settles. */
static void wait_namespaces(const char *name)
{
	struct timespec tick = { 0, 100 * 1000 * 1000 };
	unsigned int last = 0, stable = 0, i;

	for (i = 0; i < 100 && stable < 5; i++) {
		unsigned int n = count_ng(name);

		stable = n && n == last ? stable + 1 : 0;
		last = n;
		nanosleep(&tick, NULL);
	}
}

static void print_nodes(const char *name)
{
	const char *csis[] = { "NVM", "Key Value", "Zoned" };
	char path[300];
	int ctrl_fd, y;

	snprintf(path, sizeof(path), "/dev/%s", name);
	ctrl_fd = open(path, O_RDONLY | O_CLOEXEC);
	printf("controller    /dev/%s\n", name);
	for (y = 1; y <= 64; y++) {
		__u32 nsid = 0;
		int fd, csi;

		snprintf(path, sizeof(path), "/dev/ng%sn%d", name + 4, y);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (nvme_get_nsid(fd, &nsid))
			nsid = 0;
		close(fd);
		csi = ctrl_fd >= 0 && nsid ? ns_csi(ctrl_fd, nsid) : -1;
		printf("%-13s nsid %u, %s\n", path, nsid,
		       csi >= 0 && csi <= 2 ? csis[csi] : "command set unknown");
	}
	if (ctrl_fd >= 0)
		close(ctrl_fd);
}

int cmd_connect(struct cli *c)
{
	static const struct option opts[] = { { "ctrl-loss-tmo", required_argument, NULL, 'l' },
					      { NULL, 0, NULL, 0 } };
	struct nvme_fabrics_config cfg;
	struct tcp_spec sp;
	nvme_root_t r;
	nvme_host_t h;
	nvme_ctrl_t ctrl;
	uint32_t tmo = 0;
	bool have_tmo = false;
	int opt, rc = EX_OK;

	optind = 1;
	while ((opt = getopt_long(c->argc, c->argv, "", opts, NULL)) != -1) {
		if (opt != 'l' || parse_u32(optarg, &tmo))
			return usage_error("%s", opt == 'l' ? "--ctrl-loss-tmo needs seconds"
							    : "unknown option for connect");
		have_tmo = true;
	}
	if (optind != c->argc - 1 || strncmp(c->argv[optind], "tcp://", 6))
		return usage_error("%s", "connect needs one tcp://HOST:PORT[/NQN]");
	if (tcp_parse_spec(c->argv[optind], &sp))
		return usage_error("bad target '%s': tcp://HOST:PORT[/NQN]", c->argv[optind]);
	r = nvme_create_root(stderr, LOG_ERR);
	h = r ? nvme_default_host(r) : NULL;
	ctrl = h ? nvme_create_ctrl(r, sp.nqn, "tcp", sp.host, NULL, NULL, sp.port) : NULL;
	if (!ctrl) {
		fprintf(stderr, "nvkv: connect: libnvme could not set up the controller\n");
		rc = EX_TRANSPORT;
		goto out;
	}
	nvmf_default_config(&cfg);
	if (have_tmo)
		cfg.ctrl_loss_tmo = (int)tmo;
	if (nvmf_add_ctrl(h, ctrl, &cfg)) {
		fprintf(stderr, "nvkv: connect %s: %s%s\n", c->argv[optind], strerror(errno),
			errno == EACCES || errno == EPERM ? " (needs root)"
			: errno == ENOENT		  ? " (load nvme-tcp: modprobe nvme-tcp)"
							  : "");
		rc = EX_TRANSPORT;
		goto out;
	}
	wait_namespaces(nvme_ctrl_get_name(ctrl));
	print_nodes(nvme_ctrl_get_name(ctrl));
out:
	if (r)
		nvme_free_tree(r);
	return rc;
}

static int disconnect_nqn(nvme_root_t r, const char *nqn)
{
	nvme_host_t h;
	nvme_subsystem_t s;
	nvme_ctrl_t ctrl, next;
	int n = 0, rc = 0;

	nvme_for_each_host(r, h)
	{
		nvme_for_each_subsystem(h, s)
		{
			if (strcmp(nvme_subsystem_get_nqn(s), nqn))
				continue;
			nvme_subsystem_for_each_ctrl_safe(s, ctrl, next)
			{
				n++;
				if (nvme_disconnect_ctrl(ctrl))
					rc = -errno;
			}
		}
	}
	return n ? rc : -ENODEV;
}

/*
 * Detach controller @name (nvmeX) the way the kernel offers it: "1" into its
 * sysfs delete_controller.  Not through libnvme's nvme_scan_ctrl(): in 1.3 it
 * leaves strings it allocated for the controller behind (LeakSanitizer in the
 * guest test).
 */
static int disconnect_ctrl(const char *name)
{
	char path[96];
	size_t i;
	int fd, rc = 0;

	if (strncmp(name, "nvme", 4) || !name[4] || strlen(name) > 32)
		return -EINVAL;
	for (i = 4; name[i]; i++)
		if (name[i] < '0' || name[i] > '9')
			return -EINVAL;
	snprintf(path, sizeof(path), "/sys/class/nvme/%s/delete_controller", name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ENODEV : -errno;
	if (write(fd, "1", 1) != 1)
		rc = -errno;
	close(fd);
	return rc;
}

int cmd_disconnect(struct cli *c)
{
	const char *what = c->argc == 2 ? c->argv[1] : NULL;
	nvme_root_t r;
	int rc;

	if (!what)
		return usage_error("%s", "disconnect needs nvmeX or an NQN");
	if (!strncmp(what, "/dev/", 5))
		what += 5;
	if (strncmp(what, "nqn.", 4)) {
		rc = disconnect_ctrl(what);
		if (rc == -EINVAL)
			return usage_error("disconnect needs nvmeX or an NQN, not '%s'", what);
	} else {
		r = nvme_scan(NULL);
		if (!r)
			return report("scanning the NVMe topology", -errno);
		rc = disconnect_nqn(r, what);
		nvme_free_tree(r);
	}
	if (rc)
		fprintf(stderr, "nvkv: disconnect %s: %s\n", what, strerror(-rc));
	return rc ? EX_TRANSPORT : EX_OK;
}
