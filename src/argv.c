// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "argv.h"
#include "utf8.h"

int argv_split(const char *buf, size_t len, struct argv_list *out)
{
	const char *p, *end, *nul;
	const char **argv;
	size_t *lens, n = 0, i;

	memset(out, 0, sizeof(*out));
	if (!len)
		return 0;
	if (!buf)
		return -EINVAL;
	end = buf + len;
	for (p = buf; (nul = memchr(p, 0, (size_t)(end - p))); p = nul + 1)
		n++;
	out->unterminated = buf[len - 1] != 0;
	if (out->unterminated)
		n++;
	if (n > SIZE_MAX / (sizeof(*argv) + sizeof(*lens)))
		return -ENOMEM;
	argv = malloc(n * (sizeof(*argv) + sizeof(*lens)));
	if (!argv) {
		out->unterminated = false;
		return -ENOMEM;
	}
	lens = (size_t *)(argv + n);
	for (p = buf, i = 0; i < n; i++) {
		nul = memchr(p, 0, (size_t)(end - p));
		argv[i] = p;
		lens[i] = (size_t)((nul ? nul : end) - p);
		p = nul ? nul + 1 : end;
	}
	out->argc = n;
	out->argv = argv;
	out->lens = lens;
	return 0;
}

void argv_list_free(struct argv_list *l)
{
	if (!l)
		return;
	free((void *)l->argv);
	memset(l, 0, sizeof(*l));
}

/* Code points a terminal acts on or that reorder what the eye reads. */
static bool steers_terminal(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0x9f) ||		/* C1 controls, CSI among them */
	       cp == 0x061c ||				/* Arabic letter mark */
	       cp == 0x200e || cp == 0x200f ||		/* LRM, RLM */
	       (cp >= 0x2028 && cp <= 0x202e) ||	/* separators, embeddings, overrides */
	       (cp >= 0x2066 && cp <= 0x2069);		/* isolates */
}

/* Output with room accounting: tokens (an escape, a character, a quote)
 * go in whole or not at all, so a cut never splits one. */
struct sink {
	char *out;
	size_t sz;		/* > 0 when anything is written */
	size_t pos;		/* bytes written */
	size_t safe;		/* a token end with room for "..." and the NUL after it */
	size_t need;		/* the full length */
	bool full;
};

static void emit(struct sink *s, const char *p, size_t n)
{
	s->need += n;
	if (s->full || n > s->sz - 1 - s->pos) {
		s->full = true;
		return;
	}
	memcpy(s->out + s->pos, p, n);
	s->pos += n;
	if (s->pos + 3 <= s->sz - 1)
		s->safe = s->pos;
}

static void emit_hex(struct sink *s, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";
	char e[4] = { '\\', 'x', hex[c >> 4], hex[c & 15] };

	emit(s, e, sizeof(e));
}

static bool needs_quotes(const unsigned char *a, size_t n)
{
	size_t i;

	if (n == 0 || a[0] == '#' || a[0] == '~')
		return true;
	for (i = 0; i < n; i++)
		if (a[i] && strchr(" \t'\"$`;&|<>()*?[]{}!", a[i]))
			return true;
	return false;
}

/* One argument (shell: quoted as a shell would need it) or plain text. */
static void emit_text(struct sink *s, const unsigned char *a, size_t n, bool shell)
{
	bool q = shell && needs_quotes(a, n);
	size_t j = 0, k;

	if (q)
		emit(s, "'", 1);
	while (j < n) {
		unsigned char c = a[j];

		if (c == '\\') {
			emit(s, "\\\\", 2);
			j++;
		} else if (c == '\n') {
			emit(s, "\\n", 2);
			j++;
		} else if (c == '\'' && shell) {	/* always inside quotes */
			emit(s, "'\\''", 4);
			j++;
		} else if (c >= 0x20 && c < 0x7f) {
			emit(s, (const char *)a + j, 1);
			j++;
		} else if (c >= 0x80 && (k = utf8_seq_len(a + j, n - j)) &&
			   !steers_terminal(utf8_decode(a + j, k))) {
			emit(s, (const char *)a + j, k);
			j += k;
		} else if (c >= 0x80 && k) {
			for (; k; k--)
				emit_hex(s, a[j++]);
		} else {
			emit_hex(s, c);
			j++;
		}
	}
	if (q)
		emit(s, "'", 1);
}

/* Ends the line: NUL-terminated, or cut with "..." where it fits. */
static int finish(struct sink *s, char *out, size_t outsz, size_t *needed)
{
	if (needed)
		*needed = s->need;
	if (outsz && s->need <= outsz - 1) {
		out[s->pos] = 0;
		return 0;
	}
	if (outsz >= 4) {
		memcpy(out + s->safe, "...", 3);
		out[s->safe + 3] = 0;
	} else if (outsz) {
		memset(out, '.', outsz - 1);
		out[outsz - 1] = 0;
	}
	return 1;
}

int text_display(const char *t, size_t n, char *out, size_t outsz, size_t *needed)
{
	struct sink s = { .out = out, .sz = outsz, .full = outsz == 0 };

	if (needed)
		*needed = 0;
	if ((!t && n) || (!out && outsz))
		return -EINVAL;
	if (n)
		emit_text(&s, (const unsigned char *)t, n, false);
	return finish(&s, out, outsz, needed);
}

int argv_join_display(const struct argv_list *l, char *out, size_t outsz, size_t *needed)
{
	struct sink s = { .out = out, .sz = outsz, .full = outsz == 0 };
	size_t i;

	if (needed)
		*needed = 0;
	if (!l || (!out && outsz) || (l->argc && (!l->argv || !l->lens)))
		return -EINVAL;
	for (i = 0; i < l->argc; i++) {
		if (i)
			emit(&s, " ", 1);
		emit_text(&s, (const unsigned char *)l->argv[i], l->lens[i], true);
	}
	return finish(&s, out, outsz, needed);
}
