// SPDX-License-Identifier: MIT
/*
 * Admin command set: Identify, Get Log Page, Set/Get Features, I/O queue
 * creation and deletion, Abort, Asynchronous Event Request, Keep Alive,
 * Format NVM.
 * Everything the Linux driver needs to bring the controller up and expose the
 * KV namespace as /dev/ngXnY is answered here (CAP.CSS, CNS 03h/05h/06h/08h,
 * the effects log for CSI 01h).
 */
#include <stdio.h>
#include <string.h>

#include "fw_internal.h"

#define NUM_VECTORS 64

static uint32_t dw(const struct fw_cmd *cmd, unsigned int i)
{
	return kvc_sqe_dw(&cmd->sqe, i);
}

static uint16_t send(struct fw_cmd *cmd, const void *buf, uint32_t len)
{
	return fw_cmd_data_out(cmd, buf, len, len);
}

/* Number of Namespaces (NN): the largest NSID a namespace has. */
static uint32_t max_nsid(const struct fw_subsys *s)
{
	uint32_t i, n = 0;

	for (i = 1; i <= FW_MAX_NS; i++)
		if (s->ns[i])
			n = i;
	return n;
}

static void pad_copy(char *dst, size_t n, const char *src)
{
	size_t l = strlen(src);

	memset(dst, ' ', n);
	memcpy(dst, src, l < n ? l : n);
}

/* ---- Identify ------------------------------------------------------------ */

static void id_vendor(const struct fw_config *cfg, struct kvc_id_nvkv *v)
{
	memcpy(v->magic, "NVKV", 4);
	kvc_put_le16(&v->version, 1);
	v->pcie_gen = (uint8_t)cfg->pcie.gen;
	v->pcie_lanes = (uint8_t)cfg->pcie.lanes;
	kvc_put_le16(&v->pcie_mps, (uint16_t)cfg->pcie.mps);
	kvc_put_le16(&v->pcie_mrrs, (uint16_t)cfg->pcie.mrrs);
	kvc_put_le16(&v->pcie_rcb, (uint16_t)cfg->pcie.rcb);
	v->dma_page = cfg->dma_gran == FW_DMA_PAGE;
	v->xfer_caps =
		KVC_NVKV_XFER_BANDSLIM | KVC_NVKV_XFER_BANDSLIM_PRP | KVC_NVKV_XFER_BYTEEXPRESS;
	v->timing = cfg->timing == FW_TIMING_REALTIME;
	kvc_put_le32(&v->fw_overhead_ns, cfg->fw_overhead_ns);
}

static void id_ctrl(struct fw_ctrl *c, struct kvc_id_ctrl *id)
{
	const struct fw_config *cfg = &c->s->cfg;
	uint32_t mdts = fw_mdts(cfg);

	kvc_put_le16(&id->vid, 0x1b36); /* the emulated-device vendor id QEMU's NVMe uses */
	kvc_put_le16(&id->ssvid, 0x1af4);
	pad_copy(id->sn, sizeof(id->sn), cfg->serial);
	pad_copy(id->mn, sizeof(id->mn), cfg->model);
	pad_copy(id->fr, sizeof(id->fr), "nvkv0.1");
	id->rab = 6;
	id->cmic = 0x02; /* more than one controller may attach */
	id->mdts = (uint8_t)mdts;
	kvc_put_le16(&id->cntlid, c->cntlid);
	kvc_put_le32(&id->ver, KVC_VS(2, 0, 0));
	id->cntrltype = 1; /* I/O controller */
	id->acl = 3;
	id->aerl = FW_MAX_AER - 1;
	id->lpa = KVC_LPA_CMD_EFFECTS | KVC_LPA_EXT_DATA;
	id->elpe = FW_ERR_LOG - 1;
	kvc_put_le16(&id->wctemp, 343);
	kvc_put_le16(&id->cctemp, 373);
	id->sqes = 0x66;
	id->cqes = 0x44;
	kvc_put_le16(&id->maxcmd, (uint16_t)cfg->mqes);
	kvc_put_le32(&id->nn, max_nsid(c->s));
	kvc_put_le16(&id->oncs, KVC_ONCS_SAVE_SELECT); /* SEL everywhere, SV for FID 20h */
	id->vwc = cfg->vwc ? 0x01 : 0x00;
	kvc_put_le16(&id->oacs, KVC_OACS_FORMAT); /* FNA 0: per namespace */
	kvc_put_le32(&id->sgls, fw_dma_sgls(c->hif));
	if (fw_has_blk(c->s))
		kvc_put_le16(&id->oncs,
			     KVC_ONCS_SAVE_SELECT | KVC_ONCS_DSM | KVC_ONCS_WRITE_ZEROES);
	fw_subsys_nqn(c->s, id->subnqn, sizeof(id->subnqn));
	if (c->fabric) { /* NVMe over Fabrics fields */
		kvc_put_le32(&id->ioccsz, c->hif->ioccsz >= 4 ? c->hif->ioccsz : 4);
		kvc_put_le32(&id->iorcsz, 1);
		id->msdbd = 1;
		kvc_put_le16(&id->kas, 1); /* 100 ms granularity */
		/* Any command restarts the Keep Alive timer (fw_ctrl_submit). */
		kvc_put_le32(&id->ctratt, KVC_CTRATT_TBKAS);
		/* One controller per host on a fabric: Linux makes a multipath
		 * head for a multi-controller CMIC, which renames the nodes. */
		id->cmic = 0;
	}
	kvc_put_le16(&id->psd[0].mp, 2500);
	id_vendor(cfg, (struct kvc_id_nvkv *)id->vs);
}

static uint16_t identify_ns_desc(struct fw_cmd *cmd, const struct fw_ns *ns, uint8_t *buf)
{
	struct kvc_ns_desc_hdr *h = (void *)buf;

	h->nidt = KVC_NIDT_NGUID;
	h->nidl = 16;
	fw_ns_nguid(ns, buf + 4);
	h = (void *)(buf + 20);
	h->nidt = KVC_NIDT_CSI;
	h->nidl = 1;
	buf[24] = ns->ops->csi;
	return send(cmd, buf, KVC_IDENTIFY_SIZE);
}

static void id_ns_indep(const struct fw_ns *ns, struct kvc_id_ns_indep *id)
{
	(void)ns;
	id->nmic = 0x01; /* may be shared by controllers */
	id->nstat = KVC_NSTAT_READY;
}

/* Active NSIDs above @nsid, of command set @csi unless @any_csi. */
static void active_list(const struct fw_subsys *s, uint32_t nsid, bool any_csi, uint8_t csi,
			uint8_t *buf)
{
	uint32_t i, n = 0;

	for (i = nsid + 1; i <= FW_MAX_NS; i++)
		if (s->ns[i] && (any_csi || s->ns[i]->ops->csi == csi))
			kvc_put_le32(buf + 4 * n++, i);
}

static uint16_t identify(struct fw_cmd *cmd)
{
	struct fw_subsys *s = cmd->c->s;
	uint8_t buf[KVC_IDENTIFY_SIZE];
	uint8_t cns = KVC_IDENTIFY_CNS(dw(cmd, 10)), csi = KVC_IDENTIFY_CSI(dw(cmd, 11));
	uint32_t nsid = kvc_sqe_nsid(&cmd->sqe);
	const struct fw_ns *ns = fw_subsys_ns(s, nsid);

	memset(buf, 0, sizeof(buf));
	switch (cns) {
	case KVC_CNS_CTRL:
		id_ctrl(cmd->c, (void *)buf);
		break;
	case KVC_CNS_NS:
		if (!ns)
			return FW_ST(KVC_SC_INVALID_NS);
		/* Base 5.17: a structure the namespace's command set does not
		 * define (a KV namespace has no NVM Identify Namespace). */
		if (!ns->ops->identify_ns)
			return FW_ST(KVC_SC_INVALID_IOCS);
		ns->ops->identify_ns(ns, buf);
		break;
	case KVC_CNS_NS_DESC_LIST:
		if (!ns)
			return FW_ST(KVC_SC_INVALID_NS);
		return identify_ns_desc(cmd, ns, buf);
	case KVC_CNS_CSI_INDEP_NS:
		if (!ns)
			return FW_ST(KVC_SC_INVALID_NS);
		id_ns_indep(ns, (void *)buf);
		break;
	case KVC_CNS_CSI_NS:
		if (!ns)
			return FW_ST(KVC_SC_INVALID_NS);
		if (csi != ns->ops->csi)
			return FW_ST(KVC_SC_INVALID_FIELD);
		ns->ops->identify_csi(ns, buf);
		break;
	case KVC_CNS_CSI_CTRL:
		if (csi != KVC_CSI_KV && csi != KVC_CSI_NVM)
			return FW_ST(KVC_SC_INVALID_FIELD);
		break; /* no fields defined for either set that we use */
	case KVC_CNS_ACTIVE_NS_LIST:
	case KVC_CNS_CSI_ACTIVE_NS_LIST:
		if (nsid >= 0xfffffffeu)
			return FW_ST(KVC_SC_INVALID_NS);
		active_list(s, nsid, cns == KVC_CNS_ACTIVE_NS_LIST, csi, buf);
		break;
	case KVC_CNS_CS_PROFILE:
		kvc_put_le64(buf, 1u << KVC_CSI_NVM | 1u << KVC_CSI_KV);
		break;
	default:
		return FW_ST(KVC_SC_INVALID_FIELD);
	}
	return send(cmd, buf, KVC_IDENTIFY_SIZE);
}

/* ---- Get Log Page ------------------------------------------------------------ */

/* Admin commands, and the I/O commands of the namespaces of command set @csi:
 * read from the same opcode tables dispatch uses. */
static void effects_log(const struct fw_subsys *s, uint8_t csi, struct kvc_effects_log *l)
{
	unsigned int i, n;

	for (i = 0; i < fw_admin_ncmds; i++)
		kvc_put_le32(&l->acs[fw_admin_cmds[i].opc], fw_admin_cmds[i].effects);
	for (n = 1; n <= FW_MAX_NS; n++) {
		const struct fw_ns_ops *ops = s->ns[n] ? s->ns[n]->ops : NULL;

		if (!ops || ops->csi != csi)
			continue;
		for (i = 0; i < ops->ncmds; i++)
			kvc_put_le32(&l->iocs[ops->cmds[i].opc], ops->cmds[i].effects);
	}
}

static void smart_log(struct fw_ctrl *c, struct kvc_smart_log *l)
{
	struct fw_subsys *s = c->s;
	/* Data units are thousands of 512-byte units, rounded up; values and
	 * logical blocks alike. */
	uint64_t rd = (s->st.value_out + s->st.blk_out + 511999) / 512000;
	uint64_t wr = (s->st.value_in + s->st.blk_in + 511999) / 512000;
	bool retired = (fw_has_kv(s) && fw_vlog_retired(&s->vlog)) ||
		       (fw_has_blk(s) && fw_ftl_retired(&s->ftl));

	kvc_put_le16(&l->temperature, 308);
	l->avail_spare = 100;
	l->spare_thresh = 10;
	kvc_put_le64(l->data_units_read, rd);
	kvc_put_le64(l->data_units_written, wr);
	kvc_put_le64(l->host_reads, s->st.cmds[KVC_OP_RETRIEVE] + s->st.cmds[KVC_OP_READ]);
	kvc_put_le64(l->host_writes, s->st.cmds[KVC_OP_STORE] + s->st.cmds[KVC_OP_WRITE]);
	kvc_put_le64(l->power_cycles, 1);
	/* Media and data integrity errors: NAND, checksums, and the catalog,
	 * the device's other persistent medium. */
	kvc_put_le64(l->media_errors, s->vlog.st.media_errors + s->vlog.st.crc_errors +
					      s->ftl.st.media_errors + s->batch.meta_errors);
	kvc_put_le64(l->num_err_log_entries, c->err_count);
	if (retired)
		l->critical_warning |= KVC_SMART_CW_RELIABILITY;
}

static void error_log(struct fw_ctrl *c, uint8_t *buf, uint32_t size)
{
	uint64_t n = c->err_count < FW_ERR_LOG ? c->err_count : FW_ERR_LOG, i;

	for (i = 0; i < n && (i + 1) * sizeof(struct kvc_error_log_entry) <= size; i++)
		memcpy(buf + i * sizeof(struct kvc_error_log_entry),
		       &c->err[(c->err_count - 1 - i) % FW_ERR_LOG],
		       sizeof(struct kvc_error_log_entry));
}

static uint16_t get_log_page(struct fw_cmd *cmd)
{
	union {
		struct kvc_effects_log effects;
		struct kvc_smart_log smart;
		struct kvc_stats_log stats;
		uint8_t raw[FW_ERR_LOG * sizeof(struct kvc_error_log_entry)];
	} u;
	uint8_t lid = KVC_LOG_LID(dw(cmd, 10)), *out = cmd->c->s->xbuf;
	uint64_t len = kvc_log_numd(dw(cmd, 10), dw(cmd, 11)) * 4;
	uint64_t off = dw(cmd, 12) | (uint64_t)dw(cmd, 13) << 32;
	uint32_t size;

	memset(&u, 0, sizeof(u));
	switch (lid) {
	case KVC_LOG_ERROR:
		error_log(cmd->c, u.raw, sizeof(u.raw));
		size = sizeof(u.raw);
		break;
	case KVC_LOG_SMART:
		smart_log(cmd->c, &u.smart);
		size = sizeof(u.smart);
		break;
	case KVC_LOG_CMD_EFFECTS:
		effects_log(cmd->c->s, KVC_LOG_CSI(dw(cmd, 14)), &u.effects);
		size = sizeof(u.effects);
		break;
	case KVC_LOG_NVKV_STATS:
		/* NSID 0 / FFFFFFFFh: the device; else one namespace (stats.h). */
		if (fw_subsys_ns_stats(cmd->c->s, kvc_sqe_nsid(&cmd->sqe), &u.stats))
			return FW_ST(KVC_SC_INVALID_NS);
		size = sizeof(u.stats);
		break;
	default:
		return KVC_ST_CMD_DNR(KVC_SC_INVALID_LOG_PAGE);
	}
	if (off % 4 || off > size || len > FW_LOG_MAX)
		return FW_ST(KVC_SC_INVALID_FIELD);
	/* Bytes past the end of the log read as zero. */
	memset(out, 0, len);
	memcpy(out, (uint8_t *)&u + off, size - off < len ? size - off : len);
	return send(cmd, out, (uint32_t)len);
}

/* ---- Features ------------------------------------------------------------------ */

static uint32_t *feature_slot(struct fw_ctrl *c, uint8_t fid)
{
	switch (fid) {
	case KVC_FEAT_ARBITRATION:
		return &c->feat_arb;
	case KVC_FEAT_POWER_MGMT:
		return &c->feat_power;
	case KVC_FEAT_TEMP_THRESH:
		return &c->feat_temp;
	case KVC_FEAT_ERROR_RECOVERY:
		return &c->feat_errrec;
	case KVC_FEAT_INT_COALESCING:
		return &c->feat_coal;
	case KVC_FEAT_ASYNC_EVENT_CONFIG:
		return &c->feat_aec;
	case KVC_FEAT_KEEP_ALIVE:
		return &c->feat_kato;
	case KVC_FEAT_IOCS_PROFILE:
		return &c->feat_iocs;
	default:
		return NULL;
	}
}

static uint32_t noq_value(const struct fw_ctrl *c)
{
	return (c->nr_ioq - 1) | (c->nr_ioq - 1) << 16;
}

static bool any_io_queue(const struct fw_ctrl *c)
{
	unsigned int i;

	for (i = 1; i <= FW_MAX_IOQ; i++)
		if (c->sq[i].valid || c->cq[i].valid)
			return true;
	return false;
}

/* The controller's own features (the rest are namespace features or unknown). */
static bool ctrl_feature(struct fw_ctrl *c, uint8_t fid)
{
	return feature_slot(c, fid) || fid == KVC_FEAT_NUM_QUEUES || fid == KVC_FEAT_VOLATILE_WC;
}

/* Default value of a controller feature: what a controller reset sets. */
static uint32_t ctrl_feature_default(const struct fw_ctrl *c, uint8_t fid)
{
	const struct fw_config *cfg = &c->s->cfg;
	uint32_t ab = 0;

	switch (fid) {
	case KVC_FEAT_ARBITRATION:
		while ((1u << ab) < cfg->arb_burst)
			ab++;
		return ab;
	case KVC_FEAT_NUM_QUEUES:
		return (cfg->max_ioq - 1) | (cfg->max_ioq - 1) << 16;
	case KVC_FEAT_VOLATILE_WC:
		return cfg->vwc;
	default:
		return 0;
	}
}

/* Does a namespace kind of this subsystem own feature @fid? */
static bool ns_feature(const struct fw_subsys *s, uint8_t fid)
{
	uint32_t i, caps;

	for (i = 1; i <= FW_MAX_NS; i++)
		if (s->ns[i] && s->ns[i]->ops->get_feature &&
		    !s->ns[i]->ops->get_feature(s->ns[i], fid, KVC_SEL_SUPPORTED, &caps))
			return true;
	return false;
}

/*
 * Set Features of a namespace feature: the namespace NSID names, or with
 * NSID FFFFFFFFh every namespace that has the feature (Base 5.27.1).
 */
static uint16_t set_ns_feature(struct fw_cmd *cmd, uint8_t fid, uint32_t v, bool save)
{
	struct fw_subsys *s = cmd->c->s;
	uint32_t nsid = kvc_sqe_nsid(&cmd->sqe), i, caps;
	struct fw_ns *ns;
	uint16_t st;

	if (nsid == KVC_NSID_ALL) {
		for (i = 1; i <= FW_MAX_NS; i++) {
			ns = s->ns[i];
			if (!ns || !ns->ops->get_feature ||
			    ns->ops->get_feature(ns, fid, KVC_SEL_SUPPORTED, &caps))
				continue;
			st = ns->ops->set_feature(ns, fid, v, save);
			if (st)
				return st;
		}
		return 0;
	}
	ns = fw_subsys_ns(s, nsid);
	if (!ns)
		return FW_ST(KVC_SC_INVALID_NS);
	if (!ns->ops->set_feature) /* a command set without namespace features */
		return FW_ST(KVC_SC_INVALID_FIELD);
	return ns->ops->set_feature(ns, fid, v, save);
}

/* Get Features of a namespace feature: one namespace, named by NSID. */
static uint16_t get_ns_feature(struct fw_cmd *cmd, uint8_t fid, uint8_t sel)
{
	const struct fw_ns *ns = fw_subsys_ns(cmd->c->s, kvc_sqe_nsid(&cmd->sqe));

	if (!ns)
		return FW_ST(KVC_SC_INVALID_NS);
	if (!ns->ops->get_feature)
		return FW_ST(KVC_SC_INVALID_FIELD);
	return ns->ops->get_feature(ns, fid, sel, &cmd->dw0);
}

static uint16_t set_features(struct fw_cmd *cmd)
{
	struct fw_ctrl *c = cmd->c;
	uint8_t fid = KVC_FEAT_FID(dw(cmd, 10));
	uint32_t v = dw(cmd, 11), *slot;

	if (!ctrl_feature(c, fid) && ns_feature(c->s, fid))
		return set_ns_feature(cmd, fid, v, dw(cmd, 10) & KVC_FEAT_SV);
	if (dw(cmd, 10) & KVC_FEAT_SV)
		return KVC_ST_CMD_DNR(KVC_SC_FEATURE_NOT_SAVEABLE);
	switch (fid) {
	case KVC_FEAT_NUM_QUEUES: {
		uint32_t nsq = (v & 0xffff) + 1, ncq = (v >> 16) + 1, n = nsq < ncq ? nsq : ncq;

		if ((v & 0xffff) == 0xffff || (v >> 16) == 0xffff)
			return FW_ST(KVC_SC_INVALID_FIELD);
		if (any_io_queue(c))
			return FW_ST(KVC_SC_CMD_SEQ_ERROR);
		c->nr_ioq = n < c->s->cfg.max_ioq ? n : c->s->cfg.max_ioq;
		c->noq_set = true;
		cmd->dw0 = noq_value(c);
		return 0;
	}
	case KVC_FEAT_VOLATILE_WC:
		if (!c->s->cfg.vwc)
			return FW_ST(KVC_SC_INVALID_FIELD);
		c->wce = v & 1;
		/* Turning the cache off promises everything is durable: only if it is. */
		return c->wce ? 0 : fw_batch_flush_status(c->s);
	case KVC_FEAT_IOCS_PROFILE:
		if (v & ~1u) /* index 0 (NVM + KV) is the only profile */
			return FW_ST(KVC_SC_INVALID_FIELD);
		break;
	case KVC_FEAT_INT_COALESCING:
	case KVC_FEAT_ARBITRATION:
	default:
		break;
	}
	slot = feature_slot(c, fid);
	if (!slot)
		return FW_ST(KVC_SC_INVALID_FIELD);
	*slot = v;
	return 0;
}

static uint16_t get_features(struct fw_cmd *cmd)
{
	struct fw_ctrl *c = cmd->c;
	uint8_t fid = KVC_FEAT_FID(dw(cmd, 10)), sel = KVC_FEAT_SEL(dw(cmd, 10));

	if (sel > KVC_SEL_SUPPORTED)
		return FW_ST(KVC_SC_INVALID_FIELD);
	if (!ctrl_feature(c, fid)) {
		if (ns_feature(c->s, fid))
			return get_ns_feature(cmd, fid, sel);
		return FW_ST(KVC_SC_INVALID_FIELD);
	}
	if (fid == KVC_FEAT_VOLATILE_WC && !c->s->cfg.vwc)
		return FW_ST(KVC_SC_INVALID_FIELD); /* no cache, no feature */
	if (sel == KVC_SEL_SUPPORTED) {		    /* changeable, not saveable */
		cmd->dw0 = KVC_FEAT_CAP_CHANGEABLE;
		return 0;
	}
	if (sel != KVC_SEL_CURRENT) { /* not saveable: the saved value is the default */
		cmd->dw0 = ctrl_feature_default(c, fid);
		return 0;
	}
	switch (fid) {
	case KVC_FEAT_NUM_QUEUES:
		cmd->dw0 = noq_value(c);
		return 0;
	case KVC_FEAT_VOLATILE_WC:
		cmd->dw0 = c->wce;
		return 0;
	default:
		cmd->dw0 = *feature_slot(c, fid);
		return 0;
	}
}

/* ---- Queues ------------------------------------------------------------------------ */

static uint16_t check_new_queue(struct fw_cmd *cmd, bool exists, uint16_t qid, uint32_t qsize)
{
	struct fw_ctrl *c = cmd->c;

	if (qid == 0 || qid > c->nr_ioq || exists)
		return KVC_ST_CMD_DNR(KVC_SC_INVALID_QID);
	if (qsize < 2 || qsize > c->s->cfg.mqes)
		return KVC_ST_CMD_DNR(KVC_SC_INVALID_QSIZE);
	if (!(dw(cmd, 11) & KVC_CREATE_CQ_PC)) /* CAP.CQR: physically contiguous only */
		return FW_ST(KVC_SC_INVALID_FIELD);
	if (kvc_sqe_prp1(&cmd->sqe) % FW_MEM_PAGE || !kvc_sqe_prp1(&cmd->sqe))
		return FW_ST(KVC_SC_INVALID_PRP_OFFSET);
	return 0;
}

static uint16_t create_cq(struct fw_cmd *cmd)
{
	struct fw_ctrl *c = cmd->c;
	uint16_t qid = KVC_QID(dw(cmd, 10)), iv = KVC_CREATE_CQ_IV(dw(cmd, 11));
	uint32_t qsize = KVC_QSIZE(dw(cmd, 10));
	uint16_t st = check_new_queue(cmd, qid <= FW_MAX_IOQ && c->cq[qid].valid, qid, qsize);

	if (st)
		return st;
	if (iv >= NUM_VECTORS)
		return KVC_ST_CMD_DNR(KVC_SC_INVALID_INT_VECTOR);
	c->cq[qid] = (struct fw_cq){ .valid = true,
				     .ien = dw(cmd, 11) & KVC_CREATE_CQ_IEN,
				     .phase = true,
				     .iv = iv,
				     .size = qsize,
				     .base = kvc_sqe_prp1(&cmd->sqe) };
	c->cq[qid].db_seen = 0;
	return 0;
}

static uint16_t create_sq(struct fw_cmd *cmd)
{
	struct fw_ctrl *c = cmd->c;
	uint16_t qid = KVC_QID(dw(cmd, 10)), cqid = KVC_CREATE_SQ_CQID(dw(cmd, 11));
	uint32_t qsize = KVC_QSIZE(dw(cmd, 10));
	uint16_t st = check_new_queue(cmd, qid <= FW_MAX_IOQ && c->sq[qid].valid, qid, qsize);

	if (st)
		return st;
	if (cqid == 0 || cqid > FW_MAX_IOQ || !c->cq[cqid].valid)
		return KVC_ST_CMD_DNR(KVC_SC_CQ_INVALID);
	c->sq[qid] = (struct fw_sq){
		.valid = true, .cqid = cqid, .size = qsize, .base = kvc_sqe_prp1(&cmd->sqe)
	};
	c->cq[cqid].nsq++;
	return 0;
}

static uint16_t delete_sq(struct fw_cmd *cmd)
{
	struct fw_ctrl *c = cmd->c;
	uint16_t qid = KVC_QID(dw(cmd, 10));
	struct fw_sq *sq;

	if (qid == 0 || qid > FW_MAX_IOQ || !c->sq[qid].valid)
		return KVC_ST_CMD_DNR(KVC_SC_INVALID_QID);
	sq = &c->sq[qid];
	/* Its deferred commands complete now, before this command, as aborted. */
	fw_pend_abort_sq(c, qid);
	fw_sq_release(c, sq);
	c->cq[sq->cqid].nsq--;
	sq->valid = false;
	/* Fetched commands still complete to the CQ; unfetched ones are dropped. */
	sq->tail = sq->head;
	fw_ctrl_clear_doorbell(c, qid, true);
	return 0;
}

static uint16_t delete_cq(struct fw_cmd *cmd)
{
	struct fw_ctrl *c = cmd->c;
	uint16_t qid = KVC_QID(dw(cmd, 10));

	if (qid == 0 || qid > FW_MAX_IOQ || !c->cq[qid].valid)
		return KVC_ST_CMD_DNR(KVC_SC_INVALID_QID);
	if (c->cq[qid].nsq)
		return KVC_ST_CMD_DNR(KVC_SC_INVALID_QUEUE_DELETION);
	c->cq[qid].valid = false;
	fw_ctrl_clear_doorbell(c, qid, false);
	return 0;
}

/* ---- the rest ------------------------------------------------------------------------ */

static uint16_t abort_cmd(struct fw_cmd *cmd)
{
	/* Commands execute when fetched, so there is never one left to abort. */
	cmd->dw0 = 1;
	return 0;
}

static uint16_t async_event(struct fw_cmd *cmd)
{
	struct fw_ctrl *c = cmd->c;

	if (c->naer >= FW_MAX_AER)
		return KVC_ST_CMD_DNR(KVC_SC_AER_LIMIT);
	c->aer_cid[c->naer++] = kvc_sqe_cid(&cmd->sqe);
	return FW_ST_NO_COMPLETION;
}

static uint16_t keep_alive(struct fw_cmd *cmd)
{
	(void)cmd;
	return 0;
}

/* ---- Format NVM ---------------------------------------------------------- */

/* Check the fields no namespace of ours supports: no metadata, no protection
 * information, no cryptographic erase (SES 1, user data erase, is what every
 * Format here does anyway). */
static uint16_t format_fields(uint32_t cdw10)
{
	if (KVC_FMT_SES(cdw10) > KVC_FMT_SES_USER_DATA)
		return FW_ST(KVC_SC_INVALID_FIELD);
	if (KVC_FMT_MSET(cdw10) || KVC_FMT_PI(cdw10) || KVC_FMT_PIL(cdw10))
		return KVC_ST_CMD_DNR(KVC_SC_INVALID_FORMAT);
	return 0;
}

/*
 * Format NVM (80h): the namespace (or every one, NSID FFFFFFFFh) erases
 * what it holds through its own ops, then one synchronous commit makes it
 * durable before the completion: a Format acknowledged is never undone by a
 * crash.  One that fails (or is cut by a crash) may have erased part.
 */
static uint16_t format_nvm(struct fw_cmd *cmd)
{
	struct fw_subsys *s = cmd->c->s;
	uint32_t nsid = kvc_sqe_nsid(&cmd->sqe), cdw10 = dw(cmd, 10), i;
	uint16_t st = format_fields(cdw10);
	bool all = nsid == KVC_NSID_ALL;

	if (st)
		return st;
	if (!all && !fw_subsys_ns(s, nsid))
		return FW_ST(KVC_SC_INVALID_NS);
	for (i = 1; i <= FW_MAX_NS && !st; i++) {
		struct fw_ns *ns = s->ns[i];

		if (!ns || (!all && i != nsid))
			continue;
		/* Broadcast: each keeps its own current format (ours are set by
		 * the device's configuration: KV index 0, the block size's). */
		st = ns->ops->format
			     ? ns->ops->format(ns, all ? FW_FORMAT_CURRENT : KVC_FMT_LBAF(cdw10))
			     : FW_ST(KVC_SC_INVALID_FIELD);
	}
	if (fw_batch_commit(s, true))
		return st ? st : s->batch.fail_st;
	return st;
}

#define CSUPP KVC_EFFECTS_CSUPP
/* Queue management "may change controller capabilities"-free; CSE 1 = one
 * command at a time per namespace for Set Features of queues. */
const struct fw_cmd_desc fw_admin_cmds[] = {
	{ KVC_ADM_DELETE_SQ, KVC_OP_ADMIN, CSUPP, delete_sq },
	{ KVC_ADM_CREATE_SQ, KVC_OP_ADMIN, CSUPP, create_sq },
	{ KVC_ADM_GET_LOG_PAGE, KVC_OP_ADMIN, CSUPP, get_log_page },
	{ KVC_ADM_DELETE_CQ, KVC_OP_ADMIN, CSUPP, delete_cq },
	{ KVC_ADM_CREATE_CQ, KVC_OP_ADMIN, CSUPP, create_cq },
	{ KVC_ADM_IDENTIFY, KVC_OP_ADMIN, CSUPP, identify },
	{ KVC_ADM_ABORT, KVC_OP_ADMIN, CSUPP, abort_cmd },
	{ KVC_ADM_SET_FEATURES, KVC_OP_ADMIN, CSUPP | KVC_EFFECTS_CCC, set_features },
	{ KVC_ADM_GET_FEATURES, KVC_OP_ADMIN, CSUPP, get_features },
	{ KVC_ADM_ASYNC_EVENT, KVC_OP_ADMIN, CSUPP, async_event },
	{ KVC_ADM_KEEP_ALIVE, KVC_OP_ADMIN, CSUPP, keep_alive },
	{ KVC_ADM_FORMAT_NVM, KVC_OP_ADMIN, CSUPP | KVC_EFFECTS_LBCC | KVC_EFFECTS_NCC,
	  format_nvm },
};
const unsigned int fw_admin_ncmds = sizeof(fw_admin_cmds) / sizeof(fw_admin_cmds[0]);

uint16_t fw_admin_exec(struct fw_cmd *cmd)
{
	unsigned int i;

	for (i = 0; i < fw_admin_ncmds; i++)
		if (fw_admin_cmds[i].opc == cmd->sqe.opc)
			return fw_admin_cmds[i].fn(cmd);
	return FW_ST(KVC_SC_INVALID_OPCODE);
}
