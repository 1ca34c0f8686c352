/* libFuzzer target: the parsers of what container runtimes write (OCI
 * config.json annotations) and of cgroup paths. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "container_id.h"
#include "runtime_meta.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct container_meta m;
	struct cgroup_identity id;
	static const char *const ns[] = { "default", "k8s.io", NULL };

	runtime_meta_parse_oci_config((const char *)data, size, &m);
	cgroup_identity_parse_ex((const char *)data, size, ns, &id);
	return 0;
}
