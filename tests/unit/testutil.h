/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Helpers the unit tests share. Header-only: each test is one file. */
#ifndef PODSIGHT_TESTUTIL_H
#define PODSIGHT_TESTUTIL_H

#include <errno.h>
#include <ftw.h>
#include <stdio.h>

static int testutil_rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

/*
 * rm -rf path, without a shell: depth first (FTW_DEPTH, children before
 * their directory), not following links (FTW_PHYS) nor leaving the file
 * system (FTW_MOUNT). 0 when path is gone, also when it never was; -1 with
 * errno set otherwise.
 */
static inline int rm_rf(const char *path)
{
	if (nftw(path, testutil_rm_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) == 0)
		return 0;
	return errno == ENOENT ? 0 : -1;
}

#endif /* PODSIGHT_TESTUTIL_H */
