/* Which cgroup mounts to read, chosen from /proc/self/mountinfo. */
#ifndef PODSIGHT_MOUNTINFO_H
#define PODSIGHT_MOUNTINFO_H

#include <stdbool.h>
#include <stddef.h>

/* The hierarchies podsight reads: v2, and the v1 controllers it uses. */
enum cgmnt_kind {
	CGMNT_V2,
	CGMNT_MEMORY,
	CGMNT_BLKIO,
	CGMNT_CPU,
	CGMNT_CPUACCT,
	CGMNT__MAX,
};

struct cgmnt {
	bool found;
	bool hidden;		/* a later mount covers its mount point */
	int depth;		/* of root: 0 for "/", -1 for "/..", 2 for "/a/b" */
	char path[256];		/* mount point */
	char root[256];		/* the hierarchy's directory mounted there */
};

struct cgmounts {
	struct cgmnt m[CGMNT__MAX];
};

/* "cgroup2", "memory", "blkio", "cpu", "cpuacct" */
const char *cgmnt_name(enum cgmnt_kind k);

/*
 * Chooses, for each hierarchy, the mount to read from mountinfo text. Pure.
 * A container can see several mounts of one hierarchy: the runtime's own
 * view of the container's cgroup (root "/kubepods/.../ID", or "/" in a
 * cgroup namespace of its own) with the host's whole tree bind-mounted
 * over it. The whole tree is wanted, since cgroup ids and the kernel's
 * paths are the host's: a mount that no later mount covers comes first,
 * then the one whose root is nearest the hierarchy's root (in a cgroup
 * namespace the kernel shows an outer root as "/.."), then the first.
 * Mount points and roots longer than struct cgmnt's fields are skipped.
 * 0, or -ENOENT when no cgroup mount is listed at all.
 */
int mountinfo_cgroups(const char *text, struct cgmounts *out);
/* The same from /proc/self/mountinfo: 0 or -errno. */
int mountinfo_cgroups_read(struct cgmounts *out);

/* Decodes the kernel's octal escapes (\040 space, \011 tab, \012 newline,
 * \134 backslash) in place. */
void mountinfo_unescape(char *s);

#endif
