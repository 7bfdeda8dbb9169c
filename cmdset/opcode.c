// SPDX-License-Identifier: MIT
/* Opcode names, one table per command set. */
#include "opcode.h"

#include <stddef.h>

#include "admin.h"
#include "bandslim.h"
#include "bexp.h"
#include "kv.h"
#include "nvm.h"

struct opc_name {
	uint8_t opc;
	const char *name;
};

static const struct opc_name admin_names[] = {
	{ KVC_ADM_DELETE_SQ, "delete-io-sq" },
	{ KVC_ADM_CREATE_SQ, "create-io-sq" },
	{ KVC_ADM_GET_LOG_PAGE, "get-log-page" },
	{ KVC_ADM_DELETE_CQ, "delete-io-cq" },
	{ KVC_ADM_CREATE_CQ, "create-io-cq" },
	{ KVC_ADM_IDENTIFY, "identify" },
	{ KVC_ADM_ABORT, "abort" },
	{ KVC_ADM_SET_FEATURES, "set-features" },
	{ KVC_ADM_GET_FEATURES, "get-features" },
	{ KVC_ADM_ASYNC_EVENT, "async-event-request" },
	{ KVC_ADM_KEEP_ALIVE, "keep-alive" },
	{ KVC_ADM_FABRICS, "fabrics" },
};

static const struct opc_name nvm_names[] = {
	{ KVC_NVM_FLUSH, "flush" },
	{ KVC_NVM_WRITE, "write" },
	{ KVC_NVM_READ, "read" },
};

static const struct opc_name kv_names[] = {
	{ KVC_KV_STORE, "store" },
	{ KVC_KV_RETRIEVE, "retrieve" },
	{ KVC_KV_LIST, "list" },
	{ KVC_KV_DELETE, "delete" },
	{ KVC_KV_EXIST, "exist" },
	{ KVC_BS_STORE, "bandslim-store" },
	{ KVC_BS_STORE_PRP, "bandslim-store-prp" },
	{ KVC_BS_XFER, "bandslim-xfer" },
	{ KVC_BX_STORE, "byteexpress-store" },
};

static const char *lookup(const struct opc_name *t, size_t n, uint8_t opc)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (t[i].opc == opc)
			return t[i].name;
	return "unknown";
}

#define LOOKUP(t, opc) lookup(t, sizeof(t) / sizeof((t)[0]), opc)

const char *kvc_opcode_str(enum kvc_cmd_set set, uint8_t opc)
{
	switch (set) {
	case KVC_SET_ADMIN:
		return LOOKUP(admin_names, opc);
	case KVC_SET_NVM:
		return LOOKUP(nvm_names, opc);
	case KVC_SET_KV:
		return LOOKUP(kv_names, opc);
	}
	return "unknown";
}
