/* SPDX-License-Identifier: MIT */
/*
 * The emulator's log: one line per event on stderr, with a wall-clock stamp
 * and a level.  Every module of emu/ logs through it, so it depends on none
 * of them.
 */
#ifndef EMU_LOG_H
#define EMU_LOG_H

/* Logging for the emu component: level 0 err .. 3 debug. */
void emu_log(unsigned int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void emu_log_set_level(unsigned int level);

#endif /* EMU_LOG_H */
