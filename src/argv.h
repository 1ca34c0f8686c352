/* argv as the kernel keeps it (NUL-separated bytes) and its one-line display. */
#ifndef PODSIGHT_ARGV_H
#define PODSIGHT_ARGV_H

#include <stdbool.h>
#include <stddef.h>

struct argv_list {
	size_t argc;
	/* Views into the caller's buffer, which must outlive the list:
	 * argv[i] is lens[i] bytes long and NOT NUL-terminated. */
	const char **argv;
	const size_t *lens;
	/* The buffer did not end in a NUL: the last argument was cut (or the
	 * process rewrote its argument area). */
	bool unterminated;
};

/*
 * Splits NUL-separated arguments. A missing final NUL still yields the
 * last argument; empty arguments are kept: "a\0\0b\0" gives ["a", "", "b"],
 * "\0" gives [""], len 0 gives argc 0 (argv NULL). One allocation for both
 * arrays, sized by a counting pass (16 bytes per argument on 64-bit, so
 * bound len). 0 or -EINVAL / -ENOMEM; *out is always safe to free.
 */
int argv_split(const char *buf, size_t len, struct argv_list *out);
/* Frees the arrays and resets *l; NULL is a no-op. */
void argv_list_free(struct argv_list *l);

/*
 * One line for a terminal table, arguments separated by one space.
 * An argument that is empty or holds a blank, a quote or a shell
 * metacharacter ($ ` ; & | < > ( ) * ? [ ] { } ! # ~) is wrapped in single
 * quotes, a ' inside becoming '\''. Escapes keep every byte visible and the
 * line unambiguous: a backslash is \\, a newline \n, other control bytes,
 * DEL, bytes that are not UTF-8 and code points that steer a terminal
 * (C1 controls, bidirectional overrides, line separators) are \xNN per
 * byte; valid UTF-8 text is kept as is.
 *
 * Always NUL-terminated when outsz > 0. *needed (may be NULL) gets the
 * full length without the NUL. Returns 0, or 1 when the line was cut to
 * fit: it then ends with "..." (as many dots as fit when outsz < 4), and
 * the cut never splits an escape or a UTF-8 character. -EINVAL for a NULL
 * list, or an out of NULL with outsz > 0.
 */
int argv_join_display(const struct argv_list *l, char *out, size_t outsz, size_t *needed);

/*
 * Text a tenant chooses (a namespace, pod or container name, a path) for a
 * terminal, as ls and ps show names: the escapes of argv_join_display (a
 * backslash \\, a newline \n, other control bytes, DEL, bytes that are
 * not UTF-8 and code points that steer a terminal \xNN per byte), without
 * its quoting. n bytes of t (NULs included). Same output, cut and return
 * rules as argv_join_display; -EINVAL for a NULL t with n > 0.
 */
int text_display(const char *t, size_t n, char *out, size_t outsz, size_t *needed);

#endif
