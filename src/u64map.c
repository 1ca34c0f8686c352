// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Bounded u64-keyed open-addressing table; see u64map.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "u64map.h"

static size_t home_of(const struct u64map *m, uint64_t key)
{
	/* Fibonacci hashing: pids and inode numbers come in runs, which the
	 * multiply spreads; the high half holds the well-mixed bits. */
	return (size_t)((key * 0x9E3779B97F4A7C15ull) >> 32) & m->mask;
}

static void *val_at(const struct u64map *m, size_t i)
{
	return m->vals + i * m->vsize;
}

int u64map__init(struct u64map *m, size_t vsize, size_t max, size_t min_slots)
{
	memset(m, 0, sizeof(*m));
	if (!vsize || !max || !min_slots || (min_slots & (min_slots - 1)) ||
	    vsize > SIZE_MAX / min_slots)
		return -EINVAL;
	m->keys = calloc(min_slots, sizeof(*m->keys));
	m->vals = calloc(min_slots, vsize);
	if (!m->keys || !m->vals) {
		u64map__release(m);
		return -ENOMEM;
	}
	m->vsize = vsize;
	m->mask = min_slots - 1;
	m->max = max;
	return 0;
}

void u64map__release(struct u64map *m)
{
	if (!m)
		return;
	free(m->keys);
	free(m->vals);
	m->keys = NULL;
	m->vals = NULL;
	m->count = 0;
}

static bool lookup(const struct u64map *m, uint64_t key, size_t *slot)
{
	size_t i;

	for (i = home_of(m, key); m->keys[i]; i = (i + 1) & m->mask) {
		if (m->keys[i] == key) {
			*slot = i;
			return true;
		}
	}
	*slot = i;	/* the free slot that ends the probe run */
	return false;
}

void *u64map__find(const struct u64map *m, uint64_t key)
{
	size_t i;

	return key && lookup(m, key, &i) ? val_at(m, i) : NULL;
}

static int grow(struct u64map *m)
{
	struct u64map n = *m;
	size_t slots = (m->mask + 1) * 2, i, j;

	if (slots > SIZE_MAX / m->vsize)
		return -ENOMEM;
	n.keys = calloc(slots, sizeof(*n.keys));
	n.vals = malloc(slots * m->vsize);
	if (!n.keys || !n.vals) {
		free(n.keys);
		free(n.vals);
		return -ENOMEM;
	}
	n.mask = slots - 1;
	for (i = 0; i <= m->mask; i++) {
		if (!m->keys[i])
			continue;
		lookup(&n, m->keys[i], &j);
		n.keys[j] = m->keys[i];
		memcpy(val_at(&n, j), val_at(m, i), m->vsize);
	}
	free(m->keys);
	free(m->vals);
	*m = n;
	return 0;
}

void *u64map__insert(struct u64map *m, uint64_t key, bool *created)
{
	size_t i;

	if (created)
		*created = false;
	if (!key) {
		errno = EINVAL;
		return NULL;
	}
	if (lookup(m, key, &i))
		return val_at(m, i);
	if (m->count >= m->max) {
		errno = ENOSPC;
		return NULL;
	}
	if ((m->count + 1) * 2 > m->mask + 1) {
		if (grow(m)) {
			errno = ENOMEM;
			return NULL;
		}
		lookup(m, key, &i);
	}
	m->keys[i] = key;
	memset(val_at(m, i), 0, m->vsize);
	m->count++;
	if (created)
		*created = true;
	return val_at(m, i);
}

static void remove_slot(struct u64map *m, size_t i)
{
	size_t j = i;

	m->keys[i] = 0;
	m->count--;
	/* Shift later members of the probe run back into the hole. */
	for (;;) {
		size_t home;

		j = (j + 1) & m->mask;
		if (!m->keys[j])
			return;
		home = home_of(m, m->keys[j]);
		/* Move j to i unless its home lies cyclically in (i, j]. */
		if ((i <= j) ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		m->keys[i] = m->keys[j];
		memcpy(val_at(m, i), val_at(m, j), m->vsize);
		m->keys[j] = 0;
		i = j;
	}
}

void u64map__remove_value(struct u64map *m, void *val)
{
	remove_slot(m, (size_t)((char *)val - m->vals) / m->vsize);
}

bool u64map__remove(struct u64map *m, uint64_t key)
{
	size_t i;

	if (!key || !lookup(m, key, &i))
		return false;
	remove_slot(m, i);
	return true;
}

void *u64map__next(const struct u64map *m, size_t *pos, uint64_t *key)
{
	size_t i;

	for (i = *pos; i <= m->mask; i++) {
		if (m->keys[i]) {
			*pos = i + 1;
			if (key)
				*key = m->keys[i];
			return val_at(m, i);
		}
	}
	*pos = i;
	return NULL;
}

size_t u64map__sweep(struct u64map *m, bool (*keep)(uint64_t key, void *val, void *ctx),
		     void *ctx)
{
	size_t i = 0, removed = 0;

	while (i <= m->mask) {
		if (m->keys[i] && !keep(m->keys[i], val_at(m, i), ctx)) {
			/* The shift may pull an unvisited entry into slot i. */
			remove_slot(m, i);
			removed++;
			continue;
		}
		i++;
	}
	return removed;
}
