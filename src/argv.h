/* argv as the kernel keeps it (NUL-separated bytes) and its one-line display. */
#ifndef PODSIGHT_ARGV_H
#define PODSIGHT_ARGV_H

#include <stddef.h>

struct argv_list {
	size_t argc;
	const char **argv;	/* views into the caller's buffer: not NUL-terminated */
	size_t *lens;
};

/* Splits NUL-separated args. A missing final NUL (argv cut short) still
 * yields the last argument; empty arguments are kept: "a\0\0b\0" gives
 * ["a", "", "b"]. One allocation; free with argv_list_free(). */
int argv_split(const char *buf, size_t len, struct argv_list *out);
void argv_list_free(struct argv_list *l);

/* One line for a terminal: arguments separated by spaces; an argument with
 * a space, quote, shell metacharacter, or empty is single-quoted; control
 * bytes and invalid UTF-8 appear as \xNN (newline as \n). Always
 * NUL-terminated. Returns 1 when cut to fit (ending in "..."), else 0;
 * *needed is the full length. */
int argv_join_display(const struct argv_list *l, char *out, size_t outsz, size_t *needed);

#endif
