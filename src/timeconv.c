// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "timeconv.h"

static int64_t ns_of(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void timeconv__sync(struct timeconv *tc)
{
	int64_t best = INT64_MAX, off = 0;
	int i;

	/* Take the sample whose bracketing boot-clock reads were closest. */
	for (i = 0; i < 3; i++) {
		int64_t b0 = ns_of(CLOCK_BOOTTIME), r = ns_of(CLOCK_REALTIME), b1 = ns_of(CLOCK_BOOTTIME);

		if (b1 - b0 < best) {
			best = b1 - b0;
			off = r - (b0 + (b1 - b0) / 2);
		}
	}
	/* a sample's jitter (tens of ns) must not move every conversion */
	if (!tc->synced || off - tc->boot_to_real_ns >= 1000000 || tc->boot_to_real_ns - off >= 1000000)
		tc->boot_to_real_ns = off;
	tc->synced = 1;
	tc->clk_tck = sysconf(_SC_CLK_TCK);
	if (tc->clk_tck <= 0)
		tc->clk_tck = 100;
}

uint64_t timeconv__real_ns(const struct timeconv *tc, uint64_t boot_ns)
{
	/* modulo 2^64, as unsigned: a boot time no kernel gives cannot
	 * overflow a signed sum */
	return boot_ns + (uint64_t)tc->boot_to_real_ns;
}

static void put2(char *p, int v)
{
	p[0] = (char)('0' + v / 10 % 10);
	p[1] = (char)('0' + v % 10);
}

void timeconv__rfc3339(uint64_t real_ns, char out[TIMECONV_RFC3339_LEN])
{
	/* Hot path (two calls per event, the event's time and its process'
	 * start, often in different seconds): the date and time of day
	 * change once a second, so the last two are kept formatted. */
	static __thread uint64_t cached_sec[2] = { UINT64_MAX, UINT64_MAX };
	static __thread char cached[2][20];	/* "2026-11-27T00:56:16." */
	static __thread unsigned int next;
	uint64_t sec = real_ns / 1000000000, frac = real_ns % 1000000000;
	unsigned int slot;
	int i;

	if (sec == cached_sec[0]) {
		slot = 0;
	} else if (sec == cached_sec[1]) {
		slot = 1;
	} else {
		time_t t = (time_t)sec;
		struct tm tm;
		char *c;
		int year;

		slot = next;
		next ^= 1;
		c = cached[slot];
		gmtime_r(&t, &tm);
		year = (tm.tm_year + 1900) % 10000;
		put2(c, year / 100);
		put2(c + 2, year % 100);
		c[4] = '-';
		put2(c + 5, tm.tm_mon + 1);
		c[7] = '-';
		put2(c + 8, tm.tm_mday);
		c[10] = 'T';
		put2(c + 11, tm.tm_hour);
		c[13] = ':';
		put2(c + 14, tm.tm_min);
		c[16] = ':';
		put2(c + 17, tm.tm_sec);
		c[19] = '.';
		cached_sec[slot] = sec;
	}
	memcpy(out, cached[slot], 20);
	for (i = 28; i >= 20; i--) {
		out[i] = (char)('0' + frac % 10);
		frac /= 10;
	}
	out[29] = 'Z';
	out[30] = 0;
}

uint64_t timeconv__ticks_to_ns(const struct timeconv *tc, uint64_t ticks)
{
	return ticks * (1000000000ull / (uint64_t)tc->clk_tck);
}

uint64_t timeconv__mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
