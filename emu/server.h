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

#endif /* EMU_SERVER_H */
