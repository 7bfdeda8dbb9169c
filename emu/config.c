// SPDX-License-Identifier: MIT
/*
 * Configuration knobs of nvkv-emu.  Each row names its section and key, its
 * type and range, its default (as text, parsed like user input so the table
 * is the one place defaults live), its unit and what it does.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum knob_type {
	K_NUM, /* unsigned, range checked, K/M/G/T suffixes allowed */
	K_BOOL,
	K_STR,	/* copied into a char array */
	K_ENUM, /* one of the choices, stored as its index (unsigned int) */
};

struct knob {
	const char *section, *key;
	enum knob_type type;
	const char *def;
	const char *unit;
	unsigned long long min, max; /* K_NUM range */
	size_t off;		     /* offset in struct emu_config */
	size_t width;		     /* size of that member */
	const char *choices;	     /* K_ENUM: "a|b|c" */
	const char *help;
};

#define F(m) offsetof(struct emu_config, m), sizeof(((struct emu_config *)0)->m)
#define FW(m) F(fw.m)
#define TEST_ONLY_SECTION "fault"
#define FAULT(m, unit, help)                                                                   \
	{                                                                                      \
		TEST_ONLY_SECTION, #m, K_NUM, "0", unit, 0, 1ull << 62, F(fault.m), NULL, help \
	}
#define KI (1ull << 10)
#define MI (1ull << 20)
#define GI (1ull << 30)

static const struct knob knobs[] = {
	{ "emu", "socket", K_STR, "/tmp/nvkv.sock", "path", 0, 0, F(socket), NULL,
	  "unix socket hosts attach to" },
	{ "emu", "store", K_STR, "", "directory", 0, 0, F(store), NULL,
	  "keep NAND (sparse file) and catalog (LMDB) here; empty = in memory" },
	{ "emu", "stats_json", K_STR, "", "path", 0, 0, F(stats_json), NULL,
	  "write statistics as JSON here on SIGUSR1 and at exit" },
	{ "emu", "log_level", K_ENUM, "info", "", 0, 0, F(log_level), "err|warn|info|debug",
	  "stderr log verbosity" },
	{ "emu", "idle_spin_us", K_NUM, "200", "us", 0, 1000000, F(idle_spin_us), NULL,
	  "poll this long without work before sleeping (0 = sleep at once)" },
	{ "emu", "tcp", K_STR, "", "[addr:]port", 0, 0, F(tcp), NULL,
	  "also serve NVMe/TCP here (IPv4; 127.0.0.1 unless an address is given; 4420 is usual)" },
	{ "emu", "nqn", K_STR, "", "", 0, 0, FW(nqn), NULL,
	  "subsystem NQN (Identify SUBNQN, Connect); empty = nqn.2026-11.io.nvkv:<serial>" },
	{ "emu", "tcp_ioccsz", K_NUM, "260", "16 bytes", 4, 4100, F(tcp_ioccsz), NULL,
	  "NVMe/TCP I/O command capsule size (in-capsule data = 16 x this - 64 bytes)" },
	{ "emu", "tcp_maxh2cdata", K_NUM, "128K", "bytes", 4096, 16 * MI, F(tcp_maxh2cdata), NULL,
	  "NVMe/TCP MAXH2CDATA: largest H2CData PDU (a multiple of 4)" },
	{ "emu", "tcp_digests", K_BOOL, "true", "", 0, 0, F(tcp_digests), NULL,
	  "NVMe/TCP: grant header/data digests (CRC32C) when a host asks" },
	{ "emu", "tcp_threads", K_NUM, "2", "", 1, 64, F(tcp_threads), NULL,
	  "NVMe/TCP event-loop threads; connections are spread over them in turn" },
	{ "emu", "lmdb_map_mb", K_NUM, "65536", "MiB", 16, 1ull << 24, F(lmdb_map_mb), NULL,
	  "LMDB map size (address space; the file grows as needed)" },
	{ "emu", "journal_mb", K_NUM, "64", "MiB", 1, 1ull << 20, F(journal_mb), NULL,
	  "catalog journal length at which a background thread folds it into the LMDB file" },
	{ "emu", "media_prefault", K_BOOL, "false", "", 0, 0, F(media_prefault), NULL,
	  "in-memory device: take all NAND memory at start (device size in RAM) instead of at "
	  "each block's first write" },

	{ "device", "serial", K_STR, "NVKV0001", "", 0, 0, FW(serial), NULL,
	  "serial number (Identify Controller)" },
	{ "device", "model", K_STR, "nvkv KV-SSD emulator", "", 0, 0, FW(model), NULL,
	  "model number (Identify Controller)" },
	{ "device", "max_value", K_NUM, "2M", "bytes", 1, FW_MAX_VALUE_LIMIT - 1, FW(max_value),
	  NULL, "largest value (KV format descriptor)" },
	{ "device", "capacity", K_NUM, "0", "bytes", 0, 1ull << 50, FW(capacity), NULL,
	  "namespace capacity; 0 = NAND minus over-provisioning" },
	{ "device", "max_keys", K_NUM, "0", "keys", 0, 0xffffffffu, FW(max_keys), NULL,
	  "key limit; 0 = none" },
	{ "device", "op_percent", K_NUM, "10", "%", 0, 90, FW(op_percent), NULL,
	  "over-provisioning of the value log" },
	{ "device", "gc_reserve", K_NUM, "2", "superblocks", 1, 1024, FW(gc_reserve), NULL,
	  "free superblocks kept for garbage collection" },
	{ "device", "gc_policy", K_ENUM, "yield", "", 0, 0, FW(gc_policy), "yield|fifo",
	  "yield: GC yields NAND dies and channels to host I/O at slice ends; fifo: GC queues with "
	  "host I/O (the old model)" },
	{ "device", "gc_slice_us", K_NUM, "100", "us", 1, 1000000, FW(gc_slice_us), NULL,
	  "GC slice: the longest a host NAND operation waits for garbage collection" },
	{ "device", "timing", K_ENUM, "off", "", 0, 0, FW(timing), "off|realtime",
	  "off: complete at once; realtime: not before the modeled time" },
	{ "device", "dma", K_ENUM, "page", "", 0, 0, FW(dma_gran), "exact|page",
	  "PRP DMA granularity: exact bytes, or whole 4 KiB pages" },
	{ "device", "vwc", K_BOOL, "false", "", 0, 0, FW(vwc), NULL,
	  "volatile write cache: Stores durable only after Flush" },
	{ "device", "backfill", K_BOOL, "true", "", 0, 0, FW(backfill), NULL,
	  "place packed values in 4 KiB alignment gaps" },
	{ "device", "fw_overhead_ns", K_NUM, "1500", "ns", 0, 1000000000, FW(fw_overhead_ns), NULL,
	  "modeled firmware time per command: fetch and decode" },
	{ "device", "fw_cores", K_NUM, "1", "commands", 1, FW_MAX_CORES, FW(cost.cores), NULL,
	  "commands the firmware works on at once (cores x pipelining)" },
	{ "device", "fw_bs_xfer_ns", K_NUM, "0", "ns", 0, 1000000000, FW(cost.bs_xfer_ns), NULL,
	  "firmware time per BandSlim transfer command (reassembly), besides fw_overhead_ns" },
	{ "device", "fw_bx_chunk_ns", K_NUM, "0", "ns", 0, 1000000000, FW(cost.bx_chunk_ns), NULL,
	  "firmware time per ByteExpress 64-byte chunk" },
	{ "device", "fw_dma_ns", K_NUM, "0", "ns", 0, 1000000000, FW(cost.dma_ns), NULL,
	  "firmware time to set up a data transfer (PRP or SGL)" },
	{ "device", "fw_prp_entry_ns", K_NUM, "0", "ns", 0, 1000000000, FW(cost.prp_entry_ns), NULL,
	  "firmware time per PRP entry a transfer uses" },
	{ "device", "fw_sgl_desc_ns", K_NUM, "0", "ns", 0, 1000000000, FW(cost.sgl_desc_ns), NULL,
	  "firmware time per SGL descriptor a transfer reads" },
	{ "device", "fw_index_ns", K_NUM, "0", "ns", 0, 1000000000, FW(cost.index_ns), NULL,
	  "firmware time per key index lookup, insert or delete" },
	{ "device", "fw_list_step_ns", K_NUM, "0", "ns", 0, 1000000000, FW(cost.list_step_ns), NULL,
	  "firmware time per key a List returns" },

	{ "namespaces", "block_percent", K_NUM, "50", "%", 0, 100, FW(blk_percent), NULL,
	  "superblocks given to the block (NVM) namespace; 0 = KV only, 100 = block only" },
	{ "namespaces", "block_op_percent", K_NUM, "10", "%", 1, 90, FW(blk_op_percent), NULL,
	  "over-provisioning of the block namespace's FTL" },
	{ "namespaces", "lba_size", K_NUM, "4096", "bytes", 512, 4096, FW(lba_size), NULL,
	  "logical block size of the block namespace: 512 or 4096" },

	{ "nand", "channels", K_NUM, "4", "", 1, 64, FW(geo.channels), NULL, "channels" },
	{ "nand", "ways", K_NUM, "8", "", 1, 64, FW(geo.ways), NULL, "dies per channel" },
	{ "nand", "planes", K_NUM, "1", "", 1, 8, FW(geo.planes), NULL,
	  "planes per die (capacity only)" },
	{ "nand", "blocks", K_NUM, "64", "", 4, 65536, FW(geo.blocks_per_plane), NULL,
	  "blocks per plane" },
	{ "nand", "pages", K_NUM, "128", "", 1, 4096, FW(geo.pages_per_block), NULL,
	  "pages per block" },
	{ "nand", "page_size", K_NUM, "16K", "bytes", 4096, 65536, FW(geo.page_size), NULL,
	  "page size, a multiple of 4 KiB" },
	{ "nand", "profile", K_STR, "flat", "", 0, 0, F(nand_profile), NULL,
	  "timing profile: flat (40/200/2000 us) or tlc (56.5-106 / 820-5734 / 3000 us)" },
	{ "nand", "read_us", K_NUM, "0", "us", 0, 100000, F(read_us), NULL,
	  "override page read time; 0 = profile" },
	{ "nand", "program_us", K_NUM, "0", "us", 0, 1000000, F(program_us), NULL,
	  "override page program time; 0 = profile" },
	{ "nand", "erase_us", K_NUM, "0", "us", 0, 10000000, F(erase_us), NULL,
	  "override block erase time; 0 = profile" },
	{ "nand", "channel_mbps", K_NUM, "400", "MB/s", 1, 100000, FW(nand.chan_mbps), NULL,
	  "channel transfer rate" },

	{ "pcie", "gen", K_NUM, "3", "", 1, 5, FW(pcie.gen), NULL, "PCIe generation" },
	{ "pcie", "lanes", K_NUM, "4", "", 1, 16, FW(pcie.lanes), NULL, "lanes: 1, 2, 4, 8, 16" },
	{ "pcie", "mps", K_NUM, "256", "bytes", 128, 4096, FW(pcie.mps), NULL, "max payload size" },
	{ "pcie", "mrrs", K_NUM, "512", "bytes", 128, 4096, FW(pcie.mrrs), NULL,
	  "max read request size" },
	{ "pcie", "rcb", K_NUM, "64", "bytes", 64, 128, FW(pcie.rcb), NULL,
	  "read completion boundary" },

	{ "queues", "count", K_NUM, "16", "", 1, FW_MAX_IOQ, FW(max_ioq), NULL,
	  "I/O queue pairs per controller" },
	{ "queues", "depth", K_NUM, "1024", "entries", 2, FW_MAX_QSIZE, FW(mqes), NULL,
	  "max entries per queue (CAP.MQES + 1)" },
	{ "queues", "burst", K_NUM, "8", "commands", 1, 128, FW(arb_burst), NULL,
	  "round-robin arbitration burst (power of two)" },

	/* Test only (TEST_ONLY_SECTION): never needed to run a device. */
	FAULT(nand_read_at, "operation", "this NAND page read fails (-EIO), once"),
	FAULT(nand_read_from, "operation", "every NAND page read from this one on fails (-EIO)"),
	FAULT(nand_program_at, "operation", "this NAND page program fails (-EIO), once"),
	FAULT(nand_program_from, "operation",
	      "every NAND page program from this one on fails (-EIO)"),
	FAULT(nand_erase_at, "operation", "this NAND block erase fails (-EIO), once"),
	FAULT(nand_erase_from, "operation", "every NAND block erase from this one on fails (-EIO)"),
	FAULT(media_short_write_at, "write",
	      "this media write (program or staging) stores half its bytes, then -ENOSPC"),
	FAULT(media_enospc_from, "write",
	      "every media write from this one on fails with -ENOSPC (full file system)"),
	FAULT(catalog_write_at, "write",
	      "this catalog write (put, delete, blob, commit) fails (-EIO), once; --store only"),
	FAULT(catalog_full_from, "write",
	      "every catalog write from this one on fails with -ENOSPC (LMDB map full); --store "
	      "only"),
	FAULT(alloc_from, "allocation",
	      "every firmware allocation from this one on fails (out of memory)"),
};

#define NKNOBS (sizeof(knobs) / sizeof(knobs[0]))

static void errf(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void errf(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

static const struct knob *find(const char *name)
{
	const char *dot = strchr(name, '.');
	size_t i, sl;

	if (!dot)
		return NULL;
	sl = (size_t)(dot - name);
	for (i = 0; i < NKNOBS; i++)
		if (strlen(knobs[i].section) == sl && !strncmp(knobs[i].section, name, sl) &&
		    !strcmp(knobs[i].key, dot + 1))
			return &knobs[i];
	return NULL;
}

static int parse_size(const char *s, unsigned long long *out)
{
	unsigned long long v, mul = 1;
	char *end;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno)
		return -EINVAL;
	switch (toupper((unsigned char)*end)) {
	case 0:
		break;
	case 'K':
		mul = KI;
		break;
	case 'M':
		mul = MI;
		break;
	case 'G':
		mul = GI;
		break;
	case 'T':
		mul = GI * KI;
		break;
	default:
		return -EINVAL;
	}
	if (*end && end[1] && strcasecmp(end + 1, "iB") && strcasecmp(end + 1, "B"))
		return -EINVAL;
	if (v && mul > ~0ull / v)
		return -EINVAL;
	*out = v * mul;
	return 0;
}

static int parse_bool(const char *s, int *out)
{
	static const char *const yes[] = { "1", "true", "yes", "on" };
	static const char *const no[] = { "0", "false", "no", "off" };
	size_t i;

	for (i = 0; i < 4; i++) {
		if (!strcasecmp(s, yes[i])) {
			*out = 1;
			return 0;
		}
		if (!strcasecmp(s, no[i])) {
			*out = 0;
			return 0;
		}
	}
	return -EINVAL;
}

static int parse_enum(const char *choices, const char *s, unsigned int *out)
{
	const char *p = choices;
	unsigned int i = 0;

	while (*p) {
		size_t n = strcspn(p, "|");

		if (strlen(s) == n && !strncasecmp(p, s, n)) {
			*out = i;
			return 0;
		}
		p += n + (p[n] == '|');
		i++;
	}
	return -EINVAL;
}

static int set_knob(struct emu_config *c, const struct knob *k, const char *v, char *err,
		    size_t errlen)
{
	void *dst = (char *)c + k->off;
	unsigned long long n;
	unsigned int e;
	int b;

	switch (k->type) {
	case K_NUM:
		if (parse_size(v, &n) || n < k->min || n > k->max) {
			errf(err, errlen, "%s.%s: expected a number %llu..%llu%s%s, got '%s'",
			     k->section, k->key, k->min, k->max, *k->unit ? " " : "", k->unit, v);
			return -EINVAL;
		}
		if (k->width == sizeof(uint32_t))
			*(uint32_t *)dst = (uint32_t)n;
		else
			*(uint64_t *)dst = n;
		return 0;
	case K_BOOL:
		if (parse_bool(v, &b)) {
			errf(err, errlen, "%s.%s: expected true or false, got '%s'", k->section,
			     k->key, v);
			return -EINVAL;
		}
		*(bool *)dst = b;
		return 0;
	case K_ENUM:
		if (parse_enum(k->choices, v, &e)) {
			errf(err, errlen, "%s.%s: expected one of %s, got '%s'", k->section, k->key,
			     k->choices, v);
			return -EINVAL;
		}
		*(unsigned int *)dst = e;
		return 0;
	case K_STR:
		if (strlen(v) >= k->width) {
			errf(err, errlen, "%s.%s: longer than %zu characters", k->section, k->key,
			     k->width - 1);
			return -EINVAL;
		}
		memcpy(dst, v, strlen(v) + 1);
		return 0;
	}
	return -EINVAL;
}

int emu_config_set(struct emu_config *c, const char *name, const char *value, char *err,
		   size_t errlen)
{
	const struct knob *k = find(name);

	if (!k) {
		errf(err, errlen, "%s: unknown configuration key (see nvkv-emu --help)", name);
		return -EINVAL;
	}
	return set_knob(c, k, value, err, errlen);
}

void emu_config_default(struct emu_config *c)
{
	char err[256];
	size_t i;

	memset(c, 0, sizeof(*c));
	fw_config_default(&c->fw);
	for (i = 0; i < NKNOBS; i++)
		if (set_knob(c, &knobs[i], knobs[i].def, err, sizeof(err)))
			abort(); /* the table's own default is wrong: a bug, not input */
}

struct ini_ctx {
	struct emu_config *c;
	char *err;
	size_t errlen;
	int failed;
};

static int ini_cb(void *user, const char *section, const char *key, const char *value)
{
	struct ini_ctx *x = user;
	char name[128];

	if (x->failed)
		return 0;
	snprintf(name, sizeof(name), "%s.%s", section, key);
	if (emu_config_set(x->c, name, value, x->err, x->errlen)) {
		x->failed = 1;
		return 0;
	}
	return 1;
}

int emu_config_load(struct emu_config *c, const char *path, char *err, size_t errlen)
{
	struct ini_ctx x = { c, err, errlen, 0 };
	char inner[256];
	int rc;

	x.err = inner;
	x.errlen = sizeof(inner);
	rc = ini_parse(path, ini_cb, &x);
	if (rc == -1) {
		errf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -ENOENT;
	}
	if (x.failed) {
		errf(err, errlen, "%s: %s", path, inner);
		return -EINVAL;
	}
	if (rc) {
		errf(err, errlen, "%s:%d: syntax error", path, rc);
		return -EINVAL;
	}
	return 0;
}

int emu_config_finish(struct emu_config *c, char *err, size_t errlen)
{
	const char *msg;

	if (fw_nand_profile(&c->fw.nand, c->nand_profile)) {
		errf(err, errlen, "nand.profile: expected flat or tlc, got '%s'", c->nand_profile);
		return -EINVAL;
	}
	if (c->read_us)
		c->fw.nand.read_ns[0] = c->fw.nand.read_ns[1] = c->fw.nand.read_ns[2] =
			c->read_us * 1000;
	if (c->program_us)
		c->fw.nand.prog_ns[0] = c->fw.nand.prog_ns[1] = c->fw.nand.prog_ns[2] =
			c->program_us * 1000;
	if (c->erase_us)
		c->fw.nand.erase_ns = c->erase_us * 1000;
	msg = fw_config_check(&c->fw);
	if (msg) {
		errf(err, errlen, "invalid configuration: %s", msg);
		return -EINVAL;
	}
	return 0;
}

/* "page-size" names key page_size: flags spell '_' as '-'. */
static bool flag_is_key(const char *flag, const char *key)
{
	for (; *flag && *key; flag++, key++)
		if (*flag != (*key == '_' ? '-' : *key))
			return false;
	return !*flag && !*key;
}

const char *emu_config_flag_to_key(const char *flag, char *buf, size_t len)
{
	const struct knob *hit = NULL;
	size_t i, sl, full = 0;

	for (i = 0; !full && i < NKNOBS; i++) {
		sl = strlen(knobs[i].section);
		if (!strncmp(flag, knobs[i].section, sl) && flag[sl] == '-' &&
		    flag_is_key(flag + sl + 1, knobs[i].key)) {
			hit = &knobs[i];
			full = 1;
		}
	}
	/*
	 * --help lists each key under its [section] heading, so the key alone
	 * (--timing, --page-size) is accepted too when no other section has it.
	 */
	for (i = 0; !full && i < NKNOBS; i++) {
		if (!flag_is_key(flag, knobs[i].key))
			continue;
		if (hit)
			return NULL; /* ambiguous: the section is needed */
		hit = &knobs[i];
	}
	if (!hit)
		return NULL;
	snprintf(buf, len, "%s.%s", hit->section, hit->key);
	return buf;
}

/* The fault-injection knobs get their own heading: they are for tests. */
static void test_only_heading(FILE *f, int markdown)
{
	if (markdown) {
		fprintf(f,
			"\n### Fault injection (test only)\n\n"
			"For the test suites: they make the emulator fail on purpose. "
			"Operations are counted from 1 after start-up; 0 = off; `*_at` fails "
			"one operation, `*_from` every one from it on.\n\n"
			"| INI key | flag | default | unit | meaning |\n|---|---|---|---|---|\n");
		return;
	}
	fprintf(f, "\n  Test only: fault injection (operations counted from 1 after start-up;\n"
		   "  0 = off; *_at fails one operation, *_from every one from it on).\n");
}

void emu_config_help(FILE *f, int markdown)
{
	const char *sect = "";
	size_t i;

	if (markdown)
		fprintf(f,
			"| INI key | flag | default | unit | meaning |\n|---|---|---|---|---|\n");
	for (i = 0; i < NKNOBS; i++) {
		const struct knob *k = &knobs[i];
		char flag[96], *p;
		char def[64];

		snprintf(flag, sizeof(flag), "--%s-%s", k->section, k->key);
		for (p = flag; *p; p++)
			if (*p == '_')
				*p = '-';
		snprintf(def, sizeof(def), "%s", *k->def ? k->def : "(empty)");
		if (strcmp(sect, k->section) && !strcmp(k->section, TEST_ONLY_SECTION))
			test_only_heading(f, markdown);
		if (markdown) {
			sect = k->section;
			char ch[96] = "";

			if (k->choices) {
				snprintf(ch, sizeof(ch), ": %s", k->choices);
				for (p = ch; *p; p++)
					if (*p == '|')
						*p = '/'; /* '|' would end the table cell */
			}
			fprintf(f, "| `%s.%s` | `%s` | `%s` | %s | %s%s |\n", k->section, k->key,
				flag, def, k->unit, k->help, ch);
			continue;
		}
		if (strcmp(sect, k->section)) {
			sect = k->section;
			fprintf(f, "\n  [%s]\n", sect);
		}
		fprintf(f, "  %-22s %-12s %s%s%s%s%s\n", flag + 2 + strlen(k->section) + 1, def,
			k->help, *k->unit ? " (" : "", k->unit, *k->unit ? ")" : "",
			k->choices ? "" : "");
		if (k->choices)
			fprintf(f, "  %-22s %-12s one of: %s\n", "", "", k->choices);
	}
}

void emu_config_dump(FILE *f, const struct emu_config *c)
{
	const char *sect = "";
	size_t i;

	for (i = 0; i < NKNOBS; i++) {
		const struct knob *k = &knobs[i];
		const void *src = (const char *)c + k->off;

		if (strcmp(sect, k->section)) {
			sect = k->section;
			fprintf(f, "[%s]\n", sect);
		}
		fprintf(f, "%s = ", k->key);
		switch (k->type) {
		case K_NUM:
			if (k->width == sizeof(uint32_t))
				fprintf(f, "%u\n", *(const uint32_t *)src);
			else
				fprintf(f, "%llu\n", (unsigned long long)*(const uint64_t *)src);
			break;
		case K_BOOL:
			fprintf(f, "%s\n", *(const bool *)src ? "true" : "false");
			break;
		case K_STR:
			fprintf(f, "%s\n", (const char *)src);
			break;
		case K_ENUM: {
			unsigned int e = *(const unsigned int *)src;
			const char *p = k->choices;

			while (e-- && strchr(p, '|'))
				p = strchr(p, '|') + 1;
			fprintf(f, "%.*s\n", (int)strcspn(p, "|"), p);
			break;
		}
		}
	}
}
