/* Small string helpers shared by the user side. */
#ifndef PODSIGHT_STRUTIL_H
#define PODSIGHT_STRUTIL_H

#include <stddef.h>
#include <stdint.h>

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
