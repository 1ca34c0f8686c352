/* Small string helpers shared by the user side. */
#ifndef PODSIGHT_STRUTIL_H
#define PODSIGHT_STRUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest decimal of a uint64_t: 18446744073709551615. */
#define U64_DEC_MAX 20

/*
 * v in decimal, written backwards so that it ends just before end (the
 * U64_DEC_MAX bytes before end suffice); returns its first digit, no NUL.
 * Backwards, because the digits come out last first: no count, no copy.
 * For hot paths that cannot afford printf.
 */
static inline char *u64_to_dec(char *end, uint64_t v)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return end;
}

/* [A-Za-z0-9], whatever the locale says. */
static inline bool ascii_isalnum(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Standard base64 with padding. Returns the length written (without NUL),
 * or 0 when out is too small (needs 4 * ceil(n / 3) + 1 bytes). */
size_t base64_encode(const void *in, size_t n, char *out, size_t outsz);

/* Parses a size such as "4096", "64K", "8M", "1G" (powers of 1024).
 * 0 or -EINVAL / -ERANGE. */
int parse_size(const char *s, uint64_t *out);
/* Parses a decimal unsigned integer with no trailing garbage. */
int parse_u64(const char *s, uint64_t *out);

/* Signal name ("SIGKILL", "SIGRTMIN+3"); NULL for 0 or out of range. */
const char *signal_name(int sig, char *buf, size_t bufsz);

/* Terminal name from the kernel's tty driver major, index and name:
 * pseudo terminals become "pts/N". Returns NULL when there is none. */
const char *tty_display(uint32_t major, uint32_t index, const char *kname, char *buf, size_t bufsz);

#endif
