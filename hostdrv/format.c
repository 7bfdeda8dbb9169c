// SPDX-License-Identifier: MIT
/*
 * libnvkv: Format NVM (nvkv_format()).  A namespace keeps its LBA format (a
 * broadcast keeps each one's); the namespace table is enumerated again after
 * the command, since a Format may change what Identify reports.  Above ns.c
 * and the admin path, like the feature calls.
 */
#include <errno.h>
#include <string.h>

#include "nvkv_internal.h"

int nvkv_format(struct nvkv_dev *d, uint32_t nsid)
{
	struct nvkv_ns_info ns;
	struct kvc_sqe sqe;
	unsigned int count;
	uint32_t lbaf = 0; /* a broadcast: each namespace keeps its own */
	int rc;

	if (!d || !nsid)
		return -EINVAL;
	if (nsid != NVKV_NSID_ALL) {
		rc = nvkv_ns_get(d, nsid, &ns);
		if (rc)
			return rc;
		if (ns.csi == NVKV_CSI_NVM)
			lbaf = ns.lbaf; /* keep the LBA size */
	}
	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = KVC_ADM_FORMAT_NVM;
	kvc_sqe_set_nsid(&sqe, nsid);
	/* LBAF 3:0 and LBAFU 13:12; SES 0 */
	kvc_sqe_set_dw(&sqe, 10, (lbaf & 0xfu) | (lbaf & 0x30u) << 8);
	rc = nvkv_admin_raw(d, &sqe, NULL, 0, NULL);
	if (rc)
		return rc;
	return nvkv_ns_list(d, NULL, 0, &count);
}
