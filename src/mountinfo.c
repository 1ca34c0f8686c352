// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The cgroup mounts podsight reads, chosen once from mountinfo for the
 * loader (the tracked hierarchy) and for the metrics (live figures). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mountinfo.h"
#include "procfs.h"

static const char *const names[CGMNT__MAX] = {
	[CGMNT_V2] = "cgroup2",
	[CGMNT_MEMORY] = "memory",
	[CGMNT_BLKIO] = "blkio",
	[CGMNT_CPU] = "cpu",
	[CGMNT_CPUACCT] = "cpuacct",
};

const char *cgmnt_name(enum cgmnt_kind k)
{
	return k < CGMNT__MAX ? names[k] : "?";
}

void mountinfo_unescape(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
			s += 3;
		} else {
			*w++ = *s;
		}
	}
	*w = 0;
}

/* Components of a root path, ".." counting -1. */
static int root_depth(const char *root)
{
	int d = 0;

	while (*root) {
		size_t n;

		root += strspn(root, "/");
		n = strcspn(root, "/");
		if (n == 2 && !strncmp(root, "..", 2))
			d--;
		else if (n && !(n == 1 && *root == '.'))
			d++;
		root += n;
	}
	return d;
}

/* Whether mount point `over` covers `mp`: the same path or an ancestor. */
static bool covers(const char *over, const char *mp)
{
	size_t n = strlen(over);

	if (!strcmp(over, "/"))
		return true;
	return !strncmp(over, mp, n) && (mp[n] == 0 || mp[n] == '/');
}

/* Whether candidate c is a better choice than the current one. */
static bool better(const struct cgmnt *c, const struct cgmnt *cur)
{
	if (!cur->found)
		return true;
	if (c->hidden != cur->hidden)
		return !c->hidden;
	return c->depth < cur->depth;
}

struct mi_line {
	char mp[256], root[256];
	char fstype[64];
	char opts[1024];
	bool ok;
};

/* Splits one mountinfo line: fields 4 (root) and 5 (mount point), and
 * after the " - " separator the type and the super block options. */
static void parse_line(const char *line, size_t len, struct mi_line *l)
{
	char buf[4096];
	const char *sep;
	char *f[5], *save = NULL, *p;
	int i;

	l->ok = false;
	if (len >= sizeof(buf))
		return;
	memcpy(buf, line, len);
	buf[len] = 0;
	sep = strstr(buf, " - ");
	if (!sep)
		return;
	buf[sep - buf] = 0;
	p = buf;
	for (i = 0; i < 5; i++) {
		f[i] = strtok_r(p, " ", &save);
		p = NULL;
		if (!f[i])
			return;
	}
	if (strlen(f[3]) >= sizeof(l->root) || strlen(f[4]) >= sizeof(l->mp))
		return;
	strcpy(l->root, f[3]);
	strcpy(l->mp, f[4]);
	mountinfo_unescape(l->root);
	mountinfo_unescape(l->mp);
	if (sscanf(sep + 3, "%63s %*s %1023s", l->fstype, l->opts) != 2)
		return;
	l->ok = true;
}

struct cand {
	enum cgmnt_kind kind;
	struct cgmnt m;
};

int mountinfo_cgroups(const char *text, struct cgmounts *out)
{
	struct cand *c = NULL;
	size_t n = 0, cap = 0, i, j;
	const char *line, *nl;
	struct mi_line l;
	int any = 0;

	memset(out, 0, sizeof(*out));
	/* Every line is a candidate, or may cover earlier candidates. */
	for (line = text; *line; line = nl ? nl + 1 : line + strlen(line)) {
		nl = strchr(line, '\n');
		parse_line(line, nl ? (size_t)(nl - line) : strlen(line), &l);
		if (!l.ok)
			continue;
		for (i = 0; i < n; i++)
			if (covers(l.mp, c[i].m.path))
				c[i].m.hidden = true;
		if (!strcmp(l.fstype, "cgroup") || !strcmp(l.fstype, "cgroup2"))
			any = 1;
		for (j = 0; j < CGMNT__MAX; j++) {
			bool match = false;

			if (j == CGMNT_V2) {
				match = !strcmp(l.fstype, "cgroup2");
			} else if (!strcmp(l.fstype, "cgroup")) {
				char opts[sizeof(l.opts)], *o, *save = NULL;

				strcpy(opts, l.opts);
				for (o = strtok_r(opts, ",", &save); o && !match; o = strtok_r(NULL, ",", &save))
					match = !strcmp(o, names[j]);
			}
			if (!match)
				continue;
			if (n == cap) {
				struct cand *g = realloc(c, (cap = cap ? cap * 2 : 16) * sizeof(*c));

				if (!g) {
					free(c);
					return -ENOMEM;
				}
				c = g;
			}
			memset(&c[n], 0, sizeof(c[n]));
			c[n].kind = j;
			c[n].m.found = true;
			c[n].m.depth = root_depth(l.root);
			strcpy(c[n].m.path, l.mp);
			strcpy(c[n].m.root, l.root);
			n++;
		}
	}
	for (i = 0; i < n; i++)
		if (better(&c[i].m, &out->m[c[i].kind]))
			out->m[c[i].kind] = c[i].m;
	free(c);
	return any ? 0 : -ENOENT;
}

int mountinfo_cgroups_read(struct cgmounts *out)
{
	char *text = NULL;
	size_t len;
	int err;

	memset(out, 0, sizeof(*out));
	/* a few hundred bytes a mount; a node with thousands of containers
	 * can list tens of thousands of mounts */
	err = procfs_read_file("/proc/self/mountinfo", 64 << 20, &text, &len, NULL);
	if (err)
		return err;
	err = mountinfo_cgroups(text, out);
	free(text);
	return err;
}
