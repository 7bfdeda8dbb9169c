/* SPDX-License-Identifier: MIT */
/* Helper threads of the emulator that must never take a signal. */
#ifndef EMU_THREAD_H
#define EMU_THREAD_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>

/*
 * Start @fn(@arg) with every signal blocked.  Helpers start while the device
 * opens, before the emulator blocks SIGINT and SIGTERM to read them from its
 * signalfd; a thread that left them open would be the one the kernel gives
 * them to, and the process died of SIGINT instead of closing cleanly.
 * Return: true when the thread runs.
 */
static inline bool emu_thread_start_quiet(pthread_t *th, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	bool ok;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ok = !pthread_create(th, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ok;
}

#endif /* EMU_THREAD_H */
