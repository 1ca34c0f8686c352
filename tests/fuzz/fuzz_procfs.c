// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer target for the /proc parsers (stat, status, net/dev) and the
 * argv display:
 *   make build/fuzz/fuzz_procfs && build/fuzz/fuzz_procfs -max_total_time=60
 * Besides memory errors it aborts when a documented promise breaks.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "argv.h"
#include "netdev.h"
#include "procfs.h"

#define CHECK(c)                       \
	do {                           \
		if (!(c))              \
			abort();       \
	} while (0)

static void fuzz_stat(const char *d, size_t n)
{
	struct procfs_stat st;
	int err = procfs_parse_stat(d, n, &st);

	CHECK(err == 0 || err == -EINVAL || err == -ERANGE);
	if (err) {
		CHECK(st.pid == 0 && st.comm_len == 0);
		return;
	}
	CHECK(st.pid > 0 && st.ppid >= 0 && st.num_threads >= 0);
	CHECK(st.comm_len < sizeof(st.comm) && st.comm[st.comm_len] == 0);
	CHECK((st.state >= 'A' && st.state <= 'Z') || (st.state >= 'a' && st.state <= 'z'));
}

static void fuzz_status(const char *d, size_t n)
{
	struct procfs_status st;
	int err = procfs_parse_status(d, n, &st);

	CHECK(err == 0 || err == -EINVAL || err == -ERANGE);
	if (!err)
		CHECK(st.tgid > 0 && st.ppid >= 0 && st.nspid_levels >= 0);
}

static void fuzz_argv(const char *d, size_t n)
{
	static const size_t sizes[] = { 0, 1, 2, 3, 4, 5, 8, 17, 80, 4096 };
	static char out[4097];
	struct argv_list l;
	size_t need, first = 0, i, sz, k;
	int rc;

	if (argv_split(d, n, &l))
		return;
	for (i = 0, k = 0; i < l.argc; i++) {
		CHECK(l.argv[i] >= d && l.argv[i] + l.lens[i] <= d + n);
		k += l.lens[i];
	}
	CHECK(k + l.argc - (l.unterminated ? 1 : 0) == n);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		sz = sizes[i];
		memset(out, 'Z', sizeof(out));
		rc = argv_join_display(&l, sz ? out : NULL, sz, &need);
		CHECK(rc == (need < sz ? 0 : 1));
		if (i == 0)
			first = need;
		CHECK(need == first);
		if (sz) {
			CHECK(strlen(out) < sz);
			CHECK(out[sz] == 'Z');
		}
	}
	argv_list_free(&l);
}

static void fuzz_netdev(const char *d, size_t n)
{
	static struct netdev_stats st;
	int err = netdev_parse(d, n, &st);
	size_t i, l;

	CHECK(err == 0 || err == -EINVAL || err == -ERANGE);
	if (err) {
		CHECK(st.n == 0 && st.left_out == 0);
		return;
	}
	CHECK(st.n <= NETDEV_MAX_IFACES);
	for (i = 0; i < st.n; i++) {
		l = strnlen(st.ifs[i].name, sizeof(st.ifs[i].name));
		CHECK(l >= 1 && l <= 15 && strcmp(st.ifs[i].name, "lo"));
		CHECK(!strpbrk(st.ifs[i].name, " :/\n"));
		for (size_t j = 0; j < i; j++)
			CHECK(strcmp(st.ifs[i].name, st.ifs[j].name));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *d = (const char *)data;

	fuzz_stat(d, size);
	fuzz_status(d, size);
	fuzz_argv(d, size);
	fuzz_netdev(d, size);
	return 0;
}
