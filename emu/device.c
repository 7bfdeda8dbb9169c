// SPDX-License-Identifier: MIT
/* The emulated device: NAND media, catalog and firmware behind the HAL. */
#include "device.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "firmware/alloc.h"
#include "log.h"

uint64_t emu_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t hal_now(void *ctx)
{
	(void)ctx;
	return emu_now_ns();
}

/*
 * Count one operation of a kind and say whether an injected fault fails it:
 * the @at-th once, or every one from the @from-th on (see struct emu_faults).
 */
static bool inject(struct emu_device *e, const char *what, uint64_t *count, uint64_t at,
		   uint64_t from)
{
	uint64_t n;

	if (!e->fault_armed || (!at && !from))
		return false;
	n = ++*count;
	if (n != at && !(from && n >= from))
		return false;
	if (n == at || n == from)
		emu_log(1, "fault injection: %s %llu fails%s", what, (unsigned long long)n,
			n == from ? ", and every one after it" : "");
	return true;
}

static int hal_read(void *ctx, uint64_t ppn, uint32_t off, uint32_t len, void *buf)
{
	struct emu_device *e = ctx;

	if (inject(e, "NAND read", &e->n_read, e->fault.nand_read_at, e->fault.nand_read_from))
		return -EIO;
	return emu_media_read(&e->media, ppn, off, len, buf);
}

static void hal_prefetch(void *ctx, uint64_t ppn, uint32_t off, uint32_t len)
{
	struct emu_device *e = ctx;

	emu_media_prefetch(&e->media, ppn, off, len);
}

static void hal_expect(void *ctx, uint64_t block)
{
	struct emu_device *e = ctx;

	emu_media_expect(&e->media, block);
}

static int hal_program(void *ctx, uint64_t ppn, const void *buf)
{
	struct emu_device *e = ctx;

	if (inject(e, "NAND program", &e->n_program, e->fault.nand_program_at,
		   e->fault.nand_program_from))
		return -EIO;
	return emu_media_program(&e->media, ppn, buf);
}

static void *hal_mem_map(void *ctx, size_t len)
{
	return emu_regions_get(&((struct emu_device *)ctx)->regions, len);
}

static void hal_mem_unmap(void *ctx, void *p, size_t len)
{
	(void)ctx;
	emu_regions_put(p, len);
}

static int hal_stage(void *ctx, uint64_t ppn, const void *buf, size_t len)
{
	return emu_media_stage(&((struct emu_device *)ctx)->media, ppn, buf, len);
}

static int hal_erase(void *ctx, uint64_t block)
{
	struct emu_device *e = ctx;

	if (inject(e, "NAND erase", &e->n_erase, e->fault.nand_erase_at, e->fault.nand_erase_from))
		return -EIO;
	return emu_media_erase(&e->media, block);
}

/* An injected catalog fault: -EIO once, or -ENOSPC (LMDB's map full) for good. */
static int catalog_fault(struct emu_device *e)
{
	if (!inject(e, "catalog write", &e->n_catalog, e->fault.catalog_write_at,
		    e->fault.catalog_full_from))
		return 0;
	return e->n_catalog == e->fault.catalog_write_at ? -EIO : -ENOSPC;
}

static int hal_put(void *ctx, const void *k, size_t kl, const void *r, size_t rl)
{
	struct emu_device *e = ctx;
	int rc = catalog_fault(e);

	return rc ? rc : emu_meta_put(&e->meta, k, kl, r, rl);
}

static int hal_del(void *ctx, const void *k, size_t kl)
{
	struct emu_device *e = ctx;
	int rc = catalog_fault(e);

	return rc ? rc : emu_meta_del(&e->meta, k, kl);
}

static int hal_commit(void *ctx, int sync)
{
	struct emu_device *e = ctx;
	int rc = catalog_fault(e);

	/* Power-loss durability needs the NAND image on disk before the catalog. */
	if (!rc && sync)
		rc = emu_media_sync(&e->media);
	return rc ? rc : emu_meta_commit(&e->meta, sync);
}

static int hal_iterate(void *ctx, int (*fn)(void *, const void *, size_t, const void *, size_t),
		       void *arg)
{
	return emu_meta_iterate(&((struct emu_device *)ctx)->meta, fn, arg);
}

static int hal_set_blob(void *ctx, const char *n, const void *d, size_t l)
{
	struct emu_device *e = ctx;
	int rc = catalog_fault(e);

	return rc ? rc : emu_meta_set_blob(&e->meta, n, d, l);
}

static int hal_get_blob(void *ctx, const char *n, void *d, size_t l)
{
	return emu_meta_get_blob(&((struct emu_device *)ctx)->meta, n, d, l);
}

static void hal_log(void *ctx, int level, const char *msg)
{
	(void)ctx;
	emu_log(level <= FW_LOG_ERR    ? 0
		: level == FW_LOG_WARN ? 1
		: level == FW_LOG_INFO ? 2
				       : 3,
		"device: %s", msg);
}

enum nand_state {
	NAND_ABSENT,
	NAND_EMPTY, /* zero bytes */
	NAND_HOLES, /* sized, nothing ever written */
	NAND_DATA,
};

static enum nand_state probe_nand(const char *dir)
{
	char path[4200];
	struct stat st;
	enum nand_state ns;
	int fd;

	snprintf(path, sizeof(path), "%s/nand.img", dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? NAND_ABSENT : NAND_DATA;
	if (fstat(fd, &st) || st.st_size == 0)
		ns = NAND_EMPTY;
	else /* a file system without SEEK_DATA says "data at 0": the safe answer */
		ns = lseek(fd, 0, SEEK_DATA) < 0 && errno == ENXIO ? NAND_HOLES : NAND_DATA;
	close(fd);
	return ns;
}

static bool file_missing(const char *dir, const char *name)
{
	char path[4200];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &st) || st.st_size == 0;
}

/*
 * The NAND image and the catalog must belong together: an image with data
 * and no catalog (deleted, or truncated to nothing) would come up as an empty
 * device, a catalog without its image as a device of unreadable keys.  Never
 * start over either silently; the message says how to start afresh on purpose.
 * The first check runs before the catalog is opened, which would create one.
 */
static int check_pair(const char *dir, const struct emu_meta *meta, enum nand_state ns)
{
	if (!meta && ns == NAND_DATA && file_missing(dir, "data.mdb")) {
		emu_log(0,
			"%s/data.mdb: missing or empty, but %s/nand.img holds data: the catalog "
			"of this device is lost; refusing to start it empty (restore data.mdb, "
			"or remove the store directory to start a new device)",
			dir, dir);
		return -EUCLEAN;
	}
	if (meta && !meta->empty && (ns == NAND_ABSENT || ns == NAND_EMPTY)) {
		emu_log(0,
			"%s/nand.img: %s, but the catalog %s/data.mdb describes a device with "
			"data: refusing to start it (restore nand.img, or remove the store "
			"directory to start a new device)",
			dir, ns == NAND_ABSENT ? "missing" : "empty", dir);
		return -EUCLEAN;
	}
	return 0;
}

static void start_failed(const struct emu_config *cfg, int rc)
{
	if (rc == -EUCLEAN)
		emu_log(0, "%s/data.mdb: the catalog is damaged (see above); refusing to start",
			cfg->store);
	else if (rc == -EXDEV)
		emu_log(0,
			"%s: made with another NAND geometry or namespace split; start with the "
			"one it was made with",
			cfg->store);
	else
		emu_log(0, "cannot start the device%s%s: %s", *cfg->store ? " from " : "",
			cfg->store, strerror(-rc));
}

static int open_store(struct emu_device *e, const struct emu_config *cfg)
{
	enum nand_state ns = probe_nand(cfg->store);
	char err[512];
	int rc = check_pair(cfg->store, NULL, ns);

	if (rc)
		return rc;
	rc = emu_meta_open(&e->meta, cfg->store, cfg->lmdb_map_mb, err, sizeof(err));
	if (rc) {
		emu_log(0, "%s", err);
		return rc;
	}
	e->meta.journal_max = cfg->journal_mb << 20;
	return check_pair(cfg->store, &e->meta, ns);
}

/* From now on operations count for the test-only fault injection. */
static void arm_faults(struct emu_device *e, const struct emu_faults *f)
{
	e->fault = *f;
	e->fault_armed = true;
	e->media.writes = 0;
	e->media.fault.enospc_from = f->media_enospc_from;
	e->media.fault.short_write_at = f->media_short_write_at;
	if (f->alloc_from)
		fw_alloc_fail_after((long)f->alloc_from - 1);
}

int emu_device_open(struct emu_device *e, const struct emu_config *cfg)
{
	char err[512];
	int rc = 0;

	memset(e, 0, sizeof(*e));
	e->media.fd = -1;
	e->meta.lock_fd = -1;
	emu_regions_init(&e->regions);
	e->persistent = *cfg->store != 0;
	if (e->persistent && mkdir(cfg->store, 0755) && errno != EEXIST) {
		emu_log(0, "%s: %s", cfg->store, strerror(errno));
		return -errno;
	}
	if (e->persistent)
		rc = open_store(e, cfg);
	if (rc)
		return rc;
	rc = emu_media_open(&e->media, cfg->store, &cfg->fw.geo, err, sizeof(err));
	if (rc) {
		emu_log(0, "%s", err);
		return rc;
	}
	if (cfg->media_prefault && !e->persistent) {
		rc = emu_media_prefault(&e->media);
		if (rc) /* not fatal: memory is then taken at each block's first write */
			emu_log(1, "emu.media_prefault: cannot take %zu MiB now: %s",
				e->media.size >> 20, strerror(-rc));
		else
			emu_log(2, "NAND memory taken: %zu MiB", e->media.size >> 20);
	}
	e->hal = (struct fw_hal){ .ctx = e,
				  .now_ns = hal_now,
				  .nand_read = hal_read,
				  .nand_prefetch = hal_prefetch,
				  .nand_program = hal_program,
				  .nand_stage = hal_stage,
				  .nand_erase = hal_erase,
				  .nand_expect = hal_expect,
				  .mem_map = hal_mem_map,
				  .mem_unmap = hal_mem_unmap,
				  .log = hal_log };
	if (e->persistent) {
		e->hal.meta_put = hal_put;
		e->hal.meta_del = hal_del;
		e->hal.meta_commit = hal_commit;
		e->hal.meta_iterate = hal_iterate;
		e->hal.meta_set_blob = hal_set_blob;
		e->hal.meta_get_blob = hal_get_blob;
	}
	rc = fw_subsys_create(&cfg->fw, &e->hal, &e->sub);
	if (rc) {
		start_failed(cfg, rc);
		return rc;
	}
	arm_faults(e, &cfg->fault);
	return 0;
}

void emu_device_close(struct emu_device *e)
{
	if (e->sub)
		fw_subsys_destroy(e->sub); /* flushes */
	e->sub = NULL;
	emu_regions_fini(&e->regions); /* the index gave its regions back above */
	if (e->persistent)
		emu_meta_close(&e->meta);
	emu_media_close(&e->media);
}
