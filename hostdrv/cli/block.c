// SPDX-License-Identifier: MIT
/*
 * nvkv's NVM (block) namespace commands with nvme-cli's flags and meanings:
 * read, write, write-zeroes, dsm, id-ns (the NVM Identify Namespace as
 * nvme-cli prints it; a KV namespace's KV fields), list-ns, and the
 * namespace lines of `nvkv stats`.  DEVICE is a controller (the emulator's
 * socket), not a namespace node, so --namespace-id defaults to the device's
 * first NVM namespace instead of the node's.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmdset/cmdset.h"
#include "hostdrv/cli/cli.h"

/* Long-only options get codes above any character. */
enum { B_TIMEOUT = 256 };

struct blk_args {
	uint32_t nsid;
	bool nsid_given;
	uint64_t slba;
	uint32_t nlb0; /* --block-count as given: 0's based */
	bool nlb_given;
	uint64_t data_size;
	bool size_given;
	const char *data;
	bool fua, deac, latency, show, dry, raw;
	/* dsm */
	const char *slbs, *blocks, *ctx;
	unsigned int attrs;
	uint32_t cdw11;
	bool cdw11_given;
	uint8_t csi; /* list-ns --csi */
	bool csi_given;
};

/* One option of read, write, write-zeroes, id-ns or list-ns. */
static int blk_option(struct blk_args *a, int ch, const char *name, const char *arg)
{
	uint64_t v = 0;

	if (arg && ch != 'd' && ch != 'M' && ch != 'o' && parse_u64(arg, &v))
		return usage_error("%s needs a number, got '%s'", name, arg);
	switch (ch) {
	case 'n':
		if (v < 1 || v > 0xffffffffull)
			return usage_error("%s: NSIDs are 1..0xffffffff, got '%s'", name, arg);
		a->nsid = (uint32_t)v;
		a->nsid_given = true;
		break;
	case 's':
		a->slba = v;
		break;
	case 'c':
		if (v > NVKV_BLK_MAX_NLB - 1)
			return usage_error("%s is 0's based (0 = one block): 0..%u, got '%s'", name,
					   NVKV_BLK_MAX_NLB - 1, arg);
		a->nlb0 = (uint32_t)v;
		a->nlb_given = true;
		break;
	case 'z':
		if (!v)
			return usage_error("%s: data size not provided (0)", name);
		a->data_size = v;
		a->size_given = true;
		break;
	case 'y':
		if (v)
			return usage_error("%s: the LBA formats have no metadata; use 0", name);
		break;
	case 'M':
		return usage_error("%s: the LBA formats have no metadata", name);
	case 'd':
		a->data = arg;
		break;
	case 'f':
		a->fua = true;
		break;
	case 'D':
		a->deac = true;
		break;
	case 't':
		a->latency = true;
		break;
	case 'V':
		a->show = true;
		break;
	case 'w':
		a->dry = true;
		break;
	case 'b':
		a->raw = true;
		break;
	case 'o':
		return cli_output_format(name, arg, &a->raw);
	case 'Y':
		if (v > 0xff)
			return usage_error("%s: a command set identifier is 0..255, got '%s'", name,
					   arg);
		a->csi = (uint8_t)v;
		a->csi_given = true;
		break;
	}
	return EX_OK;
}

typedef int blk_opt_fn(struct cli *c, struct blk_args *a, int ch, const char *name,
		       const char *arg);

struct blk_parse {
	struct blk_args *a;
	blk_opt_fn *opt;
};

static int blk_parse_option(struct cli *c, void *ctx, int ch, const char *name)
{
	struct blk_parse *p = ctx;

	if (ch == B_TIMEOUT)
		return cli_ms_opt(name, optarg, &c->timeout_ms);
	return p->opt(c, p->a, ch, name, optarg);
}

/* getopt over the command's table; the device may stand among the arguments. */
static int parse_blk(struct cli *c, struct blk_args *a, const char *shortopts,
		     const struct option *lo, blk_opt_fn *opt)
{
	struct blk_parse p = { .a = a, .opt = opt };
	int rc;

	memset(a, 0, sizeof(*a));
	rc = cli_parse_opts(c, shortopts, lo, blk_parse_option, &p);
	return rc ? rc : end_of_args(c);
}

static int rw_opt(struct cli *c, struct blk_args *a, int ch, const char *name, const char *arg)
{
	(void)c;
	return blk_option(a, ch, name, arg);
}

/* ---- choosing the namespace ----------------------------------------------------------- */

static const char *csi_name(uint8_t csi)
{
	return csi == NVKV_CSI_NVM ? "NVM" : csi == NVKV_CSI_KV ? "Key Value" : "other";
}

/* --namespace-id, or the first NVM namespace; it must be an NVM one when @nvm. */
static int pick_ns(struct cli *c, const struct blk_args *a, bool nvm, struct nvkv_ns_info *ns)
{
	uint32_t nsid = a->nsid;

	if (!a->nsid_given) {
		nsid = nvkv_ns_first(c->d, NVKV_CSI_NVM);
		if (!nsid && !nvm)
			nsid = nvkv_ns_first(c->d, NVKV_CSI_KV);
		if (!nsid) {
			fprintf(stderr, "nvkv: %s: %s has no %snamespace\n", c->cmd, c->device,
				nvm ? "NVM (block) " : "");
			return EX_USAGE;
		}
	}
	if (nvkv_ns_get(c->d, nsid, ns)) {
		fprintf(stderr, "nvkv: %s: namespace %u is not active on %s (see nvkv list-ns)\n",
			c->cmd, nsid, c->device);
		return EX_USAGE;
	}
	if (nvm && ns->csi != NVKV_CSI_NVM) {
		fprintf(stderr,
			"nvkv: %s: namespace %u uses the %s command set; %s needs an NVM "
			"(block) namespace%s\n",
			c->cmd, nsid, csi_name(ns->csi), c->cmd,
			nvkv_ns_first(c->d, NVKV_CSI_NVM) ? " (see nvkv list-ns)" : "");
		return EX_USAGE;
	}
	return EX_OK;
}

/* ---- read and write ----------------------------------------------------------------------- */

/*
 * nvme-cli's sizes: the buffer is --data-size, rounded up (with its note) to
 * cover --block-count + 1 blocks; without --block-count the count is what the
 * data size needs.  Here the data moved is always whole blocks: a larger
 * --data-size than the blocks is noted and cut.  Without either, one block
 * (nvme-cli insists on --data-size).
 */
static int blk_sizes(const struct blk_args *a, uint32_t lba, uint32_t *nlb, uint64_t *bytes)
{
	uint64_t buf = ((uint64_t)a->nlb0 + 1) * lba, n;

	if (a->size_given && a->data_size < buf)
		fprintf(stderr, "nvkv: Rounding data size to fit block count (%llu bytes)\n",
			(unsigned long long)buf);
	else if (a->size_given)
		buf = a->data_size;
	n = a->nlb_given ? (uint64_t)a->nlb0 + 1 : (buf + lba - 1) / lba;
	if (n > NVKV_BLK_MAX_NLB)
		return usage_error("--data-size %llu needs %llu blocks of %u bytes; one command "
				   "moves at most %u",
				   (unsigned long long)a->data_size, (unsigned long long)n, lba,
				   NVKV_BLK_MAX_NLB);
	if (buf > n * lba)
		fprintf(stderr,
			"nvkv: --data-size %llu is more than --block-count %u: %llu bytes move\n",
			(unsigned long long)a->data_size, a->nlb0, (unsigned long long)(n * lba));
	*nlb = (uint32_t)n;
	*bytes = n * lba;
	return EX_OK;
}

/* The write's data: --data or standard input, zero-padded to @len (as nvme-cli). */
static int write_input(struct cli *c, const struct blk_args *a, uint8_t *buf, size_t len)
{
	FILE *f;
	size_t got = 0, r;

	if (!a->data && isatty(STDIN_FILENO))
		return usage_error("%s: the data comes from --data FILE or standard input", c->cmd);
	f = open_input(a->data);
	if (!f)
		return EX_USAGE;
	while (got < len && (r = fread(buf + got, 1, len - got, f)) > 0)
		got += r;
	r = ferror(f);
	if (f != stdin)
		fclose(f);
	if (r) {
		fprintf(stderr, "nvkv: %s: reading the data failed\n", c->cmd);
		return EX_USAGE;
	}
	return EX_OK;
}

static int read_output(struct cli *c, const struct blk_args *a, const uint8_t *buf, size_t len)
{
	FILE *f = a->data ? fopen(a->data, "wb") : stdout;

	if (!f || fwrite(buf, 1, len, f) != len || (f != stdout && fclose(f))) {
		fprintf(stderr, "nvkv: %s: %s: %s\n", c->cmd, a->data ? a->data : "stdout",
			strerror(errno));
		return EX_USAGE;
	}
	fflush(stdout);
	return EX_OK;
}

static void show_rw(FILE *f, uint8_t opc, const struct nvkv_ns_info *ns, const struct blk_args *a,
		    uint32_t nlb, uint64_t bytes)
{
	fprintf(f, "opcode       : %02x\nnsid         : %02x\nflags        : %02x\n", opc, ns->nsid,
		0);
	fprintf(f, "control      : %04x\nnblocks      : %04x\n", a->fua ? 0x4000 : 0, nlb - 1);
	fprintf(f, "slba         : %016llx\ndata size    : %llu\n", (unsigned long long)a->slba,
		(unsigned long long)bytes);
}

/* The device's answer, said plainly where the namespace explains it. */
static int rw_result(struct cli *c, const struct nvkv_ns_info *ns, uint64_t slba, uint32_t nlb,
		     int rc)
{
	if (rc == KVC_SC_LBA_OUT_OF_RANGE) {
		fprintf(stderr,
			"nvkv: %s: %s: blocks %llu..%llu are not all below namespace %u's %llu "
			"blocks\n",
			c->cmd, nvkv_strerror(rc), (unsigned long long)slba,
			(unsigned long long)(slba + nlb - 1), ns->nsid,
			(unsigned long long)ns->blocks);
		return EX_DEVICE;
	}
	if (rc == -EMSGSIZE) {
		fprintf(stderr,
			"nvkv: %s: %u blocks of %u bytes are more than one command moves here "
			"(%u bytes)\n",
			c->cmd, nlb, ns->lba_size, ns->max_transfer);
		return EX_USAGE;
	}
	return report(c->cmd, rc);
}

static int run_rw(struct cli *c, const struct blk_args *a, bool write)
{
	struct nvkv_ns_info ns;
	uint8_t *buf = NULL;
	uint64_t bytes = 0, t0;
	uint32_t nlb = 0;
	int rc;

	if ((rc = open_dev(c)) || (rc = pick_ns(c, a, true, &ns)) ||
	    (rc = blk_sizes(a, ns.lba_size, &nlb, &bytes)))
		return rc;
	if (a->show || a->dry)
		show_rw(stdout, write ? KVC_NVM_WRITE : KVC_NVM_READ, &ns, a, nlb, bytes);
	if (a->dry)
		return EX_OK;
	buf = calloc(1, bytes);
	if (!buf)
		return report(c->cmd, -ENOMEM);
	if (write && (rc = write_input(c, a, buf, bytes)))
		goto out;
	t0 = now_us();
	rc = write ? nvkv_blk_write(c->d, ns.nsid, a->slba, nlb, buf, a->fua ? NVKV_BLK_FUA : 0)
		   : nvkv_blk_read(c->d, ns.nsid, a->slba, nlb, buf, a->fua ? NVKV_BLK_FUA : 0);
	show_latency(c, a->latency, t0);
	if (rc) {
		rc = rw_result(c, &ns, a->slba, nlb, rc);
		goto out;
	}
	if (!write)
		rc = read_output(c, a, buf, bytes);
	if (!rc)
		fprintf(stderr, "%s: Success\n", c->cmd);
out:
	free(buf);
	return rc;
}

static const struct option rw_longopts[] = {
	{ "namespace-id", required_argument, NULL, 'n' },
	{ "start-block", required_argument, NULL, 's' },
	{ "block-count", required_argument, NULL, 'c' },
	{ "data-size", required_argument, NULL, 'z' },
	{ "metadata-size", required_argument, NULL, 'y' },
	{ "data", required_argument, NULL, 'd' },
	{ "metadata", required_argument, NULL, 'M' },
	{ "force-unit-access", no_argument, NULL, 'f' },
	{ "latency", no_argument, NULL, 't' },
	{ "show-command", no_argument, NULL, 'V' },
	{ "dry-run", no_argument, NULL, 'w' },
	{ "timeout", required_argument, NULL, B_TIMEOUT },
	{ NULL, 0, NULL, 0 },
};
static const char rw_shortopts[] = ":n:s:c:z:y:d:M:ftw"; /* -V is nvkv --version */

int cmd_read(struct cli *c)
{
	struct blk_args a;
	int rc = parse_blk(c, &a, rw_shortopts, rw_longopts, rw_opt);

	return rc ? rc : run_rw(c, &a, false);
}

int cmd_write(struct cli *c)
{
	struct blk_args a;
	int rc = parse_blk(c, &a, rw_shortopts, rw_longopts, rw_opt);

	return rc ? rc : run_rw(c, &a, true);
}

const char cli_read_usage[] =
	"usage: nvkv read [DEVICE] [OPTIONS]      (nvme-cli's flags)\n"
	"  -n, --namespace-id NSID     NVM namespace (default: the device's first one)\n"
	"  -s, --start-block SLBA      first logical block (default 0)\n"
	"  -c, --block-count NLB       blocks, 0's based as in nvme-cli: 0 reads one block\n"
	"  -z, --data-size BYTES       buffer size; rounded up to cover NLB + 1 blocks, and\n"
	"                              without --block-count it gives the block count\n"
	"  -d, --data FILE             write the data there (default: standard output)\n"
	"  -f, --force-unit-access     FUA\n"
	"  -t, --latency               print the command's latency (us) to stderr\n"
	"  --show-command, -w, --dry-run   print the command (and do not send it)\n"
	"  -y, --metadata-size 0       the LBA formats have no metadata\n"
	"  --timeout MS                fail the command after MS milliseconds\n"
	"Without -c and -z one block moves.  Prints 'read: Success' to stderr.\n"
	"Exit status: 0; 1 the device's error status (e.g. LBA OUT OF RANGE (0x80));\n"
	"2 usage error (also: no such NVM namespace, more than one command moves);\n"
	"3 transport error.\n";

const char cli_write_usage[] =
	"usage: nvkv write [DEVICE] [OPTIONS]     (nvme-cli's flags)\n"
	"  -n, --namespace-id NSID     NVM namespace (default: the device's first one)\n"
	"  -s, --start-block SLBA      first logical block (default 0)\n"
	"  -c, --block-count NLB       blocks, 0's based as in nvme-cli: 0 writes one block\n"
	"  -z, --data-size BYTES       data size; rounded up to cover NLB + 1 blocks, and\n"
	"                              without --block-count it gives the block count\n"
	"  -d, --data FILE             the data (default: standard input); short input is\n"
	"                              padded with zeros\n"
	"  -f, --force-unit-access     FUA: durable when the command completes\n"
	"  -t, --latency               print the command's latency (us) to stderr\n"
	"  --show-command, -w, --dry-run   print the command (and do not send it)\n"
	"  -y, --metadata-size 0       the LBA formats have no metadata\n"
	"  --timeout MS                fail the command after MS milliseconds\n"
	"Prints 'write: Success' to stderr.  Exit status as nvkv read.\n";

/* ---- write-zeroes and dsm ---------------------------------------------------------------- */

static int wz_opt(struct cli *c, struct blk_args *a, int ch, const char *name, const char *arg)
{
	(void)c;
	return blk_option(a, ch == 'd' ? 'D' : ch, name, arg);
}

int cmd_write_zeroes(struct cli *c)
{
	static const struct option lo[] = {
		{ "namespace-id", required_argument, NULL, 'n' },
		{ "start-block", required_argument, NULL, 's' },
		{ "block-count", required_argument, NULL, 'c' },
		{ "deac", no_argument, NULL, 'd' },
		{ "force-unit-access", no_argument, NULL, 'f' },
		{ "latency", no_argument, NULL, 't' },
		{ "timeout", required_argument, NULL, B_TIMEOUT },
		{ NULL, 0, NULL, 0 },
	};
	struct nvkv_ns_info ns;
	struct blk_args a;
	uint64_t t0;
	int rc = parse_blk(c, &a, ":n:s:c:dft", lo, wz_opt);

	if (rc || (rc = open_dev(c)) || (rc = pick_ns(c, &a, true, &ns)))
		return rc;
	t0 = now_us();
	rc = nvkv_blk_write_zeroes(c->d, ns.nsid, a.slba, a.nlb0 + 1,
				   (a.fua ? NVKV_BLK_FUA : 0) | (a.deac ? NVKV_BLK_DEAC : 0));
	show_latency(c, a.latency, t0);
	if (rc)
		return rw_result(c, &ns, a.slba, a.nlb0 + 1, rc);
	printf("NVME Write Zeroes Success\n");
	return EX_OK;
}

const char cli_write_zeroes_usage[] =
	"usage: nvkv write-zeroes [DEVICE] [OPTIONS]     (nvme-cli's flags)\n"
	"  -n, --namespace-id NSID     NVM namespace (default: the device's first one)\n"
	"  -s, --start-block SLBA      first logical block (default 0)\n"
	"  -c, --block-count NLB       blocks, 0's based: 0 zeroes one block\n"
	"  -d, --deac                  deallocate the blocks too\n"
	"  -f, --force-unit-access     FUA\n"
	"  -t, --latency               print the command's latency (us) to stderr\n"
	"  --timeout MS                fail the command after MS milliseconds\n";

/* A comma-separated list of numbers, each at most @max; returns the count or -1. */
static int parse_list(const char *s, uint64_t *out, int cap, uint64_t max)
{
	char *copy = strdup(s), *tok, *save = NULL;
	int n = 0;

	if (!copy)
		return -1;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (n == cap || parse_u64(tok, &out[n]) || out[n] > max) {
			n = -1;
			break;
		}
		n++;
	}
	free(copy);
	return n;
}

static int dsm_opt(struct cli *c, struct blk_args *a, int ch, const char *name, const char *arg)
{
	(void)c;
	switch (ch) {
	case 's':
		a->slbs = arg;
		return EX_OK;
	case 'b':
		a->blocks = arg;
		return EX_OK;
	case 'c':
		a->ctx = arg;
		return EX_OK;
	case 'a':
	case 'd':
	case 'r':
		a->attrs |= ch == 'a' ? NVKV_DSM_AD : ch == 'd' ? NVKV_DSM_IDW : NVKV_DSM_IDR;
		return EX_OK;
	case 'f':
		if (cli_u32_opt(name, arg, &a->cdw11))
			return EX_USAGE;
		a->cdw11_given = true;
		return EX_OK;
	default:
		return blk_option(a, ch, name, arg);
	}
}

/* --slbs, --blocks and --ctx-attrs into ranges, as nvme-cli's dsm pairs them. */
static int dsm_ranges(const struct blk_args *a, struct nvkv_dsm_range *r, unsigned int *nr)
{
	static uint64_t s[NVKV_DSM_MAX_RANGES + 1], b[NVKV_DSM_MAX_RANGES + 1],
		x[NVKV_DSM_MAX_RANGES + 1];
	int ns, nb, nc = 0, i;

	if (!a->slbs || !a->blocks)
		return usage_error("%s", "dsm: no range definition provided: give --slbs and "
					 "--blocks (comma-separated, one entry per range)");
	ns = parse_list(a->slbs, s, NVKV_DSM_MAX_RANGES + 1, UINT64_MAX);
	nb = parse_list(a->blocks, b, NVKV_DSM_MAX_RANGES + 1, UINT32_MAX);
	if (a->ctx)
		nc = parse_list(a->ctx, x, NVKV_DSM_MAX_RANGES + 1, UINT32_MAX);
	if (ns < 0 || nb < 0 || nc < 0 || ns > (int)NVKV_DSM_MAX_RANGES ||
	    nb > (int)NVKV_DSM_MAX_RANGES || nc > (int)NVKV_DSM_MAX_RANGES)
		return usage_error("dsm: --slbs, --blocks, --ctx-attrs are comma-separated numbers "
				   "(blocks and attributes 32-bit), at most %u each",
				   NVKV_DSM_MAX_RANGES);
	if (ns != nb || (a->ctx && nc != ns))
		return usage_error("dsm: invalid ranges length: %d --slbs, %d --blocks%s", ns, nb,
				   a->ctx ? ", and --ctx-attrs must have as many" : "");
	for (i = 0; i < ns; i++)
		r[i] = (struct nvkv_dsm_range){ .slba = s[i],
						.nlb = (uint32_t)b[i],
						.cattr = a->ctx ? (uint32_t)x[i] : 0 };
	*nr = (unsigned int)ns;
	return EX_OK;
}

int cmd_dsm(struct cli *c)
{
	static const struct option lo[] = {
		{ "namespace-id", required_argument, NULL, 'n' },
		{ "ctx-attrs", required_argument, NULL, 'c' },
		{ "blocks", required_argument, NULL, 'b' },
		{ "slbs", required_argument, NULL, 's' },
		{ "ad", no_argument, NULL, 'a' },
		{ "idw", no_argument, NULL, 'd' },
		{ "idr", no_argument, NULL, 'r' },
		{ "cdw11", required_argument, NULL, 'f' },
		{ "timeout", required_argument, NULL, B_TIMEOUT },
		{ NULL, 0, NULL, 0 },
	};
	struct nvkv_dsm_range *r = calloc(NVKV_DSM_MAX_RANGES, sizeof(*r));
	struct nvkv_ns_info ns;
	struct blk_args a;
	unsigned int nr = 0, attrs;
	int rc = r ? parse_blk(c, &a, ":n:c:b:s:adrf:", lo, dsm_opt) : report("dsm", -ENOMEM);

	if (rc || (rc = dsm_ranges(&a, r, &nr)))
		goto out;
	attrs = a.cdw11_given ? a.cdw11 : a.attrs;
	if (attrs & ~(NVKV_DSM_IDR | NVKV_DSM_IDW | NVKV_DSM_AD)) {
		rc = usage_error("dsm: --cdw11 0x%x: only IDR (bit 0), IDW (1) and AD (2) exist",
				 attrs);
		goto out;
	}
	if ((rc = open_dev(c)) || (rc = pick_ns(c, &a, true, &ns)))
		goto out;
	rc = nvkv_blk_dsm(c->d, ns.nsid, attrs, r, nr);
	if (rc == KVC_SC_LBA_OUT_OF_RANGE)
		fprintf(stderr, "nvkv: dsm: %s: a range ends past namespace %u's %llu blocks\n",
			nvkv_strerror(rc), ns.nsid, (unsigned long long)ns.blocks);
	rc = rc == KVC_SC_LBA_OUT_OF_RANGE ? EX_DEVICE : report("dsm", rc);
	if (!rc)
		printf("NVMe DSM: success\n");
out:
	free(r);
	return rc;
}

const char cli_dsm_usage[] =
	"usage: nvkv dsm [DEVICE] --slbs S1,S2.. --blocks N1,N2.. [OPTIONS]   (nvme-cli's flags)\n"
	"  -n, --namespace-id NSID     NVM namespace (default: the device's first one)\n"
	"  -s, --slbs LIST             first block of each range\n"
	"  -b, --blocks LIST           blocks in each range (a count, not 0's based)\n"
	"  -c, --ctx-attrs LIST        context attributes of each range (default 0)\n"
	"  -a, --ad                    deallocate (the blocks then read as zeros)\n"
	"  -d, --idw / -r, --idr       integral dataset for write / read hints\n"
	"  -f, --cdw11 ATTRS           the attributes dword as given (instead of -a/-d/-r)\n"
	"  --timeout MS                fail the command after MS milliseconds\n"
	"At most 256 ranges; the lists must have the same length.\n";

/* ---- id-ns and list-ns -------------------------------------------------------------------- */

static void hex_bytes(FILE *f, const char *name, const uint8_t *b, size_t n)
{
	size_t i;

	fprintf(f, "%-8s: ", name);
	for (i = 0; i < n; i++)
		fprintf(f, "%02x", b[i]);
	fputc('\n', f);
}

/* nvme-cli's normal output of an NVM Identify Namespace (CNS 00h). */
static void print_id_ns_nvm(FILE *f, uint32_t nsid, const struct kvc_id_ns_nvm *n)
{
	uint8_t inuse = (uint8_t)((n->flbas & 0x0f) | (n->flbas & 0x60) >> 1);
	unsigned int i;

	fprintf(f, "NVME Identify Namespace %u:\n", nsid);
	fprintf(f, "nsze    : %#llx\n", (unsigned long long)kvc_get_le64(&n->nsze));
	fprintf(f, "ncap    : %#llx\n", (unsigned long long)kvc_get_le64(&n->ncap));
	fprintf(f, "nuse    : %#llx\n", (unsigned long long)kvc_get_le64(&n->nuse));
	fprintf(f, "nsfeat  : %#x\nnlbaf   : %d\nflbas   : %#x\n", n->nsfeat, n->nlbaf, n->flbas);
	fprintf(f, "mc      : %#x\ndpc     : %#x\ndps     : %#x\n", n->mc, n->dpc, n->dps);
	fprintf(f, "nmic    : %#x\nrescap  : %#x\nfpi     : %#x\ndlfeat  : %d\n", n->nmic,
		n->rescap, n->fpi, n->dlfeat);
	fprintf(f, "nawun   : %d\nnawupf  : %d\nnacwu   : %d\n", kvc_get_le16(&n->nawun),
		kvc_get_le16(&n->nawupf), kvc_get_le16(&n->nacwu));
	fprintf(f, "nabsn   : %d\nnabo    : %d\nnabspf  : %d\nnoiob   : %d\n",
		kvc_get_le16(&n->nabsn), kvc_get_le16(&n->nabo), kvc_get_le16(&n->nabspf),
		kvc_get_le16(&n->noiob));
	fprintf(f, "nvmcap  : %llu\n", (unsigned long long)kvc_get_le64(n->nvmcap));
	fprintf(f, "npwg    : %d\nnpwa    : %d\nnpdg    : %d\nnpda    : %d\nnows    : %d\n",
		kvc_get_le16(&n->npwg), kvc_get_le16(&n->npwa), kvc_get_le16(&n->npdg),
		kvc_get_le16(&n->npda), kvc_get_le16(&n->nows));
	fprintf(f, "anagrpid: %u\nnsattr  : %u\nnvmsetid: %d\nendgid  : %d\n",
		kvc_get_le32(&n->anagrpid), n->nsattr, kvc_get_le16(&n->nvmsetid),
		kvc_get_le16(&n->endgid));
	hex_bytes(f, "nguid", n->nguid, sizeof(n->nguid));
	hex_bytes(f, "eui64", n->eui64, sizeof(n->eui64));
	for (i = 0; i <= n->nlbaf && i < 64; i++)
		fprintf(f, "lbaf %2u : ms:%-3d lbads:%-2d rp:%#x %s\n", i,
			kvc_get_le16(&n->lbaf[i].ms), n->lbaf[i].lbads, n->lbaf[i].rp & 3,
			i == inuse ? "(in use)" : "");
}

/* The KV Identify Namespace (CNS 05h, CSI 01h) in the same style. */
static void print_id_ns_kv(FILE *f, uint32_t nsid, const struct kvc_id_ns_kv *n)
{
	unsigned int i;

	fprintf(f, "NVME Identify Namespace %u (Key Value command set):\n", nsid);
	fprintf(f, "nsze    : %#llx (bytes)\n", (unsigned long long)kvc_get_le64(&n->nsze));
	fprintf(f, "nuse    : %#llx (bytes)\n", (unsigned long long)kvc_get_le64(&n->nuse));
	fprintf(f, "nsfeat  : %#x\nnkvf    : %d\nnmic    : %#x\nrescap  : %#x\nfpi     : %#x\n",
		n->nsfeat, n->nkvf, n->nmic, n->rescap, n->fpi);
	fprintf(f, "novg    : %u\nanagrpid: %u\nnsattr  : %u\nnvmsetid: %d\nendgid  : %d\n",
		kvc_get_le32(&n->novg), kvc_get_le32(&n->anagrpid), n->nsattr,
		kvc_get_le16(&n->nvmsetid), kvc_get_le16(&n->endgid));
	hex_bytes(f, "nguid", n->nguid, sizeof(n->nguid));
	hex_bytes(f, "eui64", n->eui64, sizeof(n->eui64));
	for (i = 0; i <= n->nkvf && i < 16; i++)
		fprintf(f, "kvf %2u  : kvkml:%-3u kvvml:%-10u kvmnk:%u%s %s\n", i,
			kvc_get_le16(&n->kvf[i].kvkml), kvc_get_le32(&n->kvf[i].kvvml),
			kvc_get_le32(&n->kvf[i].kvmnk),
			kvc_get_le32(&n->kvf[i].kvmnk) ? "" : " (no limit)",
			i == 0 ? "(in use)" : "");
}

static int identify_ns(struct cli *c, const struct nvkv_ns_info *ns, uint8_t *buf)
{
	struct kvc_sqe sqe;

	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = KVC_ADM_IDENTIFY;
	kvc_sqe_set_nsid(&sqe, ns->nsid);
	kvc_sqe_set_dw(&sqe, 10, ns->csi == NVKV_CSI_NVM ? KVC_CNS_NS : KVC_CNS_CSI_NS);
	kvc_sqe_set_dw(&sqe, 11, (uint32_t)ns->csi << 24);
	return nvkv_admin_raw(c->d, &sqe, buf, KVC_IDENTIFY_SIZE, NULL);
}

static int idns_opt(struct cli *c, struct blk_args *a, int ch, const char *name, const char *arg)
{
	(void)c;
	return blk_option(a, ch, name, arg);
}

int cmd_id_ns(struct cli *c)
{
	static const struct option lo[] = {
		{ "namespace-id", required_argument, NULL, 'n' },
		{ "raw-binary", no_argument, NULL, 'b' },
		{ "output-format", required_argument, NULL, 'o' },
		{ "timeout", required_argument, NULL, B_TIMEOUT },
		{ NULL, 0, NULL, 0 },
	};
	uint8_t buf[KVC_IDENTIFY_SIZE];
	struct nvkv_ns_info ns;
	struct blk_args a;
	int rc = parse_blk(c, &a, ":n:bo:", lo, idns_opt);

	if (rc || (rc = open_dev(c)) || (rc = pick_ns(c, &a, false, &ns)))
		return rc;
	if (ns.csi != NVKV_CSI_NVM && ns.csi != NVKV_CSI_KV) {
		fprintf(stderr,
			"nvkv: id-ns: namespace %u uses command set %u, which nvkv does "
			"not decode\n",
			ns.nsid, ns.csi);
		return EX_USAGE;
	}
	rc = identify_ns(c, &ns, buf);
	if (rc)
		return report("id-ns", rc);
	if (a.raw)
		fwrite(buf, 1, sizeof(buf), stdout);
	else if (ns.csi == NVKV_CSI_NVM)
		print_id_ns_nvm(stdout, ns.nsid, (const void *)buf);
	else
		print_id_ns_kv(stdout, ns.nsid, (const void *)buf);
	return EX_OK;
}

const char cli_id_ns_usage[] =
	"usage: nvkv id-ns [DEVICE] [-n NSID] [-b | -o normal|binary]     (nvme-cli's flags)\n"
	"Identify Namespace, printed as nvme-cli does: for an NVM namespace CNS 00h\n"
	"(nsze, ncap, nuse in blocks, flbas, the lbaf lines with '(in use)'), for the KV\n"
	"namespace CNS 05h (sizes in bytes, KV formats).\n"
	"  -n, --namespace-id NSID     default: the first NVM namespace, else the KV one\n"
	"  -b, --raw-binary            the 4096 bytes as the device sent them\n"
	"  -o, --output-format F       normal (default) or binary (= -b)\n";

/* One line per namespace: nvme-cli's "[   i]:0xNSID", then what it is. */
static void print_ns_line(FILE *f, unsigned int i, const struct nvkv_ns_info *ns)
{
	fprintf(f, "[%4u]:%#x  csi %u (%s)", i, ns->nsid, ns->csi, csi_name(ns->csi));
	if (ns->csi == NVKV_CSI_NVM)
		fprintf(f, "  %llu blocks of %u B = %llu bytes, %llu used, max transfer %u\n",
			(unsigned long long)ns->blocks, ns->lba_size, (unsigned long long)ns->size,
			(unsigned long long)ns->used, ns->max_transfer);
	else if (ns->csi == NVKV_CSI_KV)
		fprintf(f, "  %llu bytes, %llu used\n", (unsigned long long)ns->size,
			(unsigned long long)ns->used);
	else
		fputc('\n', f);
}

static int listns_opt(struct cli *c, struct blk_args *a, int ch, const char *name, const char *arg)
{
	(void)c;
	return blk_option(a, ch == 'y' ? 'Y' : ch, name, arg);
}

int cmd_list_ns(struct cli *c)
{
	static const struct option lo[] = {
		{ "csi", required_argument, NULL, 'y' },
		{ "timeout", required_argument, NULL, B_TIMEOUT },
		{ NULL, 0, NULL, 0 },
	};
	struct nvkv_ns_info *ns = NULL;
	unsigned int n = 0, i, shown = 0;
	struct blk_args a;
	int rc = parse_blk(c, &a, ":y:", lo, listns_opt);

	if (rc || (rc = open_dev(c)))
		return rc;
	rc = nvkv_ns_list(c->d, NULL, 0, &n);
	if (!rc && n) {
		ns = calloc(n, sizeof(*ns));
		rc = ns ? nvkv_ns_list(c->d, ns, n, &n) : -ENOMEM;
	}
	if (rc) {
		free(ns);
		return report("list-ns", rc);
	}
	for (i = 0; i < n; i++)
		if (!a.csi_given || ns[i].csi == a.csi)
			print_ns_line(stdout, shown++, &ns[i]);
	free(ns);
	return EX_OK;
}

const char cli_list_ns_usage[] =
	"usage: nvkv list-ns [DEVICE] [-y CSI]\n"
	"The active namespaces (Identify CNS 02h), one line each as nvme-cli's\n"
	"'[   0]:0x1', followed by the command set and sizes.\n"
	"  -y, --csi CSI               only namespaces of command set CSI (0 NVM, 1 KV)\n";

/* ---- statistics -------------------------------------------------------------------------- */

/*
 * One namespace's statistics log (version 2: Get Log Page C0h with its NSID)
 * as two indented lines under its list line: its commands, and its share of
 * the PCIe and NAND traffic.  The wire format is cmdset/stats.h's; change
 * this function when it changes.
 */
static void print_ns_stats(FILE *f, const struct kvc_stats_log *l)
{
	uint64_t pcie = 0;
	unsigned int i, m, n = 0;

	fprintf(f, "       commands:");
	for (i = 0; i < KVC_OP_NUM; i++) {
		if (!l->cmds[i])
			continue;
		fprintf(f, "%s %s %llu", n++ ? "," : "", kvc_stat_op_name((enum kvc_stat_op)i),
			(unsigned long long)l->cmds[i]);
		if (l->errors[i])
			fprintf(f, " (%llu failed)", (unsigned long long)l->errors[i]);
		fprintf(f, " mean %.1f us", (double)l->lat_sum_ns[i] / (double)l->cmds[i] / 1e3);
	}
	fprintf(f, "%s\n", n ? "" : " none");
	for (m = 0; m < KVC_XM_NUM; m++)
		pcie += l->m_pcie_bytes[m][0] + l->m_pcie_bytes[m][1];
	fprintf(f,
		"       %llu bytes written by hosts; PCIe %llu bytes; NAND %llu programs, %llu "
		"reads, %llu erases; GC moved %llu bytes\n",
		(unsigned long long)l->host_bytes_written, (unsigned long long)pcie,
		(unsigned long long)l->nand_programs, (unsigned long long)l->nand_reads,
		(unsigned long long)l->nand_erases, (unsigned long long)l->gc_bytes);
}

/*
 * The per-namespace part of `nvkv stats`: each namespace's Identify line,
 * then its own statistics when the device keeps them per namespace (a log
 * that does not name the namespace is the device's, already printed above).
 */
void cli_stats_namespaces(struct cli *c, FILE *f)
{
	struct kvc_stats_log *l = calloc(1, sizeof(*l));
	struct nvkv_ns_info ns[16];
	unsigned int n = 0, i;
	int rc = l ? nvkv_ns_list(c->d, ns, 16, &n) : -ENOMEM;

	if (rc) {
		fprintf(stderr, "nvkv: stats: namespaces: %s\n", nvkv_strerror(rc));
		free(l);
		return;
	}
	fprintf(f, "namespaces\n");
	for (i = 0; i < n && i < 16; i++) {
		print_ns_line(f, i, &ns[i]);
		memset(l, 0, sizeof(*l));
		if (!nvkv_ns_stats(c->d, ns[i].nsid, l, sizeof(*l)) && l->version >= 2 &&
		    l->nsid == ns[i].nsid)
			print_ns_stats(f, l);
	}
	free(l);
}
