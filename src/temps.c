/*
 * The named temporaries this process has made and not yet put in place,
 * so that a caught signal (SIGINT, SIGTERM, SIGHUP, SIGPIPE) can remove
 * them before the process dies: mapcp_remove_temps() runs in a signal
 * handler, so everything it touches is a fixed table of atomics and it
 * calls only unlinkat(2) and nanosleep(2), both async-signal-safe.
 *
 * A slot goes FREE -> FILLING (its name being written) -> CREATING (the
 * name is whole; the file may exist) -> LIVE -> FREE. The handler waits a
 * little for slots that are FILLING or CREATING in another thread, then
 * removes every CREATING or LIVE name; a thread that asks for a slot
 * after the handler began never gets one, and waits to die.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core.h"

#define SLOTS 1024

enum { FREE, FILLING, CREATING, LIVE };

static struct {
	atomic_int state;
	int dirfd;
	char name[NAME_MAX + 1];
} slots[SLOTS];
static atomic_bool dying;

/* A signal is being handled: make nothing more; the process is ending. */
static void
wait_to_die(void)
{
	for (;;)
		pause();
}

void
temp_dying_wait(void)
{
	if (atomic_load(&dying))
		wait_to_die();
}

int
temp_track(int dirfd, const char *name)
{
	if (atomic_load(&dying))
		wait_to_die();
	if (strlen(name) > NAME_MAX)
		return 0;
	for (int i = 0; i < SLOTS; i++) {
		int expect = FREE;

		if (!atomic_compare_exchange_strong(&slots[i].state, &expect,
						    FILLING))
			continue;
		slots[i].dirfd = dirfd;
		memcpy(slots[i].name, name, strlen(name) + 1);
		atomic_store(&slots[i].state, CREATING);
		return i + 1;
	}
	return 0; /* untracked: a signal may leave this one */
}

void
temp_made(int handle)
{
	if (handle > 0)
		atomic_store(&slots[handle - 1].state, LIVE);
}

void
temp_untrack(int handle)
{
	if (handle > 0)
		atomic_store(&slots[handle - 1].state, FREE);
}

void
mapcp_remove_temps(void)
{
	struct timespec ms = { 0, 1000000 };
	int waited = 0;

	atomic_store(&dying, true);
	for (int i = 0; i < SLOTS; i++) {
		int st;

		/* Another thread between two steps: 200 ms for them all. */
		while (((st = atomic_load(&slots[i].state)) == FILLING ||
			st == CREATING) &&
		       waited < 200) {
			nanosleep(&ms, NULL);
			waited++;
		}
		if (st == CREATING || st == LIVE)
			(void)unlinkat(slots[i].dirfd, slots[i].name, 0);
	}
}
