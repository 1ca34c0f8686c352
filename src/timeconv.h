/* Kernel boot-clock nanoseconds to wall-clock time. */
#ifndef PODSIGHT_TIMECONV_H
#define PODSIGHT_TIMECONV_H

#include <stddef.h>
#include <stdint.h>

struct timeconv {
	int64_t boot_to_real_ns;	/* CLOCK_REALTIME - CLOCK_BOOTTIME */
	long clk_tck;			/* USER_HZ, for /proc start times */
	int synced;
};

/* Samples both clocks; call again now and then to follow clock steps. The
 * offset moves only when it changed by 1 ms or more (a step, or slewing
 * that added up): the same boot time gives the same wall time from one
 * sample to the next, so that events naming one process agree on its
 * start time to the nanosecond. */
void timeconv__sync(struct timeconv *tc);
uint64_t timeconv__real_ns(const struct timeconv *tc, uint64_t boot_ns);
/* RFC 3339, UTC, nanoseconds: "2026-11-27T00:56:16.123456789Z" (30 bytes + NUL). */
#define TIMECONV_RFC3339_LEN 40
void timeconv__rfc3339(uint64_t real_ns, char out[TIMECONV_RFC3339_LEN]);
/* /proc/<pid>/stat field 22 (clock ticks since boot) -> nanoseconds. */
uint64_t timeconv__ticks_to_ns(const struct timeconv *tc, uint64_t ticks);
/* CLOCK_MONOTONIC now, in nanoseconds: for timeouts and intervals. */
uint64_t timeconv__mono_ns(void);

#endif
