/* SPDX-License-Identifier: MIT */
/*
 * The emulator process: one firmware thread that owns the device, accepts
 * hosts on the unix socket (shared-memory transport, cmdset/shm.h), polls
 * their controllers while there is work and sleeps on an eventfd when idle.
 */
#ifndef EMU_SERVER_H
#define EMU_SERVER_H

#include "config.h"

/**
 * emu_run() - run the emulator until SIGINT/SIGTERM.
 * Return: 0 after a clean shutdown, or a negative errno with a message
 * already logged.
 */
int emu_run(const struct emu_config *cfg);

/* Logging for the emu component: level 0 err .. 3 debug. */
void emu_log(unsigned int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void emu_log_set_level(unsigned int level);

#endif /* EMU_SERVER_H */
