/* The tracer: the kernel side (loader) and the event pipeline, set up,
 * run and torn down together. `agent`, `trace exec` and `top` each hold
 * one; `agent` and `trace exec` also run its event loop. */
#ifndef PODSIGHT_TRACER_H
#define PODSIGHT_TRACER_H

struct tracer;
struct kernel_opts;
struct pipeline_opts;
struct pipeline;
struct loader;
struct output;
struct http;

/*
 * Blocks SIGINT, SIGTERM and SIGHUP (they wait for the loop's signalfd),
 * checks the kernel, raises the open files limit, mounts tracefs if it is
 * missing, finds the cgroup mounts, builds the pipeline from po (the cgroup
 * and io mounts, limits and node are filled in here), loads and attaches
 * the kernel side, then walks cgroups and /proc.
 * Logs what failed; 0 or a negative errno.
 */
int tracer__start(struct tracer **tp, const struct kernel_opts *k, struct pipeline_opts *po);
/* Frees the pipeline, then the loader: freeing the pipeline ends the
 * containers still running, whose last figures are read from the loader.
 * NULL is a no-op. */
void tracer__free(struct tracer *t);

struct pipeline *tracer__pipeline(const struct tracer *t);
struct loader *tracer__loader(const struct tracer *t);

/* Reads the live processes' usage into each running container (live_acct,
 * for run-queue delay, faults and storage bytes); keeps the kernel side's
 * set of containers' cgroups first. */
void tracer__live_acct(struct tracer *t);

/*
 * The event loop of `agent` and `trace exec`: the ring buffer (drained at
 * least every 50 ms), SIGHUP (reopens out), a 1 s upkeep (drop counters,
 * the pipeline's tick), http if not NULL, and out written after each turn.
 * 0 on SIGINT or SIGTERM (after a last drain) or when out's reader went
 * away; a negative errno, logged, when the loop cannot go on.
 */
int tracer__run(struct tracer *t, struct output *out, struct http *http);
/* Logs the run's totals: records, events, losses by reason. */
void tracer__report(struct tracer *t);

#endif
