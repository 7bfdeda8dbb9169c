/* SPDX-License-Identifier: MIT */
/*
 * The emulated device as the emulator hosts it: NAND media (memory or sparse
 * file), the LMDB catalog when persistent, the HAL that connects them to the
 * firmware (with the test-only fault injection of config.h), and the firmware
 * subsystem itself.
 */
#ifndef EMU_DEVICE_H
#define EMU_DEVICE_H

#include <stdbool.h>

#include "config.h"
#include "media.h"
#include "meta.h"
#include "regions.h"

struct emu_device {
	struct emu_media media;
	struct emu_meta meta;
	struct emu_regions regions; /* the firmware's mem_map */
	bool persistent;
	struct fw_hal hal;
	struct fw_subsys *sub;
	/* Test-only fault injection (emu_config.fault), armed after start-up. */
	struct emu_faults fault;
	bool fault_armed;
	uint64_t n_read, n_program, n_erase, n_catalog;
};

/* Monotonic clock, ns: the HAL clock of the emulator. */
uint64_t emu_now_ns(void);

/**
 * emu_device_open() - open media and catalog (creating a store if needed),
 * recover the device from them, or build an in-memory one.
 *
 * A store is refused, never silently reset: a NAND image with data but no
 * catalog, a catalog with data but no NAND image, a damaged catalog (see
 * meta.h) or value-log layout.
 * Return: 0, or a negative errno with the reason already logged: -EUCLEAN
 * (the store is damaged or inconsistent), -EXDEV (made with another NAND
 * geometry), -EBUSY (in use), others from the OS.
 */
int emu_device_open(struct emu_device *d, const struct emu_config *cfg);

/* Flush and close everything. */
void emu_device_close(struct emu_device *d);

#endif /* EMU_DEVICE_H */
