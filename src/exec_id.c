// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>
#include <string.h>
#include "exec_id.h"
#include "strutil.h"

void exec_id__init(struct exec_id_ctx *c, const char *node, const char *boot_id)
{
	char boot8[9] = "00000000";
	size_t i, j = 0;

	/* The boot id is a UUID; its first 8 hex digits tell reboots apart. */
	for (i = 0; boot_id && boot_id[i] && j < 8; i++)
		if (boot_id[i] != '-')
			boot8[j++] = boot_id[i];
	c->prefix_len = snprintf(c->prefix, sizeof(c->prefix), "%.250s:%s:", node, boot8);
	if (c->prefix_len >= (int)sizeof(c->prefix))
		c->prefix_len = sizeof(c->prefix) - 1;
}

static char *put_dec(char *p, uint64_t v)
{
	char tmp[U64_DEC_MAX], *d = u64_to_dec(tmp + sizeof(tmp), v);
	size_t n = (size_t)(tmp + sizeof(tmp) - d);

	memcpy(p, d, n);
	return p + n;
}

void exec_id__make(const struct exec_id_ctx *c, uint64_t ktime_ns, uint32_t pid,
		   char out[EXEC_ID_LEN])
{
	char raw[sizeof(c->prefix) + 48], *p = raw + c->prefix_len;

	/* Hot path: no printf. */
	memcpy(raw, c->prefix, c->prefix_len);
	p = put_dec(p, ktime_ns);
	*p++ = ':';
	p = put_dec(p, pid);
	if (!base64_encode(raw, (size_t)(p - raw), out, EXEC_ID_LEN))
		out[0] = 0;
}
