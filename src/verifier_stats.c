// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The verifier's statistics per BPF program, parsed and written as JSON. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "json_writer.h"
#include "verifier_stats.h"

/* The number after prefix at the start of a line of log, or -1. */
static int64_t line_number(const char *log, const char *prefix)
{
	size_t plen = strlen(prefix);
	const char *s = log;

	while (s && *s) {
		if (!strncmp(s, prefix, plen)) {
			char *end;
			unsigned long long v;

			errno = 0;
			v = strtoull(s + plen, &end, 10);
			if (end != s + plen && !errno && v <= INT64_MAX)
				return (int64_t)v;
		}
		s = strchr(s, '\n');
		if (s)
			s++;
	}
	return -1;
}

void vstats_parse_log(const char *log, int64_t *insns, int64_t *verify_us)
{
	*insns = log ? line_number(log, "processed ") : -1;
	*verify_us = log ? line_number(log, "verification time ") : -1;
}

void vstats_choose(struct vstat *v)
{
	v->processed_insns = v->verified_insns > 0 ? v->verified_insns : v->log_insns;
}

void vstats_load_times(struct vstat *v, size_t n, uint64_t end_ns)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		uint64_t next = end_ns;

		v[i].load_us = -1;
		if (!v[i].load_start_ns)
			continue;
		/* the next load to begin after this one (n is small) */
		for (j = 0; j < n; j++)
			if (v[j].load_start_ns > v[i].load_start_ns && v[j].load_start_ns < next)
				next = v[j].load_start_ns;
		if (next >= v[i].load_start_ns)
			v[i].load_us = (int64_t)((next - v[i].load_start_ns) / 1000);
	}
}

static void kv_count(struct json_writer *w, const char *key, int64_t v)
{
	if (v < 0)
		jw_kv_null(w, key);
	else
		jw_kv_i64(w, key, v);
}

int vstats_write(const char *path, const char *release, const char *machine, const struct vstat *v, size_t n)
{
	struct json_writer w = JW_INIT;
	char tmp[4096];
	size_t i, off = 0;
	int fd, err = 0;

	jw_object_start(&w);
	jw_kv_string(&w, "kernel", release ? release : "");
	jw_kv_string(&w, "machine", machine ? machine : "");
	jw_key(&w, "programs");
	jw_array_start(&w);
	for (i = 0; i < n; i++) {
		jw_object_start(&w);
		jw_kv_string(&w, "name", v[i].name);
		kv_count(&w, "processed_insns", v[i].processed_insns);
		kv_count(&w, "verified_insns", v[i].verified_insns);
		kv_count(&w, "log_insns", v[i].log_insns);
		kv_count(&w, "verify_us", v[i].verify_us);
		kv_count(&w, "load_us", v[i].load_us);
		jw_object_end(&w);
	}
	jw_array_end(&w);
	jw_object_end(&w);
	jw_newline(&w);
	if (jw_error(&w)) {
		err = jw_error(&w);
		goto out;
	}
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		err = -ENAMETOOLONG;
		goto out;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	while (off < jw_len(&w)) {
		ssize_t k = write(fd, jw_data(&w) + off, jw_len(&w) - off);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			err = k < 0 ? -errno : -EIO;
			break;
		}
		off += (size_t)k;
	}
	if (close(fd) != 0 && !err)
		err = -errno;
	if (!err && rename(tmp, path) != 0)
		err = -errno;
	if (err)
		unlink(tmp);
out:
	jw_release(&w);
	return err;
}
