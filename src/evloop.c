// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The event loop: one epoll for the descriptors, timers kept as deadlines
 * on the monotonic clock (a handful of them: a list is enough). */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include "evloop.h"

#define EVLOOP_MAX_EVENTS 8

struct evloop_fd {
	int fd;
	evloop_fd_fn fn;
	void *ctx;
};

struct evloop_timer {
	uint64_t due_ms;
	unsigned int ms;
	evloop_timer_fn fn;
	void *ctx;
};

struct evloop {
	int ep;
	bool stop;
	/* epoll_event.data holds an index here: the array may move as
	 * descriptors are added from a handler */
	struct evloop_fd *fds;
	size_t nfds;
	struct evloop_timer *timers;
	size_t ntimers;
	evloop_wait_fn before_wait;
	void *before_wait_ctx;
	evloop_wake_fn wake;
	void *wake_ctx;
};

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct evloop *evloop__new(void)
{
	struct evloop *el = calloc(1, sizeof(*el));

	if (!el)
		return NULL;
	el->ep = epoll_create1(EPOLL_CLOEXEC);
	if (el->ep < 0) {
		int err = errno;

		free(el);
		errno = err;
		return NULL;
	}
	return el;
}

void evloop__free(struct evloop *el)
{
	if (!el)
		return;
	close(el->ep);
	free(el->fds);
	free(el->timers);
	free(el);
}

int evloop__add_fd(struct evloop *el, int fd, evloop_fd_fn fn, void *ctx)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct evloop_fd *n;

	n = realloc(el->fds, (el->nfds + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	el->fds = n;
	ev.data.u64 = el->nfds;
	if (epoll_ctl(el->ep, EPOLL_CTL_ADD, fd, &ev) != 0)
		return -errno;
	n[el->nfds++] = (struct evloop_fd){ .fd = fd, .fn = fn, .ctx = ctx };
	return 0;
}

int evloop__add_timer(struct evloop *el, unsigned int ms, evloop_timer_fn fn, void *ctx)
{
	struct evloop_timer *n;

	n = realloc(el->timers, (el->ntimers + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	el->timers = n;
	n[el->ntimers++] = (struct evloop_timer){
		.due_ms = mono_ms() + ms, .ms = ms, .fn = fn, .ctx = ctx,
	};
	return 0;
}

void evloop__set_before_wait(struct evloop *el, evloop_wait_fn fn, void *ctx)
{
	el->before_wait = fn;
	el->before_wait_ctx = ctx;
}

void evloop__set_wake(struct evloop *el, evloop_wake_fn fn, void *ctx)
{
	el->wake = fn;
	el->wake_ctx = ctx;
}

void evloop__stop(struct evloop *el)
{
	el->stop = true;
}

/* The wait until the first timer is due, shortened to limit (>= 0). */
static int wait_ms(const struct evloop *el, int limit)
{
	uint64_t now = mono_ms();
	size_t i;
	int ms = limit;

	for (i = 0; i < el->ntimers; i++) {
		uint64_t due = el->timers[i].due_ms;
		int left = due <= now ? 0 : due - now > INT_MAX ? INT_MAX : (int)(due - now);

		if (ms < 0 || left < ms)
			ms = left;
	}
	return ms;
}

int evloop__run(struct evloop *el)
{
	struct epoll_event evs[EVLOOP_MAX_EVENTS];
	size_t i;
	int n, k;

	el->stop = false;
	for (;;) {
		int limit = el->before_wait ? el->before_wait(el, el->before_wait_ctx) : -1;
		uint64_t now;

		if (el->stop)
			return 0;
		n = epoll_wait(el->ep, evs, EVLOOP_MAX_EVENTS, wait_ms(el, limit));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (el->wake) {
			el->wake(el, el->wake_ctx);
			if (el->stop)
				return 0;
		}
		/* Timers before descriptors: one that is always ready (a
		 * client sending a byte at a time) cannot hold them back. */
		now = mono_ms();
		for (i = 0; i < el->ntimers; i++) {
			struct evloop_timer *t = &el->timers[i];

			if (now < t->due_ms)
				continue;
			t->due_ms = now + t->ms;
			t->fn(el, t->ctx);
			if (el->stop)
				return 0;
		}
		for (k = 0; k < n; k++) {
			const struct evloop_fd *f = &el->fds[evs[k].data.u64];

			f->fn(el, f->fd, f->ctx);
			if (el->stop)
				return 0;
		}
	}
}
