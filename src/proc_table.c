// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Open addressing with linear probing and backward-shift deletion: no
 * tombstones, so lookups stay short however much the table churns. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "proc_table.h"

struct proc_table {
	struct proc_entry *slots;	/* pid 0 marks a free slot */
	size_t mask;
	size_t count;
	size_t max;
};

static size_t hash_pid(uint32_t pid)
{
	uint64_t h = pid * 0x9E3779B97F4A7C15ull;

	return (size_t)(h >> 32);
}

/* Start small and double as processes come: memory follows the machine's
 * real process count, not the bound. The load factor stays <= 0.5. */
#define PT_MIN_CAP 1024

struct proc_table *proc_table__new(size_t max_entries)
{
	struct proc_table *pt;
	size_t cap = PT_MIN_CAP;

	if (max_entries == 0 || max_entries > (1u << 24)) {
		errno = EINVAL;
		return NULL;
	}
	pt = calloc(1, sizeof(*pt));
	if (!pt)
		return NULL;
	pt->slots = calloc(cap, sizeof(*pt->slots));
	if (!pt->slots) {
		free(pt);
		return NULL;
	}
	pt->mask = cap - 1;
	pt->max = max_entries;
	return pt;
}

void proc_table__free(struct proc_table *pt)
{
	size_t i;

	if (!pt)
		return;
	for (i = 0; i <= pt->mask; i++)
		free(pt->slots[i].exe);
	free(pt->slots);
	free(pt);
}

struct proc_entry *proc_table__find(struct proc_table *pt, uint32_t pid)
{
	size_t i;

	if (pid == 0)
		return NULL;
	for (i = hash_pid(pid) & pt->mask; pt->slots[i].pid; i = (i + 1) & pt->mask)
		if (pt->slots[i].pid == pid)
			return &pt->slots[i];
	return NULL;
}

static int grow(struct proc_table *pt)
{
	size_t cap = (pt->mask + 1) * 2, i, j;
	struct proc_entry *slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (i = 0; i <= pt->mask; i++) {
		if (!pt->slots[i].pid)
			continue;
		for (j = hash_pid(pt->slots[i].pid) & (cap - 1); slots[j].pid; j = (j + 1) & (cap - 1))
			;
		slots[j] = pt->slots[i];
	}
	free(pt->slots);
	pt->slots = slots;
	pt->mask = cap - 1;
	return 0;
}

struct proc_entry *proc_table__upsert(struct proc_table *pt, uint32_t pid)
{
	size_t i;

	if (pid == 0) {
		errno = EINVAL;
		return NULL;
	}
	for (i = hash_pid(pid) & pt->mask; pt->slots[i].pid; i = (i + 1) & pt->mask)
		if (pt->slots[i].pid == pid)
			return &pt->slots[i];
	if (pt->count >= pt->max) {
		errno = ENOSPC;
		return NULL;
	}
	if ((pt->count + 1) * 2 > pt->mask + 1) {
		if (grow(pt) != 0) {
			errno = ENOMEM;
			return NULL;
		}
		for (i = hash_pid(pid) & pt->mask; pt->slots[i].pid; i = (i + 1) & pt->mask)
			;
	}
	memset(&pt->slots[i], 0, sizeof(pt->slots[i]));
	pt->slots[i].pid = pid;
	pt->count++;
	return &pt->slots[i];
}

int proc_entry__set_exe(struct proc_entry *e, const char *exe, size_t len)
{
	char *copy = NULL;

	if (exe) {
		copy = malloc(len + 1);
		if (!copy)
			return -ENOMEM;
		memcpy(copy, exe, len);
		copy[len] = 0;
	}
	free(e->exe);
	e->exe = copy;
	return 0;
}

static void remove_slot(struct proc_table *pt, size_t i)
{
	size_t j = i;

	free(pt->slots[i].exe);
	pt->slots[i].exe = NULL;
	pt->slots[i].pid = 0;
	pt->count--;
	/* Shift later members of the probe run back into the hole. */
	for (;;) {
		size_t home;

		j = (j + 1) & pt->mask;
		if (!pt->slots[j].pid)
			return;
		home = hash_pid(pt->slots[j].pid) & pt->mask;
		/* Move j to i unless its home lies cyclically in (i, j]. */
		if ((i <= j) ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		pt->slots[i] = pt->slots[j];
		pt->slots[j].pid = 0;
		pt->slots[j].exe = NULL;
		i = j;
	}
}

void proc_table__remove(struct proc_table *pt, uint32_t pid)
{
	struct proc_entry *e = proc_table__find(pt, pid);

	if (e)
		remove_slot(pt, (size_t)(e - pt->slots));
}

size_t proc_table__count(const struct proc_table *pt)
{
	return pt->count;
}

size_t proc_table__max(const struct proc_table *pt)
{
	return pt->max;
}

size_t proc_table__sweep(struct proc_table *pt, bool (*keep)(const struct proc_entry *, void *),
			 void *ctx)
{
	size_t i = 0, removed = 0;

	while (i <= pt->mask) {
		if (pt->slots[i].pid && !keep(&pt->slots[i], ctx)) {
			/* The shift may pull an unvisited entry into slot i. */
			remove_slot(pt, i);
			removed++;
			continue;
		}
		i++;
	}
	return removed;
}
