// SPDX-License-Identifier: MIT
/*
 * Crash-test client (scripts/crashtest.sh, tests/integration/test_crash.sh).
 * "run" drives one workload phase against nvkv-emu through libnvkv and logs
 * every operation to DIR/log, one line written before the command (intent)
 * and one after its completion (acknowledgement), each with a single write(2)
 * so the log survives any kill; with --kill it SIGKILLs the emulator itself
 * after a delay and exits at once, so nothing is acknowledged after the kill.
 * "verify" runs after a restart: from the last verified state (DIR/state) and
 * the log it computes, per key, every state the contract allows -- the newest
 * acknowledged value (write cache on: as of the last completed Flush), or the
 * result of an operation that may or may not have happened (in flight, or
 * acknowledged after that Flush) -- reads every key and the List order back,
 * then records what it read as the new state.  Values are self-describing
 * (key, version, length, pattern), so wrong or torn bytes are caught too.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hostdrv/nvkv.h"

#define KEY_LEN 8
#define VAL_MAX 16384
#define HDR_LEN 16
#define VAL_MAGIC 0x314b5643u /* "CVK1" */
#define MAX_FAILS_SHOWN 20

enum phase { PH_FILL, PH_OVERWRITE, PH_DELETE, PH_GC };
static const char *const phase_names[] = { "fill", "overwrite", "delete", "gc" };

struct opts {
	const char *mode, *sock, *dir;
	enum phase phase;
	uint64_t seed;
	uint32_t nkeys, ops;
	bool vwc, clean, resync;
	pid_t kill_pid;
	long kill_after_us;
};

/* What the last verification read: per key its version, 0 = absent. */
struct state {
	uint32_t nkeys;
	uint32_t next_ver;
	uint32_t *ver;
};

static int log_fd = -1;
static atomic_long ops_done;
static atomic_bool killing; /* set before the emulator is killed */

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "crash_client: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dull;
}

static uint32_t rng_range(uint64_t *s, uint32_t lo, uint32_t hi)
{
	return lo + (uint32_t)(rng_next(s) % (hi - lo + 1));
}

static void make_key(uint32_t k, uint8_t key[KEY_LEN])
{
	char tmp[16];

	snprintf(tmp, sizeof(tmp), "ck%06u", k % 1000000u);
	memcpy(key, tmp, KEY_LEN);
}

static bool parse_key(const void *key, size_t klen, uint32_t *k)
{
	char tmp[KEY_LEN + 1];
	char *end;

	if (klen != KEY_LEN || memcmp(key, "ck", 2))
		return false;
	memcpy(tmp, key, KEY_LEN);
	tmp[KEY_LEN] = 0;
	*k = (uint32_t)strtoul(tmp + 2, &end, 10);
	return *end == 0;
}

static void put_u32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static uint32_t get_u32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/* The value of version @ver of key @k: header, then a pattern only it has. */
static void make_value(uint32_t k, uint32_t ver, uint32_t len, uint8_t *v)
{
	uint64_t s = ((uint64_t)k << 32 | ver) ^ 0x9e3779b97f4a7c15ull;
	uint32_t i;

	put_u32(v, VAL_MAGIC);
	put_u32(v + 4, k);
	put_u32(v + 8, ver);
	put_u32(v + 12, len);
	for (i = HDR_LEN; i < len; i += 8) {
		uint64_t r = rng_next(&s);

		memcpy(v + i, &r, len - i < 8 ? len - i : 8);
	}
}

/* The version a value read for key @k holds, or 0 with *@why when it is damaged. */
static uint32_t check_value(uint32_t k, const uint8_t *v, size_t vlen, const char **why)
{
	static uint8_t want[VAL_MAX];
	uint32_t ver;

	if (vlen < HDR_LEN || vlen > VAL_MAX || get_u32(v) != VAL_MAGIC) {
		*why = "not a crash-test value";
		return 0;
	}
	ver = get_u32(v + 8);
	if (get_u32(v + 4) != k || get_u32(v + 12) != vlen || ver == 0) {
		*why = "header names another key, length or version";
		return 0;
	}
	make_value(k, ver, (uint32_t)vlen, want);
	if (memcmp(v, want, vlen)) {
		*why = "wrong bytes";
		return 0;
	}
	return ver;
}

/* One log line, one write(2): it is in the page cache whoever dies next. */
static void log_line(const char *fmt, ...)
{
	char buf[96];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (write(log_fd, buf, (size_t)n) != n)
		die("log write: %s", strerror(errno));
}

static void path_in(char *out, size_t len, const char *dir, const char *name)
{
	snprintf(out, len, "%s/%s", dir, name);
}

static void state_load(const char *dir, uint32_t nkeys, struct state *st)
{
	char path[4096];
	unsigned int k, v, n, next;
	FILE *f;

	st->nkeys = nkeys;
	st->next_ver = 1;
	st->ver = calloc(nkeys, sizeof(*st->ver));
	if (!st->ver)
		die("out of memory");
	path_in(path, sizeof(path), dir, "state");
	f = fopen(path, "r");
	if (!f)
		return; /* a new store */
	if (fscanf(f, "crash-state %u %u", &n, &next) != 2 || n != nkeys)
		die("%s: not a state file for %u keys", path, nkeys);
	st->next_ver = next;
	while (fscanf(f, "%u %u", &k, &v) == 2) {
		if (k >= nkeys)
			die("%s: key %u out of range", path, k);
		st->ver[k] = v;
	}
	fclose(f);
}

static void state_save(const char *dir, const struct state *st)
{
	char path[4096], tmp[4200];
	uint32_t k;
	FILE *f;

	path_in(path, sizeof(path), dir, "state");
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		die("%s: %s", tmp, strerror(errno));
	fprintf(f, "crash-state %u %u\n", st->nkeys, st->next_ver);
	for (k = 0; k < st->nkeys; k++)
		if (st->ver[k])
			fprintf(f, "%u %u\n", k, st->ver[k]);
	if (fflush(f) || fsync(fileno(f)) || fclose(f))
		die("%s: %s", tmp, strerror(errno));
	if (rename(tmp, path))
		die("rename %s: %s", tmp, strerror(errno));
}

static struct nvkv_dev *open_dev(const char *sock)
{
	struct timespec ts = { 0, 10000000 };
	struct nvkv_opts o;
	struct nvkv_dev *d;
	int rc, tries;

	nvkv_opts_default(&o);
	o.name = "crash-client";
	o.queues = 1;
	o.host_mem = 8u << 20;
	o.timeout_ms = 5000;
	/* A restarted emulator may have bound its socket and not listen yet. */
	for (tries = 0;; tries++) {
		rc = nvkv_open(sock, &o, &d);
		if (rc != -ECONNREFUSED && rc != -ENOENT)
			break;
		if (tries == 500)
			break;
		nanosleep(&ts, NULL);
	}
	if (rc)
		die("open %s: %s", sock, nvkv_strerror(rc));
	return d;
}

/* ---- run: one workload phase ------------------------------------------------ */

static void *killer(void *arg)
{
	const struct opts *o = arg;
	struct timespec ts = { o->kill_after_us / 1000000, o->kill_after_us % 1000000 * 1000 };

	nanosleep(&ts, NULL);
	atomic_store(&killing, true);
	kill(o->kill_pid, SIGKILL);
	/* Nothing the device answers from now on can be acknowledged. */
	dprintf(2, "crash_client: killed the emulator after %ld us, %ld ops\n", o->kill_after_us,
		atomic_load(&ops_done));
	_exit(0);
	return NULL;
}

/* A command failed: expected once the emulator is being killed (the killer exits for us). */
static void op_failed(const char *what, uint32_t k, int rc)
{
	if (atomic_load(&killing))
		pause();
	die("%s %u: %s", what, k, nvkv_strerror(rc));
}

static void do_store(struct nvkv_dev *d, uint32_t k, uint32_t ver, uint32_t len, uint64_t *rng)
{
	static uint8_t val[VAL_MAX];
	static const enum nvkv_xfer xfers[] = { NVKV_XFER_DEFAULT, NVKV_XFER_PRP,
						NVKV_XFER_BANDSLIM, NVKV_XFER_BYTEEXPRESS };
	uint8_t key[KEY_LEN];
	int rc;

	make_key(k, key);
	make_value(k, ver, len, val);
	log_line("S %u %u\n", k, ver);
	rc = nvkv_store(d, key, KEY_LEN, val, len, NVKV_F_XFER(xfers[rng_next(rng) % 4]));
	if (rc)
		op_failed("store key", k, rc);
	log_line("s %u %u\n", k, ver);
}

static void do_delete(struct nvkv_dev *d, uint32_t k, uint32_t ver)
{
	uint8_t key[KEY_LEN];
	int rc;

	make_key(k, key);
	log_line("D %u %u\n", k, ver);
	rc = nvkv_delete(d, key, KEY_LEN);
	if (rc && rc != NVKV_KEY_NOT_EXIST)
		op_failed("delete key", k, rc);
	log_line("d %u %u\n", k, ver);
}

static void do_flush(struct nvkv_dev *d, uint32_t ver)
{
	int rc;

	log_line("F %u\n", ver);
	rc = nvkv_flush(d);
	if (rc)
		op_failed("flush, version", ver, rc);
	log_line("f %u\n", ver);
}

/*
 * The phases, on keys 0..nkeys-1: fill stores keys in order with small
 * values; overwrite stores random keys; delete mostly deletes; gc rewrites a
 * hot eighth of the keys with large values, so nearly every superblock turns
 * to garbage while the rest stays live and must be moved.
 */
static void one_op(struct nvkv_dev *d, const struct opts *o, uint32_t ver, uint64_t *rng)
{
	uint32_t n = o->nkeys;

	switch (o->phase) {
	case PH_FILL:
		do_store(d, ver % n, ver, rng_range(rng, HDR_LEN, 1024), rng);
		break;
	case PH_OVERWRITE:
		do_store(d, rng_range(rng, 0, n - 1), ver, rng_range(rng, HDR_LEN, 2048), rng);
		break;
	case PH_DELETE:
		if (rng_next(rng) % 10 < 7)
			do_delete(d, rng_range(rng, 0, n - 1), ver);
		else
			do_store(d, rng_range(rng, 0, n - 1), ver, rng_range(rng, HDR_LEN, 512),
				 rng);
		break;
	case PH_GC:
		do_store(d, rng_range(rng, 0, n / 8), ver, rng_range(rng, 1024, 6144), rng);
		break;
	}
}

static int run(const struct opts *o)
{
	struct state st;
	struct nvkv_dev *d;
	pthread_t t;
	uint64_t rng = o->seed * 0x9e3779b97f4a7c15ull + 1;
	uint32_t ver, i;
	char path[4096];

	state_load(o->dir, o->nkeys, &st);
	path_in(path, sizeof(path), o->dir, "log");
	log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (log_fd < 0)
		die("%s: %s", path, strerror(errno));
	d = open_dev(o->sock);
	/* Versions go on from the log too: several runs may precede a verify. */
	ver = st.next_ver;
	{
		FILE *f = fopen(path, "r");
		char line[96];
		unsigned int k, v;

		while (f && fgets(line, sizeof(line), f))
			if (sscanf(line + 1, " %u %u", &k, &v) == 2 && v >= ver)
				ver = v + 1;
		if (f)
			fclose(f);
	}
	if (o->kill_pid > 0 && pthread_create(&t, NULL, killer, (void *)o))
		die("pthread_create failed");
	for (i = 0; o->kill_pid > 0 || i < o->ops; i++, ver++) {
		if (o->vwc && rng_next(&rng) % 32 == 0)
			do_flush(d, ver++);
		one_op(d, o, ver, &rng);
		atomic_fetch_add(&ops_done, 1);
	}
	if (o->vwc)
		do_flush(d, ver++);
	nvkv_close(d);
	close(log_fd);
	free(st.ver);
	printf("run: %s, %u ops\n", phase_names[o->phase], i);
	return 0;
}

/* ---- verify ----------------------------------------------------------------- */

struct op {
	char kind; /* 'S' store, 'D' delete, 'F' flush */
	uint32_t key, ver;
	bool acked;
};

struct cands {
	uint32_t *v;
	uint32_t n, cap;
};

static void cand_add(struct cands *c, uint32_t ver)
{
	uint32_t i;

	for (i = 0; i < c->n; i++)
		if (c->v[i] == ver)
			return;
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 4;
		c->v = realloc(c->v, c->cap * sizeof(*c->v));
		if (!c->v)
			die("out of memory");
	}
	c->v[c->n++] = ver;
}

static bool cand_has(const struct cands *c, uint32_t ver)
{
	uint32_t i;

	for (i = 0; i < c->n; i++)
		if (c->v[i] == ver)
			return true;
	return false;
}

/* The log of this cycle as a list of operations in issue order. */
static struct op *log_load(const char *dir, uint32_t nkeys, size_t *nops)
{
	char path[4096], line[96];
	struct op *ops = NULL;
	size_t n = 0, cap = 0;
	unsigned int k, v;
	FILE *f;

	path_in(path, sizeof(path), dir, "log");
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f)) {
		char c = line[0];

		if (!strchr(line, '\n'))
			break; /* the last line, cut by the kill */
		if (c == 'F' || c == 'f') {
			k = 0;
			if (sscanf(line + 1, " %u", &v) != 1)
				die("%s: bad line '%s'", path, line);
		} else if (sscanf(line + 1, " %u %u", &k, &v) != 2 || k >= nkeys) {
			die("%s: bad line '%s'", path, line);
		}
		if (c == 'S' || c == 'D' || c == 'F') {
			if (n == cap) {
				cap = cap ? cap * 2 : 1024;
				ops = realloc(ops, cap * sizeof(*ops));
				if (!ops)
					die("out of memory");
			}
			ops[n++] = (struct op){ c, k, v, false };
		} else if (n && ops[n - 1].ver == v && ops[n - 1].key == k &&
			   ops[n - 1].kind == c - 'a' + 'A') {
			ops[n - 1].acked = true;
		} else {
			die("%s: acknowledgement '%s' without its command", path, line);
		}
	}
	if (f)
		fclose(f);
	*nops = n;
	return ops;
}

static uint32_t op_result(const struct op *op)
{
	return op->kind == 'S' ? op->ver : 0;
}

/*
 * The states each key may be in.  Durable point: write cache off, every
 * acknowledged operation; on, those issued before the last completed Flush
 * (and everything, after a clean shutdown).  Any later operation, acknowledged
 * or in flight, may or may not have reached the media.
 */
static void allowed_states(const struct state *st, const struct op *ops, size_t nops, bool vwc,
			   bool clean, struct cands *cand, uint32_t *in_doubt)
{
	size_t i, durable = 0;
	uint32_t *cur = malloc(st->nkeys * sizeof(*cur));

	if (!cur)
		die("out of memory");
	memcpy(cur, st->ver, st->nkeys * sizeof(*cur));
	for (i = 0; i < nops; i++) {
		bool covered = ops[i].kind == 'F' ? vwc && ops[i].acked : !vwc || clean;

		if (ops[i].acked && covered)
			durable = i + 1;
	}
	*in_doubt = 0;
	for (i = 0; i < nops; i++) {
		if (ops[i].kind == 'F')
			continue;
		if (i < durable && ops[i].acked) {
			cur[ops[i].key] = op_result(&ops[i]);
			continue;
		}
		if (i < durable)
			die("log: operation %zu unacknowledged before a later acknowledgement", i);
		cand_add(&cand[ops[i].key], op_result(&ops[i]));
		(*in_doubt)++;
	}
	for (i = 0; i < st->nkeys; i++)
		cand_add(&cand[i], cur[i]);
	free(cur);
}

static int fail_count;

static void fail(const char *fmt, ...)
{
	va_list ap;

	if (++fail_count > MAX_FAILS_SHOWN)
		return;
	va_start(ap, fmt);
	printf("FAIL: ");
	vprintf(fmt, ap);
	putchar('\n');
	va_end(ap);
}

static void describe(char *out, size_t len, const struct cands *c)
{
	size_t off = 0;
	uint32_t i;

	out[0] = 0;
	for (i = 0; i < c->n && off + 16 < len; i++) {
		if (c->v[i])
			off += (size_t)snprintf(out + off, len - off, "%sv%u", i ? " or " : "",
						c->v[i]);
		else
			off += (size_t)snprintf(out + off, len - off, "%sabsent", i ? " or " : "");
	}
}

/* Read every key; *@now receives what the device holds. */
static void read_all(struct nvkv_dev *d, const struct state *st, const struct cands *cand,
		     uint32_t *now)
{
	static uint8_t buf[VAL_MAX];
	uint8_t key[KEY_LEN];
	char want[256];
	uint32_t k;

	for (k = 0; k < st->nkeys; k++) {
		const char *why = NULL;
		size_t vlen = 0;
		int rc;

		make_key(k, key);
		rc = nvkv_retrieve(d, key, KEY_LEN, buf, sizeof(buf), &vlen);
		describe(want, sizeof(want), &cand[k]);
		now[k] = 0;
		if (rc == NVKV_KEY_NOT_EXIST) {
			now[k] = 0;
		} else if (rc) {
			fail("key %u: %s, want %s", k, nvkv_strerror(rc), want);
			now[k] = UINT32_MAX; /* unreadable */
			continue;
		} else {
			now[k] = check_value(k, buf, vlen, &why);
			if (!now[k]) {
				fail("key %u: %s (%zu bytes), want %s", k, why, vlen, want);
				now[k] = UINT32_MAX;
				continue;
			}
		}
		if (!cand_has(&cand[k], now[k]))
			fail("key %u: reads v%u (0 = absent), want %s", k, now[k], want);
	}
}

/* List returns exactly the keys that read back, in ascending order. */
static void check_list(struct nvkv_dev *d, const struct state *st, const uint32_t *now)
{
	struct nvkv_iter *it;
	const void *key;
	size_t klen;
	uint32_t k, listed = 0, present = 0;
	int64_t prev = -1;
	int rc;

	for (k = 0; k < st->nkeys; k++)
		present += now[k] != 0;
	rc = nvkv_iter_open(d, NULL, 0, &it);
	if (rc) {
		fail("list: %s", nvkv_strerror(rc));
		return;
	}
	while ((rc = nvkv_iter_next(it, &key, &klen)) == 1) {
		if (!parse_key(key, klen, &k) || k >= st->nkeys) {
			fail("list: a key nobody stored (%zu bytes)", klen);
			continue;
		}
		if ((int64_t)k <= prev)
			fail("list: key %u after key %" PRId64, k, prev);
		if (!now[k])
			fail("list: key %u listed but it does not read", k);
		prev = k;
		listed++;
	}
	if (rc < 0 || rc > 1)
		fail("list: %s", nvkv_strerror(rc));
	nvkv_iter_close(it);
	if (listed != present)
		fail("list: %u keys listed, %u read back", listed, present);
}

static int verify(const struct opts *o)
{
	struct state st;
	struct cands *cand;
	struct nvkv_dev *d;
	struct op *ops;
	size_t nops, i;
	uint32_t *now, in_doubt, present = 0, k;
	char path[4096];
	int rc;

	state_load(o->dir, o->nkeys, &st);
	ops = log_load(o->dir, o->nkeys, &nops);
	cand = calloc(o->nkeys, sizeof(*cand));
	now = calloc(o->nkeys, sizeof(*now));
	if (!cand || !now)
		die("out of memory");
	allowed_states(&st, ops, nops, o->vwc, o->clean, cand, &in_doubt);
	d = open_dev(o->sock);
	read_all(d, &st, cand, now);
	check_list(d, &st, now);
	for (k = 0; k < o->nkeys; k++)
		present += now[k] != 0;
	if (fail_count && !o->resync) {
		printf("verify: %u keys, %d failures (%u ops in this cycle, %u in doubt); state "
		       "and log kept in %s\n",
		       o->nkeys, fail_count, (unsigned int)nops, in_doubt, o->dir);
		nvkv_close(d);
		return 1;
	}
	if (fail_count) {
		char kept[4200];

		/* Go on from what the device holds: unreadable keys are deleted. */
		for (k = 0; k < o->nkeys; k++) {
			uint8_t key[KEY_LEN];

			if (now[k] != UINT32_MAX)
				continue;
			make_key(k, key);
			nvkv_delete(d, key, KEY_LEN);
			now[k] = 0;
		}
		path_in(path, sizeof(path), o->dir, "log");
		snprintf(kept, sizeof(kept), "%s.failed-%u", path, st.next_ver);
		if (rename(path, kept))
			die("rename %s: %s", path, strerror(errno));
		printf("verify: %u keys, %d failures (%u ops in this cycle, %u in doubt); log "
		       "kept as %s; going on from what the device holds\n",
		       o->nkeys, fail_count, (unsigned int)nops, in_doubt, kept);
	}
	/* What was read becomes the state the next cycle starts from: make it durable. */
	rc = nvkv_flush(d);
	if (rc)
		die("flush: %s", nvkv_strerror(rc));
	nvkv_close(d);
	for (i = 0; i < nops; i++)
		if (ops[i].ver >= st.next_ver)
			st.next_ver = ops[i].ver + 1;
	memcpy(st.ver, now, o->nkeys * sizeof(*now));
	state_save(o->dir, &st);
	path_in(path, sizeof(path), o->dir, "log");
	if (truncate(path, 0) && errno != ENOENT)
		die("%s: %s", path, strerror(errno));
	if (!fail_count)
		printf("verify: %u keys ok, %u present, %u ops in this cycle, %u in doubt\n",
		       o->nkeys, present, (unsigned int)nops, in_doubt);
	for (k = 0; k < o->nkeys; k++)
		free(cand[k].v);
	free(cand);
	free(now);
	free(ops);
	free(st.ver);
	return fail_count ? 1 : 0;
}

/* ---- command line ----------------------------------------------------------- */

static void usage(void)
{
	fputs("usage: crash_client run SOCKET DIR --phase fill|overwrite|delete|gc [--seed S]\n"
	      "                      [--keys N] [--vwc] (--ops N | --kill PID --after-us T)\n"
	      "       crash_client verify SOCKET DIR [--keys N] [--vwc] [--clean] [--resync]\n"
	      "--clean: the emulator was shut down cleanly, nothing acknowledged may be lost;\n"
	      "--resync: after failures, go on from what the device holds (unreadable keys\n"
	      "are deleted, the log kept as log.failed-N).\n"
	      "DIR holds the operation log (log) and the last verified state (state).\n"
	      "Exit: 0 ok, 1 verification failed, 2 error (including an unexpected status).\n",
	      stderr);
	exit(2);
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	int i;

	memset(o, 0, sizeof(*o));
	o->nkeys = 1500;
	o->seed = 1;
	if (argc < 4)
		usage();
	o->mode = argv[1];
	o->sock = argv[2];
	o->dir = argv[3];
	for (i = 4; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--vwc")) {
			o->vwc = true;
			continue;
		}
		if (!strcmp(a, "--clean")) {
			o->clean = true;
			continue;
		}
		if (!strcmp(a, "--resync")) {
			o->resync = true;
			continue;
		}
		if (!v)
			usage();
		i++;
		if (!strcmp(a, "--phase")) {
			for (o->phase = 0; o->phase < 4; o->phase++)
				if (!strcmp(v, phase_names[o->phase]))
					break;
			if (o->phase == 4)
				usage();
		} else if (!strcmp(a, "--seed")) {
			o->seed = strtoull(v, NULL, 0);
		} else if (!strcmp(a, "--keys")) {
			o->nkeys = (uint32_t)strtoul(v, NULL, 0);
		} else if (!strcmp(a, "--ops")) {
			o->ops = (uint32_t)strtoul(v, NULL, 0);
		} else if (!strcmp(a, "--kill")) {
			o->kill_pid = (pid_t)strtol(v, NULL, 0);
		} else if (!strcmp(a, "--after-us")) {
			o->kill_after_us = strtol(v, NULL, 0);
		} else {
			usage();
		}
	}
	if (o->nkeys < 16 || o->nkeys > 1000000)
		usage();
}

int main(int argc, char **argv)
{
	struct opts o;

	parse_args(argc, argv, &o);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(o.mode, "run"))
		return run(&o);
	if (!strcmp(o.mode, "verify"))
		return verify(&o);
	usage();
	return 2;
}
