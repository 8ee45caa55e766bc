/*
 * Copies between file mappings that survive SIGBUS. Touching a mapped page
 * past the end of a file that shrank, or a destination page the filesystem
 * cannot back (no space, I/O error), raises SIGBUS; the exercise's mmap_cp
 * dies of it. Here a handler (sigaction, SA_SIGINFO) checks that the fault
 * lies inside the window this thread is copying and siglongjmp()s back to
 * guard_memcpy(), which returns a code instead. A SIGBUS anywhere else is
 * passed to the handler that was there before us, or kills as it would have.
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>

#include "core.h"

struct guard {
	sigjmp_buf env;
	uintptr_t src_lo, src_hi;
	uintptr_t dst_lo, dst_hi;
	volatile sig_atomic_t armed;
	volatile sig_atomic_t fault;
};

static _Thread_local struct guard *active;
static struct sigaction previous;

static void
on_sigbus(int sig, siginfo_t *info, void *ctx)
{
	struct guard *g = active;
	uintptr_t addr = (uintptr_t)info->si_addr;

	if (g != NULL && g->armed) {
		if (addr >= g->src_lo && addr < g->src_hi)
			g->fault = GUARD_SRC;
		else if (addr >= g->dst_lo && addr < g->dst_hi)
			g->fault = GUARD_DST;
		if (g->fault != GUARD_OK) {
			g->armed = 0;
			siglongjmp(g->env, 1);
		}
	}
	/* Not ours: behave as if we had never installed a handler. */
	if ((previous.sa_flags & SA_SIGINFO) && previous.sa_sigaction != NULL) {
		previous.sa_sigaction(sig, info, ctx);
		return;
	}
	if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN &&
	    previous.sa_handler != NULL) {
		previous.sa_handler(sig);
		return;
	}
	/* Returning re-executes the access, which now kills with SIGBUS. */
	signal(SIGBUS, SIG_DFL);
}

/*
 * Install on_sigbus unless it is still in place. Checked on every copy, not
 * once, because a program embedding mapcp (or cmocka, running our tests)
 * may have put its own handler in since; we then chain to that one.
 */
static void
install(void)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	struct sigaction sa, cur;

	if (sigaction(SIGBUS, NULL, &cur) == 0 && (cur.sa_flags & SA_SIGINFO) &&
	    cur.sa_sigaction == on_sigbus)
		return;
	pthread_mutex_lock(&lock);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, &cur) == 0 &&
	    !((cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == on_sigbus))
		previous = cur;
	pthread_mutex_unlock(&lock);
}

enum guard_fault
guard_memcpy(void *dst, const void *src, size_t n)
{
	struct guard g;

	install();
	memset(&g, 0, sizeof(g));
	g.src_lo = (uintptr_t)src;
	g.src_hi = g.src_lo + n;
	g.dst_lo = (uintptr_t)dst;
	g.dst_hi = g.dst_lo + n;
	active = &g;
	if (sigsetjmp(g.env, 1) == 0) {
		g.armed = 1;
		memcpy(dst, src, n);
		g.armed = 0;
	}
	active = NULL;
	return (enum guard_fault)g.fault;
}
