// SPDX-License-Identifier: MIT
/*
 * libnvkv: Set Features and Get Features, the generic calls and the Key
 * Value Configuration feature (FID 20h) that decides whether a Delete of a
 * key that does not exist fails.  Commands go through the admin queue like
 * any passthrough command.
 */
#include <errno.h>
#include <string.h>

#include "nvkv_internal.h"

#define KV_NSID 1 /* the namespace the KV calls address (udrv.c) */

static int feature_cmd(struct nvkv_dev *d, uint8_t opc, uint32_t nsid, uint32_t cdw10,
		       uint32_t cdw11, uint32_t *dw0)
{
	struct kvc_sqe sqe;

	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = opc;
	kvc_sqe_set_nsid(&sqe, nsid);
	kvc_sqe_set_dw(&sqe, 10, cdw10);
	kvc_sqe_set_dw(&sqe, 11, cdw11);
	return nvkv_admin_raw(d, &sqe, NULL, 0, dw0);
}

int nvkv_set_feature(struct nvkv_dev *d, uint8_t fid, uint32_t nsid, uint32_t value, bool save,
		     uint32_t *dw0)
{
	if (!d)
		return -EINVAL;
	return feature_cmd(d, KVC_ADM_SET_FEATURES, nsid, fid | (save ? KVC_FEAT_SV : 0), value,
			   dw0);
}

int nvkv_get_feature(struct nvkv_dev *d, uint8_t fid, uint32_t nsid, unsigned int sel,
		     uint32_t *value)
{
	if (!d || !value || sel > KVC_SEL_SUPPORTED)
		return -EINVAL;
	return feature_cmd(d, KVC_ADM_GET_FEATURES, nsid, fid | sel << 8, 0, value);
}

int nvkv_kv_config_set(struct nvkv_dev *d, uint32_t config, bool save)
{
	if (config & ~(uint32_t)NVKV_KV_CONFIG_EDNEK)
		return -EINVAL;
	return nvkv_set_feature(d, NVKV_FEAT_KV_CONFIG, KV_NSID, config, save, NULL);
}

int nvkv_kv_config_get(struct nvkv_dev *d, unsigned int sel, uint32_t *config)
{
	return nvkv_get_feature(d, NVKV_FEAT_KV_CONFIG, KV_NSID, sel, config);
}
