/* libFuzzer target: kernel records, as the pipeline decodes them, with
 * every byte the fuzzer's: sizes that lie, cgroup paths a tenant chose,
 * execs, forks and exits in any order. Nothing is read from the host (no
 * runtime state, no /proc, no cgroupfs); events go to a sink that checks
 * each is one line. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "pipeline.h"
#include "runtime_meta.h"

#define CHECK(c)                       \
	do {                           \
		if (!(c))              \
			abort();       \
	} while (0)

static int sink(void *ctx, const struct pipeline_event *ev)
{
	CHECK(ev->json_len > 0 && ev->json[ev->json_len - 1] == '\n');
	CHECK(memchr(ev->json, '\n', ev->json_len) == ev->json + ev->json_len - 1);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct runtime_paths none = { 0 };
	struct pipeline_opts o = { .node = "n1", .max_processes = 64, .max_cgroups = 64,
				   .emit = EMIT_EXEC | EMIT_EXIT | EMIT_OOM | EMIT_LOST | EMIT_CONNECT | EMIT_ACCEPT |
					 EMIT_CLOSE, .sink = sink,
				   .runtime_paths = &none };
	struct pipeline *p = pipeline__new(&o);
	uint8_t buf[8192] __attribute__((aligned(8)));
	size_t off = 0;

	if (!p)
		return 0;
	/* each record: 2 bytes of length, then that many bytes (a header
	 * whose size field may say anything) */
	while (off + 2 <= size) {
		size_t n = (size_t)data[off] | (size_t)data[off + 1] << 8;

		off += 2;
		if (n > size - off)
			n = size - off;
		if (n > sizeof(buf))
			n = sizeof(buf);
		memcpy(buf, data + off, n);
		pipeline__record(p, buf, n);
		if (n == sizeof(struct ps_sock_acct)) {
			/* a scrape's walk of the open connections */
			struct ps_sock_acct a;

			memcpy(&a, buf, sizeof(a));
			pipeline__sock_acct_begin(p);
			pipeline__add_sock_acct(p, &a);
			pipeline__sock_acct_end(p);
		}
		off += n;
	}
	pipeline__tick(p);
	pipeline__free(p);
	return 0;
}
