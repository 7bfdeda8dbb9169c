// SPDX-License-Identifier: MIT
/*
 * nvkv's commands on the whole device: identify (device, namespace and link
 * information), flush, stats and format.  Part of the nvkv program, not of
 * libnvkv.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmdset/cmdset.h"
#include "hostdrv/cli/cli.h"

/* "namespaces    1 (Key Value), 2 (NVM, 4096 B blocks)": what the device enumerates. */
static void print_namespaces(struct cli *c)
{
	struct nvkv_ns_info ns[16];
	unsigned int n = 0, i;

	if (nvkv_ns_list(c->d, ns, 16, &n))
		n = 0;
	printf("namespaces    ");
	for (i = 0; i < n && i < 16; i++) {
		if (ns[i].csi == NVKV_CSI_NVM)
			printf("%s%u (NVM, %u B blocks)", i ? ", " : "", ns[i].nsid,
			       ns[i].lba_size);
		else
			printf("%s%u (%s)", i ? ", " : "", ns[i].nsid,
			       ns[i].csi == NVKV_CSI_KV ? "Key Value" : "other command set");
	}
	printf("%s\n", n ? "" : "none");
}

int cmd_identify(struct cli *c)
{
	struct cli_common o;
	struct nvkv_info in;
	int rc = cli_parse_common(c, &o, O_TIMEOUT);

	if (rc || (rc = cli_check_extra(c, &o, 0)) || (rc = open_dev(c)))
		return rc;
	rc = nvkv_identify(c->d, &in);
	if (rc)
		return report("identify", rc);
	printf("backend       %s\nserial        %s\nmodel         %s\nfirmware      %s\n",
	       in.backend, in.serial, in.model, in.firmware);
	print_namespaces(c);
	printf("max key       %u bytes\nmax value     %u bytes\nmax keys      %u%s\n", in.max_key,
	       in.max_value, in.max_keys, in.max_keys ? "" : " (no limit)");
	printf("capacity      %llu bytes\nutilization   %llu bytes\n",
	       (unsigned long long)in.capacity, (unsigned long long)in.utilization);
	printf("queues        %u I/O queue pairs, up to %u entries each\n", in.queues,
	       in.queue_depth);
	printf("pcie          Gen%u x%u, MPS %u, MRRS %u, RCB %u; PRP DMA %s\n", in.pcie_gen,
	       in.pcie_lanes, in.pcie_mps, in.pcie_mrrs, in.pcie_rcb,
	       in.dma_page ? "in whole 4 KiB pages" : "exact");
	printf("timing        %s\n", in.realtime ? "realtime" : "off");
	printf("inline        bandslim head %u B, transfer %u B; byteexpress %s\n",
	       in.bandslim_head, in.bandslim_xfer, in.byteexpress ? "yes" : "no");
	printf("sgl           %s\n", in.sgl ? "byte-aligned data blocks" : "no");
	return EX_OK;
}

int cmd_flush(struct cli *c)
{
	struct cli_common o;
	int rc = cli_parse_common(c, &o, O_TIMEOUT);

	if (rc || (rc = cli_check_extra(c, &o, 0)) || (rc = open_dev(c)))
		return rc;
	return report("flush", nvkv_flush(c->d));
}

int cmd_stats(struct cli *c)
{
	struct kvc_stats_log *l = NULL;
	struct cli_common o;
	int rc = cli_parse_common(c, &o, O_JSON | O_TIMEOUT);

	if (rc || (rc = cli_check_extra(c, &o, 0)) || (rc = open_dev(c)))
		return rc;
	l = calloc(1, sizeof(*l));
	rc = l ? nvkv_device_stats(c->d, l, sizeof(*l)) : -ENOMEM;
	if (rc) {
		rc = report("stats", rc);
	} else {
		kvc_stats_print(stdout, l, o.json);
		if (!o.json)
			cli_stats_namespaces(c, stdout);
	}
	free(l);
	return rc;
}

/* Format NVM: the KV namespace unless --nsid names another (or all). */
int cmd_format(struct cli *c)
{
	struct cli_common o;
	uint32_t nsid;
	int rc = cli_parse_common(c, &o, O_NSID | O_TIMEOUT);

	if (rc || (rc = cli_check_extra(c, &o, 0)) || (rc = open_dev(c)))
		return rc;
	nsid = o.nsid ? o.nsid : nvkv_ns_first(c->d, NVKV_CSI_KV);
	if (!nsid) {
		fprintf(stderr, "nvkv: format: the device has no KV namespace: give --nsid\n");
		return EX_USAGE;
	}
	rc = nvkv_format(c->d, nsid);
	if (rc == -ENXIO) {
		fprintf(stderr, "nvkv: format: no namespace %u (nvkv list-ns)\n", nsid);
		return EX_USAGE;
	}
	if (rc)
		return report("format", rc);
	if (nsid == NVKV_NSID_ALL)
		printf("formatted every namespace\n");
	else
		printf("formatted namespace %u\n", nsid);
	return EX_OK;
}
