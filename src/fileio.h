/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Reading a whole file whose size someone else controls (/proc, cgroupfs,
 * a container runtime's state files). */
#ifndef PODSIGHT_FILEIO_H
#define PODSIGHT_FILEIO_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Reads the regular file at path whole, at most max bytes (max < SIZE_MAX),
 * into a malloc'd buffer, NUL-terminated (the NUL is not counted in *len),
 * that the caller frees. Memory grows with what is read, never past
 * max + 1 bytes, however large the file claims to be.
 *
 * The file is opened O_NONBLOCK, so that a FIFO planted in its place does
 * not hang the open: -EISDIR for a directory, -EINVAL for anything else
 * that is not a regular file. When the file holds more than max bytes:
 * with truncated NULL, -EFBIG, checked against its size before reading
 * and again while reading (it may grow, and procfs files report size 0);
 * else its first max bytes, and *truncated set. *buf is NULL and *len 0
 * on error.
 */
int read_file_bounded(const char *path, size_t max, char **buf, size_t *len, bool *truncated);

#endif /* PODSIGHT_FILEIO_H */
