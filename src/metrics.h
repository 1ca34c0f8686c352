/* /metrics: per-container figures and the agent's own health, in the
 * Prometheus text format. docs/metrics.md lists every series. */
#ifndef PODSIGHT_METRICS_H
#define PODSIGHT_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "cgroupfs.h"
#include "process.h"
#include "prom.h"

struct pipeline;

struct metrics_health {
	uint64_t drops[PS_DROP__MAX];
	struct {
		const char *name;
		bool attached;
	} progs[32];	/* LOADER_MAX_PROGS */
	size_t nprogs;
	double self_cpu_seconds;
	uint64_t self_rss_bytes;
	uint64_t http_requests;
	uint64_t output_lost;	/* events the output could not write (output__lost) */
	size_t max_series;	/* per-container series at most; 0: METRICS_MAX_SERIES */
};

/* Per-container series a scrape holds at most (some 10 MiB with Kubernetes
 * labels; the exposition is capped at PROM_BUF_DEFAULT_MAX_SIZE): past it,
 * the finished containers that ended longest ago are left out first, then
 * running ones, whole, and podsight_series_dropped says how many series. */
#define METRICS_MAX_SERIES 50000

/* A family of the exposition, as docs/metrics.md documents it. */
struct metrics_family {
	const char *name;
	enum prom_type type;
	const char *help;
	const char *label;	/* a label of its own (beside the container's), or NULL */
	bool agent;		/* the agent's own series, else one or more per container */
};

/* The i-th family metrics__render() writes, in the exposition's order;
 * NULL past the last. Every family it writes is one of them. */
const struct metrics_family *metrics__family(size_t i);

/* Renders the whole exposition into a malloc'd *body. Rows with the same
 * labels are folded into one series. The agent's own series are always
 * there; containers are left out over h->max_series or the size cap.
 * 0 or -errno. */
int metrics__render(struct pipeline *p, const struct cgfs *fs, const struct metrics_health *h,
		    char **body, size_t *len);

#endif
