// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "fileio.h"

int read_file_bounded(const char *path, size_t max, char **buf, size_t *len, bool *truncated)
{
	size_t cap, n = 0;
	struct stat st;
	char *b = NULL, *nb;
	int fd, err = 0;

	*buf = NULL;
	*len = 0;
	if (truncated)
		*truncated = false;
	if (!path || max == SIZE_MAX)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		err = -errno;
		goto cleanup;
	}
	if (S_ISDIR(st.st_mode)) {
		err = -EISDIR;
		goto cleanup;
	}
	if (!S_ISREG(st.st_mode)) {
		err = -EINVAL;
		goto cleanup;
	}
	if (!truncated && (st.st_size < 0 || (unsigned long long)st.st_size > max)) {
		err = -EFBIG;
		goto cleanup;
	}
	/* One byte past max tells a longer file apart from one of exactly
	 * max; the NUL then goes where that byte was. */
	cap = st.st_size > 0 && (unsigned long long)st.st_size < max ? (size_t)st.st_size + 1 : 4096;
	if (cap > max + 1)
		cap = max + 1;
	b = malloc(cap);
	if (!b) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (;;) {
		ssize_t r;

		if (n == cap) {
			if (cap == max + 1)
				break;
			cap = cap > (max + 1) / 2 ? max + 1 : cap * 2;
			nb = realloc(b, cap);
			if (!nb) {
				err = -ENOMEM;
				goto cleanup;
			}
			b = nb;
		}
		r = read(fd, b + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			goto cleanup;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > max) {
		if (!truncated) {
			err = -EFBIG;
			goto cleanup;
		}
		n = max;
		*truncated = true;
	}
	b[n] = 0;
	*buf = b;
	*len = n;
	b = NULL;
cleanup:
	free(b);
	close(fd);
	return err;
}
