// SPDX-License-Identifier: MIT
/*
 * nvkv's way to a device and back: opening the DEVICE the command line
 * named (with what to do when it cannot be opened), refusing a transfer
 * method the backend cannot use, turning what libnvkv returned into a
 * message and an exit status, and the --latency figures.  Part of the nvkv
 * program, not of libnvkv.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "hostdrv/cli/cli.h"

/* Map a library return value to an exit status, printing what went wrong. */
int report(const char *what, int rc)
{
	if (rc == 0)
		return EX_OK;
	fprintf(stderr, "nvkv: %s: %s\n", what, nvkv_strerror(rc));
	return rc > 0						       ? EX_DEVICE
	       : rc == -EINVAL || rc == -EMSGSIZE || rc == -EOPNOTSUPP ? EX_USAGE
								       : EX_TRANSPORT;
}

/* Through the kernel's passthrough the kernel builds the SQ and the data pointer. */
static int check_backend_xfer(struct cli *c)
{
	struct nvkv_info in;

	if (c->xfer != NVKV_XFER_BYTEEXPRESS && c->xfer != NVKV_XFER_SGL)
		return EX_OK;
	if (nvkv_identify(c->d, &in) || strcmp(in.backend, "uring"))
		return EX_OK;
	return usage_error("--xfer %s is not possible on %s: through io_uring passthrough the "
			   "kernel owns the submission queue and the data pointer (use prp, "
			   "bandslim, adaptive or adaptive-cost)",
			   nvkv_xfer_name(c->xfer), c->device);
}

int open_dev(struct cli *c)
{
	struct nvkv_opts o;
	int rc;

	nvkv_opts_default(&o);
	o.queues = 1;
	o.queue_depth = 64;
	o.timeout_ms = c->timeout_ms ? c->timeout_ms : 5000;
	o.name = "nvkv-cli";
	/* The device's method too: with sgl, Retrieve and List buffers are SGLs. */
	if (c->xfer != NVKV_XFER_DEFAULT)
		o.xfer = c->xfer;
	rc = nvkv_open(c->device, &o, &c->d);
	if (!rc)
		return check_backend_xfer(c);
	fprintf(stderr, "nvkv: cannot open %s: %s\n", c->device, nvkv_strerror(rc));
	if (rc == -EACCES || rc == -EPERM)
		fprintf(stderr, "nvkv: NVMe passthrough (/dev/ngXnY, /dev/nvmeX) needs root "
				"(CAP_SYS_ADMIN on Linux 6.1)\n");
	if (rc == -ENXIO)
		fprintf(stderr, "nvkv: that controller has no Key Value namespace\n");
	if (!strncmp(c->device, "tcp://", 6)) {
		if (rc == -ECONNREFUSED)
			fprintf(stderr, "nvkv: no NVMe/TCP target there serves that subsystem "
					"(nvkv-emu --tcp [ADDR:]PORT; the NQN after the port)\n");
		return EX_TRANSPORT;
	}
	if (rc == -ENOENT || rc == -ECONNREFUSED || rc == -ENOTSOCK) {
		fprintf(stderr,
			"nvkv: no emulator is listening there; start one with\n"
			"  nvkv-emu --socket %s &\n",
			c->device);
		if (!c->device_given)
			fprintf(stderr,
				"nvkv: (%s is the default device: give a DEVICE or set "
				"NVKV_DEVICE to use another)\n",
				c->device);
	}
	return EX_TRANSPORT;
}

uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void show_latency(const struct cli *c, bool on, uint64_t t0)
{
	if (on)
		fprintf(stderr, "latency: %s: %llu us\n", c->cmd,
			(unsigned long long)(now_us() - t0));
}
