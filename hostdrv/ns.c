// SPDX-License-Identifier: MIT
/*
 * Namespace enumeration: the active NSID list (Identify CNS 02h), each
 * namespace's command set from its descriptor list (CNS 03h) and its sizes
 * from the command set's Identify Namespace (NVM: CNS 00h; KV: CNS 05h with
 * CSI 01h).  An enumeration is published as a whole table that block
 * submissions read without a lock (only fields that never change in a
 * table: NSID, command set, LBA size, limits); a later enumeration that
 * finds the same namespaces refreshes the sizes in place under the device
 * lock, one that finds others publishes a new table, and replaced tables stay
 * allocated until the device is closed, as a submission on another thread may
 * still be reading one.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nvkv_internal.h"

/* What a queue's DMA buffer holds for block transfers when MDTS allows more. */
#define BLK_XFER_CAP (1u << 20)

static struct nvkv_ns_table *table(struct nvkv_dev *d)
{
	return __atomic_load_n(&d->ns_table, __ATOMIC_ACQUIRE);
}

const struct nvkv_ns_info *nvkv_ns_lookup(struct nvkv_dev *d, uint32_t nsid)
{
	const struct nvkv_ns_table *t = table(d);
	unsigned int i;

	for (i = 0; t && i < t->n; i++)
		if (t->ns[i].nsid == nsid)
			return &t->ns[i];
	return NULL;
}

uint32_t nvkv_ns_first(struct nvkv_dev *d, uint8_t csi)
{
	const struct nvkv_ns_table *t = d ? table(d) : NULL;
	unsigned int i;

	for (i = 0; t && i < t->n; i++)
		if (t->ns[i].csi == csi)
			return t->ns[i].nsid;
	return 0;
}

void nvkv_ns_decode_nvm(const void *id, struct nvkv_ns_info *ns)
{
	const struct kvc_id_ns_nvm *n = id;
	/* FLBAS: format index bits 3:0, and 6:5 as its upper bits (NVMe 2.0). */
	uint8_t f = (uint8_t)((n->flbas & 0x0f) | (n->flbas & 0x60) >> 1);
	uint8_t lbads = f < 64 ? n->lbaf[f].lbads : 0;

	ns->csi = NVKV_CSI_NVM;
	ns->lbaf = f;
	ns->nlbaf = (uint8_t)(n->nlbaf + 1);
	/* LBADS below 9 is "not supported" (2^n bytes, at least 512). */
	ns->lba_size = lbads >= 9 && lbads < 32 ? 1u << lbads : 0;
	ns->blocks = kvc_get_le64(&n->nsze);
	ns->size = ns->blocks * ns->lba_size;
	ns->capacity = kvc_get_le64(&n->ncap) * ns->lba_size;
	ns->used = kvc_get_le64(&n->nuse) * ns->lba_size;
}

void nvkv_ns_decode_kv(const void *id, struct nvkv_ns_info *ns)
{
	const struct kvc_id_ns_kv *n = id;

	ns->csi = NVKV_CSI_KV;
	ns->lbaf = ns->nlbaf = 0;
	ns->lba_size = 0;
	ns->blocks = 0;
	ns->size = ns->capacity = kvc_get_le64(&n->nsze);
	ns->used = kvc_get_le64(&n->nuse);
	ns->max_transfer = kvc_get_le32(&n->kvf[0].kvvml);
}

int nvkv_ns_desc_csi(const void *list, uint8_t *csi)
{
	const uint8_t *b = list;
	size_t off = 0;

	*csi = NVKV_CSI_NVM; /* no CSI descriptor: a controller of the NVM set only */
	while (off + sizeof(struct kvc_ns_desc_hdr) <= KVC_IDENTIFY_SIZE) {
		uint8_t type = b[off], len = b[off + 1];

		if (type == 0)
			return 0; /* the list ends at a zero type */
		off += sizeof(struct kvc_ns_desc_hdr);
		if (len == 0 || off + len > KVC_IDENTIFY_SIZE)
			return -EBADMSG;
		if (type == KVC_NIDT_CSI) {
			if (len != 1)
				return -EBADMSG;
			*csi = b[off];
		}
		off += len;
	}
	return 0;
}

static int ns_identify(struct nvkv_dev *d, uint32_t nsid, uint8_t cns, uint8_t csi, void *buf)
{
	struct kvc_sqe sqe;

	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = KVC_ADM_IDENTIFY;
	kvc_sqe_set_nsid(&sqe, nsid);
	kvc_sqe_set_dw(&sqe, 10, cns);
	kvc_sqe_set_dw(&sqe, 11, (uint32_t)csi << 24);
	return nvkv_udrv_exec_raw(d->admin, &sqe, buf, KVC_IDENTIFY_SIZE, true, NULL);
}

/* The first KV namespace's formats become the device's KV limits (first scan). */
static void take_kv(struct nvkv_dev *d, uint32_t nsid, const uint8_t *id)
{
	const struct kvc_id_ns_kv *n = (const void *)id;
	struct nvkv_info *in = &d->info;

	d->kv_nsid = nsid;
	in->csi = KVC_CSI_KV;
	in->max_key = kvc_get_le16(&n->kvf[0].kvkml);
	in->max_value = kvc_get_le32(&n->kvf[0].kvvml);
	in->max_keys = kvc_get_le32(&n->kvf[0].kvmnk);
	in->capacity = kvc_get_le64(&n->nsze);
	in->utilization = kvc_get_le64(&n->nuse);
}

static int scan_one(struct nvkv_dev *d, uint32_t nsid, struct nvkv_ns_info *ns, bool first)
{
	uint8_t buf[KVC_IDENTIFY_SIZE];
	uint8_t csi;
	int rc = ns_identify(d, nsid, KVC_CNS_NS_DESC_LIST, 0, buf);

	if (rc || (rc = nvkv_ns_desc_csi(buf, &csi)))
		return rc;
	ns->nsid = nsid;
	ns->csi = csi;
	if (csi == NVKV_CSI_NVM) {
		rc = ns_identify(d, nsid, KVC_CNS_NS, 0, buf);
		if (!rc)
			nvkv_ns_decode_nvm(buf, ns);
	} else if (csi == NVKV_CSI_KV) {
		rc = ns_identify(d, nsid, KVC_CNS_CSI_NS, KVC_CSI_KV, buf);
		if (!rc) {
			nvkv_ns_decode_kv(buf, ns);
			if (first && !d->kv_nsid)
				take_kv(d, nsid, buf);
		}
	}
	return rc;
}

/* Size the queues' buffers (once, before any queue exists): the largest KV
 * value, and with a block namespace min(MDTS, 1 MiB) of block data. */
static void size_arena(struct nvkv_dev *d, const struct nvkv_ns_info *ns, unsigned int n)
{
	uint64_t blk = 0, bytes = d->info.max_value;
	unsigned int i;

	for (i = 0; i < n; i++)
		if (ns[i].csi == NVKV_CSI_NVM)
			blk = d->mdts_bytes && d->mdts_bytes < BLK_XFER_CAP ? d->mdts_bytes
									    : BLK_XFER_CAP;
	if (blk > bytes)
		bytes = blk;
	d->arena_pages = nvkv_pages_for(bytes ? bytes : 1);
}

static uint32_t max_transfer(const struct nvkv_dev *d, uint32_t lba_size)
{
	uint64_t m = (uint64_t)d->arena_pages * NVKV_PAGE;

	if (d->mdts_bytes && d->mdts_bytes < m)
		m = d->mdts_bytes;
	if ((uint64_t)NVKV_BLK_MAX_NLB * lba_size < m)
		m = (uint64_t)NVKV_BLK_MAX_NLB * lba_size;
	return (uint32_t)(m < UINT32_MAX ? m : UINT32_MAX);
}

/* The active NSIDs, ascending and non-zero (a list that is not is malformed). */
static int active_list(struct nvkv_dev *d, uint32_t *ids, unsigned int *n)
{
	uint8_t buf[KVC_IDENTIFY_SIZE];
	unsigned int i;
	int rc = ns_identify(d, 0, KVC_CNS_ACTIVE_NS_LIST, 0, buf);

	if (rc)
		return rc;
	for (i = 0; i < NVKV_NS_LIST_MAX; i++) {
		ids[i] = kvc_get_le32(buf + 4 * i);
		if (!ids[i])
			break;
		if (i && ids[i] <= ids[i - 1])
			return -EBADMSG;
	}
	*n = i;
	return 0;
}

static bool same_namespace(const struct nvkv_ns_info *a, const struct nvkv_ns_info *b)
{
	return a->nsid == b->nsid && a->csi == b->csi && a->lbaf == b->lbaf &&
	       a->nlbaf == b->nlbaf && a->lba_size == b->lba_size && a->blocks == b->blocks &&
	       a->max_transfer == b->max_transfer;
}

/*
 * Make @t the current enumeration (caller holds d->lock).  The same
 * namespaces as the current table only refresh its sizes in place (what
 * block submissions read never changes), so enumerating again and again
 * does not pile up tables; anything else is published as a new table.
 */
static void publish(struct nvkv_dev *d, struct nvkv_ns_table *t)
{
	struct nvkv_ns_table *cur = d->ns_table;
	unsigned int i;

	for (i = 0; cur && cur->n == t->n && i < t->n; i++)
		if (!same_namespace(&cur->ns[i], &t->ns[i]))
			break;
	if (cur && cur->n == t->n && i == t->n) {
		for (i = 0; i < t->n; i++) {
			cur->ns[i].size = t->ns[i].size;
			cur->ns[i].capacity = t->ns[i].capacity;
			cur->ns[i].used = t->ns[i].used;
		}
		free(t->ns);
		free(t);
		return;
	}
	t->older = cur;
	__atomic_store_n(&d->ns_table, t, __ATOMIC_RELEASE);
}

int nvkv_ns_scan(struct nvkv_dev *d)
{
	bool first = table(d) == NULL;
	struct nvkv_ns_table *t = calloc(1, sizeof(*t));
	uint32_t *ids = calloc(NVKV_NS_LIST_MAX, sizeof(*ids));
	unsigned int i, n = 0;
	int rc = t && ids ? active_list(d, ids, &n) : -ENOMEM;

	if (!rc && n) {
		t->ns = calloc(n, sizeof(*t->ns));
		if (!t->ns)
			rc = -ENOMEM;
	}
	for (i = 0; !rc && i < n; i++)
		rc = scan_one(d, ids[i], &t->ns[i], first);
	free(ids);
	if (rc) {
		if (t)
			free(t->ns);
		free(t);
		return rc;
	}
	t->n = n;
	if (first)
		size_arena(d, t->ns, n);
	for (i = 0; i < n; i++)
		if (t->ns[i].csi == NVKV_CSI_NVM)
			t->ns[i].max_transfer = max_transfer(d, t->ns[i].lba_size);
	publish(d, t);
	return 0;
}

void nvkv_ns_free(struct nvkv_dev *d)
{
	struct nvkv_ns_table *t = d->ns_table, *older;

	for (; t; t = older) {
		older = t->older;
		free(t->ns);
		free(t);
	}
	d->ns_table = NULL;
}

int nvkv_ns_list(struct nvkv_dev *d, struct nvkv_ns_info *ns, unsigned int max, unsigned int *count)
{
	const struct nvkv_ns_table *t;
	unsigned int i;
	int rc;

	if (!d || !count || (max && !ns))
		return -EINVAL;
	pthread_mutex_lock(&d->lock);
	rc = nvkv_ns_scan(d);
	if (!rc) {
		t = table(d);
		for (i = 0; i < t->n && i < max; i++)
			ns[i] = t->ns[i];
		*count = t->n;
	}
	pthread_mutex_unlock(&d->lock);
	return rc;
}

int nvkv_ns_get(struct nvkv_dev *d, uint32_t nsid, struct nvkv_ns_info *ns)
{
	const struct nvkv_ns_info *n;

	if (!d || !ns)
		return -EINVAL;
	pthread_mutex_lock(&d->lock); /* sizes may be refreshing (publish()) */
	n = nvkv_ns_lookup(d, nsid);
	if (n)
		*ns = *n;
	pthread_mutex_unlock(&d->lock);
	return n ? 0 : -ENXIO;
}
