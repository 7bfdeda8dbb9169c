// SPDX-License-Identifier: MIT
/* Device statistics: per-command accounting, per device and per namespace,
 * and the vendor log page C0h (cmdset/stats.h says what each NSID gets). */
#include <errno.h>
#include <string.h>

#include "fw_internal.h"

/* One completed command into @st; @lat and its histogram bucket @b are
 * computed once by the caller for the device's and the namespace's counters. */
static inline void count(struct fw_stats *st, const struct fw_cmd *cmd, uint16_t status,
			 uint64_t lat, unsigned int b)
{
	unsigned int op = cmd->stat_op, m = cmd->method, d;

	st->cmds[op]++;
	if (status)
		st->errors[op]++;
	st->lat_sum[op] += lat;
	st->lat_hist[op][b]++;
	if (cmd->done > st->model_ns)
		st->model_ns = cmd->done;
	st->m_cmds[m]++;
	for (d = 0; d < KVC_PCIE_NDIR; d++) {
		st->m_pcie[m].bytes[d] += cmd->cost.bytes[d];
		st->m_pcie[m].tlps[d] += cmd->cost.tlps[d];
	}
	if (cmd->stored && !status) {
		st->m_stores[m]++;
		st->m_value_bytes[m] += cmd->value_bytes;
	}
}

void fw_stats_complete(struct fw_subsys *s, const struct fw_cmd *cmd, uint16_t status)
{
	uint64_t lat = cmd->done > cmd->arrival ? cmd->done - cmd->arrival : 0;
	unsigned int b = kvc_lat_bucket(lat);

	count(&s->st, cmd, status, lat, b);
	if (cmd->ns)
		count(&s->ns_st[cmd->ns->nsid], cmd, status, lat, b);
}

/* The command counters of @st into @l. */
static void fill_counters(const struct fw_subsys *s, const struct fw_stats *st,
			  struct kvc_stats_log *l)
{
	unsigned int i, d;

	l->version = KVC_STATS_VERSION;
	l->size = sizeof(*l);
	l->model_ns = st->model_ns > s->start_ns ? st->model_ns - s->start_ns : 0;
	l->uptime_ns = fw_now(s) - s->start_ns;
	for (i = 0; i < KVC_OP_NUM; i++) {
		l->cmds[i] = st->cmds[i];
		l->errors[i] = st->errors[i];
		l->lat_sum_ns[i] = st->lat_sum[i];
		memcpy(l->lat_hist[i], st->lat_hist[i], sizeof(l->lat_hist[i]));
	}
	for (i = 0; i < KVC_XM_NUM; i++) {
		l->m_cmds[i] = st->m_cmds[i];
		l->m_stores[i] = st->m_stores[i];
		l->m_value_bytes[i] = st->m_value_bytes[i];
		for (d = 0; d < 2; d++) {
			l->m_pcie_bytes[i][d] = st->m_pcie[i].bytes[d];
			l->m_pcie_tlps[i][d] = st->m_pcie[i].tlps[d];
		}
	}
	l->aer_events = st->aer_events;
}

int fw_subsys_ns_stats(struct fw_subsys *s, uint32_t nsid, struct kvc_stats_log *l)
{
	const struct fw_ns *ns;

	if (nsid == 0 || nsid == 0xffffffffu) {
		fw_subsys_stats(s, l);
		return 0;
	}
	ns = fw_subsys_ns(s, nsid);
	if (!ns)
		return -ENOENT;
	memset(l, 0, sizeof(*l));
	fill_counters(s, &s->ns_st[nsid], l);
	l->aer_events = 0; /* events belong to controllers */
	l->nsid = nsid;
	l->csi = ns->ops->csi;
	if (ns->ops->stats)
		ns->ops->stats(ns, l);
	return 0;
}

void fw_stats_vlog(struct kvc_stats_log *l, const struct fw_vlog_stats *vs)
{
	l->host_bytes_written = vs->host_bytes;
	l->rec_bytes = vs->rec_bytes;
	l->pad_bytes = vs->pad_bytes;
	l->backfills = vs->backfills;
	l->gc_runs = vs->gc_runs;
	l->gc_moves = vs->gc_moves;
	l->gc_bytes = vs->gc_bytes;
	l->gc_urgent = vs->gc_urgent;
	l->crc_errors = vs->crc_errors;
	l->media_errors = vs->media_errors;
}

void fw_subsys_stats(struct fw_subsys *s, struct kvc_stats_log *l)
{
	const struct fw_stats *st = &s->st;
	const struct fw_vlog_stats *vs = &s->vlog.st;
	unsigned int i, d;

	memset(l, 0, sizeof(*l));
	fill_counters(s, st, l);
	l->keys = s->index.count;
	l->used_bytes = s->vlog.used;
	l->log_bytes = fw_has_kv(s) ? fw_vlog_written(&s->vlog) : 0;
	l->capacity = s->capacity;
	l->key_bytes = st->key_bytes;
	l->value_bytes_in = st->value_in;
	l->value_bytes_out = st->value_out;
	for (i = 0; i < KVC_PK_NUM; i++) {
		for (d = 0; d < 2; d++) {
			l->pcie_tlps[i][d] = s->pcie.kind[i].tlps[d];
			l->pcie_bytes[i][d] = s->pcie.kind[i].bytes[d];
		}
	}
	l->nand_reads = s->nand.st.reads;
	l->nand_programs = s->nand.st.programs;
	l->nand_erases = s->nand.st.erases;
	l->nand_read_bytes = s->nand.st.read_bytes;
	l->flash_bytes_written = s->nand.st.programs * s->nand.geo.page_size;
	fw_stats_vlog(l, vs);
	l->gc_urgent = s->nand.st.gc_urgent; /* both namespaces' passes */
	l->gc_waits = s->nand.st.gc_waits;
	l->gc_wait_ns = s->nand.st.gc_wait_ns;
	l->fabric_bytes[0] = st->fabric_rx;
	l->fabric_bytes[1] = st->fabric_tx;
	l->index_bytes = fw_index_mem(&s->index);
}
