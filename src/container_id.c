// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <string.h>
#include "container_id.h"
#include "strutil.h"

#define HEX_ID_LEN 64

/* One path component: bytes p[0, n), never empty, never holding '/' or NUL. */
struct comp {
	const char *p;
	size_t n;
};

/*
 * A window on the walk from the leaf to the root: w[0] is the current
 * component and w[1..3] its parent, grandparent and great-grandparent (the
 * most any pattern looks at). Moving up costs one backward scan of one
 * component, so a whole walk reads each byte a bounded number of times.
 */
struct walk {
	const char *path;
	struct comp w[4];
	unsigned int have;	/* valid entries of w */
	size_t idx;		/* index of w[0], the first component being 0 */
};

static const char *const runtime_names[] = {
	[RT_NONE] = "none",
	[RT_CONTAINERD] = "containerd",
	[RT_CRIO] = "cri-o",
	[RT_DOCKER] = "docker",
	[RT_PODMAN] = "podman",
	[RT_NERDCTL] = "nerdctl",
	[RT_UNKNOWN] = "unknown",
};

static const char *const qos_names[] = {
	[QOS_NONE] = "none",
	[QOS_GUARANTEED] = "guaranteed",
	[QOS_BURSTABLE] = "burstable",
	[QOS_BESTEFFORT] = "besteffort",
};

const char *container_runtime_name(enum container_runtime rt)
{
	if ((unsigned int)rt >= sizeof(runtime_names) / sizeof(runtime_names[0]))
		return "unknown";
	return runtime_names[rt];
}

const char *pod_qos_name(enum pod_qos qos)
{
	if ((unsigned int)qos >= sizeof(qos_names) / sizeof(qos_names[0]))
		return "none";
	return qos_names[qos];
}

static bool bytes_eq(const char *p, size_t n, const char *s)
{
	size_t sn = strlen(s);

	return n == sn && memcmp(p, s, n) == 0;
}

static bool comp_eq(const struct comp *c, const char *s)
{
	return bytes_eq(c->p, c->n, s);
}

static bool has_prefix(const char *p, size_t n, const char *pre)
{
	size_t pn = strlen(pre);

	return n >= pn && memcmp(p, pre, pn) == 0;
}

static bool has_suffix(const char *p, size_t n, const char *suf)
{
	size_t sn = strlen(suf);

	return n >= sn && memcmp(p + n - sn, suf, sn) == 0;
}

static bool is_lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static bool is_hex_id(const char *p, size_t n)
{
	size_t i;

	if (n != HEX_ID_LEN)
		return false;
	for (i = 0; i < n; i++)
		if (!is_lower_hex(p[i]))
			return false;
	return true;
}

/* containerd's identifier rule for namespaces and container ids:
 * [A-Za-z0-9]+ runs joined by single '.', '_' or '-', at most 76 bytes. */
static bool is_ctr_ident(const char *p, size_t n)
{
	size_t i;

	if (n == 0 || n > CONTAINER_ID_MAX || !ascii_isalnum(p[0]) || !ascii_isalnum(p[n - 1]))
		return false;
	for (i = 1; i < n; i++) {
		if (ascii_isalnum(p[i]))
			continue;
		if (p[i] != '.' && p[i] != '_' && p[i] != '-')
			return false;
		if (!ascii_isalnum(p[i - 1]))
			return false;
	}
	return true;
}

/* The last non-empty component of path[0, end); false when there is none.
 * path[0] is '/', so a component never starts at offset 0. */
static bool comp_before(const char *path, size_t end, struct comp *c)
{
	size_t start;

	while (end > 0 && path[end - 1] == '/')
		end--;
	if (end == 0)
		return false;
	start = end;
	while (path[start - 1] != '/')
		start--;
	c->p = path + start;
	c->n = end - start;
	return true;
}

static void walk_fill(struct walk *wk)
{
	while (wk->have < 4) {
		const struct comp *top = &wk->w[wk->have - 1];

		if (!comp_before(wk->path, (size_t)(top->p - wk->path), &wk->w[wk->have]))
			break;
		wk->have++;
	}
}

/* Starts at the leaf of path[0, len), which has ncomp components. */
static bool walk_start(struct walk *wk, const char *path, size_t len, size_t ncomp)
{
	wk->path = path;
	wk->have = 0;
	if (!comp_before(path, len, &wk->w[0]))
		return false;
	wk->have = 1;
	wk->idx = ncomp - 1;
	walk_fill(wk);
	return true;
}

static bool walk_up(struct walk *wk)
{
	if (wk->have <= 1)
		return false;
	memmove(&wk->w[0], &wk->w[1], (wk->have - 1) * sizeof(wk->w[0]));
	wk->have--;
	wk->idx--;
	walk_fill(wk);
	return true;
}

/*
 * A pod uid: 8-4-4-4-12 lower-case hex joined by sep ('-' for cgroupfs, '_'
 * in systemd slice names), or the 32 lower-case hex digits of a static pod.
 * Written to out in the '-' form; out is untouched when it is not one.
 */
static bool parse_pod_uid(const char *p, size_t n, char sep, char out[POD_UID_MAX + 1])
{
	size_t i;

	if (n == 32) {
		for (i = 0; i < n; i++)
			if (!is_lower_hex(p[i]))
				return false;
		memcpy(out, p, n);
		out[n] = '\0';
		return true;
	}
	if (n != POD_UID_MAX)
		return false;
	for (i = 0; i < n; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (p[i] != sep)
				return false;
		} else if (!is_lower_hex(p[i])) {
			return false;
		}
	}
	for (i = 0; i < n; i++)
		out[i] = p[i] == sep ? '-' : p[i];
	out[n] = '\0';
	return true;
}

static enum pod_qos qos_of(const char *p, size_t n)
{
	if (bytes_eq(p, n, "burstable"))
		return QOS_BURSTABLE;
	if (bytes_eq(p, n, "besteffort"))
		return QOS_BESTEFFORT;
	return QOS_NONE;
}

/*
 * Splits the last '-'-separated part off p[0, *n): the part is returned in
 * *part and *n shrinks to what precedes its '-' (or to 0 and *last is set
 * when there was no '-').
 */
static void split_last_part(const char *p, size_t *n, struct comp *part, bool *last)
{
	size_t i = *n;

	while (i > 0 && p[i - 1] != '-')
		i--;
	part->p = p + i;
	part->n = *n - i;
	*last = i == 0;
	*n = i > 0 ? i - 1 : 0;
}

/*
 * A systemd slice name is the slice's path with '-' between levels:
 * "[<prefix>-]kubepods[-<qos>]-pod<uid_>.slice". The kubelet adds the
 * prefix when its cgroup root is not "/" (kind: "kubelet-kubepods-...").
 * uid and qos are untouched when the name is not one.
 */
static bool parse_pod_slice(const char *p, size_t n, char uid[POD_UID_MAX + 1],
			    enum pod_qos *qos)
{
	char tmp[POD_UID_MAX + 1];
	struct comp part;
	enum pod_qos q = QOS_GUARANTEED;
	bool last;

	if (!has_suffix(p, n, ".slice"))
		return false;
	n -= strlen(".slice");
	split_last_part(p, &n, &part, &last);
	if (last || !has_prefix(part.p, part.n, "pod"))
		return false;
	if (!parse_pod_uid(part.p + 3, part.n - 3, '_', tmp))
		return false;
	split_last_part(p, &n, &part, &last);
	if (qos_of(part.p, part.n) != QOS_NONE) {
		if (last)
			return false;
		q = qos_of(part.p, part.n);
		split_last_part(p, &n, &part, &last);
	}
	if (!comp_eq(&part, "kubepods"))
		return false;
	memcpy(uid, tmp, strlen(tmp) + 1);
	*qos = q;
	return true;
}

/* A slice with a "kubepods" part ("kubepods.slice", "kubelet-kubepods-
 * burstable.slice", ...) or the cgroupfs driver's "kubepods". */
static bool is_kube_marker(const char *p, size_t n)
{
	struct comp part;
	bool last = false;

	if (bytes_eq(p, n, "kubepods"))
		return true;
	if (!has_suffix(p, n, ".slice"))
		return false;
	n -= strlen(".slice");
	while (!last) {
		split_last_part(p, &n, &part, &last);
		if (comp_eq(&part, "kubepods"))
			return true;
	}
	return false;
}

/* Is w[at] a pod cgroup? Its ancestors in the window give the QoS class of
 * the cgroupfs form. */
static bool match_pod(const struct walk *wk, unsigned int at, char uid[POD_UID_MAX + 1],
		      enum pod_qos *qos)
{
	const struct comp *c = &wk->w[at];
	enum pod_qos q;

	if (at >= wk->have)
		return false;
	if (parse_pod_slice(c->p, c->n, uid, qos))
		return true;
	if (!has_prefix(c->p, c->n, "pod") || at + 1 >= wk->have)
		return false;
	if (comp_eq(&wk->w[at + 1], "kubepods")) {
		q = QOS_GUARANTEED;
	} else {
		q = qos_of(wk->w[at + 1].p, wk->w[at + 1].n);
		if (q == QOS_NONE || at + 2 >= wk->have || !comp_eq(&wk->w[at + 2], "kubepods"))
			return false;
	}
	if (!parse_pod_uid(c->p + 3, c->n - 3, '-', uid))
		return false;
	*qos = q;
	return true;
}

static bool in_list(const struct comp *c, const char *const *list)
{
	for (; list && *list; list++)
		if (strncmp(*list, c->p, c->n) == 0 && (*list)[c->n] == '\0')
			return true;
	return false;
}

struct affix_form {
	const char *prefix;
	const char *suffix;
	enum container_runtime rt;
};

static const struct affix_form affix_forms[] = {
	{ "cri-containerd-", ".scope", RT_CONTAINERD },
	{ "crio-", ".scope", RT_CRIO },
	{ "crio-", "", RT_CRIO },
	{ "docker-", ".scope", RT_DOCKER },
	{ "libpod-", ".scope", RT_PODMAN },
	{ "libpod-", "", RT_PODMAN },
	{ "nerdctl-", ".scope", RT_NERDCTL },
};

/* The <prefix> of systemd's "<slice>:<prefix>:<name>" cgroupsPath. */
static const struct affix_form colon_forms[] = {
	{ "cri-containerd", NULL, RT_CONTAINERD },
	{ "crio", NULL, RT_CRIO },
	{ "docker", NULL, RT_DOCKER },
	{ "libpod", NULL, RT_PODMAN },
};

struct match {
	enum container_runtime rt;
	struct comp id;
	struct comp ns;		/* n == 0 unless the /<namespace>/<id> form */
	struct comp slice;	/* n == 0 unless the <slice>:<prefix>:<id> form */
};

static bool match_affix(const struct comp *c, struct match *m)
{
	size_t i;

	for (i = 0; i < sizeof(affix_forms) / sizeof(affix_forms[0]); i++) {
		const struct affix_form *f = &affix_forms[i];
		size_t pn = strlen(f->prefix), sn = strlen(f->suffix);

		if (c->n != pn + HEX_ID_LEN + sn || !has_prefix(c->p, c->n, f->prefix) ||
		    !has_suffix(c->p, c->n, f->suffix) || !is_hex_id(c->p + pn, HEX_ID_LEN))
			continue;
		m->rt = f->rt;
		m->id.p = c->p + pn;
		m->id.n = HEX_ID_LEN;
		return true;
	}
	return false;
}

static bool match_colon(const struct comp *c, struct match *m)
{
	size_t end, start, i;

	if (c->n < HEX_ID_LEN + 2 || c->p[c->n - HEX_ID_LEN - 1] != ':' ||
	    !is_hex_id(c->p + c->n - HEX_ID_LEN, HEX_ID_LEN))
		return false;
	end = c->n - HEX_ID_LEN - 1;
	start = end;
	while (start > 0 && c->p[start - 1] != ':')
		start--;
	if (start == 0)
		return false;
	for (i = 0; i < sizeof(colon_forms) / sizeof(colon_forms[0]); i++) {
		if (!bytes_eq(c->p + start, end - start, colon_forms[i].prefix))
			continue;
		m->rt = colon_forms[i].rt;
		m->id.p = c->p + c->n - HEX_ID_LEN;
		m->id.n = HEX_ID_LEN;
		m->slice.p = c->p;
		m->slice.n = start - 1;
		return true;
	}
	return false;
}

/*
 * Is w[0] a container component? The named forms come first; a bare id is
 * judged by its parent, most specific first (docker, a pod), and the
 * /<namespace>/<id> form only right below the root, where runc's cgroupfs
 * driver puts it: deeper, a bare id under an arbitrary name is too common a
 * shape to call a container.
 */
static bool match_container(const struct walk *wk, const char *const *ctr_namespaces,
			    struct match *m)
{
	static const char *const builtin_ns[] = { "default", "k8s.io", "moby", NULL };
	const struct comp *c = &wk->w[0], *parent = &wk->w[1];
	char uid[POD_UID_MAX + 1];
	enum pod_qos qos;
	bool hex, top;

	memset(m, 0, sizeof(*m));
	if (match_affix(c, m) || match_colon(c, m))
		return true;
	if (wk->have < 2)
		return false;
	hex = is_hex_id(c->p, c->n);
	m->id = *c;
	if (hex && comp_eq(parent, "docker")) {
		m->rt = RT_DOCKER;
		return true;
	}
	if (hex && match_pod(wk, 1, uid, &qos)) {
		m->rt = RT_UNKNOWN;
		return true;
	}
	top = wk->idx == 1;
	if (!top || !is_ctr_ident(parent->p, parent->n) || !is_ctr_ident(c->p, c->n))
		return false;
	if (in_list(parent, ctr_namespaces) || (hex && in_list(parent, builtin_ns))) {
		m->rt = RT_CONTAINERD;
		m->ns = *parent;
		return true;
	}
	if (hex && !comp_eq(parent, "kubepods") && !comp_eq(parent, "libpod_parent")) {
		m->rt = RT_UNKNOWN;
		return true;
	}
	return false;
}

static void copy_comp(char *dst, const struct comp *c)
{
	memcpy(dst, c->p, c->n);
	dst[c->n] = '\0';
}

/* Checks the path and counts its components; 0 or -errno. */
static int scan_path(const char *path, size_t len, size_t *ncomp)
{
	size_t i, start = 0, n = 0;

	if (len == 0 || path[0] != '/')
		return -EINVAL;
	if (memchr(path, '\0', len))
		return -EINVAL;
	for (i = 0; i <= len; i++) {
		if (i < len && path[i] != '/')
			continue;
		if (i > start + 1) {
			if (bytes_eq(path + start + 1, i - start - 1, ".") ||
			    bytes_eq(path + start + 1, i - start - 1, ".."))
				return -EINVAL;
			n++;
		}
		start = i;
	}
	*ncomp = n;
	return 0;
}

int cgroup_identity_parse_ex(const char *path, size_t len, const char *const *ctr_namespaces,
			     struct cgroup_identity *out)
{
	struct walk wk;
	struct match m;
	size_t ncomp;
	bool found = false, more;
	int err;

	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (!path)
		return -EINVAL;
	if (len >= CGROUP_PATH_MAX)
		return -ENAMETOOLONG;
	err = scan_path(path, len, &ncomp);
	if (err)
		return err;

	/* the outermost container, when there is one above the innermost */
	for (more = walk_start(&wk, path, len, ncomp); more; more = walk_up(&wk)) {
		if (match_container(&wk, ctr_namespaces, &m)) {
			if (found) {
				out->outer_runtime = m.rt;
				copy_comp(out->outer_container_id, &m.id);
				out->outer_depth = (unsigned int)wk.idx;
			}
			found = true;
		}
	}
	found = false;
	for (more = walk_start(&wk, path, len, ncomp); more; more = walk_up(&wk)) {
		if (match_container(&wk, ctr_namespaces, &m)) {
			found = true;
			break;
		}
	}

	if (found) {
		out->runtime = m.rt;
		copy_comp(out->container_id, &m.id);
		if (m.ns.n)
			copy_comp(out->ctr_namespace, &m.ns);
		out->depth_of_container = (unsigned int)wk.idx;
		/* the <slice>:<prefix>:<id> form names its pod itself */
		if (m.slice.n) {
			if (parse_pod_slice(m.slice.p, m.slice.n, out->pod_uid, &out->qos))
				out->is_kube = true;
			else if (is_kube_marker(m.slice.p, m.slice.n))
				out->is_kube = true;
		}
		more = walk_up(&wk);
	} else {
		more = walk_start(&wk, path, len, ncomp);
	}

	/* the innermost pod, and kubepods cgroups, at or above the container */
	for (; more; more = walk_up(&wk)) {
		if (!out->pod_uid[0] && match_pod(&wk, 0, out->pod_uid, &out->qos)) {
			out->is_kube = true;
			break;
		}
		if (is_kube_marker(wk.w[0].p, wk.w[0].n))
			out->is_kube = true;
	}
	return 0;
}

size_t cgroup_path_prefix_len(const char *path, size_t len, unsigned int depth)
{
	size_t i = 0, n = 0;

	while (i < len) {
		while (i < len && path[i] == '/')
			i++;
		if (i >= len)
			break;
		while (i < len && path[i] != '/')
			i++;
		if (n++ == depth)
			return i;
	}
	return len;
}
