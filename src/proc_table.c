// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The process table: a u64map from pid to proc_entry, whose exe it owns. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "proc_table.h"
#include "u64map.h"

struct proc_table {
	struct u64map map;	/* pid -> struct proc_entry */
};

/* Start small and double as processes come: memory follows the machine's
 * real process count, not the bound. */
#define PT_MIN_SLOTS 1024

struct proc_table *proc_table__new(size_t max_entries)
{
	struct proc_table *pt;
	int err;

	if (max_entries == 0 || max_entries > (1u << 24)) {
		errno = EINVAL;
		return NULL;
	}
	pt = calloc(1, sizeof(*pt));
	if (!pt)
		return NULL;
	err = u64map__init(&pt->map, sizeof(struct proc_entry), max_entries, PT_MIN_SLOTS);
	if (err) {
		free(pt);
		errno = -err;
		return NULL;
	}
	return pt;
}

void proc_table__free(struct proc_table *pt)
{
	struct proc_entry *e;
	size_t pos = 0;

	if (!pt)
		return;
	while ((e = u64map__next(&pt->map, &pos, NULL)))
		free(e->exe);
	u64map__release(&pt->map);
	free(pt);
}

struct proc_entry *proc_table__find(struct proc_table *pt, uint32_t pid)
{
	return u64map__find(&pt->map, pid);
}

struct proc_entry *proc_table__upsert(struct proc_table *pt, uint32_t pid)
{
	struct proc_entry *e;
	bool created;

	e = u64map__insert(&pt->map, pid, &created);
	if (e && created)
		e->pid = pid;
	return e;
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

void proc_table__remove(struct proc_table *pt, uint32_t pid)
{
	struct proc_entry *e = proc_table__find(pt, pid);

	if (!e)
		return;
	free(e->exe);
	u64map__remove_value(&pt->map, e);
}

size_t proc_table__count(const struct proc_table *pt)
{
	return u64map__count(&pt->map);
}

size_t proc_table__max(const struct proc_table *pt)
{
	return pt->map.max;
}

struct sweep {
	bool (*keep)(const struct proc_entry *, void *);
	void *ctx;
};

static bool sweep_keep(uint64_t pid, void *val, void *ctx)
{
	struct sweep *sw = ctx;
	struct proc_entry *e = val;

	if (sw->keep(e, sw->ctx))
		return true;
	free(e->exe);
	return false;
}

size_t proc_table__sweep(struct proc_table *pt, bool (*keep)(const struct proc_entry *, void *),
			 void *ctx)
{
	struct sweep sw = { keep, ctx };

	return u64map__sweep(&pt->map, sweep_keep, &sw);
}
