/* A small single-threaded event loop, after redis' ae: descriptors with a
 * handler each, repeating timers, and two hooks around each wait. The loop
 * never knows what a descriptor means; the agent and `top` both run on it.
 *
 * One turn of evloop__run():
 *   1. the before-wait hook (it may stop the loop, and may shorten the wait)
 *   2. wait until a descriptor is readable or the next timer is due
 *   3. the wake hook
 *   4. every timer that is due, whatever else is ready
 *   5. the handler of each readable descriptor
 * evloop__stop() ends the run as soon as the handler or hook that called it
 * returns: nothing else of that turn runs. */
#ifndef PODSIGHT_EVLOOP_H
#define PODSIGHT_EVLOOP_H

struct evloop;

typedef void (*evloop_fd_fn)(struct evloop *el, int fd, void *ctx);
typedef void (*evloop_timer_fn)(struct evloop *el, void *ctx);
typedef void (*evloop_wake_fn)(struct evloop *el, void *ctx);
/* Returns the longest the coming wait may last, in ms; -1 for no bound
 * beyond the timers'. */
typedef int (*evloop_wait_fn)(struct evloop *el, void *ctx);

/* NULL with errno set on failure. */
struct evloop *evloop__new(void);
/* Closes the loop's own epoll descriptor, not the ones added; NULL is a
 * no-op. */
void evloop__free(struct evloop *el);

/* Calls fn when fd is readable (level-triggered: until it is drained). */
int evloop__add_fd(struct evloop *el, int fd, evloop_fd_fn fn, void *ctx);
/* Calls fn every ms milliseconds, the first time ms after this call; each
 * next time is counted from when fn was called, so that a late turn does
 * not bring the next one closer. */
int evloop__add_timer(struct evloop *el, unsigned int ms, evloop_timer_fn fn, void *ctx);
void evloop__set_before_wait(struct evloop *el, evloop_wait_fn fn, void *ctx);
void evloop__set_wake(struct evloop *el, evloop_wake_fn fn, void *ctx);

/* Runs turns until evloop__stop(): 0 then, or a negative errno when
 * waiting failed. */
int evloop__run(struct evloop *el);
void evloop__stop(struct evloop *el);

#endif
