// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "argv.h"

int argv_split(const char *buf, size_t len, struct argv_list *out)
{
	size_t n = 0, i, start;
	void *mem;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < len; i++)
		if (buf[i] == 0)
			n++;
	if (len && buf[len - 1] != 0)
		n++;			/* the last argument was cut short */
	if (!n)
		return 0;
	if (n > SIZE_MAX / (sizeof(char *) + sizeof(size_t)))
		return -ENOMEM;
	mem = malloc(n * (sizeof(char *) + sizeof(size_t)));
	if (!mem)
		return -ENOMEM;
	out->argv = mem;
	out->lens = (size_t *)((char *)mem + n * sizeof(char *));
	for (i = 0, start = 0; i <= len && out->argc < n; i++) {
		if (i == len || buf[i] == 0) {
			out->argv[out->argc] = buf + start;
			out->lens[out->argc] = i - start;
			out->argc++;
			start = i + 1;
		}
	}
	return 0;
}

void argv_list_free(struct argv_list *l)
{
	if (!l)
		return;
	free((void *)l->argv);
	memset(l, 0, sizeof(*l));
}

static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t k, i;
	unsigned int cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		k = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		k = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		k = 4, cp = c & 0x07;
	else
		return 0;
	if (n < k)
		return 0;
	for (i = 1; i < k; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((k == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (k == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return k;
}

struct sink {
	char *out;
	size_t sz, pos, need;
};

static void put(struct sink *s, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (s->pos + 1 < s->sz)
			s->out[s->pos++] = p[i];
	}
	s->need += n;
}

static bool needs_quotes(const char *a, size_t n)
{
	size_t i;

	if (n == 0)
		return true;
	for (i = 0; i < n; i++)
		if (strchr(" \t'\"\\$`!*?[]{}()<>|&;#~", a[i]) && a[i])
			return true;
	return false;
}

int argv_join_display(const struct argv_list *l, char *out, size_t outsz, size_t *needed)
{
	static const char hex[] = "0123456789abcdef";
	struct sink s = { out, outsz, 0, 0 };
	size_t i, j;

	if (!outsz)
		return 1;
	for (i = 0; i < l->argc; i++) {
		const unsigned char *a = (const unsigned char *)l->argv[i];
		size_t n = l->lens[i];
		bool q = needs_quotes(l->argv[i], n);

		if (i)
			put(&s, " ", 1);
		if (q)
			put(&s, "'", 1);
		for (j = 0; j < n;) {
			size_t k = utf8_seq(a + j, n - j);

			if (k == 1 && a[j] >= 0x20 && a[j] != 0x7f) {
				if (q && a[j] == '\'')
					put(&s, "'\\''", 4);
				else if (!q && a[j] == '\\')
					put(&s, "\\\\", 2);
				else
					put(&s, (const char *)a + j, 1);
				j++;
			} else if (k > 1) {
				put(&s, (const char *)a + j, k);
				j += k;
			} else if (a[j] == '\n') {
				put(&s, "\\n", 2);
				j++;
			} else {
				char e[4] = { '\\', 'x', hex[a[j] >> 4], hex[a[j] & 15] };

				put(&s, e, 4);
				j++;
			}
		}
		if (q)
			put(&s, "'", 1);
	}
	if (needed)
		*needed = s.need;
	if (s.need + 1 > outsz) {
		/* Cut at a character boundary and mark it. */
		size_t end = outsz > 4 ? outsz - 4 : 0;

		while (end > 0 && ((unsigned char)out[end] & 0xc0) == 0x80)
			end--;
		if (outsz >= 4)
			memcpy(out + end, "...", 3), end += 3;
		out[end < outsz ? end : outsz - 1] = 0;
		return 1;
	}
	out[s.pos] = 0;
	return 0;
}
