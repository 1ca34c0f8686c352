/* libFuzzer target: the parsers of what container runtimes and tenants
 * write: OCI config.json annotations, cgroup paths (a container's user
 * names the cgroups below its own), and the cgroupsPath comparison. Aborts
 * when a documented promise breaks, besides memory errors. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "container_id.h"
#include "containers.h"
#include "runtime_meta.h"

#define CHECK(c)                       \
	do {                           \
		if (!(c))              \
			abort();       \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct container_meta m;
	struct cgroup_identity id;
	static const char *const ns[] = { "default", "k8s.io", NULL };
	char a[4096], b[1024];
	size_t half = size / 2, n;

	runtime_meta_parse_oci_config((const char *)data, size, &m);
	CHECK(strlen(m.cgroups_path) < sizeof(m.cgroups_path));
	if (cgroup_identity_parse_ex((const char *)data, size, ns, &id) == 0 && id.runtime != RT_NONE) {
		n = cgroup_path_prefix_len((const char *)data, size, id.depth_of_container);
		CHECK(n <= size);
		if (id.outer_runtime != RT_NONE)
			CHECK(id.outer_depth < id.depth_of_container);
	}
	/* a path and a cgroupsPath, split from the input */
	if (half < sizeof(a) && size - half < sizeof(b)) {
		memcpy(a, data, half);
		a[half] = 0;
		memcpy(b, data + half, size - half);
		b[size - half] = 0;
		if (!memchr(a, 0, half) && !memchr(b, 0, size - half))
			cgroups_path_matches(a, b);
	}
	return 0;
}
