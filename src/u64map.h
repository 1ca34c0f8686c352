/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A bounded hash table from a nonzero u64 key to a fixed-size value stored
 * in the table: the process table (pid -> proc_entry) and the cgroup
 * registry (cgroup id -> path and hook data) are built on it.
 *
 * Open addressing with linear probing and backward-shift deletion: no
 * tombstones, so lookups stay short however much the table churns. Keys
 * live in their own array, so a probe touches 8 bytes a slot whatever the
 * value's size. The table starts at a minimum size and doubles as entries
 * come (load factor <= 0.5), never holding more than max entries.
 *
 * A value pointer is valid until the next insert or remove; values may be
 * moved by either, so they must not point into themselves. Key 0 is never
 * stored (it marks a free slot).
 */
#ifndef PODSIGHT_U64MAP_H
#define PODSIGHT_U64MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct u64map {
	uint64_t *keys;		/* 0: free */
	char *vals;		/* vsize bytes per slot */
	size_t vsize;
	size_t mask;		/* slots - 1, a power of two minus one */
	size_t count;
	size_t max;
};

/* An empty table of values of vsize bytes, at most max entries, min_slots
 * (a power of two) to start. 0, -EINVAL or -ENOMEM. */
int u64map__init(struct u64map *m, size_t vsize, size_t max, size_t min_slots);
/* Frees the arrays (not what values point to). NULL is a no-op. */
void u64map__release(struct u64map *m);

void *u64map__find(const struct u64map *m, uint64_t key);
/* The value for key; a new zeroed one if absent (*created true), NULL with
 * errno EINVAL (key 0), ENOSPC (max entries held) or ENOMEM. created may
 * be NULL. */
void *u64map__insert(struct u64map *m, uint64_t key, bool *created);
/* Removes the entry whose value val is (from find, insert or next). */
void u64map__remove_value(struct u64map *m, void *val);
/* Removes key's entry, if any; true if there was one. */
bool u64map__remove(struct u64map *m, uint64_t key);

/*
 * Iteration: start with *pos = 0; each call gives the next value (its key
 * in *key, may be NULL) or NULL at the end. The table must not change
 * meanwhile; u64map__sweep() is the way to remove while walking.
 */
void *u64map__next(const struct u64map *m, size_t *pos, uint64_t *key);
/* Removes every entry for which keep() returns false (keep() releases what
 * the value owns first); returns how many. */
size_t u64map__sweep(struct u64map *m, bool (*keep)(uint64_t key, void *val, void *ctx),
		     void *ctx);

static inline size_t u64map__count(const struct u64map *m)
{
	return m->count;
}

#endif /* PODSIGHT_U64MAP_H */
