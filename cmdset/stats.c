// SPDX-License-Identifier: MIT
/* Helpers for the statistics log page: names and histogram percentiles. */
#include "stats.h"

uint64_t kvc_lat_percentile(const uint64_t h[KVC_LAT_BUCKETS], double p)
{
	uint64_t total = 0, acc = 0, want;
	unsigned int b;

	for (b = 0; b < KVC_LAT_BUCKETS; b++)
		total += h[b];
	if (!total)
		return 0;
	want = (uint64_t)(p / 100.0 * (double)total + 0.5);
	if (want == 0)
		want = 1;
	for (b = 0; b < KVC_LAT_BUCKETS; b++) {
		acc += h[b];
		if (acc >= want)
			return kvc_lat_bucket_lo(b);
	}
	return kvc_lat_bucket_lo(KVC_LAT_BUCKETS - 1);
}

const char *kvc_stat_op_name(enum kvc_stat_op op)
{
	static const char *const names[KVC_OP_NUM] = { "store",		"retrieve", "delete",
						       "exist",		"list",	    "flush",
						       "bandslim-xfer", "admin",    "other" };

	return (unsigned int)op < KVC_OP_NUM ? names[op] : "?";
}

const char *kvc_stat_method_name(enum kvc_stat_method m)
{
	static const char *const names[KVC_XM_NUM] = { "prp", "bandslim", "byteexpress", "none" };

	return (unsigned int)m < KVC_XM_NUM ? names[m] : "?";
}

const char *kvc_stat_pcie_name(enum kvc_stat_pcie k)
{
	static const char *const names[KVC_PK_NUM] = { "doorbell", "sqe", "prp-list",
						       "data",	   "cqe", "msix" };

	return (unsigned int)k < KVC_PK_NUM ? names[k] : "?";
}
