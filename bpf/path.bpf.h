/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Paths of an exec: the executable's and the working directory's, walked
 * from the dentry up to the process' own root, crossing mount points, as
 * d_path() would write them; and what the executable file is (on no file
 * system, unlinked, in an overlayfs' upper layer). Included by *.bpf.c only.
 */
#ifndef PODSIGHT_PATH_BPF_H
#define PODSIGHT_PATH_BPF_H

#include "common.bpf.h"

#define PATH_MAX_DEPTH	128		/* components walked per path */
#define PATH_MAX_MOUNTS	32		/* mount points crossed per path */

struct walk_ctx {
	struct exec_scratch *s;
	struct dentry *dentry, *root_dentry;
	struct vfsmount *vfsmnt, *root_mnt;
	struct mount *mnt;
	int done;		/* the walk reached its end: nothing is left above */
	int trunc;
	int fault;
	int fileless;
};

/* Writes the dentry's name before what the walk wrote so far, with a '/'
 * before it unless @bare. 0, or 1 when the walk has to stop. */
static __always_inline long walk_put_name(struct walk_ctx *w, struct dentry *dentry, int bare)
{
	struct qstr name = BPF_CORE_READ(dentry, d_name);
	__u64 len = name.len, pos;

	if (len > NAME_MAX_LEN)
		len = NAME_MAX_LEN;
	if (!w->s) {
		w->fault = 1;
		return 1;
	}
	pos = w->s->walk_pos;
	if (len + 1 > pos) {
		w->trunc = 1;
		return 1;
	}
	pos -= len + 1;
	barrier_var(pos);
	if (pos >= PS_PATH_SZ) {
		w->fault = 1;
		return 1;
	}
	if (bpf_probe_read_kernel(&w->s->path[pos + 1], len, name.name) < 0) {
		w->fault = 1;
		return 1;
	}
	w->s->path[pos] = '/';
	w->s->walk_pos = bare ? pos + 1 : pos;
	w->s->walk_ncomp++;
	return 0;
}

/* One step up the dentry tree, crossing mount points. 0, or 1 when the
 * walk ends. */
static __always_inline long walk_step(struct walk_ctx *w)
{
	struct dentry *dentry = w->dentry, *mnt_root, *parent;
	struct vfsmount *vfsmnt = w->vfsmnt;
	struct mount *mnt = w->mnt, *mparent;

	if (dentry == w->root_dentry && vfsmnt == w->root_mnt) {
		w->done = 1;
		return 1;
	}
	mnt_root = BPF_CORE_READ(vfsmnt, mnt_root);
	parent = BPF_CORE_READ(dentry, d_parent);
	mparent = BPF_CORE_READ(mnt, mnt_parent);
	if (dentry == mnt_root) {
		if (mnt == mparent) {
			w->done = 1;		/* the real root */
			return 1;
		}
		w->dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
		w->mnt = mparent;
		w->vfsmnt = (void *)mparent + bpf_core_field_offset(struct mount, mnt);
		return 0;
	}
	if (dentry == parent) {
		/*
		 * Its own parent, yet not the root of its mount: a dentry no
		 * directory holds. Either a file made by alloc_file_pseudo()
		 * (memfd_create(): d_name "memfd:NAME" on the kernel's internal
		 * shmem or hugetlbfs mount), or a disconnected dentry
		 * (open_by_handle_at()). Its own name is all there is. On a
		 * mount that is attached nowhere (an internal kern_mount(),
		 * whose mnt_parent is itself) no path from any root reaches
		 * it: the file is on no file system. On an attached mount the
		 * directories between it and the mount are unknown.
		 */
		if (mnt == mparent)
			w->fileless = 1;
		else
			w->trunc = 1;
		walk_put_name(w, dentry, w->fileless);
		w->done = 1;
		return 1;
	}
	if (w->s->walk_ncomp >= PATH_MAX_DEPTH) {
		w->trunc = 1;			/* components left: keep the tail */
		return 1;
	}
	if (walk_put_name(w, dentry, 0))
		return 1;
	w->dentry = parent;
	return 0;
}

/*
 * The walk's steps: PATH_MAX_DEPTH components, the mount points crossed on
 * the way, and the step that finds the root (a path of exactly
 * PATH_MAX_DEPTH components is whole). What the walk keeps between steps
 * (position, names written) lies in the map value, so that each step's
 * state is the same to the verifier.
 *
 * With bpf_loop() (5.17+) the verifier goes through a step once: ps_exec
 * costs it about 22k instructions. Before 5.17, a bounded loop (5.3+) in a
 * function of its own: the verifier goes through every step, states told
 * apart by the loop counter only, about 85k instructions per path (of the
 * 1M limit), and a few tenths of a second at load.
 */
#define PATH_MAX_STEPS	(PATH_MAX_DEPTH + PATH_MAX_MOUNTS + 1)

static long walk_step_cb(__u32 i, void *data)
{
	return walk_step(data);
}

static __noinline int walk_loop(struct walk_ctx *w)
{
	__u32 i;

	for (i = 0; i < PATH_MAX_STEPS; i++)
		if (walk_step(w))
			break;
	return 0;
}

/*
 * Write the path of @p, as seen from @root, at the end of s->path.
 * Returns the offset of its first byte (the path ends at PS_PATH_SZ), or
 * a negative value when nothing could be read. *trunc is set when the path
 * was deeper or longer than what fits: the tail is kept. *fileless is set
 * when the file has no name in any file system (a memfd): the path is its
 * bare name then. @use_bpf_loop: a constant, the program's kind.
 */
static __always_inline int walk_path(struct exec_scratch *s, struct path *p,
				     struct path *root, int *trunc, int *fileless,
				     const bool use_bpf_loop)
{
	struct walk_ctx w = {
		.s = s,
		.dentry = BPF_CORE_READ(p, dentry),
		.vfsmnt = BPF_CORE_READ(p, mnt),
		.root_dentry = BPF_CORE_READ(root, dentry),
		.root_mnt = BPF_CORE_READ(root, mnt),
	};
	__u64 pos;

	*trunc = 0;
	*fileless = 0;
	if (!w.dentry)
		return -1;
	s->walk_pos = PS_PATH_SZ;
	s->walk_ncomp = 0;
	w.mnt = (void *)w.vfsmnt - bpf_core_field_offset(struct mount, mnt);
	if (use_bpf_loop)
		bpf_loop(PATH_MAX_STEPS, walk_step_cb, &w, 0);
	else
		walk_loop(&w);
	if (w.fault)
		return -1;
	if (!w.done)
		w.trunc = 1;		/* more mount points than steps */
	*trunc = w.trunc;
	*fileless = w.fileless;
	pos = s->walk_pos;
	if (pos >= PS_PATH_SZ) {
		pos = PS_PATH_SZ - 1;
		s->path[PS_PATH_SZ - 1] = '/';
	}
	return pos;
}

/* Append the path walked into s->path at data[off]; returns its length. */
static __always_inline __u64 put_path(struct exec_scratch *s, __u64 off, struct path *p,
				      struct path *root, __u32 trunc_flag, __u32 fault_flag,
				      __u32 fileless_flag, const bool use_bpf_loop)
{
	int trunc, fileless;
	__s64 pos = walk_path(s, p, root, &trunc, &fileless, use_bpf_loop);
	__u64 len;

	if (pos < 0 || pos >= PS_PATH_SZ) {
		s->ev.flags |= fault_flag;
		count_drop(PS_DROP_READ_PATH);
		return 0;
	}
	if (trunc)
		s->ev.flags |= trunc_flag;
	if (fileless)
		s->ev.flags |= fileless_flag;
	len = PS_PATH_SZ - pos;
	barrier_var(off);
	if (off > PS_PATH_SZ || len > PS_PATH_SZ)
		return 0;
	if (bpf_probe_read_kernel(&s->data[off], len, &s->path[pos]) < 0) {
		s->ev.flags |= fault_flag;
		count_drop(PS_DROP_READ_PATH);
		return 0;
	}
	return len;
}

/*
 * Whether the executable lives in the writable upper layer of an overlayfs
 * (a container's own layer): its overlay inode has an upper dentry, and its
 * data is there too (OVL_UPPERDATA: with metacopy=on a chmod copies only
 * the metadata up, the content stays the image's). Where overlayfs is a
 * module not loaded when the agent starts, its types are unknown and this
 * says false.
 */
static __always_inline bool exe_upper_layer(struct dentry *dentry)
{
	struct ovl_inode___ps *oi;
	struct inode *inode;
	unsigned long flags;

	if (!bpf_core_type_exists(struct ovl_inode___ps) ||
	    !bpf_core_enum_value_exists(enum ovl_inode_flag___ps, OVL_UPPERDATA___ps))
		return false;
	if (BPF_CORE_READ(dentry, d_sb, s_magic) != OVERLAYFS_SUPER_MAGIC_)
		return false;
	inode = BPF_CORE_READ(dentry, d_inode);
	if (!inode)
		return false;
	oi = (void *)inode - bpf_core_field_offset(struct ovl_inode___ps, vfs_inode);
	if (!BPF_CORE_READ(oi, __upperdentry))
		return false;
	flags = BPF_CORE_READ(oi, flags);
	return flags & (1ul << bpf_core_enum_value(enum ovl_inode_flag___ps, OVL_UPPERDATA___ps));
}

/*
 * The executable file's state: unlinked (the name it had is kept by its
 * dentry, which vfs_unlink() only unhashes while the file is open: the
 * exec holds it), or in an overlayfs' upper layer. A file with no name at
 * all (fileless, a memfd) has no link count to speak of: it is not said
 * to be deleted.
 */
static __always_inline __u32 exe_state(struct dentry *dentry, __u32 fileless)
{
	__u32 flags = 0;

	if (!dentry)
		return 0;
	if (!fileless) {
		/* d_unlinked(): unhashed, and not a root (roots are never hashed) */
		bool unhashed = !BPF_CORE_READ(dentry, d_hash.pprev) &&
				BPF_CORE_READ(dentry, d_parent) != dentry;

		if (unhashed || BPF_CORE_READ(dentry, d_inode, i_nlink) == 0)
			flags |= PS_EXEC_EXE_DELETED;
	}
	if (exe_upper_layer(dentry))
		flags |= PS_EXEC_EXE_UPPER;
	return flags;
}

#endif /* PODSIGHT_PATH_BPF_H */
