/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A network namespace's interface counters, from /proc/<pid>/net/dev of a
 * process in it (what cAdvisor reads for its container_network_* series).
 *
 * The file is two header lines, then one line per interface, in the order
 * the interfaces were made:
 *
 *   Inter-|   Receive                                                |  Transmit
 *    face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
 *       lo:    1234      12    0    0    0     0          0         0     1234      12    0    0    0     0       0          0
 *     eth0:98765432   66000    0    3    0     0          0         0   123456     900    0    0    0     0       0          0
 *
 * The name is right-aligned in six columns and followed by ':' (no space
 * before a wide first number), then sixteen decimal counters. The
 * namespace's owner may name interfaces as it likes (anything the kernel
 * takes: 1 to 15 bytes, none of them white space, '/' or ':'), so the text
 * is parsed as outside input.
 */
#ifndef PODSIGHT_NETDEV_H
#define PODSIGHT_NETDEV_H

#include <stddef.h>
#include <stdint.h>

/* Interfaces kept per namespace: the first ones listed (the oldest: eth0
 * and its like come before what a tenant adds), so that a namespace's
 * owner cannot make series without end. */
#define NETDEV_MAX_IFACES 32
/* The most of the file read: some 500 interfaces' lines; the lines past
 * it are not looked at. */
#define NETDEV_FILE_MAX (64 * 1024)

struct netdev_iface {
	char name[16];		/* IFNAMSIZ: 15 bytes and the NUL */
	uint64_t rx_bytes, rx_packets, rx_errors, rx_dropped;
	uint64_t tx_bytes, tx_packets, tx_errors, tx_dropped;
};

struct netdev_stats {
	size_t n;		/* interfaces in ifs[], "lo" never among them */
	size_t left_out;	/* more interfaces past NETDEV_MAX_IFACES, and names
				 * that are not UTF-8 (a label must be) */
	struct netdev_iface ifs[NETDEV_MAX_IFACES];
};

/*
 * Parses the text of a net/dev file, len bytes (no NUL needed). Pure.
 * "lo" is left out (cAdvisor leaves it out too). 0, or -EINVAL: no header,
 * a line without its ':' or its sixteen counters, a name of no or more
 * than 15 bytes, a name listed twice (it would give the same series
 * twice), a line cut short at the end; -ERANGE: a counter past 2^64.
 * *out is zeroed on error.
 */
int netdev_parse(const char *text, size_t len, struct netdev_stats *out);

/*
 * The network namespace of process pid: the inode number of
 * <proc_root>/<pid>/ns/net. 0, or -errno (-ENOENT, -ESRCH: no such
 * process).
 */
int netdev_netns(const char *proc_root, int pid, uint64_t *ino);

/*
 * Reads and parses <proc_root>/<pid>/net/dev. netns: the namespace the
 * caller found the process in (netdev_netns()), or 0 for any: the counters
 * are those of netns, checked before and after the read through one open
 * directory of the process (a pid cannot be reused while it is open), or
 * -ESTALE. Else as netdev_parse(), or -errno of the reads.
 */
int netdev_read(const char *proc_root, int pid, uint64_t netns, struct netdev_stats *out);

#endif
