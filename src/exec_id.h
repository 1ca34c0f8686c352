/*
 * Exec ids: opaque strings unique across nodes and reboots, the base64 of
 * "<node>:<boot id, 8 hex>:<exec time, boot-clock ns>:<pid>". A process that
 * execs again gets a new id; one seen only through fork or the /proc scan
 * gets an id from its start time.
 */
#ifndef PODSIGHT_EXEC_ID_H
#define PODSIGHT_EXEC_ID_H

#include <stdint.h>

#define EXEC_ID_LEN 400

struct exec_id_ctx {
	char prefix[300];	/* "<node>:<boot8>:" */
	int prefix_len;
};

void exec_id__init(struct exec_id_ctx *c, const char *node, const char *boot_id);
void exec_id__make(const struct exec_id_ctx *c, uint64_t ktime_ns, uint32_t pid,
		   char out[EXEC_ID_LEN]);

#endif
