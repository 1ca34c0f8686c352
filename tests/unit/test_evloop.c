/* The event loop: handlers of readable descriptors, timers that fire
 * whatever else is ready, the hooks around each wait, and stopping. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "evloop.h"

struct counts {
	int fd_calls, timer_calls, fast_calls, wake_calls, wait_calls;
	int stop_after_timer, stop_after_fd;
	int last_limit;
	int fd_calls_at_timer;
	char log[64];
	size_t nlog;
};

static void note(struct counts *c, char what)
{
	if (c->nlog < sizeof(c->log) - 1)
		c->log[c->nlog++] = what;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Reads nothing: the descriptor stays readable, as a busy client's does. */
static void on_busy_fd(struct evloop *el, int fd, void *ctx)
{
	struct counts *c = ctx;

	c->fd_calls++;
	note(c, 'f');
	if (c->stop_after_fd && c->fd_calls >= c->stop_after_fd)
		evloop__stop(el);
}

static void on_timer(struct evloop *el, void *ctx)
{
	struct counts *c = ctx;

	if (!c->timer_calls++)
		c->fd_calls_at_timer = c->fd_calls;
	note(c, 't');
	if (c->stop_after_timer && c->timer_calls >= c->stop_after_timer)
		evloop__stop(el);
}

static void on_fast_timer(struct evloop *el, void *ctx)
{
	struct counts *c = ctx;

	c->fast_calls++;
}

static void on_wake(struct evloop *el, void *ctx)
{
	struct counts *c = ctx;

	c->wake_calls++;
	note(c, 'w');
}

static int before_wait(struct evloop *el, void *ctx)
{
	struct counts *c = ctx;

	c->wait_calls++;
	note(c, 'b');
	return c->last_limit;
}

static void test_fd_handler_and_stop(void **state)
{
	struct counts c = { .stop_after_fd = 3, .last_limit = -1 };
	struct evloop *el = evloop__new();
	int p[2];

	assert_non_null(el);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(evloop__add_fd(el, p[0], on_busy_fd, &c), 0);
	evloop__set_before_wait(el, before_wait, &c);
	evloop__set_wake(el, on_wake, &c);
	assert_int_equal(evloop__run(el), 0);
	assert_int_equal(c.fd_calls, 3);
	/* each turn: before-wait, wake, then the descriptor; a stop ends
	 * the turn at once */
	assert_string_equal(c.log, "bwfbwfbwf");
	/* a stopped loop runs again */
	c.stop_after_fd = 4;
	c.nlog = 0;
	memset(c.log, 0, sizeof(c.log));
	assert_int_equal(evloop__run(el), 0);
	assert_string_equal(c.log, "bwf");
	evloop__free(el);
	close(p[0]);
	close(p[1]);
}

/* A descriptor that is always ready does not hold a timer back, and the
 * timer runs before the descriptors of its turn. */
static void test_timer_fires_while_busy(void **state)
{
	struct counts c = { .stop_after_timer = 2, .last_limit = -1 };
	struct evloop *el = evloop__new();
	uint64_t t0 = now_ms(), took;
	int p[2];

	assert_non_null(el);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(evloop__add_timer(el, 30, on_timer, &c), 0);
	assert_int_equal(evloop__add_fd(el, p[0], on_busy_fd, &c), 0);
	assert_int_equal(evloop__run(el), 0);
	took = now_ms() - t0;
	assert_int_equal(c.timer_calls, 2);
	assert_true(took >= 60);
	assert_true(took < 2000);
	assert_true(c.fd_calls > 2);
	assert_true(c.fd_calls_at_timer > 0);	/* the fd ran before the deadline */
	evloop__free(el);
	close(p[0]);
	close(p[1]);
}

/* With nothing readable the loop sleeps until the next timer, and the
 * before-wait hook's bound shortens the sleep. */
static void test_timers_and_wait_bound(void **state)
{
	struct counts c = { .stop_after_timer = 1, .last_limit = -1 };
	struct evloop *el = evloop__new();
	uint64_t t0 = now_ms(), took;

	assert_non_null(el);
	assert_int_equal(evloop__add_timer(el, 100, on_timer, &c), 0);
	assert_int_equal(evloop__add_timer(el, 10, on_fast_timer, &c), 0);
	evloop__set_before_wait(el, before_wait, &c);
	assert_int_equal(evloop__run(el), 0);
	took = now_ms() - t0;
	assert_int_equal(c.timer_calls, 1);
	assert_true(took >= 100);
	assert_true(c.fast_calls >= 5);
	assert_true(c.fast_calls <= 10);
	assert_true(c.wait_calls >= c.fast_calls);

	/* a bound of 5 ms: about 20 turns in the next 100 ms */
	c = (struct counts){ .stop_after_timer = 2, .last_limit = 5 };
	assert_int_equal(evloop__run(el), 0);
	assert_true(c.wait_calls >= 10);
	evloop__free(el);
}

static void test_stop_before_wait(void **state)
{
	struct counts c = { .last_limit = -1 };
	struct evloop *el = evloop__new();

	assert_non_null(el);
	evloop__set_before_wait(el, before_wait, &c);
	evloop__stop(el);	/* a stop before run is forgotten: run starts anew */
	c.stop_after_timer = 1;
	assert_int_equal(evloop__add_timer(el, 1, on_timer, &c), 0);
	assert_int_equal(evloop__run(el), 0);
	assert_int_equal(c.timer_calls, 1);
	evloop__free(el);
	evloop__free(NULL);
}

static void test_bad_fd(void **state)
{
	struct counts c = { 0 };
	struct evloop *el = evloop__new();

	assert_non_null(el);
	assert_int_equal(evloop__add_fd(el, -1, on_busy_fd, &c), -EBADF);
	evloop__free(el);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fd_handler_and_stop),
		cmocka_unit_test(test_timer_fires_while_busy),
		cmocka_unit_test(test_timers_and_wait_bound),
		cmocka_unit_test(test_stop_before_wait),
		cmocka_unit_test(test_bad_fd),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
